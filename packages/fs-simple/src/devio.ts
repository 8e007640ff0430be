/**
 * Synchronous block I/O for mkfs and fsck, which work on an unmounted device without the page
 * cache: submit a request, then run the engine until it completes.
 */
import { fail, type FolioError, type Scheduler } from "@folio/core";
import type { BlockDevice, BlockOp } from "@folio/pagecache";
import { BLOCK_SIZE } from "./format.js";

/** Blocks moved per request by the bulk helpers (1 MiB). */
const BATCH = 256;

/** Reads and writes whole blocks of a device, waiting for each request. */
export class DeviceIo {
  constructor(
    readonly device: BlockDevice,
    readonly scheduler: Scheduler,
  ) {
    if (device.blockSize !== BLOCK_SIZE) {
      throw fail("EINVAL", `device ${device.name} has ${device.blockSize}-byte blocks; fs-simple needs ${BLOCK_SIZE}`);
    }
  }

  /** Reads `count` blocks from `block` into a new buffer. Throws EIO on a failed read. */
  read(block: number, count = 1): Uint8Array {
    const buf = new Uint8Array(count * BLOCK_SIZE);
    for (let i = 0; i < count; i += BATCH) {
      const n = Math.min(BATCH, count - i);
      this.io("read", block + i, n, buf, i * BLOCK_SIZE);
    }
    return buf;
  }

  /** Writes `buf` (a whole number of blocks) at `block`. */
  write(block: number, buf: Uint8Array, offset = 0, count = (buf.length - offset) / BLOCK_SIZE): void {
    for (let i = 0; i < count; i += BATCH) {
      const n = Math.min(BATCH, count - i);
      this.io("write", block + i, n, buf, offset + i * BLOCK_SIZE);
    }
  }

  /** Writes `count` zeroed blocks from `block`. */
  zero(block: number, count: number): void {
    const zeros = new Uint8Array(Math.min(count, BATCH) * BLOCK_SIZE);
    for (let i = 0; i < count; i += BATCH) this.io("write", block + i, Math.min(BATCH, count - i), zeros, 0);
  }

  /** Makes completed writes durable. */
  flush(): void {
    this.io("flush", 0, 0, new Uint8Array(0), 0);
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
