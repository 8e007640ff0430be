// Every relative link in the documentation reaches a file, and every #anchor a heading in it, so
// a renamed file or heading fails here instead of leaving a reader at a dead end.
import test from "ava";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The Markdown files a reader browses: README.md, docs/*.md and each package's README. */
function pages() {
  const out = [join(root, "README.md"), join(root, "bench", "README.md")];
  for (const f of readdirSync(join(root, "docs"))) if (f.endsWith(".md")) out.push(join(root, "docs", f));
  for (const p of readdirSync(join(root, "packages"))) {
    const readme = join(root, "packages", p, "README.md");
    if (existsSync(readme)) out.push(readme);
  }
  return out.filter((f) => existsSync(f));
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");
}

/** The anchors of a Markdown file: one per heading, repeats numbered as GitHub numbers them. */
function anchors(file) {
  const seen = new Map();
  const out = new Set();
  let fenced = false;
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const m = fenced ? null : /^#{1,6} (.+)$/.exec(line);
    if (m === null) continue;
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Links outside code: [text](target) with a relative target. */
function links(text) {
  const prose = text.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((t) => !/^[a-z]+:/.test(t));
}

test("every relative link and anchor in the documentation resolves", (t) => {
  const broken = [];
  const anchorCache = new Map();
  for (const page of pages()) {
    for (const target of links(readFileSync(page, "utf8"))) {
      const [path, anchor] = target.split("#", 2);
      const file = path === "" ? page : join(dirname(page), decodeURIComponent(path));
      const where = `${relative(root, page)} → ${target}`;
      if (!existsSync(file)) {
        broken.push(`${where}: no such file`);
        continue;
      }
      if (anchor === undefined || anchor === "" || statSync(file).isDirectory() || !file.endsWith(".md")) continue;
      if (!anchorCache.has(file)) anchorCache.set(file, anchors(file));
      if (!anchorCache.get(file).has(anchor)) broken.push(`${where}: no heading with that anchor`);
    }
  }
  t.deepEqual(broken, []);
});

test("the anchor rule matches GitHub's on the headings we use", (t) => {
  t.is(slug("The struct page table (`mm/memmap.ts`)"), "the-struct-page-table-mmmemmapts");
  t.is(slug("Read miss with readahead"), "read-miss-with-readahead");
  t.is(slug("Huge pages (`mm/anon.ts`, `mm/mmap/`, `mm/hugetlb.ts`)"), "huge-pages-mmanonts-mmmmap-mmhugetlbts");
  t.not(slug("Not done"), "Not done");
});
