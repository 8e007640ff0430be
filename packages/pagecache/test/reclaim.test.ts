/**
 * The page cache under memory pressure: reclaim through the public page interface, kswapd and the
 * flusher together, workingset detection through shadow entries in the mapping's index.
 */
import test from "ava";
import "@folio/policies"; // registers "lru" and the other policies, for comparison with the default
import { PAGE_SIZE } from "@folio/core";
import { TestFs } from "./testfs.js";

/** Bytes of page `i` of a file: its index and a seed, so a misplaced or stale page shows. */
function pattern(bytes: number, seed: number): Uint8Array {
  const out = new Uint8Array(bytes);
  const dv = new DataView(out.buffer);
  for (let i = 0; i + 4 <= bytes; i += 4) dv.setUint32(i, (i * 2654435761 + seed) >>> 0);
  return out;
}

test("a file four times memory is written, fsynced and read back with the right data while reclaim runs", (t) => {
  const s = new TestFs({ memory: "8MiB", deviceBlocks: 10_000 });
  const ino = s.create();
  const file = s.open(ino);
  const size = 32 * 1024 * 1024;
  const data = pattern(size, 7);
  for (let pos = 0; pos < size; pos += 256 * 1024) t.is(s.write(file, pos, data.subarray(pos, pos + 256 * 1024)), 256 * 1024);
  s.fsync(file);
  const mapping = s.inodes.get(ino)!.mapping;
  t.true(mapping.nrPages * PAGE_SIZE < size / 3, `${mapping.nrPages} pages cached of ${size / PAGE_SIZE}`);
  for (let pos = 0; pos < size; pos += 1024 * 1024) {
    const got = s.read(file, pos, 1024 * 1024);
    if (!got.every((b, i) => b === data[pos + i])) {
      t.fail(`wrong data in the MiB at ${pos}`);
      break;
    }
  }
  const vm = s.machine.vmstat.toObject();
  t.true(vm.pgsteal_kswapd! + vm.pgsteal_direct! > size / PAGE_SIZE, `reclaimed ${vm.pgsteal_kswapd} + ${vm.pgsteal_direct} pages`);
  t.true(vm.nr_reclaim_skip_dirty! > 0 || vm.nr_reclaim_skip_writeback! > 0 || vm.pgsteal_kswapd! > 0);
  t.deepEqual(s.checkCache(), []);
  t.deepEqual(s.machine.verify(), []);
});

/**
 * A hot set of a quarter of the cache, read uniformly, then a one-time sequential scan of ten
 * times the cache mixed in (eight scan pages per hot read, so that between two reads of a hot page
 * LRU sees about twice the cache of other pages): the hot set's hit ratio before and
 * during the scan.
 */
function scanOverHotSet(evictionPolicy: string): { before: number; during: number; refaults: number } {
  const s = new TestFs({ memory: "8MiB", deviceBlocks: 24_000, raPages: 0, evictionPolicy });
  const cachePages = s.machine.reclaim.counts().lruPages + s.machine.reclaim.freePages();
  const hotPages = Math.floor(cachePages / 4);
  const scanPages = 10 * cachePages;
  const hot = s.create();
  const scan = s.create();
  s.populate(hot, pattern(hotPages * PAGE_SIZE, 1));
  s.populate(scan, pattern(scanPages * PAGE_SIZE, 2));
  const hf = s.open(hot);
  const sf = s.open(scan);
  const hotMapping = s.inodes.get(hot)!.mapping;
  let x = 12345;
  const hotRead = (): boolean => {
    x = (x * 1103515245 + 12345) >>> 0;
    const i = x % hotPages;
    const hit = s.cache.lookup(hotMapping, i) !== 0;
    s.read(hf, i * PAGE_SIZE, PAGE_SIZE);
    return hit;
  };
  for (let r = 0; r < 3; r++) for (let i = 0; i < hotPages; i++) s.read(hf, i * PAGE_SIZE, PAGE_SIZE); // warm: each page used thrice
  let hits = 0;
  const n = 4 * hotPages;
  for (let i = 0; i < n; i++) {
    if (hotRead()) hits++;
    s.machine.scheduler.runDue();
  }
  const before = hits / n;
  hits = 0;
  let reads = 0;
  for (let p = 0; p < scanPages; p++) {
    s.read(sf, p * PAGE_SIZE, PAGE_SIZE);
    if (p % 8 === 7) {
      reads++;
      if (hotRead()) hits++;
    }
    s.machine.scheduler.runDue();
  }
  return { before, during: hits / reads, refaults: s.machine.vmstat.toObject().workingset_refault_file! };
}

test("the workingset survives a one-time scan of ten times the cache with the default policy, and collapses under plain LRU", (t) => {
  const linux = scanOverHotSet("linux");
  const lru = scanOverHotSet("lru");
  t.log(`hot-set hit ratio before/during the scan: linux ${(100 * linux.before).toFixed(1)}% / ${(100 * linux.during).toFixed(1)}%, lru ${(100 * lru.before).toFixed(1)}% / ${(100 * lru.during).toFixed(1)}%`);
  t.true(linux.before > 0.99 && lru.before > 0.99, "the hot set fits before the scan");
  t.true(linux.before - linux.during < 0.05, `default: the hit ratio drops ${(100 * (linux.before - linux.during)).toFixed(1)} points`);
  t.true(lru.before - lru.during > 0.5, `LRU: the hit ratio drops ${(100 * (lru.before - lru.during)).toFixed(1)} points`);
});
