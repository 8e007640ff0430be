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
 * A victim mapped into address spaces is first checked through the reverse map: if a page-table
 * entry was used since the last scan (its accessed bit), the folio stays and the use counts as a
 * hit; otherwise it is unmapped from every page table (its dirty bits reaching the owner) before the
 * owner is asked to release it.
 *
 * Policy keys are stable page identities, `owner id × 2^32 + index`, so a policy that keeps its own
 * ghost history (ARC, S3-FIFO) recognises a page when it comes back; this module keeps the map from
 * key to the resident folio.
 */
import { TracePoint, type Tracer } from "../trace.js";
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
/** Folios under writeback met in a row after which a reclaim pass stops scanning (see shrinkLru). */
const WRITEBACK_RUN_LIMIT = 64;
/** Longest a throttled direct reclaim waits for writeback (reclaim_throttle's HZ/10). */
const THROTTLE_NS = 100 * MILLISECOND;
/** Span of page indexes within one owner in a policy key. */
const INDEX_SPAN = 2 ** 32;

/**
 * What reclaim needs of the reverse map (mm/rmap.c) for folios mapped into address spaces; the
 * machine plugs the user-memory subsystem's in at boot.
 */
export interface ReclaimRmap {
  /** Tests and clears the accessed bits of the PTEs mapping `folio`; returns how many were set (folio_referenced). */
  folioReferenced(folio: number): number;
  /** Clears every PTE mapping `folio`, handing dirty bits to its owner; true when it is mapped nowhere any more (try_to_unmap). */
  tryToUnmap(folio: number): boolean;
}

/** What one pass over an LRU did: folios scanned, pages freed, mapped folios kept for their accessed bits. */
interface ScanResult {
  scanned: number;
  freed: number;
  referenced: number;
}

/** Counters of one machine's reclaim, for tests, reports and the OOM message. */
export interface ReclaimCounts {
  /** Folios on the LRU (tracked by the policy) and the pages they hold. */
  lruFolios: number;
  /** Pages those folios hold (a large folio counts all its pages). */
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
  /** Of {@link lruPages}, those of anonymous (swap-backed) folios. */
  private lruAnonPages = 0;
  private readonly shrinkers = new Set<Shrinker>();
  /** Keys of folios whose writeback ended after reclaim wanted them (see {@link rotateReclaimable}). */
  private readonly rotated: number[] = [];
  private readonly dirtyPressureHooks: (() => void)[] = [];
  private kswapdTimer: Timer | undefined;
  private reclaiming = false;
  /** The reverse map, for victims mapped into address spaces; set once at boot. */
  rmap: ReclaimRmap | undefined;

  /**
   * Built once per machine at boot ({@link Machine.boot}), which then sets {@link rmap} and
   * `swapFree`; reach it as `machine.reclaim`.
   */
  constructor(
    /** The eviction policy of file folios: which one goes next. */
    readonly policy: EvictionPolicy,
    /** The eviction policy of anonymous (swap-backed) folios: another instance of the same kind. */
    readonly anonPolicy: EvictionPolicy,
    private readonly folios: FolioTable,
    private readonly pages: PageAllocator,
    private readonly owners: OwnerRegistry,
    private readonly vm: VmStat,
    private readonly scheduler: Scheduler,
    private readonly trace: Tracer,
  ) {
    policy.resize(0);
    anonPolicy.resize(0);
    pages.onLowWatermark(() => this.wakeKswapd());
    pages.addSlowPath((order, gfp) => this.directReclaim(order, gfp));
    vm.onRefresh(() => this.updateListGauges());
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
    const anon = f.test(folio, FolioFlag.SwapBacked);
    this.folioOfKey.set(key, folio);
    f.clear(folio, FolioFlag.Referenced);
    f.set(folio, FolioFlag.Lru);
    this.lruPages += nr;
    if (anon) this.lruAnonPages += nr;
    if (shadow >= 0) {
      this.vm.events[VmEvent.WorkingsetRefault] += nr;
      if (this.trace.enabled & TracePoint.WorkingsetRefault) this.trace.emit({ point: "workingset_refault", owner: f.owner(folio), index: f.index(folio), shadow });
    }
    this.setHint(folio, (anon ? this.anonPolicy : this.policy).insert(key, shadow));
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
    if (!f.testAndSet(folio, FolioFlag.Referenced) || !f.test(folio, FolioFlag.Lru)) return;
    const policy = this.policyOf(folio);
    // The policy said accesses change nothing for this page until its epoch moves: skip it.
    const stamp = f.lruPrev(folio);
    if (stamp !== 0 && stamp === (((policy.epoch ?? -1) + 1) | 0)) return;
    const saturated = policy.access(this.keyOf(folio), f.lruNext(folio) - 1) === true && policy.epoch !== undefined;
    f.setLru(folio, saturated ? (policy.epoch! + 1) | 0 : 0, f.lruNext(folio));
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
    this.unaccount(folio);
    this.policyOf(folio).remove(key);
  }

  /**
   * Keeps the policy's hint for a folio in its (otherwise unused) next-LRU-link word, +1 so 0 means
   * none, and clears the prev word, where {@link markAccessed} keeps the policy's epoch + 1 (as a
   * 32-bit integer) while the policy has said accesses change nothing.
   */
  private setHint(folio: number, hint: number | void): void {
    this.folios.setLru(folio, 0, typeof hint === "number" && hint >= 0 ? hint + 1 : 0);
  }

  private policyOf(folio: number): EvictionPolicy {
    return this.folios.test(folio, FolioFlag.SwapBacked) ? this.anonPolicy : this.policy;
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

  /**
   * A folio on the LRU was split (`Migration.splitFolio`): `pieces[0]` is the folio itself, now
   * smaller, and keeps its place; the other pieces join the LRU as new, unreferenced pages (as
   * Linux puts tail folios next to the head). Pages on the LRU do not change. A folio reclaim has
   * isolated (off the lists while its owner decides) counts as on the LRU: its owner may split it
   * to page it out.
   */
  addSplitPieces(pieces: readonly number[]): void {
    const f = this.folios;
    const head = pieces[0]!;
    if (!f.test(head, FolioFlag.Lru) && this.folioOfKey.get(this.keyOf(head)) !== head) return;
    const policy = this.policyOf(pieces[0]!);
    for (let i = 1; i < pieces.length; i++) {
      const piece = pieces[i]!;
      const key = this.keyOf(piece);
      this.folioOfKey.set(key, piece);
      f.set(piece, FolioFlag.Lru);
      this.setHint(piece, policy.insert(key, -1));
    }
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
      const first = this.shrinkLists(nrPages, direct);
      // Mapped pages kept for their accessed bits have those bits cleared now: like Linux's next
      // pass at a higher priority, scan once more for what is missing, so that memory mapped by an
      // idle process can go.
      const second = first.freed < nrPages && first.referenced > 0 ? this.shrinkLists(nrPages - first.freed, direct) : { scanned: 0, freed: 0, referenced: 0 };
      const freed = first.freed + second.freed + this.shrinkSlab(first.scanned + second.scanned, lruBefore);
      if (this.trace.enabled & TracePoint.ReclaimScan) this.trace.emit({ point: "reclaim_scan", scanned: first.scanned + second.scanned, freed, direct });
      return freed;
    } finally {
      this.reclaiming = false;
    }
  }

  /** One pass over both LRUs: file pages first; anonymous pages (which cost a swap write) for what the file LRU could not give. */
  private shrinkLists(target: number, direct: boolean): ScanResult {
    const file = this.shrinkLru(this.policy, target, direct);
    if (file.freed >= target || this.anonPolicy.size === 0) return file;
    const anon = this.shrinkLru(this.anonPolicy, target - file.freed, direct);
    return { scanned: file.scanned + anon.scanned, freed: file.freed + anon.freed, referenced: file.referenced + anon.referenced };
  }

  private shrinkLru(policy: EvictionPolicy, target: number, direct: boolean): ScanResult {
    const f = this.folios;
    const ev = this.vm.events;
    policy.resize(policy.size);
    const limit = policy.size;
    let scanned = 0;
    let freed = this.reclaimRotated(policy, direct);
    // Folios under writeback in a row: past a batch of them the rest of the list is most likely
    // the same I/O still in flight, which their completion frees (PG_reclaim), so stop scanning.
    let writebackRun = 0;
    let skippedDirty = false;
    // Victims the owner kept stay isolated until the pass ends (shrink_folio_list's putback), so
    // the policy moves on to other folios — and other lists — instead of offering them again.
    const kept: number[] = [];
    const referenced: number[] = [];
    while (freed < target && scanned < limit) {
      const key = policy.evict();
      if (key < 0) break;
      scanned++;
      const folio = this.folioOfKey.get(key);
      if (folio === undefined) throw fail("EINVAL", `eviction policy ${policy.name} chose key ${key}, which is not on the LRU`);
      const nr = f.nrPages(folio);
      ev[direct ? VmEvent.PgscanDirect : VmEvent.PgscanKswapd] += nr;
      // A mapped page used through a page table since the last scan stays, and that use is a hit.
      if (f.mapcount(folio) > 0 && this.rmap !== undefined && this.rmap.folioReferenced(folio) > 0) {
        ev[VmEvent.ReclaimMappedReferenced] += nr;
        referenced.push(key);
        continue;
      }
      const result = this.tryRelease(folio, policy.shadow(key));
      if (result === PageOpResult.Done) {
        this.folioOfKey.delete(key);
        this.unaccount(folio, nr);
        freed += nr;
        ev[direct ? VmEvent.PgstealDirect : VmEvent.PgstealKswapd] += nr;
        writebackRun = 0;
      } else {
        if (f.test(folio, FolioFlag.Dirty) && !f.test(folio, FolioFlag.SwapBacked)) skippedDirty = true;
        kept.push(key);
        writebackRun = f.test(folio, FolioFlag.Writeback) ? writebackRun + 1 : 0;
        if (writebackRun >= WRITEBACK_RUN_LIMIT) break;
      }
    }
    for (const key of kept) this.setHint(this.folioOfKey.get(key)!, policy.keep(key));
    for (const key of referenced) {
      const folio = this.folioOfKey.get(key)!;
      this.setHint(folio, policy.keep(key));
      policy.access(key, this.folios.lruNext(folio) - 1);
    }
    if (skippedDirty) for (const hook of this.dirtyPressureHooks) hook();
    return { scanned, freed, referenced: referenced.length };
  }

  /**
   * A folio's writeback ended (folio_end_writeback → folio_rotate_reclaimable): if reclaim met it
   * under writeback and wanted it (PG_reclaim), it is queued to be offered to its owner first by
   * the next reclaim pass, without waiting for the policy to come round to it. The owner's I/O
   * completion calls this; it only queues, so the completion never runs into reclaim.
   */
  rotateReclaimable(folio: number): void {
    const f = this.folios;
    if (f.testAndClear(folio, FolioFlag.Reclaim) && f.test(folio, FolioFlag.Lru)) this.rotated.push(this.keyOf(folio));
  }

  /**
   * Offers the folios queued by {@link rotateReclaimable} to their owners; those released leave
   * the policy as removed (no workingset shadow: Linux would evict them from the tail with one).
   * Returns the pages freed.
   */
  private reclaimRotated(policy: EvictionPolicy, direct: boolean): number {
    if (this.rotated.length === 0) return 0;
    const keys = this.rotated.splice(0);
    let freed = 0;
    for (const key of keys) {
      const folio = this.folioOfKey.get(key);
      if (folio === undefined || !this.folios.test(folio, FolioFlag.Lru)) continue;
      if (this.policyOf(folio) !== policy) {
        this.rotated.push(key);
        continue;
      }
      const nr = this.folios.nrPages(folio);
      if (this.tryRelease(folio, -1) !== PageOpResult.Done) continue;
      this.folioOfKey.delete(key);
      this.unaccount(folio, nr);
      policy.remove(key);
      freed += nr;
      this.vm.events[direct ? VmEvent.PgstealDirect : VmEvent.PgstealKswapd] += nr;
    }
    return freed;
  }

  /** Isolates, locks and offers one victim to its owner; puts it back unless the owner let it go. */
  private tryRelease(folio: number, shadow: number): PageOpResult {
    const f = this.folios;
    const ev = this.vm.events;
    const nr = f.nrPages(folio);
    if (f.test(folio, FolioFlag.Writeback)) {
      ev[VmEvent.ReclaimSkipWriteback] += nr;
      f.set(folio, FolioFlag.Reclaim); // free it when its writeback ends (rotateReclaimable)
      return PageOpResult.Busy;
    }
    // A dirty file folio waits for the flusher; a dirty anonymous one is its owner's to swap out.
    if (f.test(folio, FolioFlag.Dirty) && !f.test(folio, FolioFlag.SwapBacked)) {
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
      // Unmapped first (its dirty bits reach the owner), so the owner decides on the whole truth.
      if (f.mapcount(folio) > 0 && !this.unmap(folio, nr)) {
        result = PageOpResult.Busy;
      } else if (f.test(folio, FolioFlag.Dirty) && !f.test(folio, FolioFlag.SwapBacked)) {
        ev[VmEvent.ReclaimSkipDirty] += nr; // dirtied through a page table: the flusher writes it first
        result = PageOpResult.Busy;
      } else {
        result = owner.release(folio, { caller: PageOpCaller.Reclaim, shadow });
        // The owner started writing it out (pageout to swap): free it when that ends.
        if (result !== PageOpResult.Done && f.test(folio, FolioFlag.Writeback)) f.set(folio, FolioFlag.Reclaim);
      }
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

  /** try_to_unmap for a locked, isolated victim; true when no page table maps it any more. */
  private unmap(folio: number, nr: number): boolean {
    this.vm.events[VmEvent.ReclaimUnmapped] += nr;
    return this.rmap !== undefined && this.rmap.tryToUnmap(folio);
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
   * allocating task frees memory itself. Never for atomic allocations. When nothing could be freed,
   * a {@link Gfp.MayThrottle} caller waits (bounded) for writeback in flight ({@link throttle});
   * others never wait. Returns true if it freed anything or the wait changed something (the
   * allocation is worth retrying).
   */
  private directReclaim(order: number, gfp: number): boolean {
    if (gfp & Gfp.Atomic || this.reclaiming) return false;
    this.vm.events[VmEvent.AllocStall]++;
    const short = this.pages.watermarks.min - this.freePages();
    if (this.shrink(Math.max(RECLAIM_BATCH, (2 << order) + short), true) > 0) return true;
    return gfp & Gfp.MayThrottle ? this.throttle() : false;
  }

  /**
   * reclaim_throttle(VMSCAN_THROTTLE_WRITEBACK): nothing could be freed but folios are under
   * writeback, so wait (running the engine) until one of them completes or memory frees up, at
   * most {@link THROTTLE_NS} of virtual time. Only for callers that hold no folio lock
   * ({@link Gfp.MayThrottle}). Returns whether anything changed, i.e. whether a retry may succeed.
   */
  private throttle(): boolean {
    const s = this.vm.stat;
    const writeback = s[Stat.Writeback]!;
    if (writeback === 0) return false;
    const free = this.freePages();
    const until = this.scheduler.now + THROTTLE_NS;
    this.vm.events[VmEvent.ReclaimThrottle]++;
    try {
      this.scheduler.waitUntil(() => s[Stat.Writeback]! < writeback || this.freePages() > free || this.scheduler.now >= until, "reclaim throttled on writeback", THROTTLE_NS);
    } catch {
      return false; // nothing left to run: the writeback will not complete
    }
    return s[Stat.Writeback]! < writeback || this.freePages() > free;
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
      swapFree: this.swapFree(),
    };
    const summary =
      `OOM: order-${order} request; reclaim could free nothing more: ${counters.lru} pages on the LRU ` +
      `(${counters.dirty} dirty, ${counters.writeback} under writeback), ${counters.anon} anonymous (${counters.swapFree >= 0 ? `${counters.swapFree} swap slots free` : "unreclaimable: no swap"}), ` +
      `${counters.slabUnreclaimable} unreclaimable slab, ${counters.vmalloc} vmalloc, ${counters.hugetlb} hugetlb`;
    return { summary, counters };
  }

  /** Free swap slots, or -1 without swap; set by the anonymous-memory subsystem. */
  swapFree: () => number = () => -1;

  private unaccount(folio: number, nr = this.folios.nrPages(folio)): void {
    this.lruPages -= nr;
    if (this.folios.test(folio, FolioFlag.SwapBacked)) this.lruAnonPages -= nr;
  }

  /**
   * Sets the active/inactive gauges from the policies' lists (vmstat's refresh, before a report):
   * a walk of every folio on the LRU, asking its policy whether it is active. Reports only.
   */
  private updateListGauges(): void {
    let activeFile = 0;
    let activeAnon = 0;
    if (this.policy.isActive !== undefined || this.anonPolicy.isActive !== undefined) {
      const f = this.folios;
      for (const [key, folio] of this.folioOfKey) {
        const anon = f.test(folio, FolioFlag.SwapBacked);
        if (!(anon ? this.anonPolicy : this.policy).isActive?.(key)) continue;
        if (anon) activeAnon += f.nrPages(folio);
        else activeFile += f.nrPages(folio);
      }
    }
    const s = this.vm.stat;
    s[Stat.ActiveFile] = activeFile;
    s[Stat.InactiveFile] = this.lruPages - this.lruAnonPages - activeFile;
    s[Stat.ActiveAnon] = activeAnon;
    s[Stat.InactiveAnon] = this.lruAnonPages - activeAnon;
  }
}
