/**
 * Progress bars for work that takes more than a second. A bar appears only when stderr is a
 * terminal and the work has already lasted a second, so quick commands, pipes and tests print
 * nothing extra; it goes to stderr, never mixing with a report on stdout.
 */
import { SingleBar } from "cli-progress";

/** Where long work reports how far it got. */
export interface Progress {
  /**
   * Reports `done` units of `total` (total may change as the work learns its size). Cheap enough
   * to call once per operation.
   */
  update(done: number, total?: number): void;
  /** Adds `n` (default 1) to the units done. */
  tick(n?: number): void;
  /** Removes the bar, if one was drawn. Idempotent. */
  stop(): void;
}

/** A progress sink that shows nothing. */
export const NO_PROGRESS: Progress = { update() {}, tick() {}, stop() {} };

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** False to never draw (the command's `--no-progress`); default true. */
  enabled?: boolean;
  /** Milliseconds of work before the bar appears (default 1000). */
  delayMs?: number;
  /** Units of the count, shown with it ("MiB"); without a unit only the percentage shows. */
  unit?: string;
  /** The stream to draw on; process.stderr by default. */
  stream?: NodeJS.WriteStream;
}

/** Whether progress bars are wanted at all in this process (set by the program's `--no-progress`). */
let globallyEnabled = true;

/** Turns every later progress bar off (the program's `--no-progress`). */
export function disableProgress(): void {
  globallyEnabled = false;
}

/**
 * A progress bar for `label` over `total` units. It checks the clock on each update, draws its
 * first frame after `delayMs` and then redraws at most 10 times a second. Wall time is read with
 * `performance.now()`, as only the display depends on it, never a result.
 */
export function createProgress(label: string, total: number, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.enabled === false || !globallyEnabled || !stream.isTTY) return NO_PROGRESS;
  const delay = options.delayMs ?? 1000;
  const start = performance.now();
  let bar: SingleBar | undefined;
  let done = 0;
  let max = Math.max(1, total);
  let stopped = false;
  let nextCheck = 0;
  const update = (value: number, newTotal?: number) => {
    done = value;
    if (newTotal !== undefined) max = Math.max(1, newTotal);
    if (stopped) return;
    if (bar) {
      if (newTotal !== undefined) bar.setTotal(max);
      bar.update(Math.min(done, max));
      return;
    }
    // Reading the clock on every call of a tight loop would cost more than the work: check it
    // every 64 calls until the bar is up.
    if (nextCheck-- > 0) return;
    nextCheck = 64;
    if (performance.now() - start < delay) return;
    bar = new SingleBar({
      stream,
      format: options.unit !== undefined
        ? `${label} [{bar}] {percentage}% | {value}/{total} ${options.unit} | {duration_formatted}, ETA {eta_formatted}`
        : `${label} [{bar}] {percentage}% | {duration_formatted}, ETA {eta_formatted}`,
      barsize: 30,
      hideCursor: true,
      clearOnComplete: true,
      fps: 10,
    });
    bar.start(max, Math.min(done, max));
  };
  return {
    update,
    tick: (n = 1) => update(done + n),
    stop() {
      if (stopped) return;
      stopped = true;
      bar?.stop();
    },
  };
}
