/**
 * The block device layer: backing stores (memfs, real files), the block device interface, a
 * simulated device timed in virtual time, and a fault-injecting device for crash testing.
 */
export * from "./store.js";
export * from "./device.js";
export * from "./sim.js";
export * from "./faulty.js";
export * from "./sync-io.js";
export * from "./registry.js";
export * from "./swap.js";
