/**
 * A memory-failure campaign: thousands of hard and soft offline injections at random frames —
 * cached file pages, anonymous pages, and anything else in memory — interleaved with unpoison, over
 * a workload of reads, writes, truncates, fsyncs, background writeback, cache drops and loads and
 * stores through shared file mappings and anonymous memory, all checked against a model.
 *
 * The promise checked: no silent corruption. Every read returns the right data or EIO (only for
 * pages the model knows are lost); every load and store through a mapping sees the right data or
 * SIGBUS with EHWPOISON (only for lost pages, or where a poison marker may remain); every dirty page
 * lost is reported by the next fsync of its file, and no fsync reports an error nothing explains;
 * `machine.verify()` and the page-cache recount stay clean throughout.
 */
import test, { type ExecutionContext } from "ava";
import {
  MADV_DONTNEED, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MemoryAccessError, PAGE_SIZE, PROT_READ, PROT_WRITE, Rng, isFolioError,
  type AddressSpace, type MemoryFailureResult,
} from "@folio/core";
import { invalidateMappingPages, wbcAll, type CachedFile, type Mapping } from "../src/index.js";
import { TestFs } from "./testfs.js";

const RW = PROT_READ | PROT_WRITE;
const MAX_PAGES = 96;
const ANON_PAGES = 64;
const INJECTIONS = 10_000;
/** Poisoned frames kept at most at once; beyond, one is unpoisoned per injection, so memory lasts. */
const MAX_POISONED = 96;

interface FileModel {
  ino: number;
  mapping: Mapping;
  file: CachedFile;
  /** Expected contents (up to MAX_PAGES pages; bytes past `size` are zero). */
  data: Uint8Array;
  size: number;
  /** Pages whose dirty data was lost: reads must be EIO, accesses SIGBUS. */
  lost: Set<number>;
  /** Pages of the shared mapping that may still hold a poison marker (lost while it may have been mapped). */
  marker: Set<number>;
  /** Losses not yet reported by fsync of `file`. */
  unreported: number;
  /** Address of its shared mapping. */
  addr: number;
}

test("campaign: 10,000 injections, large folios, a slow disk (writeback in flight at injection time)", (t) => {
  runCampaign(t, { memory: "12MiB", files: 6, maxOrder: 2, latencyNs: 3_000_000, seed: 7 });
});

test("campaign: 10,000 injections, small folios, memory under reclaim pressure", (t) => {
  runCampaign(t, { memory: "2MiB", files: 10, maxOrder: 0, latencyNs: 100_000, seed: 11 });
});

interface CampaignOptions {
  memory: string;
  files: number;
  maxOrder: number;
  latencyNs: number;
  seed: number;
}

function runCampaign(t: ExecutionContext, o: CampaignOptions): void {
  const s = new TestFs({ memory: o.memory, maxOrder: o.maxOrder, deviceBlocks: 16384, model: { latencyNs: o.latencyNs }, seed: o.seed });
  const m = s.machine;
  const mf = m.memoryFailure;
  const rng = new Rng(o.seed * 1000 + 1);
  const violations: string[] = [];
  const bad = (msg: string) => {
    if (violations.length < 1000) violations.push(msg);
  };
  const stats = {
    steps: 0, injections: 0, unpoisons: 0, reads: 0, readEio: 0, writes: 0, loads: 0, stores: 0, sigbus: 0, fsyncs: 0, fsyncEio: 0,
    truncates: 0, drops: 0, lostFilePages: 0, lostAnonPages: 0, extraLost: 0, verifies: 0,
  };
  const outcomes: Record<string, number> = {};
  const details: Record<string, number> = {};
  const space: AddressSpace = m.mm.createAddressSpace("campaign");

  // The files, each written whole and synced, and mapped shared.
  const files: FileModel[] = [];
  for (let i = 0; i < o.files; i++) {
    const ino = s.create();
    const file = s.open(ino);
    const size = (32 + rng.below(MAX_PAGES - 32)) * PAGE_SIZE - rng.below(PAGE_SIZE);
    const data = new Uint8Array(MAX_PAGES * PAGE_SIZE);
    fillRandom(rng, data.subarray(0, size));
    s.write(file, 0, data.subarray(0, size));
    const addr = space.mmap({ length: MAX_PAGES * PAGE_SIZE, prot: RW, flags: MAP_SHARED, file: s.mappable(ino) });
    files.push({ ino, mapping: s.inodes.get(ino)!.mapping, file, data, size, lost: new Set(), marker: new Set(), unreported: 0, addr });
  }
  s.syncAll();
  const byOwner = new Map(files.map((f) => [f.mapping.ownerId, f]));
  // Anonymous memory, with its own model.
  const anonAddr = space.mmap({ length: ANON_PAGES * PAGE_SIZE, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS });
  const anonData = new Uint8Array(ANON_PAGES * PAGE_SIZE);
  const anonLost = new Set<number>();

  // The model learns of every loss from memory failure's results, delayed ones included.
  mf.onResult((r: MemoryFailureResult) => {
    if (!r.dataLost || r.ownerId === undefined || r.index === undefined) return;
    const fm = byOwner.get(r.ownerId);
    if (fm !== undefined) {
      fm.lost.add(r.index);
      fm.marker.add(r.index);
      fm.unreported++;
      stats.lostFilePages++;
      return;
    }
    const region = space.vmaAt(anonAddr)?.anon;
    if (region !== null && region !== undefined && r.ownerId === region.id) {
      anonLost.add(r.index);
      stats.lostAnonPages++;
    }
  });

  /** After an injection: pages the owner dropped beyond the one reported (a large folio it could not split). */
  const learnExtraLosses = () => {
    for (const fm of files) {
      for (const [a, b] of fm.mapping.lost.ranges()) {
        for (let p = a; p < b; p++) {
          if (fm.lost.has(p)) continue;
          fm.lost.add(p);
          fm.marker.add(p);
          fm.unreported = Math.max(fm.unreported, 1);
          stats.extraLost++;
        }
      }
    }
  };

  const poisoned: number[] = [];
  const inject = () => {
    const r = rng.below(100);
    let pfn = 1 + rng.below(m.frames - 1);
    if (r < 45) {
      const fm = files[rng.below(o.files)]!;
      const index = rng.below(Math.ceil(fm.size / PAGE_SIZE));
      const folio = s.cache.lookup(fm.mapping, index);
      if (folio !== 0) pfn = m.folios.pfn(folio) + (index - m.folios.index(folio));
    } else if (r < 60) {
      const pte = space.pageTables.get(anonAddr / PAGE_SIZE + rng.below(ANON_PAGES));
      if (pte & 1) pfn = pte >>> 5;
    }
    const result = rng.chance(0.7) ? mf.hardOffline(pfn) : mf.softOffline(pfn);
    stats.injections++;
    const key = `${result.kind} ${result.type} ${result.action}`;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
    if (result.action === "failed" || result.action === "delayed") {
      const why = result.detail.replace(/\d+/g, "N");
      details[why] = (details[why] ?? 0) + 1;
    }
    if (mf.isPoisoned(pfn) && !poisoned.includes(pfn)) poisoned.push(pfn);
    learnExtraLosses();
    while (poisoned.length > MAX_POISONED || (poisoned.length > 0 && rng.chance(0.3))) {
      const at = rng.below(poisoned.length);
      mf.unpoison(poisoned[at]!);
      poisoned.splice(at, 1);
      stats.unpoisons++;
    }
  };

  /** Checks a read of [pos, pos + len) of a file against the model. */
  const checkRead = (fm: FileModel, pos: number, len: number) => {
    stats.reads++;
    const want = Math.max(0, Math.min(len, fm.size - pos));
    let got: Uint8Array;
    try {
      got = s.read(fm.file, pos, len);
    } catch (e) {
      if (!isFolioError(e, "EIO")) return bad(`read of inode ${fm.ino} at ${pos}: ${String(e)}`);
      stats.readEio++;
      if (!fm.lost.has(Math.floor(pos / PAGE_SIZE))) bad(`read of inode ${fm.ino} at ${pos} is EIO but page ${Math.floor(pos / PAGE_SIZE)} was not lost: ${e.message}`);
      return;
    }
    const diff = firstDiff(got, fm.data.subarray(pos, pos + got.length));
    if (diff >= 0) return bad(`read of inode ${fm.ino} at ${pos} returned wrong data at byte ${pos + diff} (page ${Math.floor((pos + diff) / PAGE_SIZE)}): silent corruption`);
    for (let p = Math.floor(pos / PAGE_SIZE); got.length > 0 && p <= Math.floor((pos + got.length - 1) / PAGE_SIZE); p++) {
      if (fm.lost.has(p)) return bad(`read of inode ${fm.ino} at ${pos} returned data of lost page ${p}`);
    }
    if (got.length < want && !fm.lost.has(Math.floor((pos + got.length) / PAGE_SIZE))) bad(`read of inode ${fm.ino} at ${pos} was short (${got.length} of ${want}) before a page that was not lost`);
  };

  /** A load or store through a mapping: returns false if it faulted as allowed; records a violation otherwise. */
  const access = (what: string, addr: number, lost: boolean, marker: boolean, fn: () => void): boolean => {
    try {
      fn();
    } catch (e) {
      if (e instanceof MemoryAccessError && e.signal === "SIGBUS" && e.code === "EHWPOISON") {
        stats.sigbus++;
        if (!lost && !marker) bad(`${what} at 0x${addr.toString(16)} is SIGBUS but nothing was lost there: ${e.message}`);
        if (e.address !== addr) bad(`${what} SIGBUS names 0x${e.address.toString(16)}, not 0x${addr.toString(16)}`);
        return false;
      }
      bad(`${what} at 0x${addr.toString(16)}: ${String(e)}`);
      return false;
    }
    if (lost) bad(`${what} at 0x${addr.toString(16)} went through to a lost page`);
    return true;
  };

  let lastOp = "";
  const step = () => {
    stats.steps++;
    const op = rng.below(100);
    const fm = files[rng.below(o.files)]!;
    lastOp = `op ${op} on inode ${fm.ino}`;
    if (op < 20) {
      // read
      const pos = rng.below(fm.size + PAGE_SIZE);
      checkRead(fm, pos, 1 + rng.below(3 * PAGE_SIZE));
    } else if (op < 35) {
      // write (may extend the file)
      const pos = rng.below(Math.min(fm.size + 2 * PAGE_SIZE, MAX_PAGES * PAGE_SIZE - 1));
      const len = 1 + rng.below(Math.min(3 * PAGE_SIZE, MAX_PAGES * PAGE_SIZE - pos));
      const bytes = new Uint8Array(len);
      fillRandom(rng, bytes);
      stats.writes++;
      try {
        const n = s.write(fm.file, pos, bytes);
        if (n !== len) bad(`write of ${len} bytes to inode ${fm.ino} at ${pos} wrote ${n}`);
      } catch (e) {
        return bad(`write to inode ${fm.ino} at ${pos}: ${String(e)}`);
      }
      fm.data.set(bytes, pos);
      fm.size = Math.max(fm.size, pos + len);
      // Pages replaced whole leave the lost set (the last page of the file up to its end).
      const end = pos + len;
      let last = Math.floor(end / PAGE_SIZE);
      if (end >= fm.size) last = Math.max(last, Math.ceil(fm.size / PAGE_SIZE));
      for (let p = Math.ceil(pos / PAGE_SIZE); p < last; p++) fm.lost.delete(p);
    } else if (op < 50) {
      // load through the shared mapping
      if (fm.size === 0) return;
      const pos = rng.below(fm.size);
      const len = 1 + rng.below(Math.min(64, fm.size - pos, PAGE_SIZE - (pos % PAGE_SIZE)));
      const page = Math.floor(pos / PAGE_SIZE);
      stats.loads++;
      let got: Uint8Array = new Uint8Array(0);
      if (access("load", fm.addr + pos, fm.lost.has(page), fm.marker.has(page), () => (got = space.load(fm.addr + pos, len)))) {
        if (firstDiff(got, fm.data.subarray(pos, pos + len)) >= 0) bad(`load of inode ${fm.ino} at ${pos} returned wrong data: silent corruption`);
      }
    } else if (op < 60) {
      // store through the shared mapping (below end of file)
      if (fm.size === 0) return;
      const pos = rng.below(fm.size);
      const len = 1 + rng.below(Math.min(64, fm.size - pos, PAGE_SIZE - (pos % PAGE_SIZE)));
      const page = Math.floor(pos / PAGE_SIZE);
      const bytes = new Uint8Array(len);
      fillRandom(rng, bytes);
      stats.stores++;
      if (access("store", fm.addr + pos, fm.lost.has(page), fm.marker.has(page), () => space.store(fm.addr + pos, bytes))) fm.data.set(bytes, pos);
    } else if (op < 70) {
      // anonymous memory: load, store, or discard
      const page = rng.below(ANON_PAGES);
      const addr = anonAddr + page * PAGE_SIZE + rng.below(PAGE_SIZE - 64);
      const off = addr - anonAddr;
      const kind = rng.below(10);
      if (kind < 4) {
        let got: Uint8Array = new Uint8Array(0);
        if (access("anon load", addr, anonLost.has(page), false, () => (got = space.load(addr, 64)))) {
          if (firstDiff(got, anonData.subarray(off, off + 64)) >= 0) bad(`anonymous load at page ${page} returned wrong data: silent corruption`);
        }
      } else if (kind < 9) {
        const bytes = new Uint8Array(64);
        fillRandom(rng, bytes);
        if (access("anon store", addr, anonLost.has(page), false, () => space.store(addr, bytes))) anonData.set(bytes, off);
      } else {
        space.madvise(anonAddr + page * PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED);
        anonData.fill(0, page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
        anonLost.delete(page);
      }
    } else if (op < 76) {
      // fsync: reports each loss once
      stats.fsyncs++;
      let eio = false;
      try {
        s.fsync(fm.file);
      } catch (e) {
        if (!isFolioError(e, "EIO")) return bad(`fsync of inode ${fm.ino}: ${String(e)}`);
        eio = true;
        stats.fsyncEio++;
      }
      if (fm.unreported > 0 && !eio) bad(`fsync of inode ${fm.ino} succeeded although ${fm.unreported} dirty pages were lost since the last one`);
      if (fm.unreported === 0 && eio) bad(`fsync of inode ${fm.ino} reported EIO but nothing was lost`);
      fm.unreported = 0;
    } else if (op < 80) {
      // background writeback of one file, left in flight
      s.writepages(fm.mapping, wbcAll(false, "campaign"));
    } else if (op < 82) {
      // drop the clean cache of a file: the next reads come from the disk
      stats.drops++;
      invalidateMappingPages(s.cache, fm.mapping);
    } else if (op < 83) {
      // truncate: shrink a little to a page boundary (testfs keeps bytes past end of file on the
      // disk, which a shrink into a page would expose when the file grows again), or grow
      stats.truncates++;
      const shrunk = Math.floor((fm.size * (0.75 + rng.next() / 4)) / PAGE_SIZE) * PAGE_SIZE;
      const size = rng.chance(0.5) ? shrunk : Math.min(MAX_PAGES * PAGE_SIZE, fm.size + rng.below(4 * PAGE_SIZE));
      s.truncate(fm.ino, size);
      if (size < fm.size) fm.data.fill(0, size);
      fm.size = size;
      for (const p of [...fm.lost]) if (p >= Math.ceil(size / PAGE_SIZE)) fm.lost.delete(p);
      for (const p of [...fm.marker]) if (p >= Math.ceil(size / PAGE_SIZE)) fm.marker.delete(p);
    } else if (op < 84) {
      // remap the file: poison markers go with the old mapping
      space.munmap(fm.addr, MAX_PAGES * PAGE_SIZE);
      fm.addr = space.mmap({ length: MAX_PAGES * PAGE_SIZE, prot: RW, flags: MAP_SHARED, file: s.mappable(fm.ino), addr: fm.addr });
      fm.marker.clear();
    } else {
      inject();
    }
    // Let time pass: device completions, the flusher, kswapd, memory failure's retry.
    m.scheduler.runFor(rng.below(400_000));
  };

  while (stats.injections < INJECTIONS) {
    step();
    // The file's own record of lost pages says what the model learnt from memory failure's results.
    for (const fm of files) {
      const record = fm.mapping.lost.ranges().flatMap(([a, b]) => Array.from({ length: b - a }, (_, i) => a + i));
      const model = [...fm.lost].sort((x, y) => x - y);
      if (record.join() !== model.join()) {
        bad(`step ${stats.steps} (${lastOp}): inode ${fm.ino} records lost pages {${record.join()}}, the model {${model.join()}}`);
        fm.lost = new Set(record);
      }
    }
    if (stats.steps % 1000 === 0) {
      stats.verifies++;
      for (const p of m.verify()) bad(`verify at step ${stats.steps}: ${p}`);
      for (const p of s.checkCache()) bad(`page cache at step ${stats.steps}: ${p}`);
    }
  }

  // The end: everything written, the cache dropped, every page read back from the disk.
  m.scheduler.runFor(100_000_000);
  for (const fm of files) {
    try {
      s.fsync(fm.file);
      if (fm.unreported > 0) bad(`final fsync of inode ${fm.ino} succeeded with ${fm.unreported} losses unreported`);
    } catch (e) {
      if (!isFolioError(e, "EIO") || fm.unreported === 0) bad(`final fsync of inode ${fm.ino}: ${String(e)}`);
    }
    invalidateMappingPages(s.cache, fm.mapping);
    for (let p = 0; p * PAGE_SIZE < fm.size; p++) checkRead(fm, p * PAGE_SIZE, PAGE_SIZE);
  }
  for (const p of m.verify()) bad(`final verify: ${p}`);
  for (const p of s.checkCache()) bad(`final page cache: ${p}`);

  t.log(`injections ${stats.injections} (steps ${stats.steps}), unpoisons ${stats.unpoisons}, still poisoned ${poisoned.length}`);
  t.log(`workload: ${stats.reads} reads (${stats.readEio} EIO), ${stats.writes} writes, ${stats.loads} loads, ${stats.stores} stores (${stats.sigbus} SIGBUS), ` +
    `${stats.fsyncs} fsyncs (${stats.fsyncEio} EIO), ${stats.truncates} truncates, ${stats.drops} cache drops, ${stats.verifies} verifies`);
  t.log(`lost: ${stats.lostFilePages} file pages, ${stats.lostAnonPages} anonymous pages, ${stats.extraLost} beyond the reported page`);
  t.log("outcomes by kind, memdesc type and action:", Object.fromEntries(Object.entries(outcomes).sort()));
  const vm = m.vmstat.toObject();
  t.log(`reclaim: pgsteal ${vm.pgsteal_kswapd! + vm.pgsteal_direct!}, pgmigrate_success ${vm.pgmigrate_success}`);
  t.log(`vmstat: recovered ${vm.memory_failure_recovered}, ignored ${vm.memory_failure_ignored}, failed ${vm.memory_failure_failed}, delayed ${vm.memory_failure_delayed}, ` +
    `soft_offline ${vm.soft_offline}, thp_split_page ${vm.thp_split_page}, nr_hwpoisoned ${vm.nr_hwpoisoned}`);
  t.log("failed and delayed, by reason:", details);
  t.log(`violations: ${violations.length}`, violations.slice(0, 20));
  t.is(violations.length, 0);
  t.true(stats.lostFilePages > 0 && stats.readEio > 0 && stats.fsyncEio > 0 && stats.sigbus > 0, "the campaign reached the interesting cases");
}

function fillRandom(rng: Rng, buf: Uint8Array): void {
  for (let i = 0; i < buf.length; i += 4) {
    const x = rng.nextU32();
    buf[i] = x & 0xff;
    if (i + 1 < buf.length) buf[i + 1] = (x >>> 8) & 0xff;
    if (i + 2 < buf.length) buf[i + 2] = (x >>> 16) & 0xff;
    if (i + 3 < buf.length) buf[i + 3] = x >>> 24;
  }
}

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}
