import test from "ava";
import fc from "fast-check";
import assert from "node:assert/strict";
import {
  Gfp, MAX_ORDER, Machine, MemdescType, MigrateType, PAGE_SIZE, PageFlag, Stat, isFolioError,
} from "../src/index.js";
import { compareState, expectError, fillMemory, framesAreZero, snapshot, twin } from "./helpers.js";

const MEM = 16 << 20;

/** One live allocation in the test's own model. */
interface Live {
  kind: "pages" | "folio" | "kmalloc";
  pfn: number;
  order: number;
  type: MemdescType;
  ref: number;
  /** Folio handle or kmalloc address. */
  handle: number;
}

type Op =
  | { op: "alloc"; kind: Live["kind"]; order: number; gfp: number; zero: boolean; slack: number }
  | { op: "free"; pick: number };

const orderArb = fc.oneof({ arbitrary: fc.integer({ min: 0, max: 3 }), weight: 2 }, { arbitrary: fc.integer({ min: 4, max: MAX_ORDER }), weight: 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("alloc" as const),
      kind: fc.constantFrom("pages" as const, "pages" as const, "folio" as const, "kmalloc" as const),
      order: orderArb,
      gfp: fc.constantFrom(Gfp.Kernel, Gfp.Movable, Gfp.Reclaimable),
      zero: fc.boolean(),
      slack: fc.nat(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("free" as const), pick: fc.nat() }) },
);

const DIRT = new Uint8Array(PAGE_SIZE << MAX_ORDER).fill(0xa5);

/** Frees a live allocation through the call that owns it, after dirtying its frames. */
function release(m: Machine, a: Live): void {
  // Dirty the frames so a later Gfp.Zero allocation that reuses them has something to clear.
  m.memory.write(a.pfn * PAGE_SIZE, DIRT.subarray(0, PAGE_SIZE << a.order));
  if (a.kind === "pages") m.pages.freePages(a.pfn, a.order);
  else if (a.kind === "folio") m.folios.put(a.handle);
  else m.kmem.kfree(a.handle);
}

/** Checks the struct page table against the model: every modelled frame is owned as recorded, and nothing else is. */
function checkModel(m: Machine, live: Live[]): void {
  const owner = new Int32Array(m.frames).fill(-1);
  live.forEach((a, i) => {
    for (let p = a.pfn; p < a.pfn + (1 << a.order); p++) {
      assert.equal(owner[p], -1, `frame ${p} is in two live allocations`);
      owner[p] = i;
    }
  });
  for (let p = 0; p < m.frames; p++) {
    const t = m.memmap.type[p]!;
    const i = owner[p]!;
    if (i >= 0) {
      const a = live[i]!;
      assert.equal(t, a.type, `frame ${p} of live ${a.kind} allocation at ${a.pfn} has type ${t}`);
      assert.equal(m.memmap.ref[p], a.ref, `frame ${p} of live allocation at ${a.pfn} names another owner`);
      assert.equal((m.memmap.flags[p]! & PageFlag.Head) !== 0, p === a.pfn, `head flag of frame ${p}`);
    } else {
      // Frames the model does not hold are free, reserved (frame 0), or slab pages for folio descriptors.
      assert.ok(
        t === MemdescType.Buddy || t === MemdescType.PerCpu || t === MemdescType.Slab || (p === 0 && t === MemdescType.Reserved),
        `frame ${p} has type ${t} but no live allocation covers it`,
      );
    }
  }
}

test("property: random allocPages/freePages sequences keep memory consistent and restore the boot state", (t) => {
  let enomems = 0;
  let allocs = 0;
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 60, size: "max" }), (ops) => {
      const m = Machine.boot({ memory: MEM });
      const live: Live[] = [];
      for (const o of ops) {
        if (o.op === "free") {
          if (live.length === 0) continue;
          const [a] = live.splice(o.pick % live.length, 1);
          release(m, a!);
        } else {
          const gfp = o.gfp | (o.zero ? Gfp.Zero : 0);
          const before = o.kind === "pages" ? snapshot(m, false) : undefined;
          try {
            let a: Live;
            if (o.kind === "pages") {
              const ref = 1 + (o.slack % 1000);
              const pfn = m.pages.allocPages(o.order, gfp, MemdescType.PageTable, ref);
              a = { kind: "pages", pfn, order: o.order, type: MemdescType.PageTable, ref, handle: pfn };
            } else if (o.kind === "folio") {
              const h = m.folios.alloc(o.order, gfp);
              a = { kind: "folio", pfn: m.folios.pfn(h), order: o.order, type: MemdescType.Folio, ref: h, handle: h };
              assert.equal(m.folios.order(h), o.order);
              assert.equal(m.folios.refcount(h), 1);
            } else {
              // Large kmalloc: sizes in (2^(order-1), 2^order] pages need exactly `order` (order >= 4 is >= 64 KiB).
              const order = Math.max(4, o.order);
              const size = order === 4 ? PAGE_SIZE << 4 : (PAGE_SIZE << order) - (o.slack % (PAGE_SIZE << (order - 1)));
              const addr = m.kmem.kmalloc(size, o.zero);
              assert.equal(addr % PAGE_SIZE, 0);
              const pfn = addr / PAGE_SIZE;
              a = { kind: "kmalloc", pfn, order, type: MemdescType.LargeKmalloc, ref: pfn, handle: addr };
              assert.equal(m.memmap.order[pfn], order, `kmalloc(${size}) took order ${m.memmap.order[pfn]}`);
              assert.ok(m.kmem.ksize(addr) >= size);
            }
            allocs++;
            assert.ok(a.pfn >= 1 && a.pfn + (1 << a.order) <= m.frames, `allocation ${a.pfn}/${a.order} is inside memory and not frame 0`);
            assert.equal(a.pfn % (1 << a.order), 0, `buddy block ${a.pfn} is aligned to its order ${a.order}`);
            if (o.zero) assert.ok(framesAreZero(m, a.pfn, 1 << a.order), `Gfp.Zero allocation at ${a.pfn} is zeroed`);
            live.push(a);
          } catch (e) {
            if (!isFolioError(e, "ENOMEM")) throw e;
            enomems++;
            if (before) {
              // A failed allocation changes nothing, and fails only below the watermark or for want of a large enough block.
              assert.deepEqual(compareState(m, before), []);
              const free = m.pages.nrFreePages;
              assert.ok(
                free - ((1 << o.order) - 1) <= m.pages.watermarks.min || m.pages.largestFreeOrder() < o.order,
                `order-${o.order} ENOMEM with ${free} free pages and a free block of order ${m.pages.largestFreeOrder()}`,
              );
            }
          }
        }
        assert.deepEqual(m.verify(), []);
        checkModel(m, live);
      }
      while (live.length > 0) release(m, live.pop()!);
      m.slab.shrinkAll();
      m.pages.drainPerCpuLists();
      assert.deepEqual(m.verify(), []);
      const fresh = twin(m);
      assert.deepEqual(m.buddyinfo(), fresh.buddyinfo(), "free blocks per order (all migrate types) as at boot");
      assert.equal(m.pages.nrFreePages, fresh.pages.nrFreePages);
      assert.equal(m.meminfo().MemFree, fresh.meminfo().MemFree);
      assert.equal(m.meminfo().Slab, 0);
      for (let p = 1; p < m.frames; p++) assert.equal(m.memmap.type[p], MemdescType.Buddy, `frame ${p} is free again`);
    }),
    { numRuns: 100 },
  );
  // The runs must have exercised both outcomes, or the property proved little.
  t.log(`${allocs} allocations, ${enomems} ENOMEM`);
  t.true(allocs > 500, `${allocs} successful allocations`);
  t.true(enomems > 5, `${enomems} ENOMEM failures`);
});

test("ENOMEM when memory is exhausted names free pages and the watermark, and changes nothing", (t) => {
  const m = Machine.boot({ memory: "8MiB" });
  const runs = fillMemory(m);
  t.true(runs.length > 0);
  t.true(m.pages.nrFreePages <= m.pages.watermarks.low, `${m.pages.nrFreePages} pages left free`);
  for (const [order, gfp, mt] of [[0, Gfp.Kernel, "Unmovable"], [0, Gfp.Movable, "Movable"], [3, Gfp.Reclaimable, "Reclaimable"], [MAX_ORDER, Gfp.Kernel, "Unmovable"]] as const) {
    const before = snapshot(m);
    const failsBefore = m.vmstat.toObject().pgalloc_fail!;
    const msg = expectError(t, "ENOMEM", () => m.pages.allocPages(order, gfp, MemdescType.PageTable, 1), undefined, `order ${order}`);
    const parsed = /^ENOMEM: out of memory: order-(\d+) (\w+) allocation failed \((\d+) pages free, min watermark (\d+), largest free block order (-?\d+); OOM: order-\d+ request; reclaim could free nothing more: (\d+) pages on the LRU .*\)$/.exec(msg);
    t.truthy(parsed, msg);
    t.is(Number(parsed![1]), order);
    t.is(parsed![2], mt);
    t.is(Number(parsed![3]), m.pages.nrFreePages);
    t.is(Number(parsed![4]), m.pages.watermarks.min);
    t.is(Number(parsed![5]), m.pages.largestFreeOrder());
    t.is(Number(parsed![6]), 0, "nothing was reclaimable");
    t.deepEqual(compareState(m, before), [], `failed order-${order} allocation changed state`);
    t.is(m.vmstat.toObject().pgalloc_fail, failsBefore + 1, "the failure is counted");
    t.is(m.pages.tryAllocPages(order, gfp, MemdescType.PageTable, 1), -1, "tryAllocPages returns -1");
  }
  // Freeing memory makes allocation possible again.
  for (const r of runs) m.pages.freePages(r.pfn, r.order);
  t.true(m.pages.allocPages(0, Gfp.Kernel, MemdescType.PageTable, 1) > 0);
  t.deepEqual(m.verify(), []);
});

test("EINVAL for a bad order or a free memdesc type, changing nothing", (t) => {
  const m = Machine.boot({ memory: "8MiB" });
  m.pages.allocPages(2, Gfp.Kernel, MemdescType.PageTable, 7);
  for (const order of [-1, 11, 1.5, NaN, Infinity]) {
    const before = snapshot(m);
    expectError(t, "EINVAL", () => m.pages.allocPages(order, Gfp.Kernel, MemdescType.PageTable, 1), /allocation order/, `order ${order}`);
    expectError(t, "EINVAL", () => m.pages.tryAllocPages(order, Gfp.Kernel, MemdescType.PageTable, 1), /allocation order/, `try order ${order}`);
    t.deepEqual(compareState(m, before), [], `order ${order}`);
  }
  for (const type of [MemdescType.Buddy, MemdescType.PerCpu, MemdescType.Offline]) {
    const before = snapshot(m);
    expectError(t, "EINVAL", () => m.pages.allocPages(0, Gfp.Kernel, type, 0), /memdesc type/, `type ${type}`);
    t.deepEqual(compareState(m, before), [], `type ${type}`);
  }
});

test("bad frees are EINVAL and change nothing", (t) => {
  const m = Machine.boot({ memory: "8MiB" });
  const p0 = m.pages.allocPages(0, Gfp.Kernel, MemdescType.PageTable, 1);
  const p2 = m.pages.allocPages(2, Gfp.Kernel, MemdescType.PageTable, 2);
  const keep = m.pages.allocPages(3, Gfp.Kernel, MemdescType.PageTable, 3);
  m.pages.freePages(p0, 0); // to the per-CPU list
  m.pages.freePages(p2, 2); // to the buddy lists
  t.is(m.memmap.type[p0], MemdescType.PerCpu);
  t.is(m.memmap.type[p2], MemdescType.Buddy);
  const cases: [string, () => void, RegExp][] = [
    ["double free (per-CPU)", () => m.pages.freePages(p0, 0), new RegExp(`double free: frame ${p0} is already free`)],
    ["double free (buddy)", () => m.pages.freePages(p2, 2), new RegExp(`double free: frame ${p2} is already free`)],
    ["tail frame", () => m.pages.freePages(keep + 1, 0), new RegExp(`frame ${keep + 1} is not the first frame of a page allocation`)],
    ["tail frame at the right order", () => m.pages.freePages(keep + 4, 3), /is not the first frame/],
    ["wrong order (smaller)", () => m.pages.freePages(keep, 2), new RegExp(`frame ${keep} was allocated at order 3, not freed at order 2`)],
    ["wrong order (larger)", () => m.pages.freePages(keep, 4), /allocated at order 3, not freed at order 4/],
    ["reserved pfn 0", () => m.pages.freePages(0, 0), /frame 0 is not the first frame of a page allocation \(it is reserved\)/],
    ["pfn = frames", () => m.pages.freePages(m.frames, 0), new RegExp(`pfn ${m.frames} is not a frame of this machine`)],
    ["pfn -1", () => m.pages.freePages(-1, 0), /pfn -1 is not a frame/],
    ["pfn 1.5", () => m.pages.freePages(1.5, 0), /pfn 1.5 is not a frame/],
    ["pfn NaN", () => m.pages.freePages(NaN, 0), /pfn NaN is not a frame/],
  ];
  for (const [what, fn, re] of cases) {
    const before = snapshot(m);
    expectError(t, "EINVAL", fn, re, what);
    t.deepEqual(compareState(m, before), [], what);
  }
  // The allocation the bad frees aimed at is still intact and frees correctly.
  m.pages.freePages(keep, 3);
  m.pages.drainPerCpuLists();
  t.deepEqual(m.buddyinfo(), twin(m).buddyinfo());
  t.deepEqual(m.verify(), []);
});

test("Gfp.Zero hands out zeroed frames; without it the old contents remain", (t) => {
  const m = Machine.boot({ memory: "8MiB" });
  // A dirtied page, freed and taken again: the per-CPU list is a stack, so the same frame comes back.
  const pfn = m.pages.allocPages(0, Gfp.Kernel, MemdescType.PageTable, 1);
  m.memory.write(pfn * PAGE_SIZE, new Uint8Array(PAGE_SIZE).fill(0xff));
  m.pages.freePages(pfn, 0);
  const again = m.pages.allocPages(0, Gfp.Kernel, MemdescType.PageTable, 1);
  t.is(again, pfn, "LIFO per-CPU list returns the frame just freed");
  t.false(framesAreZero(m, again, 1), "without Gfp.Zero the dirt is still there");
  m.pages.freePages(again, 0);
  const zeroed = m.pages.allocPages(0, Gfp.Kernel | Gfp.Zero, MemdescType.PageTable, 1);
  t.is(zeroed, pfn);
  t.true(framesAreZero(m, zeroed, 1), "Gfp.Zero cleared the frame");
  m.pages.freePages(zeroed, 0);

  // Larger orders come from the buddy lists: dirty every free frame, then allocate.
  const dirt = new Uint8Array(m.memory.bytes - PAGE_SIZE).fill(0x5a);
  m.memory.write(PAGE_SIZE, dirt);
  const plain = m.pages.allocPages(3, Gfp.Kernel, MemdescType.PageTable, 1);
  t.false(framesAreZero(m, plain, 8));
  const z = m.pages.allocPages(3, Gfp.Movable | Gfp.Zero, MemdescType.PageTable, 1);
  t.true(framesAreZero(m, z, 8));
  const f = m.folios.alloc(4, Gfp.Movable | Gfp.Zero);
  t.true(framesAreZero(m, m.folios.pfn(f), 16));
  t.deepEqual(m.verify(), []);
});

test("unmovable allocations steal from movable pageblocks and claim them", (t) => {
  const m = Machine.boot({ memory: MEM });
  const boot = m.pagetypeinfo();
  t.is(boot.pageblocks.Movable, m.pages.pageblocks, "every pageblock starts movable");
  t.is(boot.pageblocks.Unmovable, 0);
  t.is(boot.freeBlocks.Unmovable!.reduce((a, b) => a + b, 0), 0, "no unmovable free blocks at boot");
  t.is(m.vmstat.toObject().pageblock_claimed, 0);

  const taken: number[] = [];
  for (let i = 0; i < 40; i++) taken.push(m.pages.allocPages(0, Gfp.Kernel, MemdescType.PageTable, 1));
  for (let i = 0; i < 4; i++) taken.push(m.pages.allocPages(1, Gfp.Reclaimable, MemdescType.PageTable, 1));
  const info = m.pagetypeinfo();
  const v = m.vmstat.toObject();
  t.true(info.pageblocks.Unmovable! > 0, `pageblocks: ${JSON.stringify(info.pageblocks)}`);
  t.true(info.pageblocks.Reclaimable! > 0, `pageblocks: ${JSON.stringify(info.pageblocks)}`);
  t.is(info.pageblocks.Unmovable! + info.pageblocks.Movable! + info.pageblocks.Reclaimable! + info.pageblocks.Isolate!, m.pages.pageblocks);
  t.true(v.pageblock_claimed! > 0);
  t.true(v.pgalloc_fallback! > 0);
  // Every unmovable allocation lies in a pageblock now claimed for unmovable memory.
  for (const pfn of taken.slice(0, 40)) t.is(m.pages.pageblockMigrateType(pfn), MigrateType.Unmovable, `pageblock of ${pfn}`);
  // The rest of a claimed pageblock was moved to the unmovable lists.
  t.true(info.freeBlocks.Unmovable!.reduce((a, b) => a + b, 0) > 0);
  t.deepEqual(m.verify(), []);
});

test("verify notices a corrupted struct page table", (t) => {
  const m = Machine.boot({ memory: "4MiB" });
  const pfn = m.pages.allocPages(2, Gfp.Kernel, MemdescType.PageTable, 1);
  t.deepEqual(m.verify(), []);
  m.memmap.ref[pfn + 1] = 99;
  t.true(m.verify().some((p) => p.includes(`frame ${pfn + 1} of the allocation at ${pfn} names a different owner`)));
  m.memmap.ref[pfn + 1] = 1;
  m.vmstat.stat[Stat.FreePages]!++;
  t.true(m.verify().some((p) => p.startsWith("nr_free_pages is")));
  m.vmstat.stat[Stat.FreePages]!--;
  m.memmap.flags[pfn]! &= ~PageFlag.Head;
  t.true(m.verify().some((p) => p.includes("belongs to no allocation")));
  m.memmap.flags[pfn]! |= PageFlag.Head;
  t.deepEqual(m.verify(), []);
});

test("watermarks are whole numbers of pages with min < low < high", (t) => {
  for (const memory of ["1MiB", "4MiB", "8MiB", "12MiB", "16MiB", "100MiB", "256MiB", "1GiB"]) {
    const m = Machine.boot({ memory });
    const { min, low, high } = m.pages.watermarks;
    t.true(Number.isInteger(min) && Number.isInteger(low) && Number.isInteger(high), `${memory}: ${min}/${low}/${high}`);
    t.true(min > 0 && min < low && low < high, `${memory}: ${min}/${low}/${high}`);
    t.true(min <= m.frames / 8, `${memory}: min ${min} is at most an eighth of memory`);
  }
  // The override is taken as given.
  t.is(Machine.boot({ memory: "8MiB", minFreePages: 40 }).pages.watermarks.min, 40);
});
