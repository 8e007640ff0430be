/**
 * The block device interface: requests, their validation, and per-device statistics.
 */
import { fail, type FolioError } from "@folio/core";

/** Bytes in a sector, the unit a disk writes atomically (and the unit of a torn write). */
export const SECTOR_SIZE = 512;

/** Block size of a device when none is given: one page. */
export const DEFAULT_BLOCK_SIZE = 4096;

/** What a {@link BlockRequest} asks for (REQ_OP_READ, REQ_OP_WRITE, REQ_OP_FLUSH). */
export type BlockOp = "read" | "write" | "flush";

/**
 * struct BlockRequest - one I/O request to a {@link BlockDevice} (a bio).
 *
 * A read or write moves `count` blocks starting at block `block` between the device and
 * `buffer[offset, offset + count * blockSize)`. From submission until `done` is called that
 * part of the buffer belongs to the device: a write's data is taken when the write completes,
 * and a read's data arrives when the read completes. A flush ignores `block`, `count`, `buffer`
 * and `offset` (pass 0, 0, an empty array, 0).
 */
export interface BlockRequest {
  /** The operation. */
  op: BlockOp;
  /** First block (reads and writes). */
  block: number;
  /** Number of blocks, at least 1 (reads and writes). */
  count: number;
  /** The data buffer (reads and writes). */
  buffer: Uint8Array;
  /** Byte offset of the data in {@link BlockRequest.buffer}. */
  offset: number;
  /**
   * Completion callback, called exactly once, from a scheduler event and never from within
   * {@link BlockDevice.submit}: `null` on success, otherwise the error (EINVAL for a bad
   * request, EIO for a failed one). Not called at all for a request lost in a crash.
   */
  done(err: FolioError | null): void;
}

/**
 * struct BlockDevice - a device that executes {@link BlockRequest}s asynchronously in virtual
 * time (a gendisk with its request queue).
 *
 * Requests in flight together are not ordered with respect to each other: a caller that needs
 * one to land before another waits for its completion, and one that needs data durable issues a
 * flush after the writes completed.
 */
export interface BlockDevice {
  /** Name of the device, as in error messages ("vda"). */
  readonly name: string;
  /** Bytes per block: a power of two, at least {@link SECTOR_SIZE}. */
  readonly blockSize: number;
  /** Number of blocks; blocks are numbered `0 .. nrBlocks - 1`. */
  readonly nrBlocks: number;
  /**
   * Queues `req`; its `done` is called later from a scheduler event. A malformed request (block
   * range outside the device, count below 1, buffer too short, unknown op) completes with
   * EINVAL. Throws EINVAL, queueing nothing, only when `req` is not an object or has no `done`
   * function (a bug in the caller that no completion could report).
   */
  submit(req: BlockRequest): void;
  /** Request and byte counts of this device. */
  readonly stats: DeviceStats;
}

/** A copy of the {@link DeviceStats} counters at one instant. */
export interface DeviceStatsSnapshot {
  /** Read requests completed successfully. */
  readonly reads: number;
  /** Write requests completed successfully. */
  readonly writes: number;
  /** Flush requests completed successfully. */
  readonly flushes: number;
  /** Bytes moved by successful reads. */
  readonly bytesRead: number;
  /** Bytes moved by successful writes. */
  readonly bytesWritten: number;
  /** Requests of any op completed with an error, malformed ones included. */
  readonly errors: number;
}

/**
 * struct DeviceStats - counters of a device (the I/O columns of /proc/diskstats). Updated by the
 * device when a request completes, just before its `done` is called; callers only read them and
 * may {@link DeviceStats.reset} them.
 */
export class DeviceStats implements DeviceStatsSnapshot {
  /** See {@link DeviceStatsSnapshot.reads}. */
  reads = 0;
  /** See {@link DeviceStatsSnapshot.writes}. */
  writes = 0;
  /** See {@link DeviceStatsSnapshot.flushes}. */
  flushes = 0;
  /** See {@link DeviceStatsSnapshot.bytesRead}. */
  bytesRead = 0;
  /** See {@link DeviceStatsSnapshot.bytesWritten}. */
  bytesWritten = 0;
  /** See {@link DeviceStatsSnapshot.errors}. */
  errors = 0;

  /** Sets every counter to zero. */
  reset(): void {
    this.reads = this.writes = this.flushes = this.bytesRead = this.bytesWritten = this.errors = 0;
  }

  /** Returns a plain copy of the counters. */
  snapshot(): DeviceStatsSnapshot {
    const { reads, writes, flushes, bytesRead, bytesWritten, errors } = this;
    return { reads, writes, flushes, bytesRead, bytesWritten, errors };
  }

  /**
   * Accounts one completed request of `bytes` bytes: by op when `err` is null, in
   * {@link DeviceStats.errors} otherwise. For device implementations.
   */
  account(op: BlockOp, bytes: number, err: FolioError | null): void {
    if (err !== null) {
      this.errors++;
    } else if (op === "read") {
      this.reads++;
      this.bytesRead += bytes;
    } else if (op === "write") {
      this.writes++;
      this.bytesWritten += bytes;
    } else {
      this.flushes++;
    }
  }
}

/**
 * validateRequest() - checks `req` against the geometry of `dev`, for device implementations.
 *
 * Throws EINVAL when `req` is not an object or has no `done` function. Return: null when the
 * request is well formed, otherwise the EINVAL error, naming the problem, that the request must
 * complete with.
 */
export function validateRequest(dev: BlockDevice, req: BlockRequest): FolioError | null {
  if (typeof req !== "object" || req === null) {
    throw fail("EINVAL", `request to ${dev.name} is ${req === null ? "null" : typeof req}, not a request`);
  }
  if (typeof req.done !== "function") {
    throw fail("EINVAL", `${String(req.op)} request to ${dev.name} has no done callback`);
  }
  const { op, block, count, buffer, offset } = req;
  if (op === "flush") return null;
  if (op !== "read" && op !== "write") return fail("EINVAL", `unknown op "${String(op)}" submitted to ${dev.name}`);
  if (!Number.isSafeInteger(count) || count < 1) {
    return fail("EINVAL", `${op} of ${String(count)} blocks on ${dev.name}: count must be a whole number ≥ 1`);
  }
  if (!Number.isSafeInteger(block) || block < 0 || block + count > dev.nrBlocks) {
    return fail("EINVAL", `${op} of blocks [${String(block)}, ${String(block + count)}) is outside ${dev.name} (blocks [0, ${dev.nrBlocks}))`);
  }
  if (!(buffer instanceof Uint8Array)) return fail("EINVAL", `${op} of block ${block} on ${dev.name} has no Uint8Array buffer`);
  const bytes = count * dev.blockSize;
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + bytes > buffer.length) {
    return fail(
      "EINVAL",
      `${op} of ${bytes} bytes at buffer offset ${String(offset)} overruns the ${buffer.length}-byte buffer (blocks [${block}, ${block + count}) on ${dev.name})`,
    );
  }
  return null;
}

/**
 * A device stacked on another (dm-style): forwards the geometry and counters of `inner`, and
 * leaves `submit` to the subclass, which passes requests down changed, delayed or not at all.
 */
export abstract class StackedDevice implements BlockDevice {
  /**
   * Stacks the subclass on `inner`.
   *
   * @param inner - The device requests go down to; geometry and counters are read from it on every
   * access, so they track it.
   */
  constructor(readonly inner: BlockDevice) {}
  get name(): string {
    return this.inner.name;
  }
  get blockSize(): number {
    return this.inner.blockSize;
  }
  get nrBlocks(): number {
    return this.inner.nrBlocks;
  }
  get stats(): DeviceStats {
    return this.inner.stats;
  }
  abstract submit(req: BlockRequest): void;
}
