import test from "ava";
import fc from "fast-check";
import { isFolioError } from "@folio/core";
import { XA_MAX_INDEX, XArray, XaMark, xaIsValue, xaMkValue, xaToValue, type XaEntry } from "../src/index.js";

const MARKS = [XaMark.Dirty, XaMark.Writeback, XaMark.Towrite] as const;

/** The reference model: one entry per index, one set of marked indices per mark. */
class Model {
  readonly entries = new Map<number, XaEntry>();
  readonly marks = [new Set<number>(), new Set<number>(), new Set<number>()];
  /** Every index an operation or query touched, for the final sweep. */
  readonly touched = new Set<number>();

  load(i: number): XaEntry {
    return this.entries.get(i) ?? 0;
  }
  store(i: number, e: XaEntry): void {
    this.touched.add(i);
    if (e === 0) {
      this.entries.delete(i);
      for (const s of this.marks) s.delete(i);
    } else {
      this.entries.set(i, e); // replacing an entry keeps its marks
    }
  }
  firstIn(set: Iterable<number>, start: number, end: number): number {
    let best = -1;
    for (const i of set) if (i >= start && i <= end && (best < 0 || i < best)) best = i;
    return best;
  }
}

const SPECIAL = [0, 1, 62, 63, 64, 65, 4095, 4096, 4097, 262143, 262144, 2 ** 24 - 1, 2 ** 24, 2 ** 30 - 1, 2 ** 30, 2 ** 31, 2 ** 32 - 4096, 2 ** 32 - 64, 2 ** 32 - 2, XA_MAX_INDEX];
/** Indices from everywhere in [0, 2^32-1], clustered so that operations collide. */
const anIndex = fc.oneof(
  { weight: 4, arbitrary: fc.nat(300) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 2, arbitrary: fc.integer({ min: XA_MAX_INDEX - 300, max: XA_MAX_INDEX }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: XA_MAX_INDEX }) },
);
/** Pointer entries (positive, like folio handles) and value entries (negative, like shadows). */
const anEntry = fc.oneof(fc.integer({ min: 1, max: 2 ** 31 }), fc.nat(2 ** 40).map(xaMkValue));
const aMark = fc.constantFrom(...MARKS);

type Op =
  | { k: "store"; i: number; e: XaEntry }
  | { k: "range"; i: number; order: number; e: XaEntry }
  | { k: "eraseRange"; i: number; order: number }
  | { k: "erase"; i: number; pick: number; usePick: boolean }
  | { k: "setMark"; pick: number; m: XaMark }
  | { k: "clearMark"; i: number; pick: number; usePick: boolean; m: XaMark }
  | { k: "copyMarks"; a: number; b: number; from: XaMark; to: XaMark }
  | { k: "query"; a: number; b: number; m: XaMark };

const anOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant("store" as const), i: anIndex, e: anEntry }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("range" as const), i: anIndex, order: fc.integer({ min: 1, max: 8 }), e: anEntry }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("eraseRange" as const), i: anIndex, order: fc.integer({ min: 0, max: 8 }) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant("erase" as const), i: anIndex, pick: fc.nat(), usePick: fc.boolean() }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant("setMark" as const), pick: fc.nat(), m: aMark }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("clearMark" as const), i: anIndex, pick: fc.nat(), usePick: fc.boolean(), m: aMark }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant("copyMarks" as const), a: anIndex, b: anIndex, from: aMark, to: aMark }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant("query" as const), a: anIndex, b: anIndex, m: aMark }) },
);

/** The i-th present index of the model (in insertion order), or -1 when it is empty. */
function picked(model: Model, pick: number): number {
  if (model.entries.size === 0) return -1;
  let n = pick % model.entries.size;
  for (const i of model.entries.keys()) if (n-- === 0) return i;
  return -1;
}

function expectEinval(fn: () => unknown, what: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  if (!isFolioError(thrown, "EINVAL")) throw new Error(`${what}: expected EINVAL, got ${thrown === undefined ? "no error" : String(thrown)}`);
}

function eqOrThrow<T>(got: T, want: T, what: string): void {
  if (got !== want) throw new Error(`${what}: got ${String(got)}, want ${String(want)}`);
}

/** Compares findPresent/findMarked for [a, b] (in either order) with the model. */
function checkQueries(xa: XArray, model: Model, a: number, b: number): void {
  const [start, end] = a <= b ? [a, b] : [b, a];
  eqOrThrow(xa.findPresent(start, end), model.firstIn(model.entries.keys(), start, end), `findPresent(${start}, ${end})`);
  eqOrThrow(xa.findPresent(start), model.firstIn(model.entries.keys(), start, XA_MAX_INDEX), `findPresent(${start})`);
  for (const m of MARKS) {
    eqOrThrow(xa.findMarked(start, m, end), model.firstIn(model.marks[m]!, start, end), `findMarked(${start}, ${m}, ${end})`);
    eqOrThrow(xa.findMarked(start, m), model.firstIn(model.marks[m]!, start, XA_MAX_INDEX), `findMarked(${start}, ${m})`);
  }
  // An inverted range finds nothing.
  if (start < end) eqOrThrow(xa.findPresent(end, start), -1, `findPresent(${end}, ${start})`);
}

/** Checks every touched index and complete walks of the present and marked entries. */
function checkAll(xa: XArray, model: Model): void {
  eqOrThrow(xa.size, model.entries.size, "size");
  eqOrThrow(xa.nodes > 0, model.entries.size > 0, "nodes > 0 iff entries exist");
  for (const i of model.touched) {
    eqOrThrow(xa.load(i), model.load(i), `load(${i})`);
    for (const m of MARKS) eqOrThrow(xa.getMark(i, m), model.marks[m]!.has(i), `getMark(${i}, ${m})`);
  }
  for (const m of MARKS) eqOrThrow(xa.anyMarked(m), model.marks[m]!.size > 0, `anyMarked(${m})`);
  // Walks: findPresent from each hit + 1 yields exactly the model's indices, in order; same per mark.
  const walk = (find: (from: number) => number) => {
    const out: number[] = [];
    for (let i = find(0); i >= 0; i = i < XA_MAX_INDEX ? find(i + 1) : -1) out.push(i);
    return out.join(",");
  };
  const sorted = (s: Iterable<number>) => [...s].sort((x, y) => x - y).join(",");
  eqOrThrow(walk((from) => xa.findPresent(from)), sorted(model.entries.keys()), "findPresent walk");
  for (const m of MARKS) eqOrThrow(walk((from) => xa.findMarked(from, m)), sorted(model.marks[m]!), `findMarked walk ${m}`);
  const visited: number[] = [];
  xa.forEach(0, XA_MAX_INDEX, (i, e) => void (visited.push(i), eqOrThrow(e, model.load(i), `forEach entry at ${i}`)));
  eqOrThrow(visited.join(","), sorted(model.entries.keys()), "forEach");
}

function run(ops: Op[]): void {
  const xa = new XArray();
  const model = new Model();
  for (const op of ops) {
    switch (op.k) {
      case "store":
        eqOrThrow(xa.store(op.i, op.e), model.load(op.i), `store(${op.i}) returns the old entry`);
        model.store(op.i, op.e);
        break;
      case "range":
      case "eraseRange": {
        const nr = 2 ** op.order;
        const first = op.i - (op.i % nr); // aligned, and first + nr - 1 ≤ 2^32 - 1
        const e = op.k === "range" ? op.e : 0;
        eqOrThrow(xa.storeRange(first, nr, e), model.load(first), `storeRange(${first}, ${nr}) returns the old entry`);
        for (let i = first; i < first + nr; i++) model.store(i, e);
        break;
      }
      case "erase": {
        const i = op.usePick && model.entries.size > 0 ? picked(model, op.pick) : op.i;
        eqOrThrow(xa.erase(i), model.load(i), `erase(${i}) returns the old entry`);
        model.store(i, 0);
        break;
      }
      case "setMark": {
        const i = picked(model, op.pick);
        if (i < 0) {
          expectEinval(() => xa.setMark(op.pick % 1000, op.m), "setMark in an empty array");
          break;
        }
        xa.setMark(i, op.m);
        model.marks[op.m]!.add(i);
        model.touched.add(i);
        break;
      }
      case "clearMark": {
        const i = op.usePick && model.entries.size > 0 ? picked(model, op.pick) : op.i;
        xa.clearMark(i, op.m);
        model.marks[op.m]!.delete(i);
        model.touched.add(i);
        break;
      }
      case "copyMarks": {
        const [start, end] = op.a <= op.b ? [op.a, op.b] : [op.b, op.a];
        const src = [...model.marks[op.from]!].filter((i) => i >= start && i <= end);
        eqOrThrow(xa.copyMarks(start, end, op.from, op.to), src.length, `copyMarks(${start}, ${end}) count`);
        for (const i of src) model.marks[op.to]!.add(i);
        break;
      }
      case "query":
        checkQueries(xa, model, op.a, op.b);
        for (const m of MARKS) eqOrThrow(xa.anyMarked(m), model.marks[m]!.size > 0, `anyMarked(${m})`);
        break;
    }
    eqOrThrow(xa.size, model.entries.size, `size after ${op.k}`);
    eqOrThrow(xa.nodes > 0, model.entries.size > 0, `nodes > 0 iff entries exist, after ${op.k}`);
  }
  checkAll(xa, model);
  // Random queries around every present and marked index.
  for (const i of [...model.entries.keys()].slice(0, 50)) checkQueries(xa, model, Math.max(0, i - 1), Math.min(XA_MAX_INDEX, i + 70));
  // Erase everything, one index at a time: the tree is freed down to no node at all.
  for (const i of [...model.entries.keys()]) {
    eqOrThrow(xa.erase(i), model.load(i), `final erase(${i})`);
    model.store(i, 0);
  }
  checkAll(xa, model);
  eqOrThrow(xa.nodes, 0, "nodes after erasing everything");
  eqOrThrow(xa.bytes, 0, "bytes after erasing everything");
}

test("property: XArray behaves as a map with one index set per mark, over the whole 32-bit index space", (t) => {
  // run() throws on the first disagreement with the model; fast-check shrinks it to a minimal sequence.
  t.notThrows(() => fc.assert(fc.property(fc.array(anOp, { minLength: 1, maxLength: 80 }), run), { numRuns: 1000, seed: 20240601 }));
});

test("value entries round-trip and are told apart from pointer entries", (t) => {
  for (const v of [0, 1, 12345, 2 ** 40, 2 ** 52 - 1]) {
    const e = xaMkValue(v);
    t.true(xaIsValue(e), `${v}`);
    t.is(xaToValue(e), v);
  }
  t.false(xaIsValue(1));
  const xa = new XArray();
  xa.store(7, xaMkValue(0));
  t.is(xa.load(7), -1);
  t.is(xa.size, 1);
  t.is(xa.findPresent(0), 7);
});

test("setMark on an empty index is EINVAL and changes nothing", (t) => {
  const xa = new XArray();
  t.true(isFolioError(t.throws(() => xa.setMark(5, XaMark.Dirty)), "EINVAL"));
  xa.store(10, 99);
  xa.store(XA_MAX_INDEX, 98);
  for (const i of [9, 11, 64, 4096, XA_MAX_INDEX - 1]) {
    t.true(isFolioError(t.throws(() => xa.setMark(i, XaMark.Dirty)), "EINVAL"), `index ${i}`);
  }
  xa.erase(10);
  t.true(isFolioError(t.throws(() => xa.setMark(10, XaMark.Writeback)), "EINVAL"), "an erased index");
  t.false(xa.anyMarked(XaMark.Dirty));
  t.false(xa.anyMarked(XaMark.Writeback));
  t.is(xa.findMarked(0, XaMark.Dirty), -1);
});

test("indices outside [0, 2^32-1] or not integers are EINVAL for every update, and change nothing", (t) => {
  const xa = new XArray();
  xa.store(1, 11);
  xa.store(XA_MAX_INDEX, 12);
  xa.setMark(1, XaMark.Towrite);
  xa.setMark(XA_MAX_INDEX, XaMark.Dirty);
  const nodes = xa.nodes;
  for (const bad of [-1, 2 ** 32, 1.5, NaN, Infinity]) {
    const ops: [string, () => unknown][] = [
      ["store", () => xa.store(bad, 5)],
      ["erase", () => xa.erase(bad)],
      ["storeRange", () => xa.storeRange(bad, 1, 5)],
      ["setMark", () => xa.setMark(bad, XaMark.Writeback)],
      ["clearMark", () => xa.clearMark(bad, XaMark.Dirty)],
      ["getMark", () => xa.getMark(bad, XaMark.Dirty)],
    ];
    for (const [name, op] of ops) t.true(isFolioError(t.throws(op), "EINVAL"), `${name}(${bad})`);
  }
  // A range whose last index is past the end.
  t.true(isFolioError(t.throws(() => xa.storeRange(XA_MAX_INDEX - 1, 4, 5)), "EINVAL"));
  t.true(isFolioError(t.throws(() => xa.storeRange(XA_MAX_INDEX, 2, 0)), "EINVAL"));
  // Nothing changed: -1 must not have aliased to 2^32-1, nor 1.5 to 1.
  t.is(xa.size, 2);
  t.is(xa.nodes, nodes);
  t.is(xa.load(1), 11);
  t.is(xa.load(XA_MAX_INDEX), 12);
  t.is(xa.load(XA_MAX_INDEX - 1), 0);
  t.true(xa.getMark(XA_MAX_INDEX, XaMark.Dirty), "clearMark(-1) left the mark of 2^32-1 alone");
  t.false(xa.getMark(XA_MAX_INDEX, XaMark.Writeback), "setMark(-1) did not mark 2^32-1");
  t.false(xa.getMark(1, XaMark.Writeback), "setMark(1.5) did not mark 1");
  t.true(xa.getMark(1, XaMark.Towrite));
});

test("copyMarks copies exactly the marked entries of the range, and counts them", (t) => {
  const xa = new XArray();
  const present = [0, 3, 63, 64, 100, 4095, 4096, 5000, 2 ** 31, XA_MAX_INDEX];
  for (const i of present) xa.store(i, i + 1);
  xa.storeRange(512, 64, 777); // a multi-index entry: marks live on the indices they are set on
  const dirty = [3, 64, 100, 512, 4096, 5000, 2 ** 31, XA_MAX_INDEX];
  for (const i of dirty) xa.setMark(i, XaMark.Dirty);
  xa.setMark(0, XaMark.Towrite); // already towrite, outside the range
  t.is(xa.copyMarks(64, 5000, XaMark.Dirty, XaMark.Towrite), 5);
  const towrite: number[] = [];
  for (let i = xa.findMarked(0, XaMark.Towrite); i >= 0; i = i < XA_MAX_INDEX ? xa.findMarked(i + 1, XaMark.Towrite) : -1) towrite.push(i);
  t.deepEqual(towrite, [0, 64, 100, 512, 4096, 5000]);
  // The source marks are untouched and nothing else got the target mark.
  for (const i of dirty) t.true(xa.getMark(i, XaMark.Dirty));
  t.false(xa.getMark(513, XaMark.Towrite));
  t.false(xa.anyMarked(XaMark.Writeback));
  // The high end of the index space, and an empty range.
  t.is(xa.copyMarks(2 ** 31, XA_MAX_INDEX, XaMark.Dirty, XaMark.Writeback), 2);
  t.is(xa.findMarked(0, XaMark.Writeback), 2 ** 31);
  t.is(xa.findMarked(2 ** 31 + 1, XaMark.Writeback), XA_MAX_INDEX);
  t.is(xa.copyMarks(6000, 7000, XaMark.Dirty, XaMark.Writeback), 0);
  t.is(xa.copyMarks(10, 5, XaMark.Dirty, XaMark.Writeback), 0);
});

test("erasing a marked entry clears its mark summaries; the tree shrinks to nothing", (t) => {
  const xa = new XArray();
  xa.store(XA_MAX_INDEX, 1);
  xa.store(0, 2);
  xa.setMark(XA_MAX_INDEX, XaMark.Writeback);
  t.true(xa.nodes >= 6, `a 32-bit index needs a 6-level tree (${xa.nodes} nodes)`);
  t.is(xa.findMarked(0, XaMark.Writeback), XA_MAX_INDEX);
  xa.erase(XA_MAX_INDEX);
  t.false(xa.anyMarked(XaMark.Writeback));
  t.is(xa.findMarked(0, XaMark.Writeback), -1);
  t.is(xa.findPresent(1), -1);
  // Re-storing at the erased index does not resurrect the mark.
  xa.store(XA_MAX_INDEX, 3);
  t.false(xa.getMark(XA_MAX_INDEX, XaMark.Writeback));
  xa.erase(XA_MAX_INDEX);
  xa.erase(0);
  t.is(xa.nodes, 0);
  t.is(xa.size, 0);
  t.is(xa.load(0), 0);
});
