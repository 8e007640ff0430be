/**
 * The plugin contract, for every registered policy: size tracks residency and never exceeds the
 * capacity, evict() returns a resident key (and -1 only when empty), keep() and remove() leave
 * the policy consistent, and the simulator's counts add up.
 */
import test from "ava";
import fc from "fast-check";
import { type EvictionPolicy, createEvictionPolicy, evictionPolicyNames } from "@folio/core";
import { DEFAULT_EVICTION_POLICY, POLICY_NAMES, simulate, zipfTrace } from "../src/index.js";
import { ALL, type Op, checkedRun, make, requests } from "./helpers.js";

test("every policy is registered by name at module load, and the default is linux", (t) => {
  for (const name of POLICY_NAMES) {
    t.true(evictionPolicyNames().includes(name), name);
    const p = createEvictionPolicy(name)!;
    t.is(p.name, name);
    t.is(p.size, 0);
    t.not(createEvictionPolicy(name), p, "a new instance per call");
  }
  t.is(DEFAULT_EVICTION_POLICY, "linux");
  t.deepEqual([...ALL].sort(), ["arc", "clock", "fifo", "linux", "lru", "s3fifo", "sieve"]);
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("access" as const), key: fc.integer({ min: 0, max: 24 }) }), weight: 12 },
  { arbitrary: fc.record({ kind: fc.constant("remove" as const), key: fc.integer({ min: 0, max: 24 }) }), weight: 1 },
  { arbitrary: fc.constant({ kind: "keepNext" as const }), weight: 1 },
);

for (const name of ALL) {
  test(`${name}: never exceeds capacity, evicts only resident keys, survives keep and remove (property)`, (t) => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 400 }), fc.integer({ min: 1, max: 12 }), (ops, capacity) => {
        const r = checkedRun(make(name), ops, capacity);
        if (r.error !== undefined) throw new Error(r.error);
        return r.hits + r.misses === r.requests;
      }),
      { numRuns: 150 },
    );
    t.pass();
  });

  test(`${name}: large keys (up to 2^53 − 1) and a capacity of 1`, (t) => {
    const big = [2 ** 53 - 1, 2 ** 40 + 7, 0, 2 ** 53 - 1, 2 ** 32, 2 ** 40 + 7];
    const r = checkedRun(make(name), requests(big), 1);
    t.is(r.error, undefined);
    t.is(r.hits, 0);
    const r2 = checkedRun(make(name), requests([...big, ...big]), 4);
    t.is(r2.error, undefined);
  });

  test(`${name}: simulate() counts every request once (hits + misses = requests) and misses ≥ footprint`, (t) => {
    const trace = zipfTrace(0.9, 2000, 50_000, 11);
    for (const capacity of [1, 10, 100, 1999, 2000, 5000]) {
      const r = simulate(name, trace, capacity);
      t.is(r.requests, trace.length);
      t.is(r.hits + r.misses, r.requests);
      t.true(r.misses >= new Set(trace).size);
      t.is(r.missRatio + r.hitRatio, 1);
      if (capacity >= 2000) t.is(r.misses, new Set(trace).size, "everything fits: only cold misses");
    }
    const warm = simulate(name, trace, 100, { warmup: 0.25 });
    t.is(warm.requests, trace.length - Math.floor(0.25 * trace.length));
  });

  test(`${name}: the policy is driven identically by simulate() and the checking driver`, (t) => {
    const trace = Array.from(zipfTrace(0.7, 300, 5000, 5));
    const out = new Uint8Array(trace.length);
    simulate(make(name), trace, 37, { outcomes: out });
    const r = checkedRun(make(name), requests(trace), 37);
    t.is(r.error, undefined);
    t.deepEqual(Array.from(out), r.outcomes);
  });
}

test("simulate() rejects bad arguments and a policy that evicts a non-resident key", (t) => {
  t.throws(() => simulate("nope", [1], 1), { message: /no eviction policy named "nope"/ });
  t.throws(() => simulate("lru", [1], -1), { message: /EINVAL/ });
  t.throws(() => simulate("lru", [1], 1.5), { message: /EINVAL/ });
  t.throws(() => simulate("lru", [1], 1, { warmup: 1 }), { message: /warmup/ });
  t.throws(() => simulate("lru", [1, 2], 1, { outcomes: new Uint8Array(1) }), { message: /outcomes/ });
  // A policy that answers evict() with a key the cache does not hold.
  const inner = make("lru");
  const liar: EvictionPolicy = {
    name: "liar",
    get size() {
      return inner.size;
    },
    resize: (c) => inner.resize(c),
    insert: (k, s) => inner.insert(k, s),
    access: (k) => inner.access(k),
    evict: () => 12345,
    shadow: () => -1,
    keep: () => {},
    remove: () => {},
  };
  t.throws(() => simulate(liar, [1, 2, 3], 2), { message: /evicted 12345, which is not resident/ });
});

test("simulate() with capacity 0 misses every request and never calls evict", (t) => {
  for (const name of ALL) {
    const r = simulate(name, [1, 1, 2, 2], 0);
    t.is(r.misses, 4, name);
    t.is(r.evictions, 0);
  }
});

test("isActive, where a policy has it, names only resident keys, and a key used over and over under churn is active", (t) => {
  const withIsActive = ALL.filter((name) => make(name).isActive !== undefined);
  t.deepEqual([...withIsActive].sort(), ["arc", "linux", "s3fifo"], "the policies with a notion of active pages");
  for (const name of withIsActive) {
    const p: EvictionPolicy = make(name);
    p.resize(4);
    const resident = new Set<number>();
    const use = (key: number) => {
      if (resident.has(key)) {
        p.access(key);
        return;
      }
      if (p.size >= 4) resident.delete(p.evict());
      p.insert(key, -1);
      resident.add(key);
    };
    for (let k = 1; k < 40; k++) {
      use(0); // the hot key, used between every other
      use(0);
      use(k);
    }
    t.true(p.isActive!(0), `${name}: the hot key is active`);
    for (let k = 0; k < 40; k++) if (p.isActive!(k)) t.true(resident.has(k), `${name}: active key ${k} is resident`);
    t.false(p.isActive!(1000), `${name}: a key never seen is not active`);
  }
});
