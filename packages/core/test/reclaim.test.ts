/**
 * Reclaim against a minimal owner (an anonymous-memory-like cache of numbered pages), so the LRU,
 * kswapd, direct reclaim, shrinkers and the OOM report are tested without the page cache.
 */
import test from "ava";
import {
  FolioFlag, Gfp, Machine, MemdescType, OutOfMemoryError, PAGE_SIZE, PageOpCaller, PageOpResult, Stat, VmEvent, registerEvictionPolicy,
  LinuxPolicy, type EvictionPolicy, type PageOpContext, type PageOwner, type Shrinker,
} from "../src/index.js";
import { expectError } from "./helpers.js";

/** An owner of numbered pages: faults them in, and gives clean ones back to reclaim, keeping shadows. */
class PageSet implements PageOwner {
  readonly label = "test page set";
  readonly id: number;
  readonly resident = new Map<number, number>();
  readonly shadows = new Map<number, number>();
  released = 0;

  constructor(readonly m: Machine) {
    this.id = m.owners.register(this);
  }

  /** Touches page `index`: a hit tells reclaim, a miss allocates the folio (stamped with its index) and adds it. */
  touch(index: number): boolean {
    const hit = this.resident.get(index);
    if (hit !== undefined) {
      this.m.reclaim.markAccessed(hit);
      return true;
    }
    const folio = this.m.folios.alloc(0, Gfp.Movable, this.id, index, FolioFlag.Uptodate);
    new DataView(this.m.folios.data(folio).buffer, this.m.folios.data(folio).byteOffset).setUint32(this.m.folios.dataOffset(folio), index);
    this.resident.set(index, folio);
    const shadow = this.shadows.get(index) ?? -1;
    this.shadows.delete(index);
    this.m.reclaim.add(folio, shadow);
    this.m.reclaim.markAccessed(folio); // the use that faulted it in, as a read marks the folio it copies
    return false;
  }

  /** The index stamped into the folio's first bytes. */
  stamp(folio: number): number {
    const f = this.m.folios;
    return new DataView(f.data(folio).buffer, f.data(folio).byteOffset).getUint32(f.dataOffset(folio));
  }

  dirty(): PageOpResult {
    return PageOpResult.Unsupported;
  }

  migrate(): PageOpResult {
    return PageOpResult.Unsupported;
  }

  release(folio: number, ctx: PageOpContext): PageOpResult {
    const f = this.m.folios;
    if (f.test(folio, FolioFlag.Dirty)) return PageOpResult.Busy;
    const index = f.index(folio);
    this.resident.delete(index);
    if (ctx.caller === PageOpCaller.Reclaim && ctx.shadow !== undefined && ctx.shadow >= 0) this.shadows.set(index, ctx.shadow);
    this.m.reclaim.remove(folio);
    f.setOwner(folio, 0);
    f.put(folio);
    this.released++;
    return PageOpResult.Done;
  }
}

const free = (m: Machine) => m.reclaim.freePages();

test("kswapd keeps free memory between the watermarks while a cache three times memory streams through", (t) => {
  const m = Machine.boot({ memory: "16MiB" });
  const set = new PageSet(m);
  const { min, low, high } = m.pages.watermarks;
  let lowest = Infinity;
  for (let i = 0; i < 3 * m.frames; i++) {
    set.touch(i);
    lowest = Math.min(lowest, free(m));
    m.scheduler.runDue(); // kswapd runs as soon as it is woken
    // Once memory has filled, kswapd holds free memory at or above low and reclaims no further than high.
    if (m.vmstat.events[VmEvent.KswapdWake]! > 0) t.true(free(m) >= low && free(m) <= high + 32, `after page ${i}: ${free(m)} free, watermarks ${low}/${high}`);
  }
  t.true(lowest >= min, `free memory went down to ${lowest}, below min ${min}`);
  const vm = m.vmstat.toObject();
  t.true(vm.pageoutrun! > 10, `kswapd ran ${vm.pageoutrun} times`);
  t.true(vm.pgsteal_kswapd! > 2 * m.frames, `${vm.pgsteal_kswapd} pages reclaimed by kswapd`);
  t.is(vm.allocstall, 0, "no allocation had to reclaim directly");
  for (const [index, folio] of set.resident) t.is(set.stamp(folio), index);
  t.is(m.reclaim.counts().lruFolios, set.resident.size);
  t.deepEqual(m.verify(), []);
});

test("direct reclaim makes room when kswapd does not get to run", (t) => {
  const m = Machine.boot({ memory: "8MiB" });
  const set = new PageSet(m);
  for (let i = 0; i < 3 * m.frames; i++) set.touch(i); // the scheduler never runs: kswapd stays asleep
  const vm = m.vmstat.toObject();
  t.true(vm.allocstall! > 0 && vm.pgsteal_direct! > 0, `allocstall ${vm.allocstall}, pgsteal_direct ${vm.pgsteal_direct}`);
  t.true(free(m) >= m.pages.watermarks.min >> 1);
  for (const [index, folio] of set.resident) t.is(set.stamp(folio), index);
  t.deepEqual(m.verify(), []);
});

test("dirty folios, folios under writeback and locked folios are skipped and counted; the flusher is woken", (t) => {
  const m = Machine.boot({ memory: "8MiB" });
  const set = new PageSet(m);
  let woken = 0;
  m.reclaim.onDirtyPressure(() => woken++);
  for (let i = 0; i < 300; i++) set.touch(i);
  const f = m.folios;
  for (let i = 0; i < 300; i++) {
    const folio = set.resident.get(i)!;
    if (i % 3 === 0) f.set(folio, FolioFlag.Dirty);
    else if (i % 3 === 1 && i % 2 === 0) f.set(folio, FolioFlag.Writeback);
    else if (i % 3 === 1) f.set(folio, FolioFlag.Locked);
  }
  const freed = m.reclaim.shrink(1000);
  t.is(freed, 100, "only the clean, idle third went");
  for (let i = 0; i < 300; i++) t.is(set.resident.has(i), i % 3 !== 2, `page ${i}`);
  const vm = m.vmstat.toObject();
  t.is(vm.nr_reclaim_skip_dirty, 100);
  t.is(vm.nr_reclaim_skip_writeback, 50);
  t.is(vm.nr_reclaim_skip_busy, 50);
  t.is(woken, 1, "the flusher is woken once per pass");
  t.is(m.reclaim.counts().lruFolios, 200, "the skipped folios are still on the LRU");
  for (const folio of set.resident.values()) t.true(f.test(folio, FolioFlag.Lru) && !f.test(folio, FolioFlag.Isolated));
});

test("when nothing can be reclaimed an allocation fails with an OOM report, without hanging or changing anything", (t) => {
  const m = Machine.boot({ memory: "4MiB" });
  const set = new PageSet(m);
  let err: unknown;
  for (let i = 0; ; i++) {
    try {
      set.touch(i);
    } catch (e) {
      err = e;
      break;
    }
    m.folios.set(set.resident.get(i)!, FolioFlag.Dirty); // nothing stays reclaimable
    m.vmstat.stat[Stat.Dirty]++;
  }
  t.true(err instanceof OutOfMemoryError);
  const oom = err as OutOfMemoryError;
  t.is(oom.code, "ENOMEM");
  t.regex(oom.message, /OOM: order-0 request; reclaim could free nothing more: \d+ pages on the LRU \(\d+ dirty/);
  t.is(oom.report!.counters.dirty, set.resident.size);
  t.is(oom.report!.counters.lru, set.resident.size);
  t.true(m.vmstat.toObject().oom_report! >= 1);
  expectError(t, "ENOMEM", () => m.pages.allocPages(0, Gfp.Kernel, MemdescType.PageTable, 1));
  t.deepEqual(m.verify(), []);
});

test("shrinkers are asked to scan in proportion to the LRU scanned, and their frees are progress", (t) => {
  const m = Machine.boot({ memory: "8MiB" });
  const set = new PageSet(m);
  for (let i = 0; i < 1000; i++) set.touch(i);
  let objects = 10_000;
  const asked: number[] = [];
  const shrinker: Shrinker = {
    name: "test objects",
    count: () => objects,
    scan: (nr) => {
      asked.push(nr);
      objects -= nr;
      return nr;
    },
  };
  m.reclaim.registerShrinker(shrinker);
  m.reclaim.shrink(100);
  t.is(asked.length, 1);
  t.is(asked[0], 1000, "scanned 100 of 1,000 LRU folios: a tenth of 10,000 objects");
  // With the LRU all dirty, the shrinker's frees alone count as progress.
  for (const folio of set.resident.values()) m.folios.set(folio, FolioFlag.Dirty);
  t.true(m.reclaim.shrink(100) > 0);
  m.reclaim.unregisterShrinker(shrinker);
  t.is(m.reclaim.shrink(100), 0);
  t.is(m.vmstat.toObject().slabs_scanned, asked.reduce((a, b) => a + b, 0));
});

test("the eviction policy is chosen by name at boot; an unknown name is EINVAL naming the registered ones", (t) => {
  registerEvictionPolicy("test-fifo", () => new TestFifo());
  const m = Machine.boot({ memory: "8MiB", evictionPolicy: "test-fifo" });
  t.is(m.reclaim.policy.name, "test-fifo");
  const set = new PageSet(m);
  for (let i = 0; i < 100; i++) set.touch(i);
  for (let r = 0; r < 5; r++) for (let i = 0; i < 10; i++) set.touch(i); // FIFO ignores hits
  t.is(m.reclaim.shrink(10), 10);
  t.deepEqual([...set.resident.keys()].slice(0, 3), [10, 11, 12], "the first ten in went first");
  t.is(Machine.boot({ memory: "8MiB" }).reclaim.policy.name, "linux", "the default");
  const msg = expectError(t, "EINVAL", () => Machine.boot({ memory: "8MiB", evictionPolicy: "nope" }));
  t.regex(msg, /unknown eviction policy "nope" \(registered: .*linux.*test-fifo/);
});

test("workingset: a page refaulting within the active list's reach is activated at once, and counted", (t) => {
  const m = Machine.boot({ memory: "8MiB" });
  const set = new PageSet(m);
  // 200 pages used twice (activated at their second chance), then 100 more used once.
  for (let r = 0; r < 2; r++) for (let i = 0; i < 200; i++) set.touch(i);
  for (let i = 200; i < 300; i++) set.touch(i);
  t.is(m.reclaim.shrink(50), 50);
  const evicted = [...set.shadows.keys()];
  t.is(evicted.length, 50);
  t.true(evicted.every((i) => i >= 200), "the inactive pages went, the active ones stayed");
  for (const i of evicted) set.touch(i);
  const vm = m.vmstat.toObject();
  t.is(vm.workingset_refault_file, 50);
  t.is(vm.workingset_activate_file, 50, "refault distance 50 ≤ 200 active pages: all activated");
  t.is(m.meminfo()["Inactive(file)"] + m.meminfo()["Active(file)"], (300 * PAGE_SIZE) / 1024);
  // The active/inactive split is the policy's: its active list, in pages (all order 0 here).
  const active = (m.reclaim.policy.counters!() as { nr_active_file: number }).nr_active_file;
  t.true(active >= 100 && active < 300, `${active} pages active: most of those used twice, and the refaults, less what rebalancing moved back`);
  t.is(m.meminfo()["Active(file)"], (active * PAGE_SIZE) / 1024);
  t.is(m.meminfo().Active, (active * PAGE_SIZE) / 1024, "no anonymous pages");
  t.is(m.vmstat.toObject().nr_active_file, active);
  t.is(m.vmstat.toObject().nr_inactive_file, 300 - active);
});

/** Insertion order only. */
class TestFifo implements EvictionPolicy {
  readonly name = "test-fifo";
  private readonly order: number[] = [];
  get size(): number {
    return this.order.length;
  }
  resize(): void {}
  insert(key: number): void {
    this.order.push(key);
  }
  access(): void {}
  evict(): number {
    return this.order.shift() ?? -1;
  }
  shadow(): number {
    return -1;
  }
  keep(key: number): void {
    this.order.push(key);
  }
  remove(key: number): void {
    const i = this.order.indexOf(key);
    if (i >= 0) this.order.splice(i, 1);
  }
}

test("allocation failures can be injected: ENOMEM that says so, nothing changed, and off again", (t) => {
  const m = Machine.boot({ memory: "8MiB" });
  let failing = false;
  m.pages.injectFailures(() => failing);
  const first = m.folios.alloc(0, Gfp.Movable);
  const before = m.vmstat.toObject().nr_free_pages;
  failing = true;
  const msg = expectError(t, "ENOMEM", () => m.folios.alloc(0, Gfp.Movable), /allocation failed by fault injection/);
  t.notRegex(msg, /OOM/, "no OOM report: memory is plentiful");
  t.is(m.vmstat.toObject().pgalloc_fail_injected, 1);
  t.is(m.vmstat.toObject().nr_free_pages, before, "the failed call took nothing");
  m.pages.injectFailures(undefined);
  for (let i = 0; i < 10; i++) m.folios.put(m.folios.alloc(0, Gfp.Movable));
  m.folios.put(first);
  t.deepEqual(m.verify(), []);
});

test("hits on a referenced active page skip the policy until its epoch moves, with the same outcome as calling it", (t) => {
  let calls = 0;
  registerEvictionPolicy("counting-linux", () => {
    const inner = new LinuxPolicy();
    const access = inner.access.bind(inner);
    inner.access = (key: number, hint?: number) => {
      calls++;
      return access(key, hint);
    };
    return inner;
  });
  const runs = ["counting-linux", "linux"].map((policy) => {
    const m = Machine.boot({ memory: "8MiB", evictionPolicy: policy });
    const set = new PageSet(m);
    for (let i = 0; i < 600; i++) set.touch(i);
    const before = calls;
    for (let r = 0; r < 20; r++) for (let i = 0; i < 100; i++) set.touch(i);
    const hitCalls = calls - before;
    m.reclaim.shrink(560); // more than the inactive list: deactivations advance the epoch, the next hits ask the policy
    const afterShrink = calls;
    for (let i = 0; i < 100; i++) set.touch(i);
    return { hitCalls, callsAfterShrink: calls - afterShrink, counters: m.vmstat.toObject(), resident: [...set.resident.keys()] };
  });
  const [counted, plain] = runs;
  t.true(counted!.hitCalls <= 300, `2,000 hits on 100 pages asked the policy ${counted!.hitCalls} times (three per page at most)`);
  t.true(counted!.counters["pgdeactivate"]! > 0);
  t.true(counted!.callsAfterShrink > 0, "after deactivations the policy is asked again");
  t.deepEqual(counted!.resident, plain!.resident, "the same pages stayed");
  t.is(counted!.counters["pgactivate"], plain!.counters["pgactivate"]);
  t.is(counted!.counters["pgdeactivate"], plain!.counters["pgdeactivate"]);
});
