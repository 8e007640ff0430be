/**
 * Suite "fs": the whole stack a program sees — Node's fs API (createNodeFs) over the VFS over
 * fs-simple over the page cache over a simulated device whose blocks live in a memfs file —
 * beside memfs's own API on the same data, measured in the same run:
 *
 * - cached 4 KiB random reads of a 64 MiB file, sync (readSync on a descriptor opened once)
 *   beside memfs readSync, and promise (FileHandle.read) beside memfs's FileHandle.read, at the
 *   same precomputed seeded offsets; one await at a time (the loop shape of the sync rows), and,
 *   without a goal, 32 reads in flight;
 * - without a goal, statSync of a 4-component path beside memfs statSync (the path walk);
 * - cold readFileSync of a 256 MiB file (32 MiB with --quick) on a fresh mount, beside memfs
 *   readFileSync of a 256 MiB file: wall-clock throughput, and the device read requests it took.
 */
import { Volume } from "memfs";
import { Machine, PAGE_SIZE, Rng } from "@folio/core";
import { MemfsStore, SimDevice } from "@folio/pagecache";
import type { MountOptions } from "@folio/fs-api";
import { SimpleFs } from "@folio/fs-simple";
import { Vfs, createNodeFs, type FileHandle, type NodeFs } from "@folio/vfs";
import {
  type AsyncRateCase, type BenchOptions, type Row, type Stat, type Suite, measureDuration, measureRates, measureRatesAsync,
} from "./harness.js";
import { testData } from "./pagecache.js";
import { type Cursor, folioReadSync, memfsReadSync } from "./read-loops.js";

const KiB = 1024;
const MiB = 1024 * KiB;
/** Size of the file read from the cache. */
const CACHED_SIZE = 64 * MiB;
/** Size of the file read cold (32 MiB with --quick). */
const COLD_SIZE = 256 * MiB;
const COLD_SIZE_QUICK = 32 * MiB;
/** Bytes per read call in the random cases. */
const RANDOM_CHUNK = 4 * KiB;
/** Random offsets precomputed (a power of two, so the loop wraps with a mask). */
const NR_OFFSETS = 1 << 16;
/** Reads in flight in the concurrent promise rows. */
const IN_FLIGHT = 32;
/** Goal: cached random reads at least as fast as memfs, sync beside sync and promise beside promise. */
const MIN_RANDOM_FRACTION = 1;

type MemfsHandle = Awaited<ReturnType<Volume["promises"]["open"]>>;

// ---------------------------------------------------------------------------------------------
// The system under test

/** A machine with fs-simple mounted on "/" from a memfs-backed SimDevice (instant model), through the VFS. */
interface FolioFs {
  machine: Machine;
  vfs: Vfs;
  fs: NodeFs;
  device: SimDevice;
  store: MemfsStore;
  mountOptions: MountOptions;
}

/** Boots `memory`, formats an image with room for `fileBytes` of data, and mounts it. */
function bootFs(memory: string, fileBytes: number, mountOptions: MountOptions = {}): FolioFs {
  const machine = Machine.boot({ memory, seed: 1 });
  const vfs = new Vfs(machine);
  const store = new MemfsStore({ size: Math.ceil((fileBytes * 1.05) / MiB) * MiB + 8 * MiB });
  const device = new SimDevice(store, machine.scheduler);
  SimpleFs.mkfs({ device, scheduler: machine.scheduler, machine }, { inodes: 256 });
  vfs.mount("/", "simple", { device, options: mountOptions });
  return { machine, vfs, fs: createNodeFs(vfs), device, store, mountOptions };
}

/** Unmounts (writing everything back, dropping the page cache) and mounts again: the next reads are cold. */
function remount(f: FolioFs): void {
  f.vfs.umount("/");
  f.vfs.mount("/", "simple", { device: f.device, options: f.mountOptions });
}

/** Writes `data` to `path` (creating its directory) in 1 MiB writeSync calls, fsyncs and closes. */
function writeWhole(f: FolioFs, path: string, data: Buffer): void {
  // A file in the root needs no mkdir (mkdirSync("") is ENOENT, as in node:fs).
  const dir = path.slice(0, path.lastIndexOf("/"));
  if (dir !== "") f.fs.mkdirSync(dir, { recursive: true });
  const fd = f.fs.openSync(path, "w");
  for (let pos = 0; pos < data.length; pos += MiB) f.fs.writeSync(fd, data, pos, Math.min(MiB, data.length - pos), pos);
  f.fs.fsyncSync(fd);
  f.fs.closeSync(fd);
}

function check(m: Machine): void {
  const problems = m.verify();
  if (problems.length > 0) throw new Error(`machine inconsistent after benchmark: ${problems.slice(0, 5).join("; ")}`);
}

// ---------------------------------------------------------------------------------------------
// Measured loops. Folio's loop and its peer's have the same shape: one read call at the next
// precomputed offset, the byte count folded into `sink`. `at.pos` carries the offset index from
// batch to batch. Each case has its own function so its call sites' type feedback is its own
// (the readSync loops are in read-loops.ts, shared with other suites).

async function folioPromise(fh: FileHandle, dst: Buffer, offsets: Int32Array, at: Cursor, n: number): Promise<number> {
  const len = dst.length;
  const mask = offsets.length - 1;
  let k = at.pos;
  let sink = 0;
  for (let i = 0; i < n; i++) {
    sink = (sink + (await fh.read(dst, 0, len, offsets[k]!)).bytesRead) | 0;
    k = (k + 1) & mask;
  }
  at.pos = k;
  return sink;
}

async function memfsPromise(fh: MemfsHandle, dst: Buffer, offsets: Int32Array, at: Cursor, n: number): Promise<number> {
  const len = dst.length;
  const mask = offsets.length - 1;
  let k = at.pos;
  let sink = 0;
  for (let i = 0; i < n; i++) {
    sink = (sink + (await fh.read(dst, 0, len, offsets[k]!)).bytesRead) | 0;
    k = (k + 1) & mask;
  }
  at.pos = k;
  return sink;
}

/** n reads, IN_FLIGHT at a time (each into its own buffer), awaited together. */
async function folioPromiseBatch(fh: FileHandle, dsts: Buffer[], offsets: Int32Array, at: Cursor, n: number): Promise<number> {
  const mask = offsets.length - 1;
  let k = at.pos;
  let sink = 0;
  for (let i = 0; i < n; i += IN_FLIGHT) {
    const reads: Promise<{ bytesRead: number }>[] = [];
    for (let j = 0; j < IN_FLIGHT && i + j < n; j++) {
      reads.push(fh.read(dsts[j]!, 0, RANDOM_CHUNK, offsets[k]!));
      k = (k + 1) & mask;
    }
    for (const r of await Promise.all(reads)) sink = (sink + r.bytesRead) | 0;
  }
  at.pos = k;
  return sink;
}

async function memfsPromiseBatch(fh: MemfsHandle, dsts: Buffer[], offsets: Int32Array, at: Cursor, n: number): Promise<number> {
  const mask = offsets.length - 1;
  let k = at.pos;
  let sink = 0;
  for (let i = 0; i < n; i += IN_FLIGHT) {
    const reads: Promise<{ bytesRead: number }>[] = [];
    for (let j = 0; j < IN_FLIGHT && i + j < n; j++) {
      reads.push(fh.read(dsts[j]!, 0, RANDOM_CHUNK, offsets[k]!));
      k = (k + 1) & mask;
    }
    for (const r of await Promise.all(reads)) sink = (sink + r.bytesRead) | 0;
  }
  at.pos = k;
  return sink;
}

function folioStat(fs: NodeFs, path: string, n: number): number {
  let sink = 0;
  for (let i = 0; i < n; i++) sink = (sink + fs.statSync(path).size) | 0;
  return sink;
}

function memfsStat(vol: Volume, path: string, n: number): number {
  let sink = 0;
  for (let i = 0; i < n; i++) sink = (sink + Number(vol.statSync(path).size)) | 0;
  return sink;
}

// ---------------------------------------------------------------------------------------------
// Rows

/** A throughput row whose goal, if any, is a minimum fraction of the peer's throughput. */
function fractionRow(name: string, unit: string, folio: Stat, peerName: string, peer: Stat, minFraction?: number): Row {
  const row: Row = {
    name,
    value: folio.median,
    unit,
    peer: { name: peerName, value: peer.median },
    ratio: peer.median / folio.median,
    spread: Math.max(folio.spread, peer.spread),
  };
  if (minFraction !== undefined) {
    row.goal = `≥ ${minFraction}× peer throughput`;
    row.pass = folio.median >= minFraction * peer.median;
  }
  return row;
}

/** Cached random reads (sync and promise) and the path walk, beside memfs on the same data. */
async function cachedRows(opts: BenchOptions): Promise<Row[]> {
  const path = "/data/set/one/file.bin";
  const flat = testData(CACHED_SIZE, 1);
  // Small folios, explicitly (the mount's default is large folios): the row compares per-page hits.
  const f = bootFs("256MiB", CACHED_SIZE, { maxOrder: 0 });
  writeWhole(f, path, flat);
  remount(f); // an empty cache, then one whole read: every page is cached, from the device
  if (!f.fs.readFileSync(path).equals(flat)) throw new Error("fs-simple returned wrong data");
  const reads = f.device.stats.reads;

  const vol = new Volume();
  vol.mkdirSync("/data/set/one", { recursive: true });
  vol.writeFileSync(path, flat);

  const rng = new Rng(42);
  const offsets = new Int32Array(NR_OFFSETS);
  for (let i = 0; i < NR_OFFSETS; i++) offsets[i] = rng.below(CACHED_SIZE / RANDOM_CHUNK) * RANDOM_CHUNK;

  const fd = f.fs.openSync(path, "r");
  const vfd = vol.openSync(path, "r");
  const fh = await f.fs.promises.open(path, "r");
  const vfh = await vol.promises.open(path, "r");
  const dst = Buffer.alloc(RANDOM_CHUNK);
  const dsts = Array.from({ length: IN_FLIGHT }, () => Buffer.alloc(RANDOM_CHUNK));
  const [cSync, cSyncPeer, cProm, cPromPeer, cBatch, cBatchPeer] = [0, 0, 0, 0, 0, 0].map((pos) => ({ pos }));
  const syncF = (n: number) => folioReadSync(f.fs, fd, dst, offsets, cSync, n);
  const syncP = (n: number) => memfsReadSync(vol, vfd, dst, offsets, cSyncPeer, n);
  const promF = (n: number) => folioPromise(fh, dst, offsets, cProm, n);
  const promP = (n: number) => memfsPromise(vfh, dst, offsets, cPromPeer, n);
  const batchF = (n: number) => folioPromiseBatch(fh, dsts, offsets, cBatch, n);
  const batchP = (n: number) => memfsPromiseBatch(vfh, dsts, offsets, cBatchPeer, n);
  if (syncF(1) !== RANDOM_CHUNK || syncP(1) !== RANDOM_CHUNK || (await promF(1)) !== RANDOM_CHUNK || (await promP(1)) !== RANDOM_CHUNK) {
    throw new Error("a read returned a short count");
  }

  // The same file on a default mount (large folios, as the write path and readahead size them).
  const g = bootFs("256MiB", CACHED_SIZE);
  writeWhole(g, path, flat);
  remount(g);
  if (!g.fs.readFileSync(path).equals(flat)) throw new Error("fs-simple (default mount) returned wrong data");
  const gfd = g.fs.openSync(path, "r");
  const cSyncDefault = { pos: 0 };
  const syncG = (n: number) => folioReadSync(g.fs, gfd, dst, offsets, cSyncDefault, n);

  const rows: Row[] = [];
  const file = `${CACHED_SIZE / MiB} MiB file, fs-simple order-0 folios`;
  {
    const [a, d, b] = measureRates([{ name: "folio", run: syncF }, { name: "folio default", run: syncG }, { name: "peer", run: syncP }], opts);
    rows.push(fractionRow(`cached 4 KiB random readSync, ${CACHED_SIZE / MiB} MiB file, fs-simple default mount (large folios)`, "reads/s", d!, "memfs readSync 4 KiB, same offsets", b!, MIN_RANDOM_FRACTION));
    rows.push(fractionRow(`cached 4 KiB random readSync, ${file}`, "reads/s", a!, "memfs readSync 4 KiB, same offsets", b!));
  }
  {
    const cases: AsyncRateCase[] = [{ name: "folio", run: promF }, { name: "peer", run: promP }];
    const [a, b] = await measureRatesAsync(cases, opts);
    rows.push(fractionRow(`cached 4 KiB random FileHandle.read, 1 at a time`, "reads/s", a!, "memfs FileHandle.read, same offsets", b!, MIN_RANDOM_FRACTION));
  }
  {
    const cases: AsyncRateCase[] = [{ name: "folio", run: batchF }, { name: "peer", run: batchP }];
    const [a, b] = await measureRatesAsync(cases, opts);
    rows.push(fractionRow(`cached 4 KiB random FileHandle.read, ${IN_FLIGHT} in flight`, "reads/s", a!, `memfs FileHandle.read, ${IN_FLIGHT} in flight`, b!));
  }
  {
    const [a, b] = measureRates([{ name: "folio", run: (n) => folioStat(f.fs, path, n) }, { name: "peer", run: (n) => memfsStat(vol, path, n) }], opts);
    rows.push(fractionRow(`statSync ${path} (path walk, dentries cached)`, "calls/s", a!, "memfs statSync, same path", b!));
  }

  // Hits must stay hits, and return the file's bytes.
  if (f.device.stats.reads !== reads) throw new Error("a cached read went to the device");
  for (let i = 0; i < 64; i++) {
    const pos = offsets[i]!;
    folioReadSync(f.fs, fd, dst, offsets, { pos: i }, 1);
    if (!dst.equals(flat.subarray(pos, pos + RANDOM_CHUNK))) throw new Error(`cached read at ${pos} returned wrong data`);
  }
  await fh.close();
  await vfh.close();
  f.fs.closeSync(fd);
  vol.closeSync(vfd);
  f.vfs.umount("/");
  check(f.machine);
  f.store.close();
  return rows;
}

/**
 * Cold readFileSync of a whole file on a fresh mount (mounted untimed before each read), beside
 * memfs readFileSync of a file of the same size; with small folios (maxOrder 0) and with the
 * default mount (large folios, up to maxOrder 9, which fs-simple reads with one request per run
 * of blocks).
 */
function coldRows(opts: BenchOptions): Row[] {
  const size = opts.quick ? COLD_SIZE_QUICK : COLD_SIZE;
  const label = `${size / MiB} MiB${opts.quick ? " (--quick)" : ""}`;
  const path = "/cold.bin";
  const data = testData(size, 3);
  const vol = new Volume();
  vol.writeFileSync(path, data);
  const peer = measureDuration(() => vol.readFileSync(path).length, opts);
  const peerMiBps = size / MiB / (peer.median / 1000);

  const f = bootFs(`${Math.max(512, (2 * size) / MiB)}MiB`, size);
  writeWhole(f, path, data);
  const rows: Row[] = [];
  for (const [what, options] of [["maxOrder 0 (order-0 folios)", { maxOrder: 0 }], ["default mount (maxOrder 9)", {}]] as const) {
    f.mountOptions = options;
    let requests = 0;
    let bytes = 0;
    const op = () => {
      const before = f.device.stats.snapshot();
      const n = f.fs.readFileSync(path).length;
      requests = f.device.stats.reads - before.reads;
      bytes = f.device.stats.bytesRead - before.bytesRead;
      return n;
    };
    const folio = measureDuration(op, opts, () => remount(f));
    // The last read is checked against the data (outside the timing).
    remount(f);
    if (!f.fs.readFileSync(path).equals(data)) throw new Error(`cold read (${what}) returned wrong data`);
    const mibps = size / MiB / (folio.median / 1000);
    rows.push({
      name: `cold readFileSync ${label}, fresh mount, memfs device, ${what}`,
      value: mibps,
      unit: "MiB/s wall",
      peer: { name: `memfs readFileSync ${label}`, value: peerMiBps },
      ratio: peerMiBps / mibps,
      spread: Math.max(folio.spread, peer.spread),
    });
    rows.push({
      name: `  device read requests, ${what} (${(bytes / requests / KiB).toFixed(1)} KiB each)`,
      value: requests,
      unit: "requests",
      peer: { name: "pages of the file", value: size / PAGE_SIZE },
      ratio: requests / (size / PAGE_SIZE),
    });
  }
  f.vfs.umount("/");
  check(f.machine);
  f.store.close();
  return rows;
}

export const fsSuite: Suite = {
  name: "fs",
  description: "Node's fs API over the VFS and fs-simple on a memfs-backed device, beside memfs's own API on the same data",
  run: async (opts) => [...(await cachedRows(opts)), ...coldRows(opts)],
};
