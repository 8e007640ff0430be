/**
 * The workload: fsx extended to metadata. Each operation is drawn from the run's Rng against the
 * model's current tree — mostly valid operations on existing names, some on names that collide or
 * do not exist, so every error path the model predicts is exercised too. Mapping operations
 * (mmap, load, store, msync, munmap) work on up to {@link MAP_SLOTS} mappings the harness keeps.
 */
import type { Rng } from "@folio/core";
import { PAGE } from "./content.js";
import type { MNode, Model } from "./model.js";

/**
 * One operation of the workload, as drawn and as logged ({@link formatOp}): `t` names it, the other
 * fields are its arguments. The runner applies it to the filesystem and to the model and compares.
 */
export type Op =
  | {
      /** Open with O_CREAT (and O_EXCL, O_TRUNC as asked), then close. */
      t: "create";
      /** Absolute path in the filesystem under test. */
      path: string;
      /** With O_EXCL: EEXIST if the name exists. */
      excl: boolean;
      /** Also pass O_TRUNC: an existing file is emptied. */
      trunc: boolean;
    }
  | {
      /** Write `len` bytes of content derived from `seed` at `off` (open, write, close). */
      t: "write";
      /** Absolute path in the filesystem under test. */
      path: string;
      /** Byte offset in the file (or mapping); may lie past end of file. */
      off: number;
      /** Length in bytes, at least 1. */
      len: number;
      /** Seed of the bytes written ({@link fillBytes}), so the model can regenerate them. */
      seed: number;
    }
  | {
      /** Read `len` bytes at `off` and compare them with the model. */
      t: "read";
      /** Absolute path in the filesystem under test. */
      path: string;
      /** Byte offset in the file (or mapping); may lie past end of file. */
      off: number;
      /** Length in bytes, at least 1. */
      len: number;
    }
  | {
      /** Set the file's size. */
      t: "truncate";
      /** Absolute path in the filesystem under test. */
      path: string;
      /** New size in bytes. */
      size: number;
    }
  | {
      /** Zero `[off, off + len)` within the file (no fallocate: written as zeros, never past EOF). */
      t: "punch";
      /** Absolute path in the filesystem under test. */
      path: string;
      /** Byte offset in the file (or mapping); may lie past end of file. */
      off: number;
      /** Length in bytes, at least 1. */
      len: number;
    }
  | {
      /** Rename `from` to `to`. */
      t: "rename";
      /** The name renamed or linked to (a missing one exercises the error path). */
      from: string;
      /** The new name (it may exist: a rename replaces it, a link fails with EEXIST). */
      to: string;
    }
  | {
      /** Add the name `to` for the file at `from`. */
      t: "link";
      /** The name renamed or linked to (a missing one exercises the error path). */
      from: string;
      /** The new name (it may exist: a rename replaces it, a link fails with EEXIST). */
      to: string;
    }
  | {
      /** Remove a non-directory name. */
      t: "unlink";
      /** Absolute path in the filesystem under test. */
      path: string;
    }
  | {
      /** Create a directory. */
      t: "mkdir";
      /** Absolute path in the filesystem under test. */
      path: string;
    }
  | {
      /** Remove an empty directory. */
      t: "rmdir";
      /** Absolute path in the filesystem under test. */
      path: string;
    }
  | {
      /** fsync (or fdatasync) the file; durable from here on, as the persistence model says. */
      t: "fsync";
      /** Absolute path in the filesystem under test. */
      path: string;
      /** fdatasync rather than fsync. */
      datasync: boolean;
    }
  | {
      /** fsync a directory through the VFS (which syncs its filesystem). */
      t: "fsyncdir";
      /** Absolute path in the filesystem under test. */
      path: string;
    }
  | {
      /** The filesystem's own fsync of a directory, through its file operations. */
      t: "fsyncdir-fs";
      /** Absolute path in the filesystem under test. */
      path: string;
    }
  | {
      /** sync(2): everything durable. */
      t: "sync";
    }
  | {
      /** stat and compare with the model. */
      t: "stat";
      /** Absolute path in the filesystem under test. */
      path: string;
    }
  | {
      /** List a directory and compare with the model. */
      t: "readdir";
      /** Absolute path in the filesystem under test. */
      path: string;
    }
  | {
      /** Create a symbolic link at `path` holding `target`. */
      t: "symlink";
      /** Absolute path in the filesystem under test. */
      path: string;
      /** The link's target: a relative name that never resolves. */
      target: string;
    }
  | {
      /** Read a symlink's target and compare. */
      t: "readlink";
      /** Absolute path in the filesystem under test. */
      path: string;
    }
  | {
      /** Open `path` into descriptor slot `slot`, kept across operations. */
      t: "open";
      /** Absolute path in the filesystem under test. */
      path: string;
      /** Descriptor slot, 0 ≤ slot < the harness's pool size. */
      slot: number;
    }
  | {
      /** Close the descriptor in slot `slot`. */
      t: "close";
      /** Descriptor slot, 0 ≤ slot < the harness's pool size. */
      slot: number;
    }
  | {
      /** Write through the descriptor in `slot`: `len` bytes from `seed` at `off`. */
      t: "fwrite";
      /** Descriptor slot, 0 ≤ slot < the harness's pool size. */
      slot: number;
      /** Byte offset in the file (or mapping); may lie past end of file. */
      off: number;
      /** Length in bytes, at least 1. */
      len: number;
      /** Seed of the bytes written ({@link fillBytes}), so the model can regenerate them. */
      seed: number;
    }
  | {
      /** Read through the descriptor in `slot` and compare. */
      t: "fread";
      /** Descriptor slot, 0 ≤ slot < the harness's pool size. */
      slot: number;
      /** Byte offset in the file (or mapping); may lie past end of file. */
      off: number;
      /** Length in bytes, at least 1. */
      len: number;
    }
  | {
      /** ftruncate through the descriptor in `slot`. */
      t: "ftruncate";
      /** Descriptor slot, 0 ≤ slot < the harness's pool size. */
      slot: number;
      /** New size in bytes. */
      size: number;
    }
  | {
      /** fsync through the descriptor in `slot`. */
      t: "ffsync";
      /** Descriptor slot, 0 ≤ slot < the harness's pool size. */
      slot: number;
    }
  | {
      /** Let `ns` of virtual time pass: background writeback, cleaning and reclaim run. */
      t: "idle";
      /** Virtual time to let pass, in ns. */
      ns: number;
    }
  | {
      /** Unmount cleanly and mount again; every file must read back as before. */
      t: "remount";
    }
  | {
      /** Map `[off, off + len)` of the file into mapping slot `map`, shared (stores reach the file) or private (copy-on-write). */
      t: "mmap-shared" | "mmap-private";
      /** Absolute path in the filesystem under test. */
      path: string;
      /** Mapping slot, 0 ≤ map < {@link MAP_SLOTS}. */
      map: number;
      /** Byte offset in the file (or mapping); may lie past end of file. */
      off: number;
      /** Length in bytes, at least 1. */
      len: number;
    }
  | {
      /** Load `len` bytes at `off` of the mapping in slot `map` and compare. */
      t: "load";
      /** Mapping slot, 0 ≤ map < {@link MAP_SLOTS}. */
      map: number;
      /** Byte offset in the file (or mapping); may lie past end of file. */
      off: number;
      /** Length in bytes, at least 1. */
      len: number;
    }
  | {
      /** Store `len` bytes from `seed` at `off` of the mapping in slot `map`. */
      t: "store";
      /** Mapping slot, 0 ≤ map < {@link MAP_SLOTS}. */
      map: number;
      /** Byte offset in the file (or mapping); may lie past end of file. */
      off: number;
      /** Length in bytes, at least 1. */
      len: number;
      /** Seed of the bytes written ({@link fillBytes}), so the model can regenerate them. */
      seed: number;
    }
  | {
      /** msync(MS_SYNC) the whole mapping in slot `map`. */
      t: "msync";
      /** Mapping slot, 0 ≤ map < {@link MAP_SLOTS}. */
      map: number;
    }
  | {
      /** Unmap the mapping in slot `map`. */
      t: "munmap";
      /** Mapping slot, 0 ≤ map < {@link MAP_SLOTS}. */
      map: number;
    };

/** An operation's name: the `t` of an {@link Op}. */
export type OpType = Op["t"];

/** Relative weights of the operations. */
export const DEFAULT_WEIGHTS: Readonly<Record<OpType, number>> = Object.freeze({
  create: 6, write: 20, read: 10, truncate: 4, punch: 2, rename: 5, link: 2, unlink: 4, mkdir: 2, rmdir: 2,
  fsync: 6, fsyncdir: 0.6, "fsyncdir-fs": 2.5, sync: 0.8, stat: 5, readdir: 2, symlink: 0.7, readlink: 0.5,
  open: 2, close: 1.5, fwrite: 4, fread: 2, ftruncate: 0.8, ffsync: 1.2, idle: 0.8, remount: 0.15,
  "mmap-shared": 0.5, "mmap-private": 0.3, load: 1.2, store: 1.6, msync: 0.4, munmap: 0.3,
});

/** Mappings the workload keeps across operations (`map` slots); even slots belong to one process, odd ones to another. */
export const MAP_SLOTS = 4;
/** Largest mapping the workload asks for, in pages. */
const MAX_MAP_PAGES = 48;

/** What the workload needs to know of a live mapping: its length in bytes. */
export interface MappingShape {
  /** Bytes mapped, as asked for at mmap. */
  readonly length: number;
}

/** Descriptors the workload keeps open across operations. */
export const POOL_SLOTS = 4;
/** Names the workload uses: few, so names collide (rename over, EEXIST, ENOTEMPTY…). */
const NAMES = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
const DIR_NAMES = ["d0", "d1", "d2", "d3"];
const MAX_DEPTH = 3;
/** Files grow to about this before the workload prefers shrinking them. */
const SOFT_MAX_SIZE = 192 * 1024;
/** A far write lands in fs-simple's double-indirect range (file block ≥ 1036). */
const FAR_OFFSET = 1040 * PAGE;
/** Symlink targets: relative names the workload never creates, so a symlink never resolves. */
const DANGLING = "~missing-";

/**
 * Draws the operations of a run from its Rng, by weight, against the model's current tree (see
 * the module comment). One per run; the harness calls {@link next} before each operation.
 */
export class Workload {
  private readonly ops: OpType[];
  private readonly cumulative: number[];
  private readonly total: number;

  /** `weights` replace the {@link DEFAULT_WEIGHTS} they name; a weight of 0 drops the operation. */
  constructor(
    private readonly rng: Rng,
    weights: Partial<Record<OpType, number>> = {},
  ) {
    const w = { ...DEFAULT_WEIGHTS, ...weights };
    this.ops = (Object.keys(w) as OpType[]).filter((k) => w[k] > 0);
    let sum = 0;
    this.cumulative = this.ops.map((k) => (sum += w[k]));
    this.total = sum;
  }

  /**
   * The next operation against the model's tree, the open descriptors (`pool[slot]`: the node open
   * there, or null) and the live mappings (`maps[slot]`: its shape, or null).
   */
  next(model: Model, pool: readonly (MNode | null)[], maps: readonly (MappingShape | null)[] = []): Op {
    for (;;) {
      const op = this.draw(model, pool, maps);
      if (op) return op;
    }
  }

  private pick(): OpType {
    const x = this.rng.next() * this.total;
    for (let i = 0; i < this.cumulative.length; i++) if (x < this.cumulative[i]!) return this.ops[i]!;
    return this.ops[this.ops.length - 1]!;
  }

  private draw(model: Model, pool: readonly (MNode | null)[], maps: readonly (MappingShape | null)[]): Op | null {
    const r = this.rng;
    const t = this.pick();
    switch (t) {
      case "create": {
        const path = this.newPath(model);
        const existing = model.lookup(path);
        // O_CREAT without O_EXCL would follow a symlink and create its target: always O_EXCL on one.
        const excl = (existing.ok && existing.value.kind === "symlink") || r.chance(0.3);
        return { t, path, excl, trunc: r.chance(0.3) };
      }
      case "write": {
        const f = this.file(model);
        if (!f) return null;
        return { t, path: f.path, ...this.range(f.node.content!.size, true), seed: r.nextU32() };
      }
      case "read": {
        const f = this.r(0.9) ? this.file(model) : this.any(model);
        if (!f) return null;
        const size = f.node.content?.size ?? 0;
        return { t, path: f.path, off: this.r(0.8) ? r.below(size + 1) : r.below(size + 3 * PAGE), len: 1 + r.below(this.r(0.8) ? 2 * PAGE : 40 * PAGE) };
      }
      case "truncate": {
        const f = this.r(0.95) ? this.file(model) : this.any(model);
        if (!f) return null;
        return { t, path: f.path, size: this.newSize(f.node.content?.size ?? 0) };
      }
      case "punch": {
        const f = this.file(model);
        if (!f || f.node.content!.size === 0) return null;
        const size = f.node.content!.size;
        const off = r.below(size);
        return { t, path: f.path, off, len: 1 + r.below(Math.min(size - off + PAGE, 6 * PAGE)) };
      }
      case "rename": {
        const a = this.r(0.9) ? this.anyButRoot(model) : { path: this.newPath(model) };
        if (!a) return null;
        // Mostly over existing names (replace, EISDIR, ENOTEMPTY) or into fresh ones.
        const b = this.r(0.4) ? this.anyButRoot(model) : { path: this.newPath(model) };
        if (!b) return null;
        return { t, from: a.path, to: b.path };
      }
      case "link": {
        const a = this.r(0.9) ? this.file(model) : this.anyButRoot(model);
        if (!a) return null;
        return { t, from: a.path, to: this.newPath(model) };
      }
      case "unlink": {
        const a = this.r(0.9) ? this.nonDir(model) : this.r(0.5) ? this.anyButRoot(model) : { path: this.newPath(model) };
        if (!a) return null;
        return { t, path: a.path };
      }
      case "mkdir":
        return { t, path: this.newPath(model, true) };
      case "rmdir": {
        const d = this.r(0.85) ? this.dir(model, false) : this.anyButRoot(model);
        if (!d) return null;
        return { t, path: d.path };
      }
      case "fsync": {
        const f = this.file(model);
        if (!f) return null;
        return { t, path: f.path, datasync: r.chance(0.2) };
      }
      case "fsyncdir":
      case "fsyncdir-fs": {
        const d = this.dir(model, true);
        return d ? { t, path: d.path } : null;
      }
      case "sync":
        return { t };
      case "stat": {
        const a = this.r(0.9) ? this.any(model) : { path: this.newPath(model) };
        return a ? { t, path: a.path } : null;
      }
      case "readdir": {
        const d = this.r(0.9) ? this.dir(model, true) : this.any(model);
        return d ? { t, path: d.path } : null;
      }
      case "symlink":
        return { t, path: this.newPath(model), target: DANGLING + r.below(100) };
      case "readlink": {
        const a = this.any(model);
        return a ? { t, path: a.path } : null;
      }
      case "open": {
        const slot = pool.indexOf(null);
        if (slot < 0) return null;
        const f = this.file(model);
        return f ? { t, path: f.path, slot } : null;
      }
      case "close":
      case "fwrite":
      case "fread":
      case "ftruncate":
      case "ffsync": {
        const used = pool.map((n, i) => (n ? i : -1)).filter((i) => i >= 0);
        if (used.length === 0) return null;
        const slot = used[r.below(used.length)]!;
        const node = pool[slot]!;
        const size = node.content!.size;
        if (t === "close" || t === "ffsync") return { t, slot };
        if (t === "fwrite") return { t, slot, ...this.range(size, true), seed: r.nextU32() };
        if (t === "fread") return { t, slot, off: r.below(size + PAGE), len: 1 + r.below(3 * PAGE) };
        return { t, slot, size: this.newSize(size) };
      }
      case "idle":
        // Mostly short pauses; sometimes past the flusher's 5 s period and 30 s expiry.
        return { t, ns: this.r(0.6) ? r.below(2e9) : 5e9 + r.below(40e9) };
      case "remount":
        return { t };
      case "mmap-shared":
      case "mmap-private": {
        const map = maps.indexOf(null);
        if (map < 0) return null;
        const f = this.file(model);
        if (!f) return null;
        const pages = Math.ceil(f.node.content!.size / PAGE);
        // Mostly from the start; sometimes from a later page, or one past the end (every access SIGBUS).
        const first = this.r(0.6) ? 0 : r.below(pages + 2);
        const len = 1 + r.below(Math.min(MAX_MAP_PAGES, Math.max(1, pages - first) + 2) * PAGE);
        return { t, path: f.path, map, off: first * PAGE, len };
      }
      case "load":
      case "store":
      case "msync":
      case "munmap": {
        const used = maps.map((m, i) => (m ? i : -1)).filter((i) => i >= 0);
        if (used.length === 0) return null;
        const map = used[r.below(used.length)]!;
        const length = maps[map]!.length;
        if (t === "msync" || t === "munmap") return { t, map };
        const off = r.below(length);
        // A store stays within one page, so that a fault leaves it undone as a whole; a load may span pages.
        const room = t === "store" ? PAGE - (off % PAGE) : length - off;
        const len = 1 + r.below(Math.min(room, this.r(0.7) ? 600 : 2 * PAGE));
        if (t === "load") return { t, map, off, len };
        return { t, map, off, len, seed: r.nextU32() };
      }
    }
  }

  private r(p: number): boolean {
    return this.rng.chance(p);
  }

  /** An offset and length for a write to a file of `size` bytes. */
  private range(size: number, grow: boolean): { off: number; len: number } {
    const r = this.rng;
    const len = this.r(0.7) ? 1 + r.below(600) : this.r(0.85) ? 1 + r.below(5 * PAGE) : 1 + r.below(24 * PAGE);
    const x = r.next();
    let off: number;
    if (x < 0.08) off = Math.max(0, Math.ceil((size + 1) / PAGE) * PAGE - 1 - r.below(64)); // across a page boundary
    else if (x < 0.14) off = size; // append
    else if (x < 0.2 && grow) off = size + r.below(12 * PAGE); // past EOF: a hole before
    else if (x < 0.2015 && grow) off = FAR_OFFSET + r.below(64 * PAGE); // double-indirect range, sparse
    else off = r.below(Math.max(1, size));
    if (size > SOFT_MAX_SIZE && off + len > size) off = r.below(size);
    return { off, len };
  }

  /** A new size for a truncate: shrink mostly, sometimes grow, to page edges ±1 often. */
  private newSize(size: number): number {
    const r = this.rng;
    const x = r.next();
    if (x < 0.15) return 0;
    if (x < 0.45) return Math.max(0, Math.floor(r.below(size + 1) / PAGE) * PAGE + r.between(-1, 1));
    if (x < 0.8 || size > SOFT_MAX_SIZE) return r.below(size + 1);
    return size + r.below(10 * PAGE);
  }

  private all(model: Model) {
    return model.paths();
  }

  private choose<T>(list: T[]): T | null {
    return list.length === 0 ? null : list[this.rng.below(list.length)]!;
  }

  private any(model: Model) {
    return this.choose(this.all(model));
  }

  private anyButRoot(model: Model) {
    return this.choose(this.all(model).slice(1));
  }

  private file(model: Model) {
    return this.choose(this.all(model).filter((p) => p.node.kind === "file"));
  }

  private nonDir(model: Model) {
    return this.choose(this.all(model).filter((p) => !p.node.isDir));
  }

  private dir(model: Model, rootToo: boolean) {
    return this.choose(this.all(model).filter((p) => p.node.isDir && (rootToo || p.path !== "/")));
  }

  /** A path for a new name: an existing directory (rarely a missing one or a file) and a name that may exist. */
  private newPath(model: Model, dirName = false): string {
    const r = this.rng;
    const dirs = this.all(model).filter((p) => p.node.isDir && p.path.split("/").length - 1 < MAX_DEPTH);
    let base = this.choose(dirs)?.path ?? "/";
    const x = r.next();
    if (x < 0.03) base = `${base === "/" ? "" : base}/${DIR_NAMES[r.below(DIR_NAMES.length)]}x`; // a missing directory: ENOENT
    else if (x < 0.05) base = this.file(model)?.path ?? base; // a file in the middle: ENOTDIR
    const names = dirName || this.r(0.25) ? DIR_NAMES : NAMES;
    return `${base === "/" ? "" : base}/${names[r.below(names.length)]}`;
  }
}

/** How an operation reads in the op log. */
export function formatOp(op: Op): string {
  switch (op.t) {
    case "create":
      return `create ${op.path}${op.excl ? " excl" : ""}${op.trunc ? " trunc" : ""}`;
    case "write":
      return `write ${op.path} @${op.off}+${op.len} #${op.seed}`;
    case "read":
    case "punch":
      return `${op.t} ${op.path} @${op.off}+${op.len}`;
    case "truncate":
      return `truncate ${op.path} ${op.size}`;
    case "rename":
    case "link":
      return `${op.t} ${op.from} ${op.to}`;
    case "fsync":
      return `${op.datasync ? "fdatasync" : "fsync"} ${op.path}`;
    case "symlink":
      return `symlink ${op.target} ${op.path}`;
    case "open":
      return `open ${op.path} [${op.slot}]`;
    case "close":
    case "ffsync":
      return `${op.t} [${op.slot}]`;
    case "fwrite":
      return `fwrite [${op.slot}] @${op.off}+${op.len} #${op.seed}`;
    case "fread":
      return `fread [${op.slot}] @${op.off}+${op.len}`;
    case "ftruncate":
      return `ftruncate [${op.slot}] ${op.size}`;
    case "idle":
      return `idle ${(op.ns / 1e9).toFixed(3)}s`;
    case "sync":
    case "remount":
      return op.t;
    case "mmap-shared":
    case "mmap-private":
      return `${op.t} ${op.path} @${op.off}+${op.len} {${op.map}}`;
    case "load":
      return `load {${op.map}} @${op.off}+${op.len}`;
    case "store":
      return `store {${op.map}} @${op.off}+${op.len} #${op.seed}`;
    case "msync":
    case "munmap":
      return `${op.t} {${op.map}}`;
    default:
      return `${op.t} ${op.path}`;
  }
}
