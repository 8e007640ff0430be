/**
 * The on-disk format of fs-log (see docs/FS-LOG.md for the prose version): constants, the
 * encoders and validating decoders of every structure, and CRC32. Nothing here does I/O.
 *
 * Device layout (4 KiB blocks):
 *
 *   block 0            superblock (geometry, uuid)
 *   blocks 1, 2        checkpoint regions (written alternately: checkpoint seq N goes to block 1 + N % 2)
 *   blocks 3 …         segments of `segBlocks` blocks each; the log lives here
 *
 * A segment holds "units" (Sprite LFS's partial segments) back to back: a summary block, then the
 * unit's payload blocks. The summary names what each payload block is (file data of inode/index,
 * inode block, imap chunk, segment-usage-table block) and carries the fs uuid, the mount
 * generation, a sequence number, the segment the log continues in, and a CRC32 over the summary
 * and the payload.
 */
import { fail } from "@folio/core";

/** Bytes per block (and per page: one block is one order-0 folio's worth). */
export const BLOCK_SIZE = 4096;
/** Bytes per sector: the unit of st_blocks. */
export const SECTOR = 512;
/** Block of the superblock. */
export const SB_BLOCK = 0;
/** Checkpoint region of checkpoint `seq`: CP_BLOCKS[seq % 2]. */
export const CP_BLOCKS = [1, 2] as const;
/** First block of segment 0. */
export const SEG_START = 3;
/** The on-disk format version this code reads and writes; a newer one is refused (ENOSYS). */
export const VERSION = 1;
/** Inode number of the root directory (0 means "no inode"). */
export const ROOT_INO = 1;
/** Longest name of a directory entry, in UTF-8 bytes. */
export const NAME_MAX = 255;
/** Longest symlink target (PATH_MAX − 1), stored inline in the inode record (which then spans two blocks). */
export const SYMLINK_MAX = 4095;
/** Most links an inode may have. */
export const MAX_LINKS = 65000;
/** Largest file: file block indices are 32-bit. */
export const MAX_FILE_SIZE = 2 ** 44;

/** First u32 of the superblock: "FLOG". */
export const MAGIC_SB = 0x474f4c46; // "FLOG"
/** First u32 of a checkpoint region: "FLCP". */
export const MAGIC_CP = 0x50434c46; // "FLCP"
/** First u32 of a unit summary: "FLSM". */
export const MAGIC_SUM = 0x4d534c46; // "FLSM"
/** First u32 of an imap chunk: "FLIM". */
export const MAGIC_IMAP = 0x4d494c46; // "FLIM"
/** First u32 of a segment-usage-table block: "FLST". */
export const MAGIC_SUT = 0x54534c46; // "FLST"
/** First u32 of an inode record: "FLIN". */
export const MAGIC_INODE = 0x4e494c46; // "FLIN"

/** Imap entries per imap chunk block: 16-byte header + 510 × 8 bytes. */
export const IMAP_PER_CHUNK = 510;
/** Segment usage entries per SUT block: 16-byte header + 255 × 16 bytes. */
export const SUT_PER_BLOCK = 255;
/** Summary header bytes; entries follow, 12 bytes each. */
export const SUM_HEADER = 56;
/** Bytes of one summary entry: kind, ino, index as u32. */
export const SUM_ENTRY = 12;
/** Most payload blocks one unit can describe. */
export const MAX_UNIT_ENTRIES = Math.floor((BLOCK_SIZE - SUM_HEADER) / SUM_ENTRY);
/** Checkpoint header bytes; chunk and SUT addresses follow, 4 bytes each, CRC in the last 4. */
export const CP_HEADER = 72;
/** Most imap-chunk and SUT block addresses one checkpoint block holds. */
export const CP_MAX_ADDRS = Math.floor((BLOCK_SIZE - 4 - CP_HEADER) / 4);
/** Inode record header bytes. */
export const REC_HEADER = 88;
/** Sentinel for "no segment" in a summary's or checkpoint's next-segment field. */
export const NO_SEG = 0xffffffff;

/** Unit flag: this unit ends a commit; roll-forward applies the imap chunks of the units up to it. */
export const UNIT_COMMIT = 1;
/** Unit flag: the log continues in the summary's next segment after this unit (the rest of this segment is unused). */
export const UNIT_LAST = 2;

/** What a payload block holds (summary entry kind). */
export const enum Kind {
  /** File or directory data: (ino, file block index). */
  Data = 1,
  /** An inode block: packed inode records (ino and index are 0). */
  Inode = 2,
  /** A continuation block of a record longer than one block (ino = the record's inode). */
  InodeCont = 3,
  /** Imap chunk `index`. */
  Imap = 4,
  /** Segment usage table block `index`. */
  Sut = 5,
}

/** Segment states in the segment usage table. */
export const enum SegState {
  /** Holds no live block: the log may be written into it. */
  Free = 0,
  /** Written since it was last freed: may hold live blocks; it is not written into again until freed. */
  Used = 1,
}

/** Mask of the file type bits of a mode. */
export const S_IFMT = 0o170000;
/** Type bits of a regular file. */
export const S_IFREG = 0o100000;
/** Type bits of a directory. */
export const S_IFDIR = 0o040000;
/** Type bits of a symbolic link. */
export const S_IFLNK = 0o120000;

/** Directory entry type of a regular file (each entry stores one). */
export const DT_REG = 1;
/** Directory entry type of a directory. */
export const DT_DIR = 2;
/** Directory entry type of a symbolic link. */
export const DT_LNK = 3;

// ───────────────────────────── CRC32 (slice-by-8, IEEE polynomial) ─────────────────────────────

const CRC_TABLES: Uint32Array[] = (() => {
  const t0 = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t0[i] = c >>> 0;
  }
  const tables = [t0];
  for (let t = 1; t < 8; t++) {
    const prev = tables[t - 1]!;
    const cur = new Uint32Array(256);
    for (let i = 0; i < 256; i++) cur[i] = (prev[i]! >>> 8) ^ t0[prev[i]! & 0xff]!;
    tables.push(cur);
  }
  return tables;
})();

/** Continues a CRC32 over `buf[from, to)`; start with `crc = 0`. */
export function crc32(buf: Uint8Array, from = 0, to = buf.length, crc = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let c = ~crc >>> 0;
  let i = from;
  for (; i + 8 <= to; i += 8) {
    const a = (c ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24))) >>> 0;
    c =
      t7[a & 0xff]! ^ t6[(a >>> 8) & 0xff]! ^ t5[(a >>> 16) & 0xff]! ^ t4[a >>> 24]! ^
      t3[buf[i + 4]!]! ^ t2[buf[i + 5]!]! ^ t1[buf[i + 6]!]! ^ t0[buf[i + 7]!]!;
  }
  for (; i < to; i++) c = t0[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** A DataView over a block inside a larger buffer. */
export function view(buf: Uint8Array, off = 0, len = BLOCK_SIZE): DataView {
  return new DataView(buf.buffer, buf.byteOffset + off, len);
}

/** CRC32 of one block with its 4-byte CRC field (at `crcAt`) taken as zero. */
function blockCrc(buf: Uint8Array, off: number, crcAt: number, len = BLOCK_SIZE): number {
  let c = crc32(buf, off, off + crcAt);
  c = crc32(ZERO4, 0, 4, c);
  return crc32(buf, off + crcAt + 4, off + len, c);
}
const ZERO4 = new Uint8Array(4);

// ───────────────────────────── superblock ─────────────────────────────

/** The superblock: the geometry mkfs chose. */
export interface SuperData {
  /** Blocks of the device the filesystem uses (4 KiB each). */
  nrBlocks: number;
  /** Blocks per segment. */
  segBlocks: number;
  /** Segments in the log, from block {@link SEG_START}. */
  nrSegments: number;
  /** Inode numbers available, 0 (none) and the root included. */
  maxInodes: number;
  /** Imap chunks: ⌈maxInodes / IMAP_PER_CHUNK⌉. */
  imapChunks: number;
  /** Segment-usage-table blocks: ⌈nrSegments / SUT_PER_BLOCK⌉. */
  sutBlocks: number;
  /** Segments kept back from the capacity users see, so the cleaner always has room. */
  reserveSegs: number;
  /**
   * Random id mkfs gives the filesystem; summaries and checkpoints carry it, so stale blocks of an
   * earlier filesystem are never taken for its own.
   */
  uuid: number;
  /** When mkfs ran (ns since the epoch). */
  createdNs: number;
}

/**
 * Writes the superblock into the block at `buf[off…]` (zeroed first), CRC included.
 *
 * Layout: 0 magic, 4 version, 8 block size, 12 nrBlocks, 16 segStart, 20 segBlocks,
 * 24 nrSegments, 28 maxInodes, 32 imapChunks, 36 sutBlocks, 40 reserveSegs, 44 root ino,
 * 48 uuid, 52 pad, 56 createdNs (f64), 4092 CRC32 of the block.
 */
export function encodeSuper(buf: Uint8Array, off: number, sb: SuperData): void {
  buf.fill(0, off, off + BLOCK_SIZE);
  const v = view(buf, off);
  v.setUint32(0, MAGIC_SB, true);
  v.setUint32(4, VERSION, true);
  v.setUint32(8, BLOCK_SIZE, true);
  v.setUint32(12, sb.nrBlocks, true);
  v.setUint32(16, SEG_START, true);
  v.setUint32(20, sb.segBlocks, true);
  v.setUint32(24, sb.nrSegments, true);
  v.setUint32(28, sb.maxInodes, true);
  v.setUint32(32, sb.imapChunks, true);
  v.setUint32(36, sb.sutBlocks, true);
  v.setUint32(40, sb.reserveSegs, true);
  v.setUint32(44, ROOT_INO, true);
  v.setUint32(48, sb.uuid, true);
  v.setFloat64(56, sb.createdNs, true);
  v.setUint32(BLOCK_SIZE - 4, blockCrc(buf, off, BLOCK_SIZE - 4), true);
}

/**
 * Decodes and validates a superblock: EINVAL when it is not fs-log at all (bad magic), ENOSYS for
 * a newer version, EUCLEAN for a damaged one or a geometry that does not fit the device.
 */
export function decodeSuper(buf: Uint8Array, off: number, dev: string, devBlocks: number): SuperData {
  const v = view(buf, off);
  if (v.getUint32(0, true) !== MAGIC_SB) throw fail("EINVAL", `${dev}: not an fs-log filesystem (bad superblock magic)`);
  const version = v.getUint32(4, true);
  if (version > VERSION) throw fail("ENOSYS", `${dev}: fs-log on-disk version ${version} is newer than this implementation (${VERSION})`);
  if (version !== VERSION) throw fail("EUCLEAN", `${dev}: fs-log superblock has invalid version ${version}`);
  if (v.getUint32(BLOCK_SIZE - 4, true) !== blockCrc(buf, off, BLOCK_SIZE - 4)) throw fail("EUCLEAN", `${dev}: fs-log superblock checksum mismatch`);
  const sb: SuperData = {
    nrBlocks: v.getUint32(12, true),
    segBlocks: v.getUint32(20, true),
    nrSegments: v.getUint32(24, true),
    maxInodes: v.getUint32(28, true),
    imapChunks: v.getUint32(32, true),
    sutBlocks: v.getUint32(36, true),
    reserveSegs: v.getUint32(40, true),
    uuid: v.getUint32(48, true),
    createdNs: v.getFloat64(56, true),
  };
  const bad = (why: string) => fail("EUCLEAN", `${dev}: fs-log superblock is corrupted: ${why}`);
  if (v.getUint32(8, true) !== BLOCK_SIZE) throw bad(`block size ${v.getUint32(8, true)}`);
  if (v.getUint32(16, true) !== SEG_START) throw bad(`segment start ${v.getUint32(16, true)}`);
  if (v.getUint32(44, true) !== ROOT_INO) throw bad(`root inode ${v.getUint32(44, true)}`);
  if (sb.segBlocks < 8 || sb.segBlocks > 4096) throw bad(`segment size ${sb.segBlocks} blocks`);
  if (sb.nrSegments < 8 || SEG_START + sb.nrSegments * sb.segBlocks > sb.nrBlocks) throw bad(`${sb.nrSegments} segments do not fit ${sb.nrBlocks} blocks`);
  if (sb.nrBlocks > devBlocks) throw fail("EUCLEAN", `${dev}: image truncated: fs-log has ${sb.nrBlocks} blocks but the device only ${devBlocks}`);
  if (sb.maxInodes < 2 || sb.imapChunks !== Math.ceil(sb.maxInodes / IMAP_PER_CHUNK)) throw bad(`${sb.maxInodes} inodes in ${sb.imapChunks} imap chunks`);
  if (sb.sutBlocks !== Math.ceil(sb.nrSegments / SUT_PER_BLOCK)) throw bad(`${sb.sutBlocks} usage-table blocks for ${sb.nrSegments} segments`);
  if (sb.imapChunks + sb.sutBlocks > CP_MAX_ADDRS) throw bad("more metadata blocks than a checkpoint can address");
  if (sb.reserveSegs < 2 || sb.reserveSegs >= sb.nrSegments / 2) throw bad(`reserve of ${sb.reserveSegs} segments`);
  return sb;
}

/** First block of segment `s`. */
export function segBase(sb: { segBlocks: number }, s: number): number {
  return SEG_START + s * sb.segBlocks;
}

/** Segment of block `addr` (which must be in the segment area). */
export function segOf(sb: { segBlocks: number }, addr: number): number {
  return Math.floor((addr - SEG_START) / sb.segBlocks);
}

/** True when `addr` is a block of the segment area. */
export function inSegments(sb: { segBlocks: number; nrSegments: number }, addr: number): boolean {
  return Number.isInteger(addr) && addr >= SEG_START && addr < SEG_START + sb.nrSegments * sb.segBlocks;
}

// ───────────────────────────── checkpoint ─────────────────────────────

/** A checkpoint: where the log's durable state is, as of `seq`. */
export interface Checkpoint {
  /** Checkpoint sequence number; the region of the higher valid `seq` wins at mount. */
  seq: number;
  /** Generation of the units written after this checkpoint (roll-forward accepts only these). */
  gen: number;
  /** Sequence number of the first unit after this checkpoint. */
  nextUnitSeq: number;
  /** When it was written (ns since the epoch). */
  timeNs: number;
  /** Log head: the first unit after the checkpoint goes here (or to nextSeg when the segment is full). */
  headSeg: number;
  /** Block offset in {@link headSeg} where the next unit goes. */
  headOff: number;
  /** The segment the log continues in when the head segment fills. */
  nextSeg: number;
  /** Where inode-number allocation resumes. */
  nextIno: number;
  /** Block of each imap chunk. */
  chunks: number[];
  /** Block of each segment usage table block. */
  sut: number[];
}

/**
 * Writes checkpoint `cp` of filesystem `uuid` into the block at `buf[off…]` (zeroed first), CRC
 * included. The superblock's geometry guarantees its addresses fit ({@link CP_MAX_ADDRS}).
 *
 * Layout: 0 magic, 4 version, 8 uuid, 12 nChunks, 16 seq, 24 gen, 32 nextUnitSeq,
 * 40 timeNs (all f64), 48 headSeg, 52 headOff, 56 nextSeg, 60 nextIno, 64 nSut, 68 pad,
 * 72 chunk addresses then SUT addresses (u32 each), 4092 CRC32 of the block.
 */
export function encodeCheckpoint(buf: Uint8Array, off: number, uuid: number, cp: Checkpoint): void {
  buf.fill(0, off, off + BLOCK_SIZE);
  const v = view(buf, off);
  v.setUint32(0, MAGIC_CP, true);
  v.setUint32(4, VERSION, true);
  v.setUint32(8, uuid, true);
  v.setUint32(12, cp.chunks.length, true);
  v.setFloat64(16, cp.seq, true);
  v.setFloat64(24, cp.gen, true);
  v.setFloat64(32, cp.nextUnitSeq, true);
  v.setFloat64(40, cp.timeNs, true);
  v.setUint32(48, cp.headSeg, true);
  v.setUint32(52, cp.headOff, true);
  v.setUint32(56, cp.nextSeg >>> 0, true);
  v.setUint32(60, cp.nextIno, true);
  v.setUint32(64, cp.sut.length, true);
  let p = CP_HEADER;
  for (const a of [...cp.chunks, ...cp.sut]) {
    v.setUint32(p, a, true);
    p += 4;
  }
  v.setUint32(BLOCK_SIZE - 4, blockCrc(buf, off, BLOCK_SIZE - 4), true);
}

/** Decodes a checkpoint region; returns the reason it is not a valid checkpoint of this filesystem as a string. */
export function decodeCheckpoint(buf: Uint8Array, off: number, sb: SuperData): Checkpoint | string {
  const v = view(buf, off);
  if (v.getUint32(0, true) !== MAGIC_CP) return "no checkpoint magic";
  if (v.getUint32(BLOCK_SIZE - 4, true) !== blockCrc(buf, off, BLOCK_SIZE - 4)) return "checksum mismatch (torn or damaged)";
  if (v.getUint32(4, true) !== VERSION) return `version ${v.getUint32(4, true)}`;
  if (v.getUint32(8, true) !== sb.uuid) return "belongs to another filesystem (uuid)";
  const nChunks = v.getUint32(12, true);
  const nSut = v.getUint32(64, true);
  if (nChunks !== sb.imapChunks || nSut !== sb.sutBlocks) return `addresses ${nChunks} imap chunks and ${nSut} usage blocks`;
  const cp: Checkpoint = {
    seq: v.getFloat64(16, true),
    gen: v.getFloat64(24, true),
    nextUnitSeq: v.getFloat64(32, true),
    timeNs: v.getFloat64(40, true),
    headSeg: v.getUint32(48, true),
    headOff: v.getUint32(52, true),
    nextSeg: v.getUint32(56, true),
    nextIno: v.getUint32(60, true),
    chunks: [],
    sut: [],
  };
  if (!isCount(cp.seq) || cp.seq < 1 || !isCount(cp.gen) || !isCount(cp.nextUnitSeq)) return "bad sequence numbers";
  if (cp.headSeg >= sb.nrSegments || cp.headOff > sb.segBlocks) return `log head ${cp.headSeg}:${cp.headOff} outside the log`;
  if (cp.nextSeg !== NO_SEG && (cp.nextSeg >= sb.nrSegments || cp.nextSeg === cp.headSeg)) return `next segment ${cp.nextSeg} is invalid`;
  let p = CP_HEADER;
  for (let i = 0; i < nChunks; i++, p += 4) cp.chunks.push(v.getUint32(p, true));
  for (let i = 0; i < nSut; i++, p += 4) cp.sut.push(v.getUint32(p, true));
  for (const a of [...cp.chunks, ...cp.sut]) if (!inSegments(sb, a)) return `metadata block ${a} outside the log`;
  return cp;
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

// ───────────────────────────── unit summary ─────────────────────────────

/** One payload block as the summary describes it. */
export interface SumEntry {
  /** What the block holds. */
  kind: Kind;
  /**
   * The inode whose data or record continuation it is (0 for inode blocks, imap chunks and SUT
   * blocks).
   */
  ino: number;
  /** The file block index (Data), the imap chunk or SUT block number (Imap, Sut); 0 otherwise. */
  index: number;
}

/** A decoded unit summary. */
export interface Summary {
  /** {@link UNIT_COMMIT} and {@link UNIT_LAST} bits. */
  flags: number;
  /** Mount generation that wrote the unit; roll-forward accepts only the checkpoint's. */
  gen: number;
  /** Unit sequence number, consecutive along the log. */
  seq: number;
  /** Payload blocks after the summary. */
  nBlocks: number;
  /** The segment the log continues in, or {@link NO_SEG}. */
  nextSeg: number;
  /** When the unit was written (ns since the epoch). */
  timeNs: number;
  /** CRC32 of the summary (this field zero) and the payload blocks. */
  crc: number;
  /** kind, ino, index of payload block i at [3i, 3i + 1, 3i + 2]. */
  entries: Uint32Array;
}

/**
 * Writes the summary of a unit of `n` payload blocks into the block at `buf[off…]` (zeroed
 * first). The CRC is left zero: {@link unitCrc} computes it once the payload is in place and
 * {@link setSummaryCrc} stores it.
 *
 * Layout: 0 magic, 4 uuid, 8 flags, 12 nBlocks, 16 gen, 24 seq, 32 timeNs (f64 each),
 * 40 nextSeg, 44 CRC32 (over this block with the field zero, then every payload block), 48 pad,
 * 56 entries of (kind, ino, index) as u32.
 */
export function encodeSummary(buf: Uint8Array, off: number, uuid: number, s: Omit<Summary, "crc" | "nBlocks">, n: number): void {
  buf.fill(0, off, off + BLOCK_SIZE);
  const v = view(buf, off);
  v.setUint32(0, MAGIC_SUM, true);
  v.setUint32(4, uuid, true);
  v.setUint32(8, s.flags, true);
  v.setUint32(12, n, true);
  v.setFloat64(16, s.gen, true);
  v.setFloat64(24, s.seq, true);
  v.setFloat64(32, s.timeNs, true);
  v.setUint32(40, s.nextSeg >>> 0, true);
  for (let i = 0; i < n * 3; i++) v.setUint32(SUM_HEADER + i * 4, s.entries[i]!, true);
}

/** CRC of a unit: the summary (CRC field zero) and `n` payload blocks that follow it in `buf`. */
export function unitCrc(buf: Uint8Array, off: number, n: number): number {
  const c = blockCrc(buf, off, 44);
  return crc32(buf, off + BLOCK_SIZE, off + BLOCK_SIZE * (1 + n), c);
}

/** Stores a unit's CRC (from {@link unitCrc}) in its summary at `buf[off…]`. */
export function setSummaryCrc(buf: Uint8Array, off: number, crc: number): void {
  view(buf, off).setUint32(44, crc, true);
}

/**
 * Decodes a summary header and entries, validating what can be checked without the payload;
 * returns the reason as a string when it is not a plausible summary of this filesystem.
 * `room` is the most payload blocks that fit after it in its segment.
 */
export function decodeSummary(buf: Uint8Array, off: number, sb: SuperData, room: number): Summary | string {
  const v = view(buf, off);
  if (v.getUint32(0, true) !== MAGIC_SUM) return "no summary magic";
  if (v.getUint32(4, true) !== sb.uuid) return "summary of another filesystem";
  const n = v.getUint32(12, true);
  if (n > room || n > MAX_UNIT_ENTRIES) return `unit of ${n} blocks does not fit`;
  const s: Summary = {
    flags: v.getUint32(8, true),
    nBlocks: n,
    gen: v.getFloat64(16, true),
    seq: v.getFloat64(24, true),
    timeNs: v.getFloat64(32, true),
    nextSeg: v.getUint32(40, true),
    crc: v.getUint32(44, true),
    entries: new Uint32Array(n * 3),
  };
  if (!isCount(s.gen) || !isCount(s.seq)) return "bad sequence numbers";
  if (s.nextSeg !== NO_SEG && s.nextSeg >= sb.nrSegments) return `next segment ${s.nextSeg} outside the log`;
  for (let i = 0; i < n * 3; i++) s.entries[i] = v.getUint32(SUM_HEADER + i * 4, true);
  for (let i = 0; i < n; i++) {
    const k = s.entries[i * 3]!;
    if (k < Kind.Data || k > Kind.Sut) return `entry ${i} has unknown kind ${k}`;
  }
  return s;
}

// ───────────────────────────── imap chunks and usage table ─────────────────────────────

/** The inode map: ino → (first block, byte offset, blocks spanned) of its latest record; block 0 = no inode. */
export class Imap {
  /** Block where each inode's latest record starts (0: no inode). */
  readonly addr: Uint32Array;
  /** Byte offset of the record in that block. */
  readonly off: Uint16Array;
  /** Blocks the record spans (1, or more for a long symlink target). */
  readonly nblk: Uint16Array;
  /**
   * An empty map.
   *
   * @param size - Inode numbers it maps: `maxInodes` of the superblock.
   */
  constructor(readonly size: number) {
    this.addr = new Uint32Array(size);
    this.off = new Uint16Array(size);
    this.nblk = new Uint16Array(size);
  }
  /** An independent copy (a checkpoint's snapshot of the map). */
  clone(): Imap {
    const m = new Imap(this.size);
    m.addr.set(this.addr);
    m.off.set(this.off);
    m.nblk.set(this.nblk);
    return m;
  }
}

/**
 * Writes imap chunk `chunk` (entries chunk × IMAP_PER_CHUNK onward) into the block at `buf[off…]`,
 * CRC included.
 *
 * Layout: 0 magic, 4 chunk index, 8 CRC32 (field zero), 12 pad, 16 entries (u32 block, u16 offset, u16 blocks).
 */
export function encodeImapChunk(buf: Uint8Array, off: number, imap: Imap, chunk: number): void {
  buf.fill(0, off, off + BLOCK_SIZE);
  const v = view(buf, off);
  v.setUint32(0, MAGIC_IMAP, true);
  v.setUint32(4, chunk, true);
  const first = chunk * IMAP_PER_CHUNK;
  for (let i = 0; i < IMAP_PER_CHUNK && first + i < imap.size; i++) {
    v.setUint32(16 + i * 8, imap.addr[first + i]!, true);
    v.setUint16(20 + i * 8, imap.off[first + i]!, true);
    v.setUint16(22 + i * 8, imap.nblk[first + i]!, true);
  }
  v.setUint32(8, blockCrc(buf, off, 8), true);
}

/** Decodes imap chunk `chunk` into `imap`; returns an error string for a damaged chunk (imap untouched). */
export function decodeImapChunk(buf: Uint8Array, off: number, imap: Imap, chunk: number, sb: SuperData): string | null {
  const v = view(buf, off);
  if (v.getUint32(0, true) !== MAGIC_IMAP || v.getUint32(4, true) !== chunk) return `imap chunk ${chunk}: bad header`;
  if (v.getUint32(8, true) !== blockCrc(buf, off, 8)) return `imap chunk ${chunk}: checksum mismatch`;
  const first = chunk * IMAP_PER_CHUNK;
  for (let i = 0; i < IMAP_PER_CHUNK && first + i < imap.size; i++) {
    const a = v.getUint32(16 + i * 8, true);
    const o = v.getUint16(20 + i * 8, true);
    const n = v.getUint16(22 + i * 8, true);
    const ino = first + i;
    if (a === 0) {
      if (o !== 0 || n !== 0) return `imap chunk ${chunk}: empty entry ${ino} has offset/length`;
      continue;
    }
    if (ino === 0) return `imap chunk ${chunk}: inode 0 is mapped`;
    if (!inSegments(sb, a) || !inSegments(sb, a + n - 1) || n < 1 || o >= BLOCK_SIZE || segOf(sb, a) !== segOf(sb, a + n - 1)) {
      return `imap chunk ${chunk}: inode ${ino} maps to invalid location ${a}+${o} (${n} blocks)`;
    }
  }
  for (let i = 0; i < IMAP_PER_CHUNK && first + i < imap.size; i++) {
    imap.addr[first + i] = v.getUint32(16 + i * 8, true);
    imap.off[first + i] = v.getUint16(20 + i * 8, true);
    imap.nblk[first + i] = v.getUint16(22 + i * 8, true);
  }
  return null;
}

/** The segment usage table in memory. */
export interface SegUsage {
  /** Live blocks of the durable state in each segment (what the on-disk table records). */
  live: Int32Array;
  /** {@link SegState} of each segment. */
  state: Uint8Array;
  /** Virtual time of the latest write into each segment (for the cleaner's age). */
  lastWrite: Float64Array;
}

/** A usage table for `n` segments, all free, empty and never written. */
export function newSegUsage(n: number): SegUsage {
  return { live: new Int32Array(n), state: new Uint8Array(n), lastWrite: new Float64Array(n) };
}

/**
 * Writes SUT block `k` (segments k × SUT_PER_BLOCK onward, up to `n`) into the block at `buf[off…]`,
 * CRC included.
 *
 * Layout: 0 magic, 4 block index, 8 CRC32 (field zero), 12 pad, 16 entries (u32 live, u32 state, f64 last write).
 */
export function encodeSutBlock(buf: Uint8Array, off: number, k: number, live: ArrayLike<number>, state: ArrayLike<number>, lastWrite: ArrayLike<number>, n: number): void {
  buf.fill(0, off, off + BLOCK_SIZE);
  const v = view(buf, off);
  v.setUint32(0, MAGIC_SUT, true);
  v.setUint32(4, k, true);
  const first = k * SUT_PER_BLOCK;
  for (let i = 0; i < SUT_PER_BLOCK && first + i < n; i++) {
    v.setUint32(16 + i * 16, live[first + i]!, true);
    v.setUint32(20 + i * 16, state[first + i]!, true);
    v.setFloat64(24 + i * 16, lastWrite[first + i]!, true);
  }
  v.setUint32(8, blockCrc(buf, off, 8), true);
}

/** Decodes SUT block `k` into `u`; returns an error string for a damaged block or an impossible entry, null when sound. */
export function decodeSutBlock(buf: Uint8Array, off: number, k: number, u: SegUsage, sb: SuperData): string | null {
  const v = view(buf, off);
  if (v.getUint32(0, true) !== MAGIC_SUT || v.getUint32(4, true) !== k) return `usage table block ${k}: bad header`;
  if (v.getUint32(8, true) !== blockCrc(buf, off, 8)) return `usage table block ${k}: checksum mismatch`;
  const first = k * SUT_PER_BLOCK;
  for (let i = 0; i < SUT_PER_BLOCK && first + i < sb.nrSegments; i++) {
    const live = v.getUint32(16 + i * 16, true);
    const state = v.getUint32(20 + i * 16, true);
    const lw = v.getFloat64(24 + i * 16, true);
    if (live > sb.segBlocks || state > SegState.Used || !Number.isFinite(lw)) return `usage table block ${k}: entry of segment ${first + i} is invalid`;
    u.live[first + i] = live;
    u.state[first + i] = state;
    u.lastWrite[first + i] = lw;
  }
  return null;
}

// ───────────────────────────── inode records ─────────────────────────────

/** An inode as its record stores it. */
export interface RecordData {
  /** Inode number. */
  ino: number;
  /** Type and permission bits. */
  mode: number;
  /** Names linking to it. */
  nlink: number;
  /** Owner user id. */
  uid: number;
  /** Owner group id. */
  gid: number;
  /** Size in bytes. */
  size: number;
  /** Last access (ns since the epoch). */
  atimeNs: number;
  /** Last data change (ns since the epoch). */
  mtimeNs: number;
  /** Last inode change (ns since the epoch). */
  ctimeNs: number;
  /** Creation (ns since the epoch). */
  btimeNs: number;
  /** Parent directory (directories only; 0 otherwise). */
  parent: number;
  /** Symlink target (symlinks only). */
  target: Uint8Array | null;
  /** Block map as extents [file block index, device block, length]. */
  extents: [number, number, number][];
}

/**
 * Bytes the record of `r` takes: header, target padded to 4 bytes, 12 per extent.
 *
 * Record layout (packed into inode blocks; a record of more than one block starts a block and
 * continues in the next ones): 0 magic, 4 ino, 8 length in bytes, 12 CRC32 (field zero), 16 mode,
 * 20 nlink, 24 uid, 28 gid, 32 size, 40 atime, 48 mtime, 56 ctime, 64 btime (f64 each),
 * 72 parent, 76 extent count, 80 target length, 84 pad, 88 target (padded to 4 bytes), then
 * extents of (file block index, device block, length) as u32.
 */
export function recordLength(r: RecordData): number {
  return REC_HEADER + pad4(r.target?.length ?? 0) + r.extents.length * 12;
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** The record of `r`, {@link recordLength} bytes, CRC included. */
export function encodeRecord(r: RecordData): Uint8Array {
  const len = recordLength(r);
  const buf = new Uint8Array(len);
  const v = new DataView(buf.buffer);
  v.setUint32(0, MAGIC_INODE, true);
  v.setUint32(4, r.ino, true);
  v.setUint32(8, len, true);
  v.setUint32(16, r.mode, true);
  v.setUint32(20, r.nlink, true);
  v.setUint32(24, r.uid, true);
  v.setUint32(28, r.gid, true);
  v.setFloat64(32, r.size, true);
  v.setFloat64(40, r.atimeNs, true);
  v.setFloat64(48, r.mtimeNs, true);
  v.setFloat64(56, r.ctimeNs, true);
  v.setFloat64(64, r.btimeNs, true);
  v.setUint32(72, r.parent, true);
  v.setUint32(76, r.extents.length, true);
  const tl = r.target?.length ?? 0;
  v.setUint32(80, tl, true);
  if (r.target) buf.set(r.target, REC_HEADER);
  let p = REC_HEADER + pad4(tl);
  for (const [i, a, n] of r.extents) {
    v.setUint32(p, i, true);
    v.setUint32(p + 4, a, true);
    v.setUint32(p + 8, n, true);
    p += 12;
  }
  v.setUint32(12, crc32(buf), true);
  return buf;
}

/** The magic and length of the record at `buf[off…]`, or null when no record starts there. */
export function peekRecord(buf: Uint8Array, off: number, avail: number): {
  /** The inode the record claims to be (unverified). */
  ino: number;
  /** Its length in bytes, header included (unverified). */
  length: number;
} | null {
  if (avail < REC_HEADER) return null;
  const v = new DataView(buf.buffer, buf.byteOffset + off, REC_HEADER);
  if (v.getUint32(0, true) !== MAGIC_INODE) return null;
  return { ino: v.getUint32(4, true), length: v.getUint32(8, true) };
}

/**
 * Decodes and validates the record of inode `ino` at `buf[off…]` (at most `avail` bytes);
 * returns the reason as a string when it is damaged or inconsistent.
 */
export function decodeRecord(buf: Uint8Array, off: number, avail: number, ino: number, sb: SuperData): RecordData | string {
  if (avail < REC_HEADER) return `record of inode ${ino} is cut short`;
  const v = new DataView(buf.buffer, buf.byteOffset + off, avail);
  if (v.getUint32(0, true) !== MAGIC_INODE) return `no record of inode ${ino} at its imap location`;
  if (v.getUint32(4, true) !== ino) return `the record at inode ${ino}'s location belongs to inode ${v.getUint32(4, true)}`;
  const len = v.getUint32(8, true);
  if (len < REC_HEADER || len > avail) return `record of inode ${ino} has length ${len}`;
  const stored = v.getUint32(12, true);
  let c = crc32(buf, off, off + 12);
  c = crc32(ZERO4, 0, 4, c);
  c = crc32(buf, off + 16, off + len, c);
  if (c !== stored) return `record of inode ${ino}: checksum mismatch`;
  const nExt = v.getUint32(76, true);
  const tl = v.getUint32(80, true);
  if (REC_HEADER + pad4(tl) + nExt * 12 !== len) return `record of inode ${ino}: length ${len} disagrees with its contents`;
  const r: RecordData = {
    ino,
    mode: v.getUint32(16, true),
    nlink: v.getUint32(20, true),
    uid: v.getUint32(24, true),
    gid: v.getUint32(28, true),
    size: v.getFloat64(32, true),
    atimeNs: v.getFloat64(40, true),
    mtimeNs: v.getFloat64(48, true),
    ctimeNs: v.getFloat64(56, true),
    btimeNs: v.getFloat64(64, true),
    parent: v.getUint32(72, true),
    target: tl > 0 ? buf.slice(off + REC_HEADER, off + REC_HEADER + tl) : null,
    extents: [],
  };
  const type = r.mode & S_IFMT;
  if (type !== S_IFREG && type !== S_IFDIR && type !== S_IFLNK) return `inode ${ino} has invalid mode 0o${r.mode.toString(8)}`;
  if (!Number.isSafeInteger(r.size) || r.size < 0 || r.size > MAX_FILE_SIZE) return `inode ${ino} has invalid size ${r.size}`;
  if (type === S_IFLNK && (tl === 0 || tl > SYMLINK_MAX || r.size !== tl)) return `symlink ${ino} has a target of ${tl} bytes and size ${r.size}`;
  if (type !== S_IFLNK && tl !== 0) return `inode ${ino} is not a symlink but has a target`;
  if (type === S_IFDIR ? r.parent === 0 : r.parent !== 0) return `inode ${ino} has parent ${r.parent}`;
  let p = REC_HEADER + pad4(tl);
  let lastEnd = -1;
  const maxIndex = Math.ceil(r.size / BLOCK_SIZE);
  for (let i = 0; i < nExt; i++, p += 12) {
    const index = v.getUint32(p, true);
    const addr = v.getUint32(p + 4, true);
    const n = v.getUint32(p + 8, true);
    if (n < 1 || index < lastEnd || index + n > maxIndex) return `inode ${ino}: extent ${index}+${n} is out of order or past the end of the file`;
    if (!inSegments(sb, addr) || !inSegments(sb, addr + n - 1) || segOf(sb, addr) !== segOf(sb, addr + n - 1)) {
      return `inode ${ino}: extent ${index}+${n} points at blocks ${addr}…${addr + n - 1}, outside one segment`;
    }
    if (type === S_IFLNK) return `symlink ${ino} has data blocks`;
    r.extents.push([index, addr, n]);
    lastEnd = index + n;
  }
  return r;
}

/** Extents of a block map (file block index → device block), merging runs that stay in one segment. */
export function toExtents(sb: { segBlocks: number }, map: Map<number, number>): [number, number, number][] {
  const keys = [...map.keys()].sort((a, b) => a - b);
  const out: [number, number, number][] = [];
  for (const k of keys) {
    const a = map.get(k)!;
    const last = out[out.length - 1];
    if (last && last[0] + last[2] === k && last[1] + last[2] === a && segOf(sb, last[1]) === segOf(sb, a)) last[2]++;
    else out.push([k, a, 1]);
  }
  return out;
}

/** The block map of extents. */
export function fromExtents(ext: [number, number, number][]): Map<number, number> {
  const m = new Map<number, number>();
  for (const [i, a, n] of ext) for (let k = 0; k < n; k++) m.set(i + k, a + k);
  return m;
}

// ───────────────────────────── directories ─────────────────────────────

/** One directory entry. */
export interface DirEnt {
  /** The inode the name links to (never 0). */
  ino: number;
  /** {@link DT_REG}, {@link DT_DIR} or {@link DT_LNK}. */
  type: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 bytes of a name. */
export function nameBytes(s: string): Uint8Array {
  return encoder.encode(s);
}

/**
 * The data of a directory holding `entries`, in their map order.
 *
 * A directory's data is a stream of entries: u32 ino, u8 type, u8 name length, name bytes. The
 * directory's size is the stream's length; the stream fills its blocks back to back.
 */
export function encodeDir(entries: Map<string, DirEnt>): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (const [name, e] of entries) {
    const nb = encoder.encode(name);
    const rec = new Uint8Array(6 + nb.length);
    new DataView(rec.buffer).setUint32(0, e.ino, true);
    rec[4] = e.type;
    rec[5] = nb.length;
    rec.set(nb, 6);
    parts.push(rec);
    total += rec.length;
  }
  const out = new Uint8Array(total);
  let p = 0;
  for (const r of parts) {
    out.set(r, p);
    p += r.length;
  }
  return out;
}

/** Decodes a directory stream; returns the reason as a string when it is damaged (with the entries parsed before it). */
export function decodeDir(buf: Uint8Array, size: number, maxIno: number): {
  /** Entries by name, those before any damage. */
  entries: Map<string, DirEnt>;
  /** What is wrong and where, or null for a sound stream. */
  error: string | null;
} {
  const entries = new Map<string, DirEnt>();
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = 0;
  while (p < size) {
    if (p + 6 > size) return { entries, error: `entry at byte ${p} is cut short` };
    const ino = v.getUint32(p, true);
    const type = buf[p + 4]!;
    const nl = buf[p + 5]!;
    if (p + 6 + nl > size) return { entries, error: `entry at byte ${p} runs past the end` };
    if (ino === 0 || ino >= maxIno) return { entries, error: `entry at byte ${p} names inode ${ino}` };
    if (type < DT_REG || type > DT_LNK) return { entries, error: `entry at byte ${p} has type ${type}` };
    let name: string;
    try {
      name = decoder.decode(buf.subarray(p + 6, p + 6 + nl));
    } catch {
      return { entries, error: `entry at byte ${p} has a name that is not UTF-8` };
    }
    if (nl === 0 || name === "." || name === ".." || name.includes("/") || name.includes("\0")) return { entries, error: `entry at byte ${p} has invalid name "${name}"` };
    if (entries.has(name)) return { entries, error: `name "${name}" appears twice` };
    entries.set(name, { ino, type });
    p += 6 + nl;
  }
  return { entries, error: null };
}

/** The directory entry type for an inode of `mode`. */
export function dtOf(mode: number): number {
  const t = mode & S_IFMT;
  return t === S_IFDIR ? DT_DIR : t === S_IFLNK ? DT_LNK : DT_REG;
}
