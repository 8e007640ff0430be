import { KNOWN_BUGS } from "./known.js";
import type { RunStats, Violation } from "./runner.js";

/** A violation as printed: what broke, where (seed, operation), and the one-line replay. */
export function formatViolation(v: Violation): string {
  const known = v.known ? KNOWN_BUGS.find((b) => b.id === v.known) : undefined;
  return (
    `VIOLATION${known ? ` (known bug ${known.id})` : ""} fs=${v.fs} seed=${v.seed} op=${v.op} (${v.opText}): ${v.message}\n` +
    `  replay: ${v.replay}`
  );
}

/** Adds `b`'s counters into `a`. */
export function addStats(a: RunStats, b: RunStats): void {
  for (const k of Object.keys(a) as (keyof RunStats)[]) a[k] += b[k];
}
