/** Shared by the harness's tests. */
import type { ExecutionContext } from "ava";
import type { Scheduler } from "@folio/core";
import { StackedDevice, type BlockDevice, type BlockRequest } from "@folio/pagecache";
import { formatViolation, parseFaults, run, type FaultRates, type RunConfig, type RunHooks, type RunResult } from "../src/index.js";

/** Test-only plants read by test/hooks/loader.ts. */
export interface Plant {
  truncateInodePages?: (original: (...args: unknown[]) => void, ...args: unknown[]) => void;
  checkpointFirst?: boolean;
}

declare global {
  var __folioSimPlant: Plant | undefined;
}

/** Runs `fn` with a module-level plant in place, removing it afterwards. */
export function withPlant<T>(plant: Plant, fn: () => T): T {
  globalThis.__folioSimPlant = plant;
  try {
    return fn();
  } finally {
    globalThis.__folioSimPlant = undefined;
  }
}

/** Replaces `obj[key]` for the duration of `fn`. */
export function patched<O extends object, K extends keyof O, T>(obj: O, key: K, value: O[K], fn: () => T): T {
  const original = obj[key];
  obj[key] = value;
  try {
    return fn();
  } finally {
    obj[key] = original;
  }
}

/**
 * Runs seeds `first`, `first + 1`, … until one reports a violation, at most `maxRuns` of them — a
 * budget in runs, not in wall time, so whether a bug is caught never depends on the machine's speed.
 * Returns the first violating run (or null) and what it cost.
 */
export function firstViolation(base: Omit<RunConfig, "seed">, first: number, maxRuns: number, hooks: RunHooks = {}): { result: RunResult | null; runs: number; ops: number; ms: number } {
  const start = performance.now();
  let runs = 0;
  let ops = 0;
  for (let seed = first; runs < maxRuns; seed++) {
    const r = run({ ...base, seed }, hooks);
    runs++;
    ops += r.stats.ops;
    if (r.violation) return { result: r, runs, ops, ms: performance.now() - start };
  }
  return { result: null, runs, ops, ms: performance.now() - start };
}

/** Asserts a run found no violation other than a known bug (which it logs). */
export function assertClean(t: ExecutionContext, r: RunResult): void {
  if (r.violation?.known) {
    t.log(`known bug ${r.violation.known}: ${formatViolation(r.violation)}`);
    return;
  }
  t.is(r.violation, null, r.violation ? formatViolation(r.violation) : "");
}

export const faults = parseFaults;

/**
 * A fault spec as it drew before memory faults existed: the profile's rates with hard and soft
 * offline, unpoison and compaction off. Runs found before then replay with it (and `maxOrder: 0`,
 * the only folio order there was) so that their seeds keep meaning the same scenario.
 */
export function legacyFaults(spec: string): FaultRates {
  return { ...parseFaults(spec), hardOffline: 0, softOffline: 0, unpoison: 0, compact: 0 };
}

/** Weights that make mapping operations (mmap, loads, stores, msync, munmap) a large share of a run. */
export const MAPPING_WEIGHTS = { "mmap-shared": 6, "mmap-private": 4, load: 25, store: 30, msync: 6, munmap: 3 } as const;

/** Planted bug (a): the device acknowledges flushes without flushing (FaultyDevice still counts the writes as unflushed). */
export class SkipFlush extends StackedDevice {
  constructor(
    inner: BlockDevice,
    private readonly scheduler: Scheduler,
  ) {
    super(inner);
  }
  submit(req: BlockRequest): void {
    if (req.op === "flush") this.scheduler.after(0, "flush (skipped)", () => req.done(null));
    else this.inner.submit(req);
  }
}
