/**
 * Fault rates of a run. Every fault is drawn from the run's seed: where a power cut falls (between
 * operations or, timed, in the middle of one), whether it tears blocks, when a window of I/O
 * errors opens and what it fails, whether a boot gets so little memory that allocations fail, and
 * which frames go bad (hard and soft offline), come back (unpoison), and when memory is compacted.
 */

export interface FaultRates {
  /** Probability, before each operation, of a power cut. */
  crash: number;
  /** Fraction of power cuts armed as a timer that fires in the middle of the next operations' I/O. */
  midOp: number;
  /** Probability that a power cut tears blocks (keeps a prefix of the lost write's sectors). */
  tear: number;
  /** Probability, before each operation while none is open, that a window of I/O errors opens. */
  io: number;
  /** Highest read error rate of a random window. */
  readRate: number;
  /** Highest write error rate of a random window. */
  writeRate: number;
  /** Fraction of windows that fail chosen blocks (reads or writes) or every flush, instead of random requests. */
  targeted: number;
  /** Probability that a boot gets a tiny memory (1–3 MiB), where allocations fail with ENOMEM. */
  enomem: number;
  /**
   * Probability, before each operation, of a hard offline (memory_failure) of a random frame,
   * whatever it holds; with probability `midOp` it is armed to land inside the next operations.
   */
  hardOffline: number;
  /** Probability, before each operation, of a soft offline (soft_offline_page) of a random frame; `midOp` as above. */
  softOffline: number;
  /** Probability, before each operation, that one frame poisoned earlier is unpoisoned (a cap per machine unpoisons too). */
  unpoison: number;
  /** Probability, before each operation, of a compaction pass (random order 0–9 or the whole zone, random mode); `midOp` as above. */
  compact: number;
}

/** The memory-fault rates: all zero in the profiles from before they existed (`none`, `crash`). */
const NO_MEMORY_FAULTS = { hardOffline: 0, softOffline: 0, unpoison: 0, compact: 0 } as const;

/** Named fault rates for `--faults`: `none`, `crash`, `default` and the others below, each a complete {@link FaultRates}. */
export const FAULT_PROFILES: Readonly<Record<string, FaultRates>> = Object.freeze({
  none: { crash: 0, midOp: 0, tear: 0, io: 0, readRate: 0, writeRate: 0, targeted: 0, enomem: 0, ...NO_MEMORY_FAULTS },
  /** Crashes only (with tearing), no I/O errors or memory pressure. */
  crash: { crash: 0.004, midOp: 0.4, tear: 0.5, io: 0, readRate: 0, writeRate: 0, targeted: 0, enomem: 0, ...NO_MEMORY_FAULTS },
  default: { crash: 0.0025, midOp: 0.4, tear: 0.5, io: 0.004, readRate: 0.05, writeRate: 0.05, targeted: 0.3, enomem: 0.05, hardOffline: 0.01, softOffline: 0.01, unpoison: 0.01, compact: 0.005 },
  heavy: { crash: 0.01, midOp: 0.5, tear: 0.7, io: 0.02, readRate: 0.2, writeRate: 0.2, targeted: 0.4, enomem: 0.15, hardOffline: 0.04, softOffline: 0.03, unpoison: 0.04, compact: 0.02 },
  /**
   * Memory errors and compaction only, at a high rate. Regression seeds replay with it: changing
   * its rates changes what they mean.
   */
  memory: { crash: 0, midOp: 0.4, tear: 0, io: 0, readRate: 0, writeRate: 0, targeted: 0, enomem: 0, hardOffline: 0.25, softOffline: 0.15, unpoison: 0.2, compact: 0.02 },
});

const KEYS = Object.keys(FAULT_PROFILES["none"]!) as (keyof FaultRates)[];

/** Parses `default`, `heavy`, … or `crash=0.01,io=0.02` (unnamed rates from `none`, or from a profile given first: `default,crash=0`). */
export function parseFaults(spec: string): FaultRates {
  const parts = spec.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  let rates: FaultRates = { ...FAULT_PROFILES["none"]! };
  for (const [i, part] of parts.entries()) {
    const eq = part.indexOf("=");
    if (eq < 0) {
      const p = FAULT_PROFILES[part];
      if (!p || i !== 0) throw new Error(`unknown fault profile "${part}" (known: ${Object.keys(FAULT_PROFILES).join(", ")}; a profile must come first)`);
      rates = { ...p };
      continue;
    }
    const key = part.slice(0, eq) as keyof FaultRates;
    const value = Number(part.slice(eq + 1));
    if (!KEYS.includes(key)) throw new Error(`unknown fault rate "${key}" (known: ${KEYS.join(", ")})`);
    if (!(value >= 0 && value <= 1)) throw new Error(`fault rate ${key}=${part.slice(eq + 1)} is not in [0, 1]`);
    rates[key] = value;
  }
  return rates;
}

/** The shortest spec that parses back to `rates`. */
export function formatFaults(rates: FaultRates): string {
  for (const [name, p] of Object.entries(FAULT_PROFILES)) if (KEYS.every((k) => p[k] === rates[k])) return name;
  let best: string[] | null = null;
  for (const [name, p] of Object.entries(FAULT_PROFILES)) {
    const spec = [name, ...KEYS.filter((k) => p[k] !== rates[k]).map((k) => `${k}=${rates[k]}`)];
    if (best === null || spec.length < best.length) best = spec;
  }
  return best!.join(",");
}
