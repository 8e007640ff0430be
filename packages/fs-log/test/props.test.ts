/**
 * Model-based properties (fast-check): random operation sequences leave the filesystem showing
 * exactly the model's tree; a remount (after which everything is durable) shows it too; fsck is
 * clean and the live-block accounting exact throughout; large folios change nothing.
 */
import test from "ava";
import fc from "fast-check";
import { Rng } from "@folio/core";
import { fsckOf, makeRig, mountFs } from "./helpers.js";
import { Model, diffStates, observe, sameState, setWriteSizes, step } from "./model.js";

for (const maxOrder of [0, 2]) {
  test(`random operations match the model, across remounts (maxOrder ${maxOrder})`, (t) => {
    setWriteSizes(64 * 1024, 24 * 1024);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0x7fffffff }), fc.integer({ min: 20, max: 150 }), (seed, n) => {
        const r = makeRig({ blocks: 2048, seed: seed % 1000, mkfs: { segmentBlocks: 16, inodes: 256 } });
        let fs = mountFs(r, { maxOrder });
        const m = new Model();
        const rng = new Rng(seed);
        const ops: string[] = [];
        for (let i = 0; i < n; i++) {
          ops.push(step(fs, m, rng, r.machine).text);
          if (rng.chance(0.05)) {
            fs.unmount();
            const rep = fsckOf(r);
            if (!rep.clean) throw new Error(`fsck after ${ops.join(", ")}: ${rep.problems.map((p) => p.what).join(" | ")}`);
            for (const [ino, d] of m.data) m.committed.set(ino, d);
            fs = mountFs(r, { maxOrder });
          }
        }
        const got = observe(fs);
        if (!sameState(m.current(), got)) throw new Error(`after ${ops.join(", ")}: ${diffStates(m.current(), got)}`);
        const acct = fs.verifyAccounting();
        if (acct.length > 0) throw new Error(`accounting: ${acct.join("; ")}`);
        fs.unmount();
        const rep = fsckOf(r);
        if (!rep.clean) throw new Error(`fsck: ${rep.problems.map((p) => p.what).join(" | ")}`);
        const again = mountFs(r, { maxOrder });
        const after = observe(again);
        again.unmount();
        if (!sameState(m.current(), after)) throw new Error(`after remount: ${diffStates(m.current(), after)}`);
        return true;
      }),
      { numRuns: 40, seed: 77 },
    );
    t.pass();
  });
}
