/**
 * @folio/sim: Folio's trust harness — deterministic simulation of a filesystem under a seeded
 * workload checked against an oracle model, fault injection (I/O errors, power cuts with torn
 * writes, memory exhaustion), persistence-model checks after every crash, and replayable
 * violations. See docs/TRUST.md.
 *
 * @module @folio/sim
 */
export * from "./content.js";
export * from "./faults.js";
export * from "./known.js";
export * from "./memory-faults.js";
export * from "./model.js";
export * from "./persistence.js";
export * from "./ram-store.js";
export * from "./report.js";
export * from "./runner.js";
export * from "./targets.js";
export * from "./workload.js";
export * from "./world.js";
