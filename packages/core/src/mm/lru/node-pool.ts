/**
 * Intrusive doubly linked lists over typed arrays, with a key index: the one data structure every
 * policy here is built from.
 *
 * A {@link NodePool} holds nodes (a key, two links, a list number, a byte of flags and a number of
 * payload) in parallel typed arrays that double when full, and a key → node hash table, also in
 * typed arrays (open addressing, linear probing): keys are integers up to 2^53, beyond V8's small
 * integers, where a `Map` lookup is several times slower — and the kernel's hit path does one. A node
 * is on at most one of the pool's lists at a time; every list operation is O(1) and allocates
 * nothing (the arrays grow by doubling, so amortised O(1) too). Lists run from the head (newest)
 * to the tail (oldest): `next` points toward the tail, `prev` toward the head.
 */

import { fail } from "../../errors.js";

/** "No node". */
export const NIL = -1;

/** Not on any list. */
export const NO_LIST = 255;

/**
 * Nodes on up to 255 intrusive lists with a key index; see the module comment above for the layout
 * and costs. Each eviction policy owns one pool and decides what its lists and bits mean.
 */
export class NodePool {
  /** The key of each node. */
  keys: Float64Array;
  /** Toward the tail (older), or NIL. */
  next: Int32Array;
  /** Toward the head (newer), or NIL. */
  prev: Int32Array;
  /** Which list the node is on ({@link NO_LIST} when on none). */
  list: Uint8Array;
  /** Per-node flag bits, owned by the policy. */
  bits: Uint8Array;
  /** Per-node number, owned by the user of the pool (the shadow table keeps values here). */
  data: Float64Array;
  /** Head (newest) node of each list. */
  readonly head: Int32Array;
  /** Tail (oldest) node of each list. */
  readonly tail: Int32Array;
  /** Length of each list. */
  readonly count: Int32Array;
  /** Hash table slots: the node of the key hashed there, or NIL. Its size is a power of two, at least twice the nodes. */
  private slots: Int32Array;
  private mask: number;
  private live = 0;
  private freeHead = NIL;
  private used = 0;

  /**
   * `lists` lists (at most 255, the list number is a byte); `initialNodes` is only the first
   * capacity, which doubles as nodes are added.
   */
  constructor(lists: number, initialNodes = 64) {
    const n = Math.max(4, initialNodes);
    this.keys = new Float64Array(n);
    this.next = new Int32Array(n);
    this.prev = new Int32Array(n);
    this.list = new Uint8Array(n);
    this.bits = new Uint8Array(n);
    this.data = new Float64Array(n);
    this.head = new Int32Array(lists).fill(NIL);
    this.tail = new Int32Array(lists).fill(NIL);
    this.count = new Int32Array(lists);
    this.slots = new Int32Array(2 * n).fill(NIL);
    this.mask = 2 * n - 1;
  }

  /** Nodes in use (on a list or not). */
  get size(): number {
    return this.live;
  }

  /** The node of `key`, or NIL. Allocates nothing. */
  find(key: number): number {
    const keys = this.keys;
    const slots = this.slots;
    const mask = this.mask;
    for (let i = hash(key) & mask; ; i = (i + 1) & mask) {
      const n = slots[i]!;
      if (n === NIL || keys[n] === key) return n;
    }
  }

  /** A new node for `key` (which must have none), on no list, flags 0. */
  alloc(key: number): number {
    let n = this.freeHead;
    if (n !== NIL) {
      this.freeHead = this.next[n]!;
    } else {
      if (this.used === this.keys.length) this.grow();
      n = this.used++;
    }
    this.keys[n] = key;
    this.next[n] = NIL;
    this.prev[n] = NIL;
    this.list[n] = NO_LIST;
    this.bits[n] = 0;
    this.data[n] = 0;
    if (2 * (this.live + 1) > this.slots.length) this.rehash(this.slots.length * 2);
    const slots = this.slots;
    let i = hash(key) & this.mask;
    while (slots[i] !== NIL) i = (i + 1) & this.mask;
    slots[i] = n;
    this.live++;
    return n;
  }

  /** Unlinks `n` if it is on a list and frees it; its key no longer has a node. */
  free(n: number): void {
    if (this.list[n] !== NO_LIST) this.unlink(n);
    this.removeSlot(n);
    this.next[n] = this.freeHead;
    this.freeHead = n;
  }

  /** Empties node `n`'s hash slot, shifting later entries of its probe run back (no tombstones). */
  private removeSlot(n: number): void {
    const slots = this.slots;
    const keys = this.keys;
    const mask = this.mask;
    let i = hash(keys[n]!) & mask;
    while (slots[i] !== n) i = (i + 1) & mask;
    this.live--;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const m = slots[j]!;
      if (m === NIL) break;
      const home = hash(keys[m]!) & mask;
      // m may move to the hole at i if its home is not cyclically within (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        slots[i] = m;
        i = j;
      }
    }
    slots[i] = NIL;
  }

  private rehash(size: number): void {
    const old = this.slots;
    this.slots = new Int32Array(size).fill(NIL);
    this.mask = size - 1;
    for (let k = 0; k < old.length; k++) {
      const n = old[k]!;
      if (n === NIL) continue;
      let i = hash(this.keys[n]!) & this.mask;
      while (this.slots[i] !== NIL) i = (i + 1) & this.mask;
      this.slots[i] = n;
    }
  }

  /** Puts `n` (on no list) at the head of list `l`. */
  pushHead(l: number, n: number): void {
    const h = this.head[l]!;
    this.prev[n] = NIL;
    this.next[n] = h;
    if (h === NIL) this.tail[l] = n;
    else this.prev[h] = n;
    this.head[l] = n;
    this.list[n] = l;
    this.count[l]!++;
  }

  /** Puts `n` (on no list) at the tail of list `l`. */
  pushTail(l: number, n: number): void {
    const t = this.tail[l]!;
    this.next[n] = NIL;
    this.prev[n] = t;
    if (t === NIL) this.head[l] = n;
    else this.next[t] = n;
    this.tail[l] = n;
    this.list[n] = l;
    this.count[l]!++;
  }

  /** Takes `n` off its list. */
  unlink(n: number): void {
    const l = this.list[n]!;
    const p = this.prev[n]!;
    const x = this.next[n]!;
    if (p === NIL) this.head[l] = x;
    else this.next[p] = x;
    if (x === NIL) this.tail[l] = p;
    else this.prev[x] = p;
    this.prev[n] = NIL;
    this.next[n] = NIL;
    this.list[n] = NO_LIST;
    this.count[l]!--;
  }

  /** Moves `n` (on any list) to the head of list `l`. */
  moveToHead(l: number, n: number): void {
    if (this.list[n] === l && this.head[l] === n) return;
    if (this.list[n] !== NO_LIST) this.unlink(n);
    this.pushHead(l, n);
  }

  /** The keys of list `l` from head to tail (for tests and inspection; O(length)). */
  keysOf(l: number): number[] {
    const out: number[] = [];
    for (let n = this.head[l]!; n !== NIL; n = this.next[n]!) out.push(this.keys[n]!);
    return out;
  }

  private grow(): void {
    const n = this.keys.length * 2;
    const keys = new Float64Array(n);
    keys.set(this.keys);
    this.keys = keys;
    const next = new Int32Array(n);
    next.set(this.next);
    this.next = next;
    const prev = new Int32Array(n);
    prev.set(this.prev);
    this.prev = prev;
    const list = new Uint8Array(n);
    list.set(this.list);
    this.list = list;
    const bits = new Uint8Array(n);
    bits.set(this.bits);
    this.bits = bits;
    const data = new Float64Array(n);
    data.set(this.data);
    this.data = data;
  }
}

/** Mixes an integer key below 2^53 (its low and high 32 bits) into a 32-bit hash. */
function hash(key: number): number {
  const lo = key >>> 0;
  const hi = (key / 4294967296) | 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Throws EINVAL unless `capacity` is a non-negative integer. */
export function checkCapacity(capacity: number): number {
  if (!Number.isInteger(capacity) || capacity < 0) throw fail("EINVAL", `capacity ${capacity} is not a non-negative integer`);
  return capacity;
}
