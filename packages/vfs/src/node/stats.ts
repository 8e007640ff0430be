/* eslint-disable no-restricted-globals -- Node's fs API hands out Date objects (Stats.atime…) and
   accepts them (utimes): this file is the one place they are made or read. The times themselves
   come from the machine's wall clock (virtual), never from the host's. */
import { FileType, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, type StatFs as FsStatFs } from "@folio/fs-api";
import type { FileStat } from "../vfs.js";
import { invalidArgType } from "./validate.js";

const S_IFBLK = 0o060000;
const S_IFCHR = 0o020000;
const S_IFIFO = 0o010000;
const S_IFSOCK = 0o140000;

/** The type tests Node's Stats and BigIntStats share. */
abstract class StatsBase<T extends number | bigint> {
  abstract readonly mode: T;

  isFile(): boolean {
    return this.type() === S_IFREG;
  }
  isDirectory(): boolean {
    return this.type() === S_IFDIR;
  }
  isSymbolicLink(): boolean {
    return this.type() === S_IFLNK;
  }
  isBlockDevice(): boolean {
    return this.type() === S_IFBLK;
  }
  isCharacterDevice(): boolean {
    return this.type() === S_IFCHR;
  }
  isFIFO(): boolean {
    return this.type() === S_IFIFO;
  }
  isSocket(): boolean {
    return this.type() === S_IFSOCK;
  }
  private type(): number {
    return Number(this.mode) & S_IFMT;
  }
}

/** Node's fs.Stats: the same fields in the same order, times in ms (with sub-ms fraction) and as Dates. */
export class Stats extends StatsBase<number> {
  readonly dev: number;
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly rdev: number;
  readonly blksize: number;
  readonly ino: number;
  readonly size: number;
  readonly blocks: number;
  readonly atimeMs: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly birthtimeMs: number;
  readonly atime: Date;
  readonly mtime: Date;
  readonly ctime: Date;
  readonly birthtime: Date;

  constructor(s: FileStat) {
    super();
    this.dev = s.dev;
    this.mode = s.mode;
    this.nlink = s.nlink;
    this.uid = s.uid;
    this.gid = s.gid;
    this.rdev = s.rdev;
    this.blksize = s.blksize;
    this.ino = s.ino;
    this.size = s.size;
    this.blocks = s.blocks;
    this.atimeMs = s.atimeNs / 1e6;
    this.mtimeMs = s.mtimeNs / 1e6;
    this.ctimeMs = s.ctimeNs / 1e6;
    this.birthtimeMs = s.birthtimeNs / 1e6;
    this.atime = new Date(Math.floor(this.atimeMs));
    this.mtime = new Date(Math.floor(this.mtimeMs));
    this.ctime = new Date(Math.floor(this.ctimeMs));
    this.birthtime = new Date(Math.floor(this.birthtimeMs));
  }
}

/** Node's BigIntStats (`stat(p, { bigint: true })`): bigint fields, and times also in ns. */
export class BigIntStats extends StatsBase<bigint> {
  readonly dev: bigint;
  readonly mode: bigint;
  readonly nlink: bigint;
  readonly uid: bigint;
  readonly gid: bigint;
  readonly rdev: bigint;
  readonly blksize: bigint;
  readonly ino: bigint;
  readonly size: bigint;
  readonly blocks: bigint;
  readonly atimeMs: bigint;
  readonly mtimeMs: bigint;
  readonly ctimeMs: bigint;
  readonly birthtimeMs: bigint;
  readonly atimeNs: bigint;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly birthtimeNs: bigint;
  readonly atime: Date;
  readonly mtime: Date;
  readonly ctime: Date;
  readonly birthtime: Date;

  constructor(s: FileStat) {
    super();
    const b = (n: number) => BigInt(Math.floor(n));
    this.dev = b(s.dev);
    this.mode = b(s.mode);
    this.nlink = b(s.nlink);
    this.uid = b(s.uid);
    this.gid = b(s.gid);
    this.rdev = b(s.rdev);
    this.blksize = b(s.blksize);
    this.ino = b(s.ino);
    this.size = b(s.size);
    this.blocks = b(s.blocks);
    this.atimeNs = b(s.atimeNs);
    this.mtimeNs = b(s.mtimeNs);
    this.ctimeNs = b(s.ctimeNs);
    this.birthtimeNs = b(s.birthtimeNs);
    this.atimeMs = this.atimeNs / 1_000_000n;
    this.mtimeMs = this.mtimeNs / 1_000_000n;
    this.ctimeMs = this.ctimeNs / 1_000_000n;
    this.birthtimeMs = this.birthtimeNs / 1_000_000n;
    this.atime = new Date(Number(this.atimeMs));
    this.mtime = new Date(Number(this.mtimeMs));
    this.ctime = new Date(Number(this.ctimeMs));
    this.birthtime = new Date(Number(this.birthtimeMs));
  }
}

/** Node's fs.Dirent: `name`, `parentPath` (and its older alias `path`), and the type tests. */
export class Dirent {
  /** The entry's name. */
  readonly name: string;
  /** The directory the entry is in. */
  readonly parentPath: string;
  /** Deprecated alias of parentPath, as in Node 20. */
  readonly path: string;
  readonly #type: FileType;

  constructor(name: string, parentPath: string, type: FileType) {
    this.name = name;
    this.parentPath = parentPath;
    this.path = parentPath;
    this.#type = type;
  }

  isFile(): boolean {
    return this.#type === FileType.Regular;
  }
  isDirectory(): boolean {
    return this.#type === FileType.Directory;
  }
  isSymbolicLink(): boolean {
    return this.#type === FileType.Symlink;
  }
  isBlockDevice(): boolean {
    return false;
  }
  isCharacterDevice(): boolean {
    return false;
  }
  isFIFO(): boolean {
    return false;
  }
  isSocket(): boolean {
    return false;
  }
}

/** Node's fs.StatFs. `type` is 0: Folio filesystems have no magic numbers. */
export class StatFs {
  readonly type = 0;
  readonly bsize: number;
  readonly blocks: number;
  readonly bfree: number;
  readonly bavail: number;
  readonly files: number;
  readonly ffree: number;

  constructor(s: FsStatFs) {
    this.bsize = s.bsize;
    this.blocks = s.blocks;
    this.bfree = s.bfree;
    this.bavail = s.bavail;
    this.files = s.files;
    this.ffree = s.ffree;
  }
}

/** Time arguments of utimes: seconds since the epoch (number or numeric string) or a Date. */
export type TimeLike = number | string | Date;

/**
 * A time argument of utimes as Node takes it — seconds (a number or numeric string) or a Date —
 * in nanoseconds since the epoch. Negative numbers mean "now", as in Node; `nowNs` is the
 * machine's wall clock. As in Node, every form becomes seconds as a double first (a Date is
 * getTime() / 1000), which libuv splits into seconds and nanoseconds by truncation and then
 * truncates to microseconds: a Date of 5000.123 s gives 5000.122999 s, as on node:fs.
 */
export function toTimeNs(time: unknown, name: string, nowNs: number): number {
  if (typeof time === "string" && time.trim() !== "" && Number.isFinite(Number(time))) return uvTimeNs(Number(time));
  if (typeof time === "number" && Number.isFinite(time)) return time < 0 ? nowNs : uvTimeNs(time);
  if (time instanceof Date) return uvTimeNs(time.getTime() / 1000);
  throw invalidArgType(name, "an instance of Date or a time in seconds", time);
}

/** libuv's uv__fs_to_timespec, in nanoseconds: truncated to whole seconds and nanoseconds, then to microseconds. */
function uvTimeNs(seconds: number): number {
  let sec = Math.trunc(seconds);
  let nsec = Math.trunc((seconds - sec) * 1e9);
  nsec -= nsec % 1000;
  if (nsec < 0) {
    nsec += 1e9;
    sec -= 1;
  }
  return sec * 1e9 + nsec;
}
