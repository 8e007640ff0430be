/**
 * Memory failure of page-cache folios: a clean page is dropped and read again; a dirty one is lost
 * and says so — EIO to reads of the page and, once, to fsync, until it is overwritten or
 * truncated; mapped pages are SIGBUS; a large folio loses only its bad page; soft offline keeps
 * everything, dirtiness included.
 */
import test, { type ExecutionContext } from "ava";
import {
  FolioFlag, MAP_PRIVATE, MAP_SHARED, MemdescType, MemoryAccessError, PAGE_SIZE, PROT_READ, PROT_WRITE, Pte, Stat, isFolioError, isPoisonPte, ptePfn,
  type ErrorCode,
} from "@folio/core";
import { invalidateMappingPages, punchHole } from "../src/index.js";
import { TestFs, pattern } from "./testfs.js";

const RW = PROT_READ | PROT_WRITE;

/** A file of `pages` pages with pattern `seed`, written and synced, so it is clean in the cache. */
function cleanFile(s: TestFs, pages: number, seed: number): { ino: number; data: Uint8Array } {
  const ino = s.create();
  const data = pattern(pages * PAGE_SIZE, seed);
  s.write(s.open(ino), 0, data);
  s.syncAll();
  return { ino, data };
}

/** The frame holding page `index` of file `ino` in the cache. */
function frameOf(s: TestFs, ino: number, index: number): number {
  const folio = s.cache.lookup(s.inodes.get(ino)!.mapping, index);
  if (folio === 0) throw new Error(`page ${index} is not cached`);
  return s.machine.folios.pfn(folio) + (index - s.machine.folios.index(folio));
}

function throwsCode(t: ExecutionContext, fn: () => unknown, code: ErrorCode, re?: RegExp): void {
  const e = t.throws(fn);
  t.true(isFolioError(e, code), `expected ${code}, got ${String(e)}`);
  if (re) t.regex((e as Error).message, re);
}

function healthy(t: ExecutionContext, s: TestFs): void {
  t.deepEqual(s.machine.verify(), []);
  t.deepEqual(s.checkCache(), []);
}

test("a clean cached page is dropped and read again from the disk", (t) => {
  const s = new TestFs();
  const { ino, data } = cleanFile(s, 4, 1);
  const file = s.open(ino);
  const pfn = frameOf(s, ino, 2);
  const r = s.machine.memoryFailure.hardOffline(pfn);
  t.like(r, { action: "recovered", dataLost: false, index: 2, owner: `inode ${ino} on testfs` });
  t.is(s.cache.lookup(s.inodes.get(ino)!.mapping, 2), 0, "gone from the cache");
  t.is(s.machine.memmap.type[pfn], MemdescType.Offline);
  t.deepEqual(s.read(file, 0, 4 * PAGE_SIZE), data);
  s.fsync(file); // no error: nothing was lost
  healthy(t, s);
});

test("a dirty page is lost: reads of it are EIO (and only of it), fsync says EIO once, overwriting the whole page clears it", (t) => {
  const s = new TestFs();
  const { ino, data } = cleanFile(s, 4, 2);
  const file = s.open(ino);
  const other = s.open(ino);
  s.write(file, PAGE_SIZE + 100, pattern(200, 9)); // page 1 dirty
  const r = s.machine.memoryFailure.hardOffline(frameOf(s, ino, 1));
  t.like(r, { action: "recovered", dataLost: true, index: 1 });
  const mapping = s.inodes.get(ino)!.mapping;
  t.deepEqual(mapping.lost.ranges(), [[1, 2]]);
  throwsCode(t, () => s.read(file, PAGE_SIZE, 10), "EIO", /page 1 of inode \d+ on testfs was lost to a memory error/);
  t.deepEqual(s.read(file, 0, 4 * PAGE_SIZE), data.subarray(0, PAGE_SIZE), "a read across it stops short before it");
  t.deepEqual(s.read(file, 0, PAGE_SIZE), data.subarray(0, PAGE_SIZE));
  t.deepEqual(s.read(file, 2 * PAGE_SIZE, 2 * PAGE_SIZE), data.subarray(2 * PAGE_SIZE));
  // fsync reports the loss once to each open file.
  throwsCode(t, () => s.fsync(file), "EIO");
  s.fsync(file);
  throwsCode(t, () => s.fsync(other), "EIO");
  throwsCode(t, () => s.read(file, PAGE_SIZE, 1), "EIO", undefined); // still lost after fsync
  // A partial overwrite leaves the page lost; a whole one replaces it.
  s.write(file, PAGE_SIZE + 10, Uint8Array.of(1, 2, 3));
  throwsCode(t, () => s.read(file, PAGE_SIZE, 1), "EIO");
  const fresh = pattern(PAGE_SIZE, 77);
  s.write(file, PAGE_SIZE, fresh);
  t.is(mapping.lost.count, 0);
  t.deepEqual(s.read(file, PAGE_SIZE, PAGE_SIZE), fresh);
  s.fsync(file);
  healthy(t, s);
});

test("truncate and hole punch clear lost pages; the last page counts as overwritten when a write reaches end of file", (t) => {
  const s = new TestFs();
  const { ino } = cleanFile(s, 6, 3);
  const file = s.open(ino);
  const mapping = s.inodes.get(ino)!.mapping;
  for (const i of [1, 3, 5]) {
    s.write(file, i * PAGE_SIZE, Uint8Array.of(i));
    s.machine.memoryFailure.hardOffline(frameOf(s, ino, i));
  }
  t.deepEqual(mapping.lost.ranges(), [[1, 2], [3, 4], [5, 6]]);
  punchHole(s.cache, mapping, 3 * PAGE_SIZE, PAGE_SIZE);
  t.deepEqual(mapping.lost.ranges(), [[1, 2], [5, 6]]);
  s.truncate(ino, 4 * PAGE_SIZE + 10);
  t.deepEqual(mapping.lost.ranges(), [[1, 2]], "page 5 is past the new end");
  // Page 4 is the last, partial page: a write from its start to end of file replaces it all.
  s.write(file, 4 * PAGE_SIZE, Uint8Array.of(4));
  s.machine.memoryFailure.hardOffline(frameOf(s, ino, 4));
  t.deepEqual(mapping.lost.ranges(), [[1, 2], [4, 5]]);
  s.write(file, 4 * PAGE_SIZE, pattern(10, 5));
  t.deepEqual(mapping.lost.ranges(), [[1, 2]]);
  t.deepEqual(s.read(file, 4 * PAGE_SIZE, 100), pattern(10, 5));
  s.truncate(ino, 0);
  t.is(mapping.lost.count, 0);
  healthy(t, s);
});

test("mapped pages: a dirty one is SIGBUS (EHWPOISON) at its address, also through a new mapping; a clean one is faulted in again", (t) => {
  const s = new TestFs();
  const { ino, data } = cleanFile(s, 4, 4);
  const mm = s.machine.mm.createAddressSpace("p");
  const a = mm.mmap({ length: 4 * PAGE_SIZE, prot: RW, flags: MAP_SHARED, file: s.mappable(ino) });
  t.deepEqual(mm.load(a, 4 * PAGE_SIZE), data);
  mm.store(a + 2 * PAGE_SIZE + 5, Uint8Array.of(42));
  const dirtyPfn = ptePfn(mm.pageTables.get(a / PAGE_SIZE + 2));
  const cleanPfn = ptePfn(mm.pageTables.get(a / PAGE_SIZE + 3));
  t.like(s.machine.memoryFailure.hardOffline(dirtyPfn), { action: "recovered", dataLost: true, index: 2 });
  t.like(s.machine.memoryFailure.hardOffline(cleanPfn), { action: "recovered", dataLost: false, index: 3 });
  t.true(isPoisonPte(mm.pageTables.get(a / PAGE_SIZE + 2)));
  t.is(mm.pageTables.get(a / PAGE_SIZE + 3), 0);
  const addr = a + 2 * PAGE_SIZE + 7;
  const e = t.throws(() => mm.load(addr, 1)) as MemoryAccessError;
  t.true(e instanceof MemoryAccessError);
  t.is(e.code, "EHWPOISON");
  t.is(e.signal, "SIGBUS");
  t.is(e.address, addr);
  t.deepEqual(mm.load(a + 3 * PAGE_SIZE, PAGE_SIZE), data.subarray(3 * PAGE_SIZE), "the clean page comes back from the disk");
  // A process mapping the file afterwards finds the page lost too.
  const mm2 = s.machine.mm.createAddressSpace("q");
  const b = mm2.mmap({ length: 4 * PAGE_SIZE, prot: PROT_READ, flags: MAP_PRIVATE, file: s.mappable(ino) });
  const e2 = t.throws(() => mm2.load(b + 2 * PAGE_SIZE, 1)) as MemoryAccessError;
  t.is(e2.code, "EHWPOISON");
  t.is(e2.signal, "SIGBUS");
  t.deepEqual(mm2.load(b + PAGE_SIZE, PAGE_SIZE), data.subarray(PAGE_SIZE, 2 * PAGE_SIZE));
  healthy(t, s);
  // Truncating the page away clears the marker and the record; growing again gives zeros.
  s.truncate(ino, 2 * PAGE_SIZE);
  t.is(mm.pageTables.get(a / PAGE_SIZE + 2), 0);
  s.write(s.open(ino), 4 * PAGE_SIZE - 1, Uint8Array.of(1));
  t.deepEqual(mm.load(a + 2 * PAGE_SIZE, 4), new Uint8Array(4));
  mm.destroy();
  mm2.destroy();
  healthy(t, s);
});

test("a large folio is split: only the bad page is lost, its neighbours stay dirty and reach the disk", (t) => {
  const s = new TestFs({ maxOrder: 2 });
  const ino = s.create();
  const file = s.open(ino);
  const data = pattern(8 * PAGE_SIZE, 5);
  s.write(file, 0, data);
  const mapping = s.inodes.get(ino)!.mapping;
  const f = s.machine.folios;
  const big = s.cache.lookup(mapping, 4);
  t.is(f.order(big), 2, "the write made order-2 folios");
  const r = s.machine.memoryFailure.hardOffline(frameOf(s, ino, 6));
  t.like(r, { action: "recovered", dataLost: true, index: 6 });
  t.is(s.machine.vmstat.toObject().thp_split_page, 1);
  for (const i of [4, 5, 7]) {
    const piece = s.cache.lookup(mapping, i);
    t.is(f.order(piece), 0, `page ${i} is a folio of its own`);
    t.true(f.test(piece, FolioFlag.Dirty), `page ${i} is still dirty`);
    t.false(f.test(piece, FolioFlag.HasHwPoisoned));
  }
  t.deepEqual(mapping.lost.ranges(), [[6, 7]]);
  healthy(t, s);
  throwsCode(t, () => s.fsync(file), "EIO");
  invalidateMappingPages(s.cache, mapping);
  t.is(mapping.nrPages, 0);
  t.deepEqual(s.read(file, 0, 6 * PAGE_SIZE), data.subarray(0, 6 * PAGE_SIZE), "pages 0..5 reached the disk");
  t.deepEqual(s.read(file, 7 * PAGE_SIZE, PAGE_SIZE), data.subarray(7 * PAGE_SIZE));
  throwsCode(t, () => s.read(file, 6 * PAGE_SIZE, 1), "EIO");
  healthy(t, s);
});

test("a clean large folio mapped in several pages is split and only the bad page refaults", (t) => {
  const s = new TestFs({ maxOrder: 2 });
  const { ino, data } = cleanFile(s, 8, 6);
  invalidateMappingPages(s.cache, s.inodes.get(ino)!.mapping);
  const file = s.open(ino);
  s.read(file, 0, 8 * PAGE_SIZE); // readahead brings large folios
  const mm = s.machine.mm.createAddressSpace("p");
  const a = mm.mmap({ length: 8 * PAGE_SIZE, prot: PROT_READ, flags: MAP_SHARED, file: s.mappable(ino) });
  t.deepEqual(mm.load(a, 8 * PAGE_SIZE), data);
  const f = s.machine.folios;
  const folio = f.fromPfn(ptePfn(mm.pageTables.get(a / PAGE_SIZE + 1)));
  t.true(f.order(folio) > 0);
  const bad = ptePfn(mm.pageTables.get(a / PAGE_SIZE + 1));
  t.like(s.machine.memoryFailure.hardOffline(bad), { action: "recovered", dataLost: false });
  t.is(mm.pageTables.get(a / PAGE_SIZE + 1), 0);
  t.true((mm.pageTables.get(a / PAGE_SIZE) & Pte.Present) !== 0, "its neighbours stay mapped");
  t.deepEqual(mm.load(a, 8 * PAGE_SIZE), data);
  mm.destroy();
  healthy(t, s);
});

test("soft offline of a dirty mapped page keeps its data and its dirtiness", (t) => {
  const s = new TestFs();
  const { ino, data } = cleanFile(s, 2, 7);
  const mm = s.machine.mm.createAddressSpace("p");
  const a = mm.mmap({ length: 2 * PAGE_SIZE, prot: RW, flags: MAP_SHARED, file: s.mappable(ino) });
  mm.store(a + PAGE_SIZE + 1, Uint8Array.of(9, 9));
  const want = Uint8Array.from(data);
  want.set([9, 9], PAGE_SIZE + 1);
  const pfn = ptePfn(mm.pageTables.get(a / PAGE_SIZE + 1));
  const r = s.machine.memoryFailure.softOffline(pfn);
  t.like(r, { kind: "soft", action: "recovered", dataLost: false, index: 1 });
  const now = s.cache.lookup(s.inodes.get(ino)!.mapping, 1);
  t.not(s.machine.folios.pfn(now), pfn);
  t.true(s.machine.folios.test(now, FolioFlag.Dirty), "still dirty");
  t.is(ptePfn(mm.pageTables.get(a / PAGE_SIZE + 1)), s.machine.folios.pfn(now), "the mapping follows");
  t.deepEqual(mm.load(a, 2 * PAGE_SIZE), want);
  s.fsync(s.open(ino));
  t.deepEqual(s.onDevice(ino), want, "and the data reaches the disk");
  t.is(s.machine.memmap.type[pfn], MemdescType.Offline);
  mm.destroy();
  healthy(t, s);
});

test("a page under writeback is delayed; the next read waits for the write, then memory failure drops the page and the read goes to the disk", (t) => {
  const s = new TestFs({ model: { latencyNs: 5_000_000 } });
  const { ino, data } = cleanFile(s, 2, 8);
  const file = s.open(ino);
  s.write(file, 0, pattern(PAGE_SIZE, 80));
  const want = Uint8Array.from(data);
  want.set(pattern(PAGE_SIZE, 80), 0);
  s.writepages(s.inodes.get(ino)!.mapping, { sync: false, start: 0, end: 0, nrToWrite: 1, reason: "test" });
  const folio = s.cache.lookup(s.inodes.get(ino)!.mapping, 0);
  t.true(s.machine.folios.test(folio, FolioFlag.Writeback));
  const pfn = s.machine.folios.pfn(folio);
  t.like(s.machine.memoryFailure.hardOffline(pfn), { action: "delayed" });
  t.deepEqual(s.read(file, 0, 2 * PAGE_SIZE), want, "nothing was lost: the write carried the data");
  t.deepEqual(s.machine.memoryFailure.pendingFrames(), []);
  t.is(s.machine.memmap.type[pfn], MemdescType.Offline);
  s.fsync(file);
  t.is(s.machine.vmstat.stat[Stat.HwPoisoned], 1);
  healthy(t, s);
});
