/**
 * Test rig for fs-simple without the VFS: a machine with the page cache installed, a simulated
 * device over a memfs image, mkfs, and the SuperBlock constructed through a child container of
 * the machine's, as a mount does.
 */
import "reflect-metadata";
import { Machine } from "@folio/core";
import { FS_TOKENS, type MountOptions } from "@folio/fs-api";
import {
  FaultyDevice, MemfsStore, SimDevice, installPageCache, type BackingStore, type BlockDevice, type DeviceModel, type Flusher, type PageCache,
} from "@folio/pagecache";
import { SimpleFs } from "../src/index.js";
import type { FsckReport } from "@folio/fs-api";

export const BS = 4096;

export interface Rig {
  machine: Machine;
  cache: PageCache;
  flusher: Flusher;
  store: BackingStore;
  sim: SimDevice;
  device: BlockDevice;
  faulty: FaultyDevice | null;
}

export interface RigOptions {
  memory?: string;
  seed?: number;
  faulty?: boolean;
  model?: Partial<DeviceModel>;
}

/** Boots a machine (a "reboot" when called again on the same store) with a device over `store`. */
export function rig(store: BackingStore, options: RigOptions = {}): Rig {
  const machine = Machine.boot({ memory: options.memory ?? "64MiB", seed: options.seed ?? 1 });
  const { cache, flusher } = installPageCache(machine);
  const sim = new SimDevice(store, machine.scheduler, options.model ? { model: options.model } : {});
  const faulty = options.faulty ? new FaultyDevice(sim) : null;
  return { machine, cache, flusher, store, sim, device: faulty ?? sim, faulty };
}

/** A fresh memfs image of `blocks` 4 KiB blocks. */
export function memStore(blocks: number): MemfsStore {
  return new MemfsStore({ size: blocks * BS });
}

export function ctxOf(r: Rig) {
  return { device: r.device, scheduler: r.machine.scheduler, machine: r.machine };
}

export function mkfs(r: Rig, options?: Record<string, unknown>): void {
  SimpleFs.mkfs(ctxOf(r), options);
}

export function fsck(r: Rig, repair = false): FsckReport {
  return SimpleFs.fsck(ctxOf(r), { repair });
}

/** Constructs the superblock by DI, as the VFS does, and mounts it. */
export function mount(r: Rig, options: MountOptions = {}): SimpleFs {
  const c = r.machine.container.createChildContainer();
  c.register(FS_TOKENS.BlockDevice, { useValue: r.device });
  c.register(FS_TOKENS.MountOptions, { useValue: options });
  const fs = c.resolve(SimpleFs);
  fs.mount();
  // As the VFS does for a mount: the flusher reaches the filesystem through writebackInodes.
  // (Left registered after unmount: writebackInodes of an unmounted filesystem does nothing.)
  r.flusher.register({ writeback: (wbc) => fs.writebackInodes(wbc) });
  return fs;
}

/** A new image of `blocks` blocks, formatted and mounted. */
export function fresh(blocks = 2048, options: RigOptions & { mkfs?: Record<string, unknown>; mount?: MountOptions } = {}) {
  const store = memStore(blocks);
  const r = rig(store, options);
  mkfs(r, options.mkfs);
  const fs = mount(r, options.mount);
  return { ...r, fs };
}

/** Writes a whole file (created if missing) and closes it. */
export function writeFile(fs: SimpleFs, dir: number, name: string, data: Uint8Array, pos = 0): number {
  let ino: number;
  try {
    ino = fs.lookup(dir, name);
  } catch {
    ino = fs.create(dir, name, 0o644);
  }
  const file = fs.open(ino, 2);
  try {
    let done = 0;
    while (done < data.length) {
      const n = fs.write(file, pos + done, data, done, data.length - done);
      if (n === 0) throw new Error("short write");
      done += n;
    }
  } finally {
    fs.release(file);
  }
  return ino;
}

/** Reads a whole file. */
export function readFile(fs: SimpleFs, ino: number, max = Infinity): Uint8Array {
  const size = Math.min(max, fs.getattr(ino).size);
  const buf = new Uint8Array(size);
  const file = fs.open(ino, 0);
  try {
    let done = 0;
    while (done < size) {
      const n = fs.read(file, done, buf, done, size - done);
      if (n === 0) break;
      done += n;
    }
    return buf.subarray(0, done);
  } finally {
    fs.release(file);
  }
}

/** fsync of a file or directory by inode number. */
export function fsyncIno(fs: SimpleFs, ino: number): void {
  const file = fs.open(ino, 0);
  try {
    fs.fsync(file, false);
  } finally {
    fs.release(file);
  }
}

/** Deterministic test data. */
export function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export const eq = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** Every name in the tree, with its type, inode and (for files) size, for comparing trees. */
export function snapshot(fs: SimpleFs, dir = fs.rootIno, prefix = "", seen = new Set<number>(), maxRead = Infinity): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  seen.add(dir);
  for (const e of fs.readdir(dir).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = `${prefix}/${e.name}`;
    const a = fs.getattr(e.ino);
    out[path] = { ...a };
    if (e.type === 2) {
      if (seen.has(e.ino)) throw new Error(`directory loop at ${path}`);
      Object.assign(out, snapshot(fs, e.ino, path, seen, maxRead));
    }
    else if (e.type === 3) out[path + "@"] = fs.readlink(e.ino);
    else out[path + "#"] = hash(readFile(fs, e.ino, maxRead));
  }
  return out;
}

function hash(b: Uint8Array): number {
  let h = 2166136261;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 16777619) >>> 0;
  return h;
}
