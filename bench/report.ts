/**
 * The benchmark report: docs/BENCHMARKS.md, the raw results beside it (docs/benchmarks.json) and
 * the plots it embeds (docs/plots/bench-*.svg), made by `pnpm bench --report` from a run's results,
 * or again from a saved results file (`node bench/dist/run.js --from docs/benchmarks.json`).
 *
 * Rendering is pure — results in, text out ({@link renderReport}, {@link reportPlots}) — so that a
 * fixture can test it; {@link machineInfo} and {@link LoadMeter} read the host, and only
 * {@link writeReport} writes files. Plots are drawn by the CLI's SVG line plot (`@folio/cli/plot`),
 * the one that draws docs/plots for `docs:plots`.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { arch, cpus, loadavg, release, totalmem, type as osType } from "node:os";
import { join } from "node:path";
import { PLOT_COLORS, linePlot, type PlotSeries } from "@folio/cli/plot";
import { type BenchOptions, type PlotSpec, type Row, type SuiteOutcome, fmt, fmtRatio, fmtSpread } from "./harness.js";

/** The `format` of a results file this code writes and reads. */
export const RESULTS_FORMAT = "folio-bench/1";

/** The command that regenerates the report, as the report tells its reader. */
export const REPORT_COMMAND = "npx -y pnpm@12.4.2 bench --report";

/** The host a run measured on. */
export interface MachineInfo {
  /** CPU model, as the OS names it. */
  cpu: string;
  /** Logical CPUs. */
  cores: number;
  /** Physical memory, bytes. */
  memoryBytes: number;
  /** Operating system: kernel and distribution. */
  os: string;
  /** Node.js version (`process.version`). */
  node: string;
  /** 1-, 5- and 15-minute load averages when the run started, before it loaded the machine itself. */
  loadAtStart: number[];
}

/** One suite's part of a run. */
export interface SuiteResult extends SuiteOutcome {
  name: string;
  description: string;
  /** Wall time the suite took, ms. */
  durationMs: number;
  /** Set when the suite threw: its message. Its rows are then missing. */
  error?: string;
  /**
   * CPU that other processes used while the suite ran, in cores on average: the machine's busy
   * time less this process's and its reaped children's, over the suite's wall time.
   */
  otherLoad?: number;
}

/** A run's results: what docs/benchmarks.json holds and what the report is drawn from. */
export interface BenchResults {
  format: typeof RESULTS_FORMAT;
  /** When the run started (ISO 8601, UTC). */
  date: string;
  mode: "quick" | "full";
  options: BenchOptions;
  /** The runner's command line. */
  command: string;
  /** Wall time of the whole run, ms. */
  durationMs: number;
  machine: MachineInfo;
  suites: SuiteResult[];
}

/** A plot of the report: its file name under docs/plots, its title and the SVG text. */
export interface ReportPlot {
  file: string;
  title: string;
  suite: string;
  svg: string;
}

/** Average load of other processes, in cores, above which the report warns that figures are noisy. */
const BUSY_OTHER_CORES = 0.25;
/** Load average at the start above which the machine counts as busy before the run loaded it. */
const BUSY_LOAD_AT_START = 0.5;

/** Describes this host. */
export function machineInfo(): MachineInfo {
  const list = cpus();
  let distro = "";
  try {
    distro = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? "";
  } catch {
    // Not Linux, or no os-release: the kernel alone names the system.
  }
  return {
    cpu: list[0]?.model.trim() ?? "unknown CPU",
    cores: list.length,
    memoryBytes: totalmem(),
    os: `${osType()} ${release()} (${arch()})${distro ? `, ${distro}` : ""}`,
    node: process.version,
    loadAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/**
 * Measures the CPU other processes use between {@link start} and {@link otherCores}: the busy
 * time of all CPUs (os.cpus()) less this process's own and its waited-for children's (Linux's
 * /proc/self/stat; elsewhere this process's alone, so its children count as others).
 */
export class LoadMeter {
  private busy0 = 0;
  private own0 = 0;
  private wall0 = 0;

  start(): void {
    this.busy0 = machineBusyMs();
    this.own0 = ownCpuMs();
    this.wall0 = performance.now();
  }

  /** Cores other processes kept busy on average since {@link start} (≥ 0). */
  otherCores(): number {
    const wall = performance.now() - this.wall0;
    if (wall <= 0) return 0;
    const other = machineBusyMs() - this.busy0 - (ownCpuMs() - this.own0);
    return Math.max(0, other / wall);
  }
}

function machineBusyMs(): number {
  let ms = 0;
  for (const c of cpus()) ms += c.times.user + c.times.nice + c.times.sys + c.times.irq;
  return ms;
}

/** CPU time of this process and of its children it has waited for, ms. */
function ownCpuMs(): number {
  try {
    // Fields after the command's closing parenthesis: utime is the 12th, then stime, cutime, cstime (clock ticks, USER_HZ = 100).
    const stat = readFileSync("/proc/self/stat", "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) * 10;
  } catch {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  }
}

// ---------------------------------------------------------------------------------------------
// Plots

/** The cost a row's figure stands for: the figure itself, or its inverse for a rate. */
function cost(value: number, rate: boolean | undefined): number {
  return rate ? 1 / value : value;
}

/** The rows of one curve of a plot, in x order, by curve name in order of first appearance. */
function curves(rows: readonly Row[], spec: PlotSpec): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  for (const r of rows) {
    if (r.point?.axis !== spec.axis) continue;
    if (spec.y === "figure" && r.unit !== spec.unit) continue;
    const list = out.get(r.point.curve) ?? [];
    list.push(r);
    out.set(r.point.curve, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.point!.x - b.point!.x);
  return out;
}

/** The series of one plot: per curve, Folio's line and (for figure and growth plots) the peer's, dashed, of the same colour. */
function plotSeries(rows: readonly Row[], spec: PlotSpec): PlotSeries[] {
  const series: PlotSeries[] = [];
  const peerLabel = spec.peerLabel ?? "peer";
  [...curves(rows, spec)].forEach(([curve, list], i) => {
    const color = PLOT_COLORS[i % PLOT_COLORS.length]!;
    const x = (r: Row) => r.point!.x;
    if (spec.y === "ratio") {
      series.push({ name: curve, color, points: list.filter((r) => r.ratio !== undefined).map((r) => [x(r), r.ratio!] as const) });
      return;
    }
    const withPeer = list.filter((r) => r.peer !== undefined);
    if (spec.y === "figure") {
      series.push({ name: curve, color, points: list.map((r) => [x(r), r.value] as const) });
      if (withPeer.length > 0) series.push({ name: `${curve} (${peerLabel})`, color, dashed: true, points: withPeer.map((r) => [x(r), r.peer!.value] as const) });
      return;
    }
    const first = list[0]!;
    const base = cost(first.value, first.point!.rate);
    series.push({ name: curve, color, points: list.map((r) => [x(r), cost(r.value, r.point!.rate) / base] as const) });
    if (withPeer.length > 0) {
      const peerBase = cost(withPeer[0]!.peer!.value, withPeer[0]!.point!.rate);
      series.push({ name: `${curve} (${peerLabel})`, color, dashed: true, points: withPeer.map((r) => [x(r), cost(r.peer!.value, r.point!.rate) / peerBase] as const) });
    }
  });
  return series;
}

/** The file name of a plot under docs/plots. */
export function plotFile(spec: PlotSpec): string {
  return `bench-${spec.id}.svg`;
}

/**
 * Draws every plot the results' suites ask for ({@link SuiteOutcome.plots}) that has at least one
 * point, each subtitled with the run's date, mode and machine. Deterministic: the same results
 * give the same bytes.
 */
export function reportPlots(results: BenchResults): ReportPlot[] {
  const out: ReportPlot[] = [];
  const context = `${results.date.slice(0, 10)}, ${results.mode} run, ${results.machine.cpu} (${results.machine.cores} cores), Node ${results.machine.node}`;
  for (const suite of results.suites) {
    for (const spec of suite.plots ?? []) {
      const series = plotSeries(suite.rows, spec);
      if (!series.some((s) => s.points.length > 0)) continue;
      const svg = linePlot({
        title: spec.title,
        subtitle: [...(spec.subtitle ?? []), context],
        x: { label: spec.xLabel, log: spec.xLog ?? false, base2: spec.xBase2 ?? false },
        y: { label: spec.yLabel, log: spec.yLog ?? false },
        series,
      });
      out.push({ file: plotFile(spec), title: spec.title, suite: suite.name, svg });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The document

/** Text safe inside a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function formatBytes(bytes: number): string {
  const gib = bytes / 2 ** 30;
  return gib >= 1 ? `${gib.toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** "2025-11-26 07:30 UTC" from an ISO date. */
function formatDate(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)} UTC`;
}

/**
 * The sentence the header gives when the machine was busy with other work during the run (load
 * average at the start, or other processes' CPU during a suite, above the thresholds), else
 * undefined: a quiet run needs no caveat.
 */
export function loadCaveat(results: BenchResults): string | undefined {
  const start = results.machine.loadAtStart[0] ?? 0;
  const busiest = results.suites.reduce<SuiteResult | undefined>((a, s) => ((s.otherLoad ?? 0) > (a?.otherLoad ?? 0) ? s : a), undefined);
  const other = busiest?.otherLoad ?? 0;
  if (start < BUSY_LOAD_AT_START && other < BUSY_OTHER_CORES) return undefined;
  const parts: string[] = [];
  if (start >= BUSY_LOAD_AT_START) parts.push(`the 1-minute load average was ${start.toFixed(2)} when the run started`);
  if (other >= BUSY_OTHER_CORES) parts.push(`other processes kept ${other.toFixed(2)} of the ${results.machine.cores} cores busy on average during the ${busiest!.name} suite`);
  return `**Load:** the machine was not idle — ${parts.join(", and ")}. Absolute figures are noisy; ` +
    `the ratios, each against a peer measured in the same run and interleaved with it, are what to compare.`;
}

function suiteTable(rows: readonly Row[]): string[] {
  const lines = [
    "| benchmark | Folio | peer | peer's figure | cost ×peer | ±spread | goal | result |",
    "| --- | ---: | --- | ---: | ---: | ---: | --- | --- |",
  ];
  for (const r of rows) {
    const result = r.pass === undefined ? "—" : r.pass ? "PASS" : "**FAIL**";
    lines.push(`| ${[
      cell(r.name.trim()),
      cell(`${fmt(r.value)} ${r.unit}`),
      cell(r.peer?.name ?? "—"),
      r.peer ? cell(`${fmt(r.peer.value)} ${r.unit}`) : "—",
      fmtRatio(r.ratio),
      fmtSpread(r.spread),
      cell(r.goal ?? "—"),
      result,
    ].join(" | ")} |`);
  }
  return lines;
}

/**
 * The report as Markdown: a header saying the file is generated and how to regenerate it, the
 * machine, date and mode, the goals met, then one section per suite — its table (every row: what
 * is measured, Folio's figure, the peer and its figure, the cost ratio, the spread, the goal and
 * PASS/FAIL), its notes, why it measured nothing if it did not, and its plots, embedded from
 * plots/<file> (the caller writes them there: {@link writeReport}).
 */
export function renderReport(results: BenchResults, plots: readonly ReportPlot[] = reportPlots(results)): string {
  const m = results.machine;
  const o = results.options;
  const L: string[] = [];
  L.push("# Benchmarks", "");
  L.push(`<!-- Generated by \`${REPORT_COMMAND}\` (bench/run.ts, bench/report.ts): edits to this file are lost at the next run. -->`, "");
  L.push(`This page is generated: \`${REPORT_COMMAND}\` runs every benchmark suite and rewrites it, with the raw results in ` +
    `[benchmarks.json](benchmarks.json) and the plots in [plots/](plots/) (\`bench-*.svg\`). ` +
    "`node bench/dist/run.js --from docs/benchmarks.json` draws it again from saved results without measuring; " +
    "`--report --quick [suite…]` makes a shorter one. How figures are measured and what each suite does: [bench/README.md](../bench/README.md).", "");
  L.push("Every figure stands beside a peer, the same job done by the simplest code that does it, measured in the same run by the same method. " +
    "**cost ×peer** is how many times the peer's cost Folio's costs (peer rate ÷ Folio rate for rates, Folio ÷ peer for times and sizes): lower is better. " +
    "**±spread** is (max − min) ÷ median of the samples.", "");
  const caveat = loadCaveat(results);
  if (caveat !== undefined) L.push(`> ${caveat}`, "");

  const goals = results.suites.flatMap((s) => s.rows.filter((r) => r.pass !== undefined).map((r) => ({ suite: s.name, row: r })));
  const failed = goals.filter((g) => g.row.pass === false);
  const skipped = results.suites.filter((s) => s.skipped !== undefined);
  const errored = results.suites.filter((s) => s.error !== undefined);
  L.push("| | |", "| --- | --- |");
  L.push(`| date | ${formatDate(results.date)} |`);
  L.push(`| mode | ${results.mode}: warm-up ${o.warmupMs} ms, median of ${o.samples} samples of ≥ ${o.sampleMs} ms |`);
  L.push(`| suites | ${results.suites.map((s) => s.name).join(", ") || "none"} (${formatDuration(results.durationMs)}) |`);
  L.push(`| CPU | ${cell(m.cpu)}, ${m.cores} cores |`);
  L.push(`| memory | ${formatBytes(m.memoryBytes)} |`);
  L.push(`| OS | ${cell(m.os)} |`);
  L.push(`| Node | ${m.node} |`);
  L.push(`| load average at start | ${m.loadAtStart.map((x) => x.toFixed(2)).join(", ")} (1, 5, 15 min) |`);
  L.push(`| goals | ${goals.length - failed.length} of ${goals.length} met${failed.length > 0 ? `; not met: ${failed.map((g) => cell(`${g.suite}: ${g.row.name.trim()}`)).join("; ")}` : ""} |`);
  if (skipped.length > 0) L.push(`| skipped | ${skipped.map((s) => cell(`${s.name} (${s.skipped})`)).join("; ")} |`);
  if (errored.length > 0) L.push(`| failed | ${errored.map((s) => cell(`${s.name} (${s.error})`)).join("; ")} |`);
  L.push("");

  for (const s of results.suites) {
    L.push(`## ${s.name}`, "");
    // The description is left as written: it may start with an identifier (filemapRead, fio).
    L.push(`_${s.description}_ (${formatDuration(s.durationMs)}).`, "");
    if (s.error !== undefined) L.push(`**Failed:** ${s.error}`, "");
    if (s.skipped !== undefined) L.push(`**Skipped:** ${s.skipped}. This run has no figures from this suite.`, "");
    if (s.rows.length > 0) L.push(...suiteTable(s.rows), "");
    else if (s.error === undefined && s.skipped === undefined) L.push("This suite reported no rows.", "");
    for (const note of s.notes ?? []) L.push(`- ${note}`);
    if ((s.notes ?? []).length > 0) L.push("");
    for (const p of plots.filter((p) => p.suite === s.name)) L.push(`![${p.title}](plots/${p.file})`, "");
  }
  return `${L.join("\n").trimEnd()}\n`;
}

/**
 * Writes the report into `docsDir`: BENCHMARKS.md, benchmarks.json and plots/bench-*.svg, and
 * deletes bench-*.svg plots this run did not draw (so the directory holds only what the page
 * shows). Returns the paths written.
 */
export function writeReport(results: BenchResults, docsDir: string): string[] {
  const plots = reportPlots(results);
  const plotDir = join(docsDir, "plots");
  mkdirSync(plotDir, { recursive: true });
  const drawn = new Set(plots.map((p) => p.file));
  for (const f of existsSync(plotDir) ? readdirSync(plotDir) : []) {
    if (/^bench-.*\.svg$/.test(f) && !drawn.has(f)) rmSync(join(plotDir, f));
  }
  const written: string[] = [];
  for (const p of plots) {
    writeFileSync(join(plotDir, p.file), p.svg);
    written.push(join(plotDir, p.file));
  }
  writeFileSync(join(docsDir, "benchmarks.json"), resultsJson(results));
  writeFileSync(join(docsDir, "BENCHMARKS.md"), renderReport(results, plots));
  written.push(join(docsDir, "benchmarks.json"), join(docsDir, "BENCHMARKS.md"));
  return written;
}

/** The results as the JSON file holds them. */
export function resultsJson(results: BenchResults): string {
  return `${JSON.stringify(results, null, 2)}\n`;
}

/** Reads a results file; throws if it is not one this code wrote. */
export function readResults(path: string): BenchResults {
  const doc = JSON.parse(readFileSync(path, "utf8")) as Partial<BenchResults>;
  if (doc.format !== RESULTS_FORMAT || !Array.isArray(doc.suites)) {
    throw new Error(`${path} is not a results file of format ${RESULTS_FORMAT} (written by --report or --json)`);
  }
  return doc as BenchResults;
}
