/**
 * @folio/policies: eviction policies for the plugin interface of @folio/core, each registered by
 * name when this module loads — "lru", "fifo", "clock", "sieve", "arc", "s3fifo" and "linux" (the
 * default: Linux's active/inactive lists with workingset detection, which lives in @folio/core as the
 * kernel's own LRU and is re-exported here) — with the trace simulator,
 * Belady's OPT, Che's approximation, trace generators and trace readers. See docs/POLICIES.md.
 *
 * @module @folio/policies
 */
// The node pool every policy is built from, and the default policy, belong to core (the kernel's LRU).
export { NIL, NO_LIST, NodePool, checkCapacity, LinuxPolicy, inactiveRatio, PAGES_PER_GIB, DEFAULT_EVICTION_POLICY, type LinuxCounters } from "@folio/core";
export * from "./lru.js";
export * from "./fifo.js";
export * from "./clock.js";
export * from "./sieve.js";
export * from "./arc.js";
export * from "./s3fifo.js";
export * from "./simulate.js";
export * from "./opt.js";
export * from "./che.js";
export * from "./traces.js";
export * from "./trace-io.js";


/** The policies this package registers, in the order tables list them. */
export const POLICY_NAMES: readonly string[] = ["lru", "fifo", "clock", "sieve", "arc", "s3fifo", "linux"];
