import type { Mapping } from "./mapping.js";

/**
 * Readahead state of one open file (Linux's struct file_ra_state): the current window
 * [start, start + size), of which the last `asyncSize` pages are read ahead of need; reaching the
 * folio marked at `start + size - asyncSize` starts the next window.
 */
export class FileRaState {
  /** First page index of the current window. */
  start = 0;
  /** Pages in the current window (0 before the first readahead). */
  size = 0;
  /**
   * Pages at the end of the window read ahead of need; the folio at `start + size - asyncSize`
   * carries the readahead mark.
   */
  asyncSize = 0;
  /** Byte position just past the previous read, for sequential detection (-1 before any). */
  prevPos = -1;
  /** Window ceiling in pages; 0 disables readahead. */
  raPages: number;
  /** The file was opened for random access (POSIX_FADV_RANDOM): never read ahead. */
  random = false;
  /**
   * Page faults on mappings of this file that found their page uncached, less pages later found
   * cached (mmap_miss): above 100, faults stop reading around, as the mapping is used randomly.
   */
  mmapMiss = 0;

  /** Called by {@link openCachedFile}; `raPages` is the mapping's window ceiling at open. */
  constructor(raPages: number) {
    this.raPages = raPages;
  }
}

/**
 * The page cache's view of an open file: what Linux keeps in struct file for the filemap
 * helpers. The VFS's open file embeds one.
 */
export interface CachedFile {
  /** The mapping of the file's inode, shared by every open file of it. */
  readonly mapping: Mapping;
  /** This open file's readahead state. */
  readonly ra: FileRaState;
  /** Writeback-error cursor sampled at open (f_wb_err). */
  readonly wbErr: {
    /** The {@link @folio/pagecache!ErrSeq | ErrSeq} value this file has seen: fsync reports errors newer than it, once, and advances it. */
    value: number;
  };
}

/** Opens the page-cache side of a file: fresh readahead state and an error cursor sampled now. */
export function openCachedFile(mapping: Mapping): CachedFile {
  return { mapping, ra: new FileRaState(mapping.raPages), wbErr: { value: mapping.wbErr.sample() } };
}
