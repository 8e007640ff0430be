/**
 * Line plots as SVG, written by hand: axes with ticks at round values (linear or logarithmic),
 * grid lines, one polyline with point markers per series, a legend, a title. Enough for the
 * benchmark figures in docs/ (miss ratio against cache size, throughput against memory), with no
 * plotting dependency and output that is the same byte for byte for the same data.
 *
 * @module @folio/cli/plot
 */

/** One line of a plot. */
export interface PlotSeries {
  /** Legend text. */
  name: string;
  /** Points as [x, y]; points with a non-finite coordinate (or ≤ 0 on a log axis) are left out. */
  points: readonly (readonly [number, number])[];
  /** Stroke colour (`#rrggbb`); by default one of {@link PLOT_COLORS} in turn. */
  color?: string;
  /** Dashed line (for a reference such as an optimum). */
  dashed?: boolean;
  /** Line width in pixels (default 1.75): a thicker line stands out as the one to look at. */
  width?: number;
}

/** One axis. */
export interface PlotAxis {
  /** Axis title. */
  label: string;
  /** Logarithmic scale (base 10 ticks, or powers of two with `base2`). */
  log?: boolean;
  /** Ticks of a log axis at powers of two instead of 1-2-5 × powers of ten. */
  base2?: boolean;
  /** Low end of the axis; by default the data's, widened to a round value. */
  min?: number;
  /** High end of the axis; by default the data's, widened to a round value. */
  max?: number;
  /** Formats a tick value (default: {@link formatTick}). */
  format?: (value: number) => string;
  /** Tick values to use instead of the computed ones. */
  ticks?: readonly number[];
}

/** What to draw. */
export interface PlotOptions {
  /** The title, above the plot. */
  title: string;
  /** Lines under the title (the data's source, the machine). */
  subtitle?: string | readonly string[];
  /** The horizontal axis. */
  x: PlotAxis;
  /** The vertical axis. */
  y: PlotAxis;
  /** The lines, in legend order; colours from {@link PLOT_COLORS} unless given. */
  series: readonly PlotSeries[];
  /** Width of the whole picture in pixels (default 760). */
  width?: number;
  /** Height of the whole picture in pixels (default 460). */
  height?: number;
}

/** A palette whose neighbours are easy to tell apart (Tableau 10). */
export const PLOT_COLORS: readonly string[] = [
  "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
];

/** Where the plot area is inside the picture, and how values map to it (for tests and callers). */
export interface PlotGeometry {
  /** Left edge of the plot area, in pixels. */
  left: number;
  /** Top edge of the plot area, in pixels. */
  top: number;
  /** Width of the plot area, in pixels. */
  width: number;
  /** Height of the plot area, in pixels. */
  height: number;
  /** The x values at the left and right edges. */
  xDomain: [number, number];
  /** The y values at the bottom and top edges. */
  yDomain: [number, number];
  /** x values of the ticks. */
  xTicks: number[];
  /** y values of the ticks. */
  yTicks: number[];
  /** Pixel x of a value. */
  px(x: number): number;
  /** Pixel y of a value. */
  py(y: number): number;
}

const LEGEND_W = 170;
const MARGIN = { left: 72, right: 16 + LEGEND_W, top: 42, bottom: 52 };
/** Height of a subtitle line. */
const LINE = 16;

function subtitleLines(o: PlotOptions): readonly string[] {
  return o.subtitle === undefined ? [] : typeof o.subtitle === "string" ? [o.subtitle] : o.subtitle;
}

/**
 * Round tick values covering [min, max] on a linear axis: about `count` of them, steps of 1, 2 or
 * 5 × a power of ten.
 */
export function linearTicks(min: number, max: number, count = 6): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / Math.max(1, count - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw * 0.999)!;
  const out: number[] = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) out.push(roundTo(v, step));
  return out;
}

/** Ticks of a log axis covering [min, max]: 1, 2, 5 × powers of ten (or powers of two), thinned to at most ~10. */
export function logTicks(min: number, max: number, base2 = false): number[] {
  if (!(min > 0) || !(max > min)) return [min];
  const out: number[] = [];
  if (base2) {
    for (let e = Math.ceil(Math.log2(min) - 1e-9); 2 ** e <= max * (1 + 1e-9); e++) out.push(2 ** e);
  } else {
    for (let e = Math.floor(Math.log10(min)); 10 ** e <= max * (1 + 1e-9); e++) {
      for (const m of [1, 2, 5]) {
        const v = roundTo(m * 10 ** e, 10 ** e);
        if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) out.push(v);
      }
    }
    // Many decades: the powers of ten alone.
    if (out.length > 10) return out.filter((v) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9);
  }
  if (out.length > 10) {
    const every = Math.ceil(out.length / 10);
    return out.filter((_, i) => i % every === 0);
  }
  return out;
}

/** A tick label: integers with thousands separators, small numbers with as many decimals as they need. */
export function formatTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6 && Number.isInteger(v)) return `${v / 1e6}M`;
  if (a >= 1000 && Number.isInteger(v)) return v.toLocaleString("en-US");
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}

/** Lays the plot out: domains, ticks and the value → pixel maps. */
export function plotGeometry(o: PlotOptions): PlotGeometry {
  const width = o.width ?? 760;
  const height = o.height ?? 460;
  const top = MARGIN.top + subtitleLines(o).length * LINE;
  const w = width - MARGIN.left - MARGIN.right;
  const h = height - top - MARGIN.bottom;
  const pts = o.series.flatMap((s) => usable(s.points, o.x, o.y));
  const x = axisDomain(pts.map((p) => p[0]), o.x);
  const y = axisDomain(pts.map((p) => p[1]), o.y);
  const scale = (axis: PlotAxis, [lo, hi]: [number, number], length: number, flip: boolean) => (v: number) => {
    const t = axis.log ? (Math.log(v) - Math.log(lo)) / (Math.log(hi) - Math.log(lo)) : (v - lo) / (hi - lo);
    const clamped = Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0));
    return flip ? (1 - clamped) * length : clamped * length;
  };
  const sx = scale(o.x, x.domain, w, false);
  const sy = scale(o.y, y.domain, h, true);
  return {
    left: MARGIN.left, top, width: w, height: h,
    xDomain: x.domain, yDomain: y.domain, xTicks: x.ticks, yTicks: y.ticks,
    px: (v) => MARGIN.left + sx(v),
    py: (v) => top + sy(v),
  };
}

/** Renders the plot as an SVG document. */
export function linePlot(o: PlotOptions): string {
  const width = o.width ?? 760;
  const height = o.height ?? 460;
  const g = plotGeometry(o);
  const fx = o.x.format ?? formatTick;
  const fy = o.y.format ?? formatTick;
  const out: string[] = [];
  out.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="${MARGIN.left}" y="22" font-size="15" font-weight="bold">${esc(o.title)}</text>`);
  subtitleLines(o).forEach((line, i) => out.push(`<text x="${MARGIN.left}" y="${40 + i * LINE}" fill="#555">${esc(line)}</text>`));
  const right = g.left + g.width;
  const bottom = g.top + g.height;
  out.push(`<g class="grid" stroke="#e6e6e6" stroke-width="1" shape-rendering="crispEdges">`);
  for (const t of g.xTicks) out.push(`<line x1="${f(g.px(t))}" y1="${g.top}" x2="${f(g.px(t))}" y2="${bottom}"/>`);
  for (const t of g.yTicks) out.push(`<line x1="${g.left}" y1="${f(g.py(t))}" x2="${right}" y2="${f(g.py(t))}"/>`);
  out.push(`</g>`);
  out.push(`<g class="axes" stroke="#333" stroke-width="1" shape-rendering="crispEdges">`);
  out.push(`<line x1="${g.left}" y1="${bottom}" x2="${right}" y2="${bottom}"/>`);
  out.push(`<line x1="${g.left}" y1="${g.top}" x2="${g.left}" y2="${bottom}"/>`);
  for (const t of g.xTicks) out.push(`<line x1="${f(g.px(t))}" y1="${bottom}" x2="${f(g.px(t))}" y2="${bottom + 5}"/>`);
  for (const t of g.yTicks) out.push(`<line x1="${g.left - 5}" y1="${f(g.py(t))}" x2="${g.left}" y2="${f(g.py(t))}"/>`);
  out.push(`</g>`);
  out.push(`<g class="tick-labels" fill="#333">`);
  for (const t of g.xTicks) out.push(`<text x="${f(g.px(t))}" y="${bottom + 19}" text-anchor="middle">${esc(fx(t))}</text>`);
  for (const t of g.yTicks) out.push(`<text x="${g.left - 8}" y="${f(g.py(t) + 4)}" text-anchor="end">${esc(fy(t))}</text>`);
  out.push(`</g>`);
  out.push(`<text x="${f(g.left + g.width / 2)}" y="${height - 12}" text-anchor="middle" fill="#333">${esc(o.x.label)}${o.x.log ? " (log scale)" : ""}</text>`);
  out.push(`<text transform="translate(16,${f(g.top + g.height / 2)}) rotate(-90)" text-anchor="middle" fill="#333">${esc(o.y.label)}${o.y.log ? " (log scale)" : ""}</text>`);
  out.push(`<g class="series" fill="none" stroke-linejoin="round" stroke-linecap="round">`);
  o.series.forEach((s, i) => {
    const color = s.color ?? PLOT_COLORS[i % PLOT_COLORS.length]!;
    const pts = usable(s.points, o.x, o.y);
    const dash = s.dashed ? ` stroke-dasharray="6,4"` : "";
    out.push(`<g class="line" data-series="${esc(s.name)}">`);
    if (pts.length > 1) out.push(`<polyline points="${pts.map((p) => `${f(g.px(p[0]))},${f(g.py(p[1]))}`).join(" ")}" stroke="${color}" stroke-width="${s.width ?? 1.75}"${dash}/>`);
    for (const p of pts) out.push(`<circle cx="${f(g.px(p[0]))}" cy="${f(g.py(p[1]))}" r="2.5" fill="${color}" stroke="none"><title>${esc(s.name)}: ${esc(fx(p[0]))}, ${esc(fy(p[1]))}</title></circle>`);
    out.push(`</g>`);
  });
  out.push(`</g>`);
  const lx = right + 20;
  out.push(`<g class="legend">`);
  o.series.forEach((s, i) => {
    const color = s.color ?? PLOT_COLORS[i % PLOT_COLORS.length]!;
    const y = g.top + 8 + i * 20;
    const dash = s.dashed ? ` stroke-dasharray="6,4"` : "";
    out.push(`<line x1="${lx}" y1="${y}" x2="${lx + 26}" y2="${y}" stroke="${color}" stroke-width="${s.width ?? 1.75}"${dash}/>`);
    out.push(`<text x="${lx + 34}" y="${y + 4}">${esc(s.name)}</text>`);
  });
  out.push(`</g>`);
  out.push(`</svg>`);
  return `${out.join("\n")}\n`;
}

/** The points of a series an axis can show. */
function usable(points: readonly (readonly [number, number])[], x: PlotAxis, y: PlotAxis): (readonly [number, number])[] {
  return points.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b) && (!x.log || a > 0) && (!y.log || b > 0));
}

/** An axis's ends and ticks: given ends kept, computed ones widened to the outer ticks. */
function axisDomain(values: readonly number[], axis: PlotAxis): { domain: [number, number]; ticks: number[] } {
  let lo = axis.min ?? (values.length > 0 ? Math.min(...values) : axis.log ? 1 : 0);
  let hi = axis.max ?? (values.length > 0 ? Math.max(...values) : lo + 1);
  if (!(hi > lo)) {
    // One value: room around it.
    if (axis.log) {
      lo /= 2;
      hi = lo * 4;
    } else {
      lo -= 1;
      hi += 1;
    }
  }
  if (axis.log) {
    // A little room around the data (a twentieth of the span each side), not a whole decade or
    // octave: ticks fall inside where they may.
    const pad = (Math.log(hi) - Math.log(lo)) / 20;
    if (axis.min === undefined) lo = Math.exp(Math.log(lo) - pad);
    if (axis.max === undefined) hi = Math.exp(Math.log(hi) + pad);
    const ticks = axis.ticks ? [...axis.ticks] : logTicks(lo, hi, axis.base2);
    return { domain: [lo, hi], ticks: ticks.filter((t) => t >= lo * (1 - 1e-9) && t <= hi * (1 + 1e-9)) };
  }
  const first = linearTicks(lo, hi);
  const step = first.length > 1 ? first[1]! - first[0]! : 1;
  if (axis.min === undefined) lo = Math.floor(lo / step + 1e-9) * step;
  if (axis.max === undefined) hi = Math.ceil(hi / step - 1e-9) * step;
  const ticks = axis.ticks ? [...axis.ticks] : linearTicks(lo, hi);
  return { domain: [roundTo(lo, step), roundTo(hi, step)], ticks: ticks.filter((t) => t >= lo - step * 1e-9 && t <= hi + step * 1e-9) };
}

/** `v` rounded to the precision of `step` (so 0.1 + 0.2 prints as 0.3). */
function roundTo(v: number, step: number): number {
  const digits = Math.max(0, -Math.floor(Math.log10(Math.abs(step))) + 2);
  return Number(v.toFixed(Math.min(20, digits)));
}

/** A coordinate with at most two decimals. */
function f(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/\.?0+$/, "");
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
