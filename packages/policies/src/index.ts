/**
 * @folio/policies: eviction policies for the plugin interface of @folio/core, each registered by
 * name when this module loads — "lru", "fifo", "clock", "sieve", "arc", "s3fifo" and "linux" (the
 * default: Linux's active/inactive lists with workingset detection) — with the trace simulator,
 * Belady's OPT, Che's approximation, trace generators and trace readers. See docs/POLICIES.md.
 */
export * from "./lists.js";
export * from "./lru.js";
export * from "./fifo.js";
export * from "./clock.js";
export * from "./sieve.js";
export * from "./arc.js";
export * from "./s3fifo.js";
export * from "./linux.js";
export * from "./simulate.js";
export * from "./opt.js";
export * from "./che.js";
export * from "./traces.js";
export * from "./trace-io.js";

/** The default policy: Linux's two lists with workingset detection. */
export const DEFAULT_EVICTION_POLICY = "linux";

/** The policies this package registers, in the order tables list them. */
export const POLICY_NAMES: readonly string[] = ["lru", "fifo", "clock", "sieve", "arc", "s3fifo", "linux"];
