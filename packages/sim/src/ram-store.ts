/**
 * RamStore: a {@link BackingStore} over one Uint8Array. The harness boots hundreds of machines
 * on one image per run, so the image must outlive every machine and cost nothing to reopen; a
 * plain array is also the fastest store, and lets tests compare the image's bytes before and
 * after a call (fsck without repair must never write).
 */
import { fail } from "@folio/core";
import type { BackingStore } from "@folio/pagecache";

/** A store over one Uint8Array; see the module comment. */
export class RamStore implements BackingStore {
  /** The image. */
  readonly bytes: Uint8Array;
  /** Calls of {@link RamStore.write} so far (FaultyDevice's crash rollback writes through it too). */
  writes = 0;
  private closed = false;

  /**
   * A zero-filled image; EINVAL unless `size` is a positive integer.
   *
   * @param size - Bytes of the image.
   */
  constructor(readonly size: number) {
    if (!Number.isSafeInteger(size) || size <= 0) throw fail("EINVAL", `store size ${size} must be a positive integer`);
    this.bytes = new Uint8Array(size);
  }

  /** A store holding a copy of `image`. */
  static of(image: Uint8Array): RamStore {
    const s = new RamStore(image.length);
    s.bytes.set(image);
    return s;
  }

  read(dst: Uint8Array, offset: number): void {
    this.check("read", offset, dst.length);
    dst.set(this.bytes.subarray(offset, offset + dst.length));
  }

  write(src: Uint8Array, offset: number): void {
    this.check("write", offset, src.length);
    this.bytes.set(src, offset);
    this.writes++;
  }

  flush(): void {
    if (this.closed) throw fail("EBADF", "flush of a closed RAM store");
  }

  close(): void {
    this.closed = true;
  }

  /** A copy of the image. */
  snapshot(): Uint8Array {
    return this.bytes.slice();
  }

  private check(op: string, offset: number, len: number): void {
    if (this.closed) throw fail("EBADF", `${op} of a closed RAM store`);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + len > this.size) {
      throw fail("EINVAL", `${op} of bytes [${offset}, ${offset + len}) is outside the RAM store (${this.size} bytes)`);
    }
  }
}
