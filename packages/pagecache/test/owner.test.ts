/**
 * The generic public page interface (PageCacheOwner) on page-cache folios, reached as the rest
 * of the system reaches it: from the machine's owner registry by the folio's owner id.
 */
import test from "ava";
import { FolioFlag, Gfp, MILLISECOND, PAGE_SIZE, PageOpCaller, PageOpResult, Stat, type PageOpContext, type PageOwner } from "@folio/core";
import { XaMark, type CachedFile } from "../src/index.js";
import { TestFs, pattern } from "./testfs.js";

const eq = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const RECLAIM: PageOpContext = { caller: PageOpCaller.Reclaim };
const TRUNCATE: PageOpContext = { caller: PageOpCaller.Truncate };
const COMPACTION: PageOpContext = { caller: PageOpCaller.Compaction };
const FILE_SIZE = 64 * 1024;

interface Setup {
  fs: TestFs;
  ino: number;
  file: CachedFile;
  data: Uint8Array;
  owner: PageOwner;
  /** The folio caching page `index`. */
  at(index: number): number;
  stat(s: Stat): number;
}

/**
 * A 64 KiB file written through the cache in 16 KiB writes: four order-2 folios at indices 0, 4,
 * 8 and 12, dirty; `clean` fsyncs it first.
 */
function setup(clean: boolean, latencyNs = 0): Setup {
  const fs = new TestFs({ maxOrder: 2, model: { latencyNs } });
  const ino = fs.create();
  const file = fs.open(ino);
  const data = pattern(FILE_SIZE, 11);
  for (let pos = 0; pos < FILE_SIZE; pos += 16 * 1024) fs.write(file, pos, data.subarray(pos, pos + 16 * 1024));
  if (clean) fs.fsync(file);
  const owner = fs.machine.owners.get(file.mapping.ownerId)!;
  return {
    fs, ino, file, data, owner,
    at: (index) => fs.cache.lookup(file.mapping, index),
    stat: (s) => fs.machine.vmstat.stat[s]!,
  };
}

test("the folio's owner is found from the frame alone, and describe names file, index and state", (t) => {
  const s = setup(false);
  const f = s.fs.cache.folios;
  const folio = s.at(8);
  t.is(f.order(folio), 2);
  t.is(s.fs.machine.owners.get(f.owner(folio)), s.owner, "the folio records the mapping's owner id");
  t.is(s.owner.label, `inode ${s.ino} on testfs`);
  const pfn = f.pfn(folio);
  for (let page = 0; page < 4; page++) {
    const d = s.fs.machine.describe(pfn + page);
    t.is(d.text, `page ${page} of order-2 folio at index 8 of inode ${s.ino} on testfs, uptodate, dirty, referenced, lru`);
    t.is(d.owner, `inode ${s.ino} on testfs`);
    t.is(d.folio?.index, 8);
    t.is(d.folio?.pageInFolio, page);
  }
  s.fs.fsync(s.file);
  t.is(s.fs.machine.describe(pfn + 3).text, `page 3 of order-2 folio at index 8 of inode ${s.ino} on testfs, uptodate, referenced, lru`);
  // A small folio says "folio", not "order-0 folio".
  const fs0 = new TestFs();
  const ino0 = fs0.create();
  fs0.write(fs0.open(ino0), 5 * PAGE_SIZE, pattern(PAGE_SIZE, 1));
  const small = fs0.cache.lookup(fs0.inodes.get(ino0)!.mapping, 5);
  t.is(fs0.machine.describe(fs0.cache.folios.pfn(small)).text, `page 0 of folio at index 5 of inode ${ino0} on testfs, uptodate, dirty, referenced, lru`);
});

test("release by reclaim of a clean idle folio removes it from the cache and frees it at the caller's put", (t) => {
  const s = setup(true);
  const f = s.fs.cache.folios;
  const folio = s.at(4);
  const pfn = f.pfn(folio);
  const nrPages = s.file.mapping.nrPages;
  const filePages = s.stat(Stat.FilePages);
  f.get(folio); // the caller's reference, as reclaim takes one
  t.is(s.owner.release(folio, RECLAIM), PageOpResult.Done);
  for (let i = 4; i < 8; i++) t.is(s.at(i), 0, `index ${i} is empty`);
  t.is(s.at(3), s.at(0), "the neighbours stay");
  t.not(s.at(8), 0);
  t.is(s.file.mapping.nrPages, nrPages - 4);
  t.is(s.stat(Stat.FilePages), filePages - 4);
  t.is(f.refcount(folio), 1, "only the caller's reference is left");
  t.is(f.owner(folio), 0);
  t.deepEqual(s.fs.checkCache(), []);
  f.put(folio);
  t.regex(s.fs.machine.describe(pfn).text, /^free: /);
  t.deepEqual(s.fs.machine.verify(), []);
  // The data comes back from the device.
  const reads = s.fs.device.stats.reads;
  t.true(eq(s.fs.read(s.file, 0, FILE_SIZE), s.data));
  t.true(s.fs.device.stats.reads > reads);
  t.deepEqual(s.fs.checkCache(), []);
});

test("release of a dirty folio: reclaim is refused (Busy), truncate drops the data", (t) => {
  const s = setup(false);
  const f = s.fs.cache.folios;
  const folio = s.at(8);
  f.get(folio);
  const dirty = s.stat(Stat.Dirty);
  t.is(dirty, 16);
  t.is(s.owner.release(folio, RECLAIM), PageOpResult.Busy);
  t.is(s.at(8), folio, "nothing changed");
  t.true(f.test(folio, FolioFlag.Dirty));
  t.true(s.file.mapping.index.getMark(8, XaMark.Dirty));
  t.is(s.stat(Stat.Dirty), dirty);
  t.is(f.refcount(folio), 2);
  t.deepEqual(s.fs.checkCache(), []);

  const filePages = s.stat(Stat.FilePages);
  t.is(s.owner.release(folio, TRUNCATE), PageOpResult.Done);
  t.is(s.at(8), 0);
  t.false(s.file.mapping.index.getMark(8, XaMark.Dirty));
  t.is(s.stat(Stat.Dirty), dirty - 4, "the dropped pages are no longer counted dirty");
  t.is(s.stat(Stat.FilePages), filePages - 4);
  t.false(f.test(folio, FolioFlag.Dirty));
  t.deepEqual(s.fs.checkCache(), []);
  f.put(folio);
  t.deepEqual(s.fs.machine.verify(), []);
  // The dropped data never reaches the device; the rest does.
  s.fs.fsync(s.file);
  const disk = s.fs.onDevice(s.ino);
  t.true(eq(disk.subarray(0, 8 * PAGE_SIZE), s.data.subarray(0, 8 * PAGE_SIZE)));
  t.true(eq(disk.subarray(8 * PAGE_SIZE, 12 * PAGE_SIZE), new Uint8Array(4 * PAGE_SIZE)));
  t.true(eq(disk.subarray(12 * PAGE_SIZE), s.data.subarray(12 * PAGE_SIZE)));
  t.is(s.stat(Stat.Dirty), 0);
});

test("release of a folio under writeback is Busy for every caller until the I/O ends", (t) => {
  const s = setup(false, MILLISECOND);
  const f = s.fs.cache.folios;
  s.fs.writepages(s.file.mapping, { sync: false, start: 0, end: 0xffffffff, nrToWrite: 4, reason: "test" });
  const folio = s.at(0);
  t.true(f.test(folio, FolioFlag.Writeback));
  f.get(folio);
  for (const ctx of [RECLAIM, TRUNCATE, { caller: PageOpCaller.MemoryFailure }]) {
    t.is(s.owner.release(folio, ctx), PageOpResult.Busy, `caller ${ctx.caller}`);
    t.is(s.at(0), folio);
  }
  t.is(s.stat(Stat.Writeback), 4);
  s.fs.machine.scheduler.runFor(2 * MILLISECOND);
  t.false(f.test(folio, FolioFlag.Writeback));
  t.is(s.owner.release(folio, RECLAIM), PageOpResult.Done);
  t.is(s.at(0), 0);
  f.put(folio);
  t.deepEqual(s.fs.checkCache(), []);
  t.deepEqual(s.fs.machine.verify(), []);
});

test("release and migrate run with the folio locked by the caller, who keeps the lock", (t) => {
  const s = setup(true);
  const f = s.fs.cache.folios;
  const folio = s.at(12);
  f.get(folio);
  t.true(s.fs.cache.tryLock(folio), "the caller takes the lock, as reclaim does");
  t.is(s.owner.release(folio, RECLAIM), PageOpResult.Done);
  t.is(s.at(12), 0);
  t.true(f.test(folio, FolioFlag.Locked), "the owner did not drop the caller's lock");
  s.fs.cache.unlock(folio);
  f.put(folio);
  t.is(s.file.mapping.nrPages, 12);
  t.deepEqual(s.fs.checkCache(), []);
  t.deepEqual(s.fs.machine.verify(), []);
});

test("release of a pinned folio: reclaim gets Pinned; truncate lets go and the pin keeps the memory", (t) => {
  const s = setup(true);
  const f = s.fs.cache.folios;
  const folio = s.at(4);
  const pfn = f.pfn(folio);
  f.get(folio); // the caller
  f.get(folio); // a pin (DMA, get_user_pages)
  t.is(s.owner.release(folio, RECLAIM), PageOpResult.Pinned);
  t.is(s.at(4), folio);
  t.is(f.refcount(folio), 3);
  t.is(s.file.mapping.nrPages, 16);
  t.is(s.owner.release(folio, TRUNCATE), PageOpResult.Done);
  t.is(s.at(4), 0);
  t.is(f.refcount(folio), 2);
  f.put(folio); // the caller
  t.regex(s.fs.machine.describe(pfn).text, /^page 0 of order-2 folio \(no owner\)/, "the pin still holds it");
  f.put(folio); // the pin
  t.regex(s.fs.machine.describe(pfn).text, /^free: /);
  t.deepEqual(s.fs.checkCache(), []);
  t.deepEqual(s.fs.machine.verify(), []);
});

test("migrate moves a dirty large folio to the caller's folio: same data, same index, marks carried, src freed", (t) => {
  const s = setup(false);
  const f = s.fs.cache.folios;
  const src = s.at(4);
  const srcPfn = f.pfn(src);
  f.get(src); // the caller's reference
  const dst = f.alloc(2, Gfp.Movable);
  const before = { dirty: s.stat(Stat.Dirty), file: s.stat(Stat.FilePages), nr: s.file.mapping.nrPages };
  t.is(s.owner.migrate(src, dst, COMPACTION), PageOpResult.Done);
  for (let i = 4; i < 8; i++) t.is(s.at(i), dst, `index ${i} holds dst`);
  t.true(s.file.mapping.index.getMark(4, XaMark.Dirty), "the dirty mark stays on the index");
  t.true(f.test(dst, FolioFlag.Dirty) && f.test(dst, FolioFlag.Uptodate));
  t.false(f.test(dst, FolioFlag.Locked));
  t.is(f.index(dst), 4);
  t.is(s.fs.machine.owners.get(f.owner(dst)), s.owner);
  t.is(f.refcount(dst), 1, "dst's reference became the cache's");
  t.is(f.refcount(src), 1, "only the caller's reference on src is left");
  t.false(f.test(src, FolioFlag.Dirty));
  t.deepEqual({ dirty: s.stat(Stat.Dirty), file: s.stat(Stat.FilePages), nr: s.file.mapping.nrPages }, before);
  t.is(s.fs.machine.describe(f.pfn(dst) + 1).text, `page 1 of order-2 folio at index 4 of inode ${s.ino} on testfs, uptodate, dirty, referenced, lru`);
  t.deepEqual(s.fs.checkCache(), []);
  f.put(src);
  t.regex(s.fs.machine.describe(srcPfn).text, /^free: /);
  t.deepEqual(s.fs.machine.verify(), []);
  // Reads see the same bytes, from dst, without the device.
  const reads = s.fs.device.stats.reads;
  t.true(eq(s.fs.read(s.file, 0, FILE_SIZE), s.data));
  t.is(s.fs.device.stats.reads, reads);
  // The dirty state moved too: fsync writes dst's data.
  s.fs.fsync(s.file);
  t.true(s.fs.writeLog.includes(4));
  t.true(eq(s.fs.onDevice(s.ino), s.data));
  t.is(s.stat(Stat.Dirty), 0);
  t.deepEqual(s.fs.checkCache(), []);
});

test("migrate to a folio of another order fails and changes nothing", (t) => {
  const s = setup(false);
  const f = s.fs.cache.folios;
  const src = s.at(8);
  f.get(src);
  for (const order of [0, 1, 3]) {
    const dst = f.alloc(order, Gfp.Movable);
    t.is(s.owner.migrate(src, dst, COMPACTION), PageOpResult.Failed, `order ${order}`);
    t.is(f.refcount(dst), 1);
    t.is(f.owner(dst), 0);
    t.false(f.test(dst, FolioFlag.Dirty));
    f.put(dst);
  }
  for (let i = 8; i < 12; i++) t.is(s.at(i), src);
  t.is(f.refcount(src), 2);
  t.true(f.test(src, FolioFlag.Dirty));
  t.true(s.file.mapping.index.getMark(8, XaMark.Dirty));
  f.put(src);
  t.deepEqual(s.fs.checkCache(), []);
  t.deepEqual(s.fs.machine.verify(), []);
  s.fs.fsync(s.file);
  t.true(eq(s.fs.onDevice(s.ino), s.data));
});

test("migrate of a pinned folio is Pinned, of one under writeback Busy, and changes nothing", (t) => {
  const s = setup(false, MILLISECOND);
  const f = s.fs.cache.folios;
  const src = s.at(0);
  f.get(src);
  f.get(src); // a pin
  const dst = f.alloc(2, Gfp.Movable);
  t.is(s.owner.migrate(src, dst, COMPACTION), PageOpResult.Pinned);
  t.is(s.at(0), src);
  t.is(f.refcount(src), 3);
  t.is(f.refcount(dst), 1);
  t.is(f.owner(dst), 0);
  f.put(src); // unpin
  // Under writeback: Busy.
  s.fs.writepages(s.file.mapping, { sync: false, start: 0, end: 3, nrToWrite: 4, reason: "test" });
  t.true(f.test(src, FolioFlag.Writeback));
  t.is(s.owner.migrate(src, dst, COMPACTION), PageOpResult.Busy);
  t.is(s.at(0), src);
  t.is(f.refcount(dst), 1);
  s.fs.machine.scheduler.runFor(2 * MILLISECOND);
  // Idle again: now it moves.
  t.is(s.owner.migrate(src, dst, COMPACTION), PageOpResult.Done);
  t.is(s.at(0), dst);
  f.put(src);
  t.deepEqual(s.fs.checkCache(), []);
  t.deepEqual(s.fs.machine.verify(), []);
  t.true(eq(s.fs.read(s.file, 0, FILE_SIZE), s.data));
});

test("dirty through the interface marks the folio dirty, and fsync then writes it to the device", (t) => {
  const s = setup(true);
  const f = s.fs.cache.folios;
  const folio = s.at(12);
  // A store through a user mapping changes the bytes behind the cache's back.
  const at = f.dataOffset(folio) + PAGE_SIZE + 7;
  f.data(folio)[at] = s.data[13 * PAGE_SIZE + 7]! ^ 0xff;
  const expected = s.data.slice();
  expected[13 * PAGE_SIZE + 7]! ^= 0xff;
  s.fs.fsync(s.file);
  t.true(eq(s.fs.onDevice(s.ino), s.data), "unknown to the cache, the change is not written");
  t.false(s.fs.cache.dirtyMappings.has(s.file.mapping));

  f.get(folio);
  t.is(s.owner.dirty(folio, { caller: PageOpCaller.UserMapping }), PageOpResult.Done);
  t.true(f.test(folio, FolioFlag.Dirty));
  t.true(s.file.mapping.index.getMark(12, XaMark.Dirty));
  t.is(s.stat(Stat.Dirty), 4);
  t.true(s.fs.cache.dirtyMappings.has(s.file.mapping));
  t.is(s.owner.dirty(folio, { caller: PageOpCaller.UserMapping }), PageOpResult.Done);
  t.is(s.stat(Stat.Dirty), 4, "dirtying twice counts once");
  f.put(folio);
  t.deepEqual(s.fs.checkCache(), []);
  const log = s.fs.writeLog.length;
  s.fs.fsync(s.file);
  t.deepEqual(s.fs.writeLog.slice(log), [12]);
  t.true(eq(s.fs.onDevice(s.ino), expected));
  t.is(s.stat(Stat.Dirty), 0);
  t.false(s.fs.cache.dirtyMappings.has(s.file.mapping));
  t.deepEqual(s.fs.checkCache(), []);
});
