/**
 * Errors with the shape of Node's system errors: a `code` such as `ENOMEM`, a negative `errno`
 * as Node reports it, and a message that names what was wrong. Every failing call in Folio
 * throws one of these and leaves no state half-changed.
 */

/** Node's errno numbers (Linux values, negated as Node reports them) for the codes Folio uses. */
export const ERRNO = {
  EPERM: -1,
  ENOENT: -2,
  EIO: -5,
  EBADF: -9,
  EAGAIN: -11,
  ENOMEM: -12,
  EACCES: -13,
  EFAULT: -14,
  EBUSY: -16,
  EEXIST: -17,
  EXDEV: -18,
  ENODEV: -19,
  ENOTDIR: -20,
  EISDIR: -21,
  EINVAL: -22,
  EMFILE: -24,
  EFBIG: -27,
  ENOSPC: -28,
  EROFS: -30,
  EMLINK: -31,
  ERANGE: -34,
  EDEADLK: -35,
  ENAMETOOLONG: -36,
  ENOSYS: -38,
  ENOTEMPTY: -39,
  ELOOP: -40,
  EDQUOT: -122,
  EUCLEAN: -117,
  EHWPOISON: -133,
} as const;

/** An error code Folio may report. */
export type ErrorCode = keyof typeof ERRNO;

/** Optional context attached to an error, as Node attaches `syscall` and `path`. */
export interface ErrorContext {
  syscall?: string;
  path?: string;
}

/**
 * The one error class Folio throws. `code` and `errno` follow Node; `message` reads
 * `CODE: what went wrong` so a user sees the cause without a stack trace.
 */
export class FolioError extends Error {
  readonly code: ErrorCode;
  readonly errno: number;
  readonly syscall?: string;
  readonly path?: string;

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
