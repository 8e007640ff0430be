import { FolioFlag, SECOND, MILLISECOND, Stat, TracePoint, fail, type Timer } from "@folio/core";
import type { CachedFile } from "./file.js";
import type { Mapping } from "./mapping.js";
import type { PageCache } from "./page-cache.js";
import { XaMark } from "./xarray.js";

/** What a writeback pass should do (Linux's struct writeback_control). */
export interface WritebackControl {
  /** Data integrity (fsync, sync): write every folio dirty at the start and wait for none to be skipped. */
  sync: boolean;
  /** First and last page index of the range. */
  start: number;
  /** Last page index of the range, inclusive (0xffffffff: to the end of the file). */
  end: number;
  /** Pages still to write in this pass; decremented as folios are written. */
  nrToWrite: number;
  /** Why: "fsync", "sync", "periodic", "background", "reclaim"… for tracing. */
  reason: string;
  /** For periodic writeback: write only mappings dirtied at or before this virtual time. */
  dirtiedBefore?: number;
}

/** Makes a control block covering the whole file. */
export function wbcAll(sync: boolean, reason: string, nrToWrite = Infinity): WritebackControl {
  return { sync, start: 0, end: 0xffffffff, nrToWrite, reason };
}

/**
 * Writes one locked folio whose dirty flag has been cleared for I/O: the filesystem calls
 * {@link PageCache.startWriteback}, submits the I/O, and unlocks; its completion calls
 * {@link PageCache.endWriteback} with the error, if any. Passed to {@link writeCachePages}.
 */
export type WriteFolio = (folio: number, wbc: WritebackControl) => void;

/**
 * A filesystem's writepages: write the dirty folios of `mapping` that `wbc` selects. Most
 * filesystems call {@link writeCachePages} with their own {@link WriteFolio}.
 */
export type Writepages = (mapping: Mapping, wbc: WritebackControl) => void;

/**
 * Walks the dirty folios of a mapping in index order and hands each to `writeFolio`
 * (write_cache_pages). For data integrity (`wbc.sync`) the dirty marks of the range are first
 * copied to towrite marks and only those are written, so a writer that keeps dirtying pages
 * cannot livelock the pass; folios already under writeback are waited for instead of skipped.
 * Returns the number of pages submitted.
 */
export function writeCachePages(cache: PageCache, mapping: Mapping, wbc: WritebackControl, writeFolio: WriteFolio): number {
  const xa = mapping.index;
  const f = cache.folios;
  const tag = wbc.sync ? XaMark.Towrite : XaMark.Dirty;
  // Marks sit on a folio's first index: start at the head of a large folio straddling wbc.start.
  const head = cache.lookup(mapping, wbc.start);
  const start = head !== 0 ? f.index(head) : wbc.start;
  if (wbc.sync) xa.copyMarks(start, wbc.end, XaMark.Dirty, XaMark.Towrite);
  let written = 0;
  for (let i = xa.findMarked(start, tag, wbc.end); i >= 0 && wbc.nrToWrite > 0; i = xa.findMarked(i, tag, wbc.end)) {
    const folio = cache.getFolio(mapping, i);
    if (folio === 0) {
      xa.clearMark(i, tag);
      continue;
    }
    const nr = f.nrPages(folio);
    cache.lock(folio);
    const next = f.index(folio) + nr;
    if (f.owner(folio) !== mapping.ownerId || !f.test(folio, FolioFlag.Dirty)) {
      // Truncated or cleaned while we waited for the lock.
      if (f.owner(folio) === mapping.ownerId) xa.clearMark(f.index(folio), XaMark.Towrite);
      cache.unlock(folio);
      f.put(folio);
      i = next;
      continue;
    }
    if (f.test(folio, FolioFlag.Writeback)) {
      if (!wbc.sync) {
        cache.unlock(folio);
        f.put(folio);
        i = next;
        continue;
      }
      cache.waitWriteback(folio);
    }
    cache.clearDirtyForIo(folio);
    writeFolio(folio, wbc);
    f.put(folio);
    written += nr;
    wbc.nrToWrite -= nr;
    i = next;
    if (i > wbc.end) break;
  }
  return written;
}

/** Waits for writeback of every folio in [start, end] of the mapping to end (filemap_fdatawait_range). */
export function waitOnWriteback(cache: PageCache, mapping: Mapping, start = 0, end = 0xffffffff): void {
  const xa = mapping.index;
  // As in writeCachePages: the writeback mark of a large folio straddling `start` is on its head.
  const head = cache.lookup(mapping, start);
  if (head !== 0) start = cache.folios.index(head);
  for (let i = xa.findMarked(start, XaMark.Writeback, end); i >= 0; i = xa.findMarked(i + 1, XaMark.Writeback, end)) {
    const folio = cache.getFolio(mapping, i);
    if (folio === 0) continue;
    cache.waitWriteback(folio);
    cache.folios.put(folio);
  }
}

/**
 * Writes and waits for the byte range [start, end] of a file, then reports any writeback error
 * this open file has not yet seen (file_write_and_wait_range): the heart of fsync. Throws the
 * error (EIO) exactly once per error per open file; later calls succeed.
 */
export function fileWriteAndWaitRange(cache: PageCache, file: CachedFile, writepages: Writepages, start = 0, end = Infinity): void {
  const mapping = file.mapping;
  const first = Math.floor(start / 4096);
  const last = end === Infinity ? 0xffffffff : Math.min(0xffffffff, Math.floor(end / 4096));
  if (mapping.index.anyMarked(XaMark.Dirty)) writepages(mapping, { sync: true, start: first, end: last, nrToWrite: Infinity, reason: "fsync" });
  waitOnWriteback(cache, mapping, first, last);
  const err = mapping.wbErr.checkAndAdvance(file.wbErr);
  if (err !== null) throw fail(err, `writeback of ${mapping.host.label} failed: data written since the last fsync may be lost`);
}

/**
 * A filesystem's superblock-level writeback entry, which the flusher calls: write back dirty
 * data of that filesystem as `wbc` asks (writeback_sb_inodes + do_writepages for each inode).
 * The filesystem implements it with {@link writeCachePages} and its own callbacks; the flusher
 * never sees those callbacks. Returns the pages submitted.
 */
export interface WritebackTarget {
  /**
   * Writes back the target's dirty folios as `wbc` asks (range, count, integrity); returns the
   * pages submitted. Called by the flusher, never with a lock held.
   */
  writeback(wbc: WritebackControl): number;
}

/** Writeback tunables, with Linux's defaults. */
export interface WritebackTunables {
  /** dirty_writeback_centisecs: how often the flusher wakes (5 s). */
  intervalNs: number;
  /** dirty_expire_centisecs: dirty data older than this is written by periodic writeback (30 s). */
  expireNs: number;
  /** dirty_background_ratio: background writeback starts above this % of dirtyable memory (10). */
  backgroundRatio: number;
  /** dirty_ratio: writers are throttled above this % of dirtyable memory (20). */
  dirtyRatio: number;
}

/** Linux's default writeback tunables. */
export const DEFAULT_WRITEBACK: WritebackTunables = { intervalNs: 5 * SECOND, expireNs: 30 * SECOND, backgroundRatio: 10, dirtyRatio: 20 };

/** Lets writers be paused when dirty memory is over its limit. */
export interface DirtyThrottle {
  /** balance_dirty_pages_ratelimited: called after each chunk a writer dirties. */
  balanceDirtyPages(): void;
}

/**
 * The writeback flusher of one machine (the bdi writeback worker): a scheduler task that wakes
 * every `intervalNs` to write data dirty for longer than `expireNs`, and whenever dirty memory
 * passes the background threshold; and the dirty throttle that pauses writers over `dirtyRatio`.
 * It reaches filesystems only through their registered {@link WritebackTarget}.
 */
export class Flusher implements DirtyThrottle {
  /** The tunables in force: the defaults with the constructor's overrides. */
  readonly tunables: WritebackTunables;
  private readonly targets = new Set<WritebackTarget>();
  private timer: Timer | undefined;
  private kicked = false;
  private reclaimKicked = false;
  /** Counters since the flusher was built; they only grow. */
  readonly stats = {
    /** Periodic passes (every `intervalNs`, writing mappings dirty longer than `expireNs`). */
    periodic: 0,
    /** Background passes (dirty pages above `backgroundRatio`). */
    background: 0,
    /** Passes reclaim asked for when it found dirty folios on the LRU. */
    vmscan: 0,
    /** Pages submitted by all passes. */
    pagesWritten: 0,
    /** Writers paused by dirty throttling. */
    throttled: 0,
    /** Virtual time writers spent paused, in ns. */
    throttledNs: 0,
  };

  /**
   * Built once per machine by {@link installPageCache}; `tunables` override
   * {@link DEFAULT_WRITEBACK}. Subscribes to reclaim's dirty-pressure wakeups.
   */
  constructor(
    private readonly cache: PageCache,
    tunables: Partial<WritebackTunables> = {},
  ) {
    this.tunables = { ...DEFAULT_WRITEBACK, ...tunables };
    // Reclaim never writes dirty folios itself: it skips them and wakes us.
    cache.machine.reclaim.onDirtyPressure(() => this.wakeForReclaim());
  }

  /** Registers a filesystem's writeback entry; the first registration starts the periodic task. */
  register(target: WritebackTarget): void {
    this.targets.add(target);
    this.timer ??= this.cache.scheduler.every(this.tunables.intervalNs, "writeback flusher", () => this.periodic());
  }

  /** Unregisters a filesystem (at unmount); the last one stops the periodic task. */
  unregister(target: WritebackTarget): void {
    this.targets.delete(target);
    if (this.targets.size === 0 && this.timer) {
      this.cache.scheduler.cancel(this.timer);
      this.timer = undefined;
    }
  }

  /** Dirty-page thresholds in pages: [background, throttle], from dirtyable memory (free + file pages). */
  thresholds(): [number, number] {
    const s = this.cache.machine.vmstat.stat;
    const dirtyable = s[Stat.FreePages]! + s[Stat.PerCpuPages]! + s[Stat.FilePages]!;
    return [Math.floor((dirtyable * this.tunables.backgroundRatio) / 100), Math.floor((dirtyable * this.tunables.dirtyRatio) / 100)];
  }

  /** Dirty plus writeback pages. */
  dirtyPages(): number {
    const s = this.cache.machine.vmstat.stat;
    return s[Stat.Dirty]! + s[Stat.Writeback]!;
  }

  /** Asks for background writeback soon (wakeup_flusher_threads), from reclaim or a throttled writer. */
  wake(): void {
    if (this.kicked || this.targets.size === 0) return;
    this.kicked = true;
    this.cache.scheduler.after(0, "writeback flusher (woken)", () => {
      this.kicked = false;
      this.background();
    });
  }

  /**
   * Reclaim found dirty folios it may not write (wakeup_flusher_threads(WB_REASON_VMSCAN)): soon,
   * write back everything dirty, whatever the background threshold, so the folios become clean
   * and reclaimable. Called from reclaim; only schedules.
   */
  wakeForReclaim(): void {
    if (this.reclaimKicked || this.targets.size === 0) return;
    this.reclaimKicked = true;
    this.cache.scheduler.after(0, "writeback flusher (reclaim)", () => {
      this.reclaimKicked = false;
      this.stats.vmscan++;
      for (const t of this.targets) this.stats.pagesWritten += t.writeback(wbcAll(false, "vmscan", Math.max(1024, this.dirtyPages())));
    });
  }

  /**
   * Pauses a writer while dirty memory is above the throttle threshold (balance_dirty_pages):
   * starts background writeback and lets virtual time pass in steps of up to 200 ms so that
   * writeback completes, for at most 10 s of virtual time per call.
   */
  balanceDirtyPages(): void {
    const [bg, limit] = this.thresholds();
    const dirty = this.dirtyPages();
    if (dirty > bg) this.wake();
    if (dirty <= (bg + limit) / 2 || this.targets.size === 0) return;
    this.stats.throttled++;
    const start = this.cache.scheduler.now;
    while (this.dirtyPages() > (bg + limit) / 2 && this.cache.scheduler.now - start < 10 * SECOND) {
      this.wake();
      this.cache.scheduler.runFor(Math.min(200 * MILLISECOND, Math.max(MILLISECOND, ((this.dirtyPages() - bg) * MILLISECOND) / 8)));
    }
    this.stats.throttledNs += this.cache.scheduler.now - start;
    const trace = this.cache.machine.trace;
    if (trace.enabled & TracePoint.DirtyThrottle) trace.emit({ point: "dirty_throttle", dirty: this.dirtyPages(), limit, pausedNs: this.cache.scheduler.now - start });
  }

  private periodic(): void {
    this.stats.periodic++;
    const before = this.cache.scheduler.now - this.tunables.expireNs;
    for (const t of this.targets) this.stats.pagesWritten += t.writeback({ ...wbcAll(false, "periodic"), dirtiedBefore: before });
    if (this.dirtyPages() > this.thresholds()[0]) this.background();
  }

  private background(): void {
    const [bg] = this.thresholds();
    if (this.dirtyPages() <= bg) return;
    this.stats.background++;
    for (const t of this.targets) {
      const excess = this.dirtyPages() - bg;
      if (excess <= 0) break;
      this.stats.pagesWritten += t.writeback(wbcAll(false, "background", Math.max(1024, excess)));
    }
  }
}

/**
 * Writes back the dirty mappings of one filesystem as `wbc` asks (writeback_sb_inodes): a
 * helper for filesystems' {@link WritebackTarget}. `mappings` are that filesystem's mappings;
 * `writepagesFor` returns the filesystem's writepages for one of them.
 */
export function writebackMappings(mappings: Iterable<Mapping>, wbc: WritebackControl, writepages: Writepages): number {
  let total = 0;
  for (const mapping of mappings) {
    if (wbc.nrToWrite <= 0) break;
    if (mapping.dirtiedAt < 0 || (wbc.dirtiedBefore !== undefined && mapping.dirtiedAt > wbc.dirtiedBefore)) continue;
    // Count against a finite budget: with nrToWrite = Infinity, Infinity - Infinity would be NaN.
    const budget = Math.min(wbc.nrToWrite, Number.MAX_SAFE_INTEGER);
    const pass = { ...wbc, start: 0, end: 0xffffffff, nrToWrite: budget };
    writepages(mapping, pass);
    const done = budget - pass.nrToWrite;
    total += done;
    wbc.nrToWrite -= done;
  }
  return total;
}

/**
 * Makes the data of every mapping durable in memory terms (the data half of sync/syncfs): a
 * data-integrity writeback pass over each, then a wait for all of their writeback. The caller
 * (the filesystem's sync) writes its metadata and flushes the device afterwards. Returns the
 * pages written.
 */
export function syncMappings(cache: PageCache, mappings: Iterable<Mapping>, writepages: Writepages): number {
  const list = [...mappings];
  let total = 0;
  for (const mapping of list) {
    if (!mapping.index.anyMarked(XaMark.Dirty)) continue;
    const wbc = wbcAll(true, "sync", Number.MAX_SAFE_INTEGER);
    writepages(mapping, wbc);
    total += Number.MAX_SAFE_INTEGER - wbc.nrToWrite;
  }
  for (const mapping of list) waitOnWriteback(cache, mapping);
  return total;
}
