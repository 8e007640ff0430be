/**
 * Anonymous memory under pressure: without swap it is unreclaimable (and an allocation fails with
 * an OOM report that says so); with swap on a memfs-backed device, reclaim writes it out through
 * the region's `release` and faults bring it back, with the right bytes.
 */
import test from "ava";
import { FolioFlag, Machine, OutOfMemoryError, PAGE_SIZE } from "@folio/core";
import { swapOn } from "../src/index.js";

/** Page `i`'s stamp: its index and a generation, so a stale or misplaced page shows. */
function stamp(i: number, gen: number): Uint8Array {
  const b = new Uint8Array(PAGE_SIZE);
  const dv = new DataView(b.buffer);
  for (let o = 0; o < PAGE_SIZE; o += 8) {
    dv.setUint32(o, i);
    dv.setUint32(o + 4, gen * 7919 + o);
  }
  return b;
}

function check(region: { read(o: number, d: Uint8Array, off: number, n: number): void }, pages: number, gen: (i: number) => number): number {
  const got = new Uint8Array(PAGE_SIZE);
  let wrong = 0;
  for (let i = 0; i < pages; i++) {
    region.read(i * PAGE_SIZE, got, 0, PAGE_SIZE);
    const want = stamp(i, gen(i));
    if (!got.every((b, k) => b === want[k])) wrong++;
  }
  return wrong;
}

test("without swap, anonymous memory is unreclaimable: filling memory ends in an OOM report that says so", (t) => {
  const m = Machine.boot({ memory: "4MiB" });
  const region = m.anon.createRegion("test heap", 8 * 1024 * 1024);
  let err: unknown;
  let i = 0;
  try {
    for (; i < region.nrPages; i++) region.write(i * PAGE_SIZE, stamp(i, 0), 0, PAGE_SIZE);
  } catch (e) {
    err = e;
  }
  t.true(err instanceof OutOfMemoryError, String(err));
  t.regex((err as Error).message, /anonymous \(unreclaimable: no swap\)/);
  t.is((err as OutOfMemoryError).report!.counters.anon, i);
  t.is(m.reclaim.counts().lruFolios, 0, "no anonymous folio is on the LRU");
  t.is(check(region, i, () => 0), 0, "every page written before the failure reads back");
  t.deepEqual(m.verify(), []);
});

test("with swap, a region three times memory is written and read back: reclaim swaps out, faults swap in", (t) => {
  const m = Machine.boot({ memory: "4MiB" });
  const swap = swapOn(m, undefined, { size: "16MiB", model: "nvme" });
  const region = m.anon.createRegion("test heap", 12 * 1024 * 1024);
  for (let i = 0; i < region.nrPages; i++) region.write(i * PAGE_SIZE, stamp(i, 1), 0, PAGE_SIZE);
  t.is(check(region, region.nrPages, () => 1), 0, "first pass");
  // Overwrite every other page: their swap copies are stale and must be replaced.
  for (let i = 0; i < region.nrPages; i += 2) region.write(i * PAGE_SIZE, stamp(i, 2), 0, PAGE_SIZE);
  t.is(check(region, region.nrPages, (i) => (i % 2 === 0 ? 2 : 1)), 0, "after overwriting half");
  const vm = m.vmstat.toObject();
  t.true(vm.pswpout! > region.nrPages, `pswpout ${vm.pswpout}`);
  t.true(vm.pswpin! > region.nrPages / 2, `pswpin ${vm.pswpin}`);
  t.true(region.resident < m.frames && region.swapped > 0);
  t.true(swap.inUse >= region.swapped, `${swap.inUse} slots for ${region.swapped} swapped pages`);
  m.scheduler.runFor(1e9); // let writebacks in flight finish
  t.deepEqual(m.verify(), []);
  region.destroy();
  m.scheduler.runFor(1e9);
  t.is(swap.inUse, 0, "destroy returned every slot");
  t.is(m.vmstat.toObject().nr_anon_pages, 0);
  t.deepEqual(m.verify(), []);
});

test("anonymous frames describe themselves, and a swapped-in page keeps its slot until a store", (t) => {
  const m = Machine.boot({ memory: "4MiB" });
  const swap = swapOn(m);
  const region = m.anon.createRegion("heap of pid 42", 64 * PAGE_SIZE);
  for (let i = 0; i < 64; i++) region.write(i * PAGE_SIZE, stamp(i, 3), 0, PAGE_SIZE);
  // Push everything out: each pass starts writes, the next frees what they made clean.
  for (let pass = 0; pass < 10 && region.resident > 0; pass++) {
    m.reclaim.shrink(1000, true);
    m.scheduler.runFor(1e8);
  }
  t.is(region.resident, 0, "all 64 pages went to swap");
  t.is(swap.inUse, 64);
  const buf = new Uint8Array(PAGE_SIZE);
  region.read(5 * PAGE_SIZE, buf, 0, PAGE_SIZE);
  t.is(swap.inUse, 64, "a read keeps the swap copy (the swap cache)");
  region.write(5 * PAGE_SIZE, stamp(5, 4), 0, PAGE_SIZE);
  t.is(swap.inUse, 63, "a store makes it stale: the slot is freed");
  let pfn = -1;
  for (let p = 1; p < m.frames && pfn < 0; p++) {
    const f = m.folios.fromPfn(p);
    if (f && m.folios.test(f, FolioFlag.SwapBacked) && m.folios.index(f) === 5) pfn = p;
  }
  t.regex(m.describe(pfn).text, /^page 0 of folio at index 5 of heap of pid 42, .*dirty.*swapbacked/);
});

test("when swap is full, anonymous memory fails with an OOM report, not a hang", (t) => {
  const m = Machine.boot({ memory: "4MiB" });
  swapOn(m, undefined, { size: "1MiB" });
  const region = m.anon.createRegion("test heap", 16 * 1024 * 1024);
  const err = t.throws(() => {
    for (let i = 0; i < region.nrPages; i++) region.write(i * PAGE_SIZE, stamp(i, 0), 0, PAGE_SIZE);
  });
  t.true(err instanceof OutOfMemoryError, String(err));
  t.regex(err!.message, /0 swap slots free/);
});
