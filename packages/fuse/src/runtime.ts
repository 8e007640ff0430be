/**
 * What a running mount leaves for `umount` to find: a record file per mount point (the daemon's
 * pid, the image, the filesystem), and the kernel's mount table.
 */
import { mkdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";

/** What a daemon records about its mount. */
export interface MountRecord {
  /** The daemon's process id. */
  pid: number;
  /** The canonical mount point ({@link canonicalMountpoint}). */
  mountpoint: string;
  /** The image file, or null for a memfs disk. */
  image: string | null;
  /** The filesystem served: `simple` or `log`. */
  fs: string;
  /** Set when the daemon ended without writing everything back: what went wrong. */
  error?: string;
}

/** The directory holding the records: $XDG_RUNTIME_DIR/folio-fuse, or folio-fuse in the temp directory. */
export function runtimeDir(): string {
  return join(process.env["XDG_RUNTIME_DIR"] ?? tmpdir(), "folio-fuse");
}

/**
 * The canonical path of a mount point: its parent directory's real path plus its name. The mount
 * point itself is never looked at: once mounted, a stat of it is a FUSE request, which the
 * daemon must never send to itself (it serves requests on the same thread) and which hangs
 * anyone while the daemon is stopped.
 */
export function canonicalMountpoint(path: string): string {
  const abs = resolve(path);
  if (abs === "/") return abs;
  try {
    return join(realpathSync(dirname(abs)), basename(abs));
  } catch {
    return abs;
  }
}

/** Where the record of the mount on `mountpoint` lives. */
export function recordPath(mountpoint: string): string {
  return join(runtimeDir(), `${encodeURIComponent(canonicalMountpoint(mountpoint))}.json`);
}

/** Writes the record of a mount (the daemon, once the mount serves requests). */
export function writeRecord(rec: MountRecord): void {
  mkdirSync(runtimeDir(), { recursive: true, mode: 0o700 });
  writeFileSync(recordPath(rec.mountpoint), `${JSON.stringify(rec)}\n`, { mode: 0o600 });
}

/** The record of the mount on `mountpoint`, or null when there is none (or it is unreadable). */
export function readRecord(mountpoint: string): MountRecord | null {
  try {
    return JSON.parse(readFileSync(recordPath(mountpoint), "utf8")) as MountRecord;
  } catch {
    return null;
  }
}

/** Removes the record of the mount on `mountpoint` (idempotent). */
export function removeRecord(mountpoint: string): void {
  rmSync(recordPath(mountpoint), { force: true });
}

/**
 * Whether process `pid` is running. A zombie counts as gone: a daemon whose parent exited is
 * reaped by whoever adopted it, and in a container that may be nobody.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    // /proc/PID/stat: "pid (comm) state …"; the comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

/** A line of /proc/self/mountinfo: where, what type, from what source. */
export interface KernelMount {
  /** Where it is mounted, escapes decoded. */
  mountpoint: string;
  /** Filesystem type (`fuse.folio-simple`, `ext4`…). */
  type: string;
  /** The mount source (`folio:disk.img`). */
  source: string;
}

/** The kernel's mount table (/proc/self/mountinfo), with octal escapes decoded. */
export function kernelMounts(): KernelMount[] {
  let text: string;
  try {
    text = readFileSync("/proc/self/mountinfo", "utf8");
  } catch {
    return [];
  }
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const out: KernelMount[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const [left, right] = line.split(" - ");
    const f = left!.split(" ");
    const r = (right ?? "").split(" ");
    out.push({ mountpoint: unescape(f[4] ?? ""), type: r[0] ?? "", source: unescape(r[1] ?? "") });
  }
  return out;
}

/** The FUSE mount on `mountpoint` the kernel knows of, or undefined. */
export function fuseMountAt(mountpoint: string): KernelMount | undefined {
  const mp = canonicalMountpoint(mountpoint);
  return kernelMounts().findLast((m) => m.mountpoint === mp && m.type.startsWith("fuse"));
}
