/**
 * @folio/pagecache: folios cached in mappings, and the filemap helpers a filesystem calls with
 * its own data callbacks. See docs/ARCHITECTURE.md.
 *
 * @module @folio/pagecache
 */
export * from "./xarray.js";
export * from "./errseq.js";
export * from "./mapping.js";
export * from "./lost-pages.js";
export * from "./file.js";
export * from "./page-cache.js";
export * from "./readahead.js";
export * from "./filemap.js";
export * from "./writeback.js";
export * from "./truncate.js";
export * from "./mmap.js";
export * from "./blockdev/index.js";
export * from "./services.js";
export * from "./trace-recorder.js";
