/** What a scenario is, and small helpers scenarios share. */
import os from "node:os";
import type { Recorder } from "./transcript.js";
import type { Fs } from "./setups.js";

/**
 * A sequence of calls on paths under `root`, every one recorded in `rec`. Synchronous scenarios
 * use the sync API; async ones the promise API, FileHandles and streams.
 */
export interface Scenario {
  name: string;
  run(fs: Fs, root: string, rec: Recorder): void | Promise<void>;
}

/** Deterministic bytes (a linear congruential generator), different for each seed. */
export function pattern(length: number, seed = 1): Buffer {
  const out = Buffer.alloc(length);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** True if every byte is zero. */
export function allZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

/** Reads `length` bytes at `position` through a descriptor (what readSync returned, and the bytes). */
export function pread(fs: Fs, fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = fs.readSync(fd, buf, 0, length, position);
  return buf.subarray(0, n);
}

/** A path under `root`. */
export const at = (root: string) => (rel: string): string => (rel === "" ? root : `${root}/${rel}`);

/** True if the host runs Linux `major.minor` or later (for calls whose node:fs result changed with the kernel). */
export function linuxAtLeast(major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(os.release());
  return os.platform() === "linux" && m !== null && (Number(m[1]) > major || (Number(m[1]) === major && Number(m[2]) >= minor));
}
