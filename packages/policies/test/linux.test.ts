/**
 * The "linux" policy: the two lists, folio_mark_accessed, inactive_is_low, deactivation,
 * workingset refault/activate/restore, keep(), and the workingset bar — a hot set survives a scan
 * ten times the cache while plain LRU's hit ratio on it collapses.
 */
import test from "ava";
import { LinuxPolicy, inactiveRatio, scanHotTrace, simulate } from "../src/index.js";

/** A cache around a LinuxPolicy that stores shadows like the simulator (unbounded here). */
function cache(capacity: number) {
  const p = new LinuxPolicy();
  p.resize(capacity);
  const resident = new Set<number>();
  const shadows = new Map<number, number>();
  const evicted: number[] = [];
  const run = (keys: number[]): void => {
    for (const k of keys) {
      if (resident.has(k)) {
        p.access(k);
        continue;
      }
      while (resident.size >= capacity) {
        const v = p.evict();
        resident.delete(v);
        evicted.push(v);
        const s = p.shadow(v);
        if (s >= 0) shadows.set(v, s);
      }
      const s = shadows.get(k) ?? -1;
      shadows.delete(k);
      p.insert(k, s);
      resident.add(k);
    }
  };
  return { p, run, evicted, shadows };
}

test("folio_mark_accessed: new pages start inactive; the first access marks, the second activates", (t) => {
  const { p, run } = cache(8);
  run([1, 2, 3]);
  t.deepEqual(p.snapshot().inactive, [3, 2, 1]);
  t.deepEqual(p.snapshot().referenced, []);
  run([1]);
  t.deepEqual(p.snapshot().referenced, [1]);
  t.deepEqual(p.snapshot().active, []);
  run([1]);
  t.deepEqual(p.snapshot().active, [1]);
  t.deepEqual(p.snapshot().referenced, [], "activation clears PG_referenced");
  run([1, 1, 1]);
  t.deepEqual(p.snapshot().active, [1]);
  t.deepEqual(p.snapshot().referenced, [1], "an access to an active page only sets PG_referenced");
  t.is(p.counters().pgactivate, 1);
  t.is(p.counters().nonresident_age, 1, "workingset_activation ages the non-resident clock");
});

test("reclaim: a referenced inactive page gets a second chance by activation; unreferenced pages go", (t) => {
  const { p, run, evicted, shadows } = cache(4);
  run([1, 1, 1, 2, 2, 2, 3, 4]); // 1, 2 active (age 2); 3, 4 inactive
  run([3]); // 3 referenced
  run([5]); // reclaim: tail 3 is referenced → activated; 4 is evicted
  t.deepEqual(evicted, [4]);
  t.deepEqual(p.snapshot().active, [3, 2, 1]);
  t.is(shadows.get(4), 3 * 2, "shadow = non-resident age at eviction (2 activations + 1 promotion) × 2");
  t.is(p.counters().nonresident_age, 4);
  t.is(p.counters().pgsteal_file, 1);
});

test("inactive_is_low: the active list is aged until inactive × ratio ≥ active; deactivation sets PG_workingset", (t) => {
  const { p, run, evicted } = cache(6);
  run([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 6]); // active [4 3 2 1], inactive [6 5]
  t.deepEqual(p.snapshot().active, [4, 3, 2, 1]);
  run([7]); // inactive 2 < active 4: deactivate 1 (→ 3:3), then evict the inactive tail 5
  t.deepEqual(p.snapshot().active, [4, 3, 2]);
  t.deepEqual(p.snapshot().inactive, [7, 1, 6]);
  t.deepEqual(evicted, [5]);
  t.deepEqual(p.snapshot().workingset, [1]);
  t.is(p.counters().pgdeactivate, 1);
});

test("inactive_is_low's ratio: 1 below 1 GiB of pages, ⌊√(10·GiB)⌋ above, as in mm/vmscan.c", (t) => {
  t.is(inactiveRatio(0), 1);
  t.is(inactiveRatio(262_143), 1);
  t.is(inactiveRatio(262_144), 3);
  t.is(inactiveRatio(2 * 262_144), 4);
  t.is(inactiveRatio(10 * 262_144), 10);
  t.is(inactiveRatio(100 * 262_144), 31);
  for (const [capacity, ratio] of [[1000, 1], [2 * 262_144, 4]] as const) {
    const { p, run } = cache(capacity);
    const keys: number[] = [];
    for (let k = 0; k < capacity; k++) keys.push(k, k, k);
    run(keys); // everything active, nothing inactive
    t.is(p.counters().nr_active_file, capacity);
    run([capacity]); // one miss: age the active list, then evict
    const c = p.counters();
    t.true(c.nr_inactive_file * ratio >= c.nr_active_file - ratio, `C=${capacity}: ${c.nr_inactive_file} inactive, ${c.nr_active_file} active`);
    t.true((c.nr_inactive_file - 1) * ratio < c.nr_active_file + ratio, "no more than needed was deactivated");
  }
});

test("workingset: refault distance ≤ active size activates (workingset_activate), PG_workingset refaults restore", (t) => {
  const { p, run, evicted, shadows } = cache(4);
  run([1, 1, 1, 2, 2, 2, 3, 4]); // active [2 1], inactive [4 3], age 2
  run([5]); // evicts 3 at age 2 → shadow 4; age 3
  t.is(shadows.get(3), 4);
  run([6]); // evicts 4 at age 3 → shadow 6; age 4
  run([3]); // evicts 5 at age 4 (age 5); refault of 3: distance 5 − 2 = 3 > active 2 → inactive
  t.deepEqual(evicted, [3, 4, 5]);
  let c = p.counters();
  t.is(c.workingset_refault_file, 1);
  t.is(c.workingset_activate_file, 0);
  t.deepEqual(p.snapshot().inactive, [3, 6]);
  run([4]); // evicts 6 at age 5 (age 6); refault of 4: distance 6 − 3 = 3 > 2 → inactive
  t.is(p.counters().workingset_activate_file, 0);
  run([6]); // evicts 3 at age 6 (age 7); refault of 6: distance 7 − 5 = 2 ≤ 2 → active
  c = p.counters();
  t.is(c.workingset_refault_file, 3);
  t.is(c.workingset_activate_file, 1);
  t.is(c.workingset_restore_file, 0, "6 had never been active");
  t.is(c.nonresident_age, 8, "the refault activation ages the clock too");
  t.deepEqual(p.snapshot().active, [6, 2, 1]);
  run([4, 4, 6, 6]); // 4 activated by access (age 9); 6, active, only gets PG_referenced
  t.deepEqual(p.snapshot().active, [4, 6, 2, 1]);
  // 3: inactive (0) is low against active (4): 1 and 2 are deactivated (PG_workingset set),
  // 1 is evicted at age 9 with the workingset bit; 3 (evicted at 6) refaults at distance 4 > 2.
  run([3]);
  t.deepEqual(p.snapshot().inactive, [3, 2]);
  t.deepEqual(p.snapshot().active, [4, 6]);
  t.deepEqual(p.snapshot().workingset, [2]);
  t.is(shadows.get(1), 9 * 2 + 1, "the shadow carries PG_workingset");
  t.is(p.counters().pgdeactivate, 2);
  // 1 again: the inactive tail 2 (unreferenced) is evicted at age 10; 1 refaults at distance
  // 11 − 9 = 2 ≤ active 2: activated, and, having been active before its eviction, restored.
  run([1]);
  c = p.counters();
  t.is(c.workingset_activate_file, 2);
  t.is(c.workingset_restore_file, 1);
  t.true(p.snapshot().workingset.includes(1));
  t.deepEqual(p.snapshot().active, [1, 4, 6]);
});

test("refaults since the last reclaim age the active list even when inactive is not low (Linux ≥ 5.9)", (t) => {
  const { p, run } = cache(10);
  run([1, 2, 3, 1, 2, 3, 1, 2, 3]); // 3 active
  run([4, 5, 6, 7, 8, 9, 10, 11, 12]); // 7 inactive; 4 and 5 evicted
  t.is(p.counters().pgdeactivate, 0);
  // Refault recently evicted pages one after another: each is activated, and each reclaim after
  // an activation scans the active list at active/inactive pages per page reclaimed.
  for (let k = 4; k <= 9; k++) {
    run([k]);
    const c = p.counters();
    t.true(c.nr_inactive_file >= c.nr_active_file || c.pgdeactivate > 0);
  }
  const c = p.counters();
  t.true(c.workingset_activate_file >= 3, `${c.workingset_activate_file} refault activations`);
  t.true(c.pgdeactivate > 0, "the active list was aged");
});

test("keep(): a page that could not be evicted goes back to the inactive head and is not counted", (t) => {
  const p = new LinuxPolicy();
  p.resize(3);
  for (const k of [1, 2, 3]) p.insert(k, -1);
  p.access(2);
  p.access(2); // 2 active
  const age = p.counters().nonresident_age;
  const v = p.evict();
  t.is(v, 1);
  p.keep(v);
  t.is(p.size, 3);
  t.is(p.counters().nonresident_age, age);
  t.is(p.counters().pgsteal_file, 0);
  t.deepEqual(p.snapshot().inactive, [1, 3]);
  t.is(p.evict(), 3);
  t.is(p.shadow(3), age * 2);
  t.is(p.shadow(1), -1, "only the page just evicted has a shadow");
});

test("the shadows option bounds the shadow table; 0 turns workingset detection off", (t) => {
  const trace = scanHotTrace({ hot: 50, scan: 2000, before: 1000, after: 1000, seed: 3 }).trace;
  const off = simulate("linux", trace, 200, { shadows: 0 });
  t.is(off.refaults, 0);
  const on = simulate("linux", trace, 200);
  t.true(on.hits >= off.hits);
  const lru = simulate("lru", trace, 200);
  t.is(lru.refaults, 0, "lru keeps no shadows");
});

/** Hit ratio of the hot-set requests in [from, to). */
function hotHitRatio(trace: Int32Array, out: Uint8Array, hot: number, from: number, to: number): number {
  let n = 0;
  let h = 0;
  for (let i = from; i < to; i++) {
    if (trace[i]! < hot) {
      n++;
      h += out[i]!;
    }
  }
  return h / n;
}

for (const capacity of [1000, 4000]) {
  test(`THE workingset bar, C=${capacity}: a hot set (25% of C) keeps its hit ratio through a scan of 10×C under linux, and collapses under lru`, (t) => {
    const hot = capacity / 4;
    const st = scanHotTrace({ hot, scan: 10 * capacity, before: 20 * hot, after: 20 * hot, scanPerHot: 10, seed: 17 });
    const ratios: Record<string, { before: number; during: number }> = {};
    for (const name of ["linux", "lru"]) {
      const out = new Uint8Array(st.trace.length);
      simulate(name, st.trace, capacity, { outcomes: out });
      // "Before" is the second half of the pre-scan phase (the first half warms the cache).
      ratios[name] = {
        before: hotHitRatio(st.trace, out, hot, st.scanStart / 2, st.scanStart),
        during: hotHitRatio(st.trace, out, hot, st.scanStart, st.scanEnd),
      };
      t.log(`${name}: hot-set hit ratio ${(ratios[name]!.before * 100).toFixed(1)}% before the scan, ${(ratios[name]!.during * 100).toFixed(1)}% during`);
    }
    const linux = ratios.linux!;
    const lru = ratios.lru!;
    t.true(linux.before > 0.99);
    t.true(linux.before - linux.during < 0.05, `linux drops ${((linux.before - linux.during) * 100).toFixed(1)} points`);
    t.true(lru.before > 0.99);
    t.true(lru.before - lru.during > 0.4, `lru drops only ${((lru.before - lru.during) * 100).toFixed(1)} points`);
  });
}
