import { FolioFlag, Gfp, PAGE_SIZE, PageFlag, fail, isFolioError, type FolioError } from "@folio/core";
import type { CachedFile } from "./file.js";
import type { PageCache } from "./page-cache.js";
import { asyncReadahead, syncReadahead, type ReadCallbacks } from "./readahead.js";
import type { DirtyThrottle } from "./writeback.js";

/**
 * Reads up to `length` bytes at byte offset `pos` of the file into `dst` at `dstOffset`
 * (filemap_read) and returns the bytes read: fewer at end of file, 0 at or past it.
 *
 * Cached, uptodate folios are copied straight out: a hit walks the index, tests a flag and
 * copies, allocating nothing per page and waiting on nothing. A miss starts readahead (or a
 * single read) through the filesystem's `cb`, then waits for the folio to be unlocked by the I/O
 * completion. Reaching a folio marked for readahead starts the next window asynchronously.
 * Throws EIO if a needed folio could not be read and nothing was copied yet (else returns the
 * short count), EINVAL for a bad position or length.
 *
 * Memory errors: a page whose dirty data a memory error destroyed (the mapping's lost pages) is
 * EIO, never older data from the disk or zeros, until it is overwritten or truncated. A folio
 * flagged has-hwpoisoned (a frame failed while it was locked or under writeback) is first left to
 * memory failure to finish (`MemoryFailure.settle`, which may wait) and looked up again; a bad page
 * still there is EIO, the folio's good pages are served. EIO after bytes were copied ends the read
 * short, as for a failed read.
 */
export function filemapRead(cache: PageCache, file: CachedFile, pos: number, dst: Uint8Array, dstOffset: number, length: number, cb: ReadCallbacks): number {
  checkRange(pos, length, dst, dstOffset);
  const mapping = file.mapping;
  const f = cache.folios;
  let end = Math.min(pos + length, mapping.host.size);
  if (pos >= end) return 0;
  const lastIndex = Math.floor((end - 1) / PAGE_SIZE);
  const lost = mapping.lost;
  let copied = 0;
  /** The last folio memory failure was asked to settle: once per folio, so a bad page left behind ends the loop. */
  let settled = 0;
  /** A frame of a folio to settle once our reference on it is gone (a reference would keep it from being split). */
  let settlePfn = -1;
  while (pos < end) {
    if (settlePfn >= 0) {
      cache.machine.memoryFailure.settle(settlePfn);
      settlePfn = -1;
    }
    const index = Math.floor(pos / PAGE_SIZE);
    // Copies stop before a lost page; reaching one is EIO.
    let stop = end;
    if (lost.count !== 0) {
      const next = lost.nextFrom(index);
      if (next === index) {
        if (copied > 0) break;
        throw lostPageError(mapping.host.label, index);
      }
      if (next >= 0) stop = Math.min(end, next * PAGE_SIZE);
    }
    const hit = cache.lookup(mapping, index);
    if (hit !== 0 && (f.flags(hit) & (FolioFlag.Uptodate | FolioFlag.Readahead | FolioFlag.HasHwPoisoned)) === FolioFlag.Uptodate) {
      // A plain hit: nothing from lookup to copy allocates or waits, so reclaim cannot run and no
      // reference is needed.
      const n = copyOut(cache, hit, pos, stop, dst, dstOffset + copied);
      pos += n;
      copied += n;
      continue;
    }
    // Otherwise our own reference from lookup to copy (as filemap_get_read_batch takes one):
    // starting readahead, or waiting, may allocate, and reclaim must not free the folio under us.
    let folio = hit;
    if (folio !== 0) f.get(folio);
    if (folio === 0) {
      syncReadahead(cache, file, index, lastIndex - index + 1, cb);
      folio = cache.getFolio(mapping, index);
      if (folio === 0) {
        folio = createAndRead(cache, file, index, cb);
        f.get(folio);
      }
    } else if (f.test(folio, FolioFlag.Readahead)) {
      asyncReadahead(cache, file, folio, lastIndex - index + 1, cb);
    }
    try {
      if (!f.test(folio, FolioFlag.Uptodate)) {
        const state = waitUptodate(cache, file, folio, cb);
        if (state === Wait.Truncated) continue; // look the index up again, as Linux retries
        if (state === Wait.Failed) {
          if (copied > 0) break;
          throw fail("EIO", `read of ${mapping.host.label} at page ${index} failed`);
        }
        // A wait ran the engine: the file may have been truncated meanwhile.
        end = Math.min(end, mapping.host.size);
        if (pos >= end) break;
        stop = Math.min(stop, end);
        if (lost.count !== 0 && lost.has(index)) continue; // lost meanwhile: the check above reports it
      }
      if (f.test(folio, FolioFlag.HasHwPoisoned)) {
        if (settled !== folio) {
          settled = folio;
          settlePfn = f.pfn(folio) + (index - f.index(folio));
          continue; // settle, then look again: the bad page is gone, or lost
        }
        // Memory failure could not isolate it: fail the bad page, serve the others one page at a time.
        if (cache.machine.memmap.flags[f.pfn(folio) + (index - f.index(folio))]! & PageFlag.HwPoison) {
          if (copied > 0) break;
          throw fail("EIO", `page ${index} of ${mapping.host.label} is in a frame with a memory error`);
        }
        stop = Math.min(stop, (index + 1) * PAGE_SIZE);
      }
      const n = copyOut(cache, folio, pos, stop, dst, dstOffset + copied);
      pos += n;
      copied += n;
    } finally {
      f.put(folio);
    }
  }
  file.ra.prevPos = pos;
  return copied;
}

/** EIO for a read of page `index` of a file, which a memory error destroyed. */
export function lostPageError(label: string, index: number): FolioError {
  return fail("EIO", `page ${index} of ${label} was lost to a memory error before it reached the disk (it reads as EIO until overwritten or truncated)`);
}

/** Copies the bytes of an uptodate folio from file position `pos` up to `end` (or the folio's end) to `dst[at..]`; marks the use; returns the bytes copied. */
function copyOut(cache: PageCache, folio: number, pos: number, end: number, dst: Uint8Array, at: number): number {
  const f = cache.folios;
  const folioStart = f.index(folio) * PAGE_SIZE;
  const n = Math.min(folioStart + f.size(folio), end) - pos;
  const src = f.dataOffset(folio) + (pos - folioStart);
  dst.set(f.data(folio).subarray(src, src + n), at);
  cache.markAccessed(folio);
  return n;
}

/** How {@link waitUptodate} ended. */
export const enum Wait {
  /** The folio is uptodate. */
  Uptodate,
  /** Reading it failed, also when retried. */
  Failed,
  /** It left the file meanwhile (truncated): look the index up again. */
  Truncated,
}

/**
 * Waits (unlocked, with its own reference) for a folio of `file` to become uptodate, reading it
 * again through `cb` if nobody is reading it (an earlier read failed). Used by the read and
 * page-fault paths on a cached folio that is not uptodate yet.
 */
export function waitUptodate(cache: PageCache, file: CachedFile, folio: number, cb: ReadCallbacks): Wait {
  const f = cache.folios;
  f.get(folio);
  try {
    cache.waitUnlocked(folio);
    if (f.test(folio, FolioFlag.Uptodate)) return Wait.Uptodate;
    if (f.owner(folio) !== file.mapping.ownerId) return Wait.Truncated;
    // Nobody is reading it (an earlier read failed): try once more ourselves.
    cache.lock(folio);
    if (f.owner(folio) !== file.mapping.ownerId) {
      cache.unlock(folio);
      return Wait.Truncated;
    }
    if (f.test(folio, FolioFlag.Uptodate)) {
      cache.unlock(folio);
      return Wait.Uptodate;
    }
    cb.readFolio(file, folio);
    cache.waitUnlocked(folio);
    return f.test(folio, FolioFlag.Uptodate) ? Wait.Uptodate : Wait.Failed;
  } finally {
    f.put(folio);
  }
}

/**
 * Adds one small locked folio at `index` (which must hold none) and starts reading it through `cb`
 * (filemap_create_folio); returns it, referenced only by the cache. Throws ENOMEM.
 */
export function createAndRead(cache: PageCache, file: CachedFile, index: number, cb: ReadCallbacks): number {
  const folio = cache.folios.alloc(0, Gfp.Movable, 0, index, FolioFlag.Locked);
  cache.addFolio(file.mapping, folio, index);
  cache.folios.put(folio);
  cb.readFolio(file, folio);
  return folio;
}

/**
 * How a filesystem prepares and commits buffered writes. It hands these to {@link performWrite}
 * on each call; they are never stored in a mapping or inode.
 */
export interface WriteCallbacks {
  /**
   * Prepares to write `len` bytes at `pos`, all within one folio: returns that folio locked and
   * with a reference. The filesystem allocates or reserves blocks, and makes the folio uptodate
   * if the write will not cover it and it is not (reading it, or zeroing new blocks). Throws
   * ENOSPC, EIO… having changed nothing.
   */
  writeBegin(file: CachedFile, pos: number, len: number): number;
  /**
   * Commits `copied` of `len` bytes copied into the folio at `pos`: marks it dirty, grows the
   * file size, unlocks and puts the folio. Returns the bytes accepted (less than `copied` for a
   * short write; 0 stops the write).
   */
  writeEnd(file: CachedFile, pos: number, len: number, copied: number, folio: number): number;
}

/**
 * Buffered write of `length` bytes from `src` at `srcOffset` to byte `pos` of the file
 * (generic_perform_write): for each folio-sized chunk, writeBegin, copy, writeEnd; then lets the
 * dirty throttle pause the writer if dirty memory is over its limit. Returns the bytes written
 * (short if writeEnd accepted less); errors from the first chunk are thrown, later ones end the
 * write short. Pages the write replaces whole (the last page of the file up to its end) leave the
 * mapping's lost pages: their new data is all there is.
 */
export function performWrite(cache: PageCache, file: CachedFile, pos: number, src: Uint8Array, srcOffset: number, length: number, cb: WriteCallbacks, throttle?: DirtyThrottle): number {
  checkRange(pos, length, src, srcOffset);
  const f = cache.folios;
  const chunk = PAGE_SIZE << file.mapping.maxOrder;
  let written = 0;
  while (written < length) {
    const bytes = Math.min(chunk - (pos % chunk), length - written);
    let folio: number;
    try {
      folio = cb.writeBegin(file, pos, bytes);
    } catch (e) {
      if (written > 0) break;
      throw e;
    }
    cache.markAccessed(folio); // a write is a use too (FGP_ACCESSED)
    const folioStart = f.index(folio) * PAGE_SIZE;
    const n = Math.min(bytes, folioStart + f.size(folio) - pos);
    const at = f.dataOffset(folio) + (pos - folioStart);
    f.data(folio).set(src.subarray(srcOffset + written, srcOffset + written + n), at);
    const accepted = cb.writeEnd(file, pos, n, n, folio);
    if (accepted > 0 && file.mapping.lost.count !== 0) clearOverwritten(file, pos, accepted);
    pos += accepted;
    written += accepted;
    if (accepted === 0) break;
    throttle?.balanceDirtyPages();
  }
  return written;
}

/** Removes from the lost pages those that bytes [pos, pos + n), just written, replaced whole. */
function clearOverwritten(file: CachedFile, pos: number, n: number): void {
  const mapping = file.mapping;
  const end = pos + n;
  const first = Math.ceil(pos / PAGE_SIZE);
  let last = Math.floor(end / PAGE_SIZE);
  // The file's last page is whole once the write reaches the end of the file.
  if (end >= mapping.host.size) last = Math.max(last, Math.ceil(mapping.host.size / PAGE_SIZE));
  if (last > first) mapping.lost.clear(first, last - first);
}

/**
 * writeBegin helper for filesystems (__filemap_get_folio with FGP_WRITEBEGIN): returns the
 * folio covering `pos`, locked and referenced, creating it if needed, as large as the mapping
 * allows for a write of `len` bytes at that alignment — and as memory allows: a large order is
 * asked for without retries and steps down when no free block is that large. Waits for writeback of an existing folio
 * to end, so data under I/O is never changed (stable pages). A folio flagged has-hwpoisoned is left
 * to memory failure to finish first (`MemoryFailure.settle`); EIO if the page to write is still in
 * a failed frame afterwards.
 */
export function grabFolioForWrite(cache: PageCache, file: CachedFile, pos: number, len: number): number {
  const mapping = file.mapping;
  const f = cache.folios;
  const index = Math.floor(pos / PAGE_SIZE);
  let settled = 0;
  for (;;) {
    const folio = cache.getFolio(mapping, index);
    if (folio !== 0 && f.test(folio, FolioFlag.HasHwPoisoned)) {
      const pfn = f.pfn(folio) + (index - f.index(folio));
      f.put(folio);
      if (settled !== folio) {
        settled = folio;
        cache.machine.memoryFailure.settle(pfn);
        continue;
      }
      if (cache.machine.memmap.flags[pfn]! & PageFlag.HwPoison) throw fail("EIO", `page ${index} of ${mapping.host.label} is in a frame with a memory error`);
      f.get(folio); // a good page of a folio that keeps a bad one: write it
    }
    if (folio !== 0) {
      cache.lock(folio);
      if (f.owner(folio) !== mapping.ownerId) {
        cache.unlock(folio);
        f.put(folio);
        continue; // truncated while we waited
      }
      cache.waitWriteback(folio);
      return folio;
    }
    let order = Math.min(mapping.maxOrder, Math.floor(Math.log2(Math.max(1, Math.ceil(((pos % PAGE_SIZE) + len) / PAGE_SIZE)))));
    let first = index;
    for (; order > 0; order--) {
      first = index - (index % (1 << order));
      let clear = true;
      for (let i = first; i < first + (1 << order); i++) if (cache.lookup(mapping, i) !== 0) clear = false;
      if (clear) break;
    }
    if (order === 0) first = index;
    // A large folio is a wish, not a need (__filemap_get_folio): it is asked for without retries,
    // and when memory has no block that large the order steps down; only a single page must succeed.
    let folio2 = 0;
    while (folio2 === 0) {
      try {
        folio2 = f.alloc(order, order > 0 ? Gfp.Movable | Gfp.NoRetry : Gfp.Movable, 0, first, FolioFlag.Locked);
      } catch (e) {
        if (order === 0 || !isFolioError(e, "ENOMEM")) throw e;
        order--;
        first = index - (index % (1 << order));
      }
    }
    cache.addFolio(mapping, folio2, first);
    return folio2;
  }
}

/**
 * writeEnd helper for filesystems (generic_write_end): a short copy into a folio that is not
 * uptodate is refused (0) because the rest of it holds no valid data; otherwise the folio becomes
 * uptodate if fully written, is marked dirty, the file grows to cover the write, and the folio
 * is unlocked and put. Returns the bytes accepted.
 */
export function genericWriteEnd(cache: PageCache, file: CachedFile, pos: number, len: number, copied: number, folio: number): number {
  const f = cache.folios;
  const mapping = file.mapping;
  if (!f.test(folio, FolioFlag.Uptodate)) {
    const folioStart = f.index(folio) * PAGE_SIZE;
    if (copied < len) copied = 0;
    else if (pos === folioStart && copied === f.size(folio)) f.set(folio, FolioFlag.Uptodate);
  }
  if (copied > 0) {
    cache.markDirty(mapping, folio);
    if (pos + copied > mapping.host.size) mapping.host.size = pos + copied;
  }
  cache.unlock(folio);
  f.put(folio);
  return copied;
}

/** Zeroes bytes [from, to) of a folio (folio_zero_segment), `from`/`to` relative to the folio. */
export function zeroFolioRange(cache: PageCache, folio: number, from: number, to: number): void {
  const f = cache.folios;
  const at = f.dataOffset(folio);
  f.data(folio).fill(0, at + from, at + to);
}

function checkRange(pos: number, length: number, buf: Uint8Array, offset: number): void {
  if (!Number.isSafeInteger(pos) || pos < 0) throw fail("EINVAL", `file position ${pos} must be a non-negative integer`);
  if (!Number.isSafeInteger(length) || length < 0) throw fail("EINVAL", `length ${length} must be a non-negative integer`);
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > buf.length) {
    throw fail("EINVAL", `buffer range [${offset}, ${offset + length}) does not fit a buffer of ${buf.length} bytes`);
  }
  if (pos + length > 2 ** 44) throw fail("EFBIG", `range ending at ${pos + length} is beyond the largest file (16TiB)`);
}
