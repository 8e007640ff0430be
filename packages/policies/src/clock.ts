/**
 * CLOCK (second chance; Corbató 1968): pages sit in insertion order with a reference bit. A hit
 * sets the bit; eviction looks at the oldest page: a set bit is cleared and the page goes round
 * again (to the head, which is what the clock hand passing over it means), a clear bit is the
 * victim. New pages come in with the bit clear, as in libCacheSim's Clock and the FIFO-Reinsertion
 * of the SIEVE and S3-FIFO papers: the reference bit records reuse, not the faulting access.
 *
 * Parameters: one reference bit. Eviction is amortised O(1): each pass over a page clears a bit
 * that a hit paid for.
 */
import { type EvictionPolicy, registerEvictionPolicy, NIL, NodePool, checkCapacity } from "@folio/core";

const LIST = 0;
const REF = 1;

export class ClockPolicy implements EvictionPolicy {
  readonly name = "clock";
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
    if (n !== NIL) this.pool.bits[n] = REF;
  }

  evict(): number {
    const pool = this.pool;
    for (;;) {
      const n = pool.tail[LIST]!;
      if (n === NIL) return -1;
      if (pool.bits[n] === REF) {
        pool.bits[n] = 0;
        pool.unlink(n);
        pool.pushHead(LIST, n);
        continue;
      }
      const key = pool.keys[n]!;
      pool.free(n);
      return key;
    }
  }

  shadow(_key: number): number {
    return -1;
  }

  /** The page could not go: it re-enters at the head, bit clear. */
  keep(key: number): void {
    if (this.pool.find(key) === NIL) this.insert(key, -1);
  }

  remove(key: number): void {
    const n = this.pool.find(key);
    if (n !== NIL) this.pool.free(n);
  }

  /** Pages from the head (just inserted or passed over) to the hand, with their bits. */
  snapshot(): {
    /** Capacity in pages, as last set by `resize`. */
    capacity: number;
    /** Resident keys from the head to the hand. */
    order: number[];
    /** Keys with the reference bit set (a hit since the hand last passed them). */
    referenced: number[];
  } {
    const order = this.pool.keysOf(LIST);
    return { capacity: this.capacity, order, referenced: order.filter((k) => this.pool.bits[this.pool.find(k)] === REF) };
  }
}

registerEvictionPolicy("clock", () => new ClockPolicy());
