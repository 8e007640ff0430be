/**
 * Benchmark runner: `node bench/dist/run.js [suite…] [--quick] [--json <file>] [--report]`.
 *
 * Runs the named suites (default: all in {@link SUITES}) and prints one table per suite, every
 * figure beside a peer measured in the same run. Re-spawns itself with --expose-gc when started
 * without it, since memory figures need forced collections.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { type Row, benchOptions, printTable } from "./harness.js";
import { SUITES } from "./suites.js";

interface Args {
  suites: string[];
  quick: boolean;
  json?: string;
  report: boolean;
}

const USAGE = `usage: node bench/dist/run.js [suite…] [--quick] [--json <file>] [--report]
suites: ${SUITES.map((s) => s.name).join(", ")}`;

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { suites: [], quick: false, report: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--quick") args.quick = true;
    else if (a === "--report") args.report = true;
    else if (a === "--json") {
      const file = argv[++i];
      if (file === undefined || file.startsWith("--")) usageError("--json needs a file name");
      args.json = file;
    } else if (a === "--help" || a === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else if (a.startsWith("-")) usageError(`unknown option ${a}`);
    else if (!SUITES.some((s) => s.name === a)) usageError(`unknown suite ${a}`);
    else args.suites.push(a);
  }
  return args;
}

function usageError(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const opts = benchOptions(args.quick);
  const chosen = args.suites.length === 0 ? SUITES : SUITES.filter((s) => args.suites.includes(s.name));
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  console.log(`Folio benchmarks: node ${process.version}, ${cpu}, ${args.quick ? "quick" : "full"} mode ` +
    `(warm-up ${opts.warmupMs} ms, median of ${opts.samples} samples of ≥ ${opts.sampleMs} ms)`);
  if (args.report) console.log("(--report is reserved for a later version and does nothing yet)");

  const results: Record<string, Row[]> = {};
  let failed = 0;
  for (const suite of chosen) {
    const rows = await suite.run(opts);
    results[suite.name] = rows;
    printTable(`${suite.name}: ${suite.description}`, rows);
    failed += rows.filter((r) => r.pass === false).length;
  }
  const goals = Object.values(results).flat().filter((r) => r.pass !== undefined).length;
  console.log(`\n${goals - failed}/${goals} goals met`);

  if (args.json !== undefined) {
    const doc = { node: process.version, platform: `${process.platform}-${process.arch}`, cpu, options: opts, suites: results };
    writeFileSync(args.json, `${JSON.stringify(doc, null, 2)}\n`);
    console.log(`results written to ${args.json}`);
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
