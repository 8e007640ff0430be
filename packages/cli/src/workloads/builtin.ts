/**
 * The built-in workloads, written as scripts (so `folio workloads <name>` prints each as an
 * example of the script format) and sized from the machine's memory.
 */
import type { Script } from "./script.js";
import { parseScript } from "./script.js";

const KiB = 1024;
const MiB = 1024 * KiB;

/** A built-in workload: a name, what it does, and its script for a machine of `memory` bytes. */
export interface BuiltinWorkload {
  /** The name `folio run` takes. */
  name: string;
  /** What it does, in one line. */
  description: string;
  /** Its script, sized for a machine of `memory` bytes (files larger than memory, say). */
  script(memory: number): Script;
}

/** Rounds down to whole pages, at least `min` bytes. */
function pages(bytes: number, min = 4 * KiB): number {
  return Math.max(min, Math.floor(bytes / (4 * KiB)) * 4 * KiB);
}

/** A file size of `share` × memory, capped at 1 GiB so large machines stay quick to fill. */
function shareOf(memory: number, share: number): number {
  return pages(Math.min(memory * share, 1024 * MiB));
}

const define = (name: string, description: string, build: (memory: number) => unknown): BuiltinWorkload => ({
  name, description, script: (memory) => parseScript({ description, ...(build(memory) as object) }, `built-in workload ${name}`),
});

/** Every built-in workload, by name. */
export const BUILTIN_WORKLOADS: readonly BuiltinWorkload[] = [
  define("copy-tree", "make a tree of small and large files worth half the memory, copy it, sync", (memory) => {
    const perDir = shareOf(memory, 0.5) / 8;
    const big = pages((perDir - 24 * 16 * KiB) / 4);
    return {
      ops: [
        { op: "repeat", times: 8, var: "d", ops: [
          { op: "files", dir: "/src/d{d}/small", count: 24, size: 16 * KiB },
          { op: "files", dir: "/src/d{d}/big", count: 4, size: big },
        ] },
        { op: "copy", from: "/src", to: "/dst" },
        { op: "sync" },
      ],
    };
  }),
  define("random-read", "write a file of 1.5 × memory, drop the cache, read 4 KiB blocks of it at random", (memory) => ({
    seed: 7,
    ops: [
      { op: "write", path: "/data", size: shareOf(memory, 1.5), chunk: MiB },
      { op: "remount" },
      { op: "random-read", path: "/data", count: 20000, size: 4 * KiB },
    ],
  })),
  define("sequential-read", "write a file of 1.5 × memory, drop the cache, read it through twice", (memory) => ({
    ops: [
      { op: "write", path: "/data", size: shareOf(memory, 1.5), chunk: MiB },
      { op: "remount" },
      { op: "read", path: "/data", chunk: 128 * KiB },
      { op: "read", path: "/data", chunk: 128 * KiB },
    ],
  })),
  // A third of the memory in 4 KiB files: one file per page, and fewer files than the default
  // disk (twice the memory) has inodes (one per 16 KiB).
  define("fragment", "fill a third of the memory with 4 KiB files in 32 directories, then delete every other file", (memory) => {
    const perDir = Math.max(2, Math.floor(shareOf(memory, 1 / 3) / (4 * KiB) / 32 / 2) * 2);
    return {
      ops: [
        { op: "repeat", times: 32, var: "d", ops: [{ op: "files", dir: "/frag/d{d}", count: perDir, size: 4 * KiB }] },
        { op: "sync" },
        { op: "repeat", times: 32, var: "d", ops: [
          { op: "repeat", times: perDir / 2, from: 0, step: 2, var: "i", ops: [{ op: "rm", path: "/frag/d{d}/f{i}" }] },
        ] },
      ],
    };
  }),
  define("fragment-compact", "the fragment workload, then compaction of the whole memory (compact_memory)", (memory) => {
    const script = builtinWorkload("fragment")!.script(memory);
    return { ops: [...script.ops, { op: "compact" }] };
  }),
  define("dirty-write", "write 30% of memory into a file without syncing: dirty pages and writeback in flight", (memory) => ({
    ops: [{ op: "write", path: "/dirty", size: shareOf(memory, 0.3), chunk: MiB }],
  })),
  define("zoo", "one of every kind of memory: clean and dirty file pages, anonymous memory and its page tables, slab, large kmalloc, vmalloc, huge pages, frames taken offline", () => ({
    ops: [
      { op: "write", path: "/clean", size: MiB },
      { op: "sync" },
      { op: "write", path: "/dirty", size: 256 * KiB },
      { op: "anon", size: MiB },
      { op: "kmalloc", size: 256, count: 100 },
      { op: "kmalloc", size: 256 * KiB },
      { op: "vmalloc", size: 64 * KiB },
      { op: "hugepages", pool: 2, use: 1 },
      { op: "poison", count: 4, soft: true },
    ],
  })),
  // For the live viewer: every kind of event in one run, each phase long enough to watch.
  define("tour", "a tour of memory management: dirty data written back by the flusher, a file as large as memory forcing reclaim, refaults, small files deleted leaving memory fragmented, anonymous memory, compaction, memory errors", (memory) => {
    const perDir = Math.max(2, Math.floor(shareOf(memory, 1 / 4) / (4 * KiB) / 16 / 2) * 2);
    return {
      seed: 11,
      ops: [
        { op: "write", path: "/log", size: shareOf(memory, 0.25), chunk: 64 * KiB },
        { op: "sleep", ms: 6000 },
        { op: "write", path: "/big", size: shareOf(memory, 1), chunk: 256 * KiB },
        { op: "random-read", path: "/log", count: 2000 },
        { op: "rm", path: "/big" },
        { op: "repeat", times: 16, var: "d", ops: [{ op: "files", dir: "/small/d{d}", count: perDir, size: 4 * KiB }] },
        { op: "sync" },
        { op: "repeat", times: 16, var: "d", ops: [
          { op: "repeat", times: perDir / 2, from: 0, step: 2, var: "i", ops: [{ op: "rm", path: "/small/d{d}/f{i}" }] },
        ] },
        { op: "anon", size: shareOf(memory, 0.1) },
        { op: "compact" },
        { op: "poison", count: 8 },
        { op: "sleep", ms: 5000 },
      ],
    };
  }),
];

/** The built-in workload named `name`, or undefined. */
export function builtinWorkload(name: string): BuiltinWorkload | undefined {
  return BUILTIN_WORKLOADS.find((w) => w.name === name);
}
