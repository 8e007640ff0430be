#!/usr/bin/env node
/**
 * One run of the harness, as a violation's replay command gives it:
 *
 *   node packages/sim/dist/src/run.js --fs simple --seed 42 --ops 5000 --faults default [--policy lru] [--pressure] [--max-order 9] [--log]
 *
 * Prints the counters, the memory-failure outcomes, and the op log's and final state's hashes
 * (with --log, every line of the op log); exits 1 on a violation, printing it. --help lists the
 * options and the fault rates.
 */
import { FAULT_PROFILES, parseFaults } from "./faults.js";
import { parseArgs } from "./cli.js";
import { run } from "./runner.js";
import { formatViolation } from "./report.js";

const args = parseArgs(process.argv.slice(2), { fs: "string", seed: "number", ops: "number", faults: "string", policy: "string", pressure: "flag", "max-order": "number", log: "flag", tail: "number", help: "flag" });
if (args["help"]) {
  console.log(`usage: run.js [--fs simple|log] [--seed N] [--ops N] [--faults SPEC] [--policy NAME] [--pressure] [--max-order 0..9] [--log | --tail N]

  --faults SPEC   a profile (${Object.keys(FAULT_PROFILES).join(", ")}), then rates: default,hardOffline=0.1,compact=0.01
                  rates: ${Object.keys(FAULT_PROFILES["none"]!).join(", ")}
  --max-order N   largest folio order of the filesystem's files (default: 0, 2 or 9, chosen by the seed)
  --pressure      ordinary boots leave the page cache 96-256 pages, so reclaim never stops`);
  process.exit(0);
}
const result = run({
  fs: String(args["fs"] ?? "simple"),
  seed: Number(args["seed"] ?? 1),
  ops: Number(args["ops"] ?? 2000),
  faults: parseFaults(String(args["faults"] ?? "default")),
  keepLog: Boolean(args["log"]) || args["tail"] !== undefined,
  ...(args["policy"] !== undefined ? { policy: String(args["policy"]) } : {}),
  pressure: Boolean(args["pressure"]),
  ...(args["max-order"] !== undefined ? { maxOrder: Number(args["max-order"]) } : {}),
});
if (args["log"]) for (const line of result.log) console.log(line);
else if (args["tail"] !== undefined) for (const line of result.log.slice(-Number(args["tail"]))) console.log(line);
console.log(JSON.stringify(result.stats));
if (Object.keys(result.outcomes).length > 0) console.log(`memory failure: ${JSON.stringify(result.outcomes)}`);
console.log(`op log hash ${result.opLogHash.toString(16)}, state hash ${result.stateHash.toString(16)}`);
if (result.violation) {
  console.log(formatViolation(result.violation));
  process.exitCode = 1;
}
