#!/usr/bin/env node
// Draws docs/images/data-paths.svg: the layers as rows, the seven data paths of
// docs/ARCHITECTURE.md as columns, and in each cell the functions that do that path's steps in
// that layer, numbered as in the tables. Arrows show who calls whom; the dashed ones are calls up
// through the public page interface (core asking a folio's owner). `node scripts/data-paths-picture.mjs`
// rewrites the file; docs/test/architecture.test.mjs fails when the committed picture is stale.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const LAYERS = [
  { name: "VFS", detail: "@folio/vfs · Node's fs API" },
  { name: "Filesystem", detail: "fs-simple · fs-log · ramfs" },
  { name: "Page cache", detail: "@folio/pagecache" },
  { name: "Core mm", detail: "@folio/core" },
  { name: "Device", detail: "device models over memfs" },
];

/** One column per path; cells[layer] lists the lines in that layer's box (empty: the path does not pass there). */
const PATHS = [
  {
    title: "Read hit",
    cells: [["1 readSync", "   → Vfs.read"], ["2 SimpleFs.read", "   read callbacks"], ["3 filemapRead", "   lookup → XArray.load", "4 copyOut"], ["5 Reclaim", "   .markAccessed"], []],
    edges: [[0, 1], [1, 2], [2, 3]],
  },
  {
    title: "Read miss + readahead",
    cells: [["Vfs.read"], ["4 readahead /", "   readFolio", "   startFolioRead"], ["1 syncReadahead", "2 readPages", "3 addFolio", "6 waitUptodate", "7 asyncReadahead"], ["2 FolioTable.alloc", "3 Reclaim.add", "   (refault)"], ["5 SimDevice.submit", "   → complete", "   → finishRead"]],
    edges: [[0, 1], [1, 2], [2, 3], [2, 1], [1, 4]],
  },
  {
    title: "Buffered write",
    cells: [["1 Vfs.write"], ["1 SimpleFs.write", "3 prepareWrite", "   (allocate blocks)", "5 writeEnd (i_size)"], ["2 performWrite", "3 grabFolioForWrite", "4 copy in", "5 markDirty", "6 balanceDirtyPages"], ["3 FolioTable.alloc"], ["3 read-before-write", "   of partial blocks"]],
    edges: [[0, 1], [1, 2], [2, 3], [1, 4]],
  },
  {
    title: "Writeback",
    cells: [["1 fsync · sync"], ["2 writebackInodes", "3 writepages", "4 submitData", "6 inodes, flush"], ["1 Flusher.wake", "3 writeCachePages", "4 startWriteback", "5 endWriteback"], ["5 Reclaim", "   .rotateReclaimable"], ["4 write requests", "6 cache flush"]],
    edges: [[0, 1], [2, 1], [1, 2], [2, 3], [1, 4]],
  },
  {
    title: "Reclaim",
    cells: [[], [], ["5 PageCacheOwner", "   .release", "   → deleteFolio", "   (shadow entry)"], ["1 slowPath → kswapd /", "   directReclaim", "2 shrinkLru: evict", "3 folioReferenced", "4 tryRelease", "6 put → buddy", "7 throttle"], []],
    edges: [[3, 2]],
    upcall: "release",
  },
  {
    title: "Migration",
    cells: [[], [], ["5 PageCacheOwner", "   .migrate", "   (index → new folio)"], ["1 compact", "   → migrateBlock", "2 migrateFrame", "3 migrateFolio", "4 takeDownPtes", "5 moveFolioState", "6 restorePtes"], []],
    edges: [[3, 2]],
    upcall: "migrate",
  },
  {
    title: "Memory failure",
    cells: [["5 read: EIO", "   fsync: EIO once"], [], ["4 PageCacheOwner", "   .release →", "   dropPoisoned", "   splitFolio, recordLoss", "5 LostPages"], ["1 hardOffline", "   → dispatch", "2 takeOffline", "3 handleFolio", "   unmapBadPage", "6 retire on free"], []],
    edges: [[3, 2], [0, 2]],
    upcall: "release",
  },
];

const LABEL_W = 150;
const COL_W = 170;
const TOP = 70;
const ROW_H = [70, 100, 120, 150, 70];
const LINE_H = 15;
const PALETTE = ["#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#ff7f0e"];

function escape(s) {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function rowTop(r) {
  return TOP + ROW_H.slice(0, r).reduce((a, b) => a + b, 0);
}

/** Returns the SVG text of the picture (deterministic: the test compares it with the committed file). */
export function renderDataPaths() {
  const width = LABEL_W + COL_W * PATHS.length + 20;
  const height = rowTop(LAYERS.length) + 10;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`);
  out.push(`<title>Folio: layers and data paths</title>`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<defs>`);
  PATHS.forEach((_, i) => {
    out.push(`<marker id="a${i}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${PALETTE[i]}"/></marker>`);
  });
  out.push(`</defs>`);
  out.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">Layers and data paths</text>`);
  out.push(`<text x="${width / 2}" y="42" text-anchor="middle" fill="#555">numbers are the steps of each path in docs/ARCHITECTURE.md · dashed: core calls the folio's owner through the public page interface</text>`);
  // Layer bands.
  LAYERS.forEach((layer, r) => {
    const y = rowTop(r);
    out.push(`<rect x="4" y="${y}" width="${width - 8}" height="${ROW_H[r]}" fill="${r % 2 === 0 ? "#f4f6fa" : "#e9edf5"}"/>`);
    out.push(`<text x="12" y="${y + 20}" font-size="13" font-weight="bold">${escape(layer.name)}</text>`);
    out.push(`<text x="12" y="${y + 36}" fill="#555">${escape(layer.detail)}</text>`);
  });
  // Columns.
  PATHS.forEach((path, c) => {
    const x = LABEL_W + c * COL_W;
    const color = PALETTE[c];
    out.push(`<text x="${x + COL_W / 2}" y="${TOP - 8}" text-anchor="middle" font-size="12" font-weight="bold" fill="${color}">${escape(path.title)}</text>`);
    const boxes = path.cells.map((lines, r) => {
      if (lines.length === 0) return undefined;
      const h = lines.length * LINE_H + 10;
      const y = rowTop(r) + (ROW_H[r] - h) / 2;
      return { x: x + 6, y, w: COL_W - 30, h };
    });
    // Arrows first, under the boxes.
    for (const [from, to] of path.edges) {
      const a = boxes[from];
      const b = boxes[to];
      if (a === undefined || b === undefined) throw new Error(`${path.title}: edge ${from}→${to} joins an empty cell`);
      const down = to > from;
      const dashed = path.upcall !== undefined && from === 3 && to === 2;
      const style = `stroke="${color}" stroke-width="2" fill="none"${dashed ? ` stroke-dasharray="5,3"` : ""} marker-end="url(#a${c})"`;
      if (Math.abs(to - from) > 1) {
        // An arrow that skips a layer leaves by the box's side and runs in the gutter, not under boxes.
        const gx = x + COL_W - 14;
        const ya = a.y + a.h / 2;
        const yb = b.y + b.h / 2;
        out.push(`<polyline points="${a.x + a.w},${ya} ${gx},${ya} ${gx},${yb} ${b.x + b.w + 1},${yb}" ${style}/>`);
        continue;
      }
      // Two arrows between the same boxes (a call and its return trip) sit side by side.
      const reverse = path.edges.some(([f, t]) => f === to && t === from);
      const cx = a.x + a.w / 2 + (reverse ? (down ? -14 : 14) : 0);
      const y1 = down ? a.y + a.h : a.y;
      const y2 = down ? b.y : b.y + b.h;
      out.push(`<line x1="${cx}" y1="${y1}" x2="${cx}" y2="${y2}" ${style}/>`);
      if (dashed) out.push(`<text x="${cx + 5}" y="${(y1 + y2) / 2 + 4}" fill="${color}" font-style="italic">${escape(path.upcall)}</text>`);
    }
    boxes.forEach((box, r) => {
      if (box === undefined) return;
      out.push(`<rect x="${box.x}" y="${box.y}" width="${box.w}" height="${box.h}" rx="4" fill="#ffffff" stroke="${color}" stroke-width="1.5"/>`);
      path.cells[r].forEach((line, i) => {
        const step = /^(\d) (.*)$/.exec(line);
        const ty = box.y + 5 + (i + 1) * LINE_H - 3;
        if (step !== null) {
          out.push(`<text x="${box.x + 6}" y="${ty}"><tspan font-weight="bold" fill="${color}">${step[1]}</tspan> ${escape(step[2])}</text>`);
        } else {
          out.push(`<text x="${box.x + 6}" y="${ty}" xml:space="preserve">${escape(line)}</text>`);
        }
      });
    });
  });
  out.push(`</svg>`);
  return `${out.join("\n")}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const target = fileURLToPath(new URL("../docs/images/data-paths.svg", import.meta.url));
  writeFileSync(target, renderDataPaths());
  console.log(`wrote ${target}`);
}
