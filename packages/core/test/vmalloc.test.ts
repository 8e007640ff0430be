import test from "ava";
import { Gfp, Machine, MemdescType, PAGE_SIZE, PageFlag, pfnOf } from "../src/index.js";
import { compareState, expectError, fillMemory, pattern, snapshot, twin } from "./helpers.js";

const freePages = (m: Machine) => m.meminfo().MemFree / 4;
const areaOf = (m: Machine, addr: number) => m.memmap.ref[m.vmalloc.toPfn(addr)]!;

test("every frame of a vmalloc area describes the same vm area", (t) => {
  const m = Machine.boot({ memory: "16MiB" });
  const other = m.vmalloc.vmalloc(2 * PAGE_SIZE);
  const addr = m.vmalloc.vmalloc(10 * PAGE_SIZE + 100);
  t.true(addr >= other + 3 * PAGE_SIZE, "areas do not overlap (with a guard page)");
  const h = areaOf(m, addr);
  t.deepEqual(m.vmalloc.info(h), { handle: h, address: addr, nrPages: 11, kind: "vmalloc" });
  const frames = m.vmalloc.framesOf(h);
  t.is(frames.length, 11);
  t.is(new Set(frames).size, 11, "distinct frames");
  const label = `vmalloc area 0x${addr.toString(16)}`;
  frames.forEach((pfn, i) => {
    t.is(m.vmalloc.toPfn(addr + i * PAGE_SIZE + 7), pfn);
    t.is(m.memmap.type[pfn], MemdescType.Vmalloc);
    t.is(m.memmap.ref[pfn], h);
    const d = m.describe(pfn);
    t.is(d.type, "vmalloc");
    t.is(d.owner, label);
    t.is(d.text, `vmalloc: page ${i} of 11 of the area at 0x${addr.toString(16)}`);
  });
  // The other area's frames name the other area.
  for (const pfn of m.vmalloc.framesOf(areaOf(m, other))) t.is(m.describe(pfn).owner, `vmalloc area 0x${other.toString(16)}`);
  t.is(m.meminfo().VmallocUsed, 13 * 4);
  t.deepEqual(m.vmalloc.list().map((a) => a.address), [other, addr]);
  t.deepEqual(m.verify(), []);
});

test("vmalloc read/write round-trips across page boundaries and lands in the right frames", (t) => {
  const m = Machine.boot({ memory: "8MiB" });
  const addr = m.vmalloc.vmalloc(4 * PAGE_SIZE);
  const frames = m.vmalloc.framesOf(areaOf(m, addr));
  const data = pattern(2 * PAGE_SIZE + 500, 3);
  const at = addr + PAGE_SIZE - 200; // starts 200 bytes before the end of page 0, ends in page 3
  m.vmalloc.write(at, data);
  const back = new Uint8Array(data.length);
  m.vmalloc.read(at, back);
  t.deepEqual(back, data);
  // Physically, the bytes are split across frames 0..3, which need not be contiguous.
  const phys = (pfn: number, off: number, len: number) => {
    const b = new Uint8Array(len);
    m.memory.read(pfn * PAGE_SIZE + off, b);
    return b;
  };
  t.deepEqual(phys(frames[0]!, PAGE_SIZE - 200, 200), data.subarray(0, 200));
  t.deepEqual(phys(frames[1]!, 0, PAGE_SIZE), data.subarray(200, 200 + PAGE_SIZE));
  t.deepEqual(phys(frames[2]!, 0, PAGE_SIZE), data.subarray(200 + PAGE_SIZE, 200 + 2 * PAGE_SIZE));
  t.deepEqual(phys(frames[3]!, 0, 300), data.subarray(200 + 2 * PAGE_SIZE));
  // Zeroed vmalloc memory, and accesses outside the area.
  const z = m.vmalloc.vmalloc(3 * PAGE_SIZE, Gfp.Zero);
  const zb = new Uint8Array(3 * PAGE_SIZE).fill(1);
  m.vmalloc.read(z, zb);
  t.true(zb.every((b) => b === 0));
  expectError(t, "EFAULT", () => m.vmalloc.write(addr + 4 * PAGE_SIZE - 10, new Uint8Array(11)), /runs past the end of its area/);
  expectError(t, "EFAULT", () => m.vmalloc.read(addr + 4 * PAGE_SIZE, new Uint8Array(1)), /not inside a vmalloc or vmap area/, "guard page");
  expectError(t, "EFAULT", () => m.vmalloc.toPfn(addr - 1), /not inside/);
});

test("vfree returns every frame", (t) => {
  const m = Machine.boot({ memory: "8MiB" });
  // Warm the descriptor caches so the only difference vfree must undo is the area itself.
  m.vmalloc.vfree(m.vmalloc.vmalloc(300 * PAGE_SIZE));
  const before = freePages(m);
  const slabBefore = m.meminfo().Slab;
  const addr = m.vmalloc.vmalloc(300 * PAGE_SIZE);
  const frames = m.vmalloc.framesOf(areaOf(m, addr));
  t.is(freePages(m), before - 300);
  m.vmalloc.vfree(addr);
  t.is(freePages(m), before);
  t.is(m.meminfo().Slab, slabBefore);
  t.is(m.meminfo().VmallocUsed, 0);
  for (const pfn of frames) t.true(m.memmap.type[pfn] === MemdescType.Buddy || m.memmap.type[pfn] === MemdescType.PerCpu, `frame ${pfn} is free`);
  t.deepEqual(m.vmalloc.list(), []);
  t.deepEqual(m.verify(), []);
  expectError(t, "EINVAL", () => m.vmalloc.vfree(addr), /vfree of \d+: not the start of a vmalloc area/, "double vfree");
  m.slab.shrinkAll();
  m.pages.drainPerCpuLists();
  t.is(freePages(m), freePages(twin(m)));
  t.deepEqual(m.buddyinfo(), twin(m).buddyinfo());
});

test("a vmalloc that runs out of frames part way leaves nothing behind", (t) => {
  const m = Machine.boot({ memory: "8MiB" });
  // Warm the caches the failing call needs (vm area descriptor, page array), then fill memory.
  m.vmalloc.vfree(m.vmalloc.vmalloc(200 * PAGE_SIZE));
  const runs = fillMemory(m);
  // Give back some pages, so the vmalloc gets part of what it needs before it fails.
  for (const r of runs.filter((x) => x.order === 0).slice(0, 40)) m.pages.freePages(r.pfn, r.order);
  m.pages.drainPerCpuLists();
  const before = snapshot(m, false);
  const allocsBefore = m.vmstat.toObject().pgalloc!;
  expectError(t, "ENOMEM", () => m.vmalloc.vmalloc(200 * PAGE_SIZE), /out of memory/);
  t.true(m.vmstat.toObject().pgalloc! > allocsBefore, "some frames were allocated before the failure");
  t.is(freePages(m), before.meminfo.MemFree / 4, "all of them were given back");
  t.is(m.meminfo().Slab, before.meminfo.Slab);
  t.is(m.meminfo().VmallocUsed, 0);
  t.deepEqual(m.vmalloc.list(), []);
  for (let p = 0; p < m.frames; p++) if (m.memmap.type[p] === MemdescType.Vmalloc) t.fail(`frame ${p} still backs a vm area`);
  t.deepEqual(m.verify(), []);
  // The frames went to the per-CPU list; once drained, the buddy lists are as before.
  m.pages.drainPerCpuLists();
  t.deepEqual(m.buddyinfo(), before.buddyinfo);
  t.deepEqual(m.slab.slabinfo(), before.slabinfo);
});

test("vmap refuses every frame it cannot hold a reference on, naming the reason", (t) => {
  const m = Machine.boot({ memory: "16MiB" });
  const slab = pfnOf(m.kmem.kmalloc(128));
  const vm = m.vmalloc.toPfn(m.vmalloc.vmalloc(2 * PAGE_SIZE));
  const large = pfnOf(m.kmem.kmalloc(1 << 20)) + 3;
  const pt = m.pages.allocPages(0, Gfp.Kernel, MemdescType.PageTable, 42);
  const folio = m.folios.alloc(0, Gfp.Movable);
  const folioPfn = m.folios.pfn(folio);
  // Free frames last, so no later allocation takes them.
  const pcp = m.pages.allocPages(0, Gfp.Kernel, MemdescType.PageTable, 1);
  m.pages.freePages(pcp, 0);
  t.is(m.memmap.type[pcp], MemdescType.PerCpu);
  let buddy = -1;
  for (let p = 1; p < m.frames && buddy < 0; p++) if (m.memmap.type[p] === MemdescType.Buddy) buddy = p;
  const cases: [string, number, string, RegExp][] = [
    ["free buddy frame", buddy, "EINVAL", new RegExp(`vmap refuses frame ${buddy} \\(buddy\\): it is free: nobody owns it`)],
    ["per-CPU free frame", pcp, "EINVAL", new RegExp(`vmap refuses frame ${pcp} \\(percpu\\): it is free`)],
    ["slab frame", slab, "EINVAL", new RegExp(`vmap refuses frame ${slab} \\(slab\\): it is slab memory`)],
    ["vmalloc frame", vm, "EINVAL", new RegExp(`vmap refuses frame ${vm} \\(vmalloc\\): it already backs a vmalloc area`)],
    ["large kmalloc frame", large, "EINVAL", new RegExp(`vmap refuses frame ${large} \\(large-kmalloc\\): it is large kmalloc memory, which has no reference count`)],
    ["page table", pt, "EINVAL", new RegExp(`vmap refuses frame ${pt} \\(pagetable\\): it is a page table`)],
    ["reserved frame 0", 0, "EINVAL", /vmap refuses frame 0 \(reserved\): it is reserved: not allocator memory/],
  ];
  for (const [what, pfn, code, re] of cases) {
    const before = snapshot(m);
    expectError(t, code as "EINVAL", () => m.vmalloc.vmap([pfn]), re, what);
    // With a good frame first, the whole call still maps nothing and takes no reference.
    expectError(t, code as "EINVAL", () => m.vmalloc.vmap([folioPfn, folioPfn, pfn]), re, `${what} after a folio frame`);
    t.is(m.folios.refcount(folio), 1, what);
    t.deepEqual(compareState(m, before), [], what);
  }
  for (const bad of [-1, m.frames, 1.5]) expectError(t, "EINVAL", () => m.vmalloc.vmap([folioPfn, bad]), /vmap frame .* is not a frame of this machine/);
  expectError(t, "EINVAL", () => m.vmalloc.vmap([]), /at least one frame/);

  // An offline (poisoned) frame is EHWPOISON. Core has no memory-failure path yet, so mark one by hand.
  m.memmap.type[pt] = MemdescType.Offline;
  m.memmap.flags[pt]! |= PageFlag.HwPoison;
  expectError(t, "EHWPOISON", () => m.vmalloc.vmap([folioPfn, pt]), new RegExp(`vmap refuses frame ${pt} \\(offline\\): it is offline after a memory error`));
  t.is(m.folios.refcount(folio), 1);
  m.memmap.type[pt] = MemdescType.PageTable;
  m.memmap.flags[pt]! &= ~PageFlag.HwPoison;
  t.deepEqual(m.vmalloc.list().length, 1, "only the vmalloc area exists");
  t.deepEqual(m.verify(), []);
});

test("vmap maps folio and hugetlb frames with one reference per page; vunmap drops them", (t) => {
  const m = Machine.boot({ memory: "32MiB", hugePages: 1 });
  const big = m.folios.alloc(2, Gfp.Movable);
  const small = m.folios.alloc(0, Gfp.Movable);
  const huge = m.hugetlb.alloc();
  const bp = m.folios.pfn(big);
  const pfns = [bp + 3, bp, m.folios.pfn(small), bp + 1, m.folios.pfn(huge) + 100];
  for (const [i, pfn] of pfns.entries()) m.memory.write(pfn * PAGE_SIZE, pattern(PAGE_SIZE, i + 10));
  const addr = m.vmalloc.vmap(pfns);
  t.is(m.folios.refcount(big), 1 + 3, "three pages of the order-2 folio are mapped");
  t.is(m.folios.refcount(small), 2);
  t.is(m.folios.refcount(huge), 2);
  t.is(m.vmstat.toObject().vmap_calls, 1);
  // A vmap area is found by address: its frames keep naming their folios, not the area.
  t.is(m.memmap.ref[m.vmalloc.toPfn(addr)], big);
  const info = m.vmalloc.list().find((a) => a.address === addr)!;
  t.like(info, { address: addr, nrPages: 5, kind: "vmap" });
  const h = info.handle;
  t.deepEqual(m.vmalloc.framesOf(h), pfns);
  // vmap does not change the frames' owner.
  t.is(m.describe(bp).type, "folio");
  t.is(m.describe(pfns[4]!).type, "hugetlb");
  // Reading through the mapping sees each frame's own bytes, in mapping order.
  const got = new Uint8Array(5 * PAGE_SIZE);
  m.vmalloc.read(addr, got);
  for (let i = 0; i < 5; i++) t.deepEqual(got.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), pattern(PAGE_SIZE, i + 10), `page ${i}`);
  t.deepEqual(m.verify(), []);

  // The mapping keeps the folios alive after their owners let go.
  m.folios.put(big);
  m.folios.put(small);
  m.folios.put(huge);
  t.is(m.folios.refcount(big), 3);
  t.is(m.describe(bp).type, "folio");
  t.is(m.hugetlb.free, 0);
  const free0 = freePages(m);
  m.vmalloc.vunmap(addr);
  t.is(freePages(m), free0 + 5, "the order-2 folio and the small one were freed");
  t.is(m.hugetlb.free, 1, "the huge page went back to its pool");
  t.deepEqual(m.vmalloc.list(), []);
  t.deepEqual(m.verify(), []);
  expectError(t, "EINVAL", () => m.vmalloc.vunmap(addr), /vunmap of \d+: not the start of a vmap area/);
});

test("vmap refuses a free hugetlb pool page, whose refcount the mapping cannot hold", (t) => {
  const m = Machine.boot({ memory: "32MiB", hugePages: 2 });
  let poolPfn = -1;
  for (let p = 0; p < m.frames && poolPfn < 0; p++) if (m.memmap.type[p] === MemdescType.Hugetlb) poolPfn = p;
  t.is(m.folios.refcount(m.folios.fromPfn(poolPfn)), 0, "free pool pages hold no reference");
  const before = snapshot(m);
  expectError(t, "EINVAL", () => m.vmalloc.vmap([poolPfn]), new RegExp(`vmap refuses frame ${poolPfn} \\(hugetlb\\): .*free`));
  t.deepEqual(compareState(m, before), []);
  t.is(m.hugetlb.free, 2);
  t.is(m.hugetlb.total, 2);
  // The pool still hands out two distinct pages and no more.
  const a = m.hugetlb.alloc();
  const b = m.hugetlb.alloc();
  t.not(a, b);
  expectError(t, "ENOMEM", () => m.hugetlb.alloc());
});

test("vfree of a vmap address and vunmap of a vmalloc address are EINVAL and change nothing", (t) => {
  const m = Machine.boot({ memory: "8MiB" });
  const f = m.folios.alloc(1, Gfp.Movable);
  const mapped = m.vmalloc.vmap([m.folios.pfn(f)]);
  const alloced = m.vmalloc.vmalloc(PAGE_SIZE);
  const cases: [string, () => void, RegExp][] = [
    ["vfree of a vmap address", () => m.vmalloc.vfree(mapped), /vfree of \d+: not the start of a vmalloc area/],
    ["vunmap of a vmalloc address", () => m.vmalloc.vunmap(alloced), /vunmap of \d+: not the start of a vmap area/],
    ["vfree inside an area", () => m.vmalloc.vfree(alloced + 8), /not the start of a vmalloc area/],
    ["vfree of a physical address", () => m.vmalloc.vfree(PAGE_SIZE), /not the start of a vmalloc area/],
    ["vunmap of 0", () => m.vmalloc.vunmap(0), /not the start of a vmap area/],
  ];
  for (const [what, fn, re] of cases) {
    const before = snapshot(m);
    expectError(t, "EINVAL", fn, re, what);
    t.deepEqual(compareState(m, before), [], what);
  }
  t.is(m.folios.refcount(f), 2);
  m.vmalloc.vunmap(mapped);
  m.vmalloc.vfree(alloced);
  t.is(m.folios.refcount(f), 1);
  for (const bad of [0, -1, 1.5, 2 ** 40]) expectError(t, "EINVAL", () => m.vmalloc.vmalloc(bad), /vmalloc size/);
  t.deepEqual(m.verify(), []);
});
