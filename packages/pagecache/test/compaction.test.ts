/**
 * Compaction of page-cache folios: a file whose folios lie scattered between the holes another
 * file left is compacted while part of it is mapped into an address space, part dirty (through
 * write() and through stores to the mapping) and part under writeback. Every byte reads back the
 * same through read() and through the mapping, the dirty pages still reach the device, and the
 * cache's counters and marks stay right.
 */
import test from "ava";
import { FolioFlag, Gfp, MAP_SHARED, MS_SYNC, PAGE_SIZE, PROT_READ, PROT_WRITE, Pte, Stat, ptePfn } from "@folio/core";
import { wbcAll } from "../src/index.js";
import { TestFs, pattern } from "./testfs.js";

const PAGES = 1500;

/** Byte-for-byte equality of large arrays (t.deepEqual would diff megabytes for a report). */
function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

test("page-cache folios migrate under compaction, mapped, dirty or clean; the file reads back intact", (t) => {
  const s = new TestFs({ memory: "32MiB", deviceBlocks: 2 * PAGES + 16 });
  const m = s.machine;
  // Two files written page by page in turn, so that their folios interleave in physical memory.
  const a = s.create();
  const b = s.create();
  const fa = s.open(a);
  const fb = s.open(b);
  const data = pattern(PAGES * PAGE_SIZE, 3);
  for (let i = 0; i < PAGES; i++) {
    s.write(fa, i * PAGE_SIZE, data.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE));
    s.write(fb, i * PAGE_SIZE, pattern(PAGE_SIZE, i));
  }
  s.syncAll();
  s.truncate(b, 0); // leaves a hole between every two pages of a
  const mappingA = s.inodes.get(a)!.mapping;

  // The first third is mapped shared; some of it stored to through the mapping.
  const mm = m.mm.createAddressSpace("p");
  const addr = mm.mmap({ length: (PAGES / 3) * PAGE_SIZE, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED, file: s.mappable(a) });
  t.true(same(mm.load(addr, (PAGES / 3) * PAGE_SIZE), data.subarray(0, (PAGES / 3) * PAGE_SIZE)));
  for (let i = 0; i < PAGES / 3; i += 7) {
    const bytes = Uint8Array.of(i & 0xff, 0xaa, 0x55);
    mm.store(addr + i * PAGE_SIZE + 100, bytes);
    data.set(bytes, i * PAGE_SIZE + 100);
  }
  // Pages dirtied through write(), in and beyond the mapped part; the first of them then put under
  // writeback (they were written first, so they lie low in memory, where the migrate scanner goes).
  for (let i = 100; i < 700; i += 5) {
    const bytes = Uint8Array.of(1, 2, 3, 4);
    s.write(fa, i * PAGE_SIZE + 7, bytes);
    data.set(bytes, i * PAGE_SIZE + 7);
  }
  s.writepages(mappingA, { ...wbcAll(false, "test"), start: 100, end: 250 });
  const underWriteback = m.vmstat.stat[Stat.Writeback]!;
  t.true(underWriteback > 0);
  const writeback = Array.from({ length: 150 }, (_, k) => s.cache.lookup(mappingA, 100 + k)).filter((f) => m.folios.test(f, FolioFlag.Writeback));
  const writebackPfns = writeback.map((f) => m.folios.pfn(f));
  const dirtyBefore = m.vmstat.stat[Stat.Dirty]!;
  t.true(dirtyBefore > 0);

  const mappedBefore = Array.from({ length: PAGES / 3 }, (_, i) => ptePfn(mm.pageTables.get(addr / PAGE_SIZE + i)));
  const scoreBefore = m.compaction.fragmentationScore();
  const r = m.compaction.compact({ order: -1 });
  t.log(`compaction: ${r.status}; ${r.migrated} pages moved, ${r.failed} stayed (${underWriteback} under writeback); score ${scoreBefore} -> ${m.compaction.fragmentationScore()}`);
  t.true(r.migrated > PAGES / 4, `${r.migrated} pages moved`);
  t.true(r.failed > 0, "folios under writeback stayed");
  t.deepEqual(writeback.map((f) => m.folios.pfn(f)), writebackPfns, "folios under writeback did not move");
  s.machine.scheduler.waitUntil(() => m.vmstat.stat[Stat.Writeback] === 0, "writeback to finish");
  t.true(m.compaction.fragmentationScore() < scoreBefore);
  t.is(m.vmstat.stat[Stat.Dirty], dirtyBefore, "dirty pages stayed dirty on their new frames");

  let remapped = 0;
  for (let i = 0; i < PAGES / 3; i++) {
    const pte = mm.pageTables.get(addr / PAGE_SIZE + i);
    if (!(pte & Pte.Present)) continue;
    if (ptePfn(pte) !== mappedBefore[i]) remapped++;
    t.is(m.folios.fromPfn(ptePfn(pte)), s.cache.lookup(mappingA, i), `the PTE of page ${i} maps the cached folio`);
  }
  t.true(remapped > 0, "mapped pages moved and their PTEs followed");
  t.true(same(mm.load(addr, (PAGES / 3) * PAGE_SIZE), data.subarray(0, (PAGES / 3) * PAGE_SIZE)), "the mapping reads the file");
  t.true(same(s.read(s.open(a), 0, PAGES * PAGE_SIZE), data), "read() returns every byte");
  mm.store(addr + 5, Uint8Array.of(77));
  data[5] = 77;
  t.deepEqual(s.checkCache(), []);
  t.deepEqual(m.verify(), []);

  // Writeback of the moved dirty folios reaches the device.
  mm.msync(addr, (PAGES / 3) * PAGE_SIZE, MS_SYNC);
  s.fsync(s.open(a));
  t.true(same(s.onDevice(a), data), "the device holds every byte");
  t.deepEqual(s.checkCache(), []);
  mm.destroy();
  t.deepEqual(m.verify(), []);
});

test("direct compaction moves page-cache folios to serve a huge-page allocation, before reclaim", (t) => {
  const s = new TestFs({ memory: "16MiB", deviceBlocks: 8192 });
  const m = s.machine;
  const a = s.create();
  const b = s.create();
  // Two files in turn until memory is nearly full, then one of them goes: holes everywhere.
  let pages = 0;
  for (; m.vmstat.stat[Stat.FreePages]! + m.vmstat.stat[Stat.PerCpuPages]! > m.pages.watermarks.low + 200; pages++) {
    s.write(s.open(a), pages * PAGE_SIZE, pattern(PAGE_SIZE, pages));
    s.write(s.open(b), pages * PAGE_SIZE, pattern(PAGE_SIZE, pages + 100_000));
  }
  s.syncAll();
  s.truncate(b, 0);
  t.true(m.pages.largestFreeOrder() < 9, `largest free block: order ${m.pages.largestFreeOrder()}`);
  const before = m.vmstat.toObject();
  const folio = m.folios.alloc(9, Gfp.Movable);
  const after = m.vmstat.toObject();
  t.true(after.compact_stall! > before.compact_stall!);
  t.true(after.compact_success! > before.compact_success!);
  t.true(after.pgmigrate_success! > before.pgmigrate_success!);
  t.is(after.pgsteal_direct, before.pgsteal_direct, "compaction served it before reclaim had to");
  m.folios.put(folio);
  const expected = new Uint8Array(pages * PAGE_SIZE);
  for (let i = 0; i < pages; i++) expected.set(pattern(PAGE_SIZE, i), i * PAGE_SIZE);
  t.true(same(s.read(s.open(a), 0, pages * PAGE_SIZE), expected));
  t.deepEqual(s.checkCache(), []);
  t.deepEqual(m.verify(), []);
});
