/**
 * Shared helpers for the core tests: whole-machine state snapshots (to prove a failed call
 * changed nothing) and small utilities. Not a test file itself (ava runs only *.test.js).
 */
import { Machine, MemdescType, PAGE_SIZE, isFolioError, type ErrorCode, type SwapBacking } from "../src/index.js";
import type { ExecutionContext } from "ava";

/** Everything observable about a machine's memory state, copied. */
export interface MachineState {
  memmap: { type: Uint8Array; flags: Uint8Array; order: Uint8Array; ref: Uint32Array; next: Int32Array; prev: Int32Array };
  stat: number[];
  meminfo: ReturnType<Machine["meminfo"]>;
  buddyinfo: number[];
  pagetypeinfo: ReturnType<Machine["pagetypeinfo"]>;
  slabinfo: ReturnType<Machine["slab"]["slabinfo"]>;
  vmareas: ReturnType<Machine["vmalloc"]["list"]>;
  hugetlb: { total: number; free: number; reserved: number };
  /** All of physical memory (descriptors and slab bitmaps live there). */
  memory?: Uint8Array;
}

/** Copies the machine's state. `withMemory` also copies every byte of physical memory. */
export function snapshot(m: Machine, withMemory = true): MachineState {
  const mm = m.memmap;
  let memory: Uint8Array | undefined;
  if (withMemory) {
    memory = new Uint8Array(m.memory.bytes);
    m.memory.read(0, memory);
  }
  return {
    memmap: { type: mm.type.slice(), flags: mm.flags.slice(), order: mm.order.slice(), ref: mm.ref.slice(), next: mm.next.slice(), prev: mm.prev.slice() },
    stat: Array.from(m.vmstat.stat),
    meminfo: m.meminfo(),
    buddyinfo: m.buddyinfo(),
    pagetypeinfo: m.pagetypeinfo(),
    slabinfo: m.slab.slabinfo(),
    vmareas: m.vmalloc.list(),
    hugetlb: { total: m.hugetlb.total, free: m.hugetlb.free, reserved: m.hugetlb.reserved },
    ...(memory ? { memory } : {}),
  };
}

/** Index of the first element where two arrays differ, or -1 when equal. */
export function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    // Fast path for typed arrays: compare the bytes natively first.
    const ba = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    const bb = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    if (ba.equals(bb)) return -1;
  }
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Differences between the machine's state now and `before` (empty when unchanged), plus verify problems. */
export function compareState(m: Machine, before: MachineState): string[] {
  const now = snapshot(m, before.memory !== undefined);
  const out: string[] = [];
  for (const k of ["type", "flags", "order", "ref", "next", "prev"] as const) {
    const i = firstDiff(now.memmap[k], before.memmap[k]);
    if (i >= 0) out.push(`memmap.${k}[${i}] changed from ${before.memmap[k][i]} to ${now.memmap[k][i]}`);
  }
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  for (const k of ["stat", "meminfo", "buddyinfo", "pagetypeinfo", "slabinfo", "vmareas", "hugetlb"] as const) {
    if (!same(now[k], before[k])) out.push(`${k} changed: ${JSON.stringify(before[k])} -> ${JSON.stringify(now[k])}`);
  }
  if (before.memory && now.memory) {
    const i = firstDiff(now.memory, before.memory);
    if (i >= 0) out.push(`physical memory changed at byte ${i}`);
  }
  for (const p of m.verify()) out.push(`verify: ${p}`);
  return out;
}

/** Runs `fn`, asserts it throws a FolioError with `code` (and a message matching `re`), returns the message. */
export function expectError(t: ExecutionContext, code: ErrorCode, fn: () => unknown, re?: RegExp, what = ""): string {
  const e = t.throws(fn, undefined, what);
  t.true(isFolioError(e, code), `${what}: expected ${code}, got ${String(e)}`);
  const msg = e instanceof Error ? e.message : "";
  t.true(msg.startsWith(`${code}: `), `${what}: message "${msg}" starts with the code`);
  if (re) t.regex(msg, re, what);
  return msg;
}

/** Writes a deterministic pattern derived from `seed` over `len` bytes at physical `addr`. */
export function writePattern(m: Machine, addr: number, len: number, seed: number): void {
  m.memory.write(addr, pattern(len, seed));
}

/** True when `len` bytes at physical `addr` hold the pattern written by {@link writePattern}. */
export function checkPattern(m: Machine, addr: number, len: number, seed: number): boolean {
  const got = new Uint8Array(len);
  m.memory.read(addr, got);
  return firstDiff(got, pattern(len, seed)) === -1;
}

const PATTERN_SPAN = 65521;
/** Pseudo-random bytes, computed once; patterns are windows into it. */
const PATTERN_BASE = (() => {
  const out = new Uint8Array((4 << 20) + PATTERN_SPAN);
  let x = 0x12345678;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
})();

/**
 * A byte pattern (up to 4 MiB) for `seed`: a window of pseudo-random bytes starting at an offset
 * that depends on the seed, so different seeds give different bytes at almost every position.
 */
export function pattern(len: number, seed: number): Uint8Array {
  if (len > 4 << 20) throw new Error(`pattern of ${len} bytes is longer than 4MiB`);
  const off = (seed * 7919) % PATTERN_SPAN;
  return PATTERN_BASE.subarray(off, off + len);
}

/** Reads `count` frames from `pfn` and returns true when every byte is zero. */
export function framesAreZero(m: Machine, pfn: number, count: number): boolean {
  const buf = new Uint8Array(count * PAGE_SIZE);
  m.memory.read(pfn * PAGE_SIZE, buf);
  return buf.every((b) => b === 0);
}

/** A run of frames taken by {@link fillMemory}. */
export interface Run {
  pfn: number;
  order: number;
}

/**
 * Exhausts the page allocator with page-table allocations of `gfp`, largest orders first, until
 * even order 0 fails; returns the runs taken (free them with `m.pages.freePages(pfn, order)`).
 */
export function fillMemory(m: Machine, gfp = 0): Run[] {
  const taken: Run[] = [];
  for (let order = 10; order >= 0; order--) {
    for (;;) {
      const pfn = m.pages.tryAllocPages(order, gfp, MemdescType.PageTable, 1);
      if (pfn < 0) break;
      taken.push({ pfn, order });
    }
  }
  return taken;
}

/** A fresh machine booted the same way as `m`. */
export function twin(m: Machine): Machine {
  const c = m.config;
  return Machine.boot({ memory: c.memory, seed: c.seed, hugePages: c.hugePages, ...(c.minFreePages >= 0 ? { minFreePages: c.minFreePages } : {}) });
}

/** An in-memory swap device whose writes and reads complete as scheduler events, like a device's. */
export function memorySwap(m: Machine, slots: number): SwapBacking {
  const data = new Uint8Array(slots * PAGE_SIZE);
  return {
    name: "test swap",
    slots,
    write(slot, src, offset, done) {
      m.scheduler.after(1000, "swap write", () => {
        data.set(src.subarray(offset, offset + PAGE_SIZE), slot * PAGE_SIZE);
        done(null);
      });
    },
    read(slot, dst, offset, done) {
      m.scheduler.after(1000, "swap read", () => {
        dst.set(data.subarray(slot * PAGE_SIZE, (slot + 1) * PAGE_SIZE), offset);
        done(null);
      });
    },
  };
}
