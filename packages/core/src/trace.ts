/**
 * Tracepoints (Linux's include/trace/events/*.h, reduced): typed events that the memory and page
 * cache code emits at the moments worth watching — a folio entering or leaving the cache,
 * readahead, writeback, dirty throttling, reclaim scans, workingset refaults, migration,
 * compaction, memory failure, allocation failure.
 *
 * Off by default and free then: every call site is written
 *
 *     if (trace.enabled & TracePoint.Readahead) trace.emit({ point: "readahead", … });
 *
 * so a disabled tracepoint costs one property load and one bit test, and builds no event object
 * (a benchmark checks this). Enabling a point (`trace.enable(["readahead"], sink)`) routes its
 * events to the sinks; each event carries the machine's virtual time.
 */
import { fail } from "./errors.js";

/** Tracepoint bits (one per event kind). */
export const enum TracePoint {
  FolioAdd = 1 << 0,
  FolioDelete = 1 << 1,
  Readahead = 1 << 2,
  WritebackStart = 1 << 3,
  WritebackEnd = 1 << 4,
  DirtyThrottle = 1 << 5,
  ReclaimScan = 1 << 6,
  WorkingsetRefault = 1 << 7,
  Migrate = 1 << 8,
  Compaction = 1 << 9,
  MemoryFailure = 1 << 10,
  AllocFail = 1 << 11,
}

/** Tracepoint names in bit order: what `enable` and the `point` field of events use. */
export const TRACEPOINT_NAMES = [
  "folio_add", "folio_delete", "readahead", "writeback_start", "writeback_end", "dirty_throttle", "reclaim_scan",
  "workingset_refault", "migrate", "compaction", "memory_failure", "alloc_fail",
] as const;

/** A tracepoint's name. */
export type TracePointName = (typeof TRACEPOINT_NAMES)[number];

/**
 * The events, by name. `owner` is the owner id of the folios' owner (a file's mapping), `index`
 * and `pages` are in pages, `pfn` a frame; readahead's `markAt` is the page marked to start the
 * next window asynchronously (-1 for none).
 */
export type TraceEvent =
  | { point: "folio_add"; owner: number; index: number; pages: number; pfn: number; refault: boolean }
  | { point: "folio_delete"; owner: number; index: number; pages: number; pfn: number; why: string }
  | { point: "readahead"; owner: number; index: number; pages: number; markAt: number }
  | { point: "writeback_start"; owner: number; index: number; pages: number }
  | { point: "writeback_end"; owner: number; index: number; pages: number; error: string | null }
  | { point: "dirty_throttle"; dirty: number; limit: number; pausedNs: number }
  | { point: "reclaim_scan"; scanned: number; freed: number; direct: boolean }
  | { point: "workingset_refault"; owner: number; index: number; shadow: number }
  | { point: "migrate"; pfn: number; dst: number; pages: number; result: string; caller: string }
  | { point: "compaction"; order: number; status: string; migrated: number; scanned: number }
  | { point: "memory_failure"; pfn: number; type: string; action: string; soft: boolean }
  | { point: "alloc_fail"; order: number; gfp: number };

/** An event as a sink receives it: the event with the virtual time it happened at. */
export type TimedTraceEvent = TraceEvent & { ns: number };

/** Receives enabled events, synchronously, in the order they happen. Must not throw. */
export type TraceSink = (event: TimedTraceEvent) => void;

/** The tracepoints of one machine (`machine.trace`). */
export class Tracer {
  /** Bits of the enabled tracepoints ({@link TracePoint}); call sites test it before building an event. */
  enabled = 0;
  private readonly sinks: { mask: number; sink: TraceSink }[] = [];

  constructor(private readonly now: () => number) {}

  /**
   * Routes the named tracepoints (all of them with `"all"`) to `sink` and enables them. Returns a
   * function that detaches the sink (disabling points no other sink wants). Throws EINVAL naming an
   * unknown tracepoint.
   */
  enable(points: readonly string[] | "all", sink: TraceSink): () => void {
    const mask = points === "all" ? (1 << TRACEPOINT_NAMES.length) - 1 : maskOf(points);
    const entry = { mask, sink };
    this.sinks.push(entry);
    this.enabled |= mask;
    return () => {
      const i = this.sinks.indexOf(entry);
      if (i >= 0) this.sinks.splice(i, 1);
      this.enabled = this.sinks.reduce((m, s) => m | s.mask, 0);
    };
  }

  /** Delivers `event` to the sinks that asked for its point. Call sites check {@link enabled} first. */
  emit(event: TraceEvent): void {
    const bit = 1 << TRACEPOINT_NAMES.indexOf(event.point);
    const timed = { ...event, ns: this.now() } as TimedTraceEvent;
    for (const s of this.sinks) if (s.mask & bit) s.sink(timed);
  }
}

/** The bit mask of the named tracepoints; throws EINVAL for an unknown name. */
export function maskOf(points: readonly string[]): number {
  let mask = 0;
  for (const p of points) {
    const i = TRACEPOINT_NAMES.indexOf(p as TracePointName);
    if (i < 0) throw fail("EINVAL", `unknown tracepoint "${p}" (known: ${TRACEPOINT_NAMES.join(", ")})`);
    mask |= 1 << i;
  }
  return mask;
}
