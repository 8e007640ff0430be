import { fail } from "../errors.js";
import { PAGE_SIZE } from "../units.js";
import type { PhysicalMemory } from "./physmem.js";
import { MemdescType, PageFlag, type MemMap } from "./memmap.js";
import type { PageAllocator } from "./page-alloc.js";
import type { KmemCache, SlabAllocator } from "./slab.js";
import { VmEvent, type VmStat } from "./vmstat.js";

/** Folio flag bits (Linux's PG_* flags that belong to the folio, not to each page). */
export const enum FolioFlag {
  /**
   * Held by whoever is changing the folio's identity or contents (I/O, truncate, migration);
   * readers wait for it.
   */
  Locked = 1 << 0,
  /** The folio's data is valid: read from its backing store or fully written. */
  Uptodate = 1 << 1,
  /** Data differs from the backing store; writeback clears it when it starts I/O. */
  Dirty = 1 << 2,
  /** Write I/O is in flight; set by writeback start, cleared when the device completes. */
  Writeback = 1 << 3,
  /**
   * Used since it was added to the LRU: the first {@link Reclaim.markAccessed} sets it, and only
   * later uses reach the eviction policy as hits.
   */
  Referenced = 1 << 4,
  /**
   * Linux's PG_active. The eviction policies keep list membership in their own nodes, so no core
   * path sets it; migration carries it over.
   */
  Active = 1 << 5,
  /**
   * Linux's PG_workingset. As with {@link Active}, policies keep this state themselves (see
   * {@link LinuxPolicy}); migration carries it over.
   */
  Workingset = 1 << 6,
  /** The readahead marker: touching it starts the next asynchronous readahead window. */
  Readahead = 1 << 7,
  /** The last read of the folio failed; it is not uptodate, and the next read retries. */
  Error = 1 << 8,
  /** On an LRU list. */
  Lru = 1 << 9,
  /** Anonymous or shmem memory: backed by swap, not by a file. */
  SwapBacked = 1 << 10,
  /** A hugetlb pool folio. */
  Hugetlb = 1 << 11,
  /** Reclaim wants it freed as soon as writeback ends. */
  Reclaim = 1 << 12,
  /** Never evicted (anonymous memory without swap, the shared zero folio); kept off the LRU. */
  Unevictable = 1 << 13,
  /** The owner keeps private data with it (buffer heads, block addresses). */
  Private = 1 << 14,
  /**
   * A frame of this folio is poisoned (any folio, not only large ones): readers and the fault path
   * test it with the flags they already read, and fail the bad page instead of serving its data.
   */
  HasHwPoisoned = 1 << 15,
  /** Taken off the LRU by reclaim, compaction or migration. */
  Isolated = 1 << 16,
  /**
   * Linux's PG_mappedtodisk: every page of the folio has its block on the owner's disk, so a
   * write fault need not look the blocks up again. Set and cleared by the filesystem that owns the
   * folio (which clears it before freeing any of those blocks); migration and splits carry it over.
   */
  MappedToDisk = 1 << 17,
}

/** Names of {@link FolioFlag} bits in bit order, for describe and page-types. */
export const FOLIO_FLAG_NAMES = [
  "locked", "uptodate", "dirty", "writeback", "referenced", "active", "workingset", "readahead", "error",
  "lru", "swapbacked", "hugetlb", "reclaim", "unevictable", "private", "has_hwpoisoned", "isolated",
] as const;

/** Descriptor layout in 32-bit words: 64 bytes per folio, a slab object of cache `folio`. */
const F_FLAGS = 0;
const F_PFN = 1;
const F_ORDER = 2;
const F_REFCOUNT = 3;
const F_MAPCOUNT = 4;
const F_OWNER = 5;
const F_INDEX = 6;
const F_LRU_NEXT = 7;
const F_LRU_PREV = 8;
const F_PRIVATE = 9;
const F_PINCOUNT = 10;
/** Bytes of one folio descriptor. */
export const FOLIO_DESC_SIZE = 64;

/** What frees a hugetlb folio whose last reference went: the pool. Set once at boot. */
export interface HugetlbRelease {
  /**
   * Returns the hugetlb `folio` (refcount already 0) to the pool's free list. Called only by
   * {@link FolioTable.put}.
   */
  freeHugeFolio(folio: number): void;
}

/**
 * Folio descriptors (Linux's struct folio) and their life cycle.
 *
 * A folio is a power-of-two run of frames that one owner uses as a unit. Its descriptor is a
 * 64-byte slab object in simulated memory; the folio's handle is that object's physical address
 * divided by 16 (the memdesc encoding), and every frame of the folio carries the handle as its
 * memdesc reference. Accessors take the handle, as Linux's `folio_*()` functions take the pointer.
 * No per-folio JS object exists, so a cache of a million folios costs no JS heap.
 *
 * When the last reference is dropped the folio is freed according to its memdesc type: a hugetlb
 * folio returns to its pool, any other goes back to the page allocator. There is no per-folio
 * destructor pointer.
 */
export class FolioTable {
  private readonly cache: KmemCache;
  private hugetlb?: HugetlbRelease;

  /**
   * Built once per machine at boot ({@link Machine.boot}); reach it as `machine.folios`. Creates
   * the `folio` kmem cache that holds every descriptor.
   */
  constructor(
    private readonly mem: PhysicalMemory,
    private readonly map: MemMap,
    private readonly pages: PageAllocator,
    private readonly slab: SlabAllocator,
    private readonly vm: VmStat,
  ) {
    this.cache = slab.createCache("folio", FOLIO_DESC_SIZE);
  }

  /** Connects the hugetlb pool that takes back hugetlb folios. Called once while the machine boots. */
  setHugetlbRelease(pool: HugetlbRelease): void {
    this.hugetlb = pool;
  }

  /**
   * Allocates a folio of 2^order frames with refcount 1 and returns its handle. `owner` is an
   * {@link OwnerRegistry} id (0 for none yet), `index` its position in the owner's space (page
   * index in a file). The descriptor is allocated first and returned if the frames cannot be had,
   * so a failure leaves nothing behind. Throws ENOMEM or EINVAL as {@link PageAllocator.allocPages}.
   */
  alloc(order: number, gfp: number, owner = 0, index = 0, flags = 0, type: MemdescType = MemdescType.Folio): number {
    const addr = this.slab.alloc(this.cache);
    const h = addr / 16;
    let pfn: number;
    try {
      pfn = this.pages.allocPages(order, gfp, type, h);
    } catch (e) {
      this.slab.free(addr);
      throw e;
    }
    return this.initDescriptor(h, pfn, order, owner, index, flags);
  }

  /**
   * As {@link alloc}, but returns 0 instead of throwing when memory cannot be had, and makes no
   * OOM report: for opportunistic allocations with a fallback (a transparent huge page, which falls
   * back to order 0). Throws EINVAL as {@link alloc}.
   */
  tryAlloc(order: number, gfp: number, owner = 0, index = 0, flags = 0): number {
    let addr: number;
    try {
      addr = this.slab.alloc(this.cache);
    } catch (e) {
      if ((e as { code?: string }).code === "ENOMEM") return 0;
      throw e;
    }
    const h = addr / 16;
    const pfn = this.pages.tryAllocPages(order, gfp, MemdescType.Folio, h);
    if (pfn < 0) {
      this.slab.free(addr);
      return 0;
    }
    return this.initDescriptor(h, pfn, order, owner, index, flags);
  }

  /**
   * Creates a folio of 2^order frames, refcount 1, on frames the caller already holds: the head of
   * an isolated free block (`PageAllocator.isolateFreeBlock`) of at least that order. Compaction
   * builds its migration targets this way from the free pages its free scanner took; the rest of a
   * larger block stays isolated (`PageAllocator.allocIsolated`). As with {@link alloc} the
   * descriptor comes first, so ENOMEM for it leaves the block isolated and unchanged; EINVAL when
   * `pfn` is not such a block.
   */
  allocIsolated(pfn: number, order: number, owner = 0, index = 0, flags = 0): number {
    const addr = this.slab.alloc(this.cache);
    const h = addr / 16;
    try {
      this.pages.allocIsolated(pfn, order, MemdescType.Folio, h);
    } catch (e) {
      this.slab.free(addr);
      throw e;
    }
    return this.initDescriptor(h, pfn, order, owner, index, flags);
  }

  /** Fills a new descriptor `h` for the folio of 2^order frames at `pfn`: refcount 1, no mapcount. Returns `h`. */
  private initDescriptor(h: number, pfn: number, order: number, owner: number, index: number, flags: number): number {
    const w = this.mem.wordsOf(h);
    const b = this.mem.wordIndexOf(h);
    w.fill(0, b, b + FOLIO_DESC_SIZE / 4);
    w[b + F_FLAGS] = flags;
    w[b + F_PFN] = pfn;
    w[b + F_ORDER] = order;
    w[b + F_REFCOUNT] = 1;
    w[b + F_OWNER] = owner;
    w[b + F_INDEX] = index;
    this.vm.events[VmEvent.FolioAlloc]++;
    return h;
  }

  /** Takes a reference (folio_get). */
  get(h: number): void {
    this.mem.wordsOf(h)[this.mem.wordIndexOf(h) + F_REFCOUNT]!++;
  }

  /**
   * Drops a reference (folio_put); the last one frees the folio by its memdesc type. Throws
   * EINVAL on a put of a folio whose count is already zero (a use after free).
   */
  put(h: number): void {
    const w = this.mem.wordsOf(h);
    const i = this.mem.wordIndexOf(h) + F_REFCOUNT;
    const c = w[i]!;
    if (c <= 0) throw fail("EINVAL", `folio_put of folio ${h} whose refcount is already ${c}`);
    w[i] = c - 1;
    if (c === 1) this.free(h);
  }

  /**
   * Sets the refcount to 0 if it is exactly `expected` (folio_ref_freeze): nobody can take a
   * new reference while it is frozen. Returns false, changing nothing, if other references exist.
   */
  refFreeze(h: number, expected: number): boolean {
    const w = this.mem.wordsOf(h);
    const i = this.mem.wordIndexOf(h) + F_REFCOUNT;
    if (w[i] !== expected) return false;
    w[i] = 0;
    return true;
  }

  /** Undoes {@link refFreeze}, setting the refcount to `count`. */
  refUnfreeze(h: number, count: number): void {
    this.setField(h, F_REFCOUNT, count);
  }

  /** The folio a frame belongs to (page_folio), or 0 if the frame is not part of a folio. */
  fromPfn(pfn: number): number {
    const t = this.map.type[pfn];
    return t === MemdescType.Folio || t === MemdescType.Hugetlb ? this.map.ref[pfn]! : 0;
  }

  /**
   * Throws EINVAL unless `h` is the handle of a live folio. Public entry points that take
   * handles from outside call this; internal paths trust their own handles.
   */
  check(h: unknown): number {
    if (typeof h === "number" && Number.isInteger(h) && h > 0 && h * 16 < this.mem.bytes) {
      const pfn = this.field(h, F_PFN);
      if (pfn > 0 && pfn < this.map.frames && this.map.ref[pfn] === h && this.fromPfn(pfn) === h && this.field(h, F_REFCOUNT) > 0) return h;
    }
    throw fail("EINVAL", `${String(h)} is not a live folio`);
  }

  /** The flag word ({@link FolioFlag} bits); test several at once by masking it. */
  flags(h: number): number {
    return this.field(h, F_FLAGS);
  }
  /** Whether `flag` is set. */
  test(h: number, flag: FolioFlag): boolean {
    return (this.field(h, F_FLAGS) & flag) !== 0;
  }
  /** Sets `flag` (a non-atomic set: the engine runs one thing at a time). */
  set(h: number, flag: FolioFlag): void {
    this.mem.wordsOf(h)[this.mem.wordIndexOf(h) + F_FLAGS]! |= flag;
  }
  /** Clears `flag` (or every bit of a mask of flags). */
  clear(h: number, flag: FolioFlag): void {
    this.mem.wordsOf(h)[this.mem.wordIndexOf(h) + F_FLAGS]! &= ~flag;
  }
  /** Sets `flag` and returns whether it was already set (folio_test_set_*). */
  testAndSet(h: number, flag: FolioFlag): boolean {
    const w = this.mem.wordsOf(h);
    const i = this.mem.wordIndexOf(h) + F_FLAGS;
    const old = w[i]!;
    w[i] = old | flag;
    return (old & flag) !== 0;
  }
  /** Clears `flag` and returns whether it was set (folio_test_clear_*). */
  testAndClear(h: number, flag: FolioFlag): boolean {
    const w = this.mem.wordsOf(h);
    const i = this.mem.wordIndexOf(h) + F_FLAGS;
    const old = w[i]!;
    w[i] = old & ~flag;
    return (old & flag) !== 0;
  }
  /** First frame. */
  pfn(h: number): number {
    return this.field(h, F_PFN);
  }
  /** log2 of the number of frames: 0 for a single page, 9 for 2 MiB. */
  order(h: number): number {
    return this.field(h, F_ORDER);
  }
  /** Frames in the folio: 2^{@link order}. */
  nrPages(h: number): number {
    return 1 << this.field(h, F_ORDER);
  }
  /** Size in bytes. */
  size(h: number): number {
    return PAGE_SIZE << this.field(h, F_ORDER);
  }
  /**
   * References held (the cache, mappings' page tables as one, I/O, callers' gets); 0 means freed or
   * frozen.
   */
  refcount(h: number): number {
    return this.field(h, F_REFCOUNT);
  }
  /** Page-table entries mapping any page of the folio (one count per folio, as current Linux). */
  mapcount(h: number): number {
    return this.field(h, F_MAPCOUNT);
  }
  /**
   * Adds `delta` to the mapcount and returns the new count. Called by the page-table code when it
   * maps or unmaps a page of the folio.
   */
  addMapcount(h: number, delta: number): number {
    const w = this.mem.wordsOf(h);
    const i = this.mem.wordIndexOf(h) + F_MAPCOUNT;
    return (w[i] = w[i]! + delta);
  }
  /** Pins held (pin_user_pages, FOLL_PIN): a pinned folio cannot be migrated or split. */
  pincount(h: number): number {
    return this.field(h, F_PINCOUNT);
  }
  /** Adds `delta` (±1) to the pin count. Pins are taken on top of a reference. */
  addPincount(h: number, delta: number): void {
    this.mem.wordsOf(h)[this.mem.wordIndexOf(h) + F_PINCOUNT]! += delta;
  }
  /** Owner id in the {@link OwnerRegistry}, or 0. */
  owner(h: number): number {
    return this.field(h, F_OWNER);
  }
  /**
   * Sets the owner id ({@link OwnerRegistry}) of a folio being added to its owner's space; 0
   * detaches it.
   */
  setOwner(h: number, owner: number): void {
    this.setField(h, F_OWNER, owner);
  }
  /** Index in the owner's space (page offset in the file for page cache folios). */
  index(h: number): number {
    return this.field(h, F_INDEX) >>> 0;
  }
  /**
   * Sets the index in the owner's space; the owner sets it before the folio is visible in its
   * index.
   */
  setIndex(h: number, index: number): void {
    this.setField(h, F_INDEX, index);
  }
  /** Owner-private word (a block address, a swap slot). */
  private_(h: number): number {
    return this.field(h, F_PRIVATE);
  }
  /** Sets the owner-private word (a block address, a swap slot, −1 for none). */
  setPrivate(h: number, v: number): void {
    this.setField(h, F_PRIVATE, v);
  }
  /**
   * Reclaim's policy hint: the node the eviction policy returned from `insert`, + 1 (0 for none),
   * handed back to the policy with each access so it finds the node without a lookup.
   */
  lruNext(h: number): number {
    return this.field(h, F_LRU_NEXT);
  }
  /**
   * Reclaim's epoch stamp: the eviction policy's epoch + 1 at which accesses stopped mattering (see
   * {@link EvictionPolicy.epoch}), or 0.
   */
  lruPrev(h: number): number {
    return this.field(h, F_LRU_PREV);
  }
  /** Sets both LRU words ({@link lruPrev}, {@link lruNext}); only {@link Reclaim} calls it. */
  setLru(h: number, prev: number, next: number): void {
    const w = this.mem.wordsOf(h);
    const b = this.mem.wordIndexOf(h);
    w[b + F_LRU_PREV] = prev;
    w[b + F_LRU_NEXT] = next;
  }

  /** The byte view holding the folio's data; index it from {@link dataOffset}. */
  data(h: number): Uint8Array {
    return this.mem.sectionOf(this.field(h, F_PFN));
  }
  /** Offset of the folio's first byte in {@link data}. */
  dataOffset(h: number): number {
    return this.mem.offsetOf(this.field(h, F_PFN));
  }

  /**
   * Splits folio `h` into folios of 2^`newOrder` frames (the descriptor half of
   * __split_folio_to_order): `h` keeps its descriptor and becomes the first piece; each other piece
   * gets a new descriptor with `h`'s flags, owner and private word, the index of its first page,
   * refcount 1 (its owner's reference) and no mapcount, and its frames name it. All descriptors are
   * allocated before anything changes, so ENOMEM leaves `h` whole. Returns the pieces in page
   * order, `h` first. The caller (see `Migration.splitFolio`) has taken down every page-table entry
   * and holds the folio locked; it fixes the LRU and the owner's index.
   */
  splitDescriptors(h: number, newOrder: number): number[] {
    const order = this.field(h, F_ORDER);
    if (!Number.isInteger(newOrder) || newOrder < 0 || newOrder >= order) {
      throw fail("EINVAL", `cannot split an order-${order} folio to order ${newOrder}`);
    }
    const count = 1 << (order - newOrder);
    const addrs: number[] = [];
    try {
      for (let i = 1; i < count; i++) addrs.push(this.slab.alloc(this.cache));
    } catch (e) {
      for (const a of addrs) this.slab.free(a);
      throw e;
    }
    const pfn = this.field(h, F_PFN);
    const type = this.map.type[pfn]! as MemdescType;
    const step = 1 << newOrder;
    const pieces = [h];
    for (let i = 1; i < count; i++) {
      const p = addrs[i - 1]! / 16;
      const w = this.mem.wordsOf(p);
      const b = this.mem.wordIndexOf(p);
      w.fill(0, b, b + FOLIO_DESC_SIZE / 4);
      w[b + F_FLAGS] = this.field(h, F_FLAGS);
      w[b + F_PFN] = pfn + i * step;
      w[b + F_ORDER] = newOrder;
      w[b + F_REFCOUNT] = 1;
      w[b + F_OWNER] = this.field(h, F_OWNER);
      w[b + F_INDEX] = this.index(h) + i * step;
      w[b + F_PRIVATE] = this.field(h, F_PRIVATE);
      this.map.setMemdesc(pfn + i * step, step, type, p);
      this.map.flags[pfn + i * step]! |= PageFlag.Head;
      this.map.order[pfn + i * step] = newOrder;
      pieces.push(p);
      this.vm.events[VmEvent.FolioAlloc]++;
    }
    this.setField(h, F_ORDER, newOrder);
    this.map.order[pfn] = newOrder;
    // has_hwpoisoned stays only on the pieces that hold a poisoned frame.
    if (this.field(h, F_FLAGS) & FolioFlag.HasHwPoisoned) for (const p of pieces) this.updateHwPoisoned(p);
    return pieces;
  }

  /**
   * Sets or clears {@link FolioFlag.HasHwPoisoned} from the poison flags of the folio's frames;
   * returns whether one of them is poisoned. Memory failure keeps the flag true to the frames.
   */
  updateHwPoisoned(h: number): boolean {
    const pfn = this.field(h, F_PFN);
    const flags = this.map.flags;
    let poisoned = false;
    for (let p = pfn; p < pfn + (1 << this.field(h, F_ORDER)); p++) {
      if (flags[p]! & PageFlag.HwPoison) {
        poisoned = true;
        break;
      }
    }
    if (poisoned) this.set(h, FolioFlag.HasHwPoisoned);
    else this.clear(h, FolioFlag.HasHwPoisoned);
    return poisoned;
  }

  /** Copies the data of folio `src` into folio `dst` (folio_copy); the caller checked they are the same size. */
  copyData(src: number, dst: number): void {
    this.mem.copyFrames(this.field(dst, F_PFN), this.field(src, F_PFN), 1 << this.field(src, F_ORDER));
  }

  /** Human-readable flag list, e.g. `"uptodate,dirty,lru"`. */
  flagNames(h: number): string {
    const f = this.field(h, F_FLAGS);
    return FOLIO_FLAG_NAMES.filter((_, i) => f & (1 << i)).join(",");
  }

  private free(h: number): void {
    const pfn = this.field(h, F_PFN);
    if (this.map.type[pfn] === MemdescType.Hugetlb && this.hugetlb) {
      this.hugetlb.freeHugeFolio(h);
      return;
    }
    this.freeDescriptorAndPages(h);
  }

  /**
   * Returns the frames to the page allocator and the descriptor to its slab. Called by
   * {@link put} on the last reference, and by the hugetlb pool when it shrinks.
   */
  freeDescriptorAndPages(h: number): void {
    const pfn = this.field(h, F_PFN);
    const order = this.field(h, F_ORDER);
    this.pages.freeOwned(pfn, order);
    this.slab.free(h * 16);
    this.vm.events[VmEvent.FolioFree]++;
  }

  private field(h: number, f: number): number {
    return this.mem.wordsOf(h)[this.mem.wordIndexOf(h) + f]!;
  }

  private setField(h: number, f: number, v: number): void {
    this.mem.wordsOf(h)[this.mem.wordIndexOf(h) + f] = v;
  }
}
