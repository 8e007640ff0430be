import {
  FolioFlag, PAGE_SIZE, PageOpCaller, PageOpResult, Stat, TracePoint, VmEvent, fail, isFolioError, moveFolioState, type ErrorCode, type FolioTable, type Machine,
  type PageOpContext, type PageOwner, type Reclaim, type Scheduler, type Shrinker, type Tracer, type VmStat,
} from "@folio/core";
import { Mapping, type MappingHost, type MappingOptions } from "./mapping.js";
import { XA_MAX_INDEX, XaMark, xaIsValue, xaMkValue, xaToValue } from "./xarray.js";

/**
 * Called on every use of a cached folio the page cache sees (see {@link PageCache.setAccessTracer}):
 * its mapping's owner id, first page index and number of pages.
 */
export type AccessTracer = (ownerId: number, index: number, nrPages: number) => void;

/**
 * The page cache of one machine: creates mappings, moves folios in and out of them, and keeps
 * the folio state transitions (locked, dirty, writeback) and their counters in one place.
 * Filesystems and the filemap helpers call it; nothing in it knows any filesystem.
 */
export class PageCache {
  /** The machine's folio table (every cached folio is one of its). */
  readonly folios: FolioTable;
  /** The machine's scheduler, whose clock stamps dirtying and whose events complete I/O. */
  readonly scheduler: Scheduler;
  private readonly vm: VmStat;
  private readonly mappings = new Map<number, Mapping>();
  /** Mappings with dirty folios, oldest first (the bdi's b_dirty list). */
  readonly dirtyMappings = new Set<Mapping>();
  private readonly reclaim: Reclaim;
  /** The machine's tracepoints. */
  private readonly trace: Tracer;
  /** Shadow entries in all mappings. */
  private shadows = 0;
  private tracer: AccessTracer | undefined;

  /**
   * Built once per machine by {@link installPageCache}; registers the shadow-entry shrinker with
   * reclaim. Filesystems inject it by {@link PAGECACHE_TOKENS}.
   *
   * @param machine - The machine whose memory caches the data.
   */
  constructor(readonly machine: Machine) {
    this.folios = machine.folios;
    this.scheduler = machine.scheduler;
    this.vm = machine.vmstat;
    this.reclaim = machine.reclaim;
    this.trace = machine.trace;
    this.reclaim.registerShrinker(this.shadowShrinker());
  }

  /**
   * Creates the mapping for a file. `owner` answers the public page interface for its folios;
   * by default the generic {@link PageCacheOwner}. A filesystem that wraps the defaults passes a
   * factory building its wrapper around them.
   */
  createMapping(host: MappingHost, options: MappingOptions = {}, owner?: (defaults: PageCacheOwner) => PageOwner): Mapping {
    const slot: { mapping?: Mapping } = {};
    const defaults = new PageCacheOwner(this, () => slot.mapping!);
    const id = this.machine.owners.register(owner ? owner(defaults) : defaults);
    const mapping = (slot.mapping = new Mapping(host, id, options));
    this.mappings.set(id, mapping);
    return mapping;
  }

  /** Forgets an empty mapping (its inode is being evicted). Throws EBUSY if folios remain. */
  destroyMapping(mapping: Mapping): void {
    if (mapping.nrPages > 0) throw fail("EBUSY", `mapping of ${mapping.host.label} still caches ${mapping.nrPages} pages`);
    this.dropShadows(mapping);
    this.dirtyMappings.delete(mapping);
    this.mappings.delete(mapping.ownerId);
    this.machine.owners.unregister(mapping.ownerId);
  }

  /** The mapping a page-cache folio belongs to, or undefined (folio->mapping). */
  mappingOf(folio: number): Mapping | undefined {
    return this.mappings.get(this.folios.owner(folio));
  }

  /** The folio at `index` without taking a reference, or 0 (also 0 for a shadow entry). */
  lookup(mapping: Mapping, index: number): number {
    const e = mapping.index.load(index);
    return e > 0 ? e : 0;
  }

  /** The folio at `index` with a reference the caller must put, or 0 (filemap_get_folio). */
  getFolio(mapping: Mapping, index: number): number {
    const f = this.lookup(mapping, index);
    if (f !== 0) this.folios.get(f);
    return f;
  }

  /**
   * Inserts a new, locked folio at `index` (filemap_add_folio); the cache takes its own
   * reference, and the folio goes on the LRU (folio_add_lru). `index` must be aligned to the
   * folio's size and the range empty of folios; a shadow entry there is replaced and handed to the
   * eviction policy (a refault, for workingset detection). Returns the shadow value, or -1 if there
   * was none. Throws EEXIST if a folio is already there, leaving everything as it was.
   */
  addFolio(mapping: Mapping, folio: number, index: number): number {
    const nr = this.folios.nrPages(folio);
    if (index % nr !== 0) throw fail("EINVAL", `folio of ${nr} pages cannot start at unaligned index ${index}`);
    let shadow = -1;
    let shadows = 0;
    for (let i = index; i < index + nr; i++) {
      const e = mapping.index.load(i);
      if (e > 0) throw fail("EEXIST", `index ${i} of ${mapping.host.label} already holds a folio`);
      if (e < 0) {
        if (shadow < 0) shadow = xaToValue(e);
        shadows++;
      }
    }
    mapping.nrShadows -= shadows;
    this.shadows -= shadows;
    mapping.index.storeRange(index, nr, folio);
    this.folios.setOwner(folio, mapping.ownerId);
    this.folios.setIndex(folio, index);
    this.folios.get(folio);
    mapping.nrPages += nr;
    this.vm.stat[Stat.FilePages] += nr;
    this.reclaim.add(folio, shadow);
    if (this.trace.enabled & TracePoint.FolioAdd) {
      this.trace.emit({ point: "folio_add", owner: mapping.ownerId, index, pages: nr, pfn: this.folios.pfn(folio), refault: shadow >= 0 });
    }
    return shadow;
  }

  /**
   * A read or write used a cached folio (folio_mark_accessed): reclaim and its eviction policy
   * hear of it, and so does the access tracer, if one is set.
   */
  markAccessed(folio: number): void {
    this.reclaim.markAccessed(folio);
    if (this.tracer) this.tracer(this.folios.owner(folio), this.folios.index(folio), this.folios.nrPages(folio));
  }

  /**
   * A use of a cached folio that reclaim learns of another way: a page fault through a user
   * mapping (filemap_fault), which maps the page with its accessed bit set, for reclaim to
   * harvest later (Linux's fault path marks nothing accessed either). Only the access tracer
   * hears of it.
   */
  traceAccess(folio: number): void {
    if (this.tracer) this.tracer(this.folios.owner(folio), this.folios.index(folio), this.folios.nrPages(folio));
  }

  /**
   * Sets (or, with undefined, clears) a function called on every use of a cached folio the page
   * cache sees, with the owner id of its mapping, its first index and its pages: the page-access
   * trace of a workload, for replay through eviction policies. Keep it cheap; it runs on the hit
   * path of reads and writes.
   *
   * It sees every read and write that touches a folio ({@link markAccessed}) and every page fault
   * a user mapping's file serves ({@link traceAccess}): an access to a page with no PTE that
   * fault-around did not map — the page is not cached (the fault reads it in), the access is a
   * store, or the folio is locked or marked for readahead. It does not see loads and stores that
   * find their page mapped (they only set the PTE's accessed bit: reporting them would cost every
   * user access), a load whose fault fault-around serves from the cache, a store to a page mapped
   * read-only (page_mkwrite, copy on write), nor the accessed bits reclaim harvests
   * (folio_referenced) or an unmap hands over: reclaim hears of those uses, this trace does not.
   * A workload that uses its files through mappings is traced only by its faults.
   */
  setAccessTracer(tracer: AccessTracer | undefined): void {
    this.tracer = tracer;
  }

  /**
   * Removes a folio from its mapping (__filemap_remove_folio) and drops the cache's reference.
   * A dirty folio's data is discarded (its counters corrected). With `shadow` ≥ 0 a value entry
   * carrying it is left behind for workingset detection.
   */
  deleteFolio(mapping: Mapping, folio: number, shadow = -1): void {
    // A folio still mapped into an address space loses those mappings first (unmap_mapping_folio):
    // truncate and invalidation drop data that page tables must not keep reaching.
    if (this.folios.mapcount(folio) > 0) this.machine.mm.rmap.unmapFolio(folio);
    const index = this.folios.index(folio);
    const nr = this.folios.nrPages(folio);
    if (this.trace.enabled & TracePoint.FolioDelete) {
      const why = shadow >= 0 ? "reclaim" : this.folios.test(folio, FolioFlag.Dirty) ? "dropped dirty" : "removed";
      this.trace.emit({ point: "folio_delete", owner: mapping.ownerId, index, pages: nr, pfn: this.folios.pfn(folio), why });
    }
    if (this.folios.testAndClear(folio, FolioFlag.Dirty)) this.vm.stat[Stat.Dirty] -= nr;
    this.reclaim.remove(folio);
    mapping.index.storeRange(index, nr, shadow >= 0 ? xaMkValue(shadow) : 0);
    if (shadow >= 0) {
      mapping.nrShadows += nr;
      this.shadows += nr;
    }
    mapping.nrPages -= nr;
    this.vm.stat[Stat.FilePages] -= nr;
    this.folios.setOwner(folio, 0);
    if (!mapping.index.anyMarked(XaMark.Dirty)) this.markClean(mapping);
    this.folios.put(folio);
  }

  /** Takes the folio lock, waiting (running the engine) while someone else holds it. */
  lock(folio: number): void {
    if (this.folios.testAndSet(folio, FolioFlag.Locked)) {
      this.scheduler.waitUntil(() => !this.folios.test(folio, FolioFlag.Locked), `the lock of folio ${folio}`);
      this.folios.set(folio, FolioFlag.Locked);
    }
  }

  /** Takes the folio lock if it is free; returns whether it did. */
  tryLock(folio: number): boolean {
    return !this.folios.testAndSet(folio, FolioFlag.Locked);
  }

  /** Releases the folio lock. Throws EINVAL if it was not held (an unbalanced unlock). */
  unlock(folio: number): void {
    if (!this.folios.testAndClear(folio, FolioFlag.Locked)) throw fail("EINVAL", `unlock of folio ${folio}, which is not locked`);
  }

  /** Waits until the folio is unlocked (folio_wait_locked), without taking the lock. */
  waitUnlocked(folio: number): void {
    if (this.folios.test(folio, FolioFlag.Locked)) {
      this.scheduler.waitUntil(() => !this.folios.test(folio, FolioFlag.Locked), `I/O on folio ${folio}`);
    }
  }

  /** Waits until writeback of the folio has ended (folio_wait_writeback). */
  waitWriteback(folio: number): void {
    if (this.folios.test(folio, FolioFlag.Writeback)) {
      this.scheduler.waitUntil(() => !this.folios.test(folio, FolioFlag.Writeback), `writeback of folio ${folio}`);
    }
  }

  /**
   * Marks a cached folio dirty (filemap_dirty_folio): flag, index mark, counters, and the
   * mapping on the dirty list. Returns false if it was already dirty.
   */
  markDirty(mapping: Mapping, folio: number): boolean {
    if (this.folios.testAndSet(folio, FolioFlag.Dirty)) return false;
    const index = this.folios.index(folio);
    if (mapping.index.load(index) === folio) mapping.index.setMark(index, XaMark.Dirty);
    this.vm.stat[Stat.Dirty] += this.folios.nrPages(folio);
    if (mapping.dirtiedAt < 0) {
      mapping.dirtiedAt = this.scheduler.now;
      this.dirtyMappings.add(mapping);
    }
    return true;
  }

  /**
   * Clears the dirty flag before writing the folio (folio_clear_dirty_for_io); the folio must
   * be locked. Returns whether it was dirty. The index mark goes when writeback starts. A folio
   * mapped into address spaces is first write-protected and cleaned in every shared mapping
   * (folio_mkclean), so the next store through one faults and dirties it again.
   */
  clearDirtyForIo(folio: number): boolean {
    if (this.folios.mapcount(folio) > 0) this.machine.mm.rmap.mkclean(folio);
    if (!this.folios.testAndClear(folio, FolioFlag.Dirty)) return false;
    this.vm.stat[Stat.Dirty] -= this.folios.nrPages(folio);
    return true;
  }

  /**
   * Starts writeback of a locked folio whose dirty flag was cleared for I/O
   * (__folio_start_writeback): writeback flag and mark set, dirty and towrite marks cleared.
   */
  startWriteback(mapping: Mapping, folio: number): void {
    if (this.folios.testAndSet(folio, FolioFlag.Writeback)) throw fail("EINVAL", `folio ${folio} is already under writeback`);
    const index = this.folios.index(folio);
    const xa = mapping.index;
    xa.setMark(index, XaMark.Writeback);
    if (!this.folios.test(folio, FolioFlag.Dirty)) xa.clearMark(index, XaMark.Dirty);
    xa.clearMark(index, XaMark.Towrite);
    this.vm.stat[Stat.Writeback] += this.folios.nrPages(folio);
    if (this.trace.enabled & TracePoint.WritebackStart) this.trace.emit({ point: "writeback_start", owner: mapping.ownerId, index, pages: this.folios.nrPages(folio) });
  }

  /**
   * Ends writeback (folio_end_writeback), called from the I/O completion. On error the data is
   * still dirty in memory but the write was lost: the error is recorded in the mapping for fsync
   * (errseq), the folio gets the error flag, and, as Linux does, the folio is not redirtied.
   */
  endWriteback(mapping: Mapping, folio: number, error: ErrorCode | null = null): void {
    if (!this.folios.testAndClear(folio, FolioFlag.Writeback)) throw fail("EINVAL", `folio ${folio} is not under writeback`);
    const index = this.folios.index(folio);
    if (mapping.index.load(index) === folio) mapping.index.clearMark(index, XaMark.Writeback);
    this.vm.stat[Stat.Writeback] -= this.folios.nrPages(folio);
    if (this.trace.enabled & TracePoint.WritebackEnd) this.trace.emit({ point: "writeback_end", owner: mapping.ownerId, index, pages: this.folios.nrPages(folio), error });
    if (error !== null) {
      this.folios.set(folio, FolioFlag.Error);
      mapping.wbErr.set(error);
    }
    if (!mapping.index.anyMarked(XaMark.Dirty)) this.markClean(mapping);
    this.reclaim.rotateReclaimable(folio);
  }

  /** Records a writeback error against the mapping (mapping_set_error). */
  setError(mapping: Mapping, error: ErrorCode): void {
    mapping.wbErr.set(error);
  }

  /**
   * Records that the dirty data of pages [first, first + nr) was destroyed by a memory error
   * (me_pagecache_dirty): the pages join the mapping's lost pages, which read as EIO until
   * overwritten or truncated (see `LostPages`), and EIO is recorded for fsync.
   */
  recordLoss(mapping: Mapping, first: number, nr: number): void {
    mapping.lost.add(first, nr);
    mapping.wbErr.set("EIO");
  }

  /**
   * Splits large `folio` of `mapping` into single pages (split_folio) and points the index at each
   * piece with the folio's dirty and towrite marks; mapped pages stay mapped, each piece counting its
   * own entries. The caller holds the folio locked and `callerRefs` references beyond the cache's;
   * the folio keeps those and the lock, the other pieces come unlocked with the cache's reference.
   * Returns the pieces in page order (the folio first), or null, changing nothing, when it cannot be
   * split now: other references (a reader, a pin), writeback, or no memory for descriptors.
   */
  splitFolio(mapping: Mapping, folio: number, callerRefs = 1): number[] | null {
    const f = this.folios;
    const xa = mapping.index;
    const first = f.index(folio);
    const marks = [XaMark.Dirty, XaMark.Towrite].filter((m) => xa.getMark(first, m));
    let pieces: number[];
    try {
      pieces = this.machine.migration.splitFolio(folio, 0, callerRefs);
    } catch (e) {
      if (isFolioError(e, "EBUSY") || isFolioError(e, "ENOMEM")) {
        this.vm.events[VmEvent.ThpSplitPageFailed]++;
        return null;
      }
      throw e;
    }
    for (const p of pieces) {
      if (p === folio) continue;
      const i = f.index(p);
      xa.storeRange(i, 1, p);
      for (const m of marks) xa.setMark(i, m);
      f.clear(p, FolioFlag.Locked); // the pieces came locked like the folio; the caller holds only the first's lock
    }
    return pieces;
  }

  /** True if `entry` read from an index is a shadow entry. */
  static isShadow(entry: number): boolean {
    return xaIsValue(entry);
  }

  /**
   * Drops every shadow entry of a mapping (the shrinker; the mapping going away — its shadows must
   * not outlive its owner id, which may be reused). Returns how many went.
   */
  dropShadows(mapping: Mapping): number {
    if (mapping.nrShadows === 0) return 0;
    const at: number[] = [];
    mapping.index.forEach(0, XA_MAX_INDEX, (i, e) => {
      if (e < 0) at.push(i);
    });
    for (const i of at) this.eraseShadow(mapping, i);
    return at.length;
  }

  /** Erases the shadow entry at `index` (truncate, the shadow shrinker). */
  eraseShadow(mapping: Mapping, index: number): void {
    if (mapping.index.load(index) >= 0) throw fail("EINVAL", `index ${index} of ${mapping.host.label} holds no shadow entry`);
    mapping.index.erase(index);
    mapping.nrShadows--;
    this.shadows--;
  }

  /**
   * The shrinker bounding shadow entries (workingset's shadow_lru): beyond one per page of memory,
   * a shadow's refault distance would exceed anything the workingset could hold, so it is
   * useless; the excess is dropped, from the mappings holding the most first.
   */
  private shadowShrinker(): Shrinker {
    const limit = this.machine.frames;
    return {
      name: "shadow entries",
      count: () => Math.max(0, this.shadows - limit),
      scan: (nr) => {
        const victims = [...this.mappings.values()].filter((m) => m.nrShadows > 0).sort((a, b) => b.nrShadows - a.nrShadows);
        let dropped = 0;
        for (const m of victims) {
          if (dropped >= nr) break;
          dropped += this.dropShadows(m);
        }
        this.vm.events[VmEvent.WorkingsetNodereclaim] += dropped;
        return dropped;
      },
    };
  }

  private markClean(mapping: Mapping): void {
    if (mapping.dirtiedAt >= 0) {
      mapping.dirtiedAt = -1;
      this.dirtyMappings.delete(mapping);
    }
  }
}

/**
 * The generic public page interface for page-cache folios: what `dirty`, `migrate` and
 * `release` mean for a folio that caches file data. A filesystem uses it as it is, or wraps it
 * (to drop private block state on release, say) by passing a factory to
 * {@link PageCache.createMapping}.
 */
export class PageCacheOwner implements PageOwner {
  /**
   * Made by {@link PageCache.createMapping} for each mapping, and handed to a filesystem's owner
   * factory as the default to wrap; `mappingRef` returns the mapping once it exists.
   */
  constructor(
    private readonly cache: PageCache,
    private readonly mappingRef: () => Mapping,
  ) {}

  get label(): string {
    return this.mappingRef().host.label;
  }

  /** Marks the folio dirty in its mapping; the flusher will write it back. Always Done. */
  dirty(folio: number, _ctx: PageOpContext): PageOpResult {
    this.cache.markDirty(this.mappingRef(), folio);
    return PageOpResult.Done;
  }

  /**
   * Moves the cached data to `dst` (same order, refcount 1, which becomes the cache's
   * reference): copies bytes and state, switches the index entry, drops the cache's reference on
   * `src`. The caller holds `src` locked. Refuses a folio under writeback (Busy) and one with
   * references beyond the cache's and the caller's (Pinned), changing nothing.
   */
  migrate(src: number, dst: number, _ctx: PageOpContext): PageOpResult {
    const f = this.cache.folios;
    const mapping = this.mappingRef();
    if (f.test(src, FolioFlag.Writeback)) return PageOpResult.Busy;
    if (f.refcount(src) !== 2) return PageOpResult.Pinned;
    if (f.order(dst) !== f.order(src)) return PageOpResult.Failed;
    const index = f.index(src);
    const marks = [XaMark.Dirty, XaMark.Towrite].filter((m) => mapping.index.getMark(index, m));
    moveFolioState(f, src, dst);
    mapping.index.storeRange(index, f.nrPages(dst), dst);
    for (const m of marks) mapping.index.setMark(index, m);
    this.cache.machine.reclaim.replace(src, dst);
    f.setOwner(src, 0);
    f.put(src);
    return PageOpResult.Done;
  }

  /**
   * Removes the folio from the cache; the caller holds it locked. A clean, idle folio goes
   * (Done). One under writeback is Busy; a dirty one is Busy unless truncate or memory failure
   * asks (then its data is dropped); one with references beyond the cache's and the caller's is
   * Pinned unless truncate or memory failure asks (the cache lets go; holders keep theirs until
   * they put). Memory failure with the failed frame (`ctx.pfn`) in a large folio splits it and
   * drops only the page holding that frame (the whole folio if it cannot be split); dirty data it
   * drops is recorded as lost ({@link PageCache.recordLoss}).
   */
  release(folio: number, ctx: PageOpContext): PageOpResult {
    const f = this.cache.folios;
    const forced = ctx.caller === PageOpCaller.Truncate || ctx.caller === PageOpCaller.MemoryFailure;
    if (f.test(folio, FolioFlag.Writeback)) return PageOpResult.Busy;
    if (ctx.caller === PageOpCaller.MemoryFailure) return this.dropPoisoned(folio, ctx.pfn);
    if (!forced) {
      if (f.test(folio, FolioFlag.Dirty)) return PageOpResult.Busy;
      if (f.refcount(folio) > 2) return PageOpResult.Pinned;
    }
    const shadow = ctx.caller === PageOpCaller.Reclaim ? (ctx.shadow ?? -1) : -1;
    this.cache.deleteFolio(this.mappingRef(), folio, shadow);
    return PageOpResult.Done;
  }

  /** Memory failure's release: drops the page holding frame `pfn` (after splitting a large folio), recording dirty data as lost. */
  private dropPoisoned(folio: number, pfn: number | undefined): PageOpResult {
    const f = this.cache.folios;
    const mapping = this.mappingRef();
    let victim = folio;
    if (pfn !== undefined && f.nrPages(folio) > 1) {
      const pieces = this.cache.splitFolio(mapping, folio, 1);
      if (pieces !== null) victim = pieces.find((p) => pfn >= f.pfn(p) && pfn < f.pfn(p) + f.nrPages(p)) ?? folio;
    }
    if (f.test(victim, FolioFlag.Dirty)) {
      // Pages past EOF (a large folio straddling it) hold no file data: nothing is lost there, and
      // the file may grow over them later, when they must read as zeros, not EIO.
      const first = f.index(victim);
      const nr = Math.min(f.nrPages(victim), Math.ceil(mapping.host.size / PAGE_SIZE) - first);
      if (nr > 0) this.cache.recordLoss(mapping, first, nr);
    }
    this.cache.deleteFolio(mapping, victim);
    return PageOpResult.Done;
  }
}
