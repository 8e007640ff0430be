import test from "ava";
import "reflect-metadata";
import { container as globalContainer } from "tsyringe";
import { Gfp, MAX_WAIT_DEPTH, MILLISECOND, Machine, Rng, SECOND, Scheduler, TOKENS, formatTime, isFolioError } from "../src/index.js";
import { compareState, expectError, snapshot } from "./helpers.js";

const draw = (r: Rng, n: number) => Array.from({ length: n }, () => r.nextU32());

test("Rng: the same seed gives the same sequence, different seeds differ", (t) => {
  t.deepEqual(draw(new Rng(42), 200), draw(new Rng(42), 200));
  const firsts = new Set<string>();
  for (let seed = 0; seed < 64; seed++) firsts.add(draw(new Rng(seed), 4).join(","));
  t.is(firsts.size, 64, "64 seeds give 64 different streams");
  t.notDeepEqual(draw(new Rng(1), 10), draw(new Rng(2), 10));
  // Values are 32-bit unsigned integers and the stream does not get stuck.
  const xs = draw(new Rng(7), 1000);
  t.true(xs.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff));
  t.true(new Set(xs).size > 990);
  // fork() is deterministic and independent of the parent's later draws.
  const p1 = new Rng(9);
  const p2 = new Rng(9);
  const c1 = p1.fork();
  const c2 = p2.fork();
  t.deepEqual(draw(c1, 20), draw(c2, 20));
  t.notDeepEqual(draw(p1, 20), draw(new Rng(9).fork(), 20));
});

test("Rng: below(n) stays in [0, n), between(lo, hi) in [lo, hi], and both spread over the range", (t) => {
  const r = new Rng(3);
  for (const n of [1, 2, 3, 7, 10, 1000, 2 ** 32]) {
    for (let i = 0; i < 2000; i++) {
      const v = r.below(n);
      if (!(Number.isInteger(v) && v >= 0 && v < n)) t.fail(`below(${n}) = ${v}`);
    }
  }
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 8000; i++) counts[r.below(4)]!++;
  for (const c of counts) t.true(c > 1700 && c < 2300, `bucket count ${c} of 8000`);
  const seen = new Set<number>();
  for (let i = 0; i < 2000; i++) {
    const v = r.between(-3, 3);
    if (v < -3 || v > 3 || !Number.isInteger(v)) t.fail(`between(-3, 3) = ${v}`);
    seen.add(v);
  }
  t.is(seen.size, 7, "every value of [-3, 3] occurs");
  const f = Array.from({ length: 1000 }, () => r.next());
  t.true(f.every((x) => x >= 0 && x < 1));
  t.true(r.chance(1) && !r.chance(0));
});

test("Scheduler: events run in time order, at their time", (t) => {
  const s = new Scheduler(new Rng(1));
  const log: string[] = [];
  const at = (label: string) => () => log.push(`${label}@${s.now}`);
  s.after(30, "c", at("c"));
  s.after(10, "a", at("a"));
  s.after(20, "b", at("b"));
  s.after(-5, "now", at("now"));
  t.is(s.pending, 4);
  s.runFor(25);
  t.deepEqual(log, ["now@0", "a@10", "b@20"]);
  t.is(s.now, 25);
  s.runFor(100);
  t.deepEqual(log, ["now@0", "a@10", "b@20", "c@30"]);
  t.is(s.now, 125);
  t.is(s.pending, 0);
  // charge() moves time without running; runDue runs what is due, at most `limit`.
  s.after(10, "d", at("d"));
  s.after(10, "e", at("e"));
  s.after(50, "f", at("f"));
  s.charge(20);
  t.is(s.runDue(1), 1);
  t.is(s.runDue(), 1);
  t.is(s.runDue(), 0, "f is not due yet");
  t.is(log.length, 6);
  t.is(formatTime(1_250 * MILLISECOND), "1.250s");
});

/** Order in which `n` events scheduled for the same instant run, on a scheduler seeded `seed`. */
function simultaneousOrder(seed: number, n: number): string {
  const s = new Scheduler(new Rng(seed));
  const out: number[] = [];
  for (let i = 0; i < n; i++) s.after(5, `e${i}`, () => out.push(i));
  s.runFor(5);
  return out.join(",");
}

test("Scheduler: simultaneous events run in an order chosen by the seed, replayed exactly", (t) => {
  const bySeed = new Map<string, number>();
  for (let seed = 1; seed <= 200 && bySeed.size < 2; seed++) {
    const order = simultaneousOrder(seed, 2);
    if (!bySeed.has(order)) bySeed.set(order, seed);
  }
  t.deepEqual([...bySeed.keys()].sort(), ["0,1", "1,0"], "some seed runs the first event first, another the second");
  for (const [order, seed] of bySeed) {
    for (let i = 0; i < 3; i++) t.is(simultaneousOrder(seed, 2), order, `seed ${seed} replays`);
  }
  // With more events, each seed fixes one permutation, and seeds pick different ones.
  const perms = new Set<string>();
  for (let seed = 1; seed <= 20; seed++) {
    const p = simultaneousOrder(seed, 8);
    t.is(simultaneousOrder(seed, 8), p);
    t.deepEqual(p.split(",").map(Number).sort(), [0, 1, 2, 3, 4, 5, 6, 7]);
    perms.add(p);
  }
  t.true(perms.size > 10, `${perms.size} different permutations from 20 seeds`);
  // A machine's scheduler follows the machine's seed.
  const machineOrder = (seed: number) => {
    const s = Machine.boot({ memory: "1MiB", seed }).scheduler;
    const out: number[] = [];
    for (let i = 0; i < 6; i++) s.after(1, `e${i}`, () => out.push(i));
    s.runFor(1);
    return out.join(",");
  };
  t.is(machineOrder(5), machineOrder(5));
  const orders = new Set(Array.from({ length: 10 }, (_, i) => machineOrder(i + 1)));
  t.true(orders.size > 1);
});

test("Scheduler: every() repeats until cancelled; cancel() stops one-shot and periodic events", (t) => {
  const s = new Scheduler(new Rng(2));
  const ticks: number[] = [];
  const tick = s.every(10, "tick", () => ticks.push(s.now));
  const dropped = s.after(15, "dropped", () => t.fail("a cancelled event ran"));
  s.cancel(dropped);
  s.cancel(dropped);
  s.runFor(55);
  t.deepEqual(ticks, [10, 20, 30, 40, 50]);
  s.cancel(tick);
  s.runFor(100);
  t.deepEqual(ticks, [10, 20, 30, 40, 50], "no tick after cancel");
  // A periodic task may cancel itself from its own callback.
  let n = 0;
  const self = s.every(1, "self", () => {
    if (++n === 3) s.cancel(self);
  });
  s.runFor(10);
  t.is(n, 3);
  // Cancelling after the event fired is harmless.
  let fired = 0;
  const once = s.after(1, "once", () => fired++);
  s.runFor(1);
  s.cancel(once);
  t.is(fired, 1);
  for (const bad of [0, -1, NaN]) expectError(t, "EINVAL", () => s.every(bad, "bad", () => undefined), /period .* of task bad must be positive/);
});

test("Scheduler: waitUntil runs events until the condition holds and stops at that event's time", (t) => {
  const s = new Scheduler(new Rng(3));
  let done = false;
  const later: string[] = [];
  let ticks = 0;
  s.after(100 * MILLISECOND, "done", () => (done = true));
  s.after(200 * MILLISECOND, "later", () => later.push("later"));
  s.every(30 * MILLISECOND, "tick", () => ticks++);
  s.waitUntil(() => done, "done");
  t.true(done);
  t.is(s.now, 100 * MILLISECOND);
  t.is(ticks, 3, "the periodic task ran at 30, 60 and 90 ms on the way");
  t.deepEqual(later, [], "events after the condition held did not run");
  t.is(s.pending, 2);
  // A condition that already holds returns at once.
  s.waitUntil(() => true, "nothing");
  t.is(s.now, 100 * MILLISECOND);
  // A one-shot event far away is worth waiting for, even past the idle limit of periodic tasks.
  let far = false;
  s.after(100 * SECOND, "far", () => (far = true));
  s.waitUntil(() => far, "far");
  t.is(s.now, 100 * MILLISECOND + 100 * SECOND);
  t.deepEqual(later, ["later"]);
});

test("Scheduler: waits that cannot finish throw EDEADLK naming what was awaited", (t) => {
  const s = new Scheduler(new Rng(4));
  expectError(t, "EDEADLK", () => s.waitUntil(() => false, "the moon to turn blue"), /deadlock: waiting for the moon to turn blue at t=0µs with nothing left to run/);

  // Only a periodic task that never makes the condition true: a deadlock after the idle limit, not a hang.
  let ticks = 0;
  s.every(SECOND, "flusher", () => ticks++);
  expectError(t, "EDEADLK", () => s.waitUntil(() => false, "writeback of inode 7"), /waiting for writeback of inode 7/);
  t.true(ticks >= 60 && ticks <= 61, `${ticks} ticks in the minute of idle time`);
  t.true(s.now >= 60 * SECOND && s.now <= 61 * SECOND);
  // With a shorter idle limit, sooner.
  const t0 = s.now;
  expectError(t, "EDEADLK", () => s.waitUntil(() => false, "short", 5 * SECOND), /waiting for short/);
  t.true(s.now - t0 <= 6 * SECOND);
});

test("Scheduler: waits nest at most MAX_WAIT_DEPTH deep", (t) => {
  t.is(MAX_WAIT_DEPTH, 8);
  const nest = (s: Scheduler, levels: number): number => {
    let deepest = 0;
    const wait = (level: number) => {
      let done = false;
      s.after(1, `level ${level}`, () => {
        if (level < levels) wait(level + 1);
        done = true;
      });
      deepest = Math.max(deepest, level);
      s.waitUntil(() => done, `level ${level}`);
    };
    wait(1);
    return deepest;
  };
  const s = new Scheduler(new Rng(5));
  t.is(nest(s, MAX_WAIT_DEPTH), MAX_WAIT_DEPTH, "MAX_WAIT_DEPTH nested waits are allowed");
  const e = t.throws(() => nest(s, MAX_WAIT_DEPTH + 1));
  t.true(isFolioError(e, "EDEADLK"));
  t.regex(e!.message, new RegExp(`waits nested ${MAX_WAIT_DEPTH} deep while waiting for level ${MAX_WAIT_DEPTH + 1}`));
  // The depth unwinds after the error: a plain wait works again.
  let ok = false;
  s.after(1, "ok", () => (ok = true));
  s.waitUntil(() => ok, "ok");
  t.true(ok);
});

test("two machines in one process share nothing", (t) => {
  const a = Machine.boot({ memory: "8MiB", seed: 1 });
  const b = Machine.boot({ memory: "8MiB", seed: 1 });
  for (const [name, token] of Object.entries(TOKENS)) {
    const x = a.container.resolve<object>(token);
    const y = b.container.resolve<object>(token);
    t.not(x, y, `${name} is a different instance in each machine`);
    t.is(a.container.resolve<object>(token), x, `${name} is resolved once per machine`);
  }
  t.is(a.container.resolve(TOKENS.Machine), a);
  t.is(a.container.resolve(TOKENS.PageAllocator), a.pages);
  t.is(a.container.resolve(TOKENS.Scheduler), a.scheduler);
  t.false(globalContainer.isRegistered(TOKENS.PageAllocator), "the global container holds no machine state");

  const before = snapshot(b);
  const f = a.folios.alloc(3, Gfp.Movable);
  a.kmem.kmalloc(100);
  a.kmem.kmalloc(1 << 20);
  a.vmalloc.vmalloc(5 * 4096);
  a.hugetlb.setPoolSize(1);
  a.memory.write(a.folios.pfn(f) * 4096, new Uint8Array(4096).fill(9));
  a.scheduler.after(10, "a only", () => undefined);
  a.rng.nextU32();
  t.notDeepEqual(a.meminfo(), before.meminfo);
  t.deepEqual(compareState(b, before), [], "b is untouched by a's allocations");
  t.is(b.scheduler.pending, 0);
  t.deepEqual(a.verify(), []);
  t.deepEqual(b.verify(), []);
  // a's draws did not advance b's generator: b continues exactly like a third, fresh machine.
  const c = Machine.boot({ memory: "8MiB", seed: 1 });
  t.deepEqual(draw(b.rng, 5), draw(c.rng, 5));
});
