/**
 * Where scenarios run: real node:fs on a fresh temp directory, and createNodeFs over a fresh
 * machine + Vfs with a Folio filesystem mounted at "/". Adding a filesystem to the suite is one
 * line of {@link FOLIO_SETUPS} (plus the import that registers its type).
 */
import "reflect-metadata";
import nodeFs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Machine } from "@folio/core";
import { filesystemType } from "@folio/fs-api";
import { MemfsStore, SimDevice, type BlockDevice } from "@folio/pagecache";
import "@folio/fs-simple"; // registers "simple"
import { Vfs, createNodeFs } from "../../src/index.js";

// The tutorial ramfs of examples/ramfs.ts registers "ramfs" (examples/ depends on this package,
// so it is loaded from its build output rather than imported, as in ../helpers.ts).
await import(new URL("../../../../../examples/dist/ramfs.js", import.meta.url).href);

/** node:fs's API: scenarios are written against it, and Folio's createNodeFs stands in for it. */
export type Fs = typeof nodeFs;

/** One filesystem, booted fresh for a scenario. */
export interface Mounted {
  fs: Fs;
  /** The directory scenarios work in (created by mkdir, so its mode is the same everywhere). */
  root: string;
  /** Folio only: the VFS (for credentials in permission scenarios). */
  vfs?: Vfs;
  /**
   * Filesystems with a device: unmounts, then mounts the same device again — in the same Vfs
   * ("umount"), or on a freshly booted machine over the same memfs image ("reboot"). Returns
   * what to use from then on.
   */
  remount?(how: "umount" | "reboot"): Mounted;
  /** After the scenario: problems left behind (open descriptors, fsck findings); may unmount. */
  finish(): string[];
}

/** A way to boot a filesystem for each scenario. */
export interface Setup {
  name: string;
  /** True if what is written survives a remount (the suite then checks that it does). */
  persistent: boolean;
  /** Loads the code that registers the filesystem type, if it is not imported above. */
  load?(): Promise<unknown>;
  boot(): Mounted;
}

/** Options of {@link blockFs}. */
export interface BlockFsOptions {
  /** Device size in bytes (64 MiB). */
  size?: number;
  /** Options for the type's mkfs. */
  mkfs?: Record<string, unknown>;
  /**
   * A workspace package (its directory under packages/) whose build registers the type, loaded
   * from its dist/ — so a filesystem joins the suite without a dependency of this package.
   */
  package?: string;
}

/** Scenario directories on the real filesystem live under one temp dir, removed by {@link cleanupNode}. */
let nodeBase: string | null = null;
let nodeCount = 0;

/** Real node:fs on a fresh directory of os.tmpdir(). */
export const NODE_SETUP: Setup = {
  name: "node:fs",
  persistent: false,
  boot(): Mounted {
    nodeBase ??= nodeFs.realpathSync(nodeFs.mkdtempSync(path.join(os.tmpdir(), "folio-scenarios-")));
    const root = path.join(nodeBase, `s${nodeCount++}`);
    nodeFs.mkdirSync(root);
    return {
      fs: nodeFs,
      root,
      finish: () => {
        nodeFs.rmSync(root, { recursive: true, force: true });
        return [];
      },
    };
  },
};

/** Removes the temp directory of the node:fs runs. */
export function cleanupNode(): void {
  if (nodeBase !== null) nodeFs.rmSync(nodeBase, { recursive: true, force: true });
  nodeBase = null;
}

/** The directory, on the Folio mount at "/", that scenarios work in. */
const FOLIO_ROOT = "/scn";
const MACHINE_MEMORY = "128MiB";

/** A filesystem that needs no device (ramfs-like), mounted at "/". */
export function memoryFs(name: string, type: string): Setup {
  return {
    name,
    persistent: false,
    boot(): Mounted {
      const machine = Machine.boot({ memory: MACHINE_MEMORY, seed: 1 });
      const vfs = new Vfs(machine);
      vfs.mount("/", type);
      return mounted(vfs, () => [], true);
    },
  };
}

/**
 * A block filesystem on a fresh memfs device of `size` bytes, made by the type's own mkfs and
 * mounted at "/"; after each scenario it is unmounted and, if the type has one, fsck'd.
 */
export function blockFs(name: string, type: string, options: BlockFsOptions = {}): Setup {
  const size = options.size ?? 64 * 1024 * 1024;
  const mkfsOptions = options.mkfs;
  /** Boots a machine with a device over `store`, and mounts it (after mkfs when `format`). */
  const start = (store: MemfsStore, format: boolean): Mounted => {
    const cls = filesystemType(type);
    if (!cls.mkfs) throw new Error(`filesystem type ${type} has no mkfs`);
    const machine = Machine.boot({ memory: MACHINE_MEMORY, seed: 1 });
    const vfs = new Vfs(machine);
    const device: BlockDevice = new SimDevice(store, machine.scheduler);
    const ctx = { device, scheduler: machine.scheduler, machine };
    if (format) cls.mkfs(ctx, mkfsOptions);
    vfs.mount("/", type, { device });
    const m = mounted(vfs, () => {
      vfs.umount("/");
      const report = cls.fsck?.(ctx, { repair: false });
      return report && !report.clean ? report.problems.map((p) => `fsck: ${p.what}`) : [];
    }, format);
    m.remount = (how) => {
      if (how === "reboot") {
        vfs.umount("/");
        return start(new MemfsStore({ volume: store.volume, path: store.path }), false);
      }
      vfs.umount("/");
      vfs.mount("/", type, { device });
      return m;
    };
    return m;
  };
  const pkg = options.package;
  return {
    name,
    persistent: true,
    ...(pkg === undefined ? {} : { load: () => import(new URL(`../../../../${pkg}/dist/src/index.js`, import.meta.url).href) }),
    boot: () => start(new MemfsStore({ size }), true),
  };
}

function mounted(vfs: Vfs, check: () => string[], makeRoot: boolean): Mounted {
  vfs.umask = 0o022;
  const fs = createNodeFs(vfs) as unknown as Fs;
  if (makeRoot) fs.mkdirSync(FOLIO_ROOT);
  return {
    fs,
    root: FOLIO_ROOT,
    vfs,
    finish: () => {
      const problems: string[] = [];
      if (vfs.pending > 0) problems.push(`${vfs.pending} promise operations still pending`);
      const open = vfs.openDescriptors();
      if (open.length > 0) {
        problems.push(`descriptors left open: ${open.join(", ")}`);
        for (const fd of open) vfs.close(fd);
      }
      return [...problems, ...check()];
    },
  };
}

/**
 * The Folio filesystems every scenario runs on. To add one, add a line: `memoryFs(label, type)`
 * for a filesystem without a device, `blockFs(label, type, { package })` for one with mkfs on a
 * block device, where `package` is its directory under packages/ (built by the root `tsc -b`):
 *
 *     blockFs("fs-log", "log", { package: "fs-log" }),
 */
export const FOLIO_SETUPS: Setup[] = [
  memoryFs("ramfs", "ramfs"),
  blockFs("fs-simple", "simple"),
  blockFs("fs-log", "log", { package: "fs-log" }),
];

await Promise.all(FOLIO_SETUPS.map((s) => s.load?.()));
