import test from "ava";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  FOLIO_DESC_SIZE, FolioFlag, Gfp, HUGETLB_ORDER, Machine, MemMap, MemdescType, PageOpResult, type PageOwner,
} from "../src/index.js";
import { compareState, expectError, snapshot, twin } from "./helpers.js";

function owner(label: string): PageOwner {
  return { label, dirty: () => PageOpResult.Done, migrate: () => PageOpResult.Unsupported, release: () => PageOpResult.Busy };
}

/** MemFree in pages. */
const freePages = (m: Machine) => m.meminfo().MemFree / 4;

test("every frame of a folio of order 0..9 describes that folio and its owner", (t) => {
  const m = Machine.boot({ memory: "16MiB" });
  const id = m.owners.register(owner("inode 12 on fs-test"));
  t.true(id > 0);
  t.is(m.owners.get(id)!.label, "inode 12 on fs-test");
  for (let order = 0; order <= 9; order++) {
    const index = 100 + order;
    const h = m.folios.alloc(order, Gfp.Movable, id, index);
    const head = m.folios.pfn(h);
    t.is(m.folios.order(h), order);
    t.is(m.folios.nrPages(h), 1 << order);
    t.is(m.folios.owner(h), id);
    t.is(m.folios.index(h), index);
    t.is(m.folios.check(h), h);
    const what = order > 0 ? `order-${order} folio` : "folio";
    for (let p = head; p < head + (1 << order); p++) {
      const d = m.describe(p);
      t.is(d.type, "folio");
      t.is(m.folios.fromPfn(p), h);
      t.like(d.folio, { handle: h, pfn: head, order, index, refcount: 1, pageInFolio: p - head });
      t.is(d.owner, "inode 12 on fs-test");
      if (d.text !== `page ${p - head} of ${what} at index ${index} of inode 12 on fs-test`) t.fail(`frame ${p}: ${d.text}`);
    }
    // Frames either side belong to someone else.
    if (head > 0) t.not(m.folios.fromPfn(head - 1), h);
    if (head + (1 << order) < m.frames) t.not(m.folios.fromPfn(head + (1 << order)), h);
  }
  // Without an owner, and with flags.
  const lone = m.folios.alloc(1, Gfp.Movable);
  m.folios.set(lone, FolioFlag.Dirty);
  m.folios.set(lone, FolioFlag.Uptodate);
  const d = m.describe(m.folios.pfn(lone) + 1);
  t.is(d.owner, undefined);
  t.is(d.text, "page 1 of order-1 folio (no owner), uptodate, dirty");
  // Once the owner is unregistered, its folios no longer name it.
  const owned = m.folios.alloc(2, Gfp.Movable, id, 7);
  t.is(m.describe(m.folios.pfn(owned)).owner, "inode 12 on fs-test");
  m.owners.unregister(id);
  t.is(m.describe(m.folios.pfn(owned)).owner, undefined);
  t.regex(m.describe(m.folios.pfn(owned)).text, /\(no owner\)$/);
  t.deepEqual(m.verify(), []);
});

test("folio refcounts: get/put, the last put frees the frames, a put past zero is EINVAL", (t) => {
  const m = Machine.boot({ memory: "8MiB" });
  for (const order of [0, 3, 9]) {
    const h = m.folios.alloc(order, Gfp.Movable);
    const head = m.folios.pfn(h);
    const freeWithFolio = freePages(m);
    m.folios.get(h);
    m.folios.get(h);
    t.is(m.folios.refcount(h), 3);
    m.folios.put(h);
    m.folios.put(h);
    t.is(m.folios.refcount(h), 1);
    t.is(m.memmap.type[head], MemdescType.Folio, "still allocated with one reference");
    t.is(freePages(m), freeWithFolio);
    m.folios.put(h);
    t.is(freePages(m), freeWithFolio + (1 << order), `order-${order}: all frames are free again`);
    for (let p = head; p < head + (1 << order); p++) {
      const type = m.memmap.type[p];
      if (type !== MemdescType.Buddy && type !== MemdescType.PerCpu) t.fail(`frame ${p} has type ${type} after the last put`);
    }
    expectError(t, "EINVAL", () => m.folios.check(h), /is not a live folio/);
    t.deepEqual(m.verify(), []);
    const before = snapshot(m);
    expectError(t, "EINVAL", () => m.folios.put(h), new RegExp(`folio_put of folio ${h} whose refcount is already 0`));
    t.deepEqual(compareState(m, before), [], "a put past zero changes nothing");
  }
  m.slab.shrinkAll();
  m.pages.drainPerCpuLists();
  t.is(freePages(m), freePages(twin(m)));
  t.deepEqual(m.buddyinfo(), twin(m).buddyinfo());
});

test("the last put frees by memdesc type: a hugetlb folio goes back to its pool, a large folio to the buddy allocator", (t) => {
  const m = Machine.boot({ memory: "32MiB", hugePages: 2 });
  t.is(m.hugetlb.total, 2);
  t.is(m.hugetlb.free, 2);
  const huge = m.hugetlb.alloc();
  const large = m.folios.alloc(HUGETLB_ORDER, Gfp.Movable);
  t.is(m.folios.order(huge), m.folios.order(large), "same size, different memdesc type");
  const hugePfn = m.folios.pfn(huge);
  const largePfn = m.folios.pfn(large);
  t.is(m.describe(hugePfn).type, "hugetlb");
  t.is(m.describe(largePfn).type, "folio");
  t.true(m.folios.test(huge, FolioFlag.Hugetlb));
  t.is(m.hugetlb.free, 1);

  const free0 = freePages(m);
  m.folios.put(huge);
  t.is(m.hugetlb.free, 2, "back in the pool");
  t.is(m.hugetlb.total, 2);
  t.is(freePages(m), free0, "no frame went to the page allocator");
  for (let p = hugePfn; p < hugePfn + 512; p++) if (m.memmap.type[p] !== MemdescType.Hugetlb) t.fail(`frame ${p} left the pool`);
  t.is(m.folios.refcount(huge), 0);
  t.regex(m.describe(hugePfn + 5).text, /^page 5 of huge page \(free in the hugetlb pool\)/);

  m.folios.put(large);
  t.is(freePages(m), free0 + 512, "the large folio's frames went back to the buddy allocator");
  for (let p = largePfn; p < largePfn + 512; p++) if (m.memmap.type[p] !== MemdescType.Buddy && m.memmap.type[p] !== MemdescType.PerCpu) t.fail(`frame ${p} is not free`);
  t.is(m.hugetlb.free, 2);
  t.deepEqual(m.verify(), []);
  t.is(m.meminfo().HugePages_Free, 2);
  t.is(m.meminfo().HugePages_Total, 2);
});

test("no per-page function pointer: the struct page table is typed arrays only, descriptors are 16 words", (t) => {
  const m = Machine.boot({ memory: "8MiB" });
  const map = m.memmap;
  t.true(map instanceof MemMap);
  let bytesPerFrame = 0;
  for (const [key, value] of Object.entries(map)) {
    t.not(typeof value, "function", `memmap.${key} is a function`);
    if (typeof value === "object") {
      t.true(ArrayBuffer.isView(value), `memmap.${key} is an ArrayBuffer view`);
      const view = value as unknown as { length: number; BYTES_PER_ELEMENT: number };
      t.is(view.length, m.frames, `memmap.${key} has one element per frame`);
      bytesPerFrame += view.BYTES_PER_ELEMENT;
    } else {
      t.is(typeof value, "number", `memmap.${key}`);
    }
  }
  t.is(bytesPerFrame, 15, "15 bytes per frame, as documented");
  t.is(map.bytes, m.frames * 15);

  // Folios are 64-byte records in slab memory addressed by handle; the table keeps no JS object per folio.
  t.is(FOLIO_DESC_SIZE, 64);
  const handles = Array.from({ length: 300 }, () => m.folios.alloc(0, Gfp.Movable));
  for (const [key, value] of Object.entries(m.folios)) {
    t.not(typeof value, "function", `folios.${key} is a function`);
    if (Array.isArray(value) || value instanceof Map || value instanceof Set) {
      t.true((Array.isArray(value) ? value.length : value.size) < 300, `folios.${key} grows with the number of folios`);
    }
  }
  for (const h of handles) t.is(m.describe(m.folios.pfn(h)).type, "folio");

  // The descriptor layout in the source: word offsets only (F_* constants < 16), and the free path
  // chooses by memdesc type, not through a stored callback.
  const src = readFileSync(fileURLToPath(new URL("../../src/mm/folio.ts", import.meta.url)), "utf8");
  const offsets = [...src.matchAll(/^const (F_[A-Z_]+) = (\d+);$/gm)].map((x) => Number(x[2]));
  t.true(offsets.length >= 8, "descriptor word offsets found");
  t.true(offsets.every((o) => o < FOLIO_DESC_SIZE / 4));
  const freeFn = /private free\(h: number\): void \{([\s\S]*?)\n {2}\}/.exec(src);
  t.truthy(freeFn, "FolioTable.free found");
  t.regex(freeFn![1]!, /this\.map\.type\[pfn\] === MemdescType\.Hugetlb/);
  t.notRegex(src, /destructor\s*[:=]|dtor\s*[:=]/i);
});

test("hugetlb reservations: promised pages are kept for their reservation", (t) => {
  const m = Machine.boot({ memory: "32MiB", hugePages: 4 });
  t.is(m.hugetlb.total, 4);
  const r = m.hugetlb.reserve(3);
  t.is(r.remaining, 3);
  t.is(m.hugetlb.reserved, 3);
  t.is(m.meminfo().HugePages_Rsvd, 3);
  // 4 - 3 = 1 page is unpromised.
  const unreserved = m.hugetlb.alloc();
  t.is(m.folios.refcount(unreserved), 1);
  t.is(m.hugetlb.free, 3);
  const before = snapshot(m);
  expectError(t, "ENOMEM", () => m.hugetlb.alloc(), /no unreserved huge page: pool of 4 has 3 free, 3 reserved/);
  t.deepEqual(compareState(m, before), []);
  // The reservation's pages are there for it.
  const mine = [m.hugetlb.alloc(r), m.hugetlb.alloc(r), m.hugetlb.alloc(r)];
  t.is(new Set(mine).size, 3);
  t.is(r.remaining, 0);
  t.is(m.hugetlb.reserved, 0);
  t.is(m.hugetlb.free, 0);
  expectError(t, "ENOMEM", () => m.hugetlb.alloc(r), /no unreserved huge page/);
  for (const h of [unreserved, ...mine]) {
    t.is(m.describe(m.folios.pfn(h)).type, "hugetlb");
    m.folios.put(h);
  }
  t.is(m.hugetlb.free, 4);
  t.deepEqual(m.verify(), []);
});

test("hugetlb: reserving more than is free is ENOMEM and promises nothing; unreserve returns the remainder", (t) => {
  const m = Machine.boot({ memory: "32MiB", hugePages: 4 });
  let before = snapshot(m);
  expectError(t, "ENOMEM", () => m.hugetlb.reserve(5), /hugetlb pool has 4 free pages, 0 already reserved: cannot reserve 5/);
  t.deepEqual(compareState(m, before), []);
  const a = m.hugetlb.reserve(2);
  before = snapshot(m);
  expectError(t, "ENOMEM", () => m.hugetlb.reserve(3), /4 free pages, 2 already reserved: cannot reserve 3/);
  t.deepEqual(compareState(m, before), []);
  t.is(m.hugetlb.reserved, 2);
  const b = m.hugetlb.reserve(2);
  t.is(m.hugetlb.reserved, 4);
  const used = m.hugetlb.alloc(b);
  t.is(b.remaining, 1);
  t.is(m.hugetlb.reserved, 3);
  m.hugetlb.unreserve(b);
  t.is(b.remaining, 0);
  t.is(m.hugetlb.reserved, 2, "b's unused page is no longer promised");
  m.hugetlb.unreserve(b);
  t.is(m.hugetlb.reserved, 2, "unreserving twice gives back nothing more");
  // The page b gave back can be taken without a reservation; a's two cannot.
  const extra = m.hugetlb.alloc();
  expectError(t, "ENOMEM", () => m.hugetlb.alloc());
  m.hugetlb.unreserve(a);
  t.is(m.hugetlb.reserved, 0);
  const last = m.hugetlb.alloc();
  for (const h of [used, extra, last]) m.folios.put(h);
  t.is(m.hugetlb.free, 4);
  t.deepEqual(m.verify(), []);
});

test("hugetlb: shrinking the pool frees neither in-use nor reserved pages", (t) => {
  const m = Machine.boot({ memory: "32MiB", hugePages: 4 });
  const fresh = Machine.boot({ memory: "32MiB" });
  const inUse = m.hugetlb.alloc();
  const r = m.hugetlb.reserve(2);
  const freeBefore = freePages(m);
  t.is(m.hugetlb.setPoolSize(0), 3, "one free unreserved page could go");
  t.is(m.hugetlb.total, 3);
  t.is(m.hugetlb.free, 2);
  t.is(m.hugetlb.reserved, 2);
  t.is(freePages(m), freeBefore + 512);
  t.is(m.folios.check(inUse), inUse);
  t.is(m.describe(m.folios.pfn(inUse)).type, "hugetlb");
  t.deepEqual(m.verify(), []);
  // The reserved pages are still there for the reservation.
  const a = m.hugetlb.alloc(r);
  const b = m.hugetlb.alloc(r);
  t.is(m.hugetlb.free, 0);
  for (const h of [inUse, a, b]) m.folios.put(h);
  t.is(m.hugetlb.free, 3);
  t.is(m.hugetlb.setPoolSize(0), 0);
  t.is(m.meminfo().HugePages_Total, 0);
  t.deepEqual(m.verify(), []);
  m.slab.shrinkAll();
  m.pages.drainPerCpuLists();
  t.is(freePages(m), freePages(fresh));
  // Growing again works and setPoolSize validates its argument.
  t.is(m.hugetlb.setPoolSize(2), 2);
  for (const bad of [-1, 1.5, NaN]) expectError(t, "EINVAL", () => m.hugetlb.setPoolSize(bad), /hugetlb pool size/);
  expectError(t, "EINVAL", () => m.hugetlb.reserve(-1), /hugetlb reservation/);
});
