/**
 * Suite "filesystems": fs-log (the log-structured sample filesystem, `@folio/fs-log`) beside its
 * peer fs-simple (the ext2-like sample filesystem, `@folio/fs-simple`, which overwrites in place),
 * both measured the same way in the same run on the same device model:
 *
 * - small files: create + write(4 KiB) + fsync, in files per second;
 * - random 4 KiB overwrites of a 64 MiB file (written and fsynced first), an fsync every 64
 *   writes, in MiB/s;
 * - write amplification (device bytes written / user bytes written) with the filesystem 80% full
 *   under random 4 KiB overwrites, long enough that fs-log's cleaner runs; fs-log's cleaner
 *   counters beside it.
 *
 * Each filesystem runs on its own machine (256 MiB, page cache installed) with a SimDevice of the
 * NVMe model (100 µs, 1 GiB/s, depth 32) over a 256 MiB MemfsStore, mkfs'ed with defaults and
 * constructed as the VFS does it: in a child container of the machine's, with FS_TOKENS
 * registered, mounted, and registered with the writeback flusher. It is driven through its
 * SuperBlock directly.
 *
 * Rates are given in virtual time (deltas of machine.scheduler.now: the device model's time; the
 * simulation charges nothing for CPU) and in wall-clock time. The simulation is deterministic, so
 * each figure comes from one run and has no spread; wall-clock figures are from that same run
 * (after a short warm-up run of the same workload on a throwaway rig) and are noisier.
 */
import { Machine, Rng, SECOND } from "@folio/core";
import { FS_TOKENS, O_RDWR, type FsFile, type SuperBlock } from "@folio/fs-api";
import { LogFs, type LogFsStats } from "@folio/fs-log";
import { SimpleFs } from "@folio/fs-simple";
import { DEVICE_MODELS, MemfsStore, SimDevice, installPageCache } from "@folio/pagecache";
import { type BenchOptions, type Row, type Suite, nowMs } from "./harness.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const BLOCK = 4 * KiB;
const MACHINE_MEMORY = "256MiB";
const DEVICE_SIZE = 256 * MiB;
/** Device of the write-amplification runs with --quick. */
const DEVICE_SIZE_QUICK = 64 * MiB;
const MODEL = DEVICE_MODELS.nvme;
const PEER = "fs-simple";

/** Small-file runs: files created (each 4 KiB, fsynced), all in the root directory. */
const SMALL_FILES = 5_000;
const SMALL_FILES_QUICK = 1_000;
/** Random-overwrite runs: the file's size and the number of 4 KiB overwrites. */
const OVERWRITE_FILE = 64 * MiB;
const OVERWRITE_FILE_QUICK = 16 * MiB;
const OVERWRITES = 16_384;
const OVERWRITES_QUICK = 4_096;
/** Overwrites between two fsyncs. */
const FSYNC_EVERY = 64;
/** Write amplification: fill level, file size, and overwrite volumes (in device sizes). */
const FILL = 0.8;
const WA_FILE = MiB;
const WA_WARMUP_DEVICES = 1;
const WA_MEASURED_DEVICES = 1;

type Kind = "fs-log" | "fs-simple";
const KINDS: readonly Kind[] = ["fs-log", "fs-simple"];

interface Rig {
  kind: Kind;
  machine: Machine;
  device: SimDevice;
  fs: SuperBlock;
  /** The same object as `fs` when it is fs-log, for its counters. */
  log: LogFs | null;
}

/** A machine, an NVMe-model device over a fresh memfs image, mkfs, and a mount as the VFS does it. */
function makeRig(kind: Kind, deviceSize = DEVICE_SIZE): Rig {
  const machine = Machine.boot({ memory: MACHINE_MEMORY, seed: 1 });
  const { flusher } = installPageCache(machine);
  const device = new SimDevice(new MemfsStore({ size: deviceSize }), machine.scheduler, { model: MODEL });
  const ctx = { device, scheduler: machine.scheduler, machine };
  if (kind === "fs-log") LogFs.mkfs(ctx, {});
  else SimpleFs.mkfs(ctx, {});
  const c = machine.container.createChildContainer();
  c.register(FS_TOKENS.BlockDevice, { useValue: device });
  c.register(FS_TOKENS.MountOptions, { useValue: {} });
  const fs: SuperBlock = kind === "fs-log" ? c.resolve(LogFs) : c.resolve(SimpleFs);
  fs.mount();
  // The VFS registers every mount with the flusher (fs-log also registers itself; harmless).
  flusher.register({ writeback: (wbc) => fs.writebackInodes(wbc) });
  return { kind, machine, device, fs, log: fs instanceof LogFs ? fs : null };
}

/** Unmounts and runs fsck: a benchmark that leaves a broken filesystem measured nothing. */
function check(r: Rig): void {
  r.fs.unmount();
  const ctx = { device: r.device, scheduler: r.machine.scheduler, machine: r.machine };
  const report = r.kind === "fs-log" ? LogFs.fsck(ctx, { repair: false }) : SimpleFs.fsck(ctx, { repair: false });
  if (!report.clean) throw new Error(`${r.kind}: fsck after benchmark: ${report.problems.slice(0, 5).join("; ")}`);
  const problems = r.machine.verify();
  if (problems.length > 0) throw new Error(`${r.kind}: machine inconsistent after benchmark: ${problems.slice(0, 5).join("; ")}`);
}

function writeAll(fs: SuperBlock, f: FsFile, pos: number, data: Uint8Array): void {
  let done = 0;
  while (done < data.length) {
    const n = fs.write(f, pos + done, data, done, data.length - done);
    if (n === 0) throw new Error(`short write at ${pos + done}`);
    done += n;
  }
}

/** `size` bytes of deterministic data (xorshift32 words). */
function testData(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  const words = new Uint32Array(out.buffer, 0, size >>> 2);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return out;
}

/** What one run did: user bytes and operations, virtual and wall time, device bytes written. */
interface Run {
  ops: number;
  userBytes: number;
  virtualS: number;
  wallS: number;
  deviceBytes: number;
  deviceReadBytes: number;
  /** fs-log's counters over the run (null for fs-simple). */
  stats: LogFsStats | null;
}

/** Times `work` in virtual and wall-clock time, with the device bytes it wrote and fs-log's counters. */
function timed(r: Rig, work: () => { ops: number; userBytes: number }): Run {
  const sched = r.machine.scheduler;
  const bytes0 = r.device.stats.bytesWritten;
  const read0 = r.device.stats.bytesRead;
  const stats0 = r.log ? { ...r.log.stats } : null;
  const v0 = sched.now;
  const w0 = nowMs();
  const { ops, userBytes } = work();
  const wallS = (nowMs() - w0) / 1e3;
  const virtualS = (sched.now - v0) / SECOND;
  let stats: LogFsStats | null = null;
  if (r.log && stats0) {
    const now = r.log.stats;
    stats = { ...now };
    for (const k of Object.keys(now) as (keyof LogFsStats)[]) stats[k] = now[k] - stats0[k];
  }
  return { ops, userBytes, virtualS, wallS, deviceBytes: r.device.stats.bytesWritten - bytes0, deviceReadBytes: r.device.stats.bytesRead - read0, stats };
}

// ---------------------------------------------------------------------------------------------
// Workloads

/**
 * Creates `n` files in the root directory, each written with 4 KiB and fsynced; with `dirSync`,
 * the directory is fsynced after each file too (fs-simple's fsync of a file, as ext2's, does not
 * make its name durable; fs-log's commit does).
 */
function smallFiles(r: Rig, n: number, dirSync: boolean): Run {
  const fs = r.fs;
  const data = testData(BLOCK, 7);
  return timed(r, () => {
    for (let i = 0; i < n; i++) {
      data[0] = i & 0xff; // no two files alike (neither filesystem looks, but no shortcut is possible)
      const ino = fs.create(fs.rootIno, `f${i}`, 0o644);
      const f = fs.open(ino, O_RDWR);
      try {
        writeAll(fs, f, 0, data);
        fs.fsync(f, false);
      } finally {
        fs.release(f);
      }
      if (dirSync) {
        const d = fs.open(fs.rootIno, O_RDWR);
        try {
          fs.fsync(d, false);
        } finally {
          fs.release(d);
        }
      }
    }
    return { ops: n, userBytes: n * BLOCK };
  });
}

/** Writes a file of `size` bytes in 1 MiB calls and fsyncs it; returns its inode. */
function writeFile(fs: SuperBlock, name: string, size: number, seed: number): number {
  const ino = fs.create(fs.rootIno, name, 0o644);
  const chunk = testData(MiB, seed);
  const f = fs.open(ino, O_RDWR);
  try {
    for (let pos = 0; pos < size; pos += MiB) writeAll(fs, f, pos, chunk.subarray(0, Math.min(MiB, size - pos)));
    fs.fsync(f, false);
  } finally {
    fs.release(f);
  }
  return ino;
}

/**
 * `writes` random 4 KiB-aligned 4 KiB overwrites in batches of {@link FSYNC_EVERY}, each batch in
 * one file drawn from `files` (each `fileBytes` long) and ended by an fsync of that file. The
 * blocks of a batch are distinct, so every user byte reaches the device once (a page overwritten
 * twice before its fsync would be written once, and user bytes would overstate what was asked of
 * the filesystem).
 */
function randomOverwrites(r: Rig, files: readonly number[], fileBytes: number, writes: number, rng: Rng): Run {
  const fs = r.fs;
  const blocks = Math.floor(fileBytes / BLOCK);
  const data = testData(BLOCK, 11);
  const picked = new Set<number>();
  if (blocks < FSYNC_EVERY) throw new Error(`files of ${blocks} blocks cannot take ${FSYNC_EVERY} distinct overwrites`);
  return timed(r, () => {
    for (let done = 0; done < writes; ) {
      const f = fs.open(files[rng.below(files.length)]!, O_RDWR);
      try {
        picked.clear();
        for (let k = 0; k < FSYNC_EVERY && done < writes; k++, done++) {
          let b = rng.below(blocks);
          while (picked.has(b)) b = rng.below(blocks);
          picked.add(b);
          data[0] = done & 0xff;
          writeAll(fs, f, b * BLOCK, data);
        }
        fs.fsync(f, false);
      } finally {
        fs.release(f);
      }
    }
    return { ops: writes, userBytes: writes * BLOCK };
  });
}

/** Blocks in use as statfs counts them, and the total. */
function usage(fs: SuperBlock): { used: number; blocks: number } {
  const st = fs.statfs();
  return { used: st.blocks - st.bfree, blocks: st.blocks };
}

/**
 * Fills the filesystem with {@link WA_FILE} files while one more keeps statfs's used blocks
 * within {@link FILL} of its capacity; returns them.
 */
function fill(r: Rig): number[] {
  const fs = r.fs;
  const perFile = WA_FILE / BLOCK;
  const files: number[] = [];
  for (let u = usage(fs); u.used + perFile <= FILL * u.blocks; u = usage(fs)) files.push(writeFile(fs, `data${files.length}`, WA_FILE, files.length + 1));
  fs.sync();
  return files;
}

// ---------------------------------------------------------------------------------------------
// Rows

function sizeLabel(bytes: number): string {
  return bytes >= MiB ? `${bytes / MiB} MiB` : `${bytes / KiB} KiB`;
}

/** Two rate rows (virtual and wall-clock time) for fs-log beside fs-simple: cost ×peer = peer rate / fs-log rate. */
function rateRows(name: string, unit: string, per: (run: Run) => number, log: Run, simple: Run): Row[] {
  const row = (clock: string, s: (run: Run) => number): Row => {
    const a = per(log) / s(log);
    const b = per(simple) / s(simple);
    return { name: `${name} (${clock})`, value: a, unit, peer: { name: PEER, value: b }, ratio: b / a };
  };
  return [row("virtual", (x) => x.virtualS), row("wall", (x) => x.wallS)];
}

/** A figure where lower is better (a size or a factor): cost ×peer = fs-log / fs-simple. */
function lowerRow(name: string, unit: string, log: number, simple: number): Row {
  return { name, value: log, unit, peer: { name: PEER, value: simple }, ratio: log / simple };
}

function smallFileRows(opts: BenchOptions, dirSync: boolean): Row[] {
  const n = opts.quick ? SMALL_FILES_QUICK : SMALL_FILES;
  // Warm-up of the code paths (wall-clock figures), on throwaway rigs.
  for (const kind of KINDS) smallFiles(makeRig(kind), Math.min(n, 500), dirSync);
  const runs = KINDS.map((kind) => {
    const r = makeRig(kind);
    const run = smallFiles(r, n, dirSync);
    check(r);
    return run;
  });
  const [log, simple] = runs as [Run, Run];
  const name = `create+write 4 KiB+fsync${dirSync ? "+fsync(dir)" : ""}, ${n} files in one dir${opts.quick ? ", quick" : ""}`;
  return [
    ...rateRows(name, "files/s", (x) => x.ops, log, simple),
    lowerRow(`  device bytes written per file`, "KiB", log.deviceBytes / log.ops / KiB, simple.deviceBytes / simple.ops / KiB),
  ];
}

function overwriteRows(opts: BenchOptions): Row[] {
  const size = opts.quick ? OVERWRITE_FILE_QUICK : OVERWRITE_FILE;
  const writes = opts.quick ? OVERWRITES_QUICK : OVERWRITES;
  const setup = (kind: Kind) => {
    const r = makeRig(kind);
    return { r, file: writeFile(r.fs, "big", size, 1) };
  };
  // Warm-up of the code paths (wall-clock figures), on throwaway rigs.
  for (const kind of KINDS) {
    const { r, file } = setup(kind);
    randomOverwrites(r, [file], size, 1024, new Rng(99));
  }
  const runs = KINDS.map((kind) => {
    const { r, file } = setup(kind);
    const run = randomOverwrites(r, [file], size, writes, new Rng(5));
    check(r);
    return run;
  });
  const [log, simple] = runs as [Run, Run];
  const name = `random 4 KiB overwrite, ${sizeLabel(size)} file, fsync/${FSYNC_EVERY}, ${writes} writes${opts.quick ? ", quick" : ""}`;
  return [
    ...rateRows(name, "MiB/s", (x) => x.userBytes / MiB, log, simple),
    lowerRow(`  device bytes / user bytes`, "×", log.deviceBytes / log.userBytes, simple.deviceBytes / simple.userBytes),
  ];
}

function writeAmplificationRows(opts: BenchOptions): Row[] {
  const deviceSize = opts.quick ? DEVICE_SIZE_QUICK : DEVICE_SIZE;
  const warmupWrites = (WA_WARMUP_DEVICES * deviceSize) / BLOCK;
  const measuredWrites = (WA_MEASURED_DEVICES * deviceSize) / BLOCK;
  const results = KINDS.map((kind) => {
    const r = makeRig(kind, deviceSize);
    const files = fill(r);
    const filled = usage(r.fs);
    const rng = new Rng(17);
    // Warm-up: long enough that the free log is used up and the cleaner runs in the measured part.
    const warm = randomOverwrites(r, files, WA_FILE, warmupWrites, rng);
    const run = randomOverwrites(r, files, WA_FILE, measuredWrites, rng);
    check(r);
    return { run, warm, fillPct: (100 * filled.used) / filled.blocks };
  });
  const [log, simple] = results as [(typeof results)[0], (typeof results)[0]];
  const where = `${sizeLabel(deviceSize)} device, ${log.fillPct.toFixed(0)}%/${simple.fillPct.toFixed(0)}% of statfs blocks used` + (opts.quick ? ", quick" : "");
  const volume = `${sizeLabel(measuredWrites * BLOCK)} of random 4 KiB overwrites after ${sizeLabel(warmupWrites * BLOCK)} warm-up`;
  const wa = (x: Run) => x.deviceBytes / x.userBytes;
  const s = log.run.stats!;
  const w = log.warm.stats!;
  const rows: Row[] = [
    lowerRow(`write amplification, ${where}, ${volume}`, "×", wa(log.run), wa(simple.run)),
    lowerRow(`  same, over the warm-up (its start is cleaner-free: the free log runs out part-way)`, "×", wa(log.warm), wa(simple.warm)),
    ...rateRows(`  overwrite throughput in the measured part`, "MiB/s", (x) => x.userBytes / MiB, log.run, simple.run),
    lowerRow(`  device bytes read / user bytes written (measured part)`, "×", log.run.deviceReadBytes / log.run.userBytes, simple.run.deviceReadBytes / simple.run.userBytes),
    { name: `  fs-log segments cleaned (measured part; warm-up: ${w.segmentsCleaned})`, value: s.segmentsCleaned, unit: "segments" },
    { name: `  fs-log blocks moved by the cleaner (measured part; warm-up: ${w.blocksMoved})`, value: s.blocksMoved, unit: "blocks" },
    { name: `  fs-log cleaner runs (measured part; with ${s.checkpoints} checkpoints, ${s.commits} commits)`, value: s.cleanerRuns, unit: "runs" },
  ];
  return rows;
}

export const filesystemsSuite: Suite = {
  name: "filesystems",
  description: `fs-log beside fs-simple (peer), NVMe model, ${sizeLabel(DEVICE_SIZE)} device, ${MACHINE_MEMORY} machine`,
  run: (opts) => [...smallFileRows(opts, false), ...smallFileRows(opts, true), ...overwriteRows(opts), ...writeAmplificationRows(opts)],
};
