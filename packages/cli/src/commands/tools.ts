/**
 * Commands that run other programs of the workspace: the demo (examples/demo.ts and
 * quickstart.ts) and the benchmarks (bench/run.ts), each in a child Node process with the
 * terminal passed through.
 */
import { spawnSync } from "node:child_process";
import { pathToFileURL } from "node:url";
import type { Command } from "commander";
import { CliError, usage } from "../errors.js";
import { workspaceFile } from "../workspace.js";

/** Runs `node script args…` with inherited stdio; returns its exit status. */
function runNode(script: string, args: readonly string[]): number {
  const r = spawnSync(process.execPath, [script, ...args], { stdio: "inherit" });
  if (r.error) throw new CliError("EIO", `could not run ${script}: ${r.error.message}`);
  return r.status ?? 1;
}

/** Registers demo. */
export function registerDemo(program: Command): void {
  program.command("demo")
    .description("run the Quick start demo: a machine describing its frames, then fs-simple through Node's fs API")
    .action(() => {
      // Both parts, as `pnpm demo` runs them; the second only if the first succeeded.
      for (const part of ["examples/dist/demo.js", "examples/dist/quickstart.js"]) {
        const status = runNode(workspaceFile(part), []);
        if (status !== 0) {
          process.exitCode = status;
          return;
        }
      }
    });
}

/** Registers bench. */
export function registerBench(program: Command): void {
  program.command("bench")
    .description("run the benchmarks (bench/run.ts); arguments pass through: suites, --quick, --json <file>, --report, --from <file>")
    .argument("[args...]", "arguments of the bench runner, e.g. core --quick")
    .allowUnknownOption()
    .addHelpText("after", "\nExamples:\n  folio bench --quick\n  folio bench core pagecache --json results.json\n  folio bench --report  (writes docs/BENCHMARKS.md)\n  folio bench -- --help  (the runner's own usage)")
    .action(async (args: string[]) => {
      const runner = workspaceFile("bench/dist/run.js");
      await checkBenchArgs(args);
      process.exitCode = runNode(runner, args);
    });
}

/**
 * Checks the bench runner's arguments before starting it, so a mistake is one line here rather
 * than the runner's usage text: suites by name (from bench/dist/suites.js), --quick, --report,
 * --json <file>, --from <file>, --help.
 */
async function checkBenchArgs(args: readonly string[]): Promise<void> {
  const { SUITES } = (await import(pathToFileURL(workspaceFile("bench/dist/suites.js")).href)) as { SUITES: readonly { name: string }[] };
  const names = SUITES.map((s) => s.name);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--quick" || a === "--report" || a === "--help" || a === "-h") continue;
    if (a === "--json" || a === "--from") {
      const file = args[++i];
      if (file === undefined || file.startsWith("-")) usage(`bench ${a} needs a file name`);
      continue;
    }
    if (a.startsWith("-")) usage(`bench: unknown option ${a} (--quick, --report, --json <file>, --from <file>)`);
    if (!names.includes(a)) usage(`bench: unknown suite "${a}" (${names.join(", ")})`);
  }
}
