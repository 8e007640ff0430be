/**
 * Che's approximation, and THE bar: plain LRU through the plugin interface matches it under IRM
 * Zipf requests — α 0.8, 1.0, 1.2; N = 10,000 pages; C = 100 and 1,000; 1,000,000 requests with
 * the first 20% discarded as warm-up — to within ±0.005 of the hit ratio.
 */
import test from "ava";
import { cheCharacteristicTime, cheHitRatio, simulate, zipfProbabilities, zipfTrace } from "../src/index.js";

test("che: uniform popularity gives H = C/N exactly; all-fitting caches hit always; T solves the equation", (t) => {
  const n = 1000;
  const uniform = new Float64Array(n).fill(1 / n);
  for (const c of [1, 10, 500, 999]) t.true(Math.abs(cheHitRatio(uniform, c) - c / n) < 1e-12, `C=${c}`);
  t.is(cheHitRatio(uniform, n), 1);
  t.is(cheHitRatio(uniform, 2 * n), 1);
  t.is(cheHitRatio(uniform, 0), 0);
  const p = zipfProbabilities(0.9, 5000);
  for (const c of [1, 37, 1000, 4999]) {
    const T = cheCharacteristicTime(p, c);
    let occupancy = 0;
    for (const pi of p) occupancy += 1 - Math.exp(-pi * T);
    t.true(Math.abs(occupancy - c) <= 1e-9 * c, `C=${c}: Σ(1 − e^(−p·T)) = ${occupancy}`);
  }
  // Monotone in C.
  let last = 0;
  for (let c = 0; c <= 5000; c += 250) {
    const h = cheHitRatio(p, c);
    t.true(h >= last);
    last = h;
  }
  t.throws(() => cheHitRatio([0.5, -0.1], 1), { message: /EINVAL/ });
});

test("zipf probabilities sum to 1 and decrease as rank^−α", (t) => {
  const p = zipfProbabilities(1.2, 10_000);
  t.true(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  t.true(Math.abs(p[0]! / p[9]! - Math.pow(10, 1.2)) < 1e-9);
});

const N = 10_000;
const REQUESTS = 1_000_000;
for (const alpha of [0.8, 1.0, 1.2]) {
  for (const capacity of [100, 1000]) {
    test(`THE bar: lru under IRM Zipf(α=${alpha}), N=${N}, C=${capacity}, 10^6 requests, 20% warm-up matches Che within ±0.005`, (t) => {
      const trace = zipfTrace(alpha, N, REQUESTS, 1000 + Math.round(alpha * 10) * 7 + capacity);
      const sim = simulate("lru", trace, capacity, { warmup: 0.2 });
      const che = cheHitRatio(zipfProbabilities(alpha, N), capacity);
      t.log(`simulated ${sim.hitRatio.toFixed(4)}, Che ${che.toFixed(4)}, difference ${(sim.hitRatio - che).toFixed(4)}`);
      t.is(sim.requests, REQUESTS - 200_000);
      t.true(Math.abs(sim.hitRatio - che) <= 0.005);
    });
  }
}
