/**
 * A machine to run things on: a booted {@link Machine} with the VFS, a simulated disk in RAM
 * formatted with the chosen filesystem and mounted on `/`, Node's fs API over it, and optionally
 * swap. Every report command and `run` start from one.
 */
import "reflect-metadata";
import { Machine, evictionPolicyNames, formatSize, type MachineConfig } from "@folio/core";
import { DEVICE_MODELS, MemfsStore, SimDevice, swapOn, type DeviceModel } from "@folio/pagecache";
import { filesystemType } from "@folio/fs-api";
import { Vfs, createNodeFs, type NodeFs } from "@folio/vfs";
// Importing these registers the "simple" and "log" filesystem types and the eviction policies.
import "@folio/fs-simple";
import "@folio/fs-log";
import "@folio/policies";
import { usage } from "./errors.js";
import { FILESYSTEMS, type FsName } from "./commands/options.js";

export { FILESYSTEMS, type FsName };

/** How to set a machine up; every field has a default. */
export interface SessionOptions {
  /** Physical memory in bytes (default 64 MiB). */
  memory?: number;
  /** Filesystem on the disk (default "simple"). */
  fs?: FsName;
  /** Eviction policy by registered name (default "linux"). */
  policy?: string;
  /** Seed of the machine (default 1). */
  seed?: number;
  /** Disk size in bytes (default: twice the memory, at least 64 MiB). */
  disk?: number;
  /** Device model name (default "nvme"). */
  device?: string;
  /** Swap size in bytes (default 0: no swap). */
  swap?: number;
  /** Huge pages in the hugetlb pool at boot (default 0). */
  hugePages?: number;
}

/** A running machine with a mounted filesystem. */
export interface Session {
  /** The booted machine. */
  readonly machine: Machine;
  /** Its VFS, with the disk mounted on `/`. */
  readonly vfs: Vfs;
  /** Node's fs API over the VFS. */
  readonly fs: NodeFs;
  /** The disk under `/`. */
  readonly device: SimDevice;
  /** The settings used, defaults filled in. */
  readonly options: Required<SessionOptions>;
  /** Unmounts `/` (writing everything back) and closes the disk. Idempotent. */
  close(): void;
}

const MiB = 1 << 20;

/**
 * The disk a machine of `memory` bytes gets when no size is asked for: twice its memory (room for
 * a working set that does not fit in the page cache), at least 64 MiB, and at most 2 GiB — the disk
 * is a memfs file in host RAM, and a single in-memory buffer cannot grow past a few GiB.
 */
export function defaultDiskSize(memory: number): number {
  return Math.min(2048 * MiB, Math.max(64 * MiB, 2 * memory));
}

/** Fills in the defaults of `o` and checks the names in it (EINVAL naming the bad one). */
export function resolveSessionOptions(o: SessionOptions = {}): Required<SessionOptions> {
  const memory = o.memory ?? 64 * MiB;
  const fs = o.fs ?? "simple";
  if (!FILESYSTEMS.includes(fs)) usage(`--fs "${String(fs)}" is not a filesystem the CLI formats (${FILESYSTEMS.join(", ")})`);
  const policy = o.policy ?? "linux";
  if (!evictionPolicyNames().includes(policy)) usage(`--policy "${policy}" is not an eviction policy (${evictionPolicyNames().join(", ")})`);
  const device = o.device ?? "nvme";
  if (!(device in DEVICE_MODELS)) usage(`--device "${device}" is not a device model (${Object.keys(DEVICE_MODELS).join(", ")})`);
  return {
    memory, fs, policy, device,
    seed: o.seed ?? 1,
    disk: o.disk ?? defaultDiskSize(memory),
    swap: o.swap ?? 0,
    hugePages: o.hugePages ?? 0,
  };
}

/**
 * Boots a machine as `options` say, formats its disk and mounts it on `/`. The disk is a memfs
 * file (host RAM), so nothing touches the host's filesystem. Throws EINVAL for bad settings
 * (Machine.boot's messages name them).
 */
export function openSession(options: SessionOptions = {}): Session {
  const o = resolveSessionOptions(options);
  const config: MachineConfig = { memory: o.memory, seed: o.seed, evictionPolicy: o.policy, hugePages: o.hugePages };
  const machine = Machine.boot(config);
  const vfs = new Vfs(machine);
  const model: DeviceModel = DEVICE_MODELS[o.device as keyof typeof DEVICE_MODELS];
  const store = new MemfsStore({ size: o.disk });
  const device = new SimDevice(store, machine.scheduler, { model });
  filesystemType(o.fs).mkfs!({ device, scheduler: machine.scheduler, machine });
  vfs.mount("/", o.fs, { device });
  if (o.swap > 0) swapOn(machine, undefined, { size: o.swap, model: o.device as keyof typeof DEVICE_MODELS });
  let open = true;
  return {
    machine, vfs, device, options: o,
    fs: createNodeFs(vfs),
    close() {
      if (!open) return;
      open = false;
      vfs.umount("/");
      store.close();
    },
  };
}

/** One line saying what the machine is: `64MiB, fs-simple on a 128MiB nvme disk, policy linux, seed 1`. */
export function describeSession(o: Required<SessionOptions>): string {
  const swap = o.swap > 0 ? `, ${formatSize(o.swap)} swap` : "";
  return `${formatSize(o.memory)} machine, fs ${o.fs} on a ${formatSize(o.disk)} ${o.device} disk${swap}, policy ${o.policy}, seed ${o.seed}`;
}
