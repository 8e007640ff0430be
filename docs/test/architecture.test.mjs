// docs/ARCHITECTURE.md names code: every data-path step names a file and the functions in it that
// do the step. This test keeps those names true: a renamed function or a moved file fails it,
// naming the step and the name. (links.test.mjs checks the links of every page.)
import test from "ava";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const docs = join(dirname(fileURLToPath(import.meta.url)), "..");
const text = readFileSync(join(docs, "ARCHITECTURE.md"), "utf8");

/** The "Data paths" section: from its heading to the next level-2 heading. */
function dataPaths(md) {
  const start = md.indexOf("\n## Data paths");
  if (start < 0) return "";
  const end = md.indexOf("\n## ", start + 1);
  return md.slice(start, end < 0 ? md.length : end);
}

/**
 * The references of one table cell: "[label](path) · name, Class.method; [label](path) · name".
 * Returns [{ path, names }], or null when the cell does not have that shape.
 */
export function parseFolioCell(cell) {
  const refs = [];
  for (const part of cell.split(";").map((p) => p.trim()).filter(Boolean)) {
    const m = /^\[[^\]]+\]\(([^)]+)\) · (.+)$/.exec(part);
    if (m === null) return null;
    refs.push({ path: m[1], names: m[2].split(",").map((n) => n.trim()) });
  }
  return refs.length > 0 ? refs : null;
}

/** Whether `source` defines `name` (a bare function, class, interface, type or method name) or `Class.member`. */
export function defines(source, name) {
  const esc = (s) => s.replace(/[$]/g, "\\$&");
  const [owner, member] = name.includes(".") ? name.split(".") : [undefined, name];
  if (owner !== undefined && !new RegExp(`\\b(class|interface)\\s+${esc(owner)}\\b`).test(source)) return false;
  const decl = new RegExp(
    `(\\b(function|class|interface|type|const|let)\\s+${esc(member)}\\b)` + // declarations
    `|(^\\s*(?:(?:public|private|protected|static|readonly|async|get|set)\\s+)*${esc(member)}\\s*[(<])` + // methods
    `|(^\\s*(?:(?:public|private|protected|static|readonly)\\s+)*${esc(member)}\\s*[:=])`, // fields, callback properties
    "m",
  );
  return decl.test(source);
}

/** Every table row of the data-path section: [path heading, step, folio cell]. */
function rows(section) {
  const out = [];
  let heading = "";
  for (const line of section.split("\n")) {
    if (line.startsWith("### ")) heading = line.slice(4);
    const cells = line.split("|").map((c) => c.trim());
    // | # | Step | Folio | Linux |  →  ["", "#", "Step", "Folio", "Linux", ""]
    if (cells.length === 6 && /^\d+$/.test(cells[1])) out.push({ heading, step: cells[1], folio: cells[3], linux: cells[4] });
  }
  return out;
}

test("the data-path section covers every path the reference promises", (t) => {
  const headings = [...dataPaths(text).matchAll(/^### (.+)$/gm)].map((m) => m[1]);
  for (const path of ["Read hit", "Read miss with readahead", "Buffered write", "Writeback", "Reclaim", "Migration", "Memory failure"]) {
    t.true(headings.some((h) => h.startsWith(path)), `no "### ${path}" in Data paths`);
  }
  t.true(existsSync(join(docs, "images", "data-paths.svg")), "the data-path picture is missing");
});

test("the data-path picture is the one its script draws", async (t) => {
  const { renderDataPaths } = await import("../../scripts/data-paths-picture.mjs");
  const committed = readFileSync(join(docs, "images", "data-paths.svg"), "utf8");
  t.true(committed === renderDataPaths(), "docs/images/data-paths.svg is stale: run node scripts/data-paths-picture.mjs");
});

test("every data-path step names a real file, functions defined in it, and a Linux counterpart", (t) => {
  const all = rows(dataPaths(text));
  t.true(all.length >= 35, `only ${all.length} steps found: did the table format change?`);
  const problems = [];
  const sources = new Map();
  for (const row of all) {
    const where = `${row.heading}, step ${row.step}`;
    if (!/`[^`]+`/.test(row.linux)) problems.push(`${where}: no Linux counterpart in code font`);
    const refs = parseFolioCell(row.folio);
    if (refs === null) {
      problems.push(`${where}: cell is not "[file](path) · names": ${row.folio}`);
      continue;
    }
    for (const { path, names } of refs) {
      const file = join(docs, path);
      if (!existsSync(file)) {
        problems.push(`${where}: ${path} does not exist`);
        continue;
      }
      if (!sources.has(file)) sources.set(file, readFileSync(file, "utf8"));
      for (const name of names) if (!defines(sources.get(file), name)) problems.push(`${where}: ${path} defines no ${name}`);
    }
  }
  t.deepEqual(problems, []);
});

test("the name checks can fail", (t) => {
  // Guards the guard: a checker that accepted everything would make the tests above pass vacuously.
  const src = "export class Foo {\n  private bar(x: number): void {}\n  baz = 1;\n}\nexport function qux() {}\n";
  t.true(defines(src, "Foo.bar"));
  t.true(defines(src, "Foo.baz"));
  t.true(defines(src, "qux"));
  t.false(defines(src, "Foo.nope"));
  t.false(defines(src, "Bar.bar"));
  t.false(defines(src, "quux"));
  t.is(parseFolioCell("just words"), null);
  t.deepEqual(parseFolioCell("[a](../x.ts) · f, C.m; [b](../y.ts) · g"), [
    { path: "../x.ts", names: ["f", "C.m"] },
    { path: "../y.ts", names: ["g"] },
  ]);
});
