/**
 * The memory map as PNG: cells rasterised straight from the snapshot into an RGBA buffer (not
 * through the SVG), free blocks outlined, the legend drawn with a bitmap font, encoded by pngjs.
 */
import { PNG } from "pngjs";
import { drawText } from "./font.js";
import { MEMMAP_CATEGORIES, blockCells, cellCounts, legend, outlined, type MemmapSnapshot } from "./model.js";
import { buddyLine, frameOf, outlineLine, outlineStyle, type RenderOptions } from "./svg.js";

const MARGIN = 16;

/** An RGBA canvas over a pngjs image. */
class Canvas {
  readonly png: PNG;

  constructor(readonly width: number, readonly height: number) {
    this.png = new PNG({ width, height });
    this.png.data.fill(255);
  }

  /** Fills a rectangle (clipped to the canvas) with `rgb`. */
  fill(x: number, y: number, w: number, h: number, rgb: readonly number[]): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    const d = this.png.data;
    for (let py = y0; py < y1; py++) {
      let i = (py * this.width + x0) * 4;
      for (let px = x0; px < x1; px++, i += 4) {
        d[i] = rgb[0]!;
        d[i + 1] = rgb[1]!;
        d[i + 2] = rgb[2]!;
        d[i + 3] = 255;
      }
    }
  }

  /** Draws the border of a rectangle, `t` pixels thick, inside it. */
  stroke(x: number, y: number, w: number, h: number, t: number, rgb: readonly number[]): void {
    this.fill(x, y, w, t, rgb);
    this.fill(x, y + h - t, w, t, rgb);
    this.fill(x, y, t, h, rgb);
    this.fill(x + w - t, y, t, h, rgb);
  }

  text(s: string, x: number, y: number, scale: number, rgb: readonly number[]): void {
    drawText(s, x, y, scale, (px, py) => this.fill(px, py, 1, 1, rgb));
  }
}

function rgbOf(hex: string): number[] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** Renders `snapshot` as a PNG file's bytes, laid out as the SVG is. */
export function renderPng(snapshot: MemmapSnapshot, options: RenderOptions = {}): Buffer {
  const f = frameOf(snapshot, options);
  const { layout } = f;
  const px = layout.cellPx;
  const c = new Canvas(f.width, f.height);
  const colors = MEMMAP_CATEGORIES.map((cat) => rgbOf(cat.color));
  const black = [0, 0, 0];
  const grey = [85, 85, 85];
  c.text(f.title, MARGIN, 10, 2, black);
  f.lines.forEach((line, i) => c.text(line, MARGIN, 34 + i * 16, 1, grey));
  if (layout.unit === "frame") {
    for (let pfn = 0; pfn < snapshot.frames; pfn++) {
      c.fill(f.mapX + (pfn % layout.columns) * px, f.mapY + Math.floor(pfn / layout.columns) * px, px, px, colors[snapshot.cat[pfn]!]!);
    }
  } else {
    const counts = new Uint32Array(MEMMAP_CATEGORIES.length);
    for (let cell = 0; cell < layout.cells; cell++) {
      cellCounts(snapshot, layout, cell, counts);
      const total = counts.reduce((a, b) => a + b, 0);
      const x0 = f.mapX + (cell % layout.columns) * px;
      const y0 = f.mapY + Math.floor(cell / layout.columns) * px;
      let x = 0;
      counts.forEach((n, cat) => {
        if (n === 0) return;
        const w = (n / total) * px;
        // Slices narrower than a pixel still show: each gets at least one column where it starts.
        c.fill(x0 + x, y0, Math.max(1, w), px, colors[cat]!);
        x += w;
      });
    }
  }
  for (const b of snapshot.freeBlocks) {
    if (!outlined(b, layout)) continue;
    const r = blockCells(b, layout);
    const { width, rgb } = outlineStyle(b.order, px);
    c.stroke(f.mapX + r.col * px, f.mapY + r.row * px, r.cols * px, r.rows * px, width, rgb);
  }
  let y = f.legendY;
  for (const e of legend(snapshot)) {
    c.fill(MARGIN, y, 14, 14, colors[MEMMAP_CATEGORIES.indexOf(e.category)]!);
    c.stroke(MARGIN, y, 14, 14, 1, [136, 136, 136]);
    c.text(`${e.category.label}: ${e.text}`, MARGIN + 22, y + 3, 1, black);
    y += 20;
  }
  c.stroke(MARGIN + 1, y + 1, 12, 12, 2, outlineStyle(10, px).rgb);
  c.text(outlineLine(layout), MARGIN + 22, y + 3, 1, black);
  y += 20;
  c.text(buddyLine(snapshot), MARGIN, y + 3, 1, grey);
  return PNG.sync.write(c.png);
}
