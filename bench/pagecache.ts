/**
 * Suite "pagecache": the read path of @folio/pagecache (filemapRead) on a minimal benchmark
 * filesystem, each figure beside a peer measured in the same run:
 *
 * - cached sequential 64 KiB reads beside one Buffer.copy of 64 KiB from a flat buffer;
 * - cached random 4 KiB reads beside memfs readSync of the same bytes at the same offsets;
 * - heap bytes allocated per cache hit and per page, beside the same peers;
 * - cold sequential reads on a simulated NVMe device, readahead on beside readahead off, in
 *   virtual time (deterministic: one run each, no spread);
 * - tracepoints: reads that miss and reclaim, with all tracepoints on beside off, and the
 *   computed cost of the disabled checks.
 */
import { GCProfiler } from "node:v8";
import { Volume } from "memfs";
import { Machine, PAGE_SIZE, Rng, type FolioError } from "@folio/core";
import {
  DEVICE_MODELS, MemfsStore, PageCache, SimDevice, filemapRead, finishRead, openCachedFile,
  type CachedFile, type DeviceModel, type MappingOptions, type ReadCallbacks,
} from "@folio/pagecache";
import {
  type BenchOptions, type Row, type Stat, type Suite, consume, fullGc, measureRates, stat,
} from "./harness.js";
import { type Cursor, memfsReadSync } from "./read-loops.js";

const KiB = 1024;
const MiB = 1024 * KiB;
/** Size of the files read from the cache. */
const CACHED_SIZE = 64 * MiB;
/** Size of the file read cold (32 MiB with --quick). */
const COLD_SIZE = 256 * MiB;
const COLD_SIZE_QUICK = 32 * MiB;
/** Bytes per read call in the sequential cases. */
const SEQ_CHUNK = 64 * KiB;
/** Bytes per read call in the random case. */
const RANDOM_CHUNK = 4 * KiB;
/** Random offsets precomputed (a power of two, so the loop wraps with a mask). */
const NR_OFFSETS = 1 << 16;
/** Goal: cached sequential reads reach at least this fraction of the peer's throughput. */
const MIN_SEQ_FRACTION = 0.7;
/** Goal: cached random reads at least as fast as memfs. */
const MIN_RANDOM_FRACTION = 1;

// ---------------------------------------------------------------------------------------------
// The benchmark filesystem

/**
 * The least a filesystem must do to serve filemapRead. A file is a block map (page index →
 * device block) on a SimDevice over a MemfsStore; its data is written straight into the store
 * beforehand. readFolio submits one device read per run of consecutive blocks of the folio,
 * straight into the folio's memory, and calls finishRead when every one has completed.
 */
class BenchFs {
  readonly machine: Machine;
  readonly cache: PageCache;
  readonly device: SimDevice;
  private readonly blockMaps = new Map<number, Int32Array>();
  readonly callbacks: ReadCallbacks = { readFolio: (file, folio) => this.readFolio(file, folio) };

  constructor(store: MemfsStore, memory: string, model: DeviceModel = DEVICE_MODELS.instant) {
    this.machine = Machine.boot({ memory, seed: 1 });
    this.cache = new PageCache(this.machine);
    this.device = new SimDevice(store, this.machine.scheduler, { model });
  }

  /** Opens a new file of `size` bytes whose data lies on blocks firstBlock, firstBlock + 1, … */
  createFile(size: number, firstBlock: number, options: MappingOptions): CachedFile {
    const ino = this.blockMaps.size + 1;
    const blocks = new Int32Array(Math.ceil(size / PAGE_SIZE));
    for (let i = 0; i < blocks.length; i++) blocks[i] = firstBlock + i;
    this.blockMaps.set(ino, blocks);
    return openCachedFile(this.cache.createMapping({ ino, label: `inode ${ino} on benchfs`, size }, options));
  }

  private readFolio(file: CachedFile, folio: number): void {
    const f = this.cache.folios;
    const blocks = this.blockMaps.get(file.mapping.host.ino)!;
    const first = f.index(folio);
    const nr = f.nrPages(folio);
    const buffer = f.data(folio);
    const base = f.dataOffset(folio);
    let pending = 1;
    let ok = true;
    const done = (e: FolioError | null) => {
      if (e) ok = false;
      if (--pending === 0) finishRead(this.cache, folio, ok);
    };
    for (let i = 0; i < nr; ) {
      if (first + i >= blocks.length) {
        buffer.fill(0, base + i * PAGE_SIZE, base + nr * PAGE_SIZE); // past EOF
        break;
      }
      const block = blocks[first + i]!;
      let count = 1;
      while (i + count < nr && first + i + count < blocks.length && blocks[first + i + count] === block + count) count++;
      pending++;
      this.device.submit({ op: "read", block, count, buffer, offset: base + i * PAGE_SIZE, done });
      i += count;
    }
    done(null);
  }
}

/** `size` bytes of deterministic data (xorshift32 words), different for each seed. */
export function testData(size: number, seed: number): Buffer {
  const buf = Buffer.alloc(size);
  const words = new Uint32Array(buf.buffer, buf.byteOffset, size >>> 2);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
  return buf;
}

/** Reads the whole file once, sequentially, in 1 MiB calls, so that it is all in the cache. */
function readWhole(fs: BenchFs, file: CachedFile, expect?: Uint8Array): void {
  const size = file.mapping.host.size;
  const buf = Buffer.alloc(MiB);
  for (let pos = 0; pos < size; pos += MiB) {
    const n = filemapRead(fs.cache, file, pos, buf, 0, Math.min(MiB, size - pos), fs.callbacks);
    if (expect && !buf.subarray(0, n).equals(expect.subarray(pos, pos + n))) throw new Error(`benchfs returned wrong data at ${pos}`);
  }
}

/** "16384 × order 0" or "3 × order 4, 31 × order 9": the folios of a mapping by order. */
function folioOrders(fs: BenchFs, file: CachedFile): string {
  const f = fs.cache.folios;
  const counts = new Map<number, number>();
  const pages = Math.ceil(file.mapping.host.size / PAGE_SIZE);
  for (let i = 0; i < pages; ) {
    const folio = fs.cache.lookup(file.mapping, i);
    if (folio === 0) throw new Error(`page ${i} is not cached`);
    counts.set(f.order(folio), (counts.get(f.order(folio)) ?? 0) + 1);
    i += f.nrPages(folio);
  }
  return [...counts].sort((a, b) => a[0] - b[0]).map(([o, n]) => `${n}×o${o}`).join(" ");
}

function check(m: Machine): void {
  const problems = m.verify();
  if (problems.length > 0) throw new Error(`machine inconsistent after benchmark: ${problems.slice(0, 5).join("; ")}`);
}

// ---------------------------------------------------------------------------------------------
// Measured loops. Folio's loop and its peer's have the same shape: one read call, the byte
// count folded into `sink`, the position advanced (sequential: wrapping at the end of the file;
// random: the next precomputed offset). `at.pos` carries the position from batch to batch.

function folioSeq(fs: BenchFs, file: CachedFile, dst: Buffer, at: Cursor, n: number): number {
  const cache = fs.cache;
  const cb = fs.callbacks;
  const size = file.mapping.host.size;
  const len = dst.length;
  let pos = at.pos;
  let sink = 0;
  for (let i = 0; i < n; i++) {
    sink = (sink + filemapRead(cache, file, pos, dst, 0, len, cb)) | 0;
    pos += len;
    if (pos >= size) pos = 0;
  }
  at.pos = pos;
  return sink;
}

function peerSeq(flat: Buffer, dst: Buffer, at: Cursor, n: number): number {
  const size = flat.length;
  const len = dst.length;
  let pos = at.pos;
  let sink = 0;
  for (let i = 0; i < n; i++) {
    sink = (sink + flat.copy(dst, 0, pos, pos + len)) | 0;
    pos += len;
    if (pos >= size) pos = 0;
  }
  at.pos = pos;
  return sink;
}

function folioRandom(fs: BenchFs, file: CachedFile, dst: Buffer, offsets: Int32Array, at: Cursor, n: number): number {
  const cache = fs.cache;
  const cb = fs.callbacks;
  const len = dst.length;
  const mask = offsets.length - 1;
  let k = at.pos;
  let sink = 0;
  for (let i = 0; i < n; i++) {
    sink = (sink + filemapRead(cache, file, offsets[k]!, dst, 0, len, cb)) | 0;
    k = (k + 1) & mask;
  }
  at.pos = k;
  return sink;
}

// ---------------------------------------------------------------------------------------------
// Heap allocated per operation

/**
 * Heap bytes `run(n)` allocates per operation: heapUsed after the loop minus before, starting
 * from a full collection (which empties the young generation), with no collection in between
 * (checked with v8.GCProfiler; n is halved until none runs, since a scavenge would hide garbage).
 * The same measurement of `run(0)` (the cost of measuring) is subtracted. Median of `samples`.
 */
export function heapPerOp(run: (n: number) => number, n: number, samples: number): Stat {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("global.gc is missing: run node with --expose-gc");
  const delta = (count: number): number | null => {
    gc();
    const profiler = new GCProfiler();
    profiler.start();
    const before = process.memoryUsage().heapUsed;
    consume(run(count));
    const after = process.memoryUsage().heapUsed;
    return profiler.stop().statistics.length > 0 ? null : after - before;
  };
  const base: number[] = [];
  const perOp: number[] = [];
  while (perOp.length < samples) {
    const b = delta(0);
    const d = delta(n);
    if (b === null || d === null) {
      if ((n >>= 1) < 64) throw new Error("a collection ran during every heap measurement");
      continue;
    }
    base.push(b);
    perOp.push(d);
  }
  const overhead = stat(base).median;
  return stat(perOp.map((d) => (d - overhead) / n));
}

// ---------------------------------------------------------------------------------------------
// Rows

/** A throughput row whose goal is a minimum fraction of the peer's throughput. */
function fractionRow(name: string, unit: string, folio: Stat, peerName: string, peer: Stat, minFraction: number): Row {
  return {
    name,
    value: folio.median,
    unit,
    peer: { name: peerName, value: peer.median },
    ratio: peer.median / folio.median,
    goal: `≥ ${minFraction}× peer throughput`,
    pass: folio.median >= minFraction * peer.median,
    spread: Math.max(folio.spread, peer.spread),
  };
}

/**
 * A heap row: bytes per operation beside the peer's. With `atMostPeer`, the goal is to allocate no
 * more than the peer does for the same job. Not zero: on Node 20 a copy of part of one typed array
 * into another needs a view of that part (a ~96-byte object; `Buffer.copy` makes the same one), so
 * the read helper allocates one view per folio it copies from, and nothing else.
 */
function heapRow(name: string, unit: string, folio: Stat, peerName: string, peer: Stat, scale: number, atMostPeer: boolean): Row {
  const value = folio.median / scale;
  const peerValue = peer.median / scale;
  const row: Row = { name, value, unit, peer: { name: peerName, value: peerValue }, spread: Math.max(folio.spread, peer.spread) };
  if (peerValue >= 1) row.ratio = value / peerValue;
  if (atMostPeer) {
    row.goal = "≤ the peer's bytes";
    // Within a byte of the peer: the measurement's own resolution.
    row.pass = value <= peerValue + 1;
  }
  return row;
}

/** Cached reads: sequential and random throughput, and heap per hit, with their peers. */
function cachedRows(opts: BenchOptions): Row[] {
  const rows: Row[] = [];
  const flat = testData(CACHED_SIZE, 1);
  const store = new MemfsStore({ size: 2 * CACHED_SIZE });
  store.write(flat, 0);
  store.write(flat, CACHED_SIZE);
  const fs = new BenchFs(store, "256MiB");
  const large = fs.createFile(CACHED_SIZE, 0, { maxOrder: 9, raPages: 512 });
  const small = fs.createFile(CACHED_SIZE, CACHED_SIZE / PAGE_SIZE, { maxOrder: 0, raPages: 32 });
  readWhole(fs, large, flat);
  readWhole(fs, small, flat);
  const reads = fs.device.stats.reads;
  const largeOrders = folioOrders(fs, large);

  const vol = new Volume();
  vol.writeFileSync("/file", flat);
  const fd = vol.openSync("/file", "r");
  const rng = new Rng(42);
  const offsets = new Int32Array(NR_OFFSETS);
  for (let i = 0; i < NR_OFFSETS; i++) offsets[i] = rng.below(CACHED_SIZE / RANDOM_CHUNK) * RANDOM_CHUNK;

  const [cLarge, cSmall, cPeer, cRndSmall, cRndLarge, cRndPeer] = [0, 0, 0, 0, 0, 0].map((pos) => ({ pos }));
  const seqDst = Buffer.alloc(SEQ_CHUNK);
  const rndDst = Buffer.alloc(RANDOM_CHUNK);
  const seqLarge = (n: number) => folioSeq(fs, large, seqDst, cLarge, n);
  const seqSmall = (n: number) => folioSeq(fs, small, seqDst, cSmall, n);
  const seqPeer = (n: number) => peerSeq(flat, seqDst, cPeer, n);
  const rndSmall = (n: number) => folioRandom(fs, small, rndDst, offsets, cRndSmall, n);
  const rndLarge = (n: number) => folioRandom(fs, large, rndDst, offsets, cRndLarge, n);
  const rndPeer = (n: number) => memfsReadSync(vol, fd, rndDst, offsets, cRndPeer, n);

  // Throughput. A byte count of 64 KiB per call is checked once, so a short read cannot pass.
  if (seqLarge(1) !== SEQ_CHUNK || rndSmall(1) !== RANDOM_CHUNK || seqPeer(1) !== SEQ_CHUNK || rndPeer(1) !== RANDOM_CHUNK) {
    throw new Error("a read returned a short count");
  }
  const copy = `Buffer.copy 64 KiB from a flat ${CACHED_SIZE / MiB} MiB buffer`;
  const MBps = (s: Stat): Stat => ({ ...s, median: (s.median * SEQ_CHUNK) / 1e6 });
  {
    const [f, p] = measureRates([{ name: "folio", run: seqLarge }, { name: "peer", run: seqPeer }], opts);
    rows.push(fractionRow(`cached 64 KiB seq read, ${CACHED_SIZE / MiB} MiB file, maxOrder 9 (${largeOrders})`, "MB/s", MBps(f!), copy, MBps(p!), MIN_SEQ_FRACTION));
  }
  {
    const [f, p] = measureRates([{ name: "folio", run: seqSmall }, { name: "peer", run: seqPeer }], opts);
    // Reported without the goal: the 0.7× bar is for large folios, which this row turns off.
    const small = fractionRow(`cached 64 KiB seq read, ${CACHED_SIZE / MiB} MiB file, order-0 folios`, "MB/s", MBps(f!), copy, MBps(p!), MIN_SEQ_FRACTION);
    delete small.goal;
    delete small.pass;
    rows.push(small);
  }
  const memfs = "memfs readSync 4 KiB, same offsets";
  {
    const [f, p] = measureRates([{ name: "folio", run: rndSmall }, { name: "peer", run: rndPeer }], opts);
    rows.push(fractionRow(`cached 4 KiB random read, order-0 folios`, "reads/s", f!, memfs, p!, MIN_RANDOM_FRACTION));
  }
  {
    const [f, p] = measureRates([{ name: "folio", run: rndLarge }, { name: "peer", run: rndPeer }], opts);
    rows.push(fractionRow(`cached 4 KiB random read, maxOrder-9 folios`, "reads/s", f!, memfs, p!, MIN_RANDOM_FRACTION));
  }

  // Heap per hit, on the loops just measured (so they are optimized as in the rows above).
  const samples = opts.samples;
  const hits = 4096;
  const hLarge = heapPerOp(seqLarge, hits, samples);
  const hSmall = heapPerOp(seqSmall, hits, samples);
  const hCopy = heapPerOp(seqPeer, hits, samples);
  const hRnd = heapPerOp(rndSmall, hits, samples);
  const hRndLarge = heapPerOp(rndLarge, hits, samples);
  const hMemfs = heapPerOp(rndPeer, hits, samples);
  const perHit = SEQ_CHUNK / PAGE_SIZE;
  // One view per folio copied from: a 64 KiB read of a large folio makes one, as Buffer.copy does;
  // of order-0 folios, sixteen — why large folios are the default where data is large.
  rows.push(heapRow("heap per hit, 64 KiB seq, maxOrder 9", "B/hit", hLarge, "Buffer.copy 64 KiB", hCopy, 1, true));
  rows.push(heapRow("heap per page, 64 KiB seq, maxOrder 9", "B/page", hLarge, "Buffer.copy 64 KiB", hCopy, perHit, false));
  rows.push(heapRow("heap per hit, 64 KiB seq, order-0 folios", "B/hit", hSmall, "Buffer.copy 64 KiB", hCopy, 1, false));
  rows.push(heapRow("heap per page, 64 KiB seq, order-0 folios", "B/page", hSmall, "Buffer.copy 64 KiB", hCopy, perHit, false));
  rows.push(heapRow("heap per hit, 4 KiB random, maxOrder 9", "B/hit", hRndLarge, "memfs readSync 4 KiB", hMemfs, 1, true));
  rows.push(heapRow("heap per hit, 4 KiB random, order-0", "B/hit", hRnd, "memfs readSync 4 KiB", hMemfs, 1, true));

  // Hits must stay hits, and return the file's bytes.
  if (fs.device.stats.reads !== reads) throw new Error("a cached read went to the device");
  for (let i = 0; i < 64; i++) {
    const pos = offsets[i]!;
    folioRandom(fs, small, rndDst, offsets, { pos: i }, 1);
    if (!rndDst.equals(flat.subarray(pos, pos + RANDOM_CHUNK))) throw new Error(`cached read at ${pos} returned wrong data`);
  }
  check(fs.machine);
  vol.closeSync(fd);
  store.close();
  return rows;
}

/**
 * Reads a file sequentially from a fresh cache, 64 KiB per call, on a simulated NVMe device:
 * throughput in virtual time, device read requests and the folios built. Checks every 64th chunk
 * against the store.
 */
function coldRead(store: MemfsStore, size: number, options: MappingOptions): { mibps: number; requests: number; orders: string } {
  fullGc(); // drop the previous run's machine before booting another
  const fs = new BenchFs(store, "512MiB", DEVICE_MODELS.nvme);
  const file = fs.createFile(size, 0, options);
  const dst = Buffer.alloc(SEQ_CHUNK);
  const expect = Buffer.alloc(SEQ_CHUNK);
  const clock = fs.machine.scheduler;
  const t0 = clock.now;
  for (let pos = 0; pos < size; pos += SEQ_CHUNK) {
    if (filemapRead(fs.cache, file, pos, dst, 0, SEQ_CHUNK, fs.callbacks) !== SEQ_CHUNK) throw new Error(`short cold read at ${pos}`);
    if (pos % (64 * SEQ_CHUNK) === 0) {
      store.read(expect, pos);
      if (!dst.equals(expect)) throw new Error(`cold read at ${pos} returned wrong data`);
    }
  }
  const seconds = (clock.now - t0) / 1e9;
  check(fs.machine);
  return { mibps: size / MiB / seconds, requests: fs.device.stats.reads, orders: folioOrders(fs, file) };
}

/** Cold sequential reads with readahead on, each beside readahead off. */
function coldRows(opts: BenchOptions): Row[] {
  const size = opts.quick ? COLD_SIZE_QUICK : COLD_SIZE;
  const label = `${size / MiB} MiB${opts.quick ? " (--quick)" : ""}`;
  const store = new MemfsStore({ size });
  for (let pos = 0; pos < size; pos += 16 * MiB) store.write(testData(16 * MiB, 2 + pos / MiB), pos);

  const off = coldRead(store, size, { maxOrder: 0, raPages: 0 });
  const cases = [
    { what: "ra 128 KiB, order-0 folios", options: { maxOrder: 0, raPages: 32 } },
    { what: "ra 128 KiB, maxOrder 9", options: { maxOrder: 9, raPages: 32 } },
    { what: "ra 2 MiB, maxOrder 9", options: { maxOrder: 9, raPages: 512 } },
  ];
  const rows: Row[] = [];
  for (const { what, options } of cases) {
    const on = coldRead(store, size, options);
    rows.push({
      name: `cold 64 KiB seq read ${label}, nvme, ${what}`,
      value: on.mibps,
      unit: "MiB/s virt",
      peer: { name: "readahead off (raPages 0)", value: off.mibps },
      ratio: off.mibps / on.mibps,
      goal: "≥ 1× ra-off throughput",
      pass: on.mibps >= off.mibps,
    });
    rows.push({
      name: `  device read requests, ${what} (${on.orders})`,
      value: on.requests,
      unit: "requests",
      peer: { name: "readahead off (raPages 0)", value: off.requests },
      ratio: on.requests / off.requests,
    });
  }
  store.close();
  return rows;
}

/**
 * Tracepoints, off and on, on a path that emits them: 64 KiB sequential reads of a file four
 * times the memory, so every page misses (readahead, folio_add) and reclaim runs (reclaim_scan,
 * folio_delete, and workingset_refault when the file comes round again).
 *
 * Off, every tracepoint is one field load and one bit test; there is no build without them to
 * measure against, so the cost when off is computed: the checks a read executes (each would have
 * emitted one event when on, so the events per read when on count them) times the measured cost
 * of one disabled check, as a share of the time of one read with tracing off.
 */
function traceRows(opts: BenchOptions): Row[] {
  const size = opts.quick ? 32 * MiB : 64 * MiB;
  const store = new MemfsStore({ size });
  for (let pos = 0; pos < size; pos += 16 * MiB) store.write(testData(16 * MiB, 7 + pos / MiB), pos);
  const fs = new BenchFs(store, `${size / MiB / 4}MiB`);
  const file = fs.createFile(size, 0, { maxOrder: 0, raPages: 32 });
  const dst = Buffer.alloc(SEQ_CHUNK);
  const [off, on] = [{ pos: 0 }, { pos: size / 2 }];
  let events = 0;
  let readsOn = 0;
  const count = () => events++;
  const [fOff, fOn] = measureRates(
    [
      { name: "tracepoints off", run: (n) => folioSeq(fs, file, dst, off, n) },
      {
        name: "all tracepoints on",
        run: (n) => {
          const detach = fs.machine.trace.enable("all", count);
          try {
            readsOn += n;
            return folioSeq(fs, file, dst, on, n);
          } finally {
            detach();
          }
        },
      },
    ],
    opts,
  );
  check(fs.machine);
  store.close();
  const eventsPerRead = events / readsOn;
  const checkNs = disabledCheckNs(fs.machine);
  const share = (eventsPerRead * checkNs) / (1e9 / fOff!.median);
  return [
    {
      name: `churning 64 KiB seq reads (${size / MiB} MiB file, 1/4 in memory), all tracepoints on (${fmtEvents(eventsPerRead)} events/read)`,
      value: fOn!.median,
      unit: "reads/s",
      peer: { name: "tracepoints off", value: fOff!.median },
      ratio: fOff!.median / fOn!.median,
      spread: Math.max(fOn!.spread, fOff!.spread),
    },
    {
      name: `  tracepoints off: ${fmtEvents(eventsPerRead)} checks/read × ${checkNs.toFixed(2)} ns/check (computed)`,
      value: share * 100,
      unit: "% of a read",
      goal: "< 1% of a read",
      pass: share < 0.01,
    },
  ];
}

function fmtEvents(x: number): string {
  return x.toFixed(x < 10 ? 1 : 0);
}

/**
 * Nanoseconds one disabled tracepoint check costs (a field load and a bit test), measured as the
 * difference between a loop that checks the machine's tracer and the same loop testing a local
 * zero: 8 tracers and 4 bits in rotation keep V8 from hoisting the load out of the loop.
 */
function disabledCheckNs(machine: Machine): number {
  const tracers = Array.from({ length: 8 }, () => machine.trace);
  const zeros = new Int32Array(8);
  const bits = Int32Array.of(1 << 2, 1 << 1, 1 << 6, 1 << 9);
  const n = 50_000_000;
  const time = (f: () => number) => {
    const t0 = process.hrtime.bigint();
    consume(f());
    return Number(process.hrtime.bigint() - t0);
  };
  const withTracer = () => {
    let sink = 0;
    for (let i = 0; i < n; i++) if (tracers[i & 7]!.enabled & bits[i & 3]!) sink++;
    return sink;
  };
  const baseline = () => {
    let sink = 0;
    for (let i = 0; i < n; i++) if (zeros[i & 7]! & bits[i & 3]!) sink++;
    return sink;
  };
  time(withTracer);
  time(baseline);
  const samples = [0, 1, 2, 3, 4].map(() => Math.max(0, time(withTracer) - time(baseline)) / n);
  return samples.sort((a, b) => a - b)[2]!;
}

export const pagecacheSuite: Suite = {
  name: "pagecache",
  description: "filemapRead on a minimal filesystem: cached hits beside a flat copy and memfs, cold reads with and without readahead, tracepoints off and on",
  run: (opts) => [...cachedRows(opts), ...coldRows(opts), ...traceRows(opts)],
};
