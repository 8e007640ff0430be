/**
 * Suite "policies": the miss ratio of every eviction policy of @folio/policies and of Belady's
 * OPT, per trace and cache size, with the default ("linux") beside LRU, the best online policy
 * and OPT; the hard bars (on the scan + hot set and loop rows the default beats LRU by ≥ 10
 * points of miss ratio); and the simulator's throughput beside the simplest LRU there is.
 *
 * In full mode it also writes the table to docs/POLICIES.md and a plot to docs/policies.svg.
 * Every policy runs with its one fixed parameter set on every trace: nothing is tuned per trace.
 */
import { existsSync, writeFileSync } from "node:fs";
import { arch, cpus, platform } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  DEFAULT_EVICTION_POLICY, POLICY_NAMES, type Trace, footprint, loopTrace, readBlockTraceCsv, scanHotTrace, simulate, simulateOpt, zipfTrace,
} from "@folio/policies";
import { type BenchOptions, type RateCase, type Row, type Suite, measureRates, rateRow } from "./harness.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const DOCS = join(REPO, "docs");
/** The optional public block trace, beside the repository (../shared/traces). */
const CLOUDPHYSICS = join(process.env.FOLIO_TRACES ?? join(REPO, "..", "shared", "traces"), "cloudPhysicsIO.csv");

/** Cache sizes, as fractions of each trace's footprint (distinct pages). */
const SIZES = [0.01, 0.05, 0.1, 0.25] as const;
/** The hard bar: the default's miss ratio at least this far below LRU's on the marked traces. */
const BAR_POINTS = 10;
const ZIPF_PAGES = 10_000;

interface TraceCase {
  name: string;
  description: string;
  trace: Trace;
  /** Rows of this trace carry the hard bar. */
  bar: boolean;
  /** Also report the miss ratio over the requests where `mask` is 1, as rows of their own (no bar). */
  subset?: { name: string; mask: Uint8Array };
}

function traces(opts: BenchOptions): TraceCase[] {
  const zipfRequests = opts.quick ? 200_000 : 1_000_000;
  const out: TraceCase[] = [0.8, 1.0, 1.2].map((alpha) => ({
    name: `zipf ${alpha.toFixed(1)}`,
    description: `IRM Zipf(α=${alpha}) over ${ZIPF_PAGES.toLocaleString("en-US")} pages, ${zipfRequests.toLocaleString("en-US")} requests (seed 1)`,
    trace: zipfTrace(alpha, ZIPF_PAGES, zipfRequests, 1),
    bar: false,
  }));
  out.push({
    name: "loop",
    description: "a loop over 10,000 pages, 20 passes (200,000 requests): every cache size is smaller than the loop",
    trace: loopTrace(10_000, 200_000),
    bar: true,
  });
  // The workingset test's trace scaled to the 10% column: a hot set of 25% of that cache, a scan
  // of ~10× it, the scan reading 10 pages per hot-set request.
  const st = scanHotTrace({ hot: 500, scan: 19_500, before: 10_000, after: 10_000, scanPerHot: 10, seed: 1 });
  out.push({
    name: "scan+hot",
    description:
      "a hot set of 500 pages accessed uniformly (10,000 requests), then a one-time sequential scan of 19,500 new pages " +
      "(10 scan pages per hot-set request), then 10,000 more hot-set requests: at the 10% size the hot set is 25% of the cache and the scan ~10× it",
    trace: st.trace,
    bar: true,
    subset: { name: "scan+hot, hot-set requests", mask: Uint8Array.from(st.trace, (k) => (k < st.hot ? 1 : 0)) },
  });
  if (existsSync(CLOUDPHYSICS)) {
    const bt = readBlockTraceCsv(CLOUDPHYSICS);
    out.push({
      name: "cloudphysics",
      description:
        `the CloudPhysics block I/O trace (../shared/traces/cloudPhysicsIO.csv): ${bt.requests.toLocaleString("en-US")} requests, ` +
        `reads and writes, mapped to the ${bt.pages.length.toLocaleString("en-US")} 4 KiB page accesses they touch`,
      trace: bt.pages,
      bar: false,
    });
  } else {
    console.log(`(policies: ${CLOUDPHYSICS} is not present; the block-trace row is skipped)`);
  }
  return out;
}

/** One (trace, cache size) row of the table. */
interface Result {
  trace: string;
  fraction: number;
  capacity: number;
  footprint: number;
  /** Miss ratio of each policy, and "opt". */
  miss: Record<string, number>;
  bestOnline: string;
  bar: boolean;
}

/** Miss ratio over the requests selected by `mask`, from per-request outcomes (1 = hit). */
function maskedMissRatio(outcomes: Uint8Array, mask: Uint8Array): number {
  let n = 0;
  let misses = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === 1) {
      n++;
      misses += 1 - outcomes[i]!;
    }
  }
  return n === 0 ? 0 : misses / n;
}

function bestOf(miss: Record<string, number>): string {
  let best = POLICY_NAMES[0]!;
  for (const name of POLICY_NAMES) if (miss[name]! < miss[best]!) best = name;
  return best;
}

function measure(cases: readonly TraceCase[]): Result[] {
  const results: Result[] = [];
  for (const c of cases) {
    const pages = footprint(c.trace);
    const subsetRows: Result[] = [];
    const outcomes = new Uint8Array(c.trace.length);
    for (const fraction of SIZES) {
      const capacity = Math.max(1, Math.round(fraction * pages));
      const miss: Record<string, number> = {};
      const sub: Record<string, number> = {};
      for (const name of POLICY_NAMES) {
        miss[name] = simulate(name, c.trace, capacity, { outcomes }).missRatio;
        if (c.subset) sub[name] = maskedMissRatio(outcomes, c.subset.mask);
      }
      miss.opt = simulateOpt(c.trace, capacity, { outcomes }).missRatio;
      results.push({ trace: c.name, fraction, capacity, footprint: pages, miss, bestOnline: bestOf(miss), bar: c.bar });
      if (c.subset) {
        sub.opt = maskedMissRatio(outcomes, c.subset.mask);
        subsetRows.push({ trace: c.subset.name, fraction, capacity, footprint: pages, miss: sub, bestOnline: bestOf(sub), bar: false });
      }
    }
    results.push(...subsetRows);
  }
  return results;
}

const pct = (x: number): string => (x * 100).toFixed(2);
const pts = (x: number): string => `${x >= 0 ? "+" : "−"}${Math.abs(x * 100).toFixed(2)}`;

/** The verdict of a hard-bar row, with whether any policy could reach it (OPT's own gain). */
function verdict(r: Result): { pass: boolean; text: string } {
  const gain = r.miss.lru! - r.miss[DEFAULT_EVICTION_POLICY]!;
  const optGain = r.miss.lru! - r.miss.opt!;
  const pass = gain >= BAR_POINTS / 100;
  if (pass) return { pass, text: "PASS" };
  return { pass, text: optGain < BAR_POINTS / 100 ? `FAIL (unreachable: OPT gains ${(optGain * 100).toFixed(1)})` : "FAIL" };
}

function printResults(results: readonly Result[]): void {
  const header = ["trace", "cache", ...POLICY_NAMES, "OPT", "linux−lru", "linux−best", "best", "linux−OPT", "bar"];
  const rows = results.map((r) => {
    const d = r.miss[DEFAULT_EVICTION_POLICY]!;
    return [
      r.trace,
      `${(r.fraction * 100).toFixed(0)}% (${r.capacity})`,
      ...POLICY_NAMES.map((n) => pct(r.miss[n]!)),
      pct(r.miss.opt!),
      pts(d - r.miss.lru!),
      pts(d - r.miss[r.bestOnline]!),
      r.bestOnline,
      pts(d - r.miss.opt!),
      r.bar ? verdict(r).text : "—",
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 && i < header.length - 2 && i !== header.length - 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  console.log("\n== policies: miss ratio (%) per trace and cache size (% of footprint, pages); distances in points ==");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of rows) console.log(line(row));
}

// ---------------------------------------------------------------------------------------------
// docs/POLICIES.md

const PARAMETERS: Record<string, string> = {
  lru: "none — one list, a hit moves the page to the head",
  fifo: "none — insertion order, hits change nothing",
  clock: "one reference bit, clear on insertion (second chance / FIFO-reinsertion, as libCacheSim's Clock)",
  sieve: "one visited bit and a hand (Zhang et al., NSDI'24, Algorithm 1)",
  arc: "none beyond C: ghost lists B1/B2 bounded by |T1|+|B1| ≤ C, total ≤ 2C, p starts at 0 (Megiddo & Modha, FAST'03); p adapts one eviction late through the interface",
  s3fifo: "S = 10% of C, M = 90%, ghost = |M| entries, 2-bit frequency capped at 3, S→M when freq > 1 (Yang et al., SOSP'23, Algorithm 1; artifact threshold 2)",
  linux:
    "Linux's formulas, nothing tuned: inactive:active ratio 1 below 1 GiB of pages and ⌊√(10·GiB)⌋ above (inactive_is_low); refault activation when distance ≤ active list size (workingset.c, file pages, no swap); active list also aged while refaults occur (Linux ≥ 5.9)",
};

function markdown(cases: readonly TraceCase[], results: readonly Result[], machine: string, date: string): string {
  const L: string[] = [];
  L.push("# Eviction policies: miss ratios");
  L.push("");
  L.push(`Generated by \`node bench/dist/run.js policies\` on ${date}, ${machine}. Do not edit by hand: rerun the benchmark.`);
  L.push("");
  L.push("Every policy of `@folio/policies` runs through the plugin interface of `@folio/core` (`EvictionPolicy`) in the trace");
  L.push("simulator (`simulate`), with its one fixed parameter set on every trace; OPT is Belady's offline MIN (`simulateOpt`).");
  L.push("Every request is counted from a cold start (no warm-up), so compulsory misses are in every column, OPT's included.");
  L.push("Cache sizes are 1%, 5%, 10% and 25% of each trace's footprint (its distinct pages). Distances are in points of miss");
  L.push("ratio: negative means the default (`linux`) misses less. The plot is [policies.svg](policies.svg).");
  L.push("");
  L.push("## Traces");
  L.push("");
  for (const c of cases) {
    L.push(`- **${c.name}**: ${c.description}; footprint ${footprint(c.trace).toLocaleString("en-US")} pages.`);
    if (c.subset) L.push(`- **${c.subset.name}**: the same runs, counting only the requests to the hot set (no bar; for reading the scan's effect).`);
  }
  L.push("");
  L.push("## Policies and their fixed parameters");
  L.push("");
  L.push("| policy | parameters (source) |");
  L.push("| --- | --- |");
  for (const n of POLICY_NAMES) L.push(`| \`${n}\`${n === DEFAULT_EVICTION_POLICY ? " (default)" : ""} | ${(PARAMETERS[n] ?? "").replace(/\|/g, "\\|")} |`);
  L.push("");
  L.push("## Miss ratio (%)");
  L.push("");
  L.push(`| trace | cache (pages) | ${POLICY_NAMES.join(" | ")} | OPT | linux − lru | linux − best online | linux − OPT |`);
  L.push(`| --- | ---: | ${POLICY_NAMES.map(() => "---:").join(" | ")} | ---: | ---: | ---: | ---: |`);
  for (const r of results) {
    const d = r.miss[DEFAULT_EVICTION_POLICY]!;
    const best = Math.min(...POLICY_NAMES.map((n) => r.miss[n]!));
    const cells = POLICY_NAMES.map((n) => (r.miss[n] === best ? `**${pct(r.miss[n]!)}**` : pct(r.miss[n]!)));
    L.push(
      `| ${r.trace} | ${(r.fraction * 100).toFixed(0)}% (${r.capacity.toLocaleString("en-US")}) | ${cells.join(" | ")} | ${pct(r.miss.opt!)} | ` +
        `${pts(d - r.miss.lru!)} | ${pts(d - best)} (${r.bestOnline}) | ${pts(d - r.miss.opt!)} |`,
    );
  }
  L.push("");
  L.push("Bold: the best online policy of the row.");
  L.push("");
  L.push("## Hard bars");
  L.push("");
  L.push(`On the scan + hot set and loop rows the default must beat LRU's miss ratio by at least ${BAR_POINTS} points. The`);
  L.push("\"OPT − lru\" column is what the offline optimum gains over LRU on the same row (negative: fewer misses): where it");
  L.push("is above −10 points, no policy, online or not, can meet the bar on that row.");
  L.push("");
  L.push("| row | linux | lru | linux − lru | OPT − lru | result |");
  L.push("| --- | ---: | ---: | ---: | ---: | --- |");
  const bars = results.filter((r) => r.bar);
  for (const r of bars) {
    const v = verdict(r);
    L.push(
      `| ${r.trace} @ ${(r.fraction * 100).toFixed(0)}% | ${pct(r.miss[DEFAULT_EVICTION_POLICY]!)} | ${pct(r.miss.lru!)} | ` +
        `${pts(r.miss[DEFAULT_EVICTION_POLICY]! - r.miss.lru!)} | ${pts(r.miss.opt! - r.miss.lru!)} | ${v.text} |`,
    );
  }
  const passed = bars.filter((r) => verdict(r).pass).length;
  L.push("");
  L.push(`${passed} of ${bars.length} hard-bar rows pass.`);
  L.push("");
  L.push("Reading these rows:");
  L.push("");
  L.push("- **loop**: the reuse distance of every page is the loop's length, larger than the cache, so every policy here that");
  L.push("  ranks pages by recency or by reuse seen within its history misses every request: LRU, FIFO, CLOCK and SIEVE evict each");
  L.push("  page before its return; ARC's B1/B2, S3-FIFO's ghost queue and Linux's shadow entries (whose refault distance,");
  L.push("  loop − cache, must not exceed the active list) only recognise reuse within about one cache size. Linux's");
  L.push("  mm/workingset.c says as much: \"In cases where the average access distance between thrashing pages is bigger than");
  L.push("  the size of memory there is nothing that can be done\". OPT keeps C − 1 pages of the loop resident; an online");
  L.push("  policy approaches it only by protecting a fixed part of the loop regardless of recency (as LIRS or CLOCK-Pro do).");
  L.push("- **scan+hot**: the scan's pages are compulsory misses for every policy, OPT included, so only the hot-set requests");
  L.push("  can separate the default from LRU. From 5% up the hot set fits: a policy that loses none of it to the scan ties");
  L.push("  with OPT (compare the columns), and OPT itself gains less than the bar. At 1% the hot set (500 pages) is larger than");
  L.push("  the cache; its requests are uniform, so no online policy can hit more than C/H of them, as LRU already does outside");
  L.push("  the scan — OPT's lead there comes from knowing the future.");
  L.push("");
  return `${L.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// docs/policies.svg: one small chart per trace, miss ratio against cache size (log scale).

const COLORS: Record<string, string> = {
  lru: "#1f77b4",
  fifo: "#ff7f0e",
  clock: "#2ca02c",
  sieve: "#d62728",
  arc: "#9467bd",
  s3fifo: "#8c564b",
  linux: "#e377c2",
  opt: "#000000",
};

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function svg(cases: readonly TraceCase[], results: readonly Result[], date: string): string {
  const W = 320;
  const H = 220;
  const cols = 3;
  const legendH = 48;
  const rowsN = Math.ceil(cases.length / cols);
  const width = cols * W;
  const height = legendH + rowsN * H;
  const m = { l: 46, r: 12, t: 26, b: 34 };
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="10" y="16" font-size="13" font-weight="bold">Miss ratio vs cache size (% of footprint, log scale) — @folio/policies, ${esc(date)}</text>`);
  const series = [...POLICY_NAMES, "opt"];
  series.forEach((name, i) => {
    const x = 10 + i * 110;
    const y = 36;
    const dash = name === "opt" ? ` stroke-dasharray="5,3"` : "";
    const w = name === DEFAULT_EVICTION_POLICY ? 3 : 1.5;
    out.push(`<line x1="${x}" y1="${y - 4}" x2="${x + 24}" y2="${y - 4}" stroke="${COLORS[name]}" stroke-width="${w}"${dash}/>`);
    out.push(`<text x="${x + 30}" y="${y}">${name === "opt" ? "OPT" : name}${name === DEFAULT_EVICTION_POLICY ? " (default)" : ""}</text>`);
  });
  const lx = (f: number) => Math.log(f / SIZES[0]) / Math.log(SIZES[SIZES.length - 1] / SIZES[0]);
  cases.forEach((c, ci) => {
    const ox = (ci % cols) * W;
    const oy = legendH + Math.floor(ci / cols) * H;
    const rs = results.filter((r) => r.trace === c.name);
    const values = rs.flatMap((r) => series.map((s) => r.miss[s]!));
    let lo = Math.floor(Math.min(...values) * 10) / 10;
    let hi = Math.ceil(Math.max(...values) * 10) / 10;
    if (hi - lo < 0.1) {
      lo = Math.max(0, lo - 0.1);
      hi = Math.min(1, hi + 0.1);
    }
    const pw = W - m.l - m.r;
    const ph = H - m.t - m.b;
    const X = (f: number) => ox + m.l + lx(f) * pw;
    const Y = (v: number) => oy + m.t + (1 - (v - lo) / (hi - lo)) * ph;
    out.push(`<text x="${ox + m.l}" y="${oy + 16}" font-weight="bold">${esc(c.name)}</text>`);
    out.push(`<rect x="${ox + m.l}" y="${oy + m.t}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
    const steps = Math.round((hi - lo) / 0.1);
    const step = steps > 5 ? 0.2 : 0.1;
    for (let v = lo; v <= hi + 1e-9; v += step) {
      const y = Y(v).toFixed(1);
      out.push(`<line x1="${ox + m.l}" y1="${y}" x2="${ox + m.l + pw}" y2="${y}" stroke="#eee"/>`);
      out.push(`<text x="${ox + m.l - 4}" y="${y}" text-anchor="end" dominant-baseline="middle">${(v * 100).toFixed(0)}%</text>`);
    }
    for (const f of SIZES) {
      const x = X(f).toFixed(1);
      out.push(`<line x1="${x}" y1="${oy + m.t}" x2="${x}" y2="${oy + m.t + ph}" stroke="#eee"/>`);
      out.push(`<text x="${x}" y="${oy + m.t + ph + 15}" text-anchor="middle">${(f * 100).toFixed(0)}%</text>`);
    }
    out.push(`<text x="${ox + m.l + pw / 2}" y="${oy + H - 6}" text-anchor="middle" fill="#555">cache size</text>`);
    for (const s of series) {
      const pts2 = rs.map((r) => `${X(r.fraction).toFixed(1)},${Y(r.miss[s]!).toFixed(1)}`).join(" ");
      const dash = s === "opt" ? ` stroke-dasharray="5,3"` : "";
      const w = s === DEFAULT_EVICTION_POLICY ? 3 : 1.5;
      out.push(`<polyline points="${pts2}" fill="none" stroke="${COLORS[s]}" stroke-width="${w}"${dash}/>`);
      for (const r of rs) out.push(`<circle cx="${X(r.fraction).toFixed(1)}" cy="${Y(r.miss[s]!).toFixed(1)}" r="2" fill="${COLORS[s]}"/>`);
    }
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// Throughput of the simulator beside the simplest LRU: a Map in insertion order.

function mapLru(trace: Int32Array, n: number, capacity: number): number {
  const m = new Map<number, number>();
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const k = trace[i % trace.length]!;
    if (m.has(k)) {
      m.delete(k);
      m.set(k, 1);
      hits++;
    } else {
      if (m.size >= capacity) m.delete(m.keys().next().value!);
      m.set(k, 1);
    }
  }
  return hits;
}

function simulated(name: string, trace: Int32Array, n: number, capacity: number): number {
  let hits = 0;
  for (let done = 0; done < n; done += trace.length) hits += simulate(name, trace.subarray(0, Math.min(trace.length, n - done)), capacity).hits;
  return hits;
}

function throughput(opts: BenchOptions): Row[] {
  const trace = zipfTrace(1.0, ZIPF_PAGES, 1_000_000, 2);
  const capacity = 1000;
  const cases: RateCase[] = [
    { name: "map", run: (n) => mapLru(trace, n, capacity) },
    { name: "lru", run: (n) => simulated("lru", trace, n, capacity) },
    { name: "linux", run: (n) => simulated(DEFAULT_EVICTION_POLICY, trace, n, capacity) },
  ];
  const [peer, lru, linux] = measureRates(cases, opts);
  return [
    rateRow("simulate(lru), Zipf 1.0, C=1000", "req/s", lru!, "Map-order LRU inline", peer!),
    rateRow("simulate(linux), Zipf 1.0, C=1000", "req/s", linux!, "Map-order LRU inline", peer!),
  ];
}

export const policiesSuite: Suite = {
  name: "policies",
  description: "miss ratios of the eviction policies and OPT; hard bars: linux ≥ 10 points below lru on scan+hot and loop",
  run(opts: BenchOptions): Row[] {
    const cases = traces(opts);
    const t0 = process.hrtime.bigint();
    const results = measure(cases);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    printResults(results);
    console.log(`(${results.length} rows × ${POLICY_NAMES.length + 1} simulations in ${seconds.toFixed(1)} s)`);

    const rows: Row[] = [];
    for (const r of results.filter((x) => x.bar)) {
      const linux = r.miss[DEFAULT_EVICTION_POLICY]!;
      const lru = r.miss.lru!;
      const v = verdict(r);
      rows.push({
        name: `${r.trace} @ ${(r.fraction * 100).toFixed(0)}%: linux miss ratio`,
        value: linux * 100,
        unit: "% miss",
        peer: { name: "lru", value: lru * 100 },
        ratio: lru > 0 ? linux / lru : 1,
        goal: `≤ lru − ${BAR_POINTS} pts${v.pass ? "" : ` (OPT: ${pct(r.miss.opt!)})`}`,
        pass: v.pass,
      });
    }
    rows.push(...throughput(opts));

    if (opts.quick) {
      console.log("(--quick: docs/POLICIES.md and docs/policies.svg are written only by a full run)");
    } else {
      const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
      const machine = `${cpus()[0]?.model ?? "unknown CPU"} (${cpus().length} cores), node ${process.version}, ${platform()}-${arch()}`;
      writeFileSync(join(DOCS, "POLICIES.md"), markdown(cases, results, machine, date));
      writeFileSync(join(DOCS, "policies.svg"), svg(cases, results, date.slice(0, 10)));
      console.log(`(wrote ${join(DOCS, "POLICIES.md")} and ${join(DOCS, "policies.svg")})`);
    }
    return rows;
  },
};
