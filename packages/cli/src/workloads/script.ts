/**
 * Workload scripts: a JSON list of operations run on a machine — filesystem calls through Node's
 * fs API over the VFS, and a few kernel-side allocations (anonymous memory, kmalloc, vmalloc,
 * huge pages) so a script can put every kind of memory to use.
 *
 * ```json
 * { "description": "write a file, read it at random",
 *   "seed": 7,
 *   "ops": [
 *     { "op": "write", "path": "/data", "size": "32MiB" },
 *     { "op": "sync" },
 *     { "op": "random-read", "path": "/data", "count": 5000 },
 *     { "op": "repeat", "times": 4, "var": "i", "ops": [{ "op": "write", "path": "/log{i}", "size": "1MiB" }] }
 *   ] }
 * ```
 *
 * Sizes are byte counts or strings such as "4KiB", "32MiB". `{name}` in a path is replaced by the
 * value of the enclosing `repeat`'s variable of that name. docs/CLI.md lists every operation.
 */
import { readFileSync } from "node:fs";
import {
  MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE, Rng, parseSize, type AddressSpace,
} from "@folio/core";
import { CliError, withoutCode } from "../errors.js";
import type { Session } from "../session.js";
import type { Progress } from "../progress.js";

/** One operation of a script. */
export type ScriptOp =
  | {
      /** Create a directory and its missing parents. */
      op: "mkdir";
      /** Path on the mounted filesystem; `{name}` is replaced by a repeat variable. */
      path: string;
    }
  | {
      /** Create or truncate a file and write `size` bytes in `chunk`-byte writes. */
      op: "write";
      /** Path on the mounted filesystem; `{name}` is replaced by a repeat variable. */
      path: string;
      /** Bytes (a number, or a string such as "32MiB" in the script). */
      size: number;
      /** Bytes per system call; default 64 KiB. */
      chunk: number;
    }
  | {
      /** Append `size` bytes to a file in `chunk`-byte writes. */
      op: "append";
      /** Path on the mounted filesystem; `{name}` is replaced by a repeat variable. */
      path: string;
      /** Bytes (a number, or a string such as "32MiB" in the script). */
      size: number;
      /** Bytes per system call; default 64 KiB. */
      chunk: number;
    }
  | {
      /** Read a whole file in `chunk`-byte reads. */
      op: "read";
      /** Path on the mounted filesystem; `{name}` is replaced by a repeat variable. */
      path: string;
      /** Bytes per system call; default 64 KiB. */
      chunk: number;
    }
  | {
      /** Read `count` blocks of `size` bytes at random block-aligned offsets (from the script's seed). */
      op: "random-read";
      /** Path on the mounted filesystem; `{name}` is replaced by a repeat variable. */
      path: string;
      /** Reads to make. */
      count: number;
      /** Bytes per read; default 4 KiB. */
      size: number;
    }
  | {
      /** Write `count` blocks of `size` bytes at random block-aligned offsets. */
      op: "random-write";
      /** Path on the mounted filesystem; `{name}` is replaced by a repeat variable. */
      path: string;
      /** Writes to make. */
      count: number;
      /** Bytes per write; default 4 KiB. */
      size: number;
    }
  | {
      /** Create directory `dir` holding `count` files of `size` bytes (`f0`, `f1`, …). */
      op: "files";
      /** Directory path; `{name}` is replaced as in paths. */
      dir: string;
      /** Files. */
      count: number;
      /** Bytes per file. */
      size: number;
    }
  | {
      /** Copy a file or a directory tree. */
      op: "copy";
      /** Source path. */
      from: string;
      /** Destination path. */
      to: string;
    }
  | {
      /** Remove a file or tree; a missing path is no error. */
      op: "rm";
      /** Path on the mounted filesystem; `{name}` is replaced by a repeat variable. */
      path: string;
    }
  | {
      /** Rename `from` to `to`. */
      op: "rename";
      /** Source path. */
      from: string;
      /** Destination path. */
      to: string;
    }
  | {
      /** Set a file's size. */
      op: "truncate";
      /** Path on the mounted filesystem; `{name}` is replaced by a repeat variable. */
      path: string;
      /** New size in bytes. */
      size: number;
    }
  | {
      /** Open the file, fsync it, close it. */
      op: "fsync";
      /** Path on the mounted filesystem; `{name}` is replaced by a repeat variable. */
      path: string;
    }
  | {
      /** sync(2). */
      op: "sync";
    }
  | {
      /** Unmount and mount `/` again: everything written back and the filesystem's cache dropped. */
      op: "remount";
    }
  | {
      /** Let virtual time pass (background writeback and reclaim run). */
      op: "sleep";
      /** Milliseconds of virtual time. */
      ms: number;
    }
  | {
      /** Run `ops` `times` times, the variable `var` taking `from`, `from + step`, … */
      op: "repeat";
      /** Iterations. */
      times: number;
      /** First value of the variable; default 0. */
      from: number;
      /** Added to the variable after each iteration; default 1. */
      step: number;
      /** The variable's name (default `i`), substituted as `{i}` in paths. */
      var: string;
      /** The operations repeated. */
      ops: ScriptOp[];
    }
  | {
      /** Map `size` bytes of anonymous memory in a new address space and touch every page. */
      op: "anon";
      /** Bytes (a number, or a string such as "32MiB" in the script). */
      size: number;
    }
  | {
      /** Map a whole file shared and load (or, with `write`, store) one byte of every page. */
      op: "mmap";
      /** Path on the mounted filesystem; `{name}` is replaced by a repeat variable. */
      path: string;
      /** Store instead of load (and map writable). */
      write: boolean;
    }
  | {
      /** Allocate `count` kmalloc objects of `size` bytes, kept allocated. */
      op: "kmalloc";
      /** Bytes per object. */
      size: number;
      /** Objects; default 1. */
      count: number;
    }
  | {
      /** Allocate a vmalloc area of `size` bytes, kept allocated. */
      op: "vmalloc";
      /** Bytes (a number, or a string such as "32MiB" in the script). */
      size: number;
    }
  | {
      /** Set the hugetlb pool to `pool` pages (as many as can be had) and take `use` of them. */
      op: "hugepages";
      /** Pool size asked for, in 2 MiB pages. */
      pool: number;
      /** Pages to take from the pool; default 0. */
      use: number;
    }
  | {
      /** Memory errors in `count` frames drawn from the script's seed: hard offline, or soft with `soft`. */
      op: "poison";
      /** Frames, at least 1. */
      count: number;
      /** Soft offline (move the content away) instead of hard. */
      soft: boolean;
    }
  | {
      /** Compact memory for a free block of `order`, or the whole of memory with −1 (the default). */
      op: "compact";
      /** The order of the free block wanted, 0..10, or −1 for the whole of memory. */
      order: number;
    };

/** A parsed, checked script. */
export interface Script {
  /** What the script does, in words, for reports. */
  description: string;
  /** Seed of the script's own random choices (random-read offsets); independent of the machine's. */
  seed: number;
  /** The operations, in order; a repeat's are unrolled when run. */
  ops: ScriptOp[];
}

/** Every operation name, for messages and docs. */
export const SCRIPT_OPS = [
  "mkdir", "write", "append", "read", "random-read", "random-write", "files", "copy", "rm", "rename", "truncate", "fsync",
  "sync", "remount", "sleep", "repeat", "anon", "mmap", "kmalloc", "vmalloc", "hugepages", "poison", "compact",
] as const;

const KiB = 1024;

/** Reads and checks a script file; EINVAL naming the file and the bad field. */
export function readScript(path: string): Script {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code ?? "EIO";
    throw new CliError(code, `cannot read workload script ${path}: ${withoutCode((e as Error).message, code)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CliError("EINVAL", `${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseScript(json, path);
}

/** Checks a script given as a JSON value; `source` names it in errors. */
export function parseScript(json: unknown, source: string): Script {
  const where = (path: string) => `${source}: ${path}`;
  if (Array.isArray(json)) json = { ops: json };
  if (!isObject(json)) throw new CliError("EINVAL", `${source}: a workload script is an object with "ops" (or an array of operations)`);
  const description = json["description"] ?? "";
  if (typeof description !== "string") throw new CliError("EINVAL", where("description must be a string"));
  const seed = json["seed"] ?? 1;
  if (typeof seed !== "number" || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new CliError("EINVAL", where(`seed ${String(seed)} is not a whole number in [0, 2^32)`));
  return { description, seed, ops: parseOps(json["ops"], "ops", where) };
}

function parseOps(value: unknown, at: string, where: (p: string) => string): ScriptOp[] {
  if (!Array.isArray(value)) throw new CliError("EINVAL", where(`${at} must be an array of operations`));
  return value.map((v, i) => parseOp(v, `${at}[${i}]`, where));
}

function parseOp(v: unknown, at: string, where: (p: string) => string): ScriptOp {
  if (!isObject(v)) throw new CliError("EINVAL", where(`${at} must be an object such as {"op": "sync"}`));
  const bad = (field: string, why: string): never => {
    throw new CliError("EINVAL", where(`${at}.${field} ${why}`));
  };
  const str = (f: string): string => {
    const s = v[f];
    if (typeof s !== "string" || s === "") bad(f, "must be a non-empty string");
    if (f !== "var" && !(s as string).startsWith("/")) bad(f, `"${s as string}" must be an absolute path`);
    return s as string;
  };
  const size = (f: string, dflt?: number, allowZero = false): number => {
    const s = v[f];
    if (s === undefined) {
      if (dflt === undefined) bad(f, "is missing (a size such as 4096 or \"4MiB\")");
      return dflt!;
    }
    if (allowZero && s === 0) return 0;
    if (typeof s !== "number" && typeof s !== "string") bad(f, "must be a size such as 4096 or \"4MiB\"");
    try {
      return parseSize(s as string | number, f);
    } catch {
      return bad(f, `${JSON.stringify(s)} is not a size such as 4096 or "4MiB"`);
    }
  };
  const int = (f: string, dflt?: number, min = 0): number => {
    const n = v[f] ?? dflt;
    if (n === undefined) bad(f, "is missing");
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < min) bad(f, `${JSON.stringify(n)} is not a whole number ≥ ${min}`);
    return n as number;
  };
  const op = v["op"];
  switch (op) {
    case "mkdir": return { op, path: str("path") };
    case "write":
    case "append": return { op, path: str("path"), size: size("size", undefined, true), chunk: size("chunk", 64 * KiB) };
    case "read": return { op, path: str("path"), chunk: size("chunk", 64 * KiB) };
    case "random-read":
    case "random-write": return { op, path: str("path"), count: int("count"), size: size("size", 4 * KiB) };
    case "files": return { op, dir: str("dir"), count: int("count"), size: size("size", undefined, true) };
    case "copy":
    case "rename": return { op, from: str("from"), to: str("to") };
    case "rm":
    case "fsync": return { op, path: str("path") };
    case "truncate": return { op, path: str("path"), size: size("size", undefined, true) };
    case "sync":
    case "remount": return { op };
    case "sleep": return { op, ms: int("ms") };
    case "repeat": {
      const name = v["var"] ?? "i";
      if (typeof name !== "string" || !/^[a-z_][a-z0-9_]*$/i.test(name)) bad("var", "must be a name such as \"i\"");
      return { op, times: int("times"), from: int("from", 0), step: int("step", 1, 1), var: name as string, ops: parseOps(v["ops"], `${at}.ops`, where) };
    }
    case "anon": return { op, size: size("size") };
    case "mmap": {
      const w = v["write"] ?? false;
      if (typeof w !== "boolean") bad("write", "must be true or false");
      return { op, path: str("path"), write: w as boolean };
    }
    case "kmalloc": return { op, size: size("size"), count: int("count", 1, 1) };
    case "vmalloc": return { op, size: size("size") };
    case "hugepages": return { op, pool: int("pool"), use: int("use", 0) };
    case "poison": {
      const soft = v["soft"] ?? false;
      if (typeof soft !== "boolean") bad("soft", "must be true or false");
      return { op, count: int("count", undefined, 1), soft: soft as boolean };
    }
    case "compact": {
      const order = v["order"] ?? -1;
      if (typeof order !== "number" || !Number.isInteger(order) || order < -1 || order > 10) bad("order", `${JSON.stringify(order)} is not an order in [-1, 10]`);
      return { op, order: order as number };
    }
    default:
      return bad("op", `${JSON.stringify(op)} is not an operation (${SCRIPT_OPS.join(", ")})`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Progress units per step: a long step moves the bar in thousandths. */
export const PROGRESS_SCALE = 1000;

/** Steps a script takes: its operations, with every repeat unrolled (the progress bar counts them). */
export function countSteps(ops: readonly ScriptOp[]): number {
  let n = 0;
  for (const op of ops) n += op.op === "repeat" ? op.times * countSteps(op.ops) : 1;
  return n;
}

/**
 * One operation of a running workload, as {@link ScriptRunner.steps} and the replay of a trace
 * yield it: a system call or an allocation (`write(2)` of one chunk, one page touched, one
 * kmalloc), or a step that makes none (`sleep`). A viewer that pauses a workload stops it between
 * two of these.
 */
export interface WorkloadStep {
  /** The script step it belongs to, 1-based, repeats unrolled (a replayed trace: 1 its setup, 2 its requests). */
  readonly step: number;
  /** The operation: a script op name ("write", "random-read"…), or "setup" and "replay" for a trace. */
  readonly op: string;
  /** What it works on: a path, "/src → /dst", a size; "" when nothing in particular. */
  readonly target: string;
}

/**
 * Runs a script on a session, as a stream of operations ({@link steps}) or all at once
 * ({@link run}). `ops` counts the system calls and allocations made; the progress bar advances
 * once per step. What kernel memory the script allocates (anonymous memory, kmalloc, vmalloc,
 * huge pages) stays allocated, so reports after the run show it.
 */
export class ScriptRunner {
  /** System calls and allocations made so far. */
  ops = 0;
  private readonly rng: Rng;
  private readonly spaces: AddressSpace[] = [];
  private buffer = new Uint8Array(0);
  private stepsDone = 0;
  /** The step being run: what every operation of it yields (one object per step, not per call). */
  private current: WorkloadStep = { step: 0, op: "", target: "" };

  /** Runs `script` on `session`, advancing `progress` once per step; nothing runs until {@link run} or {@link steps}. */
  constructor(
    private readonly session: Session,
    private readonly script: Script,
    private readonly progress: Progress,
  ) {
    this.rng = new Rng(script.seed);
  }

  /** Runs every operation in order; errors carry the operation that failed. */
  run(): void {
    const it = this.steps();
    while (!it.next().done);
  }

  /**
   * The script as a stream: each `next()` runs one system call or allocation (or one step that
   * makes none, such as `sleep`) and yields what it belonged to. Abandoning the stream (`return()`)
   * closes the files it had open. Errors carry the operation that failed, as {@link run}'s do.
   */
  *steps(): Generator<WorkloadStep, void, void> {
    yield* this.runOps(this.script.ops, new Map());
  }

  private *runOps(ops: readonly ScriptOp[], vars: Map<string, number>): Generator<WorkloadStep, void, void> {
    for (const op of ops) {
      if (op.op === "repeat") {
        for (let k = 0; k < op.times; k++) {
          const inner = new Map(vars);
          inner.set(op.var, op.from + k * op.step);
          yield* this.runOps(op.ops, inner);
        }
        continue;
      }
      this.current = { step: this.stepsDone + 1, op: op.op, target: targetOf(op, vars) };
      const before = this.ops;
      try {
        yield* this.runOp(op, vars);
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        if (typeof code !== "string") throw e;
        throw new CliError(code, `workload step ${this.stepsDone + 1} (${op.op}): ${withoutCode((e as Error).message, code)}`);
      }
      // A step that made no call (sleep) is still one operation of the stream.
      if (this.ops === before) yield this.current;
      this.progress.update(++this.stepsDone * PROGRESS_SCALE);
    }
  }

  /** Reports that the current step is `done` of `total` along (long steps move the bar as they go). */
  private partly(done: number, total: number): void {
    if (total > 0) this.progress.update(Math.floor((this.stepsDone + Math.min(1, done / total)) * PROGRESS_SCALE));
  }

  /** Counts one system call or allocation; the caller yields {@link current} after it. */
  private call(): WorkloadStep {
    this.ops++;
    return this.current;
  }

  private *runOp(op: ScriptOp, vars: Map<string, number>): Generator<WorkloadStep, void, void> {
    const fs = this.session.fs;
    const m = this.session.machine;
    const p = (path: string) => substitute(path, vars);
    switch (op.op) {
      case "mkdir":
        fs.mkdirSync(p(op.path), { recursive: true });
        yield this.call();
        return;
      case "write":
      case "append":
        yield* this.writeFile(p(op.path), op.size, op.chunk, op.op === "append" ? "a" : "w");
        return;
      case "read":
        yield* this.readFile(p(op.path), op.chunk);
        return;
      case "random-read":
      case "random-write":
        yield* this.randomIo(p(op.path), op.count, op.size, op.op === "random-write");
        return;
      case "files": {
        const dir = p(op.dir);
        fs.mkdirSync(dir, { recursive: true });
        yield this.call();
        for (let i = 0; i < op.count; i++) {
          yield* this.writeFile(`${dir}/f${i}`, op.size, 64 * KiB, "w");
          this.partly(i + 1, op.count);
        }
        return;
      }
      case "copy":
        yield* this.copy(p(op.from), p(op.to));
        return;
      case "rm":
        fs.rmSync(p(op.path), { recursive: true, force: true });
        yield this.call();
        return;
      case "rename":
        fs.renameSync(p(op.from), p(op.to));
        yield this.call();
        return;
      case "truncate":
        fs.truncateSync(p(op.path), op.size);
        yield this.call();
        return;
      case "fsync": {
        const fd = fs.openSync(p(op.path), "r");
        try {
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
        yield this.call();
        return;
      }
      case "sync":
        this.session.vfs.sync();
        yield this.call();
        return;
      case "remount": {
        // Unmount and mount again: everything written back, the page cache of the filesystem
        // dropped — a cold cache, as `echo 3 > drop_caches` gives on Linux for clean pages.
        const { vfs, device, options } = this.session;
        vfs.umount("/");
        vfs.mount("/", options.fs, { device });
        this.ops += 2;
        yield this.current;
        return;
      }
      case "sleep":
        m.scheduler.runFor(op.ms * 1e6);
        return;
      case "anon": {
        const space = m.mm.createAddressSpace(`workload-anon-${this.spaces.length + 1}`);
        this.spaces.push(space);
        const addr = space.mmap({ length: op.size, prot: PROT_READ | PROT_WRITE, flags: MAP_PRIVATE | MAP_ANONYMOUS });
        const one = new Uint8Array([1]);
        for (let off = 0; off < op.size; off += PAGE_SIZE) {
          space.store(addr + off, one);
          yield this.call();
        }
        return;
      }
      case "mmap":
        yield* this.mmapFile(p(op.path), op.write);
        return;
      case "kmalloc":
        for (let i = 0; i < op.count; i++) {
          m.kmem.kmalloc(op.size);
          yield this.call();
        }
        return;
      case "vmalloc":
        m.vmalloc.vmalloc(op.size);
        yield this.call();
        return;
      case "hugepages": {
        // Growing the pool stops quietly when no 2 MiB block is left (as nr_hugepages does): use
        // what the pool got.
        m.hugetlb.setPoolSize(op.pool);
        yield this.call();
        const use = Math.min(op.use, m.hugetlb.free);
        for (let i = 0; i < use; i++) {
          m.hugetlb.alloc();
          yield this.call();
        }
        return;
      }
      case "poison":
        // Memory errors in frames drawn from the script's seed, anywhere but frame 0 (reserved):
        // hard offline poisons the frame and contains the damage by what it holds; soft offline
        // moves what can move and retires the frame.
        for (let i = 0; i < op.count; i++) {
          const pfn = 1 + this.rng.below(m.frames - 1);
          if (op.soft) m.memoryFailure.softOffline(pfn);
          else m.memoryFailure.hardOffline(pfn);
          yield this.call();
        }
        return;
      case "compact":
        // echo 1 > /proc/sys/vm/compact_memory (order -1: the whole zone), or compaction for one order.
        m.compaction.compact({ order: op.order });
        yield this.call();
        return;
      case "repeat":
        return; // unrolled by runOps
    }
  }

  /** A buffer of at least `n` bytes, reused across calls. */
  private buf(n: number): Uint8Array {
    if (this.buffer.length < n) this.buffer = new Uint8Array(n);
    return this.buffer;
  }

  /** Writes `size` bytes of a pattern that differs by file and offset (so pages are not all alike). */
  private *writeFile(path: string, size: number, chunk: number, flags: "w" | "a"): Generator<WorkloadStep, void, void> {
    const fs = this.session.fs;
    const fd = fs.openSync(path, flags);
    try {
      yield this.call();
      const buf = this.buf(chunk);
      let seed = hash(path);
      for (let done = 0; done < size; done += chunk) {
        const n = Math.min(chunk, size - done);
        seed = (seed * 1103515245 + 12345) >>> 0;
        buf.fill(seed >>> 24, 0, n);
        fs.writeSync(fd, buf, 0, n);
        this.partly(done + n, size);
        yield this.call();
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  private *readFile(path: string, chunk: number): Generator<WorkloadStep, void, void> {
    const fs = this.session.fs;
    const fd = fs.openSync(path, "r");
    try {
      yield this.call();
      const buf = this.buf(chunk);
      const size = fs.fstatSync(fd).size;
      let done = 0;
      for (let n; (n = fs.readSync(fd, buf, 0, chunk, null)) > 0;) {
        this.partly((done += n), size);
        yield this.call();
      }
      yield this.call(); // the read that returned 0: end of file
    } finally {
      fs.closeSync(fd);
    }
  }

  private *randomIo(path: string, count: number, size: number, write: boolean): Generator<WorkloadStep, void, void> {
    const fs = this.session.fs;
    const fd = fs.openSync(path, write ? "r+" : "r");
    try {
      yield this.call();
      const slots = Math.floor(fs.fstatSync(fd).size / size);
      if (slots === 0) throw new CliError("EINVAL", `${path} is smaller than one ${size}-byte block: nothing to ${write ? "write" : "read"} at random`);
      const buf = this.buf(size);
      for (let i = 0; i < count; i++) {
        const pos = this.rng.below(slots) * size;
        if (write) {
          buf.fill(i & 0xff, 0, size);
          fs.writeSync(fd, buf, 0, size, pos);
        } else {
          fs.readSync(fd, buf, 0, size, pos);
        }
        if ((i & 63) === 0) this.partly(i, count);
        yield this.call();
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Copies a file or a directory tree, like `cp -r`. */
  private *copy(from: string, to: string): Generator<WorkloadStep, void, void> {
    const fs = this.session.fs;
    const st = fs.statSync(from);
    yield this.call();
    if (st.isDirectory()) {
      fs.mkdirSync(to, { recursive: true });
      yield this.call();
      const names = fs.readdirSync(from);
      yield this.call();
      for (const name of names) yield* this.copy(`${from}/${name}`, `${to}/${name}`);
      return;
    }
    const src = fs.openSync(from, "r");
    let dst = -1;
    try {
      dst = fs.openSync(to, "w");
      this.ops++;
      yield this.call();
      for (;;) {
        const buf = this.buf(64 * KiB);
        const n = fs.readSync(src, buf, 0, 64 * KiB, null);
        yield this.call();
        if (n === 0) break;
        fs.writeSync(dst, buf, 0, n);
        yield this.call();
      }
    } finally {
      fs.closeSync(src);
      if (dst >= 0) fs.closeSync(dst);
    }
  }

  /** Maps a file shared and touches every page (a load, or a store with `write`), then unmaps it. */
  private *mmapFile(path: string, write: boolean): Generator<WorkloadStep, void, void> {
    const { fs, vfs, machine } = this.session;
    const fd = fs.openSync(path, write ? "r+" : "r");
    const space = machine.mm.createAddressSpace("workload-mmap");
    try {
      yield this.call();
      const size = fs.fstatSync(fd).size;
      if (size === 0) return;
      const addr = vfs.mmap(space, fd, { length: size, prot: PROT_READ | (write ? PROT_WRITE : 0), flags: MAP_SHARED });
      yield this.call();
      const one = new Uint8Array(1);
      for (let off = 0; off < size; off += PAGE_SIZE) {
        if (write) space.store(addr + off, one);
        else space.load(addr + off, one);
        yield this.call();
      }
    } finally {
      space.destroy();
      fs.closeSync(fd);
    }
  }
}

/** `path` with every `{name}` replaced by the value of the enclosing repeat's variable. */
function substitute(path: string, vars: ReadonlyMap<string, number>): string {
  return path.replace(/\{([a-z_][a-z0-9_]*)\}/gi, (whole, name: string) => {
    const v = vars.get(name);
    return v === undefined ? whole : String(v);
  });
}

/** What a step works on, for a viewer's status line. */
function targetOf(op: ScriptOp, vars: ReadonlyMap<string, number>): string {
  switch (op.op) {
    case "copy":
    case "rename": return `${substitute(op.from, vars)} → ${substitute(op.to, vars)}`;
    case "files": return `${substitute(op.dir, vars)} (${op.count} files)`;
    case "anon": case "vmalloc": return `${op.size} bytes`;
    case "kmalloc": return `${op.count} × ${op.size} bytes`;
    case "hugepages": return `pool ${op.pool}, use ${op.use}`;
    case "poison": return `${op.count} frame(s), ${op.soft ? "soft" : "hard"}`;
    case "compact": return op.order < 0 ? "whole memory" : `order ${op.order}`;
    case "sleep": return `${op.ms} ms`;
    case "sync": case "remount": case "repeat": return "";
    default: return substitute(op.path, vars);
  }
}

/** FNV-1a of a string: a per-file seed for the written pattern. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
