/**
 * The FUSE request dispatcher: decodes each request the kernel sends, calls the matching
 * operation of a {@link FuseOps} implementation, and encodes its result or error as the reply.
 * Everything is synchronous: one request is served completely before the next one is looked at,
 * which is what a synchronous engine needs (no request can see another half-done).
 */
import {
  ATTR_OUT_SIZE, DIRENT_NAME_OFFSET, ENTRY_OUT_SIZE, Errno, FATTR_ATIME, FATTR_ATIME_NOW, FATTR_FH, FATTR_GID, FATTR_MODE,
  FATTR_MTIME, FATTR_MTIME_NOW, FATTR_SIZE, FATTR_UID, FOPEN_DIRECT_IO, FOPEN_KEEP_CACHE, FUSE_FSYNC_FDATASYNC, FUSE_GETATTR_FH,
  FUSE_KERNEL_MINOR_VERSION, FUSE_KERNEL_VERSION, FUSE_MIN_MINOR_VERSION, IN_HEADER_SIZE, INIT_OUT_SIZE, InitFlag, InitFlag2, OP_NAMES,
  OPEN_OUT_SIZE, OUT_HEADER_SIZE, Op, STATFS_OUT_SIZE, WRITE_OUT_SIZE, direntSize, putAttrOut, putEntry, putOpenOut, putU64,
  readHeader, readName, u64, type FuseAttr, type InHeader, type Timeouts,
} from "./protocol.js";

/** Who sent a request: the calling process's credentials, from the request header. */
export interface RequestContext {
  /** Effective user id of the calling process. */
  uid: number;
  /** Effective group id of the calling process. */
  gid: number;
  /** Its process id (0 for the kernel's own requests). */
  pid: number;
}

/** A name the kernel may cache: the node it leads to and its attributes. */
export interface Entry {
  /** The node id the name leads to; the kernel holds one more lookup reference on it. */
  nodeid: number;
  /** Its attributes, cached for the entry timeout. */
  attr: FuseAttr;
}

/** An open file or directory: the handle the kernel passes back with every call on it. */
export interface Opened {
  /** The handle: passed back with READ, WRITE, RELEASE and every call on the open file. */
  fh: number;
}

/** Attribute changes of SETATTR; absent fields stay. Times are nanoseconds since the epoch, or "now". */
export interface AttrChanges {
  /** New permission bits. */
  mode?: number;
  /** New owner user id. */
  uid?: number;
  /** New owner group id. */
  gid?: number;
  /** New size in bytes: truncate or extend with zeroes. */
  size?: number;
  /** New access time, or "now". */
  atimeNs?: number | "now";
  /** New modification time, or "now". */
  mtimeNs?: number | "now";
}

/** Filesystem statistics as STATFS reports them. */
export interface FuseStatfs {
  /** Total data blocks, in `bsize` units. */
  blocks: number;
  /** Free blocks. */
  bfree: number;
  /** Free blocks available to unprivileged users. */
  bavail: number;
  /** Total inodes. */
  files: number;
  /** Free inodes. */
  ffree: number;
  /** Block size in bytes. */
  bsize: number;
  /** Longest name, in bytes. */
  namelen: number;
}

/**
 * Adds one directory entry to a READDIR reply; `next` is the offset the kernel passes to read
 * on from after it. Returns false when the reply is full (the entry was not added).
 */
export type DirFiller = (name: string, ino: number, type: number, next: number) => boolean;

/**
 * What a filesystem served over FUSE implements. Node ids are the implementation's (the root is
 * 1); every lookup-like call (lookup, create, mkdir, mknod, symlink, link) adds one reference to
 * the node it returns, and `forget` drops them. Operations throw errors with a negative `errno`
 * (a FolioError, or Node's system errors) to reply with that errno; anything else replies EIO.
 */
export interface FuseOps {
  /**
   * LOOKUP: the node `name` in directory `parent` leads to (symlinks not followed); ENOENT if there
   * is none.
   */
  lookup(ctx: RequestContext, parent: number, name: string): Entry;
  /**
   * FORGET: the kernel drops `nlookup` references to `nodeid`; at zero the node id may be
   * forgotten. Never fails.
   */
  forget(nodeid: number, nlookup: number): void;
  /**
   * GETATTR: attributes of `nodeid`, through the open file `fh` when given (a node unlinked while
   * open has no path).
   */
  getattr(ctx: RequestContext, nodeid: number, fh: number | null): FuseAttr;
  /** SETATTR: applies `changes` (through `fh` when given) and returns the attributes after. */
  setattr(ctx: RequestContext, nodeid: number, fh: number | null, changes: AttrChanges): FuseAttr;
  /** READLINK: the target of symlink `nodeid`. */
  readlink(ctx: RequestContext, nodeid: number): string;
  /** SYMLINK: creates symlink `name` in `parent` holding `target`. */
  symlink(ctx: RequestContext, parent: number, name: string, target: string): Entry;
  /** MKNOD: creates a regular file (other types: EPERM). */
  mknod(ctx: RequestContext, parent: number, name: string, mode: number): Entry;
  /** MKDIR: creates directory `name` in `parent` with permission bits `mode`. */
  mkdir(ctx: RequestContext, parent: number, name: string, mode: number): Entry;
  /** UNLINK: removes a non-directory name. */
  unlink(ctx: RequestContext, parent: number, name: string): void;
  /** RMDIR: removes an empty directory. */
  rmdir(ctx: RequestContext, parent: number, name: string): void;
  /**
   * RENAME / RENAME2: renames, with `flags` RENAME_NOREPLACE or RENAME_EXCHANGE (0 for plain
   * RENAME).
   */
  rename(ctx: RequestContext, parent: number, name: string, newParent: number, newName: string, flags: number): void;
  /** LINK: adds the name `newName` in `newParent` for `nodeid`. */
  link(ctx: RequestContext, nodeid: number, newParent: number, newName: string): Entry;
  /** OPEN: opens `nodeid` with open(2) `flags`; returns the handle. */
  open(ctx: RequestContext, nodeid: number, flags: number): Opened;
  /** CREATE: creates (O_CREAT, with O_EXCL as asked) and opens `name` in `parent`. */
  create(ctx: RequestContext, parent: number, name: string, mode: number, flags: number): Entry & Opened;
  /** Reads up to `size` bytes at `offset` into `dst[dstOffset…]`; returns the count (short only at end of file). */
  read(fh: number, offset: number, size: number, dst: Uint8Array, dstOffset: number): number;
  /** Writes `size` bytes of `src[srcOffset…]` at `offset`; returns the count. */
  write(fh: number, offset: number, src: Uint8Array, srcOffset: number, size: number): number;
  /** close(2) of one descriptor of the open file (there may be others: dup, fork). */
  flush(fh: number): void;
  /** RELEASE: the last descriptor of the open file went; the handle is invalid after. */
  release(fh: number): void;
  /**
   * FSYNC: fsync (or fdatasync with `datasync`) of the open file; reports writeback errors as fsync
   * does.
   */
  fsync(fh: number, datasync: boolean): void;
  /** OPENDIR: opens a directory; its entries are read once here, so READDIR offsets stay stable. */
  opendir(ctx: RequestContext, nodeid: number): Opened;
  /**
   * READDIR: calls `fill` for each entry from `offset` on, until it returns false (the reply is
   * full).
   */
  readdir(fh: number, offset: number, fill: DirFiller): void;
  /** RELEASEDIR: closes a directory handle. */
  releasedir(fh: number): void;
  /** FSYNCDIR: makes the directory durable. */
  fsyncdir(fh: number, datasync: boolean): void;
  /** STATFS: statistics of the filesystem holding `nodeid`. */
  statfs(ctx: RequestContext, nodeid: number): FuseStatfs;
  /** syncfs(2) and sync(1): make everything durable. */
  syncfs(): void;
  /** The kernel is done with the connection (unmount). */
  destroy(): void;
}

/** Options of {@link FuseServer}. */
export interface ServerOptions {
  /** Largest READ and WRITE payload, in bytes: a multiple of 4096, at most 1 MiB (the kernel's max_pages limit is 256). */
  maxWrite: number;
  /** How long the kernel may cache names and attributes. */
  timeouts: Timeouts;
  /**
   * Open files with FOPEN_DIRECT_IO, so that the kernel keeps no copy of file data and every
   * read and write reaches the server (and Folio's page cache); false lets the kernel cache file
   * data in its own page cache (FOPEN_KEEP_CACHE).
   */
  directIo: boolean;
  /** Called for an error that is not an errno (a bug in an operation): the request is answered EIO. */
  onInternalError?: (op: string, e: unknown) => void;
  /** Called once the INIT handshake is answered. */
  onInit?: (info: { major: number; minor: number; maxWrite: number }) => void;
}

/** Requests served and bytes moved, per opcode name. */
export interface ServerStats {
  /** Requests served, by opcode name. */
  requests: Record<string, number>;
  /** Requests answered with an error, by opcode name. */
  errors: Record<string, number>;
  /** File bytes returned by READ. */
  bytesRead: number;
  /** File bytes taken by WRITE. */
  bytesWritten: number;
}

const PAGE = 4096;

/**
 * Serves one FUSE connection: `handle` takes a request buffer, `send` writes a reply. Replies are
 * built in one buffer owned by the server (a READ reads the file straight into it after the
 * header, so file data is copied once on its way out of Folio), and written before `handle`
 * returns.
 */
export class FuseServer {
  /** Counts since the server was built; they only grow. */
  readonly stats: ServerStats = { requests: {}, errors: {}, bytesRead: 0, bytesWritten: 0 };
  private readonly out: Buffer;
  private readonly view: DataView;
  private initialized = false;
  private proto = { major: FUSE_KERNEL_VERSION, minor: FUSE_KERNEL_MINOR_VERSION };

  /**
   * Serves `ops`; `send` writes `buf[0, len)` as one reply (the buffer is reused after it
   * returns). Throws RangeError unless `options.maxWrite` is a multiple of 4096 in [4 KiB, 1 MiB].
   */
  constructor(
    private readonly ops: FuseOps,
    private readonly send: (buf: Uint8Array, len: number) => void,
    private readonly options: ServerOptions,
  ) {
    if (options.maxWrite % PAGE !== 0 || options.maxWrite < PAGE || options.maxWrite > 256 * PAGE) {
      throw new RangeError(`maxWrite ${options.maxWrite} must be a multiple of 4096 in [4096, 1048576]`);
    }
    this.out = Buffer.alloc(OUT_HEADER_SIZE + options.maxWrite + PAGE);
    this.view = new DataView(this.out.buffer, this.out.byteOffset, this.out.byteLength);
  }

  /** The negotiated protocol version (valid after INIT). */
  get version(): {
    /** Protocol major version: 7. */
    major: number;
    /** The minor version both sides speak: the kernel's, at most {@link FUSE_KERNEL_MINOR_VERSION}. */
    minor: number;
  } {
    return { ...this.proto };
  }

  /** Serves the request in `buf[0…len)` and writes its reply (if it has one). */
  handle(buf: Buffer, len: number): void {
    const v = new DataView(buf.buffer, buf.byteOffset, len);
    const h = readHeader(v);
    const name = OP_NAMES[h.opcode] ?? `OP${h.opcode}`;
    this.stats.requests[name] = (this.stats.requests[name] ?? 0) + 1;
    try {
      this.dispatch(h, buf, v, len);
    } catch (e) {
      const errno = errnoOf(e);
      this.stats.errors[name] = (this.stats.errors[name] ?? 0) + 1;
      if (errno === undefined) {
        this.options.onInternalError?.(name, e);
        this.error(h, Errno.EIO);
      } else {
        this.error(h, errno);
      }
    }
  }

  private dispatch(h: InHeader, buf: Buffer, v: DataView, len: number): void {
    const ops = this.ops;
    const ctx: RequestContext = { uid: h.uid, gid: h.gid, pid: h.pid };
    const at = IN_HEADER_SIZE;
    switch (h.opcode) {
      case Op.INIT:
        return this.init(h, v);
      case Op.LOOKUP:
        return this.entry(h, ops.lookup(ctx, h.nodeid, readName(buf, at, len).name));
      case Op.FORGET:
        ops.forget(h.nodeid, u64(v, at));
        return; // no reply
      case Op.BATCH_FORGET: {
        const count = v.getUint32(at, true);
        for (let i = 0, p = at + 8; i < count && p + 16 <= len; i++, p += 16) ops.forget(u64(v, p), u64(v, p + 8));
        return; // no reply
      }
      case Op.GETATTR: {
        const flags = v.getUint32(at, true);
        const fh = (flags & FUSE_GETATTR_FH) !== 0 ? u64(v, at + 8) : null;
        return this.attr(h, ops.getattr(ctx, h.nodeid, fh));
      }
      case Op.SETATTR:
        return this.attr(h, ops.setattr(ctx, h.nodeid, ...setattrArgs(v, at)));
      case Op.READLINK: {
        const target = Buffer.from(ops.readlink(ctx, h.nodeid), "utf8");
        target.copy(this.out, OUT_HEADER_SIZE);
        return this.ok(h, target.length);
      }
      case Op.SYMLINK: {
        const n = readName(buf, at, len);
        const target = readName(buf, n.next, len);
        return this.entry(h, ops.symlink(ctx, h.nodeid, n.name, target.name));
      }
      case Op.MKNOD: {
        const mode = v.getUint32(at, true);
        return this.entry(h, ops.mknod(ctx, h.nodeid, readName(buf, at + 16, len).name, mode));
      }
      case Op.MKDIR: {
        const mode = v.getUint32(at, true);
        return this.entry(h, ops.mkdir(ctx, h.nodeid, readName(buf, at + 8, len).name, mode));
      }
      case Op.UNLINK:
        ops.unlink(ctx, h.nodeid, readName(buf, at, len).name);
        return this.ok(h, 0);
      case Op.RMDIR:
        ops.rmdir(ctx, h.nodeid, readName(buf, at, len).name);
        return this.ok(h, 0);
      case Op.RENAME: {
        const newDir = u64(v, at);
        const a = readName(buf, at + 8, len);
        const b = readName(buf, a.next, len);
        ops.rename(ctx, h.nodeid, a.name, newDir, b.name, 0);
        return this.ok(h, 0);
      }
      case Op.RENAME2: {
        const newDir = u64(v, at);
        const flags = v.getUint32(at + 8, true);
        const a = readName(buf, at + 16, len);
        const b = readName(buf, a.next, len);
        ops.rename(ctx, h.nodeid, a.name, newDir, b.name, flags);
        return this.ok(h, 0);
      }
      case Op.LINK: {
        const old = u64(v, at);
        return this.entry(h, ops.link(ctx, old, h.nodeid, readName(buf, at + 8, len).name));
      }
      case Op.OPEN: {
        const opened = ops.open(ctx, h.nodeid, v.getUint32(at, true));
        putOpenOut(this.view, OUT_HEADER_SIZE, opened.fh, this.openFlags());
        return this.ok(h, OPEN_OUT_SIZE);
      }
      case Op.CREATE: {
        const flags = v.getUint32(at, true);
        const mode = v.getUint32(at + 4, true);
        const r = ops.create(ctx, h.nodeid, readName(buf, at + 16, len).name, mode, flags);
        putEntry(this.view, OUT_HEADER_SIZE, r.nodeid, r.attr, this.options.timeouts);
        putOpenOut(this.view, OUT_HEADER_SIZE + ENTRY_OUT_SIZE, r.fh, this.openFlags());
        return this.ok(h, ENTRY_OUT_SIZE + OPEN_OUT_SIZE);
      }
      case Op.READ: {
        const fh = u64(v, at);
        const offset = u64(v, at + 8);
        const size = Math.min(v.getUint32(at + 16, true), this.out.length - OUT_HEADER_SIZE);
        const n = ops.read(fh, offset, size, this.out, OUT_HEADER_SIZE);
        this.stats.bytesRead += n;
        return this.ok(h, n);
      }
      case Op.WRITE: {
        const fh = u64(v, at);
        const offset = u64(v, at + 8);
        const size = v.getUint32(at + 16, true);
        const dataAt = at + 40;
        if (dataAt + size > len) throw Object.assign(new Error("short WRITE request"), { errno: -Errno.EINVAL });
        const n = ops.write(fh, offset, buf, dataAt, size);
        this.stats.bytesWritten += n;
        this.view.setUint32(OUT_HEADER_SIZE, n, true);
        this.view.setUint32(OUT_HEADER_SIZE + 4, 0, true);
        return this.ok(h, WRITE_OUT_SIZE);
      }
      case Op.FLUSH:
        ops.flush(u64(v, at));
        return this.ok(h, 0);
      case Op.RELEASE:
        ops.release(u64(v, at));
        return this.ok(h, 0);
      case Op.FSYNC:
        ops.fsync(u64(v, at), (v.getUint32(at + 8, true) & FUSE_FSYNC_FDATASYNC) !== 0);
        return this.ok(h, 0);
      case Op.OPENDIR: {
        const opened = ops.opendir(ctx, h.nodeid);
        putOpenOut(this.view, OUT_HEADER_SIZE, opened.fh, 0);
        return this.ok(h, OPEN_OUT_SIZE);
      }
      case Op.READDIR:
        return this.readdir(h, v, at);
      case Op.RELEASEDIR:
        ops.releasedir(u64(v, at));
        return this.ok(h, 0);
      case Op.FSYNCDIR:
        ops.fsyncdir(u64(v, at), (v.getUint32(at + 8, true) & FUSE_FSYNC_FDATASYNC) !== 0);
        return this.ok(h, 0);
      case Op.STATFS:
        return this.statfs(h, ops.statfs(ctx, h.nodeid));
      case Op.SYNCFS:
        ops.syncfs();
        return this.ok(h, 0);
      case Op.DESTROY:
        ops.destroy();
        return this.ok(h, 0);
      case Op.INTERRUPT:
        // Every request is served to completion before the next is read: by the time an
        // interrupt arrives its request has been answered, so there is nothing to interrupt.
        return;
      default:
        // ACCESS (permissions are the kernel's: default_permissions), xattrs, locks (the kernel
        // keeps POSIX and flock locks itself when the server does not take them), fallocate
        // (glibc's posix_fallocate then writes zeros), lseek (the kernel's generic SEEK_DATA),
        // copy_file_range (the kernel copies through read and write), ioctl, poll, bmap,
        // tmpfile, statx (the kernel falls back to GETATTR), READDIRPLUS (never negotiated):
        // ENOSYS tells the kernel not to send them again.
        return this.error(h, Errno.ENOSYS);
    }
  }

  private init(h: InHeader, v: DataView): void {
    const major = v.getUint32(IN_HEADER_SIZE, true);
    const minor = v.getUint32(IN_HEADER_SIZE + 4, true);
    const maxReadahead = v.getUint32(IN_HEADER_SIZE + 8, true);
    const kflags = v.getUint32(IN_HEADER_SIZE + 12, true);
    const kflags2 = (kflags & InitFlag.INIT_EXT) !== 0 ? v.getUint32(IN_HEADER_SIZE + 16, true) : 0;
    if (major !== FUSE_KERNEL_VERSION) {
      // A newer major: answer with ours alone and wait for the kernel to fall back (it never does
      // on Linux today, which speaks 7 only).
      this.view.setUint32(OUT_HEADER_SIZE, FUSE_KERNEL_VERSION, true);
      this.view.setUint32(OUT_HEADER_SIZE + 4, FUSE_KERNEL_MINOR_VERSION, true);
      return this.ok(h, 8);
    }
    if (minor < FUSE_MIN_MINOR_VERSION) return this.error(h, 71 /* EPROTO */);
    this.proto = { major, minor: Math.min(minor, FUSE_KERNEL_MINOR_VERSION) };
    const want = InitFlag.ASYNC_READ | InitFlag.ATOMIC_O_TRUNC | InitFlag.BIG_WRITES | InitFlag.PARALLEL_DIROPS | InitFlag.MAX_PAGES |
      InitFlag.ASYNC_DIO | InitFlag.INIT_EXT | (this.options.directIo ? 0 : InitFlag.AUTO_INVAL_DATA);
    const want2 = InitFlag2.DIRECT_IO_ALLOW_MMAP;
    const o = OUT_HEADER_SIZE;
    this.out.fill(0, o, o + INIT_OUT_SIZE);
    this.view.setUint32(o, FUSE_KERNEL_VERSION, true);
    this.view.setUint32(o + 4, this.proto.minor, true);
    this.view.setUint32(o + 8, maxReadahead, true);
    this.view.setUint32(o + 12, (want & kflags) >>> 0, true);
    this.view.setUint16(o + 16, 64, true); // max_background
    this.view.setUint16(o + 18, 48, true); // congestion_threshold
    this.view.setUint32(o + 20, this.options.maxWrite, true);
    this.view.setUint32(o + 24, 1, true); // time_gran: nanoseconds
    this.view.setUint16(o + 28, this.options.maxWrite / PAGE, true); // max_pages
    this.view.setUint32(o + 32, (want2 & kflags2) >>> 0, true);
    this.ok(h, INIT_OUT_SIZE);
    this.initialized = true;
    this.options.onInit?.({ major, minor: this.proto.minor, maxWrite: this.options.maxWrite });
  }

  /** Whether the INIT handshake has been answered. */
  get ready(): boolean {
    return this.initialized;
  }

  private openFlags(): number {
    return this.options.directIo ? FOPEN_DIRECT_IO : FOPEN_KEEP_CACHE;
  }

  private readdir(h: InHeader, v: DataView, at: number): void {
    const fh = u64(v, at);
    const offset = u64(v, at + 8);
    const size = Math.min(v.getUint32(at + 16, true), this.out.length - OUT_HEADER_SIZE);
    let used = 0;
    const out = this.out;
    const view = this.view;
    this.ops.readdir(fh, offset, (name, ino, type, next) => {
      const bytes = Buffer.byteLength(name);
      const rec = direntSize(bytes);
      if (used + rec > size) return false;
      const p = OUT_HEADER_SIZE + used;
      putU64(view, p, ino);
      putU64(view, p + 8, next);
      view.setUint32(p + 16, bytes, true);
      view.setUint32(p + 20, type, true);
      out.write(name, p + DIRENT_NAME_OFFSET, "utf8");
      out.fill(0, p + DIRENT_NAME_OFFSET + bytes, p + rec);
      used += rec;
      return true;
    });
    this.ok(h, used);
  }

  private statfs(h: InHeader, s: FuseStatfs): void {
    const o = OUT_HEADER_SIZE;
    this.out.fill(0, o, o + STATFS_OUT_SIZE);
    putU64(this.view, o, s.blocks);
    putU64(this.view, o + 8, s.bfree);
    putU64(this.view, o + 16, s.bavail);
    putU64(this.view, o + 24, s.files);
    putU64(this.view, o + 32, s.ffree);
    this.view.setUint32(o + 40, s.bsize, true);
    this.view.setUint32(o + 44, s.namelen, true);
    this.view.setUint32(o + 48, s.bsize, true); // frsize
    this.ok(h, STATFS_OUT_SIZE);
  }

  private entry(h: InHeader, e: Entry): void {
    putEntry(this.view, OUT_HEADER_SIZE, e.nodeid, e.attr, this.options.timeouts);
    this.ok(h, ENTRY_OUT_SIZE);
  }

  private attr(h: InHeader, a: FuseAttr): void {
    putAttrOut(this.view, OUT_HEADER_SIZE, a, this.options.timeouts);
    this.ok(h, ATTR_OUT_SIZE);
  }

  /** Sends a successful reply whose payload (`payload` bytes) is already in place after the header. */
  private ok(h: InHeader, payload: number): void {
    const len = OUT_HEADER_SIZE + payload;
    this.view.setUint32(0, len, true);
    this.view.setInt32(4, 0, true);
    putU64(this.view, 8, h.unique);
    this.send(this.out, len);
  }

  /** Sends an error reply (`errno` positive). */
  private error(h: InHeader, errno: number): void {
    this.view.setUint32(0, OUT_HEADER_SIZE, true);
    this.view.setInt32(4, -errno, true);
    putU64(this.view, 8, h.unique);
    this.send(this.out, OUT_HEADER_SIZE);
  }
}

/** Decodes fuse_setattr_in into the handle (when FATTR_FH) and the changes. */
function setattrArgs(v: DataView, at: number): [number | null, AttrChanges] {
  const valid = v.getUint32(at, true);
  const c: AttrChanges = {};
  if (valid & FATTR_MODE) c.mode = v.getUint32(at + 68, true);
  if (valid & FATTR_UID) c.uid = v.getUint32(at + 76, true);
  if (valid & FATTR_GID) c.gid = v.getUint32(at + 80, true);
  if (valid & FATTR_SIZE) c.size = u64(v, at + 16);
  if (valid & FATTR_ATIME_NOW) c.atimeNs = "now";
  else if (valid & FATTR_ATIME) c.atimeNs = u64(v, at + 32) * 1e9 + v.getUint32(at + 56, true);
  if (valid & FATTR_MTIME_NOW) c.mtimeNs = "now";
  else if (valid & FATTR_MTIME) c.mtimeNs = u64(v, at + 40) * 1e9 + v.getUint32(at + 60, true);
  return [(valid & FATTR_FH) !== 0 ? u64(v, at + 8) : null, c];
}

/** The positive errno an error stands for (FolioError and Node's system errors carry it negative), or undefined. */
export function errnoOf(e: unknown): number | undefined {
  const errno = (e as { errno?: unknown } | null)?.errno;
  return typeof errno === "number" && errno < 0 && Number.isInteger(errno) ? -errno : undefined;
}
