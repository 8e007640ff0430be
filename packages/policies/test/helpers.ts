/**
 * Shared helpers for the policy tests: a checking driver that replays a trace against a policy
 * and verifies the interface contract after every step. Not a test file (ava runs *.test.js).
 */
import { type EvictionPolicy, createEvictionPolicy } from "@folio/core";
import { POLICY_NAMES } from "../src/index.js";

export const ALL = POLICY_NAMES;

export function make(name: string): EvictionPolicy {
  const p = createEvictionPolicy(name);
  if (p === undefined) throw new Error(`policy ${name} is not registered`);
  return p;
}

/** One operation of a checked run besides the trace's requests. */
export type Op = { kind: "access"; key: number } | { kind: "remove"; key: number } | { kind: "keepNext" };

export interface CheckedResult {
  hits: number;
  misses: number;
  requests: number;
  outcomes: number[];
  /** First contract violation, or undefined. */
  error?: string;
}

/**
 * Replays `ops` with a cache of `capacity`, checking after every step: the policy's size equals
 * the number of resident keys and never exceeds the capacity, evict() returns a resident key
 * (never -1 while something is resident), and a key passed to keep() stays resident. A
 * "keepNext" op makes the next eviction fail (the victim is kept, as a dirty page would be).
 */
export function checkedRun(policy: EvictionPolicy, ops: readonly Op[], capacity: number): CheckedResult {
  policy.resize(capacity);
  const resident = new Set<number>();
  const shadows = new Map<number, number>();
  const outcomes: number[] = [];
  let hits = 0;
  let misses = 0;
  let keepNext = false;
  const bad = (msg: string): CheckedResult => ({ hits, misses, requests: hits + misses, outcomes, error: msg });
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.kind === "keepNext") {
      keepNext = true;
      continue;
    }
    if (op.kind === "remove") {
      if (resident.has(op.key)) {
        policy.remove(op.key);
        resident.delete(op.key);
      }
    } else if (resident.has(op.key)) {
      policy.access(op.key);
      hits++;
      outcomes.push(1);
    } else {
      misses++;
      outcomes.push(0);
      if (capacity === 0) continue;
      let kept = 0;
      while (resident.size >= capacity) {
        const v = policy.evict();
        if (v === -1) return bad(`step ${i}: evict() returned -1 with ${resident.size} resident`);
        if (!resident.has(v)) return bad(`step ${i}: evict() returned ${v}, not resident`);
        if (policy.size !== resident.size - 1) return bad(`step ${i}: size ${policy.size} after evict, expected ${resident.size - 1}`);
        if (keepNext && kept < 1) {
          keepNext = false;
          kept++;
          policy.keep(v);
          if (policy.size !== resident.size) return bad(`step ${i}: size ${policy.size} after keep(${v}), expected ${resident.size}`);
          continue;
        }
        resident.delete(v);
        const s = policy.shadow(v);
        if (s >= 0) shadows.set(v, s);
      }
      const s = shadows.get(op.key) ?? -1;
      shadows.delete(op.key);
      policy.insert(op.key, s);
      resident.add(op.key);
    }
    if (policy.size !== resident.size) return bad(`step ${i}: policy size ${policy.size}, resident ${resident.size}`);
    if (policy.size > capacity) return bad(`step ${i}: size ${policy.size} exceeds capacity ${capacity}`);
  }
  // Drain: every resident key comes out exactly once, then -1.
  const seen = new Set<number>();
  while (resident.size > 0) {
    const v = policy.evict();
    if (!resident.has(v) || seen.has(v)) return bad(`drain: evict() returned ${v}`);
    seen.add(v);
    resident.delete(v);
    policy.shadow(v);
  }
  if (policy.evict() !== -1) return bad("drain: evict() on an empty policy did not return -1");
  if (policy.size !== 0) return bad(`drain: size ${policy.size} when empty`);
  return { hits, misses, requests: hits + misses, outcomes };
}

/** Requests only. */
export function requests(keys: readonly number[]): Op[] {
  return keys.map((key) => ({ kind: "access", key }));
}

/** Reference LRU: an array, most recent last. Returns 1/0 per request. */
export function referenceLru(trace: readonly number[], capacity: number): number[] {
  const cache: number[] = [];
  return trace.map((k) => {
    const i = cache.indexOf(k);
    if (i >= 0) {
      cache.splice(i, 1);
      cache.push(k);
      return 1;
    }
    if (capacity === 0) return 0;
    if (cache.length >= capacity) cache.shift();
    cache.push(k);
    return 0;
  });
}

/** Reference FIFO: an array in insertion order. Returns 1/0 per request. */
export function referenceFifo(trace: readonly number[], capacity: number): number[] {
  const cache: number[] = [];
  return trace.map((k) => {
    if (cache.includes(k)) return 1;
    if (capacity === 0) return 0;
    if (cache.length >= capacity) cache.shift();
    cache.push(k);
    return 0;
  });
}

/** Reference Belady MIN by brute force (O(n·C) scans): misses. */
export function referenceOptMisses(trace: readonly number[], capacity: number): number {
  const cache = new Set<number>();
  let misses = 0;
  for (let i = 0; i < trace.length; i++) {
    const k = trace[i]!;
    if (cache.has(k)) continue;
    misses++;
    if (capacity === 0) continue;
    if (cache.size >= capacity) {
      let victim = -1;
      let farthest = -1;
      for (const c of cache) {
        let j = i + 1;
        while (j < trace.length && trace[j] !== c) j++;
        if (j > farthest) {
          farthest = j;
          victim = c;
        }
      }
      cache.delete(victim);
    }
    cache.add(k);
  }
  return misses;
}

/**
 * Textbook ARC (Megiddo & Modha, FAST'03, Figure 4) driven request by request, knowing the
 * requested key when it replaces: the yardstick for the interface-driven ArcPolicy.
 */
export function referenceArcHits(trace: ArrayLike<number>, c: number): number {
  // Lists as Maps in insertion order: first = LRU, last = MRU.
  const t1 = new Map<number, true>();
  const t2 = new Map<number, true>();
  const b1 = new Map<number, true>();
  const b2 = new Map<number, true>();
  let p = 0;
  let hits = 0;
  const lru = (m: Map<number, true>): number => m.keys().next().value as number;
  const replace = (inB2: boolean) => {
    if (t1.size >= 1 && ((inB2 && t1.size === p) || t1.size > p)) {
      const k = lru(t1);
      t1.delete(k);
      b1.set(k, true);
    } else {
      const k = lru(t2);
      t2.delete(k);
      b2.set(k, true);
    }
  };
  for (let i = 0; i < trace.length; i++) {
    const x = trace[i]!;
    if (t1.has(x) || t2.has(x)) {
      hits++;
      t1.delete(x);
      t2.delete(x);
      t2.set(x, true);
    } else if (b1.has(x)) {
      p = Math.min(c, p + (b1.size >= b2.size ? 1 : b2.size / b1.size));
      replace(false);
      b1.delete(x);
      t2.set(x, true);
    } else if (b2.has(x)) {
      p = Math.max(0, p - (b2.size >= b1.size ? 1 : b1.size / b2.size));
      replace(true);
      b2.delete(x);
      t2.set(x, true);
    } else {
      const l1 = t1.size + b1.size;
      const total = l1 + t2.size + b2.size;
      if (l1 === c) {
        if (t1.size < c) {
          b1.delete(lru(b1));
          replace(false);
        } else {
          t1.delete(lru(t1));
        }
      } else if (l1 < c && total >= c) {
        if (total === 2 * c) b2.delete(lru(b2));
        replace(false);
      }
      t1.set(x, true);
    }
  }
  return hits;
}
