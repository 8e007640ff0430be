import { fail } from "../errors.js";
import type { Rng } from "./rng.js";

/** Nanoseconds per unit, for readable delays: `scheduler.after(5 * SECOND, …)`. */
export const MICROSECOND = 1_000;
/** Nanoseconds per millisecond. */
export const MILLISECOND = 1_000_000;
/** Nanoseconds per second. */
export const SECOND = 1_000_000_000;

/** Deepest allowed nesting of {@link Scheduler.waitUntil} (a wait whose event handler waits…). */
export const MAX_WAIT_DEPTH = 8;

/** Periodic-only events a wait may run before it is reported as a deadlock (guards tiny periods). */
const MAX_IDLE_EVENTS = 100_000;

/** A scheduled callback; cancel it with {@link Scheduler.cancel}. */
export interface Timer {
  /** Unique per scheduler, increasing in scheduling order. */
  readonly id: number;
  /** What the callback does, for deadlock reports and traces (`"writeback"`, `"kswapd"`). */
  readonly label: string;
  /** Virtual time (ns) at which it fires. */
  readonly at: number;
}

/**
 * A queued event. A class, not an object literal: V8 pretenures an allocation site whose objects
 * tend to live long (as events do under heavy I/O), after which every short-lived event is
 * allocated in old space and collected only by full GCs; a constructor keeps one stable shape.
 */
class Event implements Timer {
  cancelled = false;
  constructor(
    readonly id: number,
    readonly label: string,
    public at: number,
    readonly key: number,
    readonly fn: () => void,
    readonly period: number,
  ) {}
}

/**
 * The engine's clock and event queue. The engine is synchronous and deterministic: time is
 * virtual (nanoseconds), advanced only by waiting — for I/O completions, throttling pauses, or
 * {@link runFor} — and by {@link charge} where a caller models CPU cost (the engine charges none
 * itself); device completions and background work (writeback, kswapd, compaction, cleaners)
 * are events in this queue. Events due at the same instant run in an order drawn from the
 * machine's seeded {@link Rng}, so a seed picks one interleaving and replays it exactly.
 *
 * Waiting is running: {@link waitUntil} runs events until a condition holds, and reports a
 * deadlock (EDEADLK) when nothing is left to run, so "nothing hangs" is checkable.
 */
export class Scheduler {
  private time = 0;
  private seq = 0;
  private heap: Event[] = [];
  private depth = 0;
  private realtime?: { stop(): void };

  /** One scheduler per machine; `rng` orders events due at the same instant. */
  constructor(private readonly rng: Rng) {}

  /** Current virtual time in nanoseconds. */
  get now(): number {
    return this.time;
  }

  /** Number of pending events (periodic ones included). */
  get pending(): number {
    return this.heap.length;
  }

  /**
   * Advances time by a CPU cost, without running anything: due events run at the next safe point.
   * The engine never calls it (operations cost no virtual time); workloads and device models that
   * want CPU time to pass call it themselves.
   */
  charge(ns: number): void {
    this.time += ns;
  }

  /** Runs `fn` `delay` ns from now. */
  after(delay: number, label: string, fn: () => void): Timer {
    return this.push(this.time + Math.max(0, delay), label, fn, 0);
  }

  /** Runs `fn` every `period` ns, first `period` ns from now, until cancelled. */
  every(period: number, label: string, fn: () => void): Timer {
    if (!(period > 0)) throw fail("EINVAL", `period ${period} of task ${label} must be positive`);
    return this.push(this.time + period, label, fn, period);
  }

  /** Cancels a timer; cancelling twice or after it fired is harmless. */
  cancel(t: Timer): void {
    (t as Event).cancelled = true;
  }

  /**
   * Runs every event due by now (a safe point: callers hold no folio lock). At most `limit`
   * events run, so one call is a bounded slice of work. Returns the number run.
   */
  runDue(limit = Infinity): number {
    let n = 0;
    while (n < limit && this.heap.length > 0 && this.heap[0]!.at <= this.time) {
      if (this.runNext()) n++;
    }
    return n;
  }

  /** Runs events until virtual time `now + ns`, then sets the clock there. */
  runFor(ns: number): void {
    const end = this.time + ns;
    while (this.heap.length > 0 && this.heap[0]!.at <= end) this.runNext();
    this.time = Math.max(this.time, end);
  }

  /**
   * Runs events, advancing virtual time, until `cond()` holds. Throws EDEADLK naming `what` when
   * no event is left that could make it true, and when waits nest deeper than
   * {@link MAX_WAIT_DEPTH}. Periodic tasks alone cannot keep a wait alive forever: after
   * `maxIdleNs` of virtual time, or 100,000 events, with only periodic tasks left, the wait is
   * reported as a deadlock.
   */
  waitUntil(cond: () => boolean, what: string, maxIdleNs = 60 * SECOND): void {
    if (cond()) return;
    if (this.depth >= MAX_WAIT_DEPTH) throw fail("EDEADLK", `waits nested ${this.depth} deep while waiting for ${what}`);
    this.depth++;
    try {
      const start = this.time;
      let periodicOnly = 0;
      while (!cond()) {
        const next = this.peek();
        const idle = next !== undefined && next.period > 0 && !this.hasOneShot();
        periodicOnly = idle ? periodicOnly + 1 : 0;
        if (next === undefined || (idle && (next.at - start > maxIdleNs || periodicOnly > MAX_IDLE_EVENTS))) {
          throw fail("EDEADLK", `deadlock: waiting for ${what} at t=${formatTime(this.time)} with nothing left to run`);
        }
        this.runNext();
      }
    } finally {
      this.depth--;
    }
  }

  /**
   * Drives the queue from real time (an interactive mount, the live viewer): every `sliceMs` the
   * clock catches up with the wall clock and due events run, at most `maxEvents` per slice.
   * Returns a handle whose `stop()` ends it. Virtual time never runs backwards.
   */
  startRealtime(sliceMs = 10, maxEvents = 1000): {
    /** Stops driving the queue from real time; the clock keeps the time it reached. */
    stop(): void;
  } {
    this.realtime?.stop();
    const origin = performance.now() * MILLISECOND - this.time;
    const timer = setInterval(() => {
      this.time = Math.max(this.time, performance.now() * MILLISECOND - origin);
      this.runDue(maxEvents);
    }, sliceMs);
    const handle = { stop: () => clearInterval(timer) };
    this.realtime = handle;
    return handle;
  }

  private hasOneShot(): boolean {
    return this.heap.some((e) => e.period === 0 && !e.cancelled);
  }

  private peek(): Event | undefined {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
    return this.heap[0];
  }

  private runNext(): boolean {
    const ev = this.pop();
    if (ev.cancelled) return false;
    if (ev.at > this.time) this.time = ev.at;
    if (ev.period > 0) {
      ev.at = this.time + ev.period;
      this.insert(ev);
    }
    ev.fn();
    return true;
  }

  private push(at: number, label: string, fn: () => void, period: number): Timer {
    const ev = new Event(++this.seq, label, at, this.rng.nextU32(), fn, period);
    this.insert(ev);
    return ev;
  }

  private insert(ev: Event): void {
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Event {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** Event order: by time, then by the seeded key (so a seed chooses among simultaneous events), then by creation. */
function before(a: Event, b: Event): boolean {
  return a.at !== b.at ? a.at < b.at : a.key !== b.key ? a.key < b.key : a.id < b.id;
}

/** Formats virtual nanoseconds, e.g. `1.250s` or `340µs`. */
export function formatTime(ns: number): string {
  if (ns >= SECOND) return `${(ns / SECOND).toFixed(3)}s`;
  if (ns >= MILLISECOND) return `${(ns / MILLISECOND).toFixed(3)}ms`;
  return `${(ns / MICROSECOND).toFixed(0)}µs`;
}
