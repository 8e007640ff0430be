/**
 * Page migration (mm/migrate.c): moving a folio's contents and every use of it to other frames,
 * starting from nothing but a frame number.
 *
 * The mechanism is the owner's; the procedure is core's. {@link Migration.migrateFolio} locks and
 * isolates the folio, allocates the destination, takes down the page-table entries mapping it
 * (Linux's migration entries), and asks the owner through the public `migrate` to copy the data
 * and switch its own index to the new folio. Then it puts the entries back — on the new folio if
 * the owner said Done, on the old one otherwise — so a failed move leaves everything as it was.
 * Core never learns what the owner is: a file's page cache, an anonymous region, or any other
 * owner that answers `migrate`.
 *
 * Callers: compaction (moving folios out of a pageblock), soft offline (moving content off a frame
 * that reports errors), memory failure (the good pages of a split large folio), and tests.
 */
import { fail } from "../errors.js";
import { FolioFlag, type FolioTable } from "./folio.js";
import { MEMDESC_TYPE_NAMES, MemdescType, type MemMap } from "./memmap.js";
import { Gfp } from "./page-alloc.js";
import { TracePoint, type Tracer } from "../trace.js";
import { PAGE_OP_CALLER_NAMES, PAGE_OP_RESULT_NAMES, PageOpCaller, PageOpResult, type OwnerRegistry } from "./page-owner.js";
import type { ReverseMap } from "./mmap/rmap.js";
import type { Reclaim } from "./reclaim.js";
import { VmEvent, type VmStat } from "./vmstat.js";

/** How a caller wants one migration done. */
export interface MigrateOptions {
  /** Who migrates, passed to the owner (compaction, soft offline, memory failure, other). */
  readonly caller: PageOpCaller;
  /**
   * Supplies the destination: a new folio of 2^`order` frames, refcount 1, no owner; or 0 when
   * none can be had. Compaction hands out frames its free scanner isolated; the default asks the
   * page allocator for movable memory without retrying.
   */
  readonly allocate?: (order: number) => number;
  /** The caller cannot wait (async compaction): owners answer WouldBlock rather than wait. */
  readonly mayNotBlock?: boolean;
}

/** What one migration did. */
export interface MigrateOutcome {
  /** Done, or why the folio stayed where it was. */
  readonly result: PageOpResult;
  /** The folio now holding the content (0 unless Done). */
  readonly dst: number;
  /** For anything but Done: why, in words (names the folio and the reason). */
  readonly reason?: string;
}

/**
 * Migration for one machine (`machine.migration`). Stateless apart from counters: every call is
 * complete when it returns.
 */
export class Migration {
  /** The reverse map, set at boot once user memory exists (it is built after this). */
  rmap: ReverseMap | undefined;
  /** Reclaim, which learns of the pieces of a split folio; set at boot. */
  reclaim: Reclaim | undefined;

  /**
   * Built once per machine at boot ({@link Machine.boot}), which then sets {@link rmap} and
   * {@link reclaim}; reach it as `machine.migration`.
   */
  constructor(
    private readonly folios: FolioTable,
    private readonly map: MemMap,
    private readonly owners: OwnerRegistry,
    private readonly vm: VmStat,
    private readonly trace: Tracer,
  ) {}

  /**
   * Migrates whatever folio frame `pfn` belongs to (the memory-is-self-describing entry point:
   * the frame alone says what it holds and who owns it). A frame that is not part of a folio
   * (free, slab, page table, vmalloc…) is Unsupported, with its type named. Throws EINVAL for a
   * bad pfn.
   */
  migrateFrame(pfn: number, options: MigrateOptions): MigrateOutcome {
    this.map.checkPfn(pfn);
    const folio = this.folios.fromPfn(pfn);
    if (folio === 0 || this.map.type[pfn] !== MemdescType.Folio) {
      return this.refuse(PageOpResult.Unsupported, 0, `frame ${pfn} holds ${MEMDESC_TYPE_NAMES[this.map.type[pfn]!]} memory, which does not migrate`);
    }
    return this.migrateFolio(folio, options);
  }

  /**
   * Whether `folio` could be migrated now, by the checks that need no lock: it has an owner, it is
   * not pinned, locked, under writeback, unevictable by mlock or a hugetlb folio. Compaction's
   * migrate scanner uses it to skip folios cheaply; {@link migrateFolio} checks again.
   */
  isMovable(folio: number): boolean {
    const f = this.folios;
    const flags = f.flags(folio);
    return (
      f.owner(folio) !== 0 &&
      this.owners.get(f.owner(folio)) !== undefined &&
      (flags & (FolioFlag.Locked | FolioFlag.Writeback | FolioFlag.Hugetlb | FolioFlag.Isolated)) === 0 &&
      f.pincount(folio) === 0
    );
  }

  /**
   * Moves `src` (migrate_folio_move): locks and isolates it (Busy if someone holds it locked or it
   * is under writeback; Pinned with a DMA-style pin), allocates the destination (Failed when there
   * is none), takes down its page-table entries, and asks its owner to `migrate`. Done: the entries
   * map the new folio with the same bits, `src` is freed, pgmigrate_success counts its pages.
   * Otherwise everything is as it was and pgmigrate_fail counts them. The caller holds a
   * reference on `src` or knows it is live (a scanner that just found it in the struct page table).
   */
  migrateFolio(src: number, options: MigrateOptions): MigrateOutcome {
    const f = this.folios;
    const nr = f.nrPages(src);
    const ownerId = f.owner(src);
    const owner = ownerId === 0 ? undefined : this.owners.get(ownerId);
    if (owner === undefined) return this.refuse(PageOpResult.Unsupported, nr, `folio ${src} has no owner to move it`);
    if (f.test(src, FolioFlag.Hugetlb) || this.map.type[f.pfn(src)] === MemdescType.Hugetlb) {
      return this.refuse(PageOpResult.Unsupported, nr, `folio ${src} is a hugetlb page (hugetlb migration is not modelled)`);
    }
    if (f.pincount(src) > 0) return this.refuse(PageOpResult.Pinned, nr, `folio ${src} of ${owner.label} is pinned ${f.pincount(src)} times`);
    if (f.test(src, FolioFlag.Writeback)) return this.refuse(PageOpResult.Busy, nr, `folio ${src} of ${owner.label} is under writeback`);
    if (f.test(src, FolioFlag.Isolated) || f.testAndSet(src, FolioFlag.Locked)) {
      return this.refuse(PageOpResult.Busy, nr, `folio ${src} of ${owner.label} is locked or isolated by someone else`);
    }
    // Our reference (the isolation reference): src outlives everything below until the final put.
    f.get(src);
    f.set(src, FolioFlag.Isolated);
    let dst = 0;
    let result: PageOpResult = PageOpResult.Failed;
    let reason = "";
    try {
      // Reclaim may run inside this allocation; it skips src, which is locked.
      dst = this.allocateDestination(f.order(src), options);
      if (dst === 0) {
        reason = `no free order-${f.order(src)} block for the copy of folio ${src}`;
        return this.refuse(PageOpResult.Failed, nr, reason);
      }
      f.set(dst, FolioFlag.Locked);
      const ptes = f.mapcount(src) > 0 && this.rmap !== undefined ? this.rmap.takeDownPtes(src) : undefined;
      if (f.mapcount(src) > 0) {
        result = PageOpResult.Busy;
        reason = `folio ${src} of ${owner.label} is still mapped where the reverse map cannot reach`;
      } else {
        result = owner.migrate(src, dst, { caller: options.caller, mayNotBlock: options.mayNotBlock });
        if (result !== PageOpResult.Done) reason = `${owner.label} answered ${PAGE_OP_RESULT_NAMES[result]} for folio ${src}`;
      }
      if (ptes !== undefined) this.rmap!.restorePtes(ptes, result === PageOpResult.Done ? dst : src);
    } finally {
      if (dst !== 0) {
        f.clear(dst, FolioFlag.Locked);
        if (result !== PageOpResult.Done) f.put(dst);
      }
      f.clear(src, FolioFlag.Locked | FolioFlag.Isolated);
      f.put(src);
    }
    if (this.trace.enabled & TracePoint.Migrate) {
      this.trace.emit({ point: "migrate", pfn: f.pfn(src), dst: dst === 0 ? -1 : f.pfn(dst), pages: nr, result: PAGE_OP_RESULT_NAMES[result], caller: PAGE_OP_CALLER_NAMES[options.caller] });
    }
    if (result !== PageOpResult.Done) return this.refuse(result, nr, reason);
    this.vm.events[VmEvent.PgmigrateSuccess] += nr;
    return { result, dst };
  }

  /**
   * Splits a large folio into folios of 2^`newOrder` pages (split_huge_page_to_list_to_order), for
   * its owner: memory failure keeps all but the bad page, truncate drops part of a folio, a partial
   * unmap frees part of an anonymous one. The caller is the owner or acts for it, holds the folio
   * locked and `callerRefs` references on it beyond the owner's one; any other reference (a pin,
   * a reader) makes it EBUSY, as does writeback. Page-table entries are taken down and put back on
   * the pieces, the LRU learns of them, and the pieces are returned in page order with the folio
   * itself first (locked if it was, each with refcount 1 for the owner but the first, which keeps
   * the caller's references too). The owner then points its index at each piece. Throws EINVAL for
   * a hugetlb folio or an order that is not smaller, EBUSY, or ENOMEM (descriptors for the pieces),
   * changing nothing.
   */
  splitFolio(folio: number, newOrder: number, callerRefs = 1): number[] {
    const f = this.folios;
    if (this.map.type[f.pfn(folio)] === MemdescType.Hugetlb) throw fail("EINVAL", `folio ${folio} is a hugetlb page, which is never split`);
    if (!Number.isInteger(newOrder) || newOrder < 0 || newOrder >= f.order(folio)) {
      throw fail("EINVAL", `cannot split an order-${f.order(folio)} folio to order ${newOrder}`);
    }
    if (f.test(folio, FolioFlag.Writeback) || f.pincount(folio) > 0) throw fail("EBUSY", `folio ${folio} is under writeback or pinned and cannot be split`);
    const ptes = f.mapcount(folio) > 0 && this.rmap !== undefined ? this.rmap.takeDownPtes(folio) : undefined;
    let pieces: number[] = [folio];
    try {
      const expected = 1 + callerRefs;
      if (f.mapcount(folio) > 0 || f.refcount(folio) !== expected) {
        throw fail("EBUSY", `folio ${folio} has ${f.refcount(folio)} references where ${expected} were expected (someone else uses it)`);
      }
      pieces = f.splitDescriptors(folio, newOrder);
      this.reclaim?.addSplitPieces(pieces);
      this.vm.events[VmEvent.ThpSplitPage]++;
    } finally {
      if (ptes !== undefined) this.rmap!.restorePtes(ptes, folio);
    }
    return pieces;
  }

  private allocateDestination(order: number, options: MigrateOptions): number {
    if (options.allocate) return options.allocate(order);
    try {
      return this.folios.alloc(order, Gfp.Movable | Gfp.NoRetry);
    } catch (e) {
      if ((e as { code?: string }).code === "ENOMEM") return 0;
      throw e;
    }
  }

  private refuse(result: PageOpResult, nr: number, reason: string): MigrateOutcome {
    this.vm.events[VmEvent.PgmigrateFail] += nr;
    return { result, dst: 0, reason };
  }
}

/**
 * The owner's half of a move (folio_migrate_copy + folio_migrate_flags): copies the data of `src`
 * to `dst` (same order), and the descriptor state an owner keeps — state flags and private word
 * move, owner and index are copied. Owners' `migrate` implementations call it, then switch their
 * index to `dst`, move LRU membership (`reclaim.replace`, which still needs `src`'s owner and
 * index), clear `src`'s owner and put their reference on it. Throws EINVAL if the orders differ.
 */
export function moveFolioState(folios: FolioTable, src: number, dst: number): void {
  if (folios.order(dst) !== folios.order(src)) {
    throw fail("EINVAL", `migration target folio ${dst} is order ${folios.order(dst)}, source ${src} is order ${folios.order(src)}`);
  }
  folios.copyData(src, dst);
  const carried = folios.flags(src) & MIGRATED_FLAGS;
  folios.set(dst, carried);
  folios.clear(src, carried);
  folios.setPrivate(dst, folios.private_(src));
  folios.setPrivate(src, 0);
  folios.setOwner(dst, folios.owner(src));
  folios.setIndex(dst, folios.index(src));
}

/** Flags that travel with the content; the lock, LRU and isolation state belong to the procedure. */
const MIGRATED_FLAGS =
  FolioFlag.Uptodate | FolioFlag.Dirty | FolioFlag.Referenced | FolioFlag.Active | FolioFlag.Workingset | FolioFlag.Error |
  FolioFlag.SwapBacked | FolioFlag.Unevictable | FolioFlag.Private | FolioFlag.Readahead | FolioFlag.MappedToDisk;
