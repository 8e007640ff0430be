/**
 * Trace sources for `folio trace`: each turns one kind of event of a running session into
 * records `{ t, event, …fields }` (t in virtual nanoseconds), printed as JSON lines.
 *
 * A source is a subsystem with named events, attached to a session before the workload runs and
 * detached after: core's typed tracepoints (`mm:folio_add`, `mm:reclaim_scan`, … — one event per
 * tracepoint of `machine.trace`), the page cache's access tracer (`pagecache:access`, every use of
 * a cached folio) and the disk's completion hook (`block:rq_complete`). More plug in with
 * {@link registerTraceSource}.
 */
import { TRACEPOINT_NAMES } from "@folio/core";
import type { Session } from "../session.js";

/** A record's fields besides its time and event name. */
export type TraceFields = Record<string, string | number | boolean | null>;

/** Receives each record; `event` is `system:name`. */
export type TraceEmit = (event: string, fields: TraceFields) => void;

/** A subsystem's events. */
export interface TraceSource {
  /** The subsystem, the part of its event names before the colon. */
  readonly system: string;
  /** Full names of the events it can emit ("pagecache:access"), with one line on each. */
  readonly events: Readonly<Record<string, string>>;
  /**
   * Starts emitting the events `enabled` accepts on `session`; returns the function that stops.
   * Never called when none of its events is enabled.
   */
  attach(session: Session, enabled: (event: string) => boolean, emit: TraceEmit): () => void;
}

const sources: TraceSource[] = [];

/** Adds a source; EEXIST-like Error if its system is taken (a programming error, not a user's). */
export function registerTraceSource(source: TraceSource): void {
  if (sources.some((s) => s.system === source.system)) throw new Error(`trace source "${source.system}" is already registered`);
  sources.push(source);
}

/** Every registered source. */
export function traceSources(): readonly TraceSource[] {
  return sources;
}

/** Every event name of every source, with its description. */
export function traceEvents(): Record<string, string> {
  return Object.assign({}, ...sources.map((s) => s.events)) as Record<string, string>;
}

/** One line on each of core's tracepoints, for `folio trace --list`. */
const TRACEPOINT_HELP: Record<(typeof TRACEPOINT_NAMES)[number], string> = {
  folio_add: "a folio entered the page cache: owner, index, pages, pfn, refault",
  folio_delete: "a folio left the page cache: owner, index, pages, pfn, why",
  readahead: "readahead started: owner, index, pages, markAt (the async marker page)",
  writeback_start: "a folio's writeback started: owner, index, pages",
  writeback_end: "a folio's writeback ended: owner, index, pages, error",
  dirty_throttle: "a writer was paused by dirty throttling: dirty, limit, pausedNs",
  reclaim_scan: "a reclaim pass: scanned, freed, direct",
  workingset_refault: "a page came back while its shadow entry was in the index: owner, index, shadow",
  migrate: "a folio was migrated (or failed to be): pfn, dst, pages, result, caller",
  compaction: "a compaction run: order, status, migrated, scanned",
  memory_failure: "a memory error was handled: pfn, type, action, soft",
  alloc_fail: "an allocation failed: order, gfp",
};

registerTraceSource({
  system: "mm",
  events: Object.fromEntries(TRACEPOINT_NAMES.map((n) => [`mm:${n}`, `${TRACEPOINT_HELP[n]} (core tracepoint)`])),
  attach(session, enabled, emit) {
    const points = TRACEPOINT_NAMES.filter((n) => enabled(`mm:${n}`));
    if (points.length === 0) return () => {};
    // The event's own time is the machine's virtual time, as the record's `t` is.
    return session.machine.trace.enable(points, (event) => {
      const fields: Record<string, unknown> = { ...event };
      delete fields["point"];
      delete fields["ns"];
      emit(`mm:${event.point}`, fields as TraceFields);
    });
  },
});

registerTraceSource({
  system: "pagecache",
  events: { "pagecache:access": "a read or write used a cached folio (folio_mark_accessed): owner id, first index, pages, file" },
  attach(session, enabled, emit) {
    if (!enabled("pagecache:access")) return () => {};
    const { machine, vfs } = session;
    vfs.cache.setAccessTracer((owner, index, pages) => {
      emit("pagecache:access", { owner, index, pages, file: machine.owners.get(owner)?.label ?? "" });
    });
    return () => vfs.cache.setAccessTracer(undefined);
  },
});

registerTraceSource({
  system: "block",
  events: { "block:rq_complete": "the disk completed a request (block_rq_complete): op, first block, blocks" },
  attach(session, enabled, emit) {
    if (!enabled("block:rq_complete")) return () => {};
    const dev = session.device;
    dev.intercept({
      beforeIo(req) {
        emit("block:rq_complete", req.op === "flush" ? { dev: dev.name, op: req.op } : { dev: dev.name, op: req.op, block: req.block, count: req.count });
        return null;
      },
      afterFlush() {},
    });
    return () => dev.intercept(null);
  },
});
