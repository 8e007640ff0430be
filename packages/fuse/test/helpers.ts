import "reflect-metadata";
import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { ExecutionContext } from "ava";
import { Machine } from "@folio/core";
import { MemfsStore, SimDevice } from "@folio/pagecache";
import { SimpleFs } from "@folio/fs-simple";
import "@folio/fs-log";
import { Vfs } from "@folio/vfs";
import { FuseServer } from "../src/server.js";
import { VfsFuseOps } from "../src/vfs-ops.js";
import { IN_HEADER_SIZE, OUT_HEADER_SIZE, putU64 } from "../src/protocol.js";

export const run = promisify(execFile);

// ── A server without a kernel: requests built by hand, replies captured ───────────────────────

/** A decoded reply: the errno (positive, 0 for success) and the payload. */
export interface Reply {
  errno: number;
  unique: number;
  body: Buffer;
  view: DataView;
}

/** A FuseServer over fs-simple on a memfs disk, fed requests built by {@link Harness.call}. */
export class Harness {
  readonly machine: Machine;
  readonly vfs: Vfs;
  readonly ops: VfsFuseOps;
  readonly server: FuseServer;
  readonly replies: Reply[] = [];
  private unique = 2;

  constructor(diskSize = "16MiB") {
    this.machine = Machine.boot({ memory: "64MiB", seed: 3 });
    this.vfs = new Vfs(this.machine);
    const device = new SimDevice(new MemfsStore({ size: diskSize }), this.machine.scheduler);
    SimpleFs.mkfs({ device, scheduler: this.machine.scheduler, machine: this.machine });
    this.vfs.mount("/", "simple", { device });
    this.ops = new VfsFuseOps(this.vfs);
    this.server = new FuseServer(this.ops, (buf, len) => {
      const b = Buffer.from(buf.subarray(0, len));
      const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const body = b.subarray(OUT_HEADER_SIZE);
      this.replies.push({ errno: -v.getInt32(4, true) || 0, unique: Number(v.getBigUint64(8, true)), body, view: new DataView(body.buffer, body.byteOffset, body.byteLength) });
    }, { maxWrite: 1 << 20, timeouts: { entry: 1, attr: 1 }, directIo: true });
  }

  /** Sends one request (header + `parts` concatenated) and returns its reply, or null when it has none. */
  call(opcode: number, nodeid: number, ...parts: (Buffer | string)[]): Reply | null {
    const body = Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(`${p}\0`) : p)));
    const req = Buffer.alloc(IN_HEADER_SIZE + body.length);
    const v = new DataView(req.buffer, req.byteOffset, req.byteLength);
    const unique = this.unique;
    this.unique += 2;
    v.setUint32(0, req.length, true);
    v.setUint32(4, opcode, true);
    putU64(v, 8, unique);
    putU64(v, 16, nodeid);
    body.copy(req, IN_HEADER_SIZE);
    const before = this.replies.length;
    this.server.handle(req, req.length);
    if (this.replies.length === before) return null;
    const r = this.replies[this.replies.length - 1]!;
    if (r.unique !== unique) throw new Error(`reply for ${r.unique}, expected ${unique}`);
    return r;
  }
}

/** Little-endian fields, for request bodies. */
export function le(...fields: [bits: 32 | 64, value: number][]): Buffer {
  const b = Buffer.alloc(fields.reduce((n, [bits]) => n + bits / 8, 0));
  let at = 0;
  for (const [bits, value] of fields) {
    if (bits === 32) b.writeUInt32LE(value >>> 0, at);
    else b.writeBigUInt64LE(BigInt(value), at);
    at += bits / 8;
  }
  return b;
}

// ── Real mounts ─────────────────────────────────────────────────────────────────────────────

/**
 * Whether real-mount tests can run, and if not why. They are skipped (with that reason) only where
 * /dev/fuse is absent, or this process is not root (mounting through /dev/fuse needs root), and
 * CI is not set; under CI=true a missing prerequisite fails the test, as does a missing tool
 * (fio, sqlite3, git) wherever FUSE itself is usable.
 */
export function fusePrerequisites(): { skip: string | null; missing: string[] } {
  const ci = process.env["CI"] === "true" || process.env["CI"] === "1";
  const missing: string[] = [];
  let skip: string | null = null;
  if (!existsSync("/dev/fuse")) skip = "/dev/fuse is absent (no FUSE in this kernel or container)";
  else if (process.getuid?.() !== 0) skip = "not root: mounting through /dev/fuse needs root (mount -t fuse)";
  if (skip !== null && ci) {
    missing.push(skip);
    skip = null;
  }
  if (skip === null) {
    for (const tool of ["fio", "sqlite3", "git", "mount", "umount", "diff", "cp"]) {
      if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) missing.push(`${tool} is not installed (apt-get install -y fio sqlite3 git, as .ci/run does)`);
    }
  }
  return { skip, missing };
}

/** A fresh temporary directory, removed by `cleanup`. */
export function tempDir(prefix: string): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Fails the test unless the real-mount prerequisites hold (call at the start of each real-mount test after the skip check). */
export function requirePrerequisites(t: ExecutionContext, pre: { missing: string[] }): boolean {
  if (pre.missing.length === 0) return true;
  t.fail(`real-mount test cannot run: ${pre.missing.join("; ")}`);
  return false;
}
