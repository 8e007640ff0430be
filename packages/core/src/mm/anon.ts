/**
 * Anonymous memory (mm/memory.c's anonymous faults, mm/swap_state.c, mm/page_io.c, mm/huge_memory.c,
 * reduced): zero-filled pages that belong to no file, owned by an {@link AnonRegion}, swapped out
 * under memory pressure when the machine has swap.
 *
 * A region is what an anonymous mapping's anon_vma owns: pages by index, each resident (a folio)
 * or swapped out (a slot). Loads and stores go through {@link AnonRegion.read} and
 * {@link AnonRegion.write}, which fault missing pages in; user mappings (mm/mmap) map its folios
 * into page tables through {@link AnonRegion.faultIn} and {@link AnonRegion.faultInLarge}, put the
 * copies of copy-on-write faults in it with {@link AnonRegion.installCopy}, and drop unmapped
 * ranges with {@link AnonRegion.discard}.
 *
 * Large folios (transparent huge pages, mTHP): a fault may give a region one folio for an aligned
 * run of pages; the index then names that folio at every page it covers. Such a folio is split
 * (`Migration.splitFolio`) when only part of it should go: discard of part of it (partial munmap,
 * MADV_DONTNEED), swap-out (there is no THP swap: split_folio_to_list before pageout), and memory
 * failure (only the bad page is lost). A split that cannot happen now (someone else holds a
 * reference, no memory for descriptors) is deferred: the discarded pages are zeroed in place, so
 * they read as new, and the folio waits on a queue that a shrinker retries (deferred_split_queue).
 *
 * Reclaim talks to a region only through the public page interface. `release` of a folio with a
 * current swap copy drops it (the index keeps the slot); `release` of a dirty folio — one whose
 * contents no swap slot holds — starts writing it to swap (pageout) and answers Busy, so reclaim
 * comes back for it once the write is done; without swap, anonymous folios are not on the LRU at
 * all: unreclaimable, and counted so in the OOM report.
 */
import { fail, isFolioError } from "../errors.js";
import { PAGE_SIZE } from "../units.js";
import type { Scheduler } from "../engine/scheduler.js";
import { FolioFlag, type FolioTable } from "./folio.js";
import { moveFolioState } from "./migrate.js";
import { Gfp } from "./page-alloc.js";
import { PageOpCaller, PageOpResult, type OwnerRegistry, type PageOpContext, type PageOwner } from "./page-owner.js";
import type { Reclaim, Shrinker } from "./reclaim.js";
import { SwapSpace, type SwapBacking } from "./swap.js";
import { Stat, VmEvent, type VmStat } from "./vmstat.js";

/** A folio's private word holds its swap slot + 1 while a current copy is on swap (the swap cache). */
const NO_SLOT = 0;
/** Entry of a page whose data a memory error destroyed (a hwpoison entry): touching it is EHWPOISON until discarded. */
const LOST = Number.MIN_SAFE_INTEGER;
/** Order of a PMD-sized transparent huge page, counted in `nr_anon_transparent_hugepages`. */
const PMD_ORDER = 9;

/** What a region asks of memory failure when it finds a resident page with a poisoned frame. */
export interface PoisonSettler {
  /** Waits for the I/O of the folio holding frame `pfn`, then handles its poisoned frames now (see `MemoryFailure.settle`). */
  settle(pfn: number): unknown;
}

/** What splits a large folio for its owner (`Migration.splitFolio`); see there for the contract. */
export interface FolioSplitter {
  /** Splits `folio` into folios of 2^`newOrder` pages and returns them, the folio first; EBUSY or ENOMEM changing nothing. */
  splitFolio(folio: number, newOrder: number, callerRefs?: number): number[];
}

/** The anonymous memory of one machine: its regions, its swap area, and large folios waiting for a deferred split. */
export class AnonMemory {
  /** The swap area, once {@link swapOn} has run. */
  swap: SwapSpace | undefined;
  /** Memory failure, which regions ask to finish with a poisoned page they find; set once at boot. */
  memoryFailure: PoisonSettler | undefined;
  /** Splits large folios (migration's splitFolio); set once at boot. Without it, partial discards are always deferred. */
  splitter: FolioSplitter | undefined;
  /** Large folios unmapped in part whose split failed (deferred_split_queue); the shrinker retries them. */
  readonly deferred = new Set<number>();

  /** Built once per machine at boot ({@link Machine.boot}); reach it as `machine.anon`. */
  constructor(
    /** The machine's folio table, for the folios of every region. */
    readonly folios: FolioTable,
    /** Reclaim, which takes anonymous folios on its anon LRU once swap is on. */
    readonly reclaim: Reclaim,
    /** The owner registry each region registers itself in. */
    readonly owners: OwnerRegistry,
    /** The counters (AnonPages, swap in/out) this subsystem updates. */
    readonly vm: VmStat,
    /** The clock, for swap I/O waits. */
    readonly scheduler: Scheduler,
  ) {
    reclaim.registerShrinker(this.deferredSplitShrinker());
  }

  /**
   * Enables swap on `backing` (swapon). Anonymous folios faulted in from now on go on the LRU;
   * earlier ones stay unreclaimable. Throws EBUSY if swap is already on.
   */
  swapOn(backing: SwapBacking): SwapSpace {
    if (this.swap) throw fail("EBUSY", `swap is already on ${this.swap.backing.name}`);
    this.swap = new SwapSpace(backing);
    return this.swap;
  }

  /** A new region of `bytes` (a multiple of 4 KiB) of zero-filled memory, faulted in on use. */
  createRegion(label: string, bytes: number): AnonRegion {
    if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes % PAGE_SIZE !== 0) {
      throw fail("EINVAL", `anonymous region size ${bytes} must be a positive multiple of ${PAGE_SIZE}`);
    }
    return new AnonRegion(this, label, bytes / PAGE_SIZE);
  }

  /**
   * Retries the split of every queued folio now (what the shrinker does under memory pressure;
   * deferred_split_scan); returns the pages freed.
   */
  splitDeferred(max = Infinity): number {
    let freed = 0;
    let tried = 0;
    for (const folio of [...this.deferred]) {
      if (tried++ >= max) break;
      const region = this.owners.get(this.folios.owner(folio));
      if (region instanceof AnonRegion) freed += region.splitQueued(folio);
      else this.deferred.delete(folio); // its owner let it go meanwhile
    }
    return freed;
  }

  /** The deferred split shrinker (deferred_split_shrinker): objects are queued folios. */
  private deferredSplitShrinker(): Shrinker {
    return {
      name: "thp deferred split",
      count: () => this.deferred.size,
      scan: (nr) => this.splitDeferred(nr),
    };
  }
}

/**
 * Anonymous pages by index: an anon_vma with its pages, resident or on swap. A page whose data a
 * memory error destroyed (memory failure `release`d it dirty) stays lost: reading or writing it,
 * or faulting it in, is EHWPOISON until it is discarded (munmap, MADV_DONTNEED).
 */
export class AnonRegion implements PageOwner {
  /** Owner id of its folios. */
  readonly id: number;
  /**
   * Index → folio handle (> 0; a large folio at every page it covers), −(slot + 1) for a page on
   * swap, or LOST; absent: never touched (zero).
   */
  private readonly entries = new Map<number, number>();
  /**
   * Pages discarded while a large folio that could not be split still holds them (zeroed in place),
   * and not touched since: a later split of that folio frees them.
   */
  private readonly discarded = new Set<number>();
  private destroyed = false;

  /**
   * Called by {@link AnonMemory.createRegion}, which checks `nrPages`; registers the region as an
   * owner.
   */
  constructor(
    private readonly mm: AnonMemory,
    readonly label: string,
    /** Size in pages. */
    readonly nrPages: number,
  ) {
    this.id = mm.owners.register(this);
  }

  /** Pages resident in memory (a large folio counts all its pages). */
  get resident(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e > 0) n++;
    return n;
  }

  /** Pages on swap (not resident). */
  get swapped(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e < 0 && e !== LOST) n++;
    return n;
  }

  /** Pages whose data a memory error destroyed (they read as EHWPOISON until discarded). */
  get lost(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e === LOST) n++;
    return n;
  }

  /** The resident folio holding page `index` (a large one covers several pages), or 0. Does not fault. */
  folioAt(index: number): number {
    const e = this.entries.get(index);
    return e !== undefined && e > 0 ? e : 0;
  }

  /** Copies `length` bytes at byte `offset` into `dst[dstOffset..]`, faulting pages in. Throws EIO if a swap-in fails, ENOMEM if no folio can be had. */
  read(offset: number, dst: Uint8Array, dstOffset: number, length: number): void {
    this.each(offset, length, (folio, at, n, done) => dst.set(this.bytes(folio, at, n), dstOffset + done), false);
  }

  /** Copies `src[srcOffset..srcOffset + length)` to byte `offset`, faulting pages in and dirtying them. */
  write(offset: number, src: Uint8Array, srcOffset: number, length: number): void {
    this.each(offset, length, (folio, at, n, done) => {
      const f = this.mm.folios;
      f.data(folio).set(src.subarray(srcOffset + done, srcOffset + done + n), f.dataOffset(folio) + at);
    }, true);
  }

  /** True if page `index` was ever touched and not discarded since: it is resident or on swap. */
  has(index: number): boolean {
    return this.entries.has(index);
  }

  /** True if no page of [first, first + count) was touched (none resident, on swap or lost). */
  isEmpty(first: number, count: number): boolean {
    if (this.entries.size === 0) return true;
    for (let i = first; i < first + count; i++) if (this.entries.has(i)) return false;
    return true;
  }

  /**
   * The resident folio of page `index`, faulted in as {@link AnonRegion.read | read} and {@link AnonRegion.write | write} do: zero-filled
   * the first time, from swap after (waiting for the read). With `write` the page is about to change:
   * its swap copy, if any, is freed and the folio is marked dirty. The folio may be a large one
   * covering the page (its page `index - folios.index(folio)`). Called by the fault path of user
   * mappings; the region keeps its own reference (the caller takes one per page-table entry).
   * Throws EFAULT for an index outside the region, EIO if a swap-in failed, ENOMEM.
   */
  faultIn(index: number, write: boolean): number {
    this.checkIndex(index);
    const folio = this.fault(index, write);
    if (write) {
      this.invalidateSwapCopy(folio);
      this.mm.folios.set(folio, FolioFlag.Dirty);
    }
    return folio;
  }

  /**
   * Makes pages [first, first + 2^order) one new zeroed, dirty folio of that order
   * (do_huge_pmd_anonymous_page, alloc_anon_folio): a transparent huge page, or an mTHP below
   * order 9. Every page of the range must be untouched (EEXIST otherwise). Returns the folio, which
   * the region keeps a reference on, or 0 when no such folio can be had without waiting (the caller
   * falls back to order 0); counted in thp_fault_alloc / thp_fault_fallback. Throws EFAULT for a
   * range outside the region, EINVAL for an order outside 1..9.
   */
  faultInLarge(first: number, order: number): number {
    if (!Number.isInteger(order) || order < 1 || order > PMD_ORDER) throw fail("EINVAL", `large anonymous folio order ${order} is outside 1..${PMD_ORDER}`);
    const n = 1 << order;
    this.checkIndex(first);
    this.checkIndex(first + n - 1);
    if (!this.isEmpty(first, n)) throw fail("EEXIST", `pages [${first}, ${first + n}) of ${this.label} are not all untouched`);
    const mm = this.mm;
    // Opportunistic: one light round of compaction and reclaim at most, never a wait (GFP_TRANSHUGE_LIGHT).
    const folio = mm.folios.tryAlloc(order, Gfp.Movable | Gfp.Zero | Gfp.NoRetry, this.id, first, FolioFlag.Uptodate | FolioFlag.SwapBacked | FolioFlag.Dirty);
    if (folio === 0) {
      mm.vm.events[VmEvent.ThpFaultFallback]++;
      return 0;
    }
    mm.vm.events[VmEvent.ThpFaultAlloc]++;
    this.adopt(folio, first);
    return folio;
  }

  /**
   * Makes page `index` a new dirty folio holding a copy of the 4096 bytes at `src[srcOffset…]`
   * (the copy of a copy-on-write fault: a private mapping's first store to a file page; always
   * order 0). The page must not exist yet (EEXIST otherwise). Returns the folio; the region keeps
   * its reference. Throws EFAULT for an index outside the region, ENOMEM.
   */
  installCopy(index: number, src: Uint8Array, srcOffset: number): number {
    this.checkIndex(index);
    if (this.entries.has(index)) throw fail("EEXIST", `page ${index} of ${this.label} already exists`);
    const f = this.mm.folios;
    // A user fault holds nothing: it may wait for writeback to free memory. No copy anywhere: dirty.
    const folio = f.alloc(0, Gfp.Movable | Gfp.MayThrottle, this.id, index, FolioFlag.Uptodate | FolioFlag.SwapBacked | FolioFlag.Dirty);
    f.data(folio).set(src.subarray(srcOffset, srcOffset + PAGE_SIZE), f.dataOffset(folio));
    this.adopt(folio, index);
    return folio;
  }

  /**
   * Frees pages [first, first + count) and their swap slots (munmap or MADV_DONTNEED of part of
   * the region, truncate of a private mapping's copies): touched again, they read as zeros. No
   * page-table entry may map them any more. A large folio wholly inside the range goes whole; one
   * partly inside is split and only its pages in the range go — or, when it cannot be split now,
   * those pages are zeroed in place and the folio is queued for a deferred split (their memory is
   * freed when that split succeeds). Returns the pages that were resident.
   */
  discard(first: number, count: number): number {
    const f = this.mm.folios;
    let resident = 0;
    let partial: Set<number> | undefined;
    // Few entries or a small range: scan whichever is smaller.
    const indexes = count <= this.entries.size ? rangeKeys(first, count) : [...this.entries.keys()].filter((i) => i >= first && i < first + count);
    for (const index of indexes) {
      const e = this.entries.get(index);
      if (e === undefined) continue;
      if (e > 0 && f.order(e) > 0) {
        const start = f.index(e);
        const n = f.nrPages(e);
        if (start >= first && start + n <= first + count) {
          for (let i = start; i < start + n; i++) this.entries.delete(i);
          resident += n;
          this.drop(e, PageOpCaller.Other);
        } else {
          (partial ??= new Set()).add(e);
        }
        continue;
      }
      this.entries.delete(index);
      if (e > 0) {
        resident++;
        this.drop(e, PageOpCaller.Other);
      } else if (e !== LOST) {
        this.mm.swap!.free(-e - 1);
      }
    }
    if (partial !== undefined) for (const folio of partial) resident += this.discardPart(folio, first, count);
    return resident;
  }

  /** Frees every page and swap slot (munmap of the whole region, or exit). The region is unusable afterwards. */
  destroy(): void {
    const f = this.mm.folios;
    for (const [index, e] of this.entries) {
      // A large folio is named at each of its pages: drop it once, at its first.
      if (e > 0 && f.index(e) === index) this.drop(e, PageOpCaller.Other);
      else if (e < 0 && e !== LOST) this.mm.swap!.free(-e - 1);
    }
    this.entries.clear();
    this.discarded.clear();
    this.mm.owners.unregister(this.id);
    this.destroyed = true;
  }

  /** Public page interface: the page changed behind our back, so its swap copy is stale. */
  dirty(folio: number, _ctx: PageOpContext): PageOpResult {
    this.invalidateSwapCopy(folio);
    this.mm.folios.set(folio, FolioFlag.Dirty);
    return PageOpResult.Done;
  }

  /**
   * Public page interface: moves folio `src` (any order) to `dst` (same order, refcount 1, which
   * becomes the region's reference), with its swap-cache slot, state and place on the deferred
   * split queue. Busy under writeback (a swap-out in flight holds a copy of the old frame's address
   * in its completion); Pinned with references beyond the region's and the caller's.
   */
  migrate(src: number, dst: number, _ctx: PageOpContext): PageOpResult {
    const f = this.mm.folios;
    if (f.test(src, FolioFlag.Writeback)) return PageOpResult.Busy;
    if (f.refcount(src) !== 2) return PageOpResult.Pinned;
    if (f.order(dst) !== f.order(src) || this.entries.get(f.index(src)) !== src) return PageOpResult.Failed;
    moveFolioState(f, src, dst);
    const first = f.index(dst);
    for (let i = first; i < first + f.nrPages(dst); i++) this.entries.set(i, dst);
    if (this.mm.deferred.delete(src)) this.mm.deferred.add(dst);
    this.mm.reclaim.replace(src, dst);
    f.setOwner(src, 0);
    f.put(src);
    return PageOpResult.Done;
  }

  /**
   * Public page interface. Reclaim: a folio with a current swap copy goes (Done; the index keeps
   * the slot); a dirty one starts its swap-out and is Busy (Failed when swap is off or full); a
   * large one is split first and every piece starts its swap-out (Busy; Busy too when it cannot be
   * split now). Memory failure: a large folio is split and only the page holding `ctx.pfn` is
   * handled (Failed, the folio left whole and flagged, when it cannot be split); a page with a
   * current swap copy goes to swap (the next touch reads it back); a dirty one is lost — the index
   * remembers, so that touching it is EHWPOISON, never zeros. Truncate and other callers: the folio
   * goes with its swap copy, as munmap would drop it.
   */
  release(folio: number, ctx: PageOpContext): PageOpResult {
    const f = this.mm.folios;
    if (f.test(folio, FolioFlag.Writeback)) return PageOpResult.Busy;
    if (ctx.caller === PageOpCaller.MemoryFailure) {
      let victim = folio;
      if (f.order(folio) > 0 && ctx.pfn !== undefined) {
        const pieces = this.split(folio, 1);
        if (pieces === null) return PageOpResult.Failed;
        const pfn = ctx.pfn;
        victim = pieces.find((p) => pfn >= f.pfn(p) && pfn < f.pfn(p) + f.nrPages(p)) ?? folio;
      }
      const slot = f.private_(victim) - 1;
      const keep = slot >= 0 && !f.test(victim, FolioFlag.Dirty);
      if (keep) f.setPrivate(victim, NO_SLOT); // the slot now belongs to the index
      this.forget(victim);
      for (let i = f.index(victim); i < f.index(victim) + f.nrPages(victim); i++) this.entries.set(i, keep ? -(slot + 1) : LOST);
      this.drop(victim, ctx.caller);
      return PageOpResult.Done;
    }
    if (ctx.caller !== PageOpCaller.Reclaim) {
      this.forget(folio);
      this.drop(folio, ctx.caller);
      return PageOpResult.Done;
    }
    if (f.order(folio) > 0) {
      // No THP swap: split first (split_folio_to_list), then page out every piece.
      const pieces = this.split(folio, 1);
      if (pieces === null) return PageOpResult.Busy;
      this.mm.vm.events[VmEvent.ThpSwpoutFallback]++;
      for (const p of pieces) if (this.entries.get(f.index(p)) === p && !this.swapOut(p)) break;
      return PageOpResult.Busy;
    }
    const slot = f.private_(folio) - 1;
    if (slot >= 0 && !f.test(folio, FolioFlag.Dirty)) {
      if (f.refcount(folio) > 2) return PageOpResult.Pinned;
      this.entries.set(f.index(folio), -(slot + 1));
      f.setPrivate(folio, NO_SLOT);
      this.drop(folio, PageOpCaller.Reclaim);
      return PageOpResult.Done;
    }
    return this.swapOut(folio) ? PageOpResult.Busy : PageOpResult.Failed;
  }

  /**
   * Retries the deferred split of `folio` (the shrinker's deferred_split_scan): on success the
   * pages discarded since are freed and the folio leaves the queue. Returns the pages freed.
   */
  splitQueued(folio: number): number {
    const f = this.mm.folios;
    if (f.owner(folio) !== this.id || this.entries.get(f.index(folio)) !== folio || f.order(folio) === 0) {
      this.mm.deferred.delete(folio);
      return 0;
    }
    const before = this.mm.vm.stat[Stat.AnonPages]!;
    if (this.split(folio, 0) === null) return 0;
    return before - this.mm.vm.stat[Stat.AnonPages]!;
  }

  /**
   * Splits large `folio` into single pages for the region (the caller holds `callerRefs` references
   * beyond the region's; if it holds the lock, the folio keeps it and the other pieces come
   * unlocked). Points the index at each piece and frees pieces whose pages were discarded while
   * the folio could not be split — except the folio itself when the caller holds references on it.
   * Returns the pieces (the folio first), or null, counting thp_split_page_failed, when it cannot
   * be split now (someone else's reference, writeback, no memory for descriptors).
   */
  private split(folio: number, callerRefs: number): number[] | null {
    const mm = this.mm;
    const f = mm.folios;
    const splitter = mm.splitter;
    const order = f.order(folio);
    if (splitter === undefined) return null;
    const locked = f.testAndSet(folio, FolioFlag.Locked);
    let pieces: number[];
    try {
      pieces = splitter.splitFolio(folio, 0, callerRefs);
    } catch (e) {
      if (!isFolioError(e, "EBUSY") && !isFolioError(e, "ENOMEM")) throw e;
      mm.vm.events[VmEvent.ThpSplitPageFailed]++;
      return null;
    } finally {
      if (!locked) f.clear(folio, FolioFlag.Locked);
    }
    if (order === PMD_ORDER) mm.vm.stat[Stat.AnonThps]--;
    mm.deferred.delete(folio);
    for (const p of pieces) {
      if (p === folio) continue;
      // The pieces copied the folio's lock and isolation; those belong to the caller's folio only.
      f.clear(p, FolioFlag.Locked | FolioFlag.Isolated);
      this.entries.set(f.index(p), p);
    }
    if (this.discarded.size > 0) {
      for (const p of pieces) {
        const index = f.index(p);
        if (!this.discarded.delete(index) || (p === folio && callerRefs > 0)) continue;
        this.entries.delete(index);
        this.drop(p, PageOpCaller.Other);
      }
    }
    return pieces;
  }

  /**
   * Discards the pages of large `folio` in [first, first + count) while the rest stays: split it
   * and free those pieces; if it cannot be split now, zero them in place (they read as new) and
   * queue the folio for a deferred split. Returns the pages freed.
   */
  private discardPart(folio: number, first: number, count: number): number {
    const f = this.mm.folios;
    const start = f.index(folio);
    const lo = Math.max(first, start);
    const hi = Math.min(first + count, start + f.nrPages(folio));
    for (let i = lo; i < hi; i++) this.discarded.add(i);
    const before = this.mm.vm.stat[Stat.AnonPages]!;
    if (this.split(folio, 0) !== null) return before - this.mm.vm.stat[Stat.AnonPages]!;
    const at = f.dataOffset(folio) + (lo - start) * PAGE_SIZE;
    f.data(folio).fill(0, at, at + (hi - lo) * PAGE_SIZE);
    if (!this.mm.deferred.has(folio)) {
      this.mm.deferred.add(folio);
      this.mm.vm.events[VmEvent.ThpDeferredSplitPage]++;
    }
    return 0;
  }

  /** pageout() to swap: a slot, a copy of the page in flight, the folio under writeback until it lands. */
  private swapOut(folio: number): boolean {
    const swap = this.mm.swap;
    const f = this.mm.folios;
    const slot = swap ? swap.alloc() : -1;
    if (!swap || slot < 0) return false;
    // The I/O carries a copy: stores after this point make the folio dirty again, and the copy stale.
    const copy = this.bytes(folio, 0, PAGE_SIZE).slice();
    f.clear(folio, FolioFlag.Dirty);
    f.set(folio, FolioFlag.Writeback);
    f.setPrivate(folio, slot + 1);
    f.get(folio);
    this.mm.vm.stat[Stat.Writeback]++;
    this.mm.vm.events[VmEvent.SwapOut]++;
    swap.backing.write(slot, copy, 0, (error) => {
      f.clear(folio, FolioFlag.Writeback);
      this.mm.vm.stat[Stat.Writeback]--;
      // A failed write, or a store since the copy was taken: the slot holds nothing current.
      if (error !== null || f.test(folio, FolioFlag.Dirty) || f.private_(folio) !== slot + 1) {
        if (f.private_(folio) === slot + 1) f.setPrivate(folio, NO_SLOT);
        swap.free(slot);
        if (error !== null) f.set(folio, FolioFlag.Dirty);
      }
      this.mm.reclaim.rotateReclaimable(folio);
      f.put(folio);
    });
    return true;
  }

  /** Runs `visit(folio, offsetInFolio, bytes, doneSoFar)` over the pages of a byte range, faulting each in. */
  private each(offset: number, length: number, visit: (folio: number, at: number, n: number, done: number) => void, write: boolean): void {
    if (this.destroyed) throw fail("EINVAL", `${this.label} was destroyed`);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.nrPages * PAGE_SIZE) {
      throw fail("EFAULT", `bytes [${offset}, ${offset + length}) are outside ${this.label} (${this.nrPages * PAGE_SIZE} bytes)`);
    }
    const f = this.mm.folios;
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      const index = Math.floor(pos / PAGE_SIZE);
      const at = pos % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - at, length - done);
      const folio = this.fault(index, write);
      if (write) {
        this.invalidateSwapCopy(folio);
        f.set(folio, FolioFlag.Dirty);
      }
      visit(folio, (index - f.index(folio)) * PAGE_SIZE + at, n, done);
      done += n;
    }
  }

  /** The resident folio of page `index`, faulting it in: zero-filled the first time, from swap after. */
  private fault(index: number, write: boolean): number {
    let e = this.entries.get(index);
    // A frame of the page failed and its handling was put off (swap-out in flight): finish it first.
    if (e !== undefined && e > 0 && this.mm.folios.test(e, FolioFlag.HasHwPoisoned) && this.mm.memoryFailure) {
      this.mm.memoryFailure.settle(this.mm.folios.pfn(e));
      e = this.entries.get(index);
      if (e !== undefined && e > 0 && this.mm.folios.test(e, FolioFlag.HasHwPoisoned)) {
        throw fail("EHWPOISON", `page ${index} of ${this.label} is in a frame with a memory error that could not be isolated`);
      }
    }
    if (e === LOST) throw fail("EHWPOISON", `page ${index} of ${this.label} was lost to a memory error`);
    if (e !== undefined && e > 0) {
      // Touched again: a later split must keep it (it reads as zeros, or what was stored since).
      if (this.discarded.size > 0) this.discarded.delete(index);
      this.mm.reclaim.markAccessed(e);
      return e;
    }
    const mm = this.mm;
    const f = mm.folios;
    // A user fault holds nothing: it may wait for swap writes to free memory.
    const folio = f.alloc(0, Gfp.Movable | Gfp.MayThrottle | (e === undefined ? Gfp.Zero : 0), this.id, index, FolioFlag.Uptodate | FolioFlag.SwapBacked);
    if (e !== undefined) {
      const slot = -e - 1;
      let result: string | null | undefined;
      f.set(folio, FolioFlag.Locked);
      mm.swap!.backing.read(slot, f.data(folio), f.dataOffset(folio), (error) => (result = error));
      try {
        mm.scheduler.waitUntil(() => result !== undefined, `swap-in of page ${index} of ${this.label}`);
      } finally {
        f.clear(folio, FolioFlag.Locked);
      }
      if (result !== null) {
        f.put(folio);
        throw fail("EIO", `swap-in of page ${index} of ${this.label} from slot ${slot} failed`);
      }
      mm.vm.events[VmEvent.SwapIn]++;
      f.setPrivate(folio, slot + 1); // the slot stays a current copy until a store
    } else if (!write) {
      f.set(folio, FolioFlag.Dirty); // no copy anywhere: reclaim must write it out first
    }
    this.adopt(folio, index);
    return folio;
  }

  /** Makes a new resident folio pages [index, index + its size): counted, and on the LRU when swap can take it. */
  private adopt(folio: number, index: number): void {
    const mm = this.mm;
    const nr = mm.folios.nrPages(folio);
    for (let i = index; i < index + nr; i++) this.entries.set(i, folio);
    mm.vm.stat[Stat.AnonPages] += nr;
    if (mm.folios.order(folio) === PMD_ORDER) mm.vm.stat[Stat.AnonThps]++;
    if (mm.swap) {
      mm.reclaim.add(folio, -1);
      mm.reclaim.markAccessed(folio);
    } else {
      mm.folios.set(folio, FolioFlag.Unevictable);
    }
  }

  /** Removes every index entry of resident `folio` (it is about to be dropped). */
  private forget(folio: number): void {
    const f = this.mm.folios;
    const first = f.index(folio);
    for (let i = first; i < first + f.nrPages(folio); i++) if (this.entries.get(i) === folio) this.entries.delete(i);
  }

  private checkIndex(index: number): void {
    if (this.destroyed) throw fail("EINVAL", `${this.label} was destroyed`);
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.nrPages) throw fail("EFAULT", `page ${index} is outside ${this.label} (${this.nrPages} pages)`);
  }

  private invalidateSwapCopy(folio: number): void {
    const f = this.mm.folios;
    const slot = f.private_(folio) - 1;
    // Under writeback the completion frees the slot (it sees the dirty flag).
    if (slot >= 0 && !f.test(folio, FolioFlag.Writeback)) {
      this.mm.swap!.free(slot);
      f.setPrivate(folio, NO_SLOT);
    }
  }

  /** Lets go of a folio whose index entries are gone: off the LRU and the deferred queue, its swap slot freed, the region's reference dropped. */
  private drop(folio: number, _caller: PageOpCaller): void {
    const f = this.mm.folios;
    const nr = f.nrPages(folio);
    this.mm.reclaim.remove(folio);
    if (nr > 1) {
      this.mm.deferred.delete(folio);
      if (this.discarded.size > 0) for (let i = f.index(folio); i < f.index(folio) + nr; i++) this.discarded.delete(i);
      if (f.order(folio) === PMD_ORDER) this.mm.vm.stat[Stat.AnonThps]--;
    }
    const slot = f.private_(folio) - 1;
    // Under writeback, the completion frees the slot once it sees the folio no longer names it.
    if (slot >= 0 && !f.test(folio, FolioFlag.Writeback)) this.mm.swap!.free(slot);
    f.setPrivate(folio, NO_SLOT);
    f.clear(folio, FolioFlag.Dirty | FolioFlag.Unevictable);
    this.mm.vm.stat[Stat.AnonPages] -= nr;
    f.setOwner(folio, 0);
    f.put(folio);
  }

  /** `n` bytes at byte `at` of the folio (which may span its pages). */
  private bytes(folio: number, at: number, n: number): Uint8Array {
    const f = this.mm.folios;
    const start = f.dataOffset(folio) + at;
    return f.data(folio).subarray(start, start + n);
  }
}

/** The integers [first, first + count). */
function rangeKeys(first: number, count: number): number[] {
  const out = new Array<number>(count);
  for (let i = 0; i < count; i++) out[i] = first + i;
  return out;
}
