/**
 * User mappings in core, without a page cache: anonymous memory through address spaces — the
 * zero page, faults, munmap splitting, protection, madvise, address-space layout, argument
 * checks, page tables as frames, and reclaim of mapped anonymous pages through swap (an in-memory
 * swap backing whose I/O completes as scheduler events). File mappings are tested in
 * @folio/pagecache, where a real page cache serves their faults.
 */
import test from "ava";
import {
  FolioError, MADV_DONTNEED, MADV_RANDOM, MADV_WILLNEED, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED, MMAP_BASE,
  Machine, MemoryAccessError, MemdescType, PAGE_SIZE, PROT_NONE, PROT_READ, PROT_WRITE, Stat, Pte, ptePfn, type AddressSpace, type ErrorCode,
  
} from "../src/index.js";
import { expectError, memorySwap, pattern } from "./helpers.js";

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

function boot(memory = "16MiB"): { m: Machine; mm: AddressSpace } {
  const m = Machine.boot({ memory });
  return { m, mm: m.mm.createAddressSpace("test") };
}

/** Asserts `fn` throws a MemoryAccessError with `code` and `signal`, and returns it. */
function accessError(t: import("ava").ExecutionContext, fn: () => unknown, code: ErrorCode, signal: "SIGSEGV" | "SIGBUS"): MemoryAccessError {
  const e = t.throws(fn);
  t.true(e instanceof MemoryAccessError, String(e));
  const err = e as MemoryAccessError;
  t.is(err.code, code, err.message);
  t.is(err.signal, signal, err.message);
  t.true(err instanceof FolioError, "it is a Folio error, with Node's shape");
  t.true(err.message.startsWith(`${code}: ${signal}`), err.message);
  return err;
}


test("a load of untouched anonymous memory maps the shared zero page; the first store gets a page of its own", (t) => {
  const { m, mm } = boot();
  const a = mm.mmap({ length: 4 * PAGE_SIZE, prot: RW, flags: ANON });
  t.deepEqual([...mm.load(a + 10, 8)], [0, 0, 0, 0, 0, 0, 0, 0]);
  t.deepEqual([...mm.load(a + 3 * PAGE_SIZE, 4)], [0, 0, 0, 0]);
  t.is(m.vmstat.stat[Stat.AnonPages], 0, "loads allocate no anonymous page");
  t.is(mm.residentPages(), 2, "both pages map the zero page");
  const pte = mm.pageTables.get(a / PAGE_SIZE);
  t.true((pte & Pte.Special) !== 0 && (pte & Pte.Write) === 0, "a special, read-only entry");
  const zero = ptePfn(pte);
  t.is(ptePfn(mm.pageTables.get(a / PAGE_SIZE + 3)), zero, "one zero page for every such entry");
  mm.store(a + 10, Uint8Array.of(1, 2, 3));
  t.is(m.vmstat.stat[Stat.AnonPages], 1);
  t.not(ptePfn(mm.pageTables.get(a / PAGE_SIZE)), zero, "the store replaced the zero page");
  t.deepEqual([...mm.load(a + 9, 5)], [0, 1, 2, 3, 0]);
  t.deepEqual([...mm.load(a + 3 * PAGE_SIZE, 4)], [0, 0, 0, 0], "the zero page is still all zeros");
  t.regex(m.describe(zero).text, /zero page/);
  t.deepEqual(m.verify(), []);
});

test("loads and stores spanning pages, small and large, read back what was stored", (t) => {
  const { m, mm } = boot();
  const a = mm.mmap({ length: 8 * PAGE_SIZE, prot: RW, flags: ANON });
  const big = pattern(5 * PAGE_SIZE + 123, 7);
  mm.store(a + 1000, big);
  t.deepEqual(mm.load(a + 1000, big.length), Uint8Array.from(big));
  const dst = new Uint8Array(100);
  mm.load(a + PAGE_SIZE - 30, dst, 10, 60);
  t.deepEqual(dst.subarray(10, 70), Uint8Array.from(big.subarray(PAGE_SIZE - 1030, PAGE_SIZE - 970)));
  t.deepEqual([...dst.subarray(0, 10)], new Array(10).fill(0), "outside the requested range nothing changes");
  mm.store(a + 2 * PAGE_SIZE - 2, Uint8Array.of(9, 8, 7, 6), 1, 2);
  t.deepEqual([...mm.load(a + 2 * PAGE_SIZE - 2, 2)], [8, 7]);
  t.deepEqual(m.verify(), []);
});

test("the hardware bits: a load sets the accessed bit, a store the dirty bit", (t) => {
  const { mm } = boot();
  const a = mm.mmap({ length: PAGE_SIZE, prot: RW, flags: ANON });
  mm.store(a, Uint8Array.of(1));
  const vpn = a / PAGE_SIZE;
  mm.pageTables.set(vpn, mm.pageTables.get(vpn) & ~(Pte.Accessed | Pte.Dirty));
  mm.load(a, 1);
  t.is(mm.pageTables.get(vpn) & (Pte.Accessed | Pte.Dirty), Pte.Accessed);
  mm.store(a, Uint8Array.of(2));
  t.is(mm.pageTables.get(vpn) & (Pte.Accessed | Pte.Dirty), Pte.Accessed | Pte.Dirty);
});

test("munmap of a middle page splits the mapping; the hole is SIGSEGV, the rest keeps its data", (t) => {
  const { m, mm } = boot();
  const a = mm.mmap({ length: 4 * PAGE_SIZE, prot: RW, flags: ANON });
  for (let i = 0; i < 4; i++) mm.store(a + i * PAGE_SIZE, pattern(PAGE_SIZE, i));
  t.is(m.vmstat.stat[Stat.AnonPages], 4);
  mm.munmap(a + PAGE_SIZE, PAGE_SIZE);
  t.is(mm.mappings().length, 2);
  t.deepEqual(mm.mappings().map((v) => [v.start - a, v.end - a, v.anonIndex]), [[0, PAGE_SIZE, 0], [2 * PAGE_SIZE, 4 * PAGE_SIZE, 2]]);
  t.is(mm.mappings()[0]!.anon, mm.mappings()[1]!.anon, "both halves keep the one anonymous region");
  t.is(m.vmstat.stat[Stat.AnonPages], 3, "the unmapped page is freed");
  const e = accessError(t, () => mm.load(a + PAGE_SIZE + 5, 1), "EFAULT", "SIGSEGV");
  t.is(e.address, a + PAGE_SIZE + 5);
  t.is(e.access, "load");
  for (const i of [0, 2, 3]) t.deepEqual(mm.load(a + i * PAGE_SIZE, PAGE_SIZE), Uint8Array.from(pattern(PAGE_SIZE, i)));
  t.deepEqual(m.verify(), []);
  mm.munmap(a, 4 * PAGE_SIZE);
  t.is(mm.mappings().length, 0);
  t.is(m.vmstat.stat[Stat.AnonPages], 0);
  t.is(m.vmstat.stat[Stat.PageTables], 0, "no mapping is left in the page table's span, so it is freed");
  mm.munmap(a, PAGE_SIZE); // nothing mapped there: not an error
  t.deepEqual(m.verify(), []);
});

test("mprotect splits, write-protects and hides pages; the data survives and returns with PROT_WRITE", (t) => {
  const { m, mm } = boot();
  const a = mm.mmap({ length: 3 * PAGE_SIZE, prot: RW, flags: ANON });
  for (let i = 0; i < 3; i++) mm.store(a + i * PAGE_SIZE, pattern(64, i));
  mm.mprotect(a + PAGE_SIZE, PAGE_SIZE, PROT_READ);
  t.deepEqual(mm.maps().map((l) => l.split(" ")[1]), ["rw-p", "r--p", "rw-p"]);
  t.is(mm.pageTables.get(a / PAGE_SIZE + 1) & Pte.Write, 0, "the entry lost its write bit");
  const e = accessError(t, () => mm.store(a + PAGE_SIZE + 1, Uint8Array.of(0)), "EACCES", "SIGSEGV");
  t.regex(e.message, /SEGV_ACCERR/);
  t.deepEqual(mm.load(a + PAGE_SIZE, 64), Uint8Array.from(pattern(64, 1)), "loads still work");
  mm.mprotect(a, 3 * PAGE_SIZE, PROT_NONE);
  accessError(t, () => mm.load(a, 1), "EACCES", "SIGSEGV");
  t.is(mm.residentPages(), 0, "PROT_NONE leaves no entry");
  mm.mprotect(a, 3 * PAGE_SIZE, RW);
  for (let i = 0; i < 3; i++) t.deepEqual(mm.load(a + i * PAGE_SIZE, 64), Uint8Array.from(pattern(64, i)));
  mm.store(a + PAGE_SIZE, Uint8Array.of(42));
  t.is(mm.load(a + PAGE_SIZE, 1)[0], 42);
  t.deepEqual(m.verify(), []);
});

test("mprotect and madvise of a range with a hole are ENOMEM; mprotect then changes nothing", (t) => {
  const { m, mm } = boot();
  const a = mm.mmap({ length: 3 * PAGE_SIZE, prot: RW, flags: ANON });
  mm.munmap(a + PAGE_SIZE, PAGE_SIZE);
  const before = mm.maps();
  expectError(t, "ENOMEM", () => mm.mprotect(a, 3 * PAGE_SIZE, PROT_READ));
  t.deepEqual(mm.maps(), before);
  expectError(t, "ENOMEM", () => mm.madvise(a, 3 * PAGE_SIZE, MADV_RANDOM));
  expectError(t, "EINVAL", () => mm.mprotect(a + 1, PAGE_SIZE, PROT_READ));
  expectError(t, "EINVAL", () => mm.mprotect(a, PAGE_SIZE, 8));
  expectError(t, "EINVAL", () => mm.madvise(a, PAGE_SIZE, 99));
  t.deepEqual(m.verify(), []);
});

test("MADV_DONTNEED frees private anonymous pages: they read as zeros again", (t) => {
  const { m, mm } = boot();
  const a = mm.mmap({ length: 4 * PAGE_SIZE, prot: RW, flags: ANON });
  mm.store(a, pattern(4 * PAGE_SIZE, 3));
  mm.madvise(a + PAGE_SIZE, 2 * PAGE_SIZE, MADV_DONTNEED);
  t.is(m.vmstat.stat[Stat.AnonPages], 2);
  t.true(mm.load(a + PAGE_SIZE, 2 * PAGE_SIZE).every((b) => b === 0));
  t.deepEqual(mm.load(a, PAGE_SIZE), Uint8Array.from(pattern(PAGE_SIZE, 3)));
  mm.madvise(a, PAGE_SIZE, MADV_WILLNEED); // nothing to read for anonymous memory
  t.deepEqual(m.verify(), []);
});

test("MAP_SHARED | MAP_ANONYMOUS keeps its pages under MADV_DONTNEED (they live in the shared region)", (t) => {
  const { m, mm } = boot();
  const a = mm.mmap({ length: 2 * PAGE_SIZE, prot: RW, flags: MAP_SHARED | MAP_ANONYMOUS });
  mm.store(a, pattern(2 * PAGE_SIZE, 5));
  mm.madvise(a, 2 * PAGE_SIZE, MADV_DONTNEED);
  t.is(mm.residentPages(), 0);
  t.deepEqual(mm.load(a, 2 * PAGE_SIZE), Uint8Array.from(pattern(2 * PAGE_SIZE, 5)));
  t.deepEqual(m.verify(), []);
});

test("addresses: top-down below the mmap base, hints honoured when free, MAP_FIXED replaces, MAP_FIXED_NOREPLACE refuses", (t) => {
  const { m, mm } = boot();
  const a = mm.mmap({ length: PAGE_SIZE, prot: RW, flags: ANON });
  const b = mm.mmap({ length: 2 * PAGE_SIZE, prot: RW, flags: ANON });
  t.is(a, MMAP_BASE - PAGE_SIZE);
  t.is(b, a - 2 * PAGE_SIZE, "the next mapping goes right below");
  const hinted = mm.mmap({ addr: 0x4000_0000, length: PAGE_SIZE, prot: RW, flags: ANON });
  t.is(hinted, 0x4000_0000);
  const taken = mm.mmap({ addr: 0x4000_0000, length: PAGE_SIZE, prot: RW, flags: ANON });
  t.not(taken, 0x4000_0000, "a hint over a mapping is not used");
  mm.store(b, Uint8Array.of(7));
  expectError(t, "EEXIST", () => mm.mmap({ addr: b, length: PAGE_SIZE, prot: RW, flags: ANON | MAP_FIXED_NOREPLACE }));
  t.is(mm.mmap({ addr: b, length: PAGE_SIZE, prot: PROT_READ, flags: ANON | MAP_FIXED }), b);
  t.is(mm.load(b, 1)[0], 0, "MAP_FIXED replaced the old page with a new, empty one");
  t.is(mm.mappings().length, 5);
  t.deepEqual(m.verify(), []);
});

test("mmap checks its arguments before changing anything", (t) => {
  const { m, mm } = boot();
  const cases: [ErrorCode, Parameters<AddressSpace["mmap"]>[0]][] = [
    ["EINVAL", { length: 0, prot: RW, flags: ANON }],
    ["EINVAL", { length: 1.5, prot: RW, flags: ANON }],
    ["EINVAL", { length: PAGE_SIZE, prot: RW, flags: MAP_ANONYMOUS }],
    ["EINVAL", { length: PAGE_SIZE, prot: RW, flags: MAP_SHARED | MAP_PRIVATE | MAP_ANONYMOUS }],
    ["EINVAL", { length: PAGE_SIZE, prot: 16, flags: ANON }],
    ["EINVAL", { length: PAGE_SIZE, prot: RW, flags: ANON | 0x40000000 }],
    ["EINVAL", { length: PAGE_SIZE, prot: RW, flags: ANON, offset: 100 }],
    ["EINVAL", { addr: 0x10001, length: PAGE_SIZE, prot: RW, flags: ANON | MAP_FIXED }],
    ["EPERM", { addr: 0x1000, length: PAGE_SIZE, prot: RW, flags: ANON | MAP_FIXED }],
    ["ENOMEM", { addr: 2 ** 47, length: PAGE_SIZE, prot: RW, flags: ANON | MAP_FIXED }],
    ["ENOMEM", { length: 2 ** 48, prot: RW, flags: ANON }],
    ["EBADF", { length: PAGE_SIZE, prot: RW, flags: MAP_SHARED }],
  ];
  for (const [code, request] of cases) expectError(t, code, () => mm.mmap(request), undefined, JSON.stringify(request));
  t.is(mm.mappings().length, 0);
  expectError(t, "EINVAL", () => mm.munmap(MMAP_BASE + 1, PAGE_SIZE));
  expectError(t, "EINVAL", () => mm.munmap(MMAP_BASE, 0));
  t.deepEqual(m.verify(), []);
});

test("accesses outside every mapping are SIGSEGV with EFAULT; beyond user space too", (t) => {
  const { mm } = boot();
  accessError(t, () => mm.load(0x10000, 1), "EFAULT", "SIGSEGV");
  const e = accessError(t, () => mm.store(2 ** 47, Uint8Array.of(1)), "EFAULT", "SIGSEGV");
  t.is(e.access, "store");
  expectError(t, "EINVAL", () => mm.load(-1, 1));
});

test("page tables are frames of the machine: typed pagetable, named after their address space, counted", (t) => {
  const { m, mm } = boot();
  const a = mm.mmap({ length: 16 * 1024 * 1024, prot: RW, flags: ANON });
  for (let off = 0; off < 16 * 1024 * 1024; off += 4 * 1024 * 1024) mm.store(a + off, Uint8Array.of(1));
  t.is(m.vmstat.stat[Stat.PageTables], 4, "one 4 KiB table per 4 MiB touched");
  t.is(m.meminfo().PageTables, 16);
  let frames = 0;
  mm.pageTables.forEachTable((_first, _table, pfn) => {
    frames++;
    t.is(m.memmap.type[pfn], MemdescType.PageTable);
    t.is(m.describe(pfn).text, `page table of address space ${mm.id}`);
  });
  t.is(frames, 4);
  mm.destroy();
  t.is(m.vmstat.stat[Stat.PageTables], 0);
  t.is(m.vmstat.stat[Stat.AnonPages], 0);
  expectError(t, "EINVAL", () => mm.mmap({ length: PAGE_SIZE, prot: RW, flags: ANON }));
  t.deepEqual(m.verify(), []);
});

test("verify recounts mapcounts from the page tables and reports a corrupted one", (t) => {
  const { m, mm } = boot();
  const a = mm.mmap({ length: PAGE_SIZE, prot: RW, flags: ANON });
  mm.store(a, Uint8Array.of(1));
  const folio = m.folios.fromPfn(ptePfn(mm.pageTables.get(a / PAGE_SIZE)));
  t.is(m.folios.mapcount(folio), 1);
  t.deepEqual(m.verify(), []);
  m.folios.addMapcount(folio, 1);
  t.true(m.verify().some((p) => /mapcount 2 but 1 page-table entries/.test(p)));
  m.folios.addMapcount(folio, -1);
  mm.pageTables.set(a / PAGE_SIZE, mm.pageTables.get(a / PAGE_SIZE) & ~Pte.Dirty);
  m.folios.clear(folio, 1 << 2); // FolioFlag.Dirty: a writable entry on a clean folio could lose stores
  t.true(m.verify().some((p) => /writable but folio \d+ is clean/.test(p)));
});

test("reclaim with swap: mapped anonymous pages are unmapped (dirty bits reaching their region), swapped out and faulted back", (t) => {
  const m = Machine.boot({ memory: "4MiB" });
  m.anon.swapOn(memorySwap(m, 4096));
  const mm = m.mm.createAddressSpace("big");
  const pages = 3 * (m.frames);
  const a = mm.mmap({ length: pages * PAGE_SIZE, prot: RW, flags: ANON });
  for (let i = 0; i < pages; i++) mm.store(a + i * PAGE_SIZE, pattern(PAGE_SIZE, i));
  // Overwrite every third page: swap copies of those must be replaced, not reused.
  for (let i = 0; i < pages; i += 3) mm.store(a + i * PAGE_SIZE + 100, pattern(200, i + 1000));
  let wrong = 0;
  for (let i = 0; i < pages; i++) {
    const want = Uint8Array.from(pattern(PAGE_SIZE, i));
    if (i % 3 === 0) want.set(pattern(200, i + 1000), 100);
    const got = mm.load(a + i * PAGE_SIZE, PAGE_SIZE);
    if (!got.every((b, k) => b === want[k])) wrong++;
  }
  t.is(wrong, 0);
  const vm = m.vmstat.toObject();
  t.true(vm.nr_reclaim_unmapped! > 0, "reclaim unmapped mapped pages");
  t.true(vm.pswpout! > pages, `pswpout ${vm.pswpout}`);
  t.true(vm.pgmajfault! > 0, "swap-ins are major faults");
  t.deepEqual(m.verify(), []);
  mm.destroy();
  m.scheduler.waitUntil(() => m.vmstat.stat[Stat.Writeback] === 0, "swap writes");
  t.is(m.anon.swap!.inUse, 0, "exit frees every swap slot");
  t.is(m.vmstat.stat[Stat.AnonPages], 0);
  t.deepEqual(m.verify(), []);
});

test("reclaim tests and clears accessed bits: only pages used since the last scan count as referenced, each once", (t) => {
  const m = Machine.boot({ memory: "8MiB" });
  m.anon.swapOn(memorySwap(m, 1024));
  const mm = m.mm.createAddressSpace("half hot");
  const a = mm.mmap({ length: 8 * PAGE_SIZE, prot: RW, flags: ANON });
  for (let i = 0; i < 8; i++) mm.store(a + i * PAGE_SIZE, pattern(PAGE_SIZE, i));
  // Pages 4..7 have been idle since they were last scanned.
  for (let i = 4; i < 8; i++) mm.pageTables.set(a / PAGE_SIZE + i, mm.pageTables.get(a / PAGE_SIZE + i) & ~Pte.Accessed);
  const before = m.vmstat.toObject();
  m.reclaim.shrink(8);
  const after = m.vmstat.toObject();
  t.is(after.nr_reclaim_mapped_referenced! - before.nr_reclaim_mapped_referenced!, 4, "the four used pages were kept once, their bits cleared");
  t.is(after.nr_reclaim_unmapped! - before.nr_reclaim_unmapped!, 8, "then, with nothing freed yet, a second pass unmapped all eight");
  t.is(mm.residentPages(), 0);
  for (let i = 0; i < 8; i++) t.deepEqual(mm.load(a + i * PAGE_SIZE, PAGE_SIZE), Uint8Array.from(pattern(PAGE_SIZE, i)));
  t.deepEqual(m.verify(), []);
});

test("pages reclaim started swapping out are freed first once their write ends (PG_reclaim), without another scan of the list", (t) => {
  const m = Machine.boot({ memory: "8MiB" });
  m.anon.swapOn(memorySwap(m, 1024));
  const mm = m.mm.createAddressSpace("idle");
  const a = mm.mmap({ length: 64 * PAGE_SIZE, prot: RW, flags: ANON });
  for (let i = 0; i < 64; i++) mm.store(a + i * PAGE_SIZE, pattern(PAGE_SIZE, i));
  for (let i = 0; i < 64; i++) mm.pageTables.set(a / PAGE_SIZE + i, mm.pageTables.get(a / PAGE_SIZE + i) & ~Pte.Accessed);
  t.is(m.reclaim.shrink(16), 0, "dirty anonymous pages start their swap-out; nothing is free yet");
  const writing = m.vmstat.stat[Stat.Writeback]!;
  t.true(writing >= 16, `${writing} pages under writeback`);
  m.scheduler.waitUntil(() => m.vmstat.stat[Stat.Writeback] === 0, "swap writes");
  const scannedBefore = m.vmstat.toObject().pgscan_kswapd!;
  t.is(m.reclaim.shrink(writing), writing, "every page whose write ended goes at once");
  t.is(m.vmstat.toObject().pgscan_kswapd! - scannedBefore, 0, "without the policy scanning for them");
  for (let i = 0; i < 64; i++) t.deepEqual(mm.load(a + i * PAGE_SIZE, PAGE_SIZE), Uint8Array.from(pattern(PAGE_SIZE, i)));
  t.deepEqual(m.verify(), []);
});
