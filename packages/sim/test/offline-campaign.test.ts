/**
 * The offline campaign (issue #9): at least 10,000 random hard- and soft-offline injections per
 * filesystem, at any frame whatever it holds — file pages, fs-simple's metadata, private copies,
 * free memory, slab, page tables — between operations and inside them (from timers that fire in
 * their I/O waits), with unpoison and compaction passes, over the mixed workload of data,
 * metadata and mapping operations, with power cuts, I/O errors and memory pressure on some runs,
 * at folio orders 0, 2 and 9.
 *
 * The harness holds every run to its rules (src/runner.ts): no crash, no hang; every read returns
 * the right data or EIO — and EIO exactly for the pages lost; every access through a mapping the
 * right data or SIGBUS with EHWPOISON exactly where a page was lost (or a poison marker may stay);
 * every lost dirty page reported by the next fsync (or msync) of each open file; each file's record
 * of lost pages what memory failure's results said; the machine's recount (`verify`) clean and
 * memory failure's counters equal to the results the harness saw. The goal is 0 violations.
 */
import test from "ava";
import { formatViolation, parseFaults, run, type RunConfig, type RunStats, type Violation } from "../src/index.js";

/** Injections (hard + soft offline) each filesystem must see. */
const INJECTIONS = 10_000;
/** The campaign's rates: a memory fault before most operations, on top of the default profile's power cuts and I/O errors. */
const FAULTS = parseFaults("default,hardOffline=0.3,softOffline=0.2,unpoison=0.2,compact=0.03");
/** More mapping operations than the default mix (about 15 % of draws), so that lost pages are met through mappings too. */
const WEIGHTS = { "mmap-shared": 1.5, "mmap-private": 1, load: 4, store: 5, msync: 1.2, munmap: 0.8 } as const;

for (const fs of ["simple", "log"]) {
  test(`fs-${fs}: ${INJECTIONS} hard and soft offline injections over the running workload, no violation`, (t) => {
    const started = performance.now();
    const totals: Partial<RunStats> = {};
    const outcomes = new Map<string, number>();
    const violations: Violation[] = [];
    let runs = 0;
    for (let seed = 1; (totals.hardOfflines ?? 0) + (totals.softOfflines ?? 0) < INJECTIONS; seed++) {
      // Every third run under memory pressure; the folio order cycles through 0, 2 and 9.
      const cfg: RunConfig = { fs, seed, ops: 2000, faults: FAULTS, weights: WEIGHTS, maxOrder: [0, 2, 9][seed % 3]!, pressure: seed % 3 === 2 };
      const r = run(cfg);
      runs++;
      for (const [k, v] of Object.entries(r.stats) as [keyof RunStats, number][]) totals[k] = (totals[k] ?? 0) + v;
      for (const [k, n] of Object.entries(r.outcomes)) outcomes.set(k, (outcomes.get(k) ?? 0) + n);
      if (r.violation) violations.push(r.violation);
    }
    const s = totals as RunStats;
    t.log(`${runs} runs, ${s.ops} operations, ${((performance.now() - started) / 1000).toFixed(1)} s`);
    t.log(`injections: ${s.hardOfflines + s.softOfflines} (${s.hardOfflines} hard, ${s.softOfflines} soft; ${s.memMidOp} of all memory faults inside an operation), ` +
      `${s.unpoisons} unpoisons, ${s.compactions} compaction passes (${s.compactMigrated} folios moved)`);
    const byAction = new Map<string, number>();
    for (const [k, n] of outcomes) {
      const [kind, , action] = k.split(" ");
      byAction.set(`${kind} ${action}`, (byAction.get(`${kind} ${action}`) ?? 0) + n);
    }
    t.log(`outcomes: ${[...byAction].sort().map(([k, n]) => `${k} ${n}`).join(", ")}`);
    t.log(`by memdesc type: ${[...outcomes].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => `${k} ${n}`).join(", ")}`);
    t.log(`lost: ${s.lostFilePages} file pages, ${s.lostMetaPages} metadata pages, ${s.lostAnonPages} private copies; ` +
      `met by ${s.lostReads} reads (EIO), ${s.poisonSigbus} accesses (SIGBUS, EHWPOISON), ${s.lossReports} fsyncs and msyncs reporting them (EIO)`);
    t.log(`also: ${s.crashes} power cuts, ${s.readErrors + s.writeErrors + s.flushErrors} I/O errors, ${s.eio} other EIO outcomes, ${s.pagesReclaimed} pages reclaimed`);
    t.log(`violations: ${violations.length}`);
    for (const v of violations) t.log(formatViolation(v));
    t.is(violations.length, 0);
    t.true(s.hardOfflines + s.softOfflines >= INJECTIONS);
    // The campaign reached what it is about.
    t.true(s.lostFilePages > 0 && s.lostReads > 0 && s.poisonSigbus > 0 && s.lossReports > 0 && s.lostAnonPages > 0, "losses met by reads, accesses and fsync");
    t.true([...outcomes.keys()].some((k) => k.endsWith(" delayed")), "some failures were delayed by I/O in flight");
    if (fs === "simple") t.true(s.lostMetaPages > 0, "metadata lost");
  });
}
