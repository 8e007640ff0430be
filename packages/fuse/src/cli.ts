/**
 * Mounting and unmounting from the command line: {@link mountFolio} starts a daemon process and
 * waits until its mount serves requests, {@link umountFolio} asks the daemon of a mount point to
 * stop and waits until everything is written back, {@link runDaemonProcess} is the daemon's life.
 * The commander definitions are in `commands.ts`, which loads none of this until a command runs.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fail, isFolioError } from "@folio/core";
import { runTool } from "./channel.js";
import { FuseDaemon, loadFilesystemModules, resolveMountConfig, type MountConfig } from "./daemon.js";
import { fuseMountAt, processAlive, readRecord, recordPath, removeRecord, runtimeDir } from "./runtime.js";

/** What the daemon tells the process that started it. */
export type DaemonMessage =
  | {
      /** The mount serves requests. */
      ready: true;
      /** The daemon's process id. */
      pid: number;
      /** The canonical mount point. */
      mountpoint: string;
    }
  | {
      /** Why the daemon could not mount; it has ended. */
      error: {
        /** A Node-style error code. */
        code: string;
        /** One line saying what went wrong. */
        message: string;
      };
    };

/** A mount started by {@link mountFolio}. */
export interface MountedFolio {
  /** The daemon's process id. */
  pid: number;
  /** The canonical mount point. */
  mountpoint: string;
  /** The daemon's log file. */
  log: string;
}

/** Options of {@link mountFolio}. */
export interface MountFolioOptions {
  /** The daemon's log file (appended to); by default beside its mount record in {@link runtimeDir}. */
  log?: string;
  /** How long to wait for the mount to serve requests (30 s by default). */
  timeoutMs?: number;
}

const DAEMON_MAIN = fileURLToPath(new URL("./daemon-main.js", import.meta.url));

/**
 * Starts a daemon serving `config` and resolves once the mount serves requests. Rejects with the
 * daemon's own error (code and message: EINVAL for a bad option or image, ENOENT for no /dev/fuse,
 * EPERM when not allowed to mount, EBUSY when something is mounted there already, ENOTDIR when the
 * mount point is not a directory).
 */
export async function mountFolio(config: MountConfig, options: MountFolioOptions = {}): Promise<MountedFolio> {
  await loadFilesystemModules(config.modules ?? []); // here too: a bad module or type fails before a daemon starts
  const c = resolveMountConfig(config);
  const mp = c.mountpoint;
  if (fuseMountAt(mp) !== undefined) throw fail("EBUSY", `${mp} is a FUSE mount already (folio umount ${mp} first)`, { path: mp });
  let st;
  try {
    st = statSync(mp);
  } catch (e) {
    throw fail("ENOENT", `mount point ${mp}: ${(e as Error).message}`, { path: mp });
  }
  if (!st.isDirectory()) throw fail("ENOTDIR", `mount point ${mp} is not a directory`, { path: mp });
  mkdirSync(runtimeDir(), { recursive: true, mode: 0o700 });
  const log = options.log ?? recordPath(mp).replace(/\.json$/, ".log");
  const fd = openSync(log, "a");
  const full: MountConfig = {
    ...config,
    mountpoint: mp,
    image: config.image == null ? null : resolve(config.image),
    ...(config.modules !== undefined ? { modules: config.modules.map((m) => resolve(m)) } : {}),
  };
  const child = spawn(process.execPath, [DAEMON_MAIN, JSON.stringify(full)], { detached: true, stdio: ["ignore", fd, fd, "ipc"] });
  closeSync(fd);
  try {
    const msg = await new Promise<DaemonMessage>((res, rej) => {
      const timer = setTimeout(() => rej(fail("EBUSY", `the daemon did not mount ${mp} within ${(options.timeoutMs ?? 30_000) / 1000} s (see ${log})`)), options.timeoutMs ?? 30_000);
      child.once("message", (m) => {
        clearTimeout(timer);
        res(m as DaemonMessage);
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        rej(fail("EIO", `the daemon exited (${signal ?? `status ${code}`}) before mounting ${mp} (see ${log})`));
      });
    });
    if ("error" in msg) {
      const code = isCode(msg.error.code) ? msg.error.code : "EIO";
      // The daemon sends its error's message, which already starts with the code: keep one.
      const detail = msg.error.message.startsWith(`${msg.error.code}: `) ? msg.error.message.slice(msg.error.code.length + 2) : msg.error.message;
      throw fail(code, detail, { path: mp });
    }
    return { pid: msg.pid, mountpoint: msg.mountpoint, log };
  } catch (e) {
    if (child.exitCode === null) child.kill("SIGTERM");
    throw e;
  } finally {
    child.removeAllListeners();
    if (child.connected) child.disconnect();
    child.unref();
  }
}

function isCode(code: string): code is Parameters<typeof fail>[0] {
  return /^E[A-Z]+$/.test(code);
}

/** Options of {@link umountFolio}. */
export interface UmountFolioOptions {
  /** How long to wait for the daemon to write everything back (120 s by default). */
  timeoutMs?: number;
}

/**
 * Unmounts the Folio mount on `mountpoint`: signals its daemon (SIGTERM), which syncs, unmounts
 * the host mount (lazily if it is busy), writes everything back and exits; resolves when it has.
 * A mount whose daemon is gone (killed) is detached with `umount -l`. Rejects with EINVAL when
 * nothing of Folio is mounted there, EIO when the daemon reported a failure to write back, EBUSY
 * when it did not finish in time.
 */
export async function umountFolio(mountpoint: string, options: UmountFolioOptions = {}): Promise<void> {
  const rec = readRecord(mountpoint);
  const timeoutMs = options.timeoutMs ?? 120_000;
  if (rec !== null && rec.error === undefined && processAlive(rec.pid)) {
    process.kill(rec.pid, "SIGTERM");
    const start = performance.now();
    while (processAlive(rec.pid)) {
      if (performance.now() - start > timeoutMs) throw fail("EBUSY", `the daemon (pid ${rec.pid}) of ${rec.mountpoint} is still writing back after ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 25));
    }
    const after = readRecord(mountpoint);
    if (after?.error !== undefined) {
      removeRecord(mountpoint);
      throw fail("EIO", `${rec.mountpoint}: ${after.error}`);
    }
    return;
  }
  const kernel = fuseMountAt(mountpoint);
  if (rec?.error !== undefined) {
    removeRecord(mountpoint);
    if (kernel !== undefined) await runTool("umount", ["-l", kernel.mountpoint]);
    throw fail("EIO", `${rec.mountpoint}: ${rec.error}`);
  }
  if (kernel !== undefined && kernel.type.startsWith("fuse.folio")) {
    // The daemon is gone (killed): nothing can be written back any more; detach the dead mount.
    await runTool("umount", ["-l", kernel.mountpoint]);
    removeRecord(mountpoint);
    return;
  }
  if (rec !== null) removeRecord(mountpoint);
  throw fail("EINVAL", `nothing of Folio is mounted on ${mountpoint}`, { path: mountpoint });
}

/**
 * The daemon's life, in this process: mounts `config`, reports `{ ready }` or `{ error }` through
 * `notify`, serves until SIGINT/SIGTERM/SIGHUP (or an unmount from outside), and sets the exit
 * status: 0 when everything was written back, 1 otherwise.
 */
export async function runDaemonProcess(config: MountConfig, notify: (msg: DaemonMessage) => void): Promise<void> {
  let daemon: FuseDaemon | undefined;
  let stopRequested = false;
  let crashed = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopRequested) return;
    stopRequested = true;
    process.stderr.write(`folio-fuse[${process.pid}]: ${sig}: writing back and unmounting\n`);
    void daemon?.stop();
  };
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, onSignal);
  // A bug outside a request (requests catch their own errors): say so, and still try to write
  // everything back and unmount rather than leave a dead mount behind.
  const onCrash = (e: unknown) => {
    process.stderr.write(`folio-fuse[${process.pid}]: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    crashed = true;
    stopRequested = true;
    void daemon?.stop();
  };
  process.on("uncaughtException", onCrash);
  const detach = () => {
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.off(sig, onSignal);
    process.off("uncaughtException", onCrash);
  };
  let d: FuseDaemon;
  try {
    await loadFilesystemModules(config.modules ?? []); // before the config names their types
    d = daemon = new FuseDaemon(config);
    await d.start();
  } catch (e) {
    detach();
    process.exitCode = 1;
    const code = isFolioError(e) ? e.code : ((e as NodeJS.ErrnoException).code ?? "EIO");
    notify({ error: { code, message: (e as Error).message } });
    return;
  }
  notify({ ready: true, pid: process.pid, mountpoint: d.config.mountpoint });
  if (stopRequested) void d.stop();
  const code = await d.finished;
  process.exitCode = crashed ? 1 : code;
  detach();
}

/** Whether FUSE mounts can work here: /dev/fuse exists and this process is root (see FuseChannel.open). */
export function fuseAvailable(): {
  /** FUSE mounts can work. */
  ok: boolean;
  /** Why not, when `ok` is false. */
  why?: string;
} {
  if (!existsSync("/dev/fuse")) return { ok: false, why: "/dev/fuse is absent" };
  if (process.getuid?.() !== 0) return { ok: false, why: "mounting through /dev/fuse needs root (mount -t fuse)" };
  return { ok: true };
}
