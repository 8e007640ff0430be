/**
 * A model of fs-log's persistence promise (docs/FS-LOG.md), for crash tests: the namespace and
 * file contents now, each file's committed contents, and the state a crash must recover after
 * each persistence point:
 *
 *  - any commit (fsync of a file or directory, sync) makes the whole namespace durable;
 *  - fsync of a file also makes that file's contents durable; sync makes every file's;
 *  - a file's contents after a crash are those of its last fsync/sync (empty if never).
 */
import { createHash } from "node:crypto";
import { SECOND, type Machine, type Rng } from "@folio/core";
import { RENAME_EXCHANGE, RENAME_NOREPLACE } from "@folio/fs-api";
import { ROOT_INO } from "../src/format.js";
import type { LogFs } from "../src/index.js";
import { evictIfGone, fsyncIno, randomBytes, readAll, writeAt } from "./helpers.js";

type Kind = "f" | "d" | "l";

/** What a crash must leave: path → "D", "L:target" or "F:<sha1 of contents>". */
export type State = Map<string, string>;

export function hash(b: Uint8Array): string {
  return createHash("sha1").update(b).digest("hex").slice(0, 16) + `/${b.length}`;
}

export class Model {
  readonly dirs = new Map<number, Map<string, number>>([[ROOT_INO, new Map()]]);
  readonly kind = new Map<number, Kind>([[ROOT_INO, "d"]]);
  readonly parent = new Map<number, number>([[ROOT_INO, ROOT_INO]]);
  readonly data = new Map<number, Uint8Array>();
  readonly committed = new Map<number, Uint8Array>();
  readonly target = new Map<number, string>();

  /** The state a crash right now must recover, given the commits so far. */
  durable(): State {
    return this.snapshot(this.committed);
  }

  /** The state now (what a mounted filesystem shows). */
  current(): State {
    return this.snapshot(this.data);
  }

  private snapshot(contents: Map<number, Uint8Array>): State {
    const out: State = new Map();
    const walk = (d: number, prefix: string) => {
      for (const [name, ino] of [...this.dirs.get(d)!].sort()) {
        const p = `${prefix}/${name}`;
        const k = this.kind.get(ino)!;
        if (k === "d") {
          out.set(p, "D");
          walk(ino, p);
        } else if (k === "l") {
          out.set(p, `L:${this.target.get(ino)}`);
        } else {
          out.set(p, `F:${hash(contents.get(ino)!)}`);
        }
      }
    };
    walk(ROOT_INO, "");
    return out;
  }

  entries(): { dir: number; name: string; ino: number }[] {
    const out: { dir: number; name: string; ino: number }[] = [];
    for (const [dir, m] of this.dirs) for (const [name, ino] of m) out.push({ dir, name, ino });
    return out;
  }

  files(): number[] {
    return [...new Set(this.entries().filter((e) => this.kind.get(e.ino) === "f").map((e) => e.ino))];
  }

  /** True when directory `a` is `b` or an ancestor of it. */
  isAncestor(a: number, b: number): boolean {
    for (let cur = b, i = 0; i < 1000; i++) {
      if (cur === a) return true;
      if (cur === ROOT_INO) return false;
      cur = this.parent.get(cur)!;
    }
    return false;
  }
}

/** What a crash check compares against: the actual tree of a mounted fs in State form. */
export function observe(fs: LogFs): State {
  const out: State = new Map();
  const walk = (d: number, prefix: string, depth: number) => {
    if (depth > 64) throw new Error("directory tree too deep (loop?)");
    for (const e of [...fs.readdir(d)].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = `${prefix}/${e.name}`;
      const a = fs.getattr(e.ino);
      if ((a.mode & 0o170000) === 0o040000) {
        out.set(p, "D");
        walk(e.ino, p, depth + 1);
      } else if ((a.mode & 0o170000) === 0o120000) {
        out.set(p, `L:${fs.readlink(e.ino)}`);
      } else {
        out.set(p, `F:${hash(readAll(fs, e.ino))}`);
      }
    }
  };
  walk(ROOT_INO, "", 0);
  return out;
}

export function diffStates(want: State, got: State): string {
  const lines: string[] = [];
  for (const [k, v] of want) if (got.get(k) !== v) lines.push(`${k}: want ${v}, got ${got.get(k) ?? "(missing)"}`);
  for (const [k, v] of got) if (!want.has(k)) lines.push(`${k}: unexpected ${v}`);
  return lines.slice(0, 8).join("; ") || "equal";
}

export function sameState(a: State, b: State): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** One operation of a workload, as run. */
export interface Op {
  text: string;
  /** A persistence point (fsync, directory fsync, sync). */
  persist: boolean;
  /** The durable state after it (persistence points only). */
  after?: State;
}

const NAMES = ["a", "b", "c", "d", "e"];
/** Writes start below this offset and are at most this long (so files stay small enough for a tiny device). */
export let MAX_POS = 48 * 1024;
export let MAX_LEN = 20 * 1024;
export function setWriteSizes(pos: number, len: number): void {
  MAX_POS = pos;
  MAX_LEN = len;
}

/**
 * Runs one random operation valid in the model, on both the model and `fs`, and returns it.
 * Throws if the filesystem disagrees (an unexpected error).
 */
export function step(fs: LogFs, m: Model, rng: Rng, machine: Machine, opts: { maintenance?: boolean } = {}): Op {
  const maintenance = opts.maintenance ?? true;
  for (;;) {
    const r = rng.below(100);
    // Without maintenance: no sync, idle time or explicit cleaning; only fsyncs persist, and
    // the cleaner runs when the log runs out of free segments.
    if (!maintenance && r >= 81) continue;
    // …and fewer truncates, renames and unlinks, so data lives long enough to need copying.
    if (!maintenance && r >= 33 && r < 54 && rng.chance(0.75)) continue;
    const dirs = [...m.dirs.keys()];
    const pickDir = () => dirs[rng.below(dirs.length)]!;
    const files = m.files();
    const pickFile = () => files[rng.below(files.length)]!;
    const entries = m.entries();
    if (r < 10) {
      const d = pickDir();
      const name = NAMES[rng.below(NAMES.length)]!;
      if (m.dirs.get(d)!.has(name)) continue;
      const ino = fs.create(d, name, 0o644);
      m.dirs.get(d)!.set(name, ino);
      m.kind.set(ino, "f");
      m.data.set(ino, new Uint8Array(0));
      m.committed.set(ino, new Uint8Array(0));
      return { text: `create ${d}/${name} = ${ino}`, persist: false };
    }
    if (r < 13) {
      if (dirs.length >= 6) continue;
      const d = pickDir();
      const name = NAMES[rng.below(NAMES.length)]!;
      if (m.dirs.get(d)!.has(name)) continue;
      const ino = fs.mkdir(d, name, 0o755);
      m.dirs.get(d)!.set(name, ino);
      m.dirs.set(ino, new Map());
      m.kind.set(ino, "d");
      m.parent.set(ino, d);
      return { text: `mkdir ${d}/${name} = ${ino}`, persist: false };
    }
    if (r < 33) {
      if (files.length === 0) continue;
      const ino = pickFile();
      const old = m.data.get(ino)!;
      const pos = rng.chance(0.6) && old.length > 0 ? rng.below(old.length) : rng.below(MAX_POS);
      const len = 1 + rng.below(rng.chance(0.3) ? MAX_LEN : 6000);
      const bytes = randomBytes(rng, len);
      writeAt(fs, ino, pos, bytes);
      const next = new Uint8Array(Math.max(old.length, pos + len));
      next.set(old);
      next.set(bytes, pos);
      m.data.set(ino, next);
      return { text: `write ${ino} @${pos} +${len}`, persist: false };
    }
    if (r < 39) {
      if (files.length === 0) continue;
      const ino = pickFile();
      const old = m.data.get(ino)!;
      const size = rng.chance(0.5) ? rng.below(old.length + 1) : rng.below(64 * 1024);
      fs.setattr(ino, { size });
      const next = new Uint8Array(size);
      next.set(old.subarray(0, Math.min(size, old.length)));
      m.data.set(ino, next);
      return { text: `truncate ${ino} to ${size}`, persist: false };
    }
    if (r < 47) {
      if (entries.length === 0) continue;
      const src = entries[rng.below(entries.length)]!;
      const dd = pickDir();
      const dn = NAMES[rng.below(NAMES.length)]!;
      const flags = rng.chance(0.15) ? RENAME_NOREPLACE : rng.chance(0.15) ? RENAME_EXCHANGE : 0;
      const dst = m.dirs.get(dd)!.get(dn);
      const sk = m.kind.get(src.ino)!;
      if (src.dir === dd && src.name === dn) continue;
      if (flags === RENAME_NOREPLACE && dst !== undefined) continue;
      if (flags === RENAME_EXCHANGE) {
        if (dst === undefined) continue;
        const dk = m.kind.get(dst)!;
        if (sk === "d" && m.isAncestor(src.ino, dd)) continue;
        if (dk === "d" && m.isAncestor(dst, src.dir)) continue;
        fs.rename(src.dir, src.name, dd, dn, flags);
        m.dirs.get(dd)!.set(dn, src.ino);
        m.dirs.get(src.dir)!.set(src.name, dst);
        if (sk === "d") m.parent.set(src.ino, dd);
        if (dk === "d") m.parent.set(dst, src.dir);
        return { text: `exchange ${src.dir}/${src.name} <-> ${dd}/${dn}`, persist: false };
      }
      if (sk === "d" && m.isAncestor(src.ino, dd)) continue;
      if (dst !== undefined) {
        if (dst === src.ino) continue;
        const dk = m.kind.get(dst)!;
        if ((sk === "d") !== (dk === "d")) continue;
        if (dk === "d" && m.dirs.get(dst)!.size > 0) continue;
      }
      fs.rename(src.dir, src.name, dd, dn, flags);
      if (dst !== undefined) evictIfGone(fs, dst);
      m.dirs.get(dd)!.set(dn, src.ino);
      m.dirs.get(src.dir)!.delete(src.name);
      if (sk === "d") m.parent.set(src.ino, dd);
      if (dst !== undefined && m.kind.get(dst) === "d") m.dirs.delete(dst);
      return { text: `rename ${src.dir}/${src.name} -> ${dd}/${dn}${flags ? ` flags ${flags}` : ""}`, persist: false };
    }
    if (r < 52) {
      const cands = entries.filter((e) => m.kind.get(e.ino) !== "d");
      if (cands.length === 0) continue;
      const e = cands[rng.below(cands.length)]!;
      fs.unlink(e.dir, e.name);
      evictIfGone(fs, e.ino);
      m.dirs.get(e.dir)!.delete(e.name);
      return { text: `unlink ${e.dir}/${e.name}`, persist: false };
    }
    if (r < 54) {
      const cands = entries.filter((e) => m.kind.get(e.ino) === "d" && m.dirs.get(e.ino)!.size === 0);
      if (cands.length === 0) continue;
      const e = cands[rng.below(cands.length)]!;
      fs.rmdir(e.dir, e.name);
      evictIfGone(fs, e.ino);
      m.dirs.get(e.dir)!.delete(e.name);
      m.dirs.delete(e.ino);
      return { text: `rmdir ${e.dir}/${e.name}`, persist: false };
    }
    if (r < 57) {
      if (files.length === 0) continue;
      const ino = pickFile();
      const d = pickDir();
      const name = NAMES[rng.below(NAMES.length)]!;
      if (m.dirs.get(d)!.has(name)) continue;
      fs.link(ino, d, name);
      m.dirs.get(d)!.set(name, ino);
      return { text: `link ${ino} as ${d}/${name}`, persist: false };
    }
    if (r < 59) {
      const d = pickDir();
      const name = NAMES[rng.below(NAMES.length)]!;
      if (m.dirs.get(d)!.has(name)) continue;
      const t = `target-${rng.below(1000)}`;
      const ino = fs.symlink(d, name, t);
      m.dirs.get(d)!.set(name, ino);
      m.kind.set(ino, "l");
      m.target.set(ino, t);
      return { text: `symlink ${d}/${name} -> ${t}`, persist: false };
    }
    if (r < 73) {
      if (files.length === 0) continue;
      const ino = pickFile();
      fsyncIno(fs, ino);
      m.committed.set(ino, m.data.get(ino)!);
      return { text: `fsync ${ino}`, persist: true, after: m.durable() };
    }
    if (r < 81) {
      const d = pickDir();
      fsyncIno(fs, d);
      return { text: `fsync dir ${d}`, persist: true, after: m.durable() };
    }
    if (r < 83) {
      fs.sync();
      for (const [ino, d] of m.data) m.committed.set(ino, d);
      return { text: "sync", persist: true, after: m.durable() };
    }
    if (r < 85) {
      machine.scheduler.runFor(31 * SECOND);
      return { text: "idle 31s", persist: false };
    }
    if (r < 87) {
      fs.cleanNow(0, 1 + rng.below(3));
      return { text: "clean", persist: false };
    }
  }
}
