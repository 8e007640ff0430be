import test from "ava";
import { formatFaults, maxOrderOf, parseFaults, policyOf, replayCommand, run, type RunHooks } from "../src/index.js";
import { SkipFlush, firstViolation } from "./helpers.js";

for (const fs of ["simple", "log"]) {
  test(`fs-${fs}: a run replays exactly from its seed (op log and final state)`, (t) => {
    const cfg = { fs, seed: 4242, ops: 1500, faults: parseFaults("heavy"), keepLog: true };
    const a = run(cfg);
    const b = run(cfg);
    t.true(a.stats.crashes > 0 && a.stats.fsyncs > 0, "the run crashed and fsynced");
    t.deepEqual(a.log, b.log);
    t.is(a.opLogHash, b.opLogHash);
    t.is(a.stateHash, b.stateHash);
    t.deepEqual(a.stats, b.stats);
    t.deepEqual(a.violation, b.violation);
    const c = run({ ...cfg, seed: 4243 });
    t.not(c.opLogHash, a.opLogHash, "another seed is another run");
  });
}

test("a violation names its seed and operation and gives a command that replays it", (t) => {
  // A planted bug (the device acknowledges flushes without flushing) makes a violation to look at.
  const hooks: RunHooks = { wrapDevice: (dev, w) => new SkipFlush(dev, w.machine.scheduler) };
  const base = { fs: "simple", ops: 1500, faults: parseFaults("crash,crash=0.01"), maxOrder: 0 };
  const { result } = firstViolation(base, 1000, 25, hooks);
  t.truthy(result, "the planted bug shows within 25 seeds");
  const v = result!.violation!;
  t.is(v.replay, `node packages/sim/dist/src/run.js --fs simple --seed ${v.seed} --ops ${v.op + 1} --faults ${formatFaults(base.faults)} --max-order 0`);
  const again = run({ ...base, seed: v.seed, ops: v.op + 1 }, hooks);
  t.deepEqual(again.violation, v, "the replay stops at the same operation with the same violation");
});

test("the seed picks the folio order among 0, 2 and 9, independently of the eviction policy; the replay line names it", (t) => {
  const pairs = new Set<string>();
  for (let seed = 100; seed < 121; seed++) pairs.add(`${policyOf({ seed })} ${maxOrderOf({ seed })}`);
  t.is(pairs.size, 21, "every (policy, order) pair once in 21 consecutive seeds");
  t.deepEqual([...new Set([...pairs].map((p) => Number(p.split(" ")[1])))].sort((a, b) => a - b), [0, 2, 9]);
  t.is(maxOrderOf({ seed: 100, maxOrder: 4 }), 4, "--max-order wins");
  t.true(replayCommand("log", 7, 10, parseFaults("default"), undefined, false, 2).endsWith("--faults default --max-order 2"));
});
