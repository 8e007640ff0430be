/**
 * The connection to the kernel: /dev/fuse opened by this process, mounted with mount(8), and read
 * by a few outstanding reads on libuv's thread pool.
 *
 * Why this shape: Node has no poll on a character device, so a read of /dev/fuse (which blocks
 * until the kernel has a request) must run off the JS thread; libuv's pool does that, and the
 * completion brings the request to the JS thread, where it is served synchronously. Replies are
 * written synchronously: a write to /dev/fuse never blocks (the kernel just completes the
 * request). Mounting needs the descriptor in the mount(2) options (`fd=N`); mount(8) inherits it
 * as its descriptor 3. (fusermount, the unprivileged way, passes a descriptor back over a Unix
 * socket with SCM_RIGHTS, which Node cannot receive: mounting therefore needs root, as
 * `mount -t fuse` does.)
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { fail } from "@folio/core";
import { IN_HEADER_SIZE } from "./protocol.js";

/** Options of {@link FuseChannel.open}. */
export interface ChannelOptions {
  /** Directory to mount on (absolute). */
  mountpoint: string;
  /** What /proc/mounts shows as the source ("folio:disk.img"). */
  fsname: string;
  /** Type suffix: the mount's type is "fuse.<subtype>". */
  subtype: string;
  /** Largest WRITE payload the server accepts; each read buffer is this plus room for the headers. */
  maxWrite: number;
  /** Reads kept outstanding on the thread pool (1 to 4: libuv's pool has 4 threads). */
  readers: number;
  /** Let users other than the mounting one use the mount (the kernel checks permissions: default_permissions). */
  allowOther: boolean;
}

/** Room for the request header and the largest fixed part (fuse_write_in) in front of a WRITE payload. */
const HEADER_ROOM = 4096;

/**
 * An open, mounted FUSE connection. {@link start} begins delivering requests to a handler; the
 * handler replies with {@link reply} (synchronously or later). When the kernel ends the
 * connection (the filesystem was unmounted, or the connection aborted), reads fail with ENODEV and
 * `onClosed` runs once.
 */
export class FuseChannel {
  private closed = false;
  private fdOpen = true;
  private running = 0;
  private onClosed: (() => void) | null = null;

  private constructor(
    /** The /dev/fuse descriptor. */
    readonly fd: number,
    /** The options it was mounted with. */
    readonly options: ChannelOptions,
  ) {}

  /**
   * Opens /dev/fuse and mounts it on `options.mountpoint` with mount(8) (`-i`: no helper
   * program). Requests (INIT first) queue in the kernel until {@link start}; mount(2) itself does
   * not wait for them. Errors: ENOENT when /dev/fuse is absent, EACCES/EPERM when this process may
   * not open it or mount, and mount(8)'s message otherwise (as EIO: mount reports no errno).
   */
  static async open(options: ChannelOptions): Promise<FuseChannel> {
    let fd: number;
    try {
      fd = fs.openSync("/dev/fuse", "r+");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw fail(code === "ENOENT" ? "ENOENT" : code === "EPERM" ? "EPERM" : "EACCES", `cannot open /dev/fuse: ${(e as Error).message}`, { syscall: "open", path: "/dev/fuse" });
    }
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    const opts = [`fd=3`, `rootmode=40000`, `user_id=${uid}`, `group_id=${gid}`, "default_permissions"];
    if (options.allowOther) opts.push("allow_other");
    const args = ["-i", "-t", `fuse.${options.subtype}`, "-o", opts.join(","), options.fsname, options.mountpoint];
    try {
      await runTool("mount", args, fd);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
    return new FuseChannel(fd, options);
  }

  /**
   * Starts `options.readers` outstanding reads; each request read is passed to `handler` with
   * its buffer (valid until the handler returns: the buffer is read into again afterwards) and
   * length. `closed` runs once when the kernel has ended the connection and every read has
   * returned.
   */
  start(handler: (buf: Buffer, len: number) => void, closed: () => void): void {
    this.onClosed = closed;
    const size = Math.max(8192, this.options.maxWrite + HEADER_ROOM);
    for (let i = 0; i < this.options.readers; i++) this.readInto(Buffer.allocUnsafe(size), handler);
  }

  /**
   * Writes a reply (`len` bytes of `buf`, out header first). A reply to a request the kernel has
   * already given up on (interrupted, or the connection aborted) fails with ENOENT or ENODEV:
   * that is not an error of the server, so it is ignored. Any other failure (the kernel refusing
   * a malformed reply: EINVAL) is a bug of the server; it goes to `onReplyError` and the request
   * is left to the kernel, so one bad reply cannot bring the mount down.
   */
  reply(buf: Uint8Array, len: number): void {
    if (!this.fdOpen) return;
    try {
      fs.writeSync(this.fd, buf, 0, len);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENODEV") this.onReplyError?.(e);
    }
  }

  /** Called with the error of a reply the kernel refused (see {@link reply}). */
  onReplyError: ((e: unknown) => void) | null = null;

  /** Whether the kernel has ended the connection. */
  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Unmounts with umount(8); `lazy` detaches it at once even while files are open (umount -l: the
   * connection then lives until the last user is gone). Rejects with EBUSY when a non-lazy
   * unmount finds the mount in use.
   */
  async unmount(lazy = false): Promise<void> {
    if (this.closed) return;
    await runTool("umount", lazy ? ["-l", this.options.mountpoint] : [this.options.mountpoint]);
  }

  private readInto(buf: Buffer, handler: (buf: Buffer, len: number) => void): void {
    this.running++;
    fs.read(this.fd, buf, 0, buf.length, null, (err, n) => {
      this.running--;
      if (err) {
        const code = err.code;
        // ENOENT: the request was interrupted before it was read; EINTR/EAGAIN: try again.
        if (!this.closed && (code === "ENOENT" || code === "EINTR" || code === "EAGAIN")) {
          this.readInto(buf, handler);
          return;
        }
        // ENODEV: unmounted; anything else also ends the connection (the kernel has no other state to resume).
        this.markClosed();
        return;
      }
      if (n >= IN_HEADER_SIZE) handler(buf, n);
      if (!this.closed) this.readInto(buf, handler);
      else this.markClosed();
    });
  }

  private markClosed(): void {
    this.closed = true;
    if (this.running > 0) return;
    if (this.fdOpen) {
      this.fdOpen = false;
      fs.closeSync(this.fd);
    }
    const cb = this.onClosed;
    this.onClosed = null;
    cb?.();
  }
}

/**
 * Runs mount(8) or umount(8) asynchronously (the JS thread must stay free: the kernel may send
 * requests while the tool runs) and rejects with its message when it fails. `fd` is passed as the
 * child's descriptor 3.
 */
export function runTool(tool: string, args: readonly string[], fd?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const stdio: ("ignore" | "pipe" | number)[] = ["ignore", "ignore", "pipe"];
    if (fd !== undefined) stdio.push(fd);
    const child = spawn(tool, args, { stdio });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (e) => reject(fail("ENOENT", `cannot run ${tool}: ${e.message}`, { syscall: "spawn", path: tool })));
    child.on("close", (code) => {
      if (code === 0) return resolve();
      const text = stderr.trim() || `${tool} exited with status ${code}`;
      reject(fail(/busy/i.test(text) ? "EBUSY" : /permission|not permitted|only root/i.test(text) ? "EPERM" : /no such|not found|not mounted/i.test(text) ? "EINVAL" : "EIO", `${tool} ${args.join(" ")}: ${text}`));
    });
  });
}
