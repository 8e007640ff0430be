/**
 * Injection tokens for the services of one simulated machine. Every machine is its own child
 * container with these registered container-scoped, so two machines in one process share nothing;
 * consumers (filesystems, policies, devices) receive services through constructor injection by
 * these explicit tokens, never through the global container.
 */
export const TOKENS = {
  /** {@link MachineConfig} as given to `Machine.boot`. */
  Config: Symbol.for("folio.Config"),
  /** {@link Machine} itself. */
  Machine: Symbol.for("folio.Machine"),
  /** {@link PhysicalMemory}: the simulated RAM. */
  PhysicalMemory: Symbol.for("folio.PhysicalMemory"),
  /** {@link MemMap}: the struct page table. */
  MemMap: Symbol.for("folio.MemMap"),
  /** {@link VmStat}: the machine's counters. */
  VmStat: Symbol.for("folio.VmStat"),
  /** {@link PageAllocator}: the buddy allocator. */
  PageAllocator: Symbol.for("folio.PageAllocator"),
  /** {@link SlabAllocator}: kmem caches. */
  SlabAllocator: Symbol.for("folio.SlabAllocator"),
  /** {@link MemoryAllocator}: kmalloc/kfree of any size. */
  MemoryAllocator: Symbol.for("folio.MemoryAllocator"),
  /** {@link FolioTable}: folio descriptors. */
  FolioTable: Symbol.for("folio.FolioTable"),
  /** {@link HugetlbPool}: the hugetlb pool. */
  HugetlbPool: Symbol.for("folio.HugetlbPool"),
  /** {@link Vmalloc}: vmalloc and vmap areas. */
  Vmalloc: Symbol.for("folio.Vmalloc"),
  /** {@link OwnerRegistry}: owner ids of folios and their {@link PageOwner}s. */
  OwnerRegistry: Symbol.for("folio.OwnerRegistry"),
  /** {@link Rng}: the machine's root random stream, seeded by `MachineConfig.seed`. */
  Rng: Symbol.for("folio.Rng"),
  /** {@link Scheduler}: the virtual clock and event queue. */
  Scheduler: Symbol.for("folio.Scheduler"),
  /** {@link Tracer}: the machine's tracepoints. */
  Tracer: Symbol.for("folio.Tracer"),
  /** The {@link EvictionPolicy} reclaim uses; by default the one named by `MachineConfig.evictionPolicy`. */
  EvictionPolicy: Symbol.for("folio.EvictionPolicy"),
  /** {@link Reclaim}: the LRU, kswapd, direct reclaim and shrinkers. */
  Reclaim: Symbol.for("folio.Reclaim"),
  /** {@link AnonMemory}: anonymous regions and the swap area. */
  AnonMemory: Symbol.for("folio.AnonMemory"),
  /** {@link UserMemory}: address spaces, page tables and the reverse map. */
  UserMemory: Symbol.for("folio.UserMemory"),
  /** {@link Migration}: moving folios to other frames through their owners. */
  Migration: Symbol.for("folio.Migration"),
  /** {@link Compaction}: direct, requested and proactive compaction (kcompactd). */
  Compaction: Symbol.for("folio.Compaction"),
  /** {@link MemoryFailure}: hard and soft offlining of frames with memory errors. */
  MemoryFailure: Symbol.for("folio.MemoryFailure"),
} as const;
