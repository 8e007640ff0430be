/**
 * @folio/fs-simple: an ext2-like block filesystem (see FORMAT.md and
 * docs/PERSISTENCE-fs-simple.md). Importing it registers the "simple" filesystem type.
 */
export { DEFAULT_MAX_ORDER, SimpleFs } from "./simple-fs.js";
export { mkfs, type MkfsOptions } from "./mkfs.js";
export { fsck } from "./fsck.js";
export * as format from "./format.js";
