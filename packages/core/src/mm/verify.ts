import { MemdescType, PageFlag, type MemMap } from "./memmap.js";
import { FolioFlag, type FolioTable } from "./folio.js";
import type { HugetlbPool } from "./hugetlb.js";
import { MAX_ORDER, MigrateType, NR_ORDERS, NR_MIGRATE_TYPES, type PageAllocator } from "./page-alloc.js";
import type { SlabAllocator } from "./slab.js";
import type { Vmalloc } from "./vmalloc.js";
import { Stat, type VmStat } from "./vmstat.js";

/** The parts of a machine the checker reads. */
export interface VerifySources {
  /** The struct page table, recounted frame by frame. */
  map: MemMap;
  /** The page allocator, whose free lists and per-CPU lists are walked. */
  pages: PageAllocator;
  /** The folio table, whose descriptors are checked against their frames. */
  folios: FolioTable;
  /** The slab allocator, whose slab bitmaps are checked against their in-use counts. */
  slab: SlabAllocator;
  /** vmalloc, whose areas must own the frames that name them. */
  vmalloc: Vmalloc;
  /** The hugetlb pool, whose total must match its frames. */
  hugetlb: HugetlbPool;
  /** The gauges the recount is compared with. */
  vm: VmStat;
}

/**
 * Checks the whole struct page table against the allocators' own records, as a debugging kernel
 * would, and returns every inconsistency found (empty when all is well):
 *  - every frame is accounted for exactly once: reserved, in one free block, on the per-CPU
 *    list, or in exactly one allocation whose pages all name the same owner;
 *  - free blocks are listed under their pageblock's migrate type, and no two free buddies of the
 *    same order were left unmerged;
 *  - each descriptor agrees with the frames that point at it, and a folio is flagged
 *    has_hwpoisoned exactly when one of its frames is poisoned;
 *  - a poisoned frame is never free, and every offline frame is poisoned;
 *  - every gauge in vmstat equals a recount from the frames.
 */
export function verifyMemory(m: VerifySources): string[] {
  const problems: string[] = [];
  const bad = (msg: string) => {
    if (problems.length < 50) problems.push(msg);
  };
  const { map, pages } = m;
  const seen = new Uint8Array(map.frames);
  const vmAreaFrames = new Map<number, Set<number>>();
  const claim = (pfn: number, what: string) => {
    if (seen[pfn]) bad(`frame ${pfn} is accounted twice (again as ${what})`);
    seen[pfn] = 1;
  };

  let freeCount = 0;
  const listLengths = new Int32Array(NR_ORDERS * NR_MIGRATE_TYPES);
  pages.forEachFreeBlock((pfn, order, mt) => {
    listLengths[mt * NR_ORDERS + order]!++;
    freeCount += 1 << order;
    if (!(map.flags[pfn]! & PageFlag.Buddy) || map.order[pfn] !== order) bad(`free block at ${pfn} is not marked as an order-${order} buddy head`);
    if (pfn & ((1 << order) - 1)) bad(`free block at ${pfn} is not aligned to its order ${order}`);
    if (mt !== pages.pageblockMigrateType(pfn)) bad(`free block at ${pfn} is on the ${mt} list but its pageblock is ${pages.pageblockMigrateType(pfn)}`);
    for (let p = pfn; p < pfn + (1 << order); p++) {
      claim(p, "free");
      if (map.type[p] !== MemdescType.Buddy) bad(`frame ${p} in a free block has memdesc type ${map.type[p]}`);
      if (p !== pfn && map.flags[p]! & (PageFlag.Buddy | PageFlag.Head)) bad(`tail frame ${p} of a free block is marked as a head`);
    }
    if (order < MAX_ORDER && mt !== MigrateType.Isolate) {
      const buddy = pfn ^ (1 << order);
      if (buddy < map.frames && map.flags[buddy]! & PageFlag.Buddy && map.order[buddy] === order && pages.pageblockMigrateType(buddy) !== MigrateType.Isolate) {
        bad(`free buddies at ${pfn} and ${buddy} (order ${order}) were not merged`);
      }
    }
  });
  for (let o = 0; o < NR_ORDERS; o++) {
    for (let mt = 0; mt < NR_MIGRATE_TYPES; mt++) {
      if (listLengths[mt * NR_ORDERS + o] !== pages.freeBlocks(o, mt)) bad(`free count of order ${o} type ${mt} disagrees with its list`);
    }
  }
  if (freeCount !== m.vm.stat[Stat.FreePages]) bad(`nr_free_pages is ${m.vm.stat[Stat.FreePages]} but the lists hold ${freeCount}`);

  let pcp = 0;
  pages.forEachPerCpuPage((pfn) => {
    pcp++;
    claim(pfn, "per-CPU");
    if (map.type[pfn] !== MemdescType.PerCpu) bad(`frame ${pfn} on the per-CPU list has memdesc type ${map.type[pfn]}`);
  });
  if (pcp !== m.vm.stat[Stat.PerCpuPages]) bad(`nr_percpu_pages is ${m.vm.stat[Stat.PerCpuPages]} but the lists hold ${pcp}`);

  const byType = new Float64Array(16);
  const slabPages = { reclaimable: 0, unreclaimable: 0 };
  for (let pfn = 0; pfn < map.frames; pfn++) {
    if (seen[pfn]) continue;
    const t = map.type[pfn]!;
    if (t === MemdescType.Reserved || t === MemdescType.Offline) {
      claim(pfn, "reserved");
      byType[t]!++;
      continue;
    }
    if (t === MemdescType.Buddy || t === MemdescType.PerCpu) {
      bad(`frame ${pfn} is marked free but is on no free list`);
      continue;
    }
    if (!(map.flags[pfn]! & PageFlag.Head)) {
      bad(`frame ${pfn} (type ${t}) belongs to no allocation`);
      continue;
    }
    const order = map.order[pfn]!;
    const ref = map.ref[pfn]!;
    for (let p = pfn; p < pfn + (1 << order); p++) {
      if (p >= map.frames) {
        bad(`allocation at ${pfn} runs past the end of memory`);
        break;
      }
      claim(p, `allocation at ${pfn}`);
      if (map.type[p] !== t || map.ref[p] !== ref) bad(`frame ${p} of the allocation at ${pfn} names a different owner`);
      if (p !== pfn && map.flags[p]! & (PageFlag.Head | PageFlag.Buddy)) bad(`tail frame ${p} of the allocation at ${pfn} is marked as a head`);
    }
    byType[t]! += 1 << order;
    if (t === MemdescType.Folio || t === MemdescType.Hugetlb) {
      if (m.folios.pfn(ref) !== pfn || m.folios.order(ref) !== order) bad(`folio ${ref} says pfn ${m.folios.pfn(ref)} order ${m.folios.order(ref)}, its frames say ${pfn} order ${order}`);
      if (m.folios.refcount(ref) < 0 || (t === MemdescType.Folio && m.folios.refcount(ref) === 0)) bad(`folio ${ref} at ${pfn} has refcount ${m.folios.refcount(ref)}`);
      let poisoned = false;
      for (let p = pfn; p < pfn + (1 << order) && p < map.frames; p++) if (map.flags[p]! & PageFlag.HwPoison) poisoned = true;
      if (poisoned !== m.folios.test(ref, FolioFlag.HasHwPoisoned)) {
        bad(`folio ${ref} at ${pfn} ${poisoned ? "holds a poisoned frame but is not" : "holds no poisoned frame but is"} flagged has_hwpoisoned`);
      }
    } else if (t === MemdescType.Slab) {
      const s = m.slab.slabInfo(ref);
      if (s.pfn !== pfn || s.cache.order !== order) bad(`slab ${ref} says pfn ${s.pfn}, its frames say ${pfn}`);
      if (m.slab.countAllocated(ref) !== s.inUse) bad(`slab at ${pfn} counts ${s.inUse} objects in use but its bitmap has ${m.slab.countAllocated(ref)}`);
      if (s.cache.gfp & 2) slabPages.reclaimable += 1 << order;
      else slabPages.unreclaimable += 1 << order;
    } else if (t === MemdescType.Vmalloc) {
      // One lookup per area, not per frame: an area of n frames would otherwise cost n² here.
      let listed = vmAreaFrames.get(ref);
      if (listed === undefined) vmAreaFrames.set(ref, (listed = new Set(m.vmalloc.framesOf(ref))));
      if (!listed.has(pfn)) bad(`frame ${pfn} names vm area ${ref}, which does not list it`);
    }
  }
  let poisoned = 0;
  for (let pfn = 0; pfn < map.frames; pfn++) {
    if (!seen[pfn]) bad(`frame ${pfn} is not accounted for`);
    const t = map.type[pfn]!;
    if (map.flags[pfn]! & PageFlag.HwPoison) {
      poisoned++;
      // A poisoned frame must never be handed out again, so it must never be free.
      if (t === MemdescType.Buddy || t === MemdescType.PerCpu) bad(`frame ${pfn} is poisoned but free (${t === MemdescType.Buddy ? "in the buddy lists" : "on the per-CPU list"})`);
    } else if (t === MemdescType.Offline) {
      bad(`frame ${pfn} is offline but not flagged poisoned`);
    }
  }

  const expect = (stat: Stat, actual: number, name: string) => {
    if (m.vm.stat[stat] !== actual) bad(`${name} is ${m.vm.stat[stat]} but a recount finds ${actual}`);
  };
  expect(Stat.SlabReclaimable, slabPages.reclaimable, "nr_slab_reclaimable");
  expect(Stat.SlabUnreclaimable, slabPages.unreclaimable, "nr_slab_unreclaimable");
  expect(Stat.VmallocPages, byType[MemdescType.Vmalloc]!, "nr_vmalloc");
  expect(Stat.LargeKmalloc, byType[MemdescType.LargeKmalloc]!, "nr_kmalloc_large");
  expect(Stat.HugetlbPages, byType[MemdescType.Hugetlb]!, "nr_hugetlb");
  expect(Stat.Reserved, byType[MemdescType.Reserved]!, "nr_reserved");
  expect(Stat.HwPoisoned, poisoned, "nr_hwpoisoned");
  let cacheSlabs = 0;
  for (const c of m.slab.caches) cacheSlabs += c.slabs << c.order;
  if (cacheSlabs !== slabPages.reclaimable + slabPages.unreclaimable) bad(`slab caches count ${cacheSlabs} pages but frames show ${slabPages.reclaimable + slabPages.unreclaimable}`);
  if (m.hugetlb.total << 9 !== byType[MemdescType.Hugetlb]) bad(`hugetlb pool counts ${m.hugetlb.total} pages but frames show ${byType[MemdescType.Hugetlb]! / 512}`);
  return problems;
}
