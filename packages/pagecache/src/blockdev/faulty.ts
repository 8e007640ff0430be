/**
 * FaultyDevice: deterministic fault injection on a {@link SimDevice}: I/O errors on chosen or
 * random requests, power loss that loses unflushed writes, and torn writes.
 */
import { fail, type FolioError, type Rng } from "@folio/core";
import { SECTOR_SIZE, StackedDevice, validateRequest, type BlockOp, type BlockRequest } from "./device.js";
import type { DeviceHooks, SimDevice } from "./sim.js";

/** The blocks a fault applies to: a set of block numbers (copied when given) or a predicate. */
export type BlockSelector = Iterable<number> | ((block: number) => boolean);

/** Options of {@link FaultyDevice.randomFaults}. */
export interface RandomFaults {
  /** Probability in [0, 1] that a read request fails; 0 by default. */
  readErrorRate?: number;
  /** Probability in [0, 1] that a write request fails; 0 by default. */
  writeErrorRate?: number;
  /** The generator every draw comes from, one draw per read or write whose rate is above 0. */
  rng: Rng;
}

/** Options of {@link FaultyDevice.crash}. */
export interface CrashOptions {
  /** Tear some lost writes, drawing every choice from this generator; none are torn without it. */
  tear?: Rng;
  /** Probability in [0, 1] that a lost block is torn rather than reverted; 0.5 by default. */
  tearRate?: number;
}

/** A block left torn by a crash: its first `sectors` sectors hold the lost write's data, the rest the durable data. */
export interface TornBlock {
  /** The block. */
  readonly block: number;
  /** Sectors of new data kept, in [1, sectors per block − 1]. */
  readonly sectors: number;
}

/** What {@link FaultyDevice.crash} did. */
export interface CrashReport {
  /** Requests dropped while queued or in flight (their `done` will never be called). */
  readonly dropped: number;
  /** Blocks returned whole to their contents at the last completed flush, ascending. */
  readonly reverted: readonly number[];
  /** Blocks torn, ascending. */
  readonly torn: readonly TornBlock[];
}

/** A copy of the {@link FaultCounters} at one instant. */
export interface FaultCountersSnapshot {
  /** Read requests failed with an injected EIO. */
  readonly readErrors: number;
  /** Write requests failed with an injected EIO. */
  readonly writeErrors: number;
  /** Flush requests failed with an injected EIO. */
  readonly flushErrors: number;
  /** Crashes. */
  readonly crashes: number;
  /** Requests dropped by crashes. */
  readonly droppedRequests: number;
  /** Blocks reverted whole by crashes. */
  readonly revertedBlocks: number;
  /** Blocks torn by crashes. */
  readonly tornBlocks: number;
}

/**
 * struct FaultCounters - faults a {@link FaultyDevice} injected since creation or the last
 * {@link FaultCounters.reset}.
 */
export class FaultCounters implements FaultCountersSnapshot {
  /** See {@link FaultCountersSnapshot.readErrors}. */
  readErrors = 0;
  /** See {@link FaultCountersSnapshot.writeErrors}. */
  writeErrors = 0;
  /** See {@link FaultCountersSnapshot.flushErrors}. */
  flushErrors = 0;
  /** See {@link FaultCountersSnapshot.crashes}. */
  crashes = 0;
  /** See {@link FaultCountersSnapshot.droppedRequests}. */
  droppedRequests = 0;
  /** See {@link FaultCountersSnapshot.revertedBlocks}. */
  revertedBlocks = 0;
  /** See {@link FaultCountersSnapshot.tornBlocks}. */
  tornBlocks = 0;

  /** Sets every counter to zero. */
  reset(): void {
    this.readErrors = this.writeErrors = this.flushErrors = 0;
    this.crashes = this.droppedRequests = this.revertedBlocks = this.tornBlocks = 0;
  }

  /** Returns a plain copy of the counters. */
  snapshot(): FaultCountersSnapshot {
    const { readErrors, writeErrors, flushErrors, crashes, droppedRequests, revertedBlocks, tornBlocks } = this;
    return { readErrors, writeErrors, flushErrors, crashes, droppedRequests, revertedBlocks, tornBlocks };
  }
}

type Rule = ((block: number) => boolean) | null;

function toRule(which: BlockSelector): (block: number) => boolean {
  if (typeof which === "function") return which;
  const set = new Set(which);
  return (b) => set.has(b);
}

function checkRate(rate: number | undefined, what: string): number {
  const r = rate ?? 0;
  if (typeof r !== "number" || !(r >= 0 && r <= 1)) throw fail("EINVAL", `${what} ${String(rate)} is not a probability in [0, 1]`);
  return r;
}

/**
 * struct FaultyDevice - a {@link BlockDevice} that injects faults into the {@link SimDevice} it
 * wraps, deterministically: every choice comes from the given block sets or a seeded Rng.
 *
 * It installs {@link DeviceHooks} on the SimDevice (one FaultyDevice per SimDevice; EBUSY
 * otherwise), so faults apply to every request the SimDevice executes, including ones submitted
 * to it directly, and are decided when the request executes (at its completion time). The
 * SimDevice should be idle when wrapped; the store's contents at that moment count as durable.
 * Its name, geometry and {@link FaultyDevice.stats} are the SimDevice's.
 *
 * An injected error completes the request with EIO ("write of block 17 failed (injected)",
 * naming the first failing block); a failed read leaves its buffer untouched, a failed write
 * leaves every block it covers as it was, a failed flush makes nothing durable.
 *
 * Durability: the device keeps an undo log holding, for every block written since the last
 * completed flush, its contents at that flush (captured when a write first lands on the block).
 * A completed flush empties it. {@link FaultyDevice.crash} rolls the store back with it.
 */
export class FaultyDevice extends StackedDevice {
  /** Faults injected so far. */
  readonly faults = new FaultCounters();

  private readRule: Rule = null;
  /** Nesting depth of {@link withoutReadErrors}. */
  private readsQuiet = 0;
  private writeRule: Rule = null;
  private flushFails = false;
  private random: { read: number; write: number; rng: Rng } | null = null;
  private readonly undo = new Map<number, Uint8Array>();
  private down = false;

  /** Wraps `inner`. Throws EBUSY if another injector already wraps it. */
  constructor(
    /** The wrapped device. */
    override readonly inner: SimDevice,
  ) {
    super(inner);
    const hooks: DeviceHooks = {
      beforeIo: (req) => this.beforeIo(req),
      afterFlush: () => this.undo.clear(),
    };
    inner.intercept(hooks);
  }

  /** True from {@link FaultyDevice.crash} until {@link FaultyDevice.restart}. */
  get crashed(): boolean {
    return this.down;
  }

  /** Blocks written since the last completed flush (those a crash would lose), ascending. */
  get unflushedBlocks(): number[] {
    return [...this.undo.keys()].sort((a, b) => a - b);
  }

  /**
   * See {@link BlockDevice.submit}. While the device is crashed every request completes with
   * EIO (from a scheduler event, as always) without reaching the wrapped device.
   */
  submit(req: BlockRequest): void {
    if (!this.down) {
      this.inner.submit(req);
      return;
    }
    validateRequest(this, req);
    const err = fail("EIO", `${String(req.op)} on ${this.name} refused: the device crashed and was not restarted`);
    this.inner.scheduler.after(0, `${this.name} offline`, () => {
      this.stats.account(req.op, 0, err);
      req.done(err);
    });
  }

  /** Fails every read request covering a selected block, until replaced or cleared. */
  failReads(which: BlockSelector): void {
    this.readRule = toRule(which);
  }

  /** Fails every write request covering a selected block, until replaced or cleared. */
  failWrites(which: BlockSelector): void {
    this.writeRule = toRule(which);
  }

  /** Fails every flush while `on` (true by default). */
  failFlushes(on = true): void {
    this.flushFails = on;
  }

  /**
   * Fails read and write requests at random with the given probabilities, drawn from
   * `faults.rng`; null turns random faults off. Throws EINVAL for a rate outside [0, 1].
   */
  randomFaults(faults: RandomFaults | null): void {
    if (faults === null) {
      this.random = null;
      return;
    }
    const read = checkRate(faults.readErrorRate, "read error rate");
    const write = checkRate(faults.writeErrorRate, "write error rate");
    this.random = { read, write, rng: faults.rng };
  }

  /**
   * Runs `fn` with read errors held back (rules and random faults stay set, and apply again
   * afterwards): for an observer — a test harness looking at the state — whose own reads must not
   * be the faults under test. Returns what `fn` returns.
   */
  withoutReadErrors<T>(fn: () => T): T {
    this.readsQuiet++;
    try {
      return fn();
    } finally {
      this.readsQuiet--;
    }
  }

  /** Removes every error rule: chosen blocks, flush failures and random faults. */
  clearFaults(): void {
    this.readRule = this.writeRule = null;
    this.flushFails = false;
    this.random = null;
  }

  /**
   * crash() - loses power.
   *
   * Every pending request is dropped (see {@link SimDevice.powerFail}); every write that
   * completed since the last completed flush is lost: its blocks go back to their contents at
   * that flush. With `options.tear`, each lost block is instead torn with probability
   * `options.tearRate`: it keeps a prefix of 1 to (sectors per block − 1) sectors of its current
   * data and reverts the rest, as a disk that lost power mid-write (tearing is per block; a
   * device of 512-byte blocks cannot tear). Blocks are visited in ascending order, so a seed
   * replays the same result. The store is then flushed, and the device refuses requests with EIO
   * until {@link FaultyDevice.restart}. Fault rules stay in force.
   * Return: what was lost.
   */
  crash(options: CrashOptions = {}): CrashReport {
    const tearRate = checkRate(options.tearRate ?? 0.5, "tear rate");
    const store = this.inner.store;
    const bs = this.blockSize;
    const spb = bs / SECTOR_SIZE;
    const dropped = this.inner.powerFail();
    const reverted: number[] = [];
    const torn: TornBlock[] = [];
    for (const block of this.unflushedBlocks) {
      const old = this.undo.get(block)!;
      const tear = options.tear;
      if (tear !== undefined && spb > 1 && tear.chance(tearRate)) {
        const sectors = tear.between(1, spb - 1);
        store.write(old.subarray(sectors * SECTOR_SIZE), block * bs + sectors * SECTOR_SIZE);
        torn.push({ block, sectors });
      } else {
        store.write(old, block * bs);
        reverted.push(block);
      }
    }
    this.undo.clear();
    store.flush();
    this.down = true;
    this.faults.crashes++;
    this.faults.droppedRequests += dropped;
    this.faults.revertedBlocks += reverted.length;
    this.faults.tornBlocks += torn.length;
    return { dropped, reverted, torn };
  }

  /** Powers the device back on after {@link FaultyDevice.crash}; harmless when it is up. */
  restart(): void {
    this.down = false;
  }

  private beforeIo(req: BlockRequest): FolioError | null {
    if (req.op === "flush") {
      if (!this.flushFails) return null;
      this.faults.flushErrors++;
      return fail("EIO", `flush of ${this.name} failed (injected)`);
    }
    const failed = this.injected(req.op, req.block, req.count);
    if (failed !== null) {
      if (req.op === "read") this.faults.readErrors++;
      else this.faults.writeErrors++;
      return fail("EIO", `${req.op} of block ${failed} failed (injected)`);
    }
    if (req.op === "write") this.logUndo(req.block, req.count);
    return null;
  }

  /** The first block of the request that fails, or null. */
  private injected(op: BlockOp, block: number, count: number): number | null {
    if (op === "read" && this.readsQuiet > 0) return null;
    const rule = op === "read" ? this.readRule : this.writeRule;
    if (rule !== null) {
      for (let b = block; b < block + count; b++) if (rule(b)) return b;
    }
    const rate = this.random === null ? 0 : op === "read" ? this.random.read : this.random.write;
    if (rate > 0 && this.random!.rng.chance(rate)) return block;
    return null;
  }

  /** Records the durable contents of blocks [block, block + count) not yet in the undo log. */
  private logUndo(block: number, count: number): void {
    const bs = this.blockSize;
    for (let b = block; b < block + count; b++) {
      if (this.undo.has(b)) continue;
      const old = new Uint8Array(bs);
      this.inner.store.read(old, b * bs);
      this.undo.set(b, old);
    }
  }
}
