/**
 * Exact agreement with reference models: LRU and FIFO hit/miss sequences against array models;
 * OPT against a brute-force Belady; OPT at or below every policy.
 */
import test from "ava";
import fc from "fast-check";
import assert from "node:assert/strict";
import { loopTrace, scanHotTrace, simulate, simulateOpt, zipfTrace } from "../src/index.js";
import { ALL, referenceFifo, referenceLru, referenceOptMisses } from "./helpers.js";

const traceArb = fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 500 });
const capArb = fc.integer({ min: 0, max: 16 });

test("lru: the hit/miss sequence equals the reference model's on random traces (property)", (t) => {
  fc.assert(
    fc.property(traceArb, capArb, (trace, capacity) => {
      const out = new Uint8Array(trace.length);
      simulate("lru", trace, capacity, { outcomes: out });
      assert.deepEqual(Array.from(out), referenceLru(trace, capacity));
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test("fifo: the hit/miss sequence equals the reference model's on random traces (property)", (t) => {
  fc.assert(
    fc.property(traceArb, capArb, (trace, capacity) => {
      const out = new Uint8Array(trace.length);
      simulate("fifo", trace, capacity, { outcomes: out });
      assert.deepEqual(Array.from(out), referenceFifo(trace, capacity));
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test("lru and fifo also match their models on a long skewed trace with large keys", (t) => {
  const trace = Array.from(zipfTrace(0.8, 500, 20_000, 3), (k) => k * 2 ** 30 + 17);
  for (const [name, model] of [["lru", referenceLru], ["fifo", referenceFifo]] as const) {
    const out = new Uint8Array(trace.length);
    simulate(name, trace, 64, { outcomes: out });
    t.deepEqual(Array.from(out), model(trace, 64), name);
  }
});

test("opt: misses equal a brute-force Belady's on random traces (property)", (t) => {
  fc.assert(
    fc.property(traceArb, capArb, (trace, capacity) => {
      assert.equal(simulateOpt(trace, capacity).misses, referenceOptMisses(trace, capacity));
    }),
    { numRuns: 300 },
  );
  t.pass();
});

test("opt: misses are at most every policy's on random traces (property)", (t) => {
  fc.assert(
    fc.property(traceArb, fc.integer({ min: 1, max: 16 }), (trace, capacity) => {
      const opt = simulateOpt(trace, capacity).misses;
      for (const name of ALL) {
        const m = simulate(name, trace, capacity).misses;
        if (opt > m) throw new Error(`${name}: ${m} misses < OPT's ${opt}`);
      }
    }),
    { numRuns: 200 },
  );
  t.pass();
});

test("opt: at most every policy's misses on Zipf, loop and scan traces too, with warm-up", (t) => {
  const traces = [
    zipfTrace(1.0, 5000, 100_000, 8),
    loopTrace(1000, 20_000),
    scanHotTrace({ hot: 100, scan: 4000, before: 2000, after: 2000, seed: 4 }).trace,
  ];
  for (const trace of traces) {
    for (const capacity of [10, 100, 400]) {
      const opt = simulateOpt(trace, capacity, { warmup: 0.1 });
      for (const name of ALL) t.true(opt.misses <= simulate(name, trace, capacity, { warmup: 0.1 }).misses, `${name} C=${capacity}`);
    }
  }
});

test("opt: known values — the textbook reference string, and a loop", (t) => {
  // On a loop OPT keeps C − 1 pages and rotates one slot: far fewer misses than LRU's 100%.
  t.is(simulateOpt(loopTrace(10, 50), 4).misses, referenceOptMisses(Array.from(loopTrace(10, 50)), 4));
  t.is(simulate("lru", loopTrace(10, 50), 4).misses, 50);
  t.is(simulateOpt([1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5], 3).misses, 7); // the textbook example
  t.is(simulateOpt([1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5], 4).misses, 6);
  const outcomes = new Uint8Array(3);
  t.is(simulateOpt([7, 7, 7], 1, { outcomes }).hits, 2);
  t.deepEqual(Array.from(outcomes), [0, 1, 1]);
});
