import type { Machine, MappableFile, Scheduler } from "@folio/core";
import type { BlockDevice, CachedFile, WritebackControl } from "@folio/pagecache";
import type { DirEntry, FsckReport, InodeAttr, SetAttr, StatFs } from "./types.js";

/**
 * An open file as a filesystem sees it: the page cache's per-file state (mapping, readahead,
 * error cursor) plus the inode and the open flags. The VFS keeps one per open file description
 * and passes it to every file operation; a filesystem makes it in {@link FileOperations.open}.
 */
export interface FsFile extends CachedFile {
  /** The inode this file was opened on. */
  readonly ino: number;
  /**
   * The open flags (O_ACCMODE bits, O_APPEND, …) as the VFS checked them; O_CREAT, O_EXCL and
   * O_TRUNC have already been applied.
   */
  readonly flags: number;
}

/**
 * Superblock operations: the filesystem as a whole (Linux's super_operations plus fill_super).
 * Called by the VFS, and `writebackInodes` by the writeback flusher.
 */
export interface SuperOperations {
  /** Inode number of the root directory. */
  readonly rootIno: number;
  /**
   * Reads the filesystem from its device and makes it ready (fill_super). Called once, right
   * after construction. Throws EINVAL for an image that is not this filesystem (bad magic),
   * EUCLEAN for a corrupted one, ENOSYS for a newer on-disk version — never crashes or loops.
   */
  mount(): void;
  /** Space and inode counts (statfs). */
  statfs(): StatFs;
  /** Makes everything written so far durable: data, metadata, then a device flush (syncfs). */
  sync(): void;
  /** Writes everything back and detaches from the device; the object is dead afterwards. */
  unmount(): void;
  /**
   * The superblock-level writeback entry the flusher calls (writeback_sb_inodes): write dirty
   * data as `wbc` asks, using the filesystem's own writepages; return the pages submitted. This
   * is how shared code reaches the filesystem's data callbacks without holding them.
   */
  writebackInodes(wbc: WritebackControl): number;
  /**
   * The VFS dropped its last reference to an inode (evict_inode): its cached pages can go, and,
   * if it has no links left, its blocks are freed.
   */
  evictInode(ino: number): void;
}

/**
 * Inode operations: the namespace (Linux's inode_operations). Directory arguments are inode
 * numbers the VFS has already checked are directories; names are single path components the VFS
 * has already validated (not empty, no "/" or NUL, at most NAME_MAX bytes, not "." or ".."). Each
 * operation updates the times and link counts it affects, and throws with Node's codes:
 * ENOENT, EEXIST, ENOTEMPTY, ENOSPC, EMLINK, EIO…, leaving nothing half done.
 */
export interface InodeOperations {
  /** The attributes of inode `ino`; throws ENOENT for an inode that does not exist. */
  getattr(ino: number): InodeAttr;
  /** Changes attributes; a `size` change truncates or extends the file through the page cache. */
  setattr(ino: number, attr: SetAttr): void;
  /** The inode named `name` in directory `dir`; throws ENOENT if there is none. */
  lookup(dir: number, name: string): number;
  /** Creates a regular file; throws EEXIST if the name is taken. Returns its inode number. */
  create(dir: number, name: string, mode: number): number;
  /**
   * Creates a directory with "." and ".." accounted in the link counts; throws EEXIST if the name
   * is taken. Returns its inode number.
   */
  mkdir(dir: number, name: string, mode: number): number;
  /** Removes a name of a non-directory; the inode lives on while open (evictInode frees it). */
  unlink(dir: number, name: string): void;
  /** Removes an empty directory; ENOTEMPTY otherwise. */
  rmdir(dir: number, name: string): void;
  /**
   * Renames atomically (renameat2). With RENAME_NOREPLACE an existing target is EEXIST; with
   * RENAME_EXCHANGE both must exist and swap. Otherwise an existing target is replaced: a file by
   * a file, an empty directory by a directory (ENOTEMPTY, EISDIR, ENOTDIR as POSIX says). The VFS
   * has already refused moving a directory into itself (EINVAL).
   */
  rename(oldDir: number, oldName: string, newDir: number, newName: string, flags: number): void;
  /** Adds a name for a non-directory inode. */
  link(ino: number, dir: number, name: string): void;
  /**
   * Creates a symbolic link to `target` (stored as given, not resolved); throws EEXIST if the name
   * is taken, ENAMETOOLONG for a target longer than the filesystem keeps. Returns its inode number.
   */
  symlink(dir: number, name: string, target: string): number;
  /** The target of symlink `ino`; throws EINVAL if the inode is not a symlink. */
  readlink(ino: number): string;
  /** The entries of a directory, without "." and "..", in the filesystem's own order. */
  readdir(dir: number): DirEntry[];
}

/**
 * File operations: the data path (Linux's file_operations). Each one calls the filemap helpers of
 * @folio/pagecache with the filesystem's own data callbacks (readFolio, writeBegin, writeEnd,
 * writepages): those callbacks are arguments of the helper calls, never fields of a mapping,
 * inode or superblock.
 */
export interface FileOperations {
  /** Opens an inode (permissions and flags already checked by the VFS); O_TRUNC is applied by the VFS via setattr. */
  open(ino: number, flags: number): FsFile;
  /** Reads up to `length` bytes at `pos` into `buf[offset…]`; returns bytes read (0 at EOF). */
  read(file: FsFile, pos: number, buf: Uint8Array, offset: number, length: number): number;
  /** Writes `length` bytes from `buf[offset…]` at `pos`; returns bytes written. ENOSPC when full. */
  write(file: FsFile, pos: number, buf: Uint8Array, offset: number, length: number): number;
  /**
   * Makes the file durable as the filesystem's persistence model says: its data and inode
   * (`datasync`: only what is needed to read the data back). Throws EIO once for each writeback
   * error this open file has not seen.
   */
  fsync(file: FsFile, datasync: boolean): void;
  /** The last descriptor of this open file was closed. */
  release(file: FsFile): void;
  /**
   * Optional (file_operations.mmap): the file is being mapped into an address space. Returns the
   * {@link MappableFile} whose fault handlers serve the mapping — normally the page cache's
   * `filemapMmap` with the filesystem's own read, writepages and page_mkwrite callbacks, which are
   * the one kind of callback allowed to outlive the call (a fault comes long after mmap). The VFS
   * has checked the open mode, and keeps `file` open until the mapping's last VMA is gone (it then
   * calls `release(file)`). Without this
   * entry point the VFS refuses to map the filesystem's files (ENODEV). Throws EACCES for a file
   * that cannot be mapped.
   */
  mmap?(file: FsFile): MappableFile;
}

/** Everything a mounted filesystem implements. */
export interface SuperBlock extends SuperOperations, InodeOperations, FileOperations {}

/** Options of a mount; filesystems may read their own keys. */
export interface MountOptions {
  /**
   * Mounted read-only: every change throws EROFS and nothing is written to the device (not even the
   * mount time).
   */
  readOnly?: boolean;
  [key: string]: unknown;
}

/** What mkfs and fsck get: a device and the engine that completes its I/O. */
export interface DeviceContext {
  /** The device holding (or to hold) the filesystem. */
  device: BlockDevice;
  /** The scheduler whose events complete the device's I/O: mkfs and fsck wait on it. */
  scheduler: Scheduler;
  /** The machine whose memory backs the I/O buffers and page cache they use. */
  machine: Machine;
}

/**
 * A filesystem type (Linux's file_system_type): a class whose instances are superblocks,
 * constructed by DI (it gets the page cache, the machine, its block device and mount options
 * through its constructor), plus static mkfs and fsck that work on an unmounted device.
 */
export interface FileSystemClass {
  /**
   * Constructed by the VFS through DI for each mount, in a child container of the machine that
   * registers {@link FS_TOKENS} (device, options); the constructor reads the superblock and throws
   * (EUCLEAN, EINVAL, ENOSYS) for a device it cannot mount.
   */
  new (...args: never[]): SuperBlock;
  /** Writes an empty filesystem to the device. */
  mkfs?(ctx: DeviceContext, options?: Record<string, unknown>): void;
  /** Checks an unmounted device, repairing what is safe when `repair`; never writes otherwise. */
  fsck?(ctx: DeviceContext, options: { repair: boolean }): FsckReport;
  /** True when the filesystem needs a block device (ramfs-like ones do not). */
  readonly needsDevice?: boolean;
  /**
   * Whether `head`, the first {@link PROBE_BYTES} bytes of a device (fewer if the device is
   * smaller), holds this filesystem, as blkid probes superblocks: 2 when its primary superblock is
   * there, 1 when only a backup copy is (the primary may be damaged), 0 when neither is. Lets an
   * image be opened without naming its type ({@link probeFilesystem}). Reads nothing else and never
   * throws.
   */
  probe?(head: Uint8Array): 0 | 1 | 2;
}

/** Bytes from the start of a device that {@link FileSystemClass.probe} looks at: a superblock and a backup in the next 4 KiB block. */
export const PROBE_BYTES = 8192;
