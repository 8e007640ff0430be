/**
 * Memory counters, read like /proc/vmstat: gauges of pages in each state ({@link Stat}) and
 * monotonically increasing event counts ({@link VmEvent}). Subsystems update them as they
 * change state; `verify` recounts the gauges from the struct page table to prove them right.
 */

/** Gauges, in pages. */
export const enum Stat {
  /** Pages in the buddy free lists (nr_free_pages); per-CPU lists are {@link PerCpuPages}. */
  FreePages,
  /** Free order-0 pages held on the per-CPU lists. */
  PerCpuPages,
  /** Page-cache pages (nr_file_pages), clean or dirty, mapped or not. */
  FilePages,
  /** Pages of anonymous folios, resident (nr_anon_pages). */
  AnonPages,
  /** Page-cache pages dirty and not yet under writeback (nr_dirty). */
  Dirty,
  /** Pages under write I/O (nr_writeback). */
  Writeback,
  /** Pages of slabs of reclaimable caches (Gfp.Reclaimable): a shrinker can free their objects. */
  SlabReclaimable,
  /** Pages of slabs of every other cache. */
  SlabUnreclaimable,
  /** Pages backing vmalloc areas (not vmap, whose pages belong to their caller). */
  VmallocPages,
  /** Frames holding user page tables. */
  PageTables,
  /** Pages of kmalloc allocations of 64 KiB or more, served by the page allocator. */
  LargeKmalloc,
  /** Pages in the hugetlb pool, free or in use. */
  HugetlbPages,
  /** Frames never handed to the allocator (frame 0). */
  Reserved,
  /** Frames taken offline after a memory error. */
  HwPoisoned,
  /** nr_active_file: file pages on the LRU that the eviction policy counts as active (its `isActive`; 0 for a policy without an active list). Brought up to date by {@link VmStat.refresh}. */
  ActiveFile,
  /** nr_inactive_file: the other file pages on the LRU. Brought up to date by {@link VmStat.refresh}. */
  InactiveFile,
  /** nr_active_anon: as {@link ActiveFile}, for anonymous pages. */
  ActiveAnon,
  /** nr_inactive_anon: as {@link InactiveFile}, for anonymous pages. */
  InactiveAnon,
  /** Page-cache pages mapped into some address space (a folio counts all its pages while any PTE maps it). */
  FileMapped,
  /** Anonymous folios of PMD order (2 MiB transparent huge pages, PTE-mapped here), counted in huge pages as Linux counts them. */
  AnonThps,
  /** Number of gauges: the length of {@link VmStat.stat}, not a counter. */
  Count,
}

/** Names of {@link Stat} values as /proc/vmstat spells them. */
export const STAT_NAMES: readonly string[] = [
  "nr_free_pages", "nr_percpu_pages", "nr_file_pages", "nr_anon_pages", "nr_dirty", "nr_writeback",
  "nr_slab_reclaimable", "nr_slab_unreclaimable", "nr_vmalloc", "nr_page_table_pages", "nr_kmalloc_large",
  "nr_hugetlb", "nr_reserved", "nr_hwpoisoned", "nr_active_file", "nr_inactive_file", "nr_active_anon",
  "nr_inactive_anon", "nr_mapped", "nr_anon_transparent_hugepages",
];

/** Event counters. */
export const enum VmEvent {
  /** Pages handed out by the page allocator. */
  PgAlloc,
  /** Pages given back to the page allocator. */
  PgFree,
  /** Allocations that failed after the slow path (pgalloc_fail). */
  AllocFail,
  /** Refills of a per-CPU list from the buddy lists. */
  PcpRefill,
  /** Drains of a per-CPU list back to the buddy lists. */
  PcpDrain,
  /** Allocations served from a pageblock of another migrate type. */
  FallbackAlloc,
  /** Pageblocks whose migrate type a fallback allocation changed to its own. */
  PageblockClaimed,
  /** Slab objects allocated. */
  SlabAlloc,
  /** Slab objects freed. */
  SlabFree,
  /** Slabs added to a cache (pages taken from the page allocator). */
  SlabGrow,
  /** Empty slabs given back to the page allocator. */
  SlabShrink,
  /** kmalloc calls of 64 KiB or more, served by the page allocator. */
  KmallocLarge,
  /** vmalloc areas created. */
  VmallocAlloc,
  /** vmap calls (areas over frames the caller already has). */
  VmapCalls,
  /** Huge pages added to the hugetlb pool from the page allocator. */
  HugetlbAlloc,
  /** Huge pages returned to the pool (or dissolved) when their last reference went. */
  HugetlbFree,
  /** Huge page allocations that failed: the pool could not grow, or had no unreserved page. */
  HugetlbAllocFail,
  /** Folios allocated. */
  FolioAlloc,
  /** Folios freed (their last reference went). */
  FolioFree,
  /** Pages scanned on the LRU by kswapd. */
  PgscanKswapd,
  /** Pages scanned on the LRU by direct reclaim. */
  PgscanDirect,
  /** Pages reclaimed by kswapd. */
  PgstealKswapd,
  /** Pages reclaimed by direct reclaim. */
  PgstealDirect,
  /** LRU pages reclaim passed over because they were dirty (the flusher was woken). */
  ReclaimSkipDirty,
  /** LRU pages reclaim passed over because they were under writeback. */
  ReclaimSkipWriteback,
  /** LRU pages reclaim passed over because they were locked, isolated or had no owner. */
  ReclaimSkipBusy,
  /** LRU pages whose owner refused `release` (pinned, busy). */
  ReclaimKept,
  /** Objects shrinkers were asked to scan. */
  SlabsScanned,
  /** kswapd runs. */
  KswapdWake,
  /** Allocations that entered direct reclaim. */
  AllocStall,
  /** Pages that came back while the index still held their shadow entry. */
  WorkingsetRefault,
  /** Allocation failures reported after reclaim gave up. */
  OomReport,
  /** Shadow entries dropped by their shrinker. */
  WorkingsetNodereclaim,
  /** Pages read from swap. */
  SwapIn,
  /** Pages written to swap. */
  SwapOut,
  /** Direct reclaims that waited for writeback (reclaim_throttle). */
  ReclaimThrottle,
  /** Allocations failed on purpose by fault injection. */
  AllocFailInjected,
  /** Page faults of user mappings handled. */
  PgFault,
  /** Of {@link PgFault}, faults that waited for a read from a device or swap (major faults). */
  PgMajFault,
  /** Mapped LRU pages reclaim kept because a page-table entry had been used since its last scan (folio_referenced). */
  ReclaimMappedReferenced,
  /** Pages reclaim unmapped from every page table before offering them to their owner (try_to_unmap). */
  ReclaimUnmapped,
  /** Pages of folios migrated (counted in pages, as Linux). */
  PgmigrateSuccess,
  /** Pages of folios that failed to migrate. */
  PgmigrateFail,
  /** Frames compaction's migrate scanner looked at. */
  CompactMigrateScanned,
  /** Frames compaction's free scanner looked at. */
  CompactFreeScanned,
  /** Pages compaction isolated: folios to move and free pages to move them to. */
  CompactIsolated,
  /** Direct compactions run for a failed allocation. */
  CompactStall,
  /** Direct compactions after which the allocation's order was free. */
  CompactSuccess,
  /** Direct compactions that did not free a block of the order. */
  CompactFail,
  /** kcompactd runs (for an order or proactive). */
  CompactDaemonWake,
  /** Direct compactions skipped because the order was deferred after failures. */
  CompactDeferred,
  /** Large folios split into smaller ones. */
  ThpSplitPage,
  /** Memory failures recovered (MF_RECOVERED): the frame was retired or unpoisoned; its content moved, dropped, or reported lost to its owner. */
  MemoryFailureRecovered,
  /** Memory failures ignored (MF_IGNORED): nothing to do, the frame was already poisoned (or, to unpoison, was not). */
  MemoryFailureIgnored,
  /** Memory failures that failed (MF_FAILED): the frame stays in use, flagged (reserved, kernel memory, an owner that refused), and is retired when freed. */
  MemoryFailureFailed,
  /** Memory failures delayed (MF_DELAYED): the page was busy (locked, under writeback, isolated) and is tried again later. */
  MemoryFailureDelayed,
  /** Frames soft-offlined (content moved away, frame retired). */
  SoftOffline,
  /** Anonymous faults that got a large folio (any order above 0, mTHP included). */
  ThpFaultAlloc,
  /** Anonymous faults that wanted a large folio and fell back to order 0. */
  ThpFaultFallback,
  /** Large anonymous folios unmapped in part that could not be split at once and were queued for a deferred split. */
  ThpDeferredSplitPage,
  /** Splits refused (extra references, writeback, no memory for descriptors). */
  ThpSplitPageFailed,
  /** Large anonymous folios split before swap-out (there is no THP swap). */
  ThpSwpoutFallback,
  /** Number of event counters: the length of {@link VmStat.events}, not a counter. */
  Count,
}

/** Names of {@link VmEvent} values, in /proc/vmstat style. */
export const EVENT_NAMES: readonly string[] = [
  "pgalloc", "pgfree", "pgalloc_fail", "pcp_refill", "pcp_drain", "pgalloc_fallback", "pageblock_claimed",
  "slab_alloc", "slab_free", "slab_grow", "slab_shrink", "kmalloc_large", "vmalloc_alloc", "vmap_calls",
  "htlb_buddy_alloc_success", "htlb_free", "htlb_buddy_alloc_fail", "folio_alloc", "folio_free",
  "pgscan_kswapd", "pgscan_direct", "pgsteal_kswapd", "pgsteal_direct", "nr_reclaim_skip_dirty", "nr_reclaim_skip_writeback",
  "nr_reclaim_skip_busy", "nr_reclaim_kept", "slabs_scanned", "pageoutrun", "allocstall", "workingset_refault_file", "oom_report",
  "workingset_nodereclaim", "pswpin", "pswpout", "reclaim_throttle", "pgalloc_fail_injected", "pgfault", "pgmajfault",
  "nr_reclaim_mapped_referenced", "nr_reclaim_unmapped", "pgmigrate_success", "pgmigrate_fail",
  "compact_migrate_scanned", "compact_free_scanned", "compact_isolated", "compact_stall", "compact_success", "compact_fail",
  "compact_daemon_wake", "compact_deferred", "thp_split_page", "memory_failure_recovered", "memory_failure_ignored",
  "memory_failure_failed", "memory_failure_delayed", "soft_offline",
  "thp_fault_alloc", "thp_fault_fallback", "thp_deferred_split_page", "thp_split_page_failed", "thp_swpout_fallback",
];

/** The per-machine counters. */
export class VmStat {
  /** Gauges indexed by {@link Stat}. */
  readonly stat = new Float64Array(Stat.Count);
  /** Event counts indexed by {@link VmEvent}. */
  readonly events = new Float64Array(VmEvent.Count);
  private readonly sources: (() => Readonly<Record<string, number>>)[] = [];
  private readonly refreshers: (() => void)[] = [];

  /**
   * Registers `update`, which brings gauges that are too costly to keep current on every change
   * (the active/inactive split, which asks the eviction policy page by page) up to date. Reports
   * call {@link refresh} before they read; code that reads {@link stat} directly sees those gauges
   * as of the last report.
   */
  onRefresh(update: () => void): void {
    this.refreshers.push(update);
  }

  /** Brings the gauges registered with {@link onRefresh} up to date; reports call it first. */
  refresh(): void {
    for (const update of this.refreshers) update();
  }

  /**
   * Adds counters kept elsewhere (the eviction policy's workingset_activate, say) to
   * {@link toObject}; a source's names must not repeat the built-in ones.
   */
  addSource(source: () => Readonly<Record<string, number>>): void {
    this.sources.push(source);
  }

  /** All counters as an object, in /proc/vmstat order and names. */
  toObject(): Record<string, number> {
    this.refresh();
    const out: Record<string, number> = {};
    STAT_NAMES.forEach((n, i) => (out[n] = this.stat[i]!));
    EVENT_NAMES.forEach((n, i) => (out[n] = this.events[i]!));
    for (const source of this.sources) for (const [k, v] of Object.entries(source())) if (!(k in out)) out[k] = v;
    return out;
  }

  /** The counters as /proc/vmstat prints them: `name value` lines. */
  format(): string {
    return Object.entries(this.toObject())
      .map(([k, v]) => `${k} ${v}`)
      .join("\n");
  }
}
