/**
 * The measurement behind the choice of transport (docs/FUSE.md): the same trivial filesystem —
 * one file held in a Buffer — served through fuse-native (libfuse 2, a native addon) and through
 * this package's TypeScript implementation of the FUSE protocol over /dev/fuse, and the same fio
 * jobs run on both. The backend costs nothing, so the figures are the transports' own.
 *
 * Run as root with fio installed: `node packages/fuse/dist/tools/compare-transports.js [fuse-native dir]`.
 * fuse-native is not a dependency of this package: pass the directory of an installed copy
 * (`npm install fuse-native@2.2.6` somewhere), or the row is skipped.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FuseChannel } from "../src/channel.js";
import { DT_DIR, DT_REG, type FuseAttr } from "../src/protocol.js";
import { FuseServer, type FuseOps } from "../src/server.js";

const SIZE = 256 << 20;
const data = Buffer.alloc(SIZE, 7);
const NOW = 1_767_225_600_000_000_000;
const fileAttr: FuseAttr = { ino: 2, size: SIZE, blocks: SIZE / 512, atimeNs: NOW, mtimeNs: NOW, ctimeNs: NOW, mode: 0o100644, nlink: 1, uid: 0, gid: 0, blksize: 4096 };
const dirAttr: FuseAttr = { ...fileAttr, ino: 1, size: 4096, blocks: 8, mode: 0o40755, nlink: 2 };
const nope = (): never => { throw Object.assign(new Error("not supported"), { errno: -1 }); };

/** One file, "data", in the root. */
const memOps: FuseOps = {
  lookup: (_c, _p, name) => { if (name !== "data") throw Object.assign(new Error("ENOENT"), { errno: -2 }); return { nodeid: 2, attr: fileAttr }; },
  forget: () => {},
  getattr: (_c, id) => (id === 1 ? dirAttr : fileAttr),
  setattr: (_c, id) => (id === 1 ? dirAttr : fileAttr),
  readlink: nope, symlink: nope, mknod: nope, mkdir: nope, unlink: nope, rmdir: nope, rename: nope, link: nope, create: nope,
  open: () => ({ fh: 1 }),
  read: (_fh, off, size, dst, at) => { const n = Math.max(0, Math.min(size, SIZE - off)); data.copy(dst, at, off, off + n); return n; },
  write: (_fh, off, src, at, size) => { Buffer.from(src.buffer, src.byteOffset + at, size).copy(data, off); return size; },
  flush: () => {}, release: () => {}, fsync: () => {},
  opendir: () => ({ fh: 2 }),
  readdir: (_fh, off, fill) => { const e = [[".", 1, DT_DIR], ["..", 1, DT_DIR], ["data", 2, DT_REG]] as const; for (let i = off; i < e.length; i++) if (!fill(e[i]![0], e[i]![1], e[i]![2], i + 1)) break; },
  releasedir: () => {}, fsyncdir: () => {},
  statfs: () => ({ blocks: SIZE / 4096, bfree: 0, bavail: 0, files: 1, ffree: 0, bsize: 4096, namelen: 255 }),
  syncfs: () => {}, destroy: () => {},
};

interface Job { name: string; rw: string; bs: string }
const JOBS: Job[] = [
  { name: "seq read 1M", rw: "read", bs: "1M" },
  { name: "seq write 1M", rw: "write", bs: "1M" },
  { name: "rand read 4k", rw: "randread", bs: "4k" },
  { name: "rand write 4k", rw: "randwrite", bs: "4k" },
];

/** fio in a child process (this process serves the mount: it must never block on it). */
async function fio(file: string, job: Job): Promise<{ mibs: number; iops: number }> {
  const args = [`--name=t`, `--filename=${file}`, `--size=${SIZE}`, `--rw=${job.rw}`, `--bs=${job.bs}`, "--direct=1", "--ioengine=psync",
    "--runtime=3", "--time_based", "--fallocate=none", "--output-format=json"];
  const { spawn } = await import("node:child_process");
  const out = await new Promise<string>((res, rej) => {
    const c = spawn("fio", args);
    let s = "";
    c.stdout.on("data", (d: Buffer) => (s += d.toString()));
    c.on("close", (code) => (code === 0 ? res(s) : rej(new Error(`fio exited ${code}`))));
  });
  const j = (JSON.parse(out) as { jobs: { read: { bw_bytes: number; iops: number }; write: { bw_bytes: number; iops: number } }[] }).jobs[0]!;
  const side = job.rw.includes("read") ? j.read : j.write;
  return { mibs: side.bw_bytes / (1 << 20), iops: side.iops };
}

/** Results by transport label, then job name: one figure per round. */
const results = new Map<string, Map<string, { mibs: number; iops: number }[]>>();

async function runJobs(label: string, file: string): Promise<void> {
  for (const job of JOBS) {
    const r = await fio(file, job);
    const byJob = results.get(label) ?? new Map<string, { mibs: number; iops: number }[]>();
    results.set(label, byJob);
    byJob.set(job.name, [...(byJob.get(job.name) ?? []), r]);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function report(): void {
  console.log(`${"transport".padEnd(40)} ${JOBS.map((j) => j.name.padStart(14)).join(" ")}`);
  for (const [label, byJob] of results) {
    const cells = JOBS.map((j) => {
      const rs = byJob.get(j.name) ?? [];
      return (j.bs === "4k" ? `${(median(rs.map((r) => r.iops)) / 1000).toFixed(1)}k IOPS` : `${median(rs.map((r) => r.mibs)).toFixed(0)} MiB/s`).padStart(14);
    });
    console.log(`${label.padEnd(40)} ${cells.join(" ")}`);
  }
}

async function viaTs(mnt: string, readers: number, maxWrite: number): Promise<void> {
  const ch = await FuseChannel.open({ mountpoint: mnt, fsname: "memtest", subtype: "memtest", maxWrite, readers, allowOther: false });
  const server = new FuseServer(memOps, (b, l) => ch.reply(b, l), { maxWrite, timeouts: { entry: 1, attr: 1 }, directIo: true });
  const closed = new Promise<void>((r) => ch.start((b, l) => server.handle(b, l), r));
  await runJobs(`TypeScript /dev/fuse, ${readers} read${readers > 1 ? "s" : ""}, ${maxWrite >> 10} KiB max`, join(mnt, "data"));
  await ch.unmount();
  await closed;
}

async function viaFuseNative(dir: string, mnt: string, extra: string): Promise<void> {
  const Fuse = createRequire(join(dir, "package.json"))("fuse-native") as new (mnt: string, ops: object, opts: object) => { mount(cb: (e?: Error) => void): void; unmount(cb: (e?: Error) => void): void };
  // fuse-native takes times as Date objects; the epoch is as good as any for a benchmark.
  // eslint-disable-next-line no-restricted-globals
  const epoch = new Date(0);
  const st = (a: FuseAttr) => ({ mtime: epoch, atime: epoch, ctime: epoch, nlink: a.nlink, size: a.size, mode: a.mode, uid: 0, gid: 0 });
  const ops = {
    readdir: (_p: string, cb: (e: number, n?: string[]) => void) => cb(0, ["data"]),
    getattr: (p: string, cb: (e: number, s?: object) => void) => (p === "/" ? cb(0, st(dirAttr)) : p === "/data" ? cb(0, st(fileAttr)) : cb(-2)),
    open: (_p: string, _f: number, cb: (e: number, fd: number) => void) => cb(0, 42),
    release: (_p: string, _fd: number, cb: (e: number) => void) => cb(0),
    read: (_p: string, _fd: number, buf: Buffer, len: number, pos: number, cb: (n: number) => void) => { const n = Math.max(0, Math.min(len, SIZE - pos)); data.copy(buf, 0, pos, pos + n); cb(n); },
    write: (_p: string, _fd: number, buf: Buffer, len: number, pos: number, cb: (n: number) => void) => { buf.copy(data, pos, 0, len); cb(len); },
    truncate: (_p: string, _s: number, cb: (e: number) => void) => cb(0),
  };
  // fuse-native passes only the options it knows; an extra libfuse option rides on fsname's value.
  const f = new Fuse(mnt, ops, { fsname: `memtest${extra}` });
  await new Promise<void>((res, rej) => f.mount((e) => (e ? rej(e) : res())));
  await runJobs(`fuse-native 2.2.6${extra === "" ? "" : ` -o ${extra.slice(1)}`}`, join(mnt, "data"));
  await new Promise<void>((res) => f.unmount(() => res()));
}

async function main(): Promise<void> {
  if (spawnSync("fio", ["--version"]).status !== 0) throw new Error("fio is not installed");
  const mnt = mkdtempSync(join(tmpdir(), "fuse-cmp-"));
  mkdirSync(mnt, { recursive: true });
  try {
    console.log(`one ${SIZE >> 20} MiB file in a Buffer; fio --direct=1 --ioengine=psync, 3 s per job, median of 3 rounds with the transports interleaved; Linux ${execFileSync("uname", ["-r"]).toString().trim()}`);
    const dir = process.argv[2];
    for (let round = 0; round < 3; round++) {
      await viaTs(mnt, 1, 1 << 20);
      await viaTs(mnt, 2, 1 << 20);
      await viaTs(mnt, 2, 128 << 10);
      if (dir !== undefined) {
        await viaFuseNative(dir, mnt, "");
        await viaFuseNative(dir, mnt, ",big_writes,direct_io");
      }
    }
    if (dir === undefined) console.log("fuse-native: skipped (pass the directory of an installed fuse-native)");
    report();
  } finally {
    rmSync(mnt, { recursive: true, force: true });
  }
}

await main();
