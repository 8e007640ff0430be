/**
 * flatfs, the tutorial's filesystem on a block device (docs/TUTORIAL.md, step 5): one directory
 * of at most 32 regular files, each given a fixed extent of the device for its data when it is
 * created. File data moves between the device and the page cache only through the filemap
 * helpers, to which flatfs hands its own readFolio, writeBegin/writeEnd and writepages on each
 * call.
 *
 * Persistence: the table of files is written only by sync, fsync (which syncs the whole
 * filesystem) and unmount — after the data of every file, before a device flush — so after a
 * crash the filesystem is what the last completed sync left. Two rules keep the table from ever
 * pointing at data that was not written: a file has no holes (growing it writes zeros through the
 * page cache), and a slot freed since the last sync is not given to a new file before the next
 * one.
 */
import "reflect-metadata";
import { inject } from "tsyringe";
import { FolioFlag, TOKENS, fail, type Machine } from "@folio/core";
import {
  PAGECACHE_TOKENS, SyncBlockIo, fileWriteAndWaitRange, filemapRead, finishRead, genericWriteEnd, grabFolioForWrite, openCachedFile,
  performWrite, syncMappings, truncateInodePages, truncateSetSize, writeCachePages, writebackMappings, zeroFolioRange,
  type BlockDevice, type CachedFile, type Flusher, type Mapping, type PageCache, type ReadCallbacks, type WriteCallbacks,
  type WritebackControl, type Writepages,
} from "@folio/pagecache";
import {
  FS_TOKENS, FileType, RENAME_EXCHANGE, RENAME_NOREPLACE, S_IFDIR, S_IFREG, filesystem,
  type DeviceContext, type DirEntry, type FsFile, type InodeAttr, type SetAttr, type StatFs, type SuperBlock,
} from "@folio/fs-api";

// #region layout
/*
 * block 0          superblock: magic, version, number of slots, blocks per extent
 * block 1          the table: one 128-byte entry per slot, free when its name is empty
 * block 2 + s × E  the extent of slot s: E blocks, byte `pos` of the file in block pos / 4096
 */
/** Bytes per block: one page, so that a small folio of a file is exactly one block. */
const BLOCK = 4096;
const MAGIC = 0x54414c46; // "FLAT"
const VERSION = 1;
const SUPER_BLOCK = 0;
const TABLE_BLOCK = 1;
const FIRST_EXTENT = 2;
const ENTRY_SIZE = 128;
/** Most files a flatfs holds: the entries one table block has room for. */
export const MAX_SLOTS = BLOCK / ENTRY_SIZE;
/** Longest name in bytes of UTF-8: an entry's room after its 48 bytes of attributes. */
export const FLAT_NAME_MAX = ENTRY_SIZE - 48;
/** Blocks per extent when mkfs is not told otherwise: files of up to 1 MiB. */
export const DEFAULT_EXTENT_BLOCKS = 256;
/** The root directory; a file's inode number is its slot + 2. */
const ROOT_INO = 1;
// #endregion layout

/** A table entry: a file's name and attributes (its size included). */
interface Entry {
  name: string;
  /** Permission bits (the type is always a regular file). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  atimeNs: number;
  mtimeNs: number;
  ctimeNs: number;
}

/** A file in memory: its entry (the size lives in the mapping), its links, and its page cache. */
interface FlatInode extends Omit<Entry, "size"> {
  readonly ino: number;
  readonly slot: number;
  /** 1 while the file has its name, 0 once unlinked (it lives on while open). */
  nlink: number;
  readonly mapping: Mapping;
}

/** Writes `entry` (or a free entry, for null) into slot `slot` of a table block. */
function encodeEntry(table: Uint8Array, slot: number, entry: Entry | null): void {
  const at = slot * ENTRY_SIZE;
  table.fill(0, at, at + ENTRY_SIZE);
  if (entry === null) return;
  const v = new DataView(table.buffer, table.byteOffset + at, ENTRY_SIZE);
  const name = Buffer.from(entry.name);
  v.setUint8(0, name.length);
  v.setUint16(2, entry.mode & 0o7777, true);
  v.setUint32(4, entry.uid, true);
  v.setUint32(8, entry.gid, true);
  v.setFloat64(16, entry.size, true);
  v.setFloat64(24, entry.atimeNs, true);
  v.setFloat64(32, entry.mtimeNs, true);
  v.setFloat64(40, entry.ctimeNs, true);
  table.set(name, at + 48);
}

/** The entry in slot `slot` of a table block, null when free; EUCLEAN for one no mkfs or sync wrote. */
function decodeEntry(table: Uint8Array, slot: number, maxSize: number): Entry | null {
  const at = slot * ENTRY_SIZE;
  const v = new DataView(table.buffer, table.byteOffset + at, ENTRY_SIZE);
  const length = v.getUint8(0);
  if (length === 0) return null;
  const name = Buffer.from(table.subarray(at + 48, at + 48 + length)).toString("utf8");
  const size = v.getFloat64(16, true);
  if (length > FLAT_NAME_MAX || /[/\0]/.test(name) || !Number.isSafeInteger(size) || size < 0 || size > maxSize) {
    throw fail("EUCLEAN", `table entry ${slot} is corrupted`);
  }
  return {
    name, mode: v.getUint16(2, true), uid: v.getUint32(4, true), gid: v.getUint32(8, true), size,
    atimeNs: v.getFloat64(24, true), mtimeNs: v.getFloat64(32, true), ctimeNs: v.getFloat64(40, true),
  };
}

/** A page of zeros: the source of the writes that grow a file (flatfs has no holes). */
const ZEROS = new Uint8Array(BLOCK);

// #region class
/** A flat filesystem on a block device: `FlatFs.mkfs(ctx)`, then `vfs.mount("/", "flat", { device })`. */
@filesystem("flat")
export class FlatFs implements SuperBlock {
  /** flatfs keeps its files on a block device. */
  static readonly needsDevice = true;
  readonly rootIno = ROOT_INO;
  /** Files by slot; undefined where a slot is free. */
  private slots: (FlatInode | undefined)[] = [];
  /** Files by name: the one directory. */
  private readonly names = new Map<string, FlatInode>();
  /** Slots freed since the last sync: the table on disk still names a file there, so they wait for the next. */
  private readonly freedSinceSync = new Set<number>();
  private extentBlocks = 0;
  /** Data writes that failed; a sync that sees one leaves the table as it was. */
  private writeErrors = 0;
  private rootTimeNs = 0;
  private readonly io: SyncBlockIo;

  constructor(
    @inject(TOKENS.Machine) private readonly machine: Machine,
    @inject(PAGECACHE_TOKENS.PageCache) private readonly cache: PageCache,
    @inject(PAGECACHE_TOKENS.Flusher) private readonly flusher: Flusher,
    @inject(FS_TOKENS.BlockDevice) private readonly device: BlockDevice,
  ) {
    this.io = new SyncBlockIo(device, machine.scheduler); // waits for each request: for the table and superblock
  }
  // #endregion class

  // #region mkfs
  /**
   * Writes an empty flatfs: as many slots as fit (at most 32) with extents of `extentBlocks`
   * blocks. EINVAL for a device whose blocks are not 4 KiB or a bad `extentBlocks`, ENOSPC for a
   * device too small for one extent, EIO when the device fails.
   */
  static mkfs(ctx: DeviceContext, options: { extentBlocks?: number } = {}): void {
    const extentBlocks = options.extentBlocks ?? DEFAULT_EXTENT_BLOCKS;
    if (!Number.isSafeInteger(extentBlocks) || extentBlocks < 1) throw fail("EINVAL", `extentBlocks ${extentBlocks} must be a whole number ≥ 1`);
    const io = new SyncBlockIo(ctx.device, ctx.scheduler, BLOCK, "flatfs");
    const slots = Math.min(MAX_SLOTS, Math.floor((ctx.device.nrBlocks - FIRST_EXTENT) / extentBlocks));
    if (slots < 1) throw fail("ENOSPC", `${ctx.device.name} has ${ctx.device.nrBlocks} blocks, too few for one extent of ${extentBlocks}`);
    const sb = new Uint8Array(BLOCK);
    const v = new DataView(sb.buffer);
    v.setUint32(0, MAGIC, true);
    v.setUint32(4, VERSION, true);
    v.setUint32(8, slots, true);
    v.setUint32(12, extentBlocks, true);
    io.write(TABLE_BLOCK, new Uint8Array(BLOCK)); // the empty table before the magic that makes it a flatfs
    io.flush();
    io.write(SUPER_BLOCK, sb);
    io.flush();
  }

  /** Reads the superblock and the table. EINVAL: not a flatfs; ENOSYS: another version; EUCLEAN: corrupted. */
  mount(): void {
    if (this.device.blockSize !== BLOCK) throw fail("EINVAL", `${this.device.name} has ${this.device.blockSize}-byte blocks; flatfs needs ${BLOCK}`);
    const sb = new DataView(this.io.read(SUPER_BLOCK).buffer);
    if (sb.getUint32(0, true) !== MAGIC) throw fail("EINVAL", `${this.device.name} holds no flatfs`);
    if (sb.getUint32(4, true) !== VERSION) throw fail("ENOSYS", `${this.device.name} holds flatfs version ${sb.getUint32(4, true)}, not ${VERSION}`);
    const [nrSlots, extentBlocks] = [sb.getUint32(8, true), sb.getUint32(12, true)];
    if (nrSlots < 1 || nrSlots > MAX_SLOTS || extentBlocks < 1 || FIRST_EXTENT + nrSlots * extentBlocks > this.device.nrBlocks) {
      throw fail("EUCLEAN", `${this.device.name}: the superblock's ${nrSlots} extents of ${extentBlocks} blocks do not fit the device`);
    }
    // Every entry is checked before anything is made, so a failed mount leaves nothing behind.
    const table = this.io.read(TABLE_BLOCK);
    const entries = Array.from({ length: nrSlots }, (_, slot) => decodeEntry(table, slot, extentBlocks * BLOCK));
    const seen = new Set<string>();
    for (const e of entries) {
      if (e && seen.has(e.name)) throw fail("EUCLEAN", `${this.device.name}: two files are named "${e.name}"`);
      if (e) seen.add(e.name);
    }
    this.extentBlocks = extentBlocks;
    this.slots = entries.map((e, slot) => (e ? this.addInode(slot, e) : undefined));
    this.rootTimeNs = this.now();
  }
  // #endregion mkfs

  statfs(): StatFs {
    const free = this.slots.filter((inode) => inode === undefined).length;
    const blocks = this.slots.length * this.extentBlocks;
    return { bsize: BLOCK, blocks, bfree: free * this.extentBlocks, bavail: free * this.extentBlocks, files: this.slots.length, ffree: free, namelen: FLAT_NAME_MAX };
  }

  /** Writes everything back (sync), then forgets every file. The VFS has closed them all. */
  unmount(): void {
    this.sync(); // throws before anything is torn down: the filesystem stays mounted and usable
    for (const inode of this.slots) if (inode) this.dropInode(inode);
    this.slots = [];
    this.names.clear();
  }

  /** A file with no name left and no open file is gone: its cache now, its slot after the next sync. */
  evictInode(ino: number): void {
    const inode = this.slots[ino - 2];
    if (inode === undefined || inode.nlink > 0) return; // still named: its data stays, in the cache and on disk
    this.dropInode(inode);
    this.slots[inode.slot] = undefined;
    this.freedSinceSync.add(inode.slot);
  }

  // ── The namespace: one directory, in memory until the next sync ──

  getattr(ino: number): InodeAttr {
    if (ino === ROOT_INO) {
      const t = this.rootTimeNs;
      return { ino, mode: S_IFDIR | 0o755, nlink: 2, uid: 0, gid: 0, size: BLOCK, blocks: BLOCK / 512, atimeNs: t, mtimeNs: t, ctimeNs: t, birthtimeNs: t };
    }
    const i = this.inode(ino);
    const size = i.mapping.host.size;
    // No birth time is kept (as in ext2): 0.
    return { ino, mode: S_IFREG | i.mode, nlink: i.nlink, uid: i.uid, gid: i.gid, size, blocks: Math.ceil(size / BLOCK) * (BLOCK / 512), atimeNs: i.atimeNs, mtimeNs: i.mtimeNs, ctimeNs: i.ctimeNs, birthtimeNs: 0 };
  }

  setattr(ino: number, attr: SetAttr): void {
    if (ino === ROOT_INO) throw fail("EPERM", "the root directory of flatfs keeps no attributes of its own");
    const inode = this.inode(ino);
    if (attr.size !== undefined) this.resize(inode, attr.size); // the only step that can fail: first
    if (attr.size !== undefined) inode.mtimeNs = this.now();
    if (attr.mode !== undefined) inode.mode = attr.mode & 0o7777;
    for (const k of ["uid", "gid", "atimeNs", "mtimeNs"] as const) if (attr[k] !== undefined) inode[k] = attr[k];
    inode.ctimeNs = this.now();
  }

  lookup(_dir: number, name: string): number {
    return this.named(name).ino;
  }

  create(_dir: number, name: string, mode: number): number {
    if (Buffer.byteLength(name) > FLAT_NAME_MAX) throw fail("ENAMETOOLONG", `flatfs names are at most ${FLAT_NAME_MAX} bytes`);
    if (this.names.has(name)) throw fail("EEXIST", `"${name}" exists`);
    let slot = this.slots.findIndex((inode, s) => inode === undefined && !this.freedSinceSync.has(s));
    if (slot < 0 && this.freedSinceSync.size > 0) {
      this.sync(); // writes a table in which the freed slots are free: now they may be reused
      slot = this.slots.findIndex((inode) => inode === undefined);
    }
    if (slot < 0) throw fail("ENOSPC", `all ${this.slots.length} files of ${this.device.name} are in use`);
    const t = this.now();
    const inode = this.addInode(slot, { name, mode: mode & 0o7777, uid: 0, gid: 0, size: 0, atimeNs: t, mtimeNs: t, ctimeNs: t });
    this.slots[slot] = inode;
    this.rootTimeNs = t;
    return inode.ino;
  }

  unlink(_dir: number, name: string): void {
    const inode = this.named(name);
    this.names.delete(name);
    inode.nlink = 0; // the VFS evicts it when nothing has it open
    inode.ctimeNs = this.rootTimeNs = this.now();
  }

  rename(_oldDir: number, oldName: string, _newDir: number, newName: string, flags: number): void {
    if (flags & RENAME_EXCHANGE) throw fail("EINVAL", "flatfs does not implement RENAME_EXCHANGE");
    if (Buffer.byteLength(newName) > FLAT_NAME_MAX) throw fail("ENAMETOOLONG", `flatfs names are at most ${FLAT_NAME_MAX} bytes`);
    const inode = this.named(oldName);
    const target = this.names.get(newName);
    if (target === inode) return;
    if (target !== undefined && flags & RENAME_NOREPLACE) throw fail("EEXIST", `"${newName}" exists`);
    const t = this.now();
    if (target !== undefined) [target.nlink, target.ctimeNs] = [0, t]; // replaced: evicted once unused
    this.names.delete(oldName);
    this.names.set(newName, inode);
    inode.name = newName;
    inode.ctimeNs = this.rootTimeNs = t;
  }

  readdir(_dir: number): DirEntry[] {
    return [...this.names.values()].map((i) => ({ name: i.name, ino: i.ino, type: FileType.Regular }));
  }

  mkdir(): number {
    throw fail("EPERM", "flatfs has one directory");
  }
  rmdir(_dir: number, name: string): void {
    throw fail(this.names.has(name) ? "ENOTDIR" : "ENOENT", `flatfs has no directory "${name}"`);
  }
  symlink(): number {
    throw fail("EPERM", "flatfs has no symbolic links");
  }
  link(): void {
    throw fail("EPERM", "flatfs has no hard links");
  }
  readlink(ino: number): string {
    throw fail("EINVAL", `inode ${ino} is not a symbolic link`);
  }

  // ── Files: the data path ──

  open(ino: number, flags: number): FsFile {
    return { ...openCachedFile(this.inode(ino).mapping), ino, flags };
  }

  release(): void {}

  // #region read
  read(file: FsFile, pos: number, buf: Uint8Array, offset: number, length: number): number {
    return filemapRead(this.cache, file, pos, buf, offset, length, this.readCallbacks());
  }

  /** flatfs's read callbacks, made for each call of a filemap helper and never kept. */
  private readCallbacks(): ReadCallbacks {
    return { readFolio: (file, folio) => this.readFolio(file, folio) };
  }

  /**
   * read_folio: starts reading a locked folio from its block; the completion ends the read
   * (finishRead: uptodate, or the error flag, and unlocked). I/O errors are reported there, never
   * thrown. A page wholly past the end of the file has nothing on disk: it is zeroed, no I/O.
   */
  private readFolio(file: CachedFile, folio: number): void {
    const f = this.cache.folios;
    if (f.index(folio) * BLOCK >= file.mapping.host.size) {
      zeroFolioRange(this.cache, folio, 0, BLOCK);
      finishRead(this.cache, folio, true);
      return;
    }
    this.device.submit({
      op: "read", block: this.blockOf(file.mapping, f.index(folio)), count: 1, buffer: f.data(folio), offset: f.dataOffset(folio),
      done: (err) => finishRead(this.cache, folio, err === null),
    });
  }
  // #endregion read

  // #region write
  write(file: FsFile, pos: number, buf: Uint8Array, offset: number, length: number): number {
    const inode = this.inode(file.ino);
    const max = this.extentBlocks * BLOCK;
    if (pos >= max) throw fail("EFBIG", `flatfs files end at ${max} bytes`);
    const size = file.mapping.host.size;
    try {
      if (pos > size) this.writeZeros(file, size, pos); // no holes: the gap is written as zeros
      const n = performWrite(this.cache, file, pos, buf, offset, Math.min(length, max - pos), this.writeCallbacks(), this.flusher);
      inode.mtimeNs = inode.ctimeNs = this.now();
      return n;
    } catch (e) {
      if (file.mapping.host.size !== size) truncateSetSize(this.cache, file.mapping, size); // the zeros go too
      throw e;
    }
  }

  /** flatfs's write callbacks, made for each call of performWrite and never kept. */
  private writeCallbacks(): WriteCallbacks {
    return {
      writeBegin: (file, pos, len) => this.writeBegin(file, pos, len),
      writeEnd: (file, pos, len, copied, folio) => genericWriteEnd(this.cache, file, pos, len, copied, folio), // dirty it, grow the file
    };
  }

  /**
   * write_begin: the locked folio for `len` bytes at `pos`, made uptodate first unless the write
   * covers all of it — its block read and waited for where the file has data, zeroed past the end
   * of the file. Nothing to allocate: the extent is the file's since it was created.
   */
  private writeBegin(file: CachedFile, pos: number, len: number): number {
    const f = this.cache.folios;
    const folio = grabFolioForWrite(this.cache, file, pos, len);
    const start = f.index(folio) * BLOCK;
    if (f.test(folio, FolioFlag.Uptodate) || (pos === start && len >= BLOCK)) return folio;
    if (start >= file.mapping.host.size) {
      zeroFolioRange(this.cache, folio, 0, BLOCK);
    } else {
      try {
        this.io.readInto(this.blockOf(file.mapping, f.index(folio)), 1, f.data(folio), f.dataOffset(folio));
      } catch (e) {
        this.cache.unlock(folio);
        f.put(folio);
        throw e; // EIO: nothing was written
      }
    }
    f.set(folio, FolioFlag.Uptodate);
    return folio;
  }
  // #endregion write

  /** Writes zeros over bytes [from, to) through the page cache, one page per call so that any failure is thrown. */
  private writeZeros(file: CachedFile, from: number, to: number): void {
    for (let pos = from; pos < to; ) {
      pos += performWrite(this.cache, file, pos, ZEROS, 0, Math.min(BLOCK - (pos % BLOCK), to - pos), this.writeCallbacks(), this.flusher);
    }
  }

  /** truncate(2): shrinking drops the cache past the end; growing writes zeros up to it. */
  private resize(inode: FlatInode, size: number): void {
    const max = this.extentBlocks * BLOCK;
    if (size > max) throw fail("EFBIG", `flatfs files end at ${max} bytes`);
    const old = inode.mapping.host.size;
    if (size < old) truncateSetSize(this.cache, inode.mapping, size);
    if (size <= old) return;
    try {
      this.writeZeros(openCachedFile(inode.mapping), old, size);
    } catch (e) {
      truncateSetSize(this.cache, inode.mapping, old);
      throw e;
    }
  }

  // #region writeback
  /** flatfs's writepages: each dirty folio the control selects goes to its block. */
  private writepages(): Writepages {
    return (mapping, wbc) => {
      writeCachePages(this.cache, mapping, wbc, (folio) => this.writeFolio(mapping, folio));
    };
  }

  /**
   * Writes one locked folio, its dirty flag cleared for I/O, to its block. A failed write is
   * recorded for fsync (EIO, once per open file) and the folio is dirtied again: the cache holds
   * the only copy of its data, and the next writeback tries again.
   */
  private writeFolio(mapping: Mapping, folio: number): void {
    const f = this.cache.folios;
    this.cache.startWriteback(mapping, folio);
    this.cache.unlock(folio);
    this.device.submit({
      op: "write", block: this.blockOf(mapping, f.index(folio)), count: 1, buffer: f.data(folio), offset: f.dataOffset(folio),
      done: (err) => {
        this.cache.endWriteback(mapping, folio, err === null ? null : "EIO");
        if (err === null) return;
        this.writeErrors++;
        if (f.owner(folio) === mapping.ownerId) this.cache.markDirty(mapping, folio);
      },
    });
  }

  /** The flusher's way in (periodic and background writeback): file data only; the table waits for sync. */
  writebackInodes(wbc: WritebackControl): number {
    const mine = [...this.cache.dirtyMappings].filter((m) => this.slots[m.host.ino - 2]?.mapping === m);
    return writebackMappings(mine, wbc, this.writepages());
  }
  // #endregion writeback

  // #region sync
  /**
   * Makes everything durable: the data of every file, then the table, then a device flush. EIO,
   * leaving the table on disk as it was, when any data could not be written.
   */
  sync(): void {
    const errors = this.writeErrors;
    const files = this.slots.filter((inode) => inode !== undefined);
    syncMappings(this.cache, files.map((inode) => inode.mapping), this.writepages());
    if (this.writeErrors !== errors) throw fail("EIO", `sync of ${this.device.name}: file data could not be written, so the table was not`);
    const table = new Uint8Array(BLOCK);
    for (const inode of files) if (inode.nlink > 0) encodeEntry(table, inode.slot, { ...inode, size: inode.mapping.host.size });
    this.io.write(TABLE_BLOCK, table);
    this.io.flush();
    this.freedSinceSync.clear(); // free in the table on disk now: safe to reuse
  }

  /**
   * This file's data (EIO once for each writeback error this open file has not seen), then the
   * whole filesystem: with one table, a file is durable only when the table is.
   */
  fsync(file: FsFile): void {
    fileWriteAndWaitRange(this.cache, file, this.writepages());
    this.sync();
  }
  // #endregion sync

  // ── Helpers ──

  private now(): number {
    return this.machine.wallClockNs();
  }

  /** The device block holding page `index` of the file cached by `mapping`. */
  private blockOf(mapping: Mapping, index: number): number {
    return FIRST_EXTENT + (mapping.host.ino - 2) * this.extentBlocks + index;
  }

  private inode(ino: number): FlatInode {
    const inode = this.slots[ino - 2];
    if (inode === undefined) throw fail("ENOENT", `no inode ${ino} on flatfs`);
    return inode;
  }

  private named(name: string): FlatInode {
    const inode = this.names.get(name);
    if (inode === undefined) throw fail("ENOENT", `no "${name}" on flatfs`);
    return inode;
  }

  /** The in-memory file of slot `slot`, named by `entry`, with a mapping for its page cache. */
  private addInode(slot: number, entry: Entry): FlatInode {
    const ino = slot + 2;
    const mapping = this.cache.createMapping({ ino, label: `inode ${ino} on flatfs`, size: entry.size });
    const { name, mode, uid, gid, atimeNs, mtimeNs, ctimeNs } = entry;
    const inode: FlatInode = { name, mode, uid, gid, atimeNs, mtimeNs, ctimeNs, ino, slot, nlink: 1, mapping };
    this.names.set(entry.name, inode);
    return inode;
  }

  private dropInode(inode: FlatInode): void {
    truncateInodePages(this.cache, inode.mapping, 0);
    this.cache.destroyMapping(inode.mapping);
  }
}
