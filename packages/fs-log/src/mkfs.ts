/**
 * mkfs: writes an empty fs-log (a root directory and nothing else) to a device.
 */
import { fail } from "@folio/core";
import type { DeviceContext } from "@folio/fs-api";
import { SyncBlockIo } from "@folio/pagecache";
import {
  BLOCK_SIZE, CP_MAX_ADDRS, IMAP_PER_CHUNK, Imap, Kind, MAGIC_SB, ROOT_INO, SB_BLOCK, SEG_START, SUT_PER_BLOCK, S_IFDIR, SegState,
  crc32, encodeImapChunk, encodeRecord, encodeSuper, newSegUsage, segOf, view, type SuperData,
} from "./format.js";
import { LogWriter, writeCheckpoint } from "./log.js";

/** Options of mkfs. */
export interface MkfsOptions {
  /** Blocks per segment (8…4096); by default 128, or less on small devices so there are at least 32 segments. */
  segmentBlocks?: number;
  /** Number of inodes; one per 4 blocks by default (at least 64). */
  inodes?: number;
}

/** Segments at least, for the cleaner to have room. */
export const MIN_SEGMENTS = 16;

/**
 * Writes an empty filesystem on the whole device. Throws EINVAL for a device whose block size is
 * not 4096, one too small for 16 segments of 8 blocks, or bad options.
 */
export function mkfs(ctx: DeviceContext, options: Record<string, unknown> = {}): void {
  const io = new SyncBlockIo(ctx.device, ctx.scheduler, BLOCK_SIZE, "fs-log");
  const nrBlocks = Math.min(ctx.device.nrBlocks, 0xffffffff);
  const opt = (name: string, lo: number, hi: number): number | undefined => {
    const v = options[name];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < lo || v > hi) throw fail("EINVAL", `mkfs option ${name}=${String(v)} must be a whole number in [${lo}, ${hi}]`);
    return v;
  };
  let segBlocks = opt("segmentBlocks", 8, 4096);
  if (segBlocks === undefined) {
    segBlocks = 128;
    while (segBlocks > 8 && Math.floor((nrBlocks - SEG_START) / segBlocks) < 32) segBlocks /= 2;
  }
  const nrSegments = Math.max(0, Math.floor((nrBlocks - SEG_START) / segBlocks));
  if (nrSegments < MIN_SEGMENTS) {
    const need = SEG_START + MIN_SEGMENTS * segBlocks;
    throw fail("EINVAL", `device ${ctx.device.name} of ${nrBlocks} blocks is too small for fs-log: it needs ${need} blocks (${SEG_START} of metadata and at least ${MIN_SEGMENTS} segments of ${segBlocks} blocks), this device holds ${nrSegments} segments`);
  }
  const maxInodes = opt("inodes", 2, 1 << 24) ?? Math.max(64, Math.min(1 << 20, Math.floor(nrBlocks / 4)));
  const imapChunks = Math.ceil(maxInodes / IMAP_PER_CHUNK);
  const sutBlocks = Math.ceil(nrSegments / SUT_PER_BLOCK);
  if (imapChunks + sutBlocks > CP_MAX_ADDRS) {
    throw fail("EINVAL", `${maxInodes} inodes and ${nrSegments} segments need ${imapChunks + sutBlocks} metadata blocks; a checkpoint addresses ${CP_MAX_ADDRS} (use fewer inodes or larger segments)`);
  }
  // Segments users cannot fill: the cleaner's working room. Small segments need more, since each
  // holds little dead space to win back per copy (see docs/FS-LOG.md, "The cleaner").
  const reserveSegs = Math.min(Math.floor((nrSegments - 1) / 2), Math.max(4, Math.ceil(nrSegments / 20), Math.ceil(Math.sqrt((6 * nrSegments) / (segBlocks - 1))) + 2));
  const now = ctx.machine.wallClockNs();

  // A uuid different from any fs-log previously on the device, so stale units never look like ours.
  const old = io.read(SB_BLOCK);
  const oldUuid = view(old).getUint32(0, true) === MAGIC_SB ? view(old).getUint32(48, true) : -1;
  let uuid = (crc32(old) ^ ctx.machine.rng.nextU32() ^ Math.floor(now / 1e6)) >>> 0;
  if (uuid === oldUuid || uuid === 0) uuid = (uuid + 1) >>> 0 || 1;

  const sb: SuperData = { nrBlocks: SEG_START + nrSegments * segBlocks, segBlocks, nrSegments, maxInodes, imapChunks, sutBlocks, reserveSegs, uuid, createdNs: now };
  // Invalidate the old superblock and both checkpoints first: a crash during mkfs leaves nothing that mounts.
  io.write(SB_BLOCK, new Uint8Array(3 * BLOCK_SIZE));
  io.flush();

  const usage = newSegUsage(nrSegments);
  usage.state[0] = SegState.Used;
  const writer = new LogWriter(sb, ctx.device, ctx.scheduler, usage, { headSeg: 0, headOff: 0, nextSeg: 1, seq: 1, gen: 1 }, () => ctx.scheduler.now);
  const live = usage.live;
  const ref = (addr: number, d: number) => (live[segOf(sb, addr)]! += d);

  const imap = new Imap(maxInodes);
  const root = encodeRecord({
    ino: ROOT_INO, mode: S_IFDIR | 0o755, nlink: 2, uid: 0, gid: 0, size: 0,
    atimeNs: now, mtimeNs: now, ctimeNs: now, btimeNs: now, parent: ROOT_INO, target: null, extents: [],
  });
  const block = new Uint8Array(BLOCK_SIZE);
  block.set(root);
  const rootAddr = writer.append(Kind.Inode, 0, 0, block, 0);
  imap.addr[ROOT_INO] = rootAddr;
  imap.nblk[ROOT_INO] = 1;
  ref(rootAddr, 1);
  const chunkAddr: number[] = [];
  const chunk = new Uint8Array(BLOCK_SIZE);
  for (let c = 0; c < imapChunks; c++) {
    encodeImapChunk(chunk, 0, imap, c);
    chunkAddr.push(writer.append(Kind.Imap, 0, c, chunk, 0));
    ref(chunkAddr[c]!, 1);
  }
  writer.seal(true);
  const sutAddr: number[] = [];
  writeCheckpoint({
    sb, io, writer, usage, liveAll: live, chunkAddr, sutAddr,
    setSutAddr: (i, a) => {
      if (sutAddr[i] !== undefined) ref(sutAddr[i]!, -1);
      sutAddr[i] = a;
      ref(a, 1);
    },
    nextIno: ROOT_INO + 1, seq: 1, timeNs: now,
  });
  // The superblock last: until it is written, nothing mounts.
  const sbBuf = new Uint8Array(BLOCK_SIZE);
  encodeSuper(sbBuf, 0, sb);
  io.write(SB_BLOCK, sbBuf);
  io.flush();
}
