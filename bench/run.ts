/**
 * Benchmark runner: `node bench/dist/run.js [suite…] [--quick] [--json <file>] [--report]`, or
 * `node bench/dist/run.js --from <results.json>` to draw the report again from saved results.
 *
 * Runs the named suites (default: all in {@link SUITES}) and prints one table per suite, every
 * figure beside a peer measured in the same run. With --report it then writes docs/BENCHMARKS.md,
 * docs/benchmarks.json and docs/plots/bench-*.svg (bench/report.ts); with --json, the same results
 * to a file of one's choosing. A suite that throws is reported as failed and the others still run;
 * the exit status is then 1. Re-spawns itself with --expose-gc when started without it, since
 * memory figures need forced collections.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { asOutcome, benchOptions, printTable } from "./harness.js";
import { LoadMeter, RESULTS_FORMAT, type BenchResults, type SuiteResult, machineInfo, readResults, resultsJson, writeReport } from "./report.js";
import { SUITES } from "./suites.js";

/** Where the report goes: the repository's docs/ (this file is bench/dist/run.js). */
const DOCS = fileURLToPath(new URL("../../docs/", import.meta.url));

interface Args {
  suites: string[];
  quick: boolean;
  json?: string;
  report: boolean;
  from?: string;
}

const USAGE = `usage: node bench/dist/run.js [suite…] [--quick] [--json <file>] [--report]
       node bench/dist/run.js --from <results.json>   (the report again, from saved results)
suites: ${SUITES.map((s) => s.name).join(", ")}
--report writes docs/BENCHMARKS.md, docs/benchmarks.json and docs/plots/bench-*.svg`;

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { suites: [], quick: false, report: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--quick") args.quick = true;
    else if (a === "--report") args.report = true;
    else if (a === "--json" || a === "--from") {
      const file = argv[++i];
      if (file === undefined || file.startsWith("--")) usageError(`${a} needs a file name`);
      if (a === "--json") args.json = file;
      else args.from = file;
    } else if (a === "--help" || a === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else if (a.startsWith("-")) usageError(`unknown option ${a}`);
    else if (!SUITES.some((s) => s.name === a)) usageError(`unknown suite ${a}`);
    else args.suites.push(a);
  }
  if (args.from !== undefined && (args.suites.length > 0 || args.quick)) usageError("--from draws saved results: it takes no suites and no --quick");
  return args;
}

function usageError(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

/** Runs the chosen suites, printing each table as it comes; a suite that throws is recorded as failed. */
async function runSuites(args: Args): Promise<BenchResults> {
  const opts = benchOptions(args.quick);
  const chosen = args.suites.length === 0 ? SUITES : SUITES.filter((s) => args.suites.includes(s.name));
  const machine = machineInfo();
  const date = new Date().toISOString();
  console.log(`Folio benchmarks: node ${machine.node}, ${machine.cpu}, ${args.quick ? "quick" : "full"} mode ` +
    `(warm-up ${opts.warmupMs} ms, median of ${opts.samples} samples of ≥ ${opts.sampleMs} ms)`);
  const started = performance.now();
  const suites: SuiteResult[] = [];
  for (const suite of chosen) {
    const load = new LoadMeter();
    load.start();
    const t0 = performance.now();
    const result: SuiteResult = { name: suite.name, description: suite.description, rows: [], durationMs: 0 };
    try {
      Object.assign(result, asOutcome(await suite.run(opts)));
      printTable(`${suite.name}: ${suite.description}`, result.rows);
      for (const note of result.notes ?? []) console.log(`- ${note}`);
    } catch (e) {
      result.error = e instanceof Error ? e.message : String(e);
      console.error(`\n== ${suite.name}: failed ==\n${e instanceof Error ? e.stack : String(e)}`);
    }
    result.durationMs = performance.now() - t0;
    result.otherLoad = Math.round(load.otherCores() * 100) / 100;
    suites.push(result);
  }
  return {
    format: RESULTS_FORMAT,
    date,
    mode: args.quick ? "quick" : "full",
    options: opts,
    command: ["node bench/dist/run.js", ...process.argv.slice(2)].join(" "),
    durationMs: performance.now() - started,
    machine,
    suites,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const results = args.from !== undefined ? readResults(args.from) : await runSuites(args);
  if (args.from === undefined) {
    const rows = results.suites.flatMap((s) => s.rows);
    const goals = rows.filter((r) => r.pass !== undefined).length;
    const failed = rows.filter((r) => r.pass === false).length;
    console.log(`\n${goals - failed}/${goals} goals met`);
  }
  if (args.json !== undefined) {
    writeFileSync(args.json, resultsJson(results));
    console.log(`results written to ${args.json}`);
  }
  if (args.report || args.from !== undefined) {
    const written = writeReport(results, DOCS);
    console.log(`report written: ${written.map((p) => p.slice(DOCS.length - "docs/".length)).join(", ")}`);
  }
  const errored = results.suites.filter((s) => s.error !== undefined);
  if (args.from === undefined && errored.length > 0) {
    console.error(`suites that failed: ${errored.map((s) => s.name).join(", ")}`);
    process.exitCode = 1;
  }
}

if (typeof (globalThis as { gc?: unknown }).gc !== "function") {
  // Memory figures need forced GCs: run again with --expose-gc, passing everything through.
  const r = spawnSync(process.execPath, ["--expose-gc", ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  if (r.error) throw r.error;
  process.exitCode = r.status ?? 1;
} else {
  await main();
}
