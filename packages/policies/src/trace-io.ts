/**
 * Recorded traces on disk, in two formats:
 *
 * - text: one page key per line (decimal integers); blank lines and lines starting with `#`
 *   are ignored, so a trace may carry a comment header;
 * - binary: the keys as little-endian IEEE-754 doubles (a raw Float64Array), extension `.f64`.
 *
 * {@link readTrace} picks the format from the file name (`.f64` or `.bin`: binary, else text).
 * Block I/O traces in CSV are read with {@link readBlockTraceCsv}.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fail } from "@folio/core";
import type { Trace } from "./simulate.js";
import { type BlockTrace, type BlockTraceOptions, parseBlockTraceCsv } from "./traces.js";

/** The text form of a trace: one key per line. */
export function formatTraceText(trace: Trace, header?: string): string {
  const lines: string[] = [];
  if (header !== undefined) for (const h of header.split("\n")) lines.push(`# ${h}`);
  for (let i = 0; i < trace.length; i++) lines.push(String(trace[i]));
  return `${lines.join("\n")}\n`;
}

/** Parses the text form (one key per line, `#` comments). */
export function parseTraceText(text: string): Float64Array {
  const out: number[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const k = Number(line);
    if (!Number.isSafeInteger(k) || k < 0) throw fail("EINVAL", `line ${i + 1}: "${line}" is not a page key`);
    out.push(k);
  }
  return Float64Array.from(out);
}

/** The binary form: little-endian doubles. */
export function encodeTraceBinary(trace: Trace): Uint8Array {
  const bytes = new Uint8Array(trace.length * 8);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < trace.length; i++) view.setFloat64(i * 8, trace[i]!, true);
  return bytes;
}

/** Decodes the binary form. */
export function decodeTraceBinary(bytes: Uint8Array): Float64Array {
  if (bytes.length % 8 !== 0) throw fail("EINVAL", `binary trace of ${bytes.length} bytes is not a whole number of doubles`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(bytes.length / 8);
  for (let i = 0; i < out.length; i++) {
    const k = view.getFloat64(i * 8, true);
    if (!Number.isSafeInteger(k) || k < 0) throw fail("EINVAL", `entry ${i}: ${k} is not a page key`);
    out[i] = k;
  }
  return out;
}

function isBinaryName(path: string): boolean {
  return path.endsWith(".f64") || path.endsWith(".bin");
}

/** Writes a trace, binary when the name ends in `.f64` or `.bin`, else text. */
export function writeTrace(path: string, trace: Trace, header?: string): void {
  if (isBinaryName(path)) writeFileSync(path, encodeTraceBinary(trace));
  else writeFileSync(path, formatTraceText(trace, header));
}

/** Reads a trace written by {@link writeTrace} (format from the name). */
export function readTrace(path: string): Float64Array {
  const data = readFileSync(path);
  return isBinaryName(path) ? decodeTraceBinary(data) : parseTraceText(data.toString("utf8"));
}

/** Reads a `version,time,op,size,lbn` block trace (see {@link parseBlockTraceCsv}). */
export function readBlockTraceCsv(path: string, options?: BlockTraceOptions): BlockTrace {
  return parseBlockTraceCsv(readFileSync(path, "utf8"), options);
}
