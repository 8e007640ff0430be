/**
 * The trace simulator: replays a trace of page keys against an {@link EvictionPolicy} in a cache
 * of fixed capacity, as the kernel's page cache would drive the policy, and counts hits and misses.
 *
 * The simulator owns membership (a set of resident keys) and the shadow entries: on a miss with a
 * full cache it calls `evict()` until there is room, stores `shadow(victim)` when it is ≥ 0 (at
 * most `shadows` entries, the oldest dropped first, as the kernel's shadow shrinker does), and
 * passes the stored value (or -1) to `insert`, forgetting it. Every request from a cold start is
 * counted except the warm-up prefix. Nothing is allocated per request.
 */
import { type EvictionPolicy, createEvictionPolicy, fail, NIL, NodePool, checkCapacity } from "@folio/core";

/** A trace: page keys (non-negative integers below 2^53), one per request. */
export type Trace = Int32Array | Float64Array | Uint32Array | readonly number[];

/** Options of {@link simulate}; every field is optional. */
export interface SimulateOptions {
  /** Fraction of the trace (0 ≤ warmup < 1) replayed but not counted. Default 0. */
  warmup?: number;
  /** Most shadow entries kept; default 2 × capacity. 0 disables workingset detection. */
  shadows?: number;
  /** If given (length ≥ trace length), receives 1 for each hit and 0 for each miss, warm-up included. */
  outcomes?: Uint8Array;
}

/** What a replay of a trace counted, by {@link simulate} or {@link simulateOpt}. */
export interface SimulationResult {
  /** Requests counted (after the warm-up). */
  requests: number;
  /** Counted requests that found their key resident. */
  hits: number;
  /** Counted requests that did not (hits + misses = requests). */
  misses: number;
  /** misses / requests, 0 when nothing was counted. */
  missRatio: number;
  /** hits / requests, 0 when nothing was counted. */
  hitRatio: number;
  /** Evictions over the whole trace, warm-up included. */
  evictions: number;
  /** Misses over the whole trace that found a shadow entry. */
  refaults: number;
}

/**
 * A bounded table of shadow values, oldest dropped first. A FIFO list over a {@link NodePool}:
 * O(1) per operation, nothing allocated in the steady state.
 */
export class ShadowTable {
  private readonly pool = new NodePool(1);

  /** Keeps at most `limit` entries; 0 or less keeps none. */
  constructor(private readonly limit: number) {}

  /** Entries held, at most the limit. */
  get size(): number {
    return this.pool.count[0]!;
  }

  /** Remembers `value` for `key`, dropping the oldest entry when over the limit. */
  store(key: number, value: number): void {
    if (this.limit <= 0) return;
    let n = this.pool.find(key);
    if (n === NIL) n = this.pool.alloc(key);
    this.pool.data[n] = value;
    this.pool.moveToHead(0, n);
    while (this.pool.count[0]! > this.limit) this.pool.free(this.pool.tail[0]!);
  }

  /** The value for `key` (forgotten), or -1. */
  take(key: number): number {
    const n = this.pool.find(key);
    if (n === NIL) return -1;
    const v = this.pool.data[n]!;
    this.pool.free(n);
    return v;
  }
}

function resolve(policy: EvictionPolicy | string): EvictionPolicy {
  if (typeof policy !== "string") return policy;
  const p = createEvictionPolicy(policy);
  if (p === undefined) throw fail("EINVAL", `no eviction policy named "${policy}"`);
  return p;
}

/**
 * Replays `trace` against `policy` (an instance, or a registered name) in a cache of `capacity`
 * pages and returns the counts.
 */
export function simulate(policy: EvictionPolicy | string, trace: Trace, capacity: number, options: SimulateOptions = {}): SimulationResult {
  const p = resolve(policy);
  checkCapacity(capacity);
  const n = trace.length;
  const warmup = options.warmup ?? 0;
  if (!(warmup >= 0 && warmup < 1)) throw fail("EINVAL", `warmup ${warmup} is not in [0, 1)`);
  const limit = options.shadows ?? 2 * capacity;
  if (!Number.isInteger(limit) || limit < 0) throw fail("EINVAL", `shadows ${limit} is not a non-negative integer`);
  const outcomes = options.outcomes;
  if (outcomes !== undefined && outcomes.length < n) throw fail("EINVAL", `outcomes has ${outcomes.length} slots for ${n} requests`);
  const start = Math.floor(warmup * n);

  p.resize(capacity);
  const resident = new Set<number>();
  const shadows = new ShadowTable(limit);
  let hits = 0;
  let misses = 0;
  let evictions = 0;
  let refaults = 0;
  for (let i = 0; i < n; i++) {
    const key = trace[i]!;
    if (resident.has(key)) {
      p.access(key);
      if (i >= start) hits++;
      if (outcomes !== undefined) outcomes[i] = 1;
      continue;
    }
    if (i >= start) misses++;
    if (outcomes !== undefined) outcomes[i] = 0;
    if (capacity === 0) continue;
    while (resident.size >= capacity) {
      const victim = p.evict();
      if (!resident.delete(victim)) {
        throw fail("EINVAL", `policy ${p.name} evicted ${victim}, which is not resident (request ${i}, ${resident.size} resident)`);
      }
      evictions++;
      const s = p.shadow(victim);
      if (s >= 0) shadows.store(victim, s);
    }
    const s = shadows.take(key);
    if (s >= 0) refaults++;
    p.insert(key, s);
    resident.add(key);
  }
  const requests = hits + misses;
  return {
    requests,
    hits,
    misses,
    missRatio: requests === 0 ? 0 : misses / requests,
    hitRatio: requests === 0 ? 0 : hits / requests,
    evictions,
    refaults,
  };
}
