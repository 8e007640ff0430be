/**
 * What the live viewer's three parts agree on: the machine's worker thread, the HTTP server on the
 * main thread and the page in the browser.
 *
 * The worker publishes the machine's state into one SharedArrayBuffer, so the server can answer a
 * request at any moment without asking the worker (which may be in the middle of a long operation)
 * and without a copy queued per update:
 *
 * | bytes | what |
 * | --- | --- |
 * | 0 … 63 | `Int32Array` control words: [0] the sequence number, odd while the worker writes (a seqlock) |
 * | 64 … | `Float64Array` of {@link NUMBERS}: operations done, virtual time, the counters of {@link VIEWER_COUNTERS}, frames per category |
 * | after | one byte per frame: {@link frameByte} |
 *
 * The worker creates the buffer once the machine has booted (only then is its frame count known)
 * and hands it over in its first message. Text (the step running, the phase, an error, the event
 * log) travels in messages. The page's script is built from these constants too.
 */
import { MEMMAP_CATEGORIES } from "../memmap/model.js";

/** A counter shown beside the map: a /proc/vmstat name, or a device statistic. */
export interface ViewerCounter {
  /** The vmstat name (`nr_dirty`, `compact_stall`), or `disk_read_bytes` / `disk_write_bytes`. */
  key: string;
  /** The group it is shown in. */
  group: "memory" | "reclaim" | "compaction" | "memory failure" | "i/o";
  /** What it counts, in words. */
  label: string;
  /** Pages (a gauge shown in MiB too), events, or bytes. */
  unit: "pages" | "events" | "bytes";
}

/** The counters published with every update, in display order. */
export const VIEWER_COUNTERS: readonly ViewerCounter[] = [
  { key: "nr_free_pages", group: "memory", label: "free", unit: "pages" },
  { key: "nr_file_pages", group: "memory", label: "file (page cache)", unit: "pages" },
  { key: "nr_dirty", group: "memory", label: "dirty", unit: "pages" },
  { key: "nr_writeback", group: "memory", label: "under writeback", unit: "pages" },
  { key: "nr_anon_pages", group: "memory", label: "anonymous", unit: "pages" },
  { key: "nr_slab_reclaimable", group: "memory", label: "slab, reclaimable", unit: "pages" },
  { key: "nr_slab_unreclaimable", group: "memory", label: "slab, unreclaimable", unit: "pages" },
  { key: "nr_page_table_pages", group: "memory", label: "page tables", unit: "pages" },
  { key: "nr_vmalloc", group: "memory", label: "vmalloc", unit: "pages" },
  { key: "nr_hwpoisoned", group: "memory", label: "hwpoisoned", unit: "pages" },
  { key: "pgscan_kswapd", group: "reclaim", label: "scanned by kswapd", unit: "events" },
  { key: "pgscan_direct", group: "reclaim", label: "scanned by direct reclaim", unit: "events" },
  { key: "pgsteal_kswapd", group: "reclaim", label: "reclaimed by kswapd", unit: "events" },
  { key: "pgsteal_direct", group: "reclaim", label: "reclaimed directly", unit: "events" },
  { key: "pageoutrun", group: "reclaim", label: "kswapd runs", unit: "events" },
  { key: "allocstall", group: "reclaim", label: "allocation stalls", unit: "events" },
  { key: "workingset_refault_file", group: "reclaim", label: "refaults", unit: "events" },
  { key: "compact_stall", group: "compaction", label: "direct compactions", unit: "events" },
  { key: "compact_success", group: "compaction", label: "succeeded", unit: "events" },
  { key: "compact_fail", group: "compaction", label: "failed", unit: "events" },
  { key: "compact_daemon_wake", group: "compaction", label: "kcompactd runs", unit: "events" },
  { key: "compact_migrate_scanned", group: "compaction", label: "migrate scanner, pages", unit: "events" },
  { key: "compact_free_scanned", group: "compaction", label: "free scanner, pages", unit: "events" },
  { key: "pgmigrate_success", group: "compaction", label: "pages migrated", unit: "events" },
  { key: "pgmigrate_fail", group: "compaction", label: "migrations failed", unit: "events" },
  { key: "memory_failure_recovered", group: "memory failure", label: "recovered", unit: "events" },
  { key: "memory_failure_ignored", group: "memory failure", label: "ignored", unit: "events" },
  { key: "memory_failure_failed", group: "memory failure", label: "failed", unit: "events" },
  { key: "memory_failure_delayed", group: "memory failure", label: "delayed", unit: "events" },
  { key: "soft_offline", group: "memory failure", label: "soft offlined", unit: "events" },
  { key: "disk_read_bytes", group: "i/o", label: "read from disk", unit: "bytes" },
  { key: "disk_write_bytes", group: "i/o", label: "written to disk", unit: "bytes" },
  { key: "pswpout", group: "i/o", label: "swapped out", unit: "events" },
  { key: "pswpin", group: "i/o", label: "swapped in", unit: "events" },
];

/**
 * The numbers of the shared buffer, in order: operations done and virtual time, the counters, then
 * the frames of each memory map category (`frames_free`, `frames_file`…: the legend's counts).
 */
export const NUMBERS: readonly string[] = [
  "ops", "virtual_ns", ...VIEWER_COUNTERS.map((c) => c.key), ...MEMMAP_CATEGORIES.map((c) => `frames_${c.key}`),
];

/** Bytes of control words at the start of the shared buffer. */
export const CONTROL_BYTES = 64;
/** Index of the sequence number among the control words. */
export const SEQ = 0;

/** Byte offset of the frame bytes in the shared buffer. */
export function framesOffset(): number {
  return CONTROL_BYTES + NUMBERS.length * 8;
}

/** Size of the shared buffer for a machine of `frames` frames. */
export function sharedBytes(frames: number): number {
  return framesOffset() + frames;
}

/**
 * One frame as one byte: the memory map's category (its index in MEMMAP_CATEGORIES, the colour)
 * in the low four bits and, on the first frame of a free buddy block, the block's order + 1 in the
 * high four (0 elsewhere), so the page can outline free blocks as the SVG does.
 */
export function frameByte(category: number, freeOrder = -1): number {
  return category | ((freeOrder + 1) << 4);
}

/** The category of a frame byte. */
export const CATEGORY_MASK = 0x0f;

// Fifteen categories and orders up to 10 both fit their four bits.
if (MEMMAP_CATEGORIES.length > 16) throw new Error("the frame byte holds at most 16 memory map categories");

/** Where the workload is. */
export type Phase = "workload" | "idle" | "failed";

/** The text part of the state, sent by the worker with each update. */
export interface WorkerStatus {
  /** The workload is paused (it then runs only when stepped). */
  paused: boolean;
  /** Where the workload is. */
  phase: Phase;
  /** The operation last run, or null before the first. */
  step: {
    /** The script step it belongs to, 1-based. */
    step: number;
    /** The operation's name. */
    op: string;
    /** What it works on; "" when nothing in particular. */
    target: string;
  } | null;
  /** Steps of the workload (repeats unrolled), 0 without one. */
  steps: number;
  /** Operations per second the workload runs at, 0 for as fast as it can. */
  speed: number;
  /** Why the workload stopped, one line, in phase "failed". */
  error: string | null;
  /** Notable events, oldest first, each once: injections, compaction, memory failures, allocation failures. */
  log: string[];
}

/** What the worker says about the machine once it has booted. */
export interface MachineInfo {
  /** Frames of the machine: the length of the shared buffer's frame bytes. */
  frames: number;
  /** One line on the machine: size, filesystem, disk, policy, seed. */
  machine: string;
  /** The workload, or null on an idle machine. */
  workload: {
    /** The name it was given by. */
    name: string;
    /** What the name resolved to. */
    kind: string;
    /** Its description. */
    description: string;
  } | null;
}

/** Things the page can do to the machine (see the worker for what each does). */
export const INJECTIONS = ["compact", "hard-offline", "soft-offline", "unpoison", "drop-caches", "sync"] as const;
/** One of {@link INJECTIONS}. */
export type Injection = (typeof INJECTIONS)[number];

/** A request from the server to the worker; each is answered by a {@link WorkerReply} with its id. */
export type WorkerRequest =
  | {
      /** Request number, echoed in the reply. */
      id: number;
      /** Pause, resume, or run `count` steps (which pauses). Replies null. */
      type: "control";
      /** `step` runs `count` operations and leaves the workload paused. */
      action: "pause" | "resume" | "step";
      /** Steps to run with `step`, 1..1,000,000; default 1. */
      count?: number;
    }
  | {
      /** Request number, echoed in the reply. */
      id: number;
      /** Sets the workload's speed. Replies null. */
      type: "speed";
      /** Operations per second, 0 for as fast as it can. */
      speed: number;
    }
  | {
      /** Request number, echoed in the reply. */
      id: number;
      /** Does something to the machine between two operations. Replies what happened, in words. */
      type: "inject";
      /** One of {@link INJECTIONS}: compaction, a memory error in (or unpoison of) a frame, dropping caches, sync. */
      kind: Injection;
      /** The frame, for the offline and unpoison kinds; chosen by the worker when absent. */
      pfn?: number;
    }
  | {
      /** Request number, echoed in the reply. */
      id: number;
      /** Describes a frame. Replies a {@link LiveDescription}. */
      type: "describe";
      /** The frame number, 0..frames−1 (EINVAL otherwise). */
      pfn: number;
    };

/** A {@link WorkerRequest} before the server numbers it. */
export type WorkerRequestBody = WorkerRequest extends infer R ? (R extends unknown ? Omit<R, "id"> : never) : never;

/** The answer to a {@link WorkerRequest}: its value, or a one-line error with a Node-style code. */
export type WorkerReply =
  | {
      /** Always `"reply"`: what tells a reply from the worker's other messages. */
      type: "reply";
      /** The `id` of the request it answers. */
      id: number;
      /** It worked. */
      ok: true;
      /** What the request returns (see {@link WorkerRequest}). */
      value: unknown;
    }
  | {
      /** Always `"reply"`: what tells a reply from the worker's other messages. */
      type: "reply";
      /** The `id` of the request it answers. */
      id: number;
      /** It failed. */
      ok: false;
      /** A Node-style error code (EINVAL, EFAULT…). */
      code: string;
      /** One line saying what went wrong. */
      error: string;
    };

/** Every message the worker posts. */
export type WorkerMessage =
  | {
      /** The machine booted: the first message. */
      type: "ready";
      /** What the machine is. */
      info: MachineInfo;
      /** The first status. */
      status: WorkerStatus;
      /** The buffer the state is published into from now on. */
      shared: SharedArrayBuffer;
    }
  | {
      /** The machine could not boot; the worker ends. */
      type: "fatal";
      /** A Node-style error code. */
      code: string;
      /** One line saying what went wrong. */
      error: string;
      /** The stack, for an error that is a bug rather than a bad option. */
      stack?: string;
    }
  | {
      /** The text part of the state changed. */
      type: "update";
      /** The new status. */
      status: WorkerStatus;
    }
  | WorkerReply;

/** What the worker is started with. */
export interface WorkerConfig {
  /** Session options, sizes in bytes (see SessionOptions). */
  session: {
    /** Physical memory in bytes. */
    memory: number;
    /** Filesystem on the disk. */
    fs: "simple" | "log";
    /** Eviction policy name. */
    policy: string;
    /** The machine's seed. */
    seed: number;
    /** Disk size in bytes. */
    disk: number;
    /** Device model name. */
    device: string;
    /** Swap size in bytes. */
    swap: number;
    /** Huge pages in the hugetlb pool at boot. */
    hugePages: number;
  };
  /** A workload spec (built-in name or file), or null for an idle machine. */
  workload: string | null;
  /** Start paused. */
  paused: boolean;
  /** Operations per second, 0 for as fast as it can. */
  speed: number;
}
