/**
 * The shared scenario (conformance) suite: every scenario runs on real node:fs (a fresh temp
 * directory) and on createNodeFs over each Folio filesystem of FOLIO_SETUPS (a fresh machine
 * each time); their transcripts — every result and error of every call, normalised — must be
 * equal. Permission scenarios run on Folio only, against expectations from POSIX. Filesystems
 * with a device must also read back, after an unmount and mount (and after a reboot of the
 * machine over the same image), exactly what was written: the end state of every scenario, and
 * a tree written by many calls; after each scenario they must pass their own fsck.
 *
 * To add a filesystem, add a line to FOLIO_SETUPS in scenarios/setups.ts.
 */
import test, { type ExecutionContext } from "ava";
import { ASYNC_SCENARIOS } from "./scenarios/async.js";
import { PERSIST_SCENARIO, checkTree, readTree, writeTree } from "./scenarios/persist.js";
import { POSIX_SCENARIOS, ROOT, project, type Expectation } from "./scenarios/permissions.js";
import type { Scenario } from "./scenarios/scenario.js";
import { FOLIO_SETUPS, NODE_SETUP, cleanupNode, type Setup } from "./scenarios/setups.js";
import { SYNC_SCENARIOS } from "./scenarios/sync.js";
import { Recorder, diffTranscripts, show, type Entry } from "./scenarios/transcript.js";

/** Fails with every difference and every problem left behind (AVA shows only a test's first failed assertion). */
function report(t: ExecutionContext, diffs: string[], what: string, problems: string[]): void {
  const parts: string[] = [];
  if (diffs.length > 0) parts.push(`${diffs.length} difference(s) ${what}:\n${diffs.join("\n")}`);
  if (problems.length > 0) parts.push(`problems left behind:\n${problems.join("\n")}`);
  if (parts.length > 0) t.fail(parts.join("\n"));
}

const SCENARIOS: Scenario[] = [...SYNC_SCENARIOS, ...ASYNC_SCENARIOS, PERSIST_SCENARIO];

// Modes of new files depend on the umask: the same on both sides (Folio's default is 022).
process.umask(0o022);

interface Run {
  entries: Entry[];
  problems: string[];
  /** Filesystems that persist: differences between the end state read back before and after a remount. */
  remountDiffs: string[];
  remountCalls: number;
}

/**
 * Boots `setup` and runs `scenario` on it, recording everything. On a filesystem that persists,
 * the tree the scenario leaves is then read back completely, the filesystem unmounted and
 * mounted again, and the tree read back again: both must be the same.
 */
async function run(setup: Setup, scenario: Scenario): Promise<Run> {
  let m = setup.boot();
  const rec = new Recorder(m.root);
  const problems: string[] = [];
  const remountDiffs: string[] = [];
  let remountCalls = 0;
  try {
    await scenario.run(m.fs, m.root, rec);
  } catch (e) {
    rec.note("the scenario itself threw", e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  }
  if (setup.persistent && m.remount) {
    try {
      const before = new Recorder(m.root);
      readTree(m.fs, m.root, before, true);
      m = m.remount("umount");
      const after = new Recorder(m.root);
      readTree(m.fs, m.root, after, true);
      remountDiffs.push(...diffTranscripts(before.entries, after.entries, ["before", "after"]));
      remountCalls = before.entries.length;
    } catch (e) {
      problems.push(`remount of the end state failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  problems.push(...m.finish());
  return { entries: rec.entries, problems, remountDiffs, remountCalls };
}

/** node:fs transcripts, computed once per scenario and shared by every filesystem. */
const nodeRuns = new Map<Scenario, Promise<Run>>();
function nodeRun(s: Scenario): Promise<Run> {
  let r = nodeRuns.get(s);
  if (!r) nodeRuns.set(s, (r = run(NODE_SETUP, s)));
  return r;
}

interface Tally {
  scenarios: number;
  calls: number;
  posixScenarios: number;
  posixCalls: number;
  remountCalls: number;
  failed: number;
}
const tallies = new Map<string, Tally>();
const tally = (name: string): Tally => {
  let t = tallies.get(name);
  if (!t) tallies.set(name, (t = { scenarios: 0, calls: 0, posixScenarios: 0, posixCalls: 0, remountCalls: 0, failed: 0 }));
  return t;
};

for (const setup of FOLIO_SETUPS) {
  for (const scenario of SCENARIOS) {
    test.serial(`${setup.name}: ${scenario.name}`, async (t) => {
      const expected = await nodeRun(scenario);
      t.deepEqual(expected.problems, [], "node:fs run left problems");
      const actual = await run(setup, scenario);
      const diffs = diffTranscripts(expected.entries, actual.entries);
      const n = tally(setup.name);
      n.scenarios++;
      n.calls += expected.entries.length;
      if (diffs.length > 0 || actual.problems.length > 0 || actual.remountDiffs.length > 0) n.failed++;
      n.remountCalls += actual.remountCalls;
      if (actual.remountDiffs.length > 0) actual.problems.push(`the end state differs after a remount:\n${actual.remountDiffs.join("\n")}`);
      report(t, diffs, "from node:fs", actual.problems);
      t.is(actual.entries.length, expected.entries.length);
    });
  }

  for (const scenario of POSIX_SCENARIOS) {
    test.serial(`${setup.name}: permissions: ${scenario.name}`, (t) => {
      const m = setup.boot();
      const vfs = m.vfs!;
      const rec = new Recorder(m.root);
      const expected: { index: number; label: string; outcome: Expectation }[] = [];
      try {
        scenario.run({
          fs: m.fs,
          root: m.root,
          as: (who) => {
            vfs.creds = { ...who };
          },
          expect: (label, fn, outcome) => {
            expected.push({ index: rec.entries.length, label, outcome });
            rec.call(label, fn);
          },
        });
      } catch (e) {
        t.fail(`the scenario itself threw (outside an expected call): ${e instanceof Error ? e.stack : String(e)}`);
      } finally {
        vfs.creds = { ...ROOT };
      }
      const diffs: string[] = [];
      for (const e of expected) {
        const want = typeof e.outcome === "object" ? { value: rec.norm(e.outcome.value) } : e.outcome;
        const got = project(rec, e.index, e.outcome);
        if (JSON.stringify(got) !== JSON.stringify(want)) diffs.push(`${e.label}: POSIX ${JSON.stringify(want)}, Folio ${show(rec.entries[e.index]!.outcome)}`);
      }
      const n = tally(setup.name);
      n.posixScenarios++;
      n.posixCalls += expected.length;
      const problems = m.finish();
      if (diffs.length > 0 || problems.length > 0) n.failed++;
      report(t, diffs, "from POSIX", problems);
      t.true(expected.length > 0);
    });
  }

  if (setup.persistent) {
    for (const how of ["umount", "reboot"] as const) {
      test.serial(`${setup.name}: what was written reads back the same after ${how === "umount" ? "umount and mount" : "a reboot"}`, async (t) => {
        let m = setup.boot();
        try {
          writeTree(m.fs, m.root);
        } catch (e) {
          t.fail(`writing the tree failed: ${e instanceof Error ? e.message : String(e)}`);
          m.finish();
          return;
        }
        const before = new Recorder(m.root);
        readTree(m.fs, m.root, before, true);
        checkTree(m.fs, m.root, before);
        const open = m.vfs!.openDescriptors();
        t.deepEqual(open, [], "descriptors left open");
        m = m.remount!(how);
        const after = new Recorder(m.root);
        readTree(m.fs, m.root, after, true);
        checkTree(m.fs, m.root, after);
        const diffs = diffTranscripts(before.entries, after.entries, ["before", "after"]);
        // The same read-back without the exact fields must also equal node:fs's (the model of what was written).
        const model = (await nodeRun(PERSIST_SCENARIO)).entries.slice(1);
        const plain = new Recorder(m.root);
        readTree(m.fs, m.root, plain);
        checkTree(m.fs, m.root, plain);
        diffs.push(...diffTranscripts(model, plain.entries));
        // Bytes past a shrunk end must be zeros on the device too: grow the file again after the remount.
        const tail = new Recorder(m.root);
        tail.call("grow the shrunk file after the remount", () => {
          m.fs.truncateSync(`${m.root}/shrunk`, 9000);
          const b = m.fs.readFileSync(`${m.root}/shrunk`);
          return [b.length, b.subarray(4097).every((x) => x === 0)];
        });
        diffs.push(...diffTranscripts([{ label: "grow the shrunk file after the remount", outcome: { ok: [9000, true] } }], tail.entries, ["expected", "Folio"]));
        const n = tally(setup.name);
        n.remountCalls += before.entries.length + model.length + 1;
        const problems = m.finish();
        if (diffs.length > 0 || problems.length > 0) n.failed++;
        report(t, diffs, "across the remount", problems);
        t.is(after.entries.length, before.entries.length);
      });
    }
  }
}

test.after.always("summary and cleanup", () => {
  cleanupNode();
  for (const [name, n] of tallies) {
    const remount = n.remountCalls > 0 ? `; remount: ${n.remountCalls} calls compared` : "";
    console.log(
      `scenarios ${name}: ${n.scenarios} scenarios, ${n.calls} calls compared with node:fs; ` +
        `${n.posixScenarios} permission scenarios, ${n.posixCalls} calls checked against POSIX${remount}; ${n.failed} failing`,
    );
  }
});
