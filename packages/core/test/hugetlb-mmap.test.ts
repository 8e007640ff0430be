/**
 * MAP_HUGETLB mappings over the hugetlb pool: reservations at mmap (ENOMEM when the pool cannot
 * cover them, none with MAP_NORESERVE), faults that take a zeroed 2 MiB page and map it whole,
 * munmap and exit giving pages and reservations back, SIGBUS when a fault finds no page, 2 MiB
 * alignment of every cut, MADV_DONTNEED, and memory failure of a huge page in use.
 */
import test from "ava";
import {
  HPAGE_PMD_SIZE, MADV_DONTNEED, MAP_ANONYMOUS, MAP_FIXED, MAP_HUGETLB, MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED, Machine, MemdescType, MemoryAccessError, PAGE_SIZE,
  PROT_NONE, PROT_READ, PROT_WRITE, PageOpCaller, PageOpResult, Pte, Stat, ptePfn, type AddressSpace,
} from "../src/index.js";
import { compareState, expectError, pattern, snapshot } from "./helpers.js";

const RW = PROT_READ | PROT_WRITE;
const HUGE = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB;
const HPAGE = HPAGE_PMD_SIZE / PAGE_SIZE;

function boot(hugePages = 4): { m: Machine; mm: AddressSpace } {
  const m = Machine.boot({ memory: "64MiB", hugePages });
  return { m, mm: m.mm.createAddressSpace("huge") };
}

function pool(m: Machine): [number, number, number] {
  const i = m.meminfo();
  return [i.HugePages_Total, i.HugePages_Free, i.HugePages_Rsvd];
}

test("mmap reserves the mapping's huge pages; a mapping the pool cannot cover is ENOMEM and changes nothing", (t) => {
  const { m, mm } = boot(4);
  const a = mm.mmap({ length: 3 * HPAGE_PMD_SIZE, prot: RW, flags: HUGE });
  t.is(a % HPAGE_PMD_SIZE, 0, "2 MiB-aligned");
  t.deepEqual(pool(m), [4, 4, 3], "reserved, none taken yet");
  t.is(m.meminfo().HugePages_Surp, 0);
  const before = snapshot(m, false);
  expectError(t, "ENOMEM", () => mm.mmap({ length: 2 * HPAGE_PMD_SIZE, prot: RW, flags: HUGE }), /cannot reserve 2/);
  expectError(t, "ENOMEM", () => mm.mmap({ length: 2 * HPAGE_PMD_SIZE, prot: RW, flags: MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB }));
  t.deepEqual(compareState(m, before), []);
  t.is(mm.mappings().length, 1);
  const b = mm.mmap({ length: 2 * HPAGE_PMD_SIZE, prot: RW, flags: HUGE | MAP_NORESERVE });
  t.deepEqual(pool(m), [4, 4, 3], "MAP_NORESERVE promises nothing");
  const c = mm.mmap({ length: PAGE_SIZE, prot: RW, flags: HUGE });
  t.deepEqual(pool(m), [4, 4, 4], "the length is rounded up to a huge page");
  t.is(mm.vmaAt(c)!.end - c, HPAGE_PMD_SIZE);
  t.regex(mm.maps()[0]!, /anon_hugepage/);
  mm.munmap(b, 2 * HPAGE_PMD_SIZE);
  mm.munmap(c, HPAGE_PMD_SIZE);
  mm.munmap(a, 3 * HPAGE_PMD_SIZE);
  t.deepEqual(pool(m), [4, 4, 0]);
  t.deepEqual(m.verify(), []);
});

test("a fault takes a zeroed huge page from the reservation and maps all 512 pages of it", (t) => {
  const { m, mm } = boot(2);
  // Leave old data in the pool's pages: a fault must not show it.
  for (let pfn = 0; pfn < m.frames; pfn++) if (m.memmap.type[pfn] === MemdescType.Hugetlb) m.memory.write(pfn * PAGE_SIZE, pattern(PAGE_SIZE, pfn));
  const a = mm.mmap({ length: 2 * HPAGE_PMD_SIZE, prot: RW, flags: HUGE });
  mm.store(a + HPAGE_PMD_SIZE + 12345, Uint8Array.of(1, 2, 3));
  t.deepEqual(pool(m), [2, 1, 1], "one page taken from the reservation");
  const pte = mm.pageTables.get((a + HPAGE_PMD_SIZE) / PAGE_SIZE);
  const folio = m.folios.fromPfn(ptePfn(pte));
  t.is(m.memmap.type[ptePfn(pte)], MemdescType.Hugetlb);
  t.is(m.folios.mapcount(folio), HPAGE, "mapped whole, a PTE per page");
  t.is(m.folios.refcount(folio), HPAGE + 1);
  let mapped = 0;
  for (let i = 0; i < HPAGE; i++) if (mm.pageTables.get((a + HPAGE_PMD_SIZE) / PAGE_SIZE + i) & Pte.Write) mapped++;
  t.is(mapped, HPAGE);
  t.deepEqual([...mm.load(a + HPAGE_PMD_SIZE + 12344, 5)], [0, 1, 2, 3, 0]);
  t.true(mm.load(a + HPAGE_PMD_SIZE, PAGE_SIZE).every((b) => b === 0), "zeroed, whatever the pool page held");
  t.true(mm.load(a + 2 * HPAGE_PMD_SIZE - PAGE_SIZE, PAGE_SIZE).every((b) => b === 0));
  t.deepEqual(mm.load(a, 2), Uint8Array.of(0, 0), "a load faults the other huge page in too");
  t.deepEqual(pool(m), [2, 0, 0]);
  t.is(m.vmstat.stat[Stat.FileMapped], 0, "huge pages are not file pages");
  t.is(m.vmstat.stat[Stat.AnonPages], 0, "nor anonymous LRU pages");
  t.regex(m.describe(ptePfn(pte)).text, /huge page at index 512 of huge pages at 0x/);
  t.deepEqual(m.verify(), []);
  // Not movable, not reclaimable.
  t.is(m.migration.migrateFrame(ptePfn(pte), { caller: PageOpCaller.Compaction }).result, PageOpResult.Unsupported);
  t.is(m.reclaim.shrink(1024), 0);
  t.is(mm.load(a + HPAGE_PMD_SIZE + 12345, 1)[0], 1);
  mm.destroy();
  t.deepEqual(pool(m), [2, 2, 0], "exit gives both pages back");
  t.deepEqual(m.verify(), []);
});

test("munmap must cut on 2 MiB boundaries; a partial munmap frees that huge page and the reservation of one never used", (t) => {
  const { m, mm } = boot(4);
  const a = mm.mmap({ length: 4 * HPAGE_PMD_SIZE, prot: RW, flags: HUGE });
  mm.store(a, Uint8Array.of(1));
  mm.store(a + HPAGE_PMD_SIZE, Uint8Array.of(2));
  t.deepEqual(pool(m), [4, 2, 2]);
  expectError(t, "EINVAL", () => mm.munmap(a + PAGE_SIZE, HPAGE_PMD_SIZE), /2 MiB boundaries/);
  expectError(t, "EINVAL", () => mm.munmap(a, PAGE_SIZE));
  expectError(t, "EINVAL", () => mm.mprotect(a, PAGE_SIZE, PROT_READ));
  expectError(t, "EINVAL", () => mm.mmap({ addr: a + PAGE_SIZE, length: HPAGE_PMD_SIZE, prot: RW, flags: HUGE | MAP_FIXED }), /2 MiB-aligned/);
  expectError(t, "EINVAL", () => mm.mmap({ length: HPAGE_PMD_SIZE, prot: RW, flags: MAP_PRIVATE | MAP_HUGETLB }), /MAP_ANONYMOUS/);
  t.is(mm.mappings().length, 1);
  mm.munmap(a + HPAGE_PMD_SIZE, 2 * HPAGE_PMD_SIZE); // a used page and an unused one
  t.deepEqual(pool(m), [4, 3, 1], "the used page is free again, the unused one no longer reserved");
  t.is(mm.mappings().length, 2);
  t.is(mm.load(a, 1)[0], 1);
  const e = t.throws(() => mm.load(a + HPAGE_PMD_SIZE, 1));
  t.true(e instanceof MemoryAccessError && e.signal === "SIGSEGV");
  mm.store(a + 3 * HPAGE_PMD_SIZE, Uint8Array.of(4));
  t.deepEqual(pool(m), [4, 2, 0]);
  t.deepEqual(m.verify(), []);
  mm.munmap(a, 4 * HPAGE_PMD_SIZE);
  t.deepEqual(pool(m), [4, 4, 0]);
  t.deepEqual(m.verify(), []);
});

test("without a reservation, a fault that finds no free huge page is SIGBUS; one with a reservation always gets its page", (t) => {
  const { m, mm } = boot(2);
  const reserved = mm.mmap({ length: HPAGE_PMD_SIZE, prot: RW, flags: HUGE });
  const loose = mm.mmap({ length: 2 * HPAGE_PMD_SIZE, prot: RW, flags: HUGE | MAP_NORESERVE });
  mm.store(loose, Uint8Array.of(1)); // takes the one unreserved page
  t.deepEqual(pool(m), [2, 1, 1]);
  const e = t.throws(() => mm.store(loose + HPAGE_PMD_SIZE, Uint8Array.of(2)));
  t.true(e instanceof MemoryAccessError, String(e));
  t.is((e as MemoryAccessError).signal, "SIGBUS");
  t.is((e as MemoryAccessError).code, "ENOSPC");
  t.regex((e as Error).message, /no huge page/);
  t.is(mm.pageTables.get((loose + HPAGE_PMD_SIZE) / PAGE_SIZE), 0, "nothing mapped");
  mm.store(reserved, Uint8Array.of(3));
  t.deepEqual(pool(m), [2, 0, 0], "the reserved page was still there for its mapping");
  t.deepEqual(m.verify(), []);
});

test("MADV_DONTNEED frees a private mapping's huge pages (they read as zeros again), keeps a shared one's; PROT_NONE keeps them", (t) => {
  const { m, mm } = boot(4);
  const priv = mm.mmap({ length: 2 * HPAGE_PMD_SIZE, prot: RW, flags: HUGE });
  const shared = mm.mmap({ length: HPAGE_PMD_SIZE, prot: RW, flags: MAP_SHARED | MAP_ANONYMOUS | MAP_HUGETLB });
  mm.store(priv, Uint8Array.of(1));
  mm.store(priv + HPAGE_PMD_SIZE, Uint8Array.of(2));
  mm.store(shared, Uint8Array.of(3));
  t.deepEqual(pool(m), [4, 1, 0]);
  expectError(t, "EINVAL", () => mm.madvise(priv + PAGE_SIZE, HPAGE_PMD_SIZE, MADV_DONTNEED), /2 MiB boundary/);
  mm.madvise(priv, HPAGE_PMD_SIZE + 5 * PAGE_SIZE, MADV_DONTNEED); // the end is aligned down: only the first page
  t.deepEqual(pool(m), [4, 2, 0]);
  t.is(mm.load(priv, 1)[0], 0);
  t.is(mm.load(priv + HPAGE_PMD_SIZE, 1)[0], 2);
  mm.madvise(shared, HPAGE_PMD_SIZE, MADV_DONTNEED);
  t.is(mm.residentPages(), 3 * HPAGE - HPAGE, "the shared page's entries went");
  t.is(mm.load(shared, 1)[0], 3, "its data stayed");
  mm.mprotect(priv + HPAGE_PMD_SIZE, HPAGE_PMD_SIZE, PROT_NONE);
  t.is(mm.pageTables.get((priv + HPAGE_PMD_SIZE) / PAGE_SIZE), 0);
  mm.mprotect(priv + HPAGE_PMD_SIZE, HPAGE_PMD_SIZE, PROT_READ);
  t.is(mm.load(priv + HPAGE_PMD_SIZE, 1)[0], 2);
  t.is(mm.pageTables.get((priv + HPAGE_PMD_SIZE) / PAGE_SIZE) & Pte.Write, 0, "mapped read-only now");
  mm.mprotect(priv + HPAGE_PMD_SIZE, HPAGE_PMD_SIZE, RW);
  mm.store(priv + HPAGE_PMD_SIZE + 1, Uint8Array.of(9));
  t.deepEqual([...mm.load(priv + HPAGE_PMD_SIZE, 2)], [2, 9]);
  t.deepEqual(m.verify(), []);
  mm.destroy();
  t.deepEqual(pool(m), [4, 4, 0]);
  t.deepEqual(m.verify(), []);
});

test("memory failure in a huge page in use is delayed: the page stays mapped, a new fault on it is SIGBUS, and it leaves the pool when unmapped", (t) => {
  const { m, mm } = boot(2);
  const a = mm.mmap({ length: HPAGE_PMD_SIZE, prot: RW, flags: HUGE });
  mm.store(a, Uint8Array.of(5));
  const pfn = ptePfn(mm.pageTables.get(a / PAGE_SIZE));
  const r = m.memoryFailure.hardOffline(pfn + 100);
  t.is(r.action, "delayed", r.detail);
  t.regex(r.detail, /in use by huge pages at 0x/);
  t.is(mm.load(a, 1)[0], 5, "still mapped: loads through the entries go on");
  mm.mprotect(a, HPAGE_PMD_SIZE, PROT_NONE);
  mm.mprotect(a, HPAGE_PMD_SIZE, RW);
  const e = t.throws(() => mm.load(a, 1));
  t.true(e instanceof MemoryAccessError && e.code === "EHWPOISON" && e.signal === "SIGBUS", String(e));
  t.deepEqual(m.verify(), []);
  mm.munmap(a, HPAGE_PMD_SIZE);
  t.deepEqual(pool(m), [1, 1, 0], "the poisoned page was dissolved when it was freed");
  t.is(m.memmap.type[pfn + 100], MemdescType.Offline);
  t.deepEqual(m.verify(), []);
});

test("soft offline and MADV_SOFT_OFFLINE refuse a huge page in use; the mapping keeps it", (t) => {
  const { m, mm } = boot(1);
  const a = mm.mmap({ length: HPAGE_PMD_SIZE, prot: RW, flags: HUGE });
  mm.store(a + 3, Uint8Array.of(6));
  const pfn = ptePfn(mm.pageTables.get(a / PAGE_SIZE));
  t.is(m.memoryFailure.softOffline(pfn).action, "failed");
  expectError(t, "EBUSY", () => mm.madvise(a, PAGE_SIZE, 101 /* MADV_SOFT_OFFLINE */), /in use/);
  t.is(mm.load(a + 3, 1)[0], 6);
  t.deepEqual(m.verify(), []);
});
