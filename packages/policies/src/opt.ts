/**
 * Belady's OPT (MIN) as an offline oracle: on a miss with a full cache, evict the resident page
 * whose next use is farthest in the future (or never comes). Demand paging, like the online
 * policies: every missed page is brought in, so OPT's misses bound every policy's from below.
 *
 * Next-use indices are precomputed in one backward pass; residents sit in an indexed binary
 * max-heap keyed by next use, so a hit (whose next use moves later) and a miss cost O(log C):
 * O(n log C) in all, plus O(n) for the key→dense-id map.
 */
import { fail, checkCapacity } from "@folio/core";
import type { SimulationResult, Trace } from "./simulate.js";

/** Options of {@link simulateOpt}: the same as {@link SimulateOptions} less `shadows` (OPT has no refaults to detect). */
export interface OptOptions {
  /** Fraction of the trace (0 ≤ warmup < 1) replayed but not counted. Default 0. */
  warmup?: number;
  /** If given, receives 1 for each hit and 0 for each miss. */
  outcomes?: Uint8Array;
}

/** Dense ids 0..distinct−1 for the keys of `trace`, and how many there are. */
export function denseIds(trace: Trace): {
  /** The dense id of each request's key, in trace order; ids are given in order of first use. */
  ids: Int32Array;
  /** Distinct keys in the trace. */
  distinct: number;
} {
  const n = trace.length;
  const ids = new Int32Array(n);
  const map = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const k = trace[i]!;
    let id = map.get(k);
    if (id === undefined) {
      id = map.size;
      map.set(k, id);
    }
    ids[i] = id;
  }
  return { ids, distinct: map.size };
}

/** Number of distinct keys in `trace` (its footprint in pages). */
export function footprint(trace: Trace): number {
  return denseIds(trace).distinct;
}

/** Misses of Belady's OPT on `trace` with `capacity` pages. */
export function simulateOpt(trace: Trace, capacity: number, options: OptOptions = {}): SimulationResult {
  checkCapacity(capacity);
  const warmup = options.warmup ?? 0;
  if (!(warmup >= 0 && warmup < 1)) throw fail("EINVAL", `warmup ${warmup} is not in [0, 1)`);
  const n = trace.length;
  if (n >= 0x7fffffff) throw fail("EINVAL", `trace of ${n} requests is too long`);
  const outcomes = options.outcomes;
  const start = Math.floor(warmup * n);
  const { ids, distinct } = denseIds(trace);

  // nextUse[i]: index of the next request for the same key, or n + (something) for never.
  const nextUse = new Int32Array(n);
  const last = new Int32Array(distinct).fill(n);
  for (let i = n - 1; i >= 0; i--) {
    const id = ids[i]!;
    nextUse[i] = last[id]!;
    last[id] = i;
  }

  // Indexed max-heap of resident ids by next use.
  const heapKey = new Int32Array(Math.max(1, capacity));
  const heapId = new Int32Array(Math.max(1, capacity));
  const pos = new Int32Array(distinct).fill(-1);
  let size = 0;

  const siftUp = (i: number): void => {
    const k = heapKey[i]!;
    const id = heapId[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heapKey[parent]! >= k) break;
      heapKey[i] = heapKey[parent]!;
      heapId[i] = heapId[parent]!;
      pos[heapId[i]!] = i;
      i = parent;
    }
    heapKey[i] = k;
    heapId[i] = id;
    pos[id] = i;
  };
  const siftDown = (i: number): void => {
    const k = heapKey[i]!;
    const id = heapId[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= size) break;
      const r = l + 1;
      const c = r < size && heapKey[r]! > heapKey[l]! ? r : l;
      if (heapKey[c]! <= k) break;
      heapKey[i] = heapKey[c]!;
      heapId[i] = heapId[c]!;
      pos[heapId[i]!] = i;
      i = c;
    }
    heapKey[i] = k;
    heapId[i] = id;
    pos[id] = i;
  };

  let hits = 0;
  let misses = 0;
  let evictions = 0;
  for (let i = 0; i < n; i++) {
    const id = ids[i]!;
    const at = pos[id]!;
    if (at >= 0) {
      if (i >= start) hits++;
      if (outcomes !== undefined) outcomes[i] = 1;
      heapKey[at] = nextUse[i]!; // later than before (it was i): sift toward the root
      siftUp(at);
      continue;
    }
    if (i >= start) misses++;
    if (outcomes !== undefined) outcomes[i] = 0;
    if (capacity === 0) continue;
    if (size === capacity) {
      // Evict the root: the farthest next use.
      pos[heapId[0]!] = -1;
      evictions++;
      size--;
      if (size > 0) {
        heapKey[0] = heapKey[size]!;
        heapId[0] = heapId[size]!;
        pos[heapId[0]!] = 0;
        siftDown(0);
      }
    }
    heapKey[size] = nextUse[i]!;
    heapId[size] = id;
    size++;
    siftUp(size - 1);
  }
  const requests = hits + misses;
  return {
    requests,
    hits,
    misses,
    missRatio: requests === 0 ? 0 : misses / requests,
    hitRatio: requests === 0 ? 0 : hits / requests,
    evictions,
    refaults: 0,
  };
}
