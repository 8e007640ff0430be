/**
 * A machine running a workload one operation at a time, for the live viewer: it can be paused,
 * stepped and resumed, be told to compact, take frames offline or drop its caches between two
 * operations, describe any frame, and publish what its memory looks like into a
 * SharedArrayBuffer (see protocol.ts). The worker thread drives it with timers; it knows nothing
 * of threads or HTTP itself, so a test can drive it directly.
 */
import {
  FolioFlag, MemdescType, PAGE_SIZE, PageFlag, Rng, formatTime, type CompactResult, type MemoryFailureResult, type TimedTraceEvent,
} from "@folio/core";
import { invalidateMappingPages, type Mapping } from "@folio/pagecache";
import { describePfn, formatFrameReport, type FrameReport } from "../describe.js";
import { CliError, describeError } from "../errors.js";
import { classifyFrames } from "../memmap/model.js";
import { NO_PROGRESS } from "../progress.js";
import { describeSession, openSession, type Session } from "../session.js";
import { resolveWorkload, type Workload, type WorkloadStep } from "../workloads/index.js";
import {
  CONTROL_BYTES, NUMBERS, SEQ, VIEWER_COUNTERS, frameByte, framesOffset, sharedBytes,
  type Injection, type MachineInfo, type Phase, type WorkerConfig, type WorkerStatus,
} from "./protocol.js";

/** Virtual time one step of an idle machine lets pass (the flusher, kswapd and kcompactd run). */
export const IDLE_STEP_NS = 100_000_000;
/** Most steps one `step` request may ask for. */
export const MAX_STEPS = 1_000_000;
/** Lines of the event log kept for a page that connects late. */
const LOG_KEEP = 200;

/** What `describe` answers: core's description with the frame's record, and the text `folio describe` prints. */
export interface LiveDescription {
  /** The frame's record, as `folio describe --json` prints it. */
  report: FrameReport;
  /** The text `folio describe` prints. */
  text: string;
}

/** A booted machine with its workload as a stream of operations. */
export class LiveMachine {
  /** The shared buffer the state is published into. */
  readonly shared: SharedArrayBuffer;
  /** What the machine is, as the worker's first message says. */
  readonly info: MachineInfo;
  private readonly control: Int32Array;
  private readonly numbers: Float64Array;
  private readonly frameBytes: Uint8Array;
  private readonly stream: Generator<WorkloadStep, number, void> | null;
  private readonly rng: Rng;
  private phase: Phase;
  private paused: boolean;
  private speed: number;
  private ops = 0;
  private step: WorkloadStep | null = null;
  private error: string | null = null;
  private pendingLog: string[] = [];
  private readonly detachTrace: () => void;

  /** Made by {@link LiveMachine.boot}, which builds the session first; allocates the shared buffer. */
  private constructor(
    /** The session the machine runs in. */
    readonly session: Session,
    private readonly workload: Workload | null,
    config: WorkerConfig,
  ) {
    const machine = session.machine;
    this.shared = new SharedArrayBuffer(sharedBytes(machine.frames));
    this.control = new Int32Array(this.shared, 0, CONTROL_BYTES / 4);
    this.numbers = new Float64Array(this.shared, CONTROL_BYTES, NUMBERS.length);
    this.frameBytes = new Uint8Array(this.shared, framesOffset(), machine.frames);
    this.stream = workload ? workload.stream(session, NO_PROGRESS) : null;
    this.phase = workload ? "workload" : "idle";
    this.paused = config.paused;
    this.speed = config.speed;
    // Its own seed, so the frames a user poisons at random do not change the workload's choices.
    this.rng = new Rng((config.session.seed ^ 0x9e3779b9) >>> 0);
    this.info = {
      frames: machine.frames,
      machine: describeSession(session.options),
      workload: workload ? { name: workload.name, kind: workload.kind, description: workload.description } : null,
    };
    this.detachTrace = machine.trace.enable(["compaction", "memory_failure"], (e) => this.traced(e));
    this.log(workload ? `workload ${workload.name}: ${workload.description}` : "no workload: the machine idles (inject events, or start with --workload)");
    this.publish();
  }

  /**
   * Boots the machine `config` describes and prepares its workload (not started). Throws the
   * workload's or the machine's error (ENOENT for an unknown workload, EINVAL for bad options).
   */
  static boot(config: WorkerConfig): LiveMachine {
    const workload = config.workload !== null ? resolveWorkload(config.workload, config.session.memory) : null;
    const session = openSession({ ...config.session, disk: Math.max(config.session.disk, workload?.minDisk ?? 0) });
    return new LiveMachine(session, workload, config);
  }

  /** Whether the machine is paused (a paused machine runs only what {@link runSteps} asks for). */
  get isPaused(): boolean {
    return this.paused;
  }

  /** Operations per second the workload runs at, 0 for as fast as it can. */
  get opsPerSecond(): number {
    return this.speed;
  }

  /** Pauses or resumes. */
  setPaused(paused: boolean): void {
    if (paused !== this.paused) this.log(paused ? "paused" : "resumed");
    this.paused = paused;
  }

  /** Sets the speed: operations per second, 0 for as fast as it can. EINVAL for anything else. */
  setSpeed(speed: number): void {
    if (!Number.isFinite(speed) || speed < 0) throw new CliError("EINVAL", `speed ${speed} is not a number of operations per second ≥ 0`);
    this.speed = speed;
  }

  /** Where the workload is: running it, done with it (or without one), or stopped by an error. */
  get currentPhase(): Phase {
    return this.phase;
  }

  /**
   * Runs `count` operations of the workload (fewer if it ends first); on an idle machine each
   * step lets `IDLE_STEP_NS` (100 ms) of virtual time pass instead. Returns the operations run.
   */
  runSteps(count: number): number {
    if (!Number.isInteger(count) || count < 1 || count > MAX_STEPS) throw new CliError("EINVAL", `step count ${count} is not a whole number in [1, ${MAX_STEPS}]`);
    let n = 0;
    while (n < count) {
      if (this.phase !== "workload") {
        this.session.machine.scheduler.runFor(IDLE_STEP_NS);
        n++;
        continue;
      }
      if (!this.next()) break;
      n++;
    }
    return n;
  }

  /**
   * Runs operations until `deadline` (a `performance.now()` value) or `max` of them, whichever
   * comes first; the workload's operations only (an idle machine is advanced by {@link idle}).
   * Returns the operations run.
   */
  runUntil(deadline: number, max: number): number {
    let n = 0;
    while (n < max && this.phase === "workload" && performance.now() < deadline) {
      if (!this.next()) break;
      n++;
    }
    return n;
  }

  /** Lets `ns` of virtual time pass on a machine that has no workload left to run. */
  idle(ns: number): void {
    if (this.phase !== "workload" && ns > 0) this.session.machine.scheduler.runFor(ns);
  }

  /** One operation of the stream; false when it has ended (or failed). */
  private next(): boolean {
    try {
      const r = this.stream!.next();
      if (r.done) {
        this.phase = "idle";
        this.log(`workload finished after ${this.ops} operations (${r.value} system calls and allocations); time passes`);
        return false;
      }
      this.ops++;
      this.step = r.value;
      return true;
    } catch (e) {
      this.phase = "failed";
      this.error = describeError(e).line;
      this.log(`workload stopped: ${this.error}`);
      return false;
    }
  }

  /** Does `kind` to the machine now, between two operations; returns what happened, in words. */
  inject(kind: Injection, pfn?: number): string {
    const m = this.session.machine;
    if (pfn !== undefined) this.checkPfn(pfn);
    let text: string;
    switch (kind) {
      case "compact": {
        const r: CompactResult = m.compaction.compact({ order: -1, mode: "full" });
        text = `compact_memory: ${r.status}, ${r.migrated} pages migrated, ${r.failed} stayed (${r.detail})`;
        break;
      }
      case "hard-offline":
      case "soft-offline":
      case "unpoison": {
        const target = pfn ?? (kind === "unpoison" ? this.poisonedFrame() : this.frameInUse());
        const r: MemoryFailureResult = kind === "hard-offline" ? m.memoryFailure.hardOffline(target)
          : kind === "soft-offline" ? m.memoryFailure.softOffline(target) : m.memoryFailure.unpoison(target);
        text = `${kind} of pfn ${target} (${r.type}): ${r.action}: ${r.detail}`;
        break;
      }
      case "drop-caches":
        text = this.dropCaches();
        break;
      case "sync":
        this.session.vfs.sync();
        text = "sync: every dirty page written back";
        break;
      default:
        throw new CliError("EINVAL", `"${String(kind)}" is not something the viewer can inject`);
    }
    this.log(text);
    return text;
  }

  /** What frame `pfn` says about itself. */
  describe(pfn: number): LiveDescription {
    this.checkPfn(pfn);
    const report = describePfn(this.session.machine, pfn);
    return { report, text: formatFrameReport(report) };
  }

  /**
   * Writes the state into the shared buffer: the frames' bytes, the operations done, virtual time
   * and the counters. The sequence number is odd while it writes, so a reader on another thread
   * knows to read again.
   */
  publish(): void {
    const m = this.session.machine;
    Atomics.add(this.control, SEQ, 1);
    const bytes = this.frameBytes;
    const counts = classifyFrames(m, bytes, (pfn, order) => (bytes[pfn] = frameByte(bytes[pfn]!, order)));
    const vm = m.vmstat.toObject();
    const dev = this.session.device.stats.snapshot();
    const n = this.numbers;
    n[0] = this.ops;
    n[1] = m.scheduler.now;
    VIEWER_COUNTERS.forEach((c, i) => {
      n[2 + i] = c.key === "disk_read_bytes" ? dev.bytesRead : c.key === "disk_write_bytes" ? dev.bytesWritten : (vm[c.key] ?? 0);
    });
    counts.forEach((count, i) => (n[2 + VIEWER_COUNTERS.length + i] = count));
    Atomics.add(this.control, SEQ, 1);
  }

  /** The text part of the state; the log holds the lines added since the last call. */
  status(): WorkerStatus {
    const log = this.pendingLog;
    this.pendingLog = [];
    return {
      paused: this.paused, phase: this.phase, step: this.step, speed: this.speed, error: this.error, log,
      steps: this.workload?.stepCount ?? 0,
    };
  }

  /** Stops tracing and abandons the workload (closing its files). The machine is left as it is. */
  close(): void {
    this.detachTrace();
    try {
      this.stream?.return(0);
    } catch {
      // A workload that cannot close a file after an error has nothing more to say.
    }
  }

  private checkPfn(pfn: number): void {
    const frames = this.session.machine.frames;
    if (!Number.isInteger(pfn) || pfn < 0 || pfn >= frames) throw new CliError("EINVAL", `pfn ${pfn} is not a frame of this machine (0..${frames - 1})`);
  }

  /** A random frame that holds something (not free, not reserved, not offline), or any frame but 0. */
  private frameInUse(): number {
    const map = this.session.machine.memmap;
    for (let tries = 0; tries < 1000; tries++) {
      const pfn = 1 + this.rng.below(map.frames - 1);
      const t = map.type[pfn]! as MemdescType;
      const idle = t === MemdescType.Buddy || t === MemdescType.PerCpu || t === MemdescType.Reserved || t === MemdescType.Offline;
      if (!idle && !(map.flags[pfn]! & PageFlag.HwPoison)) return pfn;
    }
    return 1 + this.rng.below(map.frames - 1);
  }

  /** The first poisoned frame; EINVAL when there is none. */
  private poisonedFrame(): number {
    const map = this.session.machine.memmap;
    for (let pfn = 0; pfn < map.frames; pfn++) if (map.flags[pfn]! & PageFlag.HwPoison) return pfn;
    throw new CliError("EINVAL", "no frame is poisoned: click one to choose it, or take one offline first");
  }

  /**
   * echo 3 > /proc/sys/vm/drop_caches after a sync: every dirty page written back, then the clean,
   * unused page-cache folios of every mapping dropped (invalidate_mapping_pages; mapped, locked and
   * busy ones stay) and the dentry cache emptied.
   */
  private dropCaches(): string {
    const { machine, vfs } = this.session;
    vfs.sync();
    const map = machine.memmap;
    const mappings = new Set<Mapping>();
    let last = -1;
    for (let pfn = 0; pfn < map.frames; pfn++) {
      if (map.type[pfn] !== MemdescType.Folio) continue;
      const h = map.ref[pfn]!;
      if (h === last) continue;
      last = h;
      if (machine.folios.test(h, FolioFlag.SwapBacked)) continue;
      const mapping = vfs.cache.mappingOf(h);
      if (mapping) mappings.add(mapping);
    }
    let pages = 0;
    for (const mapping of mappings) pages += invalidateMappingPages(vfs.cache, mapping);
    const dentries = vfs.shrinkCaches(1 << 30);
    return `drop_caches: ${pages} clean page-cache pages dropped (${((pages * PAGE_SIZE) / 1048576).toFixed(1)} MiB) from ${mappings.size} files, ${dentries} dentries`;
  }

  private traced(e: TimedTraceEvent): void {
    if (e.point === "compaction") {
      // Passes that moved nothing (skipped, deferred) would drown the rest.
      if (e.migrated > 0) this.log(`compaction (order ${e.order}): ${e.status}, ${e.migrated} pages migrated, ${e.scanned} scanned`);
    } else if (e.point === "memory_failure") {
      this.log(`memory failure at pfn ${e.pfn} (${e.type}, ${e.soft ? "soft" : "hard"}): ${e.action}`);
    }
  }

  private log(line: string): void {
    this.pendingLog.push(`[${formatTime(this.session.machine.scheduler.now)}] ${line}`);
    if (this.pendingLog.length > LOG_KEEP) this.pendingLog.splice(0, this.pendingLog.length - LOG_KEEP);
  }
}
