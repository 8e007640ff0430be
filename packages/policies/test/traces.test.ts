/**
 * Trace generators, the block-trace CSV reader (with the CloudPhysics trace when it is present),
 * the trace file formats, and the simulator's shadow table.
 */
import test from "ava";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  ShadowTable, decodeTraceBinary, encodeTraceBinary, footprint, formatTraceText, loopTrace, parseBlockTraceCsv, parseTraceText,
  readBlockTraceCsv, readTrace, scanHotTrace, simulate, simulateOpt, writeTrace, zipfProbabilities, zipfTrace,
} from "../src/index.js";

/** ../shared/traces of the repository (dist/test → packages/policies → packages → repo). */
export const TRACES_DIR = process.env.FOLIO_TRACES ?? join(fileURLToPath(new URL("../../../../..", import.meta.url)), "shared", "traces");
const CLOUDPHYSICS = join(TRACES_DIR, "cloudPhysicsIO.csv");

test("zipfTrace: deterministic per seed, keys in range, frequencies follow the probabilities", (t) => {
  const a = zipfTrace(1.0, 1000, 200_000, 5);
  t.deepEqual(a, zipfTrace(1.0, 1000, 200_000, 5));
  t.notDeepEqual(a, zipfTrace(1.0, 1000, 200_000, 6));
  const counts = new Float64Array(1000);
  for (const k of a) {
    if (!(k >= 0 && k < 1000)) t.fail(`key ${k}`);
    counts[k]!++;
  }
  const p = zipfProbabilities(1.0, 1000);
  for (const r of [0, 1, 9, 99]) {
    const expected = p[r]! * a.length;
    t.true(Math.abs(counts[r]! - expected) < 5 * Math.sqrt(expected) + 1, `rank ${r}: ${counts[r]} vs ${expected.toFixed(0)}`);
  }
  t.is(zipfTrace(0, 10, 0, 1).length, 0);
  t.throws(() => zipfTrace(-1, 10, 10, 1), { message: /EINVAL/ });
});

test("loopTrace and scanHotTrace have the documented shape", (t) => {
  t.deepEqual(Array.from(loopTrace(3, 7)), [0, 1, 2, 0, 1, 2, 0]);
  const st = scanHotTrace({ hot: 10, scan: 95, before: 50, after: 40, scanPerHot: 10, seed: 2 });
  t.is(st.scanStart, 50);
  t.is(st.scanEnd, 50 + 95 + 10);
  t.is(st.trace.length, 50 + 95 + 10 + 40);
  const scanned = Array.from(st.trace.slice(st.scanStart, st.scanEnd)).filter((k) => k >= 10);
  t.deepEqual(scanned, Array.from({ length: 95 }, (_, i) => 10 + i), "the scan is sequential, each page once");
  t.true(Array.from(st.trace.slice(0, 50)).every((k) => k < 10));
  t.true(Array.from(st.trace.slice(st.scanEnd)).every((k) => k < 10));
  t.is(st.trace[st.scanStart]! < 10, true, "each scan burst follows a hot request");
  t.is(footprint(st.trace), 105);
});

test("scanHotTrace with order \"rounds\": every round of hot requests visits each hot page once, across the phases", (t) => {
  const hot = 7;
  const st = scanHotTrace({ hot, scan: 60, before: 10, after: 25, scanPerHot: 4, order: "rounds", seed: 3 });
  t.deepEqual(st.trace, scanHotTrace({ hot, scan: 60, before: 10, after: 25, scanPerHot: 4, order: "rounds", seed: 3 }).trace);
  const hotRequests = Array.from(st.trace).filter((k) => k < hot);
  t.is(hotRequests.length, 10 + 60 / 4 + 25);
  const rounds = Math.floor(hotRequests.length / hot);
  const orders = new Set<string>();
  for (let r = 0; r < rounds; r++) {
    const round = hotRequests.slice(r * hot, (r + 1) * hot);
    t.deepEqual([...round].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6], `round ${r}`);
    orders.add(round.join(","));
  }
  t.true(orders.size > 1, "each round is shuffled afresh");
  const scanned = Array.from(st.trace.slice(st.scanStart, st.scanEnd)).filter((k) => k >= hot);
  t.deepEqual(scanned, Array.from({ length: 60 }, (_, i) => hot + i));
  t.throws(() => scanHotTrace({ hot, scan: 1, before: 0, after: 0, order: "zipf" as "uniform", seed: 1 }), { message: /EINVAL/ });
});

test("parseBlockTraceCsv: header, opcodes, page ranges, filters", (t) => {
  const csv = [
    "version,time,op,size,lbn",
    "1,10,28,512,7", // bytes 3584..4095 → page 0
    "1,11,2a,1024,7", // bytes 3584..4607 → pages 0..1
    "1,12,88,4096,8", // bytes 4096..8191 → page 1
    "1,13,8a,8193,16", // bytes 8192..16384 → pages 2..4
    "1,14,35,0,0", // SYNCHRONIZE CACHE: skipped
    "1,15,28,0,100", // zero size: skipped
    "",
  ].join("\n");
  const all = parseBlockTraceCsv(csv);
  t.deepEqual(Array.from(all.pages), [0, 0, 1, 1, 2, 3, 4]);
  t.is(all.requests, 4);
  t.is(all.reads, 2);
  t.is(all.writes, 2);
  t.is(all.skipped, 2);
  t.deepEqual(Array.from(parseBlockTraceCsv(csv, { ops: "read" }).pages), [0, 1]);
  t.deepEqual(Array.from(parseBlockTraceCsv(csv, { ops: "write" }).pages), [0, 1, 2, 3, 4]);
  // Large block numbers stay exact.
  t.deepEqual(Array.from(parseBlockTraceCsv("1,1,28,4096,8589934592\n").pages), [2 ** 33 / 8]);
  t.throws(() => parseBlockTraceCsv("1,1,28,abc,7\n"), { message: /line 1: bad record/ });
  t.throws(() => parseBlockTraceCsv("1,1,28\n"), { message: /expected version,time,op,size,lbn/ });
});

test("the CloudPhysics block trace (../shared/traces, optional) reads and replays", (t) => {
  if (!existsSync(CLOUDPHYSICS)) {
    t.log(`skipped: ${CLOUDPHYSICS} is not present`);
    t.pass();
    return;
  }
  const bt = readBlockTraceCsv(CLOUDPHYSICS);
  t.log(`${bt.requests} requests (${bt.reads} reads, ${bt.writes} writes) → ${bt.pages.length} page accesses over ${footprint(bt.pages)} pages`);
  t.is(bt.reads, 46_974);
  t.is(bt.writes, 66_898);
  t.is(bt.skipped, 0);
  t.true(bt.pages.length >= bt.requests);
  const c = Math.round(footprint(bt.pages) * 0.1);
  const opt = simulateOpt(bt.pages, c);
  for (const name of ["lru", "linux", "s3fifo"]) {
    const r = simulate(name, bt.pages, c);
    t.true(r.misses >= opt.misses, name);
  }
});

test("trace files: text (one key per line, # comments) and binary (.f64) round-trip", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "folio-traces-"));
  try {
    const trace = [0, 1, 2 ** 53 - 1, 42, 42, 7];
    const text = join(dir, "t.trace");
    writeTrace(text, trace, "recorded by a test\nsecond line");
    t.deepEqual(Array.from(readTrace(text)), trace);
    const bin = join(dir, "t.f64");
    writeTrace(bin, new Float64Array(trace));
    t.deepEqual(Array.from(readTrace(bin)), trace);
    t.deepEqual(Array.from(decodeTraceBinary(encodeTraceBinary(trace))), trace);
    t.true(formatTraceText([1, 2], "h").startsWith("# h\n1\n2\n"));
    t.deepEqual(Array.from(parseTraceText("# c\n\n3\n 4 \n")), [3, 4]);
    t.throws(() => parseTraceText("1\n-2\n"), { message: /line 2/ });
    t.throws(() => parseTraceText("1.5\n"), { message: /not a page key/ });
    writeFileSync(join(dir, "bad.f64"), new Uint8Array(7));
    t.throws(() => readTrace(join(dir, "bad.f64")), { message: /whole number of doubles/ });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("ShadowTable keeps at most its limit, dropping the oldest first", (t) => {
  const s = new ShadowTable(3);
  for (let k = 0; k < 5; k++) s.store(k, k * 10);
  t.is(s.size, 3);
  t.is(s.take(0), -1);
  t.is(s.take(1), -1);
  t.is(s.take(3), 30);
  t.is(s.take(3), -1, "taken once");
  s.store(2, 99); // refreshed: now the newest
  s.store(5, 50);
  s.store(6, 60);
  t.is(s.take(4), -1, "4 was the oldest");
  t.is(s.take(2), 99);
  const none = new ShadowTable(0);
  none.store(1, 1);
  t.is(none.take(1), -1);
});
