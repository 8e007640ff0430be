/**
 * Writing results: text or JSON on stdout, written synchronously so that a report is complete
 * before the process exits, and a closed pipe (`folio trace … | head`) ends the command quietly.
 * Imports nothing of Folio, so `folio --help` loads quickly.
 */
import { writeSync } from "node:fs";

/** Raised when stdout's reader went away (EPIPE): the command stops, successfully. */
export class OutputClosed extends Error {
  constructor() {
    super("stdout was closed");
    this.name = "OutputClosed";
  }
}

/** Writes all of `data` to file descriptor `fd` (1 = stdout) synchronously. Throws {@link OutputClosed} on EPIPE. */
export function writeOut(data: string | Uint8Array, fd = 1): void {
  const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "EPIPE") throw new OutputClosed();
      // A non-blocking pipe that is full: try again (the reader drains it).
      if (code === "EAGAIN") continue;
      throw e;
    }
  }
}

/** Prints a line (or lines) of text on stdout. */
export function println(text = ""): void {
  writeOut(`${text}\n`);
}

/** Prints `value` as indented JSON on stdout: the `--json` form of every report. */
export function printJson(value: unknown): void {
  writeOut(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Buffers lines and writes them in chunks of at least 64 KiB: JSON lines of a long trace would
 * cost one system call each otherwise.
 */
export class LineWriter {
  private parts: string[] = [];
  private bytes = 0;

  /** Adds one line (without its newline). */
  line(text: string): void {
    this.parts.push(text);
    this.bytes += text.length + 1;
    if (this.bytes >= 65536) this.flush();
  }

  /** Writes what is buffered. */
  flush(): void {
    if (this.parts.length === 0) return;
    const text = `${this.parts.join("\n")}\n`;
    this.parts = [];
    this.bytes = 0;
    writeOut(text);
  }
}

/** A size in human units: 512 B, 4.0 KiB, 1.5 MiB, 2.0 GiB. */
export function human(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** Formats a time in nanoseconds since 1970 as ISO 8601 with nanoseconds, in UTC. */
export function isoTime(ns: number): string {
  const ms = Math.floor(ns / 1e6);
  // Formatting a stored timestamp, not reading the host clock: the lint rule against Date guards
  // the engine's determinism, which this cannot affect.
  // eslint-disable-next-line no-restricted-globals
  const base = new Date(ms).toISOString().slice(0, 19);
  const frac = String(Math.round(ns - ms * 1e6) + (ms % 1000) * 1e6).padStart(9, "0");
  return `${base}.${frac}Z`;
}

/** `ls -l`'s date column: `2026-01-01 00:00` (UTC). */
export function shortTime(ns: number): string {
  // eslint-disable-next-line no-restricted-globals
  return new Date(Math.floor(ns / 1e6)).toISOString().slice(0, 16).replace("T", " ");
}
