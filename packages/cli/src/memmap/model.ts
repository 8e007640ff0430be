/**
 * The memory map picture's model: every frame of a machine classified into one category (free,
 * file clean/dirty, writeback, anonymous, slab, …), the free buddy blocks with their orders, and
 * the grid the picture lays them out on. The SVG and PNG renderers draw from this; a live viewer
 * can take a snapshot as often as it redraws.
 */
import { FolioFlag, MIGRATE_TYPE_NAMES, MemdescType, NR_ORDERS, PAGEBLOCK_ORDER, PAGE_SIZE, PageFlag, type Machine } from "@folio/core";

/** A kind of frame the picture colours. */
export interface MemmapCategory {
  /** Stable identifier, for JSON. */
  key: string;
  /** Legend text. */
  label: string;
  /** Fill colour, `#rrggbb`. */
  color: string;
}

/** Category indexes, in legend order. */
export const enum Cat {
  /** Free, in the buddy lists. */
  Free,
  /** Free, on a per-CPU list. */
  PerCpu,
  /** A page-cache folio, clean. */
  FileClean,
  /** A page-cache folio, dirty. */
  FileDirty,
  /** A folio under writeback (file or swap). */
  Writeback,
  /** An anonymous (swap-backed) folio. */
  Anon,
  /** A folio with no owner (allocated directly, not cached). */
  FolioOther,
  /** A slab page. */
  Slab,
  /** A kmalloc of 64 KiB or more. */
  LargeKmalloc,
  /** A page backing a vmalloc area. */
  Vmalloc,
  /** A user page table. */
  PageTable,
  /** A hugetlb page in use. */
  HugetlbUsed,
  /** A hugetlb page free in the pool. */
  HugetlbFree,
  /** Reserved (frame 0). */
  Reserved,
  /** Offline or flagged hwpoison, whatever it holds. */
  Poisoned,
}

/** Every category, indexed by {@link Cat}. Colours from a palette that tells its hues apart. */
export const MEMMAP_CATEGORIES: readonly MemmapCategory[] = [
  { key: "free", label: "free (buddy)", color: "#f2f2f2" },
  { key: "percpu", label: "free (per-CPU list)", color: "#d4d4d4" },
  { key: "file", label: "file, clean", color: "#4e79a7" },
  { key: "file-dirty", label: "file, dirty", color: "#f28e2b" },
  { key: "writeback", label: "under writeback", color: "#e15759" },
  { key: "anon", label: "anonymous", color: "#59a14f" },
  { key: "folio", label: "folio, no owner", color: "#9c755f" },
  { key: "slab", label: "slab", color: "#b07aa1" },
  { key: "large-kmalloc", label: "large kmalloc", color: "#bcbd22" },
  { key: "vmalloc", label: "vmalloc", color: "#76b7b2" },
  { key: "pagetable", label: "page table", color: "#edc948" },
  { key: "hugetlb", label: "hugetlb, in use", color: "#5b3a29" },
  { key: "hugetlb-free", label: "hugetlb, free in pool", color: "#c9a88f" },
  { key: "reserved", label: "reserved", color: "#3b3b3b" },
  { key: "poisoned", label: "offline / hwpoison", color: "#ff00ff" },
];

/** A free block in the buddy lists. */
export interface FreeBlock {
  /** First frame. */
  pfn: number;
  /** log2 of its frames. */
  order: number;
}

/** What the picture shows of a machine at one moment. */
export interface MemmapSnapshot {
  /** Frames of the machine. */
  frames: number;
  /** {@link Cat} of every frame. */
  cat: Uint8Array;
  /** Frames per category, indexed by {@link Cat}. */
  counts: number[];
  /** Free blocks of the buddy allocator, by ascending pfn. */
  freeBlocks: FreeBlock[];
  /** Free blocks per order (buddyinfo). */
  freeByOrder: number[];
  /** Migrate type name of every pageblock. */
  pageblockTypes: string[];
}

/** Classifies every frame of `machine`, from its struct page and the folio it leads to. */
export function captureMemmap(machine: Machine): MemmapSnapshot {
  const frames = machine.memmap.frames;
  const cat = new Uint8Array(frames);
  const freeBlocks: FreeBlock[] = [];
  const freeByOrder = new Array<number>(NR_ORDERS).fill(0);
  const counts = classifyFrames(machine, cat, (pfn, order) => {
    freeBlocks.push({ pfn, order });
    freeByOrder[order]!++;
  });
  const pageblocks = Math.ceil(frames / (1 << PAGEBLOCK_ORDER));
  const pageblockTypes = Array.from({ length: pageblocks }, (_, b) => MIGRATE_TYPE_NAMES[machine.pages.pageblockMigrateType(b << PAGEBLOCK_ORDER)]!);
  return { frames, cat, counts, freeBlocks, freeByOrder, pageblockTypes };
}

/**
 * The classification the picture colours by: writes the {@link Cat} of every frame of `machine`
 * into `cat` (at least `machine.frames` long) and returns the frames per category, indexed by
 * {@link Cat}. `freeHead`, if given, is called for the first frame of every free buddy block, in
 * ascending pfn order, with the block's order, after that frame's category is stored. Reads the struct page table and the folio table
 * only; allocates nothing per frame, so a live viewer can call it many times a second.
 */
export function classifyFrames(machine: Machine, cat: Uint8Array, freeHead?: (pfn: number, order: number) => void): number[] {
  const map = machine.memmap;
  const folios = machine.folios;
  const frames = map.frames;
  const counts = new Array<number>(MEMMAP_CATEGORIES.length).fill(0);
  let lastHandle = -1;
  let folioCat: Cat = Cat.FolioOther;
  for (let pfn = 0; pfn < frames; pfn++) {
    const type = map.type[pfn]! as MemdescType;
    let c: Cat;
    switch (type) {
      case MemdescType.Buddy:
        c = Cat.Free;
        break;
      case MemdescType.PerCpu: c = Cat.PerCpu; break;
      case MemdescType.Folio: {
        // The frames of one folio follow each other: classify the folio once, at its first frame.
        const h = map.ref[pfn]!;
        if (h !== lastHandle) {
          lastHandle = h;
          const f = folios.flags(h);
          folioCat = f & FolioFlag.Writeback ? Cat.Writeback
            : f & FolioFlag.SwapBacked ? Cat.Anon
            : folios.owner(h) === 0 ? Cat.FolioOther
            : f & FolioFlag.Dirty ? Cat.FileDirty : Cat.FileClean;
        }
        c = folioCat;
        break;
      }
      case MemdescType.Hugetlb: c = folios.refcount(map.ref[pfn]!) > 0 ? Cat.HugetlbUsed : Cat.HugetlbFree; break;
      case MemdescType.Slab: c = Cat.Slab; break;
      case MemdescType.LargeKmalloc: c = Cat.LargeKmalloc; break;
      case MemdescType.Vmalloc: c = Cat.Vmalloc; break;
      case MemdescType.PageTable: c = Cat.PageTable; break;
      case MemdescType.Reserved: c = Cat.Reserved; break;
      case MemdescType.Offline: c = Cat.Poisoned; break;
      default: c = Cat.Reserved;
    }
    const flags = map.flags[pfn]!;
    if (flags & PageFlag.HwPoison) c = Cat.Poisoned;
    cat[pfn] = c;
    counts[c]!++;
    // After the store: a caller may mark the block's head in the same array.
    if (freeHead && c === Cat.Free && flags & PageFlag.Buddy) freeHead(pfn, map.order[pfn]!);
  }
  return counts;
}

/** What one cell of the picture stands for. */
export type CellUnit = "frame" | "pageblock";

/** Options of {@link layoutMemmap}. */
export interface LayoutOptions {
  /** One cell per frame or per pageblock (512 frames); by default frames up to 512 MiB of memory. */
  cell?: CellUnit;
  /** Cells per row (rounded to a power of two, so buddy blocks never wrap); chosen by default. */
  columns?: number;
  /** Side of a cell in pixels; by default what makes the map about 1024 pixels wide. */
  cellPx?: number;
}

/** Where cells go. */
export interface MemmapLayout {
  /** What one cell stands for. */
  unit: CellUnit;
  /** Frames per cell: 1 or 512. */
  framesPerCell: number;
  /** Cells drawn: frames / framesPerCell, rounded up. */
  cells: number;
  /** Cells per row, a power of two. */
  columns: number;
  /** Rows of cells. */
  rows: number;
  /** Side of a cell in pixels. */
  cellPx: number;
  /** Map size in pixels. */
  width: number;
  /** Map height in pixels. */
  height: number;
}

/** Frames beyond which a picture draws pageblocks by default (512 MiB). */
export const FRAME_CELLS_MAX = 131072;

/**
 * Lays out `frames` on a grid: a power-of-two number of columns about twice the rows, so an
 * aligned buddy block of up to one row is one run of cells and a larger one whole rows.
 */
export function layoutMemmap(frames: number, options: LayoutOptions = {}): MemmapLayout {
  const unit = options.cell ?? (frames <= FRAME_CELLS_MAX ? "frame" : "pageblock");
  const framesPerCell = unit === "frame" ? 1 : 1 << PAGEBLOCK_ORDER;
  const cells = Math.ceil(frames / framesPerCell);
  let columns = options.columns ?? 2 ** Math.round(Math.log2(Math.sqrt(cells * 2)));
  columns = Math.max(1, Math.min(2 ** Math.round(Math.log2(columns)), 2 ** Math.ceil(Math.log2(cells))));
  const rows = Math.ceil(cells / columns);
  const cellPx = options.cellPx ?? Math.max(1, Math.min(48, Math.floor(1024 / columns)));
  return { unit, framesPerCell, cells, columns, rows, cellPx, width: columns * cellPx, height: rows * cellPx };
}

/** The rectangle (in cells) a free block covers: a run within a row, or whole rows. */
export function blockCells(block: FreeBlock, layout: MemmapLayout): {
  /** First column. */
  col: number;
  /** First row. */
  row: number;
  /** Columns covered. */
  cols: number;
  /** Rows covered. */
  rows: number;
} {
  const first = Math.floor(block.pfn / layout.framesPerCell);
  const size = Math.max(1, (1 << block.order) / layout.framesPerCell);
  const col = first % layout.columns;
  const row = Math.floor(first / layout.columns);
  if (size <= layout.columns) return { col, row, cols: size, rows: 1 };
  return { col: 0, row, cols: layout.columns, rows: Math.ceil(size / layout.columns) };
}

/** Whether a free block is large enough on screen to outline (six pixels or more across). */
export function outlined(block: FreeBlock, layout: MemmapLayout): boolean {
  if (layout.unit === "pageblock") return block.order >= PAGEBLOCK_ORDER;
  return block.order >= 1 && (1 << block.order) * layout.cellPx >= 6;
}

/** One legend line: a category with its frames. */
export interface LegendEntry {
  /** The category. */
  category: MemmapCategory;
  /** Frames in it. */
  frames: number;
  /** "1234 frames, 4.8 MiB, 7.5%". */
  text: string;
}

/** Legend entries of the categories present, in category order. */
export function legend(snapshot: MemmapSnapshot): LegendEntry[] {
  const out: LegendEntry[] = [];
  snapshot.counts.forEach((n, c) => {
    if (n === 0) return;
    const mib = ((n * PAGE_SIZE) / 1048576).toFixed(1);
    out.push({ category: MEMMAP_CATEGORIES[c]!, frames: n, text: `${n} frames, ${mib} MiB, ${((100 * n) / snapshot.frames).toFixed(1)}%` });
  });
  return out;
}

/** Counts per category of the frames in cell `cell` (for pageblock cells, drawn as slices). */
export function cellCounts(snapshot: MemmapSnapshot, layout: MemmapLayout, cell: number, into: Uint32Array): Uint32Array {
  into.fill(0);
  const start = cell * layout.framesPerCell;
  const end = Math.min(snapshot.frames, start + layout.framesPerCell);
  for (let pfn = start; pfn < end; pfn++) into[snapshot.cat[pfn]!]!++;
  return into;
}
