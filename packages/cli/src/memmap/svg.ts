/**
 * The memory map as SVG, written by hand: one rectangle per run of same-coloured cells in a row
 * (so a 512 MiB map stays a few hundred kilobytes), pageblock cells as slices in proportion to
 * what they hold, free buddy blocks outlined, and a legend.
 */
import { NR_ORDERS } from "@folio/core";
import {
  MEMMAP_CATEGORIES, blockCells, cellCounts, layoutMemmap, legend, outlined,
  type LayoutOptions, type MemmapLayout, type MemmapSnapshot,
} from "./model.js";

/** Options of the renderers. */
export interface RenderOptions extends LayoutOptions {
  /** Title line, e.g. "Physical memory after workload fragment". */
  title?: string;
  /** Lines under the title, e.g. the machine's settings. */
  notes?: readonly string[];
}

const MARGIN = 16;
const LEGEND_ROW = 20;
/** Estimated widths of a character of the title and of other text, in pixels (the PNG font's). */
const TITLE_CHAR = 12;
const TEXT_CHAR = 7;

/** Pixel geometry shared by the SVG and PNG renderers. */
export interface Frame {
  /** The map's cell layout. */
  layout: MemmapLayout;
  /** Picture width in pixels. */
  width: number;
  /** Picture height in pixels. */
  height: number;
  /** The title, and the lines under it (notes, then what a cell is). */
  title: string;
  /** Lines under the title. */
  lines: string[];
  /** Left edge of the map, in pixels. */
  mapX: number;
  /** Top edge of the map, in pixels. */
  mapY: number;
  /** Top of the legend, in pixels. */
  legendY: number;
}

/** Places the title, the map and the legend in the picture, wide enough for the longest line. */
export function frameOf(snapshot: MemmapSnapshot, options: RenderOptions): Frame {
  const layout = layoutMemmap(snapshot.frames, options);
  const title = options.title ?? "Physical memory";
  const lines = [...(options.notes ?? []), subtitle(snapshot, layout)];
  const texts = [...lines, ...legend(snapshot).map((e) => `${e.category.label}: ${e.text}`), outlineLine(layout), buddyLine(snapshot)];
  const textWidth = Math.max(title.length * TITLE_CHAR, ...texts.map((t) => t.length * TEXT_CHAR + 22));
  const width = Math.max(layout.width, textWidth) + 2 * MARGIN;
  const headerH = 30 + lines.length * 16;
  const entries = legend(snapshot).length + 2; // + the outline key and the buddyinfo line
  const legendY = headerH + layout.height + 2 * MARGIN;
  return { layout, width, height: legendY + entries * LEGEND_ROW + MARGIN, title, lines, mapX: MARGIN, mapY: headerH + MARGIN, legendY };
}

/**
 * How a free block of `order` is outlined: thin and light for small blocks, thicker and darker
 * for large ones, so the big free areas stand out without hiding what is between them.
 */
export function outlineStyle(order: number, cellPx: number): { width: number; rgb: [number, number, number] } {
  const v = Math.round(176 - (order / 10) * 144); // order 0: #b0b0b0 … order 10: #202020
  return { width: order >= 7 && cellPx >= 4 ? 2 : 1, rgb: [v, v, v] };
}

function hex(rgb: readonly number[]): string {
  return `#${rgb.map((c) => c.toString(16).padStart(2, "0")).join("")}`;
}

/** The subtitle: what one cell is and how the map reads. */
export function subtitle(snapshot: MemmapSnapshot, layout: MemmapLayout): string {
  const unit = layout.unit === "frame" ? "one cell per 4 KiB frame" : "one cell per 2 MiB pageblock (512 frames), slices in proportion";
  return `${snapshot.frames} frames, ${unit}, ${layout.columns} cells per row, pfn 0 at top left`;
}

/** The buddyinfo line of the legend. */
export function buddyLine(snapshot: MemmapSnapshot): string {
  return `free blocks by order: ${Array.from({ length: NR_ORDERS }, (_, o) => `${o}:${snapshot.freeByOrder[o]}`).join(" ")}`;
}

/** The outline key of the legend. */
export function outlineLine(layout: MemmapLayout): string {
  return layout.unit === "frame"
    ? "outlined: a free buddy block of order 1 or more (the darker, the higher the order)"
    : "outlined: a free buddy block of a whole pageblock (order 9) or more";
}

/** Renders `snapshot` as an SVG document. */
export function renderSvg(snapshot: MemmapSnapshot, options: RenderOptions = {}): string {
  const f = frameOf(snapshot, options);
  const { layout } = f;
  const px = layout.cellPx;
  const out: string[] = [];
  out.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}" font-family="Helvetica, Arial, sans-serif">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="${MARGIN}" y="24" font-size="16" font-weight="bold">${esc(f.title)}</text>`);
  f.lines.forEach((line, i) => out.push(`<text x="${MARGIN}" y="${44 + i * 16}" font-size="12" fill="#555">${esc(line)}</text>`));
  out.push(`<g transform="translate(${f.mapX},${f.mapY})" shape-rendering="crispEdges">`);
  if (layout.unit === "frame") {
    // Runs of one category within a row become one rectangle.
    for (let row = 0; row < layout.rows; row++) {
      const start = row * layout.columns;
      const end = Math.min(snapshot.frames, start + layout.columns);
      let runStart = start;
      for (let pfn = start + 1; pfn <= end; pfn++) {
        if (pfn < end && snapshot.cat[pfn] === snapshot.cat[runStart]) continue;
        const color = MEMMAP_CATEGORIES[snapshot.cat[runStart]!]!.color;
        out.push(`<rect x="${(runStart - start) * px}" y="${row * px}" width="${(pfn - runStart) * px}" height="${px}" fill="${color}"/>`);
        runStart = pfn;
      }
    }
  } else {
    const counts = new Uint32Array(MEMMAP_CATEGORIES.length);
    for (let cell = 0; cell < layout.cells; cell++) {
      cellCounts(snapshot, layout, cell, counts);
      const total = counts.reduce((a, b) => a + b, 0);
      const x0 = (cell % layout.columns) * px;
      const y0 = Math.floor(cell / layout.columns) * px;
      let x = 0;
      counts.forEach((n, c) => {
        if (n === 0) return;
        const w = (n / total) * px;
        out.push(`<rect x="${fmt(x0 + x)}" y="${y0}" width="${fmt(w)}" height="${px}" fill="${MEMMAP_CATEGORIES[c]!.color}"/>`);
        x += w;
      });
    }
  }
  out.push(`</g>`);
  out.push(`<g transform="translate(${f.mapX},${f.mapY})" fill="none">`);
  for (const b of snapshot.freeBlocks) {
    if (!outlined(b, layout)) continue;
    const r = blockCells(b, layout);
    const { width: sw, rgb } = outlineStyle(b.order, px);
    out.push(`<rect x="${fmt(r.col * px + sw / 2)}" y="${fmt(r.row * px + sw / 2)}" width="${fmt(r.cols * px - sw)}" height="${fmt(r.rows * px - sw)}" stroke="${hex(rgb)}" stroke-width="${sw}"><title>free order-${b.order} block at pfn ${b.pfn}</title></rect>`);
  }
  out.push(`</g>`);
  let y = f.legendY;
  for (const e of legend(snapshot)) {
    out.push(`<rect x="${MARGIN}" y="${y}" width="14" height="14" fill="${e.category.color}" stroke="#888" stroke-width="0.5"/>`);
    out.push(`<text x="${MARGIN + 22}" y="${y + 12}" font-size="12">${esc(e.category.label)}: ${esc(e.text)}</text>`);
    y += LEGEND_ROW;
  }
  out.push(`<rect x="${MARGIN + 1}" y="${y + 1}" width="12" height="12" fill="none" stroke="${hex(outlineStyle(10, px).rgb)}" stroke-width="2"/>`);
  out.push(`<text x="${MARGIN + 22}" y="${y + 12}" font-size="12">${esc(outlineLine(layout))}</text>`);
  y += LEGEND_ROW;
  out.push(`<text x="${MARGIN}" y="${y + 12}" font-size="12" fill="#555">${esc(buddyLine(snapshot))}</text>`);
  out.push(`</svg>`);
  return `${out.join("\n")}\n`;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2);
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
