/**
 * The reports on a machine: /proc-style meminfo, vmstat, buddyinfo and pagetypeinfo, page-types,
 * describe of a frame, and the memory map picture — each after an optional workload. The
 * definitions only; the work is in actions/reports.ts, loaded when a command runs.
 */
import { Option, type Command } from "commander";
import { commandOf, intArg, jsonOption, machineOptions, workloadOption, type MachineOpts } from "./options.js";

/** Options of every report. */
export type ReportOpts = MachineOpts & { workload?: string; json?: boolean };
/** Options of page-types. */
export type PageTypesOpts = ReportOpts & { byType?: boolean };
/** Options of describe. */
export type DescribeOpts = ReportOpts & { allTypes?: boolean };
/** Options of memmap. */
export type MemmapOpts = ReportOpts & { out?: string; cell?: "frame" | "pageblock"; columns?: number; cellPx?: number };

/** The reports, by command name. */
type ReportName = "meminfo" | "vmstat" | "buddyinfo" | "pagetypeinfo" | "page-types" | "describe" | "memmap";

/** Adds a report command: machine options, --workload, --json, and an action that loads its implementation. */
function report(program: Command, name: ReportName, summary: string): Command {
  const cmd = program.command(name).description(summary);
  machineOptions(cmd);
  workloadOption(cmd);
  jsonOption(cmd);
  cmd.action(async (...args: unknown[]) => {
    const c = commandOf(args);
    const { runReport } = await import("../actions/reports.js");
    runReport(name, c.opts<ReportOpts>(), c.processedArgs);
  });
  return cmd;
}

/** Registers meminfo, vmstat, buddyinfo, pagetypeinfo, page-types, describe and memmap. */
export function registerReports(program: Command): void {
  report(program, "meminfo", "print /proc/meminfo of a machine (after a workload)");
  report(program, "vmstat", "print /proc/vmstat: page counts by state and event counters");
  report(program, "buddyinfo", "print /proc/buddyinfo: free blocks of each order");
  report(program, "pagetypeinfo", "print /proc/pagetypeinfo: free blocks per migrate type, pageblocks per type");
  report(program, "page-types", "count frames by memdesc type and flags, like tools/mm/page-types")
    .option("--by-type", "one line per memdesc type, without flags")
    .addHelpText("after", "\nFlags: L locked, E error, R referenced, U uptodate, D dirty, l lru, A active, W writeback, I reclaim, M mmap,\n" +
      "a anon, b swapbacked, u unevictable, w workingset, h readahead, P private, t large folio, G hugetlb,\n" +
      "x has_hwpoisoned, X hwpoison, i isolated.");
  report(program, "describe", "say everything a frame says about itself")
    .argument("[pfn]", "frame number, decimal or 0x hex", intArg)
    .option("--all-types", "describe one frame of each memdesc type (try it with --workload zoo)");
  report(program, "memmap", "draw physical memory, one cell per frame or pageblock, as SVG or PNG")
    .option("-o, --out <file>", "write the picture to a .svg or .png file (default: SVG on stdout)")
    .addOption(new Option("--cell <unit>", "one cell per frame or per pageblock (default: frame up to 512MiB)").choices(["frame", "pageblock"]))
    .option("--columns <n>", "cells per row (a power of two)", intArg)
    .option("--cell-px <n>", "side of a cell in pixels", intArg);
}
