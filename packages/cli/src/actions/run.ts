/**
 * What run, workloads and trace do (see commands/run.ts for their options).
 */
import { CliError, usage } from "../errors.js";
import type { MachineOpts } from "../commands/options.js";
import { LineWriter, human, printJson, println } from "../output.js";
import { createProgress } from "../progress.js";
import type { RunSummary } from "../runner.js";
import { describeSession, openSession } from "../session.js";
import { traceEvents, traceSources, type TraceFields } from "../tracing/index.js";
import { BUILTIN_WORKLOADS, builtinWorkload, resolveWorkload } from "../workloads/index.js";
import { sizeOption } from "../parse.js";
import { prepare, sessionOptions } from "./prepare.js";

/** Options of run. */
export type RunOpts = MachineOpts & { json?: boolean; recordTrace?: string; verify?: boolean };
/** Options of trace. */
export type TraceOpts = MachineOpts & { events?: string; limit?: number; list?: boolean; json?: boolean };

/** run: the workload on a machine, summed up. */
export function runCommand(spec: string, o: RunOpts): void {
  const { session, summary } = prepare(o, spec, o.recordTrace);
  const problems = o.verify ? session.machine.verify() : [];
  if (problems.length > 0) process.exitCode = 1;
  if (o.json) {
    printJson({ ...summary!, ...(o.verify ? { verify: problems } : {}) });
    return;
  }
  println(formatSummary(summary!, describeSession(session.options)));
  if (o.verify) println(problems.length === 0 ? "verify:     every frame and counter accounted for" : `verify:     ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join("\n")}`);
}

/** workloads: the list, or one built-in as a script. */
export function workloadsCommand(name: string | undefined, o: { memory: string; json?: boolean }): void {
  if (name === undefined) {
    if (o.json) printJson(BUILTIN_WORKLOADS.map((w) => ({ name: w.name, description: w.description })));
    else for (const w of BUILTIN_WORKLOADS) println(`${w.name.padEnd(16)} ${w.description}`);
    return;
  }
  const w = builtinWorkload(name);
  if (!w) throw new CliError("ENOENT", `no built-in workload named "${name}" (${BUILTIN_WORKLOADS.map((b) => b.name).join(", ")})`);
  printJson(w.script(sizeOption(o.memory, "--memory")));
}

/** trace: the workload's events as JSON lines. */
export function traceCommand(spec: string | undefined, o: TraceOpts): void {
  const events = traceEvents();
  if (o.list) {
    if (o.json) printJson(events);
    else for (const [name, what] of Object.entries(events)) println(`${name.padEnd(22)} ${what}`);
    return;
  }
  if (spec === undefined) usage("trace needs a workload to run (see folio workloads), or --list");
  const wanted = o.events === undefined ? null : o.events.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const w of wanted ?? []) {
    if (!(w in events) && !traceSources().some((s) => s.system === w)) usage(`--events: "${w}" is neither an event nor a system (${Object.keys(events).join(", ")})`);
  }
  const enabled = (event: string) => wanted === null || wanted.includes(event) || wanted.includes(event.slice(0, event.indexOf(":")));
  const base = sessionOptions(o);
  const workload = resolveWorkload(spec, base.memory!);
  const session = openSession({ ...base, disk: Math.max(base.disk!, workload.minDisk) });
  const out = new LineWriter();
  let count = 0;
  const limit = o.limit ?? Infinity;
  const emit = (event: string, fields: TraceFields) => {
    if (count >= limit) return;
    count++;
    out.line(JSON.stringify({ t: session.machine.scheduler.now, event, ...fields }));
  };
  const detach = traceSources().map((s) => s.attach(session, enabled, emit));
  const progress = createProgress(`tracing ${workload.name}`, workload.steps);
  try {
    workload.run(session, progress);
  } finally {
    progress.stop();
    for (const d of detach) d();
    out.flush();
  }
}

/** The text form of a {@link RunSummary}. */
export function formatSummary(s: RunSummary, machine: string): string {
  const r = s.reclaim;
  const w = s.writeback;
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return [
    `workload:   ${s.workload.name} (${s.workload.kind}): ${s.workload.description}`,
    `machine:    ${machine}`,
    `ops:        ${s.ops} system calls and allocations`,
    `time:       ${(s.time.virtualNs / 1e9).toFixed(3)} s virtual, ${(s.time.wallMs / 1000).toFixed(2)} s wall`,
    `page cache: ${s.cache.accesses} page accesses, ${s.cache.hits} hits, ${s.cache.misses} misses (hit ratio ${pct(s.cache.hitRatio)}; misses = pages read from disk)`,
    `reclaim:    ${r.scanned} pages scanned, ${r.reclaimed} reclaimed (kswapd ${r.kswapdReclaimed}, direct ${r.directReclaimed}); kswapd ran ${r.kswapdRuns} times, ${r.allocStalls} allocation stalls, ${r.refaults} refaults`,
    `            skipped ${r.skippedDirty} dirty and ${r.skippedWriteback} under writeback, ${r.throttled} throttled; ${r.swappedOut} pages swapped out, ${r.swappedIn} in`,
    `writeback:  ${w.requests} write requests (${human(w.bytes)}), ${w.flushes} flushes; now ${human(w.dirtyNow)} dirty, ${human(w.writebackNow)} under writeback`,
    `reads:      ${s.reads.requests} read requests (${human(s.reads.bytes)})`,
    ...(s.trace ? [`trace:      ${s.trace.keys} page keys written to ${s.trace.path}`] : []),
  ].join("\n");
}
