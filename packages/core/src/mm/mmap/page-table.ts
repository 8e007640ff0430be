/**
 * Page tables of one address space: a page-table entry (PTE) per virtual page, held in page-table
 * pages that are frames of simulated physical memory.
 *
 * The layout is a two-level radix. The lower level is a frame of 1024 32-bit PTEs (4 MiB of
 * address space), allocated from the page allocator with memdesc type `pagetable` and the address
 * space's id as its reference, so `describe` names its owner and `nr_page_table_pages` counts it.
 * The upper level, which Linux splits into PGD, P4D, PUD and PMD, is one JavaScript Map from the
 * upper bits of the page number to the table: user space is sparse, and a Map costs nothing for the
 * holes. There is no JavaScript object per page.
 */
import { fail } from "../../errors.js";
import { PAGE_SIZE } from "../../units.js";
import { MemdescType } from "../memmap.js";
import { Gfp, type PageAllocator } from "../page-alloc.js";
import type { PhysicalMemory } from "../physmem.js";
import { Stat, type VmStat } from "../vmstat.js";

/** Bits of a page-table entry below the frame number. */
export const enum Pte {
  /** The entry maps a frame; every other bit is meaningless without it. */
  Present = 1 << 0,
  /** Stores may go through without a fault. */
  Write = 1 << 1,
  /** A store went through since the bit was last cleared (set by the "hardware": {@link AddressSpace.store}). */
  Dirty = 1 << 2,
  /** A load or store went through since the bit was last cleared (the young bit). */
  Accessed = 1 << 3,
  /**
   * Maps the shared zero page: no reference, no mapcount, never writable (Linux's special PTE).
   * Without {@link Pte.Present}: a poison marker ({@link makePoisonPte}).
   */
  Special = 1 << 4,
}

/** The frame number of a PTE is stored above this many flag bits. */
export const PTE_PFN_SHIFT = 5;
/** PTEs in one page-table page (a 4 KiB frame of 32-bit entries). */
export const PTES_PER_TABLE = PAGE_SIZE / 4;
/** Bytes of address space one page-table page maps (4 MiB). */
export const TABLE_SPAN = PTES_PER_TABLE * PAGE_SIZE;

/** The frame a PTE maps. */
export function ptePfn(pte: number): number {
  return pte >>> PTE_PFN_SHIFT;
}

/** A present PTE for frame `pfn` with flag bits `bits`. */
export function makePte(pfn: number, bits: number): number {
  return (pfn << PTE_PFN_SHIFT) | bits | Pte.Present;
}

/**
 * A hardware-poison marker for a page whose frame `pfn` failed and whose data is lost (Linux's
 * hwpoison swap entry): a non-present entry — the special bit without the present bit — that
 * keeps the frame number only for messages. The next load or store of the page is SIGBUS with
 * EHWPOISON naming the address; munmap, MADV_DONTNEED and truncate clear it.
 */
export function makePoisonPte(pfn: number): number {
  return (pfn << PTE_PFN_SHIFT) | Pte.Special;
}

/** True for a marker made by {@link makePoisonPte}. */
export function isPoisonPte(pte: number): boolean {
  return (pte & (Pte.Present | Pte.Special)) === Pte.Special;
}

/**
 * The page tables of one address space. Entries are read and written by page number (address /
 * 4096); a missing page-table page reads as empty entries. The address space, the fault path and
 * the reverse map are the only writers.
 */
export class PageTables {
  private readonly tables = new Map<number, Int32Array>();
  private readonly tableFrames = new Map<number, number>();
  /** The last table looked up: consecutive accesses almost always hit the same one. */
  private lastKey = -1;
  private lastTable: Int32Array | undefined;

  /**
   * Called by {@link AddressSpace}'s constructor: one set of page tables per address space, whose
   * frames are charged to `PageTables` and tagged with the space's id.
   */
  constructor(
    private readonly memory: PhysicalMemory,
    private readonly pages: PageAllocator,
    private readonly vm: VmStat,
    /** The owning address space's id: the memdesc reference of every page-table frame. */
    readonly spaceId: number,
  ) {}

  /** Page-table pages allocated. */
  get nrTables(): number {
    return this.tables.size;
  }

  /** The PTE of page `vpn`, 0 when none. Allocates nothing: this is the load/store hit path. */
  get(vpn: number): number {
    const key = Math.floor(vpn / PTES_PER_TABLE);
    const table = key === this.lastKey ? this.lastTable : this.lookup(key);
    return table === undefined ? 0 : table[vpn - key * PTES_PER_TABLE]!;
  }

  /**
   * Writes the PTE of page `vpn`. Writing a non-zero entry allocates the page-table page if it is
   * missing (ENOMEM when memory cannot be had, changing nothing); writing 0 never allocates.
   */
  set(vpn: number, pte: number): void {
    const key = Math.floor(vpn / PTES_PER_TABLE);
    let table = key === this.lastKey ? this.lastTable : this.lookup(key);
    if (table === undefined) {
      if (pte === 0) return;
      table = this.allocate(key);
    }
    table[vpn - key * PTES_PER_TABLE] = pte;
  }

  /** Makes sure the page-table page covering `vpn` exists (pte_alloc), so later sets cannot fail. Throws ENOMEM. */
  prepare(vpn: number): void {
    const key = Math.floor(vpn / PTES_PER_TABLE);
    if (this.lookup(key) === undefined) this.allocate(key);
  }

  /**
   * Calls `visit(vpn, pte)` for every present PTE of pages [firstVpn, endVpn), skipping missing
   * page-table pages whole and non-present entries (poison markers). `visit` may rewrite the entry
   * it is given.
   */
  forEachPresent(firstVpn: number, endVpn: number, visit: (vpn: number, pte: number) => void): void {
    let key = Math.floor(firstVpn / PTES_PER_TABLE);
    const lastKey = Math.floor((endVpn - 1) / PTES_PER_TABLE);
    for (; key <= lastKey; key++) {
      const table = this.tables.get(key);
      if (table === undefined) continue;
      const base = key * PTES_PER_TABLE;
      const from = Math.max(firstVpn, base) - base;
      const to = Math.min(endVpn, base + PTES_PER_TABLE) - base;
      for (let i = from; i < to; i++) {
        const pte = table[i]!;
        if (pte & Pte.Present) visit(base + i, pte);
      }
    }
  }

  /** Clears the poison markers ({@link makePoisonPte}) of pages [firstVpn, endVpn); returns how many there were. */
  clearMarkers(firstVpn: number, endVpn: number): number {
    let cleared = 0;
    const lastKey = Math.floor((endVpn - 1) / PTES_PER_TABLE);
    for (let key = Math.floor(firstVpn / PTES_PER_TABLE); key <= lastKey; key++) {
      const table = this.tables.get(key);
      if (table === undefined) continue;
      const base = key * PTES_PER_TABLE;
      const to = Math.min(endVpn, base + PTES_PER_TABLE) - base;
      for (let i = Math.max(firstVpn, base) - base; i < to; i++) {
        if (isPoisonPte(table[i]!)) {
          table[i] = 0;
          cleared++;
        }
      }
    }
    return cleared;
  }

  /**
   * Frees the page-table pages lying wholly or partly in [startVpn, endVpn) for which `inUse(first,
   * end)` says no mapping covers their span any more (free_pgtables). Their entries must be empty.
   */
  freeUnused(startVpn: number, endVpn: number, inUse: (firstVpn: number, endVpn: number) => boolean): void {
    const lastKey = Math.floor((endVpn - 1) / PTES_PER_TABLE);
    for (let key = Math.floor(startVpn / PTES_PER_TABLE); key <= lastKey; key++) {
      if (!this.tables.has(key) || inUse(key * PTES_PER_TABLE, (key + 1) * PTES_PER_TABLE)) continue;
      this.free(key);
    }
  }

  /** Frees every page-table page (the address space is going away). Their entries must be empty. */
  freeAll(): void {
    for (const key of [...this.tables.keys()]) this.free(key);
  }

  /** Calls `visit(firstVpn, table, pfn)` for each page-table page, for checks and reports. */
  forEachTable(visit: (firstVpn: number, table: Int32Array, pfn: number) => void): void {
    for (const [key, table] of this.tables) visit(key * PTES_PER_TABLE, table, this.tableFrames.get(key)!);
  }

  private lookup(key: number): Int32Array | undefined {
    const table = this.tables.get(key);
    if (table !== undefined) {
      this.lastKey = key;
      this.lastTable = table;
    }
    return table;
  }

  private allocate(key: number): Int32Array {
    if (key * TABLE_SPAN >= 2 ** 53) throw fail("EFAULT", `page table ${key} is beyond the address space`);
    // A user fault holds no lock: it may wait for reclaim (GFP_PGTABLE_USER).
    const pfn = this.pages.allocPages(0, Gfp.Kernel | Gfp.Zero | Gfp.MayThrottle, MemdescType.PageTable, this.spaceId);
    const section = this.memory.sectionOf(pfn);
    const table = new Int32Array(section.buffer, section.byteOffset + this.memory.offsetOf(pfn), PTES_PER_TABLE);
    this.tables.set(key, table);
    this.tableFrames.set(key, pfn);
    this.vm.stat[Stat.PageTables]++;
    this.lastKey = key;
    this.lastTable = table;
    return table;
  }

  private free(key: number): void {
    const pfn = this.tableFrames.get(key)!;
    const table = this.tables.get(key)!;
    if (table.some((pte) => pte !== 0)) throw fail("EBUSY", `page table at page ${key * PTES_PER_TABLE} of address space ${this.spaceId} still maps pages`);
    this.tables.delete(key);
    this.tableFrames.delete(key);
    if (this.lastKey === key) {
      this.lastKey = -1;
      this.lastTable = undefined;
    }
    this.vm.stat[Stat.PageTables]--;
    this.pages.freePages(pfn, 0);
  }
}
