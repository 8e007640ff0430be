/**
 * @folio/cli: the `folio` command, and the parts other tools reuse — the memory map renderer,
 * page-types, frame descriptions, workloads (as runs and as streams of operations) and their
 * runner, trace sources, the live viewer.
 *
 * @module @folio/cli
 */
export * from "./errors.js";
export * from "./session.js";
export * from "./runner.js";
export * from "./page-types.js";
export * from "./describe.js";
export * from "./memmap/index.js";
export * from "./workloads/index.js";
export * from "./tracing/index.js";
export { NO_PROGRESS, createProgress, type Progress } from "./progress.js";
export { DEFAULT_SPEED, VIEWER_HOST, startViewer, type Viewer, type ViewerOptions, type ViewerState } from "./serve/server.js";
export { LiveMachine, type LiveDescription } from "./serve/live.js";
export * from "./serve/protocol.js";
export * from "./plot/svg-plot.js";
export { createProgram, VERSION } from "./program.js";
export { detectFs, openImage, withImage, type ImageSession } from "./image.js";
