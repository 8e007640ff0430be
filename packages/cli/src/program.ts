/**
 * The `folio` command line: one commander program with a subcommand per job. Every subcommand has
 * `--help`; every report has `--json`. The program and the command definitions load nothing of
 * Folio: each action imports its implementation when it runs.
 */
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { writeOut } from "./output.js";
import { disableProgress } from "./progress.js";
import { registerImages } from "./commands/images.js";
import { registerReports } from "./commands/reports.js";
import { registerRun } from "./commands/run.js";
import { registerServe } from "./commands/serve.js";
import { registerMountCommands } from "@folio/fuse/commands";
import { registerBench, registerDemo } from "./commands/tools.js";

/** The version printed by `folio --version`: the package's (this file is dist/src/program.js). */
export const VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

/**
 * Builds the program. Commander's own errors (an unknown command or option, a missing argument)
 * are thrown as CommanderError instead of exiting, so `main` reports every failure the same way.
 */
export function createProgram(): Command {
  const program = new Command("folio");
  program
    .description("Folio: Linux's physical memory and page cache, simulated — disk images, workloads, reports, pictures")
    .version(VERSION)
    .option("--no-progress", "never draw progress bars")
    .exitOverride()
    // Commander's errors as one line like every other, `folio: EINVAL: …` (a command line that
    // does not parse is an invalid argument); its suggestion joins the message's line.
    .configureOutput({
      outputError: (message, write) => write(`folio: ${message.trim().replace(/^error: /, "EINVAL: ").replace(/\s*\n\s*/g, " ")}\n`),
      // Help and version written synchronously, like every report (a closed pipe ends quietly).
      writeOut: (text) => writeOut(text),
    })
    .showSuggestionAfterError(true)
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true })
    .hook("preAction", (cmd) => {
      if (cmd.opts()["progress"] === false) disableProgress();
    })
    .addHelpText("after", `
Examples:
  folio demo
  folio mkfs --fs log --size 64MiB disk.img && folio cp notes.txt disk.img:/notes.txt && folio ls -l disk.img /
  folio run copy-tree --memory 128MiB --policy s3fifo
  folio meminfo --workload random-read --json
  folio memmap --workload fragment --out map.png
  folio serve --workload tour
See docs/CLI.md for every command.`);
  registerDemo(program);
  registerImages(program);
  registerRun(program);
  registerReports(program);
  registerServe(program);
  registerMountCommands(program);
  registerBench(program);
  return program;
}
