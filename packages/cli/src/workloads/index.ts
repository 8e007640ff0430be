/**
 * Finding a workload by what the user typed: a built-in name, a JSON script, or a recorded trace
 * (page keys, or a block I/O CSV), and running it on a session.
 */
import { existsSync, statSync } from "node:fs";
import { CliError } from "../errors.js";
import type { Progress } from "../progress.js";
import type { Session } from "../session.js";
import { BUILTIN_WORKLOADS, builtinWorkload } from "./builtin.js";
import { PROGRESS_SCALE, ScriptRunner, countSteps, readScript, type Script, type WorkloadStep } from "./script.js";
import { isBlockTrace, planBlockTrace, planBytes, planPageTrace, replaySteps, type ReplayPlan } from "./trace.js";

export * from "./builtin.js";
export * from "./script.js";
export * from "./trace.js";

/** What kind of workload a name resolved to. */
export type WorkloadKind = "built-in" | "script" | "page trace" | "block trace";

/** A workload ready to run on a session. */
export interface Workload {
  /** What the user typed: a built-in name or a file path. */
  readonly name: string;
  /** What the name resolved to. */
  readonly kind: WorkloadKind;
  /** What it does, in one line. */
  readonly description: string;
  /** Disk bytes the workload needs at least (a replayed trace writes its files first), or 0. */
  readonly minDisk: number;
  /** Units the progress bar counts to. */
  readonly steps: number;
  /** Steps its stream numbers: the `step` of what {@link stream} yields runs from 1 to this. */
  readonly stepCount: number;
  /**
   * Runs it; returns the system calls and allocations it made. A workload with a setup phase
   * calls `begin` when the setup is done, so measurements cover only what follows.
   */
  run(session: Session, progress: Progress, begin?: () => void): number;
  /**
   * The same run as a stream of operations, for a caller that pauses and steps it (the live
   * viewer): each `next()` makes one system call or allocation (or one step that makes none, such
   * as a sleep) and yields what it belonged to; the return value is what {@link run} returns.
   * Draining the stream is exactly {@link run}; abandoning it with `return()` closes the files it
   * had open and leaves the machine as it is.
   */
  stream(session: Session, progress: Progress, begin?: () => void): Generator<WorkloadStep, number, void>;
}

/** Runs a workload stream to its end; returns its return value. */
export function drain<T>(stream: Generator<unknown, T, void>): T {
  for (;;) {
    const r = stream.next();
    if (r.done) return r.value;
  }
}

/**
 * Resolves `spec`: a built-in workload's name, else a file — `.json` a script, `.csv` a block
 * trace, anything else a page-key trace (text, or binary `.f64`/`.bin`). Built-ins are sized for
 * a machine of `memory` bytes. ENOENT when `spec` is neither a built-in nor a file.
 */
export function resolveWorkload(spec: string, memory: number): Workload {
  const builtin = builtinWorkload(spec);
  if (builtin) return scriptWorkload(spec, "built-in", builtin.script(memory));
  if (!existsSync(spec)) {
    throw new CliError("ENOENT", `no built-in workload named "${spec}" (${BUILTIN_WORKLOADS.map((w) => w.name).join(", ")}) and no such file`);
  }
  if (!statSync(spec).isFile()) throw new CliError("EINVAL", `workload ${spec} is not a file`);
  if (spec.toLowerCase().endsWith(".json")) return scriptWorkload(spec, "script", readScript(spec));
  const block = isBlockTrace(spec);
  const plan = block ? planBlockTrace(spec) : planPageTrace(spec);
  return traceWorkload(spec, block ? "block trace" : "page trace", plan);
}

function scriptWorkload(name: string, kind: WorkloadKind, script: Script): Workload {
  return {
    name, kind, minDisk: 0,
    description: script.description || `workload script ${name}`,
    steps: countSteps(script.ops) * PROGRESS_SCALE,
    stepCount: countSteps(script.ops),
    run(session, progress) {
      return drain(this.stream(session, progress));
    },
    *stream(session, progress) {
      const runner = new ScriptRunner(session, script, progress);
      progress.update(0, this.steps);
      yield* runner.steps();
      return runner.ops;
    },
  };
}

function traceWorkload(name: string, kind: WorkloadKind, plan: ReplayPlan): Workload {
  const bytes = planBytes(plan);
  const requests = plan.file.length;
  return {
    name, kind,
    description: `${kind} ${name}: ${requests} requests (${plan.reads} reads, ${plan.writes} writes) over ${plan.files.length} file(s) of ${bytes / 4096} pages`,
    // The files, room for the filesystem's metadata and, for fs-log, for its cleaner to work.
    minDisk: Math.ceil((bytes * 1.5 + 16 * 1048576) / 1048576) * 1048576,
    steps: planBytes(plan) / 4096 + requests,
    stepCount: 2, // the setup, then the requests
    run: (session, progress, begin) => drain(replaySteps(session, plan, progress, begin)),
    stream: (session, progress, begin) => replaySteps(session, plan, progress, begin),
  };
}
