import test from "ava";
import fc from "fast-check";
import assert from "node:assert/strict";
import { Gfp, KMALLOC_MAX_SLAB, KMALLOC_SIZES, Machine, MemdescType, PAGE_SIZE, isFolioError, pfnOf } from "../src/index.js";
import { checkPattern, compareState, expectError, fillMemory, snapshot, twin, writePattern } from "./helpers.js";

/** What ksize must be for a request of `size` bytes: the smallest size class, or the page run. */
function expectedKsize(size: number): number {
  if (size < KMALLOC_MAX_SLAB) return KMALLOC_SIZES.find((c) => c >= size)!;
  return PAGE_SIZE << Math.ceil(Math.log2(size / PAGE_SIZE));
}

/** Frees slab caches and per-CPU pages, so free memory can be compared with a fresh machine's. */
function settle(m: Machine): void {
  m.slab.shrinkAll();
  m.pages.drainPerCpuLists();
}

test("kmalloc/kfree: a caller cannot tell slab-served from page-served memory", (t) => {
  const m = Machine.boot({ memory: "16MiB" });
  const sizes = [1, 8, 64, 65535, 65536, 65537, 1 << 20];
  const live = sizes.map((size, i) => {
    const addr = m.kmem.kmalloc(size);
    t.is(typeof addr, "number");
    t.true(Number.isInteger(addr) && addr > 0 && addr + size <= m.memory.bytes, `kmalloc(${size}) = ${addr}`);
    t.is(addr % 8, 0, "8-byte aligned");
    t.true(m.kmem.ksize(addr) >= size);
    t.is(m.kmem.ksize(addr), expectedKsize(size), `ksize of kmalloc(${size})`);
    writePattern(m, addr, size, i + 1);
    return { size, addr, seed: i + 1 };
  });
  // Every allocation still holds its own bytes: none overlaps another or the allocators' metadata.
  for (const a of live) t.true(checkPattern(m, a.addr, a.size, a.seed), `contents of kmalloc(${a.size})`);
  t.deepEqual(m.verify(), []);
  // The internal view differs at the boundary; the caller's did not.
  for (const a of live) {
    const d = m.describe(pfnOf(a.addr));
    if (a.size < 65536) {
      t.is(d.type, "slab", `kmalloc(${a.size})`);
      t.is(d.owner, `slab cache ${m.slab.cacheOf(a.addr).name}`);
      t.is(m.slab.cacheOf(a.addr).size, expectedKsize(a.size));
    } else {
      t.is(d.type, "large-kmalloc", `kmalloc(${a.size})`);
      t.regex(d.text, new RegExp(`^large kmalloc: page 0 of ${expectedKsize(a.size)} bytes at physical 0x${a.addr.toString(16)}$`));
    }
  }
  const meminfo = m.meminfo();
  t.is(meminfo.KmallocLarge, (65536 + 131072 + (1 << 20)) / 1024, "KmallocLarge counts the page-served sizes (65535 is slab-served)");
  for (const a of live) m.kmem.kfree(a.addr);
  t.deepEqual(m.verify(), []);
  t.is(m.meminfo().KmallocLarge, 0);
  settle(m);
  t.is(m.meminfo().MemFree, twin(m).meminfo().MemFree);
  t.deepEqual(m.buddyinfo(), twin(m).buddyinfo());
});

test("many live kmalloc allocations never overlap or clobber each other", (t) => {
  const m = Machine.boot({ memory: "64MiB", seed: 7 });
  const rng = m.rng.fork();
  const live = new Map<number, { size: number; seed: number }>();
  let seed = 1;
  const allocMany = (n: number) => {
    for (let i = 0; i < n; i++) {
      const r = rng.below(10);
      const size = r < 6 ? rng.between(1, 512) : r < 9 ? rng.between(513, 65535) : rng.between(65536, 300_000);
      const addr = m.kmem.kmalloc(size);
      t.false(live.has(addr), `address ${addr} handed out twice`);
      live.set(addr, { size, seed });
      writePattern(m, addr, size, seed++);
    }
  };
  const checkAll = () => {
    for (const [addr, a] of live) if (!checkPattern(m, addr, a.size, a.seed)) t.fail(`allocation at ${addr} of ${a.size} bytes was clobbered`);
    const sorted = [...live].sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < sorted.length; i++) {
      const [pa, prev] = sorted[i - 1]!;
      t.true(pa + prev.size <= sorted[i]![0], `[${pa}, +${prev.size}) overlaps ${sorted[i]![0]}`);
    }
    t.deepEqual(m.verify(), []);
  };
  allocMany(400);
  checkAll();
  // Free every other allocation, allocate again into the holes, and check everything again.
  let k = 0;
  for (const addr of [...live.keys()]) if (k++ % 2 === 0) {
    m.kmem.kfree(addr);
    live.delete(addr);
  }
  allocMany(300);
  checkAll();
  t.true(live.size === 500);
});

type SlabOp = { op: "alloc"; size: number; zero: boolean } | { op: "free"; pick: number };
const sizeArb = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 256 }) },
  { weight: 2, arbitrary: fc.integer({ min: 257, max: 65535 }) },
  { weight: 1, arbitrary: fc.integer({ min: 65536, max: 2 << 20 }) },
);
const slabOpArb: fc.Arbitrary<SlabOp> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant("alloc" as const), size: sizeArb, zero: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("free" as const), pick: fc.nat() }) },
);

test("property: random kmalloc/kfree sequences keep memory consistent and give all memory back", (t) => {
  let allocs = 0;
  let enomem = 0;
  fc.assert(
    fc.property(fc.array(slabOpArb, { minLength: 1, maxLength: 80, size: "max" }), (ops) => {
      const m = Machine.boot({ memory: "8MiB" });
      const live: { addr: number; size: number; seed: number }[] = [];
      ops.forEach((o, step) => {
        if (o.op === "free") {
          if (live.length === 0) return;
          const [a] = live.splice(o.pick % live.length, 1);
          assert.ok(checkPattern(m, a!.addr, a!.size, a!.seed), `contents of ${a!.size} bytes at ${a!.addr} survived until kfree`);
          m.kmem.kfree(a!.addr);
        } else {
          let addr: number;
          try {
            addr = m.kmem.kmalloc(o.size, o.zero);
          } catch (e) {
            if (!isFolioError(e, "ENOMEM")) throw e;
            enomem++;
            assert.deepEqual(m.verify(), []);
            return;
          }
          allocs++;
          assert.ok(m.kmem.ksize(addr) >= o.size);
          for (const b of live) assert.ok(addr + o.size <= b.addr || b.addr + b.size <= addr, `new [${addr}, +${o.size}) overlaps live [${b.addr}, +${b.size})`);
          if (o.zero) {
            const got = new Uint8Array(o.size);
            m.memory.read(addr, got);
            assert.ok(got.every((x) => x === 0), `kmalloc(${o.size}, zero) is zeroed`);
          }
          live.push({ addr, size: o.size, seed: step + 1 });
          writePattern(m, addr, o.size, step + 1);
        }
        assert.deepEqual(m.verify(), []);
      });
      for (const a of live) assert.ok(checkPattern(m, a.addr, a.size, a.seed), `contents at ${a.addr}`);
      for (const a of live) m.kmem.kfree(a.addr);
      assert.deepEqual(m.verify(), []);
      settle(m);
      assert.deepEqual(m.verify(), []);
      const fresh = twin(m);
      assert.equal(m.meminfo().MemFree, fresh.meminfo().MemFree);
      assert.equal(m.meminfo().Slab, 0);
      assert.equal(m.meminfo().KmallocLarge, 0);
      assert.deepEqual(m.buddyinfo(), fresh.buddyinfo());
      for (const c of m.slab.caches) assert.equal(c.inUse, 0, `cache ${c.name} has objects in use`);
    }),
    { numRuns: 80 },
  );
  t.log(`${allocs} allocations, ${enomem} ENOMEM`);
  t.true(allocs > 1000);
});

test("bad kfree and kmalloc calls are EINVAL and change nothing", (t) => {
  const m = Machine.boot({ memory: "8MiB" });
  const small = m.kmem.kmalloc(64);
  const big = m.kmem.kmalloc(200_000);
  const freed = m.kmem.kmalloc(100);
  m.kmem.kfree(freed);
  const freedBig = m.kmem.kmalloc(70_000);
  m.kmem.kfree(freedBig);
  let freePfn = -1;
  for (let p = 1; p < m.frames && freePfn < 0; p++) if (m.memmap.type[p] === MemdescType.Buddy) freePfn = p;
  const cases: [string, () => unknown, RegExp][] = [
    ["double kfree of a slab object", () => m.kmem.kfree(freed), /double free of address/],
    ["double kfree of a large allocation", () => m.kmem.kfree(freedBig), /double free|not the start of a kmalloc allocation/],
    ["kfree inside a slab object", () => m.kmem.kfree(small + 8), /is not the start of an object in slab cache kmalloc-64/],
    ["kfree inside a large allocation", () => m.kmem.kfree(big + 8), /not the start of a kmalloc allocation/],
    ["kfree of a large allocation's second page", () => m.kmem.kfree(big + PAGE_SIZE), /not the start of a kmalloc allocation/],
    ["kfree of a free page", () => m.kmem.kfree(freePfn * PAGE_SIZE), /double free: kfree of \d+, which is free memory/],
    ["kfree(0)", () => m.kmem.kfree(0), /kfree of 0: not an address of this machine/],
    ["kfree(-1)", () => m.kmem.kfree(-1), /kfree of -1: not an address/],
    ["kfree(1.5)", () => m.kmem.kfree(1.5), /kfree of 1.5: not an address/],
    ["kfree(NaN)", () => m.kmem.kfree(NaN), /not an address/],
    ["kfree past the end", () => m.kmem.kfree(m.memory.bytes), /not an address/],
    ["kmalloc(0)", () => m.kmem.kmalloc(0), /kmalloc size 0 must be a whole number/],
    ["kmalloc(-1)", () => m.kmem.kmalloc(-1), /kmalloc size -1/],
    ["kmalloc(1.5)", () => m.kmem.kmalloc(1.5), /kmalloc size 1.5/],
    ["kmalloc(NaN)", () => m.kmem.kmalloc(NaN), /kmalloc size NaN/],
    ["kmalloc(2GiB)", () => m.kmem.kmalloc(2 ** 31), /kmalloc size 2147483648/],
    ["kmalloc(8MiB)", () => m.kmem.kmalloc(8 << 20), /exceeds the largest page allocation/],
  ];
  for (const [what, fn, re] of cases) {
    const before = snapshot(m);
    expectError(t, "EINVAL", fn, re, what);
    t.deepEqual(compareState(m, before), [], what);
  }
  // The live allocations were untouched and free normally.
  m.kmem.kfree(small);
  m.kmem.kfree(big);
  t.deepEqual(m.verify(), []);
});

test("kfree refuses slab objects that kmalloc did not hand out", (t) => {
  const m = Machine.boot({ memory: "8MiB" });
  const folio = m.folios.alloc(0, Gfp.Movable);
  const vm = m.vmalloc.vmalloc(3 * PAGE_SIZE);
  const vmDesc = m.memmap.ref[m.vmalloc.toPfn(vm)]!;
  for (const [what, addr] of [["a folio descriptor", folio * 16], ["a vm area descriptor", vmDesc * 16]] as const) {
    t.is(m.memmap.type[pfnOf(addr)], MemdescType.Slab, what);
    const before = snapshot(m);
    expectError(t, "EINVAL", () => m.kmem.kfree(addr), /not a kmalloc allocation|not the start of a kmalloc allocation/, what);
    t.deepEqual(compareState(m, before), [], what);
  }
  // The descriptors are still live: a new folio does not reuse the first one's descriptor.
  const other = m.folios.alloc(0, Gfp.Movable);
  t.not(other, folio);
  t.is(m.folios.refcount(folio), 1);
  m.folios.put(other);
  m.folios.put(folio);
  m.vmalloc.vfree(vm);
  t.deepEqual(m.verify(), []);
});

test("a kmalloc that fails for lack of memory leaves the cache as it was", (t) => {
  const m = Machine.boot({ memory: "4MiB" });
  const cache = m.slab.caches.find((c) => c.name === "kmalloc-1k")!;
  // Fill the cache's active slab exactly, then exhaust memory, so the next kmalloc must grow the cache.
  const objs = [m.kmem.kmalloc(1024)];
  while (cache.inUse % cache.objectsPerSlab !== 0) objs.push(m.kmem.kmalloc(1024));
  t.is(cache.slabs, 1);
  fillMemory(m);
  const slabPfn = pfnOf(objs[0]!);
  t.regex(m.describe(slabPfn).text, /an active slab of cache kmalloc-1k \(8\/8 objects/);
  const before = snapshot(m);
  expectError(t, "ENOMEM", () => m.kmem.kmalloc(1000), /out of memory/);
  t.deepEqual(compareState(m, before), [], "failed kmalloc changed state");
  t.regex(m.describe(slabPfn).text, /an active slab/, "the full slab is still the active one");

  // Freeing an object of that slab and allocating twice must work (the second fails cleanly again).
  const freed = objs.pop()!;
  m.kmem.kfree(freed);
  t.is(cache.nrPartial, 0, "the active slab is not also on the partial list");
  if (cache.nrPartial !== 0) return; // a corrupted cache would spin forever on the next kmalloc
  const again = m.kmem.kmalloc(1024);
  t.is(again, freed, "the active slab's only free object is reused");
  expectError(t, "ENOMEM", () => m.kmem.kmalloc(1024));
  t.deepEqual(m.verify(), []);
  t.is(cache.inUse, 8);
});
