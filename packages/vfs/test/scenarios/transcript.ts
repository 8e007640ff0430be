/**
 * Transcripts of scenario runs: every call a scenario makes is recorded with its result or its
 * error, normalised so that what legitimately differs between node:fs on a real disk and
 * createNodeFs over a Folio filesystem does not show:
 *
 * * paths: the scenario's root (a temp dir, or a directory of the Folio mount) reads "<root>";
 * * Stats: type, mode, nlink, uid, gid, and size except for directories; never times,
 *   inode numbers, st_dev, blocks, blksize or birthtime (scenarios record the relations that matter —
 *   "mtime changed", "hard links share ino", "the file is sparse" — as notes);
 * * readdir results: sorted by name (node:fs returns the directory's hash order);
 * * descriptors: recorded as "fd", never their numbers; FileHandles as "FileHandle";
 * * Buffers: length, a hash and the first bytes in hex.
 *
 * Errors are recorded as code, errno, syscall, path, dest, name and message (paths normalised),
 * each only when set, so "has a path" is compared as well as what the path is; Node's argument
 * errors (ERR_INVALID_ARG_TYPE…) as code and class only.
 */
import { isDeepStrictEqual } from "node:util";

/** What a recorded call did. */
export type Outcome = { ok: unknown } | { err: ErrorSummary };

export interface Entry {
  label: string;
  outcome: Outcome;
}

export interface ErrorSummary {
  code?: unknown;
  errno?: unknown;
  syscall?: unknown;
  path?: unknown;
  dest?: unknown;
  name?: unknown;
  message?: unknown;
}

/** Which fields of an error a call compares: all, or only the code (where node:fs's own forms differ by design). */
export type ErrorFields = "all" | "code" | "code+syscall";

/** Records the calls of one scenario run. */
export class Recorder {
  readonly entries: Entry[] = [];

  /** `root` is replaced by "<root>" in every string recorded. */
  constructor(readonly root: string) {}

  /** Runs `fn`, records its result or error, and returns the result (undefined when it threw). */
  call<T>(label: string, fn: () => T, fields: ErrorFields = "all"): T | undefined {
    try {
      const v = fn();
      this.push(label, { ok: this.norm(v) });
      return v;
    } catch (e) {
      this.push(label, { err: this.error(e, fields) });
      return undefined;
    }
  }

  /** As {@link call}, for a promise. */
  async acall<T>(label: string, fn: () => Promise<T>, fields: ErrorFields = "all"): Promise<T | undefined> {
    try {
      const v = await fn();
      this.push(label, { ok: this.norm(v) });
      return v;
    } catch (e) {
      this.push(label, { err: this.error(e, fields) });
      return undefined;
    }
  }

  /** Records an open: "fd" on success (never the number); returns the descriptor or -1. */
  fd(label: string, fn: () => number): number {
    try {
      const fd = fn();
      this.push(label, { ok: typeof fd === "number" && Number.isInteger(fd) && fd >= 0 ? "fd" : this.norm(fd) });
      return fd;
    } catch (e) {
      this.push(label, { err: this.error(e, "all") });
      return -1;
    }
  }

  /** Records a derived fact (a relation between results, a comparison with a model…). */
  note(label: string, value: unknown): void {
    this.push(label, { ok: this.norm(value) });
  }

  /** The number of calls and notes recorded. */
  get size(): number {
    return this.entries.length;
  }

  private push(label: string, outcome: Outcome): void {
    this.entries.push({ label, outcome });
  }

  private error(e: unknown, fields: ErrorFields): ErrorSummary {
    if (!(e instanceof Error)) return { name: `non-Error thrown: ${String(e)}` };
    const x = e as Error & Record<string, unknown>;
    const out: ErrorSummary = {};
    if (x.code !== undefined) out.code = x.code;
    if (fields === "code") return out;
    // Node's argument errors (ERR_INVALID_ARG_TYPE…): the code and class; their wording changes between Node versions.
    if (typeof x.code === "string" && x.code.startsWith("ERR_") && x.errno === undefined) {
      out.name = x.name;
      return out;
    }
    if (x.syscall !== undefined) out.syscall = x.syscall;
    if (fields === "code+syscall") return out;
    if (x.errno !== undefined) out.errno = x.errno;
    if (x.path !== undefined) out.path = this.norm(x.path);
    if (x.dest !== undefined) out.dest = this.norm(x.dest);
    if (x.name !== "Error") out.name = x.name;
    out.message = this.norm(x.message);
    return out;
  }

  /** The normal form of a value, as described at the top of this file. */
  norm(v: unknown): unknown {
    if (v === undefined) return "undefined";
    if (v === null || typeof v === "boolean" || typeof v === "number") return v;
    if (typeof v === "bigint") return `${v}n`;
    if (typeof v === "string") return this.normPath(v);
    if (Buffer.isBuffer(v) || v instanceof Uint8Array) return bytesSummary(v);
    if (Array.isArray(v)) {
      const items = v.map((x) => this.norm(x));
      // readdir is the only call that returns a list: node:fs gives the directory's own order.
      return v.every((x) => typeof x === "string" || isDirent(x)) ? items.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)) : items;
    }
    if (isStats(v)) return this.stats(v);
    if (isDirent(v)) return { dirent: v.name, type: typeOf(v), parentPath: this.norm(v.parentPath) };
    if (typeof v === "object" && typeof (v as { fd?: unknown }).fd === "number" && typeof (v as { close?: unknown }).close === "function") return "FileHandle";
    if (typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.norm(x);
      return out;
    }
    return `<${typeof v}>`;
  }

  private normPath(s: string): string {
    return s.split(this.root).join("<root>");
  }

  private stats(st: StatsLike): Record<string, unknown> {
    const type = typeOf(st);
    const big = typeof st.mode === "bigint";
    const out: Record<string, unknown> = {
      type,
      mode: `0o${Number(st.mode).toString(8)}`,
      nlink: Number(st.nlink),
      uid: Number(st.uid),
      gid: Number(st.gid),
    };
    if (type !== "dir") out.size = Number(st.size);
    if (big) out.bigint = true;
    return out;
  }
}

interface StatsLike {
  mode: number | bigint;
  nlink: number | bigint;
  uid: number | bigint;
  gid: number | bigint;
  size: number | bigint;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

interface DirentLike {
  name: string;
  parentPath: string;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

function isStats(v: unknown): v is StatsLike {
  return typeof v === "object" && v !== null && "mode" in v && "nlink" in v && typeof (v as StatsLike).isFile === "function";
}

function isDirent(v: unknown): v is DirentLike {
  return typeof v === "object" && v !== null && "name" in v && !("mode" in v) && typeof (v as DirentLike).isFile === "function";
}

function typeOf(v: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): string {
  return v.isFile() ? "file" : v.isDirectory() ? "dir" : v.isSymbolicLink() ? "symlink" : "other";
}

/** FNV-1a of some bytes, as 8 hex digits. */
export function hashBytes(b: Uint8Array): string {
  let h = 2166136261;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 16777619) >>> 0;
  return h.toString(16).padStart(8, "0");
}

function bytesSummary(b: Uint8Array): string {
  const head = Buffer.from(b.buffer, b.byteOffset, Math.min(b.byteLength, 16)).toString("hex");
  return `bytes(${b.byteLength}) ${hashBytes(b)} ${head}${b.byteLength > 16 ? "…" : ""}`;
}

/** The differences between an expected and an actual transcript, one readable line each. */
export function diffTranscripts(expected: readonly Entry[], actual: readonly Entry[], names = ["node:fs", "Folio"], limit = 30): string[] {
  const out: string[] = [];
  const n = Math.max(expected.length, actual.length);
  for (let i = 0; i < n && out.length < limit; i++) {
    const e = expected[i];
    const a = actual[i];
    if (e && a && e.label === a.label && isDeepStrictEqual(e.outcome, a.outcome)) continue;
    if (e && a && e.label !== a.label) {
      out.push(`#${i}: the transcripts diverge: expected call "${e.label}", got "${a.label}"`);
      break;
    }
    const label = (e ?? a)!.label;
    out.push(`#${i} ${label}: ${names[0]} ${show(e?.outcome)}, ${names[1]} ${show(a?.outcome)}`);
  }
  return out;
}

/** One outcome, compactly (long strings, such as 4000-byte paths, shortened). */
export function show(o: Outcome | undefined): string {
  if (o === undefined) return "(nothing)";
  return JSON.stringify(o, (_k, v: unknown) => (typeof v === "bigint" ? `${v}n` : typeof v === "string" && v.length > 120 ? `${v.slice(0, 60)}…(${v.length} chars)…${v.slice(-40)}` : v));
}
