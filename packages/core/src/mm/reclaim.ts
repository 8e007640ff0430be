/**
 * Memory reclaim (mm/vmscan.c): the LRU of reclaimable folios, kswapd, direct reclaim, shrinkers
 * and the out-of-memory report.
 *
 * Which folio goes is the eviction policy's choice ({@link EvictionPolicy}, chosen by name when the
 * machine boots; Linux's two lists by default). Everything else is here, and it talks to owners only
 * through the public page interface: a victim that is clean and idle is given back with
 * `release` (caller Reclaim, carrying the policy's shadow value for workingset detection); a dirty
 * one is never written from here, as in current Linux — reclaim skips it, counts it and wakes the
 * flusher; one under writeback or locked by someone else is skipped and counted. A victim the owner
 * keeps goes back to the policy with `keep`.
 *
 * Policy keys are stable page identities, `owner id × 2^32 + index`, so a policy that keeps its own
 * ghost history (ARC, S3-FIFO) recognises a page when it comes back; this module keeps the map from
 * key to the resident folio.
 */
import { type Timer, type Scheduler, MILLISECOND } from "../engine/scheduler.js";
import { fail } from "../errors.js";
import { type EvictionPolicy } from "./eviction.js";
import { FolioFlag, type FolioTable } from "./folio.js";
import { Gfp, type OomReport, type PageAllocator } from "./page-alloc.js";
import { PageOpCaller, PageOpResult, type OwnerRegistry } from "./page-owner.js";
import { Stat, VmEvent, type VmStat } from "./vmstat.js";

/**
 * A cache outside the LRU that can give memory back under pressure (struct shrinker): the VFS's
 * dentry and inode caches, the page cache's shadow entries. Reclaim asks each registered shrinker
 * to scan a share of its objects proportional to the share of the LRU it scanned.
 */
export interface Shrinker {
  /** Name for reports, e.g. `"dentry"`. */
  readonly name: string;
  /** Objects it could free now (count_objects). Must be cheap. */
  count(): number;
  /** Frees up to `nr` objects (scan_objects); returns how many it freed. Must not allocate or wait. */
  scan(nr: number): number;
}

/** Objects a shrinker is asked to scan at least, when it has them and reclaim scanned anything. */
const SHRINK_BATCH = 128;
/** Pages kswapd and direct reclaim try to free in one pass at least (SWAP_CLUSTER_MAX). */
const RECLAIM_BATCH = 32;
/** How long kswapd sleeps before retrying when it could free nothing (waiting for writeback). */
const KSWAPD_RETRY_NS = 100 * MILLISECOND;
/** Span of page indexes within one owner in a policy key. */
const INDEX_SPAN = 2 ** 32;

/** Counters of one machine's reclaim, for tests, reports and the OOM message. */
export interface ReclaimCounts {
  /** Folios on the LRU (tracked by the policy) and the pages they hold. */
  lruFolios: number;
  lruPages: number;
}

/**
 * The reclaim subsystem of one machine. Created at boot; the page cache adds its folios with
 * {@link add}, reports hits with {@link markAccessed} and removals with {@link remove}; the page
 * allocator calls it when free memory runs low (kswapd) or out (direct reclaim).
 */
export class Reclaim {
  private readonly folioOfKey = new Map<number, number>();
  private lruPages = 0;
  private readonly shrinkers = new Set<Shrinker>();
  private readonly dirtyPressureHooks: (() => void)[] = [];
  private kswapdTimer: Timer | undefined;
  private reclaiming = false;

  constructor(
    /** The eviction policy: which LRU folio goes next. */
    readonly policy: EvictionPolicy,
    private readonly folios: FolioTable,
    private readonly pages: PageAllocator,
    private readonly owners: OwnerRegistry,
    private readonly vm: VmStat,
    private readonly scheduler: Scheduler,
  ) {
    policy.resize(0);
    pages.onLowWatermark(() => this.wakeKswapd());
    pages.addSlowPath((order, gfp) => this.directReclaim(order, gfp));
    pages.setOomReporter((order) => this.oomReport(order));
  }

  /** The policy key of a folio: its owner and index, stable across eviction and refault. */
  keyOf(folio: number): number {
    return this.folios.owner(folio) * INDEX_SPAN + this.folios.index(folio);
  }

  /**
   * Puts a folio just inserted into its owner's index on the LRU (folio_add_lru). `shadow` is the
   * value the owner found in the index where the folio now is (what the policy gave at the page's
   * last eviction), or -1: a refault when ≥ 0. The folio must have its owner and index set.
   */
  add(folio: number, shadow: number): void {
    const f = this.folios;
    if (f.test(folio, FolioFlag.Lru)) throw fail("EINVAL", `folio ${folio} is already on the LRU`);
    const key = this.keyOf(folio);
    if (this.folioOfKey.has(key)) throw fail("EEXIST", `page ${f.index(folio)} of owner ${f.owner(folio)} is already on the LRU`);
    const nr = f.nrPages(folio);
    this.folioOfKey.set(key, folio);
    f.clear(folio, FolioFlag.Referenced);
    f.set(folio, FolioFlag.Lru);
    this.lruPages += nr;
    this.vm.stat[Stat.InactiveFile] += nr;
    if (shadow >= 0) this.vm.events[VmEvent.WorkingsetRefault] += nr;
    this.policy.insert(key, shadow);
  }

  /**
   * A use of a cached folio (folio_mark_accessed), from every read and write that touches it.
   * The first use since the folio was added only sets PG_referenced: the policy counts the miss
   * that brought a page in as its first use (its `insert`), and a folio read ahead is not used
   * until a read reaches it — so a page read once, however it came in, is never a hit to the
   * policy, and a one-time scan through readahead stays scan. Every later use is a hit
   * (`policy.access`). Allocates nothing.
   */
  markAccessed(folio: number): void {
    const f = this.folios;
    if (!f.testAndSet(folio, FolioFlag.Referenced)) return;
    if (f.test(folio, FolioFlag.Lru)) this.policy.access(this.keyOf(folio));
  }

  /**
   * Takes a folio off the LRU because its owner is dropping it (truncate, invalidation, memory
   * failure), not because of reclaim. Harmless for a folio that is not on it.
   */
  remove(folio: number): void {
    const f = this.folios;
    if (!f.testAndClear(folio, FolioFlag.Lru)) return;
    const key = this.keyOf(folio);
    this.folioOfKey.delete(key);
    this.unaccount(f.nrPages(folio));
    this.policy.remove(key);
  }

  /**
   * Moves LRU membership from `src` to `dst` during migration (the owner's `migrate` calls it once
   * `dst` holds the page): same key, same place in the policy's order.
   */
  replace(src: number, dst: number): void {
    const f = this.folios;
    if (!f.testAndClear(src, FolioFlag.Lru)) return;
    this.folioOfKey.set(this.keyOf(src), dst);
    f.set(dst, FolioFlag.Lru);
  }

  /** Registers a shrinker; reclaim calls it from now on. */
  registerShrinker(shrinker: Shrinker): void {
    this.shrinkers.add(shrinker);
  }

  /** Unregisters a shrinker (its cache is going away). */
  unregisterShrinker(shrinker: Shrinker): void {
    this.shrinkers.delete(shrinker);
  }

  /**
   * Registers what to do when reclaim skipped dirty folios (wakeup_flusher_threads): the page
   * cache's flusher registers its wake-up. Hooks must only schedule work.
   */
  onDirtyPressure(hook: () => void): void {
    this.dirtyPressureHooks.push(hook);
  }

  /** Folios and pages on the LRU. */
  counts(): ReclaimCounts {
    return { lruFolios: this.folioOfKey.size, lruPages: this.lruPages };
  }

  /** Free pages as the watermarks count them (buddy lists and per-CPU lists). */
  freePages(): number {
    return this.vm.stat[Stat.FreePages]! + this.vm.stat[Stat.PerCpuPages]!;
  }

  /**
   * Schedules kswapd if free memory is at or below the low watermark (wakeup_kswapd). Called by
   * the page allocator's slow path; never reclaims inline.
   */
  wakeKswapd(): void {
    if (this.kswapdTimer !== undefined || this.freePages() > this.pages.watermarks.low) return;
    this.kswapdTimer = this.scheduler.after(0, "kswapd", () => this.kswapd());
  }

  /**
   * Frees at least `nrPages` pages if it can (shrink_node): LRU victims first, then shrinkers in
   * proportion. Returns pages freed from the LRU plus objects freed by shrinkers. Scans each LRU
   * folio at most once per call, so it ends even when nothing can go. `direct` counts it as direct
   * reclaim (an allocation waiting) rather than kswapd's.
   */
  shrink(nrPages: number, direct = false): number {
    if (this.reclaiming) return 0; // release() of an owner allocated: no recursion into reclaim
    this.reclaiming = true;
    try {
      const lruBefore = this.folioOfKey.size;
      const { scanned, freed } = this.shrinkLru(nrPages, direct);
      return freed + this.shrinkSlab(scanned, lruBefore);
    } finally {
      this.reclaiming = false;
    }
  }

  private shrinkLru(target: number, direct: boolean): { scanned: number; freed: number } {
    const policy = this.policy;
    const f = this.folios;
    const ev = this.vm.events;
    policy.resize(this.folioOfKey.size);
    const limit = policy.size;
    let scanned = 0;
    let freed = 0;
    let skippedDirty = false;
    while (freed < target && scanned < limit) {
      const key = policy.evict();
      if (key < 0) break;
      scanned++;
      const folio = this.folioOfKey.get(key);
      if (folio === undefined) throw fail("EINVAL", `eviction policy ${policy.name} chose key ${key}, which is not on the LRU`);
      const nr = f.nrPages(folio);
      ev[direct ? VmEvent.PgscanDirect : VmEvent.PgscanKswapd] += nr;
      const result = this.tryRelease(folio, policy.shadow(key));
      if (result === PageOpResult.Done) {
        this.folioOfKey.delete(key);
        this.unaccount(nr);
        freed += nr;
        ev[direct ? VmEvent.PgstealDirect : VmEvent.PgstealKswapd] += nr;
      } else {
        if (f.test(folio, FolioFlag.Dirty)) skippedDirty = true;
        policy.keep(key);
      }
    }
    if (skippedDirty) for (const hook of this.dirtyPressureHooks) hook();
    return { scanned, freed };
  }

  /** Isolates, locks and offers one victim to its owner; puts it back unless the owner let it go. */
  private tryRelease(folio: number, shadow: number): PageOpResult {
    const f = this.folios;
    const ev = this.vm.events;
    const nr = f.nrPages(folio);
    if (f.test(folio, FolioFlag.Writeback)) {
      ev[VmEvent.ReclaimSkipWriteback] += nr;
      return PageOpResult.Busy;
    }
    if (f.test(folio, FolioFlag.Dirty)) {
      ev[VmEvent.ReclaimSkipDirty] += nr;
      return PageOpResult.Busy;
    }
    const owner = this.owners.get(f.owner(folio));
    if (owner === undefined || f.testAndSet(folio, FolioFlag.Locked)) {
      ev[VmEvent.ReclaimSkipBusy] += nr;
      return PageOpResult.Busy;
    }
    // Reclaim's own reference (folio_isolate_lru): the folio outlives release until the put below.
    f.get(folio);
    f.clear(folio, FolioFlag.Lru);
    f.set(folio, FolioFlag.Isolated);
    let result: PageOpResult = PageOpResult.Failed;
    try {
      result = owner.release(folio, { caller: PageOpCaller.Reclaim, shadow });
    } finally {
      f.clear(folio, FolioFlag.Isolated | FolioFlag.Locked);
      if (result !== PageOpResult.Done) {
        f.set(folio, FolioFlag.Lru);
        ev[VmEvent.ReclaimKept] += nr;
      }
      f.put(folio);
    }
    return result;
  }

  /** shrink_slab: each shrinker scans the share of its objects that reclaim scanned of the LRU. */
  private shrinkSlab(scanned: number, lruSize: number): number {
    let freed = 0;
    for (const s of this.shrinkers) {
      const freeable = s.count();
      if (freeable <= 0) continue;
      const share = lruSize > 0 ? Math.ceil((freeable * scanned) / lruSize) : freeable;
      const nr = Math.min(freeable, Math.max(share, Math.min(SHRINK_BATCH, freeable)));
      this.vm.events[VmEvent.SlabsScanned] += nr;
      freed += s.scan(nr);
    }
    return freed;
  }

  /**
   * kswapd (balance_pgdat): reclaims until free memory is above the high watermark. When a pass
   * frees nothing (everything left is dirty or under writeback) it sleeps and tries again while
   * memory is still low, so the flusher's progress is picked up without anyone waiting inline.
   */
  private kswapd(): void {
    this.kswapdTimer = undefined;
    this.vm.events[VmEvent.KswapdWake]++;
    const marks = this.pages.watermarks;
    let progress = true;
    while (this.freePages() < marks.high && progress) {
      progress = this.shrink(Math.max(RECLAIM_BATCH, marks.high - this.freePages())) > 0;
    }
    if (this.freePages() <= marks.low && this.folioOfKey.size > 0) {
      this.kswapdTimer = this.scheduler.after(KSWAPD_RETRY_NS, "kswapd (retry)", () => this.kswapd());
    }
  }

  /**
   * Direct reclaim, the page allocator's slow-path step (__alloc_pages_direct_reclaim): the
   * allocating task frees memory itself. Never for atomic allocations; never waits. Returns true if
   * it freed anything (the allocation is worth retrying).
   */
  private directReclaim(order: number, gfp: number): boolean {
    if (gfp & Gfp.Atomic || this.reclaiming) return false;
    this.vm.events[VmEvent.AllocStall]++;
    const short = this.pages.watermarks.min - this.freePages();
    return this.shrink(Math.max(RECLAIM_BATCH, (2 << order) + short), true) > 0;
  }

  /** What an OOM report says: where the machine's memory is when an allocation fails. */
  private oomReport(order: number): OomReport {
    this.vm.events[VmEvent.OomReport]++;
    const s = this.vm.stat;
    const counters = {
      free: this.freePages(),
      lru: this.lruPages,
      file: s[Stat.FilePages]!,
      dirty: s[Stat.Dirty]!,
      writeback: s[Stat.Writeback]!,
      anon: s[Stat.AnonPages]!,
      slabReclaimable: s[Stat.SlabReclaimable]!,
      slabUnreclaimable: s[Stat.SlabUnreclaimable]!,
      vmalloc: s[Stat.VmallocPages]!,
      hugetlb: s[Stat.HugetlbPages]!,
      kmallocLarge: s[Stat.LargeKmalloc]!,
      shrinkable: [...this.shrinkers].reduce((n, sh) => n + sh.count(), 0),
    };
    const summary =
      `OOM: order-${order} request; reclaim could free nothing more: ${counters.lru} pages on the LRU ` +
      `(${counters.dirty} dirty, ${counters.writeback} under writeback), ${counters.anon} anonymous (unreclaimable without swap), ` +
      `${counters.slabUnreclaimable} unreclaimable slab, ${counters.vmalloc} vmalloc, ${counters.hugetlb} hugetlb`;
    return { summary, counters };
  }

  private unaccount(nr: number): void {
    this.lruPages -= nr;
    this.vm.stat[Stat.InactiveFile] -= nr;
  }
}
