#!/usr/bin/env node
/**
 * Entry point of `folio`: runs the program and turns any failure into one line on stderr and a
 * non-zero exit status — 2 for a command line that does not parse, 1 for a failed command, 70
 * for an internal error (the only case that prints a stack trace).
 */
import { CommanderError } from "commander";
import { EXIT_USAGE, describeError } from "./errors.js";
import { OutputClosed } from "./output.js";
import { createProgram } from "./program.js";

async function main(argv: readonly string[]): Promise<void> {
  try {
    await createProgram().parseAsync([...argv]);
  } catch (e) {
    if (e instanceof OutputClosed) return; // the reader of stdout went away (`| head`): not an error
    if (e instanceof CommanderError) {
      // Commander has printed its message already; help and version end successfully.
      process.exitCode = e.code === "commander.helpDisplayed" || e.code === "commander.version" ? 0 : e.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    const report = describeError(e);
    process.stderr.write(`folio: ${report.line}\n`);
    if (report.stack !== undefined) process.stderr.write(`${report.stack}\n`);
    process.exitCode = report.exitCode;
  }
}

// A reader of stdout that goes away (`folio … | head`) ends the command, quietly and successfully.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

await main(process.argv);
