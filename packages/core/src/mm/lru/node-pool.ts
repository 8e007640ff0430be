/**
 * Intrusive doubly linked lists over typed arrays, with a key index: the one data structure every
 * policy here is built from.
 *
 * A {@link NodePool} holds nodes (a key, two links, a list number, a byte of flags and a number of
 * payload) in parallel typed arrays that double when full, and a `Map` from key to node. A node
 * is on at most one of the pool's lists at a time; every list operation is O(1) and allocates
 * nothing (the arrays grow by doubling, so amortised O(1) too). Lists run from the head (newest)
 * to the tail (oldest): `next` points toward the tail, `prev` toward the head.
 */

import { fail } from "../../errors.js";

/** "No node". */
export const NIL = -1;

/** Not on any list. */
export const NO_LIST = 255;

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
  /** Node of each key that has one. */
  readonly index = new Map<number, number>();
  private freeHead = NIL;
  private used = 0;

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
  }

  /** Nodes in use (on a list or not). */
  get size(): number {
    return this.index.size;
  }

  /** The node of `key`, or NIL. */
  find(key: number): number {
    const n = this.index.get(key);
    return n === undefined ? NIL : n;
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
    this.index.set(key, n);
    return n;
  }

  /** Unlinks `n` if it is on a list and frees it; its key no longer has a node. */
  free(n: number): void {
    if (this.list[n] !== NO_LIST) this.unlink(n);
    this.index.delete(this.keys[n]!);
    this.next[n] = this.freeHead;
    this.freeHead = n;
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

/** Throws EINVAL unless `capacity` is a non-negative integer. */
export function checkCapacity(capacity: number): number {
  if (!Number.isInteger(capacity) || capacity < 0) throw fail("EINVAL", `capacity ${capacity} is not a non-negative integer`);
  return capacity;
}
