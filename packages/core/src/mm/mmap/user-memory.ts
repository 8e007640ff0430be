/**
 * The user-memory subsystem of one machine (`machine.mm`): address spaces, the reverse map, the
 * shared zero page, and the bookkeeping every page-table entry change goes through — a folio's
 * reference and mapcount, the `nr_mapped` gauge — so that {@link UserMemory.verify} can recount it
 * all from the page tables.
 */
import { fail } from "../../errors.js";
import { PAGE_SIZE } from "../../units.js";
import type { AnonMemory, AnonRegion } from "../anon.js";
import { FolioFlag, type FolioTable } from "../folio.js";
import type { HugetlbPool } from "../hugetlb.js";
import { MemdescType, PageFlag, type MemMap } from "../memmap.js";
import { Gfp, type PageAllocator } from "../page-alloc.js";
import { PageOpCaller, PageOpResult, type OwnerRegistry, type PageOwner } from "../page-owner.js";
import type { PhysicalMemory } from "../physmem.js";
import type { MemoryFailure } from "../memory-failure.js";
import type { Reclaim } from "../reclaim.js";
import { Stat, type VmStat } from "../vmstat.js";
import { AddressSpace } from "./address-space.js";
import { HPAGE_PMD_ORDER, MADV_HUGEPAGE, MADV_NOHUGEPAGE, PROT_NONE, PROT_WRITE, type TransparentHugepageMode } from "./constants.js";
import { HugetlbRegion } from "./hugetlb-region.js";
import { Pte, isPoisonPte, makePte, ptePfn, type PageTables } from "./page-table.js";
import { ReverseMap, ZapMode } from "./rmap.js";
import type { MappableFile, Vma } from "./vma.js";

/** Folio flags of pages that never count in `nr_mapped` (NR_FILE_MAPPED): anonymous and hugetlb memory. */
const NOT_FILE = FolioFlag.SwapBacked | FolioFlag.Hugetlb;

/** The owner of the zero page: it refuses everything, as nothing may change or take that page. */
const ZERO_PAGE_OWNER: PageOwner = {
  label: "the shared zero page",
  dirty: () => PageOpResult.Failed,
  migrate: () => PageOpResult.Unsupported,
  release: () => PageOpResult.Unsupported,
};

/**
 * Address spaces and the reverse map of one machine. Users create address spaces with
 * {@link createAddressSpace}; the page cache reaches the reverse map through {@link rmap} and
 * {@link unmapMappingRange}; reclaim through the hooks the machine installs at boot.
 */
export class UserMemory {
  /** The reverse map: from a folio to the PTEs mapping it. */
  readonly rmap: ReverseMap;
  private readonly spaces = new Map<number, AddressSpace>();
  private nextSpaceId = 1;
  private zeroFolio = 0;
  /** VMAs referencing each mapped file: its `release` runs when the count drops to zero. */
  private readonly fileUsers = new Map<MappableFile, number>();
  /** Memory failure, for MADV_HWPOISON and MADV_SOFT_OFFLINE; set once at boot (it is built after this). */
  memoryFailure: MemoryFailure | undefined;
  /** The hugetlb pool that MAP_HUGETLB mappings take their pages from; set once at boot. */
  hugetlb: HugetlbPool | undefined;
  private thpMode: TransparentHugepageMode = "madvise";
  /** Bit `o` set: anonymous faults may allocate folios of order `o` (the enabled mTHP sizes). */
  private thpOrderMask = 1 << HPAGE_PMD_ORDER;

  /**
   * Built once per machine at boot ({@link Machine.boot}), which then connects {@link hugetlb} and
   * the transparent huge page settings; reach it as `machine.mm`.
   */
  constructor(
    /** The simulated RAM that user accesses read and write. */
    readonly memory: PhysicalMemory,
    /** The struct page table, for page-table frames and the frames user pages map. */
    readonly memmap: MemMap,
    /** The page allocator that page tables come from. */
    readonly pages: PageAllocator,
    /** The folio table of every folio a user page maps. */
    readonly folios: FolioTable,
    /** The owner registry: who answers a fault, a `dirty` or a `release` for a mapped folio. */
    readonly owners: OwnerRegistry,
    /** Reclaim, which learns of accesses through page-table entries. */
    readonly reclaim: Reclaim,
    /** Anonymous memory, whose regions back private and anonymous mappings. */
    readonly anon: AnonMemory,
    /** The counters (faults, PageTables, FileMapped) this subsystem updates. */
    readonly vm: VmStat,
  ) {
    this.rmap = new ReverseMap(this, folios, owners);
  }

  /**
   * Creates an empty address space (mm_struct) for one simulated process; `label` names it in
   * messages and reports. Throws EINVAL for an empty label.
   */
  createAddressSpace(label: string): AddressSpace {
    if (typeof label !== "string" || label === "") throw fail("EINVAL", "an address space needs a label, e.g. the process name");
    const id = this.nextSpaceId++;
    const space = new AddressSpace(this, id, label);
    this.spaces.set(id, space);
    return space;
  }

  /** The live address spaces, in creation order. */
  addressSpaces(): AddressSpace[] {
    return [...this.spaces.values()];
  }

  /** When anonymous faults may allocate transparent huge pages (/sys/kernel/mm/transparent_hugepage/enabled). */
  get transparentHugepage(): TransparentHugepageMode {
    return this.thpMode;
  }

  /** The large folio orders anonymous faults may use, largest first (the enabled hugepages-<size>kB entries). */
  get thpOrders(): number[] {
    const out: number[] = [];
    for (let o = HPAGE_PMD_ORDER; o >= 1; o--) if (this.thpOrderMask & (1 << o)) out.push(o);
    return out;
  }

  /**
   * Sets the transparent huge page mode and, optionally, the large folio orders an anonymous fault
   * may use (each 1..9; 9 is the 2 MiB THP, smaller ones are mTHP sizes). Affects later faults only.
   * Throws EINVAL for an unknown mode or a bad order, changing nothing.
   */
  setTransparentHugepage(mode: TransparentHugepageMode, orders?: readonly number[]): void {
    if (mode !== "always" && mode !== "madvise" && mode !== "never") throw fail("EINVAL", `transparent hugepage mode ${String(mode)} is not always, madvise or never`);
    let mask = this.thpOrderMask;
    if (orders !== undefined) {
      if (!Array.isArray(orders)) throw fail("EINVAL", "transparent hugepage orders must be an array of orders in 1..9");
      mask = 0;
      for (const o of orders) {
        if (!Number.isInteger(o) || o < 1 || o > HPAGE_PMD_ORDER) throw fail("EINVAL", `transparent hugepage order ${String(o)} is outside 1..${HPAGE_PMD_ORDER}`);
        mask |= 1 << o;
      }
    }
    this.thpMode = mode;
    this.thpOrderMask = mask;
  }

  /**
   * The large folio orders (bit o for order o) a store fault in `vma` may try
   * (thp_vma_allowable_orders): private anonymous memory only — not file mappings, their private
   * copies (copy on write stays order 0), shared anonymous memory (Linux's shmem has its own
   * setting, off by default) or hugetlb — under mode "always" unless MADV_NOHUGEPAGE, under
   * "madvise" only with MADV_HUGEPAGE. 0 when none.
   */
  thpOrdersFor(vma: Vma): number {
    if (this.thpMode === "never" || vma.file !== null || vma.shared || vma.huge !== null || vma.hugepage === MADV_NOHUGEPAGE) return 0;
    if (this.thpMode === "madvise" && vma.hugepage !== MADV_HUGEPAGE) return 0;
    return this.thpOrderMask;
  }

  /**
   * The region of a new MAP_HUGETLB mapping of `nrHuge` huge pages, reserving them in the pool
   * unless `noreserve` (hugetlb_reserve_pages). Throws ENOMEM when the pool cannot cover them (or the
   * machine has no pool), creating nothing.
   */
  createHugetlbRegion(label: string, nrHuge: number, noreserve: boolean): HugetlbRegion {
    if (this.hugetlb === undefined) throw fail("ENOMEM", "this machine has no hugetlb pool");
    return new HugetlbRegion(this.hugetlb, this.folios, this.memory, this.owners, label, nrHuge, noreserve);
  }

  /**
   * Unmaps pages [first, last] of the file whose folios have owner id `ownerId` from every
   * address space (unmap_mapping_range); see {@link ReverseMap.unmapMappingRange}. The page cache
   * calls it when a file shrinks or a hole is punched.
   */
  unmapMappingRange(ownerId: number, first: number, last: number, evenCows: boolean): void {
    this.rmap.unmapMappingRange(ownerId, first, last, evenCows);
  }

  /** True if some VMA maps (or may map) folios of owner `ownerId`. */
  isMapped(ownerId: number): boolean {
    return this.rmap.vmasOf(ownerId).length > 0;
  }

  // ── Page-table entry bookkeeping (used by address spaces and the reverse map) ──

  /** The frame of the shared zero page (ZERO_PAGE), allocated on first use. */
  zeroPagePfn(): number {
    if (this.zeroFolio === 0) {
      const owner = this.owners.register(ZERO_PAGE_OWNER);
      try {
        this.zeroFolio = this.folios.alloc(0, Gfp.Kernel | Gfp.Zero, owner, 0, FolioFlag.Uptodate | FolioFlag.Unevictable);
      } catch (e) {
        this.owners.unregister(owner);
        throw e;
      }
    }
    return this.folios.pfn(this.zeroFolio);
  }

  /**
   * Installs a PTE mapping frame `pfn` of `folio` at page `vpn` with flag bits `bits`
   * (set_pte_range + folio_add_*_rmap_ptes): the entry takes a reference, the folio's mapcount
   * grows by one, and a page-cache folio mapped for the first time counts in `nr_mapped`. The
   * page-table page is allocated first, so ENOMEM changes nothing.
   */
  mapPage(pt: PageTables, vpn: number, folio: number, pfn: number, bits: number): void {
    pt.set(vpn, makePte(pfn, bits));
    const f = this.folios;
    f.get(folio);
    if (f.addMapcount(folio, 1) === 1 && (f.flags(folio) & NOT_FILE) === 0) this.vm.stat[Stat.FileMapped] += f.nrPages(folio);
  }

  /** Maps the shared zero page read-only at page `vpn` (no reference, no mapcount: a special PTE). */
  mapZeroPage(pt: PageTables, vpn: number, bits: number): void {
    pt.set(vpn, makePte(this.zeroPagePfn(), (bits | Pte.Special) & ~(Pte.Write | Pte.Dirty)));
  }

  /**
   * Clears the present PTE `pte` of page `vpn` (zap_present_pte): with {@link ZapMode.Transfer}, a
   * dirty bit dirties the folio through its owner and an accessed bit counts as a use for reclaim;
   * then the entry's mapcount and reference go (which may free the folio).
   */
  unmapPage(pt: PageTables, vpn: number, pte: number, mode: ZapMode): void {
    pt.set(vpn, 0);
    if (pte & Pte.Special) return;
    const f = this.folios;
    const folio = f.fromPfn(ptePfn(pte));
    if (mode === ZapMode.Transfer) {
      if (pte & Pte.Dirty) this.owners.get(f.owner(folio))?.dirty(folio, { caller: PageOpCaller.UserMapping });
      if (pte & Pte.Accessed) this.reclaim.markAccessed(folio);
    }
    if (f.addMapcount(folio, -1) === 0 && (f.flags(folio) & NOT_FILE) === 0) this.vm.stat[Stat.FileMapped] -= f.nrPages(folio);
    f.put(folio);
  }

  // ── VMA membership (used by address spaces) ──

  /** A VMA came into being (mmap or split): the reverse map and the file's user count learn of it. */
  attach(vma: Vma): void {
    if (vma.file !== null) {
      this.rmap.link(vma, vma.file.ownerId);
      this.fileUsers.set(vma.file, (this.fileUsers.get(vma.file) ?? 0) + 1);
    }
    if (vma.anon !== null) this.rmap.link(vma, vma.anon.id);
    if (vma.huge !== null) this.rmap.link(vma, vma.huge.id);
  }

  /** A VMA got its anonymous region (its first anonymous or copied page). */
  attachRegion(vma: Vma, region: AnonRegion): void {
    vma.anon = region;
    this.rmap.link(vma, region.id);
  }

  /**
   * A VMA is gone (munmap, exit); its PTEs must be cleared already. The last VMA of a region
   * destroys it (its pages and swap slots are freed); the last VMA of a file releases the file.
   */
  detach(vma: Vma): void {
    if (vma.anon !== null && this.rmap.unlink(vma, vma.anon.id) === 0) vma.anon.destroy();
    if (vma.huge !== null && this.rmap.unlink(vma, vma.huge.id) === 0) vma.huge.destroy();
    if (vma.file !== null) {
      this.rmap.unlink(vma, vma.file.ownerId);
      const users = (this.fileUsers.get(vma.file) ?? 1) - 1;
      if (users > 0) {
        this.fileUsers.set(vma.file, users);
      } else {
        this.fileUsers.delete(vma.file);
        vma.file.release?.();
      }
    }
  }

  /** An address space was destroyed. */
  forget(space: AddressSpace): void {
    this.spaces.delete(space.id);
  }

  // ── Checks ──

  /**
   * Recounts everything the page tables imply and returns each disagreement (empty when all is
   * well); `machine.verify()` includes it. Checks that:
   *  - every poison marker lies in a VMA; every present PTE lies in a VMA whose protection allows it, maps a live folio at the index
   *    the VMA says (the file's page, or the region's), and is writable or dirty only when the folio
   *    is dirty — so writeback can never miss a store; zero-page entries are read-only, in
   *    anonymous memory;
   *  - each folio's mapcount (hugetlb pages' included) equals the PTEs mapping its pages, and its
   *    refcount covers them; a hugetlb page is mapped only by its own MAP_HUGETLB mapping;
   *  - `nr_mapped` and `nr_page_table_pages` equal recounts, and page-table frames name their space;
   *  - the reverse map lists exactly the live VMAs.
   */
  verify(): string[] {
    const problems: string[] = [];
    const bad = (msg: string) => {
      if (problems.length < 50) problems.push(msg);
    };
    const f = this.folios;
    const ptes = new Map<number, number>();
    let tables = 0;
    const zeroPfn = this.zeroFolio === 0 ? -1 : f.pfn(this.zeroFolio);
    const linked = new Map<number, Set<Vma>>();
    const expectLink = (owner: number, vma: Vma) => {
      let s = linked.get(owner);
      if (s === undefined) linked.set(owner, (s = new Set()));
      s.add(vma);
    };
    for (const space of this.spaces.values()) {
      for (const vma of space.mappings()) {
        if (vma.file !== null) expectLink(vma.file.ownerId, vma);
        if (vma.anon !== null) expectLink(vma.anon.id, vma);
        if (vma.huge !== null) expectLink(vma.huge.id, vma);
      }
      space.pageTables.forEachTable((firstVpn, table, pfn) => {
        tables++;
        if (this.memmap.type[pfn] !== MemdescType.PageTable || this.memmap.ref[pfn] !== space.id) {
          bad(`page table of ${space.label} at frame ${pfn} is not a page-table frame of address space ${space.id}`);
        }
        for (let i = 0; i < table.length; i++) {
          const pte = table[i]!;
          if (pte !== 0) this.checkPte(space, firstVpn + i, pte, zeroPfn, ptes, bad);
        }
      });
    }
    let mappedPages = 0;
    const map = this.memmap;
    for (let pfn = 0; pfn < map.frames; pfn++) {
      // Hugetlb pages in use are mapped too; free pool pages have no entries and no mapcount.
      if ((map.type[pfn] !== MemdescType.Folio && map.type[pfn] !== MemdescType.Hugetlb) || !(map.flags[pfn]! & PageFlag.Head)) continue;
      const folio = map.ref[pfn]!;
      const counted = ptes.get(folio) ?? 0;
      const mapcount = f.mapcount(folio);
      if (mapcount !== counted) bad(`folio ${folio} (pfn ${pfn}) has mapcount ${mapcount} but ${counted} page-table entries map it`);
      if (counted > 0 && f.refcount(folio) < counted + 1) bad(`folio ${folio} is mapped ${counted} times but has only ${f.refcount(folio)} references`);
      if (counted > 0 && (f.flags(folio) & NOT_FILE) === 0) mappedPages += f.nrPages(folio);
    }
    if (this.vm.stat[Stat.FileMapped] !== mappedPages) bad(`nr_mapped is ${this.vm.stat[Stat.FileMapped]} but a recount finds ${mappedPages}`);
    if (this.vm.stat[Stat.PageTables] !== tables) bad(`nr_page_table_pages is ${this.vm.stat[Stat.PageTables]} but the address spaces hold ${tables}`);
    for (const [owner, list] of this.rmap.entries()) {
      const want = linked.get(owner);
      if (list.length !== (want?.size ?? 0) || list.some((v) => !want?.has(v))) bad(`the reverse map of owner ${owner} lists ${list.length} VMAs, the address spaces ${want?.size ?? 0}`);
    }
    for (const [owner, want] of linked) if (this.rmap.vmasOf(owner).length !== want.size) bad(`owner ${owner} is mapped by ${want.size} VMAs the reverse map does not list`);
    return problems;
  }

  private checkPte(space: AddressSpace, vpn: number, pte: number, zeroPfn: number, ptes: Map<number, number>, bad: (msg: string) => void): void {
    const at = `${space.label}: PTE at 0x${(vpn * PAGE_SIZE).toString(16)}`;
    const vma = space.vmaAt(vpn * PAGE_SIZE);
    if (isPoisonPte(pte)) {
      if (vma === undefined) bad(`${at} is a poison marker in no mapping`);
      return;
    }
    if (!(pte & Pte.Present)) return bad(`${at} is not present but not empty (${pte})`);
    if (vma === undefined) return bad(`${at} lies in no mapping`);
    const writable = (pte & Pte.Write) !== 0;
    if (writable && !(vma.prot & PROT_WRITE)) bad(`${at} is writable in a mapping without PROT_WRITE`);
    if (vma.prot === PROT_NONE) bad(`${at} is present in a PROT_NONE mapping`);
    const pfn = ptePfn(pte);
    if (pte & Pte.Special) {
      if (pfn !== zeroPfn) bad(`${at} is special but does not map the zero page`);
      if (pte & (Pte.Write | Pte.Dirty)) bad(`${at} maps the zero page writable or dirty`);
      if (vma.file !== null) bad(`${at} maps the zero page in a file mapping`);
      return;
    }
    const f = this.folios;
    const folio = f.fromPfn(pfn);
    if (folio === 0 || f.refcount(folio) <= 0) return bad(`${at} maps frame ${pfn}, which is no live folio`);
    ptes.set(folio, (ptes.get(folio) ?? 0) + 1);
    const index = f.index(folio) + (pfn - f.pfn(folio));
    const owner = f.owner(folio);
    const anon = f.test(folio, FolioFlag.SwapBacked);
    if (f.test(folio, FolioFlag.Hugetlb)) {
      if (vma.huge === null || owner !== vma.huge.id || index !== vma.anonIndexOf(vpn)) bad(`${at} maps huge page frame ${index} of owner ${owner}, not page ${vma.anonIndexOf(vpn)} of its hugetlb mapping`);
    } else if (anon) {
      if (vma.anon === null || owner !== vma.anon.id || index !== vma.anonIndexOf(vpn)) bad(`${at} maps anonymous page ${index} of owner ${owner}, not page ${vma.anonIndexOf(vpn)} of its region`);
    } else {
      if (vma.file === null || owner !== vma.file.ownerId || index !== vma.pgoffOf(vpn)) bad(`${at} maps file page ${index} of owner ${owner}, not page ${vma.pgoffOf(vpn)} of the mapped file`);
      if (!vma.shared && writable) bad(`${at} maps a page-cache page writable in a private mapping`);
      if (!vma.shared && vma.anon !== null && vma.anon.has(vma.anonIndexOf(vpn))) bad(`${at} maps the file's page where the private mapping has its own copy`);
    }
    if ((pte & (Pte.Write | Pte.Dirty)) !== 0 && !f.test(folio, FolioFlag.Dirty)) bad(`${at} is ${writable ? "writable" : "dirty"} but folio ${folio} is clean: a store could be lost`);
  }
}
