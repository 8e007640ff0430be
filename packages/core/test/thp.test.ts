/**
 * Transparent huge pages for anonymous memory: faults that get a PTE-mapped 2 MiB folio (or an
 * mTHP size), fallback to order 0, the modes and MADV_HUGEPAGE / MADV_NOHUGEPAGE, splits on partial
 * munmap and MADV_DONTNEED (and the deferred split when a split cannot happen at once), swap-out
 * (split first), migration and memory failure of a THP — with mapcounts checked by verify after
 * every step — and a property test of random sequences against a model.
 */
import test, { type ExecutionContext } from "ava";
import fc from "fast-check";
import {
  FolioFlag, HPAGE_PMD_SIZE, MADV_DONTNEED, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, Machine, MemoryAccessError, PAGE_SIZE, PROT_READ,
  PROT_WRITE, PageOpCaller, PageOpResult, Pte, Stat, ptePfn, type AddressSpace, type MachineConfig,
} from "../src/index.js";
import { expectError, memorySwap, pattern } from "./helpers.js";

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const HPAGE = HPAGE_PMD_SIZE / PAGE_SIZE;

function boot(config: Partial<MachineConfig> = {}): { m: Machine; mm: AddressSpace } {
  const m = Machine.boot({ memory: "64MiB", transparentHugepage: "always", ...config });
  return { m, mm: m.mm.createAddressSpace("thp") };
}

/** The folio mapped at `addr`, or 0. */
function folioAt(m: Machine, mm: AddressSpace, addr: number): number {
  const pte = mm.pageTables.get(Math.floor(addr / PAGE_SIZE));
  return pte & Pte.Present ? m.folios.fromPfn(ptePfn(pte)) : 0;
}


/** Stores a page-sized pattern (seed = page number) into every page of [a, a + pages). */
function fill(mm: AddressSpace, a: number, pages: number, seedBase = 0): void {
  for (let i = 0; i < pages; i++) mm.store(a + i * PAGE_SIZE, pattern(PAGE_SIZE, seedBase + i));
}

/** Checks that every page of [a, a + pages) holds its pattern, except `zero` pages, which read as zeros. */
function expectFilled(t: ExecutionContext, mm: AddressSpace, a: number, pages: number, zero: (i: number) => boolean = () => false, seedBase = 0): void {
  let wrong = 0;
  for (let i = 0; i < pages; i++) {
    const got = mm.load(a + i * PAGE_SIZE, PAGE_SIZE);
    const ok = zero(i) ? got.every((b) => b === 0) : got.every((b, k) => b === pattern(PAGE_SIZE, seedBase + i)[k]);
    if (!ok) wrong++;
  }
  t.is(wrong, 0, "every page reads back what it should");
}

test("THP always: a store into an aligned 2 MiB range gets one order-9 folio mapped by 512 PTEs; munmap frees it", (t) => {
  const { m, mm } = boot();
  const a = mm.mmap({ length: 2 * HPAGE_PMD_SIZE, prot: RW, flags: ANON });
  t.is(a % HPAGE_PMD_SIZE, 0, "a 2 MiB-multiple anonymous mapping is placed 2 MiB-aligned");
  mm.store(a + 5000, Uint8Array.of(7));
  const folio = folioAt(m, mm, a);
  t.is(m.folios.order(folio), 9);
  const pfn = m.folios.pfn(folio);
  let mapped = 0;
  for (let i = 0; i < HPAGE; i++) if (ptePfn(mm.pageTables.get(a / PAGE_SIZE + i)) === pfn + i) mapped++;
  t.is(mapped, HPAGE, "every page of the range maps its frame of the folio (PTE-mapped THP)");
  t.is(m.folios.mapcount(folio), HPAGE);
  t.is(m.folios.refcount(folio), HPAGE + 1, "a reference per PTE and the region's");
  t.true(m.folios.test(folio, FolioFlag.Dirty));
  t.is(mm.pageTables.get(a / PAGE_SIZE + 300) & (Pte.Write | Pte.Dirty), Pte.Write | Pte.Dirty, "all entries writable and dirty");
  t.is(m.vmstat.stat[Stat.AnonPages], HPAGE);
  t.is(m.vmstat.stat[Stat.AnonThps], 1);
  t.is(m.meminfo().AnonHugePages, 2048);
  t.is(m.vmstat.toObject().thp_fault_alloc, 1);
  t.deepEqual([...mm.load(a + 4999, 3)], [0, 7, 0]);
  t.true(mm.load(a + 8192, PAGE_SIZE).every((b) => b === 0), "the rest is zeroed");
  t.regex(m.describe(pfn + 3).text, /order-9 folio/);
  t.deepEqual(m.verify(), []);
  const faults = m.vmstat.toObject().pgfault!;
  mm.store(a + 100 * PAGE_SIZE, Uint8Array.of(1));
  t.is(m.vmstat.toObject().pgfault, faults, "other pages of the folio need no fault");
  mm.munmap(a, 2 * HPAGE_PMD_SIZE);
  t.is(m.vmstat.stat[Stat.AnonPages], 0);
  t.is(m.vmstat.stat[Stat.AnonThps], 0);
  t.is(m.vmstat.toObject().thp_split_page, 0, "unmapped whole: no split");
  t.deepEqual(m.verify(), []);
});

test("modes: madvise (the default) gives THPs only under MADV_HUGEPAGE; MADV_NOHUGEPAGE forbids them under always; never never", (t) => {
  const m = Machine.boot({ memory: "64MiB" });
  t.is(m.mm.transparentHugepage, "madvise");
  const mm = m.mm.createAddressSpace("modes");
  const a = mm.mmap({ length: 2 * HPAGE_PMD_SIZE, prot: RW, flags: ANON });
  mm.store(a, Uint8Array.of(1));
  t.is(m.folios.order(folioAt(m, mm, a)), 0, "no advice: order 0");
  mm.madvise(a + HPAGE_PMD_SIZE, HPAGE_PMD_SIZE, MADV_HUGEPAGE);
  t.is(mm.mappings().length, 2, "the advice splits the VMA");
  mm.store(a + HPAGE_PMD_SIZE + 10, Uint8Array.of(2));
  t.is(m.folios.order(folioAt(m, mm, a + HPAGE_PMD_SIZE)), 9, "advised: a THP");
  m.mm.setTransparentHugepage("always");
  const b = mm.mmap({ length: 2 * HPAGE_PMD_SIZE, prot: RW, flags: ANON });
  mm.madvise(b, HPAGE_PMD_SIZE, MADV_NOHUGEPAGE);
  mm.store(b, Uint8Array.of(3));
  mm.store(b + HPAGE_PMD_SIZE, Uint8Array.of(4));
  t.is(m.folios.order(folioAt(m, mm, b)), 0, "MADV_NOHUGEPAGE: order 0 even under always");
  t.is(m.folios.order(folioAt(m, mm, b + HPAGE_PMD_SIZE)), 9);
  m.mm.setTransparentHugepage("never");
  const c = mm.mmap({ length: HPAGE_PMD_SIZE, prot: RW, flags: ANON });
  mm.madvise(c, HPAGE_PMD_SIZE, MADV_HUGEPAGE);
  mm.store(c, Uint8Array.of(5));
  t.is(m.folios.order(folioAt(m, mm, c)), 0, "never: order 0 even when advised");
  // Shared anonymous memory and ranges the VMA does not cover whole never get one.
  m.mm.setTransparentHugepage("always");
  const d = mm.mmap({ length: HPAGE_PMD_SIZE, prot: RW, flags: MAP_ANONYMOUS | MAP_SHARED });
  mm.store(d, Uint8Array.of(6));
  t.is(m.folios.order(folioAt(m, mm, d)), 0, "shared anonymous: order 0");
  const e = mm.mmap({ length: HPAGE_PMD_SIZE - PAGE_SIZE, prot: RW, flags: ANON });
  mm.store(e, Uint8Array.of(7));
  t.is(m.folios.order(folioAt(m, mm, e)), 0, "a mapping smaller than 2 MiB: order 0");
  expectError(t, "EINVAL", () => m.mm.setTransparentHugepage("sometimes" as never));
  expectError(t, "EINVAL", () => m.mm.setTransparentHugepage("always", [10]));
  expectError(t, "EINVAL", () => Machine.boot({ memory: "16MiB", transparentHugepageOrders: [0] }));
  t.deepEqual(m.verify(), []);
});

test("a read first maps the zero page; the first store then gets the THP, replacing the zero-page entries", (t) => {
  const { m, mm } = boot();
  const a = mm.mmap({ length: HPAGE_PMD_SIZE, prot: RW, flags: ANON });
  t.deepEqual([...mm.load(a + 3 * PAGE_SIZE, 2)], [0, 0]);
  t.true((mm.pageTables.get(a / PAGE_SIZE + 3) & Pte.Special) !== 0);
  mm.store(a + 7 * PAGE_SIZE, Uint8Array.of(9));
  const folio = folioAt(m, mm, a + 3 * PAGE_SIZE);
  t.is(m.folios.order(folio), 9, "the zero page's entry was replaced by the THP's");
  t.is(m.folios.mapcount(folio), HPAGE);
  t.deepEqual(m.verify(), []);
});

test("fallback: when no 2 MiB block can be had, the fault gets an order-0 page and counts thp_fault_fallback", (t) => {
  const { m, mm } = boot({ memory: "16MiB" });
  const a = mm.mmap({ length: HPAGE_PMD_SIZE, prot: RW, flags: ANON });
  m.pages.injectFailures((order) => order === 9);
  mm.store(a, Uint8Array.of(1));
  m.pages.injectFailures(undefined);
  t.is(m.folios.order(folioAt(m, mm, a)), 0);
  t.is(m.vmstat.toObject().thp_fault_fallback, 1);
  t.is(m.vmstat.toObject().oom_report, 0, "an opportunistic allocation makes no OOM report");
  t.deepEqual([...mm.load(a, 2)], [1, 0]);
  // The next page's fault tries again, and gets its own order-0 page: the range is no longer untouched.
  mm.store(a + PAGE_SIZE, Uint8Array.of(2));
  t.is(m.folios.order(folioAt(m, mm, a + PAGE_SIZE)), 0);
  t.is(m.vmstat.toObject().thp_fault_alloc, 0);
  t.deepEqual(m.verify(), []);
});

test("mTHP: with order 4 enabled, a fault gets the aligned 64 KiB folio holding it, or order 0 where no such run fits", (t) => {
  const { m, mm } = boot({ transparentHugepageOrders: [4] });
  t.deepEqual(m.mm.thpOrders, [4]);
  const a = mm.mmap({ addr: 0x4000_0000, length: 40 * PAGE_SIZE, prot: RW, flags: ANON | MAP_FIXED });
  mm.store(a + 17 * PAGE_SIZE, Uint8Array.of(1));
  const folio = folioAt(m, mm, a + 17 * PAGE_SIZE);
  t.is(m.folios.order(folio), 4);
  t.is(m.folios.index(folio), 16, "the naturally aligned run of 16 pages");
  t.is(m.folios.mapcount(folio), 16);
  mm.store(a + 35 * PAGE_SIZE, Uint8Array.of(2));
  t.is(m.folios.order(folioAt(m, mm, a + 35 * PAGE_SIZE)), 0, "pages 32..47 do not all lie in the mapping");
  mm.store(a + 5 * PAGE_SIZE, Uint8Array.of(3));
  t.is(m.folios.order(folioAt(m, mm, a + 5 * PAGE_SIZE)), 4);
  t.is(m.vmstat.stat[Stat.AnonThps], 0, "mTHPs are not PMD-sized huge pages");
  mm.munmap(a + 20 * PAGE_SIZE, 2 * PAGE_SIZE);
  t.is(m.vmstat.toObject().thp_split_page, 1);
  t.is(m.vmstat.stat[Stat.AnonPages], 32 - 2 + 1);
  t.deepEqual(m.verify(), []);
});

test("partial munmap of a THP splits it: the unmapped pages are freed, the others keep their data, each mapped once", (t) => {
  const { m, mm } = boot();
  const a = mm.mmap({ length: HPAGE_PMD_SIZE, prot: RW, flags: ANON });
  fill(mm, a, HPAGE);
  const folio = folioAt(m, mm, a);
  t.is(m.folios.order(folio), 9);
  const free = () => m.vmstat.stat[Stat.FreePages]! + m.vmstat.stat[Stat.PerCpuPages]!;
  const before = free();
  mm.munmap(a + 100 * PAGE_SIZE, 100 * PAGE_SIZE);
  t.is(m.vmstat.toObject().thp_split_page, 1);
  t.is(m.vmstat.stat[Stat.AnonPages], HPAGE - 100);
  t.is(m.vmstat.stat[Stat.AnonThps], 0);
  t.true(free() - before >= 100 - 10, `the 100 unmapped pages went back (less the descriptor slab): ${free() - before}`);
  t.is(m.folios.order(folio), 0);
  t.is(m.folios.mapcount(folio), 1);
  t.is(m.folios.mapcount(folioAt(m, mm, a + 300 * PAGE_SIZE)), 1);
  t.deepEqual(m.verify(), []);
  expectFilled(t, mm, a, 100);
  expectFilled(t, mm, a + 200 * PAGE_SIZE, HPAGE - 200, undefined, 200);
  mm.munmap(a, HPAGE_PMD_SIZE);
  t.is(m.vmstat.stat[Stat.AnonPages], 0);
  t.deepEqual(m.verify(), []);
});

test("MADV_DONTNEED of part of a THP splits it and frees that part: it reads as zeros, the rest as before", (t) => {
  const { m, mm } = boot();
  const a = mm.mmap({ length: HPAGE_PMD_SIZE, prot: RW, flags: ANON });
  fill(mm, a, HPAGE);
  mm.madvise(a + 10 * PAGE_SIZE, 5 * PAGE_SIZE, MADV_DONTNEED);
  t.is(m.vmstat.stat[Stat.AnonPages], HPAGE - 5);
  t.deepEqual(m.verify(), []);
  expectFilled(t, mm, a, HPAGE, (i) => i >= 10 && i < 15);
  t.deepEqual(m.verify(), []);
});

test("mprotect of part of a THP splits only the VMA: the folio is mapped by both; munmap of one part then splits it", (t) => {
  const { m, mm } = boot();
  const a = mm.mmap({ length: HPAGE_PMD_SIZE, prot: RW, flags: ANON });
  fill(mm, a, HPAGE);
  const folio = folioAt(m, mm, a);
  mm.mprotect(a + HPAGE_PMD_SIZE / 2, HPAGE_PMD_SIZE / 2, PROT_READ);
  t.is(mm.mappings().length, 2);
  t.is(m.folios.order(folio), 9, "no split");
  t.is(m.folios.mapcount(folio), HPAGE);
  t.is(mm.pageTables.get(a / PAGE_SIZE + 400) & Pte.Write, 0);
  t.deepEqual(m.verify(), []);
  mm.munmap(a, HPAGE_PMD_SIZE / 2);
  t.is(m.folios.order(folioAt(m, mm, a + HPAGE_PMD_SIZE / 2)), 0);
  t.is(m.vmstat.stat[Stat.AnonPages], HPAGE / 2);
  expectFilled(t, mm, a + HPAGE_PMD_SIZE / 2, HPAGE / 2, undefined, HPAGE / 2);
  t.deepEqual(m.verify(), []);
});

test("a split that cannot happen now is deferred: the discarded pages read as zeros and the shrinker frees them later", (t) => {
  const { m, mm } = boot();
  const a = mm.mmap({ length: HPAGE_PMD_SIZE, prot: RW, flags: ANON });
  fill(mm, a, HPAGE);
  const folio = folioAt(m, mm, a);
  m.folios.get(folio); // someone else's reference (a get_user_pages user): the split is EBUSY
  mm.madvise(a, 8 * PAGE_SIZE, MADV_DONTNEED);
  const vm = m.vmstat.toObject();
  t.is(vm.thp_deferred_split_page, 1);
  t.is(vm.thp_split_page_failed, 1);
  t.is(m.vmstat.stat[Stat.AnonPages], HPAGE, "nothing freed yet");
  t.is(m.anon.deferred.size, 1);
  t.is(m.folios.mapcount(folio), HPAGE - 8);
  t.deepEqual(m.verify(), []);
  t.true(mm.load(a + 2 * PAGE_SIZE, PAGE_SIZE).every((b) => b === 0), "a discarded page reads as new");
  mm.store(a + 3 * PAGE_SIZE, Uint8Array.of(42)); // touched again: it must survive the split
  t.is(m.anon.splitDeferred(), 0, "still referenced: the retry fails too");
  m.folios.put(folio);
  m.reclaim.shrink(1); // the deferred split shrinker
  t.is(m.anon.deferred.size, 0);
  t.is(m.vmstat.stat[Stat.AnonPages], HPAGE - 6, "the six discarded pages nobody touched since were freed");
  const touched = mm.load(a + 3 * PAGE_SIZE, PAGE_SIZE);
  t.true(touched[0] === 42 && touched.subarray(1).every((b) => b === 0), "the page touched again kept its store");
  expectFilled(t, mm, a, 3, () => true);
  expectFilled(t, mm, a + 4 * PAGE_SIZE, 4, () => true);
  expectFilled(t, mm, a + 8 * PAGE_SIZE, HPAGE - 8, undefined, 8);
  t.deepEqual(m.verify(), []);
  mm.destroy();
  t.is(m.vmstat.stat[Stat.AnonPages], 0);
  t.deepEqual(m.verify(), []);
});

test("swap-out of a THP splits it first; every page goes to swap and faults back with its data", (t) => {
  const m = Machine.boot({ memory: "16MiB", transparentHugepage: "always" });
  m.anon.swapOn(memorySwap(m, 8192));
  const mm = m.mm.createAddressSpace("swapper");
  const a = mm.mmap({ length: 2 * HPAGE_PMD_SIZE, prot: RW, flags: ANON });
  fill(mm, a, 2 * HPAGE);
  t.is(m.vmstat.stat[Stat.AnonThps], 2);
  let freed = 0;
  for (let round = 0; round < 10 && m.vmstat.stat[Stat.AnonPages]! > 0; round++) {
    freed += m.reclaim.shrink(4 * HPAGE);
    m.scheduler.waitUntil(() => m.vmstat.stat[Stat.Writeback] === 0, "swap writes");
    t.deepEqual(m.verify(), []);
  }
  const vm = m.vmstat.toObject();
  t.true(vm.thp_swpout_fallback! >= 2, `thp_swpout_fallback ${vm.thp_swpout_fallback}`);
  t.true(vm.pswpout! >= 2 * HPAGE, `pswpout ${vm.pswpout}`);
  t.is(m.vmstat.stat[Stat.AnonThps], 0);
  t.true(freed > 0);
  t.true(m.vmstat.stat[Stat.AnonPages]! < 2 * HPAGE, "pages left memory");
  expectFilled(t, mm, a, 2 * HPAGE);
  t.true(m.vmstat.toObject().pswpin! > 0);
  t.deepEqual(m.verify(), []);
  mm.destroy();
  m.scheduler.waitUntil(() => m.vmstat.stat[Stat.Writeback] === 0, "swap writes");
  t.is(m.anon.swap!.inUse, 0);
  t.deepEqual(m.verify(), []);
});

test("a THP migrates whole from any of its frames: 512 PTEs follow it with their bits, the data too", (t) => {
  const { m, mm } = boot();
  const a = mm.mmap({ length: HPAGE_PMD_SIZE, prot: RW, flags: ANON });
  fill(mm, a, HPAGE);
  mm.mprotect(a, PAGE_SIZE, PROT_READ);
  const folio = folioAt(m, mm, a);
  const out = m.migration.migrateFrame(m.folios.pfn(folio) + 77, { caller: PageOpCaller.Other });
  t.is(out.result, PageOpResult.Done, out.reason);
  t.is(m.folios.order(out.dst), 9);
  t.is(folioAt(m, mm, a + 300 * PAGE_SIZE), out.dst);
  t.is(m.folios.mapcount(out.dst), HPAGE);
  t.is(mm.pageTables.get(a / PAGE_SIZE) & Pte.Write, 0, "the read-only entry stayed read-only");
  t.is(m.vmstat.toObject().pgmigrate_success, HPAGE);
  t.is(m.vmstat.stat[Stat.AnonThps], 1);
  expectFilled(t, mm, a, HPAGE);
  t.deepEqual(m.verify(), []);
});

test("memory failure in a THP splits it and loses only the bad page: SIGBUS there, the other 511 intact", (t) => {
  const { m, mm } = boot();
  const a = mm.mmap({ length: HPAGE_PMD_SIZE, prot: RW, flags: ANON });
  fill(mm, a, HPAGE);
  const folio = folioAt(m, mm, a);
  const bad = m.folios.pfn(folio) + 37;
  const r = m.memoryFailure.hardOffline(bad);
  t.is(r.action, "recovered", r.detail);
  t.true(r.dataLost);
  t.is(r.index, 37);
  t.is(m.vmstat.toObject().thp_split_page, 1);
  t.is(m.vmstat.stat[Stat.AnonPages], HPAGE - 1);
  const e = t.throws(() => mm.load(a + 37 * PAGE_SIZE, 1));
  t.true(e instanceof MemoryAccessError && e.code === "EHWPOISON" && e.signal === "SIGBUS", String(e));
  expectFilled(t, mm, a, 37);
  expectFilled(t, mm, a + 38 * PAGE_SIZE, HPAGE - 38, undefined, 38);
  t.deepEqual(m.verify(), []);
  // Unsplittable (someone else holds a reference): the folio stays whole, flagged, and the page with it.
  const b = mm.mmap({ length: HPAGE_PMD_SIZE, prot: RW, flags: ANON });
  fill(mm, b, 4);
  const big = folioAt(m, mm, b);
  m.folios.get(big);
  const r2 = m.memoryFailure.hardOffline(m.folios.pfn(big) + 2);
  t.is(r2.action, "failed", r2.detail);
  t.is(m.folios.order(big), 9);
  t.true(m.folios.test(big, FolioFlag.HasHwPoisoned));
  m.folios.put(big);
  t.deepEqual(m.verify(), []);
  mm.destroy();
  t.deepEqual(m.verify(), []);
});

test("exit frees THPs, split pieces and swap alike", (t) => {
  const { m, mm } = boot();
  const a = mm.mmap({ length: 3 * HPAGE_PMD_SIZE, prot: RW, flags: ANON });
  fill(mm, a, 3 * HPAGE);
  mm.munmap(a + 5 * PAGE_SIZE, PAGE_SIZE);
  t.is(m.vmstat.stat[Stat.AnonThps], 2);
  mm.destroy();
  t.is(m.vmstat.stat[Stat.AnonPages], 0);
  t.is(m.vmstat.stat[Stat.AnonThps], 0);
  t.is(m.vmstat.stat[Stat.PageTables], 0);
  t.deepEqual(m.verify(), []);
});

// ── Property: random sequences over THP-backed anonymous memory against a model ──

type Op =
  | { op: "store"; page: number; at: number; len: number; seed: number }
  | { op: "load"; page: number; len: number }
  | { op: "munmap"; page: number; pages: number }
  | { op: "dontneed"; page: number; pages: number }
  | { op: "mprotect"; page: number; pages: number; write: boolean }
  | { op: "pin"; page: number }
  | { op: "unpin" }
  | { op: "reclaim"; pages: number }
  | { op: "shrinkDeferred" }
  | { op: "migrate"; page: number }
  | { op: "poison"; page: number };

/** Pages of the model's mapping: three huge pages (placed 2 MiB-aligned); partial ranges come from the operations. */
const SPAN = 3 * HPAGE;

const pageArb = fc.nat(SPAN - 1);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant("store" as const), page: pageArb, at: fc.nat(PAGE_SIZE - 1), len: fc.integer({ min: 1, max: 3 * PAGE_SIZE }), seed: fc.nat(1000) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant("load" as const), page: pageArb, len: fc.integer({ min: 1, max: 3 * PAGE_SIZE }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("munmap" as const), page: pageArb, pages: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("dontneed" as const), page: pageArb, pages: fc.integer({ min: 1, max: 600 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("mprotect" as const), page: pageArb, pages: fc.integer({ min: 1, max: 300 }), write: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("pin" as const), page: pageArb }) },
  { weight: 1, arbitrary: fc.constant({ op: "unpin" as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("reclaim" as const), pages: fc.integer({ min: 1, max: 1200 }) }) },
  { weight: 1, arbitrary: fc.constant({ op: "shrinkDeferred" as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("migrate" as const), page: pageArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("poison" as const), page: pageArb }) },
);

test("property: stores, loads, partial munmap/MADV_DONTNEED/mprotect, pins, reclaim with swap, deferred splits, migration and poison over THPs keep contents and mapcounts right", (t) => {
  const seen = { thps: 0, splits: 0, deferred: 0, swapouts: 0, migratedThp: 0, poisoned: 0, sigsegv: 0 };
  let runs = 0;
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => {
      runs++;
      const m = Machine.boot({ memory: "24MiB", transparentHugepage: "always", seed: runs });
      m.anon.swapOn(memorySwap(m, 4096));
      const mm = m.mm.createAddressSpace("model");
      const a = mm.mmap({ length: SPAN * PAGE_SIZE, prot: RW, flags: ANON });
      // Model: per page, mapped or not, writable or not, its bytes (null: zeros), lost to poison.
      const mapped = new Uint8Array(SPAN).fill(1);
      const writable = new Uint8Array(SPAN).fill(1);
      const data: (Uint8Array | null)[] = new Array<Uint8Array | null>(SPAN).fill(null);
      const lost = new Uint8Array(SPAN);
      const pins: number[] = [];
      const check = (what: string) => {
        const problems = m.verify();
        if (problems.length > 0) throw new Error(`${what}: ${problems.join("; ")}`);
      };
      const access = (fn: () => void): string | null => {
        try {
          fn();
          return null;
        } catch (e) {
          if (e instanceof MemoryAccessError) return `${e.signal}/${e.code}`;
          throw e;
        }
      };
      for (const o of ops) {
        switch (o.op) {
          case "store": {
            const len = Math.min(o.len, PAGE_SIZE - o.at);
            const bytes = pattern(len, o.seed);
            const got = access(() => mm.store(a + o.page * PAGE_SIZE + o.at, bytes));
            const want = !mapped[o.page] ? "SIGSEGV/EFAULT" : !writable[o.page] ? "SIGSEGV/EACCES" : lost[o.page] ? "SIGBUS/EHWPOISON" : null;
            if (got !== want) throw new Error(`store at page ${o.page}: got ${got}, want ${want}`);
            if (got === null) {
              const page = data[o.page] ?? new Uint8Array(PAGE_SIZE);
              page.set(bytes, o.at);
              data[o.page] = page;
            } else if (got.startsWith("SIGSEGV")) seen.sigsegv++;
            break;
          }
          case "load": {
            const len = Math.min(o.len, PAGE_SIZE);
            let out: Uint8Array | undefined;
            const got = access(() => (out = mm.load(a + o.page * PAGE_SIZE, len)));
            const want = !mapped[o.page] ? "SIGSEGV/EFAULT" : lost[o.page] ? "SIGBUS/EHWPOISON" : null;
            if (got !== want) throw new Error(`load at page ${o.page}: got ${got}, want ${want}`);
            if (out !== undefined) {
              const page = data[o.page];
              for (let i = 0; i < len; i++) if (out[i] !== (page ? page[i]! : 0)) throw new Error(`load at page ${o.page} byte ${i}: got ${out[i]}, want ${page ? page[i] : 0}`);
            }
            break;
          }
          case "munmap":
          case "dontneed": {
            const end = Math.min(SPAN, o.page + o.pages);
            if (o.op === "munmap") mm.munmap(a + o.page * PAGE_SIZE, (end - o.page) * PAGE_SIZE);
            else {
              try {
                mm.madvise(a + o.page * PAGE_SIZE, (end - o.page) * PAGE_SIZE, MADV_DONTNEED);
              } catch (e) {
                if ((e as { code?: string }).code !== "ENOMEM") throw e; // part of the range is unmapped
              }
            }
            for (let p = o.page; p < end; p++) {
              if (!mapped[p]) continue;
              data[p] = null;
              lost[p] = 0;
              if (o.op === "munmap") mapped[p] = 0;
            }
            break;
          }
          case "mprotect": {
            const end = Math.min(SPAN, o.page + o.pages);
            let hole = false;
            for (let p = o.page; p < end; p++) if (!mapped[p]) hole = true;
            try {
              mm.mprotect(a + o.page * PAGE_SIZE, (end - o.page) * PAGE_SIZE, o.write ? RW : PROT_READ);
            } catch (e) {
              if (!hole || (e as { code?: string }).code !== "ENOMEM") throw e;
              break;
            }
            if (hole) throw new Error("mprotect over a hole succeeded");
            for (let p = o.page; p < end; p++) writable[p] = o.write ? 1 : 0;
            break;
          }
          case "pin": {
            const folio = folioAt(m, mm, a + o.page * PAGE_SIZE);
            if (folio !== 0 && pins.length < 4) {
              m.folios.get(folio); // a get_user_pages reference: splits and migrations of it fail
              pins.push(folio);
            }
            break;
          }
          case "unpin":
            for (const folio of pins.splice(0)) m.folios.put(folio);
            break;
          case "reclaim":
            m.reclaim.shrink(o.pages);
            m.scheduler.waitUntil(() => m.vmstat.stat[Stat.Writeback] === 0, "swap writes");
            break;
          case "shrinkDeferred":
            m.anon.splitDeferred();
            break;
          case "migrate": {
            const folio = folioAt(m, mm, a + o.page * PAGE_SIZE);
            if (folio === 0) break;
            const large = m.folios.order(folio) === 9;
            const out = m.migration.migrateFolio(folio, { caller: PageOpCaller.Compaction });
            if (out.result === PageOpResult.Done && large) seen.migratedThp++;
            break;
          }
          case "poison": {
            const pte = mm.pageTables.get(a / PAGE_SIZE + o.page);
            if (!(pte & Pte.Present) || pte & Pte.Special) break;
            const folio = m.folios.fromPfn(ptePfn(pte));
            if (pins.includes(folio)) break; // a pinned THP cannot be split: the whole folio would stay poisoned
            const r = m.memoryFailure.hardOffline(ptePfn(pte));
            if (r.action !== "recovered") throw new Error(`poison of page ${o.page}: ${r.action} (${r.detail})`);
            if (r.dataLost) {
              lost[o.page] = 1;
              seen.poisoned++;
            }
            m.memoryFailure.unpoison(ptePfn(pte));
            break;
          }
        }
        check(JSON.stringify(o));
      }
      seen.thps += m.vmstat.toObject().thp_fault_alloc!;
      seen.splits += m.vmstat.toObject().thp_split_page!;
      seen.deferred += m.vmstat.toObject().thp_deferred_split_page!;
      seen.swapouts += m.vmstat.toObject().thp_swpout_fallback!;
      for (const folio of pins.splice(0)) m.folios.put(folio);
      for (let p = 0; p < SPAN; p++) {
        if (!mapped[p] || lost[p]) continue;
        const got = mm.load(a + p * PAGE_SIZE, PAGE_SIZE);
        const want = data[p];
        if (!got.every((b, i) => b === (want ? want[i]! : 0))) throw new Error(`final load of page ${p} differs`);
      }
      m.anon.splitDeferred();
      check("after the final deferred splits");
      mm.destroy();
      m.scheduler.waitUntil(() => m.vmstat.stat[Stat.Writeback] === 0, "swap writes");
      check("after exit");
      if (m.vmstat.stat[Stat.AnonPages] !== 0 || m.vmstat.stat[Stat.AnonThps] !== 0 || m.anon.swap!.inUse !== 0) throw new Error("exit left anonymous pages or swap");
    }),
    { numRuns: 250, seed: 20261126 },
  );
  t.log(`${runs} sequences: ${JSON.stringify(seen)}`);
  t.true(seen.thps > 0 && seen.splits > 0 && seen.deferred > 0 && seen.swapouts > 0 && seen.migratedThp > 0 && seen.poisoned > 0, "every kind of event occurred");
});
