/**
 * Memory failure (mm/memory-failure.c): what the machine does when a frame's memory goes bad,
 * starting from nothing but the frame number.
 *
 * Hard offline ({@link MemoryFailure.hardOffline}, memory_failure) is an uncorrectable error: the
 * frame's contents can no longer be trusted, whatever it holds. The frame is flagged
 * ({@link PageFlag.HwPoison}, counted in `nr_hwpoisoned`) and its memdesc type says what to do:
 *
 * | frame holds | what happens | action |
 * | --- | --- | --- |
 * | free memory (buddy, per-CPU list) | taken off the free lists and retired (memdesc type offline) | recovered |
 * | a clean folio (page cache, anonymous memory with a swap copy) | its page-table entries are cleared, its owner drops it (`release`, caller MemoryFailure); the next access reads it again | recovered |
 * | a dirty folio | its page-table entries become poison markers (the next access is SIGBUS, EHWPOISON, naming the address); the owner drops it and records the loss (a file: EIO to fsync and to reads of the page) | recovered, `dataLost` |
 * | a large folio | the owner is told which frame failed (`ctx.pfn`): it splits the folio and drops only the bad page | as above |
 * | a folio that is locked or under writeback | its entries for the bad page are cleared now; the rest waits until the I/O ends (a periodic retry, or the first reader, which waits for it) | delayed |
 * | a free huge page | dissolved: the pool shrinks, the other 511 frames go back to the page allocator | recovered |
 * | a huge page in use | flagged: it leaves the pool, and the bad frame is retired, when it is freed | delayed |
 * | slab, page table, vmalloc, large kmalloc, reserved, an ownerless folio | nothing can be recovered: the frame stays in use, flagged, and is retired if its owner ever frees it | failed |
 * | a frame already poisoned | nothing | ignored |
 *
 * Retiring is the page allocator's: a frame flagged poisoned never goes back on the free lists —
 * when its owner frees it, the allocator makes it offline and frees the rest of the run around it.
 * So a poisoned frame is never handed out again, whoever held it.
 *
 * Soft offline ({@link MemoryFailure.softOffline}, soft_offline_page) is for a frame that reports
 * correctable errors: its contents move away through migration and the frame is then retired;
 * nothing is lost. What cannot move is left alone. {@link MemoryFailure.unpoison} undoes either
 * for tests (unpoison_memory): the frame goes back to the allocator, but data already lost stays
 * lost (files keep their lost pages, page tables their poison markers).
 *
 * Core knows no file: it talks to a folio's owner only through the public page interface
 * (`dirty` to hand over dirty bits, `release` to drop the page), and the owner decides what a loss
 * means for its users.
 */
import { TracePoint, type Tracer } from "../trace.js";
import { MILLISECOND, type Scheduler, type Timer } from "../engine/scheduler.js";
import { FolioFlag, type FolioTable } from "./folio.js";
import type { HugetlbPool } from "./hugetlb.js";
import { MEMDESC_TYPE_NAMES, MemdescType, PageFlag, type MemMap } from "./memmap.js";
import type { Migration } from "./migrate.js";
import { Pte, makePoisonPte, ptePfn, type PageTables } from "./mmap/page-table.js";
import { ZapMode } from "./mmap/rmap.js";
import type { UserMemory } from "./mmap/user-memory.js";
import type { PageAllocator } from "./page-alloc.js";
import { PAGE_OP_RESULT_NAMES, PageOpCaller, PageOpResult, type OwnerRegistry, type PageOwner } from "./page-owner.js";
import { Stat, VmEvent, type VmStat } from "./vmstat.js";

/** How one memory error ended (Linux's MF_RECOVERED, MF_IGNORED, MF_FAILED, MF_DELAYED). */
export type MemoryFailureAction = "recovered" | "ignored" | "failed" | "delayed";

/** Which operation produced a {@link MemoryFailureResult}. */
export type MemoryFailureKind = "hard" | "soft" | "unpoison";

/** What {@link MemoryFailure} did with one frame. */
export interface MemoryFailureResult {
  /** The frame. */
  readonly pfn: number;
  /** The memdesc type name of the frame when it was handled: "buddy", "folio", "slab"… */
  readonly type: string;
  /** How it ended. */
  readonly action: MemoryFailureAction;
  /** Hard offline, soft offline, or unpoison. */
  readonly kind: MemoryFailureKind;
  /** What was done, in words, naming the frame, its owner and page. */
  readonly detail: string;
  /** The frame held a dirty page whose data is now gone; its owner recorded the loss. */
  readonly dataLost: boolean;
  /** For a folio frame: the owner's id in the owner registry, its label, and the page's index in its space. */
  readonly ownerId?: number;
  /** For a folio frame: the owner's label. */
  readonly owner?: string;
  /** For a folio frame: the page's index in its owner's space. */
  readonly index?: number;
}

/** How often frames whose handling was delayed are tried again (virtual time). */
const RETRY_NS = 10 * MILLISECOND;
/** A folio in any of these states is in someone's hands: its handling waits. */
const BUSY = FolioFlag.Locked | FolioFlag.Writeback | FolioFlag.Isolated;

/**
 * Memory-failure handling of one machine (`machine.memoryFailure`). Calls complete when they
 * return, except delayed frames, which a periodic retry (every 10 ms of virtual time, while any are
 * pending) or the first reader of the folio ({@link settle}) finishes.
 */
export class MemoryFailure {
  private readonly pending = new Set<number>();
  private retryTimer: Timer | undefined;
  private readonly listeners: ((result: MemoryFailureResult) => void)[] = [];

  /** Built once per machine at boot ({@link Machine.boot}); reach it as `machine.memoryFailure`. */
  constructor(
    private readonly map: MemMap,
    private readonly pages: PageAllocator,
    private readonly folios: FolioTable,
    private readonly hugetlb: HugetlbPool,
    private readonly owners: OwnerRegistry,
    private readonly mm: UserMemory,
    private readonly migration: Migration,
    private readonly vm: VmStat,
    private readonly scheduler: Scheduler,
    private readonly trace: Tracer,
  ) {}

  /**
   * Registers a listener told of every result, including those of delayed frames finished later
   * by the retry or by a reader (a workload model learns of lost pages this way).
   */
  onResult(listener: (result: MemoryFailureResult) => void): void {
    this.listeners.push(listener);
  }

  /** True if frame `pfn` is flagged poisoned (hard or soft offline, not unpoisoned since). */
  isPoisoned(pfn: number): boolean {
    return (this.map.flags[this.map.checkPfn(pfn)]! & PageFlag.HwPoison) !== 0;
  }

  /** Frames whose handling was delayed and is not finished yet. */
  pendingFrames(): number[] {
    return [...this.pending];
  }

  /**
   * An uncorrectable memory error in frame `pfn` (memory_failure): flags it poisoned and contains
   * the damage by what the frame holds (see the module's table). Never throws for a frame that is
   * in use; throws EINVAL for a bad pfn. Counted in `memory_failure_*` by action.
   */
  hardOffline(pfn: number): MemoryFailureResult {
    this.map.checkPfn(pfn);
    const flags = this.map.flags;
    if (flags[pfn]! & PageFlag.HwPoison) {
      return this.finish(this.result(pfn, "ignored", "hard", `frame ${pfn} is already poisoned`));
    }
    flags[pfn]! |= PageFlag.HwPoison;
    this.vm.stat[Stat.HwPoisoned]++;
    return this.finish(this.handle(pfn));
  }

  /**
   * Correctable errors in frame `pfn` (soft_offline_page): a free frame is taken off the free
   * lists; a folio's contents move to another frame through its owner's `migrate` (page-table
   * entries, dirtiness and data follow it) and the old frame is retired; a free huge page is
   * dissolved. Anything that cannot move (slab, page tables, a pinned or locked folio, a huge page
   * in use) is left alone: action failed, frame not flagged. Counted in `soft_offline` when done.
   * Throws EINVAL for a bad pfn.
   */
  softOffline(pfn: number): MemoryFailureResult {
    this.map.checkPfn(pfn);
    const map = this.map;
    const name = MEMDESC_TYPE_NAMES[map.type[pfn]!];
    const done = (detail: string, extra: Partial<MemoryFailureResult> = {}) => {
      this.vm.events[VmEvent.SoftOffline]++;
      return this.finish({ ...this.result(pfn, "recovered", "soft", detail), type: name, ...extra });
    };
    const refuse = (detail: string, extra: Partial<MemoryFailureResult> = {}) =>
      this.finish({ ...this.result(pfn, "failed", "soft", `${detail}; frame ${pfn} left alone`), type: name, ...extra });
    if (map.flags[pfn]! & PageFlag.HwPoison) return this.finish(this.result(pfn, "ignored", "soft", `frame ${pfn} is already poisoned`));
    switch (map.type[pfn]) {
      case MemdescType.Buddy:
      case MemdescType.PerCpu: {
        if (!this.pages.takeOffline(pfn)) return refuse(`free frame ${pfn} is in a block compaction has isolated`);
        this.flag(pfn);
        return done(`free frame ${pfn} taken off the free lists and retired`);
      }
      case MemdescType.Folio: {
        const f = this.folios;
        const folio = f.fromPfn(pfn);
        const owner = this.owners.get(f.owner(folio));
        const who = this.whose(folio, pfn);
        if (f.test(folio, FolioFlag.HasHwPoisoned)) return refuse(`folio ${folio} already holds a poisoned frame`, who);
        const out = this.migration.migrateFolio(folio, { caller: PageOpCaller.SoftOffline });
        if (out.result !== PageOpResult.Done) return refuse(out.reason ?? `folio ${folio} did not move`, who);
        const dst = this.folios.pfn(out.dst) + (pfn - f.pfn(folio));
        this.flag(pfn);
        // Normally the old folio was freed by the move; a late holder's put retires the frame instead.
        if (!this.pages.takeOffline(pfn) && map.type[pfn] === MemdescType.Folio) f.set(f.fromPfn(pfn), FolioFlag.HasHwPoisoned);
        return done(`page ${who.index} of ${owner?.label ?? "its owner"} moved from frame ${pfn} to frame ${dst}; frame ${pfn} retired`, who);
      }
      case MemdescType.Hugetlb: {
        const folio = map.ref[pfn]!;
        if (!this.hugetlb.isFree(folio)) return refuse(`huge page at frame ${this.folios.pfn(folio)} is in use (hugetlb migration is not modelled)`);
        this.flag(pfn);
        this.folios.set(folio, FolioFlag.HasHwPoisoned);
        if (!this.hugetlb.dissolveFree(folio)) {
          this.unflag(pfn);
          this.folios.updateHwPoisoned(folio);
          return refuse(`free huge page at frame ${this.folios.pfn(folio)} is needed by the pool's reservations`);
        }
        return done(`free huge page dissolved: its other frames went back to the page allocator, frame ${pfn} retired`);
      }
      default:
        return refuse(`frame ${pfn} holds ${name} memory, which cannot move`);
    }
  }

  /**
   * Clears the poison of frame `pfn` (unpoison_memory, for tests): a retired frame goes back to the
   * page allocator; a frame still in use only loses its flag and stays with its owner. Data lost to
   * the error stays lost: files keep their lost pages and page tables their poison markers until
   * those are overwritten, truncated or unmapped. Ignored for a frame that is not poisoned. Throws
   * EINVAL for a bad pfn.
   */
  unpoison(pfn: number): MemoryFailureResult {
    this.map.checkPfn(pfn);
    const map = this.map;
    if (!(map.flags[pfn]! & PageFlag.HwPoison)) return this.finish(this.result(pfn, "ignored", "unpoison", `frame ${pfn} is not poisoned`));
    this.unflag(pfn);
    this.pending.delete(pfn);
    const t = map.type[pfn]!;
    if (t === MemdescType.Offline) {
      this.pages.returnOffline(pfn);
      return this.finish({ ...this.result(pfn, "recovered", "unpoison", `frame ${pfn} went back to the page allocator`), type: MEMDESC_TYPE_NAMES[t] });
    }
    if (t === MemdescType.Folio || t === MemdescType.Hugetlb) this.folios.updateHwPoisoned(map.ref[pfn]!);
    return this.finish(this.result(pfn, "recovered", "unpoison", `frame ${pfn} is no longer flagged; it stays ${MEMDESC_TYPE_NAMES[t]} memory with its owner`));
  }

  /** Handles every delayed frame now (what the periodic retry does); returns their results. */
  retryPending(): MemoryFailureResult[] {
    const out: MemoryFailureResult[] = [];
    for (const pfn of [...this.pending]) {
      this.pending.delete(pfn);
      out.push(this.finish(this.handle(pfn)));
    }
    this.armRetry();
    return out;
  }

  /**
   * A reader or a fault found the folio holding frame `pfn` flagged has-hwpoisoned before using it:
   * one of its frames failed while it was locked or under writeback, or the failure could not be
   * contained. Waits, as a reader may, until that folio is unlocked and its writeback has ended,
   * then finishes the handling of its delayed frames; returns their results. The caller holds no
   * lock and no reference on the folio (a reference would keep its owner from splitting it), and
   * afterwards looks its page up again: the bad page is gone (read again, or lost and reported by
   * its owner); a folio still flagged keeps a bad page the caller must not serve.
   */
  settle(pfn: number): MemoryFailureResult[] {
    this.map.checkPfn(pfn);
    const f = this.folios;
    let folio = f.fromPfn(pfn);
    if (folio !== 0) {
      f.get(folio);
      try {
        this.scheduler.waitUntil(() => (f.flags(folio) & BUSY) === 0, `the I/O of folio ${folio}, whose frame had a memory error`);
      } finally {
        f.put(folio); // may free it: then its frames are retired, and handling them finds that
      }
    }
    folio = f.fromPfn(pfn);
    const first = folio === 0 ? pfn : f.pfn(folio);
    const end = folio === 0 ? pfn + 1 : first + f.nrPages(folio);
    const out: MemoryFailureResult[] = [];
    for (let p = first; p < end; p++) {
      if (this.pending.delete(p)) out.push(this.finish(this.handle(p)));
    }
    this.armRetry();
    return out;
  }

  // ── Hard offline, by memdesc type ──

  /** Handles a frame just flagged poisoned (or pending): dispatches on what it holds now. */
  private handle(pfn: number): MemoryFailureResult {
    const type = MEMDESC_TYPE_NAMES[this.map.type[pfn]!];
    const r = this.dispatch(pfn);
    return r.type === type ? r : { ...r, type }; // the type it had, not "offline" once retired
  }

  private dispatch(pfn: number): MemoryFailureResult {
    const t = this.map.type[pfn]!;
    switch (t) {
      case MemdescType.Buddy:
      case MemdescType.PerCpu:
        if (this.pages.takeOffline(pfn)) return this.result(pfn, "recovered", "hard", `free frame ${pfn} taken off the free lists and retired`);
        return this.delay(pfn, this.result(pfn, "delayed", "hard", `free frame ${pfn} is in a block compaction has isolated: retired once it is back or handed out`));
      case MemdescType.Offline:
        return this.result(pfn, "recovered", "hard", `frame ${pfn} was retired`);
      case MemdescType.Folio:
        return this.handleFolio(pfn);
      case MemdescType.Hugetlb:
        return this.handleHugetlb(pfn);
      case MemdescType.Reserved:
        return this.result(pfn, "failed", "hard", `frame ${pfn} is reserved memory: nothing to recover; it stays flagged`);
      default:
        return this.result(pfn, "failed", "hard",
          `frame ${pfn} holds ${MEMDESC_TYPE_NAMES[t]} memory, which cannot be recovered: it stays in use, flagged, and is retired if its owner frees it`);
    }
  }

  /**
   * A frame of a folio (identify_page_state + hwpoison_user_mappings): the bad page's page-table
   * entries go first (poison markers if its data is lost), then the owner gives the page up.
   */
  private handleFolio(pfn: number): MemoryFailureResult {
    const f = this.folios;
    const folio = f.fromPfn(pfn);
    f.set(folio, FolioFlag.HasHwPoisoned);
    const who = this.whose(folio, pfn);
    const owner = who.ownerId === undefined ? undefined : this.owners.get(who.ownerId);
    const page = `page ${who.index} of ${who.owner ?? `folio ${folio}`}`;
    if (owner === undefined) {
      return { ...this.result(pfn, "failed", "hard", `frame ${pfn} is in folio ${folio}, which has no owner to give it up: the folio stays, flagged, and the frame is retired when it is freed`), ...who };
    }
    f.get(folio); // ours until the end: the folio outlives release and unmapping
    let result: PageOpResult;
    let lost = false;
    try {
      if (f.flags(folio) & BUSY) {
        // Someone holds it (I/O in flight): no page table may reach the bad page meanwhile.
        this.unmapBadPage(folio, pfn, owner, false);
        const why = f.test(folio, FolioFlag.Writeback) ? "under writeback" : "locked";
        return { ...this.delay(pfn, this.result(pfn, "delayed", "hard", `${page} is ${why}: handled once that ends`)), ...who };
      }
      lost = this.unmapBadPage(folio, pfn, owner, true);
      f.set(folio, FolioFlag.Locked);
      try {
        result = owner.release(folio, { caller: PageOpCaller.MemoryFailure, pfn });
      } finally {
        f.clear(folio, FolioFlag.Locked);
      }
    } finally {
      f.put(folio);
    }
    if (result === PageOpResult.Done) {
      const retired = this.map.type[pfn] === MemdescType.Offline ? `frame ${pfn} retired` : `frame ${pfn} is retired when its last user lets go`;
      const what = lost ? `dirty ${page} lost: ${owner.label} reports the loss, and page-table entries that mapped it are SIGBUS` : `clean ${page} dropped: ${owner.label} reads it again on next use, or reports it lost if it has no other copy`;
      return { ...this.result(pfn, "recovered", "hard", `${what}; ${retired}`), dataLost: lost, ...who };
    }
    if (result === PageOpResult.Busy || result === PageOpResult.WouldBlock) {
      return { ...this.delay(pfn, this.result(pfn, "delayed", "hard", `${owner.label} answered ${PAGE_OP_RESULT_NAMES[result]} for ${page}: tried again later`)), ...who };
    }
    return {
      ...this.result(pfn, "failed", "hard", `${owner.label} answered ${PAGE_OP_RESULT_NAMES[result]} for ${page}: the page stays, flagged (readers fail it), and the frame is retired when it is freed`),
      ...who,
    };
  }

  /**
   * Clears the page-table entries mapping frame `pfn` of `folio` (try_to_unmap with TTU_HWPOISON):
   * dirty bits go to the owner first, so the decision sees every store; with `markLost`, if the
   * folio is dirty — its data exists nowhere else — each entry becomes a poison marker. Returns
   * whether the data is lost.
   */
  private unmapBadPage(folio: number, pfn: number, owner: PageOwner, markLost: boolean): boolean {
    const f = this.folios;
    const hits: { pt: PageTables; vpn: number; pte: number }[] = [];
    if (f.mapcount(folio) > 0) {
      this.mm.rmap.walk(folio, (vma, vpn, pte) => {
        if (ptePfn(pte) === pfn) hits.push({ pt: vma.space.pageTables, vpn, pte });
      });
    }
    if (hits.some((h) => h.pte & Pte.Dirty)) owner.dirty(folio, { caller: PageOpCaller.UserMapping });
    const lost = markLost && f.test(folio, FolioFlag.Dirty);
    for (const h of hits) {
      this.mm.unmapPage(h.pt, h.vpn, h.pte, ZapMode.Drop);
      if (lost) h.pt.set(h.vpn, makePoisonPte(pfn));
    }
    return lost;
  }

  /** A frame of a huge page: a free one is dissolved, one in use leaves the pool when freed. */
  private handleHugetlb(pfn: number): MemoryFailureResult {
    const f = this.folios;
    const folio = this.map.ref[pfn]!;
    const head = f.pfn(folio);
    const others = f.nrPages(folio) - 1;
    f.set(folio, FolioFlag.HasHwPoisoned);
    if (this.hugetlb.isFree(folio)) {
      if (this.hugetlb.dissolveFree(folio)) {
        return this.result(pfn, "recovered", "hard", `free huge page at frame ${head} dissolved: its other ${others} frames went back to the page allocator, frame ${pfn} retired`);
      }
      return this.result(pfn, "failed", "hard", `free huge page at frame ${head} stays in the pool for its reservations, flagged: it is never handed out`);
    }
    const owner = this.owners.get(f.owner(folio));
    return this.result(pfn, "delayed", "hard",
      `huge page at frame ${head} is in use${owner ? ` by ${owner.label}` : ""}: it leaves the pool, and frame ${pfn} is retired, when it is freed`);
  }

  // ── Helpers ──

  private delay(pfn: number, result: MemoryFailureResult): MemoryFailureResult {
    this.pending.add(pfn);
    this.armRetry();
    return result;
  }

  /** Keeps the periodic retry running exactly while frames are pending (periodic: it never keeps a wait alive). */
  private armRetry(): void {
    if (this.pending.size > 0 && this.retryTimer === undefined) {
      this.retryTimer = this.scheduler.every(RETRY_NS, "memory failure retry", () => this.retryPending());
    } else if (this.pending.size === 0 && this.retryTimer !== undefined) {
      this.scheduler.cancel(this.retryTimer);
      this.retryTimer = undefined;
    }
  }

  private flag(pfn: number): void {
    this.map.flags[pfn]! |= PageFlag.HwPoison;
    this.vm.stat[Stat.HwPoisoned]++;
  }

  private unflag(pfn: number): void {
    this.map.flags[pfn]! &= ~PageFlag.HwPoison;
    this.vm.stat[Stat.HwPoisoned]--;
  }

  /** The owner and page of frame `pfn` of `folio`, for results. */
  private whose(folio: number, pfn: number): { ownerId?: number; owner?: string; index: number } {
    const f = this.folios;
    const index = f.index(folio) + (pfn - f.pfn(folio));
    const ownerId = f.owner(folio);
    const owner = ownerId === 0 ? undefined : this.owners.get(ownerId);
    return owner === undefined ? { index } : { ownerId, owner: owner.label, index };
  }

  private result(pfn: number, action: MemoryFailureAction, kind: MemoryFailureKind, detail: string): MemoryFailureResult {
    return { pfn, type: MEMDESC_TYPE_NAMES[this.map.type[pfn]!], action, kind, detail, dataLost: false };
  }

  /** Counts a result and tells the listeners. */
  private finish(result: MemoryFailureResult): MemoryFailureResult {
    if (result.kind === "hard") {
      const ev = { recovered: VmEvent.MemoryFailureRecovered, ignored: VmEvent.MemoryFailureIgnored, failed: VmEvent.MemoryFailureFailed, delayed: VmEvent.MemoryFailureDelayed };
      this.vm.events[ev[result.action]]++;
    }
    if (result.kind !== "unpoison" && this.trace.enabled & TracePoint.MemoryFailure) {
      this.trace.emit({ point: "memory_failure", pfn: result.pfn, type: result.type, action: result.action, soft: result.kind === "soft" });
    }
    for (const listener of this.listeners) listener(result);
    return result;
  }
}
