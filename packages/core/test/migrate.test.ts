/**
 * Migration in core: anonymous folios moved from a bare frame number, with every page-table entry
 * following them; refusals that leave everything as it was. Page-cache folios are migrated in
 * @folio/pagecache's tests, where a real page cache owns them.
 */
import test from "ava";
import {
  Gfp, MAP_ANONYMOUS, Stat, MAP_PRIVATE, Machine, MemdescType, PAGE_SIZE, PROT_READ, PROT_WRITE, PageOpCaller, PageOpResult, Pte, ptePfn,
  type AddressSpace,
} from "../src/index.js";
import { expectError } from "./helpers.js";

const RW = PROT_READ | PROT_WRITE;

function boot(): { m: Machine; mm: AddressSpace } {
  const m = Machine.boot({ memory: "16MiB" });
  return { m, mm: m.mm.createAddressSpace("test") };
}

/** An anonymous mapping of `pages` pages, each stored with its own byte pattern; returns its address. */
function filledAnon(mm: AddressSpace, pages: number): number {
  const a = mm.mmap({ length: pages * PAGE_SIZE, prot: RW, flags: MAP_PRIVATE | MAP_ANONYMOUS });
  for (let i = 0; i < pages; i++) mm.store(a + i * PAGE_SIZE, new Uint8Array(PAGE_SIZE).fill(i + 1));
  return a;
}

test("a mapped anonymous page migrates from its frame number: contents, PTE bits and mapcount follow it", (t) => {
  const { m, mm } = boot();
  const a = filledAnon(mm, 3);
  const vpn = a / PAGE_SIZE + 1;
  const before = mm.pageTables.get(vpn);
  const oldPfn = ptePfn(before);
  const oldFolio = m.folios.fromPfn(oldPfn);
  const out = m.migration.migrateFrame(oldPfn, { caller: PageOpCaller.Other });
  t.is(out.result, PageOpResult.Done, out.reason);
  const after = mm.pageTables.get(vpn);
  t.not(ptePfn(after), oldPfn, "the PTE maps another frame");
  t.is(m.folios.fromPfn(ptePfn(after)), out.dst);
  t.is(after & (Pte.Write | Pte.Dirty | Pte.Accessed), before & (Pte.Write | Pte.Dirty | Pte.Accessed), "same bits");
  t.is(m.folios.mapcount(out.dst), 1);
  t.is(m.folios.refcount(out.dst), 2, "the region's reference and the PTE's");
  t.not(m.memmap.type[oldPfn], MemdescType.Folio, "the old frame was freed");
  t.not(m.folios.fromPfn(oldPfn), oldFolio);
  t.deepEqual(mm.load(a + PAGE_SIZE, PAGE_SIZE), new Uint8Array(PAGE_SIZE).fill(2));
  mm.store(a + PAGE_SIZE + 5, Uint8Array.of(99));
  t.is(mm.load(a + PAGE_SIZE + 5, 1)[0], 99, "stores land in the new frame");
  t.is(m.vmstat.toObject().pgmigrate_success, 1);
  t.deepEqual(m.verify(), []);
});

test("refusals leave the folio where it was and say why: pinned, locked, extra references, not a folio", (t) => {
  const { m, mm } = boot();
  const a = filledAnon(mm, 1);
  const pfn = ptePfn(mm.pageTables.get(a / PAGE_SIZE));
  const folio = m.folios.fromPfn(pfn);
  const pte = mm.pageTables.get(a / PAGE_SIZE);

  m.folios.addPincount(folio, 1);
  let out = m.migration.migrateFrame(pfn, { caller: PageOpCaller.Compaction });
  t.is(out.result, PageOpResult.Pinned);
  t.regex(out.reason!, /pinned/);
  m.folios.addPincount(folio, -1);

  m.folios.set(folio, 1 /* Locked */);
  out = m.migration.migrateFrame(pfn, { caller: PageOpCaller.Compaction });
  t.is(out.result, PageOpResult.Busy);
  t.regex(out.reason!, /locked/);
  m.folios.clear(folio, 1);

  // An extra reference the owner does not know of (get_user_pages without a pin): the owner refuses.
  m.folios.get(folio);
  out = m.migration.migrateFrame(pfn, { caller: PageOpCaller.Compaction });
  t.is(out.result, PageOpResult.Pinned);
  t.regex(out.reason!, /answered pinned/);
  m.folios.put(folio);

  t.is(mm.pageTables.get(a / PAGE_SIZE), pte, "the PTE is back as it was after every refusal");
  t.is(m.folios.fromPfn(pfn), folio);

  const slabPfn = m.kmem.kmalloc(64) / PAGE_SIZE;
  out = m.migration.migrateFrame(Math.floor(slabPfn), { caller: PageOpCaller.Other });
  t.is(out.result, PageOpResult.Unsupported);
  t.regex(out.reason!, /slab memory/);
  t.is(m.vmstat.toObject().pgmigrate_success, 0);
  t.is(m.vmstat.toObject().pgmigrate_fail, 3, "pages of the folios refused (the slab frame is no folio)");
  t.deepEqual(m.verify(), []);
  expectError(t, "EINVAL", () => m.migration.migrateFrame(-1, { caller: PageOpCaller.Other }), /-1 is not a frame/);
});

test("no destination: Failed, nothing changed; a caller-supplied allocator is used", (t) => {
  const { m, mm } = boot();
  const a = filledAnon(mm, 1);
  const pfn = ptePfn(mm.pageTables.get(a / PAGE_SIZE));
  let out = m.migration.migrateFrame(pfn, { caller: PageOpCaller.Compaction, allocate: () => 0 });
  t.is(out.result, PageOpResult.Failed);
  t.is(ptePfn(mm.pageTables.get(a / PAGE_SIZE)), pfn);
  const target = m.folios.alloc(0, Gfp.Movable);
  out = m.migration.migrateFrame(pfn, { caller: PageOpCaller.Compaction, allocate: (order) => (order === 0 ? target : 0) });
  t.is(out.dst, target);
  t.is(ptePfn(mm.pageTables.get(a / PAGE_SIZE)), m.folios.pfn(target));
  t.deepEqual(mm.load(a, 4), Uint8Array.of(1, 1, 1, 1));
  t.deepEqual(m.verify(), []);
});

test("an anonymous page shared by a fork-like second mapping of one region moves in every page table", (t) => {
  const { m, mm } = boot();
  const a = filledAnon(mm, 2);
  // mremap-free way to get two PTEs on one folio: mprotect splits the VMA, the region stays one.
  mm.mprotect(a + PAGE_SIZE, PAGE_SIZE, PROT_READ);
  const pfn = ptePfn(mm.pageTables.get(a / PAGE_SIZE + 1));
  const out = m.migration.migrateFrame(pfn, { caller: PageOpCaller.Other });
  t.is(out.result, PageOpResult.Done, out.reason);
  t.deepEqual(mm.load(a + PAGE_SIZE, 2), Uint8Array.of(2, 2));
  t.is(mm.pageTables.get(a / PAGE_SIZE + 1) & Pte.Write, 0, "still read-only");
  t.deepEqual(m.verify(), []);
});

test("splitFolio: an order-3 folio becomes eight order-0 folios whose frames name them; freed, they merge back", (t) => {
  const m = Machine.boot({ memory: "16MiB" });
  const freeOrSlab = () => m.vmstat.stat[Stat.FreePages]! + m.vmstat.stat[Stat.SlabUnreclaimable]!;
  const before = freeOrSlab();
  const folio = m.folios.alloc(3, Gfp.Movable, 0, 40, 1 << 1 /* Uptodate */);
  const pfn = m.folios.pfn(folio);
  m.folios.get(folio); // the caller's reference
  expectError(t, "EBUSY", () => m.migration.splitFolio(folio, 0, 0), /3 references where 2|2 references where 1/);
  expectError(t, "EINVAL", () => m.migration.splitFolio(folio, 3), /order 3/);
  const pieces = m.migration.splitFolio(folio, 0);
  t.is(pieces.length, 8);
  t.is(pieces[0], folio);
  pieces.forEach((p, i) => {
    t.is(m.folios.fromPfn(pfn + i), p);
    t.is(m.folios.order(p), 0);
    t.is(m.folios.index(p), 40 + i);
    t.true(m.folios.test(p, 1 << 1), "flags copied");
    t.is(m.folios.refcount(p), i === 0 ? 2 : 1);
  });
  t.is(m.vmstat.toObject().thp_split_page, 1);
  t.deepEqual(m.verify(), []);
  m.folios.put(folio);
  for (const p of pieces) m.folios.put(p);
  m.pages.drainPerCpuLists();
  t.is(freeOrSlab(), before, "every frame came back (the descriptor cache may have grown a slab)");
  t.deepEqual(m.verify(), []);
});
