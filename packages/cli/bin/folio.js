#!/usr/bin/env node
// The `folio` bin: a committed shim, so the workspace links it at install time, before the
// TypeScript is built; the command itself is the compiled dist/src/main.js.
import { existsSync } from "node:fs";

const main = new URL("../dist/src/main.js", import.meta.url);
if (!existsSync(main)) {
  console.error("folio: the command is not built yet: run `npx -y pnpm@12.4.2 build` (tsc -b) in the repository first");
  process.exit(1);
}
await import(main.href);
