/**
 * Recording the page-access trace of a workload: every use of a cached folio, as the page cache
 * reports it through its access tracer ({@link PageCache.setAccessTracer}), becomes one key per
 * 4 KiB page, ready for replay through eviction policies (`simulate` in @folio/policies).
 */
import { fail } from "@folio/core";
import type { AccessTracer, PageCache } from "./page-cache.js";

/**
 * Span of page indexes within one owner in a trace key: the same stable page identity reclaim
 * gives its eviction policy, so a recorded trace replays with the keys the kernel's policy saw.
 */
export const TRACE_INDEX_SPAN = 2 ** 32;

/** The trace key of page `index` of the mapping whose owner id is `ownerId`: ownerId × 2^32 + index. */
export function traceKey(ownerId: number, index: number): number {
  return ownerId * TRACE_INDEX_SPAN + index;
}

/** Options of {@link AccessTraceRecorder}. */
export interface AccessTraceRecorderOptions {
  /** Keys the buffer holds before it first grows (default 65,536). */
  initialCapacity?: number;
}

/**
 * Records the page-access trace of a page cache: while recording, each use of a cached folio
 * (every read and write that touches it, misses included, and every page fault a user mapping's
 * file serves) appends the key of each of its pages, in page order — a large folio of n pages
 * gives n keys, as n separate 4 KiB pages would. Keys are {@link traceKey}s.
 *
 * Uses through user mappings are seen only at their faults: loads and stores that find their
 * page mapped, read faults that fault-around serves from the cache, and the accessed bits reclaim
 * harvests are not recorded (see {@link PageCache.setAccessTracer}), so a workload that works
 * through mappings looks colder in the trace than reclaim saw it.
 *
 * The keys go into a Float64Array that doubles when full, so recording allocates nothing per
 * access (only O(log n) times in all). A page cache has one access tracer: {@link start} takes the
 * slot and {@link stop} empties it, so two recorders must not record the same cache at once.
 * Owner ids are reused once a mapping is destroyed (its inode evicted), so a file deleted and
 * another created later may share keys; within a workload that keeps its files, keys are stable.
 */
export class AccessTraceRecorder {
  private keys: Float64Array;
  private count = 0;
  private active = false;
  /** The tracer handed to the page cache: one bound function, made once. */
  private readonly tracer: AccessTracer = (ownerId, index, nrPages) => this.record(ownerId, index, nrPages);

  /**
   * Starts idle: {@link start} begins recording. `options.initialCapacity` (default 65,536 keys)
   * must be a positive integer, else EINVAL.
   */
  constructor(
    /** The page cache recorded. */
    readonly cache: PageCache,
    options: AccessTraceRecorderOptions = {},
  ) {
    const initial = options.initialCapacity ?? 65_536;
    if (!Number.isInteger(initial) || initial < 1) throw fail("EINVAL", `initial capacity ${initial} is not a positive integer`);
    this.keys = new Float64Array(initial);
  }

  /** Whether accesses are being recorded. */
  get recording(): boolean {
    return this.active;
  }

  /** Keys recorded so far. */
  get length(): number {
    return this.count;
  }

  /**
   * Starts (or resumes) recording: installs this recorder as the cache's access tracer. Keys
   * already recorded are kept; {@link clear} drops them. Throws EBUSY if already recording.
   */
  start(): void {
    if (this.active) throw fail("EBUSY", "the access trace recorder is already recording");
    this.cache.setAccessTracer(this.tracer);
    this.active = true;
  }

  /** Stops recording: removes the cache's access tracer. Harmless when not recording. */
  stop(): void {
    if (!this.active) return;
    this.cache.setAccessTracer(undefined);
    this.active = false;
  }

  /** Drops every key recorded so far (recording, if on, goes on). */
  clear(): void {
    this.count = 0;
  }

  /** A copy of the keys recorded so far, in access order; later recording does not change it. */
  trace(): Float64Array {
    return this.keys.slice(0, this.count);
  }

  private record(ownerId: number, index: number, nrPages: number): void {
    if (this.count + nrPages > this.keys.length) this.grow(this.count + nrPages);
    const keys = this.keys;
    const base = traceKey(ownerId, index);
    let n = this.count;
    for (let i = 0; i < nrPages; i++) keys[n++] = base + i;
    this.count = n;
  }

  private grow(needed: number): void {
    let size = this.keys.length * 2;
    while (size < needed) size *= 2;
    const bigger = new Float64Array(size);
    bigger.set(this.keys.subarray(0, this.count));
    this.keys = bigger;
  }
}
