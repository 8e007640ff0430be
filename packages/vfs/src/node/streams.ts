import { Readable, Writable, finished } from "node:stream";
import type { Vfs } from "../vfs.js";
import { integer, outOfRange, toFd, toFlags, toMode, toPath, type PathLike } from "./validate.js";

/** Options of createReadStream, as Node's. */
export interface ReadStreamOptions {
  /** Open flags, as a string (`"r"`, …) or number; default `"r"`. */
  flags?: string | number;
  /** Decode chunks to strings in this encoding; default none (Buffers). */
  encoding?: BufferEncoding | null;
  /** Read from this open descriptor instead of opening `path`. */
  fd?: number | null;
  /** Mode for a file the open creates; default 0o666 (before the umask). */
  mode?: number | string;
  /** Close the descriptor when the stream ends or fails (default true). */
  autoClose?: boolean;
  /** Emit `close` after the stream is destroyed (default true). */
  emitClose?: boolean;
  /** First byte to read; without it reading starts at the descriptor's position. */
  start?: number;
  /** Last byte to read, inclusive (default: to end of file). */
  end?: number;
  /** Most bytes read per chunk; default 64 KiB. */
  highWaterMark?: number;
}

/** Options of createWriteStream, as Node's. */
export interface WriteStreamOptions {
  /** Open flags, as a string (`"w"`, `"a"`, …) or number; default `"w"`. */
  flags?: string | number;
  /** Encoding of string chunks; default utf8. */
  encoding?: BufferEncoding | null;
  /** Write to this open descriptor instead of opening `path`. */
  fd?: number | null;
  /** Mode for a file the open creates; default 0o666 (before the umask). */
  mode?: number | string;
  /** Close the descriptor when the stream finishes or fails (default true). */
  autoClose?: boolean;
  /** Emit `close` after the stream is destroyed (default true). */
  emitClose?: boolean;
  /** Byte at which writing starts; without it writes go to the descriptor's position. */
  start?: number;
  /** Bytes buffered before `write` returns false; default 16 KiB. */
  highWaterMark?: number;
  /** fsync before the stream closes. */
  flush?: boolean;
}

/**
 * Node's fs.ReadStream over a VFS: opens (unless given `fd`), reads chunks of up to
 * `highWaterMark` bytes through the descriptor API, and closes at the end (`autoClose`). Every
 * open, read and close runs as a scheduler event ({@link Vfs.defer}).
 */
export class ReadStream extends Readable {
  /** Bytes read so far. */
  bytesRead = 0;
  /** The path opened (undefined when constructed from a descriptor). */
  readonly path: string | undefined;
  /** The descriptor, once open. */
  fd: number | null;
  /** The open flags in use. */
  readonly flags: number;
  /** The creation mode in use. */
  readonly mode: number;
  /** First byte to read, or undefined to read from the descriptor's position. */
  readonly start: number | undefined;
  /** Last byte to read, inclusive; Infinity for end of file. */
  readonly end: number;
  /** Next byte to read (undefined: the descriptor's position). */
  pos: number | undefined;
  private readonly vfs: Vfs;
  private readonly autoClose: boolean;

  /**
   * Made by `createReadStream`. Validates the options as Node does (ERR_OUT_OF_RANGE for
   * `start` beyond `end`); the file is opened in {@link _construct}, not here.
   */
  constructor(vfs: Vfs, path: PathLike | null, options: ReadStreamOptions = {}) {
    const autoClose = options.autoClose ?? true;
    super({ highWaterMark: options.highWaterMark ?? 64 * 1024, encoding: options.encoding ?? undefined, emitClose: options.emitClose ?? true, autoDestroy: autoClose });
    this.vfs = vfs;
    this.autoClose = autoClose;
    this.fd = options.fd === undefined || options.fd === null ? null : toFd(options.fd);
    this.path = this.fd === null ? toPath(path) : path === null ? undefined : toPath(path);
    this.flags = toFlags(options.flags ?? "r");
    this.mode = toMode(options.mode, "mode", 0o666);
    this.start = options.start === undefined ? undefined : integer(options.start, "start", 0);
    this.end = options.end === undefined || options.end === Infinity ? Infinity : integer(options.end, "end", 0);
    if (this.start !== undefined && this.start > this.end) throw outOfRange("start", `<= "end" (here: ${this.end})`, this.start);
    this.pos = this.start;
  }

  /** True until the file is open. */
  get pending(): boolean {
    return this.fd === null;
  }

  /** Stream hook: opens `path` as a scheduler event (unless given a descriptor), then emits `open` and `ready`. */
  override _construct(callback: (error?: Error | null) => void): void {
    if (this.fd !== null) {
      callback();
      return;
    }
    this.vfs.defer("open (read stream)", () => this.vfs.open(this.path!, this.flags, this.mode)).then(
      (fd) => {
        this.fd = fd;
        callback();
        this.emit("open", fd);
        this.emit("ready");
      },
      (e: Error) => callback(e),
    );
  }

  /** Stream hook: reads up to `size` bytes (not past `end`) as a scheduler event and pushes them; pushes end at EOF. */
  override _read(size: number): void {
    const want = Math.min(size, this.pos !== undefined ? this.end - this.pos + 1 : this.end - this.bytesRead + 1);
    if (want <= 0) {
      this.push(null);
      return;
    }
    const buf = Buffer.allocUnsafeSlow(want);
    const fd = this.fd!;
    this.vfs.defer("read (read stream)", () => this.vfs.read(fd, buf, 0, want, this.pos ?? null)).then(
      (n) => {
        if (n === 0) {
          this.push(null);
          return;
        }
        if (this.pos !== undefined) this.pos += n;
        this.bytesRead += n;
        this.push(n === want ? buf : buf.subarray(0, n));
      },
      (e: Error) => this.destroy(e),
    );
  }

  /** Stream hook: closes the descriptor with `autoClose`, then reports `error`. */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    closeFor(this.vfs, this.autoClose ? this.fd : null, error, callback);
    if (this.autoClose) this.fd = null;
  }

  /** Destroys the stream (closing the file); `callback` runs once it has closed. */
  close(callback?: (error?: Error | null) => void): void {
    if (callback) finished(this, (e) => callback(e ?? null));
    this.destroy();
  }
}

/**
 * Node's fs.WriteStream over a VFS: opens (unless given `fd`), writes each chunk through the
 * descriptor API (all of it, at `start` onward if given), optionally fsyncs at the end
 * (`flush`), and closes (`autoClose`). Every call runs as a scheduler event.
 */
export class WriteStream extends Writable {
  /** Bytes written so far. */
  bytesWritten = 0;
  /** The path opened (undefined when constructed from a descriptor). */
  readonly path: string | undefined;
  /** The descriptor, once open; null before and after (with `autoClose`). */
  fd: number | null;
  /** The open flags in use. */
  readonly flags: number;
  /** The creation mode in use. */
  readonly mode: number;
  /** First byte written, or undefined to write at the descriptor's position. */
  readonly start: number | undefined;
  /** Next byte to write (undefined: the descriptor's position). */
  pos: number | undefined;
  private readonly vfs: Vfs;
  private readonly autoClose: boolean;
  private readonly flush: boolean;

  /** Made by `createWriteStream`. Validates the options as Node does; the file is opened in {@link _construct}. */
  constructor(vfs: Vfs, path: PathLike | null, options: WriteStreamOptions = {}) {
    const autoClose = options.autoClose ?? true;
    super({ highWaterMark: options.highWaterMark ?? 16 * 1024, defaultEncoding: options.encoding ?? "utf8", emitClose: options.emitClose ?? true, autoDestroy: autoClose, decodeStrings: true });
    this.vfs = vfs;
    this.autoClose = autoClose;
    this.flush = options.flush ?? false;
    this.fd = options.fd === undefined || options.fd === null ? null : toFd(options.fd);
    this.path = this.fd === null ? toPath(path) : path === null ? undefined : toPath(path);
    this.flags = toFlags(options.flags ?? "w");
    this.mode = toMode(options.mode, "mode", 0o666);
    this.start = options.start === undefined ? undefined : integer(options.start, "start", 0);
    this.pos = this.start;
  }

  /** True until the file is open. */
  get pending(): boolean {
    return this.fd === null;
  }

  /** Stream hook: opens `path` as a scheduler event (unless given a descriptor), then emits `open` and `ready`. */
  override _construct(callback: (error?: Error | null) => void): void {
    if (this.fd !== null) {
      callback();
      return;
    }
    this.vfs.defer("open (write stream)", () => this.vfs.open(this.path!, this.flags, this.mode)).then(
      (fd) => {
        this.fd = fd;
        callback();
        this.emit("open", fd);
        this.emit("ready");
      },
      (e: Error) => callback(e),
    );
  }

  /** Stream hook: writes all of `chunk` as a scheduler event, at `start` onward if given. */
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeBytes(chunk, callback);
  }

  /** Stream hook: writes the buffered chunks as one write. */
  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.writeBytes(Buffer.concat(chunks.map((c) => c.chunk)), callback);
  }

  /** Stream hook: with `flush`, fsyncs the file before the stream finishes. */
  override _final(callback: (error?: Error | null) => void): void {
    if (!this.flush || this.fd === null) {
      callback();
      return;
    }
    const fd = this.fd;
    this.vfs.defer("fsync (write stream)", () => this.vfs.fsync(fd)).then(() => callback(), (e: Error) => callback(e));
  }

  /** Stream hook: closes the descriptor with `autoClose`, then reports `error`. */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    closeFor(this.vfs, this.autoClose ? this.fd : null, error, callback);
    if (this.autoClose) this.fd = null;
  }

  /** Ends the stream and closes the file; `callback` runs once it has closed. */
  close(callback?: (error?: Error | null) => void): void {
    if (callback) finished(this, (e) => callback(e ?? null));
    if (this.writableEnded) this.destroy();
    else this.end();
  }

  private writeBytes(data: Buffer, callback: (error?: Error | null) => void): void {
    const fd = this.fd!;
    this.vfs
      .defer("write (write stream)", () => {
        let done = 0;
        while (done < data.length) {
          const n = this.vfs.write(fd, data, done, data.length - done, this.pos === undefined ? null : this.pos + done);
          if (n === 0) break;
          done += n;
        }
        return done;
      })
      .then(
        (n) => {
          this.bytesWritten += n;
          if (this.pos !== undefined) this.pos += n;
          callback();
        },
        (e: Error) => callback(e),
      );
  }
}

/** Closes `fd` (if not null) as a scheduler event, then reports `error` (or the close's). */
function closeFor(vfs: Vfs, fd: number | null, error: Error | null, callback: (error?: Error | null) => void): void {
  if (fd === null) {
    callback(error);
    return;
  }
  vfs.defer("close (stream)", () => vfs.close(fd)).then(
    () => callback(error),
    (e: Error) => callback(error ?? e),
  );
}
