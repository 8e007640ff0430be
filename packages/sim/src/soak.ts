#!/usr/bin/env node
/**
 * The soak: runs the harness seed after seed for as long as asked, and prints what it did.
 *
 *   pnpm soak --minutes 10 [--fs simple] [--seed 1] [--ops 3000] [--faults default] [--policy lru] [--max-order 9] [--pressure] [--allow-known]
 *
 * Each run is (filesystem, seed, ops, fault rates, eviction policy, folio order); seeds count up
 * from --seed; without --fs the runs alternate between every known filesystem; without --policy
 * each seed picks one of every eviction policy in turn, and without --max-order one of the folio
 * orders 0, 2 and 9; --pressure leaves the page cache a few pages so reclaim never stops. Prints a
 * line every 30 s, then the totals: operations, faults injected (I/O errors, crashes, memory
 * errors and compaction, with memory failure's outcomes by kind, memdesc type and action),
 * fsyncs, remounts, recoveries, distinct seeds and violations (each new one with its replay
 * command; known bugs, see src/known.ts, summarised).
 * Exits 1 on any violation (with --allow-known, only on violations that are not known bugs).
 */
import { commonOptions, parseArgs } from "./cli.js";
import { formatFaults } from "./faults.js";
import { KNOWN_BUGS } from "./known.js";
import { addStats, formatViolation } from "./report.js";
import { emptyStats, maxOrderOf, policyOf, run, type Violation } from "./runner.js";
import { TARGETS, target } from "./targets.js";

const USAGE = `usage: soak.js [--minutes N] [--fs simple|log] [--seed N] [--ops N] [--faults SPEC] [--policy NAME] [--max-order 0..9] [--pressure] [--allow-known]

  --minutes N     how long to run (default 1); seeds count up from --seed (default 1)
  --fs NAME       one filesystem (default: alternate between all of them)
  --faults SPEC   fault rates, as run.js --help lists them (default: default)
  --policy NAME   one eviction policy (default: each seed picks one in turn)
  --max-order N   largest folio order (default: 0, 2 or 9 by seed)
  --pressure      leave the page cache a few pages, so reclaim never stops
  --allow-known   exit 0 when the only violations are known bugs`;
const OPTIONS = { minutes: "number", fs: "string", seed: "number", ops: "number", faults: "string", policy: "string", "max-order": "number", pressure: "flag", "allow-known": "flag" } as const;
const { minutes, fsList, allowKnown, options } = parseArgs(process.argv.slice(2), OPTIONS, USAGE, (args) => ({
  minutes: Number(args["minutes"] ?? 1),
  fsList: args["fs"] ? [target(String(args["fs"])).name] : TARGETS.map((t) => t.name),
  allowKnown: Boolean(args["allow-known"]),
  options: commonOptions(args, 3000),
}));
const { seed: firstSeed, ops, faults, policy, pressure, maxOrder } = options;
const policyRuns = new Map(fsList.map((f) => [f, new Map<string, number>()]));
const orderRuns = new Map(fsList.map((f) => [f, new Map<number, number>()]));
const outcomes = new Map(fsList.map((f) => [f, new Map<string, number>()]));

const start = performance.now();
const deadline = start + minutes * 60_000;
const totals = new Map(fsList.map((f) => [f, emptyStats()]));
const seeds = new Map(fsList.map((f) => [f, 0]));
const fresh: Violation[] = [];
const known = new Map<string, Violation[]>();
let runs = 0;
let lastReport = start;

console.log(`soak: ${minutes} min on ${fsList.join(", ")}, ${ops} operations per run, seeds from ${firstSeed}, faults ${formatFaults(faults)}, eviction policy ${policy ?? "by seed"}, folio order ${maxOrder ?? "by seed"}${pressure ? ", memory pressure" : ""}`);
for (let seed = firstSeed; performance.now() < deadline; seed++) {
  for (const fs of fsList) {
    const r = run({ fs, seed, ops, faults, pressure, ...(policy ? { policy } : {}), ...(maxOrder !== undefined ? { maxOrder } : {}) });
    runs++;
    const byPolicy = policyRuns.get(fs)!;
    byPolicy.set(policyOf({ seed, policy }), (byPolicy.get(policyOf({ seed, policy })) ?? 0) + 1);
    const order = maxOrderOf({ seed, maxOrder });
    orderRuns.get(fs)!.set(order, (orderRuns.get(fs)!.get(order) ?? 0) + 1);
    const out = outcomes.get(fs)!;
    for (const [k, n] of Object.entries(r.outcomes)) out.set(k, (out.get(k) ?? 0) + n);
    addStats(totals.get(fs)!, r.stats);
    seeds.set(fs, seeds.get(fs)! + 1);
    if (r.violation) {
      if (r.violation.known) {
        const list = known.get(r.violation.known) ?? [];
        list.push(r.violation);
        known.set(r.violation.known, list);
      } else {
        fresh.push(r.violation);
        console.log(formatViolation(r.violation));
      }
    }
    if (performance.now() - lastReport >= 30_000) {
      lastReport = performance.now();
      const all = [...totals.values()].reduce((a, s) => a + s.ops, 0);
      console.log(`  ${((lastReport - start) / 60_000).toFixed(1)} min: ${runs} runs, ${all} operations, ${fresh.length} new violations, ${[...known.values()].reduce((a, l) => a + l.length, 0)} known-bug hits`);
    }
    if (performance.now() >= deadline) break;
  }
}

const elapsed = (performance.now() - start) / 1000;
console.log(`\nsoak finished after ${elapsed.toFixed(0)} s, ${runs} runs`);
for (const fs of fsList) {
  const s = totals.get(fs)!;
  console.log(`\nfs-${fs}: seeds ${firstSeed}..${firstSeed + seeds.get(fs)! - 1} (${seeds.get(fs)} distinct seeds)`);
  console.log(`  operations          ${s.ops}  (${(s.ops / elapsed).toFixed(0)}/s overall)`);
  console.log(`  fsyncs              ${s.fsyncs}  (+ ${s.syncs} syncs)`);
  console.log(`  remounts            ${s.remounts}`);
  console.log(`  crashes             ${s.crashes}  (${s.midOpCrashes} in the middle of an operation; ${s.tornBlocks} blocks torn, ${s.revertedBlocks} reverted)`);
  console.log(`  recoveries          ${s.recoveries}  (fsck repaired ${s.fsckProblemsRepaired} problems)`);
  console.log(`  faults injected     ${s.readErrors + s.writeErrors + s.flushErrors} I/O errors (${s.readErrors} read, ${s.writeErrors} write, ${s.flushErrors} flush) in ${s.ioWindows} windows; ${s.tinyBoots} tiny-memory boots`);
  console.log(`  user mappings       ${s.mmaps} mmaps; ${s.loads} loads, ${s.stores} stores, ${s.msyncs} msyncs (MS_SYNC)`);
  console.log(`  fault outcomes      ${s.eio} EIO, ${s.enomem} ENOMEM, ${s.enospc} ENOSPC; ${s.expectedErrors} errors as the model predicted`);
  console.log(`  reclaim             ${s.pagesReclaimed} pages reclaimed, ${s.kswapdRuns} kswapd runs, ${s.allocStalls} direct-reclaim stalls, ${s.refaults} refaults, ${s.oomReports} OOM reports`);
  console.log(`  memory faults       ${s.hardOfflines} hard offlines, ${s.softOfflines} soft offlines (${s.memMidOp} of all inside an operation), ${s.unpoisons} unpoisons, ${s.compactions} compaction passes (${s.compactMigrated} folios moved)`);
  console.log(`  pages lost          ${s.lostFilePages} of files, ${s.lostMetaPages} of metadata, ${s.lostAnonPages} private copies; met by ${s.lostReads} reads (EIO), ${s.poisonSigbus} accesses (SIGBUS, EHWPOISON), ${s.lossReports} fsyncs reporting them`);
  const out = [...outcomes.get(fs)!].sort(([a], [b]) => (a < b ? -1 : 1));
  if (out.length > 0) console.log(`  memory failure      ${out.map(([k, n]) => `${k} ${n}`).join(", ")}`);
  console.log(`  eviction policies   ${[...policyRuns.get(fs)!].map(([p, n]) => `${p} ${n}`).join(", ")} runs`);
  console.log(`  folio orders        ${[...orderRuns.get(fs)!].sort(([a], [b]) => a - b).map(([o, n]) => `max order ${o}: ${n}`).join(", ")} runs`);
  if (s.cleanButInconsistent > 0) console.log(`  note                ${s.cleanButInconsistent} unmounts after write errors left an image marked clean that fsck found inconsistent`);
}
const knownHits = [...known.values()].reduce((a, l) => a + l.length, 0);
console.log(`\nviolations: ${fresh.length + knownHits} (${fresh.length} new, ${knownHits} of known bugs)`);
for (const v of fresh) console.log(`  NEW ${formatViolation(v).replace(/\n/g, "\n  ")}`);
for (const [id, list] of known) {
  const bug = KNOWN_BUGS.find((b) => b.id === id)!;
  console.log(`  known ${id}: ${list.length} runs (e.g. ${list[0]!.replay})\n    ${bug.title}`);
}
process.exitCode = fresh.length > 0 || (knownHits > 0 && !allowKnown) ? 1 : 0;
