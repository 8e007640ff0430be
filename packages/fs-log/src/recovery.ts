/**
 * Reading an fs-log image: the superblock, the newest valid checkpoint, the inode map and segment
 * usage table it points to, and roll-forward through the units written after it. Mount and fsck
 * share this code, so what fsck calls consistent is exactly what mount recovers.
 */
import { fail } from "@folio/core";
import type { SyncBlockIo } from "@folio/pagecache";
import {
  BLOCK_SIZE, CP_BLOCKS, Imap, Kind, NO_SEG, SB_BLOCK, SegState, UNIT_COMMIT, UNIT_LAST,
  decodeCheckpoint, decodeImapChunk, decodeRecord, decodeSummary, decodeSuper, decodeSutBlock, newSegUsage, segBase, segOf, unitCrc,
  type Checkpoint, type RecordData, type SegUsage, type Summary, type SuperData,
} from "./format.js";

/** The state of an image as mount (and fsck) see it. */
export interface LoadedState {
  sb: SuperData;
  /** The newest valid checkpoint. */
  cp: Checkpoint;
  /** Why the other checkpoint region is not used (it is older, or invalid: normal after a crash). */
  otherCp: string;
  /** Inode map and chunk locations at the checkpoint, and after roll-forward. */
  cpImap: Imap;
  imap: Imap;
  cpChunks: number[];
  chunks: number[];
  /** The checkpoint's segment usage table; segments roll-forward walked into are marked used. */
  usage: SegUsage;
  /** Segment states as the checkpoint's table records them (before roll-forward). */
  cpState: Uint8Array;
  /** Where the log continues after the last valid unit. */
  headSeg: number;
  headOff: number;
  nextSeg: number;
  nextSeq: number;
  /** Commits applied by roll-forward, and units walked (committed or not). */
  commitsApplied: number;
  unitsWalked: number;
  /** Segments that hold units walked by roll-forward. */
  touched: Set<number>;
  /** Why roll-forward stopped. */
  stop: string;
}

/** Reads and validates the superblock. */
export function readSuper(io: SyncBlockIo): SuperData {
  if (io.device.nrBlocks < 4) throw fail("EINVAL", `${io.device.name}: device of ${io.device.nrBlocks} blocks is too small to hold fs-log`);
  return decodeSuper(io.read(SB_BLOCK), 0, io.device.name, io.device.nrBlocks);
}

/**
 * Loads the durable state: EINVAL for an image that is not fs-log, ENOSYS for a newer version,
 * EUCLEAN when no checkpoint is valid or the metadata it points to is damaged.
 */
export function loadState(io: SyncBlockIo): LoadedState {
  const dev = io.device.name;
  const sb = readSuper(io);
  const found: { cp: Checkpoint; region: number }[] = [];
  const why: string[] = [];
  for (let r = 0; r < 2; r++) {
    const c = decodeCheckpoint(io.read(CP_BLOCKS[r]!), 0, sb);
    if (typeof c === "string") why[r] = c;
    else if (CP_BLOCKS[c.seq % 2] !== CP_BLOCKS[r]) why[r] = `checkpoint ${c.seq} is in the wrong region`;
    else found.push({ cp: c, region: r });
  }
  if (found.length === 0) throw fail("EUCLEAN", `${dev}: fs-log has no valid checkpoint (region 1: ${why[0]}; region 2: ${why[1]})`);
  found.sort((a, b) => b.cp.seq - a.cp.seq);
  const cp = found[0]!.cp;
  const otherCp = found.length > 1 ? `older checkpoint ${found[1]!.cp.seq}` : why[1 - found[0]!.region]!;

  const cpImap = new Imap(sb.maxInodes);
  for (let c = 0; c < sb.imapChunks; c++) {
    const err = decodeImapChunk(io.read(cp.chunks[c]!), 0, cpImap, c, sb);
    if (err) throw fail("EUCLEAN", `${dev}: checkpoint ${cp.seq}: ${err}`);
  }
  const usage = newSegUsage(sb.nrSegments);
  for (let k = 0; k < sb.sutBlocks; k++) {
    const err = decodeSutBlock(io.read(cp.sut[k]!), 0, k, usage, sb);
    if (err) throw fail("EUCLEAN", `${dev}: checkpoint ${cp.seq}: ${err}`);
  }
  if (usage.state[cp.headSeg] !== SegState.Used) throw fail("EUCLEAN", `${dev}: checkpoint ${cp.seq}: the head segment ${cp.headSeg} is marked free`);
  if (cp.nextSeg !== NO_SEG && usage.state[cp.nextSeg] !== SegState.Free) throw fail("EUCLEAN", `${dev}: checkpoint ${cp.seq}: the next segment ${cp.nextSeg} is in use`);

  const st: LoadedState = {
    sb, cp, otherCp, cpImap, imap: cpImap.clone(), cpChunks: cp.chunks.slice(), chunks: cp.chunks.slice(), usage, cpState: usage.state.slice(),
    headSeg: cp.headSeg, headOff: cp.headOff, nextSeg: cp.nextSeg, nextSeq: cp.nextUnitSeq,
    commitsApplied: 0, unitsWalked: 0, touched: new Set(), stop: "",
  };
  rollForward(io, st);
  return st;
}

/**
 * Follows the log from the checkpoint's head: each unit must carry this filesystem's uuid, the
 * checkpoint's generation and the next sequence number, and match its checksum. The first unit
 * that does not ends the log (a torn or never-written unit). The imap chunks carried by units up
 * to a commit unit are applied when that commit unit is reached.
 */
function rollForward(io: SyncBlockIo, st: LoadedState): void {
  const { sb, cp } = st;
  const pending: { chunk: number; addr: number; buf: Uint8Array; off: number }[] = [];
  const maxSteps = sb.nrSegments * sb.segBlocks + 1;
  for (let step = 0; step < maxSteps; step++) {
    let seg = st.headSeg;
    let off = st.headOff;
    if (off + 2 > sb.segBlocks) {
      if (st.nextSeg === NO_SEG) {
        st.stop = "the log has no next segment";
        return;
      }
      seg = st.nextSeg;
      off = 0;
    }
    const start = segBase(sb, seg) + off;
    const head = io.read(start);
    const s = decodeSummary(head, 0, sb, sb.segBlocks - off - 1);
    if (typeof s === "string") {
      st.stop = `segment ${seg} block ${off}: ${s}`;
      return;
    }
    if (s.gen !== cp.gen || s.seq !== st.nextSeq) {
      st.stop = `segment ${seg} block ${off}: unit ${s.seq} of generation ${s.gen} is not the next one (${st.nextSeq} of ${cp.gen})`;
      return;
    }
    if (s.nextSeg === seg) {
      st.stop = `segment ${seg} block ${off}: unit ${s.seq} continues in its own segment`;
      return;
    }
    const unit = new Uint8Array((1 + s.nBlocks) * BLOCK_SIZE);
    unit.set(head);
    if (s.nBlocks > 0) io.readInto(start + 1, s.nBlocks, unit, BLOCK_SIZE);
    if (unitCrc(unit, 0, s.nBlocks) !== s.crc) {
      st.stop = `segment ${seg} block ${off}: unit ${s.seq} fails its checksum (torn)`;
      return;
    }
    for (let i = 0; i < s.nBlocks; i++) {
      if (s.entries[i * 3] === Kind.Imap) pending.push({ chunk: s.entries[i * 3 + 2]!, addr: start + 1 + i, buf: unit, off: (1 + i) * BLOCK_SIZE });
    }
    if (s.flags & UNIT_COMMIT) {
      for (const p of pending) {
        if (p.chunk >= sb.imapChunks) throw fail("EUCLEAN", `${io.device.name}: unit ${s.seq} carries imap chunk ${p.chunk}, beyond the inode map`);
        const err = decodeImapChunk(p.buf, p.off, st.imap, p.chunk, sb);
        if (err) throw fail("EUCLEAN", `${io.device.name}: roll-forward of unit ${s.seq}: ${err}`);
        st.chunks[p.chunk] = p.addr;
      }
      pending.length = 0;
      st.commitsApplied++;
    }
    st.unitsWalked++;
    st.touched.add(seg);
    st.usage.state[seg] = SegState.Used;
    st.usage.lastWrite[seg] = s.timeNs;
    st.headSeg = seg;
    st.headOff = s.flags & UNIT_LAST ? sb.segBlocks : off + 1 + s.nBlocks;
    st.nextSeg = s.nextSeg;
    st.nextSeq++;
  }
  throw fail("EUCLEAN", `${io.device.name}: roll-forward does not end`);
}

/** One unit found in a segment. */
export interface WalkedUnit {
  /** Block offset of its summary in the segment. */
  off: number;
  sum: Summary;
}

/**
 * The units of a segment, from its start: each must pass its checksum and follow the previous one
 * (next sequence number, same or later generation). Stops at the first that does not: the rest of
 * the segment is unwritten, stale or torn. `buf` holds the whole segment.
 */
export function walkSegment(sb: SuperData, buf: Uint8Array): WalkedUnit[] {
  const out: WalkedUnit[] = [];
  let off = 0;
  let prev: Summary | null = null;
  while (off + 2 <= sb.segBlocks) {
    const s = decodeSummary(buf, off * BLOCK_SIZE, sb, sb.segBlocks - off - 1);
    if (typeof s === "string") break;
    if (prev && (s.seq !== prev.seq + 1 || s.gen < prev.gen)) break;
    if (unitCrc(buf, off * BLOCK_SIZE, s.nBlocks) !== s.crc) break;
    out.push({ off, sum: s });
    prev = s;
    if (s.flags & UNIT_LAST) break;
    off += 1 + s.nBlocks;
  }
  return out;
}

/**
 * fsck's walk of a segment: like walkSegment, but up to `limit` (the log head in the head
 * segment, the end elsewhere) every block must belong to a unit, so a unit that fails its
 * checksum or a missing unit is reported, and the walk goes on past a damaged unit whose summary
 * still reads (its entries are kept, marked unverified).
 */
export function checkSegment(sb: SuperData, buf: Uint8Array, limit: number, seg: number): { units: WalkedUnit[]; problems: string[]; damaged: [number, number, string][] } {
  const units: WalkedUnit[] = [];
  const problems: string[] = [];
  /** Units failing their checksum: [summary offset, payload blocks, what]. */
  const damaged: [number, number, string][] = [];
  let off = 0;
  let prev: Summary | null = null;
  while (off + 2 <= limit || (off < limit && limit < sb.segBlocks)) {
    const s = decodeSummary(buf, off * BLOCK_SIZE, sb, sb.segBlocks - off - 1);
    if (typeof s === "string") {
      problems.push(`segment ${seg} block ${off}: no unit where the log has one (${s})`);
      break;
    }
    if (prev && (s.seq !== prev.seq + 1 || s.gen < prev.gen)) {
      problems.push(`segment ${seg} block ${off}: unit ${s.seq} of generation ${s.gen} does not follow unit ${prev.seq}`);
      break;
    }
    if (unitCrc(buf, off * BLOCK_SIZE, s.nBlocks) !== s.crc) damaged.push([off, s.nBlocks, `segment ${seg} block ${off}: unit ${s.seq} fails its checksum (damaged)`]);
    units.push({ off, sum: s });
    prev = s;
    if (s.flags & UNIT_LAST) break;
    off += 1 + s.nBlocks;
  }
  if (off > limit && limit < sb.segBlocks) problems.push(`segment ${seg}: a unit runs past the log head (block ${limit})`);
  return { units, problems, damaged };
}

/** Reads the blocks of inode `ino`'s record through a small cache of inode blocks; returns the record or why it is bad. */
export function readRecord(io: SyncBlockIo, sb: SuperData, imap: Imap, ino: number, cache?: Map<number, Uint8Array>): RecordData | string {
  const addr = imap.addr[ino]!;
  const off = imap.off[ino]!;
  const n = imap.nblk[ino]!;
  if (addr === 0) return `inode ${ino} is not in the inode map`;
  let buf: Uint8Array;
  if (n === 1 && cache) {
    let b = cache.get(addr);
    if (!b) {
      b = io.read(addr);
      cache.set(addr, b);
    }
    buf = b;
  } else {
    buf = io.read(addr, n);
  }
  return decodeRecord(buf, off, n * BLOCK_SIZE - off, ino, sb);
}

/** Blocks a record occupies (its imap entry). */
export function recordBlocks(imap: Imap, ino: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < imap.nblk[ino]!; i++) out.push(imap.addr[ino]! + i);
  return out;
}

/**
 * Counts the live blocks of each segment in a durable state from scratch: every inode block
 * holding a mapped record, every data block of those records, every imap chunk and usage-table
 * block. Records that cannot be read are reported through `bad` and count nothing.
 */
export function recount(io: SyncBlockIo, sb: SuperData, imap: Imap, chunks: readonly number[], sut: readonly number[], bad?: (ino: number, why: string) => void, records?: Map<number, RecordData>): Int32Array {
  const live = new Int32Array(sb.nrSegments);
  const meta = new Set<number>();
  const cache = new Map<number, Uint8Array>();
  for (let ino = 1; ino < sb.maxInodes; ino++) {
    if (imap.addr[ino] === 0) continue;
    for (const b of recordBlocks(imap, ino)) meta.add(b);
    const r = readRecord(io, sb, imap, ino, cache);
    if (typeof r === "string") {
      bad?.(ino, r);
      continue;
    }
    records?.set(ino, r);
    for (const [, a, n] of r.extents) live[segOf(sb, a)]! += n;
  }
  for (const b of chunks) meta.add(b);
  for (const b of sut) meta.add(b);
  for (const b of meta) live[segOf(sb, b)]!++;
  return live;
}
