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
  /** Bit of `folio_add`: a folio entered a mapping's cache. */
  FolioAdd = 1 << 0,
  /** Bit of `folio_delete`: a folio left a mapping's cache. */
  FolioDelete = 1 << 1,
  /** Bit of `readahead`: a readahead window was submitted. */
  Readahead = 1 << 2,
  /** Bit of `writeback_start`: a folio's write I/O was submitted. */
  WritebackStart = 1 << 3,
  /** Bit of `writeback_end`: a folio's write I/O completed. */
  WritebackEnd = 1 << 4,
  /** Bit of `dirty_throttle`: a writer was paused by dirty throttling. */
  DirtyThrottle = 1 << 5,
  /** Bit of `reclaim_scan`: a reclaim pass ended. */
  ReclaimScan = 1 << 6,
  /** Bit of `workingset_refault`: an evicted page came back. */
  WorkingsetRefault = 1 << 7,
  /** Bit of `migrate`: a folio migration was tried. */
  Migrate = 1 << 8,
  /** Bit of `compaction`: a compaction pass ended. */
  Compaction = 1 << 9,
  /** Bit of `memory_failure`: a memory error was handled. */
  MemoryFailure = 1 << 10,
  /** Bit of `alloc_fail`: an allocation failed. */
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
  | {
      /** A folio entered a mapping's cache (filemap_add_folio). */
      point: "folio_add";
      /** Owner id of the mapping. */
      owner: number;
      /** First page index the folio covers. */
      index: number;
      /** Pages in the folio. */
      pages: number;
      /** Its first frame. */
      pfn: number;
      /** A shadow entry was found at `index`: the page was evicted before and came back. */
      refault: boolean;
    }
  | {
      /** A folio left a mapping's cache (__filemap_remove_folio). */
      point: "folio_delete";
      /** Owner id of the mapping. */
      owner: number;
      /** First page index the folio covered. */
      index: number;
      /** Pages in the folio. */
      pages: number;
      /** Its first frame. */
      pfn: number;
      /** `"reclaim"` (a shadow entry stays), `"dropped dirty"` (its data is discarded) or `"removed"`. */
      why: string;
    }
  | {
      /** A readahead window was submitted. */
      point: "readahead";
      /** Owner id of the mapping. */
      owner: number;
      /** First page index of the window. */
      index: number;
      /** Pages in the window. */
      pages: number;
      /** The page marked to start the next window asynchronously, or −1. */
      markAt: number;
    }
  | {
      /** A folio's write I/O was submitted. */
      point: "writeback_start";
      /** Owner id of the mapping. */
      owner: number;
      /** First page index of the folio. */
      index: number;
      /** Pages in the folio. */
      pages: number;
    }
  | {
      /** A folio's write I/O completed. */
      point: "writeback_end";
      /** Owner id of the mapping. */
      owner: number;
      /** First page index of the folio. */
      index: number;
      /** Pages in the folio. */
      pages: number;
      /** The error code of a failed write, or null. */
      error: string | null;
    }
  | {
      /** A writer was paused by dirty throttling (balance_dirty_pages). */
      point: "dirty_throttle";
      /** Dirty and writeback pages when it was paused. */
      dirty: number;
      /** The dirty limit in pages it was held to. */
      limit: number;
      /** How long it was paused, in virtual nanoseconds. */
      pausedNs: number;
    }
  | {
      /** One reclaim pass over the LRU ended. */
      point: "reclaim_scan";
      /** LRU pages the pass looked at. */
      scanned: number;
      /** Pages it freed. */
      freed: number;
      /** Direct reclaim (an allocation waited for it) rather than kswapd. */
      direct: boolean;
    }
  | {
      /** An evicted page came back while its shadow entry was still there. */
      point: "workingset_refault";
      /** Owner id of the folio's owner. */
      owner: number;
      /** Page index of the folio. */
      index: number;
      /** The shadow value the eviction policy stored when it evicted the page. */
      shadow: number;
    }
  | {
      /** A folio migration was tried. */
      point: "migrate";
      /** First frame of the source folio. */
      pfn: number;
      /** First frame of the destination, or −1 when none was allocated. */
      dst: number;
      /** Pages in the folio. */
      pages: number;
      /** The owner's answer: a {@link PAGE_OP_RESULT_NAMES} name. */
      result: string;
      /** Who asked: a {@link PAGE_OP_CALLER_NAMES} name. */
      caller: string;
    }
  | {
      /** A compaction pass ended. */
      point: "compaction";
      /** The order it compacted for, or −1 for the whole zone. */
      order: number;
      /** A {@link CompactStatus}. */
      status: string;
      /** Pages of folios moved. */
      migrated: number;
      /** Frames the migrate scanner stepped over. */
      scanned: number;
    }
  | {
      /** A memory error on a frame was handled. */
      point: "memory_failure";
      /** The frame number. */
      pfn: number;
      /** Memdesc type name of the frame when it was handled. */
      type: string;
      /** A {@link MemoryFailureAction}. */
      action: string;
      /** Soft offline (content moved away) rather than a hard error. */
      soft: boolean;
    }
  | {
      /** An allocation failed after the slow path (or by injection). */
      point: "alloc_fail";
      /** The order asked for. */
      order: number;
      /** Its {@link Gfp} flags. */
      gfp: number;
    };

/** An event as a sink receives it: the event with the virtual time it happened at. */
export type TimedTraceEvent = TraceEvent & {
  /** Virtual time of the event, in nanoseconds since boot. */
  ns: number;
};

/** Receives enabled events, synchronously, in the order they happen. Must not throw. */
export type TraceSink = (event: TimedTraceEvent) => void;

/** The tracepoints of one machine (`machine.trace`). */
export class Tracer {
  /** Bits of the enabled tracepoints ({@link TracePoint}); call sites test it before building an event. */
  enabled = 0;
  private readonly sinks: { mask: number; sink: TraceSink }[] = [];

  /** Built once per machine at boot ({@link Machine.boot}); `now` reads the machine's virtual clock (ns). */
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
