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
  /** Look up a name in a directory; served. */
  LOOKUP = 1,
  /** The kernel dropped `nlookup` references to a node; served, no reply. */
  FORGET = 2,
  /** Attributes of a node; served. */
  GETATTR = 3,
  /** Change attributes (mode, owner, size, times); served. */
  SETATTR = 4,
  /** A symlink's target; served. */
  READLINK = 5,
  /** Create a symlink; served. */
  SYMLINK = 6,
  /** Create a node; served for regular files only (EPERM for devices, FIFOs, sockets). */
  MKNOD = 8,
  /** Create a directory; served. */
  MKDIR = 9,
  /** Remove a name; served. */
  UNLINK = 10,
  /** Remove a directory; served. */
  RMDIR = 11,
  /** Rename; served. */
  RENAME = 12,
  /** Add a hard link; served. */
  LINK = 13,
  /** Open a file; served. */
  OPEN = 14,
  /** Read from an open file; served. */
  READ = 15,
  /** Write to an open file; served. */
  WRITE = 16,
  /** Filesystem statistics; served. */
  STATFS = 17,
  /** Last close of an open file; served. */
  RELEASE = 18,
  /** fsync or fdatasync of an open file; served. */
  FSYNC = 20,
  /** Set an extended attribute; ENOSYS (Folio has no xattrs). */
  SETXATTR = 21,
  /** Get an extended attribute; ENOSYS. */
  GETXATTR = 22,
  /** List extended attributes; ENOSYS. */
  LISTXATTR = 23,
  /** Remove an extended attribute; ENOSYS. */
  REMOVEXATTR = 24,
  /** Sent at every close(2) of a descriptor of the file; served. */
  FLUSH = 25,
  /** The first request: protocol version and flags; served. */
  INIT = 26,
  /** Open a directory; served. */
  OPENDIR = 27,
  /** Read directory entries; served. */
  READDIR = 28,
  /** Last close of an open directory; served. */
  RELEASEDIR = 29,
  /** fsync of a directory; served. */
  FSYNCDIR = 30,
  /** Test a POSIX lock; ENOSYS (the kernel keeps locks itself). */
  GETLK = 31,
  /** Set a POSIX lock; ENOSYS. */
  SETLK = 32,
  /** Set a POSIX lock, waiting; ENOSYS. */
  SETLKW = 33,
  /** access(2); ENOSYS (permissions are the kernel's: default_permissions). */
  ACCESS = 34,
  /** Create and open a file; served. */
  CREATE = 35,
  /** Interrupt a request; ignored, as every request is answered before the next is read. */
  INTERRUPT = 36,
  /** Block map of a file on a block device; ENOSYS. */
  BMAP = 37,
  /** The filesystem is being unmounted; served. */
  DESTROY = 38,
  /** ioctl(2); ENOSYS. */
  IOCTL = 39,
  /** poll(2); ENOSYS. */
  POLL = 40,
  /** Several forgets at once; served, no reply. */
  BATCH_FORGET = 42,
  /** fallocate(2); ENOSYS (glibc's posix_fallocate then writes zeros). */
  FALLOCATE = 43,
  /** Directory entries with attributes; never negotiated, ENOSYS. */
  READDIRPLUS = 44,
  /** rename with flags (RENAME_NOREPLACE, RENAME_EXCHANGE); served. */
  RENAME2 = 45,
  /** SEEK_DATA / SEEK_HOLE; ENOSYS (the kernel's generic lseek is used). */
  LSEEK = 46,
  /** copy_file_range(2); ENOSYS (the kernel copies through read and write). */
  COPY_FILE_RANGE = 47,
  /** syncfs(2); served. */
  SYNCFS = 50,
  /** O_TMPFILE; ENOSYS. */
  TMPFILE = 51,
  /** statx(2); ENOSYS (the kernel falls back to GETATTR). */
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
  /** The kernel may send several reads of one file at once; asked for. */
  ASYNC_READ: 1 << 0,
  /** O_TRUNC is handled in OPEN, not by a separate SETATTR; asked for. */
  ATOMIC_O_TRUNC: 1 << 3,
  /** Writes larger than 4 KiB; asked for. */
  BIG_WRITES: 1 << 5,
  /** The kernel drops its cached pages of a file whose mtime or size changed; asked for unless files are opened direct-I/O. */
  AUTO_INVAL_DATA: 1 << 12,
  /** Direct I/O may be sent asynchronously; asked for. */
  ASYNC_DIO: 1 << 15,
  /** Lookups and readdirs of one directory may run concurrently; asked for. */
  PARALLEL_DIROPS: 1 << 18,
  /** The reply's max_pages sets the request size (up to 1 MiB); asked for. */
  MAX_PAGES: 1 << 22,
  /** The INIT request and reply carry `flags2`; asked for. */
  INIT_EXT: 1 << 30,
} as const;

/** INIT flags of the high word (`flags2`): FUSE_DIRECT_IO_ALLOW_MMAP is bit 36, so 1 << 4 here. */
export const InitFlag2 = {
  /** Shared mmap of files opened with FOPEN_DIRECT_IO (sqlite's WAL needs it); asked for. */
  DIRECT_IO_ALLOW_MMAP: 1 << 4,
} as const;

/** OPEN/CREATE reply flag: bypass the kernel's page cache for this file (the default here). */
export const FOPEN_DIRECT_IO = 1 << 0;
/** OPEN/CREATE reply flag: keep the kernel's cached pages of the file across opens. */
export const FOPEN_KEEP_CACHE = 1 << 1;

/** fuse_setattr_in.valid bit: `mode` is set. */
export const FATTR_MODE = 1 << 0;
/** fuse_setattr_in.valid bit: `uid` is set. */
export const FATTR_UID = 1 << 1;
/** fuse_setattr_in.valid bit: `gid` is set. */
export const FATTR_GID = 1 << 2;
/** fuse_setattr_in.valid bit: `size` is set: truncate or extend. */
export const FATTR_SIZE = 1 << 3;
/** fuse_setattr_in.valid bit: `atime` is set. */
export const FATTR_ATIME = 1 << 4;
/** fuse_setattr_in.valid bit: `mtime` is set. */
export const FATTR_MTIME = 1 << 5;
/** fuse_setattr_in.valid bit: `fh` names the open file the change came through. */
export const FATTR_FH = 1 << 6;
/** fuse_setattr_in.valid bit: Set atime to the current time (ignore `atime`). */
export const FATTR_ATIME_NOW = 1 << 7;
/** fuse_setattr_in.valid bit: Set mtime to the current time (ignore `mtime`). */
export const FATTR_MTIME_NOW = 1 << 8;

/** fuse_getattr_in.getattr_flags: `fh` is valid. */
export const FUSE_GETATTR_FH = 1 << 0;
/** fuse_fsync_in.fsync_flags: data only. */
export const FUSE_FSYNC_FDATASYNC = 1 << 0;

/** Bytes of struct fuse_in_header, before every request's arguments. */
export const IN_HEADER_SIZE = 40;
/** Bytes of struct fuse_out_header, before every reply's payload. */
export const OUT_HEADER_SIZE = 16;
/** Bytes of struct fuse_attr. */
export const ATTR_SIZE = 88;
/** Bytes of struct fuse_entry_out (LOOKUP, MKDIR, … replies). */
export const ENTRY_OUT_SIZE = 40 + ATTR_SIZE;
/** Bytes of struct fuse_attr_out (GETATTR, SETATTR replies). */
export const ATTR_OUT_SIZE = 16 + ATTR_SIZE;
/** Bytes of struct fuse_open_out. */
export const OPEN_OUT_SIZE = 16;
/** Bytes of struct fuse_init_out as of 7.39. */
export const INIT_OUT_SIZE = 64;
/** Bytes of struct fuse_statfs_out. */
export const STATFS_OUT_SIZE = 80;
/** Bytes of struct fuse_write_out. */
export const WRITE_OUT_SIZE = 8;
/** Offset of the name in a fuse_dirent (ino, off, namelen, type). */
export const DIRENT_NAME_OFFSET = 24;

/** Linux errno values the protocol needs beyond Folio's own codes (FUSE replies carry -errno). */
export const Errno = {
  /** Operation not permitted. */
  EPERM: 1,
  /** No such entry (also a negative LOOKUP). */
  ENOENT: 2,
  /** I/O error. */
  EIO: 5,
  /** Bad file handle. */
  EBADF: 9,
  /** Try again. */
  EAGAIN: 11,
  /** Invalid argument. */
  EINVAL: 22,
  /** Not implemented: the kernel stops sending that opcode. */
  ENOSYS: 38,
  /** No such extended attribute. */
  ENODATA: 61,
  /** Operation not supported. */
  EOPNOTSUPP: 95,
  /** The channel is gone (read on /dev/fuse after unmount). */
  ENOTCONN: 107,
} as const;

/** fuse_dirent.type of a directory (DT_DIR). */
export const DT_DIR = 4;
/** fuse_dirent.type of a regular file (DT_REG). */
export const DT_REG = 8;
/** fuse_dirent.type of a symbolic link (DT_LNK). */
export const DT_LNK = 10;

/** The header every request starts with (struct fuse_in_header). */
export interface InHeader {
  /** Length of the whole request, header included. */
  len: number;
  /** The request's {@link Op}. */
  opcode: number;
  /** Request id the reply must carry; a JS number is exact for the kernel's counter (it counts from 1 in steps of 2). */
  unique: number;
  /** The node the request is about (its parent for LOOKUP, MKDIR, …); 1 is the root. */
  nodeid: number;
  /** Effective user id of the calling process. */
  uid: number;
  /** Effective group id of the calling process. */
  gid: number;
  /** Process id of the caller (0 for requests of the kernel's own, such as writeback). */
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
export function readName(buf: Uint8Array, at: number, end: number): {
  /** The name. */
  name: string;
  /** Offset just after its NUL. */
  next: number;
} {
  let nul = buf.indexOf(0, at);
  if (nul < 0 || nul > end) nul = end;
  return { name: Buffer.from(buf.buffer, buf.byteOffset + at, nul - at).toString("utf8"), next: nul + 1 };
}

/** A file's attributes in the units of struct fuse_attr. */
export interface FuseAttr {
  /** Inode number shown to the host (st_ino). */
  ino: number;
  /** Size in bytes. */
  size: number;
  /** 512-byte blocks. */
  blocks: number;
  /** Last access (ns since the epoch). */
  atimeNs: number;
  /** Last modification (ns since the epoch). */
  mtimeNs: number;
  /** Last change (ns since the epoch). */
  ctimeNs: number;
  /** Type and permission bits. */
  mode: number;
  /** Link count. */
  nlink: number;
  /** Owner user id. */
  uid: number;
  /** Owner group id. */
  gid: number;
  /** Preferred I/O size in bytes. */
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
  /** How long the kernel may trust a name lookup (and a negative one). */
  entry: number;
  /** How long the kernel may trust a node's attributes. */
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
