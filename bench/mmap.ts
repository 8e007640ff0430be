/**
 * Suite "mmap": user mappings of a cached 32 MiB fs-simple file, mapped through the VFS
 * (`vfs.mmap`) into one address space, beside the file API (Node's `readSync`/`writeSync` on a
 * descriptor of the same file) in the same run:
 *
 * - read faults on cached data: each operation is one fault, a load from a 64 KiB block of a
 *   shared read-only mapping not yet mapped, which maps the block's 16 pages (fault-around); the
 *   mapping is unmapped and mapped again after each pass over the file, so a share of munmap is
 *   included. Peer: readSync of the same 64 KiB.
 * - write faults on cached data: each operation is one fault, a 1-byte store to a page of a shared
 *   writable mapping with no PTE (filemap_fault, page_mkwrite with fs-simple's block check and
 *   mtime, the folio dirtied through its owner, the dirty throttle's check); remapped after each
 *   pass. Peer: writeSync of 1 byte to the same page.
 * - loads and stores on mapped memory (every PTE present and writable): 8 bytes and 4 KiB at the
 *   same precomputed random offsets as readSync/writeSync of 8 bytes and 4 KiB.
 * - heap bytes per 8-byte load and store on present PTEs (goal 0: the hit path allocates nothing),
 *   and, without a goal, per load at a default top-down address (see {@link MAP_AT}).
 */
import {
  MAP_FIXED, MAP_SHARED, Machine, PAGE_SIZE, PROT_READ, PROT_WRITE, Rng, type AddressSpace,
} from "@folio/core";
import { MemfsStore, SimDevice } from "@folio/pagecache";
import { SimpleFs } from "@folio/fs-simple";
import { Vfs, createNodeFs, type NodeFs } from "@folio/vfs";
import { type BenchOptions, type Row, type Stat, type Suite, measureRates } from "./harness.js";
import { heapPerOp, testData } from "./pagecache.js";
import { folioReadSync } from "./read-loops.js";

const KiB = 1024;
const MiB = 1024 * KiB;
/** The mapped file. */
const FILE_SIZE = 32 * MiB;
/** Bytes one read fault maps (fault-around: 16 pages). */
const BLOCK = 64 * KiB;
/**
 * Where mappings go: 64 KiB-aligned, so each block's first load is exactly one fault; and below
 * 2^30, so addresses are small integers to V8. A larger address is a double, which V8 boxes (16
 * bytes) when the caller passes it to a call it did not inline — the caller's cost, shown by the
 * last row, not the hit path's.
 */
const MAP_AT = 0x1000_0000;
/** Random offsets precomputed (a power of two, so the loops wrap with a mask). */
const NR_OFFSETS = 1 << 16;

/** A machine with fs-simple on "/" from a memfs-backed SimDevice (instant model), through the VFS, and the file written and cached. */
interface Setup {
  machine: Machine;
  vfs: Vfs;
  fs: NodeFs;
  fd: number;
  mm: AddressSpace;
  data: Buffer;
  store: MemfsStore;
}

function setUp(): Setup {
  const machine = Machine.boot({ memory: "512MiB", seed: 1 });
  const vfs = new Vfs(machine);
  const store = new MemfsStore({ size: FILE_SIZE + 16 * MiB });
  const device = new SimDevice(store, machine.scheduler);
  SimpleFs.mkfs({ device, scheduler: machine.scheduler, machine }, { inodes: 64 });
  vfs.mount("/", "simple", { device });
  const fs = createNodeFs(vfs);
  const data = testData(FILE_SIZE, 9);
  fs.writeFileSync("/mapped.bin", data);
  const fd = fs.openSync("/mapped.bin", "r+");
  fs.fsyncSync(fd);
  return { machine, vfs, fs, fd, mm: machine.mm.createAddressSpace("bench"), data, store };
}

/** A mapping that is torn down and set up again after each pass over the file. */
interface Cycle {
  addr: number;
  next: number;
}

function remap(s: Setup, cycle: Cycle, prot: number): void {
  s.mm.munmap(MAP_AT, FILE_SIZE);
  cycle.addr = s.vfs.mmap(s.mm, s.fd, { addr: MAP_AT, length: FILE_SIZE, prot, flags: MAP_SHARED | MAP_FIXED });
  cycle.next = 0;
}

// ---------------------------------------------------------------------------------------------
// Measured loops, each in its own function so its call sites' type feedback is its own.

/** n read faults: a 1-byte load from the next unmapped 64 KiB block. */
function readFaults(s: Setup, cycle: Cycle, one: Uint8Array, n: number): number {
  let sink = 0;
  for (let i = 0; i < n; i++) {
    if (cycle.next === FILE_SIZE) remap(s, cycle, PROT_READ);
    s.mm.load(cycle.addr + cycle.next, one, 0, 1);
    sink = (sink + one[0]!) | 0;
    cycle.next += BLOCK;
  }
  return sink;
}

/** readSync of the same 64 KiB blocks in the same order. */
function readBlocks(s: Setup, cursor: { pos: number }, buf: Buffer, n: number): number {
  let sink = 0;
  for (let i = 0; i < n; i++) {
    sink = (sink + s.fs.readSync(s.fd, buf, 0, BLOCK, cursor.pos)) | 0;
    cursor.pos = (cursor.pos + BLOCK) % FILE_SIZE;
  }
  return sink;
}

/** n write faults: a 1-byte store to the next page with no PTE. */
function writeFaults(s: Setup, cycle: Cycle, one: Uint8Array, n: number): number {
  for (let i = 0; i < n; i++) {
    if (cycle.next === FILE_SIZE) remap(s, cycle, PROT_READ | PROT_WRITE);
    one[0] = i;
    s.mm.store(cycle.addr + cycle.next, one, 0, 1);
    cycle.next += PAGE_SIZE;
  }
  return n;
}

/** writeSync of 1 byte to the same pages in the same order. */
function writeBytes(s: Setup, cursor: { pos: number }, one: Buffer, n: number): number {
  let sink = 0;
  for (let i = 0; i < n; i++) {
    one[0] = i;
    sink = (sink + s.fs.writeSync(s.fd, one, 0, 1, cursor.pos)) | 0;
    cursor.pos = (cursor.pos + PAGE_SIZE) % FILE_SIZE;
  }
  return sink;
}

function mappedLoads(mm: AddressSpace, base: number, dst: Uint8Array, offsets: Int32Array, at: { pos: number }, n: number): number {
  const mask = offsets.length - 1;
  const len = dst.length;
  let k = at.pos;
  let sink = 0;
  for (let i = 0; i < n; i++) {
    mm.load(base + offsets[k]!, dst, 0, len);
    sink = (sink + dst[0]!) | 0;
    k = (k + 1) & mask;
  }
  at.pos = k;
  return sink;
}

function mappedStores(mm: AddressSpace, base: number, src: Uint8Array, offsets: Int32Array, at: { pos: number }, n: number): number {
  const mask = offsets.length - 1;
  const len = src.length;
  let k = at.pos;
  for (let i = 0; i < n; i++) {
    src[0] = i;
    mm.store(base + offsets[k]!, src, 0, len);
    k = (k + 1) & mask;
  }
  at.pos = k;
  return n;
}

function fileWrites(fs: NodeFs, fd: number, src: Buffer, offsets: Int32Array, at: { pos: number }, n: number): number {
  const mask = offsets.length - 1;
  const len = src.length;
  let k = at.pos;
  let sink = 0;
  for (let i = 0; i < n; i++) {
    src[0] = i;
    sink = (sink + fs.writeSync(fd, src, 0, len, offsets[k]!)) | 0;
    k = (k + 1) & mask;
  }
  at.pos = k;
  return sink;
}

// ---------------------------------------------------------------------------------------------
// Rows

function rateRow(name: string, unit: string, folio: Stat, peerName: string, peer: Stat): Row {
  return { name, value: folio.median, unit, peer: { name: peerName, value: peer.median }, ratio: peer.median / folio.median, spread: Math.max(folio.spread, peer.spread) };
}

/** Offsets of `len`-byte accesses within one page each, at random pages, `align`-aligned. */
function randomOffsets(seed: number, len: number, align: number): Int32Array {
  const rng = new Rng(seed);
  const out = new Int32Array(NR_OFFSETS);
  for (let i = 0; i < NR_OFFSETS; i++) out[i] = rng.below(FILE_SIZE / PAGE_SIZE) * PAGE_SIZE + rng.below((PAGE_SIZE - len) / align + 1) * align;
  return out;
}

function faultRows(s: Setup, opts: BenchOptions): Row[] {
  const rows: Row[] = [];
  const one = new Uint8Array(1);
  const block = Buffer.alloc(BLOCK);
  const readCycle: Cycle = { addr: 0, next: FILE_SIZE };
  const readCursor = { pos: 0 };
  const faultsBefore = s.machine.vmstat.toObject().pgfault!;
  let touches = 0;
  {
    const [a, b] = measureRates([
      { name: "folio", run: (n) => ((touches += n), readFaults(s, readCycle, one, n)) },
      { name: "peer", run: (n) => readBlocks(s, readCursor, block, n) },
    ], opts);
    rows.push(rateRow("read fault, cached 64 KiB block (maps its 16 pages), incl. munmap share", "faults/s", a!, "readSync 64 KiB, same block", b!));
  }
  const faults = s.machine.vmstat.toObject().pgfault! - faultsBefore;
  if (faults !== touches) throw new Error(`${touches} block loads took ${faults} faults: the read-fault row measured something else`);
  s.mm.munmap(MAP_AT, FILE_SIZE);

  const writeCycle: Cycle = { addr: 0, next: FILE_SIZE };
  const writeCursor = { pos: 0 };
  const oneBuf = Buffer.alloc(1);
  {
    const [a, b] = measureRates([
      { name: "folio", run: (n) => writeFaults(s, writeCycle, one, n) },
      { name: "peer", run: (n) => writeBytes(s, writeCursor, oneBuf, n) },
    ], opts);
    rows.push(rateRow("write fault, cached page, shared (page_mkwrite + dirty), incl. munmap share", "faults/s", a!, "writeSync 1 B, same page", b!));
  }
  s.mm.munmap(MAP_AT, FILE_SIZE);
  return rows;
}

function accessRows(s: Setup, opts: BenchOptions): Row[] {
  const rows: Row[] = [];
  const base = s.vfs.mmap(s.mm, s.fd, { addr: MAP_AT, length: FILE_SIZE, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED | MAP_FIXED });
  // Fault every page in writable: the loops below measure present PTEs only.
  const touch = new Uint8Array(1);
  for (let off = 0; off < FILE_SIZE; off += PAGE_SIZE) {
    s.mm.load(base + off, touch, 0, 1);
    s.mm.store(base + off, touch, 0, 1);
  }
  const faults = s.machine.vmstat.toObject().pgfault!;
  for (const [len, align] of [[8, 8], [4 * KiB, 4 * KiB]] as const) {
    const offsets = randomOffsets(len, len, align);
    const dst = new Uint8Array(len);
    const buf = Buffer.alloc(len);
    {
      const [mc, fc] = [{ pos: 0 }, { pos: 0 }];
      const [a, b] = measureRates([
        { name: "folio", run: (n) => mappedLoads(s.mm, base, dst, offsets, mc, n) },
        { name: "peer", run: (n) => folioReadSync(s.fs, s.fd, buf, offsets, fc, n) },
      ], opts);
      rows.push(rateRow(`mapped load ${len >= KiB ? `${len / KiB} KiB` : `${len} B`}, random, PTE present`, "loads/s", a!, `readSync ${len >= KiB ? `${len / KiB} KiB` : `${len} B`}, same offsets`, b!));
    }
    {
      const [mc, fc] = [{ pos: 0 }, { pos: 0 }];
      const [a, b] = measureRates([
        { name: "folio", run: (n) => mappedStores(s.mm, base, dst, offsets, mc, n) },
        { name: "peer", run: (n) => fileWrites(s.fs, s.fd, buf, offsets, fc, n) },
      ], opts);
      rows.push(rateRow(`mapped store ${len >= KiB ? `${len / KiB} KiB` : `${len} B`}, random, PTE writable`, "stores/s", a!, `writeSync ${len >= KiB ? `${len / KiB} KiB` : `${len} B`}, same offsets`, b!));
    }
  }
  // Heap per access on the hit path, beside the file API's.
  const offsets = randomOffsets(8, 8, 8);
  const dst = new Uint8Array(8);
  const buf = Buffer.alloc(8);
  const n = opts.quick ? 20_000 : 100_000;
  const loadHeap = heapPerOp((k) => mappedLoads(s.mm, base, dst, offsets, { pos: 0 }, k), n, opts.samples);
  const readHeap = heapPerOp((k) => folioReadSync(s.fs, s.fd, buf, offsets, { pos: 0 }, k), n, opts.samples);
  const storeHeap = heapPerOp((k) => mappedStores(s.mm, base, dst, offsets, { pos: 0 }, k), n, opts.samples);
  const writeHeap = heapPerOp((k) => fileWrites(s.fs, s.fd, buf, offsets, { pos: 0 }, k), n, opts.samples);
  for (const [name, folio, peerName, peer] of [["heap per mapped load 8 B", loadHeap, "readSync 8 B", readHeap], ["heap per mapped store 8 B", storeHeap, "writeSync 8 B", writeHeap]] as const) {
    rows.push({ name, value: folio.median, unit: "B/op", peer: { name: peerName, value: peer.median }, goal: "0 B/op (< 1 measured)", pass: folio.median < 1, spread: Math.max(folio.spread, peer.spread) });
  }
  if (s.machine.vmstat.toObject().pgfault !== faults) throw new Error("a load or store on a present PTE faulted: the access rows measured something else");
  // The same load at a top-down address (0x7fff…), as a process would see it by default.
  const high = s.vfs.mmap(s.mm, s.fd, { length: FILE_SIZE, prot: PROT_READ, flags: MAP_SHARED });
  for (let off = 0; off < FILE_SIZE; off += PAGE_SIZE) s.mm.load(high + off, touch, 0, 1);
  const highHeap = heapPerOp((k) => mappedLoads(s.mm, high, dst, offsets, { pos: 0 }, k), n, opts.samples);
  rows.push({ name: `heap per mapped load 8 B at 0x${high.toString(16)} (address boxed by V8)`, value: highHeap.median, unit: "B/op", peer: { name: "readSync 8 B", value: readHeap.median }, spread: Math.max(highHeap.spread, readHeap.spread) });
  s.mm.munmap(high, FILE_SIZE);
  // The mapping and the file agree.
  const check = new Uint8Array(PAGE_SIZE);
  const viaFile = Buffer.alloc(PAGE_SIZE);
  for (let page = 0; page < FILE_SIZE / PAGE_SIZE; page += 97) {
    s.mm.load(base + page * PAGE_SIZE, check);
    s.fs.readSync(s.fd, viaFile, 0, PAGE_SIZE, page * PAGE_SIZE);
    if (!viaFile.equals(check)) throw new Error(`page ${page}: the mapping and read() disagree`);
  }
  s.mm.munmap(base, FILE_SIZE);
  return rows;
}

export const mmapSuite: Suite = {
  name: "mmap",
  description: "user mappings of a cached 32 MiB fs-simple file: fault rates and loads/stores on mapped memory, beside readSync/writeSync",
  run(opts: BenchOptions): Row[] {
    const s = setUp();
    if (s.fs.readFileSync("/mapped.bin").compare(s.data) !== 0) throw new Error("the file reads back wrong");
    const rows = [...faultRows(s, opts), ...accessRows(s, opts)];
    s.mm.destroy();
    s.fs.closeSync(s.fd);
    s.vfs.umount("/");
    const problems = s.machine.verify();
    if (problems.length > 0) throw new Error(`machine inconsistent after benchmark: ${problems.slice(0, 5).join("; ")}`);
    s.store.close();
    return rows;
  },
};
