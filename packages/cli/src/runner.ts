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
  /** What ran. */
  workload: {
    /** The name it was given by (a built-in name or a file path). */
    name: string;
    /** What the name resolved to (a {@link WorkloadKind}). */
    kind: string;
    /** Its description. */
    description: string;
  };
  /** The machine it ran on: the session's settings, defaults filled in. */
  machine: {
    /** Physical memory in bytes. */
    memory: number;
    /** Filesystem type on the disk. */
    fs: string;
    /** Eviction policy name. */
    policy: string;
    /** The machine's seed. */
    seed: number;
    /** Disk size in bytes. */
    disk: number;
    /** Device model name. */
    device: string;
    /** Swap size in bytes (0: none). */
    swap: number;
  };
  /** System calls and allocations the workload made. */
  ops: number;
  /** How long the run took. */
  time: {
    /** Virtual time that passed on the machine, in ns. */
    virtualNs: number;
    /** Host time it took, in ms (0.1 ms resolution): depends on the host, unlike everything else here. */
    wallMs: number;
  };
  /**
   * Page-cache use in pages, counted as bcc's cachestat does: every use of a cached page is an
   * access (the page cache's access tracer), every page read from the disk a miss, the rest hits.
   * Pages read ahead count as misses whether or not they are used.
   */
  cache: {
    /** Page-cache page uses. */
    accesses: number;
    /** Pages read from the disk. */
    misses: number;
    /** accesses − misses (never negative). */
    hits: number;
    /** hits / accesses, to 4 decimals; 0 without accesses. */
    hitRatio: number;
  };
  /** Reclaim, in pages (vmstat's pgscan/pgsteal), and its events. */
  reclaim: {
    /** LRU pages scanned (pgscan_kswapd + pgscan_direct). */
    scanned: number;
    /** Pages reclaimed (pgsteal_kswapd + pgsteal_direct). */
    reclaimed: number;
    /** Of those, by kswapd. */
    kswapdReclaimed: number;
    /** Of those, by direct reclaim. */
    directReclaimed: number;
    /** kswapd runs (pageoutrun). */
    kswapdRuns: number;
    /** Allocations that entered direct reclaim (allocstall). */
    allocStalls: number;
    /** Workingset refaults of file pages. */
    refaults: number;
    /** LRU pages passed over because dirty. */
    skippedDirty: number;
    /** LRU pages passed over because under writeback. */
    skippedWriteback: number;
    /** Direct reclaims that waited for writeback (reclaim_throttle). */
    throttled: number;
    /** Pages written to swap. */
    swappedOut: number;
    /** Pages read from swap. */
    swappedIn: number;
  };
  /** Writes to the disk and dirty state at the end, in bytes. */
  writeback: {
    /** Write requests the disk got. */
    requests: number;
    /** Bytes written to the disk. */
    bytes: number;
    /** Cache flushes the disk got. */
    flushes: number;
    /** Dirty page-cache bytes at the end. */
    dirtyNow: number;
    /** Bytes under writeback at the end. */
    writebackNow: number;
  };
  /** Reads from the disk. */
  reads: {
    /** Read requests the disk got. */
    requests: number;
    /** Bytes read from the disk. */
    bytes: number;
  };
  /** Where the recorded page-access trace went, with `recordTrace`. */
  trace?: {
    /** The file written. */
    path: string;
    /** Page keys recorded. */
    keys: number;
  };
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
