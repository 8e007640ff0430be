/**
 * Memory counters, read like /proc/vmstat: gauges of pages in each state ({@link Stat}) and
 * monotonically increasing event counts ({@link VmEvent}). Subsystems update them as they
 * change state; `verify` recounts the gauges from the struct page table to prove them right.
 */

/** Gauges, in pages. */
export const enum Stat {
  FreePages,
  PerCpuPages,
  FilePages,
  AnonPages,
  Dirty,
  Writeback,
  SlabReclaimable,
  SlabUnreclaimable,
  VmallocPages,
  PageTables,
  LargeKmalloc,
  HugetlbPages,
  Reserved,
  HwPoisoned,
  ActiveFile,
  InactiveFile,
  ActiveAnon,
  InactiveAnon,
  /** Page-cache pages mapped into some address space (a folio counts all its pages while any PTE maps it). */
  FileMapped,
  /** Anonymous folios of PMD order (2 MiB transparent huge pages, PTE-mapped here), counted in huge pages as Linux counts them. */
  AnonThps,
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
  PgAlloc,
  PgFree,
  AllocFail,
  PcpRefill,
  PcpDrain,
  FallbackAlloc,
  PageblockClaimed,
  SlabAlloc,
  SlabFree,
  SlabGrow,
  SlabShrink,
  KmallocLarge,
  VmallocAlloc,
  VmapCalls,
  HugetlbAlloc,
  HugetlbFree,
  HugetlbAllocFail,
  FolioAlloc,
  FolioFree,
  /** Pages scanned on the LRU by kswapd / by direct reclaim. */
  PgscanKswapd,
  PgscanDirect,
  /** Pages reclaimed by kswapd / by direct reclaim. */
  PgstealKswapd,
  PgstealDirect,
  /** LRU pages reclaim passed over: dirty (the flusher was woken), under writeback, locked or ownerless. */
  ReclaimSkipDirty,
  ReclaimSkipWriteback,
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
  /** Pages read from / written to swap. */
  SwapIn,
  SwapOut,
  /** Direct reclaims that waited for writeback (reclaim_throttle). */
  ReclaimThrottle,
  /** Allocations failed on purpose by fault injection. */
  AllocFailInjected,
  /** Page faults of user mappings handled / of those, faults that waited for a read from a device or swap. */
  PgFault,
  PgMajFault,
  /** Mapped LRU pages reclaim kept because a page-table entry had been used since its last scan (folio_referenced). */
  ReclaimMappedReferenced,
  /** Pages reclaim unmapped from every page table before offering them to their owner (try_to_unmap). */
  ReclaimUnmapped,
  /** Folios migrated / that failed to migrate (counted in pages, as Linux). */
  PgmigrateSuccess,
  PgmigrateFail,
  /** Compaction: pages the migrate scanner and the free scanner looked at, pages isolated for migration. */
  CompactMigrateScanned,
  CompactFreeScanned,
  CompactIsolated,
  /** Direct compactions run / that made the allocation succeed / that did not. */
  CompactStall,
  CompactSuccess,
  CompactFail,
  /** Proactive (background) compaction runs, and compactions skipped because of deferral. */
  CompactDaemonWake,
  CompactDeferred,
  /** Large folios split into smaller ones. */
  ThpSplitPage,
  /** Memory failures handled, by outcome (Linux's MF_RECOVERED, MF_IGNORED, MF_FAILED, MF_DELAYED). */
  MemoryFailureRecovered,
  MemoryFailureIgnored,
  MemoryFailureFailed,
  MemoryFailureDelayed,
  /** Frames soft-offlined (content moved away, frame retired). */
  SoftOffline,
  /** Anonymous faults that got a large folio (any order above 0, mTHP included) / that wanted one and fell back to order 0. */
  ThpFaultAlloc,
  ThpFaultFallback,
  /** Large anonymous folios unmapped in part that could not be split at once and were queued for a deferred split. */
  ThpDeferredSplitPage,
  /** Splits refused (extra references, writeback, no memory for descriptors). */
  ThpSplitPageFailed,
  /** Large anonymous folios split before swap-out (there is no THP swap). */
  ThpSwpoutFallback,
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

  /**
   * Adds counters kept elsewhere (the eviction policy's workingset_activate, say) to
   * {@link toObject}; a source's names must not repeat the built-in ones.
   */
  addSource(source: () => Readonly<Record<string, number>>): void {
    this.sources.push(source);
  }

  /** All counters as an object, in /proc/vmstat order and names. */
  toObject(): Record<string, number> {
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
