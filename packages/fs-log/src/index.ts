/**
 * @folio/fs-log: a log-structured sample filesystem with delayed allocation, roll-forward
 * recovery and a cost-benefit segment cleaner. See docs/FS-LOG.md.
 */
export { DEFAULT_MAX_ORDER, LogFs, type LogFsStats } from "./log-fs.js";
export { mkfs, type MkfsOptions } from "./mkfs.js";
export { fsck } from "./fsck.js";
export * as format from "./format.js";
