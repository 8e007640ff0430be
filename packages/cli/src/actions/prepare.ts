/**
 * The steps the machine commands share: parse their options into a session, boot it, run the
 * optional workload with a progress bar.
 */
import type { MachineOpts } from "../commands/options.js";
import { createProgress } from "../progress.js";
import { runWorkload, type RunSummary } from "../runner.js";
import { defaultDiskSize, openSession, type Session, type SessionOptions } from "../session.js";
import { resolveWorkload, type Workload } from "../workloads/index.js";
import { sizeOption } from "../parse.js";

/** Session options from parsed {@link MachineOpts}: sizes parsed, the disk's default filled in. */
export function sessionOptions(o: MachineOpts): SessionOptions {
  const memory = sizeOption(o.memory, "--memory");
  const disk = o.disk !== undefined ? sizeOption(o.disk, "--disk") : defaultDiskSize(memory);
  const swap = o.swap !== undefined ? sizeOption(o.swap, "--swap") : 0;
  return { memory, fs: o.fs, policy: o.policy, seed: o.seed, disk, device: o.device, swap, hugePages: o.hugepages };
}

/** A booted machine, after the workload if one was asked for. */
export interface Prepared {
  session: Session;
  workload?: Workload;
  summary?: RunSummary;
}

/**
 * Boots the machine `opts` describe and runs `workloadSpec` on it (if given), with a progress bar
 * when it takes more than a second. The disk grows to what the workload needs (a replayed trace
 * writes its files first). A report may leave the session open when it is done: its disk
 * lives in RAM and goes with the process, so writing it back would be time spent for nothing.
 */
export function prepare(opts: MachineOpts, workloadSpec: string | undefined, recordTrace?: string): Prepared {
  const base = sessionOptions(opts);
  const workload = workloadSpec !== undefined ? resolveWorkload(workloadSpec, base.memory!) : undefined;
  const session = openSession({ ...base, disk: Math.max(base.disk!, workload?.minDisk ?? 0) });
  if (!workload) return { session };
  const progress = createProgress(`workload ${workload.name}`, workload.steps);
  const summary = runWorkload(session, workload, progress, recordTrace !== undefined ? { recordTrace } : {});
  return { session, workload, summary };
}
