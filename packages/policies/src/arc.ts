/**
 * ARC (Megiddo & Modha, "ARC: A Self-Tuning, Low Overhead Replacement Cache", FAST'03, Figure 4).
 *
 * Resident pages are on T1 (seen once recently) or T2 (seen at least twice); the ghost lists B1
 * and B2 remember keys recently evicted from T1 and T2. The target size p of T1 adapts: a miss
 * whose key is in B1 says T1 was too small (p grows by max(|B2|/|B1|, 1), up to c), one in B2 says
 * T2 was (p shrinks by max(|B1|/|B2|, 1), down to 0). REPLACE evicts T1's LRU page to B1 when
 * |T1| > p, else T2's LRU page to B2. The directory is bounded as in the paper: |T1| + |B1| ≤ c and
 * |T1| + |T2| + |B1| + |B2| ≤ 2c, ghosts dropped from the LRU ends of B1/B2 (case IV).
 *
 * The interface splits the paper's request handling in two: the cache calls `evict()` (REPLACE)
 * before `insert(x)`, and `evict()` does not know x. So, as the one documented deviation, the
 * adaptation of p on a ghost hit happens in `insert` (after the REPLACE it would have steered, so
 * p acts one eviction late), REPLACE's tie-break "x ∈ B2 and |T1| = p" is taken with x ∉ B2, and
 * case IV's ghost trimming happens in `insert` (with the same result as the paper's order). The
 * test suite compares it with a request-level textbook ARC.
 *
 * Parameters: none beyond the capacity c (ghost lists sized from it as in the paper); p starts
 * at 0. Every operation is O(1).
 */
import { type EvictionPolicy, registerEvictionPolicy, NIL, NodePool, checkCapacity } from "@folio/core";

const T1 = 0;
const T2 = 1;
const B1 = 2;
const B2 = 3;

export class ArcPolicy implements EvictionPolicy {
  readonly name = "arc";
  private readonly pool = new NodePool(4);
  private c = 0;
  /** Target size of T1. */
  private p = 0;

  get size(): number {
    return this.pool.count[T1]! + this.pool.count[T2]!;
  }

  resize(capacity: number): void {
    this.c = checkCapacity(capacity);
    if (this.p > this.c) this.p = this.c;
  }

  insert(key: number, _shadow: number): void {
    const pool = this.pool;
    const count = pool.count;
    const n = pool.find(key);
    if (n !== NIL && pool.list[n] === B1) {
      // Case II: a ghost hit in B1 — T1 should have been larger.
      const b1 = count[B1]!;
      const b2 = count[B2]!;
      this.p = Math.min(this.c, this.p + (b1 >= b2 ? 1 : b2 / b1));
      pool.unlink(n);
      pool.pushHead(T2, n);
      return;
    }
    if (n !== NIL && pool.list[n] === B2) {
      // Case III: a ghost hit in B2 — T2 should have been larger.
      const b1 = count[B1]!;
      const b2 = count[B2]!;
      this.p = Math.max(0, this.p - (b2 >= b1 ? 1 : b1 / b2));
      pool.unlink(n);
      pool.pushHead(T2, n);
      return;
    }
    if (n !== NIL) return; // already resident: nothing to do
    // Case IV: a new key. Keep |L1| = |T1| + |B1| < c and the directory below 2c.
    const c = this.c;
    while (count[T1]! + count[B1]! >= c && count[B1]! > 0) pool.free(pool.tail[B1]!);
    while (count[T1]! + count[T2]! + count[B1]! + count[B2]! >= 2 * c && count[B2]! > 0) pool.free(pool.tail[B2]!);
    while (count[T1]! + count[T2]! + count[B1]! + count[B2]! >= 2 * c && count[B1]! > 0) pool.free(pool.tail[B1]!);
    pool.pushHead(T1, pool.alloc(key));
  }

  access(key: number): void {
    const n = this.pool.find(key);
    if (n === NIL) return;
    const l = this.pool.list[n]!;
    if (l === T1 || l === T2) this.pool.moveToHead(T2, n); // case I
  }

  /** REPLACE: T1's LRU page when |T1| > p (or T2 is empty), else T2's; it becomes a ghost. */
  evict(): number {
    const pool = this.pool;
    const t1 = pool.count[T1]!;
    let n: number;
    if (t1 > 0 && (t1 > this.p || pool.count[T2] === 0)) {
      n = pool.tail[T1]!;
      pool.unlink(n);
      pool.pushHead(B1, n);
    } else {
      n = pool.tail[T2]!;
      if (n === NIL) return -1;
      pool.unlink(n);
      pool.pushHead(B2, n);
    }
    return pool.keys[n]!;
  }

  /** ARC keeps its own history (B1, B2): no shadow value is needed. */
  shadow(_key: number): number {
    return -1;
  }

  /** The page could not go: it leaves its ghost list for the MRU end of the list it came from. */
  keep(key: number): void {
    const n = this.pool.find(key);
    if (n === NIL) {
      this.pool.pushHead(T1, this.pool.alloc(key));
      return;
    }
    const l = this.pool.list[n]!;
    if (l === B1) this.pool.moveToHead(T1, n);
    else if (l === B2) this.pool.moveToHead(T2, n);
  }

  remove(key: number): void {
    const n = this.pool.find(key);
    if (n === NIL) return;
    const l = this.pool.list[n]!;
    if (l === T1 || l === T2) this.pool.free(n);
  }

  /** On T2, seen at least twice: ARC's frequency list, which meminfo shows as active. */
  isActive(key: number): boolean {
    const n = this.pool.find(key);
    return n !== NIL && this.pool.list[n] === T2;
  }

  /** The four lists from MRU to LRU, and p (for tests and inspection). */
  snapshot(): {
    /** Capacity c, in pages, as last set by `resize`. */
    capacity: number;
    /** The adaptive target size of T1, 0..c. */
    p: number;
    /** Resident keys seen once recently, MRU first. */
    t1: number[];
    /** Resident keys seen at least twice, MRU first. */
    t2: number[];
    /** Ghost keys evicted from T1, MRU first. */
    b1: number[];
    /** Ghost keys evicted from T2, MRU first. */
    b2: number[];
  } {
    const k = (l: number) => this.pool.keysOf(l);
    return { capacity: this.c, p: this.p, t1: k(T1), t2: k(T2), b1: k(B1), b2: k(B2) };
  }
}

registerEvictionPolicy("arc", () => new ArcPolicy());
