/**
 * LRU: evict the least recently used page. One list, most recent at the head; a hit moves the
 * page to the head, the victim is the tail. No parameters.
 */
import { type EvictionPolicy, registerEvictionPolicy, NIL, NodePool, checkCapacity } from "@folio/core";

const LIST = 0;

export class LruPolicy implements EvictionPolicy {
  readonly name = "lru";
  private readonly pool = new NodePool(1);
  private capacity = 0;

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
    if (n !== NIL) this.pool.moveToHead(LIST, n);
  }

  evict(): number {
    const n = this.pool.tail[LIST]!;
    if (n === NIL) return -1;
    const key = this.pool.keys[n]!;
    this.pool.free(n);
    return key;
  }

  shadow(_key: number): number {
    return -1;
  }

  /** The page could not go: it stays, as the most recently used (the kernel's putback). */
  keep(key: number): void {
    if (this.pool.find(key) === NIL) this.insert(key, -1);
  }

  remove(key: number): void {
    const n = this.pool.find(key);
    if (n !== NIL) this.pool.free(n);
  }

  /** Keys from most to least recently used (for tests and inspection). */
  snapshot(): {
    /** Capacity in pages, as last set by `resize`. */
    capacity: number;
    /** Resident keys, most recently used first. */
    order: number[];
  } {
    return { capacity: this.capacity, order: this.pool.keysOf(LIST) };
  }
}

registerEvictionPolicy("lru", () => new LruPolicy());
