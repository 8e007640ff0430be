/**
 * S3-FIFO (Yang, Zhang, Qiu, Yue, Vinayak, "FIFO queues are all you need for cache eviction",
 * SOSP'23, Algorithm 1): a small FIFO S (10% of the cache), a main FIFO M (the other 90%) and a
 * ghost FIFO G of keys only, holding as many entries as M holds pages.
 *
 * - A hit increments the object's frequency, capped at 3 (two bits); nothing moves.
 * - A miss inserts into M if the key is in G (and takes it out of G), else into S; freq = 0.
 * - Eviction takes from S while S holds at least 10% of the cache, else from M.
 * - From S: the tail object moves to M if freq > 1 (Algorithm 1, line "if t.freq > 1"; the paper
 *   artifact, libCacheSim's S3FIFOv0, uses the same move-to-main-threshold=2), its bits cleared;
 *   otherwise it is evicted and its key enters G. Repeats until something is evicted.
 * - From M: the tail object with freq > 0 is reinserted at the head with freq − 1 (2-bit CLOCK);
 *   the first with freq 0 is evicted (no ghost).
 *
 * The paper's EVICTS also evicts from M when a move fills it; here one `evict()` returns exactly
 * one victim, so M may hold one object too many until the next eviction, which then takes from M
 * (S is below 10% then) — the same order libCacheSim's S3-FIFO uses.
 *
 * Parameters (fixed, from the paper): S = 10% of the capacity (at least 1 page), G = |M|'s size,
 * frequency cap 3, S→M threshold freq > 1. Eviction is amortised O(1).
 */
import { type EvictionPolicy, registerEvictionPolicy, NIL, NodePool, checkCapacity } from "@folio/core";

const S = 0;
const M = 1;
const G = 2;

/** Fraction of the cache given to the small FIFO. */
export const S3FIFO_SMALL_RATIO = 0.1;
/** Frequency cap (two bits). */
export const S3FIFO_MAX_FREQ = 3;
/** An object leaves S for M when its frequency exceeds this. */
export const S3FIFO_MOVE_THRESHOLD = 1;

export class S3FifoPolicy implements EvictionPolicy {
  readonly name = "s3fifo";
  private readonly pool = new NodePool(3);
  private capacity = 0;
  private smallTarget = 1;
  private ghostCapacity = 0;

  get size(): number {
    return this.pool.count[S]! + this.pool.count[M]!;
  }

  resize(capacity: number): void {
    this.capacity = checkCapacity(capacity);
    this.smallTarget = Math.max(1, Math.floor(capacity * S3FIFO_SMALL_RATIO));
    this.ghostCapacity = Math.max(0, capacity - this.smallTarget);
    this.trimGhost();
  }

  insert(key: number, _shadow: number): void {
    const pool = this.pool;
    const n = pool.find(key);
    if (n !== NIL) {
      if (pool.list[n] !== G) return; // already resident
      pool.unlink(n);
      pool.bits[n] = 0;
      pool.pushHead(M, n);
      return;
    }
    pool.pushHead(S, pool.alloc(key));
  }

  access(key: number): void {
    const n = this.pool.find(key);
    if (n === NIL || this.pool.list[n] === G) return;
    const f = this.pool.bits[n]!;
    if (f < S3FIFO_MAX_FREQ) this.pool.bits[n] = f + 1;
  }

  evict(): number {
    const pool = this.pool;
    if (pool.count[S]! >= this.smallTarget || pool.count[M] === 0) {
      // EVICTS: promote accessed objects to M until one can go to the ghost queue.
      for (let t = pool.tail[S]!; t !== NIL; t = pool.tail[S]!) {
        pool.unlink(t);
        if (pool.bits[t]! > S3FIFO_MOVE_THRESHOLD) {
          pool.bits[t] = 0;
          pool.pushHead(M, t);
        } else {
          const key = pool.keys[t]!;
          pool.bits[t] = 0;
          if (this.ghostCapacity > 0) {
            pool.pushHead(G, t);
            this.trimGhost();
          } else {
            pool.free(t);
          }
          return key;
        }
      }
    }
    // EVICTM: 2-bit CLOCK over M.
    for (let t = pool.tail[M]!; t !== NIL; t = pool.tail[M]!) {
      const f = pool.bits[t]!;
      if (f > 0) {
        pool.bits[t] = f - 1;
        pool.unlink(t);
        pool.pushHead(M, t);
      } else {
        const key = pool.keys[t]!;
        pool.free(t);
        return key;
      }
    }
    return -1;
  }

  /** S3-FIFO keeps its own ghost queue: no shadow value is needed. */
  shadow(_key: number): number {
    return -1;
  }

  /** The object could not go: it leaves the ghost queue (if it went there) for the head of M. */
  keep(key: number): void {
    const n = this.pool.find(key);
    if (n === NIL) {
      this.pool.pushHead(M, this.pool.alloc(key));
    } else if (this.pool.list[n] === G) {
      this.pool.unlink(n);
      this.pool.pushHead(M, n);
    }
  }

  remove(key: number): void {
    const n = this.pool.find(key);
    if (n !== NIL && this.pool.list[n] !== G) this.pool.free(n);
  }

  /** In the main queue, where objects that proved themselves in the small queue live: meminfo shows them as active. */
  isActive(key: number): boolean {
    const n = this.pool.find(key);
    return n !== NIL && this.pool.list[n] === M;
  }

  /** The three queues from head to tail, with the resident objects' frequencies. */
  snapshot(): {
    /** Capacity in pages, as last set by `resize`. */
    capacity: number;
    /** The small FIFO S, head first. */
    small: number[];
    /** The main FIFO M, head first. */
    main: number[];
    /** The ghost FIFO G of keys evicted from S, head first. */
    ghost: number[];
    /** Frequency (0..3) of each resident key. */
    freq: Record<number, number>;
  } {
    const small = this.pool.keysOf(S);
    const main = this.pool.keysOf(M);
    const freq: Record<number, number> = {};
    for (const k of [...small, ...main]) freq[k] = this.pool.bits[this.pool.find(k)]!;
    return { capacity: this.capacity, small, main, ghost: this.pool.keysOf(G), freq };
  }

  private trimGhost(): void {
    const pool = this.pool;
    while (pool.count[G]! > this.ghostCapacity) pool.free(pool.tail[G]!);
  }
}

registerEvictionPolicy("s3fifo", () => new S3FifoPolicy());
