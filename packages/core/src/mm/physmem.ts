import { fail } from "../errors.js";
import { PAGE_SHIFT, PAGE_SIZE } from "../units.js";

/** log2 of frames per section: 64 Ki frames = 256 MiB of bytes per ArrayBuffer. */
export const SECTION_FRAME_SHIFT = 16;
const SECTION_FRAMES = 1 << SECTION_FRAME_SHIFT;
const SECTION_BYTES = SECTION_FRAMES * PAGE_SIZE;
const SECTION_WORD_SHIFT = SECTION_FRAME_SHIFT + PAGE_SHIFT - 2;
const SECTION_WORD_MASK = (1 << SECTION_WORD_SHIFT) - 1;

/**
 * The bytes of simulated physical memory, as 4 KiB frames numbered by pfn.
 *
 * Storage is split into sections of 256 MiB (Linux's SPARSEMEM sections play the same role), so
 * memories larger than one ArrayBuffer's limit work, and a section's buffer is created only when
 * something first touches it: an idle 4 GiB machine costs no resident memory. A buddy block never
 * crosses a section (the largest block, order 10, is 4 MiB), so any block's bytes are one
 * contiguous run of one buffer.
 */
export class PhysicalMemory {
  /** Number of frames. */
  readonly frames: number;
  /** Size in bytes (`frames * PAGE_SIZE`). */
  readonly bytes: number;
  private readonly sections: Uint8Array[] = [];
  private readonly words: Int32Array[] = [];

  /**
   * Built once per machine at boot ({@link Machine.boot}) from the memory size in bytes (a multiple
   * of 4 KiB, else EINVAL); reach it as `machine.memory`.
   */
  constructor(bytes: number) {
    if (bytes % PAGE_SIZE !== 0) throw fail("EINVAL", `memory size ${bytes} is not a multiple of ${PAGE_SIZE}`);
    this.bytes = bytes;
    this.frames = bytes / PAGE_SIZE;
  }

  /** Number of section buffers that exist so far (for memory accounting). */
  get residentSections(): number {
    return this.sections.filter((s) => s !== undefined).length;
  }

  /** Bytes of ArrayBuffer created so far. */
  get allocatedBytes(): number {
    let n = 0;
    for (const s of this.sections) if (s !== undefined) n += s.byteLength;
    return n;
  }

  /**
   * The byte view of the section holding `pfn`; index it at {@link offsetOf}(pfn). The view is
   * shared and long-lived: callers copy through it and never keep slices of it.
   */
  sectionOf(pfn: number): Uint8Array {
    const i = pfn >>> SECTION_FRAME_SHIFT;
    return this.sections[i] ?? this.createSection(i);
  }

  /** Byte offset of frame `pfn` inside {@link sectionOf}(pfn). */
  offsetOf(pfn: number): number {
    return (pfn & (SECTION_FRAMES - 1)) << PAGE_SHIFT;
  }

  /**
   * The 32-bit word view of the section holding the 16-byte-aligned descriptor `handle`
   * (a physical address divided by 16). Used by descriptor tables that live in slab memory.
   */
  wordsOf(handle: number): Int32Array {
    const i = handle >>> (SECTION_WORD_SHIFT - 2);
    return this.words[i] ?? (this.createSection(i), this.words[i]!);
  }

  /** Word index of descriptor `handle` inside {@link wordsOf}(handle). */
  wordIndexOf(handle: number): number {
    return (handle << 2) & SECTION_WORD_MASK;
  }

  /** Copies `count` frames from `srcPfn` to `dstPfn` (the ranges may be in different sections). */
  copyFrames(dstPfn: number, srcPfn: number, count: number): void {
    for (let done = 0; done < count; ) {
      const n = Math.min(count - done, this.runInSection(dstPfn + done, count - done), this.runInSection(srcPfn + done, count - done));
      const src = this.sectionOf(srcPfn + done);
      const so = this.offsetOf(srcPfn + done);
      this.sectionOf(dstPfn + done).set(src.subarray(so, so + n * PAGE_SIZE), this.offsetOf(dstPfn + done));
      done += n;
    }
  }

  /** Fills `count` frames from `pfn` with zeros. */
  zeroFrames(pfn: number, count: number): void {
    for (let done = 0; done < count; ) {
      const n = this.runInSection(pfn + done, count - done);
      const o = this.offsetOf(pfn + done);
      this.sectionOf(pfn + done).fill(0, o, o + n * PAGE_SIZE);
      done += n;
    }
  }

  /** Copies `dst.length` bytes starting at physical address `addr` into `dst`. */
  read(addr: number, dst: Uint8Array): void {
    this.transfer(addr, dst, false);
  }

  /** Copies `src` to physical memory starting at address `addr`. */
  write(addr: number, src: Uint8Array): void {
    this.transfer(addr, src, true);
  }

  private transfer(addr: number, buf: Uint8Array, toMemory: boolean): void {
    if (addr < 0 || addr + buf.length > this.bytes) {
      throw fail("EFAULT", `physical range [${addr}, ${addr + buf.length}) is outside memory of ${this.bytes} bytes`);
    }
    for (let done = 0; done < buf.length; ) {
      const a = addr + done;
      const sec = Math.floor(a / SECTION_BYTES);
      const off = a - sec * SECTION_BYTES;
      const n = Math.min(buf.length - done, SECTION_BYTES - off);
      const view = this.sections[sec] ?? this.createSection(sec);
      if (toMemory) view.set(buf.subarray(done, done + n), off);
      else buf.set(view.subarray(off, off + n), done);
      done += n;
    }
  }

  private runInSection(pfn: number, want: number): number {
    return Math.min(want, SECTION_FRAMES - (pfn & (SECTION_FRAMES - 1)));
  }

  private createSection(i: number): Uint8Array {
    const first = i * SECTION_FRAMES;
    if (first >= this.frames) throw fail("EFAULT", `section ${i} is beyond the last frame ${this.frames - 1}`);
    const frames = Math.min(SECTION_FRAMES, this.frames - first);
    const buf = new ArrayBuffer(frames * PAGE_SIZE);
    this.sections[i] = new Uint8Array(buf);
    this.words[i] = new Int32Array(buf);
    return this.sections[i]!;
  }
}
