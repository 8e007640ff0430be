/**
 * Backing stores: the bytes behind a simulated block device. A store is a flat, fixed-size
 * array of bytes with synchronous positional I/O; it knows nothing of blocks, queues or time.
 */
import * as nodeFs from "node:fs";
import { constants as bufferConstants } from "node:buffer";
import { posix } from "node:path";
import { Volume } from "memfs";
import { ERRNO, FolioError, fail, formatSize, parseSize, type ErrorCode } from "@folio/core";

/**
 * struct BackingStore - the medium under a block device.
 *
 * A fixed-size byte array with synchronous, positional I/O. Every call either does all of its
 * work or throws a {@link FolioError} and does none it can avoid:
 *
 * * an access outside `[0, size)` throws EINVAL naming the byte range and the store;
 * * a failure of the medium (a short transfer, an error of the file system below) throws EIO,
 *   or the code the file system reported when Folio knows it (ENOSPC, EROFS, …);
 * * any call after {@link BackingStore.close} throws EBADF.
 *
 * The size never changes: stores are created at their full size and never grown.
 */
export interface BackingStore {
  /** Size of the medium in bytes; constant for the store's lifetime. */
  readonly size: number;
  /**
   * Copies `dst.length` bytes starting at byte `offset` of the medium into `dst`.
   * Throws EINVAL if `[offset, offset + dst.length)` is not inside the medium.
   */
  read(dst: Uint8Array, offset: number): void;
  /**
   * Copies all of `src` to the medium starting at byte `offset`. The data is visible to later
   * reads at once, but durable only after {@link BackingStore.flush}.
   * Throws EINVAL if `[offset, offset + src.length)` is not inside the medium.
   */
  write(src: Uint8Array, offset: number): void;
  /** Makes every completed write durable (fsync). */
  flush(): void;
  /** Releases the medium. Idempotent; any later read, write or flush throws EBADF. */
  close(): void;
}

/** The synchronous, descriptor-based calls a store needs; node:fs and a memfs Volume both have them. */
interface FdOps {
  readSync(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number;
  writeSync(fd: number, buf: Uint8Array, off: number, len: number, pos: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
}

/** Positional I/O on one open descriptor, with range checks; shared by the file-backed stores. */
class FdFile {
  private fd: number | null;

  constructor(
    private readonly ops: FdOps,
    fd: number,
    readonly size: number,
    private readonly what: string,
  ) {
    this.fd = fd;
  }

  read(dst: Uint8Array, offset: number): void {
    const fd = this.check("read", dst.length, offset);
    let done = 0;
    while (done < dst.length) {
      const n = this.call("read", () => this.ops.readSync(fd, dst, done, dst.length - done, offset + done));
      if (n <= 0) {
        throw fail("EIO", `short read of ${this.what}: ${done} of ${dst.length} bytes at offset ${offset}`);
      }
      done += n;
    }
  }

  write(src: Uint8Array, offset: number): void {
    const fd = this.check("write", src.length, offset);
    let done = 0;
    while (done < src.length) {
      const n = this.call("write", () => this.ops.writeSync(fd, src, done, src.length - done, offset + done));
      if (n <= 0) {
        throw fail("EIO", `short write to ${this.what}: ${done} of ${src.length} bytes at offset ${offset}`);
      }
      done += n;
    }
  }

  flush(): void {
    const fd = this.check("flush", 0, 0);
    this.call("fsync", () => this.ops.fsyncSync(fd));
  }

  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    this.call("close", () => this.ops.closeSync(fd));
  }

  private check(op: string, len: number, offset: number): number {
    if (this.fd === null) throw fail("EBADF", `${op} on closed ${this.what}`);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + len > this.size) {
      throw fail(
        "EINVAL",
        `${op} of bytes [${offset}, ${offset + len}) is outside ${this.what} (${this.size} bytes)`,
      );
    }
    return this.fd;
  }

  private call<T>(syscall: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw asFolioError(e, syscall, this.what);
    }
  }
}

/**
 * Converts an error thrown by a file system (node:fs or memfs) into a {@link FolioError}: the
 * same code when Folio knows it, EIO otherwise, with the original message kept.
 */
function asFolioError(e: unknown, syscall: string, path: string): FolioError {
  if (e instanceof FolioError) return e;
  const raw = (e as { code?: unknown } | null)?.code;
  const code: ErrorCode = typeof raw === "string" && raw in ERRNO ? (raw as ErrorCode) : "EIO";
  const msg = e instanceof Error ? e.message : String(e);
  return fail(code, `${syscall} ${path}: ${msg}`, { syscall, path });
}

function imageSize(size: number | string, what: string): number {
  const bytes = parseSize(size, `size of ${what}`);
  if (bytes > bufferConstants.MAX_LENGTH) {
    throw fail("EFBIG", `${what} of ${formatSize(bytes)} exceeds the largest in-memory buffer (${formatSize(bufferConstants.MAX_LENGTH)})`);
  }
  return bytes;
}

/** Options of {@link MemfsStore}. */
export interface MemfsStoreOptions {
  /**
   * Size of the image, in bytes or as a size string ("64MiB"). Required when the image does
   * not exist; when it does, must be omitted or equal to the image's size.
   */
  size?: number | string;
  /** The memfs volume holding the image; a fresh private volume by default. */
  volume?: Volume;
  /** Absolute path of the image in the volume; `/disk.img` by default. */
  path?: string;
}

/**
 * struct MemfsStore - a {@link BackingStore} over a file of a memfs volume (RAM only).
 *
 * If the image at `path` exists it is reused as it is (so a file system can be unmounted and
 * mounted again on the same volume); otherwise it is created, with its parent directories, and
 * preallocated at its full size at once: a memfs file grows by copying its whole buffer, so the
 * image is never grown afterwards. An image is bounded by Node's largest Buffer (EFBIG).
 *
 * Several stores may open one image; they share its bytes. {@link MemfsStore.flush} is an
 * fsync on the volume, which keeps nothing more than it already has: durability across a
 * simulated crash is modelled above, by FaultyDevice.
 *
 * Throws EINVAL for a missing or mismatched size, or a path that is not a regular file; the
 * volume's own errors keep their code (ENOTDIR, EACCES, …) and unknown ones become EIO.
 */
export class MemfsStore implements BackingStore {
  /** The volume holding the image. */
  readonly volume: Volume;
  /** The image's absolute path in {@link MemfsStore.volume}. */
  readonly path: string;
  /** Size of the image in bytes. */
  readonly size: number;
  /** True when this store created the image, false when it opened an existing one. */
  readonly created: boolean;
  private readonly file: FdFile;

  /**
   * Creates the image at `options.path` on `options.volume` (a fresh volume by default) with
   * `options.size` bytes, or opens the existing one there; see the class comment for the errors.
   */
  constructor(options: MemfsStoreOptions = {}) {
    const vol = options.volume ?? new Volume();
    const path = options.path ?? "/disk.img";
    if (!posix.isAbsolute(path)) throw fail("EINVAL", `memfs image path "${path}" must be absolute`);
    const what = `memfs image ${path}`;
    const exists = sys("stat", path, () => vol.existsSync(path));
    let fd: number;
    let size: number;
    if (exists) {
      const st = sys("stat", path, () => vol.statSync(path));
      if (!st.isFile()) throw fail("EINVAL", `${what} is not a regular file`, { path });
      size = Number(st.size);
      if (size <= 0) throw fail("EINVAL", `${what} is empty`, { path });
      if (options.size !== undefined && parseSize(options.size, `size of ${what}`) !== size) {
        throw fail("EINVAL", `${what} has ${size} bytes, not ${String(options.size)}: an image is never resized`, { path });
      }
      fd = sys("open", path, () => vol.openSync(path, "r+"));
    } else {
      if (options.size === undefined) throw fail("EINVAL", `${what} does not exist and no size was given to create it`, { path });
      size = imageSize(options.size, what);
      sys("mkdir", path, () => vol.mkdirSync(posix.dirname(path), { recursive: true }));
      fd = sys("open", path, () => vol.openSync(path, "wx+"));
      try {
        sys("ftruncate", path, () => vol.ftruncateSync(fd, size));
      } catch (e) {
        vol.closeSync(fd);
        vol.unlinkSync(path);
        throw e;
      }
    }
    this.volume = vol;
    this.path = path;
    this.size = size;
    this.created = !exists;
    this.file = new FdFile(
      {
        readSync: (f, b, o, l, p) => vol.readSync(f, b, o, l, p),
        writeSync: (f, b, o, l, p) => vol.writeSync(f, b, o, l, p),
        fsyncSync: (f) => vol.fsyncSync(f),
        closeSync: (f) => vol.closeSync(f),
      },
      fd,
      size,
      what,
    );
  }

  /** See {@link BackingStore.read}. */
  read(dst: Uint8Array, offset: number): void {
    this.file.read(dst, offset);
  }

  /** See {@link BackingStore.write}. */
  write(src: Uint8Array, offset: number): void {
    this.file.write(src, offset);
  }

  /** See {@link BackingStore.flush}. */
  flush(): void {
    this.file.flush();
  }

  /** Closes this store's descriptor; the image stays in the volume. See {@link BackingStore.close}. */
  close(): void {
    this.file.close();
  }
}

/** Options of {@link FileStore.create}. */
export interface FileStoreCreateOptions {
  /** Replace an existing file instead of failing with EEXIST. */
  overwrite?: boolean;
}

/**
 * The first `bytes` bytes of the image file at `path` (fewer for a smaller file), for probing
 * which filesystem it holds (`probeFilesystem` of @folio/fs-api) before opening it. Throws the
 * host's error (ENOENT, EACCES, EISDIR, …) as a FolioError naming the path.
 */
export function readImageHead(path: string, bytes = 8192): Uint8Array {
  const head = new Uint8Array(bytes);
  let fd: number;
  try {
    fd = nodeFs.openSync(path, "r");
  } catch (e) {
    throw asFolioError(e, "open", path);
  }
  try {
    return head.subarray(0, nodeFs.readSync(fd, head, 0, bytes, 0));
  } catch (e) {
    throw asFolioError(e, "read", path);
  } finally {
    nodeFs.closeSync(fd);
  }
}

/**
 * struct FileStore - a {@link BackingStore} over a real file (a disk image) through node:fs.
 *
 * {@link FileStore.create} makes a new image of a given size (sparse where the file system
 * allows), {@link FileStore.open} opens an existing one at its current size.
 * {@link FileStore.flush} is fsync(2). Errors of the file system keep their code (ENOENT, EEXIST,
 * EACCES, ENOSPC, …) with the path attached; unknown ones become EIO.
 */
export class FileStore implements BackingStore {
  private readonly file: FdFile;

  private constructor(
    /** Path of the image file. */
    readonly path: string,
    /** Size of the image in bytes. */
    readonly size: number,
    fd: number,
  ) {
    this.file = new FdFile(
      {
        readSync: (f, b, o, l, p) => nodeFs.readSync(f, b, o, l, p),
        writeSync: (f, b, o, l, p) => nodeFs.writeSync(f, b, o, l, p),
        fsyncSync: (f) => nodeFs.fsyncSync(f),
        closeSync: (f) => nodeFs.closeSync(f),
      },
      fd,
      size,
      `image ${path}`,
    );
  }

  /**
   * Creates the image file `path` of `size` bytes (a byte count or a size string), all zero.
   * Throws EEXIST if it exists, unless `options.overwrite`.
   */
  static create(path: string, size: number | string, options: FileStoreCreateOptions = {}): FileStore {
    const bytes = parseSize(size, `size of image ${path}`);
    const fd = sys("open", path, () => nodeFs.openSync(path, options.overwrite ? "w+" : "wx+"));
    try {
      sys("ftruncate", path, () => nodeFs.ftruncateSync(fd, bytes));
    } catch (e) {
      nodeFs.closeSync(fd);
      throw e;
    }
    return new FileStore(path, bytes, fd);
  }

  /** Opens the existing image file `path` for reading and writing, at its current size. */
  static open(path: string): FileStore {
    const fd = sys("open", path, () => nodeFs.openSync(path, "r+"));
    try {
      const st = sys("fstat", path, () => nodeFs.fstatSync(fd));
      if (!st.isFile()) throw fail("EINVAL", `image ${path} is not a regular file`, { path });
      if (st.size <= 0) throw fail("EINVAL", `image ${path} is empty`, { path });
      return new FileStore(path, st.size, fd);
    } catch (e) {
      nodeFs.closeSync(fd);
      throw e;
    }
  }

  /** See {@link BackingStore.read}. */
  read(dst: Uint8Array, offset: number): void {
    this.file.read(dst, offset);
  }

  /** See {@link BackingStore.write}. */
  write(src: Uint8Array, offset: number): void {
    this.file.write(src, offset);
  }

  /** fsync(2) of the image. See {@link BackingStore.flush}. */
  flush(): void {
    this.file.flush();
  }

  /** Closes the image's descriptor; the file stays. See {@link BackingStore.close}. */
  close(): void {
    this.file.close();
  }
}

function sys<T>(syscall: string, path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw asFolioError(e, syscall, path);
  }
}
