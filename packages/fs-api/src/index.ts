/**
 * @folio/fs-api: the contract between filesystems and the VFS. A filesystem implements
 * {@link SuperBlock} and registers with {@link filesystem}; see docs/ARCHITECTURE.md.
 *
 * @module @folio/fs-api
 */
export * from "./types.js";
export * from "./contract.js";
export * from "./registry.js";
