/**
 * fsck for fs-simple: checks an unmounted image and, with `repair`, fixes what is safe.
 *
 * The check reads the image into a model (the superblock, the bitmaps, the in-use inodes, and
 * the indirect and directory blocks it meets), finds every inconsistency and applies each fix to
 * the model as it goes, so later passes see a consistent picture and the report is complete even
 * without `repair`. Only with `repair` are the changed blocks written (data and metadata first,
 * the superblock last, each group followed by a flush). Without it nothing is ever written.
 *
 * Passes: 0 superblock (falls back to the backup; a truncated image is shrunk); 1 inodes and
 * their block trees (pointers out of range, blocks past EOF, block counts, sizes), with 1B for
 * blocks claimed more than once: a read-only survey decides each one's owner before any tree is
 * changed, and the other claimants get copies or, when their claim cannot be right, lose it;
 * 2 directories (rec_len, names, entries to free inodes, ".", "..", duplicate names, extra
 * names of a directory); 3 connectivity (unreachable directories and files go to /lost+found
 * under a name not taken, or are freed when they are empty or have no links); 4 link counts;
 * 5 bitmaps and free counts; 6 the clean flag.
 *
 * Every walk is bounded by the geometry: inode numbers by the inode count, block numbers by the
 * block count, directory sizes by their block maps, tree walks by reachability sets.
 */
import { fail, isFolioError } from "@folio/core";
import type { DeviceContext, FsckProblem, FsckReport } from "@folio/fs-api";
import { SyncBlockIo } from "@folio/pagecache";
import {
  BACKUP_SUPER_BLOCK, BITS_PER_BLOCK, BLOCK_SIZE, DIND_START, DIRENT_HEADER, DT_DIR, INLINE_MAX, INODES_PER_BLOCK, INODE_FLAG_INLINE, INODE_SIZE,
  IND_START, MAX_FILE_SIZE, NDIR, PTRS_PER_BLOCK, ROOT_INO, STATE_CLEAN, SUPER_BLOCK, SYMLINK_MAX, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG,
  checkGeometry, clearBit, decodeInode, decodeSuper, direntSize, dtOf, emptyInode, encodeInode, encodeSuper, getU32, initDirBlock,
  initEmptyDirBlock, nameBytes, nameString, parseDirBlock, putDirent, putU32, setBit, setDirentIno, setDirentRecLen, testBit, validType,
  type RawInode, type SuperBlockData,
} from "./format.js";

/** Problems listed one by one per kind before the rest are summarised. */
const LIST_LIMIT = 50;

interface FInode {
  ino: number;
  raw: RawInode;
  changed: boolean;
  /** Blocks (data and indirect) this inode owns. */
  claims: Set<number>;
  /** Directories and symlinks: file block index → device block, with a setter for the pointer. */
  map: Map<number, { block: number; set: (v: number) => void }>;
  /** In use in the inode bitmap on disk. */
  live: boolean;
  /** Named from the root through the directories on disk (as the survey found them, before any check). */
  reached: boolean;
  /** Its block tree has pointers outside the data area (in the inode or in an indirect block). */
  garbled: boolean;
  /** Its claims waiting in lostClaims. */
  lost: number;
  /** Directories: file block index → device block, as the survey found them. */
  dirBlocks: Map<number, number>;
}

/** How an inode uses a block it points at. */
type Role = "data" | "indirect" | "double-indirect";

/** One inode's claim on a block, as the survey found it. */
interface Claim {
  fi: FInode;
  /** Where the pointer is in the inode's block tree (see childPath). */
  path: number;
  role: Role;
  /** The claim cannot be right: it reads the block, or a block above it, as an indirect block holding pointers out of range. */
  doomed: boolean;
}

/** A claim met by the walk: what the claimant needs to own the block, or a copy of it. */
interface LostClaim {
  fi: FInode;
  block: number;
  /** Sets the pointer (in the inode, or in an indirect block the claimant owns). */
  set: (v: number) => void;
  path: number;
  role: Role;
  /** The file block a data block holds, or the first file block an indirect block maps. */
  index: number;
  /** A data block of a directory or symlink: kept in the inode's map. */
  keepMap: boolean;
  /** An indirect block: walks a block as this claimant's indirect block at this place. */
  descend: ((block: number) => void) | null;
}

/**
 * The path of the pointer to a block in an inode's tree as one number: the inode slot (0–13),
 * then one base-1025 digit (slot + 1) per indirect level.
 */
function childPath(parent: number, slot: number): number {
  return parent * (PTRS_PER_BLOCK + 1) + slot + 1;
}

/** Lexicographic order of two keys of equal length. */
function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

function isDotName(name: Uint8Array): boolean {
  return (name.length === 1 && name[0] === 0x2e) || (name.length === 2 && name[0] === 0x2e && name[1] === 0x2e);
}

interface Entry {
  dir: number;
  block: number;
  offset: number;
  ino: number;
  name: string;
  dot: 0 | 1 | 2;
  /** The entry's type byte as found on disk (before any fix). */
  typeOnDisk?: number;
}

/** Runs fsck on `ctx.device`. Throws EINVAL for a device holding no fs-simple image, ENOSYS for a newer format. */
export function fsck(ctx: DeviceContext, options: { repair: boolean }): FsckReport {
  const checker = new Checker(new SyncBlockIo(ctx.device, ctx.scheduler, BLOCK_SIZE, "fs-simple"), options?.repair === true, ctx.machine.wallClockNs());
  try {
    return checker.run();
  } catch (e) {
    if (isFolioError(e)) throw e;
    throw fail("EUCLEAN", `fsck of ${ctx.device.name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

class Checker {
  private readonly problems: FsckProblem[] = [];
  private readonly kinds = new Map<string, number>();
  private sb!: SuperBlockData;
  private superDirty = false;
  private backupDirty = false;
  private bb!: Uint8Array;
  private ib!: Uint8Array;
  /** Device blocks read, and those changed. */
  private readonly blocks = new Map<number, Uint8Array>();
  private readonly dirty = new Set<number>();
  private readonly inodes = new Map<number, FInode>();
  /** Owner of each block: 0 free, -1 metadata, else an inode number. */
  private owner!: Int32Array;
  /** How many inodes claim each block on disk (0, 1, or 2 for more), from the survey. */
  private surveyed = new Uint8Array(0);
  /** Blocks claimed more than once: every claim. */
  private readonly contested = new Map<number, Claim[]>();
  /** Their bytes before any repair (what each claimant's copy starts from). */
  private readonly original = new Map<number, Uint8Array>();
  /** Their owners (null: no claim can be right). */
  private readonly decided = new Map<number, Claim | null>();
  private readonly validIndirectCache = new Map<number, boolean>();
  /** Claims that did not get their block, for resolveLostClaims. */
  private readonly lostClaims: LostClaim[] = [];
  private allocCursor = 0;
  private entries = new Map<number, Entry[]>();
  private readonly parentOf = new Map<number, number>();
  private lostFound = 0;

  constructor(
    private readonly io: SyncBlockIo,
    private readonly repair: boolean,
    private readonly now: number,
  ) {}

  run(): FsckReport {
    this.checkSuper();
    this.readBitmaps();
    this.scanInodes();
    this.checkDirShapes();
    this.ensureRoot();
    this.scanDirectories();
    this.connect();
    this.checkLinks();
    this.checkBitmaps();
    if (this.sb.state !== STATE_CLEAN) {
      this.problem("state", "the filesystem was not cleanly unmounted");
      this.sb.state = STATE_CLEAN;
      this.superDirty = true;
    }
    if (this.repair) this.writeBack();
    return { clean: this.problems.length === 0, problems: this.problems };
  }

  // ───────────── reporting and block access ─────────────

  private problem(kind: string, what: string): void {
    const n = (this.kinds.get(kind) ?? 0) + 1;
    this.kinds.set(kind, n);
    if (n <= LIST_LIMIT) this.problems.push({ what, repaired: this.repair });
    else if (n === LIST_LIMIT + 1) this.problems.push({ what: `more problems of the kind "${kind}" (not listed)`, repaired: this.repair });
  }

  private read(block: number): Uint8Array {
    let b = this.blocks.get(block);
    if (!b) {
      b = this.io.read(block);
      this.blocks.set(block, b);
    }
    return b;
  }

  private touch(block: number): void {
    this.dirty.add(block);
  }

  private inData(b: number): boolean {
    return Number.isInteger(b) && b >= this.sb.firstDataBlock && b < this.sb.blockCount;
  }

  // ───────────── pass 0: superblock ─────────────

  private checkSuper(): void {
    const dev = this.io.device;
    if (dev.nrBlocks < 2) throw fail("EINVAL", `${dev.name} is too small to hold an fs-simple image`);
    let sb: SuperBlockData;
    const primaryRaw = this.read(SUPER_BLOCK);
    try {
      sb = decodeSuper(primaryRaw, 0, `${dev.name} superblock`);
      let backupOk = false;
      try {
        const b = decodeSuper(this.read(BACKUP_SUPER_BLOCK), 0, "backup");
        backupOk = checkGeometry(b) === null && sameGeometry(b, sb);
      } catch {
        backupOk = false;
      }
      if (!backupOk) {
        this.problem("super", "the backup superblock (block 1) is missing or differs from the primary");
        this.backupDirty = true;
      }
    } catch (e) {
      if (isFolioError(e, "ENOSYS")) throw e;
      let backup: SuperBlockData;
      try {
        backup = decodeSuper(this.read(BACKUP_SUPER_BLOCK), 0, `${dev.name} backup superblock`);
      } catch (e2) {
        if (isFolioError(e2, "ENOSYS")) throw e2;
        throw e;
      }
      this.problem("super", `the superblock is invalid (${(e as Error).message}); the backup in block 1 was used`);
      sb = backup;
      this.superDirty = true;
    }
    if (sb.blockCount > dev.nrBlocks) {
      if (sb.firstDataBlock + 1 >= dev.nrBlocks) {
        throw fail("EUCLEAN", `${dev.name}: image truncated inside its metadata: the filesystem needs ${sb.firstDataBlock + 1} blocks before any data but the device has ${dev.nrBlocks}`);
      }
      this.problem("super", `image truncated: the filesystem has ${sb.blockCount} blocks but the device only ${dev.nrBlocks}; the filesystem is shrunk to the device and data past its end is lost`);
      sb.blockCount = dev.nrBlocks;
      this.superDirty = true;
      this.backupDirty = true;
    }
    this.sb = sb;
    this.owner = new Int32Array(sb.blockCount);
    this.owner.fill(-1, 0, sb.firstDataBlock);
    this.allocCursor = sb.firstDataBlock;
  }

  private readBitmaps(): void {
    this.bb = this.io.read(this.sb.blockBitmapStart, this.sb.blockBitmapBlocks);
    this.ib = this.io.read(this.sb.inodeBitmapStart, this.sb.inodeBitmapBlocks);
  }

  // ───────────── pass 1: inodes and block trees ─────────────

  private scanInodes(): void {
    const sb = this.sb;
    const chunk = 256;
    for (let t = 0; t < sb.inodeTableBlocks; t += chunk) {
      const n = Math.min(chunk, sb.inodeTableBlocks - t);
      const buf = this.io.read(sb.inodeTableStart + t, n);
      for (let s = 0; s < n * INODES_PER_BLOCK; s++) {
        const ino = t * INODES_PER_BLOCK + s;
        if (ino === 0) continue;
        const raw = decodeInode(buf, s * INODE_SIZE);
        if (raw.mode === 0) continue;
        const fi: FInode = {
          ino, raw, changed: false, claims: new Set(), map: new Map(),
          live: testBit(this.ib, 0, ino), reached: false, garbled: false, lost: 0, dirBlocks: new Map(),
        };
        if (!validType(raw.mode)) {
          this.problem("inode", `inode ${ino} has an invalid mode 0o${raw.mode.toString(8)}; cleared`);
          this.clearInode(fi, false);
          continue;
        }
        this.inodes.set(ino, fi);
        this.checkInode(fi);
      }
    }
    // Who owns each block is settled before any block tree is changed (pass 1B).
    this.survey();
    for (const fi of [...this.inodes.values()]) this.walk(fi, Math.ceil(fi.raw.size / BLOCK_SIZE), (fi.raw.mode & S_IFMT) !== S_IFREG);
    this.resolveLostClaims();
  }

  /** Checks an inode's own fields; its block tree is walked once every inode has been read. */
  private checkInode(fi: FInode): void {
    const { raw, ino } = fi;
    const type = raw.mode & S_IFMT;
    if (raw.flags & INODE_FLAG_INLINE) {
      if (type !== S_IFLNK || raw.size === 0 || raw.size > INLINE_MAX) {
        this.problem("inode", `inode ${ino} has inline data of ${raw.size} bytes but is not a short symlink; cleared`);
        this.clearInode(fi, true);
        return;
      }
      if (raw.blocks !== 0) this.fixBlocks(fi, 0);
      return;
    }
    if (raw.flags !== 0) {
      this.problem("inode", `inode ${ino} has unknown flags 0x${raw.flags.toString(16)}; cleared them`);
      raw.flags = 0;
      fi.changed = true;
    }
    if (type === S_IFREG && raw.size > MAX_FILE_SIZE) {
      this.problem("inode", `inode ${ino} has size ${raw.size}, beyond the largest file; truncated`);
      raw.size = MAX_FILE_SIZE;
      fi.changed = true;
    }
    if (type === S_IFDIR && raw.size % BLOCK_SIZE !== 0) {
      this.problem("inode", `directory ${ino} has size ${raw.size}, not a multiple of ${BLOCK_SIZE}; rounded down`);
      raw.size -= raw.size % BLOCK_SIZE;
      fi.changed = true;
    }
    if (type === S_IFLNK && (raw.size === 0 || raw.size > SYMLINK_MAX)) {
      this.problem("inode", `symlink ${ino} has size ${raw.size}; cleared`);
      this.clearInode(fi, true);
    }
  }

  // ───────────── pass 1B: blocks claimed more than once ─────────────
  //
  // A crash can leave two inodes claiming one block: a block freed in memory (a file deleted or
  // truncated) and given to another file, when the new owner's inode reached the disk and the old
  // owner's change did not. A garbled inode can claim anything. Before any tree is changed, a
  // read-only survey finds every claim on every block and decides, for each block claimed more
  // than once, which claim owns it (see decideOwners); only the owner ever changes the block. The
  // other claimants get a copy of it (as e2fsck's pass 1D clones), so a file that was fsynced
  // keeps its data whoever else claims its blocks, or lose their pointer when their claim cannot
  // be right: a dead inode's, or one reading the block as an indirect block when it is not one.

  /** Reads every inode's block tree without changing anything: claims, garbled trees, directory blocks, reachability; then decides owners. */
  private survey(): void {
    const counts = new Uint8Array(this.sb.blockCount);
    for (const fi of this.inodes.values()) this.surveyTree(fi, (block) => (counts[block] = Math.min(2, counts[block]! + 1)));
    this.surveyed = counts;
    for (const fi of this.inodes.values()) {
      this.surveyTree(fi, (block, claim) => {
        if (counts[block]! < 2) return;
        const list = this.contested.get(block);
        if (list) list.push(claim);
        else {
          this.contested.set(block, [claim]);
          this.original.set(block, this.read(block).slice());
        }
      });
    }
    this.surveyReach();
    this.decideOwners();
  }

  /**
   * Visits every claim of an inode's block tree, as `walk` will make them (pointers in the data
   * area and below the size); marks the inode garbled if any pointer is out of range or an
   * indirect block holds pointers out of range, and notes a directory's blocks.
   */
  private surveyTree(fi: FInode, visit: (block: number, claim: Claim) => void): void {
    const { raw } = fi;
    if (raw.flags & INODE_FLAG_INLINE) return;
    const limit = Math.ceil(raw.size / BLOCK_SIZE);
    const isDir = (raw.mode & S_IFMT) === S_IFDIR;
    const data = (index: number, block: number, path: number, doomed: boolean) => {
      visit(block, { fi, path, role: "data", doomed });
      if (isDir) fi.dirBlocks.set(index, block);
    };
    const node = (block: number, path: number, start: number, depth: number, doomedAbove: boolean): void => {
      const valid = this.validIndirect(block);
      if (!valid) fi.garbled = true;
      const doomed = doomedAbove || !valid;
      visit(block, { fi, path, role: depth === 1 ? "indirect" : "double-indirect", doomed });
      const buf = this.read(block);
      const span = depth === 1 ? 1 : PTRS_PER_BLOCK;
      for (let s = 0; s < PTRS_PER_BLOCK; s++) {
        const p = getU32(buf, s * 4);
        const first = start + s * span;
        if (p === 0 || !this.inData(p) || first >= limit) continue;
        if (depth === 1) data(first, p, childPath(path, s), doomed);
        else node(p, childPath(path, s), first, 1, doomed);
      }
    };
    for (let i = 0; i < NDIR; i++) {
      const p = raw.ptrs[i]!;
      if (p === 0) continue;
      if (!this.inData(p)) fi.garbled = true;
      else if (i < limit) data(i, p, i, false);
    }
    for (const [slot, start, depth] of [[NDIR, IND_START, 1], [NDIR + 1, DIND_START, 2]] as const) {
      const top = raw.ptrs[slot]!;
      if (top === 0) continue;
      if (!this.inData(top)) fi.garbled = true;
      else if (start < limit) node(top, slot, start, depth, false);
    }
  }

  /** True when every pointer in the block lies in the data area: it can be an indirect block. */
  private validIndirect(block: number): boolean {
    let v = this.validIndirectCache.get(block);
    if (v === undefined) {
      const buf = this.read(block);
      v = true;
      for (let s = 0; s < PTRS_PER_BLOCK && v; s++) {
        const p = getU32(buf, s * 4);
        if (p !== 0 && !this.inData(p)) v = false;
      }
      this.validIndirectCache.set(block, v);
    }
    return v;
  }

  /** Marks the inodes named from the root through the directories as they are on disk (entries are not checked yet). */
  private surveyReach(): void {
    const root = this.inodes.get(ROOT_INO);
    if (!root || (root.raw.mode & S_IFMT) !== S_IFDIR) return;
    root.reached = true;
    const queue = [root];
    while (queue.length > 0) {
      const d = queue.shift()!;
      for (const block of d.dirBlocks.values()) {
        for (const e of parseDirBlock(this.read(block), 0).entries) {
          const t = e.ino === 0 || isDotName(e.name) ? undefined : this.inodes.get(e.ino);
          if (!t || t.reached) continue;
          t.reached = true;
          if ((t.raw.mode & S_IFMT) === S_IFDIR) queue.push(t);
        }
      }
    }
  }

  /**
   * Picks the owner of each block claimed more than once. Claims that cannot be right never
   * own: a dead inode's (no links, or neither in use in the inode bitmap nor named), and one
   * that reads the block, or a block above it, as an indirect block holding pointers out of
   * range. Among the others the most credible inode wins: in use in the inode bitmap (an inode
   * made durable is, until it is freed; a deleted one whose table slot did not reach the disk
   * is not), then named from the root, then with a sound block tree; then a claim as an
   * indirect block over one as data (a copy of a data block keeps all of its data, a copy of an
   * indirect block needs copies of every block below it); then the lower inode number.
   */
  private decideOwners(): void {
    const key = (c: Claim): number[] => [c.fi.live ? 0 : 1, c.fi.reached ? 0 : 1, c.fi.garbled ? 1 : 0, c.role === "data" ? 1 : 0, c.fi.ino, c.path];
    for (const [block, claims] of this.contested) {
      let best: Claim | null = null;
      let bestKey: number[] = [];
      for (const c of claims) {
        if (c.doomed || this.dead(c.fi)) continue;
        const k = key(c);
        if (best === null || compareKeys(k, bestKey) < 0) {
          best = c;
          bestKey = k;
        }
      }
      this.decided.set(block, best);
    }
  }

  /** An inode whose claims on shared blocks are stale: it has no links, or is neither in use in the inode bitmap nor named. */
  private dead(fi: FInode): boolean {
    return fi.raw.nlink === 0 || (!fi.live && !fi.reached);
  }

  /** Walks an inode's block tree, claiming blocks; fixes bad pointers and blocks past EOF in blocks it owns. */
  private walk(fi: FInode, limit: number, keepMap: boolean): void {
    const { raw, ino } = fi;
    const data = (index: number, block: number, set: (v: number) => void, path: number) => {
      if (!this.inData(block)) {
        this.problem("pointer", `inode ${ino}: file block ${index} points at block ${block}, outside the data area; cleared`);
        set(0);
        return;
      }
      if (index >= limit) {
        this.problem("eof", `inode ${ino}: block ${block} at file block ${index} lies past the end of the file (size ${raw.size}); freed`);
        set(0);
        return;
      }
      if (!this.claim({ fi, block, set, path, role: "data", index, keepMap, descend: null })) return;
      if (keepMap) fi.map.set(index, { block, set });
    };
    for (let i = 0; i < NDIR; i++) {
      const p = raw.ptrs[i]!;
      if (p !== 0) data(i, p, this.ptrSetter(fi, i), i);
    }
    const tree = (slot: number, start: number, depth: number) => {
      const top = raw.ptrs[slot]!;
      if (top === 0) return;
      const clear = this.ptrSetter(fi, slot);
      const what = depth === 1 ? "indirect" : "double-indirect";
      if (!this.inData(top)) {
        this.problem("pointer", `inode ${ino}: ${what} block pointer ${top} is outside the data area; cleared`);
        clear(0);
        return;
      }
      if (start >= limit) {
        this.problem("eof", `inode ${ino}: ${what} block ${top} maps only blocks past the end of the file; freed`);
        clear(0);
        return;
      }
      const descend = (block: number) => this.node(fi, block, slot, start, depth, limit, data);
      const role = depth === 1 ? "indirect" : "double-indirect";
      if (this.claim({ fi, block: top, set: clear, path: slot, role, index: start, keepMap, descend })) descend(top);
    };
    tree(NDIR, IND_START, 1);
    tree(NDIR + 1, DIND_START, 2);
    // With claims still to resolve, the count is settled when they are.
    if (fi.lost === 0 && raw.blocks !== fi.claims.size) this.fixBlocks(fi, fi.claims.size);
  }

  private node(
    fi: FInode, block: number, path: number, start: number, depth: number, limit: number,
    data: (i: number, b: number, set: (v: number) => void, path: number) => void,
  ): void {
    const buf = this.read(block);
    const span = depth === 1 ? 1 : PTRS_PER_BLOCK;
    for (let s = 0; s < PTRS_PER_BLOCK; s++) {
      const p = getU32(buf, s * 4);
      if (p === 0) continue;
      const set = (v: number) => {
        putU32(buf, s * 4, v);
        this.touch(block);
      };
      const first = start + s * span;
      const here = childPath(path, s);
      if (depth === 1) {
        data(first, p, set, here);
        continue;
      }
      if (!this.inData(p)) {
        this.problem("pointer", `inode ${fi.ino}: indirect block pointer ${p} in block ${block} is outside the data area; cleared`);
        set(0);
        continue;
      }
      if (first >= limit) {
        this.problem("eof", `inode ${fi.ino}: indirect block ${p} maps only blocks past the end of the file; freed`);
        set(0);
        continue;
      }
      const descend = (b: number) => this.node(fi, b, here, first, 1, limit, data);
      if (this.claim({ fi, block: p, set, path: here, role: "indirect", index: first, keepMap: false, descend })) descend(p);
    }
  }

  private ptrSetter(fi: FInode, slot: number): (v: number) => void {
    return (v) => {
      fi.raw.ptrs[slot] = v;
      fi.changed = true;
    };
  }

  /**
   * Claims a block for an inode: true when the claim owns it (the only claim, or the one
   * decideOwners chose), and the caller may descend into it and repair it. Otherwise the claim
   * waits in `lostClaims` for resolveLostClaims.
   */
  private claim(c: LostClaim): boolean {
    const decided = this.decided.get(c.block);
    const owns = decided === undefined ? this.owner[c.block] === 0 : decided !== null && decided.fi === c.fi && decided.path === c.path && this.owner[c.block] === 0;
    if (owns) {
      this.owner[c.block] = c.fi.ino;
      c.fi.claims.add(c.block);
      return true;
    }
    this.lostClaims.push(c);
    c.fi.lost++;
    return false;
  }

  private fixBlocks(fi: FInode, count: number): void {
    this.problem("count", `inode ${fi.ino}: block count is ${fi.raw.blocks}, counted ${count}; fixed`);
    fi.raw.blocks = count;
    fi.changed = true;
  }

  /** A free data block by the model (owned by nothing, and claimed by no inode on disk), or 0. */
  private allocBlock(owner: number): number {
    const { firstDataBlock, blockCount } = this.sb;
    for (let n = 0; n < blockCount - firstDataBlock; n++) {
      const b = this.allocCursor;
      this.allocCursor = b + 1 >= blockCount ? firstDataBlock : b + 1;
      if (this.owner[b] === 0 && this.surveyed[b] === 0) {
        this.owner[b] = owner;
        return b;
      }
    }
    return 0;
  }

  /**
   * Settles the claims that did not get their block: a claim that cannot be right loses its
   * pointer; any other gets a copy of the block as it was on disk (an indirect block's copy is
   * then walked as the claimant's, its blocks claimed in turn), or loses the pointer when there
   * is no free block left. Only the claimant's own blocks are written.
   */
  private resolveLostClaims(): void {
    const settled = new Set<FInode>();
    for (let c = this.lostClaims.shift(); c !== undefined; c = this.lostClaims.shift()) {
      const { fi, block } = c;
      fi.lost--;
      settled.add(fi);
      const decided = this.decided.get(block);
      const owner = decided ? decided.fi.ino : this.owner[block]!;
      const other = owner === fi.ino ? "another pointer of the same inode" : owner > 0 ? `inode ${owner}` : "no inode it can belong to";
      const what = c.role === "data" ? `file block ${c.index} (block ${block})` : `${c.role === "indirect" ? "indirect" : "double-indirect"} block ${block}`;
      const claim = this.contested.get(block)?.find((x) => x.fi === fi && x.path === c.path);
      if (claim?.doomed || this.dead(fi)) {
        const why = this.dead(fi) ? "the inode is stale" : "the block is not an indirect block";
        this.problem("dup", `inode ${fi.ino}: ${what} is also claimed by ${other}; ${why}, so the pointer is dropped`);
        c.set(0);
        continue;
      }
      const copy = this.allocBlock(fi.ino);
      if (copy === 0) {
        this.problem("dup", `block ${block} is used by both ${other} and inode ${fi.ino}; no free block to copy it to, so inode ${fi.ino} loses its ${what}`);
        c.set(0);
        continue;
      }
      if (c.role === "data") this.problem("dup", `block ${block} is used by both ${other} and inode ${fi.ino}; inode ${fi.ino} gets a copy in block ${copy}`);
      else this.problem("dup", `inode ${fi.ino}: ${what} is also used by ${other}; inode ${fi.ino} gets a copy in block ${copy}, and copies of the blocks it maps that others own`);
      this.blocks.set(copy, (this.original.get(block) ?? this.read(block)).slice());
      this.touch(copy);
      c.set(copy);
      fi.claims.add(copy);
      if (c.descend) c.descend(copy);
      else if (c.keepMap) fi.map.set(c.index, { block: copy, set: c.set });
    }
    // Block counts after dropping and copying (part of the repairs reported above).
    for (const fi of settled) {
      if (fi.lost === 0 && fi.raw.blocks !== fi.claims.size) {
        fi.raw.blocks = fi.claims.size;
        fi.changed = true;
      }
    }
  }

  /** Directories need every block below their size; symlinks their one block. */
  private checkDirShapes(): void {
    for (const fi of [...this.inodes.values()]) {
      const type = fi.raw.mode & S_IFMT;
      if (type === S_IFLNK && !(fi.raw.flags & INODE_FLAG_INLINE) && !fi.map.has(0)) {
        this.problem("inode", `symlink ${fi.ino} has no data block; cleared`);
        this.clearInode(fi, true);
        continue;
      }
      if (type !== S_IFDIR) continue;
      const n = fi.raw.size / BLOCK_SIZE;
      let hole = n;
      for (let i = 0; i < n; i++) {
        if (!fi.map.has(i)) {
          hole = i;
          break;
        }
      }
      if (hole === n) continue;
      if (hole === 0) {
        this.problem("dir", `directory ${fi.ino} has no first block; cleared`);
        this.clearInode(fi, true);
        continue;
      }
      this.problem("dir", `directory ${fi.ino} has a hole at block ${hole}; truncated to ${hole} blocks`);
      // Walk again with the smaller size: blocks past it are freed.
      for (const b of fi.claims) if (this.owner[b] === fi.ino) this.owner[b] = 0;
      fi.claims.clear();
      fi.map.clear();
      fi.raw.size = hole * BLOCK_SIZE;
      fi.changed = true;
      this.walk(fi, hole, true);
      this.resolveLostClaims();
    }
  }

  /** Frees an inode in the model: its blocks (when `owned`) and its slot. */
  private clearInode(fi: FInode, owned: boolean): void {
    if (owned) for (const b of fi.claims) if (this.owner[b] === fi.ino) this.owner[b] = 0;
    fi.claims.clear();
    fi.map.clear();
    fi.raw = emptyInode();
    fi.changed = true;
    this.inodes.delete(fi.ino);
    this.cleared.set(fi.ino, fi);
  }
  private readonly cleared = new Map<number, FInode>();

  // ───────────── root and lost+found ─────────────

  private ensureRoot(): void {
    const root = this.inodes.get(ROOT_INO);
    if (root && (root.raw.mode & S_IFMT) === S_IFDIR) return;
    if (root) {
      this.problem("root", `the root inode ${ROOT_INO} is not a directory; cleared and recreated`);
      this.clearInode(root, true);
    } else {
      this.problem("root", "the root directory is missing; recreated");
    }
    const fi = this.makeDir(ROOT_INO, ROOT_INO);
    if (!fi) throw fail("EUCLEAN", `${this.io.device.name}: the root directory is missing and there is no free block to recreate it`);
  }

  /** Creates an empty directory inode `ino` (a new block with "." and "..") in the model, or null without space. */
  private makeDir(ino: number, parent: number): FInode | null {
    const block = this.allocBlock(ino);
    if (block === 0) return null;
    const buf = new Uint8Array(BLOCK_SIZE);
    initDirBlock(buf, 0, ino, parent);
    this.blocks.set(block, buf);
    this.touch(block);
    const raw = emptyInode();
    raw.mode = S_IFDIR | (ino === ROOT_INO ? 0o755 : 0o700);
    raw.nlink = 2;
    raw.size = BLOCK_SIZE;
    raw.blocks = 1;
    raw.ptrs[0] = block;
    raw.atimeNs = raw.mtimeNs = raw.ctimeNs = raw.btimeNs = this.now;
    const fi: FInode = { ino, raw, changed: true, claims: new Set([block]), map: new Map(), live: true, reached: true, garbled: false, lost: 0, dirBlocks: new Map() };
    fi.map.set(0, { block, set: this.ptrSetter(fi, 0) });
    this.inodes.set(ino, fi);
    this.cleared.delete(ino);
    this.entries.set(ino, [
      { dir: ino, block, offset: 0, ino, name: ".", dot: 1 },
      { dir: ino, block, offset: 12, ino: parent, name: "..", dot: 2 },
    ]);
    return fi;
  }

  private freeInodeNumber(): number {
    for (let ino = ROOT_INO + 1; ino < this.sb.inodeCount; ino++) if (!this.inodes.has(ino)) return ino;
    return 0;
  }

  /** The /lost+found directory, created if needed; 0 if it cannot be. */
  private lostAndFound(): number {
    if (this.lostFound !== 0) return this.lostFound;
    const root = this.entries.get(ROOT_INO) ?? [];
    const found = root.find((e) => e.name === "lost+found" && !e.dot);
    if (found && (this.inodes.get(found.ino)?.raw.mode ?? 0) & S_IFDIR && this.reached.has(found.ino)) return (this.lostFound = found.ino);
    const ino = this.freeInodeNumber();
    if (ino === 0) return 0;
    const fi = this.makeDir(ino, ROOT_INO);
    if (!fi) return 0;
    // The name may be taken (by a file, or a directory that is not usable): never a second entry with one name.
    if (!this.addEntry(ROOT_INO, this.unusedName(ROOT_INO, "lost+found"), ino, DT_DIR)) {
      this.clearInode(fi, true);
      return 0;
    }
    this.problem("lost+found", "/lost+found was created to hold disconnected files");
    this.parentOf.set(ino, ROOT_INO);
    this.reached.add(ino);
    return (this.lostFound = ino);
  }

  /** A name not used in directory `dir` of the model: `base`, else `base.1`, `base.2`… */
  private unusedName(dir: number, base: string): string {
    const taken = new Set((this.entries.get(dir) ?? []).map((e) => e.name));
    if (!taken.has(base)) return base;
    for (let n = 1; ; n++) if (!taken.has(`${base}.${n}`)) return `${base}.${n}`;
  }

  /** Adds an entry to a directory of the model: in free space, or in a new (direct) block. */
  private addEntry(dirIno: number, name: string, ino: number, type: number): boolean {
    const dir = this.inodes.get(dirIno);
    if (!dir) return false;
    const nb = nameBytes(name);
    const need = direntSize(nb.length);
    const n = dir.raw.size / BLOCK_SIZE;
    const list = this.entries.get(dirIno) ?? [];
    for (let i = 0; i < n; i++) {
      const m = dir.map.get(i);
      if (!m) continue;
      const buf = this.read(m.block);
      for (let pos = 0; pos < BLOCK_SIZE; ) {
        const eIno = getU32(buf, pos);
        const recLen = buf[pos + 4]! | (buf[pos + 5]! << 8);
        if (recLen < DIRENT_HEADER || pos + recLen > BLOCK_SIZE) break;
        const used = eIno === 0 ? 0 : direntSize(buf[pos + 6]!);
        if (recLen - used >= need) {
          if (used === 0) putDirent(buf, 0, pos, ino, recLen, nb, type);
          else {
            setDirentRecLen(buf, 0, pos, used);
            putDirent(buf, 0, pos + used, ino, recLen - used, nb, type);
          }
          this.touch(m.block);
          list.push({ dir: dirIno, block: m.block, offset: used === 0 ? pos : pos + used, ino, name, dot: 0 });
          this.entries.set(dirIno, list);
          return true;
        }
        pos += recLen;
      }
    }
    if (n >= NDIR) return false;
    const block = this.allocBlock(dirIno);
    if (block === 0) return false;
    const buf = new Uint8Array(BLOCK_SIZE);
    initEmptyDirBlock(buf, 0);
    putDirent(buf, 0, 0, ino, BLOCK_SIZE, nb, type);
    this.blocks.set(block, buf);
    this.touch(block);
    dir.raw.ptrs[n] = block;
    dir.map.set(n, { block, set: this.ptrSetter(dir, n) });
    dir.claims.add(block);
    dir.raw.size += BLOCK_SIZE;
    dir.raw.blocks = dir.claims.size;
    dir.changed = true;
    list.push({ dir: dirIno, block, offset: 0, ino, name, dot: 0 });
    this.entries.set(dirIno, list);
    return true;
  }

  // ───────────── pass 2: directory contents ─────────────

  private scanDirectories(): void {
    const dirs = [...this.inodes.values()].filter((fi) => (fi.raw.mode & S_IFMT) === S_IFDIR).sort((a, b) => a.ino - b.ino);
    for (const d of dirs) if (!this.entries.has(d.ino)) this.scanDir(d);
    // A directory has one name. With several (a crash in a rename, or a stale entry left from the
    // inode's previous life), it keeps the one in the directory its ".." names, else one whose
    // entry was typed as a directory on disk, else the first; the others are removed.
    const names = new Map<number, Entry[]>();
    for (const d of dirs) {
      for (const e of [...(this.entries.get(d.ino) ?? [])]) {
        if (e.dot) continue;
        const t = this.inodes.get(e.ino);
        if (!t || (t.raw.mode & S_IFMT) !== S_IFDIR) continue;
        if (e.ino === ROOT_INO) {
          this.problem("entry", `directory ${d.ino}: entry "${e.name}" names the root directory; removed`);
          this.removeEntry(e);
          continue;
        }
        const list = names.get(e.ino);
        if (list) list.push(e);
        else names.set(e.ino, [e]);
      }
    }
    for (const [ino, list] of names) {
      const dotdot = this.entries.get(ino)?.find((e) => e.dot === 2)?.ino;
      const keep = list.find((e) => e.dir === dotdot) ?? list.find((e) => e.typeOnDisk === DT_DIR) ?? list[0]!;
      this.parentOf.set(ino, keep.dir);
      for (const e of list) {
        if (e === keep) continue;
        this.problem("entry", `directory ${ino} has a second name "${e.name}" in directory ${e.dir} (its name is "${keep.name}" in directory ${keep.dir}); removed`);
        this.removeEntry(e);
      }
    }
  }

  private scanDir(d: FInode): void {
    const list: Entry[] = [];
    const n = d.raw.size / BLOCK_SIZE;
    const names = new Set<string>();
    for (let i = 0; i < n; i++) {
      const m = d.map.get(i);
      if (!m) continue;
      const buf = this.read(m.block);
      const block = m.block;
      let prev = -1;
      let pos = 0;
      let seen = 0;
      while (pos < BLOCK_SIZE) {
        if (pos + DIRENT_HEADER > BLOCK_SIZE) {
          this.problem("dirent", `directory ${d.ino} block ${i} offset ${pos}: entry header crosses the end of the block; truncated`);
          this.endBlockAt(buf, block, prev, pos);
          break;
        }
        let ino = getU32(buf, pos);
        let recLen = buf[pos + 4]! | (buf[pos + 5]! << 8);
        const nameLen = buf[pos + 6]!;
        if (recLen < DIRENT_HEADER || recLen % 4 !== 0 || pos + recLen > BLOCK_SIZE || (ino !== 0 && (nameLen === 0 || direntSize(nameLen) > recLen))) {
          const fixed = this.salvage(buf, pos);
          if (fixed > 0) {
            this.problem("dirent", `directory ${d.ino} block ${i} offset ${pos}: bad rec_len ${recLen}; set to ${fixed}`);
            setDirentRecLen(buf, 0, pos, fixed);
            this.touch(block);
            recLen = fixed;
          } else {
            this.problem("dirent", `directory ${d.ino} block ${i} offset ${pos}: bad rec_len ${recLen}; the rest of the block is dropped`);
            this.endBlockAt(buf, block, prev, pos);
            break;
          }
        }
        const first = i === 0 && seen === 0;
        const second = i === 0 && seen === 1;
        if (ino !== 0) {
          const nameB = buf.subarray(pos + DIRENT_HEADER, pos + DIRENT_HEADER + nameLen);
          const name = nameString(nameB);
          const isDot = nameLen === 1 && nameB[0] === 0x2e;
          const isDotDot = nameLen === 2 && nameB[0] === 0x2e && nameB[1] === 0x2e;
          let bad: string | null = null;
          if (nameB.includes(0) || nameB.includes(0x2f)) bad = `has an invalid name`;
          else if ((isDot && !first) || (isDotDot && !second)) bad = `is a misplaced "${name}"`;
          if (!bad && !isDot && !isDotDot) {
            if (ino >= this.sb.inodeCount) bad = `points at inode ${ino}, beyond the inode table`;
            else if (!this.inodes.has(ino)) bad = `points at free inode ${ino}`;
            else if (names.has(name)) bad = `duplicates an earlier name`;
          }
          if (bad) {
            this.problem("entry", `directory ${d.ino}: entry "${name}" ${bad}; removed`);
            if (prev >= 0) {
              const pl = buf[prev + 4]! | (buf[prev + 5]! << 8);
              setDirentRecLen(buf, 0, prev, pl + recLen);
              this.touch(block);
              pos += recLen;
              continue;
            }
            setDirentIno(buf, 0, pos, 0, 0);
            this.touch(block);
            ino = 0;
          } else {
            const dot: 0 | 1 | 2 = isDot ? 1 : isDotDot ? 2 : 0;
            const typeOnDisk = buf[pos + 7]!;
            if (!dot) {
              names.add(name);
              const t = this.inodes.get(ino)!;
              const want = dtOf(t.raw.mode);
              if (buf[pos + 7] !== want) {
                this.problem("entry", `directory ${d.ino}: entry "${name}" has type ${buf[pos + 7]}, the inode is type ${want}; fixed`);
                buf[pos + 7] = want;
                this.touch(block);
              }
            }
            list.push({ dir: d.ino, block, offset: pos, ino, name, dot, typeOnDisk });
          }
        }
        seen++;
        prev = pos;
        pos += recLen;
      }
    }
    this.entries.set(d.ino, list);
    this.fixDots(d, list);
  }

  /**
   * For an entry at `pos` whose rec_len is bad, the rec_len that makes the rest of the block a
   * valid chain of entries (the first such end after the entry's name), or 0 if none.
   */
  private salvage(buf: Uint8Array, pos: number): number {
    const nameLen = buf[pos + 6]!;
    const ino = getU32(buf, pos);
    if (ino === 0 || nameLen === 0) return 0;
    for (let q = pos + direntSize(nameLen); q <= BLOCK_SIZE; q += 4) {
      if (validChain(buf, q)) return q - pos;
    }
    return 0;
  }

  /** Makes the entry before `pos` (or an unused entry at `pos`) end the block. */
  private endBlockAt(buf: Uint8Array, block: number, prev: number, pos: number): void {
    if (prev >= 0) setDirentRecLen(buf, 0, prev, BLOCK_SIZE - prev);
    else {
      buf.fill(0, pos, pos + DIRENT_HEADER);
      setDirentRecLen(buf, 0, pos, BLOCK_SIZE - pos);
    }
    this.touch(block);
  }

  /** Block 0 of a directory must start with "." and ".."; if not, it is rebuilt with them and the entries that still fit. */
  private fixDots(d: FInode, list: Entry[]): void {
    const m = d.map.get(0);
    if (!m) return;
    const dot = list.find((e) => e.dot === 1);
    const dotdot = list.find((e) => e.dot === 2);
    if (dot && dotdot && dot.offset === 0 && dot.block === m.block && dotdot.block === m.block) {
      if (dot.ino !== d.ino) {
        this.problem("dot", `directory ${d.ino}: "." points at inode ${dot.ino}; fixed`);
        setDirentIno(this.read(m.block), 0, 0, d.ino, DT_DIR);
        dot.ino = d.ino;
        this.touch(m.block);
      }
      return;
    }
    this.problem("dot", `directory ${d.ino}: the "." and ".." entries are missing; rebuilt`);
    const buf = this.read(m.block);
    const keep = list.filter((e) => e.block === m.block && !e.dot).map((e) => ({ e, bytes: buf.slice(e.offset + DIRENT_HEADER, e.offset + DIRENT_HEADER + buf[e.offset + 6]!), type: buf[e.offset + 7]! }));
    const fresh = new Uint8Array(BLOCK_SIZE);
    initDirBlock(fresh, 0, d.ino, dotdot?.ino ?? ROOT_INO);
    // Each kept entry goes after the last one, whose rec_len shrinks to its size.
    let last = 12;
    const kept: Entry[] = [];
    for (const k of keep) {
      const lastSize = direntSize(fresh[last + 6]!);
      const at = last + lastSize;
      if (at + direntSize(k.bytes.length) > BLOCK_SIZE) {
        this.problem("entry", `directory ${d.ino}: entry "${k.e.name}" no longer fits its block; removed`);
        continue;
      }
      setDirentRecLen(fresh, 0, last, lastSize);
      putDirent(fresh, 0, at, k.e.ino, BLOCK_SIZE - at, k.bytes, k.type);
      kept.push({ ...k.e, offset: at });
      last = at;
    }
    buf.set(fresh);
    this.touch(m.block);
    const rest = list.filter((e) => e.block !== m.block);
    list.length = 0;
    list.push({ dir: d.ino, block: m.block, offset: 0, ino: d.ino, name: ".", dot: 1 }, { dir: d.ino, block: m.block, offset: 12, ino: dotdot?.ino ?? ROOT_INO, name: "..", dot: 2 }, ...kept, ...rest);
  }

  /** Removes an entry from its block (merged into the previous one, or made unused). */
  private removeEntry(e: Entry): void {
    const buf = this.read(e.block);
    let prev = -1;
    for (let pos = 0; pos < BLOCK_SIZE; ) {
      const recLen = buf[pos + 4]! | (buf[pos + 5]! << 8);
      if (recLen < DIRENT_HEADER) break;
      if (pos === e.offset) {
        if (prev >= 0) setDirentRecLen(buf, 0, prev, (buf[prev + 4]! | (buf[prev + 5]! << 8)) + recLen);
        else setDirentIno(buf, 0, pos, 0, 0);
        break;
      }
      prev = pos;
      pos += recLen;
    }
    this.touch(e.block);
    const list = this.entries.get(e.dir);
    if (list) {
      const i = list.indexOf(e);
      if (i >= 0) list.splice(i, 1);
    }
  }

  // ───────────── pass 3: connectivity ─────────────

  private readonly reached = new Set<number>();

  private reach(from: number): void {
    const queue = [from];
    this.reached.add(from);
    while (queue.length > 0) {
      const d = queue.shift()!;
      for (const e of this.entries.get(d) ?? []) {
        if (e.dot || this.reached.has(e.ino)) continue;
        const t = this.inodes.get(e.ino);
        if (!t || (t.raw.mode & S_IFMT) !== S_IFDIR || this.parentOf.get(e.ino) !== d) continue;
        this.reached.add(e.ino);
        queue.push(e.ino);
      }
    }
  }

  private connect(): void {
    this.parentOf.set(ROOT_INO, ROOT_INO);
    this.reach(ROOT_INO);
    const isDir = (fi: FInode) => (fi.raw.mode & S_IFMT) === S_IFDIR;
    for (let guard = 0; guard <= this.sb.inodeCount; guard++) {
      const unreached = [...this.inodes.values()].filter((fi) => isDir(fi) && !this.reached.has(fi.ino));
      if (unreached.length === 0) break;
      const set = new Set(unreached.map((fi) => fi.ino));
      const top = unreached.find((fi) => !set.has(this.parentOf.get(fi.ino) ?? 0)) ?? unreached[0]!;
      const empty = (this.entries.get(top.ino) ?? []).every((e) => e.dot);
      // The directory keeps one name: an entry in an old (unreachable) parent goes.
      const oldParent = this.parentOf.get(top.ino);
      if (oldParent !== undefined) {
        const e = (this.entries.get(oldParent) ?? []).find((x) => x.ino === top.ino && !x.dot);
        if (e) this.removeEntry(e);
        this.parentOf.delete(top.ino);
      }
      if (empty && top.raw.nlink === 0) {
        this.problem("orphan", `directory ${top.ino} is empty, unlinked and not connected; freed`);
        this.clearInode(top, true);
        this.parentOf.delete(top.ino);
        this.entries.delete(top.ino);
        continue;
      }
      const lf = this.lostAndFound();
      const name = lf === 0 ? "" : this.unusedName(lf, `#${top.ino}`);
      if (lf === 0 || !this.addEntry(lf, name, top.ino, DT_DIR)) {
        this.problem("orphan", `directory ${top.ino} is not connected and /lost+found has no room; its contents are lost`);
        this.clearInode(top, true);
        this.parentOf.delete(top.ino);
        this.entries.delete(top.ino);
        continue;
      }
      this.problem("orphan", `directory ${top.ino} was not connected to the tree; moved to /lost+found/${name}`);
      this.parentOf.set(top.ino, lf);
      this.reach(top.ino);
    }
    // Entries in directories that did not survive do not count; files named only there are orphans.
    for (const [dir] of [...this.entries]) if (!this.inodes.has(dir)) this.entries.delete(dir);
    const named = new Set<number>();
    for (const [dir, list] of this.entries) {
      if (!this.reached.has(dir)) continue;
      for (const e of list) if (!e.dot) named.add(e.ino);
    }
    for (const fi of [...this.inodes.values()].sort((a, b) => a.ino - b.ino)) {
      if (isDir(fi) || named.has(fi.ino)) continue;
      if (fi.raw.nlink === 0) {
        this.problem("orphan", `inode ${fi.ino} has no links and no name (deleted while open); freed`);
        this.clearInode(fi, true);
        continue;
      }
      const lf = this.lostAndFound();
      const name = lf === 0 ? "" : this.unusedName(lf, `#${fi.ino}`);
      if (lf === 0 || !this.addEntry(lf, name, fi.ino, dtOf(fi.raw.mode))) {
        this.problem("orphan", `inode ${fi.ino} has no name and /lost+found has no room; freed`);
        this.clearInode(fi, true);
        continue;
      }
      this.problem("orphan", `inode ${fi.ino} had no name; moved to /lost+found/${name}`);
    }
    // Entries pointing at inodes freed above.
    for (const [, list] of this.entries) {
      for (const e of [...list]) {
        if (!e.dot && !this.inodes.has(e.ino)) {
          this.problem("entry", `directory ${e.dir}: entry "${e.name}" points at inode ${e.ino}, which was freed; removed`);
          this.removeEntry(e);
        }
      }
    }
  }

  // ───────────── pass 4: link counts ─────────────

  private checkLinks(): void {
    const refs = new Map<number, number>();
    const add = (ino: number) => refs.set(ino, (refs.get(ino) ?? 0) + 1);
    for (const [dir, list] of this.entries) {
      if (!this.reached.has(dir) || !this.inodes.has(dir)) continue;
      const parent = this.parentOf.get(dir) ?? ROOT_INO;
      for (const e of list) {
        if (e.dot === 1) add(dir);
        else if (e.dot === 2) {
          if (e.ino !== parent) {
            this.problem("dot", `directory ${dir}: ".." points at ${e.ino} instead of its parent ${parent}; fixed`);
            setDirentIno(this.read(e.block), 0, e.offset, parent, DT_DIR);
            this.touch(e.block);
            e.ino = parent;
          }
          add(parent);
        } else add(e.ino);
      }
    }
    for (const fi of [...this.inodes.values()].sort((a, b) => a.ino - b.ino)) {
      const want = refs.get(fi.ino) ?? 0;
      if (fi.raw.nlink !== want) {
        this.problem("links", `inode ${fi.ino}: link count is ${fi.raw.nlink}, should be ${want}; fixed`);
        fi.raw.nlink = want;
        fi.changed = true;
      }
    }
  }

  // ───────────── pass 5: bitmaps and counts ─────────────

  private checkBitmaps(): void {
    const sb = this.sb;
    let usedBlocks = 0;
    const bbits = sb.blockBitmapBlocks * BITS_PER_BLOCK;
    for (let b = 0; b < bbits; b++) {
      const used = b >= sb.blockCount || this.owner[b] !== 0;
      if (b < sb.blockCount && used) usedBlocks++;
      const marked = testBit(this.bb, 0, b);
      if (used === marked) continue;
      if (b >= sb.blockCount) this.problem("bbitmap", `block bitmap: bit ${b}, past the end of the filesystem, is clear; set`);
      else if (used) this.problem("bbitmap", `block ${b} is in use but marked free in the block bitmap; marked used`);
      else this.problem("bbitmap", `block ${b} is marked used in the block bitmap but nothing uses it; marked free`);
      if (used) setBit(this.bb, 0, b);
      else clearBit(this.bb, 0, b);
      this.bbDirty = true;
    }
    let usedInodes = 0;
    const ibits = sb.inodeBitmapBlocks * BITS_PER_BLOCK;
    for (let i = 0; i < ibits; i++) {
      const used = i === 0 || i >= sb.inodeCount || this.inodes.has(i);
      if (i < sb.inodeCount && used) usedInodes++;
      const marked = testBit(this.ib, 0, i);
      if (used === marked) continue;
      if (i === 0) this.problem("ibitmap", "inode bitmap: reserved inode 0 is marked free; marked used");
      else if (i >= sb.inodeCount) this.problem("ibitmap", `inode bitmap: bit ${i}, past the inode table, is clear; set`);
      else if (used) this.problem("ibitmap", `inode ${i} is in use but marked free in the inode bitmap; marked used`);
      else this.problem("ibitmap", `inode ${i} is marked used in the inode bitmap but is free; marked free`);
      if (used) setBit(this.ib, 0, i);
      else clearBit(this.ib, 0, i);
      this.ibDirty = true;
    }
    const freeBlocks = sb.blockCount - usedBlocks;
    const freeInodes = sb.inodeCount - usedInodes;
    if (sb.freeBlocks !== freeBlocks) {
      this.problem("counts", `superblock: free block count is ${sb.freeBlocks}, counted ${freeBlocks}; fixed`);
      sb.freeBlocks = freeBlocks;
      this.superDirty = true;
    }
    if (sb.freeInodes !== freeInodes) {
      this.problem("counts", `superblock: free inode count is ${sb.freeInodes}, counted ${freeInodes}; fixed`);
      sb.freeInodes = freeInodes;
      this.superDirty = true;
    }
  }
  private bbDirty = false;
  private ibDirty = false;

  // ───────────── write-back (repair only) ─────────────

  private writeBack(): void {
    const sb = this.sb;
    // Inodes: patch their table blocks.
    const tables = new Map<number, Uint8Array>();
    const table = (ino: number) => {
      const block = sb.inodeTableStart + Math.floor(ino / INODES_PER_BLOCK);
      let buf = tables.get(block);
      if (!buf) {
        buf = this.io.read(block);
        tables.set(block, buf);
      }
      return { buf, off: (ino % INODES_PER_BLOCK) * INODE_SIZE };
    };
    for (const fi of [...this.inodes.values(), ...this.cleared.values()]) {
      if (!fi.changed && this.inodes.has(fi.ino)) continue;
      const { buf, off } = table(fi.ino);
      encodeInode(buf, off, this.inodes.has(fi.ino) ? fi.raw : emptyInode());
    }
    for (const [block, buf] of tables) this.io.write(block, buf);
    for (const block of this.dirty) {
      if (block < sb.firstDataBlock || block >= sb.blockCount) continue;
      this.io.write(block, this.blocks.get(block)!);
    }
    if (this.bbDirty) this.io.write(sb.blockBitmapStart, this.bb);
    if (this.ibDirty) this.io.write(sb.inodeBitmapStart, this.ib);
    this.io.flush();
    if (this.superDirty || this.backupDirty) {
      sb.writeTimeNs = this.now;
      const buf = new Uint8Array(BLOCK_SIZE);
      encodeSuper(buf, 0, sb);
      this.io.write(BACKUP_SUPER_BLOCK, buf);
      this.io.write(SUPER_BLOCK, buf);
      this.io.flush();
    }
  }
}

function sameGeometry(a: SuperBlockData, b: SuperBlockData): boolean {
  return a.blockCount === b.blockCount && a.inodeCount === b.inodeCount && a.blockBitmapStart === b.blockBitmapStart && a.blockBitmapBlocks === b.blockBitmapBlocks &&
    a.inodeBitmapStart === b.inodeBitmapStart && a.inodeBitmapBlocks === b.inodeBitmapBlocks && a.inodeTableStart === b.inodeTableStart &&
    a.inodeTableBlocks === b.inodeTableBlocks && a.firstDataBlock === b.firstDataBlock;
}

/** True when entries parse validly from `q` to exactly the end of the block. */
function validChain(buf: Uint8Array, q: number): boolean {
  let pos = q;
  for (let n = 0; pos < BLOCK_SIZE && n < BLOCK_SIZE / DIRENT_HEADER; n++) {
    if (pos + DIRENT_HEADER > BLOCK_SIZE) return false;
    const ino = getU32(buf, pos);
    const recLen = buf[pos + 4]! | (buf[pos + 5]! << 8);
    const nameLen = buf[pos + 6]!;
    if (recLen < DIRENT_HEADER || recLen % 4 !== 0 || pos + recLen > BLOCK_SIZE) return false;
    if (ino !== 0 && (nameLen === 0 || direntSize(nameLen) > recLen)) return false;
    pos += recLen;
  }
  return pos === BLOCK_SIZE;
}
