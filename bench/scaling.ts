/**
 * Suite "scaling": how Folio's costs grow with the simulated machine's memory (64 MiB to 4 GiB)
 * and with the number of files on a mounted filesystem (1 to 100,000), every figure beside a peer
 * measured in the same run, and the curves plotted by the report (log x axes).
 *
 * Memory size, at 64 MiB, 256 MiB, 1 GiB and 4 GiB:
 * - boot time, beside allocating and filling a 15 B/frame `Uint8Array` (the struct page table's
 *   size) — both grow with memory; the question is whether the ratio does;
 * - bookkeeping bytes per frame after boot, beside an `Int32Array` free stack of the same frames;
 * - order-0 `allocPages`+`freePages` pairs, beside that free stack's alloc+free;
 * - cached 4 KiB random `readSync` of a 32 MiB fs-simple file (order-0 folios), beside memfs
 *   `readSync` at the same offsets;
 * - sequential reads of sparse files with the page cache full, so that every page read reclaims
 *   one (order-0 folios: the LRU holds one entry per page, a million at 4 GiB), beside the same
 *   read on the same machine while memory is still free;
 * - a full compaction pass (`compact({ order: -1 })`) with an eighth of memory in anonymous pages
 *   scattered one in eight frames, per page migrated, beside copying as many 4 KiB pages.
 *
 * File count, 1 to 100,000 files of 4 KiB in directories of 100, fs-simple on a memfs-backed
 * device through the VFS and Node's fs API, beside memfs's API building the same tree: create,
 * stat, cached read, umount (which writes everything back and drops the caches) and stat after a
 * fresh mount, per file, and resident memory per file.
 *
 * With --quick: read-under-pressure rows stop at 1 GiB and the file counts at 10,000 (the report
 * says so); everything else is the same, with shorter samples and fewer rounds.
 */
import { Volume } from "memfs";
import { Gfp, Machine, MemdescType, PAGE_SIZE, Rng, SECTION_FRAME_SHIFT } from "@folio/core";
import { MemfsStore, SimDevice } from "@folio/pagecache";
import { SimpleFs } from "@folio/fs-simple";
import { Vfs, createNodeFs, type NodeFs } from "@folio/vfs";
import { StackAllocator, order0Pairs, peerPairs } from "./core.js";
import {
  type BenchOptions, type PlotSpec, type Row, type Stat, type Suite, type SuiteOutcome,
  consume, fullGc, measureDuration, measureRates, measureRetained, nowMs, rateRow, retainedBytes, stat,
} from "./harness.js";
import { testData } from "./pagecache.js";
import { folioReadSync, memfsReadSync } from "./read-loops.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/** Machine sizes of the memory axis, in MiB. */
const MEMORY_MIB = [64, 256, 1024, 4096];
/** --quick measures reads under pressure up to this size: filling 4 GiB alone would take most of a quick run. */
const QUICK_PRESSURE_MAX_MIB = 1024;
/** File counts of the file axis. */
const FILE_COUNTS = [1, 10, 100, 1000, 10_000, 100_000];
/** --quick stops the file axis here (100,000 files take about 40 s). */
const QUICK_MAX_FILES = 10_000;
/** Files per directory: fs-simple's directories are linear lists (ext2 without dir_index), so a tree, not one directory of 100,000. */
const FILES_PER_DIR = 100;
const FILE_BYTES = 4 * KiB;
/** Every file axis machine: room for 100,000 cached files (400 MiB) and their metadata. */
const FILES_MACHINE = "1GiB";
/** The cached file of the cached-read rows. */
const CACHED_FILE = 32 * MiB;
const RANDOM_CHUNK = 4 * KiB;
/** Random offsets precomputed (a power of two, so the loops wrap with a mask). */
const NR_OFFSETS = 1 << 16;
/** Sparse files read under pressure: each this long (fs-simple files end at 4 GiB + 4 MiB). */
const SPARSE_FILE = GiB;
/** One in this many frames holds an anonymous page before the compaction pass. */
const SCATTER = 8;

const PEER_STACK = "Int32Array free stack";

function sizeLabel(mib: number): string {
  return mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`;
}

function filesLabel(n: number): string {
  return `${n.toLocaleString("en-US")} file${n === 1 ? "" : "s"}`;
}

/** The benchmark must leave the machine consistent; a broken allocator makes fast numbers meaningless. */
function check(m: Machine): void {
  const problems = m.verify();
  if (problems.length > 0) throw new Error(`machine inconsistent after benchmark: ${problems.slice(0, 5).join("; ")}`);
}

/** A row of two costs (times or sizes): ratio = Folio / peer; a spread only when both are medians of several samples. */
function costRow(name: string, unit: string, folio: Stat, peerName: string, peer: Stat, point: Row["point"]): Row {
  const row: Row = { name, value: folio.median, unit, peer: { name: peerName, value: peer.median }, ratio: folio.median / peer.median, point };
  if (folio.samples.length > 1 && peer.samples.length > 1) row.spread = Math.max(folio.spread, peer.spread);
  return row;
}

/**
 * Writes every section of the machine's simulated RAM once, so that the host's first-touch page
 * faults (seconds per GiB on some virtual machines) land here, untimed, rather than in whichever
 * figure first uses a frame.
 */
function prefault(m: Machine): void {
  for (let pfn = 0; pfn < m.frames; pfn += 1 << SECTION_FRAME_SHIFT) m.memory.sectionOf(pfn).fill(0);
}

/** fs-simple mounted on "/" of a machine's VFS, on a memfs-backed device. */
interface Mounted {
  machine: Machine;
  vfs: Vfs;
  fs: NodeFs;
  device: SimDevice;
  store: MemfsStore;
  options: { maxOrder?: number };
}

/** Formats a device of `imageBytes` (rounded up to MiB) with `inodes` inodes and mounts it on "/" of a new VFS over `machine`. */
function mountFresh(machine: Machine, imageBytes: number, inodes: number, options: { maxOrder?: number } = {}): Mounted {
  const vfs = new Vfs(machine);
  const store = new MemfsStore({ size: Math.ceil(imageBytes / MiB) * MiB });
  const device = new SimDevice(store, machine.scheduler);
  SimpleFs.mkfs({ device, scheduler: machine.scheduler, machine }, { inodes });
  vfs.mount("/", "simple", { device, options });
  return { machine, vfs, fs: createNodeFs(vfs), device, store, options };
}

/** Unmounts, checks the machine and closes the image. */
function unmountAndCheck(f: Mounted): void {
  f.vfs.umount("/");
  check(f.machine);
  f.store.close();
}

// ---------------------------------------------------------------------------------------------
// Memory size

function bootRows(opts: BenchOptions): Row[] {
  const rows: Row[] = [];
  for (const mib of MEMORY_MIB) {
    const memory = mib * MiB;
    const frames = memory / PAGE_SIZE;
    const boot = measureDuration(() => Machine.boot({ memory }).frames, opts);
    const table = measureDuration(() => new Uint8Array(frames * 15).fill(0xff)[frames]!, opts);
    rows.push(costRow(`boot, ${sizeLabel(mib)}`, "ms", boot, "Uint8Array(frames×15).fill", table, { axis: "memory", curve: "boot", x: mib }));
  }
  return rows;
}

function bookkeepingRows(opts: BenchOptions): Row[] {
  const rows: Row[] = [];
  for (const mib of MEMORY_MIB) {
    const frames = (mib * MiB) / PAGE_SIZE;
    // What a booted machine retains, less the simulated RAM's own section buffers.
    const kept = measureRetained(() => Machine.boot({ memory: mib * MiB }), opts, (m) => m.memory.allocatedBytes);
    const peer = measureRetained(() => new StackAllocator(frames), opts);
    const perFrame = (s: Stat): Stat => stat(s.samples.map((b) => b / frames));
    rows.push(costRow(`bookkeeping per frame, ${sizeLabel(mib)}`, "B/frame", perFrame(kept), PEER_STACK, perFrame(peer), { axis: "memory", curve: "bookkeeping", x: mib }));
  }
  return rows;
}

function allocRows(opts: BenchOptions): Row[] {
  const rows: Row[] = [];
  for (const mib of MEMORY_MIB) {
    const m = Machine.boot({ memory: mib * MiB });
    const peer = new StackAllocator(m.frames);
    const [f, p] = measureRates([{ name: "folio", run: (n) => order0Pairs(m, n) }, { name: "peer", run: (n) => peerPairs(peer, n) }], opts);
    const row = rateRow(`order-0 alloc+free, ${sizeLabel(mib)}`, "pairs/s", f!, PEER_STACK, p!);
    row.point = { axis: "memory", curve: "alloc+free", x: mib, rate: true };
    rows.push(row);
    check(m);
  }
  return rows;
}

function cachedReadRows(opts: BenchOptions): Row[] {
  const path = "/cached.bin";
  const data = testData(CACHED_FILE, 5);
  const vol = new Volume();
  vol.writeFileSync(path, data);
  const vfd = vol.openSync(path, "r");
  const rng = new Rng(42);
  const offsets = new Int32Array(NR_OFFSETS);
  for (let i = 0; i < NR_OFFSETS; i++) offsets[i] = rng.below(CACHED_FILE / RANDOM_CHUNK) * RANDOM_CHUNK;
  const dst = Buffer.alloc(RANDOM_CHUNK);
  const rows: Row[] = [];
  for (const mib of MEMORY_MIB) {
    const f = mountFresh(Machine.boot({ memory: mib * MiB, seed: 1 }), CACHED_FILE + 16 * MiB, 64, { maxOrder: 0 });
    const fd = f.fs.openSync(path, "w+");
    for (let pos = 0; pos < CACHED_FILE; pos += MiB) f.fs.writeSync(fd, data, pos, MiB, pos);
    f.fs.fsyncSync(fd);
    // Every page cached, then no read may reach the device.
    if (!f.fs.readFileSync(path).equals(data)) throw new Error("fs-simple returned wrong data");
    const reads = f.device.stats.reads;
    const [a, b] = [{ pos: 0 }, { pos: 0 }];
    const [folio, peer] = measureRates([
      { name: "folio", run: (n) => folioReadSync(f.fs, fd, dst, offsets, a, n) },
      { name: "peer", run: (n) => memfsReadSync(vol, vfd, dst, offsets, b, n) },
    ], opts);
    if (f.device.stats.reads !== reads) throw new Error("a cached read went to the device");
    const row = rateRow(`cached 4 KiB random readSync, ${CACHED_FILE / MiB} MiB file (order-0 folios), ${sizeLabel(mib)}`, "reads/s", folio!, "memfs readSync, same offsets", peer!);
    row.point = { axis: "memory", curve: "cached read", x: mib, rate: true };
    rows.push(row);
    f.fs.closeSync(fd);
    unmountAndCheck(f);
  }
  vol.closeSync(vfd);
  return rows;
}

/** Reads sparse files from start to end, a 1 MiB readSync at a time, across as many files as it is given. */
class SparseReader {
  private file = 0;
  private pos = 0;
  private fd: number;
  private readonly buf = Buffer.alloc(MiB);

  constructor(private readonly fs: NodeFs, private readonly paths: readonly string[]) {
    this.fd = fs.openSync(paths[0]!, "r");
  }

  /** Reads the next `pages` pages; returns the bytes read. Throws once every file has been read. */
  read(pages: number): number {
    let left = pages * PAGE_SIZE;
    let total = 0;
    while (left > 0) {
      if (this.pos >= SPARSE_FILE) {
        this.fs.closeSync(this.fd);
        if (++this.file >= this.paths.length) throw new Error("sparse reader: ran out of files (the fill never met reclaim)");
        this.pos = 0;
        this.fd = this.fs.openSync(this.paths[this.file]!, "r");
      }
      const n = this.fs.readSync(this.fd, this.buf, 0, Math.min(this.buf.length, left, SPARSE_FILE - this.pos), this.pos);
      this.pos += n;
      left -= n;
      total += n;
    }
    return total;
  }

  close(): void {
    this.fs.closeSync(this.fd);
  }
}

function reclaimed(m: Machine): number {
  const v = m.vmstat.toObject();
  return v["pgsteal_kswapd"]! + v["pgsteal_direct"]!;
}

/** µs per page of reads on free memory and with the cache full, on one fresh machine of `mib`, and pages reclaimed per page read when full. */
function pressureAt(mib: number, samples: number): { free: number[]; full: number[]; reclaimedPerPage: number } {
  const m = Machine.boot({ memory: mib * MiB, seed: 1 });
  prefault(m);
  const f = mountFresh(m, 16 * MiB, 64, { maxOrder: 0 });
  // Enough sparse file to fill memory, then read every sample; no data blocks, so no device reads.
  // Windows long enough to time through a GC pause or two, few enough that the free ones fit under the watermarks.
  const window = Math.max(1024, m.frames / 16);
  const files = Math.ceil((mib * MiB + (2 * samples + 4) * window * PAGE_SIZE) / SPARSE_FILE) + 1;
  const paths = Array.from({ length: files }, (_, i) => `/sparse${i}`);
  for (const p of paths) {
    f.fs.writeFileSync(p, "");
    f.fs.truncateSync(p, SPARSE_FILE);
  }
  const reader = new SparseReader(f.fs, paths);
  const timeWindow = (): number => {
    const t0 = nowMs();
    consume(reader.read(window));
    return ((nowMs() - t0) * 1000) / window;
  };
  reader.read(window); // the read path's first pages, untimed
  const free: number[] = [];
  for (let s = 0; s < samples; s++) free.push(timeWindow());
  if (reclaimed(m) !== 0) throw new Error(`reads on free memory (${sizeLabel(mib)}) reclaimed pages: the windows are too large`);
  // Fill until reclaim runs, then one more window so that it runs steadily.
  for (let i = 0; reclaimed(m) === 0; i++) {
    if (i > (2 * m.frames) / window) throw new Error(`reading ${sizeLabel(mib)} twice over never started reclaim`);
    reader.read(window);
  }
  reader.read(window);
  const full: number[] = [];
  const before = reclaimed(m);
  for (let s = 0; s < samples; s++) full.push(timeWindow());
  const reclaimedPerPage = (reclaimed(m) - before) / (samples * window);
  reader.close();
  unmountAndCheck(f);
  return { free, full, reclaimedPerPage };
}

/**
 * Reads under pressure at each size: µs per page with the cache full (each page read needs one
 * reclaimed) beside µs per page of the same read while memory is free, on the same machine.
 */
function pressureRows(opts: BenchOptions, notes: string[]): Row[] {
  const rows: Row[] = [];
  const perPage: string[] = [];
  // One pass on the smallest machine first, untimed, so that the first size does not pay for the JIT's warm-up.
  pressureAt(MEMORY_MIB[0]!, 2);
  for (const mib of MEMORY_MIB) {
    if (opts.quick && mib > QUICK_PRESSURE_MAX_MIB) continue;
    const r = pressureAt(mib, opts.samples);
    perPage.push(`${sizeLabel(mib)} ${r.reclaimedPerPage.toFixed(2)}`);
    rows.push(costRow(`sequential read with the cache full (each page reclaims one), order-0 folios, ${sizeLabel(mib)}`, "µs/page", stat(r.full),
      "same read, memory free", stat(r.free), { axis: "memory", curve: "read, cache full", x: mib }));
    fullGc(); // let this machine's simulated RAM go before the next one takes more
  }
  notes.push(`Read under pressure: sparse files read sequentially in windows of max(1,024 pages, 1/16 of memory), simulated RAM written once beforehand so that ` +
    `no figure pays the host's first-touch faults; pages reclaimed per page read with the cache full: ${perPage.join(", ")}.`);
  if (opts.quick) notes.push(`--quick: read under pressure measured up to ${sizeLabel(QUICK_PRESSURE_MAX_MIB)} only (a full run goes to ${sizeLabel(MEMORY_MIB.at(-1)!)}).`);
  return rows;
}

/**
 * A machine with one frame in {@link SCATTER} holding an anonymous page, spread evenly: every frame
 * taken, one in eight given back and faulted in as anonymous memory, the rest freed.
 */
function scatteredMachine(mib: number): { m: Machine; anonPages: number } {
  // No proactive compaction: the pass measured must find the memory as it was made.
  const m = Machine.boot({ memory: mib * MiB, seed: 1, compactionProactiveness: 0 });
  const taken: number[] = [];
  for (;;) {
    const pfn = m.pages.tryAllocPages(0, Gfp.Movable | Gfp.NoRetry, MemdescType.Folio, 1);
    if (pfn < 0) break;
    taken.push(pfn);
  }
  const keep: number[] = [];
  let holes = 0;
  for (const pfn of taken) {
    if (pfn % SCATTER === 0) {
      m.pages.freePages(pfn, 0);
      holes++;
    } else keep.push(pfn);
  }
  const region = m.anon.createRegion("scattered", holes * PAGE_SIZE);
  let anonPages = 0;
  try {
    for (; anonPages < holes; anonPages++) region.faultIn(anonPages, true);
  } catch (e) {
    // The last few holes are below the watermarks: the allocator keeps them.
    if ((e as { code?: string }).code !== "ENOMEM") throw e;
  }
  for (const pfn of keep) m.pages.freePages(pfn, 0);
  return { m, anonPages };
}

/** One full compaction pass over a freshly scattered machine: µs per page migrated, and the pages migrated. */
function compactOnce(mib: number): { usPerPage: number; migrated: number } {
  const { m } = scatteredMachine(mib);
  fullGc();
  const t0 = nowMs();
  const r = m.compaction.compact({ order: -1 });
  const dt = nowMs() - t0;
  if (r.migrated === 0 || r.failed !== 0) throw new Error(`compaction of ${sizeLabel(mib)} migrated ${r.migrated}, failed ${r.failed}: ${r.detail}`);
  check(m);
  return { usPerPage: (dt * 1000) / r.migrated, migrated: r.migrated };
}

function compactionRows(opts: BenchOptions): Row[] {
  const rows: Row[] = [];
  // The peer copies pages between two 64 MiB buffers, written once so that no copy takes a first-touch fault.
  const src = new Uint8Array(64 * MiB).fill(1);
  const dst = new Uint8Array(64 * MiB).fill(2);
  const span = src.length / PAGE_SIZE;
  compactOnce(MEMORY_MIB[0]!); // untimed: the JIT's warm-up
  for (const mib of MEMORY_MIB) {
    // Each pass needs a machine built for it (seconds at 4 GiB), so fewer samples than elsewhere.
    const passes = Array.from({ length: opts.quick ? 1 : 3 }, () => compactOnce(mib));
    const pages = passes[0]!.migrated;
    const copy = measureDuration(() => {
      for (let i = 0; i < pages; i++) {
        const at = (i % span) * PAGE_SIZE;
        dst.set(src.subarray(at, at + PAGE_SIZE), at);
      }
      return dst[pages % dst.length]!;
    }, opts);
    rows.push(costRow(`full compaction pass, 1/${SCATTER} of memory in scattered anonymous pages, per page migrated, ${sizeLabel(mib)}`, "µs/page",
      stat(passes.map((p) => p.usPerPage)), "copying 4 KiB per page, as many pages", stat(copy.samples.map((ms) => (ms * 1000) / pages)),
      { axis: "memory", curve: "compaction", x: mib }));
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// File count

/** The timed phases of a round of the file axis. */
type Phase = "create" | "stat" | "read" | "umount" | "coldStat";
/** Time each phase of one round took, in ms. */
type Round = Record<Phase, number>;

/** At least this many files go into a resident-memory figure: k trees of n files for small n, so heap noise is shared out. */
const MEMORY_FILES = 1000;

/** The tree `<root>/d<k>/f<i>` with {@link FILES_PER_DIR} files per directory; `<root>` itself is made by the caller. */
function treePaths(root: string, n: number): { dirs: string[]; files: string[] } {
  const dirs: string[] = [];
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    if (i % FILES_PER_DIR === 0) dirs.push(`${root}/d${i / FILES_PER_DIR}`);
    files.push(`${dirs.at(-1)!}/f${i % FILES_PER_DIR}`);
  }
  return { dirs, files };
}

/** Milliseconds `body` takes. */
function timed(body: () => void): number {
  const t0 = nowMs();
  body();
  return nowMs() - t0;
}

/** What the tree functions need of Node's fs API, which both fs-simple (through the VFS) and memfs offer. */
interface TreeFs {
  mkdirSync(path: string): unknown;
  writeFileSync(path: string, data: Buffer): void;
  statSync(path: string): { size: number | bigint };
  readFileSync(path: string): Buffer;
}

/** Creates the tree: a mkdir before each directory's first file, then writeFileSync of the data. */
function createTree(fs: TreeFs, tree: { dirs: string[]; files: string[] }, data: Buffer): void {
  for (let i = 0; i < tree.files.length; i++) {
    if (i % FILES_PER_DIR === 0) fs.mkdirSync(tree.dirs[i / FILES_PER_DIR]!);
    fs.writeFileSync(tree.files[i]!, data);
  }
}

function statTree(fs: TreeFs, files: readonly string[]): void {
  let sink = 0;
  for (const p of files) sink = (sink + Number(fs.statSync(p).size)) | 0;
  consume(sink);
}

function readTree(fs: TreeFs, files: readonly string[]): void {
  let sink = 0;
  for (const p of files) sink = (sink + fs.readFileSync(p).length) | 0;
  consume(sink);
}

/** Host bytes that Folio holds: JS heap and ArrayBuffers, with simulated RAM counted by the frames in use rather than by its sections. */
function folioResident(m: Machine): number {
  const info = m.meminfo();
  return retainedBytes() - m.memory.allocatedBytes + (info.MemTotal - info.MemFree) * KiB;
}

/**
 * Resident bytes per file of trees of `n` files: k = ⌈{@link MEMORY_FILES} / n⌉ trees created on
 * the mounted Folio filesystem and in one memfs volume, measured on settled heaps before and
 * after, then the Folio trees removed.
 */
function residentPerFile(f: Mounted, n: number, data: Buffer): { folio: number; memfs: number } {
  const k = Math.ceil(MEMORY_FILES / n);
  const trees = Array.from({ length: k }, (_, j) => ({ root: `/m${j}`, tree: treePaths(`/m${j}`, n) }));
  fullGc();
  let before = folioResident(f.machine);
  for (const { root, tree } of trees) {
    f.fs.mkdirSync(root);
    createTree(f.fs, tree, data);
  }
  fullGc();
  const folio = (folioResident(f.machine) - before) / (k * n);
  const vol = new Volume();
  fullGc();
  before = retainedBytes();
  for (const { root, tree } of trees) {
    vol.mkdirSync(root);
    createTree(vol as unknown as TreeFs, tree, data);
  }
  fullGc();
  const memfs = (retainedBytes() - before) / (k * n);
  consume(vol.readdirSync("/").length); // the volume stays alive until measured
  for (const { root } of trees) f.fs.rmSync(root, { recursive: true });
  return { folio, memfs };
}

function fileRows(opts: BenchOptions, notes: string[]): Row[] {
  const data = testData(FILE_BYTES, 9);
  const counts = FILE_COUNTS.filter((n) => !opts.quick || n <= QUICK_MAX_FILES);
  const rows: Row[] = [];
  const hitRatios: string[] = [];
  for (const n of counts) {
    // Small trees are built many times, so that each sample is a batch of rounds long enough to time.
    const rounds = opts.quick ? Math.min(20, Math.max(1, Math.ceil(300 / n))) : Math.min(200, Math.max(n >= 100_000 ? 1 : 3, Math.ceil(3000 / n)));
    const samples = Math.min(opts.samples, rounds);
    const memoryTrees = Math.ceil(MEMORY_FILES / n);
    // The memory trees are the most the filesystem ever holds at once (each round's tree is removed
    // before the next): their files and directories, a block of data or entries each, and an inode
    // each (256 B in the table), with room to spare.
    const files = memoryTrees * n;
    const directories = memoryTrees * (Math.ceil(n / FILES_PER_DIR) + 1);
    const image = ((files + directories) * (PAGE_SIZE + 256)) * 1.25 + 16 * MiB;
    const f = mountFresh(Machine.boot({ memory: FILES_MACHINE, seed: 1 }), image, files + directories + 64);
    const folio: Round[] = [];
    const peer: Round[] = [];
    let hits = 0;
    let lookups = 0;
    for (let r = 0; r < rounds; r++) {
      const tree = treePaths(`/r${r}`, n);
      const vol = new Volume();
      const vfs = vol as unknown as TreeFs;
      f.fs.mkdirSync(`/r${r}`);
      vol.mkdirSync(`/r${r}`);
      const a = {} as Round;
      const b = {} as Round;
      // Folio and memfs alternate phase by phase, so drift in the machine hits both alike.
      a.create = timed(() => createTree(f.fs, tree, data));
      b.create = timed(() => createTree(vfs, tree, data));
      const c0 = f.vfs.cacheCounts();
      a.stat = timed(() => statTree(f.fs, tree.files));
      const c1 = f.vfs.cacheCounts();
      hits += c1.hits - c0.hits;
      lookups += c1.hits + c1.misses + c1.negativeHits - (c0.hits + c0.misses + c0.negativeHits);
      b.stat = timed(() => statTree(vfs, tree.files));
      a.read = timed(() => readTree(f.fs, tree.files));
      b.read = timed(() => readTree(vfs, tree.files));
      if (!f.fs.readFileSync(tree.files.at(-1)!).equals(data)) throw new Error("fs-simple returned wrong data");

      // umount writes back every new file (data, inodes, directories, bitmaps) and drops the caches;
      // the peer writes the files' bytes alone to an image file (sized beforehand, so it never grows).
      a.umount = timed(() => f.vfs.umount("/"));
      const img = new Volume();
      img.writeFileSync("/img", "");
      const ifd = img.openSync("/img", "r+");
      img.ftruncateSync(ifd, n * FILE_BYTES);
      b.umount = timed(() => {
        for (let i = 0; i < n; i++) img.writeSync(ifd, data, 0, FILE_BYTES, i * FILE_BYTES);
      });
      img.closeSync(ifd);

      f.vfs.mount("/", "simple", { device: f.device, options: f.options });
      a.coldStat = timed(() => statTree(f.fs, tree.files));
      b.coldStat = timed(() => statTree(vfs, tree.files));
      if (!f.fs.readFileSync(tree.files[0]!).equals(data)) throw new Error("fs-simple returned wrong data after a remount");
      folio.push(a);
      peer.push(b);
      f.fs.rmSync(`/r${r}`, { recursive: true });
    }
    const resident = residentPerFile(f, n, data);
    unmountAndCheck(f);
    fullGc();
    hitRatios.push(`${n.toLocaleString("en-US")}: ${lookups === 0 ? "—" : `${((100 * hits) / lookups).toFixed(0)}%`}`);

    // Sample s is rounds s, s + samples, s + 2·samples…: µs per file over the batch.
    const perFile = (rs: Round[], phase: Phase): Stat => stat(Array.from({ length: samples }, (_, s) => {
      const batch = rs.filter((_, i) => i % samples === s);
      return (batch.reduce((sum, x) => sum + x[phase], 0) * 1000) / (batch.length * n);
    }));
    const label = `${filesLabel(n)}${rounds > 1 ? ` (${rounds} rounds)` : ""}`;
    const curve = (name: string) => ({ axis: "files", curve: name, x: n });
    const row = (name: string, phase: Phase, peerName: string, curveName: string) =>
      rows.push(costRow(`${name}, ${label}`, "µs/file", perFile(folio, phase), peerName, perFile(peer, phase), curve(curveName)));
    row(`create: mkdir per ${FILES_PER_DIR} + writeFileSync 4 KiB`, "create", "memfs, same tree", "create");
    row("statSync each file", "stat", "memfs statSync", "stat");
    row("readFileSync each file (cached)", "read", "memfs readFileSync", "read");
    row("umount (writes back the new files, drops the caches)", "umount", "memfs writeSync of each file's 4 KiB to an image", "umount");
    row("statSync each file after a fresh mount (cold)", "coldStat", "memfs statSync (nothing to be cold)", "cold stat");
    rows.push({
      name: `resident memory per file, ${filesLabel(n)}${memoryTrees > 1 ? ` (${memoryTrees} trees)` : ""}`,
      value: resident.folio, unit: "B/file", peer: { name: "memfs, same trees", value: resident.memfs }, ratio: resident.folio / resident.memfs,
      point: curve("memory"),
    });
  }
  notes.push(`Files: 4 KiB each, ${FILES_PER_DIR} to a directory (/r<round>/d<k>/f<i>), on a ${FILES_MACHINE.replace("GiB", " GiB")} machine with fs-simple (default mount) on a memfs-backed device; ` +
    `each round builds a fresh tree and removes it after; a sample is a batch of rounds, the figure the median of ${opts.samples} samples (fewer when there are fewer rounds). ` +
    `Resident memory: Folio's JS heap and ArrayBuffers, with simulated RAM counted as the frames in use (data pages, metadata blocks) rather than by its section buffers, ` +
    `beside memfs's heap and buffers, once, after creating ⌈${MEMORY_FILES.toLocaleString("en-US")} / n⌉ trees of n files (so small trees share out heap noise).`);
  notes.push(`Dentry-cache hits during the warm stat pass, by file count: ${hitRatios.join(", ")}.`);
  if (opts.quick) notes.push(`--quick: file counts up to ${QUICK_MAX_FILES.toLocaleString("en-US")} only (a full run goes to ${FILE_COUNTS.at(-1)!.toLocaleString("en-US")}).`);
  return rows;
}

// ---------------------------------------------------------------------------------------------

const PLOTS: PlotSpec[] = [
  {
    id: "memory-growth", title: "Cost against memory size, relative to 64 MiB", axis: "memory", y: "growth",
    subtitle: ["Folio solid, peer dashed; 1 = the cost per unit of work does not grow (boot time is per machine, so it grows)"],
    xLabel: "simulated memory (MiB)", xLog: true, xBase2: true, yLabel: "cost ÷ cost at 64 MiB", yLog: true,
  },
  {
    id: "memory-ratio", title: "Cost against memory size, relative to the peer", axis: "memory", y: "ratio",
    subtitle: ["how many times the peer's cost Folio's costs; flat = Folio grows as the peer does"],
    xLabel: "simulated memory (MiB)", xLog: true, xBase2: true, yLabel: "cost × peer", yLog: true,
  },
  {
    id: "files-time", title: "Time per file against the number of files", axis: "files", y: "figure", unit: "µs/file", peerLabel: "memfs",
    subtitle: ["fs-simple through the VFS and Node's fs API (solid) beside memfs building the same tree (dashed)"],
    xLabel: "files", xLog: true, yLabel: "µs per file", yLog: true,
  },
  {
    id: "files-memory", title: "Resident memory per file against the number of files", axis: "files", y: "figure", unit: "B/file", peerLabel: "memfs",
    subtitle: ["4 KiB files: Folio's heap plus simulated frames in use (solid), memfs's heap and buffers (dashed)"],
    xLabel: "files", xLog: true, yLabel: "bytes per file", yLog: true,
  },
  {
    id: "files-ratio", title: "Cost per file against the number of files, relative to memfs", axis: "files", y: "ratio",
    subtitle: ["how many times memfs's cost per file Folio's costs; flat = Folio grows as memfs does"],
    xLabel: "files", xLog: true, yLabel: "cost × peer", yLog: true,
  },
];

function runSuite(opts: BenchOptions): SuiteOutcome {
  const notes: string[] = [];
  const rows: Row[] = [];
  const part = (name: string, make: () => Row[]) => {
    const t0 = nowMs();
    rows.push(...make());
    console.log(`scaling: ${name} in ${((nowMs() - t0) / 1000).toFixed(1)} s`);
  };
  part("boot", () => bootRows(opts));
  part("bookkeeping", () => bookkeepingRows(opts));
  part("alloc+free", () => allocRows(opts));
  part("cached read", () => cachedReadRows(opts));
  part("read under pressure", () => pressureRows(opts, notes));
  part("compaction", () => compactionRows(opts));
  part("files", () => fileRows(opts, notes));
  return { rows, notes, plots: PLOTS };
}

export const scalingSuite: Suite = {
  name: "scaling",
  description: "how costs grow with memory size (64 MiB to 4 GiB) and with file count (1 to 100,000 files), beside peers",
  run: runSuite,
};
