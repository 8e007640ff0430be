/**
 * SimDevice: a block device over a {@link BackingStore} whose requests complete as events of the
 * engine's {@link Scheduler}, timed by a simple device model (latency, bandwidth, queue depth).
 */
import { MICROSECOND, MILLISECOND, checkInt, fail, isFolioError, type FolioError, type Scheduler, type Timer } from "@folio/core";
import { DEFAULT_BLOCK_SIZE, DeviceStats, SECTOR_SIZE, validateRequest, type BlockDevice, type BlockRequest } from "./device.js";
import type { BackingStore } from "./store.js";

/**
 * struct DeviceModel - how long a device takes.
 *
 * At most `queueDepth` requests are dispatched at once; the rest wait in FIFO order. A
 * dispatched read or write transfers its bytes in `ceil(bytes / bytesPerSecond)` (in ns), one
 * transfer at a time across the device (a transfer starts when the previous one ended), and
 * completes `latencyNs` after its transfer ended. A flush transfers nothing: it completes
 * `latencyNs` after the last write submitted before it completed (or after its dispatch).
 * There is no seek model: every request pays the same latency.
 */
export interface DeviceModel {
  /** Time from the end of a request's transfer to its completion, in ns (≥ 0). */
  readonly latencyNs: number;
  /** Bandwidth shared by all requests, in bytes per second (> 0; Infinity for no transfer time). */
  readonly bytesPerSecond: number;
  /** Most requests dispatched at once (a whole number ≥ 1). */
  readonly queueDepth: number;
}

/**
 * The model of a device created without one: no latency, infinite bandwidth, depth 32. A
 * request then completes at the same virtual time it was submitted, as one of the next
 * scheduler events.
 */
export const DEFAULT_DEVICE_MODEL: DeviceModel = Object.freeze({ latencyNs: 0, bytesPerSecond: Infinity, queueDepth: 32 });

const MiB = 1024 * 1024;

/**
 * Named device models with plausible figures:
 *
 * * `instant`: {@link DEFAULT_DEVICE_MODEL};
 * * `nvme`: 100 µs, 1 GiB/s, depth 32;
 * * `ssd`: a SATA SSD, 250 µs, 500 MiB/s, depth 32 (NCQ);
 * * `hdd`: a 7200 rpm disk, 8 ms (average seek and half a rotation), 150 MiB/s, depth 1 (its
 *   head serves one request at a time).
 */
export const DEVICE_MODELS = Object.freeze({
  /** {@link DEFAULT_DEVICE_MODEL}: no latency, no transfer time. */
  instant: DEFAULT_DEVICE_MODEL,
  /** An NVMe drive. */
  nvme: Object.freeze({
    /** 100 µs from the end of a transfer to completion. */
    latencyNs: 100 * MICROSECOND,
    /** 1 GiB/s. */
    bytesPerSecond: 1024 * MiB,
    /** 32 requests in flight. */
    queueDepth: 32,
  }),
  /** A SATA SSD with NCQ. */
  ssd: Object.freeze({
    /** 250 µs from the end of a transfer to completion. */
    latencyNs: 250 * MICROSECOND,
    /** 500 MiB/s. */
    bytesPerSecond: 500 * MiB,
    /** 32 requests in flight (NCQ). */
    queueDepth: 32,
  }),
  /** A 7200 rpm disk. */
  hdd: Object.freeze({
    /** 8 ms: an average seek and half a rotation. */
    latencyNs: 8 * MILLISECOND,
    /** 150 MiB/s. */
    bytesPerSecond: 150 * MiB,
    /** One request at a time: the head serves one. */
    queueDepth: 1,
  }),
}) satisfies Readonly<Record<string, DeviceModel>>;

/** Options of {@link SimDevice}. */
export interface SimDeviceOptions {
  /** Device name; "vda" by default. */
  name?: string;
  /** Bytes per block: a power of two in [512, 1 MiB]; {@link DEFAULT_BLOCK_SIZE} by default. */
  blockSize?: number;
  /** Timing; fields left out come from {@link DEFAULT_DEVICE_MODEL}. */
  model?: Partial<DeviceModel>;
}

/**
 * struct DeviceHooks - interposition points of a {@link SimDevice}, for fault injection (used by
 * FaultyDevice). Both are called from the completion event of a request, in the device's
 * completion order.
 */
export interface DeviceHooks {
  /**
   * Called when a request executes (at its completion time), before any data moves or, for a
   * flush, before the store is flushed. Return: null to let it proceed, or an error to complete
   * it with instead; then no data moves and the store is not flushed.
   */
  beforeIo(req: BlockRequest): FolioError | null;
  /** Called after a flush made the store durable, before the flush's `done`. */
  afterFlush(): void;
}

interface Pending {
  readonly req: BlockRequest;
  readonly seq: number;
  timer: Timer | null;
}

/**
 * struct SimDevice - a {@link BlockDevice} over a {@link BackingStore}, timed by a
 * {@link DeviceModel} in the virtual time of a {@link Scheduler}.
 *
 * Data moves when a request completes: a read copies from the store into its buffer, a write
 * copies its buffer to the store, in the completion event just before `done`; a flush calls
 * `store.flush()` there. A request lost before completion (see {@link SimDevice.powerFail})
 * moves nothing. Requests in flight together complete in the order of their completion times;
 * those due at the same instant in an order drawn from the scheduler's seeded Rng. A store error
 * completes the request with it (EIO when it is not a FolioError).
 *
 * The device has {@link SimDevice.nrBlocks} = floor(store.size / blockSize) blocks (a partial
 * last block is not addressable). It does not own the store: closing it is the caller's job.
 */
export class SimDevice implements BlockDevice {
  /** See {@link BlockDevice.name}. */
  readonly name: string;
  /** See {@link BlockDevice.blockSize}. */
  readonly blockSize: number;
  /** See {@link BlockDevice.nrBlocks}. */
  readonly nrBlocks: number;
  /** The timing in force, defaults filled in. */
  readonly model: DeviceModel;
  /** See {@link BlockDevice.stats}. */
  readonly stats = new DeviceStats();

  private seq = 0;
  private readonly live = new Set<Pending>();
  private waiting: Pending[] = [];
  private waitHead = 0;
  private dispatched = 0;
  private busyUntil = 0;
  /** Sequence numbers of writes submitted and not yet completed; ascending in iteration order. */
  private readonly outstandingWrites = new Set<number>();
  /** Dispatched flushes waiting for earlier writes, in submission order. */
  private flushWaiters: Pending[] = [];
  private hooks: DeviceHooks | null = null;

  /**
   * Creates a device over `store` whose completions are events of `scheduler`. Throws EINVAL
   * for a bad block size or model, or a store smaller than one block.
   */
  constructor(
    /** The medium. */
    readonly store: BackingStore,
    /** The engine whose events complete requests. */
    readonly scheduler: Scheduler,
    options: SimDeviceOptions = {},
  ) {
    this.name = options.name ?? "vda";
    const bs = checkInt(options.blockSize ?? DEFAULT_BLOCK_SIZE, SECTOR_SIZE, 1024 * 1024, `block size of ${this.name}`);
    if ((bs & (bs - 1)) !== 0) throw fail("EINVAL", `block size ${bs} of ${this.name} is not a power of two`);
    this.blockSize = bs;
    this.nrBlocks = Math.floor(store.size / bs);
    if (this.nrBlocks < 1) throw fail("EINVAL", `store of ${store.size} bytes is smaller than one ${bs}-byte block of ${this.name}`);
    const m = { ...DEFAULT_DEVICE_MODEL, ...options.model };
    if (typeof m.latencyNs !== "number" || !Number.isFinite(m.latencyNs) || m.latencyNs < 0) {
      throw fail("EINVAL", `latency ${String(m.latencyNs)}ns of ${this.name} must be a finite number ≥ 0`);
    }
    if (typeof m.bytesPerSecond !== "number" || !(m.bytesPerSecond > 0)) {
      throw fail("EINVAL", `bandwidth ${String(m.bytesPerSecond)} B/s of ${this.name} must be > 0`);
    }
    checkInt(m.queueDepth, 1, 1 << 20, `queue depth of ${this.name}`);
    this.model = Object.freeze(m);
  }

  /** Requests dispatched to the device and not yet completed. */
  get inFlight(): number {
    return this.dispatched;
  }

  /** Requests waiting for a queue slot. */
  get queued(): number {
    return this.waiting.length - this.waitHead;
  }

  /** True when no request is pending: none queued, dispatched, or awaiting its completion event. */
  get idle(): boolean {
    return this.live.size === 0;
  }

  /** Transfer time of `bytes` bytes under the model, in ns: ceil(bytes × 10⁹ / bytesPerSecond). */
  transferNs(bytes: number): number {
    return this.model.bytesPerSecond === Infinity ? 0 : Math.ceil((bytes * 1e9) / this.model.bytesPerSecond);
  }

  /** See {@link BlockDevice.submit}. */
  submit(req: BlockRequest): void {
    const bad = validateRequest(this, req);
    const p: Pending = { req, seq: ++this.seq, timer: null };
    this.live.add(p);
    if (bad !== null) {
      p.timer = this.scheduler.after(0, `${this.name} bad request`, () => {
        this.live.delete(p);
        this.stats.account(req.op, 0, bad);
        req.done(bad);
      });
      return;
    }
    if (req.op === "write") this.outstandingWrites.add(p.seq);
    this.waiting.push(p);
    this.pump();
  }

  /**
   * Installs the hooks of a fault injector, or removes them with null. Throws EBUSY when hooks
   * are already installed (one injector per device).
   */
  intercept(hooks: DeviceHooks | null): void {
    if (hooks !== null && this.hooks !== null) throw fail("EBUSY", `${this.name} already has a fault injector`);
    this.hooks = hooks;
  }

  /**
   * powerFail() - loses every pending request, as power loss does: queued and in-flight requests
   * (malformed ones awaiting their EINVAL too) are dropped, their data never moves and their
   * `done` is never called. The device is idle and usable afterwards. Data already written to
   * the store stays there (undoing unflushed writes is FaultyDevice's job).
   * Return: the number of requests dropped.
   */
  powerFail(): number {
    const n = this.live.size;
    for (const p of this.live) if (p.timer !== null) this.scheduler.cancel(p.timer);
    this.live.clear();
    this.waiting = [];
    this.waitHead = 0;
    this.dispatched = 0;
    this.outstandingWrites.clear();
    this.flushWaiters = [];
    this.busyUntil = this.scheduler.now;
    return n;
  }

  private pump(): void {
    while (this.dispatched < this.model.queueDepth && this.waitHead < this.waiting.length) {
      const p = this.waiting[this.waitHead++]!;
      if (this.waitHead > 1024 && this.waitHead * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.waitHead);
        this.waitHead = 0;
      }
      this.dispatch(p);
    }
  }

  private dispatch(p: Pending): void {
    this.dispatched++;
    const now = this.scheduler.now;
    if (p.req.op === "flush") {
      if (this.flushReady(p)) this.scheduleFlush(p);
      else this.flushWaiters.push(p);
      return;
    }
    const start = Math.max(now, this.busyUntil);
    const end = start + this.transferNs(p.req.count * this.blockSize);
    this.busyUntil = end;
    p.timer = this.scheduler.after(end + this.model.latencyNs - now, `${this.name} ${p.req.op}`, () => this.complete(p));
  }

  /** True when no write submitted before flush `p` is outstanding. */
  private flushReady(p: Pending): boolean {
    for (const seq of this.outstandingWrites) return seq > p.seq;
    return true;
  }

  private scheduleFlush(p: Pending): void {
    p.timer = this.scheduler.after(this.model.latencyNs, `${this.name} flush`, () => this.completeFlush(p));
  }

  private complete(p: Pending): void {
    const { req } = p;
    const bytes = req.count * this.blockSize;
    this.live.delete(p);
    this.dispatched--;
    let err: FolioError | null = null;
    try {
      err = this.hooks?.beforeIo(req) ?? null;
      if (err === null) {
        const data = req.buffer.subarray(req.offset, req.offset + bytes);
        if (req.op === "read") this.store.read(data, req.block * this.blockSize);
        else this.store.write(data, req.block * this.blockSize);
      }
    } catch (e) {
      err = asIoError(e, `${req.op} of blocks [${req.block}, ${req.block + req.count}) on ${this.name}`);
    }
    if (req.op === "write") {
      this.outstandingWrites.delete(p.seq);
      this.releaseFlushes();
    }
    this.stats.account(req.op, bytes, err);
    this.pump();
    req.done(err);
  }

  private completeFlush(p: Pending): void {
    this.live.delete(p);
    this.dispatched--;
    let err: FolioError | null = null;
    try {
      err = this.hooks?.beforeIo(p.req) ?? null;
      if (err === null) {
        this.store.flush();
        this.hooks?.afterFlush();
      }
    } catch (e) {
      err = asIoError(e, `flush of ${this.name}`);
    }
    this.stats.account("flush", 0, err);
    this.pump();
    p.req.done(err);
  }

  private releaseFlushes(): void {
    while (this.flushWaiters.length > 0 && this.flushReady(this.flushWaiters[0]!)) {
      this.scheduleFlush(this.flushWaiters.shift()!);
    }
  }
}

function asIoError(e: unknown, what: string): FolioError {
  if (isFolioError(e)) return e;
  return fail("EIO", `${what} failed: ${e instanceof Error ? e.message : String(e)}`);
}
