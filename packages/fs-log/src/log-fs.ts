/**
 * LogFs: the mounted fs-log, a log-structured filesystem (Rosenblum & Ousterhout's Sprite LFS,
 * with roll-forward). See docs/FS-LOG.md for the format and the persistence model.
 *
 * Data path: file data lives in page-cache folios; writeBegin only reserves space (delayed
 * allocation) and the writeFolio callback chooses each page's block when writeback appends the
 * folio to the log. The callbacks are built per call into the filemap helpers and never stored.
 *
 * Every inode carries two block maps: `cur` (the latest written blocks) and `disk` (the blocks its
 * last committed record names). Commits (fsync, sync) write inode records and imap chunks; a
 * crash recovers the last commit. A block is live while either map (or the imap, for inode blocks)
 * refers to it; the cleaner copies live blocks out of mostly-dead segments, and a segment is
 * reused only after a checkpoint that no longer refers to it is durable.
 *
 * Concurrency: the engine is synchronous, but a wait (I/O) runs scheduler events, among them the
 * writeback flusher and the cleaner task. Every operation holds `busy`; those entry points do
 * nothing while it is held.
 */
import "reflect-metadata";
import { inject } from "tsyringe";
import { FolioFlag, SECOND, TOKENS, fail, isFolioError, type FolioError, type Machine, type Timer } from "@folio/core";
import {
  FS_TOKENS, FileType, O_APPEND, RENAME_EXCHANGE, RENAME_NOREPLACE, filesystem,
  type DeviceContext, type DirEntry, type FsFile, type FsckReport, type InodeAttr, type MountOptions, type SetAttr, type StatFs, type SuperBlock,
} from "@folio/fs-api";
import {
  PAGECACHE_TOKENS, XaMark, fileWriteAndWaitRange, filemapRead, finishRead, genericWriteEnd, grabFolioForWrite, openCachedFile, performWrite,
  syncMappings, truncateInodePages, truncateSetSize, writeCachePages, writebackMappings,
  type BlockDevice, type CachedFile, type Flusher, type Mapping, type PageCache, type ReadCallbacks, type WriteCallbacks, type WritebackControl,
  type WritebackTarget, type Writepages,
} from "@folio/pagecache";
import { SyncBlockIo } from "@folio/pagecache";
import {
  BLOCK_SIZE, DT_DIR, DT_LNK, IMAP_PER_CHUNK, Imap, Kind, MAGIC_SB, REC_HEADER, MAX_FILE_SIZE, MAX_LINKS, NAME_MAX, NO_SEG, ROOT_INO, SYMLINK_MAX, S_IFDIR, S_IFLNK,
  S_IFMT, S_IFREG, SegState, decodeDir, dtOf, encodeDir, encodeRecord, fromExtents, nameBytes, peekRecord, segBase, segOf,
  toExtents, type DirEnt, type RecordData, type SegUsage, type SuperData,
} from "./format.js";
import { LogWriter, appendChunks, appendRecords, writeCheckpoint } from "./log.js";
import { loadState, readRecord, recount, walkSegment } from "./recovery.js";
import { filemapMmap } from "@folio/pagecache";
import type { MappableFile } from "@folio/core";
import { LInode, type Attrs } from "./inode.js";
import { mkfs } from "./mkfs.js";
import { fsck } from "./fsck.js";

const UTF8 = new TextDecoder();

/**
 * Largest folio order of a file's mapping unless the mount option `maxOrder` (0..9) says otherwise:
 * up to 2 MiB, as a Linux filesystem with large-folio support lets the page cache choose (the
 * write path and readahead size each folio by the request). The mount lowers it to what one log
 * unit can carry, so that a folio is always written in one unit.
 */
export const DEFAULT_MAX_ORDER = 9;

/** Bytes a write() hands to performWrite between two dirty-throttle checks. */
const WRITE_CHUNK = 1 << 20;
/** relatime: atime is refreshed at most once a day unless older than mtime/ctime. */
const DAY_NS = 86_400 * 1e9;

/** What cleaning one victim segment will do, found before anything changes. */
interface VictimPlan {
  s: number;
  /** The segment's contents. */
  buf: Uint8Array;
  /** Live data blocks: where in `buf`, whose, and which maps name them. */
  moves: { inode: LInode; idx: number; at: number; inCur: boolean; inDisk: boolean }[];
  /** Inodes whose committed record must be rewritten (it names a moved block, or lives in the segment). */
  records: Set<LInode>;
  /** Imap chunks that live in the segment. */
  chunks: Set<number>;
}

/** Counters of what the filesystem did, for tests and benchmarks. */
export interface LogFsStats {
  /** Commits written (a commit ends with a unit flagged UNIT_COMMIT). */
  commits: number;
  /** Checkpoints written. */
  checkpoints: number;
  /** Runs of the segment cleaner (background or forced by space pressure). */
  cleanerRuns: number;
  /** Segments the cleaner emptied by moving their live blocks. */
  segmentsCleaned: number;
  /** Live blocks the cleaner copied to the log head. */
  blocksMoved: number;
  /** Segments a checkpoint returned to the free state. */
  segmentsFreed: number;
  /** Commits forced by space pressure (an implicit sync before ENOSPC). */
  pressureSyncs: number;
  /** Writes refused with ENOSPC. */
  enospc: number;
}

@filesystem("log")
export class LogFs implements SuperBlock, WritebackTarget {
  /** fs-log lives on a block device: the VFS refuses to mount it without one. */
  static readonly needsDevice = true;

  /** Writes an empty filesystem to the device. Options: `segmentBlocks`, `inodes`. */
  static mkfs(ctx: DeviceContext, options?: Record<string, unknown>): void {
    mkfs(ctx, options);
  }

  /** Checks an unmounted device; repairs what is safe with `repair`. Never writes otherwise. */
  static fsck(ctx: DeviceContext, options: { repair: boolean }): FsckReport {
    return fsck(ctx, options);
  }

  /** The superblock's "FLOG" word in block 0 (2); fs-log keeps no backup superblock. */
  static probe(head: Uint8Array): 0 | 1 | 2 {
    return head.length >= 4 && new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(0, true) === MAGIC_SB ? 2 : 0;
  }

  readonly rootIno = ROOT_INO;
  /** What the filesystem did since mount; the counters only grow. */
  readonly stats: LogFsStats = { commits: 0, checkpoints: 0, cleanerRuns: 0, segmentsCleaned: 0, blocksMoved: 0, segmentsFreed: 0, pressureSyncs: 0, enospc: 0 };
  /** Inconsistencies met while mounted. */
  readonly errors: string[] = [];
  /** The roll-forward at mount applied this many commits written after the last checkpoint. */
  recoveredCommits = 0;

  private io!: SyncBlockIo;
  private sb!: SuperData;
  private writer!: LogWriter;
  /** Segment states, last-write times, and durable live counts (what the usage table records). */
  private usage!: SegUsage;
  /** Live blocks per segment counting every reference (durable or only in memory). */
  private liveAll!: Int32Array;
  private liveTotal = 0;
  private imap!: Imap;
  private chunkAddr: number[] = [];
  private sutAddr: number[] = [];
  /** References to metadata blocks (inode blocks, imap chunks, usage-table blocks). */
  private readonly metaRefs = new Map<number, number>();
  private readonly inodes = new Map<number, LInode>();
  private inoUsed!: Uint8Array;
  private usedInodes = 0;
  private nextIno = ROOT_INO + 1;
  private readonly nsDirty = new Set<LInode>();
  private readonly dirtyFiles = new Set<LInode>();
  /** Directories whose entries changed since their last commit. */
  private readonly dirtyDirs = new Set<LInode>();
  private reservedTotal = 0;
  private cpSeq = 0;
  private unitsAtCheckpoint = 0;
  private mounted = false;
  private busy = 0;
  private cleaning = false;
  private readsInflight = 0;
  private shutdown: FolioError | null = null;
  private timer: Timer | undefined;
  private readonly readOnly: boolean;
  private maxOrder: number;
  private readonly cleanerIntervalNs: number;

  /**
   * Constructed by the VFS through DI for one mount; reads only the mount options (`readOnly`,
   * `maxOrder`, the cleaner's interval). The device is read when the VFS calls `mount`.
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
    const interval = options?.["cleanerIntervalMs"];
    this.cleanerIntervalNs = typeof interval === "number" && interval > 0 ? interval * 1e6 : SECOND;
  }

  // ───────────────────────────── superblock operations ─────────────────────────────

  mount(): void {
    if (this.mounted) throw fail("EBUSY", `fs-log on ${this.device.name} is already mounted`);
    this.io = new SyncBlockIo(this.device, this.machine.scheduler, BLOCK_SIZE, "fs-log");
    this.busy++;
    try {
      const st = loadState(this.io);
      const sb = (this.sb = st.sb);
      this.imap = st.imap;
      this.chunkAddr = st.chunks;
      this.sutAddr = st.cp.sut.slice();
      this.usage = st.usage;
      this.recoveredCommits = st.commitsApplied;
      if (st.commitsApplied > 0) {
        // Roll-forward changed the durable state after the checkpoint's table: count it again.
        this.usage.live = recount(this.io, sb, this.imap, this.chunkAddr, this.sutAddr, (ino, why) => {
          throw fail("EUCLEAN", `${this.device.name}: inode ${ino}: ${why} (run fsck)`);
        });
      }
      this.liveAll = this.usage.live.slice();
      this.liveTotal = this.liveAll.reduce((a, b) => a + b, 0);
      this.inoUsed = new Uint8Array(sb.maxInodes);
      this.inoUsed[0] = 1;
      for (let ino = 1; ino < sb.maxInodes; ino++) {
        if (this.imap.addr[ino] === 0) continue;
        this.inoUsed[ino] = 1;
        this.usedInodes++;
        for (let k = 0; k < this.imap.nblk[ino]!; k++) this.bumpMeta(this.imap.addr[ino]! + k, 1, false);
      }
      for (const a of this.chunkAddr) this.bumpMeta(a, 1, false);
      for (const a of this.sutAddr) this.bumpMeta(a, 1, false);
      this.nextIno = st.cp.nextIno > ROOT_INO && st.cp.nextIno < sb.maxInodes ? st.cp.nextIno : ROOT_INO + 1;
      this.cpSeq = st.cp.seq;
      // Every unit this mount writes carries a generation above any earlier one: roll-forward from
      // this mount's checkpoints never mistakes a stale unit of an earlier life for ours.
      const gen = st.cp.seq + 1;
      this.writer = new LogWriter(sb, this.device, this.machine.scheduler, this.usage,
        { headSeg: st.headSeg, headOff: st.headOff, nextSeg: st.nextSeg, seq: st.nextSeq, gen }, () => this.machine.scheduler.now, (e) => this.fail(e));
      this.writer.refreshNext();
      const entries = Math.min(this.writer.maxEntries, 512);
      while (this.maxOrder > 0 && 1 << this.maxOrder > entries) this.maxOrder--;
      const root = this.iget(ROOT_INO);
      if (!root.isDir) throw fail("EUCLEAN", `${this.device.name}: root inode ${ROOT_INO} is not a directory (run fsck)`);
      this.dirEntries(root);
      this.mounted = true;
      if (!this.readOnly) {
        this.checkpoint();
        this.flusher.register(this);
        this.timer = this.machine.scheduler.every(this.cleanerIntervalNs, `fs-log cleaner (${this.device.name})`, () => this.background());
      }
    } catch (e) {
      this.teardown();
      throw asClearError(e, this.device.name);
    } finally {
      this.busy--;
    }
  }

  statfs(): StatFs {
    return this.op(false, () => {
      const cap = this.capacity();
      const used = Math.min(cap, this.liveTotal + this.reservedTotal);
      return { bsize: BLOCK_SIZE, blocks: cap, bfree: cap - used, bavail: cap - used, files: this.sb.maxInodes - 1, ffree: this.sb.maxInodes - 1 - this.usedInodes, namelen: NAME_MAX };
    });
  }

  sync(): void {
    this.op(false, () => {
      if (this.readOnly) return;
      this.checkShutdown();
      this.syncAll();
      this.checkpoint();
    });
  }

  unmount(): void {
    if (!this.mounted) throw fail("EINVAL", `fs-log on ${this.device.name} is not mounted`);
    this.busy++;
    try {
      if (!this.readOnly && !this.shutdown) {
        this.flusher.unregister(this);
        // Unlinked inodes nobody evicted go now, as at umount in Linux.
        for (const i of [...this.inodes.values()]) {
          if (i.nlink !== 0 || i.evicted) continue;
          i.opens = 0;
          this.maybeDrop(i);
        }
        this.syncAll();
        this.checkpoint();
      }
    } finally {
      this.busy--;
      this.quiesce();
      this.teardown();
    }
  }

  /**
   * Waits for every log write and read still in flight. After a shutdown nothing new is written,
   * but units submitted before the failed one may still be on their way: an unmount that returned
   * before they landed would let them reach the device after it — under fsck, or the next mount.
   */
  private quiesce(): void {
    try {
      this.writer?.drain();
      this.drainReads();
    } catch (e) {
      // A wait that cannot end (the device is gone): nothing more can be done here.
      if (!isFolioError(e)) throw e;
    }
  }

  writeback(wbc: WritebackControl): number {
    return this.writebackInodes(wbc);
  }

  writebackInodes(wbc: WritebackControl): number {
    if (!this.mounted || this.readOnly || this.shutdown || this.busy > 0) return 0;
    this.busy++;
    try {
      const mine = [...this.cache.dirtyMappings].filter((m) => this.inodes.get(m.host.ino)?.mapping === m);
      return writebackMappings(mine, wbc, this.writepagesFn());
    } catch (e) {
      // Background writeback reports nothing to anyone: errors reach fsync through errseq.
      this.noteError(`background writeback: ${e instanceof Error ? e.message : String(e)}`);
      return 0;
    } finally {
      this.busy--;
    }
  }

  evictInode(ino: number): void {
    this.op(false, () => {
      const inode = this.inodes.get(ino);
      if (!inode || inode.evicted || inode.opens > 0 || ino === ROOT_INO) return;
      if (inode.nlink === 0) {
        this.maybeDrop(inode);
        return;
      }
      // An inode with changes not yet committed stays in memory (its state is only here).
      const m = inode.mapping!;
      if (inode.dirty || inode.nsDirty || m.index.anyMarked(XaMark.Dirty) || m.index.anyMarked(XaMark.Writeback)) return;
      truncateInodePages(this.cache, m, 0);
      this.cache.destroyMapping(m);
      inode.mapping = null;
      this.inodes.delete(ino);
    });
  }

  // ───────────────────────────── inode operations ─────────────────────────────

  getattr(ino: number): InodeAttr {
    return this.op(false, () => {
      const i = this.iget(ino);
      const blocks = i.isReg ? i.cur.size + i.reserved.size : i.isDir ? Math.ceil(i.size / BLOCK_SIZE) : 0;
      return {
        ino, mode: i.mode, nlink: i.nlink, uid: i.uid, gid: i.gid, size: i.size, blocks: blocks * (BLOCK_SIZE / 512),
        atimeNs: i.atimeNs, mtimeNs: i.mtimeNs, ctimeNs: i.ctimeNs, birthtimeNs: i.btimeNs,
      };
    });
  }

  /**
   * Changes attributes; a `size` change truncates or extends the file. A shrink to the middle of a
   * block reads that block (to rewrite it zeroed past the new end) before anything changes, so a
   * failure (EIO, ENOMEM, ENOSPC, EINVAL) leaves the inode exactly as it was.
   */
  setattr(ino: number, attr: SetAttr): void {
    this.op(true, () => {
      const inode = this.iget(ino);
      // Every check first, then the size change (the one step that can fail on a fault), then the
      // attributes: a call that fails changes nothing.
      if (attr.uid !== undefined) checkId(attr.uid, "uid");
      if (attr.gid !== undefined) checkId(attr.gid, "gid");
      const now = this.now();
      if (attr.size !== undefined) {
        if (inode.isDir) throw fail("EISDIR", `inode ${ino} is a directory`);
        if (!inode.isReg) throw fail("EINVAL", `inode ${ino} is not a regular file`);
        if (!Number.isSafeInteger(attr.size) || attr.size < 0) throw fail("EINVAL", `size ${attr.size} must be a non-negative integer`);
        if (attr.size > MAX_FILE_SIZE) throw fail("EFBIG", `size ${attr.size} is beyond the largest fs-log file (${MAX_FILE_SIZE} bytes)`);
        this.setSize(inode, attr.size);
        inode.mtimeNs = now;
      }
      if (attr.mode !== undefined) inode.mode = (inode.mode & S_IFMT) | (attr.mode & 0o7777);
      if (attr.uid !== undefined) inode.uid = attr.uid;
      if (attr.gid !== undefined) inode.gid = attr.gid;
      if (attr.atimeNs !== undefined) inode.atimeNs = attr.atimeNs;
      if (attr.mtimeNs !== undefined) inode.mtimeNs = attr.mtimeNs;
      inode.ctimeNs = now;
      this.attrChanged(inode);
    });
  }

  lookup(dir: number, name: string): number {
    return this.op(false, () => {
      const e = this.dirEntries(this.dirInode(dir)).get(this.checkName(name));
      if (!e) throw fail("ENOENT", `no entry "${name}" in directory ${dir}`);
      return e.ino;
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
      if (!inode.isSymlink || !inode.target) throw fail("EINVAL", `inode ${ino} is not a symbolic link`);
      return UTF8.decode(inode.target);
    });
  }

  unlink(dir: number, name: string): void {
    this.op(true, () => {
      const d = this.dirInode(dir);
      const e = this.dirEntries(d).get(this.checkName(name));
      if (!e) throw fail("ENOENT", `no entry "${name}" in directory ${dir}`);
      const inode = this.iget(e.ino);
      if (inode.isDir) throw fail("EISDIR", `"${name}" is a directory`);
      this.dirRemove(d, name);
      inode.nlink = Math.max(0, inode.nlink - 1);
      inode.ctimeNs = this.now();
      this.linksChanged(inode);
    });
  }

  rmdir(dir: number, name: string): void {
    this.op(true, () => {
      const d = this.dirInode(dir);
      const e = this.dirEntries(d).get(this.checkName(name));
      if (!e) throw fail("ENOENT", `no entry "${name}" in directory ${dir}`);
      const child = this.iget(e.ino);
      if (!child.isDir) throw fail("ENOTDIR", `"${name}" is not a directory`);
      if (child.ino === ROOT_INO) throw fail("EBUSY", "cannot remove the root directory");
      if (this.dirEntries(child).size > 0) throw fail("ENOTEMPTY", `directory "${name}" is not empty`);
      this.dirRemove(d, name);
      child.nlink = 0;
      child.ctimeNs = this.now();
      this.linksChanged(child);
      d.nlink = Math.max(2, d.nlink - 1);
      this.linksChanged(d);
    });
  }

  rename(oldDir: number, oldName: string, newDir: number, newName: string, flags: number): void {
    this.op(true, () => {
      if ((flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)) !== 0 || flags === (RENAME_NOREPLACE | RENAME_EXCHANGE)) {
        throw fail("EINVAL", `rename flags ${flags} are invalid`);
      }
      const od = this.dirInode(oldDir);
      const nd = this.dirInode(newDir);
      this.checkName(oldName);
      this.checkName(newName);
      const src = this.dirEntries(od).get(oldName);
      if (!src) throw fail("ENOENT", `no entry "${oldName}" in directory ${oldDir}`);
      const dst = this.dirEntries(nd).get(newName);
      const srcInode = this.iget(src.ino);
      if (oldDir === newDir && oldName === newName) {
        if (flags & RENAME_NOREPLACE) throw fail("EEXIST", `"${newName}" exists`);
        return;
      }
      if (flags & RENAME_NOREPLACE && dst) throw fail("EEXIST", `"${newName}" exists in directory ${newDir}`);
      this.checkSpace(0);
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
        this.dirSet(nd, newName, { ino: srcInode.ino, type: dtOf(srcInode.mode) });
        this.dirSet(od, oldName, { ino: dstInode.ino, type: dtOf(dstInode.mode) });
        if (moved) {
          if (srcInode.isDir) srcInode.parent = newDir;
          if (dstInode.isDir) dstInode.parent = oldDir;
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
        this.linksChanged(srcInode);
        this.linksChanged(dstInode);
        this.touchDirs(od, nd, now);
        return;
      }
      let dstInode: LInode | null = null;
      if (dst) {
        if (dst.ino === src.ino) return; // two names of one inode: nothing to do (POSIX)
        dstInode = this.iget(dst.ino);
        if (srcInode.isDir && !dstInode.isDir) throw fail("ENOTDIR", `"${newName}" is not a directory`);
        if (!srcInode.isDir && dstInode.isDir) throw fail("EISDIR", `"${newName}" is a directory`);
        if (dstInode.isDir && this.dirEntries(dstInode).size > 0) throw fail("ENOTEMPTY", `directory "${newName}" is not empty`);
      }
      if (srcInode.isDir && moved) {
        if (this.isAncestor(srcInode.ino, nd)) throw fail("EINVAL", `cannot move directory ${srcInode.ino} into itself`);
        if (!dstInode && nd.nlink >= MAX_LINKS) throw fail("EMLINK", `directory ${newDir} has too many links`);
      }
      this.dirSet(nd, newName, { ino: srcInode.ino, type: dtOf(srcInode.mode) });
      this.dirRemove(od, oldName);
      if (srcInode.isDir && moved) {
        srcInode.parent = newDir;
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
        this.linksChanged(dstInode);
      }
      srcInode.ctimeNs = now;
      this.linksChanged(srcInode);
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
      if (d.nlink === 0) throw fail("ENOENT", `directory ${dir} has been removed`);
      this.checkName(name);
      if (this.dirEntries(d).has(name)) throw fail("EEXIST", `"${name}" exists in directory ${dir}`);
      this.checkSpace(1);
      this.dirSet(d, name, { ino, type: dtOf(inode.mode) });
      inode.nlink++;
      inode.ctimeNs = this.now();
      this.linksChanged(inode);
    });
  }

  readdir(dir: number): DirEntry[] {
    return this.op(false, () => {
      const out: DirEntry[] = [];
      for (const [name, e] of this.dirEntries(this.dirInode(dir))) {
        out.push({ name, ino: e.ino, type: e.type === DT_DIR ? FileType.Directory : e.type === DT_LNK ? FileType.Symlink : FileType.Regular });
      }
      return out;
    });
  }

  // ───────────────────────────── file operations ─────────────────────────────

  open(ino: number, flags: number): FsFile {
    return this.op(false, () => {
      const inode = this.iget(ino);
      inode.opens++;
      const cf = openCachedFile(inode.mapping!);
      return { mapping: cf.mapping, ra: cf.ra, wbErr: cf.wbErr, ino, flags };
    });
  }

  read(file: FsFile, pos: number, buf: Uint8Array, offset: number, length: number): number {
    return this.op(false, () => {
      const inode = this.fileInode(file);
      if (inode.isDir) throw fail("EISDIR", `inode ${inode.ino} is a directory`);
      if (!inode.isReg) throw fail("EINVAL", `inode ${inode.ino} is not a regular file`);
      const n = filemapRead(this.cache, file, pos, buf, offset, length, this.readCallbacks());
      if (!this.readOnly && !this.shutdown) {
        const now = this.now();
        if (inode.atimeNs <= inode.mtimeNs || inode.atimeNs <= inode.ctimeNs || now - inode.atimeNs > DAY_NS) {
          inode.atimeNs = now;
          this.attrChanged(inode);
        }
      }
      return n;
    });
  }

  /**
   * Writes through the page cache, reserving space for each page it dirties (ENOSPC here, never at
   * writeback). Returns the bytes written, short when a later chunk fails; a write that fails
   * before writing anything throws and changes nothing (no size, times or reservations).
   */
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
    if (pos >= MAX_FILE_SIZE) throw fail("EFBIG", `write at ${pos} is beyond the largest fs-log file (${MAX_FILE_SIZE} bytes)`);
    length = Math.min(length, MAX_FILE_SIZE - pos);
    if (pos + length > inode.size) this.op(true, () => this.zeroOldTail(inode));
    let written = 0;
    while (written < length) {
      const n = Math.min(WRITE_CHUNK, length - written);
      let done: number;
      try {
        done = this.op(true, () => {
          const copied = performWrite(this.cache, file, pos + written, buf, offset + written, n, this.writeCallbacks());
          // Stamped once data went in: a write that fails having written nothing changes nothing.
          if (written === 0 && copied > 0) {
            inode.mtimeNs = inode.ctimeNs = this.now();
            this.attrChanged(inode);
          }
          return copied;
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

  fsync(file: FsFile, _datasync: boolean): void {
    this.op(false, () => {
      const inode = this.fileInode(file);
      if (inode.isReg) fileWriteAndWaitRange(this.cache, file, this.writepagesFn());
      if (this.readOnly) return;
      this.checkShutdown();
      this.commit([inode], false);
      this.flushDevice();
    });
  }

  release(file: FsFile): void {
    const inode = this.inodes.get(file.ino);
    if (!inode || inode.mapping !== file.mapping || inode.opens === 0) return;
    inode.opens--;
  }

  /**
   * mmap: the page cache's generic file mapping with this filesystem's callbacks. A page reserves
   * its block when it first becomes writable through a shared mapping (page_mkwrite), as a write
   * reserves at writeBegin; msync(MS_SYNC) is fsync.
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

  /**
   * page_mkwrite (the folio locked, its writeback over): reserves a block for each page of the
   * folio that has none, as writeBegin does, and stamps the times. It cannot clean the log or sync
   * here (both may need this folio), so a log without room is ENOSPC: SIGBUS to the store.
   */
  private prepareMkwrite(file: FsFile, folio: number): void {
    const inode = this.fileInode(file);
    const f = this.cache.folios;
    const fresh: number[] = [];
    for (let i = f.index(folio); i < f.index(folio) + f.nrPages(folio); i++) if (!inode.reserved.has(i)) fresh.push(i);
    if (fresh.length > 0 && !this.fits(fresh.length)) {
      this.stats.enospc++;
      throw fail("ENOSPC", `no space left on fs-log ${this.device.name} for pages dirtied through a mapping`);
    }
    for (const i of fresh) this.reserve(inode, i);
    inode.mtimeNs = inode.ctimeNs = this.now();
    this.attrChanged(inode);
  }

  // ───────────────────────────── data callbacks (built per call) ─────────────────────────────

  private readCallbacks(): ReadCallbacks {
    return { readFolio: (file, folio) => this.startFolioRead(this.inodeOfMapping(file.mapping), folio) };
  }

  private writeCallbacks(): WriteCallbacks {
    return {
      writeBegin: (file, pos, len) => this.prepareWrite(file, pos, len),
      writeEnd: (file, pos, len, copied, folio) => {
        const inode = this.inodeOfMapping(file.mapping);
        const f = this.cache.folios;
        const first = f.index(folio);
        const nr = f.nrPages(folio);
        const wasDirty = f.test(folio, FolioFlag.Dirty);
        const n = genericWriteEnd(this.cache, file, pos, len, copied, folio);
        if (n === 0 && !wasDirty) {
          // Nothing was written and the folio was clean: give back what writeBegin reserved for it.
          for (let i = 0; i < nr; i++) this.unreserve(inode, first + i);
        }
        this.attrChanged(inode);
        return n;
      },
    };
  }

  /**
   * The filesystem's writepages: writes the dirty folios `wbc` selects in passes no larger than
   * what the free segments hold, cleaning segments between passes when they run short.
   */
  private writepagesFn(): Writepages {
    return (mapping, wbc) => {
      const inode = this.inodeOfMapping(mapping);
      const minChunk = (1 << this.maxOrder) + 1;
      while (wbc.nrToWrite > 0) {
        if (this.shutdown) throw this.shutdownError();
        let room = this.writer.capacityBlocks() - this.cleanerReserve();
        if (room < Math.min(inode.reserved.size, 4 * this.sb.segBlocks) + minChunk) {
          this.clean(this.cleanerReserve() + Math.min(inode.reserved.size, 4 * this.sb.segBlocks) + minChunk);
          room = this.writer.capacityBlocks() - this.cleanerReserve();
        }
        if (room < minChunk) {
          // Reserved pages always have room (checkSpace): the cleaner's reserve is the slack for that promise.
          room = this.writer.capacityBlocks() - (this.sb.segBlocks - 1);
          if (room < minChunk) throw fail("ENOSPC", `fs-log on ${this.device.name}: the log is full and nothing can be cleaned`);
        }
        const budget = Math.min(wbc.nrToWrite, room);
        const pass = { ...wbc, nrToWrite: budget };
        this.writeFailed = null;
        writeCachePages(this.cache, mapping, pass, (folio) => this.writeFolio(inode, mapping, folio));
        this.writer.seal(false);
        if (this.writeFailed) throw this.writeFailed;
        const done = budget - pass.nrToWrite;
        wbc.nrToWrite -= done;
        // A pass that stopped short of its budget wrote every folio selected.
        if (pass.nrToWrite > 0 || done === 0) break;
      }
    };
  }

  private writeFailed: FolioError | null = null;

  /**
   * WriteFolio: delayed allocation happens here. The folio's pages below i_size are appended to
   * the log's current unit (their blocks are chosen now), the file's `cur` map is pointed at them,
   * and their reservations are released; writeback ends when the unit's write completes.
   */
  private writeFolio(inode: LInode, mapping: Mapping, folio: number): void {
    const f = this.cache.folios;
    const first = f.index(folio);
    const nr = f.nrPages(folio);
    let count = 0;
    while (count < nr && (first + count) * BLOCK_SIZE < inode.size) count++;
    try {
      if (count > 0) this.writer.ensureRoom(count);
    } catch (e) {
      // No room in the log: leave the folio dirty for a later pass and stop this one.
      this.cache.markDirty(mapping, folio);
      this.cache.unlock(folio);
      this.writeFailed = isFolioError(e) ? e : fail("EIO", String(e));
      return;
    }
    this.cache.startWriteback(mapping, folio);
    this.cache.unlock(folio);
    for (let p = 0; p < nr; p++) this.unreserve(inode, first + p);
    if (count === 0) {
      this.cache.endWriteback(mapping, folio, null);
      return;
    }
    const data = f.data(folio);
    const base = f.dataOffset(folio);
    for (let p = 0; p < count; p++) {
      const addr = this.writer.append(Kind.Data, inode.ino, first + p, data, base + p * BLOCK_SIZE);
      this.setCur(inode, first + p, addr);
    }
    this.writer.whenWritten((err) => {
      this.cache.endWriteback(mapping, folio, err ? "EIO" : null);
      // A failed write shut the filesystem down, and `cur` now names blocks that never got this
      // data: the folio holds the only copy. It stays dirty (it is: the disk does not have it), so
      // nothing drops it and reads keep returning it until unmount; it can never be written again.
      if (err && this.cache.lookup(mapping, first) === folio) this.cache.markDirty(mapping, folio);
    });
  }

  /**
   * readFolio: reads each page's latest block straight into the folio (runs of consecutive blocks
   * as one request); holes and pages past EOF are zeroed. finishRead ends it.
   */
  private startFolioRead(inode: LInode, folio: number): void {
    const f = this.cache.folios;
    let pending = 1;
    let ok = true;
    const complete = (e: FolioError | null) => {
      if (e) ok = false;
      if (--pending === 0) finishRead(this.cache, folio, ok);
    };
    const data = f.data(folio);
    const base = f.dataOffset(folio);
    for (const [p, block, count] of this.blockRuns(inode, f.index(folio), f.nrPages(folio), (p) => data.fill(0, base + p * BLOCK_SIZE, base + (p + 1) * BLOCK_SIZE))) {
      pending++;
      this.readsInflight++;
      this.device.submit({
        op: "read", block, count, buffer: data, offset: base + p * BLOCK_SIZE,
        done: (e) => {
          this.readsInflight--;
          complete(e);
        },
      });
    }
    complete(null);
  }

  /** Groups pages [0, nr) of a folio at file page `first` into runs of consecutive blocks: [page, block, count]; others go to `hole`. */
  private blockRuns(inode: LInode, first: number, nr: number, hole: (page: number) => void): [number, number, number][] {
    const runs: [number, number, number][] = [];
    for (let p = 0; p < nr; p++) {
      const idx = first + p;
      const block = idx * BLOCK_SIZE >= inode.size ? 0 : (inode.cur.get(idx) ?? 0);
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
   * writeBegin: returns the locked folio covering `pos`, made uptodate first when the write does
   * not cover it, after reserving one block for each of its pages not already reserved (the whole
   * folio is written back: ENOSPC now, never at writeback); places nothing.
   *
   * Large folios: only the folio's pages are reserved, not the rest of `len` (performWrite asks
   * for up to a chunk; the next folios reserve theirs), so a write near a full log ends short at
   * a folio's edge, or fails with ENOSPC when its first folio does not fit. A clean large folio
   * the write covers only in part is split first: the log rewrites every page of a dirty folio,
   * and a small overwrite must not dirty 2 MiB.
   */
  private prepareWrite(file: CachedFile, pos: number, len: number): number {
    const inode = this.inodeOfMapping(file.mapping);
    const f = this.cache.folios;
    for (;;) {
      const folio = grabFolioForWrite(this.cache, file, pos, len);
      const start = f.index(folio) * BLOCK_SIZE;
      const covers = pos === start && len >= f.size(folio);
      if (f.nrPages(folio) > 1 && !covers && f.test(folio, FolioFlag.Uptodate) && !f.test(folio, FolioFlag.Dirty) && !f.test(folio, FolioFlag.Writeback)) {
        if (this.cache.splitFolio(file.mapping, folio, 1) !== null) {
          this.cache.unlock(folio);
          f.put(folio);
          continue; // the page at `pos` is a folio of its own now
        }
      }
      const first = f.index(folio);
      const added: number[] = [];
      for (let i = first; i < first + f.nrPages(folio); i++) if (!inode.reserved.has(i)) added.push(i);
      if (!this.fits(added.length)) {
        // Making room may write back and clean, which locks folios: never with this one locked.
        this.cache.unlock(folio);
        f.put(folio);
        this.checkSpace(added.length);
        continue;
      }
      for (const i of added) this.reserve(inode, i);
      if (!f.test(folio, FolioFlag.Uptodate)) {
        if (!covers && !this.fillFolio(inode, folio)) {
          // Nothing is dirtied, so nothing will be written: the space goes back.
          for (const i of added) this.unreserve(inode, i);
          this.cache.unlock(folio);
          f.put(folio);
          throw fail("EIO", `read before write of inode ${inode.ino} at ${pos} failed`);
        }
      }
      return folio;
    }
  }

  /** Reads a locked folio's blocks and waits (the folio stays locked); sets uptodate. Returns success. */
  private fillFolio(inode: LInode, folio: number): boolean {
    const f = this.cache.folios;
    const data = f.data(folio);
    const base = f.dataOffset(folio);
    let pending = 0;
    let ok = true;
    for (const [p, block, count] of this.blockRuns(inode, f.index(folio), f.nrPages(folio), (p) => data.fill(0, base + p * BLOCK_SIZE, base + (p + 1) * BLOCK_SIZE))) {
      pending++;
      this.readsInflight++;
      this.device.submit({
        op: "read", block, count, buffer: data, offset: base + p * BLOCK_SIZE,
        done: (e) => {
          this.readsInflight--;
          if (e) ok = false;
          pending--;
        },
      });
    }
    if (pending > 0) this.machine.scheduler.waitUntil(() => pending === 0, `read before write of inode ${inode.ino}`);
    if (ok) f.set(folio, FolioFlag.Uptodate);
    return ok;
  }

  // ───────────────────────────── space ─────────────────────────────

  /** Blocks users can fill: every segment but the reserve, less one summary block each. */
  private capacity(): number {
    return (this.sb.nrSegments - this.sb.reserveSegs) * (this.sb.segBlocks - 1);
  }

  /** Free log kept back for the cleaner's own writes: ordinary writes clean first when they would eat into it. */
  private cleanerReserve(): number {
    return Math.max(2, Math.ceil(this.sb.reserveSegs / 2)) * (this.sb.segBlocks - 1);
  }

  /**
   * Checks that `need` more blocks can be written, before anything is reserved or changed:
   *
   *  1. live blocks plus reservations plus `need` stay within the capacity;
   *  2. the free log holds every reserved (not yet written) page, `need`, the metadata the next
   *     commit writes, and the cleaner's reserve: so writeback never runs out of room.
   *
   * When (2) fails the cleaner runs first; when either still fails, a sync lets superseded blocks
   * die (they are live only while committed records name them) and the cleaner runs again. Only
   * then is it ENOSPC: never while cleaning could make the room.
   */
  private checkSpace(need: number): void {
    if (this.fits(need)) return;
    if (!this.cleaning) {
      if (this.liveTotal + this.reservedTotal + need <= this.capacity()) {
        this.clean(this.logWant(need));
        if (this.fits(need)) return;
      }
      this.stats.pressureSyncs++;
      this.syncAll();
      this.clean(this.logWant(need));
      if (this.fits(need)) return;
    }
    this.stats.enospc++;
    throw fail("ENOSPC", `no space left on fs-log ${this.device.name}`);
  }

  private fits(need: number): boolean {
    return this.liveTotal + this.reservedTotal + need <= this.capacity() && this.writer.capacityBlocks() >= this.logWant(need);
  }

  /** Free log wanted before `need` more blocks are dirtied: see checkSpace. */
  private logWant(need: number): number {
    return this.reservedTotal + need + this.pendingMetaBlocks() + this.cleanerReserve();
  }

  /** A bound on the blocks the next commit writes: records, imap chunks, directory data, summaries. */
  private pendingMetaBlocks(): number {
    let dirBlocks = 0;
    for (const d of this.dirtyDirs) dirBlocks += Math.ceil(d.size / BLOCK_SIZE) + 1;
    const records = this.nsDirty.size + this.dirtyFiles.size;
    const payload = dirBlocks + Math.ceil((records * 512) / BLOCK_SIZE) + Math.min(this.sb.imapChunks, records) + 2;
    return payload + Math.ceil(payload / this.writer.maxEntries) + 2;
  }

  private reserve(inode: LInode, idx: number): void {
    if (inode.reserved.has(idx)) return;
    inode.reserved.add(idx);
    this.reservedTotal++;
  }

  private unreserve(inode: LInode, idx: number): void {
    if (inode.reserved.delete(idx)) this.reservedTotal--;
  }

  /** Makes sure the log can take `blocks` more blocks (plus the cleaner's reserve), cleaning when it cannot. */
  private ensureLogRoom(blocks: number): void {
    const want = blocks + this.cleanerReserve();
    if (this.writer.capacityBlocks() >= want) return;
    this.clean(want);
  }

  // ───────────────────────────── live-block accounting ─────────────────────────────

  private bump(addr: number, dAll: number, dDisk: number): void {
    const s = segOf(this.sb, addr);
    this.liveAll[s]! += dAll;
    this.usage.live[s]! += dDisk;
    this.liveTotal += dAll;
  }

  /** Points page `idx` of the latest data at `addr` (0: none), keeping the live counts. */
  private setCur(inode: LInode, idx: number, addr: number): void {
    const old = inode.cur.get(idx) ?? 0;
    if (old === addr) return;
    const d = inode.disk.get(idx) ?? 0;
    if (old !== 0 && old !== d) this.bump(old, -1, 0);
    if (addr !== 0 && addr !== d) this.bump(addr, 1, 0);
    if (addr === 0) inode.cur.delete(idx);
    else inode.cur.set(idx, addr);
  }

  /** Points page `idx` of the committed block map at `addr` (0: none), keeping the live counts. */
  private setDisk(inode: LInode, idx: number, addr: number): void {
    const old = inode.disk.get(idx) ?? 0;
    if (old === addr) return;
    const c = inode.cur.get(idx) ?? 0;
    if (old !== 0) this.bump(old, old === c ? 0 : -1, -1);
    if (addr !== 0) this.bump(addr, addr === c ? 0 : 1, 1);
    if (addr === 0) inode.disk.delete(idx);
    else inode.disk.set(idx, addr);
  }

  /** Counts a reference to a metadata block (`count`: also in the durable counts). */
  private bumpMeta(addr: number, d: number, count = true): void {
    const n = (this.metaRefs.get(addr) ?? 0) + d;
    if (n < 0) throw fail("EUCLEAN", `metadata block ${addr} released twice`);
    if (n === 0) this.metaRefs.delete(addr);
    else this.metaRefs.set(addr, n);
    if (count && n === 0 && d < 0) this.bump(addr, -1, -1);
    if (count && n === 1 && d > 0) this.bump(addr, 1, 1);
  }

  private setImap(ino: number, addr: number, off: number, nblk: number, chunks: Set<number>): void {
    const m = this.imap;
    for (let k = 0; k < m.nblk[ino]!; k++) this.bumpMeta(m.addr[ino]! + k, -1);
    m.addr[ino] = addr;
    m.off[ino] = off;
    m.nblk[ino] = nblk;
    for (let k = 0; k < nblk; k++) this.bumpMeta(addr + k, 1);
    chunks.add(Math.floor(ino / IMAP_PER_CHUNK));
  }

  // ───────────────────────────── commits and checkpoints ─────────────────────────────

  /**
   * A commit: makes the whole namespace durable (every directory's entries, every inode's
   * existence and link count), plus the data, size and attributes of the regular files `files`
   * (of every dirty file with `all`), whose data must already be written. Writes directory data,
   * inode records and imap chunks as one commit group; the caller flushes the device.
   */
  private commit(files: Iterable<LInode>, all: boolean): void {
    const targets = new Set<LInode>();
    for (const f of files) if (f.isReg && !f.evicted && f.nlink > 0 && (f.dirty || !f.onDisk)) targets.add(f);
    if (all) for (const f of this.dirtyFiles) if (!f.evicted && f.nlink > 0) targets.add(f);
    if (targets.size === 0 && this.nsDirty.size === 0) return;
    let est = Math.min(this.sb.imapChunks, this.nsDirty.size + targets.size) + 4;
    for (const i of this.nsDirty) est += 1 + (i.isDir ? Math.ceil(i.size / BLOCK_SIZE) : 0);
    for (const t of targets) est += 1 + Math.ceil((t.cur.size * 12) / BLOCK_SIZE);
    est += Math.ceil(est / this.writer.maxEntries) + 2;
    this.ensureLogRoom(est);
    // Nothing has changed yet: a commit that cannot fit fails whole (it never should: see checkSpace).
    if (this.writer.capacityBlocks() < est) throw fail("ENOSPC", `fs-log on ${this.device.name}: no room in the log for a commit of ${est} blocks`);
    this.drainReads();
    const records = new Set<LInode>();
    const chunks = new Set<number>();
    const ns = [...this.nsDirty];
    for (const i of ns) {
      if (i.nlink === 0) {
        if (i.onDisk) {
          for (const idx of [...i.disk.keys()]) this.setDisk(i, idx, 0);
          this.setImap(i.ino, 0, 0, 0, chunks);
          i.onDisk = false;
        }
        continue;
      }
      if (i.isDir) {
        if (i.entriesDirty || !i.onDisk) this.writeDirData(i);
        i.committed = i.attrs();
      } else if (i.isSymlink) {
        i.committed = i.attrs();
      } else {
        i.committed.nlink = i.nlink;
      }
      records.add(i);
    }
    for (const t of targets) {
      for (const idx of [...t.disk.keys()]) if (!t.cur.has(idx)) this.setDisk(t, idx, 0);
      for (const [idx, a] of t.cur) this.setDisk(t, idx, a);
      t.committed = t.attrs();
      records.add(t);
    }
    this.writeRecords(records, chunks);
    this.writer.seal(true);
    this.dirtyDirs.clear();
    for (const i of ns) {
      i.nsDirty = false;
      i.entriesDirty = false;
      if (i.nlink === 0 && i.evicted) this.forget(i);
    }
    this.nsDirty.clear();
    for (const t of targets) {
      t.dirty = false;
      this.dirtyFiles.delete(t);
    }
    this.stats.commits++;
  }

  /** Writes a directory's entries as its data blocks and points its committed map at them. */
  private writeDirData(d: LInode): void {
    const stream = encodeDir(this.dirEntries(d));
    const nblocks = Math.ceil(stream.length / BLOCK_SIZE);
    const padded = new Uint8Array(nblocks * BLOCK_SIZE);
    padded.set(stream);
    for (const idx of [...d.disk.keys()]) if (idx >= nblocks) this.setDisk(d, idx, 0);
    for (let k = 0; k < nblocks; k++) this.setDisk(d, k, this.writer.append(Kind.Data, d.ino, k, padded, k * BLOCK_SIZE));
    d.size = stream.length;
  }

  /** The record a crash would recover for an inode: its committed attributes and block map. */
  private recordOf(i: LInode): RecordData {
    const c = i.committed;
    return {
      ino: i.ino, mode: c.mode, nlink: c.nlink, uid: c.uid, gid: c.gid, size: c.size,
      atimeNs: c.atimeNs, mtimeNs: c.mtimeNs, ctimeNs: c.ctimeNs, btimeNs: c.btimeNs,
      parent: (c.mode & S_IFMT) === S_IFDIR ? c.parent : 0, target: i.isSymlink ? i.target : null, extents: toExtents(this.sb, i.disk),
    };
  }

  /**
   * Appends the committed records of `inodes` packed into inode blocks, points the imap at them,
   * and appends every imap chunk that changed (plus `chunks`). The caller seals the commit.
   */
  private writeRecords(inodes: Iterable<LInode>, chunks: Set<number>): void {
    const list = [...inodes];
    appendRecords(this.writer, list.map((i) => ({ ino: i.ino, bytes: encodeRecord(this.recordOf(i)) })), (ino, addr, off, nblk) => this.setImap(ino, addr, off, nblk, chunks));
    for (const i of list) i.onDisk = true;
    appendChunks(this.writer, this.imap, chunks, (c, addr) => {
      this.bumpMeta(this.chunkAddr[c]!, -1);
      this.chunkAddr[c] = addr;
      this.bumpMeta(addr, 1);
    });
  }

  /** Writes a checkpoint (see writeCheckpoint); segments dead at that point become free. */
  private checkpoint(): void {
    this.drainReads();
    let freed: number[];
    try {
      freed = writeCheckpoint({
        sb: this.sb, io: this.io, writer: this.writer, usage: this.usage, liveAll: this.liveAll,
        chunkAddr: this.chunkAddr, sutAddr: this.sutAddr,
        setSutAddr: (i, a) => {
          if (this.sutAddr[i] !== undefined) this.bumpMeta(this.sutAddr[i]!, -1);
          this.sutAddr[i] = a;
          this.bumpMeta(a, 1);
        },
        nextIno: this.nextIno, seq: this.cpSeq + 1, timeNs: this.now(),
      });
    } catch (e) {
      throw this.fail(isFolioError(e) ? e : fail("EIO", String(e)));
    }
    this.cpSeq++;
    this.unitsAtCheckpoint = this.writer.unitsWritten;
    this.stats.checkpoints++;
    this.stats.segmentsFreed += freed.length;
  }

  /** All dirty data, then a commit of everything, then a device flush (the durable part of sync). */
  private syncAll(): void {
    const mappings = [...this.inodes.values()].filter((i) => i.isReg && i.mapping).map((i) => i.mapping!);
    syncMappings(this.cache, mappings, this.writepagesFn());
    this.checkShutdown();
    this.commit([], true);
    this.flushDevice();
  }

  // ───────────────────────────── the cleaner ─────────────────────────────

  /** The background task: cleans when free segments run low, checkpoints when the roll-forward grows long. */
  private background(): void {
    if (!this.mounted || this.readOnly || this.shutdown || this.busy > 0) return;
    this.busy++;
    try {
      const low = Math.max(this.sb.reserveSegs, Math.ceil(this.sb.nrSegments / 8));
      if (this.writer.freeSegments() < low) {
        this.clean(Math.ceil(this.sb.nrSegments / 4) * (this.sb.segBlocks - 1));
      } else if (this.writer.unitsWritten - this.unitsAtCheckpoint > 4 * this.sb.segBlocks && this.writer.capacityBlocks() > this.cleanerReserve()) {
        this.checkpoint();
      }
    } catch (e) {
      this.noteError(`cleaner: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.busy--;
    }
  }

  /**
   * Cleans segments until the log can take `wantBlocks` blocks (and at least `victims` segments
   * were cleaned): segments with nothing live are freed by a checkpoint; otherwise victims are
   * chosen by cost-benefit ((1 − u) × age / (1 + u)) and cleaned in batches: their live blocks are
   * copied to the head, the committed records and imap chunks that named them are rewritten (one
   * commit), and a checkpoint then frees them. A victim is reused only after that checkpoint is
   * durable. A batch runs only if its output fits in the free log and it gains room (unless
   * `victims` asks for cleaning regardless of gain); the cleaner never makes things worse.
   */
  private clean(wantBlocks: number, victims = 0): void {
    if (this.cleaning || this.shutdown) return;
    this.cleaning = true;
    this.stats.cleanerRuns++;
    try {
      this.writer.seal(false);
      this.writer.drain();
      this.drainReads();
      // Dead segments need no copying: a checkpoint frees them.
      if (this.hasDeadSegments()) this.checkpoint();
      let done = 0;
      for (let round = 0; round < this.sb.nrSegments && (this.writer.capacityBlocks() < wantBlocks || done < victims); round++) {
        // Aim a little past the target, so one batch (and one checkpoint) serves several writes.
        const batch = this.pickBatch(wantBlocks + 2 * (this.sb.segBlocks - 1) - this.writer.capacityBlocks(), done < victims ? victims - done : 0);
        if (batch.length === 0) break;
        this.cleanSegments(batch);
        this.checkpoint();
        done += batch.length;
      }
    } finally {
      this.cleaning = false;
    }
  }

  private hasDeadSegments(): boolean {
    for (let s = 0; s < this.sb.nrSegments; s++) {
      if (this.usage.state[s] === SegState.Used && this.liveAll[s] === 0 && s !== this.writer.headSeg && s !== this.writer.nextSeg) return true;
    }
    return false;
  }

  /**
   * The next batch of victims, planned exactly: candidates in cost-benefit order are read and
   * their live blocks found; a candidate joins the batch when the batch's writes (an upper bound:
   * see batchCost) still fit in the free log. Returns the prefix with the largest gain (room
   * freed minus room written), stopping once it gains `want` blocks. With `force`, the first
   * `force` candidates that fit, gain or not.
   */
  private pickBatch(want: number, force: number): VictimPlan[] {
    const now = this.machine.scheduler.now;
    const usable = this.sb.segBlocks - 1;
    const cands: { s: number; score: number }[] = [];
    for (let s = 0; s < this.sb.nrSegments; s++) {
      if (this.usage.state[s] !== SegState.Used || s === this.writer.headSeg || s === this.writer.nextSeg) continue;
      const live = this.liveAll[s]!;
      if (live >= usable && force === 0) continue;
      const u = live / usable;
      const age = Math.max(1, now - this.usage.lastWrite[s]!);
      cands.push({ s, score: ((1 - u) * age) / (1 + u) });
    }
    cands.sort((a, b) => b.score - a.score || a.s - b.s);
    const avail = this.writer.capacityBlocks() - 2;
    let best: VictimPlan[] = [];
    let bestGain = 0;
    const batch: VictimPlan[] = [];
    let tries = 0;
    for (const { s } of cands) {
      if (batch.length >= 64 || tries++ >= 128) break;
      const plan = this.planVictim(s);
      batch.push(plan);
      const cost = this.batchCost(batch);
      if (cost > avail) {
        batch.pop();
        continue;
      }
      if (force > 0) {
        if (batch.length >= force) break;
        continue;
      }
      const gain = batch.length * usable - cost;
      if (gain > bestGain) {
        best = batch.slice();
        bestGain = gain;
        if (gain >= want) break;
      }
    }
    return force > 0 ? batch : best;
  }

  /** Reads segment `s` and finds what in it is live (changes nothing). */
  private planVictim(s: number): VictimPlan {
    const sb = this.sb;
    const base = segBase(sb, s);
    const buf = this.io.read(base, sb.segBlocks);
    const plan: VictimPlan = { s, buf, moves: [], records: new Set(), chunks: new Set() };
    for (const u of walkSegment(sb, buf)) {
      const e = u.sum.entries;
      for (let i = 0; i < u.sum.nBlocks; i++) {
        const addr = base + u.off + 1 + i;
        const at = (u.off + 1 + i) * BLOCK_SIZE;
        const kind = e[i * 3]!;
        const ino = e[i * 3 + 1]!;
        const idx = e[i * 3 + 2]!;
        if (kind === Kind.Data) {
          const inode = this.inodeForCleaner(ino);
          if (!inode) continue;
          const inCur = inode.cur.get(idx) === addr;
          const inDisk = inode.disk.get(idx) === addr;
          if (!inCur && !inDisk) continue;
          plan.moves.push({ inode, idx, at, inCur, inDisk });
          if (inDisk && inode.onDisk) plan.records.add(inode);
        } else if (kind === Kind.Inode) {
          for (let off = 0; off < BLOCK_SIZE; ) {
            const r = peekRecord(buf, at + off, BLOCK_SIZE - off);
            if (!r) break;
            if (r.ino > 0 && r.ino < sb.maxInodes && this.imap.addr[r.ino] === addr && this.imap.off[r.ino] === off) {
              const inode = this.inodeForCleaner(r.ino);
              if (inode && inode.onDisk) plan.records.add(inode);
            }
            if (r.length <= 0 || r.length > BLOCK_SIZE - off) break;
            off += r.length;
          }
        } else if (kind === Kind.Imap) {
          if (idx < sb.imapChunks && this.chunkAddr[idx] === addr) plan.chunks.add(idx);
        }
        // Usage-table blocks die at the next checkpoint; continuation blocks follow their record.
      }
    }
    return plan;
  }

  /**
   * An upper bound, in log blocks, of what cleaning `plans` writes: the moved blocks, the records
   * (packed as writeRecords packs them, each as long as it can grow when moves split its extents),
   * the imap chunks, a summary per unit, and the checkpoint after it.
   */
  private batchCost(plans: VictimPlan[]): number {
    const records = new Set<LInode>();
    const chunks = new Set<number>();
    const moved = new Map<LInode, number>();
    let data = 0;
    for (const p of plans) {
      data += p.moves.length;
      for (const m of p.moves) if (m.inDisk) moved.set(m.inode, (moved.get(m.inode) ?? 0) + 1);
      for (const r of p.records) records.add(r);
      for (const c of p.chunks) chunks.add(c);
    }
    let blocks = 0;
    let used = 0;
    let waste = 0;
    for (const r of records) {
      chunks.add(Math.floor(r.ino / IMAP_PER_CHUNK));
      const len = REC_HEADER + ((r.target?.length ?? 0) + 3) + (toExtents(this.sb, r.disk).length + 2 * (moved.get(r) ?? 0)) * 12;
      if (len <= BLOCK_SIZE) {
        if (used + len > BLOCK_SIZE) {
          blocks++;
          used = 0;
        }
        used += len;
      } else {
        const n = Math.ceil(len / BLOCK_SIZE);
        blocks += n;
        waste += n + 1; // ensureRoom may end a segment early for it
      }
    }
    if (used > 0) blocks++;
    const payload = data + blocks + chunks.size;
    const unit = Math.min(this.writer.maxEntries, this.sb.segBlocks - 1);
    const units = 2 * Math.ceil(payload / unit) + 2;
    const checkpoint = 2 * this.sb.sutBlocks + 2;
    return payload + units + waste + checkpoint;
  }

  /** Copies the live blocks the plans found to the head and rewrites the records and chunks that named them, as one commit. */
  private cleanSegments(plans: VictimPlan[]): void {
    const records = new Set<LInode>();
    const chunks = new Set<number>();
    for (const p of plans) {
      for (const m of p.moves) {
        const moved = this.writer.append(Kind.Data, m.inode.ino, m.idx, p.buf, m.at);
        if (m.inCur) this.setCur(m.inode, m.idx, moved);
        if (m.inDisk) this.setDisk(m.inode, m.idx, moved);
        this.stats.blocksMoved++;
      }
      for (const r of p.records) records.add(r);
      for (const c of p.chunks) chunks.add(c);
      this.stats.segmentsCleaned++;
    }
    if (records.size > 0 || chunks.size > 0) this.writeRecords(records, chunks);
    this.writer.seal(true);
    this.writer.drain();
    if (this.writer.failed) throw this.shutdownError();
  }

  /** The in-memory inode `ino` if it exists in memory or on disk (loading it), else null. */
  private inodeForCleaner(ino: number): LInode | null {
    if (ino <= 0 || ino >= this.sb.maxInodes) return null;
    const i = this.inodes.get(ino);
    if (i) return i;
    if (this.imap.addr[ino] === 0) return null;
    return this.iget(ino);
  }

  // ───────────────────────────── inodes ─────────────────────────────

  /** The in-memory inode `ino`, reading its record on first use. ENOENT if it does not exist. */
  private iget(ino: number): LInode {
    const have = this.inodes.get(ino);
    if (have) {
      if (have.evicted) throw fail("ENOENT", `inode ${ino} has been removed`);
      return have;
    }
    if (!Number.isInteger(ino) || ino <= 0 || ino >= this.sb.maxInodes || this.imap.addr[ino] === 0) throw fail("ENOENT", `no inode ${ino} on ${this.device.name}`);
    const r = readRecord(this.io, this.sb, this.imap, ino);
    if (typeof r === "string") throw this.corrupt(r);
    const a: Attrs = {
      mode: r.mode, nlink: r.nlink, uid: r.uid, gid: r.gid, size: r.size,
      atimeNs: r.atimeNs, mtimeNs: r.mtimeNs, ctimeNs: r.ctimeNs, btimeNs: r.btimeNs, parent: r.parent,
    };
    const inode = this.newInode(ino, a, r.target);
    inode.onDisk = true;
    for (const [idx, addr] of fromExtents(r.extents)) {
      inode.disk.set(idx, addr);
      if (inode.isReg) inode.cur.set(idx, addr);
    }
    return inode;
  }

  private newInode(ino: number, a: Attrs, target: Uint8Array | null): LInode {
    const inode = new LInode(ino, a, target, `inode ${ino} on fs-log ${this.device.name}`);
    inode.mapping = this.cache.createMapping(inode.host, { maxOrder: this.maxOrder });
    this.inodes.set(ino, inode);
    if (!this.inoUsed[ino]) this.usedInodes++;
    this.inoUsed[ino] = 1;
    return inode;
  }

  /** Drops the data of an unlinked inode being evicted; its removal reaches the disk with the next commit (it may already have). */
  private maybeDrop(inode: LInode): void {
    if (inode.nlink > 0 || inode.opens > 0 || inode.evicted) return;
    if (inode.mapping) {
      truncateInodePages(this.cache, inode.mapping, 0);
      this.cache.destroyMapping(inode.mapping);
      inode.mapping = null;
    }
    for (const idx of [...inode.reserved]) this.unreserve(inode, idx);
    for (const idx of [...inode.cur.keys()]) this.setCur(inode, idx, 0);
    inode.evicted = true;
    inode.entries = null;
    this.dirtyFiles.delete(inode);
    this.dirtyDirs.delete(inode);
    if (!inode.onDisk) {
      this.nsDirty.delete(inode);
      this.forget(inode);
    } else {
      inode.nsDirty = true;
      this.nsDirty.add(inode);
    }
  }

  /** Removes a gone inode from memory and frees its number. */
  private forget(inode: LInode): void {
    this.inodes.delete(inode.ino);
    if (this.inoUsed[inode.ino]) this.usedInodes--;
    this.inoUsed[inode.ino] = 0;
  }

  private allocIno(): number {
    const n = this.sb.maxInodes;
    for (let k = 0; k < n; k++) {
      const ino = ((this.nextIno - 1 + k) % (n - 1)) + 1;
      if (ino === ROOT_INO || this.inoUsed[ino]) continue;
      this.nextIno = ino + 1 < n ? ino + 1 : ROOT_INO + 1;
      return ino;
    }
    throw fail("ENOSPC", `no free inodes on fs-log ${this.device.name}`);
  }

  /** A file's data, size or attributes changed (committed by its fsync or a sync); directories and symlinks are namespace. */
  private attrChanged(inode: LInode): void {
    if (inode.isReg) {
      inode.dirty = true;
      this.dirtyFiles.add(inode);
    } else {
      inode.nsDirty = true;
      this.nsDirty.add(inode);
    }
  }

  /** A namespace change of an inode: committed by the next commit of any kind. */
  private linksChanged(inode: LInode): void {
    inode.nsDirty = true;
    this.nsDirty.add(inode);
    if (inode.isReg) this.attrChanged(inode);
  }

  /**
   * Sets a regular file's size. A shrink that leaves a partial last page rewrites that page with
   * the bytes past the new end zeroed (its block on the log still holds them, and they would read
   * back as data if the file grew again). Everything that can fail — the space check, the folio,
   * the read of the page — comes first: on error the size, the block map, the cache and the
   * reservations are as they were.
   */
  private setSize(inode: LInode, size: number): void {
    const mapping = inode.mapping!;
    if (size >= inode.size) {
      if (size > inode.size) this.zeroOldTail(inode);
      truncateSetSize(this.cache, mapping, size);
      return;
    }
    const tail = size % BLOCK_SIZE;
    const page = Math.floor(size / BLOCK_SIZE);
    if (tail !== 0 && (inode.cur.has(page) || this.cache.lookup(mapping, page) !== 0)) this.zeroPageTail(inode, page, tail);
    // Nothing below can fail.
    truncateSetSize(this.cache, mapping, size);
    const firstGone = Math.ceil(size / BLOCK_SIZE);
    for (const idx of [...inode.cur.keys()]) if (idx >= firstGone) this.setCur(inode, idx, 0);
    for (const idx of [...inode.reserved]) if (idx >= firstGone) this.unreserve(inode, idx);
  }

  /**
   * Before the file grows: the bytes past EOF in its last page are not file data (a store through
   * a shared mapping may have put bytes there, and writeback may have carried them to disk), and
   * must read as zeros once the size covers them — so they are zeroed in the cache and the page
   * dirtied (Linux's pagecache_isize_extended with the filesystem's zeroing of the old tail).
   * Throws, changing nothing, as {@link zeroPageTail}.
   */
  private zeroOldTail(inode: LInode): void {
    const tail = inode.size % BLOCK_SIZE;
    const page = Math.floor(inode.size / BLOCK_SIZE);
    if (tail !== 0 && (inode.cur.has(page) || this.cache.lookup(inode.mapping!, page) !== 0)) this.zeroPageTail(inode, page, tail);
  }

  /**
   * Zeroes bytes [tail, BLOCK_SIZE) of file page `page` in the cache and dirties it, reserving the
   * block its rewrite takes. Throws (ENOSPC, ENOMEM, EIO) with nothing changed: the reservation is
   * taken back, and a folio the read failed to fill stays clean and not uptodate.
   */
  private zeroPageTail(inode: LInode, page: number, tail: number): void {
    const mapping = inode.mapping!;
    const f = this.cache.folios;
    const fresh = inode.reserved.has(page) ? [] : [page];
    this.checkSpace(fresh.length);
    for (const i of fresh) this.reserve(inode, i);
    let folio: number;
    try {
      folio = grabFolioForWrite(this.cache, openCachedFile(mapping), page * BLOCK_SIZE + tail, 1);
    } catch (e) {
      for (const i of fresh) this.unreserve(inode, i);
      throw e;
    }
    try {
      if (!f.test(folio, FolioFlag.Uptodate) && !this.fillFolio(inode, folio)) {
        for (const i of fresh) this.unreserve(inode, i);
        throw fail("EIO", `truncate of inode ${inode.ino}: read of page ${page} (to zero it past the new end) failed`);
      }
      // The whole folio is rewritten when it is written back: each of its pages needs its block.
      for (let i = 0; i < f.nrPages(folio); i++) this.reserve(inode, f.index(folio) + i);
      const at = f.dataOffset(folio) + (page - f.index(folio)) * BLOCK_SIZE;
      f.data(folio).fill(0, at + tail, at + BLOCK_SIZE);
      this.cache.markDirty(mapping, folio);
    } finally {
      this.cache.unlock(folio);
      f.put(folio);
    }
  }

  // ───────────────────────────── directories ─────────────────────────────

  private dirInode(ino: number): LInode {
    const d = this.iget(ino);
    if (!d.isDir) throw fail("ENOTDIR", `inode ${ino} is not a directory`);
    return d;
  }

  /** A directory's entries, read from its data blocks on first use. */
  private dirEntries(d: LInode): Map<string, DirEnt> {
    if (d.entries) return d.entries;
    const n = Math.ceil(d.size / BLOCK_SIZE);
    const buf = new Uint8Array(n * BLOCK_SIZE);
    for (let k = 0; k < n; k++) {
      const a = d.disk.get(k);
      if (a === undefined) throw this.corrupt(`directory ${d.ino} has a hole at block ${k}`);
      this.io.readInto(a, 1, buf, k * BLOCK_SIZE);
    }
    const { entries, error } = decodeDir(buf, d.size, this.sb.maxInodes);
    if (error) throw this.corrupt(`directory ${d.ino}: ${error}`);
    d.entries = entries;
    return entries;
  }

  private dirSet(d: LInode, name: string, e: DirEnt): void {
    const entries = this.dirEntries(d);
    const old = entries.has(name);
    entries.set(name, e);
    if (!old) d.size += 6 + nameBytes(name).length;
    d.entriesDirty = true;
    this.dirtyDirs.add(d);
    d.mtimeNs = d.ctimeNs = this.now();
    this.linksChanged(d);
  }

  private dirRemove(d: LInode, name: string): void {
    const entries = this.dirEntries(d);
    if (entries.delete(name)) d.size -= 6 + nameBytes(name).length;
    d.entriesDirty = true;
    this.dirtyDirs.add(d);
    d.mtimeNs = d.ctimeNs = this.now();
    this.linksChanged(d);
  }

  /** True when directory `ancestor` is `dir` or above it. Bounded by the inode count. */
  private isAncestor(ancestor: number, dir: LInode): boolean {
    let cur = dir;
    for (let steps = 0; steps <= this.sb.maxInodes; steps++) {
      if (cur.ino === ancestor) return true;
      if (cur.ino === ROOT_INO) return false;
      cur = this.dirInode(cur.parent);
    }
    throw this.corrupt(`directory ${dir.ino}: parent links form a loop`);
  }

  private touchDirs(a: LInode, b: LInode, now: number): void {
    a.mtimeNs = a.ctimeNs = now;
    b.mtimeNs = b.ctimeNs = now;
    this.linksChanged(a);
    this.linksChanged(b);
  }

  private makeNode(dirIno: number, name: string, mode: number, target: Uint8Array | null): number {
    const dir = this.dirInode(dirIno);
    if (dir.nlink === 0) throw fail("ENOENT", `directory ${dirIno} has been removed`);
    this.checkName(name);
    const isDir = (mode & S_IFMT) === S_IFDIR;
    if (this.dirEntries(dir).has(name)) throw fail("EEXIST", `"${name}" exists in directory ${dirIno}`);
    if (isDir && dir.nlink >= MAX_LINKS) throw fail("EMLINK", `directory ${dirIno} has too many links`);
    this.checkSpace(1);
    const ino = this.allocIno();
    const now = this.now();
    const a: Attrs = {
      mode, nlink: isDir ? 2 : 1, uid: 0, gid: 0, size: target ? target.length : 0,
      atimeNs: now, mtimeNs: now, ctimeNs: now, btimeNs: now, parent: isDir ? dirIno : 0,
    };
    const inode = this.newInode(ino, a, target ? target.slice() : null);
    if (isDir) inode.entries = new Map();
    inode.nsDirty = true;
    inode.entriesDirty = isDir;
    if (isDir) this.dirtyDirs.add(inode);
    this.nsDirty.add(inode);
    this.dirSet(dir, name, { ino, type: dtOf(mode) });
    if (isDir) dir.nlink++;
    return ino;
  }

  private checkName(name: string): string {
    if (typeof name !== "string" || name.length === 0) throw fail("ENOENT", "empty name");
    if (name === "." || name === ".." || name.includes("/") || name.includes("\0")) throw fail("EINVAL", `"${name}" is not a valid name`);
    const b = nameBytes(name);
    if (b.length > NAME_MAX) throw fail("ENAMETOOLONG", `name of ${b.length} bytes is longer than ${NAME_MAX}`);
    // Names are stored as UTF-8: one that does not survive the round trip (a lone surrogate) would alias another.
    if (UTF8.decode(b) !== name) throw fail("EINVAL", `name "${name}" is not valid Unicode`);
    return name;
  }

  // ───────────────────────────── helpers ─────────────────────────────

  private fileInode(file: FsFile): LInode {
    const inode = this.inodes.get(file.ino);
    if (!inode || inode.mapping !== file.mapping) throw fail("EBADF", `file of inode ${file.ino} is not open on this filesystem`);
    return inode;
  }

  private inodeOfMapping(mapping: Mapping): LInode {
    const inode = this.inodes.get(mapping.host.ino);
    if (!inode || inode.mapping !== mapping) throw fail("EINVAL", `mapping of ${mapping.host.label} does not belong to this filesystem`);
    return inode;
  }

  private drainReads(): void {
    if (this.readsInflight > 0) this.machine.scheduler.waitUntil(() => this.readsInflight === 0, `reads on ${this.device.name}`);
  }

  private flushDevice(): void {
    this.writer.drain();
    if (this.writer.failed) throw this.shutdownError();
    try {
      this.io.flush();
    } catch (e) {
      throw this.fail(isFolioError(e) ? e : fail("EIO", String(e)));
    }
  }

  /** A write to the device failed: the filesystem stops modifying anything (its durable state is its last commit). */
  private fail(e: FolioError): FolioError {
    if (!this.shutdown) {
      this.shutdown = e;
      this.noteError(`log write failed, filesystem shut down: ${e.message}`);
    }
    return this.shutdownError();
  }

  private shutdownError(): FolioError {
    return fail("EIO", `fs-log on ${this.device.name} was shut down after a write error${this.shutdown ? `: ${this.shutdown.message}` : ""}`);
  }

  private checkShutdown(): void {
    if (this.shutdown) throw this.shutdownError();
  }

  private teardown(): void {
    this.mounted = false;
    this.flusher.unregister(this);
    if (this.timer) this.machine.scheduler.cancel(this.timer);
    this.timer = undefined;
    for (const inode of [...this.inodes.values()]) {
      if (!inode.mapping) continue;
      try {
        truncateInodePages(this.cache, inode.mapping, 0);
        this.cache.destroyMapping(inode.mapping);
      } catch {
        // a page still under writeback on a dead device: leave it
      }
      inode.mapping = null;
    }
    this.inodes.clear();
    this.nsDirty.clear();
    this.dirtyFiles.clear();
    this.dirtyDirs.clear();
  }

  private op<T>(write: boolean, fn: () => T): T {
    if (!this.mounted) throw fail("EIO", `fs-log on ${this.device.name} is not mounted`);
    if (write && this.readOnly) throw fail("EROFS", `fs-log on ${this.device.name} is mounted read-only`);
    if (write) this.checkShutdown();
    this.busy++;
    try {
      return fn();
    } finally {
      this.busy--;
    }
  }

  private now(): number {
    return this.machine.wallClockNs();
  }

  private noteError(what: string): void {
    if (this.errors.length < 100) this.errors.push(what);
  }

  private corrupt(what: string): FolioError {
    this.noteError(what);
    return fail("EUCLEAN", `${this.device.name}: ${what} (filesystem corrupted: run fsck)`);
  }

  // ───────────────────────────── introspection (tests, tools) ─────────────────────────────

  /** Free segments, segments in use, and where the log head is. */
  logInfo(): {
    /** Segments free for the log to continue into. */
    freeSegments: number;
    /** Segments in the log. */
    segments: number;
    /** The segment the log head is in. */
    headSeg: number;
    /** The segment the log continues in after the head segment, or −1 when none is chosen yet. */
    nextSeg: number;
    /** Units submitted since mount. */
    unitsWritten: number;
    /** Blocks submitted since mount, summaries included. */
    blocksWritten: number;
    /** Live blocks, in memory and on disk. */
    live: number;
    /** Blocks reserved for dirty pages not yet written (delayed allocation). */
    reserved: number;
    /** Blocks users may fill: segments less the reserve, less each segment's summary block. */
    capacity: number;
  } {
    return {
      freeSegments: this.writer.freeSegments(), segments: this.sb.nrSegments, headSeg: this.writer.headSeg,
      nextSeg: this.writer.nextSeg === NO_SEG ? -1 : this.writer.nextSeg, unitsWritten: this.writer.unitsWritten, blocksWritten: this.writer.blocksWritten,
      live: this.liveTotal, reserved: this.reservedTotal, capacity: this.capacity(),
    };
  }

  /**
   * Recounts every live-block count and reservation from the inodes themselves (loading every
   * inode) and returns each disagreement; empty when the accounting is exact. For tests.
   */
  verifyAccounting(): string[] {
    return this.op(false, () => {
      const bad: string[] = [];
      for (let ino = 1; ino < this.sb.maxInodes; ino++) if (this.imap.addr[ino] !== 0 && !this.inodes.has(ino)) this.iget(ino);
      const all = new Int32Array(this.sb.nrSegments);
      const disk = new Int32Array(this.sb.nrSegments);
      const seen = new Map<number, number>();
      const claim = (addr: number, ino: number) => {
        const other = seen.get(addr);
        if (other !== undefined && other !== ino) bad.push(`block ${addr} is claimed by inodes ${other} and ${ino}`);
        seen.set(addr, ino);
      };
      let reserved = 0;
      for (const i of this.inodes.values()) {
        reserved += i.reserved.size;
        for (const [idx, a] of i.disk) {
          claim(a, i.ino);
          disk[segOf(this.sb, a)]!++;
          all[segOf(this.sb, a)]!++;
          void idx;
        }
        for (const [idx, a] of i.cur) {
          if (i.disk.get(idx) === a) continue;
          claim(a, i.ino);
          all[segOf(this.sb, a)]!++;
        }
        if (i.onDisk !== (this.imap.addr[i.ino] !== 0)) bad.push(`inode ${i.ino}: onDisk ${i.onDisk} but imap ${this.imap.addr[i.ino]}`);
      }
      const meta = new Set<number>();
      for (let ino = 1; ino < this.sb.maxInodes; ino++) for (let k = 0; k < this.imap.nblk[ino]!; k++) meta.add(this.imap.addr[ino]! + k);
      for (const a of this.chunkAddr) meta.add(a);
      for (const a of this.sutAddr) meta.add(a);
      for (const a of meta) {
        disk[segOf(this.sb, a)]!++;
        all[segOf(this.sb, a)]!++;
      }
      if (meta.size !== this.metaRefs.size) bad.push(`${this.metaRefs.size} metadata blocks referenced, ${meta.size} expected`);
      let total = 0;
      for (let s = 0; s < this.sb.nrSegments; s++) {
        total += all[s]!;
        if (all[s] !== this.liveAll[s]) bad.push(`segment ${s}: live count ${this.liveAll[s]}, recount ${all[s]}`);
        if (disk[s] !== this.usage.live[s]) bad.push(`segment ${s}: durable live count ${this.usage.live[s]}, recount ${disk[s]}`);
        if (all[s]! > 0 && this.usage.state[s] === SegState.Free) bad.push(`segment ${s} is free but holds ${all[s]} live blocks`);
      }
      if (total !== this.liveTotal) bad.push(`live total ${this.liveTotal}, recount ${total}`);
      if (reserved !== this.reservedTotal) bad.push(`reserved total ${this.reservedTotal}, recount ${reserved}`);
      return bad;
    });
  }

  /**
   * Runs the cleaner now: until `segments` more segments' worth of log is free, and at least
   * `victims` segments were cleaned (or nothing more can be cleaned). For tests and tools.
   */
  cleanNow(segments: number, victims = 0): void {
    this.op(true, () => this.clean(this.cleanerReserve() + segments * (this.sb.segBlocks - 1), victims));
  }
}

function checkId(v: number, what: string): number {
  if (!Number.isSafeInteger(v) || v < 0 || v > 0xffffffff) throw fail("EINVAL", `${what} ${v} is out of range`);
  return v;
}

/** Mount errors keep their code when they are ours; anything else unexpected is a corrupted image. */
function asClearError(e: unknown, dev: string): unknown {
  if (isFolioError(e)) return e;
  return fail("EUCLEAN", `${dev}: cannot mount: ${e instanceof Error ? e.message : String(e)}`);
}

