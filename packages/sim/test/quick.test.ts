/**
 * The quick slice: a few seconds of simulation per filesystem, across fault profiles. A violation
 * fails the test unless it is a known bug (src/known.ts), which is logged.
 */
import test from "ava";
import { TARGETS, parseFaults, run } from "../src/index.js";
import { MAPPING_WEIGHTS, assertClean } from "./helpers.js";

const SLICE: { faults: string; seeds: number[]; ops: number }[] = [
  { faults: "none", seeds: [1, 2], ops: 2500 },
  { faults: "crash", seeds: [10, 11, 12], ops: 2500 },
  { faults: "default", seeds: [20, 21, 22], ops: 2500 },
  { faults: "heavy", seeds: [30, 31], ops: 1500 },
];

for (const t0 of TARGETS) {
  for (const { faults, seeds, ops } of SLICE) {
    test(`fs-${t0.name}, faults ${faults}: seeds ${seeds.join(", ")} × ${ops} operations`, (t) => {
      let crashes = 0;
      for (const seed of seeds) {
        const r = run({ fs: t0.name, seed, ops, faults: parseFaults(faults) });
        assertClean(t, r);
        crashes += r.stats.crashes;
        t.log(`seed ${seed}: ${r.stats.ops} ops, ${r.stats.fsyncs} fsyncs, ${r.stats.remounts} remounts, ${r.stats.crashes} crashes, ${r.stats.readErrors + r.stats.writeErrors + r.stats.flushErrors} I/O errors`);
      }
      if (faults !== "none") t.true(crashes > 0, "power was cut");
    });
  }
}

for (const t0 of TARGETS) {
  test(`fs-${t0.name}: mapping operations run and are checked against the model`, (t) => {
    const seen = new Map<string, number>();
    for (const seed of [40, 41]) {
      const r = run({ fs: t0.name, seed, ops: 1500, faults: parseFaults("default"), keepLog: true, weights: MAPPING_WEIGHTS });
      assertClean(t, r);
      for (const line of r.log) {
        const m = /^\d+ (mmap-shared|mmap-private|load|store|msync|munmap) .* -> (ok|SIGBUS)(?: \d+)?( \(private copy\))?/.exec(line);
        if (m) seen.set(`${m[1]} ${m[2]}${m[3] ?? ""}`, (seen.get(`${m[1]} ${m[2]}${m[3] ?? ""}`) ?? 0) + 1);
      }
      t.true(r.stats.liveChecks > 0, "the live checks (with machine.verify) ran");
    }
    t.log([...seen].map(([k, n]) => `${k}: ${n}`).join(", "));
    for (const outcome of ["mmap-shared ok", "mmap-private ok", "load ok", "store ok", "store ok (private copy)", "load SIGBUS", "store SIGBUS", "msync ok", "munmap ok"]) {
      t.true((seen.get(outcome) ?? 0) > 0, `the op log shows ${outcome}`);
    }
  });
}
