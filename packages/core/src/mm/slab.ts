import { fail } from "../errors.js";
import { PAGE_SIZE } from "../units.js";
import type { PhysicalMemory } from "./physmem.js";
import { MemdescType, type MemMap } from "./memmap.js";
import { Gfp, type PageAllocator } from "./page-alloc.js";
import { Stat, VmEvent, type VmStat } from "./vmstat.js";

/**
 * Slab descriptor layout, in 32-bit words. Slab descriptors are themselves slab objects (of the
 * bootstrap cache `kmem_slab`, whose own descriptors sit at the start of their slab's first page),
 * so the memory that describes memory is accounted like any other.
 */
const S_CACHE = 0;
const S_PFN = 1;
const S_INUSE = 2;
const S_NEXT = 3;
const S_PREV = 4;
const S_STATE = 5;
const S_HINT = 6;
const S_BITMAP = 16;
const BITMAP_WORDS = 16;
/** Bytes of one slab descriptor. */
export const SLAB_DESC_SIZE = 128;
/** Most objects one slab holds: one bit each in the descriptor's bitmap. */
const MAX_OBJECTS = BITMAP_WORDS * 32;
/** Objects no larger than this keep their slab descriptor inside the slab (on-slab). */
const ON_SLAB_MAX_OBJECT = 256;
/** Empty slabs a cache keeps on its partial list before giving slabs back (SLUB's min_partial). */
const MIN_PARTIAL = 2;

const enum SlabState {
  Partial = 0,
  Full = 1,
  Active = 2,
}

/** Options for {@link SlabAllocator.createCache}. */
export interface KmemCacheOptions {
  /** Objects can be freed by a shrinker: the slab pages count as SReclaimable. */
  reclaimable?: boolean;
}

/**
 * A cache of same-sized objects (Linux's kmem_cache). Objects are physical addresses inside
 * slab pages; a slab is 2^order frames whose every page's memdesc names the slab's descriptor.
 */
export class KmemCache {
  /** Slabs currently allocated. */
  slabs = 0;
  /** Objects currently allocated. */
  inUse = 0;
  /** @internal Slab being allocated from (the per-CPU slab), or 0. */
  active = 0;
  /** @internal Head of the list of partially used slabs, or 0. */
  partial = 0;
  /** @internal Length of the partial list. */
  nrPartial = 0;

  /**
   * Called only by {@link SlabAllocator.createCache}, which computes the layout; callers get caches
   * from there.
   */
  constructor(
    /** Index in the slab allocator's cache table; stored in every slab descriptor. */
    readonly id: number,
    /** Name, as /proc/slabinfo prints it. */
    readonly name: string,
    /** Object size in bytes (a multiple of 8). */
    readonly size: number,
    /** Order of each slab's page allocation. */
    readonly order: number,
    /** Objects in one slab. */
    readonly objectsPerSlab: number,
    /** True when the slab descriptor lives inside the slab's first page. */
    readonly onSlab: boolean,
    /** Allocation flags used for slab pages. */
    readonly gfp: number,
  ) {}

  /** Byte offset of the first object from the slab's first frame. */
  get objectsOffset(): number {
    return this.onSlab ? SLAB_DESC_SIZE : 0;
  }
}

/**
 * The slab allocator: caches of small objects carved out of page allocations, one descriptor per
 * slab. `kmalloc` on top of it serves every size below 64 KiB; {@link MemoryAllocator} hides the
 * boundary so callers cannot tell slab-served from page-served memory.
 */
export class SlabAllocator {
  /** Every cache, by id. */
  readonly caches: KmemCache[] = [];
  private readonly descCache: KmemCache;

  /**
   * Built once per machine at boot ({@link Machine.boot}); creates the `kmem_slab` cache of
   * off-slab descriptors. Reach it as `machine.slab`.
   */
  constructor(
    private readonly mem: PhysicalMemory,
    private readonly map: MemMap,
    private readonly pages: PageAllocator,
    private readonly vm: VmStat,
  ) {
    this.descCache = this.createCache("kmem_slab", SLAB_DESC_SIZE);
  }

  /**
   * Creates a cache of `size`-byte objects. Called at boot by owners of small objects (descriptor
   * tables, kmalloc). Throws EINVAL for a size that is not a positive integer below 64 KiB.
   */
  createCache(name: string, size: number, options: KmemCacheOptions = {}): KmemCache {
    if (!Number.isInteger(size) || size <= 0 || size > 65536) {
      throw fail("EINVAL", `slab object size ${size} for cache ${name} must be a whole number in [1, 65536]`);
    }
    const objSize = (size + 7) & ~7;
    const onSlab = objSize <= ON_SLAB_MAX_OBJECT;
    const header = onSlab ? SLAB_DESC_SIZE : 0;
    let best = -1;
    let bestWaste = Infinity;
    for (let order = 0; order <= 5; order++) {
      const bytes = PAGE_SIZE << order;
      const n = Math.min(MAX_OBJECTS, Math.floor((bytes - header) / objSize));
      if (n < 1) continue;
      const waste = (bytes - n * objSize) / bytes;
      if (waste < bestWaste - 1e-9) {
        best = order;
        bestWaste = waste;
      }
      if (waste <= 1 / 8 && (n >= 8 || order >= 3)) {
        best = order;
        break;
      }
    }
    const n = Math.min(MAX_OBJECTS, Math.floor(((PAGE_SIZE << best) - header) / objSize));
    const gfp = options.reclaimable ? Gfp.Reclaimable : Gfp.Kernel;
    const cache = new KmemCache(this.caches.length, name, objSize, best, n, onSlab, gfp);
    this.caches.push(cache);
    return cache;
  }

  /**
   * Allocates one object and returns its physical address. Throws ENOMEM when no slab page can
   * be had. `zero` clears the object first.
   */
  alloc(cache: KmemCache, zero = false): number {
    let s = cache.active;
    if (s === 0 || this.word(s, S_INUSE) === cache.objectsPerSlab) s = this.refill(cache);
    const w = this.mem.wordsOf(s);
    const base = this.mem.wordIndexOf(s);
    const bm = base + S_BITMAP;
    let i = w[base + S_HINT]!;
    let bits = ~w[bm + i]!;
    while (bits === 0) {
      i = (i + 1) & (BITMAP_WORDS - 1);
      bits = ~w[bm + i]!;
    }
    const bit = 31 - Math.clz32(bits & -bits);
    w[bm + i] = w[bm + i]! | (1 << bit);
    w[base + S_HINT] = i;
    w[base + S_INUSE]!++;
    cache.inUse++;
    this.vm.events[VmEvent.SlabAlloc]++;
    const addr = w[base + S_PFN]! * PAGE_SIZE + cache.objectsOffset + (i * 32 + bit) * cache.size;
    if (zero) this.zero(addr, cache.size);
    return addr;
  }

  /**
   * Frees the object at `addr`. Throws EINVAL, changing nothing, if `addr` is not an allocated
   * object of a slab (a double free, an address inside an object, a page that is not slab).
   */
  free(addr: number): void {
    const s = this.slabOf(addr);
    const cache = this.caches[this.word(s, S_CACHE)]!;
    const w = this.mem.wordsOf(s);
    const base = this.mem.wordIndexOf(s);
    const rel = addr - w[base + S_PFN]! * PAGE_SIZE - cache.objectsOffset;
    const idx = rel / cache.size;
    if (rel < 0 || !Number.isInteger(idx) || idx >= cache.objectsPerSlab) {
      throw fail("EINVAL", `address ${addr} is not the start of an object in slab cache ${cache.name}`);
    }
    const wi = base + S_BITMAP + (idx >>> 5);
    const mask = 1 << (idx & 31);
    if (!(w[wi]! & mask)) throw fail("EINVAL", `double free of address ${addr} in slab cache ${cache.name}`);
    w[wi] = w[wi]! & ~mask;
    const inuse = --w[base + S_INUSE]!;
    cache.inUse--;
    this.vm.events[VmEvent.SlabFree]++;
    const state = w[base + S_STATE];
    if (state === SlabState.Full) {
      this.listAdd(cache, s);
    } else if (state === SlabState.Partial && inuse === 0 && cache.nrPartial > MIN_PARTIAL) {
      this.listDel(cache, s);
      this.discard(cache, s);
    }
  }

  /** Cache that owns the object at `addr` (any object address inside a slab). */
  cacheOf(addr: number): KmemCache {
    return this.caches[this.word(this.slabOf(addr), S_CACHE)]!;
  }

  /** Object size of the slab object at `addr`. */
  objectSize(addr: number): number {
    return this.cacheOf(addr).size;
  }

  /** Frees every empty slab of every cache (kmem_cache_shrink), returning the pages freed. */
  shrinkAll(): number {
    let freed = 0;
    // The descriptor cache goes last: discarding other caches' slabs frees its objects.
    for (const cache of [...this.caches.filter((c) => c !== this.descCache), this.descCache]) {
      freed += this.shrink(cache);
    }
    return freed;
  }

  /** Frees the empty slabs of one cache, including an empty active slab. */
  shrink(cache: KmemCache): number {
    let freed = 0;
    if (cache.active !== 0 && this.word(cache.active, S_INUSE) === 0) {
      const s = cache.active;
      cache.active = 0;
      freed += this.discard(cache, s);
    }
    for (let s = cache.partial; s !== 0; ) {
      const next = this.word(s, S_NEXT);
      if (this.word(s, S_INUSE) === 0) {
        this.listDel(cache, s);
        freed += this.discard(cache, s);
      }
      s = next;
    }
    return freed;
  }

  /** Slab descriptor handle for a frame of type Slab. */
  slabOf(addr: number): number {
    if (typeof addr !== "number" || !Number.isInteger(addr) || addr < 0 || addr >= this.mem.bytes) {
      throw fail("EINVAL", `address ${String(addr)} is not a physical address of this machine`);
    }
    const pfn = Math.floor(addr / PAGE_SIZE);
    if (this.map.type[pfn] !== MemdescType.Slab) {
      throw fail("EINVAL", `address ${addr} is not in a slab (frame ${pfn} is not slab memory)`);
    }
    return this.map.ref[pfn]!;
  }

  /** Facts about the slab whose descriptor is `s`, for describe and verify. */
  slabInfo(s: number): {
    /** The cache the slab belongs to. */
    cache: KmemCache;
    /** First frame of the slab. */
    pfn: number;
    /** Objects allocated from it. */
    inUse: number;
    /** `active`: the cache allocates from it now; `partial`: on the partial list; `full`: no free object. */
    state: "partial" | "full" | "active";
  } {
    const state = this.word(s, S_STATE);
    return {
      cache: this.caches[this.word(s, S_CACHE)]!,
      pfn: this.word(s, S_PFN),
      inUse: this.word(s, S_INUSE),
      state: state === SlabState.Full ? "full" : state === SlabState.Active ? "active" : "partial",
    };
  }

  /** Counts allocated objects in a slab's bitmap (for verify: must equal its in-use count). */
  countAllocated(s: number): number {
    let n = this.caches[this.word(s, S_CACHE)]!.objectsPerSlab - MAX_OBJECTS;
    for (let i = 0; i < BITMAP_WORDS; i++) {
      let v = this.word(s, S_BITMAP + i);
      while (v !== 0) {
        v &= v - 1;
        n++;
      }
    }
    return n;
  }

  /** /proc/slabinfo-like rows. */
  slabinfo(): {
    /** Cache name. */
    name: string;
    /** Objects allocated. */
    activeObjs: number;
    /** Object slots in all its slabs. */
    numObjs: number;
    /** Object size in bytes. */
    objSize: number;
    /** Objects per slab. */
    objPerSlab: number;
    /** Pages per slab (2^order). */
    pagesPerSlab: number;
    /** Slabs in the cache. */
    slabs: number;
  }[] {
    return this.caches.map((c) => ({
      name: c.name,
      activeObjs: c.inUse,
      numObjs: c.slabs * c.objectsPerSlab,
      objSize: c.size,
      objPerSlab: c.objectsPerSlab,
      pagesPerSlab: 1 << c.order,
      slabs: c.slabs,
    }));
  }

  private refill(cache: KmemCache): number {
    const old = cache.active;
    let s = cache.partial;
    if (s !== 0) this.listDel(cache, s);
    else s = this.grow(cache);
    // Retire the old slab only once a new one is in hand: if grow() failed, it stays the active slab.
    if (old !== 0) this.setWord(old, S_STATE, SlabState.Full);
    this.setWord(s, S_STATE, SlabState.Active);
    cache.active = s;
    return s;
  }

  private grow(cache: KmemCache): number {
    // Off-slab caches take their descriptor first, so a failed page allocation can return it.
    const desc = cache.onSlab ? 0 : this.alloc(this.descCache) / 16;
    let pfn: number;
    try {
      pfn = this.pages.allocPages(cache.order, cache.gfp, MemdescType.Slab, desc);
    } catch (e) {
      if (desc !== 0) this.free(desc * 16);
      throw e;
    }
    const s = cache.onSlab ? (pfn * PAGE_SIZE) / 16 : desc;
    if (cache.onSlab) this.map.ref.fill(s, pfn, pfn + (1 << cache.order));
    const w = this.mem.wordsOf(s);
    const base = this.mem.wordIndexOf(s);
    w.fill(0, base, base + SLAB_DESC_SIZE / 4);
    w[base + S_CACHE] = cache.id;
    w[base + S_PFN] = pfn;
    // Bits past the last object are set for good, so the free-bit search never returns them.
    for (let i = cache.objectsPerSlab; i < MAX_OBJECTS; i++) w[base + S_BITMAP + (i >>> 5)]! |= 1 << (i & 31);
    cache.slabs++;
    this.vm.stat[cache.gfp & Gfp.Reclaimable ? Stat.SlabReclaimable : Stat.SlabUnreclaimable] += 1 << cache.order;
    this.vm.events[VmEvent.SlabGrow]++;
    return s;
  }

  private discard(cache: KmemCache, s: number): number {
    const pfn = this.word(s, S_PFN);
    cache.slabs--;
    this.vm.stat[cache.gfp & Gfp.Reclaimable ? Stat.SlabReclaimable : Stat.SlabUnreclaimable] -= 1 << cache.order;
    this.vm.events[VmEvent.SlabShrink]++;
    this.pages.freeOwned(pfn, cache.order);
    if (!cache.onSlab) this.free(s * 16);
    return 1 << cache.order;
  }

  private listAdd(cache: KmemCache, s: number): void {
    const head = cache.partial;
    this.setWord(s, S_STATE, SlabState.Partial);
    this.setWord(s, S_PREV, 0);
    this.setWord(s, S_NEXT, head);
    if (head !== 0) this.setWord(head, S_PREV, s);
    cache.partial = s;
    cache.nrPartial++;
  }

  private listDel(cache: KmemCache, s: number): void {
    const next = this.word(s, S_NEXT);
    const prev = this.word(s, S_PREV);
    if (prev !== 0) this.setWord(prev, S_NEXT, next);
    else cache.partial = next;
    if (next !== 0) this.setWord(next, S_PREV, prev);
    cache.nrPartial--;
  }

  private zero(addr: number, size: number): void {
    const pfn = Math.floor(addr / PAGE_SIZE);
    const off = this.mem.offsetOf(pfn) + (addr - pfn * PAGE_SIZE);
    this.mem.sectionOf(pfn).fill(0, off, off + size);
  }

  private word(s: number, field: number): number {
    return this.mem.wordsOf(s)[this.mem.wordIndexOf(s) + field]!;
  }

  private setWord(s: number, field: number, v: number): void {
    this.mem.wordsOf(s)[this.mem.wordIndexOf(s) + field] = v;
  }
}

/** kmalloc size classes, in bytes; every size below 64 KiB is served by the smallest that fits. */
export const KMALLOC_SIZES = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536] as const;
/** Allocations of this many bytes or more go to the page allocator. */
export const KMALLOC_MAX_SLAB = 65536;

/**
 * The one entry point for kernel memory of any size: `kmalloc(size)` returns a physical address
 * and `kfree(addr)` gives it back. Below 64 KiB the object comes from a kmalloc slab cache;
 * from 64 KiB up it is a page allocation of type LargeKmalloc. Both return the same kind of
 * handle and take the same free call, so a caller cannot tell which allocator served it.
 */
export class MemoryAllocator {
  private readonly classes: KmemCache[];
  private readonly classBySize: Uint8Array;

  /**
   * Built once per machine at boot ({@link Machine.boot}); creates the kmalloc size-class caches.
   * Reach it as `machine.kmem`.
   */
  constructor(
    private readonly slab: SlabAllocator,
    private readonly pages: PageAllocator,
    private readonly map: MemMap,
    private readonly vm: VmStat,
  ) {
    this.classes = KMALLOC_SIZES.map((n) => slab.createCache(`kmalloc-${n >= 1024 ? `${n / 1024}k` : n}`, n));
    // Lookup table by 8-byte granule up to 256 bytes, then by power of two.
    this.classBySize = new Uint8Array(33);
    for (let g = 1, c = 0; g <= 32; g++) {
      while (KMALLOC_SIZES[c]! < g * 8) c++;
      this.classBySize[g] = c;
    }
  }

  /**
   * Allocates `size` bytes and returns their physical address. Throws EINVAL for a size that is
   * not a positive integer, ENOMEM when memory cannot be had. `zero` clears the memory.
   */
  kmalloc(size: number, zero = false): number {
    if (!(size > 0 && size <= 0x40000000 && Number.isInteger(size))) {
      throw fail("EINVAL", `kmalloc size ${String(size)} must be a whole number of bytes in [1, 1GiB]`);
    }
    if (size < KMALLOC_MAX_SLAB) return this.slab.alloc(this.classes[this.classIndex(size)]!, zero);
    const order = Math.max(0, Math.ceil(Math.log2(size / PAGE_SIZE)));
    if (order > 10) throw fail("EINVAL", `kmalloc size ${size} exceeds the largest page allocation (4MiB)`);
    const pfn = this.pages.allocPages(order, zero ? Gfp.Zero : Gfp.Kernel, MemdescType.LargeKmalloc, 0);
    this.map.ref.fill(pfn, pfn, pfn + (1 << order));
    this.vm.stat[Stat.LargeKmalloc] += 1 << order;
    this.vm.events[VmEvent.KmallocLarge]++;
    return pfn * PAGE_SIZE;
  }

  /** Frees memory from {@link kmalloc}. Throws EINVAL, changing nothing, for anything else or a double free. */
  kfree(addr: number): void {
    if (typeof addr !== "number" || !Number.isInteger(addr) || addr <= 0 || addr >= this.map.frames * PAGE_SIZE) {
      throw fail("EINVAL", `kfree of ${String(addr)}: not an address of this machine`);
    }
    const pfn = Math.floor(addr / PAGE_SIZE);
    const type = this.map.type[pfn];
    if (type === MemdescType.Slab) {
      const cache = this.slab.cacheOf(addr);
      if (!this.classes.includes(cache)) throw fail("EINVAL", `kfree of ${addr}: it is an object of slab cache ${cache.name}, not a kmalloc allocation`);
      return this.slab.free(addr);
    }
    if (type === MemdescType.LargeKmalloc && this.map.ref[pfn] === pfn && addr === pfn * PAGE_SIZE) {
      const order = this.map.order[pfn]!;
      this.vm.stat[Stat.LargeKmalloc] -= 1 << order;
      return this.pages.freePages(pfn, order);
    }
    if (type === MemdescType.Buddy || type === MemdescType.PerCpu) throw fail("EINVAL", `double free: kfree of ${addr}, which is free memory`);
    throw fail("EINVAL", `kfree of ${addr}: not the start of a kmalloc allocation`);
  }

  /** Usable size of the allocation at `addr` (ksize): the size class or the page run. */
  ksize(addr: number): number {
    const pfn = Math.floor(addr / PAGE_SIZE);
    if (this.map.type[pfn] === MemdescType.LargeKmalloc) return PAGE_SIZE << this.map.order[pfn]!;
    return this.slab.objectSize(addr);
  }

  private classIndex(size: number): number {
    if (size <= 256) return this.classBySize[(size + 7) >>> 3]!;
    return 8 + Math.max(0, Math.ceil(Math.log2(size)) - 9);
  }
}

/** Frame number of a physical address. */
export function pfnOf(addr: number): number {
  return Math.floor(addr / PAGE_SIZE);
}

