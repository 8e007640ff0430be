/**
 * Swap on a block device (swapon on a partition or a swap file): the {@link SwapBacking} core's
 * anonymous memory writes its pages to, one page-sized slot per run of blocks.
 */
import { PAGE_SIZE, fail, type ErrorCode, type Machine, type SwapBacking, type SwapSpace } from "@folio/core";
import type { BlockDevice, BlockOp } from "./device.js";
import { createBlockDevice, type BlockDeviceOptions } from "./registry.js";

/** Adapts a block device to {@link SwapBacking}: slot s is blocks [s·k, s·k + k), k = 4096 / block size. */
export class BlockDeviceSwap implements SwapBacking {
  readonly slots: number;
  private readonly blocksPerSlot: number;

  /**
   * Swap over `device`, for {@link @folio/core!AnonMemory.swapOn | AnonMemory.swapOn} (the page cache's `swapOn` builds one).
   *
   * @param device - The device whose blocks hold the slots, from block 0; its block size must
   * divide 4 KiB (else EINVAL), and each slot takes 4 KiB of it.
   */
  constructor(readonly device: BlockDevice) {
    if (device.blockSize > PAGE_SIZE || PAGE_SIZE % device.blockSize !== 0) {
      throw fail("EINVAL", `swap on ${device.name}: block size ${device.blockSize} does not divide the ${PAGE_SIZE}-byte page`);
    }
    this.blocksPerSlot = PAGE_SIZE / device.blockSize;
    this.slots = Math.floor(device.nrBlocks / this.blocksPerSlot);
  }

  get name(): string {
    return `swap on ${this.device.name}`;
  }

  write(slot: number, src: Uint8Array, offset: number, done: (error: ErrorCode | null) => void): void {
    this.io("write", slot, src, offset, done);
  }

  read(slot: number, dst: Uint8Array, offset: number, done: (error: ErrorCode | null) => void): void {
    this.io("read", slot, dst, offset, done);
  }

  private io(op: BlockOp, slot: number, buffer: Uint8Array, offset: number, done: (error: ErrorCode | null) => void): void {
    this.device.submit({ op, block: slot * this.blocksPerSlot, count: this.blocksPerSlot, buffer, offset, done: (err) => done(err ? err.code : null) });
  }
}

/**
 * Turns swap on for a machine: on `device` if given, otherwise on a new memfs-backed device of
 * `size` (default 64 MiB) — nothing touched outside the process. Returns the swap area.
 * Throws EBUSY if the machine already has swap.
 */
export function swapOn(machine: Machine, device?: BlockDevice, options: BlockDeviceOptions = {}): SwapSpace {
  const dev = device ?? createBlockDevice("memfs", machine.scheduler, { size: "64MiB", name: "swap0", ...options });
  return machine.anon.swapOn(new BlockDeviceSwap(dev));
}
