/**
 * The on-disk format of fs-simple (see FORMAT.md): constants, geometry, and the encoders and
 * decoders of the superblock, inodes and directory entries. Shared by the mounted filesystem,
 * mkfs and fsck. Every decoder takes untrusted bytes and validates what it returns.
 *
 * All integers are little-endian. Blocks are 4096 bytes.
 */
import { fail } from "@folio/core";

/** Bytes per filesystem block (and per page: one block is one order-0 folio). */
export const BLOCK_SIZE = 4096;
/** "FOLIOSMP": the first eight bytes of the superblock. */
export const MAGIC = new Uint8Array([0x46, 0x4f, 0x4c, 0x49, 0x4f, 0x53, 0x4d, 0x50]);
/** The on-disk format version this code reads and writes. */
export const VERSION = 1;
/** Block of the primary superblock. */
export const SUPER_BLOCK = 0;
/** Block of the backup superblock, written with the primary; fsck falls back to it. */
export const BACKUP_SUPER_BLOCK = 1;
/** Bytes per inode in the inode table. */
export const INODE_SIZE = 256;
/** Inodes in one inode-table block: 16. */
export const INODES_PER_BLOCK = BLOCK_SIZE / INODE_SIZE;
/** Bits in one bitmap block. */
export const BITS_PER_BLOCK = BLOCK_SIZE * 8;
/** Direct block pointers in an inode. */
export const NDIR = 12;
/** Block pointers (u32) in an indirect block. */
export const PTRS_PER_BLOCK = BLOCK_SIZE / 4;
/** First file block index served by the indirect block. */
export const IND_START = NDIR;
/** First file block index served by the double-indirect block. */
export const DIND_START = NDIR + PTRS_PER_BLOCK;
/** File block indices a file can map: 12 direct + 1024 indirect + 1024² double-indirect. */
export const MAX_FILE_BLOCKS = DIND_START + PTRS_PER_BLOCK * PTRS_PER_BLOCK;
/** Largest file size in bytes (4 GiB + 4.2 MiB). */
export const MAX_FILE_SIZE = MAX_FILE_BLOCKS * BLOCK_SIZE;
/** Inode number of the root directory. Inode 0 is reserved (never allocated, bit 0 always set). */
export const ROOT_INO = 1;
/** Longest symlink target stored inline in the inode. */
export const INLINE_MAX = 160;
/** Longest symlink target (PATH_MAX - 1). */
export const SYMLINK_MAX = BLOCK_SIZE - 1;
/** Highest link count (EMLINK beyond). */
export const MAX_LINKS = 65000;
/** Longest name in a directory entry. */
export const NAME_MAX = 255;
/** Smallest device mkfs accepts, in blocks. */
export const MIN_BLOCKS = 64;

/** Superblock state: unmounted cleanly, with no error recorded. */
export const STATE_CLEAN = 1;
/** Superblock state: mounted (or unmounted after errors); found at mount, it means fsck is due. */
export const STATE_DIRTY = 2;

/** Inode flag: the data (a symlink target) is stored inline in the inode. */
export const INODE_FLAG_INLINE = 1;

/** Mask of the file type bits of an on-disk mode. */
export const S_IFMT = 0o170000;
/** Type bits of a regular file. */
export const S_IFREG = 0o100000;
/** Type bits of a directory. */
export const S_IFDIR = 0o040000;
/** Type bits of a symbolic link. */
export const S_IFLNK = 0o120000;

/** Directory entry type byte of a regular file (ext2's values). */
export const DT_REG = 1;
/** Directory entry type byte of a directory. */
export const DT_DIR = 2;
/** Directory entry type byte of a symbolic link. */
export const DT_LNK = 7;

/** Header bytes of a directory entry before its name. */
export const DIRENT_HEADER = 8;

/** Where everything is, and how much of it there is. */
export interface Geometry {
  /** Blocks in the filesystem (4 KiB each), metadata included. */
  blockCount: number;
  /** Inodes in the inode table, a multiple of {@link INODES_PER_BLOCK}; inode 0 is reserved. */
  inodeCount: number;
  /** First block of the block bitmap (one bit per block, set = in use). */
  blockBitmapStart: number;
  /** Blocks of the block bitmap. */
  blockBitmapBlocks: number;
  /** First block of the inode bitmap (one bit per inode, set = in use). */
  inodeBitmapStart: number;
  /** Blocks of the inode bitmap. */
  inodeBitmapBlocks: number;
  /** First block of the inode table. */
  inodeTableStart: number;
  /** Blocks of the inode table. */
  inodeTableBlocks: number;
  /** First block after the metadata; data and directory blocks are allocated from here. */
  firstDataBlock: number;
}

/** The superblock, decoded. */
export interface SuperBlockData extends Geometry {
  /** Format version the image was written with (at most {@link VERSION}). */
  version: number;
  /** Free blocks, as of the last superblock write (fsck recounts them). */
  freeBlocks: number;
  /** Free inodes, as of the last superblock write. */
  freeInodes: number;
  /** {@link STATE_CLEAN} or {@link STATE_DIRTY}. */
  state: number;
  /** Read-write mounts since mkfs. */
  mountCount: number;
  /** When mkfs ran (ns since the epoch). */
  mkfsTimeNs: number;
  /** Last read-write mount (ns since the epoch). */
  mountTimeNs: number;
  /** Last superblock write (ns since the epoch). */
  writeTimeNs: number;
}

/** An inode, decoded. `ptrs` holds the 12 direct pointers, then the indirect and the double-indirect. */
export interface RawInode {
  /** Type and permission bits; 0 for a free inode. */
  mode: number;
  /** Names linking to the inode. */
  nlink: number;
  /** Owner user id. */
  uid: number;
  /** Owner group id. */
  gid: number;
  /** Inode flags ({@link INODE_FLAG_INLINE}). */
  flags: number;
  /** Size in bytes. */
  size: number;
  /** Filesystem blocks (4 KiB) allocated to the file, indirect blocks included. */
  blocks: number;
  /** Last access (ns since the epoch). */
  atimeNs: number;
  /** Last data change (ns since the epoch). */
  mtimeNs: number;
  /** Last inode change (ns since the epoch). */
  ctimeNs: number;
  /** Creation (ns since the epoch). */
  btimeNs: number;
  /** 14 block pointers (0 = hole): 12 direct, then the indirect and double-indirect blocks. */
  ptrs: number[];
  /** Inline data (symlink target) when flags has INODE_FLAG_INLINE. */
  inline: Uint8Array | null;
}

const u16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const u32 = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
const put16 = (b: Uint8Array, o: number, v: number) => {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
};
const put32 = (b: Uint8Array, o: number, v: number) => {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
};
/** Reads a little-endian u32. */
export const getU32 = u32;
/** Writes a little-endian u32. */
export const putU32 = put32;
const u64 = (b: Uint8Array, o: number) => u32(b, o) + u32(b, o + 4) * 2 ** 32;
const put64 = (b: Uint8Array, o: number, v: number) => {
  put32(b, o, v % 2 ** 32);
  put32(b, o + 4, Math.floor(v / 2 ** 32));
};

/** Reads a time stored as u64 seconds + u32 nanoseconds, as nanoseconds since the epoch. */
function getTime(b: Uint8Array, o: number): number {
  const nsec = Math.min(u32(b, o + 8), 999_999_999);
  return u64(b, o) * 1e9 + nsec;
}
function putTime(b: Uint8Array, o: number, ns: number): void {
  let t = Number.isFinite(ns) && ns > 0 ? ns : 0;
  if (t > 2 ** 62) t = 2 ** 62;
  let sec = Math.floor(t / 1e9);
  let nsec = t - sec * 1e9;
  if (nsec < 0) {
    sec--;
    nsec += 1e9;
  } else if (nsec >= 1e9) {
    sec++;
    nsec -= 1e9;
  }
  put64(b, o, sec);
  put32(b, o + 8, Math.round(nsec));
}

// Superblock field offsets.
const SB_VERSION = 8;
const SB_BLOCK_SIZE = 12;
const SB_BLOCK_COUNT = 16;
const SB_INODE_COUNT = 20;
const SB_BB_START = 24;
const SB_BB_BLOCKS = 28;
const SB_IB_START = 32;
const SB_IB_BLOCKS = 36;
const SB_IT_START = 40;
const SB_IT_BLOCKS = 44;
const SB_FIRST_DATA = 48;
const SB_ROOT = 52;
const SB_INODE_SIZE = 56;
const SB_FREE_BLOCKS = 60;
const SB_FREE_INODES = 64;
const SB_STATE = 68;
const SB_MOUNT_COUNT = 72;
const SB_MKFS_TIME = 80;
const SB_MOUNT_TIME = 92;
const SB_WRITE_TIME = 104;

/** True when the block starts with the fs-simple magic. */
export function hasMagic(b: Uint8Array, off = 0): boolean {
  for (let i = 0; i < MAGIC.length; i++) if (b[off + i] !== MAGIC[i]) return false;
  return true;
}

/**
 * Decodes and validates a superblock. Throws EINVAL for a block that is not an fs-simple
 * superblock (bad magic), ENOSYS for a newer format version, EUCLEAN for an impossible geometry.
 * `deviceBlocks` is the device size: a filesystem larger than its device is a truncated image.
 */
export function decodeSuper(b: Uint8Array, off: number, what: string): SuperBlockData {
  if (!hasMagic(b, off)) throw fail("EINVAL", `${what}: not an fs-simple image (bad magic)`);
  const g = (o: number) => u32(b, off + o);
  const version = g(SB_VERSION);
  if (version > VERSION) {
    throw fail("ENOSYS", `${what}: fs-simple format version ${version} is newer than this implementation (version ${VERSION}); refusing to touch it`);
  }
  if (version < 1) throw fail("EUCLEAN", `${what}: format version ${version} is invalid`);
  if (g(SB_BLOCK_SIZE) !== BLOCK_SIZE) throw fail("EUCLEAN", `${what}: block size ${g(SB_BLOCK_SIZE)} is not ${BLOCK_SIZE}`);
  if (g(SB_INODE_SIZE) !== INODE_SIZE) throw fail("EUCLEAN", `${what}: inode size ${g(SB_INODE_SIZE)} is not ${INODE_SIZE}`);
  if (g(SB_ROOT) !== ROOT_INO) throw fail("EUCLEAN", `${what}: root inode ${g(SB_ROOT)} is not ${ROOT_INO}`);
  const sb: SuperBlockData = {
    version,
    blockCount: g(SB_BLOCK_COUNT),
    inodeCount: g(SB_INODE_COUNT),
    blockBitmapStart: g(SB_BB_START),
    blockBitmapBlocks: g(SB_BB_BLOCKS),
    inodeBitmapStart: g(SB_IB_START),
    inodeBitmapBlocks: g(SB_IB_BLOCKS),
    inodeTableStart: g(SB_IT_START),
    inodeTableBlocks: g(SB_IT_BLOCKS),
    firstDataBlock: g(SB_FIRST_DATA),
    freeBlocks: g(SB_FREE_BLOCKS),
    freeInodes: g(SB_FREE_INODES),
    state: g(SB_STATE),
    mountCount: g(SB_MOUNT_COUNT),
    mkfsTimeNs: getTime(b, off + SB_MKFS_TIME),
    mountTimeNs: getTime(b, off + SB_MOUNT_TIME),
    writeTimeNs: getTime(b, off + SB_WRITE_TIME),
  };
  const bad = checkGeometry(sb);
  if (bad !== null) throw fail("EUCLEAN", `${what}: corrupted geometry: ${bad}`);
  return sb;
}

/** Why a geometry is impossible, or null when it is sound. Bounds every walk of the image. */
export function checkGeometry(g: Geometry): string | null {
  const { blockCount, inodeCount } = g;
  if (blockCount < 8) return `block count ${blockCount} is too small`;
  if (inodeCount < 2 || inodeCount % INODES_PER_BLOCK !== 0) return `inode count ${inodeCount} is not a positive multiple of ${INODES_PER_BLOCK}`;
  if (g.blockBitmapStart < 2) return `block bitmap starts at block ${g.blockBitmapStart}, inside the superblocks`;
  if (g.blockBitmapBlocks < Math.ceil(blockCount / BITS_PER_BLOCK)) return `block bitmap of ${g.blockBitmapBlocks} blocks cannot map ${blockCount} blocks`;
  if (g.inodeBitmapStart < g.blockBitmapStart + g.blockBitmapBlocks) return `inode bitmap at block ${g.inodeBitmapStart} overlaps the block bitmap`;
  if (g.inodeBitmapBlocks < Math.ceil(inodeCount / BITS_PER_BLOCK)) return `inode bitmap of ${g.inodeBitmapBlocks} blocks cannot map ${inodeCount} inodes`;
  if (g.inodeTableStart < g.inodeBitmapStart + g.inodeBitmapBlocks) return `inode table at block ${g.inodeTableStart} overlaps the inode bitmap`;
  if (g.inodeTableBlocks * INODES_PER_BLOCK !== inodeCount) return `inode table of ${g.inodeTableBlocks} blocks does not hold ${inodeCount} inodes`;
  if (g.firstDataBlock < g.inodeTableStart + g.inodeTableBlocks) return `first data block ${g.firstDataBlock} overlaps the inode table`;
  if (g.firstDataBlock >= blockCount) return `metadata (${g.firstDataBlock} blocks) fills the whole filesystem of ${blockCount} blocks`;
  return null;
}

/** Encodes a superblock into `b` at `off` (the rest of the block is left as it is). */
export function encodeSuper(b: Uint8Array, off: number, sb: SuperBlockData): void {
  b.set(MAGIC, off);
  const p = (o: number, v: number) => put32(b, off + o, v);
  p(SB_VERSION, sb.version);
  p(SB_BLOCK_SIZE, BLOCK_SIZE);
  p(SB_BLOCK_COUNT, sb.blockCount);
  p(SB_INODE_COUNT, sb.inodeCount);
  p(SB_BB_START, sb.blockBitmapStart);
  p(SB_BB_BLOCKS, sb.blockBitmapBlocks);
  p(SB_IB_START, sb.inodeBitmapStart);
  p(SB_IB_BLOCKS, sb.inodeBitmapBlocks);
  p(SB_IT_START, sb.inodeTableStart);
  p(SB_IT_BLOCKS, sb.inodeTableBlocks);
  p(SB_FIRST_DATA, sb.firstDataBlock);
  p(SB_ROOT, ROOT_INO);
  p(SB_INODE_SIZE, INODE_SIZE);
  p(SB_FREE_BLOCKS, sb.freeBlocks);
  p(SB_FREE_INODES, sb.freeInodes);
  p(SB_STATE, sb.state);
  p(SB_MOUNT_COUNT, sb.mountCount);
  p(76, 0);
  putTime(b, off + SB_MKFS_TIME, sb.mkfsTimeNs);
  putTime(b, off + SB_MOUNT_TIME, sb.mountTimeNs);
  putTime(b, off + SB_WRITE_TIME, sb.writeTimeNs);
}

/** Computes the layout mkfs gives a device of `blockCount` blocks with `inodes` inodes (default: one per 4 blocks). */
export function computeGeometry(blockCount: number, inodes?: number): Geometry {
  const want = inodes ?? Math.floor(blockCount / 4);
  const inodeCount = Math.max(INODES_PER_BLOCK, Math.ceil(Math.min(want, 2 ** 31) / INODES_PER_BLOCK) * INODES_PER_BLOCK);
  const blockBitmapStart = 2;
  const blockBitmapBlocks = Math.ceil(blockCount / BITS_PER_BLOCK);
  const inodeBitmapStart = blockBitmapStart + blockBitmapBlocks;
  const inodeBitmapBlocks = Math.ceil(inodeCount / BITS_PER_BLOCK);
  const inodeTableStart = inodeBitmapStart + inodeBitmapBlocks;
  const inodeTableBlocks = inodeCount / INODES_PER_BLOCK;
  const firstDataBlock = inodeTableStart + inodeTableBlocks;
  return { blockCount, inodeCount, blockBitmapStart, blockBitmapBlocks, inodeBitmapStart, inodeBitmapBlocks, inodeTableStart, inodeTableBlocks, firstDataBlock };
}

// Inode field offsets.
const I_MODE = 0;
const I_NLINK = 2;
const I_UID = 4;
const I_GID = 8;
const I_FLAGS = 12;
const I_SIZE = 16;
const I_BLOCKS = 24;
const I_ATIME = 32;
const I_MTIME = 44;
const I_CTIME = 56;
const I_BTIME = 68;
/** Offset of the block pointers (12 direct, indirect, double-indirect) and of inline data. */
export const I_PTRS = 80;
const NPTRS = NDIR + 2;

/** Where inode `ino` lives: the inode-table block and the byte offset in it. */
export function inodeLocation(g: Geometry, ino: number): {
  /** Inode-table block holding the inode. */
  block: number;
  /** Byte offset of the inode in that block. */
  offset: number;
} {
  return { block: g.inodeTableStart + Math.floor(ino / INODES_PER_BLOCK), offset: (ino % INODES_PER_BLOCK) * INODE_SIZE };
}

/** Decodes an inode (no validation beyond field widths; callers check the mode). */
export function decodeInode(b: Uint8Array, off: number): RawInode {
  const flags = u32(b, off + I_FLAGS);
  const size = u32(b, off + I_SIZE) + u32(b, off + I_SIZE + 4) * 2 ** 32;
  const inline = (flags & INODE_FLAG_INLINE) !== 0;
  const ptrs: number[] = [];
  for (let i = 0; i < NPTRS; i++) ptrs.push(inline ? 0 : u32(b, off + I_PTRS + 4 * i));
  return {
    mode: u16(b, off + I_MODE),
    nlink: u16(b, off + I_NLINK),
    uid: u32(b, off + I_UID),
    gid: u32(b, off + I_GID),
    flags,
    size,
    blocks: u32(b, off + I_BLOCKS),
    atimeNs: getTime(b, off + I_ATIME),
    mtimeNs: getTime(b, off + I_MTIME),
    ctimeNs: getTime(b, off + I_CTIME),
    btimeNs: getTime(b, off + I_BTIME),
    ptrs,
    inline: inline ? b.slice(off + I_PTRS, off + I_PTRS + Math.min(INLINE_MAX, size)) : null,
  };
}

/** Encodes an inode over the whole 256-byte slot. */
export function encodeInode(b: Uint8Array, off: number, ino: RawInode): void {
  b.fill(0, off, off + INODE_SIZE);
  put16(b, off + I_MODE, ino.mode);
  put16(b, off + I_NLINK, ino.nlink);
  put32(b, off + I_UID, ino.uid);
  put32(b, off + I_GID, ino.gid);
  put32(b, off + I_FLAGS, ino.flags);
  put64(b, off + I_SIZE, ino.size);
  put32(b, off + I_BLOCKS, ino.blocks);
  putTime(b, off + I_ATIME, ino.atimeNs);
  putTime(b, off + I_MTIME, ino.mtimeNs);
  putTime(b, off + I_CTIME, ino.ctimeNs);
  putTime(b, off + I_BTIME, ino.btimeNs);
  if (ino.flags & INODE_FLAG_INLINE) {
    if (ino.inline) b.set(ino.inline.subarray(0, INLINE_MAX), off + I_PTRS);
  } else {
    for (let i = 0; i < NPTRS; i++) put32(b, off + I_PTRS + 4 * i, ino.ptrs[i] ?? 0);
  }
}

/** An empty (free) inode. */
export function emptyInode(): RawInode {
  return { mode: 0, nlink: 0, uid: 0, gid: 0, flags: 0, size: 0, blocks: 0, atimeNs: 0, mtimeNs: 0, ctimeNs: 0, btimeNs: 0, ptrs: new Array<number>(NPTRS).fill(0), inline: null };
}

/** True for a mode whose type fs-simple stores. */
export function validType(mode: number): boolean {
  const t = mode & S_IFMT;
  return t === S_IFREG || t === S_IFDIR || t === S_IFLNK;
}

/** The directory-entry type byte of a mode. */
export function dtOf(mode: number): number {
  const t = mode & S_IFMT;
  return t === S_IFDIR ? DT_DIR : t === S_IFLNK ? DT_LNK : DT_REG;
}

/** Bytes a directory entry with a name of `nameLen` bytes needs (header + name, rounded to 4). */
export function direntSize(nameLen: number): number {
  return (DIRENT_HEADER + nameLen + 3) & ~3;
}

/** A directory entry as found in a block. */
export interface Dirent {
  /** Byte offset of the entry in its block. */
  offset: number;
  /** Inode the name links to; 0 marks an unused entry. */
  ino: number;
  /**
   * Bytes from this entry to the next (≥ 8, a multiple of 4); the last entry runs to the block's
   * end.
   */
  recLen: number;
  /** Bytes of the name. */
  nameLen: number;
  /** {@link DT_REG}, {@link DT_DIR} or {@link DT_LNK}. */
  type: number;
  /** The name's bytes (a view into the block). */
  name: Uint8Array;
}

/**
 * Parses the entries of one directory block. Returns the entries and, if the block is corrupt,
 * why and at which offset parsing stopped (entries before it are returned). Never loops: every
 * step advances by a rec_len of at least 8 bytes or stops.
 */
export function parseDirBlock(b: Uint8Array, off: number): {
  /** The entries parsed, in block order, unused ones (ino 0) included. */
  entries: Dirent[];
  /** Where and why parsing stopped, or null for a sound block. */
  error: {
    /** Byte offset of the bad entry in the block. */
    offset: number;
    /** What is wrong with it. */
    why: string;
  } | null;
} {
  const entries: Dirent[] = [];
  let pos = 0;
  while (pos < BLOCK_SIZE) {
    if (pos + DIRENT_HEADER > BLOCK_SIZE) return { entries, error: { offset: pos, why: "entry header crosses the end of the block" } };
    const ino = u32(b, off + pos);
    const recLen = u16(b, off + pos + 4);
    const nameLen = b[off + pos + 6]!;
    const type = b[off + pos + 7]!;
    if (recLen < DIRENT_HEADER || recLen % 4 !== 0 || pos + recLen > BLOCK_SIZE) {
      return { entries, error: { offset: pos, why: `bad rec_len ${recLen}` } };
    }
    if (ino !== 0 && (nameLen === 0 || direntSize(nameLen) > recLen)) {
      return { entries, error: { offset: pos, why: `name length ${nameLen} does not fit rec_len ${recLen}` } };
    }
    entries.push({ offset: pos, ino, recLen, nameLen, type, name: b.subarray(off + pos + DIRENT_HEADER, off + pos + DIRENT_HEADER + nameLen) });
    pos += recLen;
  }
  return { entries, error: null };
}

/** Writes a directory entry header and name at `off + pos`. */
export function putDirent(b: Uint8Array, off: number, pos: number, ino: number, recLen: number, name: Uint8Array, type: number): void {
  put32(b, off + pos, ino);
  put16(b, off + pos + 4, recLen);
  b[off + pos + 6] = name.length;
  b[off + pos + 7] = type;
  b.set(name, off + pos + DIRENT_HEADER);
}

/** Sets the inode number of the entry at `pos`. */
export function setDirentIno(b: Uint8Array, off: number, pos: number, ino: number, type: number): void {
  put32(b, off + pos, ino);
  b[off + pos + 7] = type;
}

/** Sets the rec_len of the entry at `pos`. */
export function setDirentRecLen(b: Uint8Array, off: number, pos: number, recLen: number): void {
  put16(b, off + pos + 4, recLen);
}

/** Fills a directory block holding "." and ".." (the first block of a new directory). */
export function initDirBlock(b: Uint8Array, off: number, self: number, parent: number): void {
  b.fill(0, off, off + BLOCK_SIZE);
  putDirent(b, off, 0, self, 12, DOT, DT_DIR);
  putDirent(b, off, 12, parent, BLOCK_SIZE - 12, DOTDOT, DT_DIR);
}

/** Fills an empty directory block (one unused entry spanning it). */
export function initEmptyDirBlock(b: Uint8Array, off: number): void {
  b.fill(0, off, off + BLOCK_SIZE);
  put16(b, off + 4, BLOCK_SIZE);
}

/** The name ".", as bytes. */
export const DOT = new Uint8Array([0x2e]);
/** The name "..", as bytes. */
export const DOTDOT = new Uint8Array([0x2e, 0x2e]);

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });
/** UTF-8 bytes of a name. */
export function nameBytes(name: string): Uint8Array {
  return encoder.encode(name);
}
/** A name from its bytes. */
export function nameString(b: Uint8Array): string {
  return decoder.decode(b);
}
/** True when two byte strings are equal. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Bit `i` of a bitmap block. */
export function testBit(b: Uint8Array, off: number, i: number): boolean {
  return (b[off + (i >>> 3)]! & (1 << (i & 7))) !== 0;
}
/** Sets bit `i` of a bitmap block. */
export function setBit(b: Uint8Array, off: number, i: number): void {
  b[off + (i >>> 3)]! |= 1 << (i & 7);
}
/** Clears bit `i` of a bitmap block. */
export function clearBit(b: Uint8Array, off: number, i: number): void {
  b[off + (i >>> 3)]! &= ~(1 << (i & 7));
}

/**
 * The path to file block `index` in the block tree: `[slot]` for a direct block,
 * `[12, i]` through the indirect block, `[13, i, j]` through the double-indirect one.
 * Throws EFBIG past the largest file.
 */
export function blockPath(index: number): number[] {
  if (index < NDIR) return [index];
  if (index < DIND_START) return [NDIR, index - IND_START];
  if (index < MAX_FILE_BLOCKS) {
    const k = index - DIND_START;
    return [NDIR + 1, Math.floor(k / PTRS_PER_BLOCK), k % PTRS_PER_BLOCK];
  }
  throw fail("EFBIG", `file block ${index} is beyond the largest fs-simple file (${MAX_FILE_SIZE} bytes)`);
}
