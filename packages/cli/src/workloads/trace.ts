/**
 * Replaying recorded traces on a machine: page-access traces (the page-cache trace recorder's
 * keys, as `folio run --record-trace` or `AccessTraceRecorder` + `writeTrace` write them, or any
 * text/`.f64` trace of @folio/policies) and block I/O traces in the `version,time,op,size,lbn`
 * CSV format (such as the CloudPhysics sample).
 *
 * A trace names pages, not files: each page key `owner × 2^32 + index` becomes page `index'` of
 * a file `/trace/o<owner>`, where `index'` numbers an owner's distinct pages in the order they
 * first appear. The renumbering keeps every reuse distance (what eviction depends on) and a
 * sequential run stays sequential, while a sparse trace (a disk's block addresses) needs a file
 * only as large as the pages it touches. The files are written first, the cache dropped (an
 * unmount and mount), and then every request is one 4 KiB read or write.
 */
import { readFileSync } from "node:fs";
import { PAGE_SIZE } from "@folio/core";
import { TRACE_INDEX_SPAN } from "@folio/pagecache";
import { readTrace } from "@folio/policies";
import { CliError, withoutCode } from "../errors.js";
import type { Progress } from "../progress.js";
import type { Session } from "../session.js";
import type { WorkloadStep } from "./script.js";

/** A trace ready to replay: files to create and requests against them. */
export interface ReplayPlan {
  /** Pages of each file /trace/o<owner>. */
  files: {
    /** Where the file is created. */
    path: string;
    /** Its size in pages. */
    pages: number;
  }[];
  /** Per request: the index in {@link files} of the file it touches. */
  file: Uint32Array;
  /** Per request: the page in that file. */
  page: Uint32Array;
  /** Per request: 1 for a write, 0 for a read. */
  write: Uint8Array;
  /** Reads in the trace. */
  reads: number;
  /** Writes in the trace. */
  writes: number;
}

/** Whether `path` looks like a block trace (by name: `.csv`). */
export function isBlockTrace(path: string): boolean {
  return path.toLowerCase().endsWith(".csv");
}

/** Builds the plan of a page-key trace file (text or `.f64`/`.bin`); every request a read. */
export function planPageTrace(path: string): ReplayPlan {
  let keys: Float64Array;
  try {
    keys = readTrace(path);
  } catch (e) {
    const raw = (e as { code?: unknown }).code;
    const code = typeof raw === "string" ? raw : "EINVAL";
    throw new CliError(code, `${path}: ${withoutCode((e as Error).message, code)}`);
  }
  if (keys.length === 0) throw new CliError("EINVAL", `${path}: the trace has no requests`);
  const b = new PlanBuilder(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    b.add(Math.floor(k / TRACE_INDEX_SPAN), k % TRACE_INDEX_SPAN, false);
  }
  return b.finish();
}

/**
 * Builds the plan of a block trace in CSV (`version,time,op,size,lbn`, a header line allowed):
 * `op` a SCSI opcode in hex (28/88 read, 2a/8a write), `size` in bytes, `lbn` the first 512-byte
 * sector. Each request touches the 4 KiB pages its sectors cover; other opcodes are skipped.
 */
export function planBlockTrace(path: string): ReplayPlan {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as { code?: string }).code ?? "EIO";
    throw new CliError(code, `cannot read ${path}: ${withoutCode((e as Error).message, code)}`);
  }
  const b = new PlanBuilder(1024);
  let lineNo = 0;
  for (const raw of text.split("\n")) {
    lineNo++;
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || /^[a-z]/i.test(line)) continue; // blank, comment, header
    const f = line.split(",");
    if (f.length < 5) throw new CliError("EINVAL", `${path}:${lineNo}: expected version,time,op,size,lbn`);
    const op = parseInt(f[2]!, 16);
    const size = Number(f[3]);
    const lbn = Number(f[4]);
    if (!Number.isSafeInteger(size) || !Number.isSafeInteger(lbn) || size < 0 || lbn < 0) {
      throw new CliError("EINVAL", `${path}:${lineNo}: size and lbn must be whole numbers`);
    }
    const write = op === 0x2a || op === 0x8a;
    if (!(write || op === 0x28 || op === 0x88) || size === 0) continue;
    const first = Math.floor((lbn * 512) / PAGE_SIZE);
    const last = Math.floor((lbn * 512 + size - 1) / PAGE_SIZE);
    for (let p = first; p <= last; p++) b.add(0, p, write);
  }
  if (b.length === 0) throw new CliError("EINVAL", `${path}: no read or write requests in the trace`);
  return b.finish();
}

/** Collects requests, numbering each owner's pages densely in order of first appearance. */
class PlanBuilder {
  private file: Uint32Array;
  private page: Uint32Array;
  private write: Uint8Array;
  length = 0;
  private reads = 0;
  private writes = 0;
  private readonly owners = new Map<number, { n: number; pages: Map<number, number> }>();

  constructor(capacity: number) {
    this.file = new Uint32Array(capacity);
    this.page = new Uint32Array(capacity);
    this.write = new Uint8Array(capacity);
  }

  add(owner: number, index: number, write: boolean): void {
    let o = this.owners.get(owner);
    if (!o) this.owners.set(owner, (o = { n: this.owners.size, pages: new Map() }));
    let dense = o.pages.get(index);
    if (dense === undefined) o.pages.set(index, (dense = o.pages.size));
    if (this.length === this.file.length) this.grow();
    this.file[this.length] = o.n;
    this.page[this.length] = dense;
    this.write[this.length] = write ? 1 : 0;
    this.length++;
    if (write) this.writes++;
    else this.reads++;
  }

  private grow(): void {
    const n = this.file.length * 2;
    const f = new Uint32Array(n);
    f.set(this.file);
    const p = new Uint32Array(n);
    p.set(this.page);
    const w = new Uint8Array(n);
    w.set(this.write);
    this.file = f;
    this.page = p;
    this.write = w;
  }

  finish(): ReplayPlan {
    const files = [...this.owners.entries()].map(([owner, o]) => ({ path: `/trace/o${owner}`, pages: o.pages.size }));
    return {
      files, reads: this.reads, writes: this.writes,
      file: this.file.slice(0, this.length), page: this.page.slice(0, this.length), write: this.write.slice(0, this.length),
    };
  }
}

/** Bytes of file data a plan creates. */
export function planBytes(plan: ReplayPlan): number {
  return plan.files.reduce((sum, f) => sum + f.pages * PAGE_SIZE, 0);
}

/**
 * Replays a plan: writes the files (1 MiB at a time), drops the cache by remounting, calls
 * `begin` (the measured part starts), then runs every request. Returns the system calls made in
 * the measured part. The progress bar counts pages written, then requests.
 */
export function replay(session: Session, plan: ReplayPlan, progress: Progress, begin?: () => void): number {
  const it = replaySteps(session, plan, progress, begin);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
  }
}

/**
 * {@link replay} as a stream of operations: each `next()` makes one system call of the setup (a
 * 1 MiB write; the remount that drops the cache is one step) or one request, and yields what it
 * belonged to. The generator's return value is the system calls of the measured part.
 */
export function* replaySteps(session: Session, plan: ReplayPlan, progress: Progress, begin?: () => void): Generator<WorkloadStep, number, void> {
  const { fs, vfs, device, options } = session;
  const setupStep: WorkloadStep = { step: 1, op: "setup", target: `${plan.files.length} file(s) under /trace` };
  const replayStep: WorkloadStep = { step: 2, op: "replay", target: `${plan.file.length} requests` };
  fs.mkdirSync("/trace", { recursive: true });
  yield setupStep;
  const chunk = new Uint8Array(1 << 20);
  const setup = planBytes(plan) / PAGE_SIZE;
  const total = setup + plan.file.length;
  let written = 0;
  for (const f of plan.files) {
    const fd = fs.openSync(f.path, "w");
    try {
      let left = f.pages * PAGE_SIZE;
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        chunk.fill(left & 0xff, 0, n);
        fs.writeSync(fd, chunk, 0, n);
        left -= n;
        progress.update((written += n / PAGE_SIZE), total);
        yield setupStep;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  vfs.umount("/");
  vfs.mount("/", options.fs, { device });
  yield setupStep;
  begin?.();
  let ops = 0;
  const fds: number[] = [];
  try {
    for (const f of plan.files) fds.push(fs.openSync(f.path, "r+"));
    ops += fds.length;
    const buf = new Uint8Array(PAGE_SIZE);
    const requests = plan.file.length;
    for (let i = 0; i < requests; i++) {
      const fd = fds[plan.file[i]!]!;
      const pos = plan.page[i]! * PAGE_SIZE;
      if (plan.write[i]) fs.writeSync(fd, buf, 0, PAGE_SIZE, pos);
      else fs.readSync(fd, buf, 0, PAGE_SIZE, pos);
      ops++;
      if ((i & 255) === 0) progress.update(setup + i, total);
      yield replayStep;
    }
    progress.update(total, total);
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
  return ops;
}
