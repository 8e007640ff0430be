/**
 * FIFO: evict the page that came in first; hits change nothing. No parameters.
 */
import { type EvictionPolicy, registerEvictionPolicy, NIL, NodePool, checkCapacity } from "@folio/core";

const LIST = 0;

export class FifoPolicy implements EvictionPolicy {
  readonly name = "fifo";
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

  access(_key: number): void {}

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

  /** The page could not go: it re-enters at the head of the queue. */
  keep(key: number): void {
    if (this.pool.find(key) === NIL) this.insert(key, -1);
  }

  remove(key: number): void {
    const n = this.pool.find(key);
    if (n !== NIL) this.pool.free(n);
  }

  /** Keys from newest to oldest (for tests and inspection). */
  snapshot(): {
    /** Capacity in pages, as last set by `resize`. */
    capacity: number;
    /** Resident keys, newest first. */
    order: number[];
  } {
    return { capacity: this.capacity, order: this.pool.keysOf(LIST) };
  }
}

registerEvictionPolicy("fifo", () => new FifoPolicy());
