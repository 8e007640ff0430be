/**
 * Every command of the built CLI, run as a child process: --help works, a user mistake is one line
 * on stderr with a non-zero exit status and no stack trace, and --json output parses.
 */
import test from "ava";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createProgram } from "../src/program.js";
import { folio, tempDir } from "./helpers.js";

const dir = tempDir();
// A small machine keeps each run quick.
const SMALL = ["--memory", "16MiB"];

const COMMANDS = createProgram().commands.map((c) => c.name()).filter((n) => n !== "help");

test("the program has every command the issue asks for", (t) => {
  for (const name of ["demo", "mkfs", "fsck", "ls", "cat", "cp", "stat", "run", "meminfo", "vmstat", "buddyinfo", "pagetypeinfo",
    "page-types", "describe", "trace", "bench", "memmap"]) {
    t.true(COMMANDS.includes(name), name);
  }
});

test("the help names every registered eviction policy and device model", async (t) => {
  const { evictionPolicyNames } = await import("@folio/core");
  await import("@folio/policies");
  const { DEVICE_MODELS } = await import("@folio/pagecache");
  const { POLICY_HELP, DEVICE_HELP } = await import("../src/commands/options.js");
  for (const name of evictionPolicyNames()) t.true(POLICY_HELP.includes(name), name);
  for (const name of Object.keys(DEVICE_MODELS)) t.true(DEVICE_HELP.includes(name), name);
});

test("folio --help and --version", async (t) => {
  const help = await folio(["--help"]);
  t.is(help.code, 0);
  t.regex(help.stdout, /Usage: folio/);
  for (const name of COMMANDS) t.true(help.stdout.includes(name), name);
  const version = await folio(["--version"]);
  t.is(version.code, 0);
  t.regex(version.stdout, /^\d+\.\d+\.\d+\n$/);
});

for (const name of COMMANDS) {
  test(`folio ${name} --help`, async (t) => {
    const r = await folio([name, "--help"]);
    t.is(r.code, 0, r.stderr);
    t.true(r.stdout.startsWith(`Usage: folio ${name}`), r.stdout);
    t.is(r.stderr, "");
  });
}

/** A user mistake for each command, and what the one line must mention. */
const MISTAKES: [string, string[], RegExp][] = [
  ["demo", ["demo", "extra"], /too many arguments/],
  ["bench", ["bench", "no-such-suite"], /unknown suite/],
  ["mkfs", ["mkfs", "--size", "12XB", "x.img"], /not a size/],
  ["mkfs (exists)", ["mkfs", "exists.img"], /EEXIST.*--force/],
  ["fsck", ["fsck", "no-such.img"], /ENOENT/],
  ["fsck (not an image)", ["fsck", "not-an-image.bin"], /EINVAL.*no Folio filesystem/],
  ["ls", ["ls", "no-such.img", "/"], /ENOENT/],
  ["cat", ["cat", "exists.img", "/no-such-file"], /ENOENT/],
  ["cp", ["cp", "a", "b"], /one side .* must be in an image/],
  ["stat", ["stat", "exists.img", "relative"], /absolute path/],
  ["run", ["run", "no-such-workload"], /ENOENT: no built-in workload/],
  ["run (bad script)", ["run", "bad.json"], /ops\[0\]\.op "bogus" is not an operation/],
  ["workloads", ["workloads", "no-such"], /ENOENT/],
  ["trace", ["trace"], /needs a workload/],
  ["meminfo", ["meminfo", "--memory", "12XB"], /not a size/],
  ["meminfo (odd size)", ["meminfo", "--memory", "1000"], /EINVAL: memory size/],
  ["vmstat", ["vmstat", "--policy", "nope"], /not an eviction policy \(linux, /],
  ["buddyinfo", ["buddyinfo", "--fs", "ext4"], /Allowed choices are simple, log/],
  ["pagetypeinfo", ["pagetypeinfo", "--workload", "no-such"], /ENOENT/],
  ["page-types", ["page-types", "--seed", "x"], /not a whole number/],
  ["describe", ["describe", "99999999", ...SMALL], /not a frame/],
  ["memmap", ["memmap", "--out", "map.gif"], /SVG or PNG/],
  ["unknown command", ["frobnicate"], /unknown command/],
  ["unknown option", ["meminfo", "--memroy", "1"], /unknown option.*Did you mean --memory/],
];

test.before(async () => {
  writeFileSync(join(dir, "not-an-image.bin"), Buffer.alloc(8192, 7));
  writeFileSync(join(dir, "bad.json"), JSON.stringify({ ops: [{ op: "bogus" }] }));
  const r = await folio(["mkfs", "--size", "8MiB", "exists.img"], dir);
  if (r.code !== 0) throw new Error(r.stderr);
});

for (const [what, args, message] of MISTAKES) {
  test(`a user mistake is one line and a non-zero exit: ${what}`, async (t) => {
    const r = await folio(args, dir);
    t.not(r.code, 0);
    const lines = r.stderr.split("\n").filter((l) => l !== "");
    t.is(lines.length, 1, r.stderr);
    t.regex(lines[0]!, /^folio: E[A-Z0-9]+: /, "folio: CODE: what is wrong");
    t.regex(lines[0]!, message);
    t.notRegex(r.stderr, /\n\s+at /, "no stack trace");
  });
}

/** Every report's --json, which must parse. */
const JSON_REPORTS: [string, string[], (t: import("ava").ExecutionContext, v: unknown) => void][] = [
  ["meminfo", ["meminfo", ...SMALL, "--json"], (t, v) => t.is((v as { MemTotal: number }).MemTotal, 16384)],
  ["vmstat", ["vmstat", ...SMALL, "--json"], (t, v) => t.true((v as Record<string, number>)["nr_free_pages"]! > 0)],
  ["buddyinfo", ["buddyinfo", ...SMALL, "--json"], (t, v) => t.is((v as { free: number[] }).free.length, 11)],
  ["pagetypeinfo", ["pagetypeinfo", ...SMALL, "--json"], (t, v) => t.is((v as { pageblockOrder: number }).pageblockOrder, 9)],
  ["page-types", ["page-types", ...SMALL, "--json"], (t, v) => t.is((v as { frames: number }).frames, 4096)],
  ["describe", ["describe", "0", ...SMALL, "--json"], (t, v) => t.is((v as { type: string }).type, "reserved")],
  ["run", ["run", "copy-tree", ...SMALL, "--json"], (t, v) => t.true((v as { ops: number }).ops > 0)],
  ["workloads", ["workloads", "--json"], (t, v) => t.true((v as unknown[]).length >= 5)],
  ["workloads <name>", ["workloads", "fragment"], (t, v) => t.true(Array.isArray((v as { ops: unknown[] }).ops))],
  ["trace --list", ["trace", "--list", "--json"], (t, v) => t.truthy((v as Record<string, string>)["pagecache:access"])],
  ["fsck", ["fsck", "exists.img", "--json"], (t, v) => t.true((v as { clean: boolean }).clean)],
  ["ls", ["ls", "exists.img", "/", "--json"], (t, v) => t.deepEqual(v, [])],
  ["stat", ["stat", "exists.img", "/", "--json"], (t, v) => t.is((v as { type: string }).type, "directory")],
];

for (const [what, args, check] of JSON_REPORTS) {
  test(`--json parses: ${what}`, async (t) => {
    const r = await folio(args, dir);
    t.is(r.code, 0, r.stderr);
    check(t, JSON.parse(r.stdout));
  });
}

test("trace prints JSON lines of every source", async (t) => {
  const r = await folio(["trace", "copy-tree", ...SMALL, "--limit", "500"], dir);
  t.is(r.code, 0, r.stderr);
  const records = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { t: number; event: string });
  t.is(records.length, 500);
  t.true(records.some((e) => e.event === "pagecache:access"));
  t.true(records.some((e) => e.event === "block:rq_complete"));
  t.true(records.some((e) => e.event === "mm:folio_add"), "core's tracepoints");
  for (let i = 1; i < records.length; i++) t.true(records[i]!.t >= records[i - 1]!.t, "time never goes back");
});

test("a closed pipe ends a command quietly", async (t) => {
  const { spawn } = await import("node:child_process");
  const { MAIN } = await import("./helpers.js");
  const child = spawn(process.execPath, [MAIN, "trace", "copy-tree", ...SMALL], { cwd: dir });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  child.stdout.once("data", () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  t.is(code, 0);
  t.is(stderr, "");
});
