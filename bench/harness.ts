/**
 * Shared benchmark machinery: options, result rows, timing loops (warm-up, then the median of N
 * samples, each long enough to swamp timer and call overhead), memory measurement and the table.
 *
 * Every measurement of Folio runs beside a peer measured in the same process with the same
 * method, so a row reads as "Folio does X, the simplest thing that does the same job does Y".
 */

/** How long and how often to measure. */
export interface BenchOptions {
  /** Shorter runs (CI smoke test): the figures are rougher but the code paths are the same. */
  quick: boolean;
  /** Minimum duration of one sample, in ms. */
  sampleMs: number;
  /** Warm-up duration for each measured case before any sample is taken, in ms. */
  warmupMs: number;
  /** Samples per figure; the median is reported. */
  samples: number;
}

export function benchOptions(quick: boolean): BenchOptions {
  return quick ? { quick, sampleMs: 50, warmupMs: 50, samples: 5 } : { quick, sampleMs: 300, warmupMs: 300, samples: 5 };
}

/** The peer a figure stands beside: the same job done by the simplest code that does it. */
export interface Peer {
  name: string;
  value: number;
}

/** One result row. */
export interface Row {
  name: string;
  value: number;
  unit: string;
  peer?: Peer;
  /**
   * Cost relative to the peer: how many times the peer's cost one Folio operation costs (for a
   * rate, peer rate / Folio rate; for a time or a size, Folio / peer). Lower is better.
   */
  ratio?: number;
  /** The goal, in words (e.g. "≤ 40× peer cost"). */
  goal?: string;
  pass?: boolean;
  /** Spread of the samples, (max − min) / median, when the figure is a median of samples. */
  spread?: number;
  /** Where the row sits on a curve of the report's plots, when it is one point of a series of sizes. */
  point?: CurvePoint;
}

/**
 * One point of a curve: the row's figure (and its peer's) at `x` along a scaling axis. Rows of
 * one suite with the same `axis` and `curve` form one line of that axis's plots, in x order.
 */
export interface CurvePoint {
  /** The axis the rows vary along, e.g. "memory" or "files"; {@link PlotSpec.axis} selects by it. */
  axis: string;
  /** Short name of the line (it is the plot's legend text), e.g. "boot" or "create". */
  curve: string;
  /** The x coordinate, in the unit the axis's plots name (MiB of memory, number of files). */
  x: number;
  /** The figure is a rate (higher is better): its cost is its inverse, e.g. for growth plots. */
  rate?: boolean;
}

/**
 * A plot of a suite's curves (rows with a {@link CurvePoint} on `axis`), drawn by the report as
 * docs/plots/bench-<id>.svg. What the y axis shows:
 * - `figure`: the rows' figures as one solid line per curve and their peers' as dashed lines of
 *   the same colour; only rows whose unit is `unit`, which must then be given;
 * - `growth`: cost relative to the curve's first point (smallest x), Folio solid and peer dashed:
 *   1 everywhere means the cost per unit of work does not grow;
 * - `ratio`: the rows' cost ratio to their peer (`Row.ratio`), one line per curve.
 * Specs are data (no functions) so that a saved result file can be drawn again.
 */
export interface PlotSpec {
  /** File name part: docs/plots/bench-<id>.svg; unique across suites. */
  id: string;
  title: string;
  subtitle?: string[];
  axis: string;
  y: "figure" | "growth" | "ratio";
  /** The unit of the rows drawn by a `figure` plot. */
  unit?: string;
  xLabel: string;
  /** Log x axis; with `xBase2`, ticks at powers of two. */
  xLog?: boolean;
  xBase2?: boolean;
  yLabel: string;
  yLog?: boolean;
  /** Legend suffix of the peers' dashed lines (default "peer"), e.g. "memfs". */
  peerLabel?: string;
}

/**
 * What a suite can return besides its rows: notes for the report (how the rows were made, what a
 * --quick run leaves out), why it measured nothing (`skipped`), and plots of its curves.
 */
export interface SuiteOutcome {
  rows: Row[];
  notes?: string[];
  /** Set when the suite could not run here: the reason, said in the table's place in the report. */
  skipped?: string;
  plots?: PlotSpec[];
}

/** A benchmark suite: a name for the command line and a function producing rows. */
export interface Suite {
  name: string;
  description: string;
  run(opts: BenchOptions): Row[] | SuiteOutcome | Promise<Row[] | SuiteOutcome>;
}

/** A suite's result as a {@link SuiteOutcome}, whichever of the two forms it returned. */
export function asOutcome(result: Row[] | SuiteOutcome): SuiteOutcome {
  return Array.isArray(result) ? { rows: result } : result;
}

/** Nanosecond clock, as a float number of ms. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A median with its spread, (max − min) / median. */
export interface Stat {
  median: number;
  spread: number;
  samples: number[];
}

export function stat(samples: number[]): Stat {
  const m = median(samples);
  return { median: m, spread: m === 0 ? 0 : (Math.max(...samples) - Math.min(...samples)) / m, samples };
}

/** Results of loops are folded in here so the JIT cannot drop the work. */
let blackhole = 0;

/** Keeps `x` observable, so the computation that produced it cannot be eliminated. */
export function consume(x: number): void {
  blackhole = (blackhole ^ x) | 0;
}

/** For the runner: a value depending on every consumed result (printing it is never needed). */
export function blackholeValue(): number {
  return blackhole;
}

/**
 * A measured loop: `run(n)` performs `n` operations in its own tight loop and returns a value
 * derived from them (fed to {@link consume}). The loop lives inside `run`, so the per-operation
 * cost includes no harness call.
 */
export interface RateCase {
  name: string;
  run(n: number): number;
}

/**
 * Measures operations per second of several cases, interleaving their samples (a1 b1 a2 b2 …) so
 * that drift in the machine (frequency scaling, other load) hits every case alike.
 *
 * For each case: warm up for `warmupMs` (which also calibrates the batch size so that one batch
 * lasts about `sampleMs`), then take `samples` batches; each sample is n / elapsed.
 */
export function measureRates(cases: readonly RateCase[], opts: BenchOptions): Stat[] {
  const batch = cases.map((c) => warmUp(c, opts));
  const rates: number[][] = cases.map(() => []);
  for (let s = 0; s < opts.samples; s++) {
    cases.forEach((c, i) => {
      const n = batch[i]!;
      const t0 = process.hrtime.bigint();
      consume(c.run(n));
      const dt = Number(process.hrtime.bigint() - t0) / 1e9;
      rates[i]!.push(n / dt);
    });
  }
  return rates.map(stat);
}

/** Runs a case for the warm-up time and returns the batch size that lasts about one sample. */
function warmUp(c: RateCase, opts: BenchOptions): number {
  let n = 64;
  let spent = 0;
  let lastRate = 0;
  while (spent < opts.warmupMs || lastRate === 0) {
    const t0 = nowMs();
    consume(c.run(n));
    const dt = nowMs() - t0;
    spent += dt;
    if (dt > 5) lastRate = n / dt;
    // Grow batches until one is long enough to time precisely.
    if (dt < Math.min(20, opts.sampleMs / 4)) n = Math.min(n * 2, 2 ** 30);
  }
  return Math.max(1, Math.ceil(lastRate * opts.sampleMs));
}

/** A measured loop whose operations are asynchronous: `run(n)` awaits `n` operations in its own loop. */
export interface AsyncRateCase {
  name: string;
  run(n: number): Promise<number>;
}

/**
 * {@link measureRates} for asynchronous loops: the same warm-up, batch sizing, interleaving and
 * median; a sample is n / elapsed from the call of `run(n)` until its promise settles.
 */
export async function measureRatesAsync(cases: readonly AsyncRateCase[], opts: BenchOptions): Promise<Stat[]> {
  const batch: number[] = [];
  for (const c of cases) batch.push(await warmUpAsync(c, opts));
  const rates: number[][] = cases.map(() => []);
  for (let s = 0; s < opts.samples; s++) {
    for (let i = 0; i < cases.length; i++) {
      const n = batch[i]!;
      const t0 = process.hrtime.bigint();
      consume(await cases[i]!.run(n));
      const dt = Number(process.hrtime.bigint() - t0) / 1e9;
      rates[i]!.push(n / dt);
    }
  }
  return rates.map(stat);
}

/** {@link warmUp} for an asynchronous loop. */
async function warmUpAsync(c: AsyncRateCase, opts: BenchOptions): Promise<number> {
  let n = 64;
  let spent = 0;
  let lastRate = 0;
  while (spent < opts.warmupMs || lastRate === 0) {
    const t0 = nowMs();
    consume(await c.run(n));
    const dt = nowMs() - t0;
    spent += dt;
    if (dt > 5) lastRate = n / dt;
    if (dt < Math.min(20, opts.sampleMs / 4)) n = Math.min(n * 2, 2 ** 30);
  }
  return Math.max(1, Math.ceil(lastRate * opts.sampleMs));
}

/**
 * Measures the duration of an operation too costly to batch blindly (booting a machine). After
 * `warmupMs` of discarded runs, each operation is timed alone, after an untimed gc() so that none
 * pays for an earlier one's garbage (it starts from a collected heap, as a process's first boot
 * does). A sample is the mean over the operations that fit in `sampleMs` of wall time (gc
 * included, at least one operation). Returns ms per operation.
 *
 * `prepare`, when given, runs before every operation (warm-up ones included), untimed, before the
 * gc(): it sets up what the operation needs fresh (a new mount for a cold read). Like the gc(), it
 * counts toward a sample's wall time, not toward the operation's.
 */
export function measureDuration(op: () => number, opts: BenchOptions, prepare?: () => void): Stat {
  const gc = gcFunction();
  for (const start = nowMs(); nowMs() - start < opts.warmupMs; ) {
    prepare?.();
    consume(op());
  }
  const samples: number[] = [];
  for (let s = 0; s < opts.samples; s++) {
    let count = 0;
    let spent = 0;
    const start = nowMs();
    do {
      prepare?.();
      gc();
      const t0 = nowMs();
      consume(op());
      spent += nowMs() - t0;
      count++;
    } while (nowMs() - start < opts.sampleMs);
    samples.push(spent / count);
  }
  return stat(samples);
}

function gcFunction(): () => void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("global.gc is missing: run node with --expose-gc");
  return gc;
}

/**
 * Forces full collections until the heap and ArrayBuffer figures stop changing: one gc() leaves
 * freed ArrayBuffer backing stores counted until a later collection sweeps them. Requires node
 * --expose-gc (run.ts re-spawns itself to get it).
 */
export function fullGc(): void {
  const gc = gcFunction();
  let prev = -1;
  for (let i = 0; i < 20; i++) {
    gc();
    const now = retainedBytes();
    if (now === prev) return;
    prev = now;
  }
}

/** Bytes of JS heap plus ArrayBuffer backing stores in use now. */
export function retainedBytes(): number {
  const u = process.memoryUsage();
  return u.heapUsed + u.arrayBuffers;
}

let keepAlive: unknown;

/**
 * Bytes (JS heap + ArrayBuffers) that `make()`'s result retains, measured with settled heaps
 * before and after while the result is kept alive. `exclude(result)` bytes are subtracted (for
 * buffers that are counted elsewhere). Median of `opts.samples` measurements.
 */
export function measureRetained<T>(make: () => T, opts: BenchOptions, exclude: (value: T) => number = () => 0): Stat {
  const samples: number[] = [];
  for (let s = 0; s < opts.samples; s++) samples.push(retainedOnce(make, exclude));
  return stat(samples);
}

/**
 * One measurement, in a frame of its own: once it returns, nothing but {@link keepAlive} has held
 * the result (an interpreter register of a caller's loop could otherwise keep the previous
 * sample's result alive into the next "before" reading).
 */
function retainedOnce<T>(make: () => T, exclude: (value: T) => number): number {
  fullGc();
  const before = retainedBytes();
  keepAlive = make();
  fullGc();
  const after = retainedBytes();
  const bytes = after - before - exclude(keepAlive as T);
  keepAlive = undefined;
  return bytes;
}

/** A row for a throughput pair: Folio rate beside peer rate, cost ratio = peer rate / Folio rate. */
export function rateRow(name: string, unit: string, folio: Stat, peerName: string, peer: Stat, maxRatio?: number): Row {
  const ratio = peer.median / folio.median;
  const row: Row = { name, value: folio.median, unit, peer: { name: peerName, value: peer.median }, ratio, spread: Math.max(folio.spread, peer.spread) };
  if (maxRatio !== undefined) {
    row.goal = `≤ ${maxRatio}× peer cost`;
    row.pass = ratio <= maxRatio;
  }
  return row;
}

/** Formats a number with ~3-4 significant digits and thousands separators. */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toFixed(a >= 1e8 ? 0 : a >= 1e7 ? 1 : 2)} M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(a >= 1e5 ? 0 : 1)} k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** A cost ratio as the tables print it ("2.41×", "13.2×", "140×"), or "—" without one. */
export function fmtRatio(ratio: number | undefined): string {
  if (ratio === undefined || !Number.isFinite(ratio)) return "—";
  return `${ratio.toFixed(ratio >= 100 ? 0 : ratio >= 10 ? 1 : 2)}×`;
}

/** A spread as a percentage ("12%"), or "—" without one. */
export function fmtSpread(spread: number | undefined): string {
  return spread === undefined ? "—" : `${(spread * 100).toFixed(0)}%`;
}

/** Prints rows as an aligned table. */
export function printTable(title: string, rows: readonly Row[]): void {
  const header = ["benchmark", "folio", "unit", "peer", "peer value", "cost ×peer", "±spread", "goal", "result"];
  const body = rows.map((r) => [
    r.name,
    fmt(r.value),
    r.unit,
    r.peer?.name ?? "—",
    r.peer ? fmt(r.peer.value) : "—",
    fmtRatio(r.ratio),
    fmtSpread(r.spread),
    r.goal ?? "—",
    r.pass === undefined ? "—" : r.pass ? "PASS" : "FAIL",
  ]);
  const numeric = new Set([1, 4, 5, 6]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  console.log(`\n== ${title} ==`);
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const b of body) console.log(line(b));
}
