/**
 * The writeback flusher (periodic, background, dirty throttling) and the data-integrity side of
 * writeback (sync passes that cannot livelock, fsync of a byte range).
 */
import test from "ava";
import { FolioFlag, MILLISECOND, PAGE_SIZE, PageOpCaller, SECOND, Stat } from "@folio/core";
import { XaMark, fileWriteAndWaitRange, performWrite, wbcAll, writeCachePages, type WriteCallbacks, type WriteFolio } from "../src/index.js";
import { TestFs, pattern } from "./testfs.js";

const eq = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const zeros = (n: number) => new Uint8Array(n);

test("periodic writeback writes data dirty for 30 s at the next 5 s wake-up, not before", (t) => {
  const fs = new TestFs({ model: { latencyNs: 5 * MILLISECOND } });
  const sched = fs.machine.scheduler;
  const stat = fs.machine.vmstat.stat;
  sched.runFor(2500 * MILLISECOND); // dirty between two wake-ups of the flusher (5 s, 10 s, …)
  const a = fs.create();
  const b = fs.create();
  const dataA = pattern(8 * PAGE_SIZE, 1);
  const dataB = pattern(3 * PAGE_SIZE, 2);
  const t0 = sched.now;
  t.is(fs.write(fs.open(a), 0, dataA), dataA.length);
  t.is(stat[Stat.Dirty], 8);

  // Nothing is written while the data is younger than 30 s, although the flusher wakes 6 times.
  sched.runFor(20 * SECOND);
  t.is(fs.write(fs.open(b), 0, dataB), dataB.length); // b is dirtied 20 s after a
  sched.runFor(10 * SECOND - MILLISECOND);
  t.true(fs.flusher.stats.periodic >= 5, `${fs.flusher.stats.periodic} periodic passes`);
  t.true(eq(fs.onDevice(a), zeros(dataA.length)), "a is not on the device before 30 s");
  t.is(fs.device.stats.writes, 0);
  t.is(stat[Stat.Dirty], 11);

  // Step 10 ms at a time and note when a is clean.
  let cleanAt = -1;
  while (sched.now < t0 + 40 * SECOND && cleanAt < 0) {
    sched.runFor(10 * MILLISECOND);
    if (fs.onDevice(a).every((x, i) => x === dataA[i]) && stat[Stat.Writeback] === 0) cleanAt = sched.now;
  }
  // The first wake-up at or after t0 + 30 s is at 35 s (t0 = 2.5 s): a is written then, with the device's latency.
  t.true(cleanAt >= t0 + 30 * SECOND, `written at ${cleanAt - t0} ns after dirtying`);
  t.true(cleanAt <= t0 + 35 * SECOND + 10 * MILLISECOND, `written at ${cleanAt - t0} ns after dirtying`);
  t.is(fs.flusher.stats.pagesWritten, 8, "the flusher counts the pages it wrote");
  t.false(fs.cache.dirtyMappings.has(fs.inodes.get(a)!.mapping));
  // b, dirtied 20 s later, expires 20 s later: still dirty now, written by its own deadline.
  t.is(stat[Stat.Dirty], 3);
  t.true(eq(fs.onDevice(b), zeros(dataB.length)));
  sched.runFor(t0 + 20 * SECOND + 30 * SECOND - MILLISECOND - sched.now);
  t.is(stat[Stat.Dirty], 3, "b is not written before it is 30 s old");
  sched.runFor(5 * SECOND + 20 * MILLISECOND);
  t.is(stat[Stat.Dirty], 0);
  t.is(stat[Stat.Writeback], 0);
  t.true(eq(fs.onDevice(b), dataB));
  t.is(fs.flusher.stats.pagesWritten, 11);
  t.is(fs.flusher.stats.background, 0, "periodic writeback alone did this");
  t.deepEqual(fs.checkCache(), []);
});

test("background writeback starts when dirty pages pass the background threshold, not before", (t) => {
  const fs = new TestFs({ memory: "8MiB", model: { latencyNs: MILLISECOND } });
  const sched = fs.machine.scheduler;
  const fl = fs.flusher;
  const ino = fs.create();
  const file = fs.open(ino);
  const data = pattern(400 * PAGE_SIZE, 3);
  let page = 0;
  // Dirty up to the threshold, a page at a time, letting the engine run after each write.
  while (fl.dirtyPages() < fl.thresholds()[0]) {
    fs.write(file, page * PAGE_SIZE, data.subarray(page * PAGE_SIZE, (page + 1) * PAGE_SIZE));
    page++;
    sched.runFor(MILLISECOND);
    if (fl.dirtyPages() <= fl.thresholds()[0]) {
      t.is(fl.stats.background, 0, `no background writeback at ${fl.dirtyPages()} dirty pages`);
      t.is(fs.device.stats.writes, 0);
    }
  }
  const [bg, limit] = fl.thresholds();
  t.true(bg > 100 && limit > bg, `thresholds ${bg}, ${limit}`);
  t.true(sched.now < 5 * SECOND, "the periodic flusher has not woken yet");
  t.is(fl.stats.periodic, 0);
  // One more page puts dirty memory over the background threshold: the writer's balance wakes the flusher.
  while (fl.dirtyPages() <= fl.thresholds()[0]) {
    fs.write(file, page * PAGE_SIZE, data.subarray(page * PAGE_SIZE, (page + 1) * PAGE_SIZE));
    page++;
  }
  t.is(fl.stats.throttled, 0, "below the throttle threshold the writer is not paused");
  sched.runFor(50 * MILLISECOND);
  t.is(fl.stats.background, 1);
  t.is(fl.stats.periodic, 0);
  t.true(fl.dirtyPages() <= fl.thresholds()[0], `${fl.dirtyPages()} dirty pages after background writeback`);
  t.is(fs.machine.vmstat.stat[Stat.Writeback], 0);
  // What background writeback cleaned is exactly what reached the device.
  const disk = fs.onDevice(ino);
  let cleaned = 0;
  for (let i = 0; i < page; i++) {
    if (fs.cache.folios.test(fs.cache.lookup(file.mapping, i), FolioFlag.Dirty)) continue;
    cleaned++;
    t.true(eq(disk.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE), data.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE)), `page ${i}`);
  }
  t.true(cleaned >= page - bg, `${cleaned} of ${page} pages cleaned`);
  t.is(fl.stats.pagesWritten, cleaned);
  t.is(fs.device.stats.writes, cleaned);
  t.deepEqual(fs.checkCache(), []);
});

test("dirty throttling pauses a writer that dirties far more than the limit and bounds dirty memory", (t) => {
  // 8 MiB machine, a slow device (8 MiB/s): a 5 MiB write is ~3× the dirty limit.
  const fs = new TestFs({ memory: "8MiB", model: { latencyNs: 2 * MILLISECOND, bytesPerSecond: 8 * 1024 * 1024, queueDepth: 4 } });
  const fl = fs.flusher;
  const sched = fs.machine.scheduler;
  const ino = fs.create();
  const file = fs.open(ino);
  const [bg0, limit0] = fl.thresholds();
  const setpoint = (bg0 + limit0) / 2;
  const total = 1280 * PAGE_SIZE;
  t.true(total / PAGE_SIZE > 3 * limit0, `writing ${total / PAGE_SIZE} pages against a limit of ${limit0}`);
  const data = pattern(total, 4);
  // Watch dirty memory right after each page is dirtied, before the throttle has had its say.
  let maxAtDirtying = 0;
  const cb: WriteCallbacks = {
    writeBegin: (f, pos, len) => fs.writeCallbacks.writeBegin(f, pos, len),
    writeEnd: (f, pos, len, copied, folio) => {
      const n = fs.writeCallbacks.writeEnd(f, pos, len, copied, folio);
      maxAtDirtying = Math.max(maxAtDirtying, fl.dirtyPages());
      return n;
    },
  };
  const chunk = 64 * 1024;
  let maxAfterChunk = 0;
  for (let pos = 0; pos < total; pos += chunk) {
    t.is(performWrite(fs.cache, file, pos, data, pos, chunk, cb, fl), chunk);
    maxAfterChunk = Math.max(maxAfterChunk, fl.dirtyPages());
    // The thresholds can only fall as the file grows (descriptors take free memory), never rise.
    t.true(fl.thresholds()[1] <= limit0);
  }
  // Throttling happened, and cost the writer virtual time.
  t.true(fl.stats.throttled > 0, `${fl.stats.throttled} pauses`);
  t.true(fl.stats.throttledNs > 100 * MILLISECOND, `${fl.stats.throttledNs} ns paused`);
  t.true(sched.now >= fl.stats.throttledNs);
  // The throttle runs after every page dirtied (order-0 folios) and returns only once dirty +
  // writeback pages are back at the setpoint halfway between the thresholds (or after 10 s, which
  // this device never needs). So between two pauses at most one page is added: dirty memory never
  // exceeds setpoint + 1 when a page is dirtied, which is below the limit, and after each chunk
  // (the throttle having run last) it is at most the setpoint.
  t.true(maxAtDirtying <= Math.floor(setpoint) + 1, `${maxAtDirtying} dirty pages at most (setpoint ${setpoint}, limit ${limit0})`);
  t.true(maxAfterChunk <= setpoint, `${maxAfterChunk} dirty pages after a chunk (setpoint ${setpoint})`);
  t.true(maxAtDirtying > bg0, "the writer did reach the throttled zone");
  // Everything written arrives.
  fs.syncAll();
  t.true(eq(fs.onDevice(ino), data));
  t.is(fs.machine.vmstat.stat[Stat.Dirty], 0);
  t.deepEqual(fs.checkCache(), []);
  t.deepEqual(fs.machine.verify(), []);
});

test("a sync pass cannot livelock: each folio dirty at its start is written once, redirtied ones wait", (t) => {
  const fs = new TestFs({ model: { latencyNs: MILLISECOND } });
  const ino = fs.create();
  const file = fs.open(ino);
  const mapping = file.mapping;
  const f = fs.cache.folios;
  const data = pattern(16 * PAGE_SIZE, 5);
  fs.write(file, 8 * PAGE_SIZE, data.subarray(8 * PAGE_SIZE));
  fs.fsync(file); // pages 8..15 clean
  fs.write(file, 0, data.subarray(0, 8 * PAGE_SIZE)); // pages 0..7 dirty
  fs.writeLog.length = 0;
  // Writing page i redirties page (i + 8) % 16: a pass that chased every dirty page would write
  // 0..7, then 8..15, then 0..7 again, forever.
  let calls = 0;
  const writeFolio: WriteFolio = (folio, wbc) => {
    if (++calls > 100) throw new Error("the sync pass does not end");
    const i = f.index(folio);
    fs.writeFolio(folio, wbc);
    const other = fs.cache.lookup(mapping, (i + 8) % 16);
    t.true(fs.cache.markDirty(mapping, other), `page ${(i + 8) % 16} was clean`);
  };
  t.is(writeCachePages(fs.cache, mapping, wbcAll(true, "sync"), writeFolio), 8);
  t.deepEqual(fs.writeLog, [0, 1, 2, 3, 4, 5, 6, 7]);
  t.is(calls, 8);
  t.false(mapping.index.anyMarked(XaMark.Towrite));
  fs.machine.scheduler.waitUntil(() => fs.machine.vmstat.stat[Stat.Writeback] === 0, "writeback");
  t.is(fs.machine.vmstat.stat[Stat.Dirty], 8, "the redirtied pages 8..15 are left for the next pass");
  for (let i = 8; i < 16; i++) t.true(mapping.index.getMark(i, XaMark.Dirty), `page ${i} dirty`);
  t.true(eq(fs.onDevice(ino), data));
  t.deepEqual(fs.checkCache(), []);
  // A second sync pass writes exactly those, redirtying 0..7 in turn.
  t.is(writeCachePages(fs.cache, mapping, wbcAll(true, "sync"), writeFolio), 8);
  t.deepEqual(fs.writeLog.slice(8), [8, 9, 10, 11, 12, 13, 14, 15]);
});

test("a sync pass whose writes redirty folios already written, and the one under I/O, still ends", (t) => {
  const fs = new TestFs({ model: { latencyNs: MILLISECOND } });
  const ino = fs.create();
  const file = fs.open(ino);
  const mapping = file.mapping;
  const f = fs.cache.folios;
  fs.write(file, 0, pattern(10 * PAGE_SIZE, 6));
  let calls = 0;
  const writeFolio: WriteFolio = (folio, wbc) => {
    if (++calls > 100) throw new Error("the sync pass does not end");
    const i = f.index(folio);
    fs.writeFolio(folio, wbc);
    fs.cache.markDirty(mapping, folio); // redirtied while its write is in flight
    if (i > 0) fs.cache.markDirty(mapping, fs.cache.lookup(mapping, i - 1));
  };
  t.is(writeCachePages(fs.cache, mapping, wbcAll(true, "sync"), writeFolio), 10);
  t.deepEqual(fs.writeLog, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  fs.machine.scheduler.waitUntil(() => fs.machine.vmstat.stat[Stat.Writeback] === 0, "writeback");
  t.is(fs.machine.vmstat.stat[Stat.Dirty], 10);
  t.deepEqual(fs.checkCache(), []);
});

test("fileWriteAndWaitRange writes and waits for only the folios of its byte range", (t) => {
  for (const maxOrder of [0, 2]) {
    const fs = new TestFs({ maxOrder, model: { latencyNs: MILLISECOND } });
    const ino = fs.create();
    const file = fs.open(ino);
    const f = fs.cache.folios;
    const data = pattern(16 * PAGE_SIZE, 7);
    fs.write(file, 0, data);
    t.is(fs.machine.vmstat.stat[Stat.Dirty], 16);
    const writepages = (m: typeof file.mapping, wbc: Parameters<typeof fs.writepages>[1]) => fs.writepages(m, wbc);
    // Bytes [5 pages + 100, 9 pages - 1]: pages 5..8. With order-2 folios those are the folios
    // at 4 (pages 4..7, straddling the start) and 8 (pages 8..11).
    fileWriteAndWaitRange(fs.cache, file, writepages, 5 * PAGE_SIZE + 100, 9 * PAGE_SIZE - 1);
    const [first, last] = maxOrder === 0 ? [5, 8] : [4, 11];
    const written = Array.from({ length: last - first + 1 }, (_, i) => first + i);
    t.deepEqual(fs.writeLog, maxOrder === 0 ? written : [4, 8], `order ${maxOrder}`);
    for (const i of written) {
      const folio = fs.cache.lookup(file.mapping, i);
      t.false(f.test(folio, FolioFlag.Dirty), `page ${i} clean (order ${maxOrder})`);
      t.false(f.test(folio, FolioFlag.Writeback), `page ${i} waited for (order ${maxOrder})`);
    }
    t.is(fs.machine.vmstat.stat[Stat.Dirty], 16 - written.length);
    t.is(fs.machine.vmstat.stat[Stat.Writeback], 0);
    fs.flushDevice();
    const disk = fs.onDevice(ino);
    for (let i = 0; i < 16; i++) {
      const page = disk.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE);
      const want = i >= first && i <= last ? data.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE) : zeros(PAGE_SIZE);
      t.true(eq(page, want), `page ${i} on the device (order ${maxOrder})`);
    }
    // A range with nothing dirty in it writes nothing.
    const n = fs.writeLog.length;
    fileWriteAndWaitRange(fs.cache, file, writepages, first * PAGE_SIZE, (last + 1) * PAGE_SIZE - 1);
    t.is(fs.writeLog.length, n);
    t.deepEqual(fs.checkCache(), []);
    // The whole file writes the rest.
    fs.fsync(file);
    t.true(eq(fs.onDevice(ino), data));
  }
});

test("fsync of a folio redirtied while under writeback waits for that I/O, then writes the new data", (t) => {
  const fs = new TestFs({ model: { latencyNs: 5 * MILLISECOND } });
  const ino = fs.create();
  const file = fs.open(ino);
  const f = fs.cache.folios;
  const v1 = pattern(4 * PAGE_SIZE, 8);
  fs.write(file, 0, v1);
  // Background-style pass: page 2 goes under writeback with v1.
  fs.writepages(file.mapping, { sync: false, start: 2, end: 2, nrToWrite: 1, reason: "test" });
  const folio = fs.cache.lookup(file.mapping, 2);
  t.true(f.test(folio, FolioFlag.Writeback));
  // A store through a user mapping changes it during the I/O and reports it through the interface.
  const v2 = v1.slice();
  v2.fill(0xab, 2 * PAGE_SIZE + 10, 2 * PAGE_SIZE + 20);
  f.data(folio).fill(0xab, f.dataOffset(folio) + 10, f.dataOffset(folio) + 20);
  fs.machine.owners.get(file.mapping.ownerId)!.dirty(folio, { caller: PageOpCaller.UserMapping });
  t.true(f.test(folio, FolioFlag.Dirty) && f.test(folio, FolioFlag.Writeback));
  const before = fs.machine.scheduler.now;
  fs.fsync(file);
  t.true(fs.machine.scheduler.now >= before + 5 * MILLISECOND, "fsync waited for the I/O in flight");
  t.deepEqual(fs.writeLog, [2, 0, 1, 2, 3], "page 2 was written again after its first write ended");
  t.true(eq(fs.onDevice(ino), v2));
  t.is(fs.machine.vmstat.stat[Stat.Dirty], 0);
  t.deepEqual(fs.checkCache(), []);
});
