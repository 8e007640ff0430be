/**
 * Running the built `folio` command as a child process, as a user would.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The compiled entry point: this file is dist/test/helpers.js. */
export const MAIN = fileURLToPath(new URL("../src/main.js", import.meta.url));

/** What a run of `folio` printed and how it ended. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `folio args…` in `cwd` (default: the test's temp directory) and collects its output. */
export function folio(args: readonly string[], cwd?: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { cwd, maxBuffer: 64 << 20, env: { ...process.env, FORCE_COLOR: "0" } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A fresh temporary directory, removed when the process exits. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "folio-cli-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
