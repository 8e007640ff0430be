import { posix } from "node:path";
import { fail, isFolioError } from "@folio/core";
import {
  FileType, O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG,
} from "@folio/fs-api";
import { asSyscallError } from "../errors.js";
import { F_OK, O_DSYNC, O_SYNC, R_OK, W_OK, X_OK, type Vfs } from "../vfs.js";
import { createPromises } from "./promises.js";
import { BigIntStats, Dirent, StatFs, Stats, toTimeNs, type TimeLike } from "./stats.js";
import { ReadStream, WriteStream, type ReadStreamOptions, type WriteStreamOptions } from "./streams.js";
import {
  NodeSystemError, checkReadRange, checkWriteRange, integer, invalidArgType, invalidArgValue, isFilePosition, isUint32, objectOptions, options, outOfRange, toBytes, toData, toFd, toFlags,
  toMode, toPath, toPosition, writePosition, type PathLike,
} from "./validate.js";

export type { PathLike, TimeLike };

/** copyFile flag: fail with EEXIST if the destination exists. */
export const COPYFILE_EXCL = 1;
/** copyFile flag: clone if the filesystem can, else copy; Folio always copies. */
export const COPYFILE_FICLONE = 2;
/** copyFile flag: clone or fail; Folio filesystems cannot clone, so it fails (ENOSYS). */
export const COPYFILE_FICLONE_FORCE = 4;

/** `fs.constants` as on Linux, for the flags and modes Folio implements. */
export const constants = Object.freeze({
  O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_DIRECTORY, O_NOFOLLOW, O_SYNC, O_DSYNC,
  S_IFMT, S_IFREG, S_IFDIR, S_IFLNK,
  /** Owner: read, write and execute. */
  S_IRWXU: 0o700,
  /** Owner: read. */
  S_IRUSR: 0o400,
  /** Owner: write. */
  S_IWUSR: 0o200,
  /** Owner: execute (search, for a directory). */
  S_IXUSR: 0o100,
  /** Group: read, write and execute. */
  S_IRWXG: 0o70,
  /** Group: read. */
  S_IRGRP: 0o40,
  /** Group: write. */
  S_IWGRP: 0o20,
  /** Group: execute. */
  S_IXGRP: 0o10,
  /** Others: read, write and execute. */
  S_IRWXO: 0o7,
  /** Others: read. */
  S_IROTH: 0o4,
  /** Others: write. */
  S_IWOTH: 0o2,
  /** Others: execute. */
  S_IXOTH: 0o1,
  F_OK, R_OK, W_OK, X_OK,
  COPYFILE_EXCL, COPYFILE_FICLONE, COPYFILE_FICLONE_FORCE,
});

/** Open flags as Node takes them: "r", "w+", "ax"… or a number. */
export type OpenMode = string | number;
/** A mode as Node takes it: a number or an octal string. */
export type Mode = number | string;
/** An encoding option: a Buffer encoding, or "buffer" for Buffers where Node allows it. */
export type Encoding = BufferEncoding | "buffer" | null;

/** Options of statSync, lstatSync and their promise forms. */
export interface StatOptions {
  /** Return {@link BigIntStats} (times also in ns). */
  bigint?: boolean;
  /** With false, a missing path gives undefined instead of ENOENT (default true). */
  throwIfNoEntry?: boolean;
}
/** The options form of readSync and writeSync. */
export interface ReadSyncOptions {
  /** Where in the buffer to start; default 0. */
  offset?: number;
  /** Bytes to transfer; default the rest of the buffer after `offset`. */
  length?: number;
  /** File position; null (default) uses and advances the current position. */
  position?: number | bigint | null;
}
/** Options of readdirSync and `promises.readdir`. */
export interface ReaddirOptions {
  /** Encoding of the names; `"buffer"` gives Buffers. Default utf8. */
  encoding?: Encoding;
  /** Return {@link Dirent}s instead of names. */
  withFileTypes?: boolean;
  /** List the whole tree below `path`, names relative to it. */
  recursive?: boolean;
}
/** Options of mkdirSync and `promises.mkdir`. */
export interface MkdirOptions {
  /** Create missing parents; an existing directory is not an error. */
  recursive?: boolean;
  /** Permission bits of the new directories, less the umask; default 0o777. */
  mode?: Mode;
}
/** Options of rmSync and `promises.rm`. */
export interface RmOptions {
  /** Ignore a missing path. */
  force?: boolean;
  /** Remove directories and everything below them. */
  recursive?: boolean;
  /** Accepted for Node compatibility and ignored: no VFS call fails transiently, so nothing is retried. */
  maxRetries?: number;
  /** Accepted and ignored, as `maxRetries`. */
  retryDelay?: number;
}
/** Options of readFileSync and `promises.readFile`. */
export interface ReadFileOptions {
  /** Decode to a string in this encoding; default none (a Buffer). */
  encoding?: BufferEncoding | null;
  /** Open flags; default `"r"`. */
  flag?: OpenMode;
}
/** Options of writeFileSync, appendFileSync and their promise forms. */
export interface WriteFileOptions {
  /** Encoding of string data; default utf8. */
  encoding?: BufferEncoding | null;
  /** Mode of a file the call creates, less the umask; default 0o666. */
  mode?: Mode;
  /** Open flags; default `"w"` (`"a"` for appendFile). */
  flag?: OpenMode;
  /** fsync the file before closing it. */
  flush?: boolean;
}

const isDir = (mode: number) => (mode & S_IFMT) === S_IFDIR;
const encodeName = (name: string, encoding: Encoding | undefined): string | Buffer =>
  encoding === "buffer" ? Buffer.from(name) : !encoding || encoding === "utf8" || encoding === "utf-8" ? name : Buffer.from(name).toString(encoding);

/**
 * Node's `fs` API over a {@link Vfs}: the synchronous calls, `promises`, and streams, with Node's
 * argument forms, results (Stats, Dirent) and errors (`code`, negative `errno`, `syscall`,
 * `path`, `dest`, and Node's messages), so code written for node:fs runs on a simulated machine.
 *
 * Promise calls run their synchronous counterpart as an event of the machine's scheduler (see
 * {@link Vfs.defer}); streams read and write through the same path. Everything the calls do
 * happens in the engine's deterministic order.
 */
export function createNodeFs(vfs: Vfs) {
  const sync = createSyncFs(vfs);
  return {
    ...sync,
    /** `fs.promises`: each call runs its synchronous counterpart as a scheduler event ({@link Vfs.defer}). */
    promises: createPromises(vfs, sync),
  };
}

/** The synchronous calls, constants, classes and stream constructors of {@link createNodeFs}. */
export function createSyncFs(vfs: Vfs) {
  const nowNs = () => vfs.machine.wallClockNs();

  function openSync(path: PathLike, flags?: OpenMode | null, mode?: Mode | null): number {
    return vfs.open(toPath(path), toFlags(flags), toMode(mode, "mode", 0o666));
  }

  function closeSync(fd: number): void {
    vfs.close(toFd(fd));
  }

  /**
   * readSync(fd, buffer, offset, length, position) or readSync(fd, buffer, { offset, length,
   * position }); position null (or -1) reads at and advances the file position.
   */
  function readSync(fd: number, buffer: NodeJS.ArrayBufferView, offsetOrOptions?: number | ReadSyncOptions | null, length?: number | null, position?: number | bigint | null): number {
    // The usual call — a byte buffer, a range inside it, a position or null — goes straight to the
    // VFS: the general path below accepts exactly these arguments, unchanged, so the result is the same.
    if (
      buffer instanceof Uint8Array && isUint32(offsetOrOptions) && isUint32(length) && length > 0 && offsetOrOptions + length <= buffer.byteLength &&
      (fd | 0) === fd && fd >= 0 && (position === null || isFilePosition(position))
    ) {
      return vfs.read(fd, buffer, offsetOrOptions, length, position);
    }
    fd = toFd(fd);
    const buf = toBytes(buffer);
    let offset: unknown = offsetOrOptions;
    let len: unknown = length;
    let pos: unknown = position;
    if (offsetOrOptions === null || typeof offsetOrOptions === "object") {
      const o = offsetOrOptions ?? {};
      offset = o.offset ?? 0;
      len = o.length ?? buf.byteLength - (offset as number);
      pos = o.position ?? null;
    }
    offset = offset === undefined ? 0 : integer(offset, "offset", 0);
    len = len === undefined || len === null ? buf.byteLength - (offset as number) : integer(len, "length");
    if (len === 0) return 0;
    if (buf.byteLength === 0) throw invalidArgValue("buffer", buffer, "is empty and cannot be written");
    checkReadRange(offset as number, len as number, buf.byteLength);
    return vfs.read(fd, buf, offset as number, len as number, toPosition(pos));
  }

  /**
   * writeSync(fd, buffer, offset?, length?, position?), writeSync(fd, buffer, { offset, length,
   * position }), or writeSync(fd, string, position?, encoding?). Returns the bytes written.
   */
  function writeSync(fd: number, buffer: NodeJS.ArrayBufferView | string, offsetOrOptions?: number | ReadSyncOptions | null, length?: number | BufferEncoding | null, position?: number | bigint | null): number {
    fd = toFd(fd);
    if (ArrayBuffer.isView(buffer)) {
      const buf = toBytes(buffer);
      let offset: unknown = offsetOrOptions;
      let len: unknown = length;
      let pos: unknown = position;
      if (offsetOrOptions !== null && typeof offsetOrOptions === "object") {
        offset = offsetOrOptions.offset ?? 0;
        len = offsetOrOptions.length ?? buf.byteLength - (offset as number);
        pos = offsetOrOptions.position ?? null;
      }
      if (typeof offset !== "number") offset = 0;
      if (typeof len !== "number") len = buf.byteLength - (offset as number);
      checkWriteRange(offset as number, len as number, buf.byteLength);
      return vfs.write(fd, buf, offset as number, len as number, writePosition(pos));
    }
    if (typeof buffer !== "string") throw invalidArgType("buffer", "of type string or an instance of Buffer, TypedArray, or DataView", buffer);
    const encoding = typeof length === "string" ? length : "utf8";
    if (!Buffer.isEncoding(encoding)) throw invalidArgValue("encoding", encoding, "is invalid encoding");
    const data = Buffer.from(buffer, encoding);
    return vfs.write(fd, data, 0, data.byteLength, writePosition(offsetOrOptions));
  }

  function statSync(path: PathLike, options?: (StatOptions & { bigint?: false; throwIfNoEntry?: true }) | null): Stats;
  function statSync(path: PathLike, options: StatOptions & { bigint: true; throwIfNoEntry?: true }): BigIntStats;
  function statSync(path: PathLike, options: StatOptions & { bigint?: false; throwIfNoEntry: false }): Stats | undefined;
  function statSync(path: PathLike, options: StatOptions | null | undefined): Stats | BigIntStats | undefined;
  function statSync(path: PathLike, options?: StatOptions | null): Stats | BigIntStats | undefined {
    return statWith(() => vfs.stat(toPath(path)), options);
  }

  function lstatSync(path: PathLike, options?: (StatOptions & { bigint?: false; throwIfNoEntry?: true }) | null): Stats;
  function lstatSync(path: PathLike, options: StatOptions & { bigint: true; throwIfNoEntry?: true }): BigIntStats;
  function lstatSync(path: PathLike, options: StatOptions & { bigint?: false; throwIfNoEntry: false }): Stats | undefined;
  function lstatSync(path: PathLike, options: StatOptions | null | undefined): Stats | BigIntStats | undefined;
  function lstatSync(path: PathLike, options?: StatOptions | null): Stats | BigIntStats | undefined {
    return statWith(() => vfs.lstat(toPath(path)), options);
  }

  function fstatSync(fd: number, options?: { bigint?: false } | null): Stats;
  function fstatSync(fd: number, options: { bigint: true }): BigIntStats;
  function fstatSync(fd: number, options: { bigint?: boolean } | null): Stats | BigIntStats;
  function fstatSync(fd: number, options?: { bigint?: boolean } | null): Stats | BigIntStats {
    const st = vfs.fstat(toFd(fd));
    return options?.bigint ? new BigIntStats(st) : new Stats(st);
  }

  /** stat or lstat with Node's options; undefined and null options are the defaults. */
  function statWith(get: () => ReturnType<Vfs["stat"]>, options: StatOptions | null | undefined): Stats | BigIntStats | undefined {
    let st;
    try {
      st = get();
    } catch (e) {
      if (options?.throwIfNoEntry === false && isFolioError(e, "ENOENT")) return undefined;
      throw e;
    }
    return options?.bigint ? new BigIntStats(st) : new Stats(st);
  }

  function statfsSync(path: PathLike): StatFs {
    return new StatFs(vfs.statfs(toPath(path)));
  }

  function readdirSync(path: PathLike, options: ReaddirOptions & { withFileTypes: true }): Dirent[];
  function readdirSync(path: PathLike, options: { encoding: "buffer"; withFileTypes?: false; recursive?: boolean } | "buffer"): Buffer[];
  function readdirSync(path: PathLike, options?: { encoding?: BufferEncoding | null; withFileTypes?: false; recursive?: boolean } | BufferEncoding | null): string[];
  function readdirSync(path: PathLike, options?: ReaddirOptions | Encoding): string[] | Buffer[] | Dirent[];
  function readdirSync(path: PathLike, opts?: ReaddirOptions | Encoding): string[] | Buffer[] | Dirent[] {
    const o = options<ReaddirOptions>(opts, { encoding: "utf8", withFileTypes: false, recursive: false });
    const root = toPath(path);
    const out: (string | Buffer | Dirent)[] = [];
    const queue = [root];
    for (let i = 0; i < queue.length; i++) {
      const dir = queue[i]!;
      for (const e of vfs.readdir(dir)) {
        if (o.withFileTypes) out.push(new Dirent(e.name, dir, e.type));
        else out.push(encodeName(i === 0 ? e.name : posix.relative(root, posix.join(dir, e.name)), o.encoding));
        if (o.recursive && (e.type === FileType.Directory || (!o.withFileTypes && e.type === FileType.Symlink && isDirAt(posix.join(dir, e.name))))) {
          queue.push(posix.join(dir, e.name));
        }
      }
      if (!o.recursive) break;
    }
    return out as string[] | Buffer[] | Dirent[];
  }

  /**
   * True if `path` is a directory after following symlinks (false if it cannot be stat'ed). Node's
   * recursive readdirSync without withFileTypes decides whether to descend with such a stat, so it
   * descends into symlinks to directories (with withFileTypes it only descends into directories).
   */
  function isDirAt(path: string): boolean {
    try {
      return isDir(vfs.stat(path).mode);
    } catch {
      return false;
    }
  }

  /** mkdirSync(path, mode | { recursive, mode }): with recursive, returns the first directory created (or undefined). */
  function mkdirSync(path: PathLike, opts?: Mode | MkdirOptions | null): string | undefined {
    let mode = 0o777;
    let recursive = false;
    if (typeof opts === "number" || typeof opts === "string") mode = toMode(opts, "mode", 0o777);
    else if (opts) {
      if (opts.recursive !== undefined && typeof opts.recursive !== "boolean") throw invalidArgType("options.recursive", "of type boolean", opts.recursive);
      recursive = opts.recursive ?? false;
      mode = toMode(opts.mode, "mode", 0o777);
    }
    const p = toPath(path);
    if (!recursive) {
      vfs.mkdir(p, mode);
      return undefined;
    }
    let first: string | undefined;
    const stack = [p];
    while (stack.length > 0) {
      const next = stack.pop()!;
      try {
        vfs.mkdir(next, mode);
        first ??= next;
      } catch (e) {
        if (isFolioError(e, "ENOENT")) {
          const parent = posix.dirname(next);
          // "" has no parent ("." is not one): Node answers ENOENT rather than looping.
          if (parent === next || next === "") throw asSyscallError(e, "mkdir", p);
          stack.push(next, parent);
        } else if (isFolioError(e, "EEXIST")) {
          // As Node's MKDirpSync: what is there must be a directory once followed; if it cannot
          // be stat'ed (a dangling symlink, a loop), that error is the answer.
          let dir: boolean;
          try {
            dir = isDir(vfs.stat(next).mode);
          } catch (statError) {
            throw asSyscallError(statError, "mkdir", p);
          }
          if (!dir) throw asSyscallError(e, "mkdir", p);
        } else {
          throw asSyscallError(e, "mkdir", p);
        }
      }
    }
    return first;
  }

  /** rmdirSync(path, { recursive }): options, when given, must be an object (null is ERR_INVALID_ARG_TYPE, as in Node). */
  function rmdirSync(path: PathLike, options?: { recursive?: boolean; maxRetries?: number; retryDelay?: number }): void {
    const p = toPath(path);
    const opts = objectOptions<{ recursive?: boolean }>(options);
    if (opts.recursive) {
      if (!isDir(vfs.lstat(p).mode)) throw asSyscallError(fail("ENOTDIR", "not a directory"), "rmdir", p);
      removeTree(p, false);
      return;
    }
    vfs.rmdir(p);
  }

  /**
   * rmSync(path, { recursive, force }): removes files, symlinks and (recursive) directory trees;
   * force ignores a missing path. Options, when given, must be an object (null is
   * ERR_INVALID_ARG_TYPE, as in Node).
   */
  function rmSync(path: PathLike, options?: RmOptions): void {
    const p = toPath(path);
    const opts = objectOptions<RmOptions>(options);
    for (const key of ["force", "recursive"] as const) {
      if (opts[key] !== undefined && typeof opts[key] !== "boolean") throw invalidArgType(`options.${key}`, "of type boolean", opts[key]);
    }
    let st;
    try {
      st = vfs.lstat(p);
    } catch (e) {
      if (opts.force && isFolioError(e, "ENOENT")) return;
      throw e;
    }
    if (isDir(st.mode) && !opts.recursive) {
      throw new NodeSystemError("ERR_FS_EISDIR", "Path is a directory", { code: "EISDIR", message: "is a directory", path: p, syscall: "rm", errno: 21 });
    }
    removeTree(p, opts.force ?? false);
  }

  function removeTree(p: string, force: boolean): void {
    try {
      if (isDir(vfs.lstat(p).mode)) {
        for (const e of vfs.readdir(p)) removeTree(posix.join(p, e.name), force);
        vfs.rmdir(p);
      } else {
        vfs.unlink(p);
      }
    } catch (e) {
      if (!(force && isFolioError(e, "ENOENT"))) throw e;
    }
  }

  function unlinkSync(path: PathLike): void {
    vfs.unlink(toPath(path));
  }

  function renameSync(oldPath: PathLike, newPath: PathLike): void {
    vfs.rename(toPath(oldPath, "oldPath"), toPath(newPath, "newPath"));
  }

  function linkSync(existingPath: PathLike, newPath: PathLike): void {
    vfs.link(toPath(existingPath, "existingPath"), toPath(newPath, "newPath"));
  }

  /** symlinkSync(target, path, type?): `type` only matters on Windows and is ignored. */
  function symlinkSync(target: PathLike, path: PathLike, _type?: string | null): void {
    vfs.symlink(toPath(target, "target"), toPath(path));
  }

  function readlinkSync(path: PathLike, opts?: { encoding?: BufferEncoding | null } | BufferEncoding | null): string;
  function readlinkSync(path: PathLike, opts: { encoding: "buffer" } | "buffer"): Buffer;
  function readlinkSync(path: PathLike, opts?: { encoding?: Encoding } | Encoding): string | Buffer {
    return encodeName(vfs.readlink(toPath(path)), options(opts, {}).encoding);
  }

  /** realpathSync.native (and fs.promises.realpath): realpath(3), the VFS's own resolution. */
  function realpathNative(path: PathLike, opts?: { encoding?: BufferEncoding | null } | BufferEncoding | null): string;
  function realpathNative(path: PathLike, opts: { encoding: "buffer" } | "buffer"): Buffer;
  function realpathNative(path: PathLike, opts?: { encoding?: Encoding } | Encoding): string | Buffer {
    return encodeName(vfs.realpath(toPath(path)), options(opts, {}).encoding);
  }

  /**
   * realpathSync: Node's JavaScript realpath. The path is first made absolute and normalised
   * lexically (so "link/.." is the directory holding the link, and a trailing slash is dropped);
   * then each component is lstat'ed from the root, and a symlink is replaced by its target
   * (stat'ed first, so a loop or a too-long chain is ELOOP from "stat"), resolved lexically
   * against the link's directory, and the walk starts over. Errors are those of the lstat, stat
   * or readlink that failed, naming the partial path.
   */
  function realpathJs(path: PathLike, opts?: { encoding?: BufferEncoding | null } | BufferEncoding | null): string;
  function realpathJs(path: PathLike, opts: { encoding: "buffer" } | "buffer"): Buffer;
  function realpathJs(path: PathLike, opts?: { encoding?: Encoding } | Encoding): string | Buffer {
    const given = toPath(path);
    let p = posix.resolve(given.startsWith("/") ? "/" : vfs.cwd(), given);
    const seenLinks = new Map<string, string>();
    const knownHard = new Set<string>();
    let pos = 1;
    let current = "/";
    while (pos < p.length) {
      const slash = p.indexOf("/", pos);
      const part = slash === -1 ? p.slice(pos) : p.slice(pos, slash);
      const previous = current;
      const base = previous + part;
      current = slash === -1 ? base : `${base}/`;
      pos = slash === -1 ? p.length : slash + 1;
      if (knownHard.has(base)) continue;
      const st = vfs.lstat(base);
      if ((st.mode & S_IFMT) !== S_IFLNK) {
        knownHard.add(base);
        continue;
      }
      const id = `${st.dev}:${st.ino}`;
      let target = seenLinks.get(id);
      if (target === undefined) {
        vfs.stat(base);
        target = vfs.readlink(base);
        seenLinks.set(id, target);
      }
      p = posix.resolve(posix.resolve(previous, target), p.slice(pos));
      pos = 1;
      current = "/";
    }
    return encodeName(p, options(opts, {}).encoding);
  }
  const realpathSync = Object.assign(realpathJs, {
    /** realpath(3): the VFS's own resolution of every symlink, as `fs.realpathSync.native`. */
    native: realpathNative,
  });

  /** truncateSync(path, len = 0), as Node does it: open "r+", ftruncate, close. */
  function truncateSync(path: PathLike | number, len = 0): void {
    if (typeof path === "number") return ftruncateSync(path, len);
    const fd = vfs.open(toPath(path), O_RDWR);
    try {
      ftruncateSync(fd, len);
    } finally {
      vfs.close(fd);
    }
  }

  function ftruncateSync(fd: number, len = 0): void {
    fd = toFd(fd);
    vfs.ftruncate(fd, Math.max(0, integer(len, "len")));
  }

  function fsyncSync(fd: number): void {
    vfs.fsync(toFd(fd), false);
  }

  function fdatasyncSync(fd: number): void {
    vfs.fsync(toFd(fd), true);
  }

  function readFileSync(path: PathLike | number, options?: { encoding?: null; flag?: OpenMode } | null): Buffer;
  function readFileSync(path: PathLike | number, options: { encoding: BufferEncoding; flag?: OpenMode } | BufferEncoding): string;
  function readFileSync(path: PathLike | number, options?: ReadFileOptions | BufferEncoding | null): string | Buffer;
  function readFileSync(path: PathLike | number, opts?: ReadFileOptions | BufferEncoding | null): string | Buffer {
    const o = options<ReadFileOptions>(opts, { flag: "r" });
    const userFd = typeof path === "number";
    const fd = userFd ? toFd(path) : vfs.open(toPath(path), toFlags(o.flag), 0o666);
    try {
      const data = readAll(fd);
      return o.encoding ? data.toString(o.encoding) : data;
    } finally {
      if (!userFd) vfs.close(fd);
    }
  }

  /** Reads an open file from its position to its end: its size if it is a regular file, else in chunks. */
  function readAll(fd: number): Buffer {
    const st = vfs.fstat(fd);
    const size = (st.mode & S_IFMT) === S_IFREG ? st.size : 0;
    if (size > 0) {
      const buf = Buffer.allocUnsafe(size);
      let got = 0;
      while (got < size) {
        const n = vfs.read(fd, buf, got, size - got, null);
        if (n === 0) break;
        got += n;
      }
      return got === size ? buf : buf.subarray(0, got);
    }
    const chunks: Buffer[] = [];
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const n = vfs.read(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
    }
    return Buffer.concat(chunks);
  }

  function writeFileSync(path: PathLike | number, data: string | NodeJS.ArrayBufferView, opts?: WriteFileOptions | BufferEncoding | null): void {
    const o = options<WriteFileOptions>(opts, { encoding: "utf8", mode: 0o666, flag: "w", flush: false });
    const bytes = toData(data, o.encoding);
    const userFd = typeof path === "number";
    const fd = userFd ? toFd(path) : vfs.open(toPath(path), toFlags(o.flag), toMode(o.mode, "mode", 0o666));
    try {
      writeAll(fd, bytes);
      if (o.flush) vfs.fsync(fd, false);
    } finally {
      if (!userFd) vfs.close(fd);
    }
  }

  function writeAll(fd: number, bytes: Uint8Array): void {
    for (let off = 0; off < bytes.byteLength; ) {
      const n = vfs.write(fd, bytes, off, bytes.byteLength - off, null);
      if (n === 0) throw fail("ENOSPC", "the filesystem accepted no more bytes");
      off += n;
    }
  }

  function appendFileSync(path: PathLike | number, data: string | NodeJS.ArrayBufferView, opts?: WriteFileOptions | BufferEncoding | null): void {
    const o = options<WriteFileOptions>(opts, { encoding: "utf8", mode: 0o666, flag: "a" });
    if (!o.flag || typeof path === "number") o.flag = "a";
    writeFileSync(path, data, o);
  }

  /**
   * copyFileSync(src, dest, mode): as libuv does it — open the source, create the destination
   * with the source's mode (EEXIST with COPYFILE_EXCL), do nothing if both are the same file,
   * truncate, copy the mode, copy the bytes. Errors name "copyfile", src and dest.
   */
  function copyFileSync(src: PathLike, dest: PathLike, mode?: number | null): void {
    const s = toPath(src, "src");
    const d = toPath(dest, "dest");
    mode = mode === undefined || mode === null ? 0 : integer(mode, "mode", 0, 7);
    try {
      if ((mode & COPYFILE_FICLONE_FORCE) !== 0) throw fail("ENOSYS", "no Folio filesystem can clone files");
      const from = vfs.open(s, O_RDONLY);
      try {
        const st = vfs.fstat(from);
        if (isDir(st.mode)) throw fail("EISDIR", "is a directory");
        const excl = (mode & COPYFILE_EXCL) !== 0;
        const to = vfs.open(d, O_WRONLY | O_CREAT | (excl ? O_EXCL : 0), st.mode & 0o7777);
        try {
          if (!excl) {
            const dst = vfs.fstat(to);
            if (dst.dev === st.dev && dst.ino === st.ino) return;
            vfs.ftruncate(to, 0);
          }
          try {
            vfs.fchmod(to, st.mode & 0o7777);
          } catch (e) {
            if (!isFolioError(e, "EPERM")) throw e;
          }
          const buf = Buffer.allocUnsafe(64 * 1024);
          for (let pos = 0; ; ) {
            const n = vfs.read(from, buf, 0, buf.length, pos);
            if (n === 0) break;
            for (let off = 0; off < n; ) off += vfs.write(to, buf, off, n - off, pos + off);
            pos += n;
          }
        } finally {
          vfs.close(to);
        }
      } finally {
        vfs.close(from);
      }
    } catch (e) {
      throw asSyscallError(e, "copyfile", s, d);
    }
  }

  function accessSync(path: PathLike, mode?: number | null): void {
    if (mode === undefined || mode === null) mode = F_OK;
    if (typeof mode !== "number") throw invalidArgType("mode", "of type number", mode);
    if (!Number.isInteger(mode) || mode < 0 || mode > 7) throw outOfRange("mode", ">= 0 && <= 7", mode);
    vfs.access(toPath(path), mode);
  }

  /** True if `path` exists (and is reachable); never throws. */
  function existsSync(path: PathLike): boolean {
    try {
      vfs.access(toPath(path), F_OK);
      return true;
    } catch {
      return false;
    }
  }

  function utimesSync(path: PathLike, atime: TimeLike, mtime: TimeLike): void {
    vfs.utimes(toPath(path), toTimeNs(atime, "atime", nowNs()), toTimeNs(mtime, "mtime", nowNs()));
  }

  function lutimesSync(path: PathLike, atime: TimeLike, mtime: TimeLike): void {
    vfs.utimes(toPath(path), toTimeNs(atime, "atime", nowNs()), toTimeNs(mtime, "mtime", nowNs()), false);
  }

  function futimesSync(fd: number, atime: TimeLike, mtime: TimeLike): void {
    vfs.futimes(toFd(fd), toTimeNs(atime, "atime", nowNs()), toTimeNs(mtime, "mtime", nowNs()));
  }

  function requiredMode(mode: unknown): number {
    if (mode === undefined || mode === null) throw invalidArgType("mode", "of type number", mode);
    return toMode(mode, "mode", 0);
  }

  function chmodSync(path: PathLike, mode: Mode): void {
    vfs.chmod(toPath(path), requiredMode(mode));
  }

  function fchmodSync(fd: number, mode: Mode): void {
    vfs.fchmod(toFd(fd), requiredMode(mode));
  }

  function chownSync(path: PathLike, uid: number, gid: number): void {
    vfs.chown(toPath(path), integer(uid, "uid", -1, 2 ** 32 - 1), integer(gid, "gid", -1, 2 ** 32 - 1));
  }

  function lchownSync(path: PathLike, uid: number, gid: number): void {
    vfs.chown(toPath(path), integer(uid, "uid", -1, 2 ** 32 - 1), integer(gid, "gid", -1, 2 ** 32 - 1), false);
  }

  function fchownSync(fd: number, uid: number, gid: number): void {
    vfs.fchown(toFd(fd), integer(uid, "uid", -1, 2 ** 32 - 1), integer(gid, "gid", -1, 2 ** 32 - 1));
  }

  return {
    /** `fs.constants`: {@link constants}. */
    constants,
    /** The {@link Stats} class, as `fs.Stats`. */
    Stats,
    /** The {@link BigIntStats} class. */
    BigIntStats,
    /** The {@link Dirent} class, as `fs.Dirent`. */
    Dirent,
    /** The {@link StatFs} class, as `fs.StatFs`. */
    StatFs,
    /** The {@link ReadStream} class, as `fs.ReadStream`. */
    ReadStream,
    /** The {@link WriteStream} class, as `fs.WriteStream`. */
    WriteStream,
    /**
     * openSync(path, flags = "r", mode = 0o666): opens (creating with O_CREAT, mode less the umask)
     * and returns the lowest free descriptor from 3 up.
     */
    openSync,
    /** closeSync(fd): closes the descriptor; EBADF if it is not open. */
    closeSync,
    /**
     * readSync(fd, buffer, offset, length, position) or readSync(fd, buffer, { offset, length,
     * position }): bytes read, 0 at end of file; position null (or -1) reads at and advances the
     * file position.
     */
    readSync,
    /**
     * writeSync(fd, buffer, offset?, length?, position?), writeSync(fd, buffer, options) or
     * writeSync(fd, string, position?, encoding?): bytes written (all of them).
     */
    writeSync,
    /**
     * statSync(path, { bigint, throwIfNoEntry }): {@link Stats} (or {@link BigIntStats}) of the
     * file, symlinks followed; undefined for a missing path with `throwIfNoEntry: false`.
     */
    statSync,
    /** lstatSync(path, options): as `statSync`, but a final symlink is stat'ed itself. */
    lstatSync,
    /** fstatSync(fd, { bigint }): stat of an open descriptor. */
    fstatSync,
    /** statfsSync(path): {@link StatFs} of the filesystem holding `path`. */
    statfsSync,
    /**
     * readdirSync(path, { encoding, withFileTypes, recursive }): names (or Buffers, or
     * {@link Dirent}s), sorted by name bytes, without "." and "..".
     */
    readdirSync,
    /**
     * mkdirSync(path, mode | { recursive, mode }): creates a directory; with `recursive` creates
     * missing parents and returns the first directory created (or undefined).
     */
    mkdirSync,
    /**
     * rmdirSync(path, { recursive }): removes an empty directory (ENOTEMPTY otherwise); `recursive`
     * removes a tree, as Node's deprecated option does.
     */
    rmdirSync,
    /**
     * rmSync(path, { recursive, force }): removes a file, symlink or (with `recursive`) directory
     * tree; `force` ignores a missing path.
     */
    rmSync,
    /** unlinkSync(path): removes a name of a non-directory; the inode lives on while open. */
    unlinkSync,
    /**
     * renameSync(oldPath, newPath): renames within a mount, replacing a compatible target; EXDEV
     * across mounts.
     */
    renameSync,
    /** linkSync(existingPath, newPath): adds a name for a non-directory. */
    linkSync,
    /**
     * symlinkSync(target, path, type?): creates a symbolic link holding `target` as given; `type`
     * only matters on Windows and is ignored.
     */
    symlinkSync,
    /**
     * readlinkSync(path, { encoding }): the target of a symbolic link; EINVAL if `path` is not one.
     */
    readlinkSync,
    /**
     * realpathSync(path, { encoding }): the canonical path by Node's JavaScript algorithm (lstat
     * each component, splice in link targets); `realpathSync.native` is realpath(3).
     */
    realpathSync,
    /**
     * truncateSync(path, len = 0): truncates or zero-extends the file to `len` bytes (open "r+",
     * ftruncate, close, as Node).
     */
    truncateSync,
    /**
     * ftruncateSync(fd, len = 0): as `truncateSync` on a descriptor of a regular file open
     * for writing (else EINVAL).
     */
    ftruncateSync,
    /**
     * fsyncSync(fd): makes the file durable as its filesystem's persistence model says; EIO once
     * for each writeback error this open file has not seen.
     */
    fsyncSync,
    /** fdatasyncSync(fd): as `fsyncSync`, but only what is needed to read the data back. */
    fdatasyncSync,
    /**
     * readFileSync(path | fd, { encoding, flag }): the whole file (from a descriptor: from its
     * position), as a Buffer or, with an encoding, a string.
     */
    readFileSync,
    /**
     * writeFileSync(path | fd, data, { encoding, mode, flag, flush }): replaces the file's contents
     * (flag "w"), creating it with `mode`; `flush` fsyncs before closing.
     */
    writeFileSync,
    /**
     * appendFileSync(path | fd, data, options): as `writeFileSync` with flag "a": writes at
     * the end.
     */
    appendFileSync,
    /**
     * copyFileSync(src, dest, mode): copies the bytes and mode as libuv does; EEXIST with
     * COPYFILE_EXCL; copying a file onto itself does nothing.
     */
    copyFileSync,
    /**
     * accessSync(path, mode = F_OK): throws EACCES unless the caller's credentials allow every
     * access in `mode` (ENOENT if missing).
     */
    accessSync,
    /** existsSync(path): whether `path` exists and is reachable; never throws. */
    existsSync,
    /**
     * utimesSync(path, atime, mtime): sets the times (seconds or Dates, microsecond precision as
     * libuv), symlinks followed.
     */
    utimesSync,
    /** lutimesSync(path, atime, mtime): as `utimesSync` on the link itself. */
    lutimesSync,
    /** futimesSync(fd, atime, mtime): as `utimesSync` on an open descriptor. */
    futimesSync,
    /**
     * chmodSync(path, mode): sets the permission bits; only the owner or root (EPERM otherwise).
     */
    chmodSync,
    /** fchmodSync(fd, mode): as `chmodSync` on an open descriptor. */
    fchmodSync,
    /**
     * chownSync(path, uid, gid): sets owner and group (-1 keeps one); only root gives files away.
     */
    chownSync,
    /** lchownSync(path, uid, gid): as `chownSync` on the link itself. */
    lchownSync,
    /** fchownSync(fd, uid, gid): as `chownSync` on an open descriptor. */
    fchownSync,
    /** A Readable over the file (Node's ReadStream): options flags, encoding, fd, mode, autoClose, emitClose, start, end (inclusive), highWaterMark. */
    createReadStream(path: PathLike | null, opts?: ReadStreamOptions | BufferEncoding): ReadStream {
      return new ReadStream(vfs, path, typeof opts === "string" ? { encoding: opts } : (opts ?? {}));
    },
    /** A Writable to the file (Node's WriteStream): options flags, encoding, fd, mode, autoClose, emitClose, start, flush. */
    createWriteStream(path: PathLike | null, opts?: WriteStreamOptions | BufferEncoding): WriteStream {
      return new WriteStream(vfs, path, typeof opts === "string" ? { encoding: opts } : (opts ?? {}));
    },
  };
}

/** The synchronous part of the object {@link createNodeFs} returns. */
export type NodeFsSync = ReturnType<typeof createSyncFs>;
/** What {@link createNodeFs} returns: Node's fs API over a VFS. */
export type NodeFs = ReturnType<typeof createNodeFs>;
