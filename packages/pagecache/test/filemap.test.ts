import test from "ava";
import fc from "fast-check";
import { FolioFlag, MICROSECOND, PAGE_SIZE, Stat, isFolioError } from "@folio/core";
import { XaMark, filemapRead, initialWindow, invalidateMappingPages, nextWindow, syncMappings, type ReadCallbacks } from "../src/index.js";
import { FaultyDevice } from "../src/blockdev/index.js";
import { TestFs, pattern } from "./testfs.js";

const eq = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

test("sequential, random, partial, cross-folio and past-EOF reads return the file's bytes", (t) => {
  for (const maxOrder of [0, 4]) {
    const fs = new TestFs({ maxOrder });
    const data = pattern(300 * 1024 + 123, 7);
    const ino = fs.create();
    fs.populate(ino, data);
    const file = fs.open(ino);
    // Sequential in odd-sized chunks.
    for (let pos = 0; pos < data.length; pos += 5000) {
      t.true(eq(fs.read(file, pos, 5000), data.subarray(pos, pos + 5000)), `seq ${pos} order ${maxOrder}`);
    }
    // Random and partial reads, across page and folio boundaries.
    fc.assert(
      fc.property(fc.nat(data.length + 10000), fc.nat(70000), (pos, len) => {
        const got = fs.read(fs.open(ino), pos, len);
        return eq(got, data.subarray(pos, Math.min(pos + len, data.length)));
      }),
      { numRuns: 200, seed: 42 },
    );
    t.is(fs.read(file, data.length, 100).length, 0);
    t.is(fs.read(file, data.length + 4096, 100).length, 0);
    t.deepEqual(fs.machine.verify(), []);
  }
});

test("a cache hit waits on nothing and reads nothing from the device", (t) => {
  const fs = new TestFs();
  const ino = fs.create();
  const data = pattern(64 * 1024, 3);
  fs.populate(ino, data);
  const file = fs.open(ino);
  fs.read(file, 0, data.length);
  const reads = fs.device.stats.reads;
  const now = fs.machine.scheduler.now;
  t.true(eq(fs.read(file, 4096, 8192), data.subarray(4096, 12288)));
  t.is(fs.device.stats.reads, reads);
  t.is(fs.machine.scheduler.now, now);
});

test("writes, partial and across folio boundaries, read back from the cache and from the device after fsync", (t) => {
  for (const maxOrder of [0, 3]) {
    const fs = new TestFs({ maxOrder });
    const ino = fs.create();
    const file = fs.open(ino);
    const model = new Uint8Array(200 * 1024);
    let size = 0;
    fc.assert(
      fc.property(fc.nat(150 * 1024), fc.integer({ min: 1, max: 40000 }), fc.nat(1000), (pos, len, seed) => {
        const data = pattern(len, seed);
        t.is(fs.write(file, pos, data), len);
        model.set(data, pos);
        size = Math.max(size, pos + len);
        return eq(fs.read(file, 0, size), model.subarray(0, size));
      }),
      { numRuns: 60, seed: 9 },
    );
    t.is(fs.inodes.get(ino)!.mapping.host.size, size);
    fs.fsync(file);
    t.true(eq(fs.onDevice(ino), model.subarray(0, size)), `device contents order ${maxOrder}`);
    t.is(fs.machine.vmstat.stat[Stat.Dirty], 0);
    t.deepEqual(fs.machine.verify(), []);
  }
});

test("readahead windows ramp ×4 then ×2 up to the maximum, marker by marker", (t) => {
  t.is(initialWindow(1, 32), 4);
  t.is(initialWindow(4, 32), 8);
  t.is(initialWindow(16, 32), 32);
  t.deepEqual([4, 8, 16, 32, 32].map((w) => nextWindow(w, 32)), [8, 16, 32, 32, 32]);
  const fs = new TestFs({ raPages: 32 });
  const ino = fs.create();
  fs.populate(ino, pattern(1024 * PAGE_SIZE, 1));
  const file = fs.open(ino);
  const windows: [number, number, number][] = [];
  let last = "";
  for (let page = 0; page < 100; page++) {
    fs.read(file, page * PAGE_SIZE, PAGE_SIZE);
    const w = `${file.ra.start},${file.ra.size},${file.ra.asyncSize}`;
    if (w !== last) windows.push([file.ra.start, file.ra.size, file.ra.asyncSize]);
    last = w;
  }
  // Initial window 4 (async 3) at 0, then 8, 16, 32, 32… each starting where the previous ended.
  t.deepEqual(windows.slice(0, 5), [[0, 4, 3], [4, 8, 8], [12, 16, 16], [28, 32, 32], [60, 32, 32]]);
  // The marker of the current window is set on the folio at start + size - asyncSize.
  const marked = fs.cache.lookup(file.mapping, file.ra.start + file.ra.size - file.ra.asyncSize);
  t.true(marked !== 0 && fs.cache.folios.test(marked, FolioFlag.Readahead));
});

test("random reads do no readahead", (t) => {
  const fs = new TestFs();
  const ino = fs.create();
  fs.populate(ino, pattern(4096 * PAGE_SIZE, 1));
  const file = fs.open(ino);
  const pages = [1000, 17, 3000, 512, 2048, 77, 3999, 1500];
  for (const p of pages) fs.read(file, p * PAGE_SIZE + 10, 100);
  t.is(fs.device.stats.reads, pages.length);
  t.is(file.mapping.nrPages, pages.length);
});

test("readahead uses large folios when the mapping allows them", (t) => {
  const fs = new TestFs({ maxOrder: 9, raPages: 512 });
  const ino = fs.create();
  const data = pattern(4 * 1024 * 1024, 5);
  fs.populate(ino, data);
  const file = fs.open(ino);
  t.true(eq(fs.read(file, 0, data.length), data));
  let maxOrder = 0;
  file.mapping.index.forEach(0, 2000, (_, e) => void (maxOrder = Math.max(maxOrder, fs.cache.folios.order(e))));
  t.true(maxOrder >= 6, `largest folio order ${maxOrder}`);
  t.deepEqual(fs.machine.verify(), []);
});

test("writeback writes in index order and clears the dirty and writeback marks", (t) => {
  const fs = new TestFs({ model: { latencyNs: 50 * MICROSECOND } });
  const ino = fs.create();
  const file = fs.open(ino);
  for (const p of [9, 2, 30, 5, 17, 0]) fs.write(file, p * PAGE_SIZE, pattern(PAGE_SIZE, p));
  const xa = file.mapping.index;
  t.true(xa.anyMarked(XaMark.Dirty));
  fs.fsync(file);
  t.deepEqual(fs.writeLog, [0, 2, 5, 9, 17, 30]);
  t.false(xa.anyMarked(XaMark.Dirty));
  t.false(xa.anyMarked(XaMark.Writeback));
  t.false(xa.anyMarked(XaMark.Towrite));
  t.is(fs.machine.vmstat.stat[Stat.Writeback], 0);
});

test("a writeback error reaches each file open at the time exactly once (errseq)", (t) => {
  let faulty: FaultyDevice | undefined;
  const fs = new TestFs({ device: (_m, inner) => (faulty = new FaultyDevice(inner)) });
  const ino = fs.create();
  const a = fs.open(ino);
  const b = fs.open(ino);
  fs.write(a, 0, pattern(3 * PAGE_SIZE, 1));
  faulty!.failWrites(() => true);
  const e = t.throws(() => fs.fsync(a));
  t.true(isFolioError(e, "EIO"));
  faulty!.clearFaults();
  t.notThrows(() => fs.fsync(a)); // reported once to a
  const eb = t.throws(() => fs.fsync(b));
  t.true(isFolioError(eb, "EIO")); // and once to b
  t.notThrows(() => fs.fsync(b));
  const c = fs.open(ino); // opened after the error was seen: not told
  t.notThrows(() => fs.fsync(c));
});

test("an error nobody has seen yet is reported to a file opened after it", (t) => {
  let faulty: FaultyDevice | undefined;
  const fs = new TestFs({ device: (_m, inner) => (faulty = new FaultyDevice(inner)) });
  const ino = fs.create();
  const a = fs.open(ino);
  fs.write(a, 0, pattern(PAGE_SIZE, 1));
  faulty!.failWrites(() => true);
  fs.syncAll();
  faulty!.clearFaults();
  const late = fs.open(ino);
  t.true(isFolioError(t.throws(() => fs.fsync(late)), "EIO"));
  t.true(isFolioError(t.throws(() => fs.fsync(a)), "EIO"));
});

test("truncate waits for writeback, drops dirty data past EOF and zeroes a straddling large folio", (t) => {
  const fs = new TestFs({ maxOrder: 2, model: { latencyNs: 200 * MICROSECOND } });
  const ino = fs.create();
  const file = fs.open(ino);
  const data = pattern(64 * 1024, 2);
  fs.write(file, 0, data);
  // Start writeback of the first two 16 KiB folios but do not wait for it; the rest stays dirty.
  fs.writepages(file.mapping, { sync: false, start: 0, end: 0xffffffff, nrToWrite: 8, reason: "test" });
  t.is(fs.machine.vmstat.stat[Stat.Writeback], 8);
  t.is(fs.machine.vmstat.stat[Stat.Dirty], 8);
  const before = fs.machine.scheduler.now;
  fs.truncate(ino, 10000);
  t.true(fs.machine.scheduler.now > before, "truncate waited for writeback to end");
  t.is(fs.machine.vmstat.stat[Stat.Writeback], 0);
  t.is(fs.machine.vmstat.stat[Stat.Dirty], 0, "dirty data past EOF was dropped");
  t.true(eq(fs.read(file, 0, 20000), data.subarray(0, 10000)));
  // Extending again exposes zeros, not the old bytes.
  fs.truncate(ino, 30000);
  t.true(eq(fs.read(file, 10000, 20000), new Uint8Array(20000)));
  t.true(file.mapping.nrPages <= 16);
  t.deepEqual(fs.machine.verify(), []);
});

test("device read errors reach the reader as EIO and a later read retries", (t) => {
  let faulty: FaultyDevice | undefined;
  const fs = new TestFs({ device: (_m, inner) => (faulty = new FaultyDevice(inner)) });
  const ino = fs.create();
  const data = pattern(16 * PAGE_SIZE, 4);
  fs.populate(ino, data);
  faulty!.failReads(() => true);
  const file = fs.open(ino);
  t.true(isFolioError(t.throws(() => fs.read(file, 0, 100)), "EIO"));
  faulty!.clearFaults();
  t.true(eq(fs.read(file, 0, data.length), data));
});

test("nothing acknowledged by fsync is lost when the device crashes", (t) => {
  let faulty: FaultyDevice | undefined;
  const fs = new TestFs({ device: (_m, inner) => (faulty = new FaultyDevice(inner)) });
  const ino = fs.create();
  const file = fs.open(ino);
  const durable = pattern(20 * PAGE_SIZE, 8);
  fs.write(file, 0, durable);
  fs.fsync(file);
  fs.write(file, 0, pattern(20 * PAGE_SIZE, 9)); // not fsynced
  fs.writepages(file.mapping, { sync: false, start: 0, end: 100, nrToWrite: 5, reason: "test" });
  faulty!.crash();
  t.true(eq(fs.onDevice(ino), durable));
});

test("the read helper takes the filesystem's callbacks per call; mappings hold none", (t) => {
  const fs = new TestFs();
  const ino = fs.create();
  fs.populate(ino, pattern(PAGE_SIZE, 1));
  const mapping = fs.inodes.get(ino)!.mapping;
  const forbidden = /readFolio|readahead|writeBegin|writeEnd|writepages|writeFolio/i;
  const seen = new Set<unknown>();
  const walk = (o: unknown, path: string) => {
    if (o === null || typeof o !== "object" || seen.has(o) || ArrayBuffer.isView(o)) return;
    seen.add(o);
    for (const [k, v] of Object.entries(o)) {
      t.false(forbidden.test(k), `${path}.${k} names a filesystem callback`);
      t.false(typeof v === "function", `${path}.${k} holds a function`);
      walk(v, `${path}.${k}`);
    }
  };
  walk(mapping, "mapping");
  let calls = 0;
  const cb: ReadCallbacks = { readFolio: (file, folio) => (calls++, fs.readCallbacks.readFolio(file, folio)) };
  const buf = new Uint8Array(10);
  filemapRead(fs.cache, fs.open(ino), 0, buf, 0, 10, cb);
  t.is(calls, 1);
});

test("syncMappings writes every dirty mapping and waits; invalidation drops only clean idle folios", (t) => {
  const fs = new TestFs({ model: { latencyNs: 30 * MICROSECOND } });
  const a = fs.create();
  const b = fs.create();
  const fa = fs.open(a);
  const fb = fs.open(b);
  fs.write(fa, 0, pattern(5 * PAGE_SIZE, 1));
  fs.write(fb, 0, pattern(3 * PAGE_SIZE, 2));
  const written = syncMappings(fs.cache, [fa.mapping, fb.mapping], (m, w) => fs.writepages(m, w));
  t.is(written, 8);
  t.is(fs.machine.vmstat.stat[Stat.Dirty] + fs.machine.vmstat.stat[Stat.Writeback], 0);
  fs.write(fa, 0, pattern(PAGE_SIZE, 3)); // page 0 dirty again
  t.is(invalidateMappingPages(fs.cache, fa.mapping), 4);
  t.is(fa.mapping.nrPages, 1);
  t.true(fs.cache.folios.test(fs.cache.lookup(fa.mapping, 0), FolioFlag.Dirty));
  t.deepEqual(fs.machine.verify(), []);
});
