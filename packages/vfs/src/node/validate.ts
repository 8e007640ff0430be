import { inspect } from "node:util";
import { fileURLToPath } from "node:url";
import { O_APPEND, O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } from "@folio/fs-api";
import { O_SYNC } from "../vfs.js";

/**
 * Node's argument validation, with Node's error classes, codes and messages
 * (`TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string…`): a program
 * that checks `err.code` behaves the same on Folio's fs as on node:fs.
 */

/** A path as Node accepts it. */
export type PathLike = string | Buffer | Uint8Array | URL;

function nodeError<E extends Error>(ctor: new (message: string) => E, code: string, message: string): E & { code: string } {
  const e = new ctor(message) as E & { code: string };
  e.code = code;
  // Node shows the code in the name part of the stack: "TypeError [ERR_X]: message".
  e.stack = `${e.name} [${code}]: ${message}${(e.stack ?? "").slice((e.stack ?? "").indexOf("\n"))}`;
  return e;
}

/** How Node describes a received value at the end of a message. */
function received(value: unknown): string {
  if (value === null || value === undefined) return ` Received ${value}`;
  if (typeof value === "function") return ` Received function ${value.name || "<anonymous>"}`;
  if (typeof value === "object") {
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    return name ? ` Received an instance of ${name}` : ` Received ${inspect(value, { depth: -1 })}`;
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return ` Received type ${typeof value} (${shown})`;
}

/** ERR_INVALID_ARG_TYPE. `expected` reads like Node's: "of type string or an instance of Buffer or URL". */
export function invalidArgType(name: string, expected: string, value: unknown): TypeError {
  const what = name.includes(".") ? `The "${name}" property` : `The "${name}" argument`;
  return nodeError(TypeError, "ERR_INVALID_ARG_TYPE", `${what} must be ${expected}.${received(value)}`);
}

/** ERR_INVALID_ARG_VALUE. */
export function invalidArgValue(name: string, value: unknown, reason = "is invalid"): TypeError {
  return nodeError(TypeError, "ERR_INVALID_ARG_VALUE", `The argument '${name}' ${reason}. Received ${inspect(value)}`);
}

/** ERR_OUT_OF_RANGE. */
export function outOfRange(name: string, range: string, value: unknown): RangeError {
  return nodeError(RangeError, "ERR_OUT_OF_RANGE", `The value of "${name}" is out of range. It must be ${range}. Received ${inspect(value)}`);
}

/** A path argument as a string: strings, Buffers/Uint8Arrays (UTF-8) and file: URLs, without NUL bytes. */
export function toPath(path: unknown, name = "path"): string {
  let s: string;
  if (typeof path === "string") s = path;
  else if (path instanceof Uint8Array) s = Buffer.from(path.buffer, path.byteOffset, path.byteLength).toString("utf8");
  else if (path instanceof URL || (typeof path === "object" && path !== null && "href" in path && "protocol" in path)) {
    const url = path as URL;
    if (url.protocol !== "file:") throw nodeError(TypeError, "ERR_INVALID_URL_SCHEME", "The URL must be of scheme file");
    s = fileURLToPath(url);
  } else {
    throw invalidArgType(name, "of type string or an instance of Buffer or URL", path);
  }
  if (s.includes("\0")) throw invalidArgValue(name, path, "must be a string, Uint8Array, or URL without null bytes");
  return s;
}

/** A file descriptor argument: an int32 ≥ 0. */
export function toFd(fd: unknown, name = "fd"): number {
  return int32(fd, name, 0);
}

/** An integer in [min, max] (ERR_INVALID_ARG_TYPE for a non-number, ERR_OUT_OF_RANGE otherwise). */
export function integer(value: unknown, name: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number") throw invalidArgType(name, "of type number", value);
  if (!Number.isInteger(value)) throw outOfRange(name, "an integer", value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
  return value;
}

/** An int32 in [min, 2^31 - 1]. */
export function int32(value: unknown, name: string, min = -(2 ** 31)): number {
  return integer(value, name, min, 2 ** 31 - 1);
}

/** True for an integer in [0, 2^32): an offset or length within a buffer. */
export function isUint32(value: unknown): value is number {
  return typeof value === "number" && value >>> 0 === value;
}

/** True for a number that is a file position as it is (a safe integer ≥ 0), with nothing to convert. */
export function isFilePosition(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** A file position: null/undefined/-1 mean "the current position"; numbers and bigints otherwise. */
export function toPosition(position: unknown, name = "position"): number | null {
  if (position === null || position === undefined) return null;
  if (typeof position === "bigint") {
    if (position < -1n || position > BigInt(Number.MAX_SAFE_INTEGER)) throw outOfRange(name, `>= -1 && <= ${Number.MAX_SAFE_INTEGER}`, position);
    return position === -1n ? null : Number(position);
  }
  if (typeof position !== "number") throw invalidArgType(name, "of type number or bigint", position);
  const n = integer(position, name, -1);
  return n === -1 ? null : n;
}

/**
 * The position of a write as Node takes it (writeSync, FileHandle.write): any number that is not
 * negative, truncated to an integer; anything else — null, a negative number, a bigint, a string
 * — writes at (and advances) the file position, as libuv's write does for a negative offset.
 */
export function writePosition(position: unknown): number | null {
  return typeof position === "number" && Number.isFinite(position) && position >= 0 ? Math.trunc(position) : null;
}

/** A mode: a uint32 or an octal string ("644"); `def` when undefined. */
export function toMode(mode: unknown, name: string, def: number): number {
  if (mode === undefined || mode === null) return def;
  if (typeof mode === "string") {
    if (!/^[0-7]+$/.test(mode)) throw invalidArgValue(name, mode, "must be a 32-bit unsigned integer or an octal string");
    return Number.parseInt(mode, 8);
  }
  return integer(mode, name, 0, 2 ** 32 - 1);
}

const FLAGS: Record<string, number> = {
  r: O_RDONLY,
  rs: O_RDONLY | O_SYNC,
  sr: O_RDONLY | O_SYNC,
  "r+": O_RDWR,
  "rs+": O_RDWR | O_SYNC,
  "sr+": O_RDWR | O_SYNC,
  w: O_TRUNC | O_CREAT | O_WRONLY,
  wx: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  xw: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  "w+": O_TRUNC | O_CREAT | O_RDWR,
  "wx+": O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  "xw+": O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  a: O_APPEND | O_CREAT | O_WRONLY,
  ax: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  xa: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  as: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  sa: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
  "a+": O_APPEND | O_CREAT | O_RDWR,
  "ax+": O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  "xa+": O_APPEND | O_CREAT | O_RDWR | O_EXCL,
  "as+": O_APPEND | O_CREAT | O_RDWR | O_SYNC,
  "sa+": O_APPEND | O_CREAT | O_RDWR | O_SYNC,
};

/** Open flags from Node's string forms ("r", "w+", "ax"…) or a number; undefined/null is "r". */
export function toFlags(flags: unknown): number {
  if (flags === undefined || flags === null) return O_RDONLY;
  if (typeof flags === "number") return flags;
  if (typeof flags === "string" && Object.hasOwn(FLAGS, flags)) return FLAGS[flags]!;
  throw invalidArgValue("flags", flags);
}

/** A buffer argument (any ArrayBufferView) as a Uint8Array over the same bytes. */
export function toBytes(buffer: unknown, name = "buffer"): Uint8Array {
  if (!ArrayBuffer.isView(buffer)) throw invalidArgType(name, "an instance of Buffer, TypedArray, or DataView", buffer);
  return buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** Data to write: an ArrayBufferView, or a string in `encoding`. */
export function toData(data: unknown, encoding: BufferEncoding | null | undefined, name = "data"): Uint8Array {
  if (ArrayBuffer.isView(data)) return toBytes(data, name);
  if (typeof data === "string") return Buffer.from(data, encoding ?? "utf8");
  throw invalidArgType(name, "of type string or an instance of Buffer, TypedArray, or DataView", data);
}

/** Node's offset/length checks for a read into a buffer of `size` bytes. */
export function checkReadRange(offset: number, length: number, size: number): void {
  if (offset < 0) throw outOfRange("offset", ">= 0", offset);
  if (length < 0) throw outOfRange("length", ">= 0", length);
  if (offset + length > size) throw outOfRange("length", `<= ${size - offset}`, length);
}

/** Node's offset/length checks for a write from a buffer of `size` bytes. */
export function checkWriteRange(offset: number, length: number, size: number): void {
  if (offset > size) throw outOfRange("offset", `<= ${size}`, offset);
  if (length > size - offset) throw outOfRange("length", `<= ${size - offset}`, length);
  if (length < 0) throw outOfRange("length", ">= 0", length);
  int32(length, "length", 0);
}

/**
 * An options argument that must be an object when given (Node's validateObject, as rm and rmdir
 * use it): undefined is `{}`; null, an array or any other value is ERR_INVALID_ARG_TYPE.
 */
export function objectOptions<T extends object>(opts: unknown, name = "options"): Partial<T> {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== "object" || Array.isArray(opts)) throw invalidArgType(name, "of type object", opts);
  return opts as Partial<T>;
}

/** An options argument that may be an encoding string. */
export function options<T extends object>(opts: unknown, defaults: T): T & { encoding?: BufferEncoding | "buffer" | null } {
  if (opts === undefined || opts === null) return { ...defaults };
  if (typeof opts === "string") return { ...defaults, encoding: opts as BufferEncoding };
  if (typeof opts !== "object") throw invalidArgType("options", "of type object", opts);
  return { ...defaults, ...(opts as object) } as T;
}

/** A Node SystemError (ERR_FS_EISDIR and friends): positive errno, `info`, a message naming the call. */
export class NodeSystemError extends Error {
  /** Node's error key, such as `ERR_FS_EISDIR`. */
  readonly code: string;
  /** The positive errno of the underlying error, as Node reports it in a SystemError. */
  readonly errno: number;
  /** The call that failed. */
  readonly syscall: string;
  /** The path it was given. */
  readonly path: string;
  /** The underlying system error, as Node's `err.info`. */
  readonly info: {
    /** Its code, such as `EISDIR`. */
    code: string;
    /** libuv's description of the code. */
    message: string;
    /** The path. */
    path: string;
    /** The call. */
    syscall: string;
    /** Its positive errno. */
    errno: number;
  };

  /** Builds Node's message: `prefix: syscall returned CODE (message) path`; `key` becomes {@link code}. */
  constructor(key: string, prefix: string, info: { code: string; message: string; path: string; syscall: string; errno: number }) {
    super(`${prefix}: ${info.syscall} returned ${info.code} (${info.message}) ${info.path}`);
    this.name = "SystemError";
    this.code = key;
    this.errno = info.errno;
    this.syscall = info.syscall;
    this.path = info.path;
    this.info = info;
  }
}
