import { fail } from "./errors.js";

/** log2 of the frame size: frames are 4 KiB, as on x86-64 and most arm64 kernels. */
export const PAGE_SHIFT = 12;
/** Bytes in one frame. */
export const PAGE_SIZE = 1 << PAGE_SHIFT;

const UNITS: Record<string, number> = {
  "": 1, B: 1,
  K: 1024, KB: 1024, KIB: 1024,
  M: 1024 ** 2, MB: 1024 ** 2, MIB: 1024 ** 2,
  G: 1024 ** 3, GB: 1024 ** 3, GIB: 1024 ** 3,
  T: 1024 ** 4, TB: 1024 ** 4, TIB: 1024 ** 4,
};

/**
 * Parses a size such as `"256MiB"`, `"4GiB"`, `"64k"` or a plain byte count. Units are binary
 * (K = 1024). Throws EINVAL for anything that is not a positive whole number of bytes.
 */
export function parseSize(size: string | number, what = "size"): number {
  let bytes: number;
  if (typeof size === "number") {
    bytes = size;
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(size);
    const unit = m ? UNITS[m[2]!.toUpperCase()] : undefined;
    if (!m || unit === undefined) {
      throw fail("EINVAL", `${what} "${size}" is not a size (try "256MiB" or "4GiB")`);
    }
    bytes = Number(m[1]) * unit;
  }
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw fail("EINVAL", `${what} ${String(size)} must be a positive whole number of bytes`);
  }
  return bytes;
}

/** Formats bytes with a binary unit, e.g. `formatSize(2097152) === "2MiB"`. */
export function formatSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = bytes;
  while (v >= 1024 && i < units.length - 1 && v % 1024 === 0) {
    v /= 1024;
    i++;
  }
  return `${v}${units[i]}`;
}

/** Checks that `n` is a whole number in [min, max]; throws EINVAL naming `what` otherwise. */
export function checkInt(n: unknown, min: number, max: number, what: string): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
    throw fail("EINVAL", `${what} ${String(n)} is not a whole number in [${min}, ${max}]`);
  }
  return n;
}
