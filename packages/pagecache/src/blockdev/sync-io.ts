/**
 * Synchronous block I/O on top of the asynchronous device: submit a request, then run the engine
 * until it completes. For code that works on a device outside the page cache — mkfs, fsck, a
 * filesystem's mount-time reads — where waiting is the point.
 */
import { fail, type FolioError, type Scheduler } from "@folio/core";
import type { BlockDevice, BlockOp } from "./device.js";

/** Blocks moved per request by the bulk helpers: 1 MiB of 4 KiB blocks. */
const BATCH_BYTES = 1 << 20;

/** Reads and writes whole blocks of a device, waiting for each request. */
export class SyncBlockIo {
  private readonly batch: number;

  /**
   * Wraps `device`, whose completions run on `scheduler`. `requiredBlockSize`, if given, is
   * checked (EINVAL names `owner`, the filesystem that needs it).
   */
  constructor(
    /** The device read and written. */
    readonly device: BlockDevice,
    /**
     * The scheduler whose events complete the device's requests: each call runs it until its
     * request is done.
     */
    readonly scheduler: Scheduler,
    requiredBlockSize?: number,
    owner = "this filesystem",
  ) {
    if (requiredBlockSize !== undefined && device.blockSize !== requiredBlockSize) {
      throw fail("EINVAL", `device ${device.name} has ${device.blockSize}-byte blocks; ${owner} needs ${requiredBlockSize}`);
    }
    this.batch = Math.max(1, BATCH_BYTES / device.blockSize);
  }

  /** Reads `count` blocks from `block` into a new buffer. EUCLEAN outside the device, EIO on a failed read. */
  read(block: number, count = 1): Uint8Array {
    const buf = new Uint8Array(count * this.device.blockSize);
    this.readInto(block, count, buf, 0);
    return buf;
  }

  /** Reads `count` blocks from `block` into `buf` at `offset`. */
  readInto(block: number, count: number, buf: Uint8Array, offset: number): void {
    this.checkRange(block, count, "read");
    for (let i = 0; i < count; i += this.batch) {
      this.io("read", block + i, Math.min(this.batch, count - i), buf, offset + i * this.device.blockSize);
    }
  }

  /** Writes `count` blocks of `buf` (from `offset`) at `block`. */
  write(block: number, buf: Uint8Array, offset = 0, count = (buf.length - offset) / this.device.blockSize): void {
    this.checkRange(block, count, "write");
    for (let i = 0; i < count; i += this.batch) {
      this.io("write", block + i, Math.min(this.batch, count - i), buf, offset + i * this.device.blockSize);
    }
  }

  /** Writes `count` zeroed blocks from `block`. */
  zero(block: number, count: number): void {
    this.checkRange(block, count, "write");
    const zeros = new Uint8Array(Math.min(count, this.batch) * this.device.blockSize);
    for (let i = 0; i < count; i += this.batch) this.io("write", block + i, Math.min(this.batch, count - i), zeros, 0);
  }

  /** Makes completed writes durable (a device flush). */
  flush(): void {
    this.io("flush", 0, 0, new Uint8Array(0), 0);
  }

  private checkRange(block: number, count: number, op: string): void {
    if (!Number.isInteger(block) || !Number.isInteger(count) || block < 0 || count < 0 || block + count > this.device.nrBlocks) {
      throw fail("EUCLEAN", `${op} of blocks [${block}, ${block + count}) is outside ${this.device.name} (${this.device.nrBlocks} blocks)`);
    }
  }

  private io(op: BlockOp, block: number, count: number, buffer: Uint8Array, offset: number): void {
    let done = false;
    let error: FolioError | null = null;
    this.device.submit({
      op, block, count, buffer, offset,
      done: (e) => {
        done = true;
        error = e;
      },
    });
    this.scheduler.waitUntil(() => done, `${op} of block ${block} on ${this.device.name}`);
    if (error !== null) {
      const e = error as FolioError;
      throw fail(e.code === "EINVAL" ? "EINVAL" : "EIO", `${op} of blocks [${block}, ${block + count}) on ${this.device.name} failed: ${e.message}`);
    }
  }
}
