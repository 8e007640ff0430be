/**
 * Block device types by name, so a machine, a mount or a command line can choose a device the
 * way it chooses a filesystem or an eviction policy: `createBlockDevice("memfs", scheduler,
 * { size: "64MiB" })`. The registry holds factories only (no device state), so it is safely
 * process-wide.
 */
import { fail, type Scheduler } from "@folio/core";
import type { BlockDevice } from "./device.js";
import { DEVICE_MODELS, SimDevice, type DeviceModel } from "./sim.js";
import { FileStore, MemfsStore } from "./store.js";

/** What every device factory accepts; types read the keys they understand. */
export interface BlockDeviceOptions {
  /** Size of a new image ("64MiB"); omitted to open an existing one. */
  size?: number | string;
  /** Image path: in the memfs volume for "memfs", on the host for "file". */
  path?: string;
  /** Timing: a named model ("nvme", "ssd", "hdd", "instant") or explicit figures. */
  model?: keyof typeof DEVICE_MODELS | Partial<DeviceModel>;
  /** Device name in messages ("vda"). */
  name?: string;
  [key: string]: unknown;
}

/** Builds a device whose completions run on `scheduler`. */
export type BlockDeviceFactory = (scheduler: Scheduler, options: BlockDeviceOptions) => BlockDevice;

const types = new Map<string, BlockDeviceFactory>();

/** Registers a device type by name. */
export function registerBlockDeviceType(name: string, factory: BlockDeviceFactory): void {
  types.set(name, factory);
}

/** Names of the registered device types. */
export function blockDeviceTypes(): string[] {
  return [...types.keys()];
}

/** A new device of type `name`; EINVAL naming the known types if there is no such type. */
export function createBlockDevice(name: string, scheduler: Scheduler, options: BlockDeviceOptions = {}): BlockDevice {
  const factory = types.get(name);
  if (!factory) throw fail("EINVAL", `unknown block device type "${name}" (known: ${blockDeviceTypes().join(", ")})`);
  return factory(scheduler, options);
}

function simOptions(o: BlockDeviceOptions): { name?: string; model?: Partial<DeviceModel> } {
  const model = typeof o.model === "string" ? DEVICE_MODELS[o.model] : o.model;
  if (typeof o.model === "string" && model === undefined) {
    throw fail("EINVAL", `unknown device model "${o.model}" (known: ${Object.keys(DEVICE_MODELS).join(", ")})`);
  }
  return { ...(o.name !== undefined ? { name: o.name } : {}), ...(model !== undefined ? { model } : {}) };
}

registerBlockDeviceType("memfs", (scheduler, o) =>
  new SimDevice(new MemfsStore({ ...(o.size !== undefined ? { size: o.size } : {}), ...(o.path !== undefined ? { path: o.path } : {}) }), scheduler, simOptions(o)));

registerBlockDeviceType("file", (scheduler, o) => {
  if (o.path === undefined) throw fail("EINVAL", `a "file" device needs a path to a disk image`);
  const store = o.size !== undefined ? FileStore.create(o.path, o.size) : FileStore.open(o.path);
  return new SimDevice(store, scheduler, simOptions(o));
});
