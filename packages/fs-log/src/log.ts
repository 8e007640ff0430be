/**
 * The log writer: builds units (a summary block plus payload blocks) at the log head, submits
 * each as one device write, moves the head through segments, and writes checkpoints. Used by the
 * mounted filesystem, mkfs and fsck's repairs.
 *
 * Addresses are decided when a block is appended (delayed allocation happens here: the filesystem
 * appends a dirty folio's pages when writeback writes it). A unit never crosses a segment; when
 * the head segment is full the log continues in `nextSeg`, which was chosen (and recorded in every
 * summary) in advance so roll-forward can follow it.
 */
import { fail, type FolioError, type Scheduler } from "@folio/core";
import type { BlockDevice } from "@folio/pagecache";
import type { SyncBlockIo } from "@folio/pagecache";
import {
  BLOCK_SIZE, CP_BLOCKS, Kind, MAX_UNIT_ENTRIES, NO_SEG, SUT_PER_BLOCK, SegState, UNIT_COMMIT, UNIT_LAST,
  encodeCheckpoint, encodeImapChunk, encodeSummary, encodeSutBlock, segBase, setSummaryCrc, unitCrc,
  type Checkpoint, type Imap, type SegUsage, type SuperData,
} from "./format.js";

/** Where the log continues. */
export interface LogPosition {
  headSeg: number;
  headOff: number;
  nextSeg: number;
  /** Sequence number of the next unit. */
  seq: number;
  /** Generation written into every unit (the mount's). */
  gen: number;
}

interface OpenUnit {
  /** Block of the summary. */
  readonly start: number;
  readonly seg: number;
  /** Payload blocks it may still take. */
  readonly room: number;
  n: number;
  entries: number[];
  buf: Uint8Array;
  callbacks: ((err: FolioError | null) => void)[];
}

export class LogWriter implements LogPosition {
  headSeg: number;
  headOff: number;
  nextSeg: number;
  seq: number;
  gen: number;
  /** Unit writes submitted and not completed. */
  inflight = 0;
  /** Units submitted since creation. */
  unitsWritten = 0;
  /** Blocks submitted since creation (summaries included). */
  blocksWritten = 0;
  /** A unit write failed: the log cannot be trusted past it. */
  failed: FolioError | null = null;
  private unit: OpenUnit | null = null;

  constructor(
    private readonly sb: SuperData,
    private readonly device: BlockDevice,
    private readonly scheduler: Scheduler,
    /** Segment states and last-write times (the writer marks segments used as it enters them). */
    readonly usage: SegUsage,
    pos: LogPosition,
    private readonly now: () => number,
    private readonly onError: (e: FolioError) => void = () => {},
  ) {
    this.headSeg = pos.headSeg;
    this.headOff = pos.headOff;
    this.nextSeg = pos.nextSeg;
    this.seq = pos.seq;
    this.gen = pos.gen;
  }

  /** Most payload blocks one unit takes. */
  get maxEntries(): number {
    return Math.min(MAX_UNIT_ENTRIES, this.sb.segBlocks - 1);
  }

  /** Free segments, not counting the one reserved as `nextSeg`. */
  freeSegments(): number {
    let n = 0;
    const st = this.usage.state;
    for (let s = 0; s < st.length; s++) if (st[s] === SegState.Free && s !== this.nextSeg) n++;
    return n;
  }

  /** Payload blocks that can still be appended before the log runs out of segments. */
  capacityBlocks(): number {
    const per = this.sb.segBlocks - 1;
    const head = Math.max(0, this.sb.segBlocks - this.headOff - 1) - (this.unit?.n ?? 0);
    return head + (this.freeSegments() + (this.nextSeg === NO_SEG ? 0 : 1)) * per;
  }

  /** True while a unit is being built. */
  get open(): boolean {
    return this.unit !== null;
  }

  /** Address the next appended block will get. */
  nextAddr(): number {
    const u = this.begin();
    if (u.n >= u.room) {
      this.seal(false);
      return this.nextAddr();
    }
    return u.start + 1 + u.n;
  }

  /** Makes sure the next `k` appends land in one unit (so in one segment, contiguously). */
  ensureRoom(k: number): void {
    if (k > this.maxEntries) throw fail("EFBIG", `a group of ${k} blocks is larger than a log unit (${this.maxEntries} blocks)`);
    let u = this.begin();
    if (u.room - u.n >= k) return;
    if (u.n > 0) {
      this.seal(false);
      u = this.begin();
      if (u.room - u.n >= k) return;
    }
    // The rest of this segment is too small: end it with an empty unit and move on.
    this.seal(false, true);
    u = this.begin();
    if (u.room - u.n < k) throw fail("EFBIG", `a group of ${k} blocks does not fit a segment`);
  }

  /** Appends one block (`src[srcOff, srcOff + 4096)`) described as (kind, ino, index); returns its address. */
  append(kind: Kind, ino: number, index: number, src: Uint8Array, srcOff: number): number {
    let u = this.begin();
    if (u.n >= u.room) {
      this.seal(false);
      u = this.begin();
    }
    const need = (u.n + 2) * BLOCK_SIZE;
    if (u.buf.length < need) {
      const grown = new Uint8Array(Math.min((u.room + 1) * BLOCK_SIZE, Math.max(need, u.buf.length * 2)));
      grown.set(u.buf.subarray(0, (u.n + 1) * BLOCK_SIZE));
      u.buf = grown;
    }
    u.buf.set(src.subarray(srcOff, srcOff + BLOCK_SIZE), (u.n + 1) * BLOCK_SIZE);
    u.entries.push(kind, ino, index);
    u.n++;
    return u.start + u.n;
  }

  /** Calls `cb` when the unit being built (which must hold a block) has been written, with its error. */
  whenWritten(cb: (err: FolioError | null) => void): void {
    if (!this.unit || this.unit.n === 0) throw fail("EINVAL", "no log unit is being built");
    this.unit.callbacks.push(cb);
  }

  /**
   * Submits the unit being built. `commit` marks it as the end of a commit (roll-forward applies
   * what it and the uncommitted units before it carry); `last` ends the segment after it. An empty
   * unit is written only when `last` asks for one.
   */
  seal(commit: boolean, last = false): void {
    const u = this.unit;
    if (!u) {
      if (!last) return;
      this.begin();
      this.seal(commit, last);
      return;
    }
    if (u.n === 0 && !last) {
      this.unit = null;
      return;
    }
    this.unit = null;
    const flags = (commit ? UNIT_COMMIT : 0) | (last ? UNIT_LAST : 0);
    const buf = u.buf;
    const time = this.now();
    encodeSummary(buf, 0, this.sb.uuid, { flags, gen: this.gen, seq: this.seq, nextSeg: this.nextSeg, timeNs: time, entries: Uint32Array.from(u.entries) }, u.n);
    setSummaryCrc(buf, 0, unitCrc(buf, 0, u.n));
    this.usage.lastWrite[u.seg] = time;
    this.headOff += 1 + u.n;
    if (last) this.headOff = this.sb.segBlocks;
    this.seq++;
    this.inflight++;
    this.unitsWritten++;
    this.blocksWritten += 1 + u.n;
    const callbacks = u.callbacks;
    this.device.submit({
      op: "write", block: u.start, count: 1 + u.n, buffer: buf, offset: 0,
      done: (err) => {
        this.inflight--;
        if (err) {
          this.failed ??= err;
          this.onError(err);
        }
        for (const cb of callbacks) cb(err);
      },
    });
  }

  /** Waits until every submitted unit has completed. */
  drain(): void {
    if (this.inflight > 0) this.scheduler.waitUntil(() => this.inflight === 0, `log writes on ${this.device.name}`);
  }

  private begin(): OpenUnit {
    if (this.unit) return this.unit;
    if (this.headOff + 2 > this.sb.segBlocks) this.jump();
    const room = Math.min(this.maxEntries, this.sb.segBlocks - this.headOff - 1);
    this.unit = { start: segBase(this.sb, this.headSeg) + this.headOff, seg: this.headSeg, room, n: 0, entries: [], buf: new Uint8Array(BLOCK_SIZE * (1 + Math.min(room, 8))), callbacks: [] };
    return this.unit;
  }

  private jump(): void {
    if (this.nextSeg === NO_SEG) throw fail("ENOSPC", `fs-log on ${this.device.name}: the log has no free segment left`);
    this.headSeg = this.nextSeg;
    this.headOff = 0;
    this.usage.state[this.headSeg] = SegState.Used;
    this.nextSeg = this.pickFree();
  }

  /** A free segment after the head (round robin), or NO_SEG. */
  private pickFree(): number {
    const n = this.usage.state.length;
    for (let i = 1; i <= n; i++) {
      const s = (this.headSeg + i) % n;
      if (this.usage.state[s] === SegState.Free && s !== this.headSeg) return s;
    }
    return NO_SEG;
  }

  /** Re-chooses `nextSeg` when there was none (after segments were freed). */
  refreshNext(): void {
    if (this.nextSeg === NO_SEG && !this.unit) this.nextSeg = this.pickFree();
  }
}

/** What a checkpoint needs from its writer. */
export interface CheckpointParams {
  sb: SuperData;
  io: SyncBlockIo;
  writer: LogWriter;
  /** Durable live counts (written to the table) and every-reference live counts (decide what is freed). */
  usage: SegUsage;
  liveAll: Int32Array;
  chunkAddr: readonly number[];
  sutAddr: readonly number[];
  /** Moves usage-table block i to `addr`, updating live counts of the old and new block. */
  setSutAddr(i: number, addr: number): void;
  nextIno: number;
  /** Sequence number of this checkpoint; it goes to region CP_BLOCKS[seq % 2]. */
  seq: number;
  timeNs: number;
}

/**
 * Writes a checkpoint: a fresh segment usage table into the log, then the checkpoint block into
 * its region, then a device flush. Segments that hold nothing live (and are neither the head
 * nor the next segment) are recorded free and become free in memory only once the checkpoint is
 * durable, so no segment is reused while a durable checkpoint (or the roll-forward after it)
 * still refers to it. Returns the segments freed. Throws EIO when a write fails.
 */
export function writeCheckpoint(p: CheckpointParams): number[] {
  const { sb, writer, usage } = p;
  writer.seal(false);
  writer.drain();
  const k = sb.sutBlocks;
  writer.ensureRoom(k);
  const base = writer.nextAddr();
  for (let i = 0; i < k; i++) p.setSutAddr(i, base + i);
  const freeing: number[] = [];
  for (let s = 0; s < sb.nrSegments; s++) {
    if (usage.state[s] === SegState.Used && p.liveAll[s] === 0 && s !== writer.headSeg && s !== writer.nextSeg) freeing.push(s);
  }
  const state = usage.state.slice();
  for (const s of freeing) state[s] = SegState.Free;
  const buf = new Uint8Array(k * BLOCK_SIZE);
  for (let i = 0; i < k; i++) encodeSutBlock(buf, i * BLOCK_SIZE, i, usage.live, state, usage.lastWrite, sb.nrSegments);
  for (let i = 0; i < k; i++) writer.append(Kind.Sut, 0, i, buf, i * BLOCK_SIZE);
  writer.seal(false);
  writer.drain();
  if (writer.failed) throw fail("EIO", `checkpoint of fs-log: a log write failed: ${writer.failed.message}`);
  const cp: Checkpoint = {
    seq: p.seq, gen: writer.gen, nextUnitSeq: writer.seq, timeNs: p.timeNs,
    headSeg: writer.headSeg, headOff: writer.headOff, nextSeg: writer.nextSeg, nextIno: p.nextIno,
    chunks: [...p.chunkAddr], sut: [...p.sutAddr],
  };
  const cpBuf = new Uint8Array(BLOCK_SIZE);
  encodeCheckpoint(cpBuf, 0, sb.uuid, cp);
  p.io.write(CP_BLOCKS[p.seq % 2]!, cpBuf);
  p.io.flush();
  for (const s of freeing) usage.state[s] = SegState.Free;
  writer.refreshNext();
  return freeing;
}

/** Blocks of the usage table for `n` segments. */
export function sutBlocksFor(n: number): number {
  return Math.ceil(n / SUT_PER_BLOCK);
}

/**
 * Appends inode records packed into inode blocks: records of up to one block share blocks (a
 * record never straddles two), a longer one starts a block of its own and continues in the next
 * ones of the same unit. Calls `place` with each record's location once its block has an address.
 */
export function appendRecords(writer: LogWriter, recs: Iterable<{ ino: number; bytes: Uint8Array }>, place: (ino: number, addr: number, off: number, nblk: number) => void): void {
  let block = new Uint8Array(BLOCK_SIZE);
  let used = 0;
  let waiting: { ino: number; off: number }[] = [];
  const emit = () => {
    if (used === 0) return;
    const addr = writer.append(Kind.Inode, 0, 0, block, 0);
    for (const w of waiting) place(w.ino, addr, w.off, 1);
    block = new Uint8Array(BLOCK_SIZE);
    used = 0;
    waiting = [];
  };
  for (const { ino, bytes } of recs) {
    if (bytes.length <= BLOCK_SIZE) {
      if (used + bytes.length > BLOCK_SIZE) emit();
      block.set(bytes, used);
      waiting.push({ ino, off: used });
      used += bytes.length;
      continue;
    }
    emit();
    const n = Math.ceil(bytes.length / BLOCK_SIZE);
    const big = new Uint8Array(n * BLOCK_SIZE);
    big.set(bytes);
    writer.ensureRoom(n);
    const addr = writer.append(Kind.Inode, 0, 0, big, 0);
    for (let k = 1; k < n; k++) writer.append(Kind.InodeCont, ino, k, big, k * BLOCK_SIZE);
    place(ino, addr, 0, n);
  }
  emit();
}

/** Appends imap chunks `chunks` (ascending) as they are in `imap`; calls `placed` with each chunk's new block. */
export function appendChunks(writer: LogWriter, imap: Imap, chunks: Iterable<number>, placed: (chunk: number, addr: number) => void): void {
  const buf = new Uint8Array(BLOCK_SIZE);
  for (const c of [...chunks].sort((a, b) => a - b)) {
    encodeImapChunk(buf, 0, imap, c);
    placed(c, writer.append(Kind.Imap, 0, c, buf, 0));
  }
}
