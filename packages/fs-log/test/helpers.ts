/**
 * Test rig for fs-log: a booted machine with the page cache installed, a SimDevice over a
 * MemfsStore wrapped in a FaultyDevice, and LogFs constructed the way the VFS does it (a child
 * container of the machine's with FS_TOKENS registered), called directly as a SuperBlock.
 */
import "reflect-metadata";
import { Machine, type Rng } from "@folio/core";
import { FS_TOKENS, O_RDWR, type DeviceContext, type FsFile } from "@folio/fs-api";
import { FaultyDevice, MemfsStore, SimDevice, installPageCache, type BackingStore, type BlockDevice } from "@folio/pagecache";
import { LogFs } from "../src/index.js";

export interface Rig {
  machine: Machine;
  store: BackingStore;
  sim: SimDevice;
  faulty: FaultyDevice;
  device: BlockDevice;
}

export interface RigOptions {
  memory?: string;
  /** Device size in 4 KiB blocks. */
  blocks?: number;
  seed?: number;
  store?: BackingStore;
  mkfs?: Record<string, unknown> | false;
  /** Wraps the FaultyDevice (e.g. to record writes). */
  wrap?: (d: BlockDevice) => BlockDevice;
}

export function makeRig(o: RigOptions = {}): Rig {
  const machine = Machine.boot({ memory: o.memory ?? "64MiB", seed: o.seed ?? 1 });
  installPageCache(machine);
  const store = o.store ?? new MemfsStore({ size: (o.blocks ?? 4096) * 4096 });
  const sim = new SimDevice(store, machine.scheduler);
  const faulty = new FaultyDevice(sim);
  const device = o.wrap ? o.wrap(faulty) : faulty;
  const r = { machine, store, sim, faulty, device };
  if (o.mkfs !== false) LogFs.mkfs(ctxOf(r), o.mkfs ?? {});
  return r;
}

export function ctxOf(r: { machine: Machine; device: BlockDevice }): DeviceContext {
  return { device: r.device, scheduler: r.machine.scheduler, machine: r.machine };
}

export function mountFs(r: { machine: Machine; device: BlockDevice }, options: Record<string, unknown> = {}): LogFs {
  const c = r.machine.container.createChildContainer();
  c.register(FS_TOKENS.BlockDevice, { useValue: r.device });
  c.register(FS_TOKENS.MountOptions, { useValue: options });
  const fs = c.resolve(LogFs);
  fs.mount();
  return fs;
}

export function fsckOf(r: { machine: Machine; device: BlockDevice }, repair = false) {
  return LogFs.fsck(ctxOf(r), { repair });
}

/** Writes `data` at `pos` of inode `ino` through an open file, optionally fsyncing it. */
export function writeAt(fs: LogFs, ino: number, pos: number, data: Uint8Array, fsync = false): void {
  const f = fs.open(ino, O_RDWR);
  try {
    let done = 0;
    while (done < data.length) done += fs.write(f, pos + done, data, done, data.length - done);
    if (fsync) fs.fsync(f, false);
  } finally {
    fs.release(f);
  }
}

export function fsyncIno(fs: LogFs, ino: number): void {
  const f = fs.open(ino, O_RDWR);
  try {
    fs.fsync(f, false);
  } finally {
    fs.release(f);
  }
}

/** The whole contents of inode `ino`. */
export function readAll(fs: LogFs, ino: number): Uint8Array {
  const size = fs.getattr(ino).size;
  const out = new Uint8Array(size);
  const f: FsFile = fs.open(ino, O_RDWR);
  try {
    let done = 0;
    while (done < size) {
      const n = fs.read(f, done, out, done, size - done);
      if (n === 0) break;
      done += n;
    }
  } finally {
    fs.release(f);
  }
  return out;
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

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** First differing byte, for messages. */
export function firstDiff(a: Uint8Array, b: Uint8Array): string {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return `byte ${i}: ${a[i]} vs ${b[i]} (lengths ${a.length}, ${b.length})`;
  return a.length === b.length ? "equal" : `lengths ${a.length} vs ${b.length}`;
}

export function randomBytes(rng: Rng, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const v = rng.nextU32();
    out[i] = v & 0xff;
    if (i + 1 < n) out[i + 1] = (v >>> 8) & 0xff;
    if (i + 2 < n) out[i + 2] = (v >>> 16) & 0xff;
    if (i + 3 < n) out[i + 3] = v >>> 24;
  }
  return out;
}

/** What the VFS does when it drops its last reference to an inode after a removal: evict it if no link is left. */
export function evictIfGone(fs: LogFs, ino: number): void {
  if (fs.getattr(ino).nlink === 0) fs.evictInode(ino);
}
