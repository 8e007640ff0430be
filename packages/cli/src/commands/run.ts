/**
 * `run`: a workload on a machine, summed up; `workloads`: the built-in workloads and their
 * scripts; `trace`: the events of a workload as JSON lines. The definitions only; the work is in
 * actions/run.ts, loaded when a command runs.
 */
import type { Command } from "commander";
import { intArg, jsonOption, machineOptions } from "./options.js";

const actions = () => import("../actions/run.js");

/** Registers run, workloads and trace. */
export function registerRun(program: Command): void {
  const run = program.command("run")
    .description("run a workload (built-in, JSON script or recorded trace) on a machine and sum up what it did")
    .argument("<workload>", "a built-in workload (see folio workloads), a .json script, a page-key trace or a block trace .csv");
  machineOptions(run);
  jsonOption(run);
  run.option("--record-trace <file>", "record the page-access trace to a file (text, or binary .f64) for replay or policy simulation")
    .option("--verify", "check every frame and counter of the machine afterwards (exit 1 on a problem)")
    .action(async (spec: string, o) => (await actions()).runCommand(spec, o));

  program.command("workloads")
    .description("list the built-in workloads, or print one as a workload script (the format of --workload file.json)")
    .argument("[name]", "a built-in workload to print as a script")
    .option("-m, --memory <size>", "size the script for this memory", "64MiB")
    .option("--json", "print the list as JSON")
    .action(async (name: string | undefined, o) => (await actions()).workloadsCommand(name, o));

  const trace = program.command("trace")
    .description("run a workload and print its events as JSON lines {t, event, …} (t in virtual ns)")
    .argument("[workload]", "a built-in workload, a .json script or a recorded trace");
  machineOptions(trace);
  trace.option("-e, --events <list>", "comma-separated events or systems to trace (default: all; see --list)")
    .option("--limit <n>", "stop printing after n events", intArg)
    .option("--list", "list the events that can be traced")
    .option("--json", "with --list: print the events as JSON")
    .action(async (spec: string | undefined, o) => (await actions()).traceCommand(spec, o));
}
