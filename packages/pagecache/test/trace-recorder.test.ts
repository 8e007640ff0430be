/**
 * AccessTraceRecorder: one key per 4 KiB page of every folio used, misses and hits alike, in
 * access order; faults through user mappings, not the loads and stores that find their page
 * mapped; start/stop/clear; growth past the initial buffer.
 */
import test from "ava";
import { MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE } from "@folio/core";
import { AccessTraceRecorder, TRACE_INDEX_SPAN, traceKey } from "../src/index.js";
import { TestFs } from "./testfs.js";

function pages(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n * PAGE_SIZE);
  for (let i = 0; i < out.length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

const range = (owner: number, first: number, n: number): number[] => Array.from({ length: n }, (_, i) => traceKey(owner, first + i));

test("traceKey is owner id × 2^32 + index, the key reclaim gives the eviction policy", (t) => {
  t.is(TRACE_INDEX_SPAN, 2 ** 32);
  t.is(traceKey(3, 7), 3 * 2 ** 32 + 7);
  const s = new TestFs();
  const ino = s.create();
  s.populate(ino, pages(1, 1));
  const file = s.open(ino);
  s.read(file, 0, 1);
  const folio = s.cache.lookup(s.inodes.get(ino)!.mapping, 0);
  t.is(traceKey(s.cache.folios.owner(folio), s.cache.folios.index(folio)), s.machine.reclaim.keyOf(folio));
});

test("order-0 folios: each read records the pages it touches, the cold miss and the later hits alike", (t) => {
  const s = new TestFs({ maxOrder: 0 });
  const a = s.create();
  const b = s.create();
  s.populate(a, pages(8, 1));
  s.populate(b, pages(4, 2));
  const fa = s.open(a);
  const fb = s.open(b);
  const ownerA = s.inodes.get(a)!.mapping.ownerId;
  const ownerB = s.inodes.get(b)!.mapping.ownerId;
  t.not(ownerA, ownerB);
  const rec = new AccessTraceRecorder(s.cache);
  rec.start();
  s.read(fa, 0, 8 * PAGE_SIZE); // all misses
  s.read(fb, PAGE_SIZE + 100, 2 * PAGE_SIZE); // pages 1..3 of b (a range straddling three pages)
  s.read(fa, 2 * PAGE_SIZE, 1); // a hit on page 2
  rec.stop();
  t.deepEqual([...rec.trace()], [...range(ownerA, 0, 8), ...range(ownerB, 1, 3), traceKey(ownerA, 2)]);
  t.is(rec.length, 12);
});

test("writes record the pages they touch", (t) => {
  const s = new TestFs({ maxOrder: 0 });
  const ino = s.create();
  const file = s.open(ino);
  const owner = s.inodes.get(ino)!.mapping.ownerId;
  const rec = new AccessTraceRecorder(s.cache);
  rec.start();
  s.write(file, 0, pages(3, 5));
  s.write(file, PAGE_SIZE, new Uint8Array(10)); // overwrite in page 1
  rec.stop();
  t.deepEqual([...rec.trace()], [...range(owner, 0, 3), traceKey(owner, 1)]);
});

test("a large folio records every one of its pages, whichever byte of it is used", (t) => {
  const s = new TestFs({ maxOrder: 4, raPages: 64 });
  const ino = s.create();
  s.populate(ino, pages(64, 3));
  const file = s.open(ino);
  const mapping = s.inodes.get(ino)!.mapping;
  s.read(file, 0, 64 * PAGE_SIZE); // bring the file in as large folios, before recording
  const folio = s.cache.lookup(mapping, 20);
  const nr = s.cache.folios.nrPages(folio);
  const first = s.cache.folios.index(folio);
  t.true(nr > 1, `page 20 is in a folio of ${nr} pages`);
  const rec = new AccessTraceRecorder(s.cache);
  rec.start();
  s.read(file, 20 * PAGE_SIZE + 7, 1);
  rec.stop();
  t.deepEqual([...rec.trace()], range(mapping.ownerId, first, nr));
});

test("user mappings: faults are recorded, loads and stores that find their page mapped are not", (t) => {
  const s = new TestFs({ maxOrder: 0, raPages: 0 });
  const ino = s.create();
  s.populate(ino, pages(4, 7));
  const file = s.open(ino);
  const owner = s.inodes.get(ino)!.mapping.ownerId;
  s.read(file, 2 * PAGE_SIZE, PAGE_SIZE); // page 2 cached before the mapping exists
  const mm = s.machine.mm.createAddressSpace("app");
  const a = mm.mmap({ length: 4 * PAGE_SIZE, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED, file: s.mappable(ino) });
  const rec = new AccessTraceRecorder(s.cache);
  rec.start();
  mm.load(a + PAGE_SIZE, 1); // a miss: the fault reads page 1 in
  mm.load(a + PAGE_SIZE + 9, 100); // through the PTE: unseen
  mm.store(a + 3 * PAGE_SIZE, Uint8Array.of(1)); // a store with no PTE: the fault reads page 3 in
  mm.store(a + 3 * PAGE_SIZE + 1, Uint8Array.of(2)); // through the PTE: unseen
  mm.load(a + 2 * PAGE_SIZE, 1); // cached: fault-around mapped it at the first fault, so no fault at all
  rec.stop();
  t.deepEqual([...rec.trace()], [traceKey(owner, 1), traceKey(owner, 3)]);
  mm.destroy();
});

test("nothing is recorded while stopped; start resumes, clear empties, trace() is a copy", (t) => {
  const s = new TestFs({ maxOrder: 0 });
  const ino = s.create();
  s.populate(ino, pages(4, 4));
  const file = s.open(ino);
  const owner = s.inodes.get(ino)!.mapping.ownerId;
  const rec = new AccessTraceRecorder(s.cache);
  s.read(file, 0, PAGE_SIZE); // before start
  t.false(rec.recording);
  rec.start();
  t.true(rec.recording);
  t.throws(() => rec.start(), { message: /already recording/ });
  s.read(file, PAGE_SIZE, PAGE_SIZE);
  rec.stop();
  t.false(rec.recording);
  s.read(file, 2 * PAGE_SIZE, PAGE_SIZE); // while stopped
  const first = rec.trace();
  t.deepEqual([...first], [traceKey(owner, 1)]);
  rec.start();
  s.read(file, 3 * PAGE_SIZE, PAGE_SIZE);
  t.deepEqual([...rec.trace()], [traceKey(owner, 1), traceKey(owner, 3)]);
  t.deepEqual([...first], [traceKey(owner, 1)], "an earlier trace() is not changed by later recording");
  rec.clear();
  t.is(rec.length, 0);
  s.read(file, 0, PAGE_SIZE);
  rec.stop();
  t.deepEqual([...rec.trace()], [traceKey(owner, 0)]);
});

test("the buffer grows past its initial capacity and keeps every key, in order", (t) => {
  const s = new TestFs({ maxOrder: 0, raPages: 0 });
  const ino = s.create();
  s.populate(ino, pages(100, 6));
  const file = s.open(ino);
  const owner = s.inodes.get(ino)!.mapping.ownerId;
  const rec = new AccessTraceRecorder(s.cache, { initialCapacity: 1 });
  rec.start();
  for (let round = 0; round < 3; round++) for (let i = 0; i < 100; i++) s.read(file, i * PAGE_SIZE, PAGE_SIZE);
  rec.stop();
  const want = [0, 1, 2].flatMap(() => range(owner, 0, 100));
  t.deepEqual([...rec.trace()], want);
  t.throws(() => new AccessTraceRecorder(s.cache, { initialCapacity: 0 }), { message: /positive integer/ });
});
