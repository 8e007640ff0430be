/**
 * The machine reports through the built CLI: page-types adds up, describe names owners, memmap
 * writes pictures, run sums a workload up and replays what it recorded.
 */
import test from "ava";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PNG } from "pngjs";
import { folio, tempDir } from "./helpers.js";

const dir = tempDir();
const SMALL = ["--memory", "16MiB"];

test("page-types: the counts sum to the machine's frames, per row and per type", async (t) => {
  const r = await folio(["page-types", ...SMALL, "--workload", "zoo", "--json"], dir);
  t.is(r.code, 0, r.stderr);
  const pt = JSON.parse(r.stdout) as { frames: number; rows: { type: string; flags: string[]; pages: number }[]; byType: Record<string, number> };
  t.is(pt.frames, 4096);
  t.is(pt.rows.reduce((s, row) => s + row.pages, 0), 4096);
  t.is(Object.values(pt.byType).reduce((s, n) => s + n, 0), 4096);
  // The zoo leaves one of everything: anonymous memory shows its flags.
  t.true(pt.rows.some((row) => row.type === "folio" && row.flags.includes("anon") && row.flags.includes("mmap")));
  for (const type of ["buddy", "folio", "slab", "vmalloc", "pagetable", "hugetlb", "large-kmalloc", "reserved", "offline"]) t.true(pt.byType[type]! > 0, type);
  const text = await folio(["page-types", ...SMALL], dir);
  t.regex(text.stdout, /^total +4096 +16\.0$/m);
});

test("describe: a frame of a file folio names its owner, and the same frame says the same again", async (t) => {
  const r = await folio(["describe", "--all-types", ...SMALL, "--workload", "zoo", "--json"], dir);
  t.is(r.code, 0, r.stderr);
  const examples = JSON.parse(r.stdout) as { kind: string; frame: { pfn: number; owner?: string; text: string } | null }[];
  const file = examples.find((e) => e.kind === "folio (file)")!.frame!;
  t.truthy(file.owner);
  t.true(file.text.includes(file.owner!), file.text);
  t.regex(examples.find((e) => e.kind === "folio (anon)")!.frame!.owner!, /anonymous memory/);
  t.regex(examples.find((e) => e.kind === "slab")!.frame!.owner!, /^slab cache /);
  t.regex(examples.find((e) => e.kind === "offline")!.frame!.text, /offline/, "the zoo takes frames offline");
  // The run replays from its seed: describing that pfn after the same workload finds the same owner.
  const again = await folio(["describe", String(file.pfn), ...SMALL, "--workload", "zoo"], dir);
  t.is(again.code, 0, again.stderr);
  t.true(again.stdout.includes(`owner:      ${file.owner}`), again.stdout);
});

test("memmap writes a valid SVG and a PNG of the size it reports", async (t) => {
  const svg = await folio(["memmap", ...SMALL, "--workload", "fragment", "--out", "map.svg"], dir);
  t.is(svg.code, 0, svg.stderr);
  const text = readFileSync(join(dir, "map.svg"), "utf8");
  t.true(text.startsWith("<?xml"));
  t.regex(text, /<svg [^>]*width="\d+" height="\d+"/);
  t.true(text.trimEnd().endsWith("</svg>"));
  t.true(text.includes("free (buddy)"), "legend");
  t.true(text.includes("free order-"), "free blocks outlined");
  t.is((text.match(/<rect /g) ?? []).length, (text.match(/\/>|<\/rect>/g) ?? []).length, "every rect closed");

  const png = await folio(["memmap", ...SMALL, "--workload", "zoo", "--out", "map.png", "--json"], dir);
  t.is(png.code, 0, png.stderr);
  const info = JSON.parse(png.stdout) as { width: number; height: number; frames: number; categories: Record<string, number> };
  t.is(info.frames, 4096);
  t.is(Object.values(info.categories).reduce((a, b) => a + b, 0), 4096);
  const bytes = readFileSync(join(dir, "map.png"));
  t.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  t.is(bytes.readUInt32BE(16), info.width);
  t.is(bytes.readUInt32BE(20), info.height);
  const image = PNG.sync.read(bytes);
  t.is(image.width, info.width);
  t.is(image.height, info.height);

  const stdoutSvg = await folio(["memmap", ...SMALL, "--cell", "pageblock"], dir);
  t.is(stdoutSvg.code, 0);
  t.regex(stdoutSvg.stdout, /one cell per 2 MiB pageblock/);
});

test("run sums a workload up; a recorded trace replays under another policy", async (t) => {
  // A file larger than the memory, the cache dropped, then random reads of it.
  writeFileSync(join(dir, "rr.json"), JSON.stringify({ ops: [
    { op: "write", path: "/data", size: "20MiB", chunk: "1MiB" }, { op: "remount" }, { op: "random-read", path: "/data", count: 3000 },
  ] }));
  const r = await folio(["run", "rr.json", ...SMALL, "--json", "--record-trace", "rr.txt", "--verify"], dir);
  t.is(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { ops: number; cache: { accesses: number; hits: number; misses: number }; reclaim: { reclaimed: number }; verify: string[]; trace: { keys: number } };
  t.true(s.ops > 3000);
  t.is(s.cache.hits + s.cache.misses, s.cache.accesses);
  t.true(s.reclaim.reclaimed > 0, "a file larger than memory is reclaimed");
  t.deepEqual(s.verify, []);
  t.is(s.trace.keys, s.cache.accesses);
  const replay = await folio(["run", "rr.txt", ...SMALL, "--policy", "s3fifo", "--json"], dir);
  t.is(replay.code, 0, replay.stderr);
  const rs = JSON.parse(replay.stdout) as { workload: { kind: string }; machine: { policy: string }; cache: { accesses: number } };
  t.is(rs.workload.kind, "page trace");
  t.is(rs.machine.policy, "s3fifo");
  t.true(rs.cache.accesses >= s.trace.keys);
  const text = await folio(["run", "zoo", ...SMALL], dir);
  t.regex(text.stdout, /^page cache: \d+ page accesses/m);
  t.regex(text.stdout, /^reclaim: /m);
  t.regex(text.stdout, /^writeback: /m);
});

test("a block trace in CSV replays", async (t) => {
  const csv = ["version,time,op,size,lbn", "1,0,28,4096,0", "1,1,2a,8192,8", "1,2,28,512,8", "1,3,28,4096,1000000", "1,4,28,4096,0"].join("\n");
  writeFileSync(join(dir, "tiny.csv"), `${csv}\n`);
  const r = await folio(["run", "tiny.csv", ...SMALL, "--json"], dir);
  t.is(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as { workload: { kind: string; description: string } };
  t.is(s.workload.kind, "block trace");
  t.regex(s.workload.description, /6 requests \(4 reads, 2 writes\) over 1 file\(s\) of 4 pages/);
});

test("the text reports look like /proc", async (t) => {
  const [meminfo, buddy, pti, vmstat] = await Promise.all([
    folio(["meminfo", ...SMALL], dir), folio(["buddyinfo", ...SMALL], dir), folio(["pagetypeinfo", ...SMALL], dir), folio(["vmstat", ...SMALL], dir),
  ]);
  t.regex(meminfo.stdout, /^MemTotal: +16384 kB$/m);
  t.regex(buddy.stdout, /^Node 0, zone {3}Normal( +\d+){11}$/m);
  t.regex(pti.stdout, /^Page block order: 9$/m);
  t.regex(vmstat.stdout, /^nr_free_pages \d+$/m);
});
