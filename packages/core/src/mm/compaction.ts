/**
 * Memory compaction (mm/compaction.c): moving movable folios out of the way so that free memory
 * comes together in large blocks.
 *
 * One pass ({@link Compaction.compact}, Linux's compact_zone) runs two scanners towards each other,
 * pageblock by pageblock. The **migrate scanner** walks up from the lowest frame and moves every
 * movable folio it finds (`Migration.migrateFolio`, caller Compaction); the **free scanner** walks
 * down from the highest pageblock and takes free buddy blocks off the free lists
 * (`PageAllocator.isolateFreeBlock`), which become the targets of those moves
 * (`FolioTable.allocIsolated`). Folios thus flow upwards, free space downwards, and the pageblocks
 * the migrate scanner has emptied merge into large free blocks. The pass stops when a free block
 * of the requested order exists (success), or when the scanners meet (complete). Every frame is
 * judged from its struct page alone: free frames and non-folios (slab, page tables…) are passed
 * over, a folio the cheap checks say cannot move (locked, pinned, under writeback, hugetlb, no
 * owner) is skipped as a unit, and one its owner refuses to move stays where it was; both count
 * as failed.
 *
 * Compaction runs three ways, as in Linux:
 *  - **direct compaction** — a step of the allocator's slow path for orders above 0, tried before
 *    direct reclaim in each round: a pass for the failing allocation, with Linux's deferral after
 *    failures (defer_compaction, compaction_deferred: 1, 2, 4 … 64 attempts skipped);
 *  - **on request** — {@link Compaction.compact}, e.g. the whole zone as /proc/sys/vm/compact_memory;
 *  - **kcompactd** — a background task on the machine's scheduler. It is woken with an order when
 *    an opportunistic (no-retry) direct compaction failed, and — for proactive compaction — by
 *    allocations that find free memory low (where Linux wakes kswapd). When woken for the latter it
 *    checks the fragmentation score 500 ms later; above the high mark (proactiveness 20: 90) it
 *    compacts the whole zone until the score is at the low mark (80), and checks again 500 ms later
 *    only while that made progress. Linux's kcompactd wakes every 500 ms regardless; here an idle
 *    machine has no timer pending, so the scheduler drains and waits still detect deadlocks.
 */
import { MILLISECOND, type Scheduler, type Timer } from "../engine/scheduler.js";
import { fail, isFolioError } from "../errors.js";
import { TracePoint, type Tracer } from "../trace.js";
import { checkInt } from "../units.js";
import type { FolioTable } from "./folio.js";
import { MemdescType, PageFlag, type MemMap } from "./memmap.js";
import type { Migration } from "./migrate.js";
import { Gfp, MAX_ORDER, MigrateType, NR_ORDERS, PAGEBLOCK_FRAMES, PAGEBLOCK_ORDER, type PageAllocator } from "./page-alloc.js";
import { PageOpCaller, PageOpResult } from "./page-owner.js";
import { contigPageInfo, fragmentationIndex } from "./reports.js";
import { Stat, VmEvent, type VmStat } from "./vmstat.js";

/** Order whose free blocks the fragmentation score measures: a PMD-sized huge page (HPAGE_PMD_ORDER). */
export const COMPACTION_HPAGE_ORDER = PAGEBLOCK_ORDER;
/** Deferral never skips more than 2^6 = 64 attempts in a row (COMPACT_MAX_DEFER_SHIFT). */
export const COMPACT_MAX_DEFER_SHIFT = 6;
/** Default `vm.compaction_proactiveness`. */
export const DEFAULT_COMPACTION_PROACTIVENESS = 20;
/** `vm.extfrag_threshold`: costly orders with a fragmentation index at or below it need reclaim, not compaction. */
export const EXTFRAG_THRESHOLD = 500;
/** Orders above this are costly (PAGE_ALLOC_COSTLY_ORDER): compaction wants the low watermark for them. */
const PAGE_ALLOC_COSTLY_ORDER = 3;
/** Free pages the free scanner takes at a time at least (COMPACT_CLUSTER_MAX). */
const COMPACT_CLUSTER_MAX = 32;
/** kcompactd's proactive check interval (HPAGE_FRAG_CHECK_INTERVAL_MSEC). */
const PROACTIVE_CHECK_NS = 500 * MILLISECOND;

/**
 * How a compaction pass ended (Linux's enum compact_result, the values a caller sees):
 * - `success`: a free block of the requested order exists (or, proactive, the score reached the low mark);
 * - `complete`: the scanners met after a pass over the whole zone without reaching the goal;
 * - `partial-skipped`: the scanners met, but the pass had resumed where an earlier one stopped;
 * - `skipped`: not run, because free memory is too low for the copies or the failure is not one of
 *   fragmentation (reclaim's job);
 * - `deferred`: not run, because recent passes for this order failed;
 * - `contended`: stopped early, free memory for the copies ran out (Linux: -ENOMEM from migrate_pages).
 */
export type CompactStatus = "success" | "complete" | "partial-skipped" | "skipped" | "deferred" | "contended";

/**
 * How hard a pass tries (Linux's migrate modes): `async` moves folios out of movable pageblocks
 * only, tells owners it cannot wait, and gives up on an order-sized block at its first unmovable
 * page; `sync` (MIGRATE_SYNC_LIGHT) moves them out of any pageblock; both resume where the last
 * pass of their kind stopped. `full` (MIGRATE_SYNC, whole zone) starts over from both ends.
 */
export type CompactMode = "async" | "sync" | "full";

/** Who asked: the allocator's slow path, kcompactd for an order, kcompactd's proactive check, or a user. */
export type CompactReason = "direct" | "kcompactd" | "proactive" | "manual";

/** A request to {@link Compaction.compact}. */
export interface CompactRequest {
  /**
   * The order of the free block wanted, 0..MAX_ORDER, or −1 for none: compact the whole zone
   * (with reason `proactive`: until the fragmentation score reaches the low mark).
   */
  readonly order: number;
  /** Default `sync`, or `full` for order −1. */
  readonly mode?: CompactMode;
  /** Default `manual`. */
  readonly reason?: CompactReason;
}

/** What one compaction pass did. Counts are frames or pages; `failed` includes folios the scanner could not even try. */
export interface CompactResult {
  /** How the pass ended; see {@link CompactStatus}. */
  readonly status: CompactStatus;
  /** The order the pass worked for, or −1 for a whole-zone pass. */
  readonly order: number;
  /** The migrate mode the pass ran in. */
  readonly mode: CompactMode;
  /** Who started the pass. */
  readonly reason: CompactReason;
  /** Frames the migrate scanner stepped over / the free scanner looked at. */
  readonly migrateScanned: number;
  /** Frames the free scanner looked at for target blocks. */
  readonly freeScanned: number;
  /** Pages of free blocks the free scanner took as targets. */
  readonly freeIsolated: number;
  /** Pages of folios moved. */
  readonly migrated: number;
  /** Pages of folios that stayed: unmovable by the cheap checks, or refused by migration (locked, pinned, under writeback, no target). */
  readonly failed: number;
  /** Why it ended, in words. */
  readonly detail: string;
}

/** The deferral state (struct zone's compact_considered, compact_defer_shift, compact_order_failed). */
export interface CompactDeferState {
  /**
   * Attempts at a deferred order skipped since the last failure (compact_considered); at most
   * 2^{@link deferShift}.
   */
  readonly considered: number;
  /**
   * After a failure, up to 2^deferShift attempts are skipped (compact_defer_shift); 0 after a
   * success, at most 6.
   */
  readonly deferShift: number;
  /**
   * Lowest order whose compaction failed since the last success (compact_order_failed); smaller
   * orders are never deferred.
   */
  readonly orderFailed: number;
}

/** Options for {@link Compaction}, from the machine's config. */
export interface CompactionOptions {
  /** Direct compaction and kcompactd run (CONFIG_COMPACTION); explicit passes work either way. */
  readonly enabled: boolean;
  /** `vm.compaction_proactiveness`, 0..100; 0 turns proactive compaction off. */
  readonly proactiveness: number;
}

/** The state of one pass (struct compact_control). */
class Control {
  migrateScanned = 0;
  freeScanned = 0;
  freeIsolated = 0;
  migrated = 0;
  failed = 0;
  /** Folios handed to migration (each frees its source or its target to the per-CPU lists). */
  attempted = 0;
  /** Isolation stopped at the min watermark: no more targets can be had. */
  outOfFree = false;
  /** Heads of the isolated free blocks held, by order (cc->freepages). */
  readonly free: number[][] = Array.from({ length: NR_ORDERS }, () => []);

  constructor(
    readonly order: number,
    readonly mode: CompactMode,
    readonly reason: CompactReason,
    /** Next frame of the migrate scanner; pageblock-aligned between blocks. */
    public migratePfn: number,
    /** Next frame of the free scanner, which scans its pageblock upwards and pageblocks downwards. */
    public freePfn: number,
    readonly wholeZone: boolean,
  ) {}
}

/**
 * Compaction for one machine (`machine.compaction`). Created at boot; registers direct compaction
 * in the allocator's slow path and kcompactd's wake-up with the allocator's low-watermark hooks
 * (unless disabled). Synchronous: a pass is complete when its call returns.
 */
export class Compaction {
  private running = false;
  private proactivenessValue: number;
  private considered = 0;
  private deferShift = 0;
  private orderFailed = 0;
  /** Where the last async / sync pass stopped (compact_cached_migrate_pfn[2], compact_cached_free_pfn). */
  private readonly cachedMigratePfn = [0, 0];
  private cachedFreePfn: number;
  private kcompactdTimer: Timer | undefined;
  private kcompactdOrder = 0;

  /**
   * Built once per machine at boot ({@link Machine.boot}) from `compaction` and
   * `compactionProactiveness` of its config; reach it as `machine.compaction`. Registers the
   * allocator's direct-compaction step.
   */
  constructor(
    private readonly pages: PageAllocator,
    private readonly folios: FolioTable,
    private readonly map: MemMap,
    private readonly migration: Migration,
    private readonly vm: VmStat,
    private readonly scheduler: Scheduler,
    private readonly trace: Tracer,
    private readonly options: CompactionOptions,
  ) {
    this.proactivenessValue = checkInt(options.proactiveness, 0, 100, "compaction proactiveness");
    this.cachedFreePfn = this.lastPageblock();
    if (options.enabled) {
      pages.addSlowPath((order, gfp) => this.directCompaction(order, gfp), true);
      pages.onLowWatermark(() => this.wakeKcompactd(0));
    }
  }

  /** `vm.compaction_proactiveness` (0..100): how low proactive compaction keeps the fragmentation score. */
  get proactiveness(): number {
    return this.proactivenessValue;
  }

  /** Sets `vm.compaction_proactiveness`; 0 turns proactive compaction off. Throws EINVAL outside 0..100. */
  set proactiveness(value: number) {
    this.proactivenessValue = checkInt(value, 0, 100, "compaction proactiveness");
  }

  /** Whether kcompactd has a run or a proactive check pending on the scheduler. */
  get kcompactdPending(): boolean {
    return this.kcompactdTimer !== undefined;
  }

  /**
   * Runs one compaction pass (compact_zone) and returns what it did. A pass for an order first
   * checks that it is worth running (compaction_suitable): `success` at once if the allocation
   * would succeed already, `skipped` if free memory is at or below the watermark plus twice the
   * request (no room for the copies) or, for costly orders, the fragmentation index says the
   * memory is short rather than fragmented. Deferral is the caller's (direct compaction, kcompactd).
   * Throws EINVAL for a bad request, EBUSY when called from inside a pass (an allocation a pass made).
   */
  compact(request: CompactRequest): CompactResult {
    if (typeof request !== "object" || request === null) throw fail("EINVAL", "compaction request must be an object such as { order: 9 }");
    const order = checkInt(request.order, -1, MAX_ORDER, "compaction order");
    const mode = request.mode ?? (order < 0 ? "full" : "sync");
    if (mode !== "async" && mode !== "sync" && mode !== "full") throw fail("EINVAL", `compaction mode ${String(mode)} is not async, sync or full`);
    const reason = request.reason ?? "manual";
    if (!["direct", "kcompactd", "proactive", "manual"].includes(reason)) throw fail("EINVAL", `compaction reason ${String(reason)} is not direct, kcompactd, proactive or manual`);
    if (reason === "proactive" && order !== -1) throw fail("EINVAL", `proactive compaction has no order (got ${order}): it works towards the fragmentation score`);
    if (this.running) throw fail("EBUSY", "a compaction pass is already running (this call came from inside it)");
    return this.run(order, mode, reason, true);
  }

  /**
   * Direct compaction for a failed allocation of 2^order (try_to_compact_pages): skipped while
   * deferred (counted as compact_deferred), else one pass — async for a no-retry allocation, sync
   * otherwise — repeated once over the whole zone if it had resumed mid-zone and found nothing.
   * Counts compact_stall when a pass ran, compact_success or compact_fail by its outcome; a
   * failed sync pass defers the order, a success resets deferral; a failed async pass wakes
   * kcompactd to try harder in the background. The allocator's slow path calls it (order > 0);
   * tests may call it. Throws EINVAL for a bad order, EBUSY from inside a pass.
   */
  tryToCompact(order: number, gfp: number): CompactResult {
    checkInt(order, 0, MAX_ORDER, "compaction order");
    if (this.running) throw fail("EBUSY", "a compaction pass is already running (this call came from inside it)");
    const mode: CompactMode = gfp & Gfp.NoRetry ? "async" : "sync";
    if (this.deferred(order)) {
      this.vm.events[VmEvent.CompactDeferred]++;
      const d = this.deferState();
      return emptyResult(order, mode, "direct", "deferred", `order ${order} deferred after failures (${d.considered} of ${1 << d.deferShift} attempts skipped)`);
    }
    const early = this.suitable(order);
    if (early !== undefined) return emptyResult(order, mode, "direct", early.status, early.detail);
    this.vm.events[VmEvent.CompactStall]++;
    let r = this.run(order, mode, "direct", false);
    // Resumed mid-zone and met: the part before the cached positions may hold what is needed.
    if (r.status === "partial-skipped") r = combine(r, this.run(order, mode, "direct", true));
    if (r.status === "success") {
      this.vm.events[VmEvent.CompactSuccess]++;
      this.deferReset(order, true);
    } else {
      this.vm.events[VmEvent.CompactFail]++;
      if (mode !== "async" && (r.status === "complete" || r.status === "partial-skipped")) this.defer(order);
      if (mode === "async" && r.status !== "skipped") this.wakeKcompactd(order);
    }
    return r;
  }

  /**
   * Wakes kcompactd (wakeup_kcompactd). With an order above 0 it runs as soon as the scheduler
   * gets to it and compacts for that order (sync, with deferral); with order 0 — the allocator's
   * low-watermark hook — only a proactive check is scheduled, 500 ms later, and only when
   * proactive compaction is on. At most one run is pending; it only schedules, never compacts
   * inline. Does nothing when compaction is disabled. Throws EINVAL for a bad order.
   */
  wakeKcompactd(order: number): void {
    checkInt(order, 0, MAX_ORDER, "kcompactd order");
    if (!this.options.enabled) return;
    if (order > 0) {
      this.kcompactdOrder = Math.max(this.kcompactdOrder, order);
      if (this.kcompactdTimer !== undefined && this.kcompactdTimer.at > this.scheduler.now) {
        this.scheduler.cancel(this.kcompactdTimer);
        this.kcompactdTimer = undefined;
      }
      this.kcompactdTimer ??= this.scheduler.after(0, "kcompactd", () => this.kcompactd());
    } else if (this.proactivenessValue > 0 && this.kcompactdTimer === undefined) {
      this.kcompactdTimer = this.scheduler.after(PROACTIVE_CHECK_NS, "kcompactd (proactive check)", () => this.kcompactd());
    }
  }

  /**
   * The zone's fragmentation score (fragmentation_score_zone): the percentage of free memory in
   * blocks smaller than a huge page (order 9), 0 when nothing is free.
   */
  fragmentationScore(): number {
    const info = contigPageInfo(this.pages, COMPACTION_HPAGE_ORDER);
    if (info.freePages === 0) return 0;
    return Math.floor(((info.freePages - info.freeBlocksSuitable * (1 << COMPACTION_HPAGE_ORDER)) * 100) / info.freePages);
  }

  /** The low and high marks of the score (fragmentation_score_wmark): 100 − proactiveness (at least 5), and 10 above. */
  scoreWatermarks(): {
    /** kcompactd stops proactive compaction once the score is at or below this. */
    low: number;
    /** kcompactd starts proactive compaction while the score is above this. */
    high: number;
  } {
    const low = Math.max(100 - this.proactivenessValue, 5);
    return { low, high: Math.min(low + 10, 100) };
  }

  /** The deferral state, for reports and tests. */
  deferState(): CompactDeferState {
    return { considered: this.considered, deferShift: this.deferShift, orderFailed: this.orderFailed };
  }

  /** The allocator's slow-path step: direct compaction for orders above 0; true if a block of the order is free now. */
  private directCompaction(order: number, gfp: number): boolean {
    if (order === 0 || this.running || gfp & Gfp.Atomic) return false;
    return this.tryToCompact(order, gfp).status === "success";
  }

  /** kcompactd's run: the order it was woken for, then the proactive check. */
  private kcompactd(): void {
    this.kcompactdTimer = undefined;
    if (this.running) {
      // A pass is waiting inside an allocation (throttled reclaim ran the scheduler): come back later.
      this.kcompactdTimer = this.scheduler.after(PROACTIVE_CHECK_NS, "kcompactd (retry)", () => this.kcompactd());
      return;
    }
    const order = this.kcompactdOrder;
    this.kcompactdOrder = 0;
    let worked = false;
    if (order > 0 && !this.deferred(order)) {
      const r = this.run(order, "sync", "kcompactd", true);
      if (r.migrateScanned > 0) worked = true;
      if (r.status === "success") this.deferReset(order, false);
      else if (r.status === "complete" || r.status === "partial-skipped") this.defer(order);
    }
    let again = false;
    if (this.shouldProactiveCompact()) {
      worked = true;
      const before = this.nodeScore();
      this.run(-1, "sync", "proactive", true);
      const after = this.nodeScore();
      // Check again only while it helps: a pass that gained nothing would gain nothing next time.
      again = after < before && after > this.scoreWatermarks().high;
    }
    if (worked) this.vm.events[VmEvent.CompactDaemonWake]++;
    if (again) this.kcompactdTimer ??= this.scheduler.after(PROACTIVE_CHECK_NS, "kcompactd (proactive check)", () => this.kcompactd());
  }

  /**
   * should_proactive_compact_node: proactiveness on and the node's score above the high mark — and
   * (Folio) enough free memory for one free huge page beyond compaction's reserve, without which
   * no pass could lower the score (Linux would try and back off).
   */
  private shouldProactiveCompact(): boolean {
    if (this.proactivenessValue === 0 || this.nodeScore() <= this.scoreWatermarks().high) return false;
    return this.vm.stat[Stat.FreePages]! > this.pages.watermarks.low + (2 << COMPACTION_HPAGE_ORDER);
  }

  /** fragmentation_score_node: the zone's score weighted by its share of the node (present / (node present + 1)). */
  private nodeScore(): number {
    const frames = this.map.frames;
    return Math.floor((frames * this.fragmentationScore()) / (frames + 1));
  }

  /**
   * compaction_suit_allocation_order: `success` if an allocation of the order would succeed at the
   * min watermark now, `skipped` if compaction cannot or should not help, undefined to go ahead.
   */
  private suitable(order: number): { status: CompactStatus; detail: string } | undefined {
    const free = this.vm.stat[Stat.FreePages]!;
    const marks = this.pages.watermarks;
    if (free - ((1 << order) - 1) > marks.min && this.freeBlockOf(order)) {
      return { status: "success", detail: `a free block of order ${order} or more exists already` };
    }
    // Room for the copies: the watermark the allocation needs, plus twice the request (compact_gap).
    const mark = (order > PAGE_ALLOC_COSTLY_ORDER ? marks.low : marks.min) + (2 << order);
    if (free <= mark) return { status: "skipped", detail: `${free} pages free; compaction for order ${order} needs more than ${mark}` };
    if (order > PAGE_ALLOC_COSTLY_ORDER) {
      const index = fragmentationIndex(contigPageInfo(this.pages, order), order);
      if (index >= 0 && index <= EXTFRAG_THRESHOLD) {
        return { status: "skipped", detail: `fragmentation index ${index} for order ${order} is at most ${EXTFRAG_THRESHOLD}: memory is short, not fragmented` };
      }
    }
    return undefined;
  }

  /** Whether a free block of at least `order` is on an allocatable list (the test of __compact_finished). */
  private freeBlockOf(order: number): boolean {
    for (let o = order; o <= MAX_ORDER; o++) {
      for (let mt = 0; mt < MigrateType.Isolate; mt++) if (this.pages.freeBlocks(o, mt) > 0) return true;
    }
    return false;
  }

  /** One pass (compact_zone). */
  private run(order: number, mode: CompactMode, reason: CompactReason, checkSuitable: boolean): CompactResult {
    if (checkSuitable && order >= 0) {
      const early = this.suitable(order);
      if (early !== undefined) return this.traced(emptyResult(order, mode, reason, early.status, early.detail));
    }
    const resumable = mode !== "full" && order >= 0;
    const sync = mode === "async" ? 0 : 1;
    const last = this.lastPageblock();
    let migratePfn = resumable ? this.cachedMigratePfn[sync]! : 0;
    let freePfn = resumable ? this.cachedFreePfn : last;
    if (freePfn < 0 || freePfn > last) freePfn = last;
    if (migratePfn < 0 || migratePfn >= this.map.frames) migratePfn = 0;
    const cc = new Control(order, mode, reason, migratePfn, freePfn, migratePfn === 0);
    this.running = true;
    let status: CompactStatus | undefined;
    let detail = "";
    try {
      while ((status = this.finished(cc)) === undefined) {
        const start = cc.migratePfn;
        const end = Math.min(((start >> PAGEBLOCK_ORDER) + 1) << PAGEBLOCK_ORDER, this.map.frames);
        if (this.suitableSource(cc, start)) {
          const before = cc.attempted;
          this.migrateBlock(cc, start, end);
          // What was moved out of this pageblock is on the per-CPU lists: let it merge.
          if (cc.attempted > before) this.pages.drainPerCpuLists();
          if (cc.outOfFree) {
            status = "contended";
            detail = "free memory for the copies ran out at the min watermark";
            break;
          }
        }
        cc.migratePfn = end;
      }
    } finally {
      for (const list of cc.free) {
        for (const pfn of list) this.pages.putbackIsolated(pfn);
        list.length = 0;
      }
      // A pass that found nothing to move leaves memory exactly as it was, per-CPU lists included.
      if (cc.attempted > 0) this.pages.drainPerCpuLists();
      this.running = false;
    }
    if (status !== "complete" && status !== "partial-skipped" && resumable) {
      this.cachedMigratePfn[sync] = cc.migratePfn;
      this.cachedFreePfn = (cc.freePfn >> PAGEBLOCK_ORDER) << PAGEBLOCK_ORDER;
    }
    this.vm.events[VmEvent.CompactMigrateScanned] += cc.migrateScanned;
    this.vm.events[VmEvent.CompactFreeScanned] += cc.freeScanned;
    if (detail === "") detail = describeEnd(status, order, reason);
    return this.traced({
      status, order, mode, reason, migrateScanned: cc.migrateScanned, freeScanned: cc.freeScanned, freeIsolated: cc.freeIsolated,
      migrated: cc.migrated, failed: cc.failed, detail,
    });
  }

  /** Emits the compaction tracepoint for a pass (mm_compaction_end) and returns its result. */
  private traced(r: CompactResult): CompactResult {
    if (this.trace.enabled & TracePoint.Compaction) {
      this.trace.emit({ point: "compaction", order: r.order, status: r.status, migrated: r.migrated, scanned: r.migrateScanned });
    }
    return r;
  }

  /** __compact_finished, checked between pageblocks: undefined to continue. */
  private finished(cc: Control): CompactStatus | undefined {
    if (cc.freePfn >> PAGEBLOCK_ORDER <= cc.migratePfn >> PAGEBLOCK_ORDER) {
      // Let the next pass start anew from both ends.
      this.cachedMigratePfn[0] = this.cachedMigratePfn[1] = 0;
      this.cachedFreePfn = this.lastPageblock();
      return cc.wholeZone ? "complete" : "partial-skipped";
    }
    if (cc.reason === "proactive") return this.fragmentationScore() > this.scoreWatermarks().low ? undefined : "success";
    if (cc.order < 0) return undefined;
    return this.freeBlockOf(cc.order) ? "success" : undefined;
  }

  /** suitable_migration_source: async passes take only movable pageblocks; none takes an isolated one. */
  private suitableSource(cc: Control, pfn: number): boolean {
    const mt = this.pages.pageblockMigrateType(pfn);
    return mt !== MigrateType.Isolate && (cc.mode !== "async" || mt === MigrateType.Movable);
  }

  /**
   * suitable_migration_target: a movable pageblock, unless it starts with a free block that already
   * serves the request (or is a whole free pageblock): breaking that up would undo the work.
   */
  private suitableTarget(cc: Control, start: number): boolean {
    if (this.pages.pageblockMigrateType(start) !== MigrateType.Movable) return false;
    const map = this.map;
    return !(map.flags[start]! & PageFlag.Buddy && map.order[start]! >= (cc.order > 0 ? cc.order : PAGEBLOCK_ORDER));
  }

  /** isolate_migratepages_block + migrate_pages for one pageblock, [start, end): moves what can move. */
  private migrateBlock(cc: Control, start: number, end: number): void {
    const map = this.map;
    const f = this.folios;
    // Async direct compaction gives up on an order-sized block at its first page that stays.
    const giveUpBlock = cc.mode === "async" && cc.order > 0;
    // A folio as large as the goal cannot help reach it, and no target could be found for it.
    const largest = cc.order > 0 ? cc.order : PAGEBLOCK_ORDER;
    const options = { caller: PageOpCaller.Compaction, allocate: (o: number) => this.allocTarget(cc, o), mayNotBlock: cc.mode === "async" };
    for (let pfn = start; pfn < end; ) {
      const type = map.type[pfn]!;
      const flags = map.flags[pfn]!;
      let next: number;
      if (type === MemdescType.Folio || type === MemdescType.Hugetlb) {
        const folio = map.ref[pfn]!;
        const nr = f.nrPages(folio);
        next = f.pfn(folio) + nr;
        cc.migrateScanned += next - pfn;
        if (type === MemdescType.Folio && f.order(folio) < largest && this.migration.isMovable(folio)) {
          this.vm.events[VmEvent.CompactIsolated] += nr;
          cc.attempted++;
          const out = this.migration.migrateFolio(folio, options);
          if (out.result === PageOpResult.Done) {
            cc.migrated += nr;
            pfn = next;
            continue;
          }
          if (cc.outOfFree) {
            cc.failed += nr;
            return;
          }
        }
        cc.failed += nr;
      } else if (type === MemdescType.Buddy || type === MemdescType.PerCpu) {
        next = flags & PageFlag.Buddy ? pfn + (1 << map.order[pfn]!) : pfn + 1;
        cc.migrateScanned += next - pfn;
        pfn = next;
        continue;
      } else {
        next = flags & PageFlag.Head ? pfn + (1 << map.order[pfn]!) : pfn + 1;
        cc.migrateScanned += next - pfn;
      }
      // Something in [pfn, next) stays where it is.
      if (giveUpBlock) next = Math.max(next, (pfn | ((1 << cc.order) - 1)) + 1);
      pfn = next;
    }
  }

  /** compaction_alloc: a target folio of 2^order from the isolated free blocks, isolating more as needed; 0 if none. */
  private allocTarget(cc: Control, order: number): number {
    let pfn = takeFree(cc, order);
    if (pfn < 0) {
      this.isolateFreepages(cc, order);
      pfn = takeFree(cc, order);
    }
    if (pfn < 0) return 0;
    const blockOrder = this.map.order[pfn]!;
    let folio: number;
    try {
      folio = this.folios.allocIsolated(pfn, order);
    } catch (e) {
      cc.free[blockOrder]!.push(pfn);
      if (isFolioError(e, "ENOMEM")) return 0; // no memory for the descriptor: this folio stays
      throw e;
    }
    for (let k = order; k < blockOrder; k++) cc.free[k]!.push(pfn + (1 << k));
    return folio;
  }

  /**
   * isolate_freepages: walks pageblocks down from the free scanner's position (each upwards from
   * where it stopped), taking free buddy blocks out of suitable ones until it holds a cluster
   * (32 pages, or the order asked for) or reaches the migrate scanner's pageblock.
   */
  private isolateFreepages(cc: Control, order: number): void {
    const map = this.map;
    const target = Math.max(COMPACT_CLUSTER_MAX, 1 << order);
    let got = 0;
    while (got < target && !cc.outOfFree) {
      const block = cc.freePfn >> PAGEBLOCK_ORDER;
      if (block <= cc.migratePfn >> PAGEBLOCK_ORDER) return;
      const start = block << PAGEBLOCK_ORDER;
      const end = Math.min(start + PAGEBLOCK_FRAMES, map.frames);
      if (cc.freePfn === start && !this.suitableTarget(cc, start)) {
        cc.freePfn = start - PAGEBLOCK_FRAMES;
        continue;
      }
      let pfn = cc.freePfn;
      while (pfn < end && got < target) {
        const flags = map.flags[pfn]!;
        cc.freeScanned++;
        if (flags & PageFlag.Buddy) {
          const o = this.pages.isolateFreeBlock(pfn);
          if (o < 0) {
            cc.outOfFree = true;
            break;
          }
          cc.free[o]!.push(pfn);
          got += 1 << o;
          cc.freeIsolated += 1 << o;
          this.vm.events[VmEvent.CompactIsolated] += 1 << o;
          pfn += 1 << o;
        } else {
          pfn += flags & PageFlag.Head ? 1 << map.order[pfn]! : 1;
        }
      }
      cc.freePfn = pfn >= end ? start - PAGEBLOCK_FRAMES : pfn;
    }
  }

  /** compaction_deferred: true if this attempt at `order` is to be skipped (counts the attempt). */
  private deferred(order: number): boolean {
    if (order < this.orderFailed) return false;
    const limit = 1 << this.deferShift;
    if (++this.considered >= limit) {
      this.considered = limit;
      return false;
    }
    return true;
  }

  /** defer_compaction: a pass for `order` failed; skip twice as many attempts from now on (up to 64). */
  private defer(order: number): void {
    this.considered = 0;
    this.deferShift = Math.min(this.deferShift + 1, COMPACT_MAX_DEFER_SHIFT);
    if (order < this.orderFailed) this.orderFailed = order;
  }

  /** compaction_defer_reset: a pass for `order` succeeded (and, with `allocated`, so did the allocation). */
  private deferReset(order: number, allocated: boolean): void {
    if (allocated) {
      this.considered = 0;
      this.deferShift = 0;
    }
    if (order >= this.orderFailed) this.orderFailed = order + 1;
  }

  /** First frame of the last pageblock, where the free scanner starts. */
  private lastPageblock(): number {
    return ((this.map.frames - 1) >> PAGEBLOCK_ORDER) << PAGEBLOCK_ORDER;
  }
}

/** Takes an isolated free block of at least `order` from a pass's lists, smallest first; -1 if none. */
function takeFree(cc: Control, order: number): number {
  for (let o = order; o < NR_ORDERS; o++) {
    const list = cc.free[o]!;
    if (list.length > 0) return list.pop()!;
  }
  return -1;
}

function emptyResult(order: number, mode: CompactMode, reason: CompactReason, status: CompactStatus, detail: string): CompactResult {
  return { status, order, mode, reason, migrateScanned: 0, freeScanned: 0, freeIsolated: 0, migrated: 0, failed: 0, detail };
}

/** Two passes of one request as one result: the counts add up, the second says how it ended. */
function combine(a: CompactResult, b: CompactResult): CompactResult {
  return {
    ...b,
    migrateScanned: a.migrateScanned + b.migrateScanned,
    freeScanned: a.freeScanned + b.freeScanned,
    freeIsolated: a.freeIsolated + b.freeIsolated,
    migrated: a.migrated + b.migrated,
    failed: a.failed + b.failed,
  };
}

function describeEnd(status: CompactStatus, order: number, reason: CompactReason): string {
  switch (status) {
    case "success":
      return reason === "proactive" ? "the fragmentation score reached the low mark" : `a free block of order ${order} or more exists`;
    case "complete":
      return "the scanners met after a pass over the whole zone";
    default:
      return "the scanners met; the pass had resumed where an earlier one stopped";
  }
}
