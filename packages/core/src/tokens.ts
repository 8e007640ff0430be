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
  PhysicalMemory: Symbol.for("folio.PhysicalMemory"),
  MemMap: Symbol.for("folio.MemMap"),
  VmStat: Symbol.for("folio.VmStat"),
  PageAllocator: Symbol.for("folio.PageAllocator"),
  SlabAllocator: Symbol.for("folio.SlabAllocator"),
  MemoryAllocator: Symbol.for("folio.MemoryAllocator"),
  FolioTable: Symbol.for("folio.FolioTable"),
  HugetlbPool: Symbol.for("folio.HugetlbPool"),
  Vmalloc: Symbol.for("folio.Vmalloc"),
  OwnerRegistry: Symbol.for("folio.OwnerRegistry"),
  Rng: Symbol.for("folio.Rng"),
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
