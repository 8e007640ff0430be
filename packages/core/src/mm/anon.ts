/**
 * Anonymous memory (mm/memory.c's anonymous faults, mm/swap_state.c, mm/page_io.c, reduced): zero-
 * filled pages that belong to no file, owned by an {@link AnonRegion}, swapped out under memory
 * pressure when the machine has swap.
 *
 * A region is what an anonymous mapping's anon_vma owns: pages by index, each resident (a folio)
 * or swapped out (a slot). Loads and stores go through {@link AnonRegion.read} and
 * {@link AnonRegion.write}, which fault missing pages in; user mappings (mm/mmap) map its folios
 * into page tables through {@link AnonRegion.faultIn}, put the copies of copy-on-write faults in it
 * with {@link AnonRegion.installCopy}, and drop unmapped ranges with {@link AnonRegion.discard}.
 *
 * Reclaim talks to a region only through the public page interface. `release` of a folio with a
 * current swap copy drops it (the index keeps the slot); `release` of a dirty folio — one whose
 * contents no swap slot holds — starts writing it to swap (pageout) and answers Busy, so reclaim
 * comes back for it once the write is done; without swap, anonymous folios are not on the LRU at
 * all: unreclaimable, and counted so in the OOM report.
 */
import { fail } from "../errors.js";
import { PAGE_SIZE } from "../units.js";
import type { Scheduler } from "../engine/scheduler.js";
import { FolioFlag, type FolioTable } from "./folio.js";
import { moveFolioState } from "./migrate.js";
import { Gfp } from "./page-alloc.js";
import { PageOpCaller, PageOpResult, type OwnerRegistry, type PageOpContext, type PageOwner } from "./page-owner.js";
import type { Reclaim } from "./reclaim.js";
import { SwapSpace, type SwapBacking } from "./swap.js";
import { Stat, VmEvent, type VmStat } from "./vmstat.js";

/** A folio's private word holds its swap slot + 1 while a current copy is on swap (the swap cache). */
const NO_SLOT = 0;
/** Entry of a page whose data a memory error destroyed (a hwpoison entry): touching it is EHWPOISON until discarded. */
const LOST = Number.MIN_SAFE_INTEGER;

/** What a region asks of memory failure when it finds a resident page with a poisoned frame. */
export interface PoisonSettler {
  /** Waits for the I/O of the folio holding frame `pfn`, then handles its poisoned frames now (see `MemoryFailure.settle`). */
  settle(pfn: number): unknown;
}

/** The anonymous memory of one machine: its regions and its swap area. */
export class AnonMemory {
  /** The swap area, once {@link swapOn} has run. */
  swap: SwapSpace | undefined;
  /** Memory failure, which regions ask to finish with a poisoned page they find; set once at boot. */
  memoryFailure: PoisonSettler | undefined;

  constructor(
    readonly folios: FolioTable,
    readonly reclaim: Reclaim,
    readonly owners: OwnerRegistry,
    readonly vm: VmStat,
    readonly scheduler: Scheduler,
  ) {}

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
}

/**
 * Anonymous pages by index: an anon_vma with its pages, resident or on swap. A page whose data a
 * memory error destroyed (memory failure `release`d it dirty) stays lost: reading or writing it,
 * or faulting it in, is EHWPOISON until it is discarded (munmap, MADV_DONTNEED).
 */
export class AnonRegion implements PageOwner {
  /** Owner id of its folios. */
  readonly id: number;
  /** Index → folio handle (> 0), −(slot + 1) for a page on swap, or LOST; absent: never touched (zero). */
  private readonly entries = new Map<number, number>();
  private destroyed = false;

  constructor(
    private readonly mm: AnonMemory,
    readonly label: string,
    /** Size in pages. */
    readonly nrPages: number,
  ) {
    this.id = mm.owners.register(this);
  }

  /** Pages resident in memory. */
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

  /**
   * The resident folio of page `index`, faulted in as {@link read} and {@link write} do: zero-filled
   * the first time, from swap after (waiting for the read). With `write` the page is about to change:
   * its swap copy, if any, is freed and the folio is marked dirty. Called by the fault path of user
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
   * Makes page `index` a new dirty folio holding a copy of the 4096 bytes at `src[srcOffset…]`
   * (the copy of a copy-on-write fault: a private mapping's first store to a file page). The page
   * must not exist yet (EEXIST otherwise). Returns the folio; the region keeps its reference.
   * Throws EFAULT for an index outside the region, ENOMEM.
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
   * page-table entry may map them any more. Returns the pages that were resident.
   */
  discard(first: number, count: number): number {
    let resident = 0;
    // Few entries or a small range: scan whichever is smaller.
    const indexes = count <= this.entries.size ? rangeKeys(first, count) : [...this.entries.keys()].filter((i) => i >= first && i < first + count);
    for (const index of indexes) {
      const e = this.entries.get(index);
      if (e === undefined) continue;
      this.entries.delete(index);
      if (e > 0) {
        resident++;
        this.drop(e, PageOpCaller.Other);
      } else if (e !== LOST) {
        this.mm.swap!.free(-e - 1);
      }
    }
    return resident;
  }

  /** Frees every page and swap slot (munmap of the whole region, or exit). The region is unusable afterwards. */
  destroy(): void {
    for (const [index, e] of this.entries) {
      if (e > 0) this.drop(e, PageOpCaller.Other);
      else if (e !== LOST) this.mm.swap!.free(-e - 1);
      this.entries.delete(index);
    }
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
   * Public page interface: moves page `src` to `dst` (same order, refcount 1, which becomes the
   * region's reference), with its swap-cache slot and state. Busy under writeback (a swap-out in
   * flight holds a copy of the old frame's address in its completion); Pinned with references
   * beyond the region's and the caller's.
   */
  migrate(src: number, dst: number, _ctx: PageOpContext): PageOpResult {
    const f = this.mm.folios;
    if (f.test(src, FolioFlag.Writeback)) return PageOpResult.Busy;
    if (f.refcount(src) !== 2) return PageOpResult.Pinned;
    if (f.order(dst) !== f.order(src) || this.entries.get(f.index(src)) !== src) return PageOpResult.Failed;
    moveFolioState(f, src, dst);
    this.entries.set(f.index(dst), dst);
    this.mm.reclaim.replace(src, dst);
    f.setOwner(src, 0);
    f.put(src);
    return PageOpResult.Done;
  }

  /**
   * Public page interface. Reclaim: a folio with a current swap copy goes (Done; the index keeps
   * the slot); a dirty one starts its swap-out and is Busy (Failed when swap is off or full).
   * Memory failure: a page with a current swap copy goes to swap (the next touch reads it back);
   * a dirty one is lost — the index remembers, so that touching it is EHWPOISON, never zeros.
   * Truncate and other callers: the page goes with its swap copy, as munmap would drop it.
   */
  release(folio: number, ctx: PageOpContext): PageOpResult {
    const f = this.mm.folios;
    if (f.test(folio, FolioFlag.Writeback)) return PageOpResult.Busy;
    if (ctx.caller === PageOpCaller.MemoryFailure) {
      const slot = f.private_(folio) - 1;
      const keep = slot >= 0 && !f.test(folio, FolioFlag.Dirty);
      this.entries.set(f.index(folio), keep ? -(slot + 1) : LOST);
      if (keep) f.setPrivate(folio, NO_SLOT); // the slot now belongs to the index
      this.drop(folio, ctx.caller);
      return PageOpResult.Done;
    }
    if (ctx.caller !== PageOpCaller.Reclaim) {
      this.entries.delete(f.index(folio));
      this.drop(folio, ctx.caller);
      return PageOpResult.Done;
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
      f.put(folio);
    });
    return true;
  }

  /** Runs `visit(folio, offsetInPage, bytes, doneSoFar)` over the pages of a byte range, faulting each in. */
  private each(offset: number, length: number, visit: (folio: number, at: number, n: number, done: number) => void, write: boolean): void {
    if (this.destroyed) throw fail("EINVAL", `${this.label} was destroyed`);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.nrPages * PAGE_SIZE) {
      throw fail("EFAULT", `bytes [${offset}, ${offset + length}) are outside ${this.label} (${this.nrPages * PAGE_SIZE} bytes)`);
    }
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      const index = Math.floor(pos / PAGE_SIZE);
      const at = pos % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - at, length - done);
      const folio = this.fault(index, write);
      if (write) {
        this.invalidateSwapCopy(folio);
        this.mm.folios.set(folio, FolioFlag.Dirty);
      }
      visit(folio, at, n, done);
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

  /** Makes a new resident folio page `index`: counted, and on the LRU when swap can take it. */
  private adopt(folio: number, index: number): void {
    const mm = this.mm;
    this.entries.set(index, folio);
    mm.vm.stat[Stat.AnonPages]++;
    if (mm.swap) {
      mm.reclaim.add(folio, -1);
      mm.reclaim.markAccessed(folio);
    } else {
      mm.folios.set(folio, FolioFlag.Unevictable);
    }
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

  private drop(folio: number, _caller: PageOpCaller): void {
    const f = this.mm.folios;
    this.mm.reclaim.remove(folio);
    const slot = f.private_(folio) - 1;
    // Under writeback, the completion frees the slot once it sees the folio no longer names it.
    if (slot >= 0 && !f.test(folio, FolioFlag.Writeback)) this.mm.swap!.free(slot);
    f.setPrivate(folio, NO_SLOT);
    f.clear(folio, FolioFlag.Dirty | FolioFlag.Unevictable);
    this.mm.vm.stat[Stat.AnonPages]--;
    f.setOwner(folio, 0);
    f.put(folio);
  }

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
