/**
 * Trace generators (seeded, deterministic) and the block-trace CSV parser.
 *
 * - {@link zipfTrace}: independent requests (IRM) with Zipf(α) popularity over N pages, sampled by
 *   inverse CDF (a precomputed cumulative table and a binary search per request).
 * - {@link loopTrace}: a loop over L distinct pages, repeated.
 * - {@link scanHotTrace}: a hot set, every page equally popular (independent uniform requests, or
 *   rounds each visiting every page once in a fresh random order), with a one-time sequential scan
 *   of new pages mixed in, in the middle.
 * - {@link parseBlockTraceCsv}: `version,time,op,size,lbn` block I/O records mapped to the 4 KiB
 *   pages each request touches.
 */
import { Rng, fail } from "@folio/core";

/** Zipf(α) probabilities of ranks 1..n: p_i = i^−α / Σ_j j^−α. */
export function zipfProbabilities(alpha: number, n: number): Float64Array {
  if (!(alpha >= 0) || !Number.isFinite(alpha)) throw fail("EINVAL", `Zipf exponent ${alpha} is not a finite non-negative number`);
  if (!Number.isInteger(n) || n < 1) throw fail("EINVAL", `Zipf population ${n} is not a positive integer`);
  const p = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    p[i] = Math.pow(i + 1, -alpha);
    sum += p[i]!;
  }
  for (let i = 0; i < n; i++) p[i] = p[i]! / sum;
  return p;
}

/** A sampler of Zipf(α) ranks 0..n−1 (rank 0 the most popular) by inverse CDF. */
export class ZipfSampler {
  private readonly cdf: Float64Array;

  /**
   * Precomputes the CDF: O(n) memory and time; each sample then costs O(log n).
   *
   * @param alpha - The skew: 0 is uniform, larger concentrates requests on low ranks.
   * @param n - Ranks sampled, 0..n−1.
   * @param rng - The stream samples draw from; it is advanced by each sample.
   */
  constructor(readonly alpha: number, readonly n: number, private readonly rng: Rng) {
    const p = zipfProbabilities(alpha, n);
    this.cdf = new Float64Array(n);
    let acc = 0;
    for (let i = 0; i < n; i++) {
      acc += p[i]!;
      this.cdf[i] = acc;
    }
    this.cdf[n - 1] = 1;
  }

  /** The next rank: the first i with cdf[i] > u, u uniform in [0, 1). */
  next(): number {
    // 53-bit uniform from two 32-bit draws, so even ranks of probability < 2^-32 are reachable.
    const u = ((this.rng.nextU32() >>> 5) * 67108864 + (this.rng.nextU32() >>> 6)) / 9007199254740992;
    const cdf = this.cdf;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** `length` IRM requests over pages 0..n−1 with Zipf(α) popularity (page 0 the most popular). */
export function zipfTrace(alpha: number, n: number, length: number, seed: number): Int32Array {
  checkLength(length);
  const z = new ZipfSampler(alpha, n, new Rng(seed));
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) out[i] = z.next();
  return out;
}

/** `length` requests looping over pages 0..loop−1 in order. */
export function loopTrace(loop: number, length: number): Int32Array {
  if (!Number.isInteger(loop) || loop < 1) throw fail("EINVAL", `loop of ${loop} pages`);
  checkLength(length);
  const out = new Int32Array(length);
  for (let i = 0; i < length; i++) out[i] = i % loop;
  return out;
}

/** Parameters of {@link scanHotTrace}. */
export interface ScanHotOptions {
  /** Pages in the hot set (keys 0..hot−1). */
  hot: number;
  /** Pages scanned once (keys hot..hot+scan−1). */
  scan: number;
  /** Hot-set requests before the scan. */
  before: number;
  /** Hot-set requests after the scan. */
  after: number;
  /** Scan pages read per hot-set request while the scan runs (the scan's speed). Default 10. */
  scanPerHot?: number;
  /**
   * The order of the hot-set requests. `"uniform"` (default): each an independent uniform draw, so
   * the gap between two uses of a page is geometric and unbounded. `"rounds"`: consecutive rounds
   * of `hot` requests, each visiting every hot page once in a fresh random order, so the gap is
   * 1 to 2·hot − 1 requests (hot on average), and a hot page's reuse distance is bounded.
   */
  order?: "uniform" | "rounds";
  /** Seed of the random hot-set order; the same seed gives the same trace. */
  seed: number;
}

/** A trace from {@link scanHotTrace}, with where its phases are. */
export interface ScanHotTrace {
  /** Page keys, one per request: hot keys below `hot`, scan keys from `hot` up. */
  trace: Int32Array;
  /** Index of the first request of the scan phase. */
  scanStart: number;
  /** Index after the last request of the scan phase. */
  scanEnd: number;
  /** Keys below this are the hot set. */
  hot: number;
}

/**
 * A hot set of `hot` pages, each equally popular (in the given `order`), with a one-time
 * sequential scan of `scan` new pages in the middle: `before` hot requests, then the scan phase
 * (each hot request followed by `scanPerHot` scan pages, until the scan is done), then `after` hot
 * requests. With `"rounds"`, the rounds run on across the phases.
 */
export function scanHotTrace(o: ScanHotOptions): ScanHotTrace {
  const per = o.scanPerHot ?? 10;
  const order = o.order ?? "uniform";
  if (order !== "uniform" && order !== "rounds") throw fail("EINVAL", `hot-set order "${String(order)}" is not "uniform" or "rounds"`);
  for (const [name, v] of [["hot", o.hot], ["scan", o.scan], ["before", o.before], ["after", o.after], ["scanPerHot", per]] as const) {
    if (!Number.isInteger(v) || v < 0) throw fail("EINVAL", `${name} ${v} is not a non-negative integer`);
  }
  if (o.hot < 1 || per < 1) throw fail("EINVAL", "the hot set and the scan speed must be at least 1");
  const scanHots = Math.ceil(o.scan / per);
  const length = o.before + o.scan + scanHots + o.after;
  checkLength(length);
  const rng = new Rng(o.seed);
  const nextHot = order === "uniform" ? () => rng.below(o.hot) : shuffledRounds(o.hot, rng);
  const out = new Int32Array(length);
  let i = 0;
  for (let k = 0; k < o.before; k++) out[i++] = nextHot();
  const scanStart = i;
  let next = 0;
  while (next < o.scan) {
    out[i++] = nextHot();
    for (let k = 0; k < per && next < o.scan; k++) out[i++] = o.hot + next++;
  }
  const scanEnd = i;
  for (let k = 0; k < o.after; k++) out[i++] = nextHot();
  return { trace: out, scanStart, scanEnd, hot: o.hot };
}

/** Pages 0..n−1 in rounds, each round a fresh Fisher–Yates shuffle of all n. */
function shuffledRounds(n: number, rng: Rng): () => number {
  const round = new Int32Array(n);
  let at = n;
  return () => {
    if (at === n) {
      for (let k = 0; k < n; k++) round[k] = k;
      for (let k = n - 1; k > 0; k--) {
        const j = rng.below(k + 1);
        const t = round[k]!;
        round[k] = round[j]!;
        round[j] = t;
      }
      at = 0;
    }
    return round[at++]!;
  };
}

/** READ(10): a read. SCSI opcodes are what the block-trace format records in its `op` column. */
export const SCSI_READ_10 = 0x28;
/** READ(16): a read. */
export const SCSI_READ_16 = 0x88;
/** WRITE(10): a write. */
export const SCSI_WRITE_10 = 0x2a;
/** WRITE(16): a write. */
export const SCSI_WRITE_16 = 0x8a;

/** Options of {@link parseBlockTraceCsv}. */
export interface BlockTraceOptions {
  /** Which requests to keep: all (default), reads only, or writes only. */
  ops?: "all" | "read" | "write";
  /** Page size in bytes (default 4096). */
  pageSize?: number;
}

/** A parsed block trace: the pages it touches, and what was kept and skipped. */
export interface BlockTrace {
  /** Page keys, one per page touched, in request order. */
  pages: Float64Array;
  /** Records kept. */
  requests: number;
  /** Of the kept records, reads. */
  reads: number;
  /** Of the kept records, writes. */
  writes: number;
  /** Records skipped: other opcodes, zero sizes, or not selected by `ops`. */
  skipped: number;
}

/**
 * Parses a block I/O trace in CSV, `version,time,op,size,lbn` (a header line is skipped): `op` a
 * SCSI opcode in hex (28/88 read, 2a/8a write), `size` in bytes, `lbn` the first 512-byte block.
 * Each request becomes the pages it touches: ⌊lbn·512/page⌋ .. ⌊(lbn·512 + size − 1)/page⌋.
 */
export function parseBlockTraceCsv(text: string, options: BlockTraceOptions = {}): BlockTrace {
  const ops = options.ops ?? "all";
  const pageSize = options.pageSize ?? 4096;
  let pages = new Float64Array(1024);
  let len = 0;
  let requests = 0;
  let reads = 0;
  let writes = 0;
  let skipped = 0;
  let lineNo = 0;
  let pos = 0;
  while (pos < text.length) {
    let end = text.indexOf("\n", pos);
    if (end < 0) end = text.length;
    const line = text.slice(pos, end).trim();
    pos = end + 1;
    lineNo++;
    if (line === "" || line.startsWith("#")) continue;
    const f = line.split(",");
    if (f.length < 5) throw fail("EINVAL", `line ${lineNo}: expected version,time,op,size,lbn, got "${line}"`);
    if (lineNo === 1 && !/^\d/.test(f[0]!.trim())) continue; // header
    const op = parseInt(f[2]!.trim(), 16);
    const size = Number(f[3]);
    const lbn = Number(f[4]);
    if (!Number.isFinite(op) || !Number.isInteger(size) || size < 0 || !Number.isInteger(lbn) || lbn < 0) {
      throw fail("EINVAL", `line ${lineNo}: bad record "${line}"`);
    }
    const isRead = op === SCSI_READ_10 || op === SCSI_READ_16;
    const isWrite = op === SCSI_WRITE_10 || op === SCSI_WRITE_16;
    if ((!isRead && !isWrite) || size === 0 || (ops === "read" && !isRead) || (ops === "write" && !isWrite)) {
      skipped++;
      continue;
    }
    requests++;
    if (isRead) reads++;
    else writes++;
    const byte = lbn * 512;
    const first = Math.floor(byte / pageSize);
    const last = Math.floor((byte + size - 1) / pageSize);
    for (let pg = first; pg <= last; pg++) {
      if (len === pages.length) {
        const bigger = new Float64Array(len * 2);
        bigger.set(pages);
        pages = bigger;
      }
      pages[len++] = pg;
    }
  }
  return { pages: pages.slice(0, len), requests, reads, writes, skipped };
}

function checkLength(length: number): void {
  if (!Number.isInteger(length) || length < 0 || length > 2 ** 31 - 1) throw fail("EINVAL", `trace length ${length}`);
}
