#!/usr/bin/env node
// folio-mount: the `mount` and `umount` commands of @folio/fuse as a program of their own, until
// the `folio` command registers them (registerMountCommands).
import { Command } from "commander";
import { registerMountCommands } from "../dist/src/commands.js";

const program = new Command("folio-mount")
  .description("mount Folio filesystems through FUSE")
  .exitOverride()
  .configureOutput({ outputError: (message, write) => write(`folio-mount: ${message.trim()}\n`) });
registerMountCommands(program);
try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e?.code?.startsWith?.("commander.")) process.exitCode = e.exitCode ?? 1;
  else {
    process.stderr.write(`folio-mount: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}
