import { fail, isFolioError } from "../errors.js";
import { checkInt } from "../units.js";
import { MemdescType } from "./memmap.js";
import type { FolioTable, HugetlbRelease } from "./folio.js";
import { FolioFlag } from "./folio.js";
import { Gfp, PAGEBLOCK_ORDER } from "./page-alloc.js";
import { Stat, VmEvent, type VmStat } from "./vmstat.js";

/** Order of a huge page: 2 MiB, one pageblock. */
export const HUGETLB_ORDER = PAGEBLOCK_ORDER;

/**
 * A promise of huge pages made before they are used (at mmap time in Linux), so that a later
 * fault cannot fail for want of a page. Consumed by {@link HugetlbPool.alloc}; what is left is
 * handed back by {@link HugetlbPool.unreserve}.
 */
export interface HugetlbReservation {
  /** Pages still promised. */
  remaining: number;
}

/**
 * The hugetlb pool: 2 MiB pages set aside ahead of time (nr_hugepages), handed out as folios of
 * memdesc type Hugetlb and returned to the pool, not to the page allocator, when their last
 * reference goes: the memdesc type decides that, not a destructor pointer.
 *
 * Reservations: `reserve(n)` promises n pages; the pool will not hand a promised page to an
 * allocation without the reservation, and an unreserved allocation fails cleanly (ENOMEM) when
 * every free page is promised.
 */
export class HugetlbPool implements HugetlbRelease {
  /** Pages in the pool, free or in use (HugePages_Total). */
  total = 0;
  /** Pages promised to reservations and not yet taken (HugePages_Rsvd). */
  reserved = 0;
  private readonly freeList: number[] = [];

  /**
   * Built once per machine at boot ({@link Machine.boot}) and sized by `hugePages`; reach it as
   * `machine.hugetlb`.
   */
  constructor(
    private readonly folios: FolioTable,
    private readonly vm: VmStat,
  ) {
    folios.setHugetlbRelease(this);
  }

  /** Free pages in the pool (HugePages_Free). */
  get free(): number {
    return this.freeList.length;
  }

  /**
   * Grows or shrinks the pool to `count` pages (writing /proc/sys/vm/nr_hugepages). Growing stops
   * early, without error, when the page allocator has no 2 MiB block left, as in Linux: read
   * {@link total} for what was reached. Shrinking frees only unused, unreserved pages.
   */
  setPoolSize(count: number): number {
    checkInt(count, 0, 1 << 20, "hugetlb pool size");
    while (this.total < count) {
      const h = this.allocFresh();
      if (h === 0) break;
      this.freeList.push(h);
    }
    while (this.total > count && this.freeList.length > this.reserved) {
      const h = this.freeList.pop()!;
      this.total--;
      this.vm.stat[Stat.HugetlbPages] -= 1 << HUGETLB_ORDER;
      this.folios.freeDescriptorAndPages(h);
    }
    return this.total;
  }

  /** Promises `count` pages. Throws ENOMEM, promising nothing, if the pool cannot cover them. */
  reserve(count: number): HugetlbReservation {
    checkInt(count, 0, 1 << 20, "hugetlb reservation");
    if (this.freeList.length - this.reserved < count) {
      throw fail("ENOMEM", `hugetlb pool has ${this.freeList.length} free pages, ${this.reserved} already reserved: cannot reserve ${count}`);
    }
    this.reserved += count;
    return { remaining: count };
  }

  /**
   * Gives back `count` pages of a reservation (by default all it has left): munmap of part of a
   * huge mapping returns the promises of pages it never used. Throws EINVAL for a count above what
   * is left, changing nothing.
   */
  unreserve(r: HugetlbReservation, count = r.remaining): void {
    if (!Number.isInteger(count) || count < 0 || count > r.remaining) throw fail("EINVAL", `cannot give back ${count} pages of a reservation with ${r.remaining} left`);
    this.reserved -= count;
    r.remaining -= count;
  }

  /**
   * Takes a huge page from the pool as a folio with refcount 1. With a reservation that still
   * has pages, one of those is used; without, only pages nobody has been promised. Throws ENOMEM
   * when none is available.
   */
  alloc(reservation?: HugetlbReservation, owner = 0, index = 0): number {
    const reserved = reservation !== undefined && reservation.remaining > 0;
    if (reserved) {
      reservation.remaining--;
      this.reserved--;
    } else if (this.freeList.length - this.reserved <= 0) {
      this.vm.events[VmEvent.HugetlbAllocFail]++;
      throw fail("ENOMEM", `no unreserved huge page: pool of ${this.total} has ${this.freeList.length} free, ${this.reserved} reserved`);
    }
    // A pool page with a poisoned frame (kept because a reservation needed it) is never handed out.
    let at = this.freeList.length - 1;
    while (at >= 0 && this.folios.test(this.freeList[at]!, FolioFlag.HasHwPoisoned)) at--;
    if (at < 0) {
      if (reserved) {
        reservation.remaining++;
        this.reserved++;
      }
      this.vm.events[VmEvent.HugetlbAllocFail]++;
      throw fail("ENOMEM", `every free huge page of the pool has a memory error`);
    }
    const h = this.freeList.splice(at, 1)[0]!;
    this.folios.setOwner(h, owner);
    this.folios.setIndex(h, index);
    this.folios.get(h);
    return h;
  }

  /**
   * Called by {@link FolioTable.put} when a hugetlb folio's last reference goes: back to the pool,
   * unless one of its frames had a memory error — then it leaves the pool (the pool shrinks), its
   * good frames go back to the page allocator and the bad one is retired.
   */
  freeHugeFolio(h: number): void {
    if (this.folios.test(h, FolioFlag.HasHwPoisoned)) {
      this.folios.setOwner(h, 0);
      this.vm.events[VmEvent.HugetlbFree]++;
      this.dissolve(h);
      return;
    }
    this.folios.setOwner(h, 0);
    this.folios.clear(h, ~FolioFlag.Hugetlb);
    this.vm.events[VmEvent.HugetlbFree]++;
    this.freeList.push(h);
  }

  /** True when `h` is a free page of the pool. */
  isFree(h: number): boolean {
    return this.freeList.includes(h);
  }

  /**
   * Takes the free pool page `h` out of the pool for good (dissolve_free_hugetlb_folio): the pool
   * shrinks by one and the page's frames go back to the page allocator — except frames flagged
   * poisoned, which the allocator retires. When the pool has no other free page to keep its
   * reservations, a fresh page replaces it first; if none can be had it stays in the pool and this
   * returns false (a poisoned page left there is never handed out).
   */
  dissolveFree(h: number): boolean {
    const at = this.freeList.indexOf(h);
    if (at < 0) return false;
    if (this.freeList.length - 1 < this.reserved) {
      const fresh = this.allocFresh();
      if (fresh === 0) return false;
      this.freeList.push(fresh);
    }
    this.freeList.splice(this.freeList.indexOf(h), 1);
    this.dissolve(h);
    return true;
  }

  private dissolve(h: number): void {
    this.total--;
    this.vm.stat[Stat.HugetlbPages] -= 1 << HUGETLB_ORDER;
    this.folios.freeDescriptorAndPages(h);
  }

  private allocFresh(): number {
    let h: number;
    try {
      h = this.folios.alloc(HUGETLB_ORDER, Gfp.NoRetry, 0, 0, FolioFlag.Hugetlb, MemdescType.Hugetlb);
    } catch (e) {
      if (!isFolioError(e, "ENOMEM")) throw e;
      this.vm.events[VmEvent.HugetlbAllocFail]++;
      return 0;
    }
    this.folios.refFreeze(h, 1); // free pool pages hold no reference
    this.total++;
    this.vm.stat[Stat.HugetlbPages] += 1 << HUGETLB_ORDER;
    this.vm.events[VmEvent.HugetlbAlloc]++;
    return h;
  }
}
