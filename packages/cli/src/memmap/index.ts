/**
 * The memory map picture: {@link captureMemmap} classifies a machine's frames, {@link renderSvg}
 * and {@link renderPng} draw the snapshot. Kept apart from the command so a live viewer can
 * capture and redraw.
 */
export * from "./model.js";
export { frameOf, renderSvg, type Frame, type RenderOptions } from "./svg.js";
export { renderPng } from "./png.js";
