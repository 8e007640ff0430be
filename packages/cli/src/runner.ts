/**
 * Running a workload on a session and summing up what it did to the machine: operations, virtual
 * and wall time, page-cache accesses, reclaim and writeback.
 */
import { PAGE_SIZE, Stat } from "@folio/core";
import { AccessTraceRecorder } from "@folio/pagecache";
import { writeTrace } from "@folio/policies";
import type { Progress } from "./progress.js";
import type { Session } from "./session.js";
import type { Workload } from "./workloads/index.js";

/**
 * What a workload run did. Every count covers the run only — not booting or formatting, and not
 * a workload's setup (a replayed trace's files are written before its measurement begins).
 */
export interface RunSummary {
  workload: { name: string; kind: string; description: string };
  machine: { memory: number; fs: string; policy: string; seed: number; disk: number; device: string; swap: number };
  /** System calls and allocations the workload made. */
  ops: number;
  time: { virtualNs: number; wallMs: number };
  /**
   * Page-cache use in pages, counted as bcc's cachestat does: every use of a cached page is an
   * access (the page cache's access tracer), every page read from the disk a miss, the rest hits.
   * Pages read ahead count as misses whether or not they are used.
   */
  cache: { accesses: number; misses: number; hits: number; hitRatio: number };
  /** Reclaim, in pages (vmstat's pgscan/pgsteal), and its events. */
  reclaim: {
    scanned: number; reclaimed: number; kswapdReclaimed: number; directReclaimed: number;
    kswapdRuns: number; allocStalls: number; refaults: number; skippedDirty: number; skippedWriteback: number;
    throttled: number; swappedOut: number; swappedIn: number;
  };
  /** Writes to the disk and dirty state at the end, in bytes. */
  writeback: { requests: number; bytes: number; flushes: number; dirtyNow: number; writebackNow: number };
  /** Reads from the disk. */
  reads: { requests: number; bytes: number };
  /** Where the recorded page-access trace went, with `recordTrace`. */
  trace?: { path: string; keys: number };
}

/** Options of {@link runWorkload}. */
export interface RunOptions {
  /** Record the page-access trace to this file (text, or binary `.f64`/`.bin`). */
  recordTrace?: string;
}

/** Runs `workload` on `session` and sums it up. The session stays open (for reports after it). */
export function runWorkload(session: Session, workload: Workload, progress: Progress, options: RunOptions = {}): RunSummary {
  const { machine, vfs, device } = session;
  const vm = machine.vmstat;
  let ev0 = vm.toObject();
  let dev0 = device.stats.snapshot();
  let t0 = machine.scheduler.now;
  let wall0 = performance.now();
  // One access tracer per page cache: the recorder when a trace is wanted (it counts the same
  // pages), a counter otherwise.
  let accesses = 0;
  const recorder = options.recordTrace !== undefined ? new AccessTraceRecorder(vfs.cache) : undefined;
  /** Starts the measurement over: a workload calls it when its setup is done. */
  const begin = () => {
    ev0 = vm.toObject();
    dev0 = device.stats.snapshot();
    t0 = machine.scheduler.now;
    wall0 = performance.now();
    accesses = 0;
    recorder?.clear();
  };
  if (recorder) recorder.start();
  else vfs.cache.setAccessTracer((_owner, _index, nrPages) => (accesses += nrPages));
  let ops: number;
  try {
    ops = workload.run(session, progress, begin);
  } finally {
    if (recorder) recorder.stop();
    else vfs.cache.setAccessTracer(undefined);
    progress.stop();
  }
  const wallMs = performance.now() - wall0;
  const ev = vm.toObject();
  const d = (name: string) => (ev[name] ?? 0) - (ev0[name] ?? 0);
  const dev = device.stats.snapshot();
  let trace: RunSummary["trace"];
  if (recorder) {
    const keys = recorder.trace();
    accesses = keys.length;
    writeTrace(options.recordTrace!, keys, `page-access trace of workload ${workload.name} (${workload.kind}) recorded by folio run`);
    trace = { path: options.recordTrace!, keys: keys.length };
  }
  const misses = Math.round((dev.bytesRead - dev0.bytesRead) / PAGE_SIZE);
  const hits = Math.max(0, accesses - misses);
  const o = session.options;
  return {
    workload: { name: workload.name, kind: workload.kind, description: workload.description },
    machine: { memory: o.memory, fs: o.fs, policy: o.policy, seed: o.seed, disk: o.disk, device: o.device, swap: o.swap },
    ops,
    time: { virtualNs: machine.scheduler.now - t0, wallMs: Math.round(wallMs * 10) / 10 },
    cache: { accesses, misses, hits, hitRatio: accesses > 0 ? Math.round((hits / accesses) * 10000) / 10000 : 0 },
    reclaim: {
      scanned: d("pgscan_kswapd") + d("pgscan_direct"),
      reclaimed: d("pgsteal_kswapd") + d("pgsteal_direct"),
      kswapdReclaimed: d("pgsteal_kswapd"),
      directReclaimed: d("pgsteal_direct"),
      kswapdRuns: d("pageoutrun"),
      allocStalls: d("allocstall"),
      refaults: d("workingset_refault_file"),
      skippedDirty: d("nr_reclaim_skip_dirty"),
      skippedWriteback: d("nr_reclaim_skip_writeback"),
      throttled: d("reclaim_throttle"),
      swappedOut: d("pswpout"),
      swappedIn: d("pswpin"),
    },
    writeback: {
      requests: dev.writes - dev0.writes,
      bytes: dev.bytesWritten - dev0.bytesWritten,
      flushes: dev.flushes - dev0.flushes,
      dirtyNow: vm.stat[Stat.Dirty]! * PAGE_SIZE,
      writebackNow: vm.stat[Stat.Writeback]! * PAGE_SIZE,
    },
    reads: { requests: dev.reads - dev0.reads, bytes: dev.bytesRead - dev0.bytesRead },
    ...(trace ? { trace } : {}),
  };
}
