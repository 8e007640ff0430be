/**
 * The reverse map (mm/rmap.c): from a folio to every page-table entry that maps one of its pages.
 *
 * Linux keeps two structures: a file's `i_mmap` tree of the VMAs mapping it, and an anonymous
 * page's `anon_vma` chain. Folio keeps both in one table keyed by the folio's owner id: for a
 * page-cache folio the owner is the file's mapping, so the list is that file's VMAs (i_mmap); for
 * an anonymous folio the owner is its {@link AnonRegion}, so the list is the VMAs sharing that
 * region (the anon_vma). A folio's index then gives, in each VMA, the one address where its pages
 * can be mapped; the PTE there maps the folio if its frame number lies in the folio. Lists are
 * short (the VMAs of one file or one region), so a list stands in for Linux's interval tree.
 *
 * Users: reclaim (`folioReferenced`, `tryToUnmap`), writeback (`mkclean`), truncate
 * (`unmapMappingRange`, `unmapFolio`), migration (`takeDownPtes`, `restorePtes`) and memory
 * failure (`walk`).
 */
import type { FolioTable } from "../folio.js";
import { PageOpCaller, type OwnerRegistry } from "../page-owner.js";
import { Pte, ptePfn, type PageTables } from "./page-table.js";
import type { UserMemory } from "./user-memory.js";
import type { Vma } from "./vma.js";

/**
 * Called for each PTE mapping a page of the walked folio: the VMA, the page number in its address
 * space, and the entry as it is now. Return true to stop the walk.
 */
export type RmapVisitor = (vma: Vma, vpn: number, pte: number) => boolean | void;

/** How a PTE being cleared hands its hardware bits to the folio. */
export const enum ZapMode {
  /** A dirty bit dirties the folio through its owner; an accessed bit counts as a use. */
  Transfer,
  /** The folio is going away with the PTE (discarded anonymous memory, truncated data): nothing to hand over. */
  Drop,
}

/** The PTEs of a folio taken down for migration, to be put back on the new folio or the old one. */
export interface MigrationPtes {
  /** Entry i's page tables. */
  readonly tables: PageTables[];
  /** Entry i's page number, flag bits and page offset in the folio, at `3i`, `3i + 1`, `3i + 2`. */
  readonly words: number[];
}

/** One machine's reverse map. Created with {@link UserMemory}; reached as `machine.mm.rmap`. */
export class ReverseMap {
  /** VMAs by the owner id of the folios they may map: a file's mapping id (i_mmap), a region's id (anon_vma). */
  private readonly vmasByOwner = new Map<number, Vma[]>();

  /** Called by {@link UserMemory}'s constructor: one reverse map per machine. */
  constructor(
    private readonly mm: UserMemory,
    private readonly folios: FolioTable,
    private readonly owners: OwnerRegistry,
  ) {}

  /** Records that `vma` may map folios of owner `ownerId` (vma_link into i_mmap, anon_vma_chain_link). */
  link(vma: Vma, ownerId: number): void {
    const list = this.vmasByOwner.get(ownerId);
    if (list === undefined) this.vmasByOwner.set(ownerId, [vma]);
    else list.push(vma);
  }

  /** Forgets `vma` for owner `ownerId`; returns how many VMAs that owner still has. */
  unlink(vma: Vma, ownerId: number): number {
    const list = this.vmasByOwner.get(ownerId);
    if (list === undefined) return 0;
    const i = list.indexOf(vma);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.vmasByOwner.delete(ownerId);
    return list.length;
  }

  /** The VMAs that may map folios of owner `ownerId` (empty when none). */
  vmasOf(ownerId: number): readonly Vma[] {
    return this.vmasByOwner.get(ownerId) ?? [];
  }

  /** Owner ids with at least one VMA, with their lists (for verify). */
  entries(): IterableIterator<[number, Vma[]]> {
    return this.vmasByOwner.entries();
  }

  /**
   * Calls `visit` for every present PTE that maps a page of `folio` (rmap_walk), in VMA order and
   * page order, until it returns true. The special zero-page entries are never visited.
   */
  walk(folio: number, visit: RmapVisitor): void {
    const f = this.folios;
    const owner = f.owner(folio);
    const list = this.vmasByOwner.get(owner);
    if (list === undefined) return;
    const first = f.index(folio);
    const nr = f.nrPages(folio);
    const pfn = f.pfn(folio);
    for (const vma of [...list]) {
      const base = vma.file !== null && vma.file.ownerId === owner ? vma.pgoff : vma.anonIndex;
      const lo = Math.max(first, base);
      const hi = Math.min(first + nr, base + vma.nrPages);
      const pt = vma.space.pageTables;
      for (let i = lo; i < hi; i++) {
        const vpn = vma.startVpn + (i - base);
        const pte = pt.get(vpn);
        if ((pte & (Pte.Present | Pte.Special)) === Pte.Present && ptePfn(pte) === pfn + (i - first)) {
          if (visit(vma, vpn, pte) === true) return;
        }
      }
    }
  }

  /**
   * Tests and clears the accessed bit of every PTE mapping `folio` (folio_referenced); returns how
   * many had it. Reclaim calls it for a mapped victim: non-zero means the page was used since the
   * last scan, and it stays.
   */
  folioReferenced(folio: number): number {
    let referenced = 0;
    this.walk(folio, (vma, vpn, pte) => {
      if (pte & Pte.Accessed) {
        vma.space.pageTables.set(vpn, pte & ~Pte.Accessed);
        referenced++;
      }
    });
    return referenced;
  }

  /**
   * Clears every PTE mapping `folio` (try_to_unmap): a dirty bit among them dirties the folio
   * through its owner's public `dirty` (caller UserMapping) before this returns, so the owner's
   * release decision sees it; each entry's reference and mapcount go. Returns true when the folio
   * is mapped nowhere any more. The caller holds a reference (reclaim's isolation reference).
   */
  tryToUnmap(folio: number): boolean {
    const f = this.folios;
    let dirty = false;
    f.get(folio);
    try {
      this.walk(folio, (vma, vpn, pte) => {
        if (pte & Pte.Dirty) dirty = true;
        this.mm.unmapPage(vma.space.pageTables, vpn, pte, ZapMode.Drop);
      });
      if (dirty) this.owners.get(f.owner(folio))?.dirty(folio, { caller: PageOpCaller.UserMapping });
      return f.mapcount(folio) === 0;
    } finally {
      f.put(folio);
    }
  }

  /**
   * Write-protects and cleans every PTE of a shared mapping that maps `folio` (folio_mkclean), so
   * the next store through any of them faults and dirties the folio again. Writeback calls it
   * before it clears the folio's dirty flag for I/O. Returns how many entries were dirty.
   */
  mkclean(folio: number): number {
    let cleaned = 0;
    this.walk(folio, (vma, vpn, pte) => {
      if (!vma.shared || !(pte & (Pte.Write | Pte.Dirty))) return;
      if (pte & Pte.Dirty) cleaned++;
      vma.space.pageTables.set(vpn, pte & ~(Pte.Write | Pte.Dirty));
    });
    return cleaned;
  }

  /**
   * Takes down every PTE mapping `folio` for migration (try_to_migrate): each entry's reference and
   * mapcount go, and its bits (write, dirty, accessed) are kept in the returned record, so that
   * {@link restorePtes} can put the same entries back on the new folio — or on this one if the move
   * fails (remove_migration_ptes). Nothing runs between the two (the simulation is one thread and
   * migration does not wait), so no fault can observe the gap.
   */
  takeDownPtes(folio: number): MigrationPtes {
    const saved: MigrationPtes = { tables: [], words: [] };
    const f = this.folios;
    const pfn = f.pfn(folio);
    f.get(folio);
    try {
      this.walk(folio, (vma, vpn, pte) => {
        const pt = vma.space.pageTables;
        saved.tables.push(pt);
        saved.words.push(vpn, pte & (Pte.Write | Pte.Dirty | Pte.Accessed), ptePfn(pte) - pfn);
        this.mm.unmapPage(pt, vpn, pte, ZapMode.Drop);
      });
    } finally {
      f.put(folio);
    }
    return saved;
  }

  /**
   * Maps the entries {@link takeDownPtes} took down onto the frames starting at `folio`'s first
   * frame (the new folio, or the old one after a failure, or the pieces of a split folio, each entry
   * taking a reference on the folio its frame now belongs to), same pages, same bits.
   */
  restorePtes(saved: MigrationPtes, folio: number): void {
    const f = this.folios;
    const base = f.pfn(folio);
    for (let i = 0; i < saved.tables.length; i++) {
      const w = i * 3;
      const pfn = base + saved.words[w + 2]!;
      this.mm.mapPage(saved.tables[i]!, saved.words[w]!, f.fromPfn(pfn), pfn, saved.words[w + 1]!);
    }
  }

  /**
   * Clears every PTE mapping `folio`, whose data is going away (unmap_mapping_folio, from truncate
   * and from removal of a folio that is still mapped). Dirty bits are not handed over.
   */
  unmapFolio(folio: number): void {
    const f = this.folios;
    f.get(folio);
    try {
      this.walk(folio, (vma, vpn, pte) => this.mm.unmapPage(vma.space.pageTables, vpn, pte, ZapMode.Drop));
    } finally {
      f.put(folio);
    }
  }

  /**
   * Unmaps pages [first, last] of the file whose folios have owner id `ownerId` from every VMA
   * mapping them (unmap_mapping_range). With `evenCows`, private mappings also lose their own
   * copies of those pages (truncate: a private copy beyond the new end of file is gone too);
   * without, only PTEs that map the file's own folios go (hole punch). With `evenCows` the poison
   * markers of lost pages in the range go too (the pages no longer exist). Dirty bits of the file's
   * pages reach the folios first. Allocates nothing when the file is not mapped.
   */
  unmapMappingRange(ownerId: number, first: number, last: number, evenCows: boolean): void {
    const list = this.vmasByOwner.get(ownerId);
    if (list === undefined) return;
    for (const vma of [...list]) {
      if (vma.file === null || vma.file.ownerId !== ownerId) continue;
      const lo = Math.max(first, vma.pgoff);
      const hi = Math.min(last, vma.pgoff + vma.nrPages - 1);
      if (lo > hi) continue;
      const startVpn = vma.startVpn + (lo - vma.pgoff);
      const endVpn = startVpn + (hi - lo + 1);
      const pt = vma.space.pageTables;
      pt.forEachPresent(startVpn, endVpn, (vpn, pte) => {
        if (pte & Pte.Special) return;
        const own = this.folios.owner(this.folios.fromPfn(ptePfn(pte))) === ownerId;
        if (own) this.mm.unmapPage(pt, vpn, pte, ZapMode.Transfer);
        else if (evenCows) this.mm.unmapPage(pt, vpn, pte, ZapMode.Drop);
      });
      if (evenCows) pt.clearMarkers(startVpn, endVpn); // the pages are gone: no poison to report there any more
      if (evenCows && !vma.shared && vma.anon !== null) vma.anon.discard(vma.anonIndexOf(startVpn), endVpn - startVpn);
    }
  }
}
