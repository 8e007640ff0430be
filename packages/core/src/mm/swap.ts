/**
 * Swap space (mm/swapfile.c, reduced): page-sized slots on a backing store, handed out to
 * anonymous memory when reclaim pushes its pages out.
 *
 * Core knows the backing only through {@link SwapBacking}; the block-device layer (which core
 * never imports) provides one over any block device — a memfs file by default (`swapOn` in
 * @folio/pagecache).
 */
import type { ErrorCode } from "../errors.js";
import { fail } from "../errors.js";
import { PAGE_SIZE } from "../units.js";

/**
 * Where swapped-out pages live: `slots` pages, addressed by slot number. Both calls start I/O and
 * return at once; `done` runs later from a scheduler event, with null or the error.
 */
export interface SwapBacking {
  /** Name for reports ("swap on vdb"). */
  readonly name: string;
  /** Page-sized slots. */
  readonly slots: number;
  /** Writes one page (`src[offset .. offset + 4096)`, which must stay unchanged until `done`) to `slot`. */
  write(slot: number, src: Uint8Array, offset: number, done: (error: ErrorCode | null) => void): void;
  /** Reads `slot` into `dst[offset .. offset + 4096)`. */
  read(slot: number, dst: Uint8Array, offset: number, done: (error: ErrorCode | null) => void): void;
}

/** The machine's swap area: a slot allocator over one {@link SwapBacking} (swap_info_struct). */
export class SwapSpace {
  private readonly used: Uint8Array;
  private next = 0;
  /** Slots in use. */
  inUse = 0;

  /**
   * Called by {@link AnonMemory.swapOn}. Throws EINVAL unless the backing has at least one slot.
   *
   * @param backing - Where the slots' pages are read and written; every slot starts free.
   */
  constructor(readonly backing: SwapBacking) {
    if (!Number.isInteger(backing.slots) || backing.slots < 1) throw fail("EINVAL", `swap on ${backing.name} needs at least one ${PAGE_SIZE}-byte slot`);
    this.used = new Uint8Array(backing.slots);
  }

  /** Slots in all. */
  get slots(): number {
    return this.used.length;
  }

  /** Takes a free slot (get_swap_page), or returns -1 when swap is full. */
  alloc(): number {
    if (this.inUse === this.used.length) return -1;
    const n = this.used.length;
    for (let i = 0; i < n; i++) {
      const slot = (this.next + i) % n;
      if (this.used[slot] === 0) {
        this.used[slot] = 1;
        this.inUse++;
        this.next = (slot + 1) % n;
        return slot;
      }
    }
    return -1;
  }

  /** Returns a slot (swap_free). Throws EINVAL for a slot that is not in use. */
  free(slot: number): void {
    if (this.used[slot] !== 1) throw fail("EINVAL", `swap slot ${slot} on ${this.backing.name} is not in use`);
    this.used[slot] = 0;
    this.inUse--;
  }
}
