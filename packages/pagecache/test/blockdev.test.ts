import test from "ava";
import fc from "fast-check";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Volume } from "memfs";
import { MICROSECOND, Rng, Scheduler, isFolioError, type FolioError } from "@folio/core";
import {
  DEFAULT_DEVICE_MODEL,
  DEVICE_MODELS,
  FaultyDevice,
  FileStore,
  MemfsStore,
  SimDevice,
  type BackingStore,
  type BlockDevice,
  type BlockOp,
  type BlockRequest,
  type DeviceModel,
} from "../src/blockdev/index.js";

// ---------------------------------------------------------------------------------------------
// helpers

/** The outcome of one request, filled in by its done callback. */
interface Outcome {
  calls: number;
  err: FolioError | null;
  /** Virtual time of the last completion. */
  at: number;
  req: BlockRequest;
}

function submit(
  dev: BlockDevice,
  sched: Scheduler,
  op: BlockOp,
  block: number,
  count = 1,
  buffer: Uint8Array = new Uint8Array(count * dev.blockSize),
  offset = 0,
): Outcome {
  const out: Omit<Outcome, "req"> & { req?: BlockRequest } = { calls: 0, err: null, at: -1 };
  out.req = {
    op,
    block,
    count,
    buffer,
    offset,
    done: (err) => {
      out.calls++;
      out.err = err;
      out.at = sched.now;
    },
  };
  dev.submit(out.req);
  return out as Outcome;
}

const flushReq = (dev: BlockDevice, sched: Scheduler) => submit(dev, sched, "flush", 0, 0, new Uint8Array(0));

function settle(sched: Scheduler, ...outs: Outcome[]): void {
  sched.waitUntil(() => outs.every((o) => o.calls > 0), "requests to complete");
}

function image(store: BackingStore): Uint8Array {
  const b = new Uint8Array(store.size);
  store.read(b, 0);
  return b;
}

function blockOf(store: BackingStore, block: number, bs = 4096): Uint8Array {
  const b = new Uint8Array(bs);
  store.read(b, block * bs);
  return b;
}

/** Fills the store with a recognisable pattern: byte i of block b is (b * 31 + i) & 0xff. */
function pattern(store: BackingStore): void {
  const b = new Uint8Array(store.size);
  for (let i = 0; i < b.length; i++) b[i] = ((i >> 12) * 31 + i) & 0xff;
  store.write(b, 0);
}

function sim(opts: { seed?: number; size?: number; model?: Partial<DeviceModel>; store?: BackingStore } = {}) {
  const sched = new Scheduler(new Rng(opts.seed ?? 1));
  const store = opts.store ?? new MemfsStore({ size: opts.size ?? 16 * 4096 });
  const dev = new SimDevice(store, sched, { model: opts.model ?? {} });
  return { sched, store, dev };
}

function faulty(opts: Parameters<typeof sim>[0] = {}) {
  const s = sim(opts);
  return { ...s, fdev: new FaultyDevice(s.dev) };
}

/** A store that delegates and logs every call: "write 4096+4096", "flush". */
class SpyStore implements BackingStore {
  readonly log: string[] = [];
  constructor(readonly inner: BackingStore) {}
  get size(): number {
    return this.inner.size;
  }
  read(dst: Uint8Array, offset: number): void {
    this.log.push(`read ${offset}+${dst.length}`);
    this.inner.read(dst, offset);
  }
  write(src: Uint8Array, offset: number): void {
    this.log.push(`write ${offset}+${src.length}`);
    this.inner.write(src, offset);
  }
  flush(): void {
    this.log.push("flush");
    this.inner.flush();
  }
  close(): void {
    this.inner.close();
  }
}

function tmpdir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "folio-blockdev-"));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// ---------------------------------------------------------------------------------------------
// backing stores

test("MemfsStore: round trip, unwritten bytes read as zero", (t) => {
  const s = new MemfsStore({ size: "64KiB" });
  t.is(s.size, 65536);
  t.true(s.created);
  const data = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff);
  s.write(data, 1234);
  const back = new Uint8Array(5000);
  s.read(back, 1234);
  t.deepEqual(back, data);
  const zero = new Uint8Array(1234);
  s.read(zero, 0);
  t.deepEqual(zero, new Uint8Array(1234));
  s.write(Uint8Array.of(9), 65535);
  const last = new Uint8Array(1);
  s.read(last, 65535);
  t.is(last[0], 9);
});

test("MemfsStore: the image is preallocated at its full size and never grows", (t) => {
  const volume = new Volume();
  const s = new MemfsStore({ volume, path: "/images/a/disk.img", size: 3 * 4096 + 100 });
  t.is(volume.statSync("/images/a/disk.img").size, 3 * 4096 + 100);
  s.write(new Uint8Array(100).fill(1), 3 * 4096);
  t.is(volume.statSync("/images/a/disk.img").size, 3 * 4096 + 100);
  t.throws(() => s.write(new Uint8Array(101), 3 * 4096), { code: "EINVAL" } as never);
  t.is(volume.statSync("/images/a/disk.img").size, 3 * 4096 + 100);
});

test("MemfsStore: reopening an image on the same volume sees its data", (t) => {
  const volume = new Volume();
  const a = new MemfsStore({ volume, path: "/disk.img", size: 8192 });
  a.write(new Uint8Array([1, 2, 3, 4]), 4096);
  a.flush();
  a.close();
  const b = new MemfsStore({ volume, path: "/disk.img" });
  t.false(b.created);
  t.is(b.size, 8192);
  const got = new Uint8Array(4);
  b.read(got, 4096);
  t.deepEqual(got, new Uint8Array([1, 2, 3, 4]));
  const c = new MemfsStore({ volume, path: "/disk.img", size: 8192 });
  c.read(got, 4096);
  t.deepEqual(got, new Uint8Array([1, 2, 3, 4]));
  // an image is never resized, and a missing one needs a size
  t.true(isFolioError(t.throws(() => new MemfsStore({ volume, path: "/disk.img", size: 16384 })), "EINVAL"));
  t.true(isFolioError(t.throws(() => new MemfsStore({ volume, path: "/other.img" })), "EINVAL"));
  t.true(isFolioError(t.throws(() => new MemfsStore({ volume, path: "/", size: 4096 })), "EINVAL"));
  // a fresh default volume is private
  const d = new MemfsStore({ size: 8192 });
  d.read(got, 4096);
  t.deepEqual(got, new Uint8Array(4));
});

test("stores: out-of-range I/O throws EINVAL naming the range and changes nothing; closed stores EBADF", (t) => {
  const dir = tmpdir(t);
  const stores: BackingStore[] = [new MemfsStore({ size: 4096 }), FileStore.create(path.join(dir, "img"), 4096)];
  for (const s of stores) {
    s.write(new Uint8Array(4096).fill(5), 0);
    const e = t.throws(() => s.write(new Uint8Array(10).fill(6), 4090));
    t.true(isFolioError(e, "EINVAL"));
    t.regex(e!.message, /\[4090, 4100\)/);
    t.true(isFolioError(t.throws(() => s.read(new Uint8Array(1), 4096)), "EINVAL"));
    t.true(isFolioError(t.throws(() => s.read(new Uint8Array(1), -1)), "EINVAL"));
    t.true(isFolioError(t.throws(() => s.write(new Uint8Array(1), 1.5)), "EINVAL"));
    t.deepEqual(image(s), new Uint8Array(4096).fill(5));
    s.close();
    s.close();
    t.true(isFolioError(t.throws(() => s.read(new Uint8Array(1), 0)), "EBADF"));
    t.true(isFolioError(t.throws(() => s.flush()), "EBADF"));
  }
});

test("FileStore: round trip through a real image file, reopened", (t) => {
  const dir = tmpdir(t);
  const file = path.join(dir, "disk.img");
  const a = FileStore.create(file, "1MiB");
  t.is(a.size, 1 << 20);
  t.is(fs.statSync(file).size, 1 << 20);
  const data = Uint8Array.from({ length: 10000 }, (_, i) => (i * 13 + 1) & 0xff);
  a.write(data, 500000);
  a.flush();
  a.close();
  const b = FileStore.open(file);
  t.is(b.size, 1 << 20);
  const back = new Uint8Array(10000);
  b.read(back, 500000);
  t.deepEqual(back, data);
  t.deepEqual(fs.readFileSync(file).subarray(500000, 510000), Buffer.from(data));
  b.close();
  t.true(isFolioError(t.throws(() => FileStore.create(file, 4096)), "EEXIST"));
  t.true(isFolioError(t.throws(() => FileStore.open(path.join(dir, "missing.img"))), "ENOENT"));
  const c = FileStore.create(file, 8192, { overwrite: true });
  t.is(fs.statSync(file).size, 8192);
  t.deepEqual(image(c), new Uint8Array(8192));
  c.close();
});

// ---------------------------------------------------------------------------------------------
// SimDevice: completion and timing

test("SimDevice: completion is a later scheduler event, never inside submit; default model takes no time", (t) => {
  const { sched, dev, store } = sim();
  t.deepEqual(dev.model, DEFAULT_DEVICE_MODEL);
  sched.charge(5000);
  const w = submit(dev, sched, "write", 3, 2, new Uint8Array(8192).fill(7));
  const r = submit(dev, sched, "read", 0);
  const f = flushReq(dev, sched);
  t.is(w.calls + r.calls + f.calls, 0);
  t.false(dev.idle);
  t.deepEqual(blockOf(store, 3), new Uint8Array(4096), "data moves at completion, not at submit");
  settle(sched, w, r, f);
  t.deepEqual([w.calls, r.calls, f.calls], [1, 1, 1]);
  t.deepEqual([w.err, r.err, f.err], [null, null, null]);
  t.deepEqual([w.at, r.at, f.at], [5000, 5000, 5000]);
  t.deepEqual(blockOf(store, 4), new Uint8Array(4096).fill(7));
  t.true(dev.idle);
  // nothing completes twice
  sched.runFor(1e9);
  t.deepEqual([w.calls, r.calls, f.calls], [1, 1, 1]);
  t.deepEqual(dev.stats.snapshot(), { reads: 1, writes: 1, flushes: 1, bytesRead: 4096, bytesWritten: 8192, errors: 0 });
  dev.stats.reset();
  t.deepEqual(dev.stats.snapshot(), { reads: 0, writes: 0, flushes: 0, bytesRead: 0, bytesWritten: 0, errors: 0 });
});

test("SimDevice: a read fills its buffer at the offset only when it completes", (t) => {
  const { sched, dev, store } = sim({ model: { latencyNs: 1000 } });
  store.write(new Uint8Array(4096).fill(0xab), 2 * 4096);
  const buf = new Uint8Array(3 * 4096).fill(1);
  const r = submit(dev, sched, "read", 2, 1, buf, 4096);
  sched.runFor(999);
  t.is(r.calls, 0);
  t.deepEqual(buf, new Uint8Array(3 * 4096).fill(1));
  sched.runFor(1);
  t.is(r.calls, 1);
  t.is(r.at, 1000);
  t.deepEqual(buf.subarray(0, 4096), new Uint8Array(4096).fill(1));
  t.deepEqual(buf.subarray(4096, 8192), new Uint8Array(4096).fill(0xab));
  t.deepEqual(buf.subarray(8192), new Uint8Array(4096).fill(1));
});

// 4096 bytes take 1 µs at this bandwidth
const BW = 4096 * 1e6;
const LAT = 10 * MICROSECOND;

test("SimDevice: a request completes after its transfer (size / bandwidth) plus latency", (t) => {
  const { sched, dev } = sim({ model: { latencyNs: LAT, bytesPerSecond: BW } });
  t.is(dev.transferNs(4096), 1000);
  const r = submit(dev, sched, "read", 0, 4);
  settle(sched, r);
  t.is(r.at, 4 * 1000 + LAT);
  const start = sched.now;
  const w = submit(dev, sched, "write", 0, 1);
  settle(sched, w);
  t.is(w.at - start, 1000 + LAT);
});

test("SimDevice: with queue depth 1, N requests finish at N × service time", (t) => {
  const { sched, dev } = sim({ model: { latencyNs: LAT, bytesPerSecond: BW, queueDepth: 1 } });
  const outs = Array.from({ length: 6 }, (_, i) => submit(dev, sched, i % 2 ? "read" : "write", i));
  t.is(dev.inFlight, 1);
  t.is(dev.queued, 5);
  settle(sched, ...outs);
  t.deepEqual(
    outs.map((o) => o.at),
    outs.map((_, i) => (i + 1) * (1000 + LAT)),
  );
});

test("SimDevice: transfers serialize across the queue, latencies overlap, and the FIFO waits for free slots", (t) => {
  const deep = sim({ model: { latencyNs: LAT, bytesPerSecond: BW, queueDepth: 32 } });
  const a = Array.from({ length: 4 }, (_, i) => submit(deep.dev, deep.sched, "write", i));
  t.is(deep.dev.inFlight, 4);
  settle(deep.sched, ...a);
  t.deepEqual(
    a.map((o) => o.at),
    [1, 2, 3, 4].map((k) => k * 1000 + LAT),
  );

  const two = sim({ model: { latencyNs: LAT, bytesPerSecond: BW, queueDepth: 2 } });
  const b = Array.from({ length: 4 }, (_, i) => submit(two.dev, two.sched, "read", i));
  t.is(two.dev.inFlight, 2);
  t.is(two.dev.queued, 2);
  settle(two.sched, ...b);
  // r0, r1 start at 0; r2 starts when r0 frees its slot at 11 µs, r3 when r1 does at 12 µs
  t.deepEqual(
    b.map((o) => o.at),
    [11_000, 12_000, 22_000, 23_000],
  );
});

test("SimDevice: named models have their figures and time requests by them", (t) => {
  t.deepEqual({ ...DEVICE_MODELS.nvme }, { latencyNs: 100 * MICROSECOND, bytesPerSecond: 1 << 30, queueDepth: 32 });
  t.true(DEVICE_MODELS.hdd.latencyNs > DEVICE_MODELS.ssd.latencyNs);
  t.true(DEVICE_MODELS.ssd.latencyNs > DEVICE_MODELS.nvme.latencyNs);
  t.true(DEVICE_MODELS.hdd.bytesPerSecond < DEVICE_MODELS.ssd.bytesPerSecond);
  t.is(DEVICE_MODELS.hdd.queueDepth, 1);
  const { sched, dev } = sim({ model: DEVICE_MODELS.nvme });
  const r = submit(dev, sched, "read", 0);
  settle(sched, r);
  t.is(r.at, 100_000 + Math.ceil((4096 * 1e9) / 2 ** 30));
});

test("SimDevice: a flush completes latency after the writes submitted before it, then flushes the store", (t) => {
  const store = new SpyStore(new MemfsStore({ size: 64 * 4096 }));
  const { sched, dev } = sim({ store, model: { latencyNs: LAT, bytesPerSecond: BW } });
  const a = submit(dev, sched, "write", 0, 20, new Uint8Array(20 * 4096).fill(1));
  const f = flushReq(dev, sched);
  const b = submit(dev, sched, "write", 30, 20, new Uint8Array(20 * 4096).fill(2));
  settle(sched, a, f, b);
  t.is(a.at, 20_000 + LAT);
  t.is(f.at, a.at + LAT, "the flush waited for the earlier write");
  t.is(b.at, 40_000 + LAT);
  t.true(f.at < b.at, "the flush did not wait for the later write");
  t.deepEqual(store.log, [`write 0+${20 * 4096}`, "flush", `write ${30 * 4096}+${20 * 4096}`]);

  // with nothing outstanding a flush takes one latency
  const start = sched.now;
  const g = flushReq(dev, sched);
  settle(sched, g);
  t.is(g.at - start, LAT);
  t.is(dev.stats.flushes, 2);
});

test("SimDevice: a flush waits even for earlier writes that are still queued behind it in no slot", (t) => {
  const store = new SpyStore(new MemfsStore({ size: 64 * 4096 }));
  const { sched, dev } = sim({ store, model: { latencyNs: LAT, bytesPerSecond: BW, queueDepth: 2 } });
  // w3 is long: its transfer runs 12..32 µs, so it completes at 42 µs, while the flush gets its
  // slot when w2 completes at 22 µs
  const ws = [0, 1, 2, 3].map((b) => submit(dev, sched, "write", b, b === 3 ? 20 : 1));
  const f = flushReq(dev, sched);
  settle(sched, f, ...ws);
  t.deepEqual(ws.map((w) => w.at), [11_000, 12_000, 22_000, 42_000]);
  t.is(f.at, 42_000 + LAT);
  t.is(store.log.at(-1), "flush");
  t.is(store.log.filter((l) => l.startsWith("write")).length, 4);
});

test("SimDevice: same seed, same completion order for simultaneous completions", (t) => {
  const order = (seed: number) => {
    const { sched, dev } = sim({ seed });
    const seen: number[] = [];
    for (let i = 0; i < 16; i++) {
      dev.submit({ op: "read", block: i, count: 1, buffer: new Uint8Array(4096), offset: 0, done: () => seen.push(i) });
    }
    sched.waitUntil(() => seen.length === 16, "reads");
    return seen;
  };
  t.deepEqual(order(42), order(42));
  t.notDeepEqual(order(42), order(43), "the seed chooses the interleaving");
  t.deepEqual([...order(42)].sort((x, y) => x - y), Array.from({ length: 16 }, (_, i) => i));
});

test("SimDevice: bad requests complete with EINVAL asynchronously; a missing done throws EINVAL", (t) => {
  const { sched, dev, store } = sim();
  pattern(store);
  const before = image(store);
  const buf = new Uint8Array(8192);
  const bad = [
    submit(dev, sched, "read", 16),
    submit(dev, sched, "read", -1),
    submit(dev, sched, "write", 15, 2, new Uint8Array(8192)),
    submit(dev, sched, "write", 0, 0),
    submit(dev, sched, "read", 1.5),
    submit(dev, sched, "read", 0, 1.5, buf),
    submit(dev, sched, "read", 0, 2, new Uint8Array(8191)),
    submit(dev, sched, "write", 0, 1, buf, 4097),
    submit(dev, sched, "write", 0, 1, buf, -1),
    submit(dev, sched, "write", 0, 1, [] as unknown as Uint8Array),
    submit(dev, sched, "trim" as BlockOp, 0),
  ];
  t.true(bad.every((o) => o.calls === 0));
  settle(sched, ...bad);
  for (const o of bad) {
    t.is(o.calls, 1);
    t.true(isFolioError(o.err, "EINVAL"), `${o.req.op} ${o.req.block}+${o.req.count}: ${String(o.err)}`);
  }
  t.regex(bad[0]!.err!.message, /\[16, 17\).*vda/);
  t.deepEqual(image(store), before);
  t.deepEqual(dev.stats.snapshot(), { reads: 0, writes: 0, flushes: 0, bytesRead: 0, bytesWritten: 0, errors: bad.length });
  const e = t.throws(() => dev.submit({ op: "read", block: 0, count: 1, buffer: buf, offset: 0 } as unknown as BlockRequest));
  t.true(isFolioError(e, "EINVAL"));
  t.true(isFolioError(t.throws(() => dev.submit(null as unknown as BlockRequest)), "EINVAL"));
  t.true(dev.idle);
});

test("SimDevice: bad geometry and models are refused with EINVAL", (t) => {
  const sched = new Scheduler(new Rng(1));
  const store = new MemfsStore({ size: 4096 + 1000 });
  t.is(new SimDevice(store, sched).nrBlocks, 1);
  t.is(new SimDevice(store, sched, { blockSize: 512 }).nrBlocks, 9);
  for (const opts of [
    { blockSize: 3000 },
    { blockSize: 256 },
    { blockSize: 8192 },
    { model: { latencyNs: -1 } },
    { model: { latencyNs: Infinity } },
    { model: { bytesPerSecond: 0 } },
    { model: { queueDepth: 0 } },
    { model: { queueDepth: 1.5 } },
  ]) {
    t.true(isFolioError(t.throws(() => new SimDevice(store, sched, opts)), "EINVAL"), JSON.stringify(opts));
  }
});

test("SimDevice: a store error completes the request with EIO", (t) => {
  const broken: BackingStore = {
    size: 8192,
    read: () => {
      throw new Error("medium error");
    },
    write: () => {},
    flush: () => {},
    close: () => {},
  };
  const { sched, dev } = sim({ store: broken });
  const r = submit(dev, sched, "read", 1);
  const w = submit(dev, sched, "write", 1);
  settle(sched, r, w);
  t.true(isFolioError(r.err, "EIO"));
  t.regex(r.err!.message, /medium error/);
  t.is(w.err, null);
  t.is(dev.stats.errors, 1);
  t.is(dev.stats.writes, 1);
});

test("SimDevice: powerFail drops every pending request; nothing lands and no done is called", (t) => {
  const { sched, dev, store } = sim({ model: { latencyNs: LAT, bytesPerSecond: BW, queueDepth: 1 } });
  const outs = [
    submit(dev, sched, "write", 0, 1, new Uint8Array(4096).fill(1)),
    submit(dev, sched, "write", 1, 1, new Uint8Array(4096).fill(2)),
    flushReq(dev, sched),
    submit(dev, sched, "read", 99),
  ];
  t.is(dev.powerFail(), 4);
  t.true(dev.idle);
  sched.runFor(1e9);
  t.true(outs.every((o) => o.calls === 0));
  t.deepEqual(image(store), new Uint8Array(store.size));
  const start = sched.now;
  const w = submit(dev, sched, "write", 2);
  settle(sched, w);
  t.is(w.at - start, 1000 + LAT, "the device is usable and its bandwidth free afterwards");
});

// ---------------------------------------------------------------------------------------------
// FaultyDevice: injected errors

test("FaultyDevice: a write to a failing block completes with EIO and leaves the old contents", (t) => {
  const { sched, store, fdev } = faulty({ size: 32 * 4096 });
  pattern(store);
  const before = image(store);
  fdev.failWrites([17]);
  const w = submit(fdev, sched, "write", 17, 1, new Uint8Array(4096).fill(0xee));
  const multi = submit(fdev, sched, "write", 15, 4, new Uint8Array(4 * 4096).fill(0xee));
  const ok = submit(fdev, sched, "write", 18, 1, new Uint8Array(4096).fill(0xdd));
  settle(sched, w, multi, ok);
  t.true(isFolioError(w.err, "EIO"));
  t.is(w.err!.message, "EIO: write of block 17 failed (injected)");
  t.is(multi.err!.message, "EIO: write of block 17 failed (injected)");
  t.is(ok.err, null);
  const expect = before.slice();
  expect.fill(0xdd, 18 * 4096, 19 * 4096);
  t.deepEqual(image(store), expect);
  t.is(fdev.faults.writeErrors, 2);
  t.is(fdev.faults.readErrors, 0);
  t.is(fdev.stats.errors, 2);
  t.is(fdev.stats.writes, 1);
  t.deepEqual(fdev.unflushedBlocks, [18], "a failed write is not an unflushed write");
});

test("FaultyDevice: a read of a failing block completes with EIO and leaves its buffer; clearFaults heals", (t) => {
  const { sched, store, fdev } = faulty();
  pattern(store);
  fdev.failReads((b) => b % 5 === 3);
  const buf = new Uint8Array(2 * 4096).fill(0x11);
  const r = submit(fdev, sched, "read", 2, 2, buf);
  const ok = submit(fdev, sched, "read", 4, 1);
  settle(sched, r, ok);
  t.is(r.err?.message, "EIO: read of block 3 failed (injected)");
  t.deepEqual(buf, new Uint8Array(2 * 4096).fill(0x11));
  t.is(ok.err, null);
  t.deepEqual(ok.req.buffer, blockOf(store, 4));
  t.is(fdev.faults.readErrors, 1);
  fdev.clearFaults();
  const again = submit(fdev, sched, "read", 2, 2, buf);
  settle(sched, again);
  t.is(again.err, null);
  t.deepEqual(buf.subarray(4096), blockOf(store, 3));
});

test("FaultyDevice: random faults follow their rates and replay from the seed", (t) => {
  const run = (seed: number, readErrorRate: number, writeErrorRate: number) => {
    const { sched, fdev } = faulty({ size: 64 * 4096 });
    fdev.randomFaults({ readErrorRate, writeErrorRate, rng: new Rng(seed) });
    const outs = Array.from({ length: 64 }, (_, i) => submit(fdev, sched, i % 2 ? "read" : "write", i));
    settle(sched, ...outs);
    for (const o of outs) if (o.err) t.true(isFolioError(o.err, "EIO"));
    t.is(fdev.faults.readErrors + fdev.faults.writeErrors, outs.filter((o) => o.err).length);
    return outs.map((o) => (o.err ? "x" : ".")).join("");
  };
  t.is(run(1, 1, 1), "x".repeat(64));
  t.is(run(1, 0, 0), ".".repeat(64));
  t.is(run(1, 0, 1), "x.".repeat(32));
  const a = run(5, 0.5, 0.5);
  t.is(a, run(5, 0.5, 0.5));
  t.notDeepEqual(a, run(6, 0.5, 0.5));
  t.true(a.includes("x") && a.includes("."));
  const { fdev } = faulty();
  t.true(isFolioError(t.throws(() => fdev.randomFaults({ readErrorRate: 2, rng: new Rng(1) })), "EINVAL"));
});

test("FaultyDevice: a failing flush makes nothing durable", (t) => {
  const { sched, store, fdev } = faulty();
  const w = submit(fdev, sched, "write", 1, 1, new Uint8Array(4096).fill(3));
  fdev.failFlushes();
  const f = flushReq(fdev, sched);
  settle(sched, w, f);
  t.is(f.err?.message, "EIO: flush of vda failed (injected)");
  t.is(fdev.faults.flushErrors, 1);
  t.deepEqual(fdev.unflushedBlocks, [1]);
  fdev.crash();
  t.deepEqual(blockOf(store, 1), new Uint8Array(4096));
});

test("FaultyDevice: one injector per device", (t) => {
  const { dev } = faulty();
  t.true(isFolioError(t.throws(() => new FaultyDevice(dev)), "EBUSY"));
});

// ---------------------------------------------------------------------------------------------
// FaultyDevice: crashes

test("FaultyDevice: crash loses exactly the writes completed since the last flush", (t) => {
  const { sched, store, fdev } = faulty();
  pattern(store);
  const durable = image(store);
  const a = submit(fdev, sched, "write", 1, 1, new Uint8Array(4096).fill(0xa1));
  settle(sched, a);
  const f = flushReq(fdev, sched);
  settle(sched, f);
  durable.fill(0xa1, 4096, 8192);
  t.deepEqual(fdev.unflushedBlocks, []);
  const b = submit(fdev, sched, "write", 1, 1, new Uint8Array(4096).fill(0xb1));
  const c = submit(fdev, sched, "write", 5, 2, new Uint8Array(8192).fill(0xc1));
  settle(sched, b, c);
  const c2 = submit(fdev, sched, "write", 6, 1, new Uint8Array(4096).fill(0xc2));
  settle(sched, c2);
  t.deepEqual(fdev.unflushedBlocks, [1, 5, 6]);
  t.notDeepEqual(image(store), durable);
  const report = fdev.crash();
  t.deepEqual(report, { dropped: 0, reverted: [1, 5, 6], torn: [] });
  t.deepEqual(image(store), durable);
  t.true(fdev.crashed);
  t.deepEqual(fdev.faults.snapshot(), {
    readErrors: 0, writeErrors: 0, flushErrors: 0, crashes: 1, droppedRequests: 0, revertedBlocks: 3, tornBlocks: 0,
  });
});

test("FaultyDevice: crash drops requests in flight and refuses new ones with EIO until restart", (t) => {
  const { sched, store, fdev } = faulty({ model: { latencyNs: LAT } });
  const w = submit(fdev, sched, "write", 2, 1, new Uint8Array(4096).fill(9));
  const f = flushReq(fdev, sched);
  sched.runFor(LAT / 2);
  const report = fdev.crash();
  t.is(report.dropped, 2);
  sched.runFor(1e9);
  t.is(w.calls + f.calls, 0, "lost requests never complete");
  t.deepEqual(image(store), new Uint8Array(store.size));
  const r = submit(fdev, sched, "read", 0);
  t.is(r.calls, 0, "even a refusal completes asynchronously");
  settle(sched, r);
  t.true(isFolioError(r.err, "EIO"));
  t.regex(r.err!.message, /crash/);
  t.true(isFolioError(t.throws(() => fdev.submit({ op: "flush" } as BlockRequest)), "EINVAL"));
  fdev.restart();
  t.false(fdev.crashed);
  const w2 = submit(fdev, sched, "write", 2, 1, new Uint8Array(4096).fill(9));
  settle(sched, w2);
  t.is(w2.err, null);
  t.deepEqual(blockOf(store, 2), new Uint8Array(4096).fill(9));
});

test("FaultyDevice: a filesystem image on memfs survives crash and remount at its last flush", (t) => {
  const volume = new Volume();
  const sched = new Scheduler(new Rng(3));
  const s1 = new MemfsStore({ volume, path: "/vda.img", size: 8 * 4096 });
  const fdev = new FaultyDevice(new SimDevice(s1, sched));
  settle(sched, submit(fdev, sched, "write", 0, 1, new Uint8Array(4096).fill(1)));
  settle(sched, flushReq(fdev, sched));
  settle(sched, submit(fdev, sched, "write", 0, 1, new Uint8Array(4096).fill(2)));
  fdev.crash();
  s1.close();
  const s2 = new MemfsStore({ volume, path: "/vda.img" });
  const dev2 = new SimDevice(s2, sched);
  const r = submit(dev2, sched, "read", 0);
  settle(sched, r);
  t.deepEqual(r.req.buffer, new Uint8Array(4096).fill(1));
});

test("FaultyDevice: torn writes keep a sector prefix of the new data, and the same seed tears the same way", (t) => {
  const run = (seed: number) => {
    const { sched, store, fdev } = faulty();
    pattern(store);
    const durable = image(store);
    const writes = [0, 3, 4, 5, 9, 12, 13, 15].map((b) => submit(fdev, sched, "write", b, 1, new Uint8Array(4096).fill(0xf0 + (b & 15))));
    settle(sched, ...writes);
    const report = fdev.crash({ tear: new Rng(seed), tearRate: 0.75 });
    const img = image(store);
    t.deepEqual([...report.reverted, ...report.torn.map((x) => x.block)].sort((x, y) => x - y), [0, 3, 4, 5, 9, 12, 13, 15]);
    for (const { block, sectors } of report.torn) {
      t.true(sectors >= 1 && sectors <= 7);
      const at = block * 4096;
      t.deepEqual(img.subarray(at, at + sectors * 512), new Uint8Array(sectors * 512).fill(0xf0 + (block & 15)));
      t.deepEqual(img.subarray(at + sectors * 512, at + 4096), durable.subarray(at + sectors * 512, at + 4096));
    }
    for (const block of report.reverted) t.deepEqual(img.subarray(block * 4096, (block + 1) * 4096), durable.subarray(block * 4096, (block + 1) * 4096));
    const torn = new Set(report.torn.map((x) => x.block));
    for (let b = 0; b < 16; b++) if (!torn.has(b)) t.deepEqual(img.subarray(b * 4096, (b + 1) * 4096), durable.subarray(b * 4096, (b + 1) * 4096));
    t.is(fdev.faults.tornBlocks, report.torn.length);
    return { report, img };
  };
  const a = run(11);
  const b = run(11);
  t.deepEqual(a, b);
  t.true(a.report.torn.length > 0);
  const c = run(12);
  t.notDeepEqual(c.report, a.report);
  // every block torn with rate 1, none with rate 0
  const { sched, fdev } = faulty();
  settle(sched, submit(fdev, sched, "write", 0, 3, new Uint8Array(3 * 4096).fill(1)));
  t.is(fdev.crash({ tear: new Rng(1), tearRate: 1 }).torn.length, 3);
  fdev.restart();
  settle(sched, submit(fdev, sched, "write", 0, 3, new Uint8Array(3 * 4096).fill(1)));
  t.deepEqual(fdev.crash({ tear: new Rng(1), tearRate: 0 }).reverted, [0, 1, 2]);
});

// ---------------------------------------------------------------------------------------------
// property: crash leaves the store as of the last completed flush

type Cmd =
  | { kind: "write"; block: number; count: number; byte: number }
  | { kind: "flush" }
  | { kind: "run"; events: number }
  | { kind: "fail"; block: number | null };

const NB = 8;

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("write" as const), block: fc.integer({ min: 0, max: NB - 1 }), count: fc.integer({ min: 1, max: 3 }), byte: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("flush" as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("run" as const), events: fc.integer({ min: 0, max: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("fail" as const), block: fc.option(fc.integer({ min: 0, max: NB - 1 })) }) },
);

const modelArb = fc.record({
  latencyNs: fc.constantFrom(0, 1000, 5000),
  bytesPerSecond: fc.constantFrom(Infinity, 4096e6, 1024e6),
  queueDepth: fc.integer({ min: 1, max: 4 }),
});

test("property: after random writes, flushes and a crash, the store holds the contents as of the last completed flush", (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 ** 31 }),
      modelArb,
      fc.array(cmdArb, { maxLength: 40 }),
      fc.boolean(),
      fc.option(fc.integer({ min: 0, max: 2 ** 31 })),
      (seed, model, cmds, runAll, tearSeed) => {
        const { sched, store, fdev } = faulty({ seed, model, size: NB * 4096 });
        const bs = 4096;
        pattern(store);
        // the model: what has landed (updated from completions) and what was durable at the last completed flush
        const landed = image(store);
        let durable = landed.slice();
        for (const c of cmds) {
          if (c.kind === "write") {
            const count = Math.min(c.count, NB - c.block);
            const data = new Uint8Array(count * bs).fill(c.byte);
            fdev.submit({
              op: "write", block: c.block, count, buffer: data, offset: 0,
              done: (err) => {
                if (err === null) landed.set(data, c.block * bs);
              },
            });
          } else if (c.kind === "flush") {
            fdev.submit({ op: "flush", block: 0, count: 0, buffer: new Uint8Array(0), offset: 0, done: (err) => {
              if (err === null) durable = landed.slice();
            } });
          } else if (c.kind === "run") {
            sched.runDue(c.events);
            sched.charge(c.events * 700);
          } else if (c.block === null) {
            fdev.clearFaults();
          } else {
            fdev.failWrites([c.block]);
          }
          if (!fdev.crashed && image(store).some((v, i) => v !== landed[i])) return false;
        }
        if (runAll) sched.waitUntil(() => fdev.inner.idle, "all requests");
        const lost = new Set(fdev.unflushedBlocks);
        const atCrash = image(store);
        const report = fdev.crash(tearSeed === null ? {} : { tear: new Rng(tearSeed) });
        const after = image(store);
        const torn = new Map(report.torn.map((x) => [x.block, x.sectors]));
        for (let b = 0; b < NB; b++) {
          const at = b * bs;
          const k = torn.get(b) ?? 0;
          if (k > 0 && !lost.has(b)) return false;
          // a torn block: prefix of its contents at the crash, the rest durable
          if (!bytesEqual(after.subarray(at, at + k * 512), atCrash.subarray(at, at + k * 512))) return false;
          if (!bytesEqual(after.subarray(at + k * 512, at + bs), durable.subarray(at + k * 512, at + bs))) return false;
        }
        if (tearSeed === null && !bytesEqual(after, durable)) return false;
        return report.reverted.length + report.torn.length === lost.size;
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});

test("property: a crash loses nothing once a flush completed after the last write", (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 31 }), modelArb, fc.array(fc.integer({ min: 0, max: NB - 1 }), { minLength: 1, maxLength: 20 }), (seed, model, blocks) => {
      const { sched, store, fdev } = faulty({ seed, model, size: NB * 4096 });
      const outs = blocks.map((b, i) => submit(fdev, sched, "write", b, 1, new Uint8Array(4096).fill(i + 1)));
      const f = flushReq(fdev, sched);
      settle(sched, f);
      if (!outs.every((o) => o.calls === 1)) return false;
      const before = image(store);
      const report = fdev.crash({ tear: new Rng(seed) });
      return report.reverted.length === 0 && report.torn.length === 0 && bytesEqual(image(store), before);
    }),
    { numRuns: 100 },
  );
  t.pass();
});

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
