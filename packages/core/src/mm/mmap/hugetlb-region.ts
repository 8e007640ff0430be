/**
 * The huge pages of one MAP_HUGETLB mapping (mm/hugetlb.c's anonymous hugetlb memory, reduced): 2 MiB
 * folios from the machine's {@link HugetlbPool}, reserved when the mapping is made
 * (hugetlb_reserve_pages), taken at the first fault of each (hugetlb_fault → hugetlb_no_page →
 * alloc_hugetlb_folio), zeroed, and given back to the pool at munmap or exit. Huge pages are never
 * split, reclaimed, swapped or migrated: the region answers the public page interface with
 * Unsupported for all but `dirty`.
 */
import { fail } from "../../errors.js";
import { FolioFlag, type FolioTable } from "../folio.js";
import { HUGETLB_ORDER, type HugetlbPool, type HugetlbReservation } from "../hugetlb.js";
import { PageOpResult, type OwnerRegistry, type PageOpContext, type PageOwner } from "../page-owner.js";
import type { PhysicalMemory } from "../physmem.js";

/** Small pages per huge page. */
const PER_HUGE = 1 << HUGETLB_ORDER;

/**
 * Huge pages by index (in huge pages from the start of the mapping), each faulted in or not, and
 * the reservation still held for those not yet faulted. A VMA of the mapping indexes it like an
 * anonymous region, by small page (`Vma.anonIndex`); a huge page's folio has the small-page index
 * of its first page, so reverse-map walks and checks treat both alike.
 */
export class HugetlbRegion implements PageOwner {
  /** Owner id of its folios. */
  readonly id: number;
  private readonly pages = new Map<number, number>();
  /** Per huge page: 1 while a reserved page is promised to it and not yet taken. */
  private readonly promised: Uint8Array;
  private readonly reservation: HugetlbReservation;
  private destroyed = false;

  /**
   * Creates the region of a mapping of `nrHuge` huge pages and, unless `noreserve`, reserves them
   * all in the pool (hugetlb_reserve_pages). Throws ENOMEM, creating nothing, when the pool cannot
   * cover them.
   */
  constructor(
    private readonly pool: HugetlbPool,
    private readonly folios: FolioTable,
    private readonly memory: PhysicalMemory,
    private readonly owners: OwnerRegistry,
    /** Names the mapping in messages and `describe`. */
    readonly label: string,
    /** Size in huge pages. */
    readonly nrHuge: number,
    noreserve: boolean,
  ) {
    this.reservation = pool.reserve(noreserve ? 0 : nrHuge);
    this.promised = new Uint8Array(nrHuge).fill(noreserve ? 0 : 1);
    this.id = owners.register(this);
  }

  /** Huge pages faulted in (resident). */
  get resident(): number {
    return this.pages.size;
  }

  /** Huge pages still reserved for this mapping and not yet faulted in. */
  get reserved(): number {
    return this.reservation.remaining;
  }

  /** The folio of huge page `huge`, or 0 when it was never faulted in (or was discarded). */
  lookup(huge: number): number {
    return this.pages.get(huge) ?? 0;
  }

  /**
   * The folio of huge page `huge`, taken from the pool and zeroed at the first fault
   * (hugetlb_no_page): from this mapping's reservation if it still holds one for the page, else from
   * the pool's unreserved pages. The region keeps its own reference; the caller maps it. Throws
   * ENOSPC when the pool has no page for it (the fault's SIGBUS, as alloc_hugetlb_folio's -ENOSPC),
   * EHWPOISON when the page had a memory error, EFAULT for an index outside the mapping.
   */
  faultIn(huge: number): number {
    if (this.destroyed) throw fail("EINVAL", `${this.label} was unmapped`);
    if (!Number.isInteger(huge) || huge < 0 || huge >= this.nrHuge) throw fail("EFAULT", `huge page ${huge} is outside ${this.label} (${this.nrHuge} huge pages)`);
    const f = this.folios;
    const have = this.pages.get(huge);
    if (have !== undefined) {
      // hugetlb_fault on a poisoned huge page: VM_FAULT_HWPOISON_LARGE.
      if (f.test(have, FolioFlag.HasHwPoisoned)) throw fail("EHWPOISON", `huge page ${huge} of ${this.label} had a memory error`);
      return have;
    }
    const withReservation = this.promised[huge] === 1;
    let folio: number;
    try {
      folio = this.pool.alloc(withReservation ? this.reservation : undefined, this.id, huge * PER_HUGE);
    } catch (e) {
      if ((e as { code?: string }).code !== "ENOMEM") throw e;
      throw fail("ENOSPC", `no huge page for page ${huge} of ${this.label}: ${(e as Error).message.replace(/^ENOMEM: /, "")}`);
    }
    this.promised[huge] = 0;
    // Pool pages keep whatever their last user left (clear_huge_page).
    this.memory.zeroFrames(f.pfn(folio), PER_HUGE);
    // Nothing writes a huge page back: it is dirty from the start, so writable entries are always allowed.
    f.set(folio, FolioFlag.Uptodate | FolioFlag.Dirty);
    this.pages.set(huge, folio);
    return folio;
  }

  /**
   * Frees huge pages [first, first + count) (munmap, or MADV_DONTNEED of a private mapping): their
   * folios go back to the pool once no page-table entry maps them (the caller cleared those). With
   * `unreserve`, reservations held for pages of the range never faulted in are given back too
   * (munmap: hugetlb_vm_op_close); without, they stay (MADV_DONTNEED). Returns the pages freed.
   */
  discard(first: number, count: number, unreserve: boolean): number {
    let freed = 0;
    let promises = 0;
    for (let huge = Math.max(0, first); huge < Math.min(this.nrHuge, first + count); huge++) {
      const folio = this.pages.get(huge);
      if (folio !== undefined) {
        this.pages.delete(huge);
        this.put(folio);
        freed++;
      }
      if (unreserve && this.promised[huge] === 1) {
        this.promised[huge] = 0;
        promises++;
      }
    }
    if (promises > 0) this.pool.unreserve(this.reservation, promises);
    return freed;
  }

  /** Frees every page and gives back the reservation (the last VMA is gone). The region is unusable afterwards. */
  destroy(): void {
    if (this.destroyed) return;
    for (const folio of this.pages.values()) this.put(folio);
    this.pages.clear();
    this.pool.unreserve(this.reservation);
    this.promised.fill(0);
    this.owners.unregister(this.id);
    this.destroyed = true;
  }

  /** Public page interface: a store changed a huge page. Nothing to record: huge pages are never written back. */
  dirty(_folio: number, _ctx: PageOpContext): PageOpResult {
    return PageOpResult.Done;
  }

  /** Public page interface: huge pages do not migrate here (hugetlb migration is not modelled). */
  migrate(_src: number, _dst: number, _ctx: PageOpContext): PageOpResult {
    return PageOpResult.Unsupported;
  }

  /** Public page interface: huge pages are never reclaimed or given up; memory failure handles them by the pool. */
  release(_folio: number, _ctx: PageOpContext): PageOpResult {
    return PageOpResult.Unsupported;
  }

  private put(folio: number): void {
    const f = this.folios;
    f.setOwner(folio, 0);
    f.put(folio); // the last reference returns it to the pool (or dissolves it, after a memory error)
  }
}
