import { FolioFlag, PAGE_SIZE, fail } from "@folio/core";
import type { Mapping } from "./mapping.js";
import type { PageCache } from "./page-cache.js";
import { XA_MAX_INDEX } from "./xarray.js";

/**
 * Removes the byte range [start, end] of a file from the page cache
 * (truncate_inode_pages_range). Folios wholly inside it are dropped, dirty or not, after any
 * writeback of them has ended. A large folio straddling an edge is split into single pages
 * (truncate_inode_partial_folio → split_folio): the pages wholly inside the range go, mapped or
 * not, and the page holding the edge has its bytes inside the range zeroed; mapped pages that stay
 * keep their entries, each piece counting its own. When the split cannot happen now (someone else
 * holds a reference, no memory for descriptors) the folio stays whole with the bytes inside the
 * range zeroed — so pages past EOF may still hold zeros and a filesystem's writeback must stop at
 * i_size. A small folio straddling an edge is zeroed likewise. Shadow entries in the range go too,
 * and so do whole pages of the range recorded as lost to a memory error (their data is gone for good
 * now). No folio lock is held while waiting.
 */
export function truncateInodePages(cache: PageCache, mapping: Mapping, start: number, end = Infinity): void {
  if (!Number.isSafeInteger(start) || start < 0 || end < start) throw fail("EINVAL", `truncate range [${start}, ${end}] is invalid`);
  const f = cache.folios;
  const xa = mapping.index;
  const first = Math.floor(start / PAGE_SIZE);
  const last = end === Infinity ? XA_MAX_INDEX : Math.min(XA_MAX_INDEX, Math.floor(end / PAGE_SIZE));
  if (mapping.lost.count !== 0) {
    const whole = Math.ceil(start / PAGE_SIZE);
    const after = end === Infinity ? Infinity : Math.floor((end + 1) / PAGE_SIZE);
    if (after > whole) mapping.lost.clear(whole, (after === Infinity ? XA_MAX_INDEX + 1 : after) - whole);
  }
  for (let i = xa.findPresent(first, last); i >= 0; ) {
    const entry = xa.load(i);
    let next = i + 1;
    if (entry < 0) {
      cache.eraseShadow(mapping, i);
    } else {
      const folio = entry;
      f.get(folio);
      // Wait without the lock, then lock and look again: writeback may have restarted.
      for (;;) {
        cache.waitWriteback(folio);
        cache.lock(folio);
        if (!f.test(folio, FolioFlag.Writeback)) break;
        cache.unlock(folio);
      }
      if (f.owner(folio) === mapping.ownerId) {
        const fStart = f.index(folio) * PAGE_SIZE;
        const fEnd = fStart + f.size(folio);
        next = f.index(folio) + f.nrPages(folio);
        if (fStart >= start && fEnd - 1 <= end) {
          cache.deleteFolio(mapping, folio);
        } else {
          // Our reference and lock stay on the folio, the first piece.
          const pieces = f.nrPages(folio) > 1 ? cache.splitFolio(mapping, folio, 1) : null;
          for (const p of pieces ?? [folio]) {
            const pStart = f.index(p) * PAGE_SIZE;
            const pEnd = pStart + f.size(p);
            if (pStart >= start && pEnd - 1 <= end) {
              cache.deleteFolio(mapping, p);
            } else if (pEnd > start && pStart <= end) {
              const from = Math.max(start, pStart) - pStart;
              const to = Math.min(end === Infinity ? pEnd : end + 1, pEnd) - pStart;
              const at = f.dataOffset(p);
              f.data(p).fill(0, at + from, at + to);
            }
          }
        }
      }
      cache.unlock(folio);
      f.put(folio);
    }
    i = next <= last ? xa.findPresent(next, last) : -1;
  }
}

/**
 * Sets a file's size and drops what lies past it from the cache (truncate_setsize +
 * truncate_pagecache). Growing only changes the size. Shrinking first unmaps every whole page past
 * the new end from all address spaces, private copies included (unmap_mapping_range with
 * even_cows), so a later access there is SIGBUS; the page holding the new end stays mapped, its
 * tail zeroed. The unmap is repeated after the cache is trimmed, for pages faulted in meanwhile.
 */
export function truncateSetSize(cache: PageCache, mapping: Mapping, size: number): void {
  if (!Number.isSafeInteger(size) || size < 0) throw fail("EINVAL", `file size ${size} must be a non-negative integer`);
  const old = mapping.host.size;
  mapping.host.size = size;
  if (size >= old) return;
  const mm = cache.machine.mm;
  const holeBegin = Math.ceil(size / PAGE_SIZE);
  if (mm.isMapped(mapping.ownerId)) mm.unmapMappingRange(mapping.ownerId, holeBegin, Infinity, true);
  truncateInodePages(cache, mapping, size);
  if (mm.isMapped(mapping.ownerId)) mm.unmapMappingRange(mapping.ownerId, holeBegin, Infinity, true);
}

/**
 * Drops the bytes [start, start + length) of a file from the cache for a hole punch; edges are
 * zeroed. Whole pages in the hole are unmapped from shared mappings and from private mappings that
 * still show the file's page (truncate_pagecache_range); private copies stay.
 */
export function punchHole(cache: PageCache, mapping: Mapping, start: number, length: number): void {
  if (length <= 0) return;
  const mm = cache.machine.mm;
  const first = Math.ceil(start / PAGE_SIZE);
  const last = Math.floor((start + length) / PAGE_SIZE) - 1;
  if (first <= last && mm.isMapped(mapping.ownerId)) mm.unmapMappingRange(mapping.ownerId, first, last, false);
  truncateInodePages(cache, mapping, start, start + length - 1);
}

/**
 * Drops the clean, idle folios of page range [start, end] from the cache
 * (invalidate_mapping_pages), as after a device-level change or `posix_fadvise(DONTNEED)`.
 * Dirty, locked, written-back and otherwise referenced folios are left alone. Returns the pages
 * dropped.
 */
export function invalidateMappingPages(cache: PageCache, mapping: Mapping, start = 0, end = XA_MAX_INDEX): number {
  const f = cache.folios;
  const xa = mapping.index;
  let dropped = 0;
  for (let i = xa.findPresent(start, end); i >= 0; ) {
    const entry = xa.load(i);
    let next = i + 1;
    if (entry > 0) {
      next = f.index(entry) + f.nrPages(entry);
      const busy = FolioFlag.Dirty | FolioFlag.Writeback | FolioFlag.Locked;
      if (!f.test(entry, busy) && f.refcount(entry) === 1) {
        dropped += f.nrPages(entry);
        cache.deleteFolio(mapping, entry);
      }
    }
    i = next <= end ? xa.findPresent(next, end) : -1;
  }
  return dropped;
}
