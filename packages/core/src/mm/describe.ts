import { PAGE_SIZE } from "../units.js";
import { MEMDESC_TYPE_NAMES, MemdescType, PageFlag, type MemMap } from "./memmap.js";
import type { FolioTable } from "./folio.js";
import { MIGRATE_TYPE_NAMES, type PageAllocator } from "./page-alloc.js";
import type { OwnerRegistry } from "./page-owner.js";
import type { SlabAllocator } from "./slab.js";
import type { Vmalloc } from "./vmalloc.js";

/** What one frame says about itself. */
export interface FrameDescription {
  /** The frame described. */
  pfn: number;
  /** Memdesc type name: "folio", "slab", "buddy"… */
  type: string;
  /** Per-page flags set on the frame. */
  pageFlags: string[];
  /** Owner label when the frame belongs to an owner that has one. */
  owner?: string;
  /** Folio facts, for folio and hugetlb frames. */
  folio?: {
    /** Folio handle. */
    handle: number;
    /** First frame of the folio. */
    pfn: number;
    /** log2 of its frames. */
    order: number;
    /** Index of its first page in the owner's space. */
    index: number;
    /** Its flags, comma-separated ({@link FolioTable.flagNames}). */
    flags: string;
    /** References held. */
    refcount: number;
    /** Page-table entries mapping it. */
    mapcount: number;
    /** Which page of the folio this frame is, 0-based. */
    pageInFolio: number;
  };
  /** One sentence, e.g. `page 7 of folio at index 4 of inode 12 on fs-simple, dirty`. */
  text: string;
}

/** The parts of a machine `describe` reads. */
export interface DescribeSources {
  /** The struct page table: the frame's memdesc type and reference. */
  map: MemMap;
  /** The page allocator: pageblock migrate type and free-block order. */
  pages: PageAllocator;
  /** The folio table, for folio and hugetlb frames. */
  folios: FolioTable;
  /** The slab allocator, for slab frames. */
  slab: SlabAllocator;
  /** vmalloc, for frames backing a vm area. */
  vmalloc: Vmalloc;
  /** The owner registry, whose owners describe the pages they hold. */
  owners: OwnerRegistry;
}

/**
 * Says what frame `pfn` holds and who owns it, from its struct page alone: the memdesc type
 * picks the descriptor kind, the reference finds the descriptor, the descriptor finds the owner.
 */
export function describeFrame(m: DescribeSources, pfn: number): FrameDescription {
  m.map.checkPfn(pfn);
  const type = m.map.type[pfn]! as MemdescType;
  const ref = m.map.ref[pfn]!;
  const flagBits = m.map.flags[pfn]!;
  const pageFlags = (["head", "buddy", "hwpoison", "isolated"] as const).filter((_, i) => flagBits & (1 << i));
  const base = { pfn, type: MEMDESC_TYPE_NAMES[type], pageFlags: [...pageFlags] };
  const poison = flagBits & PageFlag.HwPoison ? " [hwpoison]" : "";
  switch (type) {
    case MemdescType.Buddy: {
      const head = m.pages.freeBlockHead(pfn);
      const order = head >= 0 ? m.map.order[head]! : 0;
      const mt = MIGRATE_TYPE_NAMES[m.pages.pageblockMigrateType(pfn)];
      return { ...base, text: `free: page ${pfn - head} of a free order-${order} block at pfn ${head} (${mt} pageblock)${poison}` };
    }
    case MemdescType.PerCpu:
      return { ...base, text: `free: on the per-CPU list (${MIGRATE_TYPE_NAMES[m.pages.pageblockMigrateType(pfn)]} pageblock)${poison}` };
    case MemdescType.Folio:
    case MemdescType.Hugetlb: {
      const f = m.folios;
      const head = f.pfn(ref);
      const order = f.order(ref);
      const folio = {
        handle: ref, pfn: head, order, index: f.index(ref), flags: f.flagNames(ref),
        refcount: f.refcount(ref), mapcount: f.mapcount(ref), pageInFolio: pfn - head,
      };
      const owner = m.owners.get(f.owner(ref));
      const what = type === MemdescType.Hugetlb ? "huge page" : order > 0 ? `order-${order} folio` : "folio";
      const whose = owner ? ` at index ${folio.index} of ${owner.label}` : type === MemdescType.Hugetlb && folio.refcount === 0 ? " (free in the hugetlb pool)" : " (no owner)";
      const state = folio.flags ? `, ${folio.flags.replace(/,/g, ", ")}` : "";
      return {
        ...base, folio, ...(owner ? { owner: owner.label } : {}),
        text: `page ${folio.pageInFolio} of ${what}${whose}${state}${poison}`,
      };
    }
    case MemdescType.Slab: {
      const s = m.slab.slabInfo(ref);
      const c = s.cache;
      return {
        ...base, owner: `slab cache ${c.name}`,
        text: `slab: page ${pfn - s.pfn} of ${s.state === "active" ? "an" : "a"} ${s.state} slab of cache ${c.name} (${s.inUse}/${c.objectsPerSlab} objects of ${c.size} bytes in use)${poison}`,
      };
    }
    case MemdescType.Vmalloc: {
      const a = m.vmalloc.info(ref);
      const i = m.vmalloc.framesOf(ref).indexOf(pfn);
      return { ...base, owner: `vmalloc area 0x${a.address.toString(16)}`, text: `vmalloc: page ${i} of ${a.nrPages} of the area at 0x${a.address.toString(16)}${poison}` };
    }
    case MemdescType.LargeKmalloc:
      return { ...base, text: `large kmalloc: page ${pfn - ref} of ${PAGE_SIZE << m.map.order[ref]!} bytes at physical 0x${(ref * PAGE_SIZE).toString(16)}${poison}` };
    case MemdescType.PageTable:
      return { ...base, owner: `address space ${ref}`, text: `page table of address space ${ref}${poison}` };
    case MemdescType.Reserved:
      return { ...base, text: `reserved: never handed to the allocator${poison}` };
    case MemdescType.Offline:
      return { ...base, text: `offline after a hardware memory error${poison}` };
  }
}
