// Checks that docs/TUTORIAL.md is true: every `console` and `sh` block runs, in order, with the
// output it shows (code-blocks.test.mjs checks that every `ts` block is the region it names). The rules a block
// follows are stated at the end of the tutorial ("How this page is tested"):
//
//   <!-- source: FILE#NAME -->  before a ts block: the block equals `// #region NAME` … `// #endregion NAME`
//                               of FILE, dedented (lines holding other region markers left out)
//   <!-- needs FUSE -->         needs root and /dev/fuse: skipped (with the reason) without them,
//                               a failure instead when CI is set
//   <!-- background -->         runs in the background; later blocks start once it printed a line;
//                               it must exit 0 with the output shown before the next "## " section
//   <!-- not run: REASON -->    not run
//
// Commands run with bash in a temporary directory holding a link to every entry of the checkout
// (but .git), so that paths such as examples/dist/… resolve while files the commands make land in
// the temporary directory. In a console block each "$ " line is a command whose output (stdout and
// stderr together) must equal the lines after it, "..." matching any text; a sh block is one
// script. Every command must exit 0.
import test from "ava";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { markersOf, parseBlocks, root } from "./lib/blocks.mjs";

const PAGE = "docs/TUTORIAL.md";
const LANGUAGES = new Set(["ts", "console", "sh", "text"]);
const COMMAND_TIMEOUT_MS = 120_000;
const BACKGROUND_TIMEOUT_MS = 30_000;

/** Whether FUSE blocks can run here; `skip` is why not (null when they can, or must under CI). */
function fuseAvailability() {
  const ci = process.env.CI === "true" || process.env.CI === "1";
  let why = null;
  if (!existsSync("/dev/fuse")) why = "/dev/fuse is absent (no FUSE in this kernel or container)";
  else if (process.getuid?.() !== 0) why = "not root: mounting through /dev/fuse needs root";
  return { why, skip: why !== null && !ci ? why : null };
}

/** A console block as commands, each with its expected output lines. */
function consoleCommands(block) {
  const commands = [];
  for (const line of block.text.split("\n")) {
    if (line.startsWith("$ ")) commands.push({ command: line.slice(2), expected: [] });
    else if (commands.length === 0) throw new Error(`${PAGE}:${block.line}: console output before the first "$ " command`);
    else commands[commands.length - 1].expected.push(line);
  }
  return commands;
}

/** Whether `actual` output is `expected` (lines; "..." matches any text), ignoring trailing blanks. */
function outputMatches(actual, expected) {
  const trim = (lines) => {
    const out = lines.map((l) => l.trimEnd());
    while (out.length > 0 && out[out.length - 1] === "") out.pop();
    return out;
  };
  const a = trim(actual.split("\n"));
  const e = trim(expected);
  if (a.length !== e.length) return false;
  return e.every((line, i) => new RegExp(`^${line.split("...").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(a[i]));
}

// ── The scratch directory the commands run in ─────────────────────────────────────────────────

const scratch = mkdtempSync(join(tmpdir(), "folio-tutorial-"));
for (const entry of readdirSync(root)) if (entry !== ".git") symlinkSync(join(root, entry), join(scratch, entry));
// npx never installs a missing command from the registry; C locale for the tools' messages.
const env = { ...process.env, npm_config_yes: "false", LC_ALL: "C", FORCE_COLOR: "0", NO_COLOR: "1" };
/** Background processes: { title, child, output, exited: Promise<code> }. */
const background = [];

/** Runs `script` with bash in the scratch directory: { status, output } (stdout and stderr merged). */
function run(script) {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", `exec 2>&1\n${script}`], { cwd: scratch, env, stdio: ["ignore", "pipe", "inherit"], detached: true });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    const timer = setTimeout(() => killGroup(child), COMMAND_TIMEOUT_MS);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status: status ?? signal, output });
    });
  });
}

/** Starts `command` in the background and resolves once it has printed a line (or exited). */
function start(title, command, expected) {
  const child = spawn("bash", ["-c", `exec 2>&1\nexec ${command}`], { cwd: scratch, env, stdio: ["ignore", "pipe", "inherit"], detached: true });
  const job = { title, child, expected, output: "" };
  job.exited = new Promise((resolve) => child.on("close", (status, signal) => resolve(status ?? signal)));
  background.push(job);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), BACKGROUND_TIMEOUT_MS);
    child.stdout.on("data", (d) => {
      job.output += d;
      if (job.output.includes("\n")) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    void job.exited.then(() => {
      clearTimeout(timer);
      resolve(job.output.includes("\n"));
    });
  });
}

function killGroup(child) {
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** FUSE mounts left under the scratch directory (a failed run), from the kernel's mount table. */
function mountsUnderScratch() {
  const text = readFileSync("/proc/self/mountinfo", "utf8");
  return text.split("\n").map((l) => l.split(" ")[4]).filter((mp) => mp !== undefined && mp.startsWith(`${scratch}/`));
}

test.after.always("remove the scratch directory, and whatever a failed run left running or mounted", async () => {
  for (const job of background) if (job.child.exitCode === null && job.child.signalCode === null) killGroup(job.child);
  for (const mp of mountsUnderScratch().reverse()) spawnSync("umount", ["-l", mp]);
  // A mount detached lazily may still refuse removal of its mount point for a moment.
  for (let attempt = 0; attempt < 20 && existsSync(scratch); attempt++) {
    try {
      rmSync(scratch, { recursive: true, force: true });
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
});

// ── The tests ──────────────────────────────────────────────────────────────────────────────────

const blocks = parseBlocks(readFileSync(join(root, PAGE), "utf8"), PAGE);
const fuse = fuseAvailability();
if (fuse.skip !== null) console.log(`tutorial: blocks that need FUSE are skipped: ${fuse.skip} (under CI=true they fail instead)`);

test("every code block has a known language, and its markers are known and fit it", (t) => {
  for (const b of blocks) {
    t.true(LANGUAGES.has(b.lang), `${PAGE}:${b.line}: code block language "${b.lang}" is none of ${[...LANGUAGES].join(", ")}`);
    const m = markersOf(b);
    t.deepEqual(m.unknown, [], `${PAGE}:${b.line}: unknown markers`);
    if (b.lang === "ts") t.truthy(m.source, `${PAGE}:${b.line}: a ts block needs <!-- source: FILE#REGION -->`);
    else t.is(m.source, null, `${PAGE}:${b.line}: only ts blocks have a source`);
    if (b.lang === "console" || b.lang === "sh") {
      if (m.background) t.is(b.lang === "console" ? consoleCommands(b).length : 1, 1, `${PAGE}:${b.line}: a background block holds one command`);
      if (m.notRun !== null) t.false(m.fuse || m.background, `${PAGE}:${b.line}: a block not run needs no other marker`);
    } else {
      t.false(m.fuse || m.background || m.notRun !== null, `${PAGE}:${b.line}: only console and sh blocks are run`);
    }
  }
});

test("every program of examples/tutorial is shown or run by the tutorial", (t) => {
  const page = readFileSync(join(root, PAGE), "utf8");
  for (const file of readdirSync(join(root, "examples/tutorial")).filter((f) => f.endsWith(".ts"))) {
    const name = file.replace(/\.ts$/, "");
    t.true(page.includes(`examples/tutorial/${file}#`) || page.includes(`examples/dist/tutorial/${name}.js`), `examples/tutorial/${file} appears in no block of ${PAGE}`);
  }
});

let section = 0;
for (const b of blocks.filter((x) => x.lang === "console" || x.lang === "sh")) {
  const m = markersOf(b);
  // Background processes of a finished section must have exited, with the output they show.
  if (b.section !== section) {
    awaitBackground(section);
    section = b.section;
  }
  const title = `${PAGE}:${b.line}: ${b.lang === "sh" ? b.text.split("\n")[0] : consoleCommands(b).map((c) => c.command).join("; ")}`;
  if (m.notRun !== null) {
    test.skip(`${title} (not run: ${m.notRun})`, () => {});
    continue;
  }
  if (m.fuse && fuse.skip !== null) {
    test.skip(`${title} (skipped: ${fuse.skip})`, () => {});
    continue;
  }
  test.serial(title, async (t) => {
    if (m.fuse && fuse.why !== null) {
      t.fail(`this block needs FUSE, and CI is set: ${fuse.why}`);
      return;
    }
    if (m.background) {
      const c = b.lang === "console" ? consoleCommands(b)[0] : { command: b.text.trim(), expected: null };
      const printed = await start(title, c.command, c.expected);
      t.true(printed, `"${c.command}" printed no line within ${BACKGROUND_TIMEOUT_MS / 1000} s; its output:\n${background.at(-1).output}`);
      return;
    }
    if (b.lang === "sh") {
      const r = await run(`set -euo pipefail\n${b.text}`);
      t.is(r.status, 0, `the script failed; its output:\n${r.output}`);
      return;
    }
    for (const c of consoleCommands(b)) {
      const r = await run(c.command);
      t.is(r.status, 0, `"${c.command}" exited ${r.status}; its output:\n${r.output}`);
      t.true(outputMatches(r.output, c.expected), `"${c.command}" printed:\n${r.output}\nThe tutorial shows:\n${c.expected.join("\n")}`);
    }
  });
}
awaitBackground(section);

/** Adds a test, after those of `sectionNumber`, that its background processes exit 0 with the output they show. */
function awaitBackground(sectionNumber) {
  const backgroundBlocks = blocks.filter((b) => b.section === sectionNumber && markersOf(b).background && !(markersOf(b).fuse && fuse.skip !== null));
  if (backgroundBlocks.length === 0) return;
  test.serial(`${PAGE}: the background commands of section ${sectionNumber} exit 0 with the output shown`, async (t) => {
    for (const b of backgroundBlocks) {
      const job = background.find((j) => j.title.startsWith(`${PAGE}:${b.line}:`));
      if (job === undefined) {
        t.fail(`${PAGE}:${b.line}: the background command was never started`);
        continue;
      }
      let timer;
      const timeout = new Promise((r) => (timer = setTimeout(() => r("timeout"), BACKGROUND_TIMEOUT_MS)));
      const status = await Promise.race([job.exited, timeout]);
      clearTimeout(timer);
      if (status === "timeout") {
        // Killed while mounted, it leaves a dead mount: detach it, so that later sections can mount there.
        killGroup(job.child);
        for (const mp of mountsUnderScratch().reverse()) spawnSync("umount", ["-l", mp]);
      }
      t.is(status, 0, `${job.title}: ${status === "timeout" ? `still running after ${BACKGROUND_TIMEOUT_MS / 1000} s (killed)` : `exited ${status}`}; its output:\n${job.output}`);
      if (job.expected !== null) t.true(outputMatches(job.output, job.expected), `${job.title} printed:\n${job.output}\nThe tutorial shows:\n${job.expected.join("\n")}`);
    }
  });
}
