import { PAGE_SIZE } from "../units.js";
import type { HugetlbPool } from "./hugetlb.js";
import { HUGETLB_ORDER } from "./hugetlb.js";
import { MIGRATE_TYPE_NAMES, NR_MIGRATE_TYPES, NR_ORDERS, PAGEBLOCK_ORDER, type PageAllocator } from "./page-alloc.js";
import { Stat, type VmStat } from "./vmstat.js";

/** /proc/meminfo as an object; every value in KiB except the HugePages_ counts. */
export interface Meminfo {
  MemTotal: number;
  MemFree: number;
  MemAvailable: number;
  Cached: number;
  Active: number;
  Inactive: number;
  "Active(anon)": number;
  "Inactive(anon)": number;
  "Active(file)": number;
  "Inactive(file)": number;
  Dirty: number;
  Writeback: number;
  AnonPages: number;
  /** Page-cache pages mapped into address spaces. */
  Mapped: number;
  Slab: number;
  SReclaimable: number;
  SUnreclaim: number;
  KmallocLarge: number;
  PageTables: number;
  VmallocUsed: number;
  HardwareCorrupted: number;
  Reserved: number;
  HugePages_Total: number;
  HugePages_Free: number;
  HugePages_Rsvd: number;
  Hugepagesize: number;
  Hugetlb: number;
}

const KIB = PAGE_SIZE / 1024;

/**
 * Builds /proc/meminfo from the gauges. MemFree counts the per-CPU lists too (Linux leaves them
 * out); MemAvailable follows si_mem_available: free memory above the low watermark plus the
 * halves of the page cache and reclaimable slab that reclaim could free.
 */
export function meminfo(frames: number, vm: VmStat, pages: PageAllocator, hugetlb: HugetlbPool): Meminfo {
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
  pageblockOrder: number;
  freeBlocks: Record<string, number[]>;
  pageblocks: Record<string, number>;
}

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
