/**
 * @folio/core: simulated physical memory and everything that owns it.
 * See docs/ARCHITECTURE.md for the layers and the glossary of Linux counterparts.
 *
 * @module @folio/core
 */
export * from "./errors.js";
export * from "./units.js";
export * from "./tokens.js";
export * from "./machine.js";
export * from "./trace.js";
export * from "./mm/physmem.js";
export * from "./mm/memmap.js";
export * from "./mm/vmstat.js";
export * from "./mm/page-alloc.js";
export * from "./mm/slab.js";
export * from "./mm/folio.js";
export * from "./mm/hugetlb.js";
export * from "./mm/vmalloc.js";
export * from "./mm/page-owner.js";
export * from "./mm/describe.js";
export * from "./mm/verify.js";
export * from "./mm/reports.js";
export * from "./engine/rng.js";
export * from "./engine/scheduler.js";
export * from "./mm/eviction.js";
export * from "./mm/lru/node-pool.js";
export * from "./mm/lru/linux.js";
export * from "./mm/reclaim.js";
export * from "./mm/swap.js";
export * from "./mm/anon.js";
export * from "./mm/mmap/index.js";
export * from "./mm/migrate.js";
export * from "./mm/compaction.js";
export * from "./mm/memory-failure.js";
