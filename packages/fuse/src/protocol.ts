/**
 * The FUSE kernel protocol (include/uapi/linux/fuse.h, major 7): opcodes, flags, the layouts of
 * the structures this server reads and writes, and little-endian encoders for the replies.
 *
 * Everything here is plain data layout; what each request means for a Folio VFS is in
 * `vfs-ops.ts`, how requests travel in `channel.ts`.
 */

/** Protocol major version; a kernel offering another major gets that refused. */
export const FUSE_KERNEL_VERSION = 7;
/**
 * The highest minor version this server speaks. 7.39 is the first with
 * FUSE_DIRECT_IO_ALLOW_MMAP (shared mmap of direct-I/O files, which sqlite's WAL mode needs);
 * every structure this server reads or writes has the layout it had in 7.39, so a newer kernel
 * answering in 7.39 changes nothing for it.
 */
export const FUSE_KERNEL_MINOR_VERSION = 39;
/** The oldest minor version accepted: 7.28 brought FUSE_MAX_PAGES, without which requests stay at 128 KiB. */
export const FUSE_MIN_MINOR_VERSION = 28;
/** The node id of the root directory, fixed by the protocol. */
export const FUSE_ROOT_ID = 1;

/** Request opcodes (enum fuse_opcode). */
export const enum Op {
  LOOKUP = 1,
  FORGET = 2,
  GETATTR = 3,
  SETATTR = 4,
  READLINK = 5,
  SYMLINK = 6,
  MKNOD = 8,
  MKDIR = 9,
  UNLINK = 10,
  RMDIR = 11,
  RENAME = 12,
  LINK = 13,
  OPEN = 14,
  READ = 15,
  WRITE = 16,
  STATFS = 17,
  RELEASE = 18,
  FSYNC = 20,
  SETXATTR = 21,
  GETXATTR = 22,
  LISTXATTR = 23,
  REMOVEXATTR = 24,
  FLUSH = 25,
  INIT = 26,
  OPENDIR = 27,
  READDIR = 28,
  RELEASEDIR = 29,
  FSYNCDIR = 30,
  GETLK = 31,
  SETLK = 32,
  SETLKW = 33,
  ACCESS = 34,
  CREATE = 35,
  INTERRUPT = 36,
  BMAP = 37,
  DESTROY = 38,
  IOCTL = 39,
  POLL = 40,
  BATCH_FORGET = 42,
  FALLOCATE = 43,
  READDIRPLUS = 44,
  RENAME2 = 45,
  LSEEK = 46,
  COPY_FILE_RANGE = 47,
  SYNCFS = 50,
  TMPFILE = 51,
  STATX = 52,
}

/** Names of the opcodes, for logs and statistics. */
export const OP_NAMES: Readonly<Record<number, string>> = {
  1: "LOOKUP", 2: "FORGET", 3: "GETATTR", 4: "SETATTR", 5: "READLINK", 6: "SYMLINK", 8: "MKNOD", 9: "MKDIR",
  10: "UNLINK", 11: "RMDIR", 12: "RENAME", 13: "LINK", 14: "OPEN", 15: "READ", 16: "WRITE", 17: "STATFS",
  18: "RELEASE", 20: "FSYNC", 21: "SETXATTR", 22: "GETXATTR", 23: "LISTXATTR", 24: "REMOVEXATTR", 25: "FLUSH",
  26: "INIT", 27: "OPENDIR", 28: "READDIR", 29: "RELEASEDIR", 30: "FSYNCDIR", 31: "GETLK", 32: "SETLK",
  33: "SETLKW", 34: "ACCESS", 35: "CREATE", 36: "INTERRUPT", 37: "BMAP", 38: "DESTROY", 39: "IOCTL", 40: "POLL",
  42: "BATCH_FORGET", 43: "FALLOCATE", 44: "READDIRPLUS", 45: "RENAME2", 46: "LSEEK", 47: "COPY_FILE_RANGE",
  50: "SYNCFS", 51: "TMPFILE", 52: "STATX", 53: "COPY_FILE_RANGE_64",
};

/** INIT flags (the low word; `flags2` holds bits 32..63 shifted down). */
export const InitFlag = {
  ASYNC_READ: 1 << 0,
  ATOMIC_O_TRUNC: 1 << 3,
  BIG_WRITES: 1 << 5,
  AUTO_INVAL_DATA: 1 << 12,
  ASYNC_DIO: 1 << 15,
  PARALLEL_DIROPS: 1 << 18,
  MAX_PAGES: 1 << 22,
  INIT_EXT: 1 << 30,
} as const;

/** INIT flags of the high word (`flags2`): FUSE_DIRECT_IO_ALLOW_MMAP is bit 36, so 1 << 4 here. */
export const InitFlag2 = {
  DIRECT_IO_ALLOW_MMAP: 1 << 4,
} as const;

/** OPEN/CREATE reply flags. */
export const FOPEN_DIRECT_IO = 1 << 0;
export const FOPEN_KEEP_CACHE = 1 << 1;

/** fuse_setattr_in.valid bits. */
export const FATTR_MODE = 1 << 0;
export const FATTR_UID = 1 << 1;
export const FATTR_GID = 1 << 2;
export const FATTR_SIZE = 1 << 3;
export const FATTR_ATIME = 1 << 4;
export const FATTR_MTIME = 1 << 5;
export const FATTR_FH = 1 << 6;
export const FATTR_ATIME_NOW = 1 << 7;
export const FATTR_MTIME_NOW = 1 << 8;

/** fuse_getattr_in.getattr_flags: `fh` is valid. */
export const FUSE_GETATTR_FH = 1 << 0;
/** fuse_fsync_in.fsync_flags: data only. */
export const FUSE_FSYNC_FDATASYNC = 1 << 0;

/** Sizes of the fixed parts of messages, in bytes. */
export const IN_HEADER_SIZE = 40;
export const OUT_HEADER_SIZE = 16;
export const ATTR_SIZE = 88;
export const ENTRY_OUT_SIZE = 40 + ATTR_SIZE;
export const ATTR_OUT_SIZE = 16 + ATTR_SIZE;
export const OPEN_OUT_SIZE = 16;
export const INIT_OUT_SIZE = 64;
export const STATFS_OUT_SIZE = 80;
export const WRITE_OUT_SIZE = 8;
/** Offset of the name in a fuse_dirent (ino, off, namelen, type). */
export const DIRENT_NAME_OFFSET = 24;

/** Linux errno values the protocol needs beyond Folio's own codes (FUSE replies carry -errno). */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  EINVAL: 22,
  ENOSYS: 38,
  ENODATA: 61,
  EOPNOTSUPP: 95,
  ENOTCONN: 107,
} as const;

/** Directory entry types of fuse_dirent.type (DT_*). */
export const DT_DIR = 4;
export const DT_REG = 8;
export const DT_LNK = 10;

/** The header every request starts with (struct fuse_in_header). */
export interface InHeader {
  /** Length of the whole request, header included. */
  len: number;
  opcode: number;
  /** Request id the reply must carry; a JS number is exact for the kernel's counter (it counts from 1 in steps of 2). */
  unique: number;
  nodeid: number;
  uid: number;
  gid: number;
  pid: number;
}

/** A 64-bit little-endian unsigned field as a JS number (exact below 2^53, which node ids, handles and offsets stay under). */
export function u64(v: DataView, at: number): number {
  return v.getUint32(at, true) + v.getUint32(at + 4, true) * 0x1_0000_0000;
}

/** Writes a non-negative JS integer as a 64-bit little-endian field. */
export function putU64(v: DataView, at: number, n: number): void {
  v.setUint32(at, n % 0x1_0000_0000, true);
  v.setUint32(at + 4, Math.floor(n / 0x1_0000_0000), true);
}

/** Parses the request header at the start of `v`. */
export function readHeader(v: DataView): InHeader {
  return {
    len: v.getUint32(0, true),
    opcode: v.getUint32(4, true),
    unique: u64(v, 8),
    nodeid: u64(v, 16),
    uid: v.getUint32(24, true),
    gid: v.getUint32(28, true),
    pid: v.getUint32(32, true),
  };
}

/**
 * A NUL-terminated name at `at` in `buf` (the kernel sends names this way), decoded as UTF-8
 * (Folio names are strings; a name that is not valid UTF-8 is decoded with replacement
 * characters, as Node's fs API would do). Returns the name and the offset after its NUL.
 */
export function readName(buf: Uint8Array, at: number, end: number): { name: string; next: number } {
  let nul = buf.indexOf(0, at);
  if (nul < 0 || nul > end) nul = end;
  return { name: Buffer.from(buf.buffer, buf.byteOffset + at, nul - at).toString("utf8"), next: nul + 1 };
}

/** A file's attributes in the units of struct fuse_attr. */
export interface FuseAttr {
  ino: number;
  size: number;
  /** 512-byte blocks. */
  blocks: number;
  atimeNs: number;
  mtimeNs: number;
  ctimeNs: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  blksize: number;
}

/** Splits nanoseconds since the epoch into whole seconds and the nanoseconds left (never negative). */
function splitNs(ns: number): [number, number] {
  const sec = Math.floor(ns / 1e9);
  const nsec = Math.min(999_999_999, Math.max(0, Math.round(ns - sec * 1e9)));
  return [Math.max(0, sec), nsec];
}

/** Encodes struct fuse_attr at `at`. */
export function putAttr(v: DataView, at: number, a: FuseAttr): void {
  putU64(v, at, a.ino);
  putU64(v, at + 8, a.size);
  putU64(v, at + 16, a.blocks);
  const [as, ans] = splitNs(a.atimeNs);
  const [ms, mns] = splitNs(a.mtimeNs);
  const [cs, cns] = splitNs(a.ctimeNs);
  putU64(v, at + 24, as);
  putU64(v, at + 32, ms);
  putU64(v, at + 40, cs);
  v.setUint32(at + 48, ans, true);
  v.setUint32(at + 52, mns, true);
  v.setUint32(at + 56, cns, true);
  v.setUint32(at + 60, a.mode, true);
  v.setUint32(at + 64, a.nlink, true);
  v.setUint32(at + 68, a.uid, true);
  v.setUint32(at + 72, a.gid, true);
  v.setUint32(at + 76, 0, true); // rdev: Folio has no device files
  v.setUint32(at + 80, a.blksize, true);
  v.setUint32(at + 84, 0, true); // flags
}

/** Cache timeouts the kernel is given for names and attributes, in seconds (fractions allowed). */
export interface Timeouts {
  entry: number;
  attr: number;
}

function putTimeout(v: DataView, secAt: number, nsecAt: number, seconds: number): void {
  const whole = Math.floor(seconds);
  putU64(v, secAt, whole);
  v.setUint32(nsecAt, Math.round((seconds - whole) * 1e9), true);
}

/** Encodes struct fuse_entry_out at `at` (generation 0: node ids are never reused, see NodeTable). */
export function putEntry(v: DataView, at: number, nodeid: number, attr: FuseAttr, t: Timeouts): void {
  putU64(v, at, nodeid);
  putU64(v, at + 8, 0);
  putTimeout(v, at + 16, at + 32, t.entry);
  putTimeout(v, at + 24, at + 36, t.attr);
  putAttr(v, at + 40, attr);
}

/** Encodes struct fuse_attr_out at `at`. */
export function putAttrOut(v: DataView, at: number, attr: FuseAttr, t: Timeouts): void {
  putTimeout(v, at, at + 8, t.attr);
  v.setUint32(at + 12, 0, true);
  putAttr(v, at + 16, attr);
}

/** Encodes struct fuse_open_out at `at`. */
export function putOpenOut(v: DataView, at: number, fh: number, openFlags: number): void {
  putU64(v, at, fh);
  v.setUint32(at + 8, openFlags, true);
  v.setInt32(at + 12, 0, true); // backing_id: no passthrough
}

/** Bytes one fuse_dirent of a name of `nameBytes` bytes takes, padded to 8. */
export function direntSize(nameBytes: number): number {
  return (DIRENT_NAME_OFFSET + nameBytes + 7) & ~7;
}
