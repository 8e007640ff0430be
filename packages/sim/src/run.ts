#!/usr/bin/env node
/**
 * One run of the harness, as a violation's replay command gives it:
 *
 *   node packages/sim/dist/src/run.js --fs simple --seed 42 --ops 5000 --faults default [--policy lru] [--pressure] [--log]
 *
 * Prints the counters and the op log's and final state's hashes (with --log, every line of the
 * op log); exits 1 on a violation, printing it.
 */
import { parseFaults } from "./faults.js";
import { parseArgs } from "./cli.js";
import { run } from "./runner.js";
import { formatViolation } from "./report.js";

const args = parseArgs(process.argv.slice(2), { fs: "string", seed: "number", ops: "number", faults: "string", policy: "string", pressure: "flag", log: "flag", tail: "number" });
const result = run({
  fs: String(args["fs"] ?? "simple"),
  seed: Number(args["seed"] ?? 1),
  ops: Number(args["ops"] ?? 2000),
  faults: parseFaults(String(args["faults"] ?? "default")),
  keepLog: Boolean(args["log"]) || args["tail"] !== undefined,
  ...(args["policy"] !== undefined ? { policy: String(args["policy"]) } : {}),
  pressure: Boolean(args["pressure"]),
});
if (args["log"]) for (const line of result.log) console.log(line);
else if (args["tail"] !== undefined) for (const line of result.log.slice(-Number(args["tail"]))) console.log(line);
console.log(JSON.stringify(result.stats));
console.log(`op log hash ${result.opLogHash.toString(16)}, state hash ${result.stateHash.toString(16)}`);
if (result.violation) {
  console.log(formatViolation(result.violation));
  process.exitCode = 1;
}
