// Reading the code blocks of a Markdown page, and the source regions some of them are copies of.
// Shared by the tests that keep pages' code true (code-blocks.test.mjs, tutorial.test.mjs).
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The checkout's root directory. */
export const root = new URL("../../../", import.meta.url).pathname;

/**
 * The fenced blocks of a Markdown page: language, text, 1-based line of the opening fence, the
 * HTML comments on the lines right above it, and the "## " section it is in. `page` names the
 * page in errors.
 */
export function parseBlocks(markdown, page) {
  const lines = markdown.split("\n");
  const blocks = [];
  let section = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith("## ")) section++;
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const markers = [];
    for (let j = i - 1; j >= 0; j--) {
      const comment = /^<!--\s*(.*?)\s*-->$/.exec(lines[j]);
      if (!comment) break;
      markers.unshift(comment[1]);
    }
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    if (end === lines.length) throw new Error(`${page}:${i + 1}: the code block is never closed`);
    blocks.push({ lang: open[1], text: lines.slice(i + 1, end).join("\n"), line: i + 1, markers, section });
    i = end;
  }
  return blocks;
}

/** What a block's markers say: its source (`FILE#NAME`), and whether it needs FUSE, runs in the background, or is not run (why). */
export function markersOf(block) {
  const m = { source: null, fuse: false, background: false, notRun: null, unknown: [] };
  for (const text of block.markers) {
    let x;
    if ((x = /^source: (\S+)#(\S+)$/.exec(text))) m.source = { file: x[1], region: x[2] };
    else if (text === "needs FUSE") m.fuse = true;
    else if (text === "background") m.background = true;
    else if ((x = /^not run: (\S.*)$/.exec(text))) m.notRun = x[1];
    else m.unknown.push(text);
  }
  return m;
}

/** The lines of FILE between `// #region NAME` and `// #endregion NAME`, other markers left out, dedented. */
export function region(file, name) {
  const lines = readFileSync(join(root, file), "utf8").split("\n");
  const start = lines.findIndex((l) => l.trim() === `// #region ${name}`);
  const end = lines.findIndex((l, i) => i > start && l.trim() === `// #endregion ${name}`);
  if (start < 0 || end < 0) throw new Error(`${file} has no region "${name}" (// #region ${name} … // #endregion ${name})`);
  const body = lines.slice(start + 1, end).filter((l) => !/^\s*\/\/ #(end)?region\b/.test(l));
  const indent = Math.min(...body.filter((l) => l.trim() !== "").map((l) => /^ */.exec(l)[0].length));
  return body.map((l) => l.slice(indent).trimEnd()).join("\n");
}
