/**
 * Files of the Folio workspace the command runs from other packages (the examples, the bench
 * runner). They exist once the workspace is built; the CLI is a workspace tool, not a published one.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CliError } from "./errors.js";

/** The repository root: this file is packages/cli/dist/src/workspace.js. */
const ROOT = new URL("../../../../", import.meta.url);

/**
 * The absolute path of `relative` (a path from the repository root) if it exists; otherwise
 * throws ENOENT telling the user to build the workspace.
 */
export function workspaceFile(relative: string): string {
  const path = fileURLToPath(new URL(relative, ROOT));
  if (!existsSync(path)) throw new CliError("ENOENT", `${relative} is not there: build the workspace first (npx -y pnpm@12.4.2 build)`);
  return path;
}
