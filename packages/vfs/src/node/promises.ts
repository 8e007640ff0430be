import type { Vfs } from "../vfs.js";
import type { BigIntStats, Dirent, StatFs, Stats } from "./stats.js";
import type {
  Encoding, MkdirOptions, Mode, NodeFsSync, OpenMode, ReadFileOptions, ReaddirOptions, RmOptions, StatOptions, TimeLike, WriteFileOptions,
} from "./fs.js";
import {
  checkReadRange, checkWriteRange, integer, invalidArgValue, isFilePosition, isUint32, toBytes, toData, toPosition, writePosition, type PathLike,
} from "./validate.js";

/** What FileHandle.read resolves to. */
export interface ReadResult<T extends NodeJS.ArrayBufferView> {
  /** Bytes read; 0 at end of file. */
  bytesRead: number;
  /** The buffer read into (the one passed, or the one allocated). */
  buffer: T;
}

/** What FileHandle.write resolves to. */
export interface WriteResult<T> {
  /** Bytes written: all of them, as the VFS never writes short. */
  bytesWritten: number;
  /** The data written, as passed. */
  buffer: T;
}

/** Options of FileHandle.read. */
export interface FileReadOptions<T extends NodeJS.ArrayBufferView = Buffer> {
  /** Buffer to read into; default a new 16 KiB Buffer. */
  buffer?: T;
  /** Where in `buffer` to start; default 0. */
  offset?: number;
  /** Bytes to read; default the rest of `buffer` after `offset`. */
  length?: number;
  /** File position to read at; null or absent reads at and advances the current position. */
  position?: number | bigint | null;
}

/**
 * Node's FileHandle (`fs.promises.open`): a descriptor with promise methods. Each call runs the
 * synchronous operation as a scheduler event ({@link Vfs.defer}). After `close()`, calls reject
 * with EBADF ("file closed"), as Node's do.
 */
export class FileHandle {
  #fd: number;
  readonly #vfs: Vfs;
  readonly #fs: NodeFsSync;

  /** Made by `promises.open` around the descriptor it opened; the handle owns `fd` until `close`. */
  constructor(vfs: Vfs, fs: NodeFsSync, fd: number) {
    this.#vfs = vfs;
    this.#fs = fs;
    this.#fd = fd;
  }

  /** The descriptor, or -1 once closed. */
  get fd(): number {
    return this.#fd;
  }

  /**
   * read(buffer, offset?, length?, position?), read(buffer, { offset, length, position }),
   * read({ buffer, offset, length, position }) or read(): resolves to { bytesRead, buffer }.
   */
  read<T extends NodeJS.ArrayBufferView = Buffer>(
    bufferOrOptions?: T | FileReadOptions<T> | null,
    offsetOrOptions?: number | FileReadOptions<T> | null,
    length?: number | null,
    position?: number | bigint | null,
  ): Promise<ReadResult<T>> {
    // One closure per call (the hot path of reading through a handle): no #op wrapper.
    return this.#vfs.defer("read", () => this.#read(this.#openFd("read"), bufferOrOptions, offsetOrOptions, length, position));
  }

  /** The read itself, run as the deferred operation: Node's argument forms, then one VFS read. */
  #read<T extends NodeJS.ArrayBufferView>(
    fd: number,
    bufferOrOptions: T | FileReadOptions<T> | null | undefined,
    offsetOrOptions: number | FileReadOptions<T> | null | undefined,
    length: number | null | undefined,
    position: number | bigint | null | undefined,
  ): ReadResult<T> {
    // The usual call — read(bytes, offset, length, position) with a range inside the buffer — is
    // taken as it is: the general path below accepts exactly these arguments, unchanged.
    if (
      bufferOrOptions instanceof Uint8Array && isUint32(offsetOrOptions) && isUint32(length) && length > 0 &&
      offsetOrOptions + length <= bufferOrOptions.byteLength && (position === null || isFilePosition(position))
    ) {
      return { bytesRead: this.#vfs.read(fd, bufferOrOptions, offsetOrOptions, length, position), buffer: bufferOrOptions };
    }
    let buffer: T;
    let offset: unknown = offsetOrOptions;
    let len: unknown = length;
    let pos: unknown = position;
    if (bufferOrOptions !== undefined && bufferOrOptions !== null && ArrayBuffer.isView(bufferOrOptions)) {
      buffer = bufferOrOptions;
    } else {
      const o = (bufferOrOptions ?? {}) as FileReadOptions<T>;
      buffer = o.buffer ?? (Buffer.alloc(16384) as unknown as T);
      offset = o.offset ?? 0;
      len = o.length;
      pos = o.position ?? null;
    }
    const bytes = toBytes(buffer);
    if (offset !== null && typeof offset === "object") {
      const o = offset as FileReadOptions<T>;
      offset = o.offset ?? 0;
      len = o.length;
      pos = o.position ?? null;
    }
    const off = offset === undefined || offset === null ? 0 : integer(offset, "offset", 0);
    const n = len === undefined || len === null ? bytes.byteLength - off : integer(len, "length");
    if (n === 0) return { bytesRead: 0, buffer };
    if (bytes.byteLength === 0) throw invalidArgValue("buffer", buffer, "is empty and cannot be written");
    checkReadRange(off, n, bytes.byteLength);
    return { bytesRead: this.#vfs.read(fd, bytes, off, n, toPosition(pos)), buffer };
  }

  /**
   * write(buffer, offset?, length?, position?), write(buffer, { offset, length, position }) or
   * write(string, position?, encoding?): resolves to { bytesWritten, buffer }.
   */
  write<T extends NodeJS.ArrayBufferView | string>(
    data: T,
    offsetOrOptions?: number | { offset?: number; length?: number; position?: number | null } | null,
    length?: number | BufferEncoding | null,
    position?: number | null,
  ): Promise<WriteResult<T>> {
    return this.#op("write", (fd) => {
      if (typeof data === "string") {
        const encoding = typeof length === "string" ? length : "utf8";
        const bytes = Buffer.from(data, encoding);
        return { bytesWritten: this.#vfs.write(fd, bytes, 0, bytes.byteLength, writePosition(offsetOrOptions)), buffer: data };
      }
      const bytes = toData(data, undefined, "buffer");
      if (bytes.byteLength === 0) return { bytesWritten: 0, buffer: data };
      let offset: unknown = offsetOrOptions;
      let len: unknown = length;
      let pos: unknown = position;
      if (offsetOrOptions !== null && typeof offsetOrOptions === "object") {
        offset = offsetOrOptions.offset ?? 0;
        len = offsetOrOptions.length;
        pos = offsetOrOptions.position ?? null;
      }
      const off = offset === undefined || offset === null ? 0 : integer(offset, "offset", 0);
      const n = typeof len === "number" ? len : bytes.byteLength - off;
      checkWriteRange(off, n, bytes.byteLength);
      return { bytesWritten: this.#vfs.write(fd, bytes, off, n, writePosition(pos)), buffer: data };
    });
  }

  /** fstat of the descriptor: {@link Stats}, or {@link BigIntStats} with `bigint: true`. */
  stat(options?: { bigint?: false } | null): Promise<Stats>;
  stat(options: { bigint: true }): Promise<BigIntStats>;
  stat(options?: { bigint?: boolean } | null): Promise<Stats | BigIntStats> {
    return this.#op("fstat", (fd) => this.#fs.fstatSync(fd, options ?? null));
  }

  /** Truncates or extends the file to `len` bytes (ftruncate); the descriptor must be open for writing. */
  truncate(len = 0): Promise<void> {
    return this.#op("ftruncate", (fd) => this.#fs.ftruncateSync(fd, len));
  }

  /** fsync: the file's data and inode made durable as its filesystem's persistence model says; rejects with EIO once per unseen writeback error. */
  sync(): Promise<void> {
    return this.#op("fsync", (fd) => this.#fs.fsyncSync(fd));
  }

  /** fdatasync: as {@link sync}, but only what is needed to read the data back. */
  datasync(): Promise<void> {
    return this.#op("fdatasync", (fd) => this.#fs.fdatasyncSync(fd));
  }

  /** Sets the permission bits (fchmod); only the owner or root may. */
  chmod(mode: Mode): Promise<void> {
    return this.#op("fchmod", (fd) => this.#fs.fchmodSync(fd, mode));
  }

  /** Sets the owner and group (fchown); -1 leaves one unchanged. */
  chown(uid: number, gid: number): Promise<void> {
    return this.#op("fchown", (fd) => this.#fs.fchownSync(fd, uid, gid));
  }

  /** Sets the access and modification times (futimes); times as Node takes them, in seconds or Dates. */
  utimes(atime: TimeLike, mtime: TimeLike): Promise<void> {
    return this.#op("futime", (fd) => this.#fs.futimesSync(fd, atime, mtime));
  }

  /** Reads from the current position to the end of the file. */
  readFile(options?: { encoding?: null } | null): Promise<Buffer>;
  readFile(options: { encoding: BufferEncoding } | BufferEncoding): Promise<string>;
  readFile(options?: { encoding?: BufferEncoding | null } | BufferEncoding | null): Promise<string | Buffer>;
  readFile(options?: { encoding?: BufferEncoding | null } | BufferEncoding | null): Promise<string | Buffer> {
    return this.#op("read", (fd) => this.#fs.readFileSync(fd, options));
  }

  /** Writes `data` at the current position. */
  writeFile(data: string | NodeJS.ArrayBufferView, options?: WriteFileOptions | BufferEncoding | null): Promise<void> {
    return this.#op("write", (fd) => this.#fs.writeFileSync(fd, data, options));
  }

  /** Writes `data` at the end of the file. */
  appendFile(data: string | NodeJS.ArrayBufferView, options?: WriteFileOptions | BufferEncoding | null): Promise<void> {
    return this.#op("write", (fd) => this.#fs.appendFileSync(fd, data, options));
  }

  /** Closes the descriptor; closing a closed handle does nothing. */
  close(): Promise<void> {
    if (this.#fd === -1) return Promise.resolve();
    const fd = this.#fd;
    return this.#vfs.defer("close", () => {
      this.#vfs.close(fd);
      this.#fd = -1;
    });
  }

  /** `await using` support: closes the handle. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #op<T>(syscall: string, fn: (fd: number) => T): Promise<T> {
    return this.#vfs.defer(syscall, () => fn(this.#openFd(syscall)));
  }

  /** The descriptor, checked when the operation runs: EBADF ("file closed") once the handle is closed, as Node's. */
  #openFd(syscall: string): number {
    if (this.#fd === -1) throw Object.assign(new Error("file closed"), { code: "EBADF", syscall });
    return this.#fd;
  }
}

/**
 * `fs.promises` over a VFS: each function runs its synchronous counterpart as a scheduler event
 * and settles with its result ({@link Vfs.defer}).
 */
export function createPromises(vfs: Vfs, fs: NodeFsSync) {
  const run = <T>(name: string, fn: () => T): Promise<T> => vfs.defer(name, fn);

  function readFile(path: PathLike | FileHandle, options?: { encoding?: null; flag?: OpenMode } | null): Promise<Buffer>;
  function readFile(path: PathLike | FileHandle, options: { encoding: BufferEncoding; flag?: OpenMode } | BufferEncoding): Promise<string>;
  function readFile(path: PathLike | FileHandle, options?: ReadFileOptions | BufferEncoding | null): Promise<string | Buffer>;
  function readFile(path: PathLike | FileHandle, options?: ReadFileOptions | BufferEncoding | null): Promise<string | Buffer> {
    if (path instanceof FileHandle) return path.readFile(typeof options === "object" && options !== null ? { encoding: options.encoding ?? null } : options);
    return run("readFile", () => fs.readFileSync(path, options));
  }

  function stat(path: PathLike, options?: (StatOptions & { bigint?: false }) | null): Promise<Stats>;
  function stat(path: PathLike, options: StatOptions & { bigint: true }): Promise<BigIntStats>;
  function stat(path: PathLike, options?: StatOptions | null): Promise<Stats | BigIntStats | undefined> {
    return run("stat", () => fs.statSync(path, options));
  }

  function lstat(path: PathLike, options?: (StatOptions & { bigint?: false }) | null): Promise<Stats>;
  function lstat(path: PathLike, options: StatOptions & { bigint: true }): Promise<BigIntStats>;
  function lstat(path: PathLike, options?: StatOptions | null): Promise<Stats | BigIntStats | undefined> {
    return run("lstat", () => fs.lstatSync(path, options));
  }

  function readdir(path: PathLike, options: ReaddirOptions & { withFileTypes: true }): Promise<Dirent[]>;
  function readdir(path: PathLike, options?: { encoding?: BufferEncoding | null; withFileTypes?: false; recursive?: boolean } | BufferEncoding | null): Promise<string[]>;
  function readdir(path: PathLike, options?: ReaddirOptions | Encoding): Promise<string[] | Buffer[] | Dirent[]>;
  function readdir(path: PathLike, options?: ReaddirOptions | Encoding): Promise<string[] | Buffer[] | Dirent[]> {
    return run("readdir", () => fs.readdirSync(path, options));
  }

  return {
    /** `fs.constants`, as on the synchronous API. */
    constants: fs.constants,
    /** The {@link FileHandle} class. */
    FileHandle,
    /** Opens a file; resolves to a {@link FileHandle}. */
    open: (path: PathLike, flags?: OpenMode | null, mode?: Mode | null): Promise<FileHandle> => run("open", () => new FileHandle(vfs, fs, fs.openSync(path, flags, mode))),
    /**
     * readFile(path | handle, options): as readFileSync, as an event; a {@link FileHandle} reads
     * from its position.
     */
    readFile,
    /**
     * writeFile(path | handle, data, options): as writeFileSync, as an event; a {@link FileHandle}
     * writes at its position.
     */
    writeFile: (path: PathLike | FileHandle, data: string | NodeJS.ArrayBufferView, options?: WriteFileOptions | BufferEncoding | null): Promise<void> =>
      path instanceof FileHandle ? path.writeFile(data, options) : run("writeFile", () => fs.writeFileSync(path, data, options)),
    /** appendFile(path | handle, data, options): as appendFileSync, as an event. */
    appendFile: (path: PathLike | FileHandle, data: string | NodeJS.ArrayBufferView, options?: WriteFileOptions | BufferEncoding | null): Promise<void> =>
      path instanceof FileHandle ? path.appendFile(data, options) : run("appendFile", () => fs.appendFileSync(path, data, options)),
    /** stat(path, { bigint }): as statSync, as an event. */
    stat,
    /** lstat(path, { bigint }): as lstatSync, as an event. */
    lstat,
    /** statfs(path): as statfsSync, as an event. */
    statfs: (path: PathLike): Promise<StatFs> => run("statfs", () => fs.statfsSync(path)),
    /** readdir(path, options): as readdirSync, as an event. */
    readdir,
    /**
     * mkdir(path, options): as mkdirSync, as an event; resolves to the first directory created with
     * `recursive`.
     */
    mkdir: (path: PathLike, options?: Mode | MkdirOptions | null): Promise<string | undefined> => run("mkdir", () => fs.mkdirSync(path, options)),
    /** rm(path, { recursive, force }): as rmSync, as an event. */
    rm: (path: PathLike, options?: RmOptions): Promise<void> => run("rm", () => fs.rmSync(path, options)),
    /** rmdir(path, { recursive }): as rmdirSync, as an event. */
    rmdir: (path: PathLike, options?: { recursive?: boolean }): Promise<void> => run("rmdir", () => fs.rmdirSync(path, options)),
    /** unlink(path): as unlinkSync, as an event. */
    unlink: (path: PathLike): Promise<void> => run("unlink", () => fs.unlinkSync(path)),
    /** rename(oldPath, newPath): as renameSync, as an event. */
    rename: (oldPath: PathLike, newPath: PathLike): Promise<void> => run("rename", () => fs.renameSync(oldPath, newPath)),
    /** link(existingPath, newPath): as linkSync, as an event. */
    link: (existingPath: PathLike, newPath: PathLike): Promise<void> => run("link", () => fs.linkSync(existingPath, newPath)),
    /** symlink(target, path, type?): as symlinkSync, as an event. */
    symlink: (target: PathLike, path: PathLike, type?: string | null): Promise<void> => run("symlink", () => fs.symlinkSync(target, path, type)),
    /** readlink(path, options): as readlinkSync, as an event. */
    readlink: (path: PathLike, options?: { encoding?: BufferEncoding | null } | BufferEncoding | null): Promise<string> => run("readlink", () => fs.readlinkSync(path, options)),
    /** realpath(3), as Node's promise realpath (not the JavaScript algorithm of realpathSync). */
    realpath: (path: PathLike, options?: { encoding?: BufferEncoding | null } | BufferEncoding | null): Promise<string> => run("realpath", () => fs.realpathSync.native(path, options)),
    /** truncate(path, len = 0): as truncateSync, as an event. */
    truncate: (path: PathLike, len = 0): Promise<void> => run("truncate", () => fs.truncateSync(path, len)),
    /** copyFile(src, dest, mode): as copyFileSync, as an event. */
    copyFile: (src: PathLike, dest: PathLike, mode?: number | null): Promise<void> => run("copyFile", () => fs.copyFileSync(src, dest, mode)),
    /** access(path, mode = F_OK): as accessSync, as an event; rejects with EACCES or ENOENT. */
    access: (path: PathLike, mode?: number | null): Promise<void> => run("access", () => fs.accessSync(path, mode)),
    /** utimes(path, atime, mtime): as utimesSync, as an event. */
    utimes: (path: PathLike, atime: TimeLike, mtime: TimeLike): Promise<void> => run("utimes", () => fs.utimesSync(path, atime, mtime)),
    /** lutimes(path, atime, mtime): as lutimesSync, as an event. */
    lutimes: (path: PathLike, atime: TimeLike, mtime: TimeLike): Promise<void> => run("lutimes", () => fs.lutimesSync(path, atime, mtime)),
    /** chmod(path, mode): as chmodSync, as an event. */
    chmod: (path: PathLike, mode: Mode): Promise<void> => run("chmod", () => fs.chmodSync(path, mode)),
    /** chown(path, uid, gid): as chownSync, as an event. */
    chown: (path: PathLike, uid: number, gid: number): Promise<void> => run("chown", () => fs.chownSync(path, uid, gid)),
    /** lchown(path, uid, gid): as lchownSync, as an event. */
    lchown: (path: PathLike, uid: number, gid: number): Promise<void> => run("lchown", () => fs.lchownSync(path, uid, gid)),
  };
}

/** `fs.promises` as {@link createPromises} builds it. */
export type FsPromises = ReturnType<typeof createPromises>;
