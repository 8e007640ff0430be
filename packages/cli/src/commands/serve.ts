/**
 * `serve`: the live viewer — a page on 127.0.0.1 showing a machine's memory map while a workload
 * runs. The definition only; the work is in actions/serve.ts, loaded when the command runs.
 */
import type { Command } from "commander";
import { intArg, machineOptions, type MachineOpts } from "./options.js";

/** Options of serve. */
export type ServeOpts = MachineOpts & { workload: string; port: number; paused?: boolean; speed: number; json?: boolean };

/** Registers serve. */
export function registerServe(program: Command): void {
  const cmd = program.command("serve")
    .description("watch a machine's memory live in the browser: the map while a workload runs, counters, pause/step, inject events (127.0.0.1 only)");
  machineOptions(cmd);
  cmd.option("-w, --workload <name-or-file>", "the workload to run: a built-in (folio workloads), a JSON script or a recorded trace; none for an idle machine", "tour")
    .option("-p, --port <n>", "TCP port on 127.0.0.1 (0: any free port)", intArg, 0)
    .option("--paused", "start paused: step or resume from the page")
    .option("--speed <ops>", "operations per second the workload runs at (0: as fast as it can)", intArg, 2000)
    .option("--json", "print the address as one JSON line {url, port, frames}")
    .addHelpText("after", "\nExamples:\n  folio serve\n  folio serve --memory 256MiB --workload fragment --port 8080 --paused\n" +
      "\nThe page shows the map (click a frame to describe it), the counters, and buttons to pause, step, resume,\ncompact, take frames offline and drop caches. Ctrl-C stops the server.")
    .action(async (o: ServeOpts) => (await import("../actions/serve.js")).serveCommand(o));
}
