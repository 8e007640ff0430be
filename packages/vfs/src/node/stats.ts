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

  /** Whether `mode` says regular file. */
  isFile(): boolean {
    return this.type() === S_IFREG;
  }
  /** Whether `mode` says directory. */
  isDirectory(): boolean {
    return this.type() === S_IFDIR;
  }
  /** Whether `mode` says symbolic link (only from lstat: stat follows links). */
  isSymbolicLink(): boolean {
    return this.type() === S_IFLNK;
  }
  /** Whether `mode` says block device: never, Folio filesystems have none. */
  isBlockDevice(): boolean {
    return this.type() === S_IFBLK;
  }
  /** Whether `mode` says character device: never, Folio filesystems have none. */
  isCharacterDevice(): boolean {
    return this.type() === S_IFCHR;
  }
  /** Whether `mode` says FIFO: never, Folio filesystems have none. */
  isFIFO(): boolean {
    return this.type() === S_IFIFO;
  }
  /** Whether `mode` says socket: never, Folio filesystems have none. */
  isSocket(): boolean {
    return this.type() === S_IFSOCK;
  }
  private type(): number {
    return Number(this.mode) & S_IFMT;
  }
}

/** Node's fs.Stats: the same fields in the same order, times in ms (with sub-ms fraction) and as Dates. */
export class Stats extends StatsBase<number> {
  /** Device number: the id of the mount the file is on. */
  readonly dev: number;
  /** File type and permission bits (S_IFMT and 0o7777). */
  readonly mode: number;
  /** Names linking to the inode. */
  readonly nlink: number;
  /** Owner user id. */
  readonly uid: number;
  /** Owner group id. */
  readonly gid: number;
  /** Always 0: there are no device files. */
  readonly rdev: number;
  /** Preferred I/O size: 4096, the page the cache works in. */
  readonly blksize: number;
  /** Inode number, unique within the mount. */
  readonly ino: number;
  /** Size in bytes (a symlink: its target's length). */
  readonly size: number;
  /** 512-byte blocks allocated to the file. */
  readonly blocks: number;
  /** Last access, in ms since the epoch (with the sub-ms fraction). */
  readonly atimeMs: number;
  /** Last data change, in ms since the epoch (with the sub-ms fraction). */
  readonly mtimeMs: number;
  /** Last inode or data change, in ms since the epoch (with the sub-ms fraction). */
  readonly ctimeMs: number;
  /** Creation, in ms since the epoch (with the sub-ms fraction). */
  readonly birthtimeMs: number;
  /** {@link atimeMs} as a Date (whole ms). */
  readonly atime: Date;
  /** {@link mtimeMs} as a Date (whole ms). */
  readonly mtime: Date;
  /** {@link ctimeMs} as a Date (whole ms). */
  readonly ctime: Date;
  /** {@link birthtimeMs} as a Date (whole ms). */
  readonly birthtime: Date;

  /** Made by stat, lstat and fstat from the VFS's {@link FileStat}. */
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
  /** Device number: the id of the mount the file is on. */
  readonly dev: bigint;
  /** File type and permission bits (S_IFMT and 0o7777). */
  readonly mode: bigint;
  /** Names linking to the inode. */
  readonly nlink: bigint;
  /** Owner user id. */
  readonly uid: bigint;
  /** Owner group id. */
  readonly gid: bigint;
  /** Always 0: there are no device files. */
  readonly rdev: bigint;
  /** Preferred I/O size: 4096, the page the cache works in. */
  readonly blksize: bigint;
  /** Inode number, unique within the mount. */
  readonly ino: bigint;
  /** Size in bytes (a symlink: its target's length). */
  readonly size: bigint;
  /** 512-byte blocks allocated to the file. */
  readonly blocks: bigint;
  /** Last access, in ms since the epoch, truncated. */
  readonly atimeMs: bigint;
  /** Last data change, in ms since the epoch, truncated. */
  readonly mtimeMs: bigint;
  /** Last inode or data change, in ms since the epoch, truncated. */
  readonly ctimeMs: bigint;
  /** Creation, in ms since the epoch, truncated. */
  readonly birthtimeMs: bigint;
  /** Last access, in ns since the epoch. */
  readonly atimeNs: bigint;
  /** Last data change, in ns since the epoch. */
  readonly mtimeNs: bigint;
  /** Last inode or data change, in ns since the epoch. */
  readonly ctimeNs: bigint;
  /** Creation, in ns since the epoch. */
  readonly birthtimeNs: bigint;
  /** {@link atimeMs} as a Date (whole ms). */
  readonly atime: Date;
  /** {@link mtimeMs} as a Date (whole ms). */
  readonly mtime: Date;
  /** {@link ctimeMs} as a Date (whole ms). */
  readonly ctime: Date;
  /** {@link birthtimeMs} as a Date (whole ms). */
  readonly birthtime: Date;

  /** Made by stat, lstat and fstat with `bigint: true`, from the VFS's {@link FileStat}. */
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

  /** Made by readdir with `withFileTypes`, from the directory entry's name and type. */
  constructor(name: string, parentPath: string, type: FileType) {
    this.name = name;
    this.parentPath = parentPath;
    this.path = parentPath;
    this.#type = type;
  }

  /** Whether the entry is a regular file. */
  isFile(): boolean {
    return this.#type === FileType.Regular;
  }
  /** Whether the entry is a directory. */
  isDirectory(): boolean {
    return this.#type === FileType.Directory;
  }
  /** Whether the entry is a symbolic link (entries are never followed). */
  isSymbolicLink(): boolean {
    return this.#type === FileType.Symlink;
  }
  /** Always false: Folio filesystems have no block devices. */
  isBlockDevice(): boolean {
    return false;
  }
  /** Always false: Folio filesystems have no character devices. */
  isCharacterDevice(): boolean {
    return false;
  }
  /** Always false: Folio filesystems have no FIFOs. */
  isFIFO(): boolean {
    return false;
  }
  /** Always false: Folio filesystems have no sockets. */
  isSocket(): boolean {
    return false;
  }
}

/** Node's fs.StatFs. `type` is 0: Folio filesystems have no magic numbers. */
export class StatFs {
  /** Filesystem magic number: always 0. */
  readonly type = 0;
  /** Block size in bytes. */
  readonly bsize: number;
  /** Total data blocks, in `bsize` units. */
  readonly blocks: number;
  /** Free blocks. */
  readonly bfree: number;
  /** Free blocks available to unprivileged users. */
  readonly bavail: number;
  /** Total inodes. */
  readonly files: number;
  /** Free inodes. */
  readonly ffree: number;

  /** Made by statfs from the filesystem's {@link @folio/fs-api!StatFs | StatFs}. */
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
