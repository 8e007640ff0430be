/**
 * The random-read loops several suites measure: one `readSync` at the next precomputed offset,
 * the byte count folded into `sink`, `at.pos` carrying the offset index from batch to batch.
 * Folio's loop and memfs's are separate functions, so each call site's type feedback belongs to
 * one receiver; suites share them (the receivers are the same classes everywhere).
 */
import type { Volume } from "memfs";
import type { NodeFs } from "@folio/vfs";

/** Where a loop continues in its offset table. */
export interface Cursor {
  /** Index of the next offset to read at. */
  pos: number;
}

/** `n` reads of `dst.length` bytes through Node's fs API over a Folio VFS, at `offsets` from `at` on (the table's length is a power of two). */
export function folioReadSync(fs: NodeFs, fd: number, dst: Buffer, offsets: Int32Array, at: Cursor, n: number): number {
  const len = dst.length;
  const mask = offsets.length - 1;
  let k = at.pos;
  let sink = 0;
  for (let i = 0; i < n; i++) {
    sink = (sink + fs.readSync(fd, dst, 0, len, offsets[k]!)) | 0;
    k = (k + 1) & mask;
  }
  at.pos = k;
  return sink;
}

/** The peer: the same reads through memfs's `readSync`. */
export function memfsReadSync(vol: Volume, fd: number, dst: Buffer, offsets: Int32Array, at: Cursor, n: number): number {
  const len = dst.length;
  const mask = offsets.length - 1;
  let k = at.pos;
  let sink = 0;
  for (let i = 0; i < n; i++) {
    sink = (sink + vol.readSync(fd, dst, 0, len, offsets[k]!)) | 0;
    k = (k + 1) & mask;
  }
  at.pos = k;
  return sink;
}
