import { TracePoint, type Tracer } from "../trace.js";
import { FolioError, fail } from "../errors.js";
import { PAGE_SIZE, checkInt } from "../units.js";
import type { PhysicalMemory } from "./physmem.js";
import { MemdescType, PageFlag, type MemMap } from "./memmap.js";
import { Stat, VmEvent, type VmStat } from "./vmstat.js";

/** Largest allocation order: 2^10 frames = 4 MiB, Linux's default MAX_PAGE_ORDER. */
export const MAX_ORDER = 10;
/** Number of orders, 0..MAX_ORDER. */
export const NR_ORDERS = MAX_ORDER + 1;
/** Orders of a pageblock, the unit of migrate-type grouping: 2^9 frames = 2 MiB. */
export const PAGEBLOCK_ORDER = 9;
/** Frames in one pageblock. */
export const PAGEBLOCK_FRAMES = 1 << PAGEBLOCK_ORDER;

/** Mobility of a pageblock's pages, Linux's migratetype. */
export const enum MigrateType {
  /** Pages that stay where they are (kernel memory: slab, page tables, vmalloc). */
  Unmovable = 0,
  /** Pages that can be migrated (page cache, anonymous memory); compaction empties these blocks. */
  Movable = 1,
  /** Pages a shrinker can free (reclaimable slab). */
  Reclaimable = 2,
  /** Taken out of allocation by compaction or offlining; never allocated from. */
  Isolate = 3,
}
/** Number of migrate types. */
export const NR_MIGRATE_TYPES = 4;
/** Names of {@link MigrateType} values as /proc/pagetypeinfo prints them. */
export const MIGRATE_TYPE_NAMES = ["Unmovable", "Movable", "Reclaimable", "Isolate"] as const;

/** Allocation flags (Linux's gfp_t, reduced to what the simulation distinguishes). */
export const enum Gfp {
  /** Default: unmovable kernel memory. */
  Kernel = 0,
  /** The pages can be migrated (page cache, anonymous memory): grouped in movable pageblocks. */
  Movable = 1 << 0,
  /** The pages can be freed by a shrinker (reclaimable slab): grouped in reclaimable pageblocks. */
  Reclaimable = 1 << 1,
  /** Cannot wait or reclaim; may dip to half the min watermark (GFP_ATOMIC). */
  Atomic = 1 << 2,
  /** Zero the pages before returning them (__GFP_ZERO). */
  Zero = 1 << 3,
  /** Try the slow path (reclaim, compaction) once, then fail rather than retry (__GFP_NORETRY). */
  NoRetry = 1 << 4,
  /**
   * The caller holds no folio lock and may wait for writeback to make progress when reclaim finds
   * only folios under I/O (reclaim_throttle): user page faults and other entry points that own
   * nothing. Without it direct reclaim never waits.
   */
  MayThrottle = 1 << 5,
}

/** The three watermarks, in pages. Below `low` kswapd wakes; allocations fail below `min`. */
export interface Watermarks {
  /**
   * The slow path allocates only while free pages stay above this (atomic allocations: above half
   * of it), after reclaim and compaction have tried; then the allocation fails.
   */
  min: number;
  /** The fast path allocates only while free pages stay above this; below, the slow path runs and wakes kswapd. */
  low: number;
  /** kswapd reclaims until free pages are back at this. */
  high: number;
}

/**
 * A way to make room when an allocation fails its watermark: waking kswapd, direct reclaim,
 * direct compaction. Returns true if it made progress (so the allocation is worth retrying).
 * Registered by the subsystems that own those mechanisms; the allocator knows nothing else of them.
 */
export type AllocSlowPath = (order: number, gfp: number) => boolean;

/**
 * Why an allocation failed after reclaim gave up: the state of memory at that moment, as Linux's
 * OOM report prints it. Built by the reclaim subsystem ({@link PageAllocator.setOomReporter}).
 */
export interface OomReport {
  /** One line for the error message. */
  readonly summary: string;
  /** Counters at the failure (pages): free, file, dirty, writeback, anon, slab, unreclaimable… */
  readonly counters: Readonly<Record<string, number>>;
}

/**
 * ENOMEM from the page allocator: memory could not be found even after the slow paths (reclaim,
 * shrinkers) ran. `report` says where the memory is, when a reclaim subsystem is installed.
 */
export class OutOfMemoryError extends FolioError {
  /**
   * Thrown by {@link PageAllocator} after the slow path failed, or by fault injection.
   *
   * @param detail - The order, migrate type and flags that failed, in words.
   * @param report - Where the memory is (an OOM report), when a reclaim subsystem is installed.
   */
  constructor(detail: string, readonly report?: OomReport) {
    super("ENOMEM", detail);
    this.name = "OutOfMemoryError";
  }
}

/** Options for {@link PageAllocator}. */
export interface PageAllocatorOptions {
  /** Overrides the computed min watermark (pages); low and high follow as ×5/4 and ×3/2. */
  minFreePages?: number;
  /** The machine's tracepoints (alloc_fail); none when absent. */
  trace?: Tracer;
}

const ORDER_MT = (order: number, mt: number) => mt * NR_ORDERS + order;

/**
 * The buddy page allocator: free blocks of 2^order frames in lists by order and migrate type,
 * split on allocation and merged with their buddy on free, with a per-CPU list of order-0 pages
 * in front (one simulated CPU) so the common case is a push or a pop.
 *
 * Every allocation names its owner: `allocPages(order, gfp, type, ref)` writes the memdesc into
 * every page it hands out, so any frame can say who owns it with no other context.
 */
export class PageAllocator {
  /** The watermarks, computed at boot from memory size like Linux's min_free_kbytes. */
  readonly watermarks: Watermarks;
  private readonly freeHead: Int32Array;
  private readonly nrFree: Int32Array;
  private readonly pageblockType: Uint8Array;
  private readonly pcp: Int32Array[];
  private readonly pcpCount: Int32Array;
  /** Pages moved between the per-CPU list and the buddy lists at a time. */
  readonly pcpBatch: number;
  /** The per-CPU list drains back to `pcpBatch` pages when it grows past this. */
  readonly pcpHigh: number;
  private readonly slowPaths: AllocSlowPath[] = [];
  private readonly lowWatermarkHooks: (() => void)[] = [];
  private oomReporter: ((order: number, gfp: number) => OomReport) | undefined;
  private shouldFail: ((order: number, gfp: number) => boolean) | undefined;
  /** The last tryAllocPages failed because of {@link injectFailures}. */
  private injected = false;

  private readonly trace: Tracer | undefined;

  /**
   * Built once per machine at boot ({@link Machine.boot}) with `minFreePages` from the config and
   * the machine's tracer; reach it as `machine.pages`.
   */
  constructor(
    private readonly mem: PhysicalMemory,
    private readonly map: MemMap,
    private readonly vm: VmStat,
    options: PageAllocatorOptions = {},
  ) {
    this.trace = options.trace;
    const frames = map.frames;
    this.freeHead = new Int32Array(NR_ORDERS * NR_MIGRATE_TYPES).fill(-1);
    this.nrFree = new Int32Array(NR_ORDERS * NR_MIGRATE_TYPES);
    this.pageblockType = new Uint8Array(Math.ceil(frames / PAGEBLOCK_FRAMES)).fill(MigrateType.Movable);
    // Linux's zone_batchsize: a quarter of 1/1024 of memory, at most 1 MiB, rounded to 2^n - 1.
    const quarter = Math.min(frames / 1024, 256) / 4;
    this.pcpBatch = Math.max(1, (1 << Math.floor(Math.log2(Math.max(1, quarter + quarter / 2)))) - 1);
    this.pcpHigh = 6 * this.pcpBatch;
    this.pcp = [0, 1, 2].map(() => new Int32Array(this.pcpHigh + this.pcpBatch + 1));
    this.pcpCount = new Int32Array(3);
    // Linux's min_free_kbytes = sqrt(lowmem_kbytes * 16), clamped to [128 KiB, 256 MiB].
    const minKiB = Math.min(262144, Math.max(128, Math.floor(Math.sqrt(frames * 4 * 16))));
    const min = options.minFreePages ?? Math.min(Math.floor(frames / 8), minKiB >> 2);
    this.watermarks = { min, low: min + (min >> 2), high: min + (min >> 1) };

    // Frame 0 is reserved, as firmware keeps it on a PC; it also lets 0 mean "no frame".
    map.setMemdesc(0, 1, MemdescType.Reserved, 0);
    vm.stat[Stat.Reserved] = 1;
    for (let pfn = 1; pfn < frames; ) {
      let order = MAX_ORDER;
      while (order > 0 && ((pfn & ((1 << order) - 1)) !== 0 || pfn + (1 << order) > frames)) order--;
      map.setMemdesc(pfn, 1 << order, MemdescType.Buddy, 0);
      this.addFree(pfn, order, this.pageblockType[pfn >>> PAGEBLOCK_ORDER]!);
      vm.stat[Stat.FreePages] += 1 << order;
      pfn += 1 << order;
    }
  }

  /**
   * Allocates 2^order contiguous frames and writes `{type, ref}` into each page's memdesc.
   * Called by every owner of memory (slab, folios, vmalloc, hugetlb…), never by users directly.
   * Returns the first pfn. Throws EINVAL for a bad order or type, ENOMEM (with free memory and
   * watermark in the message) when the slow paths cannot make room; a failed call changes nothing.
   */
  allocPages(order: number, gfp: number, type: MemdescType, ref: number): number {
    const pfn = this.tryAllocPages(order, gfp, type, ref);
    if (pfn >= 0) return pfn;
    this.vm.events[VmEvent.AllocFail]++;
    if (this.trace !== undefined && this.trace.enabled & TracePoint.AllocFail) this.trace.emit({ point: "alloc_fail", order, gfp });
    if (this.injected) throw new OutOfMemoryError(`out of memory: order-${order} ${MIGRATE_TYPE_NAMES[gfpMigrateType(gfp)]} allocation failed by fault injection`);
    // A NoRetry allocation has a fallback (a large folio steps down to smaller ones): it fails
    // without the OOM report, as __GFP_NORETRY skips the OOM path in Linux.
    const report = gfp & Gfp.NoRetry ? undefined : this.oomReporter?.(order, gfp);
    throw new OutOfMemoryError(
      `out of memory: order-${order} ${MIGRATE_TYPE_NAMES[gfpMigrateType(gfp)]} allocation failed ` +
        `(${this.vm.stat[Stat.FreePages]} pages free, min watermark ${this.watermarks.min}, ` +
        `largest free block order ${this.largestFreeOrder()}${report ? `; ${report.summary}` : ""})`,
      report,
    );
  }

  /** As {@link allocPages}, but returns -1 instead of throwing ENOMEM. */
  tryAllocPages(order: number, gfp: number, type: MemdescType, ref: number): number {
    if (order !== 0) checkInt(order, 0, MAX_ORDER, "allocation order");
    if (type === MemdescType.Buddy || type === MemdescType.PerCpu || type === MemdescType.Offline) {
      throw fail("EINVAL", `cannot allocate pages as memdesc type ${type}: that type means free or offline`);
    }
    this.injected = false;
    if (this.shouldFail !== undefined && this.shouldFail(order, gfp)) {
      this.vm.events[VmEvent.AllocFailInjected]++;
      this.injected = true;
      return -1;
    }
    let pfn = this.getPageFromFreelist(order, gfp, this.watermarks.low);
    if (pfn < 0) pfn = this.slowPath(order, gfp);
    if (pfn < 0) return -1;
    const count = 1 << order;
    const map = this.map;
    if (count === 1) {
      map.type[pfn] = type;
      map.ref[pfn] = ref;
    } else {
      map.setMemdesc(pfn, count, type, ref);
    }
    map.flags[pfn] |= PageFlag.Head;
    map.order[pfn] = order;
    this.vm.events[VmEvent.PgAlloc] += count;
    if (gfp & Gfp.Zero) this.mem.zeroFrames(pfn, count);
    return pfn;
  }

  /**
   * Frees an allocation made by {@link allocPages}: `pfn` must be its first frame and `order` its
   * order. Throws EINVAL, changing nothing, on a double free, a pfn that is not the start of an
   * allocation, or an order that differs from the allocation's.
   */
  freePages(pfn: number, order: number): void {
    const map = this.map;
    map.checkPfn(pfn);
    const t = map.type[pfn]!;
    if (t === MemdescType.Buddy || t === MemdescType.PerCpu) {
      throw fail("EINVAL", `double free: frame ${pfn} is already free`);
    }
    if (t === MemdescType.Reserved || t === MemdescType.Offline || !(map.flags[pfn]! & PageFlag.Head)) {
      throw fail("EINVAL", `frame ${pfn} is not the first frame of a page allocation (it is ${describeType(t)})`);
    }
    if (map.order[pfn] !== order) {
      throw fail("EINVAL", `frame ${pfn} was allocated at order ${map.order[pfn]}, not freed at order ${order}`);
    }
    this.freeOwned(pfn, order);
  }

  /**
   * Frees a run the caller has already validated as its own (the owner of a descriptor freeing
   * its pages). Exposed to owners in core; others use {@link freePages}.
   */
  freeOwned(pfn: number, order: number): void {
    const map = this.map;
    map.flags[pfn]! &= ~PageFlag.Head;
    this.vm.events[VmEvent.PgFree] += 1 << order;
    // A frame with a memory error never goes back on the free lists: it is retired here.
    if (this.vm.stat[Stat.HwPoisoned]! > 0 && this.freeAroundPoison(pfn, order)) return;
    if (order === 0) {
      const mt = this.pageblockType[pfn >>> PAGEBLOCK_ORDER]!;
      if (mt !== MigrateType.Isolate) {
        map.type[pfn] = MemdescType.PerCpu;
        map.ref[pfn] = 0;
        const list = this.pcp[mt]!;
        list[this.pcpCount[mt]!++] = pfn;
        this.vm.stat[Stat.PerCpuPages]++;
        if (this.pcpCount[mt]! > this.pcpHigh) this.drainPcpList(mt, this.pcpCount[mt]! - this.pcpBatch);
        return;
      }
    }
    map.setMemdesc(pfn, 1 << order, MemdescType.Buddy, 0);
    this.freeOneBlock(pfn, order);
  }

  /**
   * Registers a slow-path step, tried in registration order when the fast path fails; with
   * `first`, ahead of the steps already registered (direct compaction goes before direct reclaim,
   * as Linux tries compaction first when free memory is only fragmented).
   */
  addSlowPath(step: AllocSlowPath, first = false): void {
    if (first) this.slowPaths.unshift(step);
    else this.slowPaths.push(step);
  }

  /**
   * Registers a hook run whenever an allocation finds free memory at or below the low watermark
   * (wake_all_kswapds): it must only schedule work, never reclaim inline.
   */
  onLowWatermark(hook: () => void): void {
    this.lowWatermarkHooks.push(hook);
  }

  /**
   * Fault injection (fail_page_alloc): while set, every allocation first asks `shouldFail`, and
   * fails (ENOMEM from {@link allocPages}, -1 from {@link tryAllocPages}) when it says so, without
   * touching memory or reclaim. Tests and the trust harness use it to reach every allocation's
   * failure path; `undefined` turns it off.
   */
  injectFailures(shouldFail: ((order: number, gfp: number) => boolean) | undefined): void {
    this.shouldFail = shouldFail;
  }

  /** Sets who explains an allocation failure (the reclaim subsystem's OOM report). */
  setOomReporter(reporter: (order: number, gfp: number) => OomReport): void {
    this.oomReporter = reporter;
  }

  /** Returns every per-CPU page to the buddy lists (drain_all_pages), so blocks can merge. */
  drainPerCpuLists(): void {
    for (let mt = 0; mt < 3; mt++) this.drainPcpList(mt, this.pcpCount[mt]!);
  }

  /** Free pages in the buddy lists (not counting per-CPU lists). */
  get nrFreePages(): number {
    return this.vm.stat[Stat.FreePages]!;
  }

  /** Number of free blocks of `order` in lists of migrate type `mt` (or all types). */
  freeBlocks(order: number, mt?: MigrateType): number {
    if (mt !== undefined) return this.nrFree[ORDER_MT(order, mt)]!;
    let n = 0;
    for (let t = 0; t < NR_MIGRATE_TYPES; t++) n += this.nrFree[ORDER_MT(order, t)]!;
    return n;
  }

  /** Highest order with a free block, or -1 when the buddy lists are empty. */
  largestFreeOrder(): number {
    for (let o = MAX_ORDER; o >= 0; o--) if (this.freeBlocks(o) > 0) return o;
    return -1;
  }

  /** Migrate type of the pageblock holding `pfn`. */
  pageblockMigrateType(pfn: number): MigrateType {
    return this.pageblockType[pfn >>> PAGEBLOCK_ORDER]! as MigrateType;
  }

  /** Number of pageblocks. */
  get pageblocks(): number {
    return this.pageblockType.length;
  }

  /** Visits every free block in the buddy lists: head pfn, order and the list's migrate type. */
  forEachFreeBlock(visit: (pfn: number, order: number, mt: MigrateType) => void): void {
    for (let mt = 0; mt < NR_MIGRATE_TYPES; mt++) {
      for (let o = 0; o < NR_ORDERS; o++) {
        for (let p = this.freeHead[ORDER_MT(o, mt)]!; p >= 0; p = this.map.next[p]!) visit(p, o, mt);
      }
    }
  }

  /** Visits every page on the per-CPU lists. */
  forEachPerCpuPage(visit: (pfn: number, mt: MigrateType) => void): void {
    for (let mt = 0; mt < 3; mt++) for (let i = 0; i < this.pcpCount[mt]!; i++) visit(this.pcp[mt]![i]!, mt);
  }

  /**
   * Finds the head of the free buddy block containing `pfn`, or -1 if the frame is not in one.
   * Only heads are marked, so this looks at each aligned candidate from order 0 up.
   */
  freeBlockHead(pfn: number): number {
    for (let o = 0; o < NR_ORDERS; o++) {
      const head = pfn & ~((1 << o) - 1);
      if (this.map.flags[head]! & PageFlag.Buddy && this.map.order[head]! >= o) return head;
    }
    return -1;
  }

  /**
   * Takes the free block whose head is `pfn` off the buddy lists for compaction's free scanner
   * (__isolate_free_page). The block stops counting as free and its head is marked
   * {@link PageFlag.Isolated} (its frames stay memdesc type buddy), so nothing merges with it or
   * allocates it until the caller turns part of it into an allocation ({@link allocIsolated}) or
   * puts it back ({@link putbackIsolated}); a block left isolated is a leak `verify` reports.
   * Returns the block's order, or -1, changing nothing, when `pfn` is not the head of a listed
   * free block, the block is in an isolated pageblock, or taking it would leave free memory at or
   * below the min watermark (the copies compaction makes must not eat the reserve).
   */
  isolateFreeBlock(pfn: number): number {
    const map = this.map;
    map.checkPfn(pfn);
    if (!(map.flags[pfn]! & PageFlag.Buddy) || map.ref[pfn] === MigrateType.Isolate) return -1;
    const order = map.order[pfn]!;
    if (this.vm.stat[Stat.FreePages]! - (1 << order) <= this.watermarks.min) return -1;
    this.delFree(pfn, order);
    this.vm.stat[Stat.FreePages] -= 1 << order;
    map.flags[pfn]! |= PageFlag.Isolated;
    return order;
  }

  /**
   * Hands out the first 2^`order` frames of an isolated free block (see {@link isolateFreeBlock})
   * as an allocation `{type, ref}`, exactly as {@link allocPages} would have. The rest of the block
   * stays isolated, held by the same caller, as blocks of orders `order` … blockOrder − 1 at
   * `pfn + 2^k`. Called by `FolioTable.allocIsolated` for compaction's migration targets. Throws
   * EINVAL, changing nothing, when `pfn` is not the head of an isolated block of at least `order`.
   */
  allocIsolated(pfn: number, order: number, type: MemdescType, ref: number): void {
    const map = this.map;
    const blockOrder = this.isolatedOrder(pfn);
    if (!Number.isInteger(order) || order < 0 || order > blockOrder) {
      throw fail("EINVAL", `cannot take order ${order} from the isolated order-${blockOrder} block at frame ${pfn}`);
    }
    if (type === MemdescType.Buddy || type === MemdescType.PerCpu || type === MemdescType.Offline) {
      throw fail("EINVAL", `cannot allocate pages as memdesc type ${type}: that type means free or offline`);
    }
    for (let k = blockOrder - 1; k >= order; k--) {
      const rest = pfn + (1 << k);
      map.flags[rest] = (map.flags[rest]! & ~(PageFlag.Head | PageFlag.Buddy)) | PageFlag.Isolated;
      map.order[rest] = k;
      map.ref[rest] = map.ref[pfn]!;
    }
    map.setMemdesc(pfn, 1 << order, type, ref);
    map.flags[pfn] = (map.flags[pfn]! & ~PageFlag.Isolated) | PageFlag.Head;
    map.order[pfn] = order;
    this.vm.events[VmEvent.PgAlloc] += 1 << order;
  }

  /**
   * Returns an isolated free block to the buddy lists, merging it with free buddies (compaction
   * giving back the free pages it did not use). Returns the block's order. Throws EINVAL when
   * `pfn` is not the head of an isolated free block.
   */
  putbackIsolated(pfn: number): number {
    const order = this.isolatedOrder(pfn);
    this.map.flags[pfn]! &= ~PageFlag.Isolated;
    this.freeOneBlock(pfn, order);
    return order;
  }

  /** Order of the isolated free block headed by `pfn`; EINVAL if there is none. */
  private isolatedOrder(pfn: number): number {
    const map = this.map;
    map.checkPfn(pfn);
    if (map.type[pfn] !== MemdescType.Buddy || !(map.flags[pfn]! & PageFlag.Isolated) || map.flags[pfn]! & PageFlag.Buddy) {
      throw fail("EINVAL", `frame ${pfn} is not the head of an isolated free block (it is ${describeType(map.type[pfn]!)})`);
    }
    return map.order[pfn]!;
  }

  /**
   * Takes free frame `pfn` out of the allocator for good (take_page_off_buddy): off the per-CPU
   * list, or out of its buddy block, whose other frames go back on the lists as smaller blocks. The
   * frame becomes {@link MemdescType.Offline} and its bytes are overwritten, so anything still
   * reading it reads garbage. Memory failure calls it after marking the frame poisoned. Returns
   * false, changing nothing, when the frame is not on a free list (allocated, or in a block
   * compaction has isolated).
   */
  takeOffline(pfn: number): boolean {
    const map = this.map;
    map.checkPfn(pfn);
    const t = map.type[pfn];
    if (t === MemdescType.PerCpu) {
      for (let mt = 0; mt < 3; mt++) {
        const list = this.pcp[mt]!;
        const i = list.subarray(0, this.pcpCount[mt]!).indexOf(pfn);
        if (i < 0) continue;
        list.copyWithin(i, i + 1, this.pcpCount[mt]!);
        this.pcpCount[mt]!--;
        this.vm.stat[Stat.PerCpuPages]--;
        this.retire(pfn);
        return true;
      }
      return false;
    }
    if (t !== MemdescType.Buddy) return false;
    let head = this.freeBlockHead(pfn);
    if (head < 0) return false;
    let order = map.order[head]!;
    this.delFree(head, order);
    this.vm.stat[Stat.FreePages] -= 1 << order;
    // Halve down to the frame, listing each half it is not in (as expand does).
    while (order > 0) {
      order--;
      const upper = head + (1 << order);
      const other = pfn >= upper ? head : upper;
      if (pfn >= upper) head = upper;
      this.addFree(other, order, this.pageblockType[other >>> PAGEBLOCK_ORDER]!);
      this.vm.stat[Stat.FreePages] += 1 << order;
    }
    this.retire(pfn);
    return true;
  }

  /**
   * Gives a retired ({@link MemdescType.Offline}) frame back to the buddy lists, where it merges
   * with its free buddies (unpoison). The caller has cleared its poison flag. Throws EINVAL,
   * changing nothing, for a frame that is not offline or is still flagged poisoned.
   */
  returnOffline(pfn: number): void {
    const map = this.map;
    map.checkPfn(pfn);
    if (map.type[pfn] !== MemdescType.Offline || map.flags[pfn]! & PageFlag.HwPoison) {
      throw fail("EINVAL", `frame ${pfn} is not an offline frame cleared of its poison (it is ${describeType(map.type[pfn]!)})`);
    }
    map.setMemdesc(pfn, 1, MemdescType.Buddy, 0);
    this.freeOneBlock(pfn, 0);
  }

  private getPageFromFreelist(order: number, gfp: number, mark: number): number {
    const mt = gfpMigrateType(gfp);
    if (order === 0) {
      if (this.pcpCount[mt] === 0) {
        if (!this.watermarkOk(0, mark, gfp)) return -1;
        this.refillPcp(mt);
        if (this.pcpCount[mt] === 0) return -1;
      } else if (this.vm.stat[Stat.FreePages]! + this.pcpCount[mt]! <= this.minFor(mark, gfp)) {
        return -1;
      }
      this.vm.stat[Stat.PerCpuPages]--;
      return this.pcp[mt]![--this.pcpCount[mt]!]!;
    }
    if (!this.watermarkOk(order, mark, gfp)) return -1;
    return this.rmqueue(order, mt);
  }

  private slowPath(order: number, gfp: number): number {
    for (const hook of this.lowWatermarkHooks) hook();
    const atMin = this.getPageFromFreelist(order, gfp, this.watermarks.min);
    if (atMin >= 0 || gfp & Gfp.Atomic) return atMin;
    // __GFP_NORETRY (readahead, opportunistic allocations): one light round, never a retry loop.
    const attempts = gfp & Gfp.NoRetry ? 1 : 16;
    for (let attempt = 0; attempt < attempts; attempt++) {
      let progress = false;
      for (const step of this.slowPaths) {
        if (step(order, gfp)) {
          progress = true;
          const pfn = this.getPageFromFreelist(order, gfp, this.watermarks.min);
          if (pfn >= 0) return pfn;
        }
      }
      if (!progress) break;
    }
    return -1;
  }

  private minFor(mark: number, gfp: number): number {
    return gfp & Gfp.Atomic ? mark >> 1 : mark;
  }

  /** zone_watermark_ok: enough free pages above the mark, and a block of at least `order`. */
  private watermarkOk(order: number, mark: number, gfp: number): boolean {
    const free = this.vm.stat[Stat.FreePages]! - ((1 << order) - 1);
    if (free <= this.minFor(mark, gfp)) return false;
    if (order === 0) return true;
    for (let o = order; o < NR_ORDERS; o++) {
      for (let mt = 0; mt < MigrateType.Isolate; mt++) if (this.nrFree[ORDER_MT(o, mt)]! > 0) return true;
    }
    return false;
  }

  private refillPcp(mt: number): void {
    const list = this.pcp[mt]!;
    const first = this.pcpCount[mt]!;
    let n = first;
    for (let i = 0; i < this.pcpBatch; i++) {
      const pfn = this.rmqueue(0, mt);
      if (pfn < 0) break;
      this.map.type[pfn] = MemdescType.PerCpu;
      list[n++] = pfn;
      this.vm.stat[Stat.PerCpuPages]++;
    }
    // The list is popped from its end: reverse the batch so pages go out in ascending order,
    // as Linux's rmqueue_bulk queues them, keeping a sequentially filled file contiguous.
    list.subarray(first, n).reverse();
    this.pcpCount[mt] = n;
    this.vm.events[VmEvent.PcpRefill]++;
  }

  private drainPcpList(mt: number, count: number): void {
    const list = this.pcp[mt]!;
    // Free the oldest pages first: they are the least likely to be cache-hot.
    for (let i = 0; i < count; i++) {
      const pfn = list[i]!;
      this.map.type[pfn] = MemdescType.Buddy;
      this.freeOneBlock(pfn, 0);
    }
    list.copyWithin(0, count, this.pcpCount[mt]!);
    this.pcpCount[mt]! -= count;
    this.vm.stat[Stat.PerCpuPages] -= count;
    if (count > 0) this.vm.events[VmEvent.PcpDrain]++;
  }

  /** Takes a block of exactly `order` from the lists, splitting or stealing as needed; -1 if none. */
  private rmqueue(order: number, mt: number): number {
    let pfn = this.rmqueueSmallest(order, mt);
    if (pfn < 0) pfn = this.rmqueueFallback(order, mt);
    return pfn;
  }

  private rmqueueSmallest(order: number, mt: number): number {
    for (let o = order; o < NR_ORDERS; o++) {
      const pfn = this.freeHead[ORDER_MT(o, mt)]!;
      if (pfn < 0) continue;
      this.delFree(pfn, o);
      this.vm.stat[Stat.FreePages] -= 1 << o;
      this.expand(pfn, order, o);
      return pfn;
    }
    return -1;
  }

  /**
   * __rmqueue_fallback: take the largest block from another migrate type's lists. A large steal
   * (half a pageblock or more), or any unmovable/reclaimable steal, moves the rest of that
   * pageblock's free pages to the requested type and claims the pageblock if at least half of it
   * was free, so that later allocations of the same kind cluster there instead of polluting more.
   */
  private rmqueueFallback(order: number, mt: number): number {
    for (let o = MAX_ORDER; o >= order; o--) {
      for (const from of FALLBACKS[mt]!) {
        const pfn = this.freeHead[ORDER_MT(o, from)]!;
        if (pfn < 0) continue;
        this.vm.events[VmEvent.FallbackAlloc]++;
        if (o >= PAGEBLOCK_ORDER) {
          for (let b = pfn >>> PAGEBLOCK_ORDER; b < (pfn + (1 << o)) >>> PAGEBLOCK_ORDER; b++) this.pageblockType[b] = mt;
          this.vm.events[VmEvent.PageblockClaimed]++;
        } else if (o >= PAGEBLOCK_ORDER >> 1 || mt !== MigrateType.Movable) {
          this.stealPageblock(pfn, mt);
        }
        this.delFree(pfn, o);
        this.vm.stat[Stat.FreePages] -= 1 << o;
        this.expand(pfn, order, o);
        return pfn;
      }
    }
    return -1;
  }

  private stealPageblock(pfn: number, mt: number): void {
    const start = pfn & ~(PAGEBLOCK_FRAMES - 1);
    const end = Math.min(start + PAGEBLOCK_FRAMES, this.map.frames);
    let free = 0;
    for (let p = start; p < end; ) {
      if (this.map.flags[p]! & PageFlag.Buddy) {
        const o = this.map.order[p]!;
        free += 1 << o;
        p += 1 << o;
      } else {
        p++;
      }
    }
    if (free >= PAGEBLOCK_FRAMES >> 1) {
      this.pageblockType[start >>> PAGEBLOCK_ORDER] = mt;
      this.vm.events[VmEvent.PageblockClaimed]++;
      for (let p = start; p < end; ) {
        if (this.map.flags[p]! & PageFlag.Buddy) {
          const o = this.map.order[p]!;
          this.delFree(p, o);
          this.addFree(p, o, mt);
          p += 1 << o;
        } else {
          p++;
        }
      }
    }
  }

  /** Splits a block of order `high` at `pfn` down to `low`, freeing the upper halves. */
  private expand(pfn: number, low: number, high: number): void {
    while (high > low) {
      high--;
      const half = pfn + (1 << high);
      this.addFree(half, high, this.pageblockType[half >>> PAGEBLOCK_ORDER]!);
      this.vm.stat[Stat.FreePages] += 1 << high;
    }
  }

  /**
   * Frees a run holding frames flagged poisoned: those are retired, the others go back to the
   * buddy lists as the largest aligned blocks that avoid them. Returns false, doing nothing, when
   * no frame of the run is poisoned.
   */
  private freeAroundPoison(pfn: number, order: number): boolean {
    if (!this.anyPoisoned(pfn, order)) return false;
    const free = (p: number, o: number): void => {
      if (!this.anyPoisoned(p, o)) {
        this.map.setMemdesc(p, 1 << o, MemdescType.Buddy, 0);
        this.freeOneBlock(p, o);
      } else if (o === 0) {
        this.retire(p);
      } else {
        free(p, o - 1);
        free(p + (1 << (o - 1)), o - 1);
      }
    };
    free(pfn, order);
    return true;
  }

  private anyPoisoned(pfn: number, order: number): boolean {
    const flags = this.map.flags;
    for (let p = pfn; p < pfn + (1 << order); p++) if (flags[p]! & PageFlag.HwPoison) return true;
    return false;
  }

  /** Makes a frame offline for good; its bytes are scribbled over so a stale user reads garbage, not the old data. */
  private retire(pfn: number): void {
    const map = this.map;
    map.type[pfn] = MemdescType.Offline;
    map.ref[pfn] = 0;
    map.order[pfn] = 0;
    map.flags[pfn]! &= ~(PageFlag.Head | PageFlag.Buddy);
    const at = this.mem.offsetOf(pfn);
    this.mem.sectionOf(pfn).fill(0xdb, at, at + PAGE_SIZE);
  }

  /** __free_one_page: merge with free buddies as far as possible, then list the result. */
  private freeOneBlock(pfn: number, order: number): void {
    const map = this.map;
    this.vm.stat[Stat.FreePages] += 1 << order;
    const isolated = this.pageblockType[pfn >>> PAGEBLOCK_ORDER] === MigrateType.Isolate;
    while (order < MAX_ORDER) {
      const buddy = pfn ^ (1 << order);
      if (buddy >= map.frames || !(map.flags[buddy]! & PageFlag.Buddy) || map.order[buddy] !== order) break;
      if ((this.pageblockType[buddy >>> PAGEBLOCK_ORDER] === MigrateType.Isolate) !== isolated) break;
      this.delFree(buddy, order);
      pfn &= buddy;
      order++;
    }
    this.addFree(pfn, order, this.pageblockType[pfn >>> PAGEBLOCK_ORDER]!);
  }

  private addFree(pfn: number, order: number, mt: number): void {
    const map = this.map;
    const list = ORDER_MT(order, mt);
    const head = this.freeHead[list]!;
    map.flags[pfn] = (map.flags[pfn]! & ~PageFlag.Head) | PageFlag.Buddy;
    map.type[pfn] = MemdescType.Buddy;
    map.order[pfn] = order;
    map.ref[pfn] = mt;
    map.prev[pfn] = -1;
    map.next[pfn] = head;
    if (head >= 0) map.prev[head] = pfn;
    this.freeHead[list] = pfn;
    this.nrFree[list]!++;
  }

  private delFree(pfn: number, order: number): void {
    const map = this.map;
    const list = ORDER_MT(order, map.ref[pfn]!);
    const next = map.next[pfn]!;
    const prev = map.prev[pfn]!;
    if (prev >= 0) map.next[prev] = next;
    else this.freeHead[list] = next;
    if (next >= 0) map.prev[next] = prev;
    map.next[pfn] = -1;
    map.prev[pfn] = -1;
    map.flags[pfn]! &= ~PageFlag.Buddy;
    this.nrFree[list]!--;
  }
}

/** Fallback order when a migrate type's own lists are empty (Linux's fallbacks[]). */
const FALLBACKS: readonly (readonly number[])[] = [
  [MigrateType.Reclaimable, MigrateType.Movable],
  [MigrateType.Reclaimable, MigrateType.Unmovable],
  [MigrateType.Unmovable, MigrateType.Movable],
];

/** The migrate type an allocation with these flags is grouped under. */
export function gfpMigrateType(gfp: number): MigrateType {
  return gfp & Gfp.Movable ? MigrateType.Movable : gfp & Gfp.Reclaimable ? MigrateType.Reclaimable : MigrateType.Unmovable;
}

function describeType(t: number): string {
  return ["free", "free (per-CPU)", "a folio", "a slab", "vmalloc", "a page table", "hugetlb", "reserved", "a large kmalloc", "offline"][t] ?? `type ${t}`;
}
