import { fail } from "../errors.js";

/**
 * What a frame holds: the type half of a memdesc reference. In Linux's memdesc plan the
 * page's only word is a pointer to its owner's descriptor with the type in its low bits;
 * here the type and the reference are two parallel arrays.
 */
export const enum MemdescType {
  /** Free, in the buddy allocator's lists. Only a block's head page is marked {@link PageFlag.Buddy}. */
  Buddy = 0,
  /** Free, on the per-CPU list of order-0 pages. */
  PerCpu = 1,
  /** Part of a folio (page cache or anonymous memory); ref is the folio handle. */
  Folio = 2,
  /** Part of a slab; ref is the slab descriptor handle. */
  Slab = 3,
  /** Backs a vmalloc area; ref is the vm area descriptor handle. */
  Vmalloc = 4,
  /** Holds a page table; ref is the owning address-space id. */
  PageTable = 5,
  /** A hugetlb page (in the pool or in use); ref is its folio handle. */
  Hugetlb = 6,
  /** Never handed to the allocator (firmware, the zero frame). */
  Reserved = 7,
  /** A kmalloc allocation of 64 KiB or more served by the page allocator; ref is its head pfn. */
  LargeKmalloc = 8,
  /** Taken offline after a hardware memory error; never allocated again until unpoisoned. */
  Offline = 9,
}

/** Names of {@link MemdescType} values, for reports. */
export const MEMDESC_TYPE_NAMES = [
  "buddy", "percpu", "folio", "slab", "vmalloc", "pagetable", "hugetlb", "reserved", "large-kmalloc", "offline",
] as const;

/** Per-page flag bits. Flags that belong to a folio (dirty, lru, …) live in the folio, not here. */
export const enum PageFlag {
  /** First page of an allocation handed out by the page allocator. */
  Head = 1 << 0,
  /** Head of a free block in the buddy lists; `order` holds the block's order. */
  Buddy = 1 << 1,
  /** A hardware memory error was reported on this frame. */
  HwPoison = 1 << 2,
  /** Isolated from the free lists or LRU by compaction or offlining. */
  Isolated = 1 << 3,
}

/** A memdesc reference: what owns a frame, as `describe` and allocator callers see it. */
export interface Memdesc {
  /** What the frame holds. */
  type: MemdescType;
  /**
   * The reference, interpreted by {@link type}: a folio handle, a slab descriptor, a vm area
   * descriptor, an address-space id, a head pfn.
   */
  ref: number;
}

/**
 * The struct page table (Linux's `mem_map`): a few bytes per frame in parallel typed arrays,
 * never one JS object per frame.
 *
 * Per frame: memdesc type (1 byte), flags (1), allocation order (1), memdesc reference (4) and
 * the two links of the buddy free lists (4 + 4): 15 bytes, against Linux's 64-byte struct page.
 * What a frame's owner knows (a folio's index, dirtiness, refcount) lives in the owner's
 * descriptor, reached through the reference.
 */
export class MemMap {
  /** Frames of the machine; valid pfns are 0..frames−1. */
  readonly frames: number;
  /** {@link MemdescType} per frame. */
  readonly type: Uint8Array;
  /** {@link PageFlag} bits per frame. */
  readonly flags: Uint8Array;
  /** Allocation order, meaningful on {@link PageFlag.Head} and {@link PageFlag.Buddy} pages. */
  readonly order: Uint8Array;
  /** Memdesc reference per frame; its meaning depends on {@link type}. */
  readonly ref: Uint32Array;
  /** Next free block in the same buddy list (pfn, or -1). */
  readonly next: Int32Array;
  /** Previous free block in the same buddy list (pfn, or -1). */
  readonly prev: Int32Array;

  /**
   * Built once per machine at boot ({@link Machine.boot}) with `frames` zeroed entries (all
   * {@link MemdescType.Buddy} until the allocator is set up); reach it as `machine.memmap`.
   */
  constructor(frames: number) {
    this.frames = frames;
    this.type = new Uint8Array(frames);
    this.flags = new Uint8Array(frames);
    this.order = new Uint8Array(frames);
    this.ref = new Uint32Array(frames);
    this.next = new Int32Array(frames).fill(-1);
    this.prev = new Int32Array(frames).fill(-1);
  }

  /** Bytes of typed-array storage the table uses. */
  get bytes(): number {
    return this.frames * 15;
  }

  /** Sets the memdesc of `count` frames from `pfn`: the allocator does this for every page it hands out. */
  setMemdesc(pfn: number, count: number, type: MemdescType, ref: number): void {
    this.type.fill(type, pfn, pfn + count);
    this.ref.fill(ref, pfn, pfn + count);
  }

  /** Throws EINVAL unless `pfn` names a frame of this machine. */
  checkPfn(pfn: unknown, what = "pfn"): number {
    if (typeof pfn !== "number" || !Number.isInteger(pfn) || pfn < 0 || pfn >= this.frames) {
      throw fail("EINVAL", `${what} ${String(pfn)} is not a frame of this machine (0..${this.frames - 1})`);
    }
    return pfn;
  }
}
