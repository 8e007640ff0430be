/**
 * Memory failure in core: hard offline of every memdesc type, soft offline, unpoison, and the
 * promise behind all of it — a poisoned frame is never handed out again. Page-cache folios are
 * tested in @folio/pagecache, where a real page cache owns them.
 */
import test from "ava";
import {
  FolioFlag, Gfp, MADV_DONTNEED, MADV_HWPOISON, MADV_SOFT_OFFLINE, MAP_ANONYMOUS, MAP_PRIVATE, Machine, MemdescType, MemoryAccessError,
  PAGE_SIZE, PROT_READ, PROT_WRITE, PageFlag, Stat, isPoisonPte, ptePfn, type AddressSpace,
} from "../src/index.js";
import { expectError, fillMemory, memorySwap, pattern } from "./helpers.js";

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

function boot(memory = "16MiB", hugePages = 0): { m: Machine; mm: AddressSpace } {
  const m = Machine.boot({ memory, hugePages });
  return { m, mm: m.mm.createAddressSpace("victim") };
}


/** Every frame the allocator still hands out, taken (and given back); none may be poisoned. */
function handedOutPoison(m: Machine): number[] {
  const runs = fillMemory(m);
  const bad: number[] = [];
  for (const r of runs) for (let p = r.pfn; p < r.pfn + (1 << r.order); p++) if (m.memmap.flags[p]! & PageFlag.HwPoison) bad.push(p);
  for (const r of runs) m.pages.freePages(r.pfn, r.order);
  return bad;
}

function catchAccess(fn: () => unknown): MemoryAccessError {
  try {
    fn();
  } catch (e) {
    if (e instanceof MemoryAccessError) return e;
    throw e;
  }
  throw new Error("the access did not fault");
}

test("a free frame is taken off the buddy lists, its block split around it, and never handed out again", (t) => {
  const { m } = boot();
  m.pages.drainPerCpuLists();
  let target = -1;
  m.pages.forEachFreeBlock((pfn, order) => {
    if (target < 0 && order === 10) target = pfn + 333;
  });
  const free = m.vmstat.stat[Stat.FreePages]!;
  const r = m.memoryFailure.hardOffline(target);
  t.like(r, { pfn: target, type: "buddy", action: "recovered", kind: "hard", dataLost: false });
  t.is(m.memmap.type[target], MemdescType.Offline);
  t.is(m.vmstat.stat[Stat.FreePages], free - 1, "only the bad frame left the free lists");
  t.is(m.vmstat.stat[Stat.HwPoisoned], 1);
  t.is(m.meminfo().HardwareCorrupted, 4);
  t.regex(m.describe(target).text, /offline after a hardware memory error \[hwpoison\]/);
  t.deepEqual(m.verify(), []);
  t.deepEqual(handedOutPoison(m), [], "allocating all of memory never returns the frame");
  t.like(m.memoryFailure.hardOffline(target), { action: "ignored" });
  t.is(m.vmstat.toObject().memory_failure_recovered, 1);
  t.is(m.vmstat.toObject().memory_failure_ignored, 1);
  t.deepEqual(m.verify(), []);
});

test("a frame on the per-CPU list is taken off it", (t) => {
  const { m } = boot();
  const pfn = m.pages.allocPages(0, Gfp.Movable, MemdescType.PageTable, 1);
  m.pages.freePages(pfn, 0);
  t.is(m.memmap.type[pfn], MemdescType.PerCpu);
  t.like(m.memoryFailure.hardOffline(pfn), { type: "percpu", action: "recovered" });
  t.is(m.memmap.type[pfn], MemdescType.Offline);
  t.deepEqual(m.verify(), []);
  t.deepEqual(handedOutPoison(m), []);
});

test("unpoison gives a retired frame back to the allocator, where it merges again", (t) => {
  const { m } = boot();
  m.pages.drainPerCpuLists();
  const before = m.buddyinfo();
  let target = -1;
  m.pages.forEachFreeBlock((pfn, order) => {
    if (target < 0 && order === 10) target = pfn + 1000;
  });
  m.memoryFailure.hardOffline(target);
  t.notDeepEqual(m.buddyinfo(), before);
  t.like(m.memoryFailure.unpoison(target), { action: "recovered", kind: "unpoison" });
  t.deepEqual(m.buddyinfo(), before, "the order-10 block is whole again");
  t.is(m.vmstat.stat[Stat.HwPoisoned], 0);
  t.like(m.memoryFailure.unpoison(target), { action: "ignored" });
  t.deepEqual(m.verify(), []);
});

test("a dirty anonymous page is lost: its PTE becomes a poison marker and touching it is SIGBUS (EHWPOISON) naming the address", (t) => {
  const { m, mm } = boot();
  const a = mm.mmap({ length: 4 * PAGE_SIZE, prot: RW, flags: ANON });
  for (let i = 0; i < 4; i++) mm.store(a + i * PAGE_SIZE, pattern(PAGE_SIZE, i));
  const vpn = a / PAGE_SIZE + 2;
  const pfn = ptePfn(mm.pageTables.get(vpn));
  const r = m.memoryFailure.hardOffline(pfn);
  t.like(r, { pfn, type: "folio", action: "recovered", dataLost: true, index: 2 });
  t.regex(r.detail, /dirty page 2 of anonymous memory .* lost/);
  t.true(isPoisonPte(mm.pageTables.get(vpn)));
  t.is(m.memmap.type[pfn], MemdescType.Offline, "the folio was freed and its frame retired");
  const addr = a + 2 * PAGE_SIZE + 123;
  for (const access of [() => mm.load(addr, 1), () => mm.store(addr, Uint8Array.of(1))]) {
    const e = catchAccess(access);
    t.is(e.code, "EHWPOISON");
    t.is(e.signal, "SIGBUS");
    t.is(e.address, addr);
    t.regex(e.message, new RegExp(`SIGBUS on a (load|store) at 0x${addr.toString(16)}: .*memory error in frame ${pfn}`));
  }
  // The other pages are untouched.
  for (const i of [0, 1, 3]) t.deepEqual(mm.load(a + i * PAGE_SIZE, PAGE_SIZE), pattern(PAGE_SIZE, i));
  t.deepEqual(m.verify(), []);
  // The region knows the page is lost too: a second mapping of it (after a split) sees the same.
  const region = mm.vmaAt(a)!.anon!;
  t.is(region.lost, 1);
  expectError(t, "EHWPOISON", () => region.read(2 * PAGE_SIZE, new Uint8Array(8), 0, 8), /page 2 of .* was lost to a memory error/);
  expectError(t, "EHWPOISON", () => region.write(2 * PAGE_SIZE + 8, new Uint8Array(8), 0, 8), /page 2 of .* was lost to a memory error/);
  // MADV_DONTNEED discards the page: it reads as zeros again, like fresh anonymous memory.
  mm.madvise(a + 2 * PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED);
  t.deepEqual(mm.load(a + 2 * PAGE_SIZE, 4), new Uint8Array(4));
  t.is(region.lost, 0);
  mm.destroy();
  t.deepEqual(m.verify(), []);
  t.deepEqual(handedOutPoison(m), []);
});

test("MADV_HWPOISON injects the error through the mapping; munmap clears the marker", (t) => {
  const { m, mm } = boot();
  const a = mm.mmap({ length: 2 * PAGE_SIZE, prot: RW, flags: ANON });
  mm.store(a, pattern(2 * PAGE_SIZE, 7));
  const pfn = ptePfn(mm.pageTables.get(a / PAGE_SIZE + 1));
  mm.madvise(a + PAGE_SIZE, PAGE_SIZE, MADV_HWPOISON);
  t.true(m.memoryFailure.isPoisoned(pfn));
  t.is(catchAccess(() => mm.load(a + PAGE_SIZE + 8, 8)).code, "EHWPOISON");
  t.deepEqual(mm.load(a, PAGE_SIZE), pattern(2 * PAGE_SIZE, 7).subarray(0, PAGE_SIZE));
  // Poisoning a page already lost is nothing new.
  mm.madvise(a, 2 * PAGE_SIZE, MADV_HWPOISON);
  t.is(m.vmstat.stat[Stat.HwPoisoned], 2);
  mm.munmap(a, 2 * PAGE_SIZE);
  t.deepEqual(m.verify(), [], "no marker left in the page tables (they were freed)");
  // A page never touched maps the shared zero page, which cannot be given up: EBUSY.
  const z = mm.mmap({ length: PAGE_SIZE, prot: RW, flags: ANON });
  expectError(t, "EBUSY", () => mm.madvise(z, PAGE_SIZE, MADV_HWPOISON), /MADV_HWPOISON at 0x[0-9a-f]+: the shared zero page answered unsupported/);
  const none = mm.mmap({ length: PAGE_SIZE, prot: 0, flags: ANON });
  expectError(t, "EFAULT", () => mm.madvise(none, PAGE_SIZE, MADV_SOFT_OFFLINE), /cannot be faulted in/);
  expectError(t, "EINVAL", () => mm.madvise(a, PAGE_SIZE, 102), /MADV_HWPOISON, MADV_SOFT_OFFLINE/);
});

test("a clean anonymous page with a swap copy is dropped and read back from swap: nothing is lost", (t) => {
  const { m, mm } = boot();
  m.anon.swapOn(memorySwap(m, 64));
  const a = mm.mmap({ length: PAGE_SIZE, prot: RW, flags: ANON });
  mm.store(a, pattern(PAGE_SIZE, 3));
  // Swap it out (reclaim's release starts the write) and back in: now clean, with a current copy.
  m.reclaim.shrink(8);
  m.scheduler.waitUntil(() => m.vmstat.stat[Stat.Writeback] === 0, "swap-out");
  m.reclaim.shrink(8);
  t.deepEqual(mm.load(a, PAGE_SIZE), pattern(PAGE_SIZE, 3));
  const pfn = ptePfn(mm.pageTables.get(a / PAGE_SIZE));
  const folio = m.folios.fromPfn(pfn);
  t.false(m.folios.test(folio, FolioFlag.Dirty), "swapped back in, the page is clean");
  const r = m.memoryFailure.hardOffline(pfn);
  t.like(r, { action: "recovered", dataLost: false });
  t.regex(r.detail, /clean page 0 of .* dropped/);
  t.is(mm.pageTables.get(a / PAGE_SIZE), 0, "an ordinary unmap: no poison marker");
  t.deepEqual(mm.load(a, PAGE_SIZE), pattern(PAGE_SIZE, 3), "read back from swap");
  t.not(ptePfn(mm.pageTables.get(a / PAGE_SIZE)), pfn);
  t.deepEqual(m.verify(), []);
});

test("an anonymous page under swap writeback is delayed, then handled by the retry once the write ends", (t) => {
  const { m, mm } = boot();
  m.anon.swapOn(memorySwap(m, 64));
  const a = mm.mmap({ length: PAGE_SIZE, prot: RW, flags: ANON });
  mm.store(a, pattern(PAGE_SIZE, 4));
  m.reclaim.shrink(8); // unmapped, swap-out started: under writeback now
  const region = mm.vmaAt(a)!.anon!;
  let pfn = -1;
  for (let p = 0; p < m.frames; p++) {
    const f = m.folios.fromPfn(p);
    if (m.memmap.type[p] === MemdescType.Folio && m.folios.owner(f) === region.id) pfn = p;
  }
  t.true(m.folios.test(m.folios.fromPfn(pfn), FolioFlag.Writeback));
  const seen: string[] = [];
  m.memoryFailure.onResult((r) => seen.push(`${r.action}${r.dataLost ? " lost" : ""}`));
  t.like(m.memoryFailure.hardOffline(pfn), { action: "delayed" });
  t.deepEqual(m.memoryFailure.pendingFrames(), [pfn]);
  t.is(m.vmstat.toObject().memory_failure_delayed, 1);
  m.scheduler.runFor(50_000_000);
  t.deepEqual(m.memoryFailure.pendingFrames(), []);
  t.deepEqual(seen, ["delayed", "recovered"], "the swap copy was current: nothing lost");
  t.is(m.memmap.type[pfn], MemdescType.Offline);
  t.deepEqual(mm.load(a, PAGE_SIZE), pattern(PAGE_SIZE, 4));
  t.deepEqual(m.verify(), []);
});

test("slab, page-table, vmalloc, large-kmalloc and reserved frames fail without touching anything else, and retire when freed", (t) => {
  const { m, mm } = boot();
  const obj = m.kmem.kmalloc(128);
  const big = m.kmem.kmalloc(128 * 1024);
  const va = m.vmalloc.vmalloc(3 * PAGE_SIZE);
  const a = mm.mmap({ length: PAGE_SIZE, prot: RW, flags: ANON });
  mm.store(a, Uint8Array.of(5));
  let ptFrame = -1;
  mm.pageTables.forEachTable((_v, _t, pfn) => (ptFrame = pfn));
  const frames = { slab: Math.floor(obj / PAGE_SIZE), "large-kmalloc": big / PAGE_SIZE + 1, vmalloc: m.vmalloc.toPfn(va + PAGE_SIZE), pagetable: ptFrame, reserved: 0 };
  for (const [type, pfn] of Object.entries(frames)) {
    const typeBefore = m.memmap.type[pfn];
    const r = m.memoryFailure.hardOffline(pfn);
    t.like(r, { type, action: "failed", dataLost: false }, type);
    t.is(m.memmap.type[pfn], typeBefore, `${type}: the frame stays with its owner`);
    t.regex(m.describe(pfn).text, /\[hwpoison\]/);
  }
  t.deepEqual(m.verify(), []);
  t.is(m.vmstat.stat[Stat.HwPoisoned], 5);
  t.is(m.vmstat.toObject().memory_failure_failed, 5);
  // Their owners keep working; freeing retires the frame instead of listing it free.
  t.is(mm.load(a, 1)[0], 5);
  m.kmem.kfree(big);
  m.vmalloc.vfree(va);
  mm.destroy();
  for (const type of ["large-kmalloc", "vmalloc", "pagetable"] as const) t.is(m.memmap.type[frames[type]], MemdescType.Offline, type);
  t.deepEqual(m.verify(), []);
  t.deepEqual(handedOutPoison(m), []);
});

test("a folio without owner fails, and its frame is retired when it is freed while its other frames go back", (t) => {
  const { m } = boot();
  const folio = m.folios.alloc(2, Gfp.Movable);
  const pfn = m.folios.pfn(folio);
  const r = m.memoryFailure.hardOffline(pfn + 1);
  t.like(r, { action: "failed", type: "folio" });
  t.true(m.folios.test(folio, FolioFlag.HasHwPoisoned));
  const free = m.vmstat.stat[Stat.FreePages]! + m.vmstat.stat[Stat.PerCpuPages]!;
  m.folios.put(folio);
  t.is(m.memmap.type[pfn + 1], MemdescType.Offline);
  t.is(m.vmstat.stat[Stat.FreePages]! + m.vmstat.stat[Stat.PerCpuPages]!, free + 3);
  t.deepEqual(m.verify(), []);
});

test("hugetlb: a free pool page is dissolved; one in use leaves the pool when freed", (t) => {
  const { m } = boot("32MiB", 4);
  const free0 = m.vmstat.stat[Stat.FreePages]!;
  const h = m.hugetlb.alloc();
  const inUse = m.folios.pfn(h) + 17;
  let freePage = -1;
  for (let p = 0; p < m.frames; p += 512) if (m.memmap.type[p] === MemdescType.Hugetlb && m.hugetlb.isFree(m.memmap.ref[p]!)) freePage = p;
  const r = m.memoryFailure.hardOffline(freePage + 5);
  t.like(r, { type: "hugetlb", action: "recovered" });
  t.regex(r.detail, /dissolved: its other 511 frames went back/);
  t.is(m.hugetlb.total, 3);
  t.is(m.vmstat.stat[Stat.FreePages], free0 + 511);
  t.is(m.memmap.type[freePage + 5], MemdescType.Offline);
  t.like(m.memoryFailure.hardOffline(inUse), { type: "hugetlb", action: "delayed" });
  t.is(m.hugetlb.total, 3, "still in use: still in the pool");
  t.deepEqual(m.verify(), []);
  m.folios.put(h);
  t.is(m.hugetlb.total, 2, "freed, it left the pool");
  t.is(m.hugetlb.free, 2);
  t.is(m.memmap.type[inUse], MemdescType.Offline);
  t.deepEqual(m.verify(), []);
  // The pool never hands out a poisoned page.
  const a = m.hugetlb.alloc();
  const b = m.hugetlb.alloc();
  for (const x of [a, b]) t.false(m.folios.test(x, FolioFlag.HasHwPoisoned));
  t.deepEqual(handedOutPoison(m), []);
});

test("soft offline moves a mapped page's contents away and retires the frame; what cannot move is left alone", (t) => {
  const { m, mm } = boot();
  const a = mm.mmap({ length: 2 * PAGE_SIZE, prot: RW, flags: ANON });
  mm.store(a, pattern(2 * PAGE_SIZE, 11));
  const vpn = a / PAGE_SIZE + 1;
  const pfn = ptePfn(mm.pageTables.get(vpn));
  const r = m.memoryFailure.softOffline(pfn);
  t.like(r, { kind: "soft", type: "folio", action: "recovered", dataLost: false, index: 1 });
  t.regex(r.detail, /moved from frame \d+ to frame \d+; frame \d+ retired/);
  t.not(ptePfn(mm.pageTables.get(vpn)), pfn);
  t.is(m.memmap.type[pfn], MemdescType.Offline);
  t.deepEqual(mm.load(a, 2 * PAGE_SIZE), pattern(2 * PAGE_SIZE, 11), "nothing lost");
  t.true(m.folios.test(m.folios.fromPfn(ptePfn(mm.pageTables.get(vpn))), FolioFlag.Dirty), "still dirty");
  t.is(m.vmstat.toObject().soft_offline, 1);
  // A free frame.
  m.pages.drainPerCpuLists();
  let freeFrame = -1;
  m.pages.forEachFreeBlock((p) => (freeFrame = p));
  t.like(m.memoryFailure.softOffline(freeFrame), { action: "recovered", type: "buddy" });
  // Unmovable memory: failed, and the frame is not even flagged.
  const slabFrame = Math.floor(m.kmem.kmalloc(64) / PAGE_SIZE);
  const s = m.memoryFailure.softOffline(slabFrame);
  t.like(s, { action: "failed", type: "slab" });
  t.regex(s.detail, /cannot move; frame \d+ left alone/);
  t.false(m.memoryFailure.isPoisoned(slabFrame));
  t.like(m.memoryFailure.softOffline(pfn), { action: "ignored" });
  t.is(m.vmstat.stat[Stat.HwPoisoned], 2);
  t.deepEqual(m.verify(), []);
  // MADV_SOFT_OFFLINE does the same through the mapping.
  const before = ptePfn(mm.pageTables.get(vpn - 1));
  mm.madvise(a, PAGE_SIZE, MADV_SOFT_OFFLINE);
  t.not(ptePfn(mm.pageTables.get(vpn - 1)), before);
  t.deepEqual(mm.load(a, 2 * PAGE_SIZE), pattern(2 * PAGE_SIZE, 11));
  t.deepEqual(m.verify(), []);
  t.deepEqual(handedOutPoison(m), []);
});

test("after many random injections and unpoisons, counters match a recount and no poisoned frame is ever allocated", (t) => {
  const { m, mm } = boot("8MiB");
  const pages = 512;
  const a = mm.mmap({ length: pages * PAGE_SIZE, prot: RW, flags: ANON });
  const kernel = Array.from({ length: 200 }, (_, i) => m.kmem.kmalloc(64 << (i % 8)));
  let x = 12345;
  const rand = (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const poisoned = new Set<number>();
  const actions: Record<string, number> = {};
  for (let i = 0; i < 3000; i++) {
    const op = rand(10);
    if (op < 4) {
      const page = rand(pages);
      try {
        mm.store(a + page * PAGE_SIZE + rand(4000), Uint8Array.of(i & 0xff));
      } catch (e) {
        if (!(e instanceof MemoryAccessError) || e.code !== "EHWPOISON") throw e;
        mm.madvise(a + page * PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED);
      }
    } else if (op < 7) {
      const pfn = 1 + rand(m.frames - 1);
      const r = rand(2) === 0 ? m.memoryFailure.hardOffline(pfn) : m.memoryFailure.softOffline(pfn);
      actions[`${r.kind} ${r.type} ${r.action}`] = (actions[`${r.kind} ${r.type} ${r.action}`] ?? 0) + 1;
      if (m.memoryFailure.isPoisoned(pfn)) poisoned.add(pfn);
    } else if (poisoned.size > 0) {
      const pfn = [...poisoned][rand(poisoned.size)]!;
      m.memoryFailure.unpoison(pfn);
      poisoned.delete(pfn);
    }
    if (i % 500 === 0) t.deepEqual(m.verify(), [], `step ${i}`);
  }
  t.log(actions);
  t.is(m.vmstat.stat[Stat.HwPoisoned], poisoned.size);
  for (const addr of kernel) m.kmem.kfree(addr);
  t.deepEqual(m.verify(), []);
  t.deepEqual(handedOutPoison(m), []);
});
