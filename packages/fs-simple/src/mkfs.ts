/**
 * mkfs: writes an empty fs-simple filesystem (a root directory and nothing else) to a device.
 */
import { fail } from "@folio/core";
import type { DeviceContext } from "@folio/fs-api";
import { SyncBlockIo } from "@folio/pagecache";
import {
  BACKUP_SUPER_BLOCK, BITS_PER_BLOCK, BLOCK_SIZE, MIN_BLOCKS, ROOT_INO, STATE_CLEAN, SUPER_BLOCK, S_IFDIR, VERSION,
  computeGeometry, emptyInode, encodeInode, encodeSuper, inodeLocation, initDirBlock, setBit, type SuperBlockData,
} from "./format.js";

/** Options of mkfs. */
export interface MkfsOptions {
  /** Number of inodes (rounded up to a multiple of 16); one per 4 blocks by default. */
  inodes?: number;
}

/**
 * Writes an empty filesystem on the whole device (up to 2³² − 1 blocks): superblock and its
 * backup, zeroed bitmaps and inode table, and a root directory. Throws EINVAL for a device
 * whose block size is not 4096 or bad options, ENOSPC for a device smaller than 64 blocks.
 */
export function mkfs(ctx: DeviceContext, options: Record<string, unknown> = {}): void {
  const io = new SyncBlockIo(ctx.device, ctx.scheduler, BLOCK_SIZE, "fs-simple");
  const blockCount = Math.min(ctx.device.nrBlocks, 0xffffffff);
  if (blockCount < MIN_BLOCKS) {
    throw fail("ENOSPC", `device ${ctx.device.name} has ${blockCount} blocks; fs-simple needs at least ${MIN_BLOCKS}`);
  }
  const inodes = options["inodes"];
  if (inodes !== undefined && (typeof inodes !== "number" || !Number.isSafeInteger(inodes) || inodes < 2)) {
    throw fail("EINVAL", `mkfs option inodes=${String(inodes)} must be a whole number ≥ 2`);
  }
  const g = computeGeometry(blockCount, inodes as number | undefined);
  if (g.firstDataBlock + 1 >= blockCount) {
    throw fail("ENOSPC", `device ${ctx.device.name} of ${blockCount} blocks cannot hold ${g.inodeCount} inodes and a root directory`);
  }
  const now = ctx.machine.wallClockNs();
  const rootBlock = g.firstDataBlock;
  // Invalidate any previous superblocks first, so a crash during mkfs leaves no half-made image that mounts.
  io.zero(SUPER_BLOCK, 2);
  io.flush();

  // Block bitmap: metadata and the root directory's block in use; bits past the end set.
  const bb = new Uint8Array(g.blockBitmapBlocks * BLOCK_SIZE);
  for (let i = 0; i <= rootBlock; i++) setBit(bb, 0, i);
  for (let i = blockCount; i < g.blockBitmapBlocks * BITS_PER_BLOCK; i++) setBit(bb, 0, i);
  // Inode bitmap: inode 0 (reserved) and the root.
  const ib = new Uint8Array(g.inodeBitmapBlocks * BLOCK_SIZE);
  setBit(ib, 0, 0);
  setBit(ib, 0, ROOT_INO);
  for (let i = g.inodeCount; i < g.inodeBitmapBlocks * BITS_PER_BLOCK; i++) setBit(ib, 0, i);

  io.write(g.blockBitmapStart, bb);
  io.write(g.inodeBitmapStart, ib);
  io.zero(g.inodeTableStart, g.inodeTableBlocks);

  const root = emptyInode();
  root.mode = S_IFDIR | 0o755;
  root.nlink = 2;
  root.size = BLOCK_SIZE;
  root.blocks = 1;
  root.atimeNs = root.mtimeNs = root.ctimeNs = root.btimeNs = now;
  root.ptrs[0] = rootBlock;
  const loc = inodeLocation(g, ROOT_INO);
  const table = new Uint8Array(BLOCK_SIZE);
  encodeInode(table, loc.offset, root);
  io.write(loc.block, table);

  const dir = new Uint8Array(BLOCK_SIZE);
  initDirBlock(dir, 0, ROOT_INO, ROOT_INO);
  io.write(rootBlock, dir);

  const sb: SuperBlockData = {
    ...g,
    version: VERSION,
    freeBlocks: blockCount - rootBlock - 1,
    freeInodes: g.inodeCount - 2,
    state: STATE_CLEAN,
    mountCount: 0,
    mkfsTimeNs: now,
    mountTimeNs: 0,
    writeTimeNs: now,
  };
  const sbBlock = new Uint8Array(BLOCK_SIZE);
  encodeSuper(sbBlock, 0, sb);
  // Everything else first, then the superblocks: a crash during mkfs leaves no valid-looking image.
  io.flush();
  io.write(BACKUP_SUPER_BLOCK, sbBlock);
  io.write(SUPER_BLOCK, sbBlock);
  io.flush();
}
