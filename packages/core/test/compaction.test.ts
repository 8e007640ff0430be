/**
 * Compaction: the selftest after Linux's tools/testing/selftests/mm/compaction_test.c (fill memory
 * with movable order-0 folios, free a random half, ask for huge pages with and without
 * compaction), data and mappings surviving the moves, direct compaction and its deferral,
 * kcompactd's proactive compaction and an idle scheduler, the extfrag reports, and a property test
 * of random allocation, free and compaction sequences.
 */
import test from "ava";
import fc from "fast-check";
import {
  COMPACT_MAX_DEFER_SHIFT, FolioFlag, Gfp, MADV_DONTNEED, MAP_ANONYMOUS, MAP_PRIVATE, Machine, MemdescType, MigrateType, PAGEBLOCK_FRAMES, PAGE_SIZE,
  PROT_READ, PROT_WRITE, Pte, SECOND, Stat, contigPageInfo, fragmentationIndex, isFolioError, ptePfn, unusableFreeIndex, type AnonRegion,
  type MachineConfig, type TimedTraceEvent,
} from "../src/index.js";
import { expectError, pattern } from "./helpers.js";

/** A small seeded generator for the tests' own random choices. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

interface Fragmented {
  m: Machine;
  region: AnonRegion;
  /** Indexes of the pages still resident, each holding pattern(PAGE_SIZE, index). */
  kept: number[];
}

/**
 * Boots a machine, fills all the memory it will give with order-0 movable anonymous folios (each
 * page stamped with its own pattern) until ENOMEM, then frees a random half of them.
 */
function fragment(config: MachineConfig, seed = 7): Fragmented {
  const m = Machine.boot(config);
  const region = m.anon.createRegion("selftest", m.frames * PAGE_SIZE);
  let filled = 0;
  for (; filled < region.nrPages; filled++) {
    try {
      region.write(filled * PAGE_SIZE, pattern(PAGE_SIZE, filled), 0, PAGE_SIZE);
    } catch (e) {
      if (!isFolioError(e, "ENOMEM")) throw e;
      break;
    }
  }
  const random = rng(seed);
  const kept: number[] = [];
  for (let i = 0; i < filled; i++) {
    if (random() < 0.5) region.discard(i, 1);
    else kept.push(i);
  }
  return { m, region, kept };
}

/** Indexes in `kept` whose page does not hold its pattern any more. */
function corrupted(region: AnonRegion, kept: readonly number[]): number[] {
  const buf = new Uint8Array(PAGE_SIZE);
  const bad: number[] = [];
  for (const i of kept) {
    region.read(i * PAGE_SIZE, buf, 0, PAGE_SIZE);
    if (Buffer.compare(buf, pattern(PAGE_SIZE, i)) !== 0) bad.push(i);
  }
  return bad;
}

/**
 * How many order-9 allocations free memory in movable pageblocks allows, the selftest's yardstick:
 *  - only free frames (buddy or per-CPU) lying in movable pageblocks count, 512 of them per huge
 *    page: what can be gathered where folios can be moved away;
 *  - and every allocation must leave more than the min watermark free (the allocator's hard
 *    limit), so the k-th huge page needs free − (k − 1)·512 − 511 > min, i.e. k ≤ ⌊(free − min) / 512⌋.
 * Compaction's own reserve (it starts only above the low watermark plus 2 << 9 pages) is not
 * subtracted: it counts against compaction.
 */
function hugePagesAllowed(m: Machine): number {
  let freeMovable = 0;
  for (let pfn = 0; pfn < m.frames; pfn++) {
    const t = m.memmap.type[pfn];
    if ((t === MemdescType.Buddy || t === MemdescType.PerCpu) && m.pages.pageblockMigrateType(pfn) === MigrateType.Movable) freeMovable++;
  }
  const free = m.vmstat.stat[Stat.FreePages]! + m.vmstat.stat[Stat.PerCpuPages]!;
  const byWatermark = Math.max(0, Math.floor((free - m.pages.watermarks.min) / PAGEBLOCK_FRAMES));
  return Math.min(Math.floor(freeMovable / PAGEBLOCK_FRAMES), byWatermark);
}

/** Tries `attempts` order-9 movable folio allocations; returns the folios obtained. */
function allocHugePages(m: Machine, attempts: number): number[] {
  const got: number[] = [];
  for (let i = 0; i < attempts; i++) {
    try {
      got.push(m.folios.alloc(9, Gfp.Movable));
    } catch (e) {
      if (!isFolioError(e, "ENOMEM")) throw e;
    }
  }
  return got;
}

test("selftest: with compaction ≥95% of the huge pages free memory allows succeed, without ≤1%; data intact", (t) => {
  const config = { memory: "256MiB", seed: 3 };
  const on = fragment(config);
  const off = fragment({ ...config, compaction: false });
  t.is(on.kept.length, off.kept.length, "both machines fragmented the same way");

  const allowed = hugePagesAllowed(on.m);
  t.is(hugePagesAllowed(off.m), allowed);
  t.true(allowed >= 50, `free memory allows ${allowed} huge pages`);
  const scoreBefore = on.m.compaction.fragmentationScore();
  const free = on.m.vmstat.stat[Stat.FreePages]! + on.m.vmstat.stat[Stat.PerCpuPages]!;

  const withCompaction = allocHugePages(on.m, allowed + 2).length;
  const without = allocHugePages(off.m, allowed + 2).length;
  const ev = on.m.vmstat.toObject();
  t.log(`256 MiB: ${on.kept.length} order-0 pages kept after freeing a random half; ${free} pages free (min watermark ${on.m.pages.watermarks.min}), ` +
    `which allows ${allowed} order-9 pages; fragmentation score ${scoreBefore}`);
  t.log(`with compaction: ${withCompaction}/${allowed} (${((100 * withCompaction) / allowed).toFixed(1)}%); without: ${without}/${allowed} (${((100 * without) / allowed).toFixed(1)}%)`);
  t.log(`compact_stall ${ev.compact_stall} compact_success ${ev.compact_success} compact_fail ${ev.compact_fail} compact_deferred ${ev.compact_deferred} ` +
    `pgmigrate_success ${ev.pgmigrate_success} compact_migrate_scanned ${ev.compact_migrate_scanned} compact_free_scanned ${ev.compact_free_scanned}`);
  t.true(withCompaction >= Math.ceil(0.95 * allowed), `${withCompaction} of ${allowed}`);
  t.true(without <= Math.floor(0.01 * allowed), `${without} of ${allowed} without compaction`);
  t.true(ev.compact_stall! > 0 && ev.compact_success! > 0 && ev.pgmigrate_success! > 0);
  t.is(off.m.vmstat.toObject().compact_stall, 0);

  t.deepEqual(corrupted(on.region, on.kept), [], "every page kept holds its pattern after being moved");
  t.deepEqual(on.m.verify(), []);
  t.deepEqual(off.m.verify(), []);
});

test("a full compaction of mapped anonymous memory moves PTEs with the pages; loads and stores still work", (t) => {
  const m = Machine.boot({ memory: "64MiB", seed: 5 });
  const mm = m.mm.createAddressSpace("p");
  const pages = 8192;
  const a = mm.mmap({ length: pages * PAGE_SIZE, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
  for (let i = 0; i < pages; i++) mm.store(a + i * PAGE_SIZE, pattern(PAGE_SIZE, i));
  const random = rng(11);
  const kept: number[] = [];
  for (let i = 0; i < pages; i++) {
    if (random() < 0.5) mm.madvise(a + i * PAGE_SIZE, PAGE_SIZE, MADV_DONTNEED);
    else kept.push(i);
  }
  const pfnBefore = kept.map((i) => ptePfn(mm.pageTables.get(a / PAGE_SIZE + i)));
  const scoreBefore = m.compaction.fragmentationScore();
  const r = m.compaction.compact({ order: -1 });
  t.log(`full compaction: ${r.status}, ${r.migrated} pages moved, ${r.failed} stayed; score ${scoreBefore} -> ${m.compaction.fragmentationScore()}`);
  t.is(r.status, "complete");
  t.true(r.migrated > kept.length / 4, `${r.migrated} pages moved`);
  t.true(m.compaction.fragmentationScore() < scoreBefore);
  let moved = 0;
  kept.forEach((i, k) => {
    const pte = mm.pageTables.get(a / PAGE_SIZE + i);
    t.true((pte & Pte.Present) !== 0);
    if (ptePfn(pte) !== pfnBefore[k]) moved++;
  });
  t.true(moved > 0);
  for (const i of kept) {
    if (Buffer.compare(mm.load(a + i * PAGE_SIZE, PAGE_SIZE), pattern(PAGE_SIZE, i)) !== 0) t.fail(`page ${i} lost its contents`);
  }
  mm.store(a + kept[0]! * PAGE_SIZE + 3, Uint8Array.of(42));
  t.is(mm.load(a + kept[0]! * PAGE_SIZE + 3, 1)[0], 42);
  t.deepEqual(m.verify(), []);
});

test("direct compaction: a failed high-order allocation compacts and then succeeds", (t) => {
  const { m, region, kept } = fragment({ memory: "64MiB" });
  // The fill stops at the min watermark with its last free pages in whatever blocks were left: hold those of order 4 and up.
  m.pages.drainPerCpuLists();
  const held: [number, number][] = [];
  for (let o = 10; o >= 4; o--) {
    while (m.pages.freeBlocks(o) > 0) held.push([m.pages.tryAllocPages(o, Gfp.Atomic, MemdescType.PageTable, 1), o]);
  }
  t.true(m.pages.largestFreeOrder() < 4, "no order-4 block is free");
  const small = m.folios.alloc(4, Gfp.Movable);
  let ev = m.vmstat.toObject();
  t.is(ev.compact_stall, 1);
  t.is(ev.compact_success, 1);
  t.true(ev.pgmigrate_success! > 0);
  const huge = m.folios.alloc(9, Gfp.Movable);
  ev = m.vmstat.toObject();
  t.is(ev.compact_stall, 2);
  t.is(ev.compact_success, 2);
  t.is(m.folios.order(huge), 9);
  t.deepEqual(m.compaction.deferState(), { considered: 0, deferShift: 0, orderFailed: 10 }, "a success resets deferral for orders up to 9");
  m.folios.put(small);
  m.folios.put(huge);
  for (const [pfn, o] of held) m.pages.freePages(pfn, o);
  t.deepEqual(corrupted(region, kept), []);
  t.deepEqual(m.verify(), []);
});

test("folios that are locked, pinned or under writeback stay where they are and count as failed", (t) => {
  const { m, region, kept } = fragment({ memory: "32MiB" });
  const held = kept.slice(0, 30).map((i) => region.faultIn(i, false));
  const [locked, pinned, writeback] = [held.slice(0, 10), held.slice(10, 20), held.slice(20, 30)];
  for (const f of locked) m.folios.set(f, FolioFlag.Locked);
  for (const f of pinned) m.folios.addPincount(f, 1);
  for (const f of writeback) m.folios.set(f, FolioFlag.Writeback);
  const where = held.map((f) => m.folios.pfn(f));
  const r = m.compaction.compact({ order: -1 });
  t.true(r.failed >= 30, `${r.failed} pages stayed`);
  t.true(r.migrated > 0);
  held.forEach((f, k) => t.is(m.folios.pfn(f), where[k], `folio ${k} did not move`));
  for (const f of locked) m.folios.clear(f, FolioFlag.Locked);
  for (const f of pinned) m.folios.addPincount(f, -1);
  for (const f of writeback) m.folios.clear(f, FolioFlag.Writeback);
  t.deepEqual(corrupted(region, kept), []);
  t.deepEqual(m.verify(), []);
});

test("deferral: after failures direct compaction skips 1, 2, 4 … attempts, and a success resets it", (t) => {
  const { m, region, kept } = fragment({ memory: "32MiB" });
  // One pinned page in every movable pageblock: no pageblock can ever be emptied.
  const pins: number[] = [];
  const seen = new Set<number>();
  for (const i of kept) {
    const f = region.faultIn(i, false);
    const block = Math.floor(m.folios.pfn(f) / PAGEBLOCK_FRAMES);
    if (seen.has(block)) continue;
    seen.add(block);
    m.folios.addPincount(f, 1);
    pins.push(f);
  }
  const outcomes: string[] = [];
  for (let i = 0; i < 8; i++) outcomes.push(m.compaction.tryToCompact(9, Gfp.Movable).status);
  t.log(outcomes.join(" "));
  // Runs fail (complete), then 1 deferred, a run, 3 deferred, a run …
  t.deepEqual(outcomes, ["complete", "deferred", "complete", "deferred", "deferred", "deferred", "complete", "deferred"]);
  t.deepEqual(m.compaction.deferState(), { considered: 1, deferShift: 3, orderFailed: 0 });
  const ev = m.vmstat.toObject();
  t.is(ev.compact_deferred, 5);
  t.is(ev.compact_fail, 3);
  t.is(ev.compact_stall, 3);
  expectError(t, "ENOMEM", () => m.folios.alloc(9, Gfp.Movable), /order-9/);

  for (const f of pins) m.folios.addPincount(f, -1);
  // Still deferred for a while; the first pass allowed again succeeds and resets everything.
  let r = m.compaction.tryToCompact(9, Gfp.Movable);
  let skipped = 0;
  while (r.status === "deferred") {
    skipped++;
    r = m.compaction.tryToCompact(9, Gfp.Movable);
  }
  t.true(skipped > 0);
  t.is(r.status, "success");
  t.deepEqual(m.compaction.deferState(), { considered: 0, deferShift: 0, orderFailed: 10 });
  t.is(COMPACT_MAX_DEFER_SHIFT, 6);
  t.deepEqual(corrupted(region, kept), []);
  t.deepEqual(m.verify(), []);
});

test("proactive compaction: kcompactd lowers the fragmentation score of an idle fragmented machine, then the scheduler drains", (t) => {
  const { m, region, kept } = fragment({ memory: "64MiB" });
  const { low, high } = m.compaction.scoreWatermarks();
  t.deepEqual({ low, high }, { low: 80, high: 90 });
  const before = m.compaction.fragmentationScore();
  t.true(before > high, `score ${before}`);
  t.true(m.compaction.kcompactdPending, "the allocations that ran short woke kcompactd");
  m.scheduler.runFor(10 * SECOND);
  const after = m.compaction.fragmentationScore();
  t.log(`fragmentation score ${before} -> ${after}; compact_daemon_wake ${m.vmstat.toObject().compact_daemon_wake}`);
  t.true(after <= low, `score ${after} is at most the low mark ${low}`);
  t.true(m.vmstat.toObject().compact_daemon_wake! >= 1);
  t.false(m.compaction.kcompactdPending);
  t.is(m.scheduler.pending, 0, "nothing left on the scheduler");
  t.deepEqual(corrupted(region, kept), []);
  t.deepEqual(m.verify(), []);
});

test("proactiveness 0 turns proactive compaction off; an idle machine has nothing scheduled", (t) => {
  const { m } = fragment({ memory: "64MiB", compactionProactiveness: 0 });
  const before = m.compaction.fragmentationScore();
  m.scheduler.runFor(10 * SECOND);
  t.is(m.compaction.fragmentationScore(), before);
  t.is(m.vmstat.toObject().compact_daemon_wake, 0);
  t.is(m.scheduler.pending, 0);

  const idle = Machine.boot({ memory: "64MiB" });
  idle.scheduler.runFor(60 * SECOND);
  t.is(idle.scheduler.pending, 0);
  t.is(idle.vmstat.toObject().compact_daemon_wake, 0);
  idle.scheduler.waitUntil(() => true, "nothing");
  expectError(t, "EDEADLK", () => idle.scheduler.waitUntil(() => false, "something that never comes"), /deadlock/);

  const tuned = Machine.boot({ memory: "16MiB", compactionProactiveness: 50 });
  t.deepEqual(tuned.compaction.scoreWatermarks(), { low: 50, high: 60 });
  tuned.compaction.proactiveness = 100;
  t.deepEqual(tuned.compaction.scoreWatermarks(), { low: 5, high: 15 });
  expectError(t, "EINVAL", () => (tuned.compaction.proactiveness = 101), /proactiveness/);
  expectError(t, "EINVAL", () => Machine.boot({ memory: "16MiB", compactionProactiveness: -1 }), /compactionProactiveness/);
});

test("kcompactd woken for an order compacts in the background", (t) => {
  const { m, region, kept } = fragment({ memory: "64MiB", compactionProactiveness: 0 });
  const events: TimedTraceEvent[] = [];
  m.trace.enable(["compaction"], (e) => events.push(e));
  m.compaction.wakeKcompactd(9);
  t.true(m.compaction.kcompactdPending);
  m.scheduler.runFor(SECOND);
  t.true(m.pages.largestFreeOrder() >= 9);
  t.is(m.vmstat.toObject().compact_daemon_wake, 1);
  t.is(events.length, 1);
  t.like(events[0], { point: "compaction", order: 9, status: "success" });
  t.is(m.scheduler.pending, 0);
  t.deepEqual(corrupted(region, kept), []);
  t.deepEqual(m.verify(), []);
});

test("extfrag: fragmentation and unusable free space indices per order, as Linux computes and prints them", (t) => {
  // Hand-computed: 1000 free pages in 1000 order-0 blocks.
  const info = { freePages: 1000, freeBlocksTotal: 1000, freeBlocksSuitable: 0 };
  t.is(fragmentationIndex(info, 9), 1000 - Math.floor((1000 + Math.floor((1000 * 1000) / 512)) / 1000));
  t.is(fragmentationIndex(info, 9), 998);
  t.is(unusableFreeIndex(info, 9), 1000);
  t.is(fragmentationIndex({ freePages: 0, freeBlocksTotal: 0, freeBlocksSuitable: 0 }, 3), 0);
  t.is(unusableFreeIndex({ freePages: 0, freeBlocksTotal: 0, freeBlocksSuitable: 0 }, 3), 1000);
  // 600 pages: one order-9 block and 88 order-0 pages.
  const mixed = { freePages: 600, freeBlocksTotal: 89, freeBlocksSuitable: 1 };
  t.is(fragmentationIndex(mixed, 9), -1000, "a suitable block is free: the index does not apply");
  t.is(unusableFreeIndex(mixed, 9), Math.floor((88 * 1000) / 600));

  const fresh = Machine.boot({ memory: "16MiB" });
  const e = fresh.extfrag();
  t.deepEqual(e.fragmentationIndex, new Array(11).fill(-1000));
  t.is(e.unusableIndex[0], 0);
  t.regex(fresh.formatExtfrag(), /^extfrag_index\nNode 0, zone {3}Normal -1\.000 -1\.000 .*\nunusable_index\nNode 0, zone {3}Normal 0\.000 /);

  const { m } = fragment({ memory: "32MiB" });
  const frag = m.extfrag();
  const at9 = contigPageInfo(m.pages, 9);
  t.is(at9.freeBlocksSuitable, 0);
  t.true(frag.fragmentationIndex[9]! > 900, `fragmented memory: index ${frag.fragmentationIndex[9]}`);
  t.is(frag.unusableIndex[9], 1000);
  t.is(frag.unusableIndex[0], 0);
  t.log(m.formatExtfrag());
  m.compaction.compact({ order: -1 });
  t.true(m.extfrag().unusableIndex[9]! < 1000);
});

test("compact() checks its request and says why it did not run", (t) => {
  const m = Machine.boot({ memory: "16MiB" });
  expectError(t, "EINVAL", () => m.compaction.compact({ order: 11 }), /order/);
  expectError(t, "EINVAL", () => m.compaction.compact({ order: 3, mode: "fast" as "sync" }), /mode/);
  expectError(t, "EINVAL", () => m.compaction.compact({ order: 3, reason: "proactive" }), /proactive/);
  expectError(t, "EINVAL", () => m.compaction.compact(null as unknown as { order: number }), /object/);
  expectError(t, "EINVAL", () => Machine.boot({ memory: "16MiB", compaction: "yes" as unknown as boolean }), /compaction/);
  let r = m.compaction.compact({ order: 9 });
  t.is(r.status, "success");
  t.regex(r.detail, /exists already/);
  t.is(r.migrateScanned, 0);
  // Nearly full memory: no room for the copies.
  const taken: number[] = [];
  for (;;) {
    const pfn = m.pages.tryAllocPages(0, Gfp.Movable, MemdescType.PageTable, 1);
    if (pfn < 0) break;
    taken.push(pfn);
  }
  r = m.compaction.compact({ order: 9 });
  t.is(r.status, "skipped");
  t.regex(r.detail, /pages free; compaction for order 9 needs more than/);
  for (const pfn of taken) m.pages.freePages(pfn, 0);
  t.deepEqual(m.verify(), []);
});

test("isolated free blocks: off the lists, made into folios or put back; one left isolated is a leak verify reports", (t) => {
  const m = Machine.boot({ memory: "16MiB" });
  m.folios.put(m.folios.alloc(0, Gfp.Movable)); // the folio cache's slab exists from here on
  m.pages.drainPerCpuLists();
  let head = -1;
  m.pages.forEachFreeBlock((pfn, o) => {
    if (head < 0 && o >= 2 && o < 9) head = pfn;
  });
  t.true(head > 0);
  const free = m.pages.nrFreePages;
  const order = m.pages.isolateFreeBlock(head);
  t.true(order >= 2);
  t.is(m.pages.nrFreePages, free - (1 << order));
  t.is(m.pages.isolateFreeBlock(head), -1, "not on the lists any more");
  t.true(m.verify().some((p) => /marked free but is on no free list/.test(p)), "an isolated block nobody returns is a leak");
  const folio = m.folios.allocIsolated(head, 0);
  t.is(m.folios.pfn(folio), head);
  t.is(m.folios.refcount(folio), 1);
  t.regex(m.describe(head).text, /page 0 of folio \(no owner\)/);
  expectError(t, "EINVAL", () => m.pages.putbackIsolated(head), /not the head of an isolated free block/);
  expectError(t, "EINVAL", () => m.folios.allocIsolated(head + 1, 1), /cannot take order 1 from the isolated order-0 block/);
  for (let k = 0; k < order; k++) t.is(m.pages.putbackIsolated(head + (1 << k)), k, `the rest of the block, order ${k}`);
  m.folios.put(folio);
  m.pages.drainPerCpuLists();
  t.is(m.pages.nrFreePages, free);
  t.deepEqual(m.verify(), []);
  t.is(m.pages.isolateFreeBlock(0), -1, "frame 0 is reserved, not free");
});

test("property: random allocations, frees and compactions keep verify() clean and every page's data intact", (t) => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant("touch" as const), first: fc.nat(4095), count: fc.integer({ min: 1, max: 400 }) }),
    fc.record({ kind: fc.constant("discard" as const), first: fc.nat(4095), count: fc.integer({ min: 1, max: 600 }), stride: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ kind: fc.constant("large" as const), order: fc.integer({ min: 1, max: 9 }), keep: fc.boolean() }),
    fc.record({ kind: fc.constant("compact" as const), order: fc.integer({ min: -1, max: 10 }), mode: fc.constantFrom("async" as const, "sync" as const, "full" as const) }),
    fc.record({ kind: fc.constant("time" as const), ms: fc.integer({ min: 1, max: 2000 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 1000 }), (ops, seed) => {
      const m = Machine.boot({ memory: "16MiB", seed });
      const region = m.anon.createRegion("prop", 4096 * PAGE_SIZE);
      const stamp = new Map<number, number>();
      const large: number[] = [];
      let version = 0;
      for (const o of ops) {
        if (o.kind === "touch") {
          for (let i = o.first; i < Math.min(4096, o.first + o.count); i++) {
            const v = ++version;
            try {
              region.write(i * PAGE_SIZE, pattern(PAGE_SIZE, v), 0, PAGE_SIZE);
              stamp.set(i, v);
            } catch (e) {
              if (!isFolioError(e, "ENOMEM")) throw e;
              break;
            }
          }
        } else if (o.kind === "discard") {
          for (let i = o.first; i < Math.min(4096, o.first + o.count); i += o.stride) {
            region.discard(i, 1);
            stamp.delete(i);
          }
        } else if (o.kind === "large") {
          try {
            const f = m.folios.alloc(o.order, Gfp.Movable);
            if (o.keep) large.push(f);
            else m.folios.put(f);
          } catch (e) {
            if (!isFolioError(e, "ENOMEM")) throw e;
          }
        } else if (o.kind === "compact") {
          m.compaction.compact(o.order < 0 ? { order: -1, mode: o.mode } : { order: o.order, mode: o.mode });
        } else {
          m.scheduler.runFor(o.ms * 1_000_000);
        }
        const problems = m.verify();
        if (problems.length > 0) throw new Error(`after ${JSON.stringify(o)}: ${problems.join("; ")}`);
      }
      const buf = new Uint8Array(PAGE_SIZE);
      for (const [i, v] of stamp) {
        region.read(i * PAGE_SIZE, buf, 0, PAGE_SIZE);
        if (Buffer.compare(buf, pattern(PAGE_SIZE, v)) !== 0) throw new Error(`page ${i} lost version ${v}`);
      }
      for (const f of large) m.folios.put(f);
      region.destroy();
      m.scheduler.runFor(5 * SECOND);
      if (m.verify().length > 0) throw new Error(m.verify().join("; "));
    }),
    { numRuns: 60, seed: 424242 },
  );
  t.pass();
});
