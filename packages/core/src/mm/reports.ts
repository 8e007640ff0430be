import { PAGE_SIZE } from "../units.js";
import type { HugetlbPool } from "./hugetlb.js";
import { HUGETLB_ORDER } from "./hugetlb.js";
import { MIGRATE_TYPE_NAMES, NR_MIGRATE_TYPES, NR_ORDERS, PAGEBLOCK_ORDER, type PageAllocator } from "./page-alloc.js";
import { Stat, type VmStat } from "./vmstat.js";

/** /proc/meminfo as an object; every value in KiB except the HugePages_ counts. */
export interface Meminfo {
  /** All frames of the machine, reserved ones included. */
  MemTotal: number;
  /** Free pages, the per-CPU lists included. */
  MemFree: number;
  /** Free memory above the low watermark plus what reclaim could free of the page cache and reclaimable slab (si_mem_available). */
  MemAvailable: number;
  /** The page cache (FilePages), dirty pages included. */
  Cached: number;
  /** Active(anon) + Active(file): LRU pages the eviction policy counts as active ({@link Stat.ActiveFile}). */
  Active: number;
  /** Anonymous and file pages on the LRU. */
  Inactive: number;
  /** 0 (see Active). */
  "Active(anon)": number;
  /** Anonymous pages on the LRU. */
  "Inactive(anon)": number;
  /** 0 (see Active); the default policy counts its own active list ({@link LinuxPolicy.counters}). */
  "Active(file)": number;
  /** Page-cache pages on the LRU. */
  "Inactive(file)": number;
  /** Page-cache memory dirty and not yet under writeback. */
  Dirty: number;
  /** Memory under write I/O. */
  Writeback: number;
  /** Resident anonymous memory. */
  AnonPages: number;
  /** Anonymous memory in 2 MiB transparent huge pages (PTE-mapped here). */
  AnonHugePages: number;
  /** Page-cache pages mapped into address spaces. */
  Mapped: number;
  /** SReclaimable + SUnreclaim. */
  Slab: number;
  /** Slabs of caches whose objects a shrinker can free. */
  SReclaimable: number;
  /** Slabs of every other cache. */
  SUnreclaim: number;
  /** kmalloc allocations of 64 KiB or more, served by the page allocator (Folio's own line; Linux counts them nowhere). */
  KmallocLarge: number;
  /** Frames holding user page tables. */
  PageTables: number;
  /** Pages backing vmalloc areas. */
  VmallocUsed: number;
  /** Frames taken offline after memory errors. */
  HardwareCorrupted: number;
  /** Frames never handed to the allocator (Folio's own line). */
  Reserved: number;
  /** Huge pages in the hugetlb pool (a count, not KiB). */
  HugePages_Total: number;
  /** Huge pages of the pool not in use (a count). */
  HugePages_Free: number;
  /** Free huge pages promised to reservations (a count). */
  HugePages_Rsvd: number;
  /** Surplus huge pages (overcommit): always 0, as the pool never overcommits here. */
  HugePages_Surp: number;
  /** Size of one huge page: 2048 KiB. */
  Hugepagesize: number;
  /** Memory in the hugetlb pool, free or in use: HugePages_Total × Hugepagesize. */
  Hugetlb: number;
}

const KIB = PAGE_SIZE / 1024;

/**
 * Builds /proc/meminfo from the gauges. MemFree counts the per-CPU lists too (Linux leaves them
 * out); MemAvailable follows si_mem_available: free memory above the low watermark plus the
 * halves of the page cache and reclaimable slab that reclaim could free.
 */
export function meminfo(frames: number, vm: VmStat, pages: PageAllocator, hugetlb: HugetlbPool): Meminfo {
  vm.refresh();
  const s = vm.stat;
  const free = s[Stat.FreePages]! + s[Stat.PerCpuPages]!;
  const file = s[Stat.FilePages]!;
  const available = Math.max(0, free - pages.watermarks.low + file - Math.min(file / 2, pages.watermarks.low) + s[Stat.SlabReclaimable]! / 2);
  const k = (pagesCount: number) => Math.round(pagesCount * KIB);
  return {
    MemTotal: k(frames),
    MemFree: k(free),
    MemAvailable: k(available),
    Cached: k(file),
    Active: k(s[Stat.ActiveAnon]! + s[Stat.ActiveFile]!),
    Inactive: k(s[Stat.InactiveAnon]! + s[Stat.InactiveFile]!),
    "Active(anon)": k(s[Stat.ActiveAnon]!),
    "Inactive(anon)": k(s[Stat.InactiveAnon]!),
    "Active(file)": k(s[Stat.ActiveFile]!),
    "Inactive(file)": k(s[Stat.InactiveFile]!),
    Dirty: k(s[Stat.Dirty]!),
    Writeback: k(s[Stat.Writeback]!),
    AnonPages: k(s[Stat.AnonPages]!),
    AnonHugePages: k(s[Stat.AnonThps]! << HUGETLB_ORDER),
    Mapped: k(s[Stat.FileMapped]!),
    Slab: k(s[Stat.SlabReclaimable]! + s[Stat.SlabUnreclaimable]!),
    SReclaimable: k(s[Stat.SlabReclaimable]!),
    SUnreclaim: k(s[Stat.SlabUnreclaimable]!),
    KmallocLarge: k(s[Stat.LargeKmalloc]!),
    PageTables: k(s[Stat.PageTables]!),
    VmallocUsed: k(s[Stat.VmallocPages]!),
    HardwareCorrupted: k(s[Stat.HwPoisoned]!),
    Reserved: k(s[Stat.Reserved]!),
    HugePages_Total: hugetlb.total,
    HugePages_Free: hugetlb.free,
    HugePages_Rsvd: hugetlb.reserved,
    HugePages_Surp: 0,
    Hugepagesize: (PAGE_SIZE << HUGETLB_ORDER) / 1024,
    Hugetlb: ((PAGE_SIZE << HUGETLB_ORDER) / 1024) * hugetlb.total,
  };
}

/** Formats {@link Meminfo} as /proc/meminfo prints it. */
export function formatMeminfo(info: Meminfo): string {
  return Object.entries(info)
    .map(([key, v]) => `${`${key}:`.padEnd(18)}${String(v).padStart(9)}${key.startsWith("HugePages_") ? "" : " kB"}`)
    .join("\n");
}

/** /proc/buddyinfo: free blocks per order, all migrate types together. */
export function buddyinfo(pages: PageAllocator): number[] {
  return Array.from({ length: NR_ORDERS }, (_, o) => pages.freeBlocks(o));
}

/** Formats {@link buddyinfo} as /proc/buddyinfo prints it. */
export function formatBuddyinfo(counts: number[]): string {
  return `Node 0, zone   Normal ${counts.map((c) => String(c).padStart(6)).join(" ")}`;
}

/** /proc/pagetypeinfo: free blocks per migrate type and order, and pageblocks per type. */
export interface PageTypeInfo {
  /** log2 of the frames in a pageblock (9: 2 MiB). */
  pageblockOrder: number;
  /** Per migrate type name ("Unmovable", …): free blocks of each order 0..MAX_ORDER. */
  freeBlocks: Record<string, number[]>;
  /** Per migrate type name: pageblocks of that type. */
  pageblocks: Record<string, number>;
}

/** Reads {@link PageTypeInfo} from the allocator's free lists and pageblock types; changes nothing. */
export function pagetypeinfo(pages: PageAllocator): PageTypeInfo {
  const freeBlocks: Record<string, number[]> = {};
  const pageblocks: Record<string, number> = {};
  for (let mt = 0; mt < NR_MIGRATE_TYPES; mt++) {
    const name = MIGRATE_TYPE_NAMES[mt]!;
    freeBlocks[name] = Array.from({ length: NR_ORDERS }, (_, o) => pages.freeBlocks(o, mt));
    pageblocks[name] = 0;
  }
  for (let b = 0; b < pages.pageblocks; b++) pageblocks[MIGRATE_TYPE_NAMES[pages.pageblockMigrateType(b << PAGEBLOCK_ORDER)]]!++;
  return { pageblockOrder: PAGEBLOCK_ORDER, freeBlocks, pageblocks };
}

/** Formats {@link PageTypeInfo} like /proc/pagetypeinfo. */
export function formatPagetypeinfo(info: PageTypeInfo): string {
  const lines = [`Page block order: ${info.pageblockOrder}`, `Pages per block:  ${1 << info.pageblockOrder}`, ""];
  lines.push(`Free pages count per migrate type at order ${Array.from({ length: NR_ORDERS }, (_, o) => String(o).padStart(6)).join(" ")}`);
  for (const [name, counts] of Object.entries(info.freeBlocks)) {
    lines.push(`Node    0, zone   Normal, type ${name.padStart(12)} ${counts.map((c) => String(c).padStart(6)).join(" ")}`);
  }
  lines.push("", `Number of blocks type  ${Object.keys(info.pageblocks).map((n) => n.padStart(12)).join(" ")}`);
  lines.push(`Node 0, zone   Normal  ${Object.values(info.pageblocks).map((c) => String(c).padStart(12)).join(" ")}`);
  return lines.join("\n");
}

/**
 * What the free lists hold with respect to one order (Linux's contig_page_info): free pages, free
 * blocks, and how many blocks of 2^order the free blocks of that order or larger could serve.
 * Per-CPU pages are not counted, as Linux leaves them out.
 */
export interface ContigPageInfo {
  /** Pages in the buddy free lists. */
  freePages: number;
  /** Free blocks of any order. */
  freeBlocksTotal: number;
  /** Blocks of 2^order that the free blocks of that order or larger could be split into. */
  freeBlocksSuitable: number;
}

/** Fills {@link ContigPageInfo} for `order` from the buddy lists (fill_contig_page_info). */
export function contigPageInfo(pages: PageAllocator, order: number): ContigPageInfo {
  let freePages = 0;
  let freeBlocksTotal = 0;
  let freeBlocksSuitable = 0;
  for (let o = 0; o < NR_ORDERS; o++) {
    const blocks = pages.freeBlocks(o);
    freeBlocksTotal += blocks;
    freePages += blocks << o;
    if (o >= order) freeBlocksSuitable += blocks << (o - order);
  }
  return { freePages, freeBlocksTotal, freeBlocksSuitable };
}

/**
 * Linux's fragmentation index (__fragmentation_index) ×1000, for an allocation of 2^order that
 * cannot be served: towards 0 it would fail for lack of memory, towards 1000 because free memory
 * is fragmented. −1000 when a free block of the order exists (the index does not apply), 0 when
 * nothing is free. Compaction skips costly orders whose index is at or below 500 (reclaim's job).
 */
export function fragmentationIndex(info: ContigPageInfo, order: number): number {
  if (info.freeBlocksTotal === 0) return 0;
  if (info.freeBlocksSuitable > 0) return -1000;
  return 1000 - Math.floor((1000 + Math.floor((info.freePages * 1000) / 2 ** order)) / info.freeBlocksTotal);
}

/**
 * Linux's unusable free space index (unusable_free_index) ×1000: the share of free memory in
 * blocks too small for 2^order. 0: all of it is usable; 1000: none (also when nothing is free).
 */
export function unusableFreeIndex(info: ContigPageInfo, order: number): number {
  if (info.freePages === 0) return 1000;
  return Math.floor(((info.freePages - info.freeBlocksSuitable * 2 ** order) * 1000) / info.freePages);
}

/** The fragmentation indices of every order, as /sys/kernel/debug/extfrag/ reports them (×1000). */
export interface Extfrag {
  /** extfrag_index: {@link fragmentationIndex} per order. */
  fragmentationIndex: number[];
  /** unusable_index: {@link unusableFreeIndex} per order. */
  unusableIndex: number[];
}

/** Both extfrag files' values for orders 0..MAX_ORDER. */
export function extfrag(pages: PageAllocator): Extfrag {
  const infos = Array.from({ length: NR_ORDERS }, (_, o) => contigPageInfo(pages, o));
  return {
    fragmentationIndex: infos.map((info, o) => fragmentationIndex(info, o)),
    unusableIndex: infos.map((info, o) => unusableFreeIndex(info, o)),
  };
}

/** Formats {@link Extfrag} as the two debugfs files print it: `0.993`, `-1.000` per order. */
export function formatExtfrag(info: Extfrag): string {
  const fixed = (v: number) => `${v < 0 ? "-" : ""}${Math.floor(Math.abs(v) / 1000)}.${String(Math.abs(v) % 1000).padStart(3, "0")}`;
  const line = (values: number[]) => `Node 0, zone   Normal ${values.map(fixed).join(" ")}`;
  return ["extfrag_index", line(info.fragmentationIndex), "unusable_index", line(info.unusableIndex)].join("\n");
}
