import "reflect-metadata";
import { fail, isFolioError, type FolioError, type Machine } from "@folio/core";
import { installPageCache, type BlockDevice, type Flusher, type PageCache, type WritebackControl, type WritebackTarget } from "@folio/pagecache";
import {
  FS_TOKENS, FileType, NAME_MAX, O_ACCMODE, O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_RDONLY, O_TRUNC,
  O_WRONLY, RENAME_EXCHANGE, RENAME_NOREPLACE, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, fileTypeOf, filesystemType,
  type FsFile, type InodeAttr, type MountOptions, type SetAttr, type StatFs, type SuperBlock,
} from "@folio/fs-api";
import { MAP_SHARED, PROT_WRITE, type AddressSpace, type MappableFile, type MmapRequest } from "@folio/core";
import { O_RDWR } from "@folio/fs-api";
import { DentryCache, dirKey, type Dentry } from "./dcache.js";
import { asSyscallError } from "./errors.js";

/** Longest path, in bytes, including the terminating NUL Linux counts (PATH_MAX). */
export const PATH_MAX = 4096;
/** Most symbolic links one path resolution may follow (Linux's MAXSYMLINKS). */
export const MAXSYMLINKS = 40;
/** Set-user-id mode bit: kept and reported; Folio runs no programs, so it grants nothing. */
export const S_ISUID = 0o4000;
/** Set-group-id mode bit: on a directory, new entries take the directory's group. */
export const S_ISGID = 0o2000;
/** Sticky mode bit: in a directory, only an entry's owner, the directory's owner or root may remove or rename it. */
export const S_ISVTX = 0o1000;
/** Open flag: every write is followed by an fsync (Linux's value; beyond the flags of @folio/fs-api). */
export const O_SYNC = 0o4010000;
/** Open flag: every write is followed by an fdatasync. */
export const O_DSYNC = 0o10000;
/** access() mode: the file exists. */
export const F_OK = 0;
/** access() mode: readable. */
export const R_OK = 4;
/** access() mode: writable. */
export const W_OK = 2;
/** access() mode: executable (a directory: searchable). */
export const X_OK = 1;
/** lseek() whence: from the start of the file. */
export const SEEK_SET = 0;
/** lseek() whence: from the current position. */
export const SEEK_CUR = 1;
/** lseek() whence: from the end of the file. */
export const SEEK_END = 2;
/** Size reported as st_blksize: one page, the unit the page cache reads and writes. */
export const BLKSIZE = 4096;

/** Injection token of a machine's {@link Vfs} in its container. */
export const VFS_TOKEN = Symbol.for("folio.Vfs");

/** Who is asking: the credentials permission checks use (one process's fsuid/fsgid). */
export interface Credentials {
  /** Filesystem user id; 0 is root. */
  uid: number;
  /** Filesystem group id. */
  gid: number;
  /** Supplementary groups. */
  groups?: readonly number[];
}

/** A file's attributes as stat reports them: the inode's plus the mount's device number. */
export interface FileStat extends InodeAttr {
  /** Device number: the mount's id. */
  dev: number;
  /** Device a device file stands for: always 0, there are none. */
  rdev: number;
  /** Preferred I/O size: {@link BLKSIZE}. */
  blksize: number;
}

/** One entry of a mount table listing. */
export interface MountInfo {
  /** Where it is mounted, as a path from the root now. */
  path: string;
  /** Filesystem type name. */
  type: string;
  /** Device number its files report. */
  dev: number;
  /** Mounted read-only (changes fail with EROFS). */
  readOnly: boolean;
  /** The mount options, as given (a copy). */
  options: MountOptions;
}

/**
 * An eviction the filesystem failed: the inode lost its last name or reference, and its
 * `evictInode` threw (see {@link Vfs.evictionFailures}).
 */
export interface EvictionFailure {
  /** The mount's device number (`dev` in stat). */
  readonly dev: number;
  /** The inode that was not evicted. */
  readonly ino: number;
  /** What the filesystem threw (EIO, ENOMEM…). */
  readonly error: FolioError;
}

/** Options of {@link Vfs}. */
export interface VfsOptions {
  /** Most open file descriptors (EMFILE beyond); default 65536. */
  maxFds?: number;
  /**
   * Most dentries cached; by default one per frame of the machine's memory, at least 65,536 (a
   * Linux dentry is ~200 bytes of slab, so a kernel's dcache can grow that large; Folio's are host
   * objects, trimmed under memory pressure by the dcache shrinker).
   */
  dentryLimit?: number;
}

/** Options of {@link Vfs.mount}. */
export interface MountRequest {
  /** The block device, for filesystems that need one. */
  device?: BlockDevice;
  /** Mount options for the filesystem (`readOnly` and its own keys). */
  options?: MountOptions;
}

/**
 * A mounted filesystem. It is also the flusher's writeback target for that filesystem: the flusher
 * reaches the filesystem's data callbacks only through `writeback`, its superblock entry.
 */
class Mount implements WritebackTarget {
  /** Open file descriptions on this mount. */
  openFiles = 0;

  constructor(
    readonly id: number,
    readonly type: string,
    readonly sb: SuperBlock,
    /** The mount this one is mounted on, and the directory it covers there (null for the first root). */
    readonly parent: Mount | null,
    readonly mountpoint: number,
    readonly options: MountOptions,
  ) {}

  get readOnly(): boolean {
    return this.options.readOnly === true;
  }

  writeback(wbc: WritebackControl): number {
    return this.sb.writebackInodes(wbc);
  }
}

/** An inode in a mount. */
interface Loc {
  readonly mnt: Mount;
  readonly ino: number;
}

/** An inode in a mount, with its type. */
interface Node extends Loc {
  readonly type: FileType;
}

/** A resolved path: the inode and, when the last component was a name, the directory and name it was found under. */
interface Found {
  node: Node;
  dir: Loc | null;
  name: string;
}

const enum Last {
  Normal,
  Dot,
  DotDot,
  Root,
}

/** Everything of a path but its last component, resolved (Linux's nameidata after path_parentat). */
interface Parent {
  dir: Loc;
  name: string;
  kind: Last;
  /** The path ended with a slash (or the symlink followed to get here did). */
  trailing: boolean;
}

/** Symlinks followed so far in one resolution. */
interface Budget {
  links: number;
}

/** An open file description: shared position and flags (Linux's struct file). */
class OpenFile {
  pos = 0;
  constructor(
    readonly mnt: Mount,
    readonly ino: number,
    readonly type: FileType,
    readonly flags: number,
    /** The filesystem's open file, for regular files (directories need none). */
    readonly file: FsFile | null,
  ) {}
}

/** Failed evictions whose details {@link Vfs.evictionFailures} keeps. */
const MAX_EVICTION_FAILURES_KEPT = 100;
const MAY_READ = 4;
const MAY_WRITE = 2;
const MAY_EXEC = 1;
/**
 * Scheduler events one pump of the promise API runs at a time, and events pumps may run from
 * microtasks before one pump lets the host's event loop turn (see {@link Vfs.defer}).
 */
const PUMP_SLICE = 1024;

/**
 * The virtual filesystem of one machine: the mount table, path resolution with a dentry cache,
 * open files and descriptors, permissions, and the system calls over them. Methods are Linux's
 * system calls with Node's error shape ({@link VfsError}: `ENOENT: no such file or directory,
 * open '/a'`); `createNodeFs(vfs)` wraps them in Node's `fs` API.
 *
 * Everything runs synchronously on the machine's engine. The VFS holds no filesystem callbacks:
 * it calls the superblock's operations, and the filesystem passes its own data callbacks to the
 * page-cache helpers it calls.
 *
 * Caches (see {@link DentryCache} for the dentry cache's contract):
 * * Dentries map (mount, directory inode, name) to inodes, with negative entries, and pin nothing.
 * * Each directory seen remembers its parent and name (for "..", realpath and cwd). These entries
 *   are removed with the directory (rmdir, rename over it, umount), not by the shrinker.
 * * Open file descriptions and the working directory hold references on their inodes. When the
 *   last reference to an inode with no links left goes (close after unlink, or unlink of an inode
 *   nobody has open), the VFS calls the filesystem's `evictInode`. Its failure is not the system
 *   call's (see {@link evictionFailures}).
 */
export class Vfs {
  /** The machine's page cache (installed by the constructor if it was not). */
  readonly cache: PageCache;
  /** The machine's writeback flusher; each mount registers with it. */
  readonly flusher: Flusher;
  /** Credentials of the caller; root (0/0) by default. Root passes every read/write/search check, and execute checks on files with any execute bit. */
  creds: Credentials = { uid: 0, gid: 0 };
  /** The file mode creation mask. */
  umask = 0o022;

  private readonly maxFds: number;
  private readonly dcache: DentryCache;
  private readonly mounts = new Map<number, Mount>();
  /** Mounts by the directory they cover ("parentMount:ino"). */
  private readonly covering = new Map<string, Mount>();
  private rootMount: Mount | null = null;
  private nextMountId = 1;
  /** Parent and name of every directory seen ("mount:ino"). */
  private readonly dirs = new Map<string, { parent: number; name: string }>();
  /** References on inodes held by open files and the working directory ("mount:ino" → count). */
  private readonly refs = new Map<string, number>();
  /** Inodes removed from the namespace while referenced: evicted when the last reference goes. */
  private readonly orphans = new Set<string>();
  /** The descriptor table: the open file description of each descriptor, undefined where none (an array: a read looks it up first). */
  private readonly fds: (OpenFile | undefined)[] = [];
  /** Descriptors open. */
  private nrOpenFds = 0;
  private cwdLoc: Loc | null = null;
  /** Evictions that failed (see evictIfGone): how many, and the latest. */
  private evictionFailureCount = 0;
  private readonly recentEvictionFailures: EvictionFailure[] = [];
  /** Promise-API operations scheduled and not yet run. */
  private pendingOps = 0;
  /** A pump is queued and has not run yet. */
  private pumping = false;
  /** Events run by microtask pumps since a pump last went through the host's event loop. */
  private eventsSinceHostTurn = 0;
  /** VFS calls in progress (more than one when an event run during a wait makes another). */
  private depth = 0;
  /** Deferred operations whose event came while a VFS call was in progress: they run after it. */
  private parked: { label: string; run: () => void }[] = [];

  /**
   * Creates the VFS of `machine` (one per machine: EEXIST for a second) and registers it in the
   * machine's container under {@link VFS_TOKEN}. It installs the page-cache services and starts
   * nothing else; nothing is mounted yet.
   */
  constructor(
    /** The machine whose memory, clock and page cache the VFS uses. */
    readonly machine: Machine,
    options: VfsOptions = {},
  ) {
    if (machine.container.isRegistered(VFS_TOKEN)) throw fail("EEXIST", "this machine already has a VFS (use Vfs.of(machine))");
    machine.container.register(VFS_TOKEN, { useValue: this });
    const { cache, flusher } = installPageCache(machine);
    this.cache = cache;
    this.flusher = flusher;
    this.maxFds = options.maxFds ?? 65536;
    this.dcache = new DentryCache(options.dentryLimit ?? Math.max(65536, machine.frames));
    // The dcache shrinker (prune_dcache_sb): reclaim asks it to drop a share of the dentries
    // proportional to the share of the LRU it scanned; no dentry pins an inode, so all can go.
    machine.reclaim.registerShrinker({ name: "dentry", count: () => this.dcache.size, scan: (n) => this.shrinkCaches(n) });
  }

  /** The VFS of `machine`, created on first use. */
  static of(machine: Machine, options: VfsOptions = {}): Vfs {
    return machine.container.isRegistered(VFS_TOKEN) ? machine.container.resolve<Vfs>(VFS_TOKEN) : new Vfs(machine, options);
  }

  // ── Mounts ──────────────────────────────────────────────────────────────────────────────────

  /**
   * Mounts a filesystem of type `typeName` (from the `@filesystem` registry) on directory `path`;
   * the first mount must be on "/". The filesystem class is constructed in a child container of
   * the machine's, with the mount's block device and options registered under `FS_TOKENS`, then
   * its `mount()` is called and it is registered with the writeback flusher. Mounting on a mount
   * point covers the mount already there. Errors: EPERM (not root), EINVAL (unknown type, or a
   * device is needed and none given), ENOENT, ENOTDIR, and whatever the filesystem's mount throws.
   */
  mount(path: string, typeName: string, request: MountRequest = {}): MountInfo {
    return this.sys("mount", path, undefined, () => {
      if (this.creds.uid !== 0) throw fail("EPERM", "only root may mount");
      const cls = filesystemType(typeName);
      if (cls.needsDevice && request.device === undefined) throw fail("EINVAL", `filesystem type "${typeName}" needs a block device`);
      let at: Node | null = null;
      if (this.rootMount === null) {
        if (path !== "/") throw fail("ENOENT", "nothing is mounted yet: the first mount must be on /");
      } else {
        at = this.resolve(path, true).node;
        if (at.type !== FileType.Directory) throw fail("ENOTDIR", "mount point is not a directory");
      }
      const options = { ...(request.options ?? {}) };
      const container = this.machine.container.createChildContainer();
      if (request.device !== undefined) container.register(FS_TOKENS.BlockDevice, { useValue: request.device });
      container.register(FS_TOKENS.MountOptions, { useValue: options });
      const sb = container.resolve<SuperBlock>(cls as never);
      sb.mount();
      const mnt = new Mount(this.nextMountId++, typeName, sb, at?.mnt ?? null, at?.ino ?? 0, options);
      this.flusher.register(mnt);
      this.mounts.set(mnt.id, mnt);
      if (at === null) this.rootMount = mnt;
      else this.covering.set(dirKey(at.mnt.id, at.ino), mnt);
      return this.mountInfo(mnt);
    });
  }

  /**
   * Unmounts the filesystem mounted at `path`: the filesystem writes everything back and detaches
   * (`unmount()`), and is unregistered from the flusher. EINVAL if `path` is not a mount point,
   * EBUSY while files are open on it, it is the working directory's, or another mount is on it.
   */
  umount(path: string): void {
    this.sys("umount", path, undefined, () => {
      if (this.creds.uid !== 0) throw fail("EPERM", "only root may unmount");
      const { node } = this.resolve(path, true);
      const mnt = node.mnt;
      if (node.ino !== mnt.sb.rootIno) throw fail("EINVAL", "not a mount point");
      if (mnt.openFiles > 0) throw fail("EBUSY", `${mnt.openFiles} files are open on it`);
      if (this.cwdLoc?.mnt === mnt) throw fail("EBUSY", "it holds the working directory");
      for (const m of this.mounts.values()) if (m.parent === mnt) throw fail("EBUSY", "another filesystem is mounted on it");
      mnt.sb.unmount();
      this.flusher.unregister(mnt);
      this.mounts.delete(mnt.id);
      if (mnt.parent === null) this.rootMount = null;
      else this.covering.delete(dirKey(mnt.parent.id, mnt.mountpoint));
      this.dcache.dropMount(mnt.id);
      const prefix = `${mnt.id}:`;
      for (const key of this.dirs.keys()) if (key.startsWith(prefix)) this.dirs.delete(key);
      for (const key of this.orphans) if (key.startsWith(prefix)) this.orphans.delete(key);
    });
  }

  /** The superblock of the filesystem holding `path` (for tools and tests: fsck, statistics, spies). */
  superBlockOf(path: string): SuperBlock {
    return this.sys("stat", path, undefined, () => this.resolve(path, true).node.mnt.sb);
  }

  /** The mount table, in mount order. */
  mountTable(): MountInfo[] {
    return [...this.mounts.values()].map((m) => this.mountInfo(m));
  }

  /** Writes back and makes durable every mounted filesystem (sync). */
  sync(): void {
    this.sys("sync", undefined, undefined, () => {
      for (const m of this.mounts.values()) m.sb.sync();
    });
  }

  // ── Working directory ─────────────────────────────────────────────────────────────────────────

  /** Changes the working directory, against which relative paths resolve. */
  chdir(path: string): void {
    this.sys("chdir", path, undefined, () => {
      const { node } = this.resolve(path, true);
      if (node.type !== FileType.Directory) throw fail("ENOTDIR", "not a directory");
      this.require(node, this.attr(node), MAY_EXEC);
      const old = this.cwdLoc;
      this.pin(node);
      this.cwdLoc = { mnt: node.mnt, ino: node.ino };
      if (old) this.unpin(old);
    });
  }

  /** The working directory's path. */
  cwd(): string {
    return this.sys("getcwd", undefined, undefined, () => (this.cwdLoc ? this.dirPath(this.cwdLoc) : "/"));
  }

  // ── Open files ──────────────────────────────────────────────────────────────────────────────

  /**
   * Opens (and with O_CREAT creates) a file; returns the lowest free descriptor from 3 up.
   * Follows Linux's open(2): O_EXCL with O_CREAT fails on any existing name (symlinks included),
   * O_NOFOLLOW fails with ELOOP on a final symlink (a trailing slash still follows it),
   * O_DIRECTORY or a trailing slash require a directory, O_CREAT with O_DIRECTORY is EINVAL (as
   * since Linux 6.4), directories open read-only only (EISDIR), O_TRUNC truncates a regular file.
   */
  open(path: string, flags: number, mode = 0o666): number {
    return this.sys("open", path, undefined, () => {
      if ((flags & O_ACCMODE) === O_ACCMODE) throw fail("EINVAL", "access mode 3 is invalid");
      // Linux 6.4 and later: O_CREAT | O_DIRECTORY is invalid (it used to create a regular file, then fail with ENOTDIR).
      if ((flags & (O_CREAT | O_DIRECTORY)) === (O_CREAT | O_DIRECTORY)) throw fail("EINVAL", "O_CREAT with O_DIRECTORY is invalid");
      if (this.nrOpenFds >= this.maxFds) throw fail("EMFILE", `${this.maxFds} descriptors are open`);
      const creat = (flags & O_CREAT) !== 0;
      const budget = { links: 0 };
      let last = this.parent(path, null, budget);
      let node: Node;
      let created = false;
      for (;;) {
        if (creat && last.trailing) throw fail("EISDIR", "cannot create a file named with a trailing slash");
        if (last.kind !== Last.Normal) {
          node = this.finish(last, budget, true).node;
          break;
        }
        const child = this.lookupIn(last.dir, last.name);
        if (child === null) {
          if (!creat) throw fail("ENOENT", "no such file");
          node = this.createNode(last.dir, last.name, S_IFREG | (mode & ~this.umask & 0o7777));
          created = true;
          break;
        }
        if (creat && (flags & O_EXCL) !== 0) throw fail("EEXIST", "the file exists");
        // A trailing slash follows a final symlink even with O_NOFOLLOW (it asks for a directory).
        if (child.type === FileType.Symlink && ((flags & O_NOFOLLOW) === 0 || last.trailing)) {
          const trailing = last.trailing;
          last = this.parent(this.readLinkOf(child, budget), last.dir, budget);
          last.trailing ||= trailing;
          continue;
        }
        node = child;
        break;
      }
      if (creat && (flags & O_EXCL) !== 0 && !created) throw fail("EEXIST", "the file exists");
      if (creat && node.type === FileType.Directory) throw fail("EISDIR", "cannot create over a directory");
      if (((flags & O_DIRECTORY) !== 0 || last.trailing) && node.type !== FileType.Directory) throw fail("ENOTDIR", "not a directory");
      if (node.type === FileType.Symlink) throw fail("ELOOP", "the last component is a symbolic link (O_NOFOLLOW)");
      const acc = flags & O_ACCMODE;
      if (node.type === FileType.Directory && (acc !== O_RDONLY || (flags & O_TRUNC) !== 0)) throw fail("EISDIR", "a directory opens read-only");
      if (!created) {
        let mask = acc === O_RDONLY ? MAY_READ : acc === O_WRONLY ? MAY_WRITE : MAY_READ | MAY_WRITE;
        if ((flags & O_TRUNC) !== 0) mask |= MAY_WRITE;
        this.require(node, this.attr(node), mask);
      }
      const sb = node.mnt.sb;
      const file = node.type === FileType.Regular ? sb.open(node.ino, flags) : null;
      if (file && !created && (flags & O_TRUNC) !== 0) {
        try {
          sb.setattr(node.ino, { size: 0 });
        } catch (e) {
          sb.release(file);
          throw e;
        }
      }
      return this.installFd(new OpenFile(node.mnt, node.ino, node.type, flags, file));
    });
  }

  /** Closes a descriptor; the last close of an unlinked file evicts its inode. */
  close(fd: number): void {
    this.sys("close", undefined, undefined, () => {
      const of = this.fileOf(fd);
      this.fds[fd] = undefined;
      this.nrOpenFds--;
      of.mnt.openFiles--;
      try {
        if (of.file) of.mnt.sb.release(of.file);
      } finally {
        this.unpin(of);
      }
    });
  }

  /**
   * Reads up to `length` bytes into `buffer[offset…]` at `position`, or at and advancing the
   * file position when `position` is null. Returns the bytes read (0 at end of file).
   */
  read(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number {
    // The hottest system call: sys() written out, so that a read allocates no closure.
    this.depth++;
    try {
      const of = this.fileOf(fd);
      if ((of.flags & O_ACCMODE) === O_WRONLY) throw fail("EBADF", "descriptor is not open for reading");
      if (of.type === FileType.Directory) throw fail("EISDIR", "cannot read a directory");
      if (position !== null && position < 0) throw fail("EINVAL", "negative position");
      const pos = position ?? of.pos;
      const n = length === 0 ? 0 : of.mnt.sb.read(of.file!, pos, buffer, offset, length);
      if (position === null) of.pos = pos + n;
      return n;
    } catch (e) {
      throw asSyscallError(e, "read");
    } finally {
      this.leaveCall();
    }
  }

  /**
   * Writes `length` bytes from `buffer[offset…]` at `position`, or at and advancing the file
   * position when `position` is null; with O_APPEND always at the end of the file (even with a
   * position, as Linux does). Returns the bytes written.
   */
  write(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number {
    return this.sys("write", undefined, undefined, () => {
      const of = this.fileOf(fd);
      if ((of.flags & O_ACCMODE) === O_RDONLY) throw fail("EBADF", "descriptor is not open for writing");
      if (position !== null && position < 0) throw fail("EINVAL", "negative position");
      if (length === 0) return 0;
      const sb = of.mnt.sb;
      const pos = (of.flags & O_APPEND) !== 0 ? sb.getattr(of.ino).size : (position ?? of.pos);
      const n = sb.write(of.file!, pos, buffer, offset, length);
      if (position === null) of.pos = pos + n;
      if ((of.flags & (O_SYNC | O_DSYNC)) !== 0) sb.fsync(of.file!, (of.flags & O_SYNC) !== O_SYNC);
      return n;
    });
  }

  /** Moves the file position (lseek); returns the new position. */
  lseek(fd: number, offset: number, whence: number): number {
    return this.sys("lseek", undefined, undefined, () => {
      const of = this.fileOf(fd);
      const base = whence === SEEK_SET ? 0 : whence === SEEK_CUR ? of.pos : whence === SEEK_END ? of.mnt.sb.getattr(of.ino).size : NaN;
      const pos = base + offset;
      if (!Number.isSafeInteger(pos) || pos < 0) throw fail("EINVAL", `position ${pos} is invalid`);
      of.pos = pos;
      return pos;
    });
  }

  /** The attributes of an open file. */
  fstat(fd: number): FileStat {
    return this.sys("fstat", undefined, undefined, () => {
      const of = this.fileOf(fd);
      return this.statOf(of);
    });
  }

  /** Sets the size of an open regular file; EINVAL unless it is open for writing. */
  ftruncate(fd: number, length: number): void {
    this.sys("ftruncate", undefined, undefined, () => {
      const of = this.fileOf(fd);
      if (of.type !== FileType.Regular || (of.flags & O_ACCMODE) === O_RDONLY) throw fail("EINVAL", "not a regular file open for writing");
      if (!Number.isSafeInteger(length) || length < 0) throw fail("EINVAL", `length ${length} is invalid`);
      of.mnt.sb.setattr(of.ino, { size: length });
    });
  }

  /** Makes an open file durable (fsync) or its data (fdatasync); a directory syncs its filesystem. */
  fsync(fd: number, datasync = false): void {
    this.sys(datasync ? "fdatasync" : "fsync", undefined, undefined, () => {
      const of = this.fileOf(fd);
      if (of.file) of.mnt.sb.fsync(of.file, datasync);
      else of.mnt.sb.sync();
    });
  }

  /**
   * Maps the file open on `fd` into the address space `space` (mmap(2) with a descriptor; create
   * one with `machine.mm.createAddressSpace`) and returns the address; `request` holds mmap's other
   * arguments (see AddressSpace.mmap). Loads, stores, munmap, mprotect, madvise and msync are then
   * `space`'s. The mapping holds an open file of its own, as Linux's vm_file does: closing `fd`
   * does not end it, an unlinked file lives on while mapped, and umount is EBUSY until the last
   * page is unmapped. Errors: EBADF; EACCES (not a regular file, a descriptor not open for reading,
   * or MAP_SHARED with PROT_WRITE on one not open for reading and writing); ENODEV (the filesystem
   * cannot map files); those of AddressSpace.mmap.
   */
  mmap(space: AddressSpace, fd: number, request: Omit<MmapRequest, "file">): number {
    return this.sys("mmap", undefined, undefined, () => {
      const of = this.fileOf(fd);
      const acc = of.flags & O_ACCMODE;
      if (of.type !== FileType.Regular) throw fail("EACCES", "only regular files can be mapped");
      if (acc === O_WRONLY) throw fail("EACCES", "descriptor is not open for reading");
      if (request.flags & MAP_SHARED && request.prot & PROT_WRITE && acc !== O_RDWR) throw fail("EACCES", "a shared writable mapping needs a descriptor open for reading and writing");
      const sb = of.mnt.sb;
      if (sb.mmap === undefined) throw fail("ENODEV", `filesystem type "${of.mnt.type}" cannot map files`);
      // The mapping's own open file description, pinned and counted like a descriptor's.
      const file = sb.open(of.ino, acc);
      of.mnt.openFiles++;
      this.pin(of);
      let open = true;
      const close = () => {
        if (!open) return;
        open = false;
        of.mnt.openFiles--;
        try {
          sb.release(file);
        } finally {
          this.unpin(of);
        }
      };
      try {
        const inner = sb.mmap(file);
        const mapped: MappableFile = {
          ownerId: inner.ownerId, label: inner.label, writable: inner.writable, vmOps: inner.vmOps,
          sync: (start, end, wait) => inner.sync(start, end, wait),
          ...(inner.willneed ? { willneed: (first: number, count: number) => inner.willneed!(first, count) } : {}),
          release: () => {
            try {
              inner.release?.();
            } finally {
              close();
            }
          },
        };
        return space.mmap({ ...request, file: mapped });
      } catch (e) {
        close();
        throw e;
      }
    });
  }

  /** Changes the permission bits of an open file. */
  fchmod(fd: number, mode: number): void {
    this.sys("fchmod", undefined, undefined, () => this.chmodNode(this.fileOf(fd), mode));
  }

  /** Changes the owner of an open file (-1 keeps a field). */
  fchown(fd: number, uid: number, gid: number): void {
    this.sys("fchown", undefined, undefined, () => this.chownNode(this.fileOf(fd), uid, gid));
  }

  /** Sets the access and modification times of an open file (nanoseconds since the epoch). */
  futimes(fd: number, atimeNs: number, mtimeNs: number): void {
    this.sys("futime", undefined, undefined, () => this.utimesNode(this.fileOf(fd), atimeNs, mtimeNs));
  }

  /** Open descriptors, ascending. */
  openDescriptors(): number[] {
    const open: number[] = [];
    this.fds.forEach((of, fd) => {
      if (of !== undefined) open.push(fd);
    });
    return open;
  }

  // ── Attributes ──────────────────────────────────────────────────────────────────────────────

  /** The attributes of a file, following a final symlink. */
  stat(path: string): FileStat {
    return this.sys("stat", path, undefined, () => this.statOf(this.resolve(path, true).node));
  }

  /** The attributes of a file, not following a final symlink. */
  lstat(path: string): FileStat {
    return this.sys("lstat", path, undefined, () => this.statOf(this.resolve(path, false).node));
  }

  /** Filesystem statistics of the mount holding `path`. */
  statfs(path: string): StatFs {
    return this.sys("statfs", path, undefined, () => this.resolve(path, true).node.mnt.sb.statfs());
  }

  /** Checks that the caller may access `path` as `mode` (F_OK, or R_OK | W_OK | X_OK). */
  access(path: string, mode = F_OK): void {
    this.sys("access", path, undefined, () => {
      if (!Number.isInteger(mode) || mode < 0 || mode > 7) throw fail("EINVAL", `access mode ${mode} is invalid`);
      const { node } = this.resolve(path, true);
      if (mode !== F_OK) this.require(node, this.attr(node), mode);
    });
  }

  /** Changes the permission bits (owner or root; EPERM otherwise). */
  chmod(path: string, mode: number): void {
    this.sys("chmod", path, undefined, () => this.chmodNode(this.resolve(path, true).node, mode));
  }

  /** Changes owner and group (-1 keeps one); `follow` false acts on a symlink itself (lchown). */
  chown(path: string, uid: number, gid: number, follow = true): void {
    this.sys(follow ? "chown" : "lchown", path, undefined, () => this.chownNode(this.resolve(path, follow).node, uid, gid));
  }

  /** Sets access and modification times (ns since the epoch); `follow` false acts on a symlink itself. */
  utimes(path: string, atimeNs: number, mtimeNs: number, follow = true): void {
    this.sys(follow ? "utime" : "lutime", path, undefined, () => this.utimesNode(this.resolve(path, follow).node, atimeNs, mtimeNs));
  }

  /** Sets the size of a regular file by path (truncate(2)). */
  truncate(path: string, length: number): void {
    this.sys("truncate", path, undefined, () => {
      const { node } = this.resolve(path, true);
      if (node.type === FileType.Directory) throw fail("EISDIR", "is a directory");
      if (node.type !== FileType.Regular) throw fail("EINVAL", "not a regular file");
      if (!Number.isSafeInteger(length) || length < 0) throw fail("EINVAL", `length ${length} is invalid`);
      this.require(node, this.attr(node), MAY_WRITE);
      node.mnt.sb.setattr(node.ino, { size: length });
    });
  }

  // ── Namespace ───────────────────────────────────────────────────────────────────────────────

  /** Creates a directory with `mode & ~umask`. */
  mkdir(path: string, mode = 0o777): void {
    this.sys("mkdir", path, undefined, () => {
      const last = this.parent(path, null, { links: 0 });
      if (last.kind !== Last.Normal) throw fail("EEXIST", "exists");
      if (this.lookupIn(last.dir, last.name, false) !== null) throw fail("EEXIST", "exists");
      this.createNode(last.dir, last.name, S_IFDIR | (mode & ~this.umask & 0o1777));
    });
  }

  /** Removes an empty directory. */
  rmdir(path: string): void {
    this.sys("rmdir", path, undefined, () => {
      const last = this.parent(path, null, { links: 0 });
      if (last.kind === Last.DotDot) throw fail("ENOTEMPTY", "\"..\" is not empty");
      if (last.kind === Last.Dot) throw fail("EINVAL", "cannot remove \".\"");
      if (last.kind === Last.Root) throw fail("EBUSY", "cannot remove the root");
      const node = this.lookupIn(last.dir, last.name, false);
      if (node === null) throw fail("ENOENT", "no such directory");
      if (node.type !== FileType.Directory) throw fail("ENOTDIR", "not a directory");
      if (this.covering.has(dirKey(node.mnt.id, node.ino))) throw fail("EBUSY", "a filesystem is mounted on it");
      this.mayDelete(last.dir, node);
      this.namespaceOp(last.dir, last.name, () => node.mnt.sb.rmdir(last.dir.ino, last.name));
      this.dcache.set(node.mnt.id, last.dir.ino, last.name, null);
      this.forgetDir(node);
      this.release(node, true);
    });
  }

  /** Removes a name of a non-directory; the inode goes when nothing has it open. */
  unlink(path: string): void {
    this.sys("unlink", path, undefined, () => {
      const last = this.parent(path, null, { links: 0 });
      if (last.kind !== Last.Normal) throw fail("EISDIR", "is a directory");
      const node = this.lookupIn(last.dir, last.name, false);
      if (node === null) throw fail("ENOENT", "no such file");
      if (node.type === FileType.Directory) throw fail("EISDIR", "is a directory");
      if (last.trailing) throw fail("ENOTDIR", "not a directory");
      this.mayDelete(last.dir, node);
      this.namespaceOp(last.dir, last.name, () => node.mnt.sb.unlink(last.dir.ino, last.name));
      this.dcache.set(node.mnt.id, last.dir.ino, last.name, null);
      this.release(node, false);
    });
  }

  /**
   * Renames (renameat2 with `flags` RENAME_NOREPLACE or RENAME_EXCHANGE): EXDEV across mounts,
   * EINVAL moving a directory under itself, ENOTEMPTY replacing an ancestor of the source, EBUSY
   * for ".", "..", "/" and mount points; renaming a name onto another name of the same inode
   * does nothing.
   */
  rename(oldPath: string, newPath: string, flags = 0): void {
    this.sys("rename", oldPath, newPath, () => {
      const budget = { links: 0 };
      const a = this.parent(oldPath, null, budget);
      const b = this.parent(newPath, null, budget);
      const exchange = (flags & RENAME_EXCHANGE) !== 0;
      if ((flags & ~(RENAME_EXCHANGE | RENAME_NOREPLACE)) !== 0 || (exchange && (flags & RENAME_NOREPLACE) !== 0)) throw fail("EINVAL", "invalid flags");
      if (a.kind !== Last.Normal) throw fail("EBUSY", "cannot rename \".\", \"..\" or \"/\"");
      if (b.kind !== Last.Normal) throw fail((flags & RENAME_NOREPLACE) !== 0 ? "EEXIST" : "EBUSY", "cannot replace \".\", \"..\" or \"/\"");
      if (a.dir.mnt !== b.dir.mnt) throw fail("EXDEV", "source and target are on different mounts");
      const src = this.lookupIn(a.dir, a.name, false);
      if (src === null) throw fail("ENOENT", "no such file");
      if (src.type !== FileType.Directory && (a.trailing || (b.trailing && !exchange))) throw fail("ENOTDIR", "not a directory");
      if (src.type === FileType.Directory && this.isAncestor(src, b.dir)) throw fail("EINVAL", "cannot move a directory into itself");
      const dst = this.lookupIn(b.dir, b.name, false);
      if (dst !== null && this.isAncestor(dst, a.dir)) throw fail("ENOTEMPTY", "the target is an ancestor of the source");
      if (dst === null && exchange) throw fail("ENOENT", "no target to exchange with");
      if (dst !== null && (flags & RENAME_NOREPLACE) !== 0) throw fail("EEXIST", "the target exists");
      if (dst !== null && dst.ino === src.ino) return;
      this.requireAlive(b.dir);
      if (dst !== null && !exchange) {
        if (src.type === FileType.Directory && dst.type !== FileType.Directory) throw fail("ENOTDIR", "cannot replace a non-directory with a directory");
        if (src.type !== FileType.Directory && dst.type === FileType.Directory) throw fail("EISDIR", "cannot replace a directory with a non-directory");
      }
      this.mayDelete(a.dir, src);
      if (dst !== null) this.mayDelete(b.dir, dst);
      else this.require(b.dir, this.attr(b.dir), MAY_WRITE | MAY_EXEC);
      for (const n of [src, dst]) if (n && this.covering.has(dirKey(n.mnt.id, n.ino))) throw fail("EBUSY", "a filesystem is mounted on it");
      if (a.dir.ino !== b.dir.ino) {
        if (src.type === FileType.Directory) this.require(src, this.attr(src), MAY_WRITE);
        if (exchange && dst!.type === FileType.Directory) this.require(dst!, this.attr(dst!), MAY_WRITE);
      }
      const sb = src.mnt.sb;
      try {
        sb.rename(a.dir.ino, a.name, b.dir.ino, b.name, flags);
      } catch (e) {
        this.dcache.invalidate(src.mnt.id, a.dir.ino, a.name);
        this.dcache.invalidate(src.mnt.id, b.dir.ino, b.name);
        throw e;
      }
      const id = src.mnt.id;
      this.dcache.set(id, b.dir.ino, b.name, { ino: src.ino, type: src.type });
      if (src.type === FileType.Directory) this.dirs.set(dirKey(id, src.ino), { parent: b.dir.ino, name: b.name });
      if (exchange) {
        this.dcache.set(id, a.dir.ino, a.name, { ino: dst!.ino, type: dst!.type });
        if (dst!.type === FileType.Directory) this.dirs.set(dirKey(id, dst!.ino), { parent: a.dir.ino, name: a.name });
      } else {
        this.dcache.set(id, a.dir.ino, a.name, null);
        if (dst !== null) {
          if (dst.type === FileType.Directory) this.forgetDir(dst);
          this.release(dst, dst.type === FileType.Directory);
        }
      }
    });
  }

  /** Adds a name `newPath` for the non-directory `existingPath` (not following a final symlink). */
  link(existingPath: string, newPath: string): void {
    this.sys("link", existingPath, newPath, () => {
      const budget = { links: 0 };
      const { node } = this.resolve(existingPath, false);
      if (node.type === FileType.Directory) throw fail("EPERM", "cannot link a directory");
      const b = this.parent(newPath, null, budget);
      if (b.kind !== Last.Normal) throw fail("EEXIST", "exists");
      if (this.lookupIn(b.dir, b.name, false) !== null) throw fail("EEXIST", "exists");
      if (b.trailing) throw fail("ENOENT", "a trailing slash names a directory, which link cannot create");
      if (node.mnt !== b.dir.mnt) throw fail("EXDEV", "source and target are on different mounts");
      this.requireAlive(b.dir);
      this.require(b.dir, this.attr(b.dir), MAY_WRITE | MAY_EXEC);
      this.namespaceOp(b.dir, b.name, () => node.mnt.sb.link(node.ino, b.dir.ino, b.name));
      this.dcache.set(node.mnt.id, b.dir.ino, b.name, { ino: node.ino, type: node.type });
    });
  }

  /** Creates a symbolic link at `path` whose contents are `target`. */
  symlink(target: string, path: string): void {
    this.sys("symlink", target, path, () => {
      if (target === "") throw fail("ENOENT", "empty target");
      checkPathString(target);
      const b = this.parent(path, null, { links: 0 });
      if (b.kind !== Last.Normal) throw fail("EEXIST", "exists");
      if (this.lookupIn(b.dir, b.name, false) !== null) throw fail("EEXIST", "exists");
      if (b.trailing) throw fail("ENOENT", "a trailing slash names a directory, which symlink cannot create");
      this.createNode(b.dir, b.name, S_IFLNK | 0o777, target);
    });
  }

  /** The contents of a symbolic link; EINVAL for anything else. */
  readlink(path: string): string {
    return this.sys("readlink", path, undefined, () => {
      const { node } = this.resolve(path, false);
      if (node.type !== FileType.Symlink) throw fail("EINVAL", "not a symbolic link");
      return node.mnt.sb.readlink(node.ino);
    });
  }

  /** The canonical absolute path: every symlink followed, no ".", ".." or extra slash. */
  realpath(path: string): string {
    return this.sys("realpath", path, undefined, () => this.pathOf(this.resolve(path, true)));
  }

  /** The entries of a directory (without "." and ".."), sorted by name bytes as libuv does. */
  readdir(path: string): {
    /** The entry's name. */
    name: string;
    /** The inode it links to. */
    ino: number;
    /** The inode's type. */
    type: FileType;
  }[] {
    return this.sys("scandir", path, undefined, () => {
      const { node } = this.resolve(path, true);
      if (node.type !== FileType.Directory) throw fail("ENOTDIR", "not a directory");
      this.require(node, this.attr(node), MAY_READ);
      const keyed = node.mnt.sb.readdir(node.ino).map((e) => ({ key: Buffer.from(e.name), entry: { name: e.name, ino: e.ino, type: e.type } }));
      return keyed.sort((x, y) => Buffer.compare(x.key, y.key)).map((k) => k.entry);
    });
  }

  // ── Caches ──────────────────────────────────────────────────────────────────────────────────

  /**
   * The shrinker hook: drops up to `n` unused dentries, least recently used first, and returns how
   * many went. Every dentry is unused (none pins an inode), so this never fails to free; it is the
   * scan_objects of the dcache shrinker the VFS registers with reclaim at construction.
   */
  shrinkCaches(n: number): number {
    return this.dcache.shrink(Math.max(0, Math.floor(n)));
  }

  /**
   * Evictions the filesystems failed since the VFS was created: `count` of them, and the latest
   * (at most 100, oldest first). A failed eviction is no system call's error: the inode is left to
   * the filesystem as an orphan, its blocks leaked until the filesystem frees it at unmount or
   * fsck reclaims it after a crash.
   */
  evictionFailures(): {
    /** Failed evictions since the VFS was created. */
    count: number;
    /** The latest, at most 100, oldest first. */
    recent: EvictionFailure[];
  } {
    return { count: this.evictionFailureCount, recent: [...this.recentEvictionFailures] };
  }

  /** Sizes and hit counts of the VFS caches. */
  cacheCounts(): {
    /** Dentries cached, positive and negative. */
    dentries: number;
    /** Of those, negative ones. */
    negativeDentries: number;
    /** Directories the VFS keeps nodes for (every directory a walk has reached and that still exists). */
    directories: number;
    /** Inodes pinned by open files (mappings included) and the working directory. */
    referencedInodes: number;
    /** Dentry lookups that found a positive entry. */
    hits: number;
    /** Dentry lookups that found a negative entry. */
    negativeHits: number;
    /** Dentry lookups that found nothing. */
    misses: number;
  } {
    return {
      dentries: this.dcache.size,
      negativeDentries: this.dcache.negatives,
      directories: this.dirs.size,
      referencedInodes: this.refs.size,
      ...this.dcache.stats,
    };
  }

  // ── The promise API's engine driving ────────────────────────────────────────────────────────

  /**
   * Runs `op` as an event of the machine's scheduler and settles the returned promise with its
   * result or error. The operation runs when the engine runs its events: a synchronous call that
   * waits, {@link runUntilIdle}, or the pump `defer` queues, so a plain `await` needs no one to
   * drive anything. Operations run in the engine's deterministic event order (by time, then the
   * seeded order of events due at the same instant), never at the call and never inside another
   * VFS call: an operation whose event runs while a call is in progress (an event run by that
   * call's wait for I/O) waits until the call has returned, so every VFS call is atomic with
   * respect to deferred ones.
   *
   * The pump is a microtask queued behind the current job (as memfs's promise API runs its
   * work), so an awaited call costs no trip through the host's event loop; it runs due events in
   * slices of `PUMP_SLICE` (1024). After `PUMP_SLICE` events run from microtasks, the next
   * pump goes through `setImmediate` instead, so a long chain of awaited calls cannot starve the
   * host's timers and I/O.
   */
  defer<T>(label: string, op: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pendingOps++;
      const run = () => {
        // Never inside another VFS call (whose wait for I/O ran this event): park it until that call ends.
        if (this.depth > 0) {
          this.parked.push({ label, run });
          return;
        }
        this.pendingOps--;
        try {
          resolve(op());
        } catch (e) {
          reject(e);
        }
      };
      this.machine.scheduler.after(0, eventLabel(label), run);
      this.pump();
    });
  }

  /** Promise-API operations scheduled and not yet run. */
  get pending(): number {
    return this.pendingOps;
  }

  /** Runs the engine until every scheduled promise-API operation has run (EDEADLK if it cannot). */
  runUntilIdle(): void {
    this.machine.scheduler.runDue();
    this.machine.scheduler.waitUntil(() => this.pendingOps === 0, "scheduled VFS operations");
  }

  /** Queues the pump unless it is queued already: as a microtask, or after a host turn once the microtask budget is spent. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    if (this.eventsSinceHostTurn < PUMP_SLICE) {
      // A reaction to a settled promise is a microtask, and a lighter one than Node's queueMicrotask.
      SETTLED.then(() => this.runPump());
    } else {
      setImmediate(() => {
        // The host's event loop has turned: the microtask budget starts again.
        this.eventsSinceHostTurn = 0;
        this.runPump();
      });
    }
  }

  /** One pump: runs a slice of due events, and queues the next pump while deferred operations remain. */
  private runPump(): void {
    this.pumping = false;
    this.eventsSinceHostTurn += this.machine.scheduler.runDue(PUMP_SLICE);
    if (this.pendingOps > 0) this.pump();
  }

  // ── Path walk ───────────────────────────────────────────────────────────────────────────────

  /** Runs a system call, giving any Folio error Node's shape for it. */
  private sys<T>(syscall: string, path: string | undefined, dest: string | undefined, fn: () => T): T {
    this.depth++;
    try {
      return fn();
    } catch (e) {
      throw asSyscallError(e, syscall, path, dest);
    } finally {
      this.leaveCall();
    }
  }

  /** Ends a system call: when the outermost one ends, deferred operations parked during it are scheduled again. */
  private leaveCall(): void {
    if (--this.depth === 0 && this.parked.length > 0) this.unpark();
  }

  /** Schedules the parked deferred operations again, in the order they were parked. */
  private unpark(): void {
    const parked = this.parked;
    this.parked = [];
    for (const p of parked) this.machine.scheduler.after(0, eventLabel(p.label), p.run);
    this.pump();
  }

  /** Resolves a whole path; `follow` says whether a final symlink is followed. */
  private resolve(path: string, follow: boolean): Found {
    const budget = { links: 0 };
    return this.finish(this.parent(path, null, budget), budget, follow);
  }

  /** Resolves all but the last component of `path`, relative paths from `start` (default: cwd). */
  private parent(path: string, start: Loc | null, budget: Budget): Parent {
    checkPathString(path);
    if (path === "") throw fail("ENOENT", "empty path");
    const absolute = path.startsWith("/");
    let cur: Loc = absolute ? this.root() : (start ?? this.cwdLoc ?? this.root());
    const parts = path.split("/").filter((p) => p.length > 0);
    if (parts.length === 0) return { dir: this.root(), name: "", kind: Last.Root, trailing: false };
    for (let i = 0; i < parts.length - 1; i++) cur = this.step(cur, parts[i]!, budget);
    const name = parts[parts.length - 1]!;
    const kind = name === "." ? Last.Dot : name === ".." ? Last.DotDot : Last.Normal;
    if (kind === Last.Normal) checkName(name);
    return { dir: cur, name, kind, trailing: path.endsWith("/") };
  }

  /** One intermediate component: the result must be a directory. */
  private step(cur: Loc, name: string, budget: Budget): Loc {
    if (name === "." || name === "..") {
      this.search(cur);
      return name === "." ? cur : this.up(cur);
    }
    checkName(name);
    const child = this.lookupIn(cur, name);
    if (child === null) throw fail("ENOENT", `"${name}" does not exist`);
    if (child.type === FileType.Symlink) return this.resolveFrom(this.readLinkOf(child, budget), cur, budget, true).node;
    if (child.type !== FileType.Directory) throw fail("ENOTDIR", `"${name}" is not a directory`);
    return child;
  }

  /** Resolves `path` from `start` as the target of a symlink: the result must be a directory when `dirOnly`. */
  private resolveFrom(path: string, start: Loc, budget: Budget, dirOnly: boolean): Found {
    const last = this.parent(path, start, budget);
    if (dirOnly) last.trailing = true;
    return this.finish(last, budget, true);
  }

  /** Resolves the last component. A trailing slash follows a final symlink and requires a directory. */
  private finish(last: Parent, budget: Budget, follow: boolean): Found {
    if (last.kind === Last.Root) return { node: { ...this.root(), type: FileType.Directory }, dir: null, name: "" };
    if (last.kind !== Last.Normal) {
      this.search(last.dir);
      const dir = last.kind === Last.Dot ? last.dir : this.up(last.dir);
      return { node: { ...dir, type: FileType.Directory }, dir: null, name: "" };
    }
    const node = this.lookupIn(last.dir, last.name);
    if (node === null) throw fail("ENOENT", `"${last.name}" does not exist`);
    if (node.type === FileType.Symlink && (follow || last.trailing)) {
      return this.resolveFrom(this.readLinkOf(node, budget), last.dir, budget, last.trailing);
    }
    if (last.trailing && node.type !== FileType.Directory) throw fail("ENOTDIR", `"${last.name}" is not a directory`);
    return { node, dir: last.dir, name: last.name };
  }

  /** Counts one symlink traversal (ELOOP past {@link MAXSYMLINKS}) and returns its target. */
  private readLinkOf(link: Node, budget: Budget): string {
    if (++budget.links > MAXSYMLINKS) throw fail("ELOOP", `more than ${MAXSYMLINKS} symbolic links`);
    return link.mnt.sb.readlink(link.ino);
  }

  /**
   * Looks `name` up in `dir` through the dentry cache, after checking search permission on `dir`.
   * Returns null if it does not exist. With `cross`, a mount point resolves to the root of what
   * is mounted on it.
   */
  private lookupIn(dir: Loc, name: string, cross = true): Node | null {
    this.search(dir);
    const mnt = dir.mnt;
    let d: Dentry | null | undefined = this.dcache.get(mnt.id, dir.ino, name);
    if (d === null) return null;
    if (d === undefined) {
      let ino: number;
      try {
        ino = mnt.sb.lookup(dir.ino, name);
      } catch (e) {
        if (!isFolioError(e, "ENOENT")) throw e;
        this.dcache.set(mnt.id, dir.ino, name, null);
        return null;
      }
      d = { ino, type: fileTypeOf(mnt.sb.getattr(ino).mode) };
      this.dcache.set(mnt.id, dir.ino, name, d);
    }
    if (d.type === FileType.Directory) this.dirs.set(dirKey(mnt.id, d.ino), { parent: dir.ino, name });
    const node = { mnt, ino: d.ino, type: d.type };
    return cross ? this.crossDown(node) : node;
  }

  /** Follows mounts covering `node` down to the topmost mounted root. */
  private crossDown(node: Node): Node {
    let m: Mount | undefined;
    while (node.type === FileType.Directory && (m = this.covering.get(dirKey(node.mnt.id, node.ino))) !== undefined) {
      node = { mnt: m, ino: m.sb.rootIno, type: FileType.Directory };
    }
    return node;
  }

  /** The root directory: the root of the topmost mount on "/". */
  private root(): Loc {
    if (this.rootMount === null) throw fail("ENOENT", "no filesystem is mounted");
    return this.crossDown({ mnt: this.rootMount, ino: this.rootMount.sb.rootIno, type: FileType.Directory });
  }

  /** ".." of a directory: across mount points upward, staying at the root. */
  private up(loc: Loc): Loc {
    const root = this.root();
    for (;;) {
      if (loc.mnt === root.mnt && loc.ino === root.ino) return loc;
      if (loc.ino !== loc.mnt.sb.rootIno) break;
      if (loc.mnt.parent === null) return root;
      loc = { mnt: loc.mnt.parent, ino: loc.mnt.mountpoint };
    }
    const entry = this.dirs.get(dirKey(loc.mnt.id, loc.ino));
    if (!entry) throw fail("ENOENT", "the directory was removed");
    return this.crossDown({ mnt: loc.mnt, ino: entry.parent, type: FileType.Directory });
  }

  /** True if directory `anc` is `loc` or one of its ancestors within the mount. */
  private isAncestor(anc: Loc, loc: Loc): boolean {
    if (anc.mnt !== loc.mnt) return false;
    let ino = loc.ino;
    for (;;) {
      if (ino === anc.ino) return true;
      if (ino === loc.mnt.sb.rootIno) return false;
      const entry = this.dirs.get(dirKey(loc.mnt.id, ino));
      if (!entry) return false;
      ino = entry.parent;
    }
  }

  /** The path of a directory, from the parent links of the directories above it. */
  private dirPath(loc: Loc): string {
    const names: string[] = [];
    const root = this.root();
    for (;;) {
      while (loc.ino === loc.mnt.sb.rootIno && loc.mnt.parent !== null && !(loc.mnt === root.mnt && loc.ino === root.ino)) {
        loc = { mnt: loc.mnt.parent, ino: loc.mnt.mountpoint };
      }
      if (loc.ino === loc.mnt.sb.rootIno && (loc.mnt.parent === null || loc.mnt === root.mnt)) break;
      const entry = this.dirs.get(dirKey(loc.mnt.id, loc.ino));
      if (!entry) throw fail("ENOENT", "the directory was removed");
      names.push(entry.name);
      loc = { mnt: loc.mnt, ino: entry.parent };
    }
    return "/" + names.reverse().join("/");
  }

  private pathOf(found: Found): string {
    if (found.node.type === FileType.Directory || found.dir === null) return this.dirPath(found.node);
    const dir = this.dirPath(found.dir);
    return dir === "/" ? `/${found.name}` : `${dir}/${found.name}`;
  }

  // ── Permissions ─────────────────────────────────────────────────────────────────────────────

  private attr(loc: Loc): InodeAttr {
    return loc.mnt.sb.getattr(loc.ino);
  }

  /**
   * Throws EACCES unless the caller may access the inode as `mask` (read 4, write 2, execute 1),
   * and EROFS for a write on a read-only mount. Root passes every check but execute of a file with
   * no execute bit (Linux's CAP_DAC_OVERRIDE).
   */
  private require(loc: Loc, attr: InodeAttr, mask: number): void {
    if ((mask & MAY_WRITE) !== 0 && loc.mnt.readOnly) throw fail("EROFS", "the filesystem is mounted read-only");
    const { uid } = this.creds;
    const isDir = (attr.mode & S_IFMT) === S_IFDIR;
    if (uid === 0) {
      if ((mask & MAY_EXEC) !== 0 && !isDir && (attr.mode & 0o111) === 0) throw fail("EACCES", "no execute bit is set");
      return;
    }
    const bits = uid === attr.uid ? attr.mode >> 6 : this.inGroup(attr.gid) ? attr.mode >> 3 : attr.mode;
    if ((bits & mask & 7) !== mask) throw fail("EACCES", "permission denied");
  }

  /** Requires search (execute) permission on a directory; root always has it, without a getattr. */
  private search(dir: Loc): void {
    if (this.creds.uid !== 0) this.require(dir, this.attr(dir), MAY_EXEC);
  }

  private inGroup(gid: number): boolean {
    return this.creds.gid === gid || (this.creds.groups?.includes(gid) ?? false);
  }

  /** May the caller remove `victim` from `dir`: write and search on `dir`, and the sticky-bit rule. */
  private mayDelete(dir: Loc, victim: Node): void {
    const dattr = this.attr(dir);
    this.require(dir, dattr, MAY_WRITE | MAY_EXEC);
    const uid = this.creds.uid;
    if ((dattr.mode & S_ISVTX) !== 0 && uid !== 0 && uid !== dattr.uid && uid !== this.attr(victim).uid) {
      throw fail("EPERM", "the directory is sticky and the caller owns neither it nor the file");
    }
  }

  private requireOwner(attr: InodeAttr): void {
    if (this.creds.uid !== 0 && this.creds.uid !== attr.uid) throw fail("EPERM", "only the owner may do this");
  }

  private chmodNode(loc: Loc, mode: number): void {
    const attr = this.attr(loc);
    this.requireOwner(attr);
    if (loc.mnt.readOnly) throw fail("EROFS", "the filesystem is mounted read-only");
    // POSIX chmod (and Linux's setattr_copy): without privilege, S_ISGID goes unless the caller is in the file's group.
    if (this.creds.uid !== 0 && !this.inGroup(attr.gid)) mode &= ~S_ISGID;
    loc.mnt.sb.setattr(loc.ino, { mode: (attr.mode & S_IFMT) | (mode & 0o7777) });
  }

  private chownNode(loc: Loc, uid: number, gid: number): void {
    const attr = this.attr(loc);
    const me = this.creds.uid;
    if (me !== 0) {
      if (me !== attr.uid || (uid !== -1 && uid !== attr.uid) || (gid !== -1 && gid !== attr.gid && !this.inGroup(gid))) {
        throw fail("EPERM", "only root may give files away");
      }
    }
    if (loc.mnt.readOnly) throw fail("EROFS", "the filesystem is mounted read-only");
    const set: SetAttr = {};
    if (uid !== -1) set.uid = uid;
    if (gid !== -1) set.gid = gid;
    // Linux's chown_common: on anything but a directory, chown (even by root, even of nothing)
    // clears S_ISUID, and S_ISGID when group execute is set (without it, S_ISGID marks locking).
    if ((attr.mode & S_IFMT) !== S_IFDIR) {
      let mode = attr.mode & ~S_ISUID;
      if ((mode & (S_ISGID | 0o010)) === (S_ISGID | 0o010)) mode &= ~S_ISGID;
      if (mode !== attr.mode) set.mode = mode;
    }
    if (Object.keys(set).length > 0) loc.mnt.sb.setattr(loc.ino, set);
  }

  private utimesNode(loc: Loc, atimeNs: number, mtimeNs: number): void {
    this.requireOwner(this.attr(loc));
    if (loc.mnt.readOnly) throw fail("EROFS", "the filesystem is mounted read-only");
    loc.mnt.sb.setattr(loc.ino, { atimeNs, mtimeNs });
  }

  // ── Inodes, references, descriptors ──────────────────────────────────────────────────────────

  /**
   * Creates a file (S_IFREG), directory (S_IFDIR) or symlink (S_IFLNK, with `target`) named
   * `name` in `dir`, owned by the caller (group from a set-group-ID directory), and caches it.
   */
  private createNode(dir: Loc, name: string, mode: number, target = ""): Node {
    this.requireAlive(dir);
    const dattr = this.attr(dir);
    this.require(dir, dattr, MAY_WRITE | MAY_EXEC);
    const sb = dir.mnt.sb;
    const type = fileTypeOf(mode);
    const ino = this.namespaceOp(dir, name, () =>
      type === FileType.Directory ? sb.mkdir(dir.ino, name, mode) : type === FileType.Symlink ? sb.symlink(dir.ino, name, target) : sb.create(dir.ino, name, mode),
    );
    const setgid = (dattr.mode & S_ISGID) !== 0;
    const gid = setgid ? dattr.gid : this.creds.gid;
    const attr = sb.getattr(ino);
    const set: SetAttr = {};
    if (attr.uid !== this.creds.uid) set.uid = this.creds.uid;
    if (attr.gid !== gid) set.gid = gid;
    if (setgid && type === FileType.Directory && (attr.mode & S_ISGID) === 0) set.mode = attr.mode | S_ISGID;
    if (Object.keys(set).length > 0) sb.setattr(ino, set);
    this.dcache.set(dir.mnt.id, dir.ino, name, { ino, type });
    if (type === FileType.Directory) this.dirs.set(dirKey(dir.mnt.id, ino), { parent: dir.ino, name });
    return { mnt: dir.mnt, ino, type };
  }

  /** Runs a namespace change of `name` in `dir`; if the filesystem fails, the name's dentry is dropped. */
  private namespaceOp<T>(dir: Loc, name: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      this.dcache.invalidate(dir.mnt.id, dir.ino, name);
      throw e;
    }
  }

  /** Nothing may be created in a directory that was removed while still referenced (Linux's IS_DEADDIR). */
  private requireAlive(dir: Loc): void {
    if (this.orphans.has(dirKey(dir.mnt.id, dir.ino))) throw fail("ENOENT", "the directory was removed");
  }

  /** Forgets a removed directory: its cached names and its parent link. */
  private forgetDir(dir: Loc): void {
    this.dcache.dropDir(dir.mnt.id, dir.ino);
    this.dirs.delete(dirKey(dir.mnt.id, dir.ino));
  }

  /**
   * An inode lost a name. If nothing references it and it has no links left (or it is a removed
   * directory), the filesystem evicts it now; if it is referenced, when the last reference goes.
   */
  private release(loc: Loc, removedDir: boolean): void {
    const key = dirKey(loc.mnt.id, loc.ino);
    if (this.refs.has(key)) {
      this.orphans.add(key);
      return;
    }
    this.evictIfGone(loc, removedDir);
  }

  private pin(loc: Loc): void {
    const key = dirKey(loc.mnt.id, loc.ino);
    this.refs.set(key, (this.refs.get(key) ?? 0) + 1);
  }

  private unpin(loc: Loc): void {
    const key = dirKey(loc.mnt.id, loc.ino);
    const n = (this.refs.get(key) ?? 0) - 1;
    if (n > 0) {
      this.refs.set(key, n);
      return;
    }
    this.refs.delete(key);
    if (this.orphans.delete(key)) this.evictIfGone(loc, false);
  }

  /**
   * The last name or the last reference of an inode went: the filesystem evicts it if it has no
   * links left or is a removed directory (Linux's iput → evict). The system call that got here
   * has already done what it was asked (the name is gone, the descriptor closed), so a failure of
   * the filesystem here (EIO or ENOMEM while freeing the blocks) is not that call's error, as
   * Linux reports nothing from evict: it is recorded in {@link evictionFailures}, and the inode
   * stays with the filesystem as an orphan — no name, no reference, its blocks still allocated
   * (leaked, never reused while it holds them) — until the filesystem frees it (fs-simple and
   * fs-log free unlinked inodes at unmount) or fsck reclaims it after a crash. Errors that are not
   * Folio errors (bugs) propagate.
   */
  private evictIfGone(loc: Loc, removedDir: boolean): void {
    const sb = loc.mnt.sb;
    try {
      if (!removedDir) {
        const attr = sb.getattr(loc.ino);
        if (attr.nlink !== 0 && (attr.mode & S_IFMT) !== S_IFDIR) return;
      }
      sb.evictInode(loc.ino);
    } catch (e) {
      if (!isFolioError(e)) throw e;
      this.evictionFailureCount++;
      if (this.recentEvictionFailures.length === MAX_EVICTION_FAILURES_KEPT) this.recentEvictionFailures.shift();
      this.recentEvictionFailures.push({ dev: loc.mnt.id, ino: loc.ino, error: e });
    }
  }

  private installFd(of: OpenFile): number {
    let fd = 3;
    while (this.fds[fd] !== undefined) fd++;
    this.fds[fd] = of;
    this.nrOpenFds++;
    of.mnt.openFiles++;
    this.pin(of);
    return fd;
  }

  private fileOf(fd: number): OpenFile {
    const of = Number.isInteger(fd) && fd >= 0 ? this.fds[fd] : undefined;
    if (of === undefined) throw fail("EBADF", `descriptor ${fd} is not open`);
    return of;
  }

  private statOf(loc: Loc): FileStat {
    const a = loc.mnt.sb.getattr(loc.ino);
    // Field by field rather than a spread: one object of one shape, whatever the filesystem returns.
    return {
      ino: a.ino, mode: a.mode, nlink: a.nlink, uid: a.uid, gid: a.gid, size: a.size, blocks: a.blocks,
      atimeNs: a.atimeNs, mtimeNs: a.mtimeNs, ctimeNs: a.ctimeNs, birthtimeNs: a.birthtimeNs,
      dev: loc.mnt.id, rdev: 0, blksize: BLKSIZE,
    };
  }

  private mountInfo(m: Mount): MountInfo {
    const path = m.parent === null ? "/" : this.dirPathSafe({ mnt: m.parent, ino: m.mountpoint });
    return { path, type: m.type, dev: m.id, readOnly: m.readOnly, options: { ...m.options } };
  }

  private dirPathSafe(loc: Loc): string {
    try {
      return this.dirPath(loc);
    } catch {
      return "(unreachable)";
    }
  }
}

/** A settled promise: its reactions are how the pump queues itself as a microtask. */
const SETTLED = Promise.resolve();

/** Scheduler event labels of deferred operations ("vfs read"), made once per operation name. */
const EVENT_LABELS = new Map<string, string>();

function eventLabel(op: string): string {
  let label = EVENT_LABELS.get(op);
  if (label === undefined) EVENT_LABELS.set(op, (label = `vfs ${op}`));
  return label;
}

/** Rejects what cannot be a path: NUL bytes (EINVAL) and paths of PATH_MAX bytes or more. */
function checkPathString(path: string): void {
  if (typeof path !== "string") throw fail("EINVAL", "a path must be a string");
  if (path.includes("\0")) throw fail("EINVAL", "a path cannot contain NUL bytes");
  if (path.length >= PATH_MAX / 4 && Buffer.byteLength(path) >= PATH_MAX) throw fail("ENAMETOOLONG", `path is ${Buffer.byteLength(path)} bytes`);
}

/** Rejects a path component longer than NAME_MAX bytes. */
function checkName(name: string): void {
  if (name.length > NAME_MAX / 4 && Buffer.byteLength(name) > NAME_MAX) throw fail("ENAMETOOLONG", `"${name.slice(0, 16)}…" is longer than ${NAME_MAX} bytes`);
}

