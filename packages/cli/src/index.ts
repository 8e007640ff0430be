/**
 * @folio/cli: the `folio` command, and the parts other tools reuse — the memory map renderer,
 * page-types, frame descriptions, workloads and their runner, trace sources.
 */
export * from "./errors.js";
export * from "./session.js";
export * from "./runner.js";
export * from "./page-types.js";
export * from "./describe.js";
export * from "./memmap/index.js";
export * from "./workloads/index.js";
export * from "./tracing/index.js";
export { createProgram, VERSION } from "./program.js";
export { detectFs, openImage, withImage, type ImageSession } from "./image.js";
