import { FolioError, isFolioError, type ErrorCode } from "@folio/core";

/** libuv's descriptions of the error codes (what Node prints after the code). */
const DESCRIPTIONS: Partial<Record<ErrorCode, string>> = {
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory",
  EIO: "i/o error",
  EBADF: "bad file descriptor",
  EAGAIN: "resource temporarily unavailable",
  ENOMEM: "not enough memory",
  EACCES: "permission denied",
  EFAULT: "bad address in system call argument",
  EBUSY: "resource busy or locked",
  EEXIST: "file already exists",
  EXDEV: "cross-device link not permitted",
  ENODEV: "no such device",
  ENOTDIR: "not a directory",
  EISDIR: "illegal operation on a directory",
  EINVAL: "invalid argument",
  EMFILE: "too many open files",
  EFBIG: "file too large",
  ENOSPC: "no space left on device",
  EROFS: "read-only file system",
  EMLINK: "too many links",
  ERANGE: "result too large",
  EDEADLK: "resource deadlock avoided",
  ENAMETOOLONG: "name too long",
  ENOSYS: "function not implemented",
  ENOTEMPTY: "directory not empty",
  ELOOP: "too many symbolic links encountered",
  EDQUOT: "disk quota exceeded",
  EUCLEAN: "structure needs cleaning",
  EHWPOISON: "memory page has hardware error",
};

/** The description Node prints for `code` ("no such file or directory" for ENOENT). */
export function describeCode(code: ErrorCode): string {
  return DESCRIPTIONS[code] ?? code.toLowerCase();
}

/**
 * An error with the shape of Node's fs errors: `code`, negative `errno`, `syscall`, `path`, and
 * `dest` for two-path calls, with Node's message: `ENOENT: no such file or directory, open '/a/b'`.
 * It is a {@link FolioError}, so `isFolioError` recognises it. When it wraps an error a filesystem
 * threw, that error (with the filesystem's own explanation) is its non-enumerable `cause`.
 */
export class VfsError extends FolioError {
  /** The second path of a two-path call (rename, link, symlink, copyFile), as Node's `err.dest`. */
  declare readonly dest?: string;

  /**
   * Builds Node's message for `code` and the call. Without `path` the error has no `path` field
   * (a call on a descriptor); `cause` is the filesystem's error, kept non-enumerable.
   */
  constructor(code: ErrorCode, syscall: string, path?: string, dest?: string, cause?: unknown) {
    const where = path === undefined ? syscall : dest === undefined ? `${syscall} '${path}'` : `${syscall} '${path}' -> '${dest}'`;
    super(code, `${describeCode(code)}, ${where}`, path === undefined ? { syscall } : { syscall, path });
    // Node's errors are plain Errors: the name is not an own, enumerable field.
    Object.defineProperty(this, "name", { value: "Error", enumerable: false, writable: true, configurable: true });
    if (dest !== undefined) this.dest = dest;
    // Like Node's, an error of a call on a descriptor has no path field at all.
    if (path === undefined) delete (this as { path?: string }).path;
    if (cause !== undefined) Object.defineProperty(this, "cause", { value: cause, enumerable: false, configurable: true });
  }
}

/**
 * Gives any Folio error thrown while running a system call Node's shape for that call: the code is
 * kept, syscall/path/dest are the call's. Errors that are not Folio errors (bugs, argument
 * validation) pass through unchanged.
 */
export function asSyscallError(e: unknown, syscall: string, path?: string, dest?: string): unknown {
  if (!isFolioError(e)) return e;
  if (e instanceof VfsError && e.syscall === syscall && e.path === path && e.dest === dest) return e;
  return new VfsError(e.code, syscall, path, dest, e instanceof VfsError ? e.cause ?? e : e);
}
