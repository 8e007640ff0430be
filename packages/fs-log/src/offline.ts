/**
 * Offline changes to an unmounted image, written the way a mounted fs-log writes them: directory
 * data, inode records and imap chunks as one commit at the log head, then a checkpoint with a
 * recounted segment usage table. fsck's repairs use it (and tests use it to build images with
 * precise inconsistencies).
 */
import { fail } from "@folio/core";
import type { DeviceContext } from "@folio/fs-api";
import { SyncBlockIo } from "@folio/pagecache";
import {
  BLOCK_SIZE, IMAP_PER_CHUNK, Kind, SegState, encodeDir, encodeRecord, fromExtents, segOf, toExtents,
  type DirEnt, type RecordData,
} from "./format.js";
import { LogWriter, appendChunks, appendRecords, writeCheckpoint } from "./log.js";
import { recount, type LoadedState } from "./recovery.js";

/** What to change. */
export interface ImageEdit {
  /** Records to write as given (a directory's extents and size are replaced when it is in `dirs`). */
  records: Map<number, RecordData>;
  /** Directories whose entries to write as their new data. */
  dirs: Map<number, Map<string, DirEnt>>;
  /** Inodes to drop from the inode map. */
  removed: Set<number>;
  /** Imap chunks to write even if no entry of theirs changed. */
  chunks: Set<number>;
  /** File blocks to copy to new places as they are (inode → file block indices); their records must be in `records`. */
  relocate: Map<number, number[]>;
  /** Tests only: changes the recounted usage table before it is written. */
  tamperUsage?: (live: Int32Array) => void;
}

export function emptyEdit(): ImageEdit {
  return { records: new Map(), dirs: new Map(), removed: new Set(), chunks: new Set(), relocate: new Map() };
}

/**
 * Writes `edit` onto the image `st` was loaded from: a commit at the log head (after the units
 * roll-forward found), then a checkpoint. Segments holding nothing live afterwards become free.
 */
export function writeImageEdit(ctx: DeviceContext, st: LoadedState, edit: ImageEdit): void {
  const io = new SyncBlockIo(ctx.device, ctx.scheduler, BLOCK_SIZE, "fs-log");
  const { sb, cp } = st;
  const usage = st.usage;
  const writer = new LogWriter(sb, ctx.device, ctx.scheduler, usage,
    { headSeg: st.headSeg, headOff: st.headOff, nextSeg: st.nextSeg, seq: st.nextSeq, gen: cp.seq + 1 }, () => ctx.scheduler.now);
  writer.refreshNext();
  const imap = st.imap;
  const chunks = new Set(edit.chunks);
  for (const ino of edit.removed) {
    imap.addr[ino] = imap.off[ino] = imap.nblk[ino] = 0;
    chunks.add(Math.floor(ino / IMAP_PER_CHUNK));
  }
  for (const [ino, indices] of edit.relocate) {
    const r = edit.records.get(ino);
    if (!r) throw fail("EINVAL", `relocation of blocks of inode ${ino} needs its record`);
    const map = fromExtents(r.extents);
    for (const idx of indices) {
      const a = map.get(idx);
      if (a === undefined) continue;
      map.set(idx, writer.append(Kind.Data, ino, idx, io.read(a), 0));
    }
    r.extents = toExtents(sb, map);
  }
  for (const [d, entries] of edit.dirs) {
    const r = edit.records.get(d);
    if (!r) throw fail("EINVAL", `new entries of directory ${d} need its record`);
    const stream = encodeDir(entries);
    const n = Math.ceil(stream.length / BLOCK_SIZE);
    const padded = new Uint8Array(n * BLOCK_SIZE);
    padded.set(stream);
    const map = new Map<number, number>();
    for (let k = 0; k < n; k++) map.set(k, writer.append(Kind.Data, d, k, padded, k * BLOCK_SIZE));
    r.extents = toExtents(sb, map);
    r.size = stream.length;
  }
  const list = [...edit.records.keys()].filter((ino) => !edit.removed.has(ino)).sort((a, b) => a - b);
  appendRecords(writer, list.map((ino) => ({ ino, bytes: encodeRecord(edit.records.get(ino)!) })), (ino, addr, off, nblk) => {
    imap.addr[ino] = addr;
    imap.off[ino] = off;
    imap.nblk[ino] = nblk;
    chunks.add(Math.floor(ino / IMAP_PER_CHUNK));
  });
  appendChunks(writer, imap, chunks, (c, addr) => (st.chunks[c] = addr));
  writer.seal(true);
  writer.drain();
  if (writer.failed) throw fail("EIO", `writing to ${ctx.device.name} failed: ${writer.failed.message}`);
  const sutAddr = cp.sut.slice();
  usage.live = recount(io, sb, imap, st.chunks, sutAddr);
  for (let s = 0; s < sb.nrSegments; s++) if (usage.live[s]! > 0) usage.state[s] = SegState.Used;
  const liveAll = usage.live.slice();
  edit.tamperUsage?.(usage.live);
  writeCheckpoint({
    sb, io, writer, usage, liveAll, chunkAddr: st.chunks, sutAddr,
    setSutAddr: (i, a) => {
      for (const arr of [usage.live, liveAll]) {
        arr[segOf(sb, sutAddr[i]!)]!--;
        arr[segOf(sb, a)]!++;
      }
      sutAddr[i] = a;
    },
    nextIno: cp.nextIno, seq: cp.seq + 1, timeNs: ctx.machine.wallClockNs(),
  });
}
