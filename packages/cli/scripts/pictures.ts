/**
 * Writes the pictures of docs/images (`pnpm docs:pictures`): memory maps of a machine before and
 * after compaction, and before and after a campaign of memory errors. Every machine is seeded, so
 * running it again writes the same files.
 *
 * - compaction-before.svg / compaction-after.svg: a 32 MiB machine whose memory was filled to 70 %
 *   with 4 KiB files, every other file then deleted — free memory in single pages between file
 *   pages — and the same machine after `machine.compaction.compact({ order: -1, mode: "full" })`.
 * - memory-failure-before.svg / memory-failure-after.svg: a 32 MiB machine holding every kind of
 *   memory, and the same machine after hard offlines (memory_failure) of 96 frames drawn from a
 *   seed: the frames taken offline show in magenta, and what happened to each is counted.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Rng } from "@folio/core";
import {
  NO_PROGRESS, ScriptRunner, captureMemmap, describeSession, openSession, parseScript, renderSvg, type MemmapSnapshot, type Session,
} from "../src/index.js";

/** docs/images of the repository (this file is packages/cli/dist/scripts/pictures.js). */
const OUT = fileURLToPath(new URL("../../../../docs/images/", import.meta.url));
const MEMORY = 32 << 20;
const ERRORS = 96;

function run(session: Session, ops: unknown[], seed = 1): void {
  new ScriptRunner(session, parseScript({ seed, ops }, "docs picture"), NO_PROGRESS).run();
}

function write(name: string, snapshot: MemmapSnapshot, title: string, notes: string[]): void {
  const path = join(OUT, name);
  writeFileSync(path, renderSvg(snapshot, { title, notes }));
  console.log(`wrote ${path}`);
}

/** "order 9+: 3 blocks" — what an order-9 (2 MiB) allocation can find. */
function bigBlocks(s: MemmapSnapshot): string {
  const big = s.freeByOrder.slice(9).reduce((a, b) => a + b, 0);
  return `${big} free block(s) of 2 MiB or more; ${s.freeByOrder[0]} free single pages`;
}

function compactionPictures(): void {
  // A disk of 256 MiB has an inode per 16 KiB: enough for the files.
  const session = openSession({ memory: MEMORY, seed: 1, disk: 256 << 20 });
  const frames = session.machine.frames;
  const perDir = Math.floor((frames * 0.7) / 32 / 2) * 2;
  run(session, [
    { op: "repeat", times: 32, var: "d", ops: [{ op: "files", dir: "/frag/d{d}", count: perDir, size: 4096 }] },
    { op: "sync" },
    { op: "repeat", times: 32, var: "d", ops: [{ op: "repeat", times: perDir / 2, from: 0, step: 2, var: "i", ops: [{ op: "rm", path: "/frag/d{d}/f{i}" }] }] },
  ]);
  const machine = describeSession(session.options);
  const what = `${32 * perDir} files of 4 KiB written (70% of memory), every other one deleted`;
  const before = captureMemmap(session.machine);
  write("compaction-before.svg", before, "Before compaction: free memory in single pages", [machine, what, bigBlocks(before)]);
  const r = session.machine.compaction.compact({ order: -1, mode: "full" });
  const after = captureMemmap(session.machine);
  write("compaction-after.svg", after, "After compaction of the whole memory (compact_memory)", [
    machine, `${what}; then compact({ order: -1, mode: "full" }): ${r.status}, ${r.migrated} pages migrated, ${r.failed} stayed`, bigBlocks(after),
  ]);
}

function memoryFailurePictures(): void {
  const session = openSession({ memory: MEMORY, seed: 2, hugePages: 2 });
  const m = session.machine;
  run(session, [
    { op: "write", path: "/clean", size: "8MiB" },
    { op: "sync" },
    { op: "write", path: "/dirty", size: "2MiB" },
    { op: "anon", size: "4MiB" },
    { op: "kmalloc", size: 512, count: 2000 },
    { op: "kmalloc", size: "256KiB", count: 4 },
    { op: "vmalloc", size: "1MiB" },
    { op: "hugepages", pool: 2, use: 1 },
  ]);
  const machine = describeSession(session.options);
  const what = "clean and dirty file pages, anonymous memory, slab, large kmalloc, vmalloc, huge pages";
  write("memory-failure-before.svg", captureMemmap(m), "Before a campaign of memory errors", [machine, what]);
  // Frames drawn from a seed of their own, anywhere but frame 0: the errors land wherever they land.
  const rng = new Rng(42);
  const outcomes = new Map<string, number>();
  let lost = 0;
  for (let i = 0; i < ERRORS; i++) {
    const r = m.memoryFailure.hardOffline(1 + rng.below(m.frames - 1));
    const key = `${r.type} ${r.action}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    if (r.dataLost) lost++;
  }
  m.scheduler.runFor(100e6); // delayed frames are retried every 10 ms
  const tally = [...outcomes.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k, n]) => `${n} ${k}`);
  const lines = [];
  for (let i = 0; i < tally.length; i += 5) lines.push(`${i === 0 ? "outcomes by memdesc type: " : "  "}${tally.slice(i, i + 5).join(", ")}`);
  write("memory-failure-after.svg", captureMemmap(m), `After hard offlines (memory_failure) of ${ERRORS} random frames`, [
    machine, `${what}; then ${ERRORS} memory errors at random frames`, ...lines,
    `${lost} dirty page(s) lost with their data; problems found by verify(): ${m.verify().length}`,
  ]);
}

mkdirSync(OUT, { recursive: true });
compactionPictures();
memoryFailurePictures();
