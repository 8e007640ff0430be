// The API reference (`pnpm docs:api`, configured by typedoc.json at the root) covers every
// package's public entry point, and no symbol those entry points export goes undocumented. This
// test converts the same entry points with the same configuration, runs the reference's
// validation — undocumented symbols (of the kinds typedoc.json's requiredToBeDocumented names),
// links that resolve to nothing or to something not exported, exported signatures that use
// unexported types — and renders the HTML into a temporary directory (links to members without a
// page of their own are found only then). It fails listing every problem, with the file and line
// to fix for each undocumented symbol.
//
// It reads the TypeScript sources (typedoc.json's tsconfig maps each @folio/* import to its
// package's src/), so it needs no build.
import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { Application, Logger, LogLevel, ReflectionKind } from "typedoc";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Keeps every message at warning level or above instead of printing it. */
class CollectingLogger extends Logger {
  messages = [];
  log(message, level) {
    super.log(message, level);
    if (level >= LogLevel.Warn) this.messages.push({ level, message });
  }
}

/** Converts, validates and renders the workspace's entry points as `pnpm docs:api` does, into a temporary directory. */
async function checkApi() {
  const logger = new CollectingLogger();
  const app = await Application.bootstrapWithPlugins({ options: join(root, "typedoc.json"), logLevel: "Warn" });
  app.logger = logger;
  const project = await app.convert();
  if (project === undefined) return { project, messages: logger.messages };
  app.validate(project);
  const out = mkdtempSync(join(tmpdir(), "folio-api-"));
  try {
    await app.generateDocs(project, out);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  return { project, messages: logger.messages };
}

/** Where a reflection is declared, as "packages/…/file.ts:line", found by its full name. */
function locator(project) {
  const byName = new Map();
  for (const r of Object.values(project?.reflections ?? {})) {
    const name = r.getFriendlyFullName();
    const src = r.sources?.[0] ?? (r.kindOf(ReflectionKind.SomeSignature) ? r.parent?.sources?.[0] : undefined);
    if (src !== undefined && !byName.has(name)) byName.set(name, `${relative(root, src.fullFileName)}:${src.line}`);
  }
  return (name) => byName.get(name) ?? "?";
}

const UNDOCUMENTED = /^(.+) \((\w+)\), defined in (.+), does not have any documentation$/;

test("every exported symbol of every package's entry points is documented, every link resolves", async (t) => {
  t.timeout(180_000);
  const { project, messages } = await checkApi();
  t.truthy(project, `the entry points did not convert:\n${messages.map((m) => m.message).join("\n")}`);
  const where = locator(project);
  const undocumented = [];
  const other = [];
  for (const { message } of messages) {
    if (/^Found \d+ errors? and \d+ warnings?$/.test(message)) continue;
    const m = UNDOCUMENTED.exec(message);
    if (m) undocumented.push(`${where(m[1]).padEnd(48)} ${m[1]} (${m[2]})`);
    else other.push(message);
  }
  undocumented.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  const report = [];
  if (undocumented.length > 0) report.push(`${undocumented.length} exported symbols have no documentation comment:`, ...undocumented);
  if (other.length > 0) report.push(`${other.length} other problems of the API reference:`, ...other);
  if (report.length > 0) t.fail(report.join("\n"));
  else t.pass();
});
