/**
 * What the report commands do (see commands/reports.ts for their options).
 */
import { writeFileSync } from "node:fs";
import { extname } from "node:path";
import { PAGE_SIZE, formatSize } from "@folio/core";
import { usage } from "../errors.js";
import type { DescribeOpts, MemmapOpts, PageTypesOpts, ReportOpts } from "../commands/reports.js";
import { describePfn, exampleFrames, formatFrameReport } from "../describe.js";
import { MEMMAP_CATEGORIES, captureMemmap, frameOf, legend, renderPng, renderSvg } from "../memmap/index.js";
import { printJson, println, writeOut } from "../output.js";
import { countPageTypes, formatPageTypes } from "../page-types.js";
import { describeSession } from "../session.js";
import { sizeOption } from "../parse.js";
import { prepare } from "./prepare.js";

/** Runs the report `name` with its parsed options and arguments. */
export function runReport(name: string, o: ReportOpts, args: readonly unknown[]): void {
  switch (name) {
    case "meminfo": {
      const { session } = prepare(o, o.workload);
      if (o.json) printJson(session.machine.meminfo());
      else println(session.machine.formatMeminfo());
      return;
    }
    case "vmstat": {
      const { session } = prepare(o, o.workload);
      if (o.json) printJson(session.machine.vmstat.toObject());
      else println(session.machine.vmstat.format());
      return;
    }
    case "buddyinfo": {
      const { session } = prepare(o, o.workload);
      if (o.json) printJson({ node: 0, zone: "Normal", free: session.machine.buddyinfo() });
      else println(session.machine.formatBuddyinfo());
      return;
    }
    case "pagetypeinfo": {
      const { session } = prepare(o, o.workload);
      if (o.json) printJson(session.machine.pagetypeinfo());
      else println(session.machine.formatPagetypeinfo());
      return;
    }
    case "page-types": {
      const { session } = prepare(o, o.workload);
      const pt = countPageTypes(session.machine);
      if (o.json) printJson({ ...pt, total: { pages: pt.frames, mib: (pt.frames * PAGE_SIZE) / 1048576 } });
      else println(formatPageTypes(pt, (o as PageTypesOpts).byType === true));
      return;
    }
    case "describe":
      describe(o as DescribeOpts, args[0] as number | undefined);
      return;
    case "memmap":
      memmap(o as MemmapOpts);
      return;
  }
}

function describe(o: DescribeOpts, pfn: number | undefined): void {
  if (pfn === undefined && !o.allTypes) usage("describe needs a pfn (decimal or 0x hex), or --all-types");
  // Checked before booting: the memory size says how many frames there are.
  const memory = sizeOption(o.memory, "--memory");
  const frames = Math.floor(memory / PAGE_SIZE);
  if (pfn !== undefined && pfn >= frames) usage(`pfn ${pfn} is not a frame of a ${formatSize(memory)} machine (0..${frames - 1})`);
  const { session } = prepare(o, o.workload);
  const machine = session.machine;
  if (pfn !== undefined) {
    const r = describePfn(machine, pfn);
    if (o.json) printJson(r);
    else println(formatFrameReport(r));
    return;
  }
  const examples = exampleFrames(machine);
  if (o.json) {
    printJson(examples);
    return;
  }
  for (const e of examples) println(e.frame ? `${e.kind}:\n${indent(formatFrameReport(e.frame))}` : `${e.kind}: no frame of this kind on this machine`);
}

function memmap(o: MemmapOpts): void {
  const format = o.out === undefined ? "svg" : extname(o.out).toLowerCase().slice(1);
  if (format !== "svg" && format !== "png") usage(`--out ${o.out}: the picture is SVG or PNG, named .svg or .png`);
  if (o.columns !== undefined && (o.columns < 1 || o.columns > 65536)) usage(`--columns ${o.columns} is not in [1, 65536]`);
  if (o.cellPx !== undefined && (o.cellPx < 1 || o.cellPx > 64)) usage(`--cell-px ${o.cellPx} is not in [1, 64]`);
  const { session, workload } = prepare(o, o.workload);
  const snapshot = captureMemmap(session.machine);
  const renderOptions = {
    ...(o.cell !== undefined ? { cell: o.cell } : {}),
    ...(o.columns !== undefined ? { columns: o.columns } : {}),
    ...(o.cellPx !== undefined ? { cellPx: o.cellPx } : {}),
    title: `Physical memory ${workload ? `after workload ${workload.name}` : "just after boot"}`,
    notes: [describeSession(session.options)],
  };
  const data = format === "svg" ? renderSvg(snapshot, renderOptions) : renderPng(snapshot, renderOptions);
  if (o.out !== undefined) writeFileSync(o.out, data);
  else if (!o.json) writeOut(data);
  if (o.json) {
    const { layout, width, height } = frameOf(snapshot, renderOptions);
    printJson({
      ...(o.out !== undefined ? { out: o.out, format, bytes: data.length } : {}),
      width, height,
      frames: snapshot.frames,
      layout: { cell: layout.unit, columns: layout.columns, rows: layout.rows, cellPx: layout.cellPx },
      categories: Object.fromEntries(MEMMAP_CATEGORIES.map((c, i) => [c.key, snapshot.counts[i]])),
      legend: legend(snapshot).map((e) => ({ key: e.category.key, label: e.category.label, color: e.category.color, frames: e.frames })),
      freeBlocksByOrder: snapshot.freeByOrder,
    });
  } else if (o.out !== undefined) {
    println(`${o.out}: ${format.toUpperCase()}, ${snapshot.frames} frames`);
  }
}

function indent(s: string): string {
  return s.split("\n").map((l) => `  ${l}`).join("\n");
}
