/**
 * Runs every example as a child process and fails if any exits non-zero, so the examples are
 * tested in CI and cannot rot. The programs of examples/tutorial/ are not run here: the tutorial's
 * test (docs/test/tutorial.test.mjs) runs them and checks the output docs/TUTORIAL.md shows.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const examples = readdirSync(here).filter((f) => f.endsWith(".js") && f !== "run-all.js");
let failed = 0;
for (const file of examples) {
  const r = spawnSync(process.execPath, [join(here, file)], { encoding: "utf8" });
  const ok = r.status === 0;
  if (!ok) failed++;
  console.log(`${ok ? "✔" : "✘"} example ${file}${ok ? "" : `\n${r.stdout}\n${r.stderr}`}`);
}
console.log(`${examples.length - failed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
