/**
 * SIEVE (Zhang, Yang, Yue, Vigfusson, Rashmi, "SIEVE is Simpler than LRU: an Efficient Turn-Key
 * Eviction Algorithm for Web Caches", NSDI'24), Algorithm 1: one FIFO queue, a visited bit per
 * object and a hand. A hit sets the visited bit and moves nothing. Eviction starts at the hand
 * (the tail when there is none) and moves it toward the head: a visited object is cleared and
 * stays where it is, the first unvisited one is evicted, and the hand stays at the object after it
 * (toward the head). New objects go to the head unvisited, so retained and new objects never mix.
 *
 * Parameters: none (one bit). Eviction is amortised O(1).
 */
import { type EvictionPolicy, registerEvictionPolicy, NIL, NodePool, checkCapacity } from "@folio/core";

const LIST = 0;
const VISITED = 1;

export class SievePolicy implements EvictionPolicy {
  readonly name = "sieve";
  private readonly pool = new NodePool(1);
  private capacity = 0;
  private hand = NIL;

  get size(): number {
    return this.pool.count[LIST]!;
  }

  resize(capacity: number): void {
    this.capacity = checkCapacity(capacity);
  }

  insert(key: number, _shadow: number): void {
    this.pool.pushHead(LIST, this.pool.alloc(key));
  }

  access(key: number): void {
    const n = this.pool.find(key);
    if (n !== NIL) this.pool.bits[n] = VISITED;
  }

  evict(): number {
    const pool = this.pool;
    let o = this.hand !== NIL ? this.hand : pool.tail[LIST]!;
    if (o === NIL) return -1;
    while (pool.bits[o] === VISITED) {
      pool.bits[o] = 0;
      o = pool.prev[o]!;
      if (o === NIL) o = pool.tail[LIST]!;
    }
    this.hand = pool.prev[o]!;
    const key = pool.keys[o]!;
    pool.free(o);
    return key;
  }

  shadow(_key: number): number {
    return -1;
  }

  /** The object could not go: it re-enters at the head, unvisited. */
  keep(key: number): void {
    if (this.pool.find(key) === NIL) this.insert(key, -1);
  }

  remove(key: number): void {
    const n = this.pool.find(key);
    if (n === NIL) return;
    if (n === this.hand) this.hand = this.pool.prev[n]!;
    this.pool.free(n);
  }

  /** Queue from head to tail, the visited objects, and the object under the hand (-1: the tail). */
  snapshot(): {
    /** Capacity in pages, as last set by `resize`. */
    capacity: number;
    /** Resident keys from head (newest) to tail. */
    order: number[];
    /** Keys with the visited bit set. */
    visited: number[];
    /** The key under the hand, or −1 when the hand starts from the tail. */
    hand: number;
  } {
    const order = this.pool.keysOf(LIST);
    return {
      capacity: this.capacity,
      order,
      visited: order.filter((k) => this.pool.bits[this.pool.find(k)] === VISITED),
      hand: this.hand === NIL ? -1 : this.pool.keys[this.hand]!,
    };
  }
}

registerEvictionPolicy("sieve", () => new SievePolicy());
