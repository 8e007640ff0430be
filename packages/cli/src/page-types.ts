/**
 * page-types: every frame of a machine counted by what it is (memdesc type) and the flags it
 * shows, like the kernel's tools/mm/page-types over /proc/kpageflags. Reads only the struct page
 * table and the folio descriptors it leads to.
 */
import { FOLIO_FLAG_NAMES, FolioFlag, MEMDESC_TYPE_NAMES, MemdescType, PAGE_SIZE, PageFlag, type Machine } from "@folio/core";

/**
 * The flags page-types shows, in column order, with their one-letter symbols (page-types' own
 * letters where Linux has the flag). Folio flags come from the folio descriptor; `mmap` (mapped
 * by a page table), `anon` (swap-backed) and `large` (order > 0) are derived as kpageflags
 * derives KPF_MMAP, KPF_ANON and KPF_THP; `hwpoison` and `isolated` are the frame's own bits.
 */
export const PAGE_TYPE_FLAGS: readonly (readonly [name: string, letter: string])[] = [
  ["locked", "L"], ["error", "E"], ["referenced", "R"], ["uptodate", "U"], ["dirty", "D"], ["lru", "l"], ["active", "A"],
  ["writeback", "W"], ["reclaim", "I"], ["mmap", "M"], ["anon", "a"], ["swapbacked", "b"], ["unevictable", "u"],
  ["workingset", "w"], ["readahead", "h"], ["private", "P"], ["large", "t"], ["hugetlb", "G"], ["has_hwpoisoned", "x"],
  ["hwpoison", "X"], ["isolated", "i"],
];

const BIT: Record<string, number> = Object.fromEntries(PAGE_TYPE_FLAGS.map(([name], i) => [name, 2 ** i]));
/** Folio flag bit i → the page-types bit of the same name (0 when page-types does not show it). */
const FROM_FOLIO = FOLIO_FLAG_NAMES.map((name) => BIT[name] ?? 0);

/** One row: frames of one memdesc type showing one set of flags. */
export interface PageTypeRow {
  /** Memdesc type name. */
  type: string;
  /** Flag names set, in {@link PAGE_TYPE_FLAGS} order. */
  flags: string[];
  /** One character per flag of {@link PAGE_TYPE_FLAGS}: its letter when set, `_` otherwise. */
  symbolic: string;
  /** Frames in the row. */
  pages: number;
  /** Their size in MiB (not rounded). */
  mib: number;
}

/** What page-types counts. */
export interface PageTypes {
  /** Frames of the machine; the rows' pages sum to it. */
  frames: number;
  /** One row per memdesc type and set of flags. */
  rows: PageTypeRow[];
  /** Frames per memdesc type. */
  byType: Record<string, number>;
}

/** Counts every frame of `machine` by memdesc type and flags; rows by type order, then most pages first. */
export function countPageTypes(machine: Machine): PageTypes {
  const map = machine.memmap;
  const folios = machine.folios;
  const counts = new Map<number, number>();
  const byType: Record<string, number> = Object.fromEntries(MEMDESC_TYPE_NAMES.map((n) => [n, 0]));
  let lastHandle = -1;
  let folioBits = 0;
  for (let pfn = 0; pfn < map.frames; pfn++) {
    const type = map.type[pfn]! as MemdescType;
    let bits = 0;
    if (type === MemdescType.Folio || type === MemdescType.Hugetlb) {
      const h = map.ref[pfn]!;
      // Frames of one folio are consecutive: read its descriptor once.
      if (h !== lastHandle) {
        lastHandle = h;
        folioBits = 0;
        const f = folios.flags(h);
        for (let b = 0; b < FROM_FOLIO.length; b++) if (f & (1 << b)) folioBits |= FROM_FOLIO[b]!;
        if (folios.mapcount(h) > 0) folioBits |= BIT["mmap"]!;
        if (f & FolioFlag.SwapBacked) folioBits |= BIT["anon"]!;
        if (folios.order(h) > 0 && type === MemdescType.Folio) folioBits |= BIT["large"]!;
      }
      bits = folioBits;
    }
    const pf = map.flags[pfn]!;
    if (pf & PageFlag.HwPoison) bits |= BIT["hwpoison"]!;
    if (pf & PageFlag.Isolated) bits |= BIT["isolated"]!;
    // Key: flag bits above, type in the low 4 bits (flags fit in 2^21 · 16 < 2^53).
    const key = bits * 16 + type;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    byType[MEMDESC_TYPE_NAMES[type]]!++;
  }
  const rows: PageTypeRow[] = [...counts.entries()].map(([key, pages]) => {
    const type = key % 16;
    const bits = Math.floor(key / 16);
    const flags = PAGE_TYPE_FLAGS.filter((_, i) => bits & (2 ** i)).map(([n]) => n);
    const symbolic = PAGE_TYPE_FLAGS.map(([, letter], i) => (bits & (2 ** i) ? letter : "_")).join("");
    return { type: MEMDESC_TYPE_NAMES[type]!, typeIndex: type, flags, symbolic, pages, mib: (pages * PAGE_SIZE) / 1048576 };
  }).sort((a, b) => a.typeIndex - b.typeIndex || b.pages - a.pages).map(({ typeIndex: _, ...row }) => row);
  return { frames: map.frames, rows, byType };
}

/** Formats {@link PageTypes} like page-types prints its table, with a type column and a total line. */
export function formatPageTypes(pt: PageTypes, byTypeOnly = false): string {
  const mib = (pages: number) => ((pages * PAGE_SIZE) / 1048576).toFixed(1).padStart(9);
  const lines: string[] = [];
  if (byTypeOnly) {
    lines.push(`${"type".padEnd(14)} ${"page-count".padStart(10)} ${"MiB".padStart(9)}`);
    for (const [type, pages] of Object.entries(pt.byType)) if (pages > 0) lines.push(`${type.padEnd(14)} ${String(pages).padStart(10)} ${mib(pages)}`);
  } else {
    const w = PAGE_TYPE_FLAGS.length;
    lines.push(`${"type".padEnd(14)} ${"symbolic-flags".padEnd(w)} ${"page-count".padStart(10)} ${"MiB".padStart(9)}  long-symbolic-flags`);
    for (const r of pt.rows) lines.push(`${r.type.padEnd(14)} ${r.symbolic} ${String(r.pages).padStart(10)} ${mib(r.pages)}  ${r.flags.join(",")}`);
  }
  const total = Object.values(pt.byType).reduce((a, b) => a + b, 0);
  lines.push(`${"total".padEnd(byTypeOnly ? 14 : 15 + PAGE_TYPE_FLAGS.length)} ${String(total).padStart(10)} ${mib(total)}`);
  return lines.join("\n");
}
