/**
 * SimpleFs: the mounted fs-simple filesystem, an ext2-like block filesystem (see FORMAT.md and
 * docs/PERSISTENCE-fs-simple.md).
 *
 * Memory: metadata blocks (superblock, bitmaps, inode table, indirect blocks) are folios of one
 * mapping of the block device (Linux's bdev mapping); file and directory data are folios of each
 * inode's own mapping. The filesystem keeps no block buffers of its own.
 *
 * Data callbacks (read, write-begin/end, writepages) are built for each call into the filemap
 * helpers and never stored.
 *
 * Concurrency: the engine is synchronous, but a wait (I/O) runs scheduler events, among them
 * the writeback flusher, which reaches the filesystem through `writebackInodes` (the VFS
 * registers the mount with the flusher). Every operation holds `busy`; `writebackInodes` does
 * nothing while it is held, so background writeback never sees a half-done operation. Writes
 * release it between 1 MiB chunks to let the dirty throttle (the injected flusher) run writeback.
 */
import "reflect-metadata";
import { inject } from "tsyringe";
import { FolioFlag, Gfp, TOKENS, fail, isFolioError, type FolioError, type Machine, type MappableFile } from "@folio/core";
import {
  FS_TOKENS, FileType, O_APPEND, RENAME_EXCHANGE, RENAME_NOREPLACE, filesystem,
  type DeviceContext, type DirEntry, type FsFile, type FsckReport, type InodeAttr, type MountOptions, type SetAttr, type StatFs, type SuperBlock,
} from "@folio/fs-api";
import {
  PAGECACHE_TOKENS, XaMark, fileWriteAndWaitRange, filemapMmap, filemapRead, finishRead, genericWriteEnd, grabFolioForWrite, openCachedFile, performWrite,
  syncMappings, truncateInodePages, truncateSetSize, waitOnWriteback, writeCachePages, writebackMappings,
  type BlockDevice, type CachedFile, type Flusher, type Mapping, type PageCache, type ReadCallbacks, type ReadaheadControl, type WriteCallbacks, type WritebackControl,
  type Writepages,
} from "@folio/pagecache";
import {
  BITS_PER_BLOCK, BLOCK_SIZE, DIND_START, DIRENT_HEADER, DOTDOT, DT_DIR, DT_LNK, INLINE_MAX, INODE_FLAG_INLINE, IND_START, MAX_FILE_BLOCKS, MAX_FILE_SIZE,
  MAX_LINKS, NAME_MAX, NDIR, PTRS_PER_BLOCK, ROOT_INO, STATE_CLEAN, STATE_DIRTY, SUPER_BLOCK, SYMLINK_MAX, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG,
  blockPath, bytesEqual, clearBit, hasMagic, decodeInode, decodeSuper, direntSize, dtOf, emptyInode, encodeInode, encodeSuper, getU32, initDirBlock,
  inodeLocation, nameBytes, nameString, parseDirBlock, putDirent, putU32, setBit, setDirentIno, setDirentRecLen, testBit, validType,
  type RawInode, type SuperBlockData,
} from "./format.js";
import { Inode, type InodeHost } from "./inode.js";
import { mkfs } from "./mkfs.js";
import { fsck } from "./fsck.js";

/**
 * Largest folio order of a regular file's mapping unless the mount option `maxOrder` (0..9) says
 * otherwise: up to 2 MiB, as a Linux filesystem with large-folio support lets the page cache choose
 * (the write path and readahead size each folio by the request; metadata, directories and
 * symlinks stay in single pages, one per block).
 */
export const DEFAULT_MAX_ORDER = 9;

/** Bytes a write() hands to performWrite between two dirty-throttle checks. */
const WRITE_CHUNK = 1 << 20;
/** relatime: atime is refreshed at most once a day unless older than mtime/ctime. */
const DAY_NS = 86_400 * 1e9;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Where a name was found in a directory. */
interface DirSlot {
  /** Directory block index. */
  index: number;
  /** Byte offset of the entry in the block. */
  offset: number;
  ino: number;
  type: number;
}

/** Where a new entry of a given size fits: reuse an unused entry, or split a live one's slack. */
interface DirSpace {
  index: number;
  offset: number;
  reuse: boolean;
}

/** What freeing a file's blocks will change (see planTruncate), with the metadata folios it needs held. */
interface TruncatePlan {
  /** The first file block freed. */
  from: number;
  /** Inode pointer slots (direct, indirect, double-indirect) to clear. */
  slots: number[];
  /** Indirect blocks that stay, with the first slot whose pointers are cleared. */
  trims: { block: number; from: number }[];
  /** Data blocks to free. */
  data: number[];
  /** Indirect blocks to free. */
  meta: number[];
  /** Pointers outside the data area met on the way (recorded as errors, never freed). */
  bad: string[];
  /** Folio references held until the plan is applied or dropped. */
  pinned: number[];
}

/** Blocks allocated by one mapRange call, to undo it. */
interface AllocLog {
  /** File block indices mapped. */
  mapped: number[];
  /** Indirect blocks allocated, in order, with the pointer that holds each. */
  meta: { block: number; parent: number; slot: number }[];
}

@filesystem("simple")
export class SimpleFs implements SuperBlock {
  /** fs-simple lives on a block device: the VFS refuses to mount it without one. */
  static readonly needsDevice = true;

  /** Writes an empty filesystem to the device. Options: `inodes`. */
  static mkfs(ctx: DeviceContext, options?: Record<string, unknown>): void {
    mkfs(ctx, options);
  }

  /** Checks an unmounted device; repairs what is safe with `repair`. Never writes otherwise. */
  static fsck(ctx: DeviceContext, options: { repair: boolean }): FsckReport {
    return fsck(ctx, options);
  }

  /** The magic of the superblock in block 0 (2), or only of its backup in block 1 (1). */
  static probe(head: Uint8Array): 0 | 1 | 2 {
    if (head.length >= 8 && hasMagic(head, 0)) return 2;
    return head.length >= BLOCK_SIZE + 8 && hasMagic(head, BLOCK_SIZE) ? 1 : 0;
  }

  readonly rootIno = ROOT_INO;
  /** The state flag read at mount was not "clean": the filesystem was not unmounted cleanly (run fsck). */
  notCleanAtMount = false;
  /**
   * Inconsistencies met while mounted, and failed writes of metadata or directory blocks (after
   * which the image may be inconsistent): with any, the on-disk state stays "not clean" at
   * unmount so fsck runs.
   */
  readonly errors: string[] = [];

  private sb!: SuperBlockData;
  private bdev!: Mapping;
  private readonly inodes = new Map<number, Inode>();
  private readonly dirtyInodes = new Set<Inode>();
  /** Metadata blocks ready to write: stored inodes' table blocks and their indirect blocks. */
  private readonly pendingMeta = new Set<number>();
  private mounted = false;
  private busy = 0;
  private readonly readOnly: boolean;
  private readonly maxOrder: number;
  private blockCursor = 0;
  private inodeCursor = 1;
  /** Write errors (data and metadata) seen by completions, and how many sync has reported. */
  private writeErrors = 0;
  private writeErrorsReported = 0;
  private readonly metaErrCursor = { value: 0 };

  /**
   * Constructed by the VFS through DI for one mount; reads only the mount options (`readOnly`,
   * `maxOrder`, else {@link DEFAULT_MAX_ORDER}). The device is read when the VFS calls `mount`.
   */
  constructor(
    @inject(TOKENS.Machine) private readonly machine: Machine,
    @inject(PAGECACHE_TOKENS.PageCache) private readonly cache: PageCache,
    @inject(PAGECACHE_TOKENS.Flusher) private readonly flusher: Flusher,
    @inject(FS_TOKENS.BlockDevice) private readonly device: BlockDevice,
    @inject(FS_TOKENS.MountOptions) options: MountOptions,
  ) {
    this.readOnly = options?.readOnly === true;
    const order = options?.["maxOrder"];
    this.maxOrder = typeof order === "number" && Number.isInteger(order) && order >= 0 && order <= 9 ? order : DEFAULT_MAX_ORDER;
  }

  // ───────────────────────────── superblock operations ─────────────────────────────

  mount(): void {
    if (this.mounted) throw fail("EBUSY", `fs-simple on ${this.device.name} is already mounted`);
    if (this.device.blockSize !== BLOCK_SIZE) {
      throw fail("EINVAL", `device ${this.device.name} has ${this.device.blockSize}-byte blocks; fs-simple needs ${BLOCK_SIZE}`);
    }
    const label = `block device ${this.device.name} on fs-simple`;
    this.bdev = this.cache.createMapping({ ino: 0, label, size: this.device.nrBlocks * BLOCK_SIZE }, { maxOrder: 0, raPages: 0 });
    this.metaErrCursor.value = this.bdev.wbErr.sample();
    // Until the superblock is read, metadata reads are bounded by the device.
    this.sb = { blockCount: this.device.nrBlocks } as SuperBlockData;
    this.busy++;
    try {
      const folio = this.metaGet(SUPER_BLOCK);
      let sb: SuperBlockData;
      try {
        sb = decodeSuper(this.cache.folios.data(folio), this.cache.folios.dataOffset(folio), `${this.device.name}`);
      } finally {
        this.cache.folios.put(folio);
      }
      if (sb.blockCount > this.device.nrBlocks) {
        throw fail("EUCLEAN", `${this.device.name}: image truncated: the filesystem has ${sb.blockCount} blocks but the device only ${this.device.nrBlocks} (run fsck)`);
      }
      this.sb = sb;
      this.countFree();
      const root = this.iget(ROOT_INO);
      if (!root.isDir || root.size === 0 || root.size % BLOCK_SIZE !== 0) {
        throw fail("EUCLEAN", `${this.device.name}: root inode ${ROOT_INO} is not a valid directory (run fsck)`);
      }
      this.notCleanAtMount = sb.state !== STATE_CLEAN;
      this.blockCursor = sb.firstDataBlock;
      if (!this.readOnly) {
        sb.state = STATE_DIRTY;
        sb.mountCount++;
        sb.mountTimeNs = this.now();
        this.storeSuper();
        this.writeMetaRange(SUPER_BLOCK, SUPER_BLOCK);
        waitOnWriteback(this.cache, this.bdev);
        this.flushDevice();
        this.checkMetaErrors();
      }
      this.mounted = true;
    } catch (e) {
      this.teardown();
      throw asClearError(e, this.device.name);
    } finally {
      this.busy--;
    }
  }

  statfs(): StatFs {
    return this.op(false, () => ({
      bsize: BLOCK_SIZE,
      blocks: this.sb.blockCount - this.sb.firstDataBlock,
      bfree: this.sb.freeBlocks,
      bavail: this.sb.freeBlocks,
      files: this.sb.inodeCount - 1,
      ffree: this.sb.freeInodes,
      namelen: NAME_MAX,
    }));
  }

  sync(): void {
    this.op(false, () => {
      if (this.readOnly) return;
      try {
        this.syncAll();
      } catch (e) {
        // This failure reports the write errors seen so far: the next sync does not again.
        this.writeErrorsReported = this.writeErrors;
        throw e;
      }
      if (this.writeErrors !== this.writeErrorsReported) {
        this.writeErrorsReported = this.writeErrors;
        throw fail("EIO", `sync of ${this.device.name}: writeback failed since the last sync; data may be lost`);
      }
    });
  }

  unmount(): void {
    if (!this.mounted) throw fail("EINVAL", `fs-simple on ${this.device.name} is not mounted`);
    this.busy++;
    try {
      if (!this.readOnly) {
        // Unlinked inodes nobody evicted go now, as at umount in Linux.
        for (const inode of [...this.inodes.values()]) if (inode.nlink === 0) this.destroyInode(inode);
        this.syncAll();
        this.sb.state = this.errors.length === 0 ? STATE_CLEAN : STATE_DIRTY;
        this.storeSuper();
        this.writeMetaRange(SUPER_BLOCK, SUPER_BLOCK);
        waitOnWriteback(this.cache, this.bdev);
        this.flushDevice();
        this.checkMetaErrors();
      }
    } finally {
      this.busy--;
      this.teardown();
    }
  }

  writebackInodes(wbc: WritebackControl): number {
    // Never inside an operation (its state may be half changed while it waits for I/O).
    if (!this.mounted || this.readOnly || this.busy > 0) return 0;
    this.busy++;
    let total = 0;
    try {
      const mine = [...this.cache.dirtyMappings].filter((m) => m !== this.bdev && this.inodes.get(m.host.ino)?.mapping === m);
      total += writebackMappings(mine, wbc, this.writepagesFn());
      // Inodes whose data is all on disk (not dirty, not in flight) are stored now: data before metadata.
      const before = wbc.dirtiedBefore;
      for (const inode of [...this.dirtyInodes]) {
        if (before !== undefined && inode.dirtiedAt > before) continue;
        const xa = inode.mapping.index;
        if (xa.anyMarked(XaMark.Dirty) || xa.anyMarked(XaMark.Writeback)) continue;
        this.storeInode(inode);
      }
      if (wbc.nrToWrite > 0 && (this.pendingMeta.size > 0 || this.bdev.dirtiedAt >= 0)) {
        const budget = Math.min(wbc.nrToWrite, MAX_SAFE);
        const pass = { ...wbc, sync: false, nrToWrite: budget };
        // Bitmaps, superblock and inode table (which only ever holds stored, safe inodes)…
        writeCachePages(this.cache, this.bdev, { ...pass, start: 0, end: this.sb.firstDataBlock - 1 }, (folio) => this.submitMeta(folio));
        // …and the indirect blocks of stored inodes.
        for (const b of [...this.pendingMeta]) {
          if (pass.nrToWrite <= 0) break;
          writeCachePages(this.cache, this.bdev, { ...pass, start: b, end: b }, (folio) => this.submitMeta(folio));
          this.pendingMeta.delete(b);
        }
        const done = budget - pass.nrToWrite;
        total += done;
        wbc.nrToWrite -= done;
      }
    } catch (e) {
      // Background writeback reports nothing to anyone: errors reach fsync through errseq.
      this.noteError(`background writeback: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.busy--;
    }
    return total;
  }

  evictInode(ino: number): void {
    this.op(false, () => {
      const inode = this.inodes.get(ino);
      if (!inode || inode.opens > 0 || ino === ROOT_INO) return;
      if (inode.nlink === 0 && !this.readOnly) {
        this.destroyInode(inode);
        return;
      }
      if (!this.readOnly) {
        // Keep nothing only in memory: write the data, then put the inode in its table block.
        syncMappings(this.cache, [inode.mapping], this.writepagesFn());
        if (inode.dirty || inode.metaDirty.size > 0) this.storeInode(inode);
      }
      this.dropInode(inode);
    });
  }

  // ───────────────────────────── inode operations ─────────────────────────────

  getattr(ino: number): InodeAttr {
    return this.op(false, () => {
      const i = this.iget(ino);
      return {
        ino, mode: i.mode, nlink: i.nlink, uid: i.uid, gid: i.gid, size: i.size, blocks: i.blocks * (BLOCK_SIZE / 512),
        atimeNs: i.atimeNs, mtimeNs: i.mtimeNs, ctimeNs: i.ctimeNs, birthtimeNs: i.btimeNs,
      };
    });
  }

  setattr(ino: number, attr: SetAttr): void {
    this.op(true, () => {
      const inode = this.iget(ino);
      const now = this.now();
      if (attr.size !== undefined) {
        if (inode.isDir) throw fail("EISDIR", `inode ${ino} is a directory`);
        if (!inode.isReg) throw fail("EINVAL", `inode ${ino} is not a regular file`);
        if (!Number.isSafeInteger(attr.size) || attr.size < 0) throw fail("EINVAL", `size ${attr.size} must be a non-negative integer`);
        if (attr.size > MAX_FILE_SIZE) throw fail("EFBIG", `size ${attr.size} is beyond the largest fs-simple file (${MAX_FILE_SIZE} bytes)`);
        this.setSize(inode, attr.size);
        inode.mtimeNs = now;
      }
      if (attr.mode !== undefined) inode.mode = (inode.mode & S_IFMT) | (attr.mode & 0o7777);
      if (attr.uid !== undefined) inode.uid = checkId(attr.uid, "uid");
      if (attr.gid !== undefined) inode.gid = checkId(attr.gid, "gid");
      if (attr.atimeNs !== undefined) inode.atimeNs = attr.atimeNs;
      if (attr.mtimeNs !== undefined) inode.mtimeNs = attr.mtimeNs;
      inode.ctimeNs = now;
      this.markInodeDirty(inode, attr.size !== undefined);
    });
  }

  lookup(dir: number, name: string): number {
    return this.op(false, () => {
      const d = this.dirInode(dir);
      const slot = this.dirScan(d, this.checkName(name), 0).found;
      if (!slot) throw fail("ENOENT", `no entry "${name}" in directory ${dir}`);
      const target = this.iget(slot.ino);
      // A directory has one name: its ".." points back here (else the tree has a loop).
      if (target.isDir && (target.ino === ROOT_INO || this.parentOf(target) !== dir)) {
        throw this.corrupt(`directory ${dir}: entry "${name}" names directory ${target.ino}, whose parent is elsewhere`);
      }
      return slot.ino;
    });
  }

  create(dir: number, name: string, mode: number): number {
    return this.op(true, () => this.makeNode(dir, name, S_IFREG | (mode & 0o7777), null));
  }

  mkdir(dir: number, name: string, mode: number): number {
    return this.op(true, () => this.makeNode(dir, name, S_IFDIR | (mode & 0o7777), null));
  }

  symlink(dir: number, name: string, target: string): number {
    return this.op(true, () => {
      const t = nameBytes(target);
      if (t.length === 0) throw fail("ENOENT", "symlink target is empty");
      if (t.length > SYMLINK_MAX) throw fail("ENAMETOOLONG", `symlink target of ${t.length} bytes is longer than ${SYMLINK_MAX}`);
      return this.makeNode(dir, name, S_IFLNK | 0o777, t);
    });
  }

  readlink(ino: number): string {
    return this.op(false, () => {
      const inode = this.iget(ino);
      if (!inode.isSymlink) throw fail("EINVAL", `inode ${ino} is not a symbolic link`);
      if (inode.isInline) return nameString(inode.inline ?? new Uint8Array(0));
      if (inode.size === 0 || inode.size > SYMLINK_MAX) throw this.corrupt(`symlink ${ino} has size ${inode.size}`);
      const folio = this.dataFolio(inode, 0);
      try {
        const f = this.cache.folios;
        const at = f.dataOffset(folio);
        return nameString(f.data(folio).slice(at, at + inode.size));
      } finally {
        this.cache.folios.put(folio);
      }
    });
  }

  unlink(dir: number, name: string): void {
    this.op(true, () => {
      const d = this.dirInode(dir);
      const nb = this.checkName(name);
      const slot = this.dirScan(d, nb, 0).found;
      if (!slot) throw fail("ENOENT", `no entry "${name}" in directory ${dir}`);
      const inode = this.iget(slot.ino);
      if (inode.isDir) throw fail("EISDIR", `"${name}" is a directory`);
      this.dirRemove(d, slot);
      inode.nlink = Math.max(0, inode.nlink - 1);
      inode.ctimeNs = this.now();
      this.markInodeDirty(inode);
    });
  }

  rmdir(dir: number, name: string): void {
    this.op(true, () => {
      const d = this.dirInode(dir);
      const slot = this.dirScan(d, this.checkName(name), 0).found;
      if (!slot) throw fail("ENOENT", `no entry "${name}" in directory ${dir}`);
      const child = this.iget(slot.ino);
      if (!child.isDir) throw fail("ENOTDIR", `"${name}" is not a directory`);
      if (child.ino === ROOT_INO) throw fail("EBUSY", "cannot remove the root directory");
      if (!this.dirEmpty(child)) throw fail("ENOTEMPTY", `directory "${name}" is not empty`);
      this.dirRemove(d, slot);
      child.nlink = 0;
      child.ctimeNs = this.now();
      this.markInodeDirty(child);
      d.nlink = Math.max(2, d.nlink - 1);
      this.markInodeDirty(d);
    });
  }

  rename(oldDir: number, oldName: string, newDir: number, newName: string, flags: number): void {
    this.op(true, () => {
      if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) !== 0 || flags === (RENAME_NOREPLACE | RENAME_EXCHANGE)) {
        throw fail("EINVAL", `rename flags ${flags} are invalid`);
      }
      const od = this.dirInode(oldDir);
      const nd = this.dirInode(newDir);
      const oldB = this.checkName(oldName);
      const newB = this.checkName(newName);
      const src = this.dirScan(od, oldB, 0).found;
      if (!src) throw fail("ENOENT", `no entry "${oldName}" in directory ${oldDir}`);
      const srcInode = this.iget(src.ino);
      const scan = this.dirScan(nd, newB, direntSize(newB.length));
      const dst = scan.found;
      if (oldDir === newDir && bytesEqual(oldB, newB)) {
        if (flags & RENAME_NOREPLACE) throw fail("EEXIST", `"${newName}" exists`);
        return;
      }
      if (flags & RENAME_NOREPLACE && dst) throw fail("EEXIST", `"${newName}" exists in directory ${newDir}`);
      const now = this.now();
      const moved = oldDir !== newDir;
      if (flags & RENAME_EXCHANGE) {
        if (!dst) throw fail("ENOENT", `no entry "${newName}" in directory ${newDir}`);
        const dstInode = this.iget(dst.ino);
        if (moved) {
          if (srcInode.isDir && this.isAncestor(srcInode.ino, nd)) throw fail("EINVAL", `cannot move directory ${srcInode.ino} into itself`);
          if (dstInode.isDir && this.isAncestor(dstInode.ino, od)) throw fail("EINVAL", `cannot move directory ${dstInode.ino} into itself`);
          if (srcInode.isDir && !dstInode.isDir && nd.nlink >= MAX_LINKS) throw fail("EMLINK", `directory ${newDir} has too many links`);
          if (dstInode.isDir && !srcInode.isDir && od.nlink >= MAX_LINKS) throw fail("EMLINK", `directory ${oldDir} has too many links`);
        }
        // Every block it changes is read and held first: nothing after the first change can fail.
        const held = this.holdDirBlocks([
          [nd, dst.index],
          [od, src.index],
          [srcInode, srcInode.isDir && moved ? 0 : undefined],
          [dstInode, dstInode.isDir && moved ? 0 : undefined],
        ]);
        try {
          this.dirSetIno(nd, dst, srcInode.ino, dtOf(srcInode.mode));
          this.dirSetIno(od, src, dstInode.ino, dtOf(dstInode.mode));
          if (moved && srcInode.isDir) this.setDotDot(srcInode, newDir);
          if (moved && dstInode.isDir) this.setDotDot(dstInode, oldDir);
        } finally {
          this.releaseFolios(held);
        }
        if (moved) {
          if (srcInode.isDir && !dstInode.isDir) {
            od.nlink--;
            nd.nlink++;
          }
          if (dstInode.isDir && !srcInode.isDir) {
            nd.nlink--;
            od.nlink++;
          }
        }
        srcInode.ctimeNs = dstInode.ctimeNs = now;
        this.markInodeDirty(srcInode);
        this.markInodeDirty(dstInode);
        this.touchDirs(od, nd, now);
        return;
      }
      let dstInode: Inode | null = null;
      if (dst) {
        if (dst.ino === src.ino) return; // two names of one inode: nothing to do (POSIX)
        dstInode = this.iget(dst.ino);
        if (srcInode.isDir && !dstInode.isDir) throw fail("ENOTDIR", `"${newName}" is not a directory`);
        if (!srcInode.isDir && dstInode.isDir) throw fail("EISDIR", `"${newName}" is a directory`);
        if (dstInode.isDir && !this.dirEmpty(dstInode)) throw fail("ENOTEMPTY", `directory "${newName}" is not empty`);
      }
      if (srcInode.isDir && moved) {
        if (this.isAncestor(srcInode.ino, nd)) throw fail("EINVAL", `cannot move directory ${srcInode.ino} into itself`);
        if (!dstInode && nd.nlink >= MAX_LINKS) throw fail("EMLINK", `directory ${newDir} has too many links`);
      }
      // Every directory block the rename changes is read and held before the first change: then
      // nothing after it can fail (a block dropped from the cache meanwhile would need a read).
      // A new block for the new name is the first change, undone by dirInsert if it fails.
      const held = this.holdDirBlocks([
        [nd, dst?.index ?? scan.space?.index],
        [od, src.index],
        [srcInode, srcInode.isDir && moved ? 0 : undefined],
      ]);
      try {
        // Commit: the new name first, then the old one goes (a crash in between leaves both: fsck fixes the count).
        // Adding an entry never moves another, so `src` still locates the old name.
        if (dst) this.dirSetIno(nd, dst, srcInode.ino, dtOf(srcInode.mode));
        else this.dirInsert(nd, scan.space, newB, srcInode.ino, dtOf(srcInode.mode));
        this.dirRemove(od, src);
        if (srcInode.isDir && moved) this.setDotDot(srcInode, newDir);
      } finally {
        this.releaseFolios(held);
      }
      if (srcInode.isDir && moved) {
        od.nlink = Math.max(2, od.nlink - 1);
        nd.nlink++;
      }
      if (dstInode) {
        if (dstInode.isDir) {
          dstInode.nlink = 0;
          nd.nlink = Math.max(2, nd.nlink - 1);
        } else {
          dstInode.nlink = Math.max(0, dstInode.nlink - 1);
        }
        dstInode.ctimeNs = now;
        this.markInodeDirty(dstInode);
      }
      srcInode.ctimeNs = now;
      this.markInodeDirty(srcInode);
      this.touchDirs(od, nd, now);
    });
  }

  link(ino: number, dir: number, name: string): void {
    this.op(true, () => {
      const inode = this.iget(ino);
      if (inode.isDir) throw fail("EPERM", `inode ${ino} is a directory: no hard links to directories`);
      if (inode.nlink === 0) throw fail("ENOENT", `inode ${ino} has been unlinked`);
      if (inode.nlink >= MAX_LINKS) throw fail("EMLINK", `inode ${ino} has ${inode.nlink} links`);
      const d = this.dirInode(dir);
      const nb = this.checkName(name);
      const scan = this.dirScan(d, nb, direntSize(nb.length));
      if (scan.found) throw fail("EEXIST", `"${name}" exists in directory ${dir}`);
      this.dirInsert(d, scan.space, nb, ino, dtOf(inode.mode));
      inode.nlink++;
      inode.ctimeNs = this.now();
      this.markInodeDirty(inode);
    });
  }

  readdir(dir: number): DirEntry[] {
    return this.op(false, () => {
      const d = this.dirInode(dir);
      const out: DirEntry[] = [];
      this.dirWalk(d, (_index, data, off, entries) => {
        for (const e of entries) {
          if (e.ino === 0) continue;
          const name = data.subarray(off + e.offset + DIRENT_HEADER, off + e.offset + DIRENT_HEADER + e.nameLen);
          if (isDotName(name)) continue;
          out.push({ name: nameString(name), ino: e.ino, type: e.type === DT_DIR ? FileType.Directory : e.type === DT_LNK ? FileType.Symlink : FileType.Regular });
        }
        return false;
      });
      return out;
    });
  }

  // ───────────────────────────── file operations ─────────────────────────────

  open(ino: number, flags: number): FsFile {
    return this.op(false, () => {
      const inode = this.iget(ino);
      inode.opens++;
      const cf = openCachedFile(inode.mapping);
      return { mapping: cf.mapping, ra: cf.ra, wbErr: cf.wbErr, ino, flags };
    });
  }

  read(file: FsFile, pos: number, buf: Uint8Array, offset: number, length: number): number {
    // The hot path: the same checks as op(), without a closure per call.
    this.enter(false);
    try {
      const inode = this.fileInode(file);
      if (inode.isDir) throw fail("EISDIR", `inode ${inode.ino} is a directory`);
      if (!inode.isReg) throw fail("EINVAL", `inode ${inode.ino} is not a regular file`);
      const n = filemapRead(this.cache, file, pos, buf, offset, length, this.readCallbacks());
      if (!this.readOnly) {
        const now = this.now();
        if (inode.atimeNs <= inode.mtimeNs || inode.atimeNs <= inode.ctimeNs || now - inode.atimeNs > DAY_NS) {
          inode.atimeNs = now;
          this.markInodeDirty(inode);
        }
      }
      return n;
    } finally {
      this.busy--;
    }
  }

  write(file: FsFile, pos: number, buf: Uint8Array, offset: number, length: number): number {
    const inode = this.op(true, () => {
      const inode = this.fileInode(file);
      if (inode.isDir) throw fail("EISDIR", `inode ${inode.ino} is a directory`);
      if (!inode.isReg) throw fail("EINVAL", `inode ${inode.ino} is not a regular file`);
      return inode;
    });
    if (file.flags & O_APPEND) pos = inode.size;
    if (!Number.isSafeInteger(pos) || pos < 0) throw fail("EINVAL", `file position ${pos} must be a non-negative integer`);
    if (!Number.isSafeInteger(length) || length < 0 || !Number.isSafeInteger(offset) || offset < 0 || offset + length > buf.length) {
      throw fail("EINVAL", `buffer range [${offset}, ${offset + length}) does not fit a buffer of ${buf.length} bytes`);
    }
    if (length === 0) return 0;
    if (pos >= MAX_FILE_SIZE) throw fail("EFBIG", `write at ${pos} is beyond the largest fs-simple file (${MAX_FILE_SIZE} bytes)`);
    length = Math.min(length, MAX_FILE_SIZE - pos);
    let written = 0;
    let first = true;
    while (written < length) {
      const n = Math.min(WRITE_CHUNK, length - written);
      let done: number;
      try {
        done = this.op(true, () => {
          if (first) {
            // Any write that grows the file, also one starting at or before EOF: what it leaves
            // of the old tail past the new EOF must read as zeros too.
            if (pos + length > inode.size) this.zeroTailPastEof(inode);
            inode.mtimeNs = inode.ctimeNs = this.now();
            this.markInodeDirty(inode);
            first = false;
          }
          return performWrite(this.cache, file, pos + written, buf, offset + written, n, this.writeCallbacks());
        });
      } catch (e) {
        if (written > 0) break;
        throw e;
      }
      written += done;
      if (done < n) break;
      if (this.busy === 0) this.flusher.balanceDirtyPages();
    }
    return written;
  }

  fsync(file: FsFile, datasync: boolean): void {
    this.op(false, () => {
      const inode = this.fileInode(file);
      fileWriteAndWaitRange(this.cache, file, this.writepagesFn());
      if (this.readOnly) return;
      // Metadata a memory error destroyed can never be made durable: the call that would promise it fails, every time.
      if (!inode.isReg && inode.mapping.lost.count !== 0) throw this.lostBlock(`block ${inode.mapping.lost.nextFrom(0)} of directory ${inode.ino}`);
      this.checkInodeMeta(inode);
      if ((inode.dirty && (!datasync || inode.dataDirty)) || inode.metaDirty.size > 0) this.storeInode(inode);
      // The inode's table block and indirect blocks (also when background writeback stored
      // it earlier but has not written them yet), and the bitmaps.
      const loc = inodeLocation(this.sb, inode.ino);
      this.writeMetaRange(this.sb.blockBitmapStart, this.sb.inodeTableStart - 1);
      this.writeMetaRange(loc.block, loc.block);
      for (const b of inode.queuedMeta) this.writeMetaRange(b, b);
      inode.queuedMeta.clear();
      waitOnWriteback(this.cache, this.bdev);
      this.flushDevice();
      this.checkMetaErrors();
    });
  }

  release(file: FsFile): void {
    const inode = this.inodes.get(file.ino);
    if (inode && inode.opens > 0) inode.opens--;
  }

  /**
   * mmap: the page cache's generic file mapping with this filesystem's callbacks. A page gets its
   * blocks when it first becomes writable through a shared mapping (page_mkwrite), so writeback
   * never finds a hole under dirty data, and a full disk is SIGBUS on that store; msync(MS_SYNC)
   * is fdatasync.
   */
  mmap(file: FsFile): MappableFile {
    this.op(false, () => {
      if (!this.fileInode(file).isReg) throw fail("EACCES", `inode ${file.ino} is not a regular file`);
    });
    return filemapMmap(this.cache, file, {
      read: this.readCallbacks(),
      writepages: this.writepagesFn(),
      pageMkwrite: (folio) => this.op(true, () => this.prepareMkwrite(file, folio)),
      fsync: () => this.fsync(file, true),
      throttle: this.flusher,
    });
  }

  // ───────────────────────────── data callbacks (built per call) ─────────────────────────────

  /** The read callbacks this filesystem hands to the filemap helpers: made per call, never stored. */
  private readCallbacks(): ReadCallbacks {
    return new SimpleFs.ReadCallbacks(this);
  }

  /**
   * fs-simple's read callbacks (read_folio, readahead) for one call. A class, so that making them
   * on every read is one small object and no closures; it lives inside SimpleFs to reach its
   * private block-mapping read.
   */
  private static readonly ReadCallbacks = class implements ReadCallbacks {
    constructor(private readonly fs: SimpleFs) {}

    readFolio(file: CachedFile, folio: number): void {
      this.fs.startFolioRead(file.mapping, folio);
    }

    // Readahead is a hint: a folio it cannot start reading is left not uptodate (and unlocked),
    // and the read that needs it tries again and reports why.
    readahead(rac: ReadaheadControl): void {
      for (const folio of rac.folios) {
        try {
          this.fs.startFolioRead(rac.file.mapping, folio);
        } catch (e) {
          if (!isFolioError(e)) throw e; // a bug, not a failure to report later
        }
      }
    }
  };


  private writeCallbacks(): WriteCallbacks {
    return {
      writeBegin: (file, pos, len) => this.prepareWrite(file, pos, len),
      writeEnd: (file, pos, len, copied, folio) => {
        const inode = this.fileInode(file as FsFile);
        const size = inode.size;
        const n = genericWriteEnd(this.cache, file, pos, len, copied, folio);
        this.markInodeDirty(inode, inode.size !== size);
        return n;
      },
    };
  }

  private writepagesFn(): Writepages {
    return (mapping, wbc) => {
      writeCachePages(this.cache, mapping, wbc, (folio) => this.submitData(mapping, folio));
    };
  }

  /**
   * page_mkwrite: maps blocks for the folio's pages below i_size (ENOSPC maps none) and stamps
   * mtime. A folio wholly below i_size whose blocks are all mapped is marked MappedToDisk, so the
   * write faults on its other pages skip the block lookup (a large folio's is 512 entries long);
   * a truncate clears the mark before it frees blocks ({@link forgetMappedToDisk}).
   */
  private prepareMkwrite(file: FsFile, folio: number): void {
    const inode = this.fileInode(file);
    const f = this.cache.folios;
    const first = f.index(folio);
    const end = first + f.nrPages(folio);
    const eofPages = Math.ceil(inode.size / BLOCK_SIZE);
    if (!(f.test(folio, FolioFlag.MappedToDisk) && end <= eofPages)) {
      const last = Math.min(end, eofPages) - 1;
      if (last >= first) this.mapRange(inode, first, last);
      if (end <= eofPages) f.set(folio, FolioFlag.MappedToDisk);
    }
    inode.mtimeNs = inode.ctimeNs = this.now();
    this.markInodeDirty(inode, true);
  }

  /** Clears MappedToDisk on every cached folio holding a page from file block `from` on: those blocks are about to be freed. */
  private forgetMappedToDisk(inode: Inode, from: number): void {
    const mapping = inode.mapping;
    const f = this.cache.folios;
    const straddling = this.cache.lookup(mapping, from);
    for (let i = straddling !== 0 ? f.index(straddling) : from; (i = mapping.index.findPresent(i)) >= 0; ) {
      const folio = this.cache.lookup(mapping, i);
      if (folio === 0) {
        i++; // a shadow entry
        continue;
      }
      f.clear(folio, FolioFlag.MappedToDisk);
      i = f.index(folio) + f.nrPages(folio);
    }
  }

  /**
   * readFolio: maps each page of the locked folio to its block and reads the blocks straight
   * into the folio's memory (runs of consecutive blocks as one request); holes and pages past
   * EOF are zeroed, and so are the bytes past EOF in the last block when the read completes
   * (a crash can leave old data there: the data write landed, the inode's new size did not).
   * finishRead ends it. I/O errors are reported there; an error that is not one (ENOMEM, or
   * EUCLEAN for a corrupt block map, while mapping the blocks) ends the read too and is then
   * thrown, so the caller reports its true code.
   */
  private startFolioRead(mapping: Mapping, folio: number): void {
    const f = this.cache.folios;
    const sizeAtStart = mapping.host.size;
    let pending = 1;
    let ok = true;
    const complete = (e: FolioError | null) => {
      if (e) ok = false;
      if (--pending > 0) return;
      // The size may have changed while the read was in flight: zero from the smaller one.
      if (ok) this.zeroPastEof(folio, Math.min(sizeAtStart, mapping.host.size));
      finishRead(this.cache, folio, ok);
    };
    let thrown: unknown = null;
    try {
      const inode = this.inodeOfMapping(mapping);
      const first = f.index(folio);
      const data = f.data(folio);
      const base = f.dataOffset(folio);
      const runs = this.blockRuns(inode, first, f.nrPages(folio), (p) => data.fill(0, base + p * BLOCK_SIZE, base + (p + 1) * BLOCK_SIZE), sizeAtStart);
      for (const [p, block, count] of runs) {
        pending++;
        this.device.submit({ op: "read", block, count, buffer: data, offset: base + p * BLOCK_SIZE, done: complete });
      }
    } catch (e) {
      ok = false;
      // A failed read of an indirect block is this read's I/O error; anything else keeps its code.
      if (!isFolioError(e, "EIO")) thrown = e;
    }
    complete(null);
    if (thrown !== null) throw thrown;
  }

  /** Zeroes the bytes of a folio at and after file offset `size` (nothing if the folio ends before it). */
  private zeroPastEof(folio: number, size: number): void {
    const f = this.cache.folios;
    const start = f.index(folio) * BLOCK_SIZE;
    const end = start + f.size(folio);
    if (size >= end) return;
    const at = f.dataOffset(folio);
    f.data(folio).fill(0, at + Math.max(0, size - start), at + f.size(folio));
  }

  /**
   * Groups pages [0, nr) of a folio starting at file block `first` into runs of consecutive
   * device blocks: [page, block, count]. Pages that are holes or at/after `limit` bytes are
   * passed to `hole` instead.
   */
  private blockRuns(inode: Inode, first: number, nr: number, hole: (page: number) => void, limit: number): [number, number, number][] {
    const runs: [number, number, number][] = [];
    for (let p = 0; p < nr; p++) {
      const idx = first + p;
      const block = idx * BLOCK_SIZE >= limit || idx >= MAX_FILE_BLOCKS ? 0 : this.bmap(inode, idx);
      if (block === 0) {
        hole(p);
        continue;
      }
      const last = runs[runs.length - 1];
      if (last && last[0] + last[2] === p && last[1] + last[2] === block) last[2]++;
      else runs.push([p, block, 1]);
    }
    return runs;
  }

  /**
   * writeBegin: returns the locked folio covering `pos`, after allocating the blocks the write
   * covers in it (all or none: ENOSPC changes no block), made uptodate first when the write does
   * not cover it: pages with blocks on disk are read, new blocks and holes are zeroed.
   *
   * Blocks are allocated for this folio only (block_write_begin maps the buffers of one folio):
   * `len` may run past the folio (performWrite asks for up to a chunk), and a block allocated now
   * for a later folio would not be new when that folio's turn comes, so its garbage on the disk
   * would be read into the part of the folio the write does not cover.
   */
  private prepareWrite(file: CachedFile, pos: number, len: number): number {
    const inode = this.fileInode(file as FsFile);
    const f = this.cache.folios;
    const first = Math.floor(pos / BLOCK_SIZE);
    const lastOfWrite = Math.floor((pos + len - 1) / BLOCK_SIZE);
    if (lastOfWrite >= MAX_FILE_BLOCKS) throw fail("EFBIG", `write at ${pos} is beyond the largest fs-simple file (${MAX_FILE_SIZE} bytes)`);
    let folio = grabFolioForWrite(this.cache, file, pos, len);
    let log: AllocLog;
    for (;;) {
      const last = Math.min(lastOfWrite, f.index(folio) + f.nrPages(folio) - 1);
      try {
        log = this.mapRange(inode, first, last);
        break;
      } catch (e) {
        // No room for the blocks of this whole folio: a single page may still fit, as Linux's
        // per-block allocation would fill the disk to its last block. A new large folio holds
        // nothing yet (it is not uptodate): drop it and write one page.
        const retry = isFolioError(e, "ENOSPC") && last > first && f.nrPages(folio) > 1 && !f.test(folio, FolioFlag.Uptodate);
        if (retry) this.cache.deleteFolio(file.mapping, folio);
        this.cache.unlock(folio);
        f.put(folio);
        if (!retry) throw e;
        folio = grabFolioForWrite(this.cache, file, pos, BLOCK_SIZE - (pos % BLOCK_SIZE));
      }
    }
    if (!f.test(folio, FolioFlag.Uptodate)) {
      const start = f.index(folio) * BLOCK_SIZE;
      if (!(pos === start && len >= f.size(folio))) {
        try {
          this.fillFolioSync(inode, folio, new Set(log.mapped), pos);
        } catch (e) {
          this.cache.unlock(folio);
          f.put(folio);
          this.unmapRange(inode, log);
          throw e;
        }
      }
    }
    return folio;
  }

  /**
   * Reads a locked folio's blocks (except `fresh` ones, zeroed) and waits, for a write at `pos`;
   * bytes past EOF are zeroed. The folio stays locked; it is uptodate unless this throws (EIO
   * for a failed read, or the code of whatever else failed).
   */
  private fillFolioSync(inode: Inode, folio: number, fresh: Set<number>, pos: number): void {
    const f = this.cache.folios;
    const data = f.data(folio);
    const base = f.dataOffset(folio);
    const first = f.index(folio);
    const sizeAtStart = inode.size;
    let pending = 0;
    let ok = true;
    let thrown: unknown = null;
    try {
      const runs = this.blockRuns(inode, first, f.nrPages(folio), (p) => data.fill(0, base + p * BLOCK_SIZE, base + (p + 1) * BLOCK_SIZE), sizeAtStart);
      for (const [p, block, count] of runs) {
        // Split runs around freshly allocated blocks, whose disk contents are garbage.
        for (let i = 0; i < count; i++) {
          if (fresh.has(first + p + i)) data.fill(0, base + (p + i) * BLOCK_SIZE, base + (p + i + 1) * BLOCK_SIZE);
        }
        let i = 0;
        while (i < count) {
          if (fresh.has(first + p + i)) {
            i++;
            continue;
          }
          let n = 1;
          while (i + n < count && !fresh.has(first + p + i + n)) n++;
          pending++;
          this.device.submit({
            op: "read", block: block + i, count: n, buffer: data, offset: base + (p + i) * BLOCK_SIZE,
            done: (e) => {
              if (e) ok = false;
              pending--;
            },
          });
          i += n;
        }
      }
    } catch (e) {
      ok = false;
      if (!isFolioError(e, "EIO")) thrown = e;
    }
    if (pending > 0) this.machine.scheduler.waitUntil(() => pending === 0, `read before write of inode ${inode.ino}`);
    if (thrown !== null) throw thrown;
    if (!ok) throw fail("EIO", `read before write of inode ${inode.ino} at ${pos} failed`);
    this.zeroPastEof(folio, Math.min(sizeAtStart, inode.size));
    f.set(folio, FolioFlag.Uptodate);
  }

  /**
   * WriteFolio for data: writes the pages below i_size that have blocks; holes stay holes. The
   * folio holding EOF is first zeroed past it, on every writeback (as block_write_full_folio
   * does): bytes stored there through a shared mapping are not file data and must not reach the
   * disk, where a crash could later make them part of the file.
   */
  private submitData(mapping: Mapping, folio: number): void {
    const f = this.cache.folios;
    this.zeroPastEof(folio, mapping.host.size);
    this.cache.startWriteback(mapping, folio);
    this.cache.unlock(folio);
    let pending = 1;
    let error = false;
    const complete = (e: FolioError | null) => {
      if (e) error = true;
      if (--pending === 0) {
        this.cache.endWriteback(mapping, folio, error ? "EIO" : null);
        if (error) {
          this.writeErrors++;
          // The folio stays dirty, unlike Linux, which leaves it clean: once reclaim dropped it,
          // reads would return the block's old contents — for a block just allocated, another
          // file's old data. Dirty, it stays in memory (the truth for readers), later writeback
          // writes it again, and the error is reported through the mapping (fsync's EIO).
          this.keepDirty(mapping, folio);
          // A directory's (or symlink's) blocks are part of the namespace: the image may be
          // inconsistent meanwhile, so it must not be marked clean. A file's stale data is not.
          const inode = this.inodes.get(mapping.host.ino);
          if (inode && inode.mapping === mapping && !inode.isReg) this.noteError(`write of block ${f.index(folio)} of ${mapping.host.label} failed`);
        }
      }
    };
    try {
      const inode = this.inodeOfMapping(mapping);
      const base = f.dataOffset(folio);
      const runs = this.blockRuns(inode, f.index(folio), f.nrPages(folio), () => {}, inode.size);
      for (const [p, block, count] of runs) {
        pending++;
        this.device.submit({ op: "write", block, count, buffer: f.data(folio), offset: base + p * BLOCK_SIZE, done: complete });
      }
    } catch (e) {
      error = true;
      this.noteError(`writeback of folio ${f.index(folio)}: ${e instanceof Error ? e.message : String(e)}`);
    }
    complete(null);
  }

  // ───────────────────────────── metadata through the bdev mapping ─────────────────────────────

  /** The uptodate metadata folio of device block `block`, with a reference the caller puts. */
  private metaGet(block: number): number {
    if (!Number.isInteger(block) || block < 0 || block >= this.sb.blockCount) throw this.corrupt(`metadata block ${block} is outside the filesystem`);
    // Its newest contents died with a memory error before they reached the disk: the copy there is
    // older, and reading it back would silently undo changes (a bitmap handing out blocks twice).
    if (this.bdev.lost.count !== 0 && this.bdev.lost.has(block)) throw this.lostBlock(`metadata block ${block}`);
    const f = this.cache.folios;
    for (let attempt = 0; ; attempt++) {
      let folio = this.cache.getFolio(this.bdev, block);
      if (folio === 0) {
        folio = f.alloc(0, Gfp.Movable, 0, block, FolioFlag.Locked);
        this.cache.addFolio(this.bdev, folio, block);
        this.submitMetaRead(folio);
      } else if (!f.test(folio, FolioFlag.Uptodate) && !f.test(folio, FolioFlag.Locked)) {
        // An earlier read failed: read again.
        this.cache.lock(folio);
        if (f.test(folio, FolioFlag.Uptodate)) this.cache.unlock(folio);
        else this.submitMetaRead(folio);
      }
      this.cache.waitUnlocked(folio);
      if (f.test(folio, FolioFlag.Uptodate)) return folio;
      const gone = f.owner(folio) !== this.bdev.ownerId;
      f.put(folio);
      if (!gone || attempt > 2) throw fail("EIO", `read of metadata block ${block} on ${this.device.name} failed`);
    }
  }

  private submitMetaRead(folio: number): void {
    const f = this.cache.folios;
    this.device.submit({
      op: "read", block: f.index(folio), count: 1, buffer: f.data(folio), offset: f.dataOffset(folio),
      done: (e) => finishRead(this.cache, folio, e === null),
    });
  }

  /** A fresh, zeroed metadata folio for a newly allocated block (never read: its old contents are garbage). */
  private metaNew(block: number): number {
    const f = this.cache.folios;
    // Whatever a memory error destroyed in this block before it was freed no longer matters.
    if (this.bdev.lost.count !== 0) this.bdev.lost.clear(block, 1);
    let folio = this.cache.getFolio(this.bdev, block);
    if (folio !== 0) {
      this.cache.lock(folio);
      this.cache.waitWriteback(folio);
    } else {
      folio = f.alloc(0, Gfp.Movable, 0, block, FolioFlag.Locked);
      this.cache.addFolio(this.bdev, folio, block);
    }
    f.data(folio).fill(0, f.dataOffset(folio), f.dataOffset(folio) + BLOCK_SIZE);
    f.set(folio, FolioFlag.Uptodate);
    f.clear(folio, FolioFlag.Error);
    this.cache.unlock(folio);
    this.cache.markDirty(this.bdev, folio);
    return folio;
  }

  /** Runs `change` on the bytes of a metadata folio (after its writeback ends) and marks it dirty. */
  private metaModify<T>(block: number, change: (data: Uint8Array, off: number) => T): T {
    const folio = this.metaGet(block);
    const f = this.cache.folios;
    try {
      this.cache.waitWriteback(folio);
      const r = change(f.data(folio), f.dataOffset(folio));
      this.cache.markDirty(this.bdev, folio);
      return r;
    } finally {
      f.put(folio);
    }
  }

  /** Reads bytes of a metadata block. */
  private metaRead<T>(block: number, look: (data: Uint8Array, off: number) => T): T {
    const folio = this.metaGet(block);
    try {
      return look(this.cache.folios.data(folio), this.cache.folios.dataOffset(folio));
    } finally {
      this.cache.folios.put(folio);
    }
  }

  /** Drops a freed metadata block from the cache, dirty or not, so it is never written over its next owner. */
  private metaForget(block: number): void {
    const f = this.cache.folios;
    const folio = this.cache.getFolio(this.bdev, block);
    this.pendingMeta.delete(block);
    if (this.bdev.lost.count !== 0) this.bdev.lost.clear(block, 1);
    if (folio === 0) return;
    this.cache.waitWriteback(folio);
    this.cache.lock(folio);
    if (f.owner(folio) === this.bdev.ownerId) this.cache.deleteFolio(this.bdev, folio);
    this.cache.unlock(folio);
    f.put(folio);
  }

  /** WriteFolio for metadata: folio index = device block. */
  private submitMeta(folio: number): void {
    const f = this.cache.folios;
    this.cache.startWriteback(this.bdev, folio);
    this.cache.unlock(folio);
    this.device.submit({
      op: "write", block: f.index(folio), count: 1, buffer: f.data(folio), offset: f.dataOffset(folio),
      done: (e) => {
        this.cache.endWriteback(this.bdev, folio, e ? "EIO" : null);
        if (e) {
          this.writeErrors++;
          // The metadata on disk may now be inconsistent: the image must not be marked clean.
          // The block stays dirty: the filesystem goes on from what is in memory, which must
          // never be dropped for the stale copy on disk; a later sync writes it again.
          this.noteError(`write of metadata block ${f.index(folio)} failed: ${e.message}`);
          this.keepDirty(this.bdev, folio);
        }
      },
    });
  }

  /** Marks a folio whose write failed dirty again, unless it left the mapping meanwhile (truncated, forgotten). */
  private keepDirty(mapping: Mapping, folio: number): void {
    if (this.cache.folios.owner(folio) === mapping.ownerId) this.cache.markDirty(mapping, folio);
  }

  /** Starts a data-integrity write of the dirty metadata folios of blocks [start, end]. */
  private writeMetaRange(start: number, end: number): void {
    if (end < start) return;
    writeCachePages(this.cache, this.bdev, { sync: true, start, end, nrToWrite: MAX_SAFE, reason: "fsync" }, (folio) => this.submitMeta(folio));
    if (start === end) this.pendingMeta.delete(start);
  }

  /**
   * EIO if a metadata block in one of the ranges (first, last) was lost to a memory error: a
   * durability call covering it cannot keep its promise, since the block's newest contents are
   * gone and the disk holds an older copy.
   */
  private checkLostMeta(ranges: readonly (readonly [number, number])[]): void {
    const lost = this.bdev.lost;
    if (lost.count === 0) return;
    for (const [first, last] of ranges) {
      const b = lost.nextFrom(first);
      if (b >= 0 && b <= last) throw this.lostBlock(`metadata block ${b}`);
    }
  }

  /**
   * EIO if metadata an fsync of `inode` makes durable was lost to a memory error: the bitmaps, the
   * inode's table block, or any of its indirect blocks (a lost one leaves the disk's block map of
   * the file older than the one in memory, whatever was written since).
   */
  private checkInodeMeta(inode: Inode): void {
    const lost = this.bdev.lost;
    if (lost.count === 0) return;
    const loc = inodeLocation(this.sb, inode.ino);
    this.checkLostMeta([[this.sb.blockBitmapStart, this.sb.inodeTableStart - 1], [loc.block, loc.block]]);
    if (inode.isInline) return;
    const ind = inode.ptrs[NDIR]!;
    const dind = inode.ptrs[NDIR + 1]!;
    if ((ind !== 0 && lost.has(ind)) || (dind !== 0 && lost.has(dind))) throw this.lostBlock(`indirect block ${lost.has(ind) ? ind : dind} of inode ${inode.ino}`);
    if (dind === 0) return;
    const children = this.metaRead(dind, (d, o) => Array.from({ length: PTRS_PER_BLOCK }, (_, i) => getU32(d, o + i * 4)));
    for (const b of children) if (b !== 0 && lost.has(b)) throw this.lostBlock(`indirect block ${b} of inode ${inode.ino}`);
  }

  /**
   * The error for a metadata, directory or symlink block whose dirty contents a memory error
   * destroyed (the page cache recorded the loss): EIO, and the image is left marked not clean at
   * unmount, as after a failed metadata write, so fsck runs.
   */
  private lostBlock(what: string): FolioError {
    this.noteError(`${what} was lost to a memory error before it reached the disk`);
    return fail("EIO", `${this.device.name}: ${what} was lost to a memory error before it reached the disk (it reads as EIO until unmount)`);
  }

  private checkMetaErrors(): void {
    const err = this.bdev.wbErr.checkAndAdvance(this.metaErrCursor);
    if (err !== null) throw fail(err, `metadata writeback on ${this.device.name} failed: metadata written since the last check may be lost`);
  }

  private flushDevice(): void {
    let done = false;
    let error: FolioError | null = null;
    this.device.submit({
      op: "flush", block: 0, count: 0, buffer: new Uint8Array(0), offset: 0,
      done: (e) => {
        done = true;
        error = e;
      },
    });
    this.machine.scheduler.waitUntil(() => done, `flush of ${this.device.name}`);
    if (error !== null) throw fail("EIO", `flush of ${this.device.name} failed: ${(error as FolioError).message}`);
  }

  /** Copies the in-memory superblock (free counts, state, times) into its folio. */
  private storeSuper(): void {
    this.sb.writeTimeNs = this.now();
    const sb = this.sb;
    this.metaModify(SUPER_BLOCK, (d, o) => encodeSuper(d, o, sb));
  }

  /** Counts free blocks and inodes from the bitmaps (the superblock's counts may be stale after a crash). */
  private countFree(): void {
    const sb = this.sb;
    const count = (start: number, nblocks: number, total: number, what: string): number => {
      let used = 0;
      for (let b = 0; b < nblocks; b++) {
        const lo = b * BITS_PER_BLOCK;
        const hi = Math.min(total, lo + BITS_PER_BLOCK);
        if (hi <= lo) break;
        used += this.metaRead(start + b, (d, o) => {
          let n = 0;
          for (let i = 0; i < hi - lo; ) {
            if ((i & 7) === 0 && i + 8 <= hi - lo) {
              n += POPCOUNT[d[o + (i >>> 3)]!]!;
              i += 8;
            } else {
              if (testBit(d, o, i)) n++;
              i++;
            }
          }
          return n;
        });
      }
      if (used > total) throw fail("EUCLEAN", `${what} bitmap is corrupted`);
      return total - used;
    };
    sb.freeBlocks = count(sb.blockBitmapStart, sb.blockBitmapBlocks, sb.blockCount, "block");
    sb.freeInodes = count(sb.inodeBitmapStart, sb.inodeBitmapBlocks, sb.inodeCount, "inode");
    // The metadata area must be marked in use, or the allocator would hand it out.
    const metaOk = this.metaRead(sb.blockBitmapStart, (d, o) => {
      for (let i = 0; i < Math.min(sb.firstDataBlock, BITS_PER_BLOCK); i++) if (!testBit(d, o, i)) return false;
      return true;
    });
    if (!metaOk) throw fail("EUCLEAN", `${this.device.name}: the block bitmap marks metadata blocks free (run fsck)`);
    const rootOk = this.metaRead(sb.inodeBitmapStart, (d, o) => testBit(d, o, 0) && testBit(d, o, ROOT_INO));
    if (!rootOk) throw fail("EUCLEAN", `${this.device.name}: the inode bitmap marks the root inode free (run fsck)`);
  }

  // ───────────────────────────── allocation ─────────────────────────────

  /** Allocates a bit in a bitmap, searching from `goal` and wrapping; -1 if the bitmap is full. */
  private allocBit(start: number, lo: number, total: number, goal: number): number {
    let g = Math.min(Math.max(goal, lo), total - 1);
    if (g < lo) return -1;
    for (const [from, to] of [[g, total], [lo, g]] as const) {
      let bit = from;
      while (bit < to) {
        const bmBlock = Math.floor(bit / BITS_PER_BLOCK);
        const base = bmBlock * BITS_PER_BLOCK;
        const end = Math.min(to, base + BITS_PER_BLOCK);
        const found = this.metaRead(start + bmBlock, (d, o) => findZero(d, o, bit - base, end - base));
        if (found >= 0) {
          this.metaModify(start + bmBlock, (d, o) => setBit(d, o, found));
          return base + found;
        }
        bit = end;
      }
      g = lo;
    }
    return -1;
  }

  private allocBlock(goal: number): number {
    if (this.sb.freeBlocks <= 0) throw fail("ENOSPC", `no free blocks on ${this.device.name}`);
    const b = this.allocBit(this.sb.blockBitmapStart, this.sb.firstDataBlock, this.sb.blockCount, goal);
    if (b < 0) {
      this.sb.freeBlocks = 0;
      throw this.corrupt(`the block bitmap is full but the free count said otherwise`, "ENOSPC");
    }
    this.sb.freeBlocks--;
    this.blockCursor = b + 1;
    return b;
  }

  private freeBlock(block: number): void {
    if (block < this.sb.firstDataBlock || block >= this.sb.blockCount) {
      this.noteError(`attempt to free block ${block} outside the data area`);
      return;
    }
    const bmBlock = this.sb.blockBitmapStart + Math.floor(block / BITS_PER_BLOCK);
    const bit = block % BITS_PER_BLOCK;
    const wasSet = this.metaModify(bmBlock, (d, o) => {
      const s = testBit(d, o, bit);
      clearBit(d, o, bit);
      return s;
    });
    if (wasSet) this.sb.freeBlocks++;
    else this.noteError(`block ${block} was freed twice`);
  }

  private allocInodeNumber(): number {
    if (this.sb.freeInodes <= 0) throw fail("ENOSPC", `no free inodes on ${this.device.name}`);
    const ino = this.allocBit(this.sb.inodeBitmapStart, 1, this.sb.inodeCount, this.inodeCursor);
    if (ino < 0) {
      this.sb.freeInodes = 0;
      throw this.corrupt(`the inode bitmap is full but the free count said otherwise`, "ENOSPC");
    }
    this.sb.freeInodes--;
    this.inodeCursor = ino + 1;
    return ino;
  }

  private freeInodeNumber(ino: number): void {
    const bmBlock = this.sb.inodeBitmapStart + Math.floor(ino / BITS_PER_BLOCK);
    const bit = ino % BITS_PER_BLOCK;
    const wasSet = this.metaModify(bmBlock, (d, o) => {
      const s = testBit(d, o, bit);
      clearBit(d, o, bit);
      return s;
    });
    if (wasSet) this.sb.freeInodes++;
    else this.noteError(`inode ${ino} was freed twice`);
  }

  // ───────────────────────────── block map ─────────────────────────────

  private checkPtr(v: number, inode: Inode, where: string): number {
    if (v !== 0 && (v < this.sb.firstDataBlock || v >= this.sb.blockCount)) throw this.corrupt(`inode ${inode.ino}: ${where} points at block ${v}, outside the data area`);
    return v;
  }

  /** The device block of file block `index`, or 0 for a hole. */
  private bmap(inode: Inode, index: number): number {
    if (inode.isInline) return 0;
    const path = blockPath(index);
    let block = this.checkPtr(inode.ptrs[path[0]!]!, inode, `pointer ${path[0]}`);
    for (let d = 1; d < path.length && block !== 0; d++) {
      const slot = path[d]!;
      block = this.checkPtr(this.metaRead(block, (data, off) => getU32(data, off + slot * 4)), inode, `indirect block ${block} slot ${slot}`);
    }
    return block;
  }

  /**
   * {@link bmap} of every file block in [first, last], reading each indirect block once: the
   * blocks of one large folio share their indirect blocks, and a page fault on any of its pages
   * checks them all (page_mkwrite).
   */
  private bmapRange(inode: Inode, first: number, last: number): number[] {
    const out: number[] = [];
    if (inode.isInline) return new Array<number>(last - first + 1).fill(0);
    const tables = new Map<number, Uint8Array>();
    for (let i = first; i <= last; i++) {
      const path = blockPath(i);
      let block = this.checkPtr(inode.ptrs[path[0]!]!, inode, `pointer ${path[0]}`);
      for (let d = 1; d < path.length && block !== 0; d++) {
        let table = tables.get(block);
        if (table === undefined) {
          table = this.metaRead(block, (data, off) => data.slice(off, off + BLOCK_SIZE));
          tables.set(block, table);
        }
        block = this.checkPtr(getU32(table, path[d]! * 4), inode, `indirect block ${block} slot ${path[d]}`);
      }
      out.push(block);
    }
    return out;
  }

  /** Blocks needed to map the holes among `indices` (data plus missing indirect blocks). */
  private blocksNeeded(inode: Inode, indices: number[]): number {
    const meta = new Set<string>();
    for (const i of indices) {
      const path = blockPath(i);
      if (path.length === 2 && inode.ptrs[NDIR] === 0) meta.add("i");
      if (path.length === 3) {
        const dind = inode.ptrs[NDIR + 1]!;
        if (dind === 0) {
          meta.add("d");
          meta.add(`d${path[1]}`);
        } else if (this.metaRead(dind, (d, o) => getU32(d, o + path[1]! * 4)) === 0) {
          meta.add(`d${path[1]}`);
        }
      }
    }
    return indices.length + meta.size;
  }

  /**
   * Maps the holes among file blocks [first, last] to newly allocated blocks, with the indirect
   * blocks they need. All or nothing: ENOSPC (or an I/O error) leaves the file as it was.
   */
  private mapRange(inode: Inode, first: number, last: number): AllocLog {
    const log: AllocLog = { mapped: [], meta: [] };
    const holes: number[] = [];
    const blocks = this.bmapRange(inode, first, last);
    for (let i = first; i <= last; i++) if (blocks[i - first] === 0) holes.push(i);
    if (holes.length === 0) return log;
    const need = this.blocksNeeded(inode, holes);
    if (need > this.sb.freeBlocks) {
      throw fail("ENOSPC", `no space on ${this.device.name}: ${need} blocks needed, ${this.sb.freeBlocks} free`);
    }
    try {
      for (const i of holes) this.mapOne(inode, i, log);
    } catch (e) {
      this.unmapRange(inode, log);
      throw e;
    }
    inode.dataDirty = true;
    this.markInodeDirty(inode, true);
    return log;
  }

  private goalFor(inode: Inode, index: number): number {
    if (index > 0 && index - 1 < MAX_FILE_BLOCKS) {
      const prev = index - 1 < NDIR ? inode.ptrs[index - 1]! : 0;
      if (prev !== 0) return prev + 1;
    }
    return this.blockCursor;
  }

  private mapOne(inode: Inode, index: number, log: AllocLog): void {
    const path = blockPath(index);
    const goal = this.goalFor(inode, index);
    if (path.length === 1) {
      inode.ptrs[index] = this.allocBlock(goal);
      inode.blocks++;
      log.mapped.push(index);
      return;
    }
    const top = path[0]!;
    let parent = inode.ptrs[top]!;
    if (parent === 0) {
      parent = this.allocBlock(goal);
      this.cache.folios.put(this.metaNew(parent));
      inode.ptrs[top] = parent;
      inode.blocks++;
      inode.metaDirty.add(parent);
      log.meta.push({ block: parent, parent: 0, slot: top });
    }
    if (path.length === 3) {
      const slot = path[1]!;
      let child = this.metaRead(parent, (d, o) => getU32(d, o + slot * 4));
      if (child === 0) {
        child = this.allocBlock(parent + 1);
        this.cache.folios.put(this.metaNew(child));
        const c = child;
        this.metaModify(parent, (d, o) => putU32(d, o + slot * 4, c));
        inode.blocks++;
        inode.metaDirty.add(parent);
        inode.metaDirty.add(child);
        log.meta.push({ block: child, parent, slot });
      }
      parent = child;
    }
    const slot = path[path.length - 1]!;
    const data = this.allocBlock(goal);
    this.metaModify(parent, (d, o) => putU32(d, o + slot * 4, data));
    inode.metaDirty.add(parent);
    inode.blocks++;
    log.mapped.push(index);
  }

  /** Undoes a mapRange: unmaps and frees its data blocks, then its indirect blocks. */
  private unmapRange(inode: Inode, log: AllocLog): void {
    for (const i of log.mapped.reverse()) {
      const path = blockPath(i);
      let block: number;
      if (path.length === 1) {
        block = inode.ptrs[i]!;
        inode.ptrs[i] = 0;
      } else {
        let parent = inode.ptrs[path[0]!]!;
        if (path.length === 3) parent = this.metaRead(parent, (d, o) => getU32(d, o + path[1]! * 4));
        const slot = path[path.length - 1]!;
        block = this.metaRead(parent, (d, o) => getU32(d, o + slot * 4));
        this.metaModify(parent, (d, o) => putU32(d, o + slot * 4, 0));
      }
      if (block !== 0) {
        this.freeBlock(block);
        inode.blocks--;
      }
    }
    for (const m of log.meta.reverse()) {
      if (m.parent === 0) inode.ptrs[m.slot] = 0;
      else this.metaModify(m.parent, (d, o) => putU32(d, o + m.slot * 4, 0));
      this.metaForget(m.block);
      inode.metaDirty.delete(m.block);
      inode.queuedMeta.delete(m.block);
      this.freeBlock(m.block);
      inode.blocks--;
    }
    log.mapped = [];
    log.meta = [];
  }

  /** Frees every block of the file from file block `from` on, and indirect blocks no longer needed. */
  private truncateBlocks(inode: Inode, from: number): void {
    this.applyTruncate(inode, this.planTruncate(inode, from));
  }

  /**
   * The first half of freeing a file's blocks from file block `from` on: reads everything the
   * change will touch (the indirect blocks walked, the block-bitmap blocks of the blocks freed,
   * and `alsoPin` blocks) and holds their folios, changing nothing. It can fail (EIO, ENOMEM),
   * and then leaves no trace; {@link applyTruncate} cannot, so a truncate either fails before
   * any change or completes.
   */
  private planTruncate(inode: Inode, from: number, alsoPin: readonly number[] = []): TruncatePlan {
    const plan: TruncatePlan = { from: Math.max(0, from), slots: [], trims: [], data: [], meta: [], bad: [], pinned: [] };
    try {
      if (!inode.isInline) this.planTruncateTree(inode, Math.max(0, from), plan);
      const pins = new Set(alsoPin);
      for (const b of [...plan.data, ...plan.meta]) pins.add(this.sb.blockBitmapStart + Math.floor(b / BITS_PER_BLOCK));
      for (const b of pins) plan.pinned.push(this.metaGet(b));
    } catch (e) {
      this.unpin(plan);
      throw e;
    }
    return plan;
  }

  private planTruncateTree(inode: Inode, from: number, plan: TruncatePlan): void {
    const inRange = (p: number) => p >= this.sb.firstDataBlock && p < this.sb.blockCount;
    for (let i = from; i < NDIR; i++) {
      const p = inode.ptrs[i]!;
      if (p === 0) continue;
      plan.slots.push(i);
      if (inRange(p)) plan.data.push(p);
      else plan.bad.push(`inode ${inode.ino}: pointer ${i} points at block ${p}`);
    }
    // Plans freeing the entries [lo, 1024) of an indirect block of depth `depth` (1: data below, 2: indirect below).
    const trim = (block: number, depth: number, lo: number): void => {
      const folio = this.metaGet(block);
      plan.pinned.push(folio);
      const f = this.cache.folios;
      const d = f.data(folio);
      const o = f.dataOffset(folio);
      let changed = false;
      for (let s = lo; s < PTRS_PER_BLOCK; s++) {
        const p = getU32(d, o + s * 4);
        if (p === 0) continue;
        changed = true;
        if (!inRange(p)) {
          plan.bad.push(`inode ${inode.ino}: indirect block ${block} slot ${s} points at ${p}`);
        } else if (depth === 2) {
          trim(p, 1, 0);
          plan.meta.push(p);
        } else {
          plan.data.push(p);
        }
      }
      if (changed && lo > 0) plan.trims.push({ block, from: lo });
    };
    const tree = (slot: number, start: number, depth: number) => {
      const block = inode.ptrs[slot]!;
      if (block === 0) return;
      if (from <= start) {
        trim(block, depth, 0);
        plan.meta.push(block);
        plan.slots.push(slot);
      } else if (depth === 1) {
        if (from < start + PTRS_PER_BLOCK) trim(block, 1, from - start);
      } else {
        const k = from - start;
        const j = Math.floor(k / PTRS_PER_BLOCK);
        const r = k % PTRS_PER_BLOCK;
        if (r !== 0) {
          const child = this.metaRead(block, (d, o) => getU32(d, o + j * 4));
          if (inRange(child)) trim(child, 1, r);
          if (j + 1 < PTRS_PER_BLOCK) trim(block, 2, j + 1);
        } else {
          trim(block, 2, j);
        }
      }
    };
    tree(NDIR, IND_START, 1);
    tree(NDIR + 1, DIND_START, 2);
  }

  /** The second half: applies a plan (nothing in it can fail: every block it touches is held) and releases its folios. */
  private applyTruncate(inode: Inode, plan: TruncatePlan): void {
    try {
      if (plan.data.length > 0) this.forgetMappedToDisk(inode, plan.from);
      for (const slot of plan.slots) inode.ptrs[slot] = 0;
      for (const t of plan.trims) {
        this.metaModify(t.block, (d, o) => d.fill(0, o + t.from * 4, o + BLOCK_SIZE));
        inode.metaDirty.add(t.block);
      }
      for (const b of plan.meta) {
        this.metaForget(b);
        inode.metaDirty.delete(b);
        inode.queuedMeta.delete(b);
      }
      for (const b of [...plan.data, ...plan.meta]) {
        this.freeBlock(b);
        inode.blocks--;
      }
      for (const what of plan.bad) this.noteError(what);
      inode.dataDirty = true;
      this.markInodeDirty(inode, true);
    } finally {
      this.unpin(plan);
    }
  }

  private unpin(plan: TruncatePlan): void {
    for (const folio of plan.pinned) this.cache.folios.put(folio);
    plan.pinned = [];
  }

  // ───────────────────────────── inodes ─────────────────────────────

  /** The in-memory inode `ino`, read from the inode table if needed. Throws ENOENT for a free inode. */
  private iget(ino: number): Inode {
    const cached = this.inodes.get(ino);
    if (cached) return cached;
    if (!Number.isSafeInteger(ino) || ino < 1 || ino >= this.sb.inodeCount) throw fail("ENOENT", `inode ${ino} does not exist on ${this.device.name}`);
    const loc = inodeLocation(this.sb, ino);
    const raw = this.metaRead(loc.block, (d, o) => decodeInode(d, o + loc.offset));
    if (raw.mode === 0) throw fail("ENOENT", `inode ${ino} is not in use on ${this.device.name}`);
    if (!validType(raw.mode)) throw this.corrupt(`inode ${ino} has an invalid mode 0o${raw.mode.toString(8)}`);
    if (raw.size > MAX_FILE_SIZE) throw this.corrupt(`inode ${ino} has size ${raw.size}, beyond the largest file`);
    if (raw.flags & INODE_FLAG_INLINE) {
      if ((raw.mode & S_IFMT) !== S_IFLNK || raw.size > INLINE_MAX) throw this.corrupt(`inode ${ino} has bad inline data`);
    }
    for (let i = 0; i < raw.ptrs.length; i++) {
      const p = raw.ptrs[i]!;
      if (p !== 0 && (p < this.sb.firstDataBlock || p >= this.sb.blockCount)) throw this.corrupt(`inode ${ino}: pointer ${i} is block ${p}, outside the data area`);
    }
    if ((raw.mode & S_IFMT) === S_IFDIR && raw.size % BLOCK_SIZE !== 0) throw this.corrupt(`directory ${ino} has size ${raw.size}, not a multiple of ${BLOCK_SIZE}`);
    return this.addInode(ino, raw);
  }

  private addInode(ino: number, raw: RawInode): Inode {
    const host: InodeHost = { ino, label: `inode ${ino} on fs-simple`, size: raw.size };
    const isReg = (raw.mode & S_IFMT) === S_IFREG;
    const mapping = this.cache.createMapping(host, { maxOrder: isReg ? this.maxOrder : 0 });
    const inode = new Inode(ino, raw, mapping);
    this.inodes.set(ino, inode);
    return inode;
  }

  private markInodeDirty(inode: Inode, data = false): void {
    if (data) inode.dataDirty = true;
    if (!inode.dirty) {
      inode.dirty = true;
      inode.dirtiedAt = this.machine.scheduler.now;
      this.dirtyInodes.add(inode);
    }
  }

  /**
   * Copies the inode into its inode-table folio (write_inode) and queues that block and the
   * inode's changed indirect blocks for writing. Callers make sure the data went first.
   */
  private storeInode(inode: Inode): void {
    const loc = inodeLocation(this.sb, inode.ino);
    const raw = inode.toRaw();
    this.metaModify(loc.block, (d, o) => encodeInode(d, o + loc.offset, raw));
    inode.dirty = false;
    inode.dataDirty = false;
    inode.dirtiedAt = -1;
    this.dirtyInodes.delete(inode);
    this.pendingMeta.add(loc.block);
    for (const b of inode.metaDirty) {
      inode.queuedMeta.add(b);
      this.pendingMeta.add(b);
    }
    inode.metaDirty.clear();
  }

  /** Frees an unlinked, unused inode: its cached pages, its blocks, its table slot and number. */
  private destroyInode(inode: Inode): void {
    const loc = inodeLocation(this.sb, inode.ino);
    // Everything that can fail first: a failure leaves the inode as it was.
    const plan = this.planTruncate(inode, 0, [loc.block, this.sb.inodeBitmapStart + Math.floor(inode.ino / BITS_PER_BLOCK)]);
    truncateInodePages(this.cache, inode.mapping, 0);
    this.applyTruncate(inode, plan);
    const empty = emptyInode();
    this.metaModify(loc.block, (d, o) => encodeInode(d, o + loc.offset, empty));
    this.pendingMeta.add(loc.block);
    this.freeInodeNumber(inode.ino);
    inode.dirty = false;
    this.dirtyInodes.delete(inode);
    this.dropInode(inode);
  }

  /** Forgets an in-memory inode and its mapping (its pages must be clean or unwanted). */
  private dropInode(inode: Inode): void {
    truncateInodePages(this.cache, inode.mapping, 0);
    this.cache.destroyMapping(inode.mapping);
    this.inodes.delete(inode.ino);
    this.dirtyInodes.delete(inode);
  }

  /**
   * Sets i_size. Growing first zeroes the old last block past EOF (see zeroTailPastEof).
   * Shrinking drops cached pages and frees the blocks past the new size, and zeroes the tail of
   * the new last block. Every step that can fail (reading that block, the indirect blocks and
   * bitmaps) comes before the first change, so a failed call changes nothing.
   */
  private setSize(inode: Inode, size: number): void {
    const old = inode.size;
    if (size === old) return;
    if (size > old) {
      this.zeroTailPastEof(inode);
      truncateSetSize(this.cache, inode.mapping, size);
      this.markInodeDirty(inode, true);
      return;
    }
    const f = this.cache.folios;
    const index = Math.floor(size / BLOCK_SIZE);
    // Bytes past EOF in the new last block must be zero on disk too, or extending the file would show them.
    const last = size % BLOCK_SIZE !== 0 && this.bmap(inode, index) !== 0 ? this.dataFolio(inode, index) : 0;
    try {
      const plan = this.planTruncate(inode, Math.ceil(size / BLOCK_SIZE));
      truncateSetSize(this.cache, inode.mapping, size);
      this.applyTruncate(inode, plan);
      if (last !== 0) this.zeroFolioFrom(inode, last, size);
    } finally {
      if (last !== 0) f.put(last);
    }
    this.markInodeDirty(inode, true);
  }

  /**
   * Before the file grows past its size (any write that ends past EOF, a truncate up): zeroes the
   * bytes of the last block past EOF in the cache and marks it dirty, so that the disk holds
   * zeros there too. The cached page may hold bytes stored past EOF through a shared mapping (the
   * page is mapped whole); a page read back from the disk is zeroed past EOF, but only up to the
   * size at the time, and the disk may hold old bytes there (a crash after the data write of a
   * longer version landed, not the inode's new size). Once the file is longer, either would
   * otherwise become file data. The dirty block is written before the inode with the new size is
   * stored (data before metadata). Can fail (EIO, ENOMEM reading the block) and then changes
   * nothing visible.
   */
  private zeroTailPastEof(inode: Inode): void {
    const size = inode.size;
    if (inode.isInline || size % BLOCK_SIZE === 0) return;
    const index = Math.floor(size / BLOCK_SIZE);
    if (this.bmap(inode, index) === 0) return; // a hole: nothing on disk to show
    const folio = this.dataFolio(inode, index);
    try {
      this.zeroFolioFrom(inode, folio, size);
    } finally {
      this.cache.folios.put(folio);
    }
  }

  /** Zeroes an uptodate data folio from file offset `size` to its end (under its lock, after writeback) and marks it dirty. */
  private zeroFolioFrom(inode: Inode, folio: number, size: number): void {
    this.cache.lock(folio);
    try {
      this.cache.waitWriteback(folio);
      this.zeroPastEof(folio, size);
      this.cache.markDirty(inode.mapping, folio);
    } finally {
      this.cache.unlock(folio);
    }
  }

  /**
   * The uptodate data folio covering file block `index` (read if needed), with a reference. A
   * directory's or symlink's block lost to a memory error is EIO: its newest contents never reached
   * the disk. (A regular file's lost pages are the page cache's business: reads of them fail, and
   * the tail zeroing that comes here may work on the disk's copy, which nobody reads.)
   */
  private dataFolio(inode: Inode, index: number): number {
    const f = this.cache.folios;
    const mapping = inode.mapping;
    if (!inode.isReg && mapping.lost.count !== 0 && mapping.lost.has(index)) throw this.lostBlock(`block ${index} of ${inode.isDir ? "directory" : "symlink"} ${inode.ino}`);
    for (let attempt = 0; ; attempt++) {
      let folio = this.cache.getFolio(mapping, index);
      try {
        if (folio === 0) {
          folio = f.alloc(0, Gfp.Movable, 0, index, FolioFlag.Locked);
          this.cache.addFolio(mapping, folio, index);
          this.startFolioRead(mapping, folio);
        } else if (!f.test(folio, FolioFlag.Uptodate) && !f.test(folio, FolioFlag.Locked)) {
          this.cache.lock(folio);
          if (f.test(folio, FolioFlag.Uptodate)) this.cache.unlock(folio);
          else this.startFolioRead(mapping, folio);
        }
        this.cache.waitUnlocked(folio);
      } catch (e) {
        // startFolioRead ended the read (the folio is unlocked, not uptodate) before throwing.
        if (folio !== 0) f.put(folio);
        throw e;
      }
      if (f.test(folio, FolioFlag.Uptodate)) return folio;
      const gone = f.owner(folio) !== mapping.ownerId;
      f.put(folio);
      if (!gone || attempt > 2) throw fail("EIO", `read of block ${index} of inode ${inode.ino} failed`);
    }
  }

  /** A new, zeroed, uptodate data folio at `index` (for a block just allocated), locked, with a reference. */
  private newDataFolio(inode: Inode, index: number): number {
    const f = this.cache.folios;
    // A block just allocated: what a memory error destroyed at this index before is replaced whole.
    if (inode.mapping.lost.count !== 0) inode.mapping.lost.clear(index, 1);
    let folio = this.cache.getFolio(inode.mapping, index);
    if (folio !== 0) {
      this.cache.lock(folio);
      this.cache.waitWriteback(folio);
    } else {
      folio = f.alloc(0, Gfp.Movable, 0, index, FolioFlag.Locked);
      this.cache.addFolio(inode.mapping, folio, index);
    }
    f.data(folio).fill(0, f.dataOffset(folio), f.dataOffset(folio) + f.size(folio));
    f.set(folio, FolioFlag.Uptodate);
    return folio;
  }

  private fileInode(file: FsFile | CachedFile): Inode {
    const ino = (file as FsFile).ino ?? file.mapping.host.ino;
    const inode = this.inodes.get(ino);
    if (!inode || inode.mapping !== file.mapping) throw fail("EBADF", `file of inode ${ino} is not open on this filesystem`);
    return inode;
  }

  private inodeOfMapping(mapping: Mapping): Inode {
    const inode = this.inodes.get(mapping.host.ino);
    if (!inode || inode.mapping !== mapping) throw fail("EINVAL", `mapping of ${mapping.host.label} does not belong to this filesystem`);
    return inode;
  }

  private dirInode(ino: number): Inode {
    const d = this.iget(ino);
    if (!d.isDir) throw fail("ENOTDIR", `inode ${ino} is not a directory`);
    return d;
  }

  // ───────────────────────────── directories ─────────────────────────────

  /**
   * Visits each block of a directory with its parsed entries; `visit` returns true to stop.
   * A corrupt block is EUCLEAN. Bounded by the directory's size.
   */
  private dirWalk(dir: Inode, visit: (index: number, data: Uint8Array, off: number, entries: ReturnType<typeof parseDirBlock>["entries"]) => boolean): void {
    if (dir.size % BLOCK_SIZE !== 0) throw this.corrupt(`directory ${dir.ino} has size ${dir.size}`);
    const n = dir.size / BLOCK_SIZE;
    const f = this.cache.folios;
    for (let index = 0; index < n; index++) {
      const folio = this.dataFolio(dir, index);
      try {
        const data = f.data(folio);
        const off = f.dataOffset(folio) + (index - f.index(folio)) * BLOCK_SIZE;
        const parsed = parseDirBlock(data, off);
        if (parsed.error) throw this.corrupt(`directory ${dir.ino} block ${index} offset ${parsed.error.offset}: ${parsed.error.why}`);
        parsed.entries.forEach((e, i) => {
          const where = `directory ${dir.ino} block ${index} offset ${e.offset}`;
          if (index === 0 && i < 2) {
            const want = i === 0 ? 1 : 2;
            if (e.ino === 0 || e.nameLen !== want || e.name[0] !== 0x2e || e.name[want - 1] !== 0x2e || (i === 0 && e.ino !== dir.ino)) {
              throw this.corrupt(`${where}: expected the "${i === 0 ? "." : ".."}" entry`);
            }
            return;
          }
          if (e.ino === 0) return;
          if (e.ino >= this.sb.inodeCount) throw this.corrupt(`${where}: entry points at inode ${e.ino}, beyond the inode table`);
          if (e.name.includes(0) || e.name.includes(0x2f) || isDotName(e.name)) throw this.corrupt(`${where}: invalid name`);
        });
        if (visit(index, data, off, parsed.entries)) return;
      } finally {
        f.put(folio);
      }
    }
  }

  /** Finds `name` (if given) and a place for an entry of `need` bytes (if need > 0). */
  private dirScan(dir: Inode, name: Uint8Array | null, need: number): { found: DirSlot | null; space: DirSpace | null } {
    let found: DirSlot | null = null;
    let space: DirSpace | null = null;
    this.dirWalk(dir, (index, data, off, entries) => {
      for (const e of entries) {
        if (need > 0 && space === null) {
          if (e.ino === 0 && e.recLen >= need) space = { index, offset: e.offset, reuse: true };
          else if (e.ino !== 0 && e.recLen - direntSize(e.nameLen) >= need) space = { index, offset: e.offset, reuse: false };
        }
        if (name !== null && found === null && e.ino !== 0 && e.nameLen === name.length) {
          const at = off + e.offset + DIRENT_HEADER;
          if (bytesEqual(data.subarray(at, at + e.nameLen), name)) found = { index, offset: e.offset, ino: e.ino, type: e.type };
        }
      }
      return (name === null || found !== null) && (need === 0 || space !== null);
    });
    return { found, space };
  }

  /**
   * Reads the data folios of directory blocks `[inode, block index]` (entries with no index are
   * skipped) and holds a reference on each, so page reclaim cannot drop them: an operation that
   * changes several calls this before its first change, after which changing them needs no read
   * and cannot fail. A failed read releases what it took. Give the folios back with releaseFolios.
   */
  private holdDirBlocks(blocks: readonly (readonly [Inode, number | undefined])[]): number[] {
    const held: number[] = [];
    try {
      for (const [inode, index] of blocks) if (index !== undefined) held.push(this.dataFolio(inode, index));
    } catch (e) {
      this.releaseFolios(held);
      throw e;
    }
    return held;
  }

  private releaseFolios(folios: readonly number[]): void {
    for (const folio of folios) this.cache.folios.put(folio);
  }

  /** Runs `change` on a directory block's bytes (locked, writeback ended) and marks it dirty. */
  private dirModify<T>(dir: Inode, index: number, change: (data: Uint8Array, off: number) => T): T {
    const f = this.cache.folios;
    const folio = this.dataFolio(dir, index);
    try {
      this.cache.lock(folio);
      try {
        this.cache.waitWriteback(folio);
        const r = change(f.data(folio), f.dataOffset(folio) + (index - f.index(folio)) * BLOCK_SIZE);
        this.cache.markDirty(dir.mapping, folio);
        return r;
      } finally {
        this.cache.unlock(folio);
      }
    } finally {
      f.put(folio);
    }
  }

  /** Adds an entry at `space`, or in a new block (ENOSPC leaves the directory as it was). */
  private dirInsert(dir: Inode, space: DirSpace | null, name: Uint8Array, ino: number, type: number): void {
    if (space) {
      this.dirModify(dir, space.index, (d, o) => {
        const recLen = d[o + space.offset + 4]! | (d[o + space.offset + 5]! << 8);
        if (space.reuse) {
          putDirent(d, o, space.offset, ino, recLen, name, type);
        } else {
          const used = direntSize(d[o + space.offset + 6]!);
          setDirentRecLen(d, o, space.offset, used);
          putDirent(d, o, space.offset + used, ino, recLen - used, name, type);
        }
      });
    } else {
      const index = dir.size / BLOCK_SIZE;
      if (index >= MAX_FILE_BLOCKS) throw fail("ENOSPC", `directory ${dir.ino} is as large as a file can be`);
      const log = this.mapRange(dir, index, index);
      let folio: number;
      try {
        folio = this.newDataFolio(dir, index);
      } catch (e) {
        this.unmapRange(dir, log);
        throw e;
      }
      const f = this.cache.folios;
      putDirent(f.data(folio), f.dataOffset(folio), 0, ino, BLOCK_SIZE, name, type);
      dir.size += BLOCK_SIZE;
      this.cache.markDirty(dir.mapping, folio);
      this.cache.unlock(folio);
      f.put(folio);
      this.markInodeDirty(dir, true);
    }
    dir.mtimeNs = dir.ctimeNs = this.now();
    this.markInodeDirty(dir);
  }

  /** Removes the entry at `slot` (merged into the entry before it, or marked unused if first in its block). */
  private dirRemove(dir: Inode, slot: DirSlot): void {
    this.dirModify(dir, slot.index, (d, o) => {
      const { entries, error } = parseDirBlock(d, o);
      if (error) throw this.corrupt(`directory ${dir.ino} block ${slot.index}: ${error.why}`);
      const i = entries.findIndex((e) => e.offset === slot.offset);
      if (i < 0) throw this.corrupt(`directory ${dir.ino} block ${slot.index}: no entry at offset ${slot.offset}`);
      if (i === 0) setDirentIno(d, o, slot.offset, 0, 0);
      else setDirentRecLen(d, o, entries[i - 1]!.offset, entries[i - 1]!.recLen + entries[i]!.recLen);
    });
    dir.mtimeNs = dir.ctimeNs = this.now();
    this.markInodeDirty(dir);
  }

  /** Points the entry at `slot` to another inode (rename over an existing name, exchange). */
  private dirSetIno(dir: Inode, slot: DirSlot, ino: number, type: number): void {
    this.dirModify(dir, slot.index, (d, o) => setDirentIno(d, o, slot.offset, ino, type));
  }

  /** True when a directory holds nothing but "." and "..". */
  private dirEmpty(dir: Inode): boolean {
    let empty = true;
    this.dirWalk(dir, (_i, data, off, entries) => {
      for (const e of entries) {
        if (e.ino === 0) continue;
        if (!isDotName(data.subarray(off + e.offset + DIRENT_HEADER, off + e.offset + DIRENT_HEADER + e.nameLen))) {
          empty = false;
          return true;
        }
      }
      return false;
    });
    return empty;
  }

  /** The parent of a directory, from its ".." entry. */
  private parentOf(dir: Inode): number {
    if (dir.ino === ROOT_INO) return ROOT_INO;
    const folio = this.dataFolio(dir, 0);
    const f = this.cache.folios;
    try {
      const d = f.data(folio);
      const o = f.dataOffset(folio);
      const { entries } = parseDirBlock(d, o);
      const dd = entries[1];
      if (!dd || dd.nameLen !== 2 || d[o + dd.offset + DIRENT_HEADER] !== 0x2e || d[o + dd.offset + DIRENT_HEADER + 1] !== 0x2e) {
        throw this.corrupt(`directory ${dir.ino} has no ".." entry`);
      }
      return dd.ino;
    } finally {
      f.put(folio);
    }
  }

  /** Rewrites the ".." entry of a moved directory. */
  private setDotDot(dir: Inode, parent: number): void {
    this.dirModify(dir, 0, (d, o) => {
      const { entries } = parseDirBlock(d, o);
      const dd = entries[1];
      if (!dd || !bytesEqual(d.subarray(o + dd.offset + DIRENT_HEADER, o + dd.offset + DIRENT_HEADER + dd.nameLen), DOTDOT)) {
        throw this.corrupt(`directory ${dir.ino} has no ".." entry`);
      }
      setDirentIno(d, o, dd.offset, parent, DT_DIR);
    });
    dir.ctimeNs = this.now();
    this.markInodeDirty(dir);
  }

  /** True when directory `ancestor` is `dir` or above it. Bounded by the inode count. */
  private isAncestor(ancestor: number, dir: Inode): boolean {
    let cur = dir;
    for (let steps = 0; steps <= this.sb.inodeCount; steps++) {
      if (cur.ino === ancestor) return true;
      if (cur.ino === ROOT_INO) return false;
      cur = this.dirInode(this.parentOf(cur));
    }
    throw this.corrupt(`directory ${dir.ino}: ".." entries form a loop`);
  }

  private touchDirs(a: Inode, b: Inode, now: number): void {
    a.mtimeNs = a.ctimeNs = now;
    b.mtimeNs = b.ctimeNs = now;
    this.markInodeDirty(a);
    this.markInodeDirty(b);
  }

  /**
   * create/mkdir/symlink: checks everything (name, space, links) before changing anything, then
   * allocates the inode and its first block, then adds the entry; a failure undoes what was done.
   */
  private makeNode(dirIno: number, name: string, mode: number, target: Uint8Array | null): number {
    const dir = this.dirInode(dirIno);
    if (dir.nlink === 0) throw fail("ENOENT", `directory ${dirIno} has been removed`);
    const nb = this.checkName(name);
    const isDir = (mode & S_IFMT) === S_IFDIR;
    if (isDir && dir.nlink >= MAX_LINKS) throw fail("EMLINK", `directory ${dirIno} has too many links`);
    const scan = this.dirScan(dir, nb, direntSize(nb.length));
    if (scan.found) throw fail("EEXIST", `"${name}" exists in directory ${dirIno}`);
    const ownBlock = isDir || (target !== null && target.length > INLINE_MAX) ? 1 : 0;
    const dirBlocks = scan.space ? 0 : this.blocksNeeded(dir, [dir.size / BLOCK_SIZE]);
    if (this.sb.freeInodes < 1) throw fail("ENOSPC", `no free inodes on ${this.device.name}`);
    if (ownBlock + dirBlocks > this.sb.freeBlocks) throw fail("ENOSPC", `no space on ${this.device.name}`);
    const ino = this.allocInodeNumber();
    const now = this.now();
    const raw = emptyInode();
    raw.mode = mode;
    raw.nlink = isDir ? 2 : 1;
    raw.atimeNs = raw.mtimeNs = raw.ctimeNs = raw.btimeNs = now;
    let inode: Inode | null = null;
    try {
      const stale = this.inodes.get(ino);
      if (stale) this.dropInode(stale);
      inode = this.addInode(ino, raw);
      this.markInodeDirty(inode, true);
      if (isDir) {
        this.mapRange(inode, 0, 0);
        const folio = this.newDataFolio(inode, 0);
        const f = this.cache.folios;
        initDirBlock(f.data(folio), f.dataOffset(folio), ino, dirIno);
        inode.size = BLOCK_SIZE;
        this.cache.markDirty(inode.mapping, folio);
        this.cache.unlock(folio);
        f.put(folio);
      } else if (target !== null) {
        if (target.length <= INLINE_MAX) {
          inode.flags |= INODE_FLAG_INLINE;
          inode.inline = target.slice();
          inode.ptrs.fill(0);
        } else {
          this.mapRange(inode, 0, 0);
          const folio = this.newDataFolio(inode, 0);
          const f = this.cache.folios;
          f.data(folio).set(target, f.dataOffset(folio));
          this.cache.markDirty(inode.mapping, folio);
          this.cache.unlock(folio);
          f.put(folio);
        }
        inode.size = target.length;
      }
      this.dirInsert(dir, scan.space, nb, ino, dtOf(mode));
    } catch (e) {
      if (inode) {
        truncateInodePages(this.cache, inode.mapping, 0);
        this.truncateBlocks(inode, 0);
        this.dropInode(inode);
      }
      this.freeInodeNumber(ino);
      throw e;
    }
    if (isDir) {
      dir.nlink++;
      this.markInodeDirty(dir);
    }
    return ino;
  }

  private checkName(name: string): Uint8Array {
    if (typeof name !== "string" || name.length === 0) throw fail("ENOENT", "empty name");
    if (name === "." || name === ".." || name.includes("/") || name.includes("\0")) throw fail("EINVAL", `"${name}" is not a valid name`);
    const b = nameBytes(name);
    if (b.length > NAME_MAX) throw fail("ENAMETOOLONG", `name of ${b.length} bytes is longer than ${NAME_MAX}`);
    return b;
  }

  // ───────────────────────────── sync ─────────────────────────────

  /** All dirty data, then all inodes and metadata, then a device flush. */
  private syncAll(): void {
    const mappings = [...this.inodes.values()].map((i) => i.mapping);
    syncMappings(this.cache, mappings, this.writepagesFn());
    for (const inode of [...this.dirtyInodes]) this.storeInode(inode);
    this.storeSuper();
    writeCachePages(this.cache, this.bdev, { sync: true, start: 0, end: 0xffffffff, nrToWrite: MAX_SAFE, reason: "sync" }, (folio) => this.submitMeta(folio));
    waitOnWriteback(this.cache, this.bdev);
    this.pendingMeta.clear();
    for (const inode of this.inodes.values()) inode.queuedMeta.clear();
    this.flushDevice();
    this.checkMetaErrors();
    // Everything else is written: what a memory error destroyed cannot be, so sync (and unmount) cannot promise it.
    this.checkLostMeta([[0, this.sb.blockCount - 1]]);
    for (const inode of this.inodes.values()) {
      if (!inode.isReg && inode.mapping.lost.count !== 0) throw this.lostBlock(`block ${inode.mapping.lost.nextFrom(0)} of ${inode.isDir ? "directory" : "symlink"} ${inode.ino}`);
    }
  }

  private teardown(): void {
    this.mounted = false;
    for (const inode of [...this.inodes.values()]) {
      try {
        this.dropInode(inode);
      } catch {
        // a page still under writeback of a dead device: leave it
      }
    }
    this.dirtyInodes.clear();
    this.pendingMeta.clear();
    if (this.bdev) {
      try {
        truncateInodePages(this.cache, this.bdev, 0);
        this.cache.destroyMapping(this.bdev);
      } catch {
        // as above
      }
    }
  }

  // ───────────────────────────── helpers ─────────────────────────────

  private op<T>(write: boolean, fn: () => T): T {
    this.enter(write);
    try {
      return fn();
    } finally {
      this.busy--;
    }
  }

  /** Checks that an operation may run (mounted; writable if it writes) and counts it as running; the caller decrements `busy`. */
  private enter(write: boolean): void {
    if (!this.mounted) throw fail("EIO", `fs-simple on ${this.device.name} is not mounted`);
    if (write && this.readOnly) throw fail("EROFS", `fs-simple on ${this.device.name} is mounted read-only`);
    this.busy++;
  }

  private now(): number {
    return this.machine.wallClockNs();
  }

  private noteError(what: string): void {
    if (this.errors.length < 100) this.errors.push(what);
  }

  /** Records and returns an EUCLEAN error (or `code`) for corruption found while mounted. */
  private corrupt(what: string, code: "EUCLEAN" | "ENOSPC" = "EUCLEAN"): FolioError {
    this.noteError(what);
    return fail(code, `${this.device.name}: ${what} (filesystem corrupted: run fsck)`);
  }
}

function checkId(v: number, what: string): number {
  if (!Number.isSafeInteger(v) || v < 0 || v > 0xffffffff) throw fail("EINVAL", `${what} ${v} is out of range`);
  return v;
}

function isDotName(name: Uint8Array): boolean {
  return (name.length === 1 && name[0] === 0x2e) || (name.length === 2 && name[0] === 0x2e && name[1] === 0x2e);
}

/** First zero bit in [from, to) of a bitmap block, or -1. */
function findZero(b: Uint8Array, off: number, from: number, to: number): number {
  let i = from;
  while (i < to) {
    if ((i & 7) === 0 && i + 8 <= to && b[off + (i >>> 3)] === 0xff) {
      i += 8;
      continue;
    }
    if (!testBit(b, off, i)) return i;
    i++;
  }
  return -1;
}

const POPCOUNT = new Uint8Array(256).map((_, i) => {
  let n = 0;
  for (let v = i; v; v >>= 1) n += v & 1;
  return n;
});

/** Mount errors keep their code when they are ours; anything else unexpected is a corrupted image. */
function asClearError(e: unknown, dev: string): unknown {
  if (isFolioError(e)) return e;
  return fail("EUCLEAN", `${dev}: cannot mount: ${e instanceof Error ? e.message : String(e)}`);
}
