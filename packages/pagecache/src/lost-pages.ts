import { fail } from "@folio/core";

/**
 * The pages of one file whose data a memory error destroyed while it was dirty — data that never
 * reached the disk (`Mapping.lost`).
 *
 * Folio is stricter here than Linux. Linux drops such a page, sets EIO for fsync and then serves
 * the older copy from the disk to later reads, as if the lost writes had never happened. Folio
 * instead keeps this record: reads of a lost page fail with EIO (`filemapRead`), faults on it are
 * SIGBUS with EHWPOISON (`filemapFault`), and fault-around skips it, so no reader ever sees data
 * older than what was written. A page leaves the record when new data replaces all of it: a write
 * covering the whole page (up to end of file for the last page, `performWrite`), or truncate or hole
 * punch removing it (`truncateInodePages`). fsync reports the loss once per open file through the
 * mapping's error cursor, as any writeback error; that does not clear the record.
 *
 * Kept as sorted, disjoint ranges of page indexes: losses are rare and few, so every query is a
 * binary search over a short array, and a file with none pays one comparison per page read.
 */
export class LostPages {
  /** start0, end0, start1, end1, … : disjoint half-open ranges, sorted. */
  private bounds: number[] = [];
  private pages = 0;

  /** Pages recorded lost; 0 for almost every file, which is what the read path tests first. */
  get count(): number {
    return this.pages;
  }

  /** Records pages [first, first + nr) as lost. */
  add(first: number, nr: number): void {
    check(first, nr);
    if (nr === 0) return;
    const out: number[] = [];
    let s = first;
    let e = first + nr;
    let placed = false;
    for (let i = 0; i < this.bounds.length; i += 2) {
      const a = this.bounds[i]!;
      const b = this.bounds[i + 1]!;
      if (b < s) {
        out.push(a, b);
      } else if (a > e) {
        if (!placed) out.push(s, e);
        placed = true;
        out.push(a, b);
      } else {
        // Overlapping or touching: merge into the new range.
        s = Math.min(s, a);
        e = Math.max(e, b);
      }
    }
    if (!placed) out.push(s, e);
    this.set(out);
  }

  /** Removes pages [first, first + nr) from the record (new data replaced them); returns how many were lost. */
  clear(first: number, nr: number): number {
    check(first, nr);
    if (this.pages === 0 || nr === 0) return 0;
    const end = first + nr;
    const out: number[] = [];
    for (let i = 0; i < this.bounds.length; i += 2) {
      const a = this.bounds[i]!;
      const b = this.bounds[i + 1]!;
      if (b <= first || a >= end) {
        out.push(a, b);
        continue;
      }
      if (a < first) out.push(a, first);
      if (b > end) out.push(end, b);
    }
    const before = this.pages;
    this.set(out);
    return before - this.pages;
  }

  /** True if page `index` is lost. */
  has(index: number): boolean {
    return this.pages !== 0 && this.nextFrom(index) === index;
  }

  /** The first lost page at or after `index`, or -1. */
  nextFrom(index: number): number {
    const bounds = this.bounds;
    // The first range whose end is beyond index.
    let lo = 0;
    let hi = bounds.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (bounds[mid * 2 + 1]! <= index) lo = mid + 1;
      else hi = mid;
    }
    if (lo === bounds.length / 2) return -1;
    return Math.max(index, bounds[lo * 2]!);
  }

  /** The lost ranges as [first, end) pairs, in order. */
  ranges(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.bounds.length; i += 2) out.push([this.bounds[i]!, this.bounds[i + 1]!]);
    return out;
  }

  private set(bounds: number[]): void {
    this.bounds = bounds;
    let n = 0;
    for (let i = 0; i < bounds.length; i += 2) n += bounds[i + 1]! - bounds[i]!;
    this.pages = n;
  }
}

function check(first: number, nr: number): void {
  if (!Number.isSafeInteger(first) || first < 0 || !Number.isSafeInteger(nr) || nr < 0) {
    throw fail("EINVAL", `lost page range [${first}, ${first + nr}) is not a range of page indexes`);
  }
}
