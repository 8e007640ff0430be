/**
 * The contents of a file in the oracle: a size and sparse 4 KiB pages (a missing page reads as
 * zeros). Pages are never changed in place — a write replaces each page it touches with a
 * modified copy — so {@link Content.clone} (a durable snapshot) shares pages and costs one map copy.
 */
export const PAGE = 4096;

const ZERO_PAGE = new Uint8Array(PAGE);

/** A file's contents in the model; see the module comment. */
export class Content {
  /** Size in bytes; bytes past it are not part of the file. */
  size = 0;
  /** Page index → its 4 KiB; an absent page reads as zeros. Pages are replaced, never changed in place. */
  pages = new Map<number, Uint8Array>();

  /** A snapshot sharing pages with this one. */
  clone(): Content {
    const c = new Content();
    c.size = this.size;
    c.pages = new Map(this.pages);
    return c;
  }

  /** A content holding `bytes`. */
  static of(bytes: Uint8Array): Content {
    const c = new Content();
    c.write(0, bytes);
    return c;
  }

  /** Writes `data` at `pos`, growing the size as needed. */
  write(pos: number, data: Uint8Array): void {
    let done = 0;
    while (done < data.length) {
      const at = pos + done;
      const index = Math.floor(at / PAGE);
      const inPage = at - index * PAGE;
      const n = Math.min(PAGE - inPage, data.length - done);
      const page = new Uint8Array(PAGE);
      const old = this.pages.get(index);
      if (old) page.set(old);
      page.set(data.subarray(done, done + n), inPage);
      this.pages.set(index, page);
      done += n;
    }
    this.size = Math.max(this.size, pos + data.length);
  }

  /** Sets the size: shrinking drops the bytes past it (a later grow reads zeros there). */
  truncate(size: number): void {
    if (size < this.size) {
      for (const index of [...this.pages.keys()]) if (index * PAGE >= size) this.pages.delete(index);
      const tail = size % PAGE;
      const index = Math.floor(size / PAGE);
      const old = this.pages.get(index);
      if (tail !== 0 && old) {
        const page = old.slice();
        page.fill(0, tail);
        this.pages.set(index, page);
      }
    }
    this.size = size;
  }

  /** Bytes [pos, pos + len) clipped to the size. */
  read(pos: number, len: number): Uint8Array {
    const end = Math.min(this.size, pos + len);
    if (end <= pos) return new Uint8Array(0);
    const out = new Uint8Array(end - pos);
    let at = pos;
    while (at < end) {
      const index = Math.floor(at / PAGE);
      const inPage = at - index * PAGE;
      const n = Math.min(PAGE - inPage, end - at);
      const page = this.pages.get(index);
      if (page) out.set(page.subarray(inPage, inPage + n), at - pos);
      at += n;
    }
    return out;
  }

  /** The whole contents. */
  bytes(): Uint8Array {
    return this.read(0, this.size);
  }

  /** The page at `index` as stored (zeros for a hole); bytes past the size are zero. */
  page(index: number): Uint8Array {
    return this.pages.get(index) ?? ZERO_PAGE;
  }

  /** FNV-1a of size and bytes. */
  hash(): number {
    return hashBytes(this.bytes(), hashNumber(2166136261, this.size));
  }
}

/** FNV-1a over bytes, continuing from `h`. */
export function hashBytes(b: Uint8Array, h = 2166136261): number {
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 16777619) >>> 0;
  return h;
}

/** Mixes a number into an FNV-1a hash. */
export function hashNumber(h: number, v: number): number {
  h = Math.imul(h ^ (v & 0xffff), 16777619) >>> 0;
  h = Math.imul(h ^ ((v / 65536) & 0xffff), 16777619) >>> 0;
  return Math.imul(h ^ Math.floor(v / 4294967296), 16777619) >>> 0;
}

/** Mixes a string into an FNV-1a hash. */
export function hashString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return Math.imul(h ^ 0xff, 16777619) >>> 0;
}

/** First index where two byte arrays differ, or -1 when equal (length included). */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Deterministic data for a write: `len` bytes from a 32-bit seed (xorshift32). */
export function fillBytes(len: number, seed: number): Uint8Array {
  const out = new Uint8Array(len);
  let x = (seed | 0) || 0x9e3779b9;
  for (let i = 0; i < len; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x;
    if (i + 1 < len) out[i + 1] = x >>> 8;
    if (i + 2 < len) out[i + 2] = x >>> 16;
    if (i + 3 < len) out[i + 3] = x >>> 24;
  }
  return out;
}
