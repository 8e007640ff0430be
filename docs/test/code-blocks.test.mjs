// Code shown in the documentation is code that compiles and runs: a ts block marked
// `<!-- source: FILE#NAME -->` must equal that region of FILE (`// #region NAME` … `// #endregion
// NAME`, dedented), and on the pages that walk through a program every ts block must be so marked.
// FILE is compiled by the build and run by the tests, so the page cannot drift from it.
import test from "ava";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { markersOf, parseBlocks, region, root } from "./lib/blocks.mjs";

/** Pages whose every ts block is a copy of real code. */
const WALKTHROUGHS = ["docs/TUTORIAL.md", "docs/RAMFS.md"];

const pages = readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`);

for (const page of WALKTHROUGHS) {
  test(`${page}: every ts block names the source it is a copy of`, (t) => {
    const unsourced = parseBlocks(readFileSync(join(root, page), "utf8"), page).filter((b) => b.lang === "ts" && markersOf(b).source === null);
    t.deepEqual(unsourced.map((b) => `${page}:${b.line}`), [], "a ts block needs <!-- source: FILE#REGION --> on the line above it");
  });
}

for (const page of pages) {
  for (const b of parseBlocks(readFileSync(join(root, page), "utf8"), page)) {
    const { source } = markersOf(b);
    if (b.lang !== "ts" || source === null) continue;
    test(`${page}:${b.line}: the ts block is ${source.file}#${source.region}`, (t) => {
      t.is(b.text.split("\n").map((l) => l.trimEnd()).join("\n"), region(source.file, source.region));
    });
  }
}
