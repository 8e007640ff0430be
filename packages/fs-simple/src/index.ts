/**
 * @folio/fs-simple: an ext2-like block filesystem (see FORMAT.md and
 * docs/PERSISTENCE-fs-simple.md). Importing it registers the "simple" filesystem type.
 *
 * @module @folio/fs-simple
 */
export { DEFAULT_MAX_ORDER, SimpleFs } from "./simple-fs.js";
export { mkfs, type MkfsOptions } from "./mkfs.js";
export { fsck } from "./fsck.js";
/**
 * The on-disk format (FORMAT.md): constants, geometry, and the validating encoders and decoders of
 * the superblock, inodes and directory blocks, shared by the filesystem, mkfs and fsck.
 */
export * as format from "./format.js";
