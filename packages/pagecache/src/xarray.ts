import { fail } from "@folio/core";

const SHIFT = 6;
const SLOTS = 1 << SHIFT;
const MASK = SLOTS - 1;
/** Largest index an XArray holds: page indices are 32-bit (16 TiB files at 4 KiB pages). */
export const XA_MAX_INDEX = 0xffffffff;

/** Marks on entries (Linux's XA_MARK_0..2 as the page cache uses them). */
export const enum XaMark {
  /** PAGECACHE_TAG_DIRTY */
  Dirty = 0,
  /** PAGECACHE_TAG_WRITEBACK */
  Writeback = 1,
  /** PAGECACHE_TAG_TOWRITE: dirty folios a data-integrity sync must write, copied from Dirty at its start. */
  Towrite = 2,
}
const NR_MARKS = 3;

/**
 * An entry is a number: 0 is empty, a positive number is a pointer entry (a folio handle), a
 * negative number is a value entry carrying a non-negative integer (a shadow entry left by
 * reclaim). This mirrors XArray's tagged entries without allocating.
 */
export type XaEntry = number;

/** Makes a value entry from a non-negative integer below 2^52. */
export function xaMkValue(v: number): XaEntry {
  return -v - 1;
}
/** True for a value entry. */
export function xaIsValue(e: XaEntry): boolean {
  return e < 0;
}
/** The integer a value entry carries. */
export function xaToValue(e: XaEntry): number {
  return -e - 1;
}

interface XaNode {
  /** Bits of index below this node: 0 for a leaf. */
  shift: number;
  /** Leaf slots (entries), or null for an interior node. */
  slots: Float64Array | null;
  /** Interior children, or null for a leaf. */
  children: (XaNode | null)[] | null;
  /** Non-empty slots or children. */
  count: number;
  /** Two 32-bit words per mark: for a leaf, one bit per marked slot; inside, one bit per child with any mark. */
  marks: Uint32Array;
}

function newNode(shift: number): XaNode {
  return {
    shift,
    slots: shift === 0 ? new Float64Array(SLOTS) : null,
    children: shift === 0 ? null : new Array<XaNode | null>(SLOTS).fill(null),
    count: 0,
    marks: new Uint32Array(NR_MARKS * 2),
  };
}

/** Indices covered by a node of each shift (0, 6, …, 30), precomputed: `load` is on the hit path. */
const SPANS = [2 ** 6, 2 ** 12, 2 ** 18, 2 ** 24, 2 ** 30, 2 ** 36];
const span = (shift: number) => SPANS[shift / SHIFT]!;
const testBit = (n: XaNode, m: number, off: number) => (n.marks[m * 2 + (off >>> 5)]! & (1 << (off & 31))) !== 0;
const setBit = (n: XaNode, m: number, off: number) => (n.marks[m * 2 + (off >>> 5)]! |= 1 << (off & 31));
const clearBit = (n: XaNode, m: number, off: number) => (n.marks[m * 2 + (off >>> 5)]! &= ~(1 << (off & 31)));
const anyBit = (n: XaNode, m: number) => (n.marks[m * 2]! | n.marks[m * 2 + 1]!) !== 0;

/** Next set bit at or after `from` in a node's mark, or -1. */
function nextBit(n: XaNode, m: number, from: number): number {
  for (let w = from >>> 5; w < 2; w++) {
    let bits = n.marks[m * 2 + w]!;
    if (w === from >>> 5) bits &= ~0 << (from & 31);
    if (bits !== 0) return w * 32 + (31 - Math.clz32(bits & -bits));
  }
  return -1;
}

/**
 * A radix tree of 64-way nodes indexed by page index, after Linux's XArray: the page cache of
 * one file. Entries are folio handles or value (shadow) entries; a large folio is a multi-index
 * entry stored in every slot it covers, with marks kept on its first index only. Three marks
 * (dirty, writeback, towrite) are summarised up the tree, so "is anything dirty" is one test and
 * "next dirty entry at or after i" skips unmarked subtrees.
 */
export class XArray {
  private root: XaNode | null = null;
  /** Present (non-empty) slots. */
  private present = 0;
  private nodeCount = 0;

  /** Number of non-empty slots (a large folio counts once per page it covers). */
  get size(): number {
    return this.present;
  }

  /** Number of tree nodes, for memory accounting. */
  get nodes(): number {
    return this.nodeCount;
  }

  /** Approximate bytes used by the nodes. */
  get bytes(): number {
    return this.nodeCount * (SLOTS * 8 + 96);
  }

  /** The entry at `index`, or 0. Walks the tree; allocates nothing. */
  load(index: number): XaEntry {
    let n = this.root;
    if (n === null || index >= span(n.shift)) return 0;
    while (n.shift > 0) {
      n = n.children![(index >>> n.shift) & MASK]!;
      if (n === null) return 0;
    }
    return n.slots![index & MASK]!;
  }

  /** Stores `entry` at `index` (0 erases) and returns the previous entry. Marks of an erased slot are cleared. */
  store(index: number, entry: XaEntry): XaEntry {
    checkIndex(index);
    return this.storeRange(index, 1, entry);
  }

  /**
   * Stores `entry` in the `nr` slots from `first` (a multi-index entry when nr > 1) and returns
   * the entry previously at `first`. Erasing (entry 0) clears marks and frees empty nodes.
   */
  storeRange(first: number, nr: number, entry: XaEntry): XaEntry {
    checkIndex(first);
    checkIndex(first + nr - 1);
    const old = this.load(first);
    for (let i = first; i < first + nr; ) {
      const leaf = entry === 0 ? this.leafFor(i) : this.createLeafFor(i);
      const off = i & MASK;
      const n = Math.min(SLOTS - off, first + nr - i);
      if (leaf !== null) this.fillLeaf(leaf, i - off, off, n, entry);
      i += n;
    }
    return old;
  }

  /** Erases the entry at `index`; returns what was there. */
  erase(index: number): XaEntry {
    return this.store(index, 0);
  }

  /** Sets `mark` on the entry at `index`. Marking an empty slot is refused with EINVAL. */
  setMark(index: number, mark: XaMark): void {
    checkIndex(index);
    const path = this.path(index);
    if (path === null || path[path.length - 1]!.slots![index & MASK] === 0) {
      throw fail("EINVAL", `cannot mark empty index ${index}`);
    }
    for (const n of path) setBit(n, mark, this.offsetIn(n, index));
  }

  /** Clears `mark` at `index`, and the summaries above it that no longer cover any mark. */
  clearMark(index: number, mark: XaMark): void {
    checkIndex(index);
    const path = this.path(index);
    if (path === null) return;
    for (let d = path.length - 1; d >= 0; d--) {
      const n = path[d]!;
      clearBit(n, mark, this.offsetIn(n, index));
      if (anyBit(n, mark)) break;
    }
  }

  /** True if the entry at `index` carries `mark`. */
  getMark(index: number, mark: XaMark): boolean {
    checkIndex(index);
    const path = this.path(index);
    if (path === null) return false;
    const leaf = path[path.length - 1]!;
    return testBit(leaf, mark, index & MASK);
  }

  /** True if any entry carries `mark` (mapping_tagged): one test at the root. */
  anyMarked(mark: XaMark): boolean {
    return this.root !== null && anyBit(this.root, mark);
  }

  /** The first index in [start, end] whose entry carries `mark`, or -1. */
  findMarked(start: number, mark: XaMark, end = XA_MAX_INDEX): number {
    if (this.root === null || start > end) return -1;
    const r = this.findMarkedIn(this.root, 0, start, mark);
    return r >= 0 && r <= end ? r : -1;
  }

  /** The first index in [start, end] holding any entry, or -1. */
  findPresent(start: number, end = XA_MAX_INDEX): number {
    if (this.root === null || start > end) return -1;
    const r = this.findPresentIn(this.root, 0, start);
    return r >= 0 && r <= end ? r : -1;
  }

  /** The first empty index in [start, end] (page_cache_next_miss), or -1 if all are present. */
  findEmpty(start: number, end = XA_MAX_INDEX): number {
    for (let i = start; i <= end; i++) if (this.load(i) === 0) return i;
    return -1;
  }

  /**
   * Calls `visit(index, entry)` for each present slot in [start, end], in index order; a
   * multi-index entry is visited once per slot. Stops early if `visit` returns false.
   */
  forEach(start: number, end: number, visit: (index: number, entry: XaEntry) => boolean | void): void {
    for (let i = this.findPresent(start, end); i >= 0; i = i < end ? this.findPresent(i + 1, end) : -1) {
      if (visit(i, this.load(i)) === false) return;
    }
  }

  /** Sets `to` on every entry in [start, end] that carries `from` (tag_pages_for_writeback). */
  copyMarks(start: number, end: number, from: XaMark, to: XaMark): number {
    let n = 0;
    for (let i = this.findMarked(start, from, end); i >= 0; i = i < end ? this.findMarked(i + 1, from, end) : -1) {
      this.setMark(i, to);
      n++;
    }
    return n;
  }

  private offsetIn(n: XaNode, index: number): number {
    return (index >>> n.shift) & MASK;
  }

  /** Nodes from the root to the leaf holding `index`, or null if the leaf does not exist. */
  private path(index: number): XaNode[] | null {
    let n = this.root;
    if (n === null || index >= span(n.shift)) return null;
    const out = [n];
    while (n.shift > 0) {
      n = n.children![this.offsetIn(n, index)]!;
      if (n === null) return null;
      out.push(n);
    }
    return out;
  }

  private leafFor(index: number): XaNode | null {
    const p = this.path(index);
    return p === null ? null : p[p.length - 1]!;
  }

  private createLeafFor(index: number): XaNode {
    if (this.root === null) {
      // Start at the height `index` needs: growing from a leaf would leave an empty leaf as child 0.
      let shift = 0;
      while (index >= span(shift)) shift += SHIFT;
      this.root = newNode(shift);
      this.nodeCount++;
    }
    while (index >= span(this.root.shift)) {
      const up = newNode(this.root.shift + SHIFT);
      this.nodeCount++;
      up.children![0] = this.root;
      up.count = 1;
      for (let m = 0; m < NR_MARKS; m++) if (anyBit(this.root, m)) setBit(up, m, 0);
      this.root = up;
    }
    let n = this.root;
    while (n.shift > 0) {
      const off = this.offsetIn(n, index);
      let child = n.children![off]!;
      if (child === null) {
        child = newNode(n.shift - SHIFT);
        this.nodeCount++;
        n.children![off] = child;
        n.count++;
      }
      n = child;
    }
    return n;
  }

  private fillLeaf(leaf: XaNode, base: number, off: number, n: number, entry: XaEntry): void {
    const slots = leaf.slots!;
    for (let i = off; i < off + n; i++) {
      const was = slots[i]!;
      if (was === 0 && entry !== 0) {
        leaf.count++;
        this.present++;
      } else if (was !== 0 && entry === 0) {
        leaf.count--;
        this.present--;
        for (let m = 0; m < NR_MARKS; m++) if (testBit(leaf, m, i)) this.clearMark(base + i, m);
      }
      slots[i] = entry;
    }
    if (leaf.count === 0) this.prune(base);
  }

  /** Removes the empty leaf covering `index` and any interior nodes left empty by that. */
  private prune(index: number): void {
    const p = this.path(index);
    if (p === null) return;
    for (let d = p.length - 1; d > 0; d--) {
      const n = p[d]!;
      if (n.count > 0) return;
      const parent = p[d - 1]!;
      const off = this.offsetIn(parent, index);
      parent.children![off] = null;
      parent.count--;
      for (let m = 0; m < NR_MARKS; m++) clearBit(parent, m, off);
      this.nodeCount--;
    }
    if (this.root !== null && this.root.count === 0) {
      this.root = null;
      this.nodeCount = 0;
    }
  }

  private findMarkedIn(n: XaNode, lo: number, start: number, mark: number): number {
    const step = 2 ** n.shift;
    const first = start <= lo ? 0 : Math.floor((start - lo) / step);
    if (first >= SLOTS) return -1;
    for (let off = nextBit(n, mark, first); off >= 0; off = off + 1 < SLOTS ? nextBit(n, mark, off + 1) : -1) {
      if (n.shift === 0) return lo + off;
      const childLo = lo + off * step;
      const r = this.findMarkedIn(n.children![off]!, childLo, Math.max(start, childLo), mark);
      if (r >= 0) return r;
    }
    return -1;
  }

  private findPresentIn(n: XaNode, lo: number, start: number): number {
    const step = 2 ** n.shift;
    for (let off = start <= lo ? 0 : Math.floor((start - lo) / step); off < SLOTS; off++) {
      if (n.shift === 0) {
        if (n.slots![off] !== 0) return lo + off;
        continue;
      }
      const child = n.children![off];
      if (child == null) continue;
      const childLo = lo + off * step;
      const r = this.findPresentIn(child, childLo, Math.max(start, childLo));
      if (r >= 0) return r;
    }
    return -1;
  }
}

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index > XA_MAX_INDEX) {
    throw fail("EINVAL", `page index ${index} is outside [0, ${XA_MAX_INDEX}]`);
  }
}
