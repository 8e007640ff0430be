import test from "ava";
import {
  Gfp, MIGRATE_TYPE_NAMES, Machine, MemdescType, PAGE_SIZE, PageOpResult, pfnOf, type FrameDescription, type PageOwner,
} from "../src/index.js";
import { compareState, expectError, snapshot } from "./helpers.js";

function owner(label: string): PageOwner {
  return { label, dirty: () => PageOpResult.Done, migrate: () => PageOpResult.Busy, release: () => PageOpResult.Busy };
}

/** What the test expects `describe(pfn)` to say, derived from the allocators' records. */
type Check = (d: FrameDescription) => string | undefined;

test("describe agrees with the allocators' records for every frame after a mixed workload", (t) => {
  const m = Machine.boot({ memory: "16MiB", hugePages: 2 });
  const fileA = m.owners.register(owner("inode 3 on fs-test"));
  const anon = m.owners.register(owner("anon of pid 42"));

  // The workload: folios with and without owners, slab objects, vmalloc, hugetlb, large kmalloc, and some frees.
  const folios = [
    { h: m.folios.alloc(0, Gfp.Movable, fileA, 0), label: "inode 3 on fs-test", index: 0 },
    { h: m.folios.alloc(2, Gfp.Movable, fileA, 4), label: "inode 3 on fs-test", index: 4 },
    { h: m.folios.alloc(4, Gfp.Movable, anon, 16), label: "anon of pid 42", index: 16 },
    { h: m.folios.alloc(1, Gfp.Movable), label: undefined, index: 0 },
  ];
  const dropped = m.folios.alloc(3, Gfp.Movable, fileA, 64);
  const objects = [32, 32, 500, 3000, 20000, 20000, 40000].map((size) => ({ size, addr: m.kmem.kmalloc(size) }));
  const large = [100_000, 1 << 20].map((size) => ({ size, addr: m.kmem.kmalloc(size) }));
  const areas = [3, 17].map((n) => m.vmalloc.vmalloc(n * PAGE_SIZE));
  const huge = m.hugetlb.alloc(undefined, anon, 512);
  const tmp = [m.kmem.kmalloc(70_000), m.kmem.kmalloc(64), m.vmalloc.vmalloc(2 * PAGE_SIZE)];
  m.kmem.kfree(tmp[0]!);
  m.kmem.kfree(tmp[1]!);
  m.vmalloc.vfree(tmp[2]!);
  m.folios.put(dropped);
  t.deepEqual(m.verify(), []);

  const expect = new Map<number, { what: string; check: Check }>();
  const claim = (pfn: number, what: string, check: Check) => {
    const prev = expect.get(pfn);
    if (prev) t.fail(`frame ${pfn} claimed by both ${prev.what} and ${what}`);
    expect.set(pfn, { what, check });
  };
  const hex = (n: number) => `0x${n.toString(16)}`;

  claim(0, "reserved frame 0", (d) => (d.type === "reserved" && d.text === "reserved: never handed to the allocator" ? undefined : "frame 0"));
  m.pages.forEachFreeBlock((head, order) => {
    for (let p = head; p < head + (1 << order); p++) {
      const mt = MIGRATE_TYPE_NAMES[m.pages.pageblockMigrateType(p)];
      const text = `free: page ${p - head} of a free order-${order} block at pfn ${head} (${mt} pageblock)`;
      claim(p, `free block ${head}/${order}`, (d) => (d.type === "buddy" && d.text === text ? undefined : `want "${text}"`));
    }
  });
  m.pages.forEachPerCpuPage((p) => {
    const mt = MIGRATE_TYPE_NAMES[m.pages.pageblockMigrateType(p)];
    claim(p, "per-CPU page", (d) => (d.type === "percpu" && d.text === `free: on the per-CPU list (${mt} pageblock)` ? undefined : "per-CPU"));
  });
  for (const f of folios) {
    const head = m.folios.pfn(f.h);
    const order = m.folios.order(f.h);
    const what = order > 0 ? `order-${order} folio` : "folio";
    for (let p = head; p < head + (1 << order); p++) {
      const text = f.label ? `page ${p - head} of ${what} at index ${f.index} of ${f.label}` : `page ${p - head} of ${what} (no owner)`;
      claim(p, `folio ${f.h}`, (d) =>
        d.type === "folio" && d.folio?.handle === f.h && d.folio.pageInFolio === p - head && d.owner === f.label && d.text === text ? undefined : `want "${text}"`);
    }
  }
  let poolFree = 0;
  for (let p = 0; p < m.frames; p++) {
    if (m.memmap.type[p] !== MemdescType.Hugetlb) continue;
    const h = m.folios.fromPfn(p);
    const head = m.folios.pfn(h);
    if (h === huge) {
      const text = `page ${p - head} of huge page at index 512 of anon of pid 42, hugetlb`;
      claim(p, "in-use huge page", (d) => (d.type === "hugetlb" && d.folio?.handle === huge && d.owner === "anon of pid 42" && d.text === text ? undefined : `want "${text}"`));
    } else {
      if (p === head) poolFree++;
      const text = `page ${p - head} of huge page (free in the hugetlb pool), hugetlb`;
      claim(p, "pool huge page", (d) => (d.type === "hugetlb" && d.folio?.refcount === 0 && d.text === text ? undefined : `want "${text}"`));
    }
  }
  t.is(poolFree, m.hugetlb.free);
  for (const addr of areas) {
    const h = m.memmap.ref[m.vmalloc.toPfn(addr)]!;
    const frames = m.vmalloc.framesOf(h);
    frames.forEach((p, i) => {
      const text = `vmalloc: page ${i} of ${frames.length} of the area at ${hex(addr)}`;
      claim(p, `vmalloc area ${hex(addr)}`, (d) => (d.type === "vmalloc" && d.owner === `vmalloc area ${hex(addr)}` && d.text === text ? undefined : `want "${text}"`));
    });
  }
  for (const { size, addr } of large) {
    const bytes = m.kmem.ksize(addr);
    t.true(bytes >= size);
    for (let i = 0; i < bytes / PAGE_SIZE; i++) {
      const text = `large kmalloc: page ${i} of ${bytes} bytes at physical ${hex(addr)}`;
      claim(pfnOf(addr) + i, `kmalloc(${size})`, (d) => (d.type === "large-kmalloc" && d.text === text ? undefined : `want "${text}"`));
    }
  }
  // Every other frame must be slab memory, and say so consistently with its slab descriptor.
  const slabFrames: number[] = [];
  for (let p = 0; p < m.frames; p++) {
    if (expect.has(p)) continue;
    slabFrames.push(p);
    const info = m.memmap.type[p] === MemdescType.Slab ? m.slab.slabInfo(m.memmap.ref[p]!) : undefined;
    claim(p, "slab page", (d) => {
      if (!info) return `type ${d.type} is not one the test accounted for`;
      const c = info.cache;
      const article = info.state === "active" ? "an" : "a";
      const text = `slab: page ${p - info.pfn} of ${article} ${info.state} slab of cache ${c.name} (${info.inUse}/${c.objectsPerSlab} objects of ${c.size} bytes in use)`;
      return d.type === "slab" && d.owner === `slab cache ${c.name}` && d.text === text ? undefined : `want "${text}"`;
    });
  }
  t.is(slabFrames.length * 4, m.meminfo().Slab, "the remaining frames are exactly the slab pages meminfo counts");
  // Each kmalloc object's every byte lies in frames that name its cache.
  for (const { size, addr } of objects) {
    const name = m.slab.cacheOf(addr).name;
    for (let p = pfnOf(addr); p <= pfnOf(addr + size - 1); p++) t.is(m.describe(p).owner, `slab cache ${name}`, `kmalloc(${size}) frame ${p}`);
  }

  t.is(expect.size, m.frames, "every frame has an expectation");
  const before = snapshot(m);
  const types = new Set<string>();
  for (let p = 0; p < m.frames; p++) {
    const d = m.describe(p);
    types.add(d.type);
    t.is(d.pfn, p);
    const problem = expect.get(p)!.check(d);
    if (problem) t.fail(`frame ${p} (${expect.get(p)!.what}): got "${d.text}", ${problem}`);
  }
  t.deepEqual([...types].sort(), ["buddy", "folio", "hugetlb", "large-kmalloc", "percpu", "reserved", "slab", "vmalloc"], "the workload left every kind of frame");
  t.deepEqual(compareState(m, before), [], "describe changes nothing");
});

test("describe reads head and buddy flags from the struct page", (t) => {
  const m = Machine.boot({ memory: "4MiB" });
  const h = m.folios.alloc(2, Gfp.Movable);
  const head = m.folios.pfn(h);
  t.deepEqual(m.describe(head).pageFlags, ["head"]);
  t.deepEqual(m.describe(head + 1).pageFlags, []);
  m.folios.put(h);
  m.pages.drainPerCpuLists();
  const free = m.pages.freeBlockHead(head);
  t.true(free >= 0 && free <= head);
  t.deepEqual(m.describe(free).pageFlags, ["buddy"]);
});

test("describe of a pfn that is not a frame is EINVAL", (t) => {
  const m = Machine.boot({ memory: "4MiB" });
  for (const bad of [-1, m.frames, m.frames + 100, 1.5, NaN, Infinity]) {
    expectError(t, "EINVAL", () => m.describe(bad), new RegExp(`pfn ${String(bad)} is not a frame of this machine \\(0\\.\\.${m.frames - 1}\\)`), String(bad));
  }
  expectError(t, "EINVAL", () => m.describe("3" as unknown as number), /is not a frame/);
  t.is(m.describe(m.frames - 1).pfn, m.frames - 1);
});
