/**
 * File mappings over the page cache: faults served by filemapFault with read-around and
 * fault-around, page_mkwrite and dirtying through the owner's public `dirty`, copy on write,
 * writeback write-protecting what it cleans, msync, truncate's unmapping and SIGBUS, reclaim of
 * mapped pages through the reverse map, mapcounts of large folios mapped in part — and a
 * property test of random operation sequences against a model.
 */
import test, { type ExecutionContext } from "ava";
import fc from "fast-check";
import {
  FolioFlag, MADV_DONTNEED, MADV_RANDOM, MADV_WILLNEED, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MS_ASYNC, MS_SYNC, MemdescType, MemoryAccessError, PAGE_SIZE, PROT_READ,
  PROT_WRITE, PageOpCaller, PageOpResult, Pte, Stat, fail, ptePfn, type AddressSpace, type ErrorCode, type Machine, type MappableFile,
} from "@folio/core";
import { filemapMmap, finishRead, punchHole } from "../src/index.js";
import { TestFs, pattern } from "./testfs.js";

const RW = PROT_READ | PROT_WRITE;

/** The folio a page of `mm` maps, or 0. */
function folioAt(m: Machine, mm: AddressSpace, addr: number): number {
  const pte = mm.pageTables.get(Math.floor(addr / PAGE_SIZE));
  return pte & Pte.Present ? m.folios.fromPfn(ptePfn(pte)) : 0;
}

function accessError(t: ExecutionContext, fn: () => unknown, code: ErrorCode, signal: "SIGSEGV" | "SIGBUS"): MemoryAccessError {
  const e = t.throws(fn);
  t.true(e instanceof MemoryAccessError, String(e));
  t.is((e as MemoryAccessError).code, code, (e as Error).message);
  t.is((e as MemoryAccessError).signal, signal, (e as Error).message);
  return e as MemoryAccessError;
}

/** A file of `pages` pages with pattern `seed`, written through the cache and synced to the device. */
function fileWith(s: TestFs, pages: number, seed: number): { ino: number; data: Uint8Array } {
  const ino = s.create();
  const data = pattern(pages * PAGE_SIZE, seed);
  s.write(s.open(ino), 0, data);
  s.syncAll();
  return { ino, data };
}

test("a store through a shared mapping is seen by read(), and a write() by a load", (t) => {
  const s = new TestFs();
  const { ino, data } = fileWith(s, 4, 1);
  const mm = s.machine.mm.createAddressSpace("p");
  const a = mm.mmap({ length: 4 * PAGE_SIZE, prot: RW, flags: MAP_SHARED, file: s.mappable(ino) });
  t.deepEqual(mm.load(a, 4 * PAGE_SIZE), data);
  mm.store(a + PAGE_SIZE + 10, Uint8Array.of(1, 2, 3));
  t.deepEqual([...s.read(s.open(ino), PAGE_SIZE + 9, 5)], [data[PAGE_SIZE + 9], 1, 2, 3, data[PAGE_SIZE + 13]]);
  s.write(s.open(ino), 3 * PAGE_SIZE + 100, Uint8Array.of(9, 9));
  t.deepEqual([...mm.load(a + 3 * PAGE_SIZE + 100, 2)], [9, 9]);
  const folio = folioAt(s.machine, mm, a + PAGE_SIZE);
  t.is(folio, s.cache.lookup(s.inodes.get(ino)!.mapping, 1), "the PTE maps the page-cache folio itself");
  t.is(s.machine.folios.mapcount(folio), 1);
  t.true(s.machine.folios.test(folio, FolioFlag.Dirty), "the store dirtied it through its owner");
  t.is(s.machine.vmstat.stat[Stat.FileMapped], 4);
  t.deepEqual(s.machine.verify(), []);
  t.deepEqual(s.checkCache(), []);
  mm.destroy();
  t.is(s.machine.vmstat.stat[Stat.FileMapped], 0);
  s.syncAll();
  t.deepEqual(s.onDevice(ino).subarray(PAGE_SIZE + 10, PAGE_SIZE + 13), Uint8Array.of(1, 2, 3), "and it reached the device");
});

test("migrating a dirty folio mapped twice moves the data, the index entry and both PTEs; stores after it reach the file", (t) => {
  const s = new TestFs();
  const { ino, data } = fileWith(s, 4, 3);
  const mapping = s.inodes.get(ino)!.mapping;
  const p1 = s.machine.mm.createAddressSpace("p1");
  const p2 = s.machine.mm.createAddressSpace("p2");
  const a1 = p1.mmap({ length: 4 * PAGE_SIZE, prot: RW, flags: MAP_SHARED, file: s.mappable(ino) });
  const a2 = p2.mmap({ length: 4 * PAGE_SIZE, prot: RW, flags: MAP_SHARED, file: s.mappable(ino) });
  p1.store(a1 + 2 * PAGE_SIZE, Uint8Array.of(7, 7));
  p2.load(a2 + 2 * PAGE_SIZE, 1);
  const old = folioAt(s.machine, p1, a1 + 2 * PAGE_SIZE);
  t.is(s.machine.folios.mapcount(old), 2);
  const out = s.machine.migration.migrateFolio(old, { caller: PageOpCaller.Compaction });
  t.is(out.result, PageOpResult.Done, out.reason);
  t.is(s.cache.lookup(mapping, 2), out.dst, "the index names the new folio");
  t.is(folioAt(s.machine, p1, a1 + 2 * PAGE_SIZE), out.dst);
  t.is(folioAt(s.machine, p2, a2 + 2 * PAGE_SIZE), out.dst);
  t.is(s.machine.folios.mapcount(out.dst), 2);
  t.true(s.machine.folios.test(out.dst, FolioFlag.Dirty), "still dirty: the store is not lost");
  t.deepEqual([...p2.load(a2 + 2 * PAGE_SIZE, 3)], [7, 7, data[2 * PAGE_SIZE + 2]]);
  p2.store(a2 + 2 * PAGE_SIZE + 2, Uint8Array.of(8));
  t.deepEqual([...s.read(s.open(ino), 2 * PAGE_SIZE, 3)], [7, 7, 8]);
  t.deepEqual(s.machine.verify(), []);
  t.deepEqual(s.checkCache(), []);
  s.syncAll();
  t.deepEqual(s.onDevice(ino).subarray(2 * PAGE_SIZE, 2 * PAGE_SIZE + 3), Uint8Array.of(7, 7, 8), "and it reached the device");
  // Under writeback the owner refuses, and nothing moves.
  p1.store(a1, Uint8Array.of(1));
  const busy = folioAt(s.machine, p1, a1);
  s.machine.folios.set(busy, FolioFlag.Writeback);
  t.is(s.machine.migration.migrateFolio(busy, { caller: PageOpCaller.Compaction }).result, PageOpResult.Busy);
  s.machine.folios.clear(busy, FolioFlag.Writeback);
  t.is(folioAt(s.machine, p1, a1), busy);
  t.deepEqual(s.machine.verify(), []);
});

test("a private mapping shows the file until its first store to a page, which copies it; the file never sees the copy", (t) => {
  const s = new TestFs();
  const { ino, data } = fileWith(s, 3, 2);
  const mm = s.machine.mm.createAddressSpace("p");
  const a = mm.mmap({ length: 3 * PAGE_SIZE, prot: RW, flags: MAP_PRIVATE, file: s.mappable(ino) });
  t.is(mm.load(a, 1)[0], data[0]);
  const cached = folioAt(s.machine, mm, a);
  t.is(s.machine.folios.mapcount(cached), 1);
  s.write(s.open(ino), 0, Uint8Array.of(0xee));
  t.is(mm.load(a, 1)[0], 0xee, "before a store the mapping shows the file's page");
  mm.store(a + 1, Uint8Array.of(0x55));
  const copy = folioAt(s.machine, mm, a);
  t.not(copy, cached, "the store copied the page");
  t.true(s.machine.folios.test(copy, FolioFlag.SwapBacked), "into anonymous memory");
  t.is(s.machine.folios.mapcount(cached), 0, "the file's folio is no longer mapped");
  t.is(s.machine.vmstat.stat[Stat.AnonPages], 1);
  t.deepEqual([...mm.load(a, 2)], [0xee, 0x55]);
  s.write(s.open(ino), 0, Uint8Array.of(0x11));
  t.is(mm.load(a, 1)[0], 0xee, "after the copy, the file's changes no longer show");
  mm.msync(a, 3 * PAGE_SIZE, MS_SYNC);
  s.syncAll();
  t.deepEqual([...s.read(s.open(ino), 0, 2)], [0x11, data[1]]);
  t.deepEqual([...s.onDevice(ino).subarray(0, 2)], [0x11, data[1]], "the device never sees the private store");
  mm.store(a + 2 * PAGE_SIZE, Uint8Array.of(7)); // a store to a page never loaded: do_cow_fault
  t.is(s.machine.vmstat.stat[Stat.AnonPages], 2);
  t.is(s.read(s.open(ino), 2 * PAGE_SIZE, 1)[0], data[2 * PAGE_SIZE]);
  t.deepEqual(s.machine.verify(), []);
  mm.destroy();
  t.is(s.machine.vmstat.stat[Stat.AnonPages], 0);
  t.deepEqual(s.machine.verify(), []);
});

test("writeback write-protects the pages it cleans: the next store faults and dirties the folio again", (t) => {
  const s = new TestFs();
  const { ino } = fileWith(s, 2, 3);
  const mm = s.machine.mm.createAddressSpace("p");
  const a = mm.mmap({ length: 2 * PAGE_SIZE, prot: RW, flags: MAP_SHARED, file: s.mappable(ino) });
  mm.store(a, Uint8Array.of(1));
  const vpn = a / PAGE_SIZE;
  t.is(mm.pageTables.get(vpn) & (Pte.Write | Pte.Dirty), Pte.Write | Pte.Dirty);
  t.is(s.machine.vmstat.stat[Stat.Dirty], 1);
  s.syncAll();
  t.is(s.machine.vmstat.stat[Stat.Dirty], 0);
  t.is(mm.pageTables.get(vpn) & (Pte.Write | Pte.Dirty), 0, "the entry was write-protected and cleaned (page_mkclean)");
  const faults = s.machine.vmstat.toObject().pgfault!;
  mm.store(a, Uint8Array.of(2));
  t.is(s.machine.vmstat.toObject().pgfault!, faults + 1, "so the store faulted");
  t.is(s.machine.vmstat.stat[Stat.Dirty], 1, "and dirtied the folio again");
  mm.store(a + 1, Uint8Array.of(3));
  t.is(s.machine.vmstat.toObject().pgfault!, faults + 1, "later stores go straight through");
  s.syncAll();
  t.deepEqual([...s.onDevice(ino).subarray(0, 2)], [2, 3]);
  t.deepEqual(s.machine.verify(), []);
});

test("msync(MS_SYNC) writes the range to the device before it returns; MS_ASYNC starts the writeback", (t) => {
  const s = new TestFs();
  const { ino } = fileWith(s, 4, 4);
  const mm = s.machine.mm.createAddressSpace("p");
  const a = mm.mmap({ length: 4 * PAGE_SIZE, prot: RW, flags: MAP_SHARED, file: s.mappable(ino) });
  mm.store(a + 5, Uint8Array.of(0xab));
  mm.store(a + 3 * PAGE_SIZE, Uint8Array.of(0xcd));
  mm.msync(a, PAGE_SIZE, MS_SYNC);
  t.is(s.onDevice(ino)[5], 0xab);
  t.not(s.onDevice(ino)[3 * PAGE_SIZE], 0xcd, "outside the range nothing was written");
  t.is(s.machine.vmstat.stat[Stat.Dirty], 1);
  mm.msync(a + 2 * PAGE_SIZE, 2 * PAGE_SIZE, MS_ASYNC);
  t.is(s.machine.vmstat.stat[Stat.Dirty], 0, "the dirty page went under writeback");
  s.machine.scheduler.waitUntil(() => s.machine.vmstat.stat[Stat.Writeback] === 0, "writeback");
  t.is(s.onDevice(ino)[3 * PAGE_SIZE], 0xcd);
  for (const [code, f] of [["EINVAL", () => mm.msync(a, PAGE_SIZE, MS_SYNC | MS_ASYNC)], ["EINVAL", () => mm.msync(a + 1, PAGE_SIZE, MS_SYNC)], ["ENOMEM", () => mm.msync(a, 5 * PAGE_SIZE, MS_SYNC)]] as const) {
    const e = t.throws(f);
    t.is((e as { code?: string }).code, code);
  }
  t.deepEqual(s.machine.verify(), []);
});

test("truncate unmaps what lies past the new end: loads and stores there are SIGBUS; the last page stays, its tail zeroed; private copies past the end go", (t) => {
  const s = new TestFs();
  const { ino, data } = fileWith(s, 4, 5);
  const mm = s.machine.mm.createAddressSpace("p");
  const shared = mm.mmap({ length: 4 * PAGE_SIZE, prot: RW, flags: MAP_SHARED, file: s.mappable(ino) });
  const priv = mm.mmap({ length: 4 * PAGE_SIZE, prot: RW, flags: MAP_PRIVATE, file: s.mappable(ino) });
  t.deepEqual(mm.load(shared, 4 * PAGE_SIZE), data);
  mm.store(priv + 3 * PAGE_SIZE, Uint8Array.of(1)); // a private copy of the last page
  mm.store(priv + PAGE_SIZE, Uint8Array.of(2)); // and one of page 1
  s.truncate(ino, PAGE_SIZE + 100);
  t.is(mm.residentPages(), 3, "pages 0 and 1 of the shared mapping remain, and the private copy of page 1");
  const e = accessError(t, () => mm.load(shared + 2 * PAGE_SIZE, 1), "EFAULT", "SIGBUS");
  t.regex(e.message, /beyond the end/);
  accessError(t, () => mm.store(shared + 3 * PAGE_SIZE, Uint8Array.of(1)), "EFAULT", "SIGBUS");
  accessError(t, () => mm.load(priv + 3 * PAGE_SIZE, 1), "EFAULT", "SIGBUS");
  t.is(mm.load(priv + PAGE_SIZE, 1)[0], 2, "a private copy of a page below the end stays");
  t.deepEqual(mm.load(shared + PAGE_SIZE + 98, 4), Uint8Array.of(data[PAGE_SIZE + 98]!, data[PAGE_SIZE + 99]!, 0, 0), "past the end within the last page: zeros");
  t.is(s.machine.vmstat.stat[Stat.AnonPages], 1);
  t.deepEqual(s.machine.verify(), []);
  s.write(s.open(ino), 3 * PAGE_SIZE, Uint8Array.of(4)); // the file grows again: the pages are back
  t.is(mm.load(shared + 3 * PAGE_SIZE, 1)[0], 4);
  t.is(mm.load(shared + 2 * PAGE_SIZE, 1)[0], 0);
  t.deepEqual(s.machine.verify(), []);
});

test("munmap of a dirty shared page leaves its folio dirty, and writeback then writes it", (t) => {
  const s = new TestFs();
  const { ino } = fileWith(s, 1, 6);
  const mm = s.machine.mm.createAddressSpace("p");
  const a = mm.mmap({ length: PAGE_SIZE, prot: RW, flags: MAP_SHARED, file: s.mappable(ino) });
  mm.store(a, Uint8Array.of(0x42));
  const folio = folioAt(s.machine, mm, a);
  mm.munmap(a, PAGE_SIZE);
  t.is(s.machine.folios.mapcount(folio), 0);
  t.true(s.machine.folios.test(folio, FolioFlag.Dirty));
  t.is(s.machine.vmstat.stat[Stat.Dirty], 1);
  s.syncAll();
  t.is(s.onDevice(ino)[0], 0x42);
  t.deepEqual(s.machine.verify(), []);
});

test("a dirty bit set behind the owner's back reaches the folio when the page is unmapped", (t) => {
  const s = new TestFs();
  const { ino } = fileWith(s, 1, 7);
  const mm = s.machine.mm.createAddressSpace("p");
  const a = mm.mmap({ length: PAGE_SIZE, prot: RW, flags: MAP_SHARED, file: s.mappable(ino) });
  mm.load(a, 1);
  const folio = folioAt(s.machine, mm, a);
  // A device writing through the mapping (as get_user_pages would) sets only the PTE's dirty bit.
  mm.pageTables.set(a / PAGE_SIZE, mm.pageTables.get(a / PAGE_SIZE) | Pte.Dirty);
  t.false(s.machine.folios.test(folio, FolioFlag.Dirty));
  s.machine.mm.rmap.tryToUnmap(folio);
  t.true(s.machine.folios.test(folio, FolioFlag.Dirty), "try_to_unmap handed the dirty bit to the owner");
  t.is(s.machine.folios.mapcount(folio), 0);
  t.deepEqual(s.machine.verify(), []);
});

test("reclaim keeps mapped pages used since the last scan, unmaps and drops idle ones, which fault back from the device", (t) => {
  const s = new TestFs();
  const ino = s.create();
  const data = pattern(16 * PAGE_SIZE, 8);
  s.populate(ino, data);
  const mm = s.machine.mm.createAddressSpace("p");
  const a = mm.mmap({ length: 16 * PAGE_SIZE, prot: PROT_READ, flags: MAP_SHARED, file: s.mappable(ino) });
  t.deepEqual(mm.load(a, 16 * PAGE_SIZE), data);
  // Other cached files are not on the LRU: the 16 pages are all reclaim can take.
  t.is(s.machine.reclaim.counts().lruPages, 16);
  for (let i = 8; i < 16; i++) mm.pageTables.set(a / PAGE_SIZE + i, mm.pageTables.get(a / PAGE_SIZE + i) & ~Pte.Accessed);
  t.is(s.machine.reclaim.shrink(8), 8);
  const mapping = s.inodes.get(ino)!.mapping;
  for (let i = 0; i < 8; i++) t.not(s.cache.lookup(mapping, i), 0, `page ${i} was used: it stays`);
  for (let i = 8; i < 16; i++) t.is(s.cache.lookup(mapping, i), 0, `page ${i} was idle: it went`);
  t.is(mm.residentPages(), 8);
  const vm = s.machine.vmstat.toObject();
  t.is(vm.nr_reclaim_unmapped, 8);
  const major = vm.pgmajfault!;
  t.deepEqual(mm.load(a, 16 * PAGE_SIZE), data, "the dropped pages fault back in with the right bytes");
  t.true(s.machine.vmstat.toObject().pgmajfault! > major);
  t.deepEqual(s.machine.verify(), []);
  t.deepEqual(s.checkCache(), []);
});

test("a large folio's mapcount counts the PTEs mapping any of its pages, through partial munmap and truncate", (t) => {
  const s = new TestFs({ maxOrder: 2 });
  const ino = s.create();
  s.write(s.open(ino), 0, pattern(8 * PAGE_SIZE, 9));
  const mapping = s.inodes.get(ino)!.mapping;
  const f = s.machine.folios;
  const first = s.cache.lookup(mapping, 0);
  const second = s.cache.lookup(mapping, 4);
  t.is(f.nrPages(first), 4);
  t.is(f.nrPages(second), 4);
  const mm = s.machine.mm.createAddressSpace("p");
  const a = mm.mmap({ length: 8 * PAGE_SIZE, prot: PROT_READ, flags: MAP_SHARED, file: s.mappable(ino) });
  mm.load(a, 1); // fault-around maps the cached pages around it
  mm.load(a + 4 * PAGE_SIZE, 1);
  t.is(f.mapcount(first), 4);
  t.is(f.mapcount(second), 4);
  mm.munmap(a + PAGE_SIZE, 2 * PAGE_SIZE);
  t.is(f.mapcount(first), 2, "mapped in part");
  t.is(s.machine.vmstat.stat[Stat.FileMapped], 8, "a folio mapped in part counts all its pages as mapped");
  s.truncate(ino, 5 * PAGE_SIZE + 1);
  t.is(f.order(second), 0, "the folio straddling the new end was split (truncate_inode_partial_folio)");
  t.is(f.mapcount(second), 1, "page 4 keeps its entry");
  t.is(f.mapcount(s.cache.lookup(mapping, 5)), 1, "so does page 5, which holds the new end");
  t.is(s.cache.lookup(mapping, 6), 0, "pages 6 and 7 lie past the end: unmapped and gone");
  t.is(mapping.nrPages, 6);
  t.is(s.machine.vmstat.stat[Stat.FileMapped], 6);
  t.deepEqual(s.machine.verify(), []);
  t.deepEqual(s.checkCache(), []);
  mm.munmap(a, 8 * PAGE_SIZE);
  t.is(f.mapcount(first), 0);
  t.is(s.machine.vmstat.stat[Stat.FileMapped], 0);
  t.deepEqual(s.machine.verify(), []);
});

test("partial truncate of a large folio splits it: pages past the end are freed and unmapped, private copies there too; the page holding the end is zeroed past it", (t) => {
  const s = new TestFs({ maxOrder: 4 });
  const ino = s.create();
  const data = pattern(16 * PAGE_SIZE, 20);
  s.write(s.open(ino), 0, data);
  const mapping = s.inodes.get(ino)!.mapping;
  const f = s.machine.folios;
  const folio = s.cache.lookup(mapping, 0);
  t.is(f.order(folio), 4, "one 16-page folio");
  const mm = s.machine.mm.createAddressSpace("p");
  const shared = mm.mmap({ length: 16 * PAGE_SIZE, prot: RW, flags: MAP_SHARED, file: s.mappable(ino) });
  const priv = mm.mmap({ length: 16 * PAGE_SIZE, prot: RW, flags: MAP_PRIVATE, file: s.mappable(ino) });
  t.deepEqual(mm.load(shared, 16 * PAGE_SIZE), data);
  mm.load(priv + 2 * PAGE_SIZE, 1);
  mm.store(shared + 3 * PAGE_SIZE, Uint8Array.of(0xaa)); // dirty, through the mapping
  mm.store(priv + 12 * PAGE_SIZE, Uint8Array.of(0xbb)); // a private copy past the coming end
  t.true(f.mapcount(folio) > 16, "mapped by every page of the shared mapping, and in part by the private one");
  const free = () => s.machine.vmstat.stat[Stat.FreePages]! + s.machine.vmstat.stat[Stat.PerCpuPages]!;
  const before = free();
  s.truncate(ino, 5 * PAGE_SIZE + 100);
  t.is(s.machine.vmstat.toObject().thp_split_page, 1);
  t.is(f.order(folio), 0);
  t.is(mapping.nrPages, 6, "pages 0..5 stay, one folio each");
  for (let i = 6; i < 16; i++) t.is(s.cache.lookup(mapping, i), 0);
  t.true(free() - before >= 10 - 2, "the ten pages past the end went back to the allocator");
  t.is(s.machine.vmstat.stat[Stat.AnonPages], 0, "the private copy of page 12 is gone too");
  for (let i = 0; i < 6; i++) {
    const piece = s.cache.lookup(mapping, i);
    const want = 1 + (mm.pageTables.get(priv / PAGE_SIZE + i) & Pte.Present ? 1 : 0);
    t.is(f.mapcount(piece), want, `page ${i} is mapped by its own entries only`);
  }
  t.true(f.test(s.cache.lookup(mapping, 3), FolioFlag.Dirty), "every piece kept the folio's dirtiness");
  t.deepEqual(s.machine.verify(), []);
  t.deepEqual(s.checkCache(), []);
  accessError(t, () => mm.load(shared + 6 * PAGE_SIZE, 1), "EFAULT", "SIGBUS");
  accessError(t, () => mm.load(priv + 12 * PAGE_SIZE, 1), "EFAULT", "SIGBUS");
  const tail = mm.load(shared + 5 * PAGE_SIZE + 98, 4);
  t.deepEqual([...tail], [data[5 * PAGE_SIZE + 98], data[5 * PAGE_SIZE + 99], 0, 0], "zeros past the end in its last page");
  t.is(mm.load(shared + 3 * PAGE_SIZE, 1)[0], 0xaa);
  s.write(s.open(ino), 10 * PAGE_SIZE, Uint8Array.of(1)); // grow: the old data past the end is gone for good
  t.true(mm.load(shared + 6 * PAGE_SIZE, 4 * PAGE_SIZE).every((b) => b === 0));
  t.true(s.read(s.open(ino), 5 * PAGE_SIZE + 100, PAGE_SIZE).every((b) => b === 0));
  s.syncAll();
  t.true(s.onDevice(ino).subarray(5 * PAGE_SIZE + 100, 10 * PAGE_SIZE).every((b) => b === 0), "nor does the device show it");
  t.deepEqual(s.machine.verify(), []);
  t.deepEqual(s.checkCache(), []);
});

test("a hole punched inside a large folio splits it and drops the whole pages of the hole; the edges are zeroed; private copies stay", (t) => {
  const s = new TestFs({ maxOrder: 4 });
  const ino = s.create();
  const data = pattern(16 * PAGE_SIZE, 21);
  s.write(s.open(ino), 0, data);
  s.syncAll();
  const mapping = s.inodes.get(ino)!.mapping;
  const f = s.machine.folios;
  const mm = s.machine.mm.createAddressSpace("p");
  const shared = mm.mmap({ length: 16 * PAGE_SIZE, prot: PROT_READ, flags: MAP_SHARED, file: s.mappable(ino) });
  const priv = mm.mmap({ length: 16 * PAGE_SIZE, prot: RW, flags: MAP_PRIVATE, file: s.mappable(ino) });
  mm.load(shared, 16 * PAGE_SIZE);
  mm.store(priv + 6 * PAGE_SIZE, Uint8Array.of(0xcc));
  punchHole(s.cache, mapping, 4 * PAGE_SIZE + 10, 4 * PAGE_SIZE); // bytes [4P+10, 8P+10): pages 5, 6, 7 whole
  t.is(mapping.nrPages, 13);
  for (const i of [5, 6, 7]) t.is(s.cache.lookup(mapping, i), 0);
  t.is(f.mapcount(s.cache.lookup(mapping, 4)), 1);
  t.is(f.mapcount(s.cache.lookup(mapping, 8)), 1);
  t.is(mm.pageTables.get(shared / PAGE_SIZE + 6), 0, "the hole is unmapped from the shared mapping");
  t.is(mm.load(priv + 6 * PAGE_SIZE, 1)[0], 0xcc, "the private copy stays");
  const edge = mm.load(shared + 4 * PAGE_SIZE, PAGE_SIZE);
  t.deepEqual(edge.subarray(0, 10), data.subarray(4 * PAGE_SIZE, 4 * PAGE_SIZE + 10));
  t.true(edge.subarray(10).every((b) => b === 0));
  t.true(mm.load(shared + 8 * PAGE_SIZE, 10).every((b) => b === 0));
  t.deepEqual(mm.load(shared + 8 * PAGE_SIZE + 10, 10), data.subarray(8 * PAGE_SIZE + 10, 8 * PAGE_SIZE + 20));
  t.deepEqual(s.machine.verify(), []);
  t.deepEqual(s.checkCache(), []);
});

test("a large folio that cannot be split now (someone holds a reference) is zeroed past the end instead and stays whole", (t) => {
  const s = new TestFs({ maxOrder: 4 });
  const ino = s.create();
  s.write(s.open(ino), 0, pattern(16 * PAGE_SIZE, 22));
  const mapping = s.inodes.get(ino)!.mapping;
  const f = s.machine.folios;
  const folio = s.cache.lookup(mapping, 0);
  f.get(folio); // a reader's reference
  s.truncate(ino, 3 * PAGE_SIZE);
  t.is(f.order(folio), 4);
  t.is(mapping.nrPages, 16);
  t.is(s.machine.vmstat.toObject().thp_split_page_failed, 1);
  t.true(f.data(folio).subarray(f.dataOffset(folio) + 3 * PAGE_SIZE, f.dataOffset(folio) + 16 * PAGE_SIZE).every((b) => b === 0));
  f.put(folio);
  t.deepEqual(s.machine.verify(), []);
  t.deepEqual(s.checkCache(), []);
});

test("with transparent huge pages always, a private file mapping's copies stay order 0 and its file pages are never THPs", (t) => {
  const s = new TestFs({ memory: "32MiB", machine: { transparentHugepage: "always" } });
  const { ino } = fileWith(s, 4, 23);
  const mm = s.machine.mm.createAddressSpace("p");
  const a = mm.mmap({ length: 2 * 1024 * 1024, prot: RW, flags: MAP_PRIVATE, file: s.mappable(ino) });
  mm.store(a + PAGE_SIZE, Uint8Array.of(1));
  t.is(s.machine.folios.order(folioAt(s.machine, mm, a + PAGE_SIZE)), 0);
  const anon = mm.mmap({ length: 2 * 1024 * 1024, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS });
  mm.store(anon, Uint8Array.of(2));
  t.is(s.machine.folios.order(folioAt(s.machine, mm, anon)), 9, "anonymous memory next to it does get one");
  t.deepEqual(s.machine.verify(), []);
});

test("a read fault on an uncached file reads around the fault; the next one maps the cached pages around it, old; MADV_RANDOM reads one page", (t) => {
  const s = new TestFs({ raPages: 32 });
  const ino = s.create();
  const data = pattern(64 * PAGE_SIZE, 10);
  s.populate(ino, data);
  const mapping = s.inodes.get(ino)!.mapping;
  const mm = s.machine.mm.createAddressSpace("p");
  const a = mm.mmap({ length: 64 * PAGE_SIZE, prot: PROT_READ, flags: MAP_PRIVATE, file: s.mappable(ino) });
  t.deepEqual(mm.load(a + 20 * PAGE_SIZE, 8), data.subarray(20 * PAGE_SIZE, 20 * PAGE_SIZE + 8));
  t.is(s.machine.vmstat.toObject().pgmajfault, 1);
  t.is(mapping.nrPages, 32, "a window of 32 pages centred on page 20 was read");
  t.not(s.cache.lookup(mapping, 4), 0);
  t.not(s.cache.lookup(mapping, 35), 0);
  // Let the rest of the window's reads complete: fault-around maps only uptodate, unlocked folios.
  const window = [...Array(32).keys()].map((i) => s.cache.lookup(mapping, 4 + i));
  s.machine.scheduler.waitUntil(() => window.every((folio) => (s.machine.folios.flags(folio) & (FolioFlag.Uptodate | FolioFlag.Locked)) === FolioFlag.Uptodate), "read-around");
  mm.load(a + 17 * PAGE_SIZE, 1);
  const vpn = a / PAGE_SIZE;
  const mapped = [];
  for (let i = 0; i < 64; i++) if (mm.pageTables.get(vpn + i) & Pte.Present) mapped.push(i);
  const marker = [...Array(64).keys()].find((i) => s.cache.lookup(mapping, i) !== 0 && s.machine.folios.test(s.cache.lookup(mapping, i), FolioFlag.Readahead));
  t.is(marker, 28, "the window's async readahead marker");
  // The 16-page block of virtual addresses holding the fault (fault_around_bytes is aligned in the address space).
  const blockStart = vpn + 17 - ((vpn + 17) % 16) - vpn;
  const block = [...Array(16).keys()].map((i) => blockStart + i).filter((i) => i !== 28);
  t.deepEqual(mapped, block, "the 16-page block around the fault, but the marker, which a real fault must reach");
  for (const i of mapped) if (i !== 17 && i !== 20) t.is(mm.pageTables.get(vpn + i) & Pte.Accessed, 0, `page ${i} was mapped old`);
  t.is(s.machine.vmstat.toObject().pgfault, 2);
  const other = s.create();
  s.populate(other, data);
  const b = mm.mmap({ length: 64 * PAGE_SIZE, prot: PROT_READ, flags: MAP_SHARED, file: s.mappable(other) });
  mm.madvise(b, 64 * PAGE_SIZE, MADV_RANDOM);
  mm.load(b + 20 * PAGE_SIZE, 1);
  t.is(s.inodes.get(other)!.mapping.nrPages, 1, "with MADV_RANDOM only the page itself");
  mm.madvise(b + 40 * PAGE_SIZE, 8 * PAGE_SIZE, MADV_WILLNEED);
  t.is(s.inodes.get(other)!.mapping.nrPages, 9, "MADV_WILLNEED reads the range into the cache");
  t.is(mm.pageTables.get(b / PAGE_SIZE + 40), 0, "without mapping it");
  t.deepEqual(s.machine.verify(), []);
});

test("MADV_DONTNEED keeps a shared mapping's stores in the file and drops a private mapping's copies", (t) => {
  const s = new TestFs();
  const { ino, data } = fileWith(s, 2, 11);
  const mm = s.machine.mm.createAddressSpace("p");
  const shared = mm.mmap({ length: 2 * PAGE_SIZE, prot: RW, flags: MAP_SHARED, file: s.mappable(ino) });
  const priv = mm.mmap({ length: 2 * PAGE_SIZE, prot: RW, flags: MAP_PRIVATE, file: s.mappable(ino) });
  mm.store(shared, Uint8Array.of(1));
  mm.store(priv + PAGE_SIZE, Uint8Array.of(2));
  mm.madvise(shared, 2 * PAGE_SIZE, MADV_DONTNEED);
  mm.madvise(priv, 2 * PAGE_SIZE, MADV_DONTNEED);
  t.is(mm.residentPages(), 0);
  t.is(s.machine.vmstat.stat[Stat.AnonPages], 0);
  t.is(mm.load(shared, 1)[0], 1);
  t.is(mm.load(priv + PAGE_SIZE, 1)[0], data[PAGE_SIZE], "the private page reads the file again");
  t.deepEqual(s.machine.verify(), []);
});

test("mprotect on a shared mapping: read-only makes stores SIGSEGV; writable again, a store goes through page_mkwrite", (t) => {
  const s = new TestFs();
  const { ino } = fileWith(s, 1, 12);
  const mm = s.machine.mm.createAddressSpace("p");
  let mkwrites = 0;
  const cb = s.mmapCallbacks(ino);
  const file = filemapMmap(s.cache, s.open(ino), { ...cb, pageMkwrite: (folio) => (mkwrites++, cb.pageMkwrite!(folio)) });
  const a = mm.mmap({ length: PAGE_SIZE, prot: RW, flags: MAP_SHARED, file });
  mm.store(a, Uint8Array.of(1));
  t.is(mkwrites, 1);
  s.syncAll();
  mm.mprotect(a, PAGE_SIZE, PROT_READ);
  accessError(t, () => mm.store(a, Uint8Array.of(2)), "EACCES", "SIGSEGV");
  mm.mprotect(a, PAGE_SIZE, RW);
  mm.store(a, Uint8Array.of(3));
  t.is(mkwrites, 2);
  t.is(s.machine.vmstat.stat[Stat.Dirty], 1);
  t.deepEqual(s.machine.verify(), []);
});

test("a file not open for writing cannot be mapped shared and writable, now or by mprotect; privately it can", (t) => {
  const s = new TestFs();
  const { ino } = fileWith(s, 1, 13);
  const readOnly = filemapMmap(s.cache, { ...s.open(ino), flags: 0 }, s.mmapCallbacks(ino));
  t.false(readOnly.writable);
  const mm = s.machine.mm.createAddressSpace("p");
  t.is((t.throws(() => mm.mmap({ length: PAGE_SIZE, prot: RW, flags: MAP_SHARED, file: readOnly })) as unknown as { code: string }).code, "EACCES");
  const a = mm.mmap({ length: PAGE_SIZE, prot: PROT_READ, flags: MAP_SHARED, file: readOnly });
  t.is((t.throws(() => mm.mprotect(a, PAGE_SIZE, RW)) as unknown as { code: string }).code, "EACCES");
  const b = mm.mmap({ length: PAGE_SIZE, prot: RW, flags: MAP_PRIVATE, file: readOnly });
  mm.store(b, Uint8Array.of(1));
  t.deepEqual(s.machine.verify(), []);
});

test("page_mkwrite refusing (ENOSPC) and a failed read are SIGBUS with their codes; nothing is dirtied or mapped", (t) => {
  const s = new TestFs();
  const { ino } = fileWith(s, 2, 14);
  const cb = s.mmapCallbacks(ino);
  const full = filemapMmap(s.cache, s.open(ino), { ...cb, pageMkwrite: () => { throw fail("ENOSPC", "no room for this page"); } });
  const mm = s.machine.mm.createAddressSpace("p");
  const a = mm.mmap({ length: 2 * PAGE_SIZE, prot: RW, flags: MAP_SHARED, file: full });
  const e = accessError(t, () => mm.store(a, Uint8Array.of(1)), "ENOSPC", "SIGBUS");
  t.regex(e.message, /no room for this page/);
  t.is(s.machine.vmstat.stat[Stat.Dirty], 0);
  t.is(mm.pageTables.get(a / PAGE_SIZE) & Pte.Write, 0);
  mm.load(a, 1); // loads still work
  const other = s.create();
  s.populate(other, pattern(PAGE_SIZE, 15));
  const broken = filemapMmap(s.cache, s.open(other), { ...cb, read: { readFolio: (_f, folio) => finishRead(s.cache, folio, false) } });
  const b = mm.mmap({ length: PAGE_SIZE, prot: PROT_READ, flags: MAP_SHARED, file: broken });
  accessError(t, () => mm.load(b, 1), "EIO", "SIGBUS");
  t.is(mm.pageTables.get(b / PAGE_SIZE), 0);
  t.deepEqual(s.machine.verify(), []);
});

test("a page_mkwrite answering Busy (the folio was truncated under it) makes the fault retry and see the truth", (t) => {
  const s = new TestFs();
  const { ino } = fileWith(s, 2, 16);
  const cb = s.mmapCallbacks(ino);
  let calls = 0;
  const inner = filemapMmap(s.cache, s.open(ino), cb);
  const file: MappableFile = {
    ...inner,
    vmOps: {
      ...inner.vmOps,
      pageMkwrite: (vma, folio) => {
        if (calls++ === 0) {
          s.truncate(ino, PAGE_SIZE); // page 1 goes while the fault is in page_mkwrite
          return PageOpResult.Busy;
        }
        return inner.vmOps.pageMkwrite!(vma, folio);
      },
    },
  };
  const mm = s.machine.mm.createAddressSpace("p");
  const a = mm.mmap({ length: 2 * PAGE_SIZE, prot: RW, flags: MAP_SHARED, file });
  mm.load(a + PAGE_SIZE, 1);
  accessError(t, () => mm.store(a + PAGE_SIZE, Uint8Array.of(1)), "EFAULT", "SIGBUS");
  t.is(calls, 1);
  t.deepEqual(s.machine.verify(), []);
});

// ── Property: random operation sequences against a model ──

/** One operation of the property test, on mapping `m` (an index into the live mappings) or file `f`. */
type Op =
  | { op: "mmap"; f: number; pgoff: number; pages: number; shared: boolean }
  | { op: "anon"; pages: number }
  | { op: "dontneed"; m: number; page: number; pages: number }
  | { op: "munmap"; m: number; page: number; pages: number }
  | { op: "store"; m: number; page: number; at: number; len: number; seed: number }
  | { op: "load"; m: number; page: number; at: number; len: number }
  | { op: "write"; f: number; pos: number; len: number; seed: number }
  | { op: "truncate"; f: number; size: number }
  | { op: "msync"; m: number }
  | { op: "madvise"; m: number }
  | { op: "reclaim"; pages: number }
  | { op: "migrate"; from: number }
  | { op: "poison"; from: number; soft: boolean }
  | { op: "unpoison" }
  | { op: "writeback" };

const FILES = 2;
const MAX_PAGES = 6;

const mmapArb = fc.record({ op: fc.constant("mmap" as const), f: fc.nat(FILES - 1), pgoff: fc.nat(3), pages: fc.integer({ min: 1, max: MAX_PAGES }), shared: fc.boolean() });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  mmapArb,
  // Private anonymous memory, where faults get large folios (mTHP orders 2 and 3: 16 and 32 KiB).
  fc.record({ op: fc.constant("anon" as const), pages: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ op: fc.constant("anon" as const), pages: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ op: fc.constant("dontneed" as const), m: fc.nat(7), page: fc.nat(11), pages: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ op: fc.constant("munmap" as const), m: fc.nat(7), page: fc.nat(MAX_PAGES - 1), pages: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ op: fc.constant("store" as const), m: fc.nat(7), page: fc.nat(MAX_PAGES - 1), at: fc.nat(PAGE_SIZE - 1), len: fc.integer({ min: 1, max: 300 }), seed: fc.nat(1000) }),
  fc.record({ op: fc.constant("store" as const), m: fc.nat(7), page: fc.nat(MAX_PAGES - 1), at: fc.nat(PAGE_SIZE - 1), len: fc.integer({ min: 1, max: 300 }), seed: fc.nat(1000) }),
  fc.record({ op: fc.constant("load" as const), m: fc.nat(7), page: fc.nat(MAX_PAGES - 1), at: fc.nat(PAGE_SIZE - 1), len: fc.integer({ min: 1, max: 2 * PAGE_SIZE }) }),
  fc.record({ op: fc.constant("load" as const), m: fc.nat(7), page: fc.nat(MAX_PAGES - 1), at: fc.nat(PAGE_SIZE - 1), len: fc.integer({ min: 1, max: 2 * PAGE_SIZE }) }),
  fc.record({ op: fc.constant("write" as const), f: fc.nat(FILES - 1), pos: fc.nat(7 * PAGE_SIZE), len: fc.integer({ min: 1, max: 2 * PAGE_SIZE }), seed: fc.nat(1000) }),
  fc.record({ op: fc.constant("truncate" as const), f: fc.nat(FILES - 1), size: fc.nat(7 * PAGE_SIZE) }),
  fc.record({ op: fc.constant("msync" as const), m: fc.nat(7) }),
  fc.record({ op: fc.constant("madvise" as const), m: fc.nat(7) }),
  fc.record({ op: fc.constant("reclaim" as const), pages: fc.integer({ min: 1, max: 64 }) }),
  fc.constant({ op: "writeback" as const }),
  // Migrate one of the folios, chosen by its frame: file pages (mapped, dirty or not), private copies, metadata.
  fc.record({ op: fc.constant("migrate" as const), from: fc.nat(2047) }),
  // Poison a frame: soft offline of any folio (its content moves; nothing may be lost), hard
  // offline of a free frame or a clean folio (dropped and read again; nothing may be lost). Hard
  // offline of dirty pages loses data and has its own campaign (memory-failure-campaign.test.ts).
  fc.record({ op: fc.constant("poison" as const), from: fc.nat(4095), soft: fc.boolean() }),
  fc.constant({ op: "unpoison" as const }),
);

/** A model page of a mapping: which file page it shows, or its private copy. */
interface ModelMapping {
  addr: number;
  /** The file, or -1 for anonymous memory (whose pages read as zeros until stored to). */
  f: number;
  pgoff: number;
  shared: boolean;
  /** Pages still mapped (by page number in the mapping) and, for private ones, their copies. */
  pages: Map<number, Uint8Array | null>;
}

test("property: random map/unmap/store/load/write/truncate/msync/reclaim/migrate/poison sequences, with large file and anonymous folios split by partial unmaps and truncates, keep contents, dirty state and mapcounts right", (t) => {
  let runs = 0;
  const seen = { stores: 0, loads: 0, SIGSEGV: 0, SIGBUS: 0, copies: 0, reclaimed: 0, migrated: 0, migratedMapped: 0, anonLarge: 0, splits: 0, softOffline: 0, hardOffline: 0, hardOfflineMapped: 0 };
  fc.assert(
    // Every sequence starts with two mappings, so that most operations have something to act on.
    fc.property(mmapArb, mmapArb, fc.array(opArb, { minLength: 1, maxLength: 60, size: "max" }), (first, second, rest) => {
      const ops: Op[] = [first, second, ...rest];
      runs++;
      const s = new TestFs({ memory: "8MiB", maxOrder: runs % 2 === 0 ? 2 : 0, machine: { transparentHugepage: "always", transparentHugepageOrders: runs % 3 === 0 ? [2] : [2, 3] } });
      const m = s.machine;
      const mm = m.mm.createAddressSpace("model");
      const files = Array.from({ length: FILES }, () => s.create());
      // Files start with 5 and 4.5 pages, on the device and cached.
      const content: Uint8Array[] = files.map((ino, f) => {
        const data = Uint8Array.from(pattern(5 * PAGE_SIZE - f * 2048, 100 + f));
        s.write(s.open(ino), 0, data);
        return data;
      });
      s.syncAll();
      const maps: ModelMapping[] = [];
      /** Frames taken offline by "poison" ops, given back by "unpoison" (and at the end). */
      const poisoned: number[] = [];
      /** File byte at `pos`: zero past the end or where nothing was written. */
      const fileByte = (f: number, pos: number) => (pos < content[f]!.length ? content[f]![pos]! : 0);
      const pageOf = (f: number, pgoff: number) => Uint8Array.from({ length: PAGE_SIZE }, (_, i) => fileByte(f, pgoff * PAGE_SIZE + i));
      const inFile = (f: number, pgoff: number) => pgoff * PAGE_SIZE < content[f]!.length;
      const check = (what: string) => {
        const problems = [...m.verify(), ...s.checkCache()];
        if (problems.length > 0) throw new Error(`${what}: ${problems.join("; ")}`);
      };
      for (const o of ops) {
        const mp = "m" in o && maps.length > 0 ? maps[o.m % maps.length]! : undefined;
        switch (o.op) {
          case "mmap": {
            const addr = mm.mmap({ length: o.pages * PAGE_SIZE, prot: RW, flags: o.shared ? MAP_SHARED : MAP_PRIVATE, file: s.mappable(files[o.f]!), offset: o.pgoff * PAGE_SIZE });
            maps.push({ addr, f: o.f, pgoff: o.pgoff, shared: o.shared, pages: new Map(Array.from({ length: o.pages }, (_, i) => [i, null])) });
            break;
          }
          case "anon": {
            const addr = mm.mmap({ length: o.pages * PAGE_SIZE, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS });
            maps.push({ addr, f: -1, pgoff: 0, shared: false, pages: new Map(Array.from({ length: o.pages }, (_, i) => [i, null])) });
            break;
          }
          case "dontneed": {
            // Several pages, maybe into a neighbour or a hole (ENOMEM after advising the mapped parts).
            if (!mp) break;
            const start = mp.addr + o.page * PAGE_SIZE;
            const end = start + o.pages * PAGE_SIZE;
            try {
              mm.madvise(start, o.pages * PAGE_SIZE, MADV_DONTNEED);
            } catch (e) {
              if ((e as { code?: string }).code !== "ENOMEM") throw e;
            }
            for (const x of maps) {
              if (x.shared) continue;
              for (const page of x.pages.keys()) if (x.addr + page * PAGE_SIZE >= start && x.addr + page * PAGE_SIZE < end) x.pages.set(page, null);
            }
            break;
          }
          case "munmap": {
            if (!mp) break;
            const start = mp.addr + o.page * PAGE_SIZE;
            const end = start + o.pages * PAGE_SIZE;
            mm.munmap(start, o.pages * PAGE_SIZE);
            // The range may reach into a neighbouring mapping.
            for (const x of maps) for (const page of [...x.pages.keys()]) if (x.addr + page * PAGE_SIZE >= start && x.addr + page * PAGE_SIZE < end) x.pages.delete(page);
            break;
          }
          case "store":
          case "load": {
            if (!mp) break;
            const addr = mp.addr + o.page * PAGE_SIZE + o.at;
            // The address may fall in another mapping (they are laid out next to each other): find its owner.
            const owner = maps.find((x) => x.pages.has((addr - x.addr - o.at) / PAGE_SIZE));
            const at = owner ?? mp;
            const page = (addr - at.addr - o.at) / PAGE_SIZE;
            const pgoff = at.pgoff + page;
            const expectFault = owner === undefined ? "SIGSEGV" : at.f >= 0 && at.pages.get(page) === null && !inFile(at.f, pgoff) ? "SIGBUS" : null;
            // Stay within the page, and (for stores into the file's last page) within the file.
            let len = Math.min(o.len, PAGE_SIZE - o.at);
            if (o.op === "store" && at.shared && expectFault === null) len = Math.min(len, content[at.f]!.length - pgoff * PAGE_SIZE - o.at);
            if (len <= 0) break;
            if (expectFault !== null) {
              const e = (() => {
                try {
                  if (o.op === "store") mm.store(addr, pattern(len, o.seed));
                  else mm.load(addr, len);
                } catch (err) {
                  return err;
                }
                return undefined;
              })();
              if (!(e instanceof MemoryAccessError) || e.signal !== expectFault) throw new Error(`${o.op} at page ${page}: expected ${expectFault}, got ${String(e)}`);
              seen[expectFault]++;
              break;
            }
            if (o.op === "store") {
              const bytes = pattern(len, o.seed);
              mm.store(addr, bytes);
              seen.stores++;
              if (!at.shared && at.f >= 0 && at.pages.get(page) === null) seen.copies++;
              if (at.shared) {
                content[at.f]!.set(bytes, pgoff * PAGE_SIZE + o.at);
              } else {
                const copy = at.pages.get(page) ?? (at.f < 0 ? new Uint8Array(PAGE_SIZE) : pageOf(at.f, pgoff));
                copy.set(bytes, o.at);
                at.pages.set(page, copy);
              }
            } else {
              const got = mm.load(addr, len);
              seen.loads++;
              const copy = at.pages.get(page);
              for (let i = 0; i < len; i++) {
                const want = copy ? copy[o.at + i]! : at.f < 0 ? 0 : fileByte(at.f, pgoff * PAGE_SIZE + o.at + i);
                if (got[i] !== want) throw new Error(`load at page ${page} + ${o.at + i}: got ${got[i]}, want ${want}`);
              }
            }
            break;
          }
          case "write": {
            const bytes = pattern(o.len, o.seed);
            s.write(s.open(files[o.f]!), o.pos, bytes);
            if (o.pos + o.len > content[o.f]!.length) {
              const grown = new Uint8Array(o.pos + o.len);
              grown.set(content[o.f]!);
              content[o.f] = grown;
            }
            content[o.f]!.set(bytes, o.pos);
            break;
          }
          case "truncate": {
            s.truncate(files[o.f]!, o.size);
            // testfs zeroes the tail of the new last page only in the cache: zero it on the device too
            // (as fs-simple does), or growing the file later would show old bytes read back from there.
            const block = s.inodes.get(files[o.f]!)!.blocks.get(Math.floor(o.size / PAGE_SIZE));
            if (o.size % PAGE_SIZE !== 0 && block !== undefined) s.store.write(new Uint8Array(PAGE_SIZE - (o.size % PAGE_SIZE)), block * PAGE_SIZE + (o.size % PAGE_SIZE));
            const next = new Uint8Array(o.size);
            next.set(content[o.f]!.subarray(0, o.size));
            content[o.f] = next;
            // Private copies of whole pages past the new end go with them.
            for (const x of maps) {
              if (x.f !== o.f || x.shared) continue;
              for (const [page, copy] of x.pages) if (copy !== null && (x.pgoff + page) * PAGE_SIZE >= Math.ceil(o.size / PAGE_SIZE) * PAGE_SIZE) x.pages.set(page, null);
            }
            break;
          }
          case "msync":
            if (mp) for (const page of mp.pages.keys()) mm.msync(mp.addr + page * PAGE_SIZE, PAGE_SIZE, MS_SYNC);
            break;
          case "madvise": {
            if (!mp) break;
            const live = [...mp.pages.keys()];
            if (live.length === 0) break;
            mm.madvise(mp.addr + live[0]! * PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED);
            if (!mp.shared) mp.pages.set(live[0]!, null);
            break;
          }
          case "reclaim":
            seen.reclaimed += m.reclaim.shrink(o.pages);
            break;
          case "writeback":
            s.syncAll();
            break;
          case "migrate": {
            const heads: number[] = [];
            for (let p = 0; p < m.frames; p++) if (m.memmap.type[p] === MemdescType.Folio && m.folios.pfn(m.folios.fromPfn(p)) === p) heads.push(p);
            if (heads.length === 0) break;
            const pfn = heads[o.from % heads.length]!;
            const mapped = m.folios.mapcount(m.folios.fromPfn(pfn)) > 0;
            const out = m.migration.migrateFrame(pfn, { caller: PageOpCaller.Compaction });
            if (out.result === PageOpResult.Done) {
              seen.migrated++;
              if (mapped) seen.migratedMapped++;
            }
            break;
          }
          case "poison": {
            // Candidates: any folio's frame for soft offline; free frames and clean folios for hard.
            const candidates: number[] = [];
            for (let p = 1; p < m.frames; p++) {
              const type = m.memmap.type[p];
              if (m.memoryFailure.isPoisoned(p)) continue;
              if (type === MemdescType.Folio) {
                const folio = m.folios.fromPfn(p);
                if (o.soft || !m.folios.test(folio, FolioFlag.Dirty | FolioFlag.Writeback | FolioFlag.Locked)) candidates.push(p);
              } else if (!o.soft && type === MemdescType.Buddy) {
                candidates.push(p);
              }
            }
            if (candidates.length === 0) break;
            const pfn = candidates[o.from % candidates.length]!;
            const mapped = m.memmap.type[pfn] === MemdescType.Folio && m.folios.mapcount(m.folios.fromPfn(pfn)) > 0;
            const r = o.soft ? m.memoryFailure.softOffline(pfn) : m.memoryFailure.hardOffline(pfn);
            if (r.dataLost) throw new Error(`${o.soft ? "soft" : "hard"} offline of frame ${pfn} lost data: ${r.detail}`);
            if (r.action === "recovered") {
              poisoned.push(pfn);
              if (o.soft) seen.softOffline++;
              else seen.hardOffline++;
              if (!o.soft && mapped) seen.hardOfflineMapped++;
            }
            break;
          }
          case "unpoison":
            for (const pfn of poisoned.splice(0)) m.memoryFailure.unpoison(pfn);
            break;
        }
        check(JSON.stringify(o));
      }
      for (const pfn of poisoned.splice(0)) m.memoryFailure.unpoison(pfn);
      // Everything reads back: every mapped page, and each file through read() and from the device.
      for (const mp of maps) {
        for (const [page, copy] of mp.pages) {
          if (copy === null && mp.f >= 0 && !inFile(mp.f, mp.pgoff + page)) continue;
          const got = mm.load(mp.addr + page * PAGE_SIZE, PAGE_SIZE);
          const want = copy ?? (mp.f < 0 ? new Uint8Array(PAGE_SIZE) : pageOf(mp.f, mp.pgoff + page));
          if (!got.every((b, i) => b === want[i])) throw new Error(`final load of page ${page} of the mapping at ${mp.addr.toString(16)} differs`);
        }
      }
      const vm = m.vmstat.toObject();
      seen.anonLarge += vm.thp_fault_alloc!;
      seen.splits += vm.thp_split_page!;
      s.syncAll();
      t.is(m.vmstat.stat[Stat.Dirty], 0);
      for (let f = 0; f < FILES; f++) {
        const cached = s.read(s.open(files[f]!), 0, content[f]!.length + PAGE_SIZE);
        const device = s.onDevice(files[f]!);
        if (cached.length !== content[f]!.length || !cached.every((b, i) => b === content[f]![i])) throw new Error(`file ${f} reads wrong`);
        if (!device.every((b, i) => b === content[f]![i])) throw new Error(`file ${f} is wrong on the device`);
      }
      mm.destroy();
      check("after exit");
      if (m.vmstat.stat[Stat.FileMapped] !== 0 || m.vmstat.stat[Stat.AnonPages] !== 0 || m.vmstat.stat[Stat.PageTables] !== 0) throw new Error("exit left mapped, anonymous or page-table pages");
    }),
    { numRuns: 200, seed: 20260301 },
  );
  t.true(runs >= 200);
  t.log(`${runs} sequences: ${JSON.stringify(seen)}`);
  t.true(seen.stores > 0 && seen.loads > 0 && seen.SIGSEGV > 0 && seen.SIGBUS > 0 && seen.copies > 0 && seen.reclaimed > 0 && seen.migratedMapped > 0 && seen.anonLarge > 0 && seen.splits > 0 && seen.softOffline > 0 && seen.hardOfflineMapped > 0, "every kind of outcome occurred");
});
