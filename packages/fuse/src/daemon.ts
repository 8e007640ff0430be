/**
 * The mount daemon: one process that boots a Folio machine, opens the disk (a throwaway memfs
 * disk, or an image file that persists), mounts the Folio filesystem on the machine's VFS, mounts
 * that through FUSE on a host directory, and serves the kernel's requests until it is told to stop
 * or the host directory is unmounted.
 *
 * Why a process of its own: every request is served on the JS thread (the engine is
 * synchronous), so a process that touched its own mount synchronously would wait for a reply only
 * it could give. The daemon never looks at its mount point once mounted.
 */
import "reflect-metadata";
import { existsSync, statSync } from "node:fs";
import { basename, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Machine, evictionPolicyNames, fail, parseSize, type Scheduler } from "@folio/core";
import { DEVICE_MODELS, FileStore, MemfsStore, SimDevice, readImageHead, type BackingStore } from "@folio/pagecache";
import { filesystemType, filesystemTypes, probeFilesystem } from "@folio/fs-api";
import { Vfs } from "@folio/vfs";
import "@folio/fs-simple"; // registers "simple"
import "@folio/fs-log"; // registers "log"
import "@folio/policies";
import { FuseChannel } from "./channel.js";
import { FuseServer } from "./server.js";
import { VfsFuseOps } from "./vfs-ops.js";
import { canonicalMountpoint, removeRecord, writeRecord } from "./runtime.js";

/**
 * Imports the modules at `paths` (files of the host; relative ones from the working directory),
 * each of which registers filesystem types with `@filesystem` when loaded, so that a mount can
 * serve a plugin filesystem by its name. Throws ENOENT for a module that does not exist, EINVAL
 * for one that fails to load (with its error as the cause).
 */
export async function loadFilesystemModules(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    const file = resolve(path);
    if (!existsSync(file)) throw fail("ENOENT", `filesystem module ${path} does not exist`, { path: file });
    try {
      await import(pathToFileURL(file).href);
    } catch (e) {
      throw Object.assign(fail("EINVAL", `filesystem module ${path} failed to load: ${e instanceof Error ? e.message : String(e)}`, { path: file }), { cause: e });
    }
  }
}

/** What to mount and how; see {@link resolveMountConfig} for the defaults. */
export interface MountConfig {
  /** Host directory to mount on. */
  mountpoint: string;
  /**
   * The disk: an image file (it persists; created with `size` and formatted with `fs` when it does
   * not exist), or null for a throwaway memfs disk of `size` in this process's memory.
   */
  image?: string | null;
  /**
   * Filesystem type, by registered name ("simple", "log", or one a module in {@link modules}
   * registers): required to format a new disk; checked against an existing image's (EINVAL when
   * they differ). A type that needs no device (ramfs) is mounted without a disk.
   */
  fs?: string;
  /** Modules to import before mounting, which register plugin filesystem types ({@link loadFilesystemModules}). */
  modules?: string[];
  /** The machine's physical memory ("512MiB" by default): Folio's page cache lives in it. */
  memory?: string | number;
  /** Eviction policy by registered name ("linux" by default). */
  policy?: string;
  /** Disk size for a memfs disk or a new image ("1GiB" by default). */
  size?: string | number;
  /** Device model of the simulated disk: its timing is virtual and costs no real time ("instant" by default). */
  device?: string;
  /** Seed of the machine (1 by default). */
  seed?: number;
  /**
   * Keep file data out of the kernel's page cache (FOPEN_DIRECT_IO, the default): every read and
   * write reaches Folio. False lets the kernel cache file data, as an ordinary FUSE mount does.
   */
  directIo?: boolean;
  /** Largest READ/WRITE request in bytes (1 MiB by default, the kernel's limit). */
  maxWrite?: number;
  /** Reads of /dev/fuse kept outstanding (2 by default). */
  readers?: number;
  /** Seconds the kernel may cache names and attributes (1 by default). */
  cacheTimeout?: number;
  /** Let other users use the mount (the kernel checks permissions); true by default. */
  allowOther?: boolean;
  /** Milliseconds between the engine's background slices (kswapd, the flusher) when idle (10 by default). */
  sliceMs?: number;
}

/** A {@link MountConfig} with every default filled in. */
export type ResolvedMountConfig = Required<Omit<MountConfig, "fs" | "memory" | "size">> & {
  /** The filesystem asked for; undefined to take whatever an existing image holds. */
  fs: string | undefined;
  /** Memory of the machine, in bytes. */
  memory: number;
  /** Size of a new disk, in bytes. */
  size: number;
};

/** Fills in the defaults of `c` and checks it; EINVAL naming the bad field. */
export function resolveMountConfig(c: MountConfig): ResolvedMountConfig {
  const policy = c.policy ?? "linux";
  if (!evictionPolicyNames().includes(policy)) throw fail("EINVAL", `--policy "${policy}" is not an eviction policy (${evictionPolicyNames().join(", ")})`);
  const device = c.device ?? "instant";
  if (!(device in DEVICE_MODELS)) throw fail("EINVAL", `--device "${device}" is not a device model (${Object.keys(DEVICE_MODELS).join(", ")})`);
  if (c.fs !== undefined && !filesystemTypes().includes(c.fs)) {
    throw fail("EINVAL", `--fs "${String(c.fs)}" is not a registered filesystem type (${filesystemTypes().join(", ")}; --module registers more)`);
  }
  const maxWrite = c.maxWrite ?? 1 << 20;
  if (maxWrite % 4096 !== 0 || maxWrite < 4096 || maxWrite > 1 << 20) throw fail("EINVAL", `max write ${maxWrite} must be a multiple of 4096 up to 1MiB`);
  const readers = c.readers ?? 2;
  if (!Number.isInteger(readers) || readers < 1 || readers > 4) throw fail("EINVAL", `readers ${readers} must be 1 to 4`);
  return {
    mountpoint: canonicalMountpoint(c.mountpoint),
    image: c.image ?? null,
    fs: c.fs,
    modules: (c.modules ?? []).map((m) => resolve(m)),
    memory: parseSize(c.memory ?? "512MiB", "--memory"),
    policy,
    size: parseSize(c.size ?? "1GiB", "--size"),
    device,
    seed: c.seed ?? 1,
    directIo: c.directIo ?? true,
    maxWrite,
    readers,
    cacheTimeout: c.cacheTimeout ?? 1,
    allowOther: c.allowOther ?? true,
    sliceMs: c.sliceMs ?? 10,
  };
}

/**
 * The registered filesystem type an image holds, from the types' superblock probes (fs-simple's
 * magic in block 0 or its backup in block 1, fs-log's in block 0, a plugin's own), or null for an
 * image none of them recognises. Throws the host's error for a file it cannot read.
 */
export function detectImageFs(path: string): string | null {
  return probeFilesystem(readImageHead(path)) ?? null;
}

/** The host's clock, in ms: files created on a mount get real times, as on any filesystem. */
function hostEpochMs(): number {
  // eslint-disable-next-line no-restricted-globals -- a mount serves real programs, whose files need the real time
  return Date.now();
}

/** A disk opened for a mount. */
export interface Disk {
  /** The filesystem type mounted. */
  fs: string;
  /** Where the disk's blocks live (an image file or memfs); absent for a type that needs no device (ramfs). */
  store?: BackingStore;
  /** The simulated disk over {@link store} that the filesystem is mounted on; absent with it. */
  device?: SimDevice;
  /** Formatted now (a memfs disk, or an image that did not exist). */
  formatted: boolean;
}

function openDisk(c: ResolvedMountConfig, machine: Machine): Disk {
  let fs = c.fs;
  if (fs !== undefined && filesystemType(fs).needsDevice !== true) {
    if (c.image !== null) throw fail("EINVAL", `fs ${fs} keeps its files in memory and takes no image: mount it with the mount point alone`, { path: c.image });
    return { fs, formatted: false };
  }
  const model = DEVICE_MODELS[c.device as keyof typeof DEVICE_MODELS];
  let store: BackingStore;
  let fresh: boolean;
  if (c.image === null) {
    store = new MemfsStore({ size: c.size });
    fresh = true;
  } else if (existsSync(c.image)) {
    if (!statSync(c.image).isFile()) throw fail("EINVAL", `image ${c.image} is not a regular file`, { path: c.image });
    const found = detectImageFs(c.image);
    if (found === null) throw fail("EINVAL", `${c.image} holds no filesystem a registered type recognises (${filesystemTypes().join(", ")})`, { path: c.image });
    if (fs !== undefined && fs !== found) throw fail("EINVAL", `${c.image} holds ${found}, not ${fs}`, { path: c.image });
    fs = found;
    store = FileStore.open(c.image);
    fresh = false;
  } else {
    store = FileStore.create(c.image, c.size);
    fresh = true;
  }
  const device = new SimDevice(store, machine.scheduler, { model, name: c.image === null ? "memfs" : basename(c.image) });
  if (fresh) {
    const mkfs = fs === undefined ? undefined : filesystemType(fs).mkfs;
    if (mkfs === undefined) {
      store.close();
      throw fail("EINVAL", fs === undefined ? `--fs is needed to format a new disk (${filesystemTypes().join(", ")})` : `fs ${fs} has no mkfs to format a new disk`);
    }
    mkfs({ device, scheduler: machine.scheduler, machine });
  }
  return { store, device, fs: fs!, formatted: fresh };
}

/** Hooks of a running daemon. */
export interface DaemonHooks {
  /** A line for the log (the daemon's stderr by default). */
  log?: (line: string) => void;
}

/**
 * A mount: the machine, its VFS with the Folio filesystem on "/", and the FUSE connection serving
 * it on the host. {@link start} resolves once the kernel has completed the INIT handshake (the
 * mount serves requests); {@link stop} (SIGINT/SIGTERM) syncs, unmounts the host mount and waits
 * for the connection to end; {@link finished} resolves when everything is written back and
 * closed, with 0, or 1 when writing back failed.
 */
export class FuseDaemon {
  /** The configuration, defaults filled in. */
  readonly config: ResolvedMountConfig;
  /** The machine, booted with the host's wall clock as its epoch. */
  readonly machine: Machine;
  /** Its VFS, with the filesystem on "/". */
  readonly vfs: Vfs;
  /** The FUSE operations over {@link vfs}. */
  readonly ops: VfsFuseOps;
  /** The disk: its store, device and filesystem, and whether it was formatted now. */
  readonly disk: Disk;
  private server: FuseServer | null = null;
  private channel: FuseChannel | null = null;
  private realtime: { stop(): void } | null = null;
  private stopping = false;
  private resolveFinished!: (code: number) => void;
  /** Resolves with the exit status once the mount is gone and everything is written back. */
  readonly finished: Promise<number>;
  private readonly log: (line: string) => void;

  /**
   * Boots the machine, opens (or creates and formats) the disk and mounts it on the VFS's "/";
   * nothing is mounted on the host until {@link start}. Throws EINVAL for a bad configuration or
   * image, and what the filesystem's mount throws.
   */
  constructor(config: MountConfig, hooks: DaemonHooks = {}) {
    this.config = resolveMountConfig(config);
    this.log = hooks.log ?? ((line) => process.stderr.write(`folio-fuse[${process.pid}]: ${line}\n`));
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
    const c = this.config;
    this.machine = Machine.boot({ memory: c.memory, seed: c.seed, evictionPolicy: c.policy, epochMs: hostEpochMs() });
    this.vfs = new Vfs(this.machine);
    this.disk = openDisk(c, this.machine);
    try {
      this.vfs.mount("/", this.disk.fs, this.disk.device ? { device: this.disk.device } : {});
    } catch (e) {
      this.disk.store?.close();
      throw e;
    }
    this.ops = new VfsFuseOps(this.vfs);
  }

  /** The machine's scheduler (for status and tests). */
  get scheduler(): Scheduler {
    return this.machine.scheduler;
  }

  /** Mounts on the host and serves; resolves once the INIT handshake is done. */
  async start(): Promise<void> {
    const c = this.config;
    let initDone!: () => void;
    const init = new Promise<void>((resolve) => (initDone = resolve));
    let channel: FuseChannel;
    try {
      channel = await FuseChannel.open({
        mountpoint: c.mountpoint,
        fsname: `folio:${c.image === null ? "memfs" : basename(c.image)}`,
        subtype: `folio-${this.disk.fs}`,
        maxWrite: c.maxWrite,
        readers: c.readers,
        allowOther: c.allowOther,
      });
    } catch (e) {
      this.closeFolio();
      throw e;
    }
    this.channel = channel;
    channel.onReplyError = (e) => this.log(`the kernel refused a reply: ${(e as Error).message}`);
    this.server = new FuseServer(this.ops, (b, l) => channel.reply(b, l), {
      maxWrite: c.maxWrite,
      timeouts: { entry: c.cacheTimeout, attr: c.cacheTimeout },
      directIo: c.directIo,
      onInit: () => initDone(),
      onInternalError: (op, e) => this.log(`internal error in ${op}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`),
    });
    const server = this.server;
    channel.start((buf, len) => server.handle(buf, len), () => this.connectionEnded());
    // Background work (the flusher's periodic writeback, kswapd, device completions) runs in
    // bounded slices between requests; each request runs what it must wait for itself.
    this.realtime = this.machine.scheduler.startRealtime(c.sliceMs, 1000);
    await init;
    writeRecord({ pid: process.pid, mountpoint: c.mountpoint, image: c.image, fs: this.disk.fs });
    this.log(`mounted fs-${this.disk.fs} (${c.image ?? "memfs disk"}) on ${c.mountpoint}: FUSE ${server.version.major}.${server.version.minor}, ${c.directIo ? "direct I/O" : "kernel page cache"}, machine ${c.memory >> 20} MiB, policy ${c.policy}`);
  }

  /** Requests served so far, by opcode. */
  get stats(): FuseServer["stats"] | null {
    return this.server?.stats ?? null;
  }

  /**
   * Stops: syncs the Folio filesystem (so everything is durable even if what follows fails), then
   * unmounts the host mount — lazily when it is busy, in which case the connection lives on until
   * the last file on it is closed — and lets {@link finished} resolve when the connection ends.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const channel = this.channel;
    if (channel === null) {
      this.closeFolio();
      return;
    }
    try {
      this.vfs.sync();
    } catch (e) {
      this.log(`sync failed: ${(e as Error).message}`);
    }
    try {
      await channel.unmount(false);
    } catch (e) {
      if (channel.isClosed) return;
      this.log(`${(e as Error).message}; detaching lazily: the mount ends when its last open file is closed`);
      try {
        await channel.unmount(true);
      } catch (e2) {
        this.log(`lazy unmount failed: ${(e2 as Error).message}`);
      }
    }
  }

  /** The kernel ended the connection: unmount the Folio filesystem (writing everything back) and close the disk. */
  private connectionEnded(): void {
    this.log("connection ended: writing back and unmounting the Folio filesystem");
    this.closeFolio();
  }

  private closeFolio(): void {
    this.realtime?.stop();
    this.realtime = null;
    const errors: string[] = [];
    try {
      this.ops.closeAll();
      this.vfs.umount("/");
    } catch (e) {
      errors.push(`unmounting the Folio filesystem failed: ${(e as Error).message}`);
    }
    try {
      this.disk.store?.close();
    } catch (e) {
      errors.push(`closing the disk failed: ${(e as Error).message}`);
    }
    const c = this.config;
    if (errors.length === 0) {
      removeRecord(c.mountpoint);
      this.log("unmounted cleanly");
    } else {
      // Left for `folio umount`, which reports it: the daemon is no longer there to say it.
      writeRecord({ pid: process.pid, mountpoint: c.mountpoint, image: c.image, fs: this.disk.fs, error: errors.join("; ") });
      for (const line of errors) this.log(line);
    }
    this.resolveFinished(errors.length === 0 ? 0 : 1);
  }
}
