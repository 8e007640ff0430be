import { FolioFlag, Gfp, PAGE_SIZE, TracePoint, isFolioError } from "@folio/core";
import type { CachedFile } from "./file.js";
import type { PageCache } from "./page-cache.js";

/** The folios one readahead call added to the cache, locked, for the filesystem to read. */
export interface ReadaheadControl {
  /** The open file whose readahead state the batch advanced. */
  readonly file: CachedFile;
  /** First page index of the batch. */
  readonly index: number;
  /** Pages in the batch. */
  readonly nrPages: number;
  /** The folios, in index order; each is locked and in the cache. */
  readonly folios: readonly number[];
}

/**
 * How a filesystem reads data into the page cache. It hands these callbacks to the read helper
 * and to readahead each time it calls them; they are never stored in a mapping or inode.
 */
export interface ReadCallbacks {
  /**
   * Starts reading a locked, not-uptodate folio that is in the cache. When the data is in (now
   * or on I/O completion) the filesystem calls {@link finishRead}, which sets uptodate (or error)
   * and unlocks. Must not throw for I/O errors: report them through finishRead.
   */
  readFolio(file: CachedFile, folio: number): void;
  /** Optional batched form for readahead; when absent, readFolio is called for each folio. */
  readahead?(rac: ReadaheadControl): void;
}

/**
 * Completes a read started by {@link ReadCallbacks.readFolio} (folio_end_read): on success the
 * folio becomes uptodate, on failure it gets the error flag; either way it is unlocked, which
 * wakes readers waiting on it.
 */
export function finishRead(cache: PageCache, folio: number, ok: boolean): void {
  if (ok) {
    cache.folios.set(folio, FolioFlag.Uptodate);
    cache.folios.clear(folio, FolioFlag.Error);
  } else {
    cache.folios.set(folio, FolioFlag.Error);
  }
  cache.unlock(folio);
}

/** First window: ×4 a small request, ×2 a medium one, else the maximum (get_init_ra_size). */
export function initialWindow(request: number, max: number): number {
  const size = 2 ** Math.ceil(Math.log2(Math.max(1, request)));
  if (size <= max / 32) return Math.min(size * 4, max);
  if (size <= max / 4) return Math.min(size * 2, max);
  return max;
}

/** Next window: ×4 while small, ×2 up to the maximum (get_next_ra_size). */
export function nextWindow(current: number, max: number): number {
  if (current < max / 16) return current * 4;
  if (current <= max / 2) return current * 2;
  return max;
}

/**
 * Synchronous readahead on a cache miss at `index` for a read of `request` pages
 * (page_cache_sync_ra). Sequential access (from the start, or right after the previous read, or
 * following cached history) opens or grows a window; a small random read is read as is, with no
 * readahead and no change to the window.
 */
export function syncReadahead(cache: PageCache, file: CachedFile, index: number, request: number, cb: ReadCallbacks): void {
  const ra = file.ra;
  if (ra.raPages === 0 || ra.random) {
    readPages(cache, file, index, request, request, 0, cb);
    return;
  }
  const max = ra.raPages;
  const prevIndex = ra.prevPos < 0 ? -1 : Math.floor(ra.prevPos / PAGE_SIZE);
  if (index === 0 || request > max || (prevIndex >= 0 && index - prevIndex <= 1 && index >= prevIndex)) {
    ra.start = index;
    ra.size = initialWindow(request, max);
    ra.asyncSize = ra.size > request ? ra.size - request : ra.size >> 1;
  } else {
    // Look for the trail a sequential reader would have left in the cache.
    const miss = prevMiss(cache, file, index - 1, max);
    let contig = index - miss - 1;
    if (contig <= request) {
      readPages(cache, file, index, request, request, 0, cb);
      return;
    }
    if (miss < 0) contig *= 2;
    ra.start = index;
    ra.size = Math.min(contig + request, max);
    ra.asyncSize = 1;
  }
  readWindow(cache, file, cb);
}

/**
 * Asynchronous readahead: a reader reached the folio marked with the readahead flag, so the next
 * window is read before it is needed (page_cache_async_ra).
 */
export function asyncReadahead(cache: PageCache, file: CachedFile, folio: number, request: number, cb: ReadCallbacks): void {
  const ra = file.ra;
  const f = cache.folios;
  f.clear(folio, FolioFlag.Readahead);
  if (ra.raPages === 0 || ra.random || f.test(folio, FolioFlag.Writeback)) return;
  const max = ra.raPages;
  const index = f.index(folio);
  const expected = ra.start + ra.size - ra.asyncSize;
  if (index <= expected && expected < index + f.nrPages(folio)) {
    ra.start += ra.size;
    ra.size = nextWindow(ra.size, max);
    ra.asyncSize = ra.size;
  } else {
    // A marked folio without matching state (interleaved readers): size the window from the cache.
    const start = nextMiss(cache, file, index + 1, max);
    if (start < 0 || start - index > max) return;
    ra.start = start;
    ra.size = nextWindow(start - index + request, max);
    ra.asyncSize = ra.size;
  }
  readWindow(cache, file, cb);
}

function readWindow(cache: PageCache, file: CachedFile, cb: ReadCallbacks): void {
  const ra = file.ra;
  readPages(cache, file, ra.start, ra.size, ra.size - ra.asyncSize, file.mapping.maxOrder, cb);
}

/**
 * Allocates folios for the missing pages of [index, index + nr) up to EOF, as large as the
 * mapping, the alignment and the window allow; marks the folio holding `index + markOffset` for
 * async readahead (unless markOffset ≥ nr); adds them locked; asks the filesystem to read them.
 * Allocation failure ends the batch early without error: readahead is only a hint.
 */
export function readPages(cache: PageCache, file: CachedFile, index: number, nr: number, markOffset: number, maxOrder: number, cb: ReadCallbacks): void {
  const mapping = file.mapping;
  const eofIndex = Math.ceil(mapping.host.size / PAGE_SIZE);
  const end = Math.min(index + nr, eofIndex);
  const mark = index + markOffset;
  const folios: number[] = [];
  const f = cache.folios;
  for (let i = index; i < end; ) {
    if (mapping.index.load(i) > 0) {
      i++;
      continue;
    }
    let order = Math.min(maxOrder, Math.floor(Math.log2(end - i)));
    while (order > 0 && (i % (1 << order) !== 0 || hasFolio(cache, file, i, 1 << order))) order--;
    let folio: number;
    try {
      folio = f.alloc(order, Gfp.Movable | Gfp.NoRetry, 0, i, FolioFlag.Locked);
    } catch (e) {
      if (isFolioError(e, "ENOMEM")) break;
      throw e;
    }
    cache.addFolio(mapping, folio, i);
    f.put(folio); // the cache's reference keeps it
    const n = 1 << order;
    if (mark >= i && mark < i + n && markOffset < nr) f.set(folio, FolioFlag.Readahead);
    folios.push(folio);
    i += n;
  }
  if (folios.length === 0) return;
  const trace = cache.machine.trace;
  if (trace.enabled & TracePoint.Readahead) trace.emit({ point: "readahead", owner: mapping.ownerId, index, pages: end - index, markAt: markOffset < nr ? mark : -1 });
  if (cb.readahead) {
    cb.readahead({ file, index, nrPages: end - index, folios });
  } else {
    for (const folio of folios) cb.readFolio(file, folio);
  }
}

function hasFolio(cache: PageCache, file: CachedFile, first: number, nr: number): boolean {
  for (let i = first; i < first + nr; i++) if (cache.lookup(file.mapping, i) !== 0) return true;
  return false;
}

/** First uncached index scanning back from `index` over at most `max` pages; -1 if cached to the start. */
function prevMiss(cache: PageCache, file: CachedFile, index: number, max: number): number {
  for (let i = index; i > index - max; i--) {
    if (i < 0) return -1;
    if (cache.lookup(file.mapping, i) === 0) return i;
  }
  return index - max;
}

/** First uncached index scanning forward from `index` over at most `max` pages, or -1. */
function nextMiss(cache: PageCache, file: CachedFile, index: number, max: number): number {
  for (let i = index; i < index + max; i++) if (cache.lookup(file.mapping, i) === 0) return i;
  return -1;
}
