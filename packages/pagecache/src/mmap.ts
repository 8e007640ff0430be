/**
 * The page cache's side of user mappings (mm/filemap.c's fault path): how a fault on a mapped
 * file finds, reads and prepares its page. A filesystem's `mmap` entry point calls
 * {@link filemapMmap} with its own callbacks (generic_file_mmap); the returned
 * {@link MappableFile} is what core's address space holds in the VMA. These are the fault
 * handlers the filesystem installs at mmap — the one place where its callbacks travel with an
 * object, because a fault arrives long after the call that created the mapping.
 */
import {
  FolioFlag, MADV_RANDOM, MADV_SEQUENTIAL, PAGE_SIZE, PageFlag, PageOpResult, VmEvent, fail, type MapPageSink, type MappableFile,
} from "@folio/core";
import type { CachedFile } from "./file.js";
import { Wait, createAndRead, waitUptodate } from "./filemap.js";
import type { PageCache } from "./page-cache.js";
import { asyncReadahead, readPages, syncReadahead, type ReadCallbacks } from "./readahead.js";
import { fileWriteAndWaitRange, type DirtyThrottle, type Writepages } from "./writeback.js";
import { XaMark } from "./xarray.js";

/** Faults that missed the cache more often than this (net of hits) stop reading around (MMAP_LOTSAMISS). */
const MMAP_LOTSAMISS = 100;
/** A fault retries this often when its folio is truncated under it before giving up. */
const MAX_FAULT_RETRIES = 16;

/** A filesystem's callbacks for its mappings, handed to {@link filemapMmap} in its `mmap` entry point. */
export interface MmapCallbacks {
  /** How the filesystem reads pages into the cache (its readFolio and readahead). */
  read: ReadCallbacks;
  /** Its writepages: msync writes the mapped range back with it. */
  writepages: Writepages;
  /**
   * Optional (page_mkwrite's filesystem part): a page-cache folio of the file, locked and not under
   * writeback, is about to be dirtied through a shared mapping. Reserve or allocate what writing it
   * back needs (blocks for its pages below i_size) and update the file's times. It runs under the
   * folio's lock, so it must not wait for this folio (write it back, lock it). Throw (ENOSPC, EIO…)
   * to refuse: the store gets SIGBUS and nothing was dirtied.
   */
  pageMkwrite?(folio: number): void;
  /**
   * Optional: makes bytes [start, end] of the file durable for msync(MS_SYNC), as the filesystem's
   * fsync does (data, then whatever metadata reading it back needs, then a device flush), throwing
   * EIO once per writeback error. Default: write back and wait for the range with `writepages`.
   */
  fsync?(start: number, end: number): void;
  /** Optional: the last VMA mapping the file is gone; release what `mmap` holds (an open file). */
  release?(): void;
  /** Optional: the dirty throttle (the flusher) that pauses a process dirtying pages through a mapping, as it pauses writers. */
  throttle?: DirtyThrottle;
}

/**
 * Creates the {@link MappableFile} for a mapping of `file` (generic_file_mmap): faults go to
 * {@link filemapFault}, fault-around to {@link filemapMapPages}, write faults on shared mappings to
 * {@link filemapPageMkwrite} with `cb.pageMkwrite` and then to `cb.throttle`, msync to `cb.fsync`
 * or `cb.writepages`. `file.flags` (when present, as on an FsFile) says whether the file is open for writing; without
 * flags the file counts as writable. Called by a filesystem's `mmap` entry point.
 */
export function filemapMmap(cache: PageCache, file: CachedFile & { readonly flags?: number }, cb: MmapCallbacks): MappableFile {
  const mapping = file.mapping;
  // O_WRONLY (1) or O_RDWR (2) in the access mode bits.
  const writable = file.flags === undefined || (file.flags & 3) !== 0;
  // balance_dirty_pages_ratelimited: a process just throttled is not throttled again by its next
  // write fault. The throttle waits for writeback, which write-protects the page the fault just
  // made writable (a large folio alone can be over the limit): without the pause, the store would
  // fault, be throttled and lose its write permission again, for ever.
  let pausedLast = false;
  const balanceDirty = (throttle: DirtyThrottle) => {
    if (pausedLast) {
      pausedLast = false;
      return;
    }
    const before = cache.scheduler.now;
    throttle.balanceDirtyPages();
    pausedLast = cache.scheduler.now !== before; // only a pause lets virtual time pass
  };
  return {
    ownerId: mapping.ownerId,
    label: mapping.host.label,
    writable,
    vmOps: {
      fault: (vma, pgoff) => filemapFault(cache, file, pgoff, vma.advice, cb.read),
      mapPages: (_vma, first, last, map) => filemapMapPages(cache, file, first, last, map),
      pageMkwrite: (_vma, folio) => filemapPageMkwrite(cache, file, folio, cb.pageMkwrite),
      ...(cb.throttle ? { balanceDirty: () => balanceDirty(cb.throttle!) } : {}),
    },
    sync: (start, end, wait) => {
      if (wait) {
        if (cb.fsync) cb.fsync(start, end);
        else fileWriteAndWaitRange(cache, file, cb.writepages, start, end);
      } else if (mapping.index.anyMarked(XaMark.Dirty)) {
        cb.writepages(mapping, { sync: false, start: Math.floor(start / PAGE_SIZE), end: Math.floor(end / PAGE_SIZE), nrToWrite: Infinity, reason: "msync" });
      }
    },
    willneed: (first, count) => readPages(cache, file, first, count, count, mapping.maxOrder, cb.read),
    release: () => cb.release?.(),
  };
}

/**
 * The fault handler of a mapped file (filemap_fault): returns the folio holding page `pgoff`,
 * uptodate and unlocked, with a reference for the caller. A cached folio is used as it is (and,
 * if marked for readahead, starts the next window); a missing one is read with mmap read-around
 * (do_sync_mmap_readahead: a window of the file's readahead size centred on the fault, unless
 * `advice` is MADV_RANDOM or faults mostly miss; MADV_SEQUENTIAL reads ahead as sequential reads
 * do) and waited for, which counts as a major fault. Throws EFAULT for a page at or beyond the end
 * of the file (SIGBUS to the access), EIO when the page cannot be read, EHWPOISON for a page a
 * memory error destroyed (the mapping's lost pages, or a bad page memory failure could not take
 * out of its folio; a folio flagged has-hwpoisoned is first left to memory failure to finish).
 */
export function filemapFault(cache: PageCache, file: CachedFile, pgoff: number, advice: number, cb: ReadCallbacks): number {
  const mapping = file.mapping;
  const f = cache.folios;
  let settled = 0;
  let settlePfn = -1;
  for (let attempt = 0; attempt < MAX_FAULT_RETRIES; attempt++) {
    if (settlePfn >= 0) {
      cache.machine.memoryFailure.settle(settlePfn);
      settlePfn = -1;
    }
    checkInFile(file, pgoff);
    // Data a memory error destroyed is not read back from the disk (see LostPages): SIGBUS.
    if (mapping.lost.count !== 0 && mapping.lost.has(pgoff)) {
      throw fail("EHWPOISON", `page ${pgoff} of ${mapping.host.label} was lost to a memory error before it reached the disk`);
    }
    // Our own reference from lookup on: readahead and waits may allocate, and reclaim must not
    // free the folio under us. On success it becomes the caller's.
    let folio = cache.getFolio(mapping, pgoff);
    let major = false;
    if (folio !== 0) {
      asyncMmapReadahead(cache, file, folio, advice, cb);
    } else {
      syncMmapReadahead(cache, file, pgoff, advice, cb);
      folio = cache.getFolio(mapping, pgoff);
      if (folio === 0) {
        folio = createAndRead(cache, file, pgoff, cb);
        f.get(folio);
      }
      major = true;
    }
    let keep = false;
    try {
      if (!f.test(folio, FolioFlag.Uptodate)) {
        major = true;
        const state = waitUptodate(cache, file, folio, cb);
        if (state === Wait.Truncated) continue;
        if (state === Wait.Failed) throw fail("EIO", `page ${pgoff} of ${mapping.host.label} could not be read`);
      }
      // Waiting ran the engine: the page may have been truncated meanwhile.
      if (f.owner(folio) !== mapping.ownerId) continue;
      checkInFile(file, pgoff);
      if (f.test(folio, FolioFlag.HasHwPoisoned)) {
        // A frame failed while the folio was busy: let memory failure finish, then look again.
        const pfn = f.pfn(folio) + (pgoff - f.index(folio));
        if (settled !== folio) {
          settled = folio;
          settlePfn = pfn;
          continue;
        }
        if (cache.machine.memmap.flags[pfn]! & PageFlag.HwPoison) throw fail("EHWPOISON", `page ${pgoff} of ${mapping.host.label} is in a frame with a memory error`);
      }
      if (major) cache.machine.vmstat.events[VmEvent.PgMajFault]++;
      // A use the access tracer would otherwise never see: loads and stores after this go
      // through the PTE without calling anything.
      cache.traceAccess(folio);
      keep = true;
      return folio;
    } finally {
      if (!keep) f.put(folio);
    }
  }
  throw fail("EDEADLK", `page ${pgoff} of ${mapping.host.label} kept being truncated under its fault`);
}

/**
 * Fault-around (filemap_map_pages): offers `map` every page in [first, last] that is cached in an
 * uptodate folio nobody holds locked, without reading, waiting or locking. Stops at the end of the
 * file; skips folios marked for readahead, so that a real fault reaches them and starts the next
 * window, folios with a failed frame and lost pages (the fault reports those). Each page offered
 * counts against the file's mmap miss count, as a hit.
 */
export function filemapMapPages(cache: PageCache, file: CachedFile, first: number, last: number, map: MapPageSink): void {
  const mapping = file.mapping;
  const f = cache.folios;
  const xa = mapping.index;
  last = Math.min(last, Math.ceil(mapping.host.size / PAGE_SIZE) - 1);
  let offered = 0;
  for (let i = first <= last ? xa.findPresent(first, last) : -1; i >= 0; ) {
    const folio = xa.load(i);
    let next = i + 1;
    if (folio > 0) {
      next = f.index(folio) + f.nrPages(folio);
      // A folio with a failed frame is left to the fault, which lets memory failure finish with it.
      if ((f.flags(folio) & (FolioFlag.Uptodate | FolioFlag.Locked | FolioFlag.Readahead | FolioFlag.HasHwPoisoned)) === FolioFlag.Uptodate) {
        const stop = Math.min(last, next - 1);
        for (let p = i; p <= stop; p++) if (mapping.lost.count === 0 || !mapping.lost.has(p)) map(folio, p);
        offered += stop - i + 1;
      }
    }
    i = next <= last ? xa.findPresent(next, last) : -1;
  }
  file.ra.mmapMiss = Math.max(0, file.ra.mmapMiss - offered);
}

/**
 * page_mkwrite for page-cache folios (filemap_page_mkwrite): locks the folio, checks it still
 * belongs to the file and lies below its end (Busy otherwise: the caller retries the fault, which
 * then finds the truth), waits for writeback of it to end (stable pages: data under I/O never
 * changes), and lets the filesystem prepare it (`prepare`: reserve blocks, update times). Returns
 * Done with the folio unlocked; the caller dirties it at once, with nothing run in between.
 * Throws what `prepare` throws.
 */
export function filemapPageMkwrite(cache: PageCache, file: CachedFile, folio: number, prepare?: (folio: number) => void): PageOpResult {
  const f = cache.folios;
  const mapping = file.mapping;
  f.get(folio);
  try {
    cache.lock(folio);
    try {
      if (f.owner(folio) !== mapping.ownerId || f.index(folio) * PAGE_SIZE >= mapping.host.size) return PageOpResult.Busy;
      cache.waitWriteback(folio);
      prepare?.(folio);
      return PageOpResult.Done;
    } finally {
      cache.unlock(folio);
    }
  } finally {
    f.put(folio);
  }
}

/** Throws EFAULT (SIGBUS to the access) when page `pgoff` is not below the end of the file. */
function checkInFile(file: CachedFile, pgoff: number): void {
  const size = file.mapping.host.size;
  if (pgoff * PAGE_SIZE >= size) throw fail("EFAULT", `page ${pgoff} is beyond the end of ${file.mapping.host.label} (${size} bytes)`);
}

/**
 * do_sync_mmap_readahead: on a fault that missed the cache, read the pages around it. MADV_RANDOM
 * (or a file opened for random access, or readahead off) reads only the page; MADV_SEQUENTIAL runs
 * the sequential readahead of reads; otherwise, unless this file's faults have missed more than
 * {@link MMAP_LOTSAMISS} times net of hits, read a window of the readahead size centred on the
 * fault, a quarter of it marked for asynchronous readahead.
 */
function syncMmapReadahead(cache: PageCache, file: CachedFile, pgoff: number, advice: number, cb: ReadCallbacks): void {
  const ra = file.ra;
  if (advice === MADV_RANDOM || ra.random || ra.raPages === 0) return;
  if (advice === MADV_SEQUENTIAL) {
    syncReadahead(cache, file, pgoff, ra.raPages, cb);
    return;
  }
  if (ra.mmapMiss < MMAP_LOTSAMISS * 10) ra.mmapMiss++;
  if (ra.mmapMiss > MMAP_LOTSAMISS) return;
  ra.start = Math.max(0, pgoff - Math.floor(ra.raPages / 2));
  ra.size = ra.raPages;
  ra.asyncSize = Math.floor(ra.raPages / 4);
  readPages(cache, file, ra.start, ra.size, ra.size - ra.asyncSize, file.mapping.maxOrder, cb);
}

/** do_async_mmap_readahead: a fault found its page cached; if it is marked for readahead, read the next window. */
function asyncMmapReadahead(cache: PageCache, file: CachedFile, folio: number, advice: number, cb: ReadCallbacks): void {
  const ra = file.ra;
  if (advice === MADV_RANDOM || ra.raPages === 0) return;
  if (ra.mmapMiss > 0) ra.mmapMiss--;
  if (cache.folios.test(folio, FolioFlag.Readahead)) asyncReadahead(cache, file, folio, ra.raPages, cb);
}
