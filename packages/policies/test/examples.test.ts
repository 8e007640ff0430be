/**
 * Small hand-checked examples of CLOCK, SIEVE, S3-FIFO and ARC, worked by hand from the
 * published algorithms (SIEVE's Algorithm 1, S3-FIFO's Algorithm 1, ARC's Figure 4), and ARC
 * against a request-level textbook ARC.
 */
import test from "ava";
import { ArcPolicy, ClockPolicy, S3FifoPolicy, SievePolicy, simulate, zipfTrace } from "../src/index.js";
import { type Op, checkedRun, referenceArcHits, requests } from "./helpers.js";

interface Driven {
  resize(c: number): void;
  evict(): number;
  insert(k: number, s: number): void;
  access(k: number): void;
}

/**
 * A small cache around `policy`: the returned function runs requests through it and returns the
 * keys evicted, in order. Residency persists across calls.
 */
function driver(policy: Driven, capacity: number): (keys: number[]) => number[] {
  policy.resize(capacity);
  const resident = new Set<number>();
  return (keys) => {
    const out: number[] = [];
    for (const k of keys) {
      if (resident.has(k)) {
        policy.access(k);
        continue;
      }
      while (resident.size >= capacity) {
        const v = policy.evict();
        out.push(v);
        resident.delete(v);
      }
      policy.insert(k, -1);
      resident.add(k);
    }
    return out;
  };
}

test("clock: a referenced page gets a second chance; the bit is cleared as the hand passes", (t) => {
  const p = new ClockPolicy();
  const victims = driver(p, 3);
  // 1 2 3 fill the cache; 1 is referenced; 4 passes over 1 (clearing it) and evicts 2;
  // 3 is referenced; 5 passes over 3 and evicts 1, whose bit was cleared by the last pass.
  t.deepEqual(victims([1, 2, 3, 1, 4, 3, 5]), [2, 1]);
  t.deepEqual(p.snapshot().order, [5, 3, 4]);
  t.deepEqual(p.snapshot().referenced, []);
});

test("sieve: the hand keeps retained objects in place and evicts new ones first (Algorithm 1)", (t) => {
  const p = new SievePolicy();
  const victims = driver(p, 4);
  // Queue head→tail after 1..4: [4 3 2 1]; 1 and 3 visited.
  // 5: hand starts at the tail 1 (visited: cleared), moves to 2 → evict 2; hand at 3.
  // 6: hand at 3 (visited: cleared) → 4 → evict 4; hand at 5.
  // 1 visited again. 7: hand at 5 (unvisited) → evict 5; hand at 6.
  const v = victims([1, 2, 3, 4, 1, 3, 5, 6, 1, 7]);
  t.deepEqual(v, [2, 4, 5]);
  const s = p.snapshot();
  t.deepEqual(s.order, [7, 6, 3, 1]);
  t.deepEqual(s.visited, [1]);
  t.is(s.hand, 6);
  // LRU, on the same requests, evicts 2, 4 and then 3 — the old, once-reused object SIEVE keeps.
  const lru = simulate("lru", [1, 2, 3, 4, 1, 3, 5, 6, 1, 7, 3], 4);
  const sieve = simulate("sieve", [1, 2, 3, 4, 1, 3, 5, 6, 1, 7, 3], 4);
  t.is(lru.hits, 3);
  t.is(sieve.hits, 4);
});

test("sieve: removing the object under the hand moves the hand, and the hand wraps to the tail", (t) => {
  const p = new SievePolicy();
  driver(p, 4)([1, 2, 3, 4, 1, 3, 5]); // evicts 2, hand at 3
  t.is(p.snapshot().hand, 3);
  p.remove(3);
  t.is(p.snapshot().hand, 4);
  t.deepEqual(p.snapshot().order, [5, 4, 1]);
  // Hand at 4 (unvisited): evicted; hand moves to 5, the head; then 5 goes and the hand is past the head.
  t.is(p.evict(), 4);
  t.is(p.evict(), 5);
  t.is(p.snapshot().hand, -1);
  t.is(p.evict(), 1); // from the tail again (1's visited bit was cleared when 2 was evicted)
  t.is(p.evict(), -1);
});

test("s3fifo: S filters one-hit wonders to the ghost; reused objects move to M; a ghost hit enters M", (t) => {
  const p = new S3FifoPolicy();
  const victims = driver(p, 10); // S = 1 page target (10%), M = 9, ghost = 9 entries
  const keys = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 1, 2];
  t.deepEqual(victims(keys), []);
  let s = p.snapshot();
  t.deepEqual(s.small, [10, 9, 8, 7, 6, 5, 4, 3, 2, 1], "before the cache fills, everything sits in S");
  t.is(s.freq[1], 2);
  t.is(s.freq[2], 1);
  // 11: S's tail 1 has freq 2 > 1 → moved to M (freq cleared); 2 has freq 1 → evicted to the ghost.
  t.deepEqual(victims([11]), [2]);
  s = p.snapshot();
  t.deepEqual(s.main, [1]);
  t.is(s.freq[1], 0);
  t.deepEqual(s.ghost, [2]);
  t.deepEqual(s.small, [11, 10, 9, 8, 7, 6, 5, 4, 3]);
  // 2 again: a miss; 3 (freq 0) goes to the ghost, and 2, found in the ghost, is inserted into M.
  t.deepEqual(victims([2]), [3]);
  s = p.snapshot();
  t.deepEqual(s.main, [2, 1]);
  t.deepEqual(s.ghost, [3], "2 left the ghost queue");
  t.deepEqual(s.small, [11, 10, 9, 8, 7, 6, 5, 4]);
});

test("s3fifo: M is a 2-bit CLOCK — accessed objects are reinserted with freq − 1", (t) => {
  const p = new S3FifoPolicy();
  const victims = driver(p, 10);
  const fill = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  // Every object accessed twice: at the first eviction all ten move to M and S empties, so M evicts 1.
  t.deepEqual(victims([...fill, ...fill, ...fill, 11]), [1]);
  let s = p.snapshot();
  t.deepEqual(s.main, [10, 9, 8, 7, 6, 5, 4, 3, 2]);
  t.deepEqual(s.small, [11]);
  // 2 accessed (freq 1); 12: S holds its 10% → 11 (freq 0) goes to the ghost.
  t.deepEqual(victims([2, 12]), [11]);
  // 12 accessed twice, 3 once; 13: 12 moves to M, S is empty, M's tail 2 and 3 are reinserted
  // (freq 1 → 0) and 4 is evicted.
  t.deepEqual(victims([12, 12, 3, 13]), [4]);
  s = p.snapshot();
  t.deepEqual(s.main, [3, 2, 12, 10, 9, 8, 7, 6, 5]);
  t.is(s.freq[2], 0);
  t.is(s.freq[3], 0);
  t.deepEqual(s.ghost, [11]);
  // Frequencies saturate at 3.
  for (let i = 0; i < 10; i++) p.access(5);
  t.is(p.snapshot().freq[5], 3);
});

test("s3fifo: S is 10% of the capacity (at least one page) and the ghost holds as many as M", (t) => {
  const p = new S3FifoPolicy();
  const keys = Array.from({ length: 1000 }, (_, i) => i); // one-hit wonders only
  driver(p, 100)(keys);
  const s = p.snapshot();
  // Nothing was reused: nothing moved to M, S holds the whole cache (the paper inserts every new
  // object into S), and the ghost remembers the last 90 (= |M|'s share) objects evicted from S.
  t.deepEqual(s.small, keys.slice(900).reverse());
  t.deepEqual(s.main, []);
  t.deepEqual(s.ghost, keys.slice(810, 900).reverse());
  const q = new S3FifoPolicy();
  driver(q, 5)([1, 2, 3, 4, 5, 6, 7, 8, 9]); // 10% of 5 rounds down: S still gets one page
  t.is(q.snapshot().ghost.length, 4);
});

test("arc: the lists of Figure 4 on a hand-checked sequence, including the documented p lag", (t) => {
  const p = new ArcPolicy();
  const victims = driver(p, 2);
  // 1 2: T1 = [2 1]. 1 hits: T2 = [1], T1 = [2].
  t.deepEqual(victims([1, 2, 1]), []);
  t.deepEqual(p.snapshot(), { capacity: 2, p: 0, t1: [2], t2: [1], b1: [], b2: [] });
  // 3: |T1| = 1 > p = 0 → T1's LRU 2 goes to B1.
  t.deepEqual(victims([3]), [2]);
  t.deepEqual(p.snapshot(), { capacity: 2, p: 0, t1: [3], t2: [1], b1: [2], b2: [] });
  // 4: new, |L1| = |T1| + |B1| = 2 = c → B1's LRU (2) is dropped; REPLACE moves 3 to B1.
  t.deepEqual(victims([4]), [3]);
  t.deepEqual(p.snapshot(), { capacity: 2, p: 0, t1: [4], t2: [1], b1: [3], b2: [] });
  // 3 again: a B1 ghost hit. The paper first adapts p to 1 and then REPLACEs (|T1| = 1 ≤ p, so it
  // would evict T2's 1). Through the interface, evict() runs before the key is known: REPLACE sees
  // p = 0 and evicts 4 from T1; insert(3) then adapts p to 1 and puts 3 on T2.
  t.deepEqual(victims([1, 3]), [4]);
  t.deepEqual(p.snapshot(), { capacity: 2, p: 1, t1: [], t2: [3, 1], b1: [4], b2: [] });
  // 5: T1 is empty, so REPLACE takes T2's LRU 1 to B2.
  // 1 again, a B2 ghost hit: REPLACE sees |T1| = 1, not > p = 1, and takes T2's LRU 3 to B2; then
  // p shrinks by max(|B1|/|B2|, 1) = 1 and 1 goes to T2.
  t.deepEqual(victims([5]), [1]);
  t.deepEqual(p.snapshot(), { capacity: 2, p: 1, t1: [5], t2: [3], b1: [4], b2: [1] });
  t.deepEqual(victims([1]), [3]);
  t.deepEqual(p.snapshot(), { capacity: 2, p: 0, t1: [5], t2: [1], b1: [4], b2: [3] });
});

test("arc: the directory stays within |T1|+|B1| ≤ c and |T1|+|T2|+|B1|+|B2| ≤ 2c", (t) => {
  const p = new ArcPolicy();
  const trace = Array.from(zipfTrace(0.6, 400, 20_000, 9));
  p.resize(50);
  const resident = new Set<number>();
  for (const k of trace) {
    if (resident.has(k)) p.access(k);
    else {
      while (resident.size >= 50) resident.delete(p.evict());
      p.insert(k, -1);
      resident.add(k);
    }
    const s = p.snapshot();
    if (s.t1.length + s.b1.length > 50 || s.t1.length + s.t2.length + s.b1.length + s.b2.length > 100) {
      t.fail(`directory ${s.t1.length} ${s.t2.length} ${s.b1.length} ${s.b2.length}`);
      return;
    }
  }
  t.pass();
});

test("arc: within 1 point of the request-level textbook ARC on Zipf and mixed traces", (t) => {
  const zipf = zipfTrace(0.9, 5000, 200_000, 21);
  const mixed = new Int32Array(200_000);
  const z = zipfTrace(1.0, 2000, 200_000, 22);
  for (let i = 0; i < mixed.length; i++) mixed[i] = i % 3 === 0 ? 100_000 + i : z[i]!; // one-hit wonders mixed in
  for (const trace of [zipf, mixed]) {
    for (const c of [50, 500]) {
      const ours = simulate("arc", trace, c).hits / trace.length;
      const textbook = referenceArcHits(trace, c) / trace.length;
      t.true(Math.abs(ours - textbook) < 0.01, `C=${c}: interface ARC ${ours.toFixed(4)}, textbook ${textbook.toFixed(4)}`);
    }
  }
});

test("keep(): every policy keeps the page it could not evict and picks another next time", (t) => {
  for (const p of [new ClockPolicy(), new SievePolicy(), new S3FifoPolicy(), new ArcPolicy()]) {
    const ops: Op[] = [...requests([1, 2, 3]), { kind: "keepNext" }, ...requests([4, 5, 6, 1, 2, 3])];
    const r = checkedRun(p, ops, 3);
    t.is(r.error, undefined, p.name);
  }
});
