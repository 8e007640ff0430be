/**
 * Suite "core": the hot paths of @folio/core's allocators and the cost of booting a machine,
 * each beside a minimal peer measured in the same run.
 */
import { Gfp, Machine, MemdescType } from "@folio/core";
import {
  type BenchOptions,
  type Row,
  type Stat,
  type Suite,
  measureDuration,
  measureRates,
  measureRetained,
  rateRow,
} from "./harness.js";

/**
 * The peer allocator: the least code that hands out and takes back indices, a stack of free
 * indices in an Int32Array. It checks exhaustion and overflow, nothing else.
 */
export class StackAllocator {
  private readonly stack: Int32Array;
  private top: number;

  constructor(capacity: number) {
    this.stack = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.stack[i] = capacity - 1 - i;
    this.top = capacity;
  }

  alloc(): number {
    if (this.top === 0) throw new Error("ENOMEM: stack allocator is empty");
    return this.stack[--this.top]!;
  }

  free(index: number): void {
    if (this.top === this.stack.length) throw new Error("EINVAL: stack allocator overflow");
    this.stack[this.top++] = index;
  }
}

/** Memory of the machines whose allocator hot paths are measured. */
const THROUGHPUT_MEMORY = "1GiB";
/** Machine sizes whose boot is measured. */
const BOOT_SIZES = [
  { label: "64 MiB", memory: "64MiB" },
  { label: "1 GiB", memory: "1GiB" },
  { label: "4 GiB", memory: "4GiB" },
] as const;
/** Goal: one Folio alloc+free pair costs at most this many peer pairs. */
const MAX_COST_RATIO = 40;
/** Goal: bytes of bookkeeping (struct page table, allocator state, objects) per frame. */
const MAX_BOOKKEEPING_PER_FRAME = 32;
const PEER_NAME = "Int32Array free stack";

// Each loop is its own function, so each call site's type feedback belongs to one case; Folio's
// loop and its peer's have the same shape: an alloc, a free, the result folded into `sink`.

/** `n` order-0 allocPages+freePages pairs on `m` (also the scaling suite's, at each memory size). */
export function order0Pairs(m: Machine, n: number): number {
  const pages = m.pages;
  let sink = 0;
  for (let i = 0; i < n; i++) {
    const pfn = pages.allocPages(0, Gfp.Movable, MemdescType.Folio, 1);
    pages.freePages(pfn, 0);
    sink ^= pfn;
  }
  return sink;
}

function kmallocPairs(m: Machine, n: number): number {
  const kmem = m.kmem;
  let sink = 0;
  for (let i = 0; i < n; i++) {
    const a = kmem.kmalloc(64);
    kmem.kfree(a);
    sink ^= a;
  }
  return sink;
}

function order9Pairs(m: Machine, n: number): number {
  const pages = m.pages;
  let sink = 0;
  for (let i = 0; i < n; i++) {
    const pfn = pages.allocPages(9, Gfp.Movable, MemdescType.Folio, 1);
    pages.freePages(pfn, 9);
    sink ^= pfn;
  }
  return sink;
}

/** The peer's loop: `n` pop+push pairs on the free stack. */
export function peerPairs(p: StackAllocator, n: number): number {
  let sink = 0;
  for (let i = 0; i < n; i++) {
    const x = p.alloc();
    p.free(x);
    sink ^= x;
  }
  return sink;
}

/** A second copy of {@link peerPairs} for the order-9 peer, so no loop's feedback is shared. */
function peerBlockPairs(p: StackAllocator, n: number): number {
  let sink = 0;
  for (let i = 0; i < n; i++) {
    const x = p.alloc();
    p.free(x);
    sink ^= x;
  }
  return sink;
}

function pairRows(opts: BenchOptions): Row[] {
  const rows: Row[] = [];

  {
    const m = Machine.boot({ memory: THROUGHPUT_MEMORY });
    const peer = new StackAllocator(m.frames);
    const [f, p] = measureRates(
      [
        { name: "folio", run: (n) => order0Pairs(m, n) },
        { name: "peer", run: (n) => peerPairs(peer, n) },
      ],
      opts,
    );
    rows.push(rateRow("order-0 alloc+free", "pairs/s", f!, PEER_NAME, p!, MAX_COST_RATIO));
    check(m);
  }

  {
    const m = Machine.boot({ memory: THROUGHPUT_MEMORY });
    const peer = new StackAllocator(m.frames);
    const [f, p] = measureRates(
      [
        { name: "folio", run: (n) => kmallocPairs(m, n) },
        { name: "peer", run: (n) => peerPairs(peer, n) },
      ],
      opts,
    );
    rows.push(rateRow("kmalloc(64)+kfree", "pairs/s", f!, PEER_NAME, p!, MAX_COST_RATIO));
    check(m);
  }

  {
    const m = Machine.boot({ memory: THROUGHPUT_MEMORY });
    const peer = new StackAllocator(m.frames >>> 9);
    const [f, p] = measureRates(
      [
        { name: "folio", run: (n) => order9Pairs(m, n) },
        { name: "peer", run: (n) => peerBlockPairs(peer, n) },
      ],
      opts,
    );
    rows.push(rateRow("order-9 alloc+free", "pairs/s", f!, PEER_NAME, p!));
    check(m);
  }
  return rows;
}

/** The benchmark must leave the machine consistent; a broken allocator makes fast numbers meaningless. */
function check(m: Machine): void {
  const problems = m.verify();
  if (problems.length > 0) throw new Error(`machine inconsistent after benchmark: ${problems.slice(0, 5).join("; ")}`);
}

function bootRows(opts: BenchOptions): Row[] {
  const rows: Row[] = [];
  for (const { label, memory } of BOOT_SIZES) {
    const frames = Machine.boot({ memory }).frames;
    // Boot time: boots back to back, each dropped at once (the peer's tables likewise).
    const boot = measureDuration(() => Machine.boot({ memory }).frames, opts);
    const table = measureDuration(() => new Uint8Array(frames * 15).fill(0xff)[frames]!, opts);
    rows.push(timeRow(`boot ${label}`, "ms", boot, `Uint8Array(frames×15).fill`, table));

    // Bookkeeping: what a booted machine retains, less the simulated RAM's own section buffers.
    let ram = 0;
    const kept = measureRetained(
      () => Machine.boot({ memory }),
      opts,
      (m) => (ram = m.memory.allocatedBytes),
    );
    const peer = measureRetained(() => new StackAllocator(frames), opts);
    const perFrame = kept.median / frames;
    rows.push({
      name: `bookkeeping ${label}`,
      value: perFrame,
      unit: "B/frame",
      peer: { name: PEER_NAME, value: peer.median / frames },
      ratio: perFrame / (peer.median / frames),
      goal: `≤ ${MAX_BOOKKEEPING_PER_FRAME} B/frame`,
      pass: perFrame <= MAX_BOOKKEEPING_PER_FRAME,
      spread: kept.spread,
    });
    rows.push({ name: `simulated RAM resident at boot ${label}`, value: ram / 2 ** 20, unit: "MiB" });
  }
  return rows;
}

function timeRow(name: string, unit: string, folio: Stat, peerName: string, peer: Stat): Row {
  return {
    name,
    value: folio.median,
    unit,
    peer: { name: peerName, value: peer.median },
    ratio: folio.median / peer.median,
    spread: Math.max(folio.spread, peer.spread),
  };
}

export const coreSuite: Suite = {
  name: "core",
  description: `allocator hot paths (${THROUGHPUT_MEMORY} machine) and boot cost`,
  run: (opts) => [...pairRows(opts), ...bootRows(opts)],
};
