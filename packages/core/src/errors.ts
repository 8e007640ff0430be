/**
 * Errors with the shape of Node's system errors: a `code` such as `ENOMEM`, a negative `errno`
 * as Node reports it, and a message that names what was wrong. Every failing call in Folio
 * throws one of these and leaves no state half-changed.
 */

/** Node's errno numbers (Linux values, negated as Node reports them) for the codes Folio uses. */
export const ERRNO = {
  /** Operation not permitted: a hard link to a directory, a device node, FIFO or socket. */
  EPERM: -1,
  /** No such file or directory, directory entry, page or object. */
  ENOENT: -2,
  /**
   * I/O error: a device error surfaced through writeback or a read, a page lost to a memory error,
   * a refused fault.
   */
  EIO: -5,
  /** Bad file descriptor or handle: not open, or not open on this filesystem. */
  EBADF: -9,
  /** Try again: momentarily unavailable (Node's code; no Folio call throws it today). */
  EAGAIN: -11,
  /**
   * Out of memory: the allocator, reclaim and compaction could not satisfy the request; also a full
   * address space.
   */
  ENOMEM: -12,
  /**
   * Permission denied by mode bits or open flags (a shared writable mapping of a read-only file).
   */
  EACCES: -13,
  /**
   * Bad address: outside an address space, an area or a huge page, or a page whose owner refused
   * the access.
   */
  EFAULT: -14,
  /**
   * Busy: the object is in use (mapped, locked, a pass already running) and cannot be changed now.
   */
  EBUSY: -16,
  /** Already exists: a file name, a cache entry or an LRU entry that must be new. */
  EEXIST: -17,
  /** Cross-device link: rename or link between two mounts. */
  EXDEV: -18,
  /** No such device: the filesystem type cannot do what was asked (mmap without a mapping hook). */
  ENODEV: -19,
  /** A path component, or the target of a directory operation, is not a directory. */
  ENOTDIR: -20,
  /** Is a directory: a file operation on a directory. */
  EISDIR: -21,
  /** Invalid argument: a value out of range or of the wrong shape; the message names it. */
  EINVAL: -22,
  /** Too many open files: the VFS's descriptor table is full. */
  EMFILE: -24,
  /**
   * File too large: beyond the filesystem's largest file, or a request larger than a unit it can
   * hold.
   */
  EFBIG: -27,
  /** No space left on the device (blocks, inodes, log segments, hugetlb pages for a file). */
  ENOSPC: -28,
  /** Read-only filesystem or image. */
  EROFS: -30,
  /** Too many links to an inode. */
  EMLINK: -31,
  /** Result out of range (Node's code; no Folio call throws it today). */
  ERANGE: -34,
  /**
   * Deadlock: a wait with nothing left to run, waits nested too deep, or a fault that kept racing.
   */
  EDEADLK: -35,
  /** A name or symlink target longer than the filesystem allows. */
  ENAMETOOLONG: -36,
  /**
   * Not implemented by this machine or format (a newer on-disk version, no memory-failure
   * handling).
   */
  ENOSYS: -38,
  /** Directory not empty. */
  ENOTEMPTY: -39,
  /** Too many symbolic links in a path walk, or a final symlink under O_NOFOLLOW. */
  ELOOP: -40,
  /** Quota exceeded (kept for Node compatibility; Folio has no quotas). */
  EDQUOT: -122,
  /** Structure needs cleaning: on-disk metadata is inconsistent; fsck can repair it. */
  EUCLEAN: -117,
  /** Memory had a hardware error: the frame is poisoned and its contents are gone. */
  EHWPOISON: -133,
} as const;

/** An error code Folio may report. */
export type ErrorCode = keyof typeof ERRNO;

/** Optional context attached to an error, as Node attaches `syscall` and `path`. */
export interface ErrorContext {
  /**
   * The system call the error is reported for, as Node's `err.syscall` (`"open"`, `"mprotect"`).
   */
  syscall?: string;
  /** The path the call was given, as Node's `err.path`. */
  path?: string;
}

/**
 * The one error class Folio throws. `code` and `errno` follow Node; `message` reads
 * `CODE: what went wrong` so a user sees the cause without a stack trace.
 */
export class FolioError extends Error {
  /** Node's error code; `message` starts with it. */
  readonly code: ErrorCode;
  /** The negative Linux errno for {@link code}, from {@link ERRNO}, as Node reports `err.errno`. */
  readonly errno: number;
  /** The system call, when the thrower supplied one in its {@link ErrorContext}. */
  readonly syscall?: string;
  /** The path, when the thrower supplied one in its {@link ErrorContext}. */
  readonly path?: string;

  /** Builds `CODE: detail`; `context` supplies {@link syscall} and {@link path} when known. */
  constructor(code: ErrorCode, detail: string, context: ErrorContext = {}) {
    super(`${code}: ${detail}`);
    this.name = "FolioError";
    this.code = code;
    this.errno = ERRNO[code];
    if (context.syscall !== undefined) this.syscall = context.syscall;
    if (context.path !== undefined) this.path = context.path;
  }
}

/** Builds a {@link FolioError}; `throw fail("EINVAL", "order 12 is out of range")`. */
export function fail(code: ErrorCode, detail: string, context?: ErrorContext): FolioError {
  return new FolioError(code, detail, context);
}

/** True when `e` is a {@link FolioError}, optionally with the given code. */
export function isFolioError(e: unknown, code?: ErrorCode): e is FolioError {
  return e instanceof FolioError && (code === undefined || e.code === code);
}
