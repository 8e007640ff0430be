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
import { FAULT_PROFILES } from "./faults.js";
import { commonOptions, parseArgs } from "./cli.js";
import { run } from "./runner.js";
import { formatViolation } from "./report.js";
import { target } from "./targets.js";

const USAGE = `usage: run.js [--fs simple|log] [--seed N] [--ops N] [--faults SPEC] [--policy NAME] [--pressure] [--max-order 0..9] [--log | --tail N]

  --faults SPEC   a profile (${Object.keys(FAULT_PROFILES).join(", ")}), then rates: default,hardOffline=0.1,compact=0.01
                  rates: ${Object.keys(FAULT_PROFILES["none"]!).join(", ")}
  --max-order N   largest folio order of the filesystem's files (default: 0, 2 or 9, chosen by the seed)
  --pressure      ordinary boots leave the page cache 96-256 pages, so reclaim never stops`;
const OPTIONS = { fs: "string", seed: "number", ops: "number", faults: "string", policy: "string", pressure: "flag", "max-order": "number", log: "flag", tail: "number" } as const;
const { fs, log, tail, options } = parseArgs(process.argv.slice(2), OPTIONS, USAGE, (args) => ({
  fs: target(String(args["fs"] ?? "simple")).name,
  log: Boolean(args["log"]),
  tail: args["tail"] === undefined ? undefined : Number(args["tail"]),
  options: commonOptions(args, 2000),
}));
const result = run({ fs, ...options, keepLog: log || tail !== undefined });
if (log) for (const line of result.log) console.log(line);
else if (tail !== undefined) for (const line of result.log.slice(-tail)) console.log(line);
console.log(JSON.stringify(result.stats));
if (Object.keys(result.outcomes).length > 0) console.log(`memory failure: ${JSON.stringify(result.outcomes)}`);
console.log(`op log hash ${result.opLogHash.toString(16)}, state hash ${result.stateHash.toString(16)}`);
if (result.violation) {
  console.log(formatViolation(result.violation));
  process.exitCode = 1;
}
