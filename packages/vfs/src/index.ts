/**
 * @folio/vfs: the virtual filesystem of a machine — mounts, path walk with a dentry cache, open
 * files, permissions — and Node's fs API over it. See README.md.
 *
 * @module @folio/vfs
 */
export * from "./errors.js";
export * from "./dcache.js";
export * from "./vfs.js";
export { NodeSystemError, type PathLike } from "./node/validate.js";
export * from "./node/stats.js";
export * from "./node/streams.js";
export * from "./node/promises.js";
export * from "./node/fs.js";
