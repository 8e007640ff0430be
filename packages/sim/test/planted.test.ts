/**
 * The harness proves it can fail: each test plants a bug at test time (a device wrapper, a
 * monkeypatched PageCache method, or a module-load plant from test/hooks/loader.ts), runs the
 * quick slice's kind of simulation, and asserts that the harness reports a violation within a
 * fixed number of runs — and that the same seed without the plant reports none (but known bugs).
 */
import test from "ava";
import { AddressSpace, FolioFlag, MS_SYNC, Stat } from "@folio/core";
import { PageCache, type Mapping } from "@folio/pagecache";
import { formatViolation, parseFaults, run, type RunConfig, type RunHooks } from "../src/index.js";
import { MAPPING_WEIGHTS, SkipFlush, firstViolation, patched, withPlant } from "./helpers.js";

/** Runs (seeds) each planted bug may take to be caught: a count, so the verdict never depends on the machine's speed. */
const MAX_RUNS = 25;

/** Runs the hunt; asserts a violation, not a known bug, that the unplanted run of that seed does not show. */
function catches(t: import("ava").ExecutionContext, base: Omit<RunConfig, "seed">, first: number, plant: (fn: () => void) => void, hooks: RunHooks = {}): void {
  let found: ReturnType<typeof firstViolation> | undefined;
  plant(() => {
    found = firstViolation(base, first, MAX_RUNS, hooks);
  });
  const { result, runs, ops, ms } = found!;
  t.truthy(result, `no violation in ${runs} runs, ${ops} operations, ${ms.toFixed(0)} ms`);
  if (!result) return;
  const v = result.violation!;
  t.log(`caught after ${runs} runs, ${ops} operations, ${ms.toFixed(0)} ms: ${formatViolation(v)}`);
  t.is(v.known, null, "not mistaken for a known bug");
  const clean = run({ ...base, seed: v.seed, ops: v.op + 1 });
  t.true(clean.violation === null || clean.violation.known !== null || clean.violation.op > v.op, `without the plant: ${clean.violation ? formatViolation(clean.violation) : "clean"}`);
}


// Every plant's seeds were chosen with small folios only: the runs keep maxOrder 0 (no memory faults in these profiles).
const crashy = (fs: string, ops = 1500): Omit<RunConfig, "seed"> => ({ fs, ops, faults: parseFaults("crash,crash=0.01"), maxOrder: 0 });

for (const fs of ["simple", "log"]) {
  test.serial(`(a) fs-${fs}: fsync that skips the device flush is caught`, (t) => {
    catches(t, crashy(fs), 1000, (fn) => fn(), { wrapDevice: (dev, w) => new SkipFlush(dev, w.machine.scheduler) });
  });

  test.serial(`(b) fs-${fs}: a dirty flag without its index mark (some folios) is caught`, (t) => {
    const original = PageCache.prototype.markDirty;
    const dropMark = function (this: PageCache, mapping: Mapping, folio: number): boolean {
      const f = this.folios;
      // File data only, and only some folios: page 2 of every 5.
      if (mapping.host.ino === 0 || f.index(folio) % 5 !== 2) return original.call(this, mapping, folio);
      if (f.testAndSet(folio, FolioFlag.Dirty)) return false;
      this.machine.vmstat.stat[Stat.Dirty] += f.nrPages(folio);
      return true; // the flag and the counter, but no dirty mark in the index: writeback never finds it
    };
    catches(t, crashy(fs), 2000, (fn) => patched(PageCache.prototype, "markDirty", dropMark, fn));
  });

  // fs-log's durability does not rest on the folio writeback flags: its log writer waits for its own device writes before a
  // commit or checkpoint, so this plant changes nothing there (the test runs on fs-simple only).
  if (fs === "simple") test.serial(`(c) fs-${fs}: writeback that ends (marks the folio clean) at submit time is caught`, (t) => {
    const start = PageCache.prototype.startWriteback;
    const end = PageCache.prototype.endWriteback;
    const earlyStart = function (this: PageCache, mapping: Mapping, folio: number): void {
      start.call(this, mapping, folio);
      end.call(this, mapping, folio, null); // "done" before the device has the data
    };
    const lateEnd = function (this: PageCache, mapping: Mapping, folio: number, error: Parameters<PageCache["endWriteback"]>[2]): void {
      if (this.folios.test(folio, FolioFlag.Writeback)) end.call(this, mapping, folio, error); // the real completion finds it ended
    };
    catches(t, crashy(fs), 3000, (fn) => patched(PageCache.prototype, "startWriteback", earlyStart, () => patched(PageCache.prototype, "endWriteback", lateEnd, fn)));
  });

  test.serial(`(d) fs-${fs}: an off-by-one in truncate (one byte too many dropped) is caught`, (t) => {
    const plant = (fn: () => void) =>
      withPlant({ truncateInodePages: (original, cache, mapping, start, ...rest) => original(cache, mapping, (start as number) > 0 ? (start as number) - 1 : start, ...rest) }, fn);
    catches(t, { fs, ops: 1500, faults: parseFaults("none"), maxOrder: 0 }, 4000, plant);
  });
}

test.serial("(e) fs-log: a checkpoint written before its segment (the usage-table writes it points to) is caught", (t) => {
  catches(t, { fs: "log", ops: 1500, faults: parseFaults("crash,crash=0.03,midOp=0"), maxOrder: 0 }, 5000, (fn) => withPlant({ checkpointFirst: true }, fn));
});

for (const [fs, first] of [["simple", 6000], ["log", 6000]] as const) {
  test.serial(`(f) fs-${fs}: msync(MS_SYNC) that does not write back is caught`, (t) => {
    const msync = AddressSpace.prototype.msync;
    const lazy = function (this: AddressSpace, addr: number, length: number, flags: number): void {
      msync.call(this, addr, length, flags & ~MS_SYNC);
    };
    const base: Omit<RunConfig, "seed"> = { fs, ops: 1500, faults: parseFaults("crash,crash=0.01"), weights: MAPPING_WEIGHTS, maxOrder: 0 };
    catches(t, base, first, (fn) => patched(AddressSpace.prototype, "msync", lazy, fn));
  });
}
