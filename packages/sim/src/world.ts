/**
 * One boot of the simulated machine: a Machine with its VFS, and the device stack over the run's
 * image — SimDevice (timed) → FaultyDevice (errors, power cuts, torn writes) → InFlightDevice
 * (writes stay in flight a while; a flush covers only writes completed before it was issued, as
 * in Linux) → optionally a test's wrapper (a planted bug) → the mounted filesystem. mkfs and
 * fsck use the FaultyDevice directly.
 */
import "reflect-metadata";
import { Machine, type Rng, type Scheduler } from "@folio/core";
import type { DeviceContext } from "@folio/fs-api";
import { FaultyDevice, SimDevice, StackedDevice, type BlockDevice, type BlockRequest } from "@folio/pagecache";
import { Vfs, createNodeFs, type NodeFs } from "@folio/vfs";
import type { RamStore } from "./ram-store.js";
import type { FsTarget } from "./targets.js";

/** Thrown out of the engine by a power cut in the middle of an operation: the machine is gone. */
export class PowerCut extends Error {
  /** Thrown by the harness's timed crash from inside the engine. */
  constructor() {
    super("power cut");
    this.name = "PowerCut";
  }
}

/** Test hooks: how a planted bug gets into the machine. */
export interface WorldHooks {
  /** Wraps the device the filesystem is mounted on (mkfs and fsck do not go through it). */
  wrapDevice?(device: BlockDevice, world: World): BlockDevice;
  /** Called after every boot, before the mount. */
  booted?(world: World): void;
}

/** How to boot a {@link World}. */
export interface WorldOptions {
  /** Memory size of the machine (bytes, or a size such as `"64MiB"`). */
  memory: string | number;
  /** The machine's seed. */
  seed: number;
  /** The machine's eviction policy, by registered name (default: the machine's default). */
  evictionPolicy?: string;
  /**
   * Pages left for the page cache above the high watermark: the rest of free memory is taken at
   * boot (vmalloc, as a balloon driver would), so reclaim runs all the time. Default: no balloon.
   */
  cachePages?: number;
  /** Chooses how long each write stays in flight. */
  inflight: Rng;
  /** Largest folio order of the filesystem's file mappings (mount option `maxOrder`); the filesystem's default when absent. */
  maxOrder?: number;
  /** Test hooks (planted bugs); none on the command line. */
  hooks?: WorldHooks;
}

/** Device latency: small, so that virtual time moves with I/O and a timed power cut lands mid-operation. */
export const LATENCY_NS = 4_000;
/** Longest extra time a write stays in flight above the device. */
export const MAX_INFLIGHT_NS = 20_000;

/**
 * InFlightDevice: holds each write for a short seeded delay before it reaches the device below,
 * so a flush issued meanwhile does not cover it (REQ_PREFLUSH covers only completed writes). A
 * filesystem that waits for its writes before flushing, as it must, sees no difference; one that
 * flushes before its writes complete loses them in a crash.
 */
export class InFlightDevice extends StackedDevice {
  /** Set by a power cut: writes still in flight are dropped instead of reaching the device. */
  dead = false;
  /** Stacks on `inner`; `rng` draws each write's delay (1 µs to 21 µs), `scheduler` runs it. */
  constructor(
    inner: BlockDevice,
    private readonly scheduler: Scheduler,
    private readonly rng: Rng,
  ) {
    super(inner);
  }
  submit(req: BlockRequest): void {
    if (req.op !== "write") {
      this.inner.submit(req);
      return;
    }
    this.scheduler.after(1_000 + this.rng.below(MAX_INFLIGHT_NS), `${this.name} write in flight`, () => {
      if (!this.dead) this.inner.submit(req);
    });
  }
}

/**
 * One boot of the harness: a machine, its VFS and Node fs API, and the device stack over the
 * run's image (simulated device → fault injection → writes in flight → test wrappers). A crash
 * ends a world; the harness boots a new one on the same image.
 */
export class World {
  /** The machine, booted with the options' memory, seed and eviction policy. */
  readonly machine: Machine;
  /** The machine's VFS. */
  readonly vfs: Vfs;
  /** Node's fs API over {@link vfs}: what the workload calls. */
  readonly fs: NodeFs;
  /** The simulated device over the image, with a {@link LATENCY_NS} latency. */
  readonly sim: SimDevice;
  /** Fault injection over {@link sim}: I/O errors, and crashes that lose unflushed writes. */
  readonly faulty: FaultyDevice;
  /** Writes in flight above {@link faulty}. */
  readonly inflight: InFlightDevice;
  /** The device the filesystem is mounted on. */
  readonly top: BlockDevice;
  /** The power went (crash): nothing may run on this machine any more. */
  powerCut = false;
  /** The filesystem is mounted at `/`. */
  mounted = false;
  /** The machine's memory in bytes. */
  readonly memory: number;
  private readonly maxOrder: number | undefined;

  /**
   * Boots the machine and builds the device stack; mounts nothing (the harness calls {@link mount}).
   * With `cachePages` it balloons free memory away so reclaim never stops.
   */
  constructor(
    /** The run's image, which outlives every world. */
    readonly store: RamStore,
    /** The filesystem under test. */
    readonly target: FsTarget,
    options: WorldOptions,
  ) {
    this.machine = Machine.boot({ memory: options.memory, seed: options.seed, ...(options.evictionPolicy ? { evictionPolicy: options.evictionPolicy } : {}) });
    this.memory = this.machine.config.memory;
    this.maxOrder = options.maxOrder;
    if (options.cachePages !== undefined) {
      const spare = this.machine.reclaim.freePages() - this.machine.pages.watermarks.high - options.cachePages;
      if (spare > 0) this.machine.vmalloc.vmalloc(spare * 4096);
    }
    this.vfs = new Vfs(this.machine);
    this.fs = createNodeFs(this.vfs);
    this.sim = new SimDevice(store, this.machine.scheduler, { model: { latencyNs: LATENCY_NS, bytesPerSecond: 4 * 2 ** 30 } });
    this.faulty = new FaultyDevice(this.sim);
    this.inflight = new InFlightDevice(this.faulty, this.machine.scheduler, options.inflight);
    this.top = options.hooks?.wrapDevice ? options.hooks.wrapDevice(this.inflight, this) : this.inflight;
    options.hooks?.booted?.(this);
  }

  /** What mkfs and fsck get: the fault-injecting device, without the in-flight layer or test wrappers. */
  ctx(): DeviceContext {
    return { device: this.faulty, scheduler: this.machine.scheduler, machine: this.machine };
  }

  /** Mounts the target at `/` on the top of the device stack, with its mount options and `maxOrder`. */
  mount(): void {
    const order = this.maxOrder === undefined ? {} : { maxOrder: this.maxOrder };
    this.vfs.mount("/", this.target.type, { device: this.top, options: { ...(this.target.mountOptions ?? {}), ...order } });
    this.mounted = true;
  }

  /** Unmounts `/` (writing everything back, as umount does). */
  umount(): void {
    this.vfs.umount("/");
    this.mounted = false;
  }

  /** Errors injected since boot (reads, writes, flushes). */
  get injected(): number {
    const f = this.faulty.faults;
    return f.readErrors + f.writeErrors + f.flushErrors;
  }

  /** Loses power now: unflushed writes are lost (some torn with `tear`). */
  crash(tear?: Rng): void {
    if (this.powerCut) return;
    this.powerCut = true;
    this.inflight.dead = true;
    this.faulty.crash(tear ? { tear } : {});
  }

  /** Arms a power cut `delayNs` of virtual time from now: it throws {@link PowerCut} out of whatever is running then. */
  armPowerCut(delayNs: number, tear?: Rng): void {
    this.machine.scheduler.after(delayNs, "power cut", () => {
      this.crash(tear);
      throw new PowerCut();
    });
  }
}
