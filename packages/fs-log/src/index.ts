/**
 * @folio/fs-log: a log-structured sample filesystem with delayed allocation, roll-forward
 * recovery and a cost-benefit segment cleaner. See docs/FS-LOG.md.
 *
 * @module @folio/fs-log
 */
export { DEFAULT_MAX_ORDER, LogFs, type LogFsStats } from "./log-fs.js";
export { mkfs, type MkfsOptions } from "./mkfs.js";
export { fsck } from "./fsck.js";
/**
 * The on-disk format (docs/FS-LOG.md): constants, CRC32, and the validating encoders and decoders
 * of the superblock, checkpoints, unit summaries, imap chunks, usage table, inode records and
 * directories.
 */
export * as format from "./format.js";
