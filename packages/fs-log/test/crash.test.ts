/**
 * THE crash-consistency test. A workload of 1,000 random operations (creates, writes,
 * overwrites, truncates, renames, links, unlinks, fsyncs, directory fsyncs, syncs, idle time for
 * the flusher and the cleaner) runs once on a small device, recording every completed write and
 * flush. Then, for every write boundary in turn, the device is rebuilt as it was when that write
 * completed (the durable image at the last flush plus the unflushed writes replayed through a
 * FaultyDevice) and crashed: everything not flushed is lost, and at every third boundary some of
 * it is torn instead. fsck must find nothing, and the mounted filesystem must show exactly the
 * durable state of the model: the state after the last persistence point that completed, or after
 * the one in progress when the crash hit (its commit may or may not have made it).
 *
 * Replaying the recorded device writes instead of re-running the workload for each boundary is
 * exact: the engine is deterministic, so a re-run would issue the same writes up to the crash.
 */
import test, { type ExecutionContext } from "ava";
import { Rng } from "@folio/core";
import { checkCrash, checkMachine, Recorder, type DevEvent } from "./crash-rig.js";
import { makeRig, mountFs } from "./helpers.js";
import { Model, setWriteSizes, step, type Op, type State } from "./model.js";

const OPS = Number(process.env["FSLOG_CRASH_OPS"] ?? 1000);
const BLOCKS = Number(process.env["FSLOG_CRASH_BLOCKS"] ?? 512);

interface CrashOpts {
  maintenance: boolean;
  /** Writes start below `pos` and are at most `len` long. */
  pos: number;
  len: number;
}

function crashTest(title: string, seed: number, opts: CrashOpts) {
  test(title, (t) => runCrashTest(t, seed, opts));
}

crashTest("crash consistency at every write boundary of a 1,000-operation workload", 2024, { maintenance: true, pos: 64 * 1024, len: 24 * 1024 });
crashTest("crash consistency at every write boundary, cleaning under log pressure (fsync only)", 77, {
  maintenance: false, pos: Number(process.env["FSLOG_CRASH_POS"] ?? 128 * 1024), len: Number(process.env["FSLOG_CRASH_LEN"] ?? 32 * 1024),
});

function runCrashTest(t: ExecutionContext, seed: number, opts: CrashOpts): void {
  setWriteSizes(opts.pos, opts.len);
  let rec!: Recorder;
  const r = makeRig({ blocks: BLOCKS, seed: 7, mkfs: { segmentBlocks: Number(process.env["FSLOG_CRASH_SEG"] ?? 8), inodes: 256 }, wrap: (d) => (rec = new Recorder(d)) });
  const base = new Uint8Array(BLOCKS * 4096);
  r.store.read(base, 0);
  rec.on = true;

  // The run: every operation with the range of device events it caused.
  const ranges: { op: Op; start: number; end: number }[] = [];
  const initial: State = new Model().durable();
  let start = rec.events.length;
  const fs = mountFs(r);
  ranges.push({ op: { text: "mount", persist: false }, start, end: rec.events.length });
  const model = new Model();
  const rng = new Rng(seed);
  for (let i = 0; i < OPS; i++) {
    start = rec.events.length;
    const op = step(fs, model, rng, r.machine, opts);
    ranges.push({ op, start, end: rec.events.length });
  }
  t.is(fs.stats.pressureSyncs, 0, "the workload must not hit space pressure (an implicit commit)");
  t.deepEqual(fs.verifyAccounting(), []);
  const stats = { ...fs.stats, ...fs.logInfo() };
  start = rec.events.length;
  fs.unmount();
  for (const [ino, d] of model.data) model.committed.set(ino, d);
  ranges.push({ op: { text: "unmount", persist: true, after: model.durable() }, start, end: rec.events.length });
  const events: DevEvent[] = rec.events;

  // For each persistence point, the event of its last flush.
  const flushOf = ranges.map(({ start: s, end: e }) => {
    let f = -1;
    for (let i = s; i < e; i++) if (!events[i]!.write) f = i;
    return f;
  });
  const opAt = new Int32Array(events.length);
  ranges.forEach((rg, i) => {
    for (let k = rg.start; k < rg.end; k++) opAt[k] = i;
  });

  const m = checkMachine();
  const tearRng = new Rng(99);
  let durable = base.slice();
  let pending: DevEvent[] = [];
  let lastDone = -1; // index into ranges of the last persistence point durable so far
  let tried = 0;
  let torn = 0;
  const failures: string[] = [];
  const t0 = performance.now();
  for (let pos = 0; pos < events.length; pos++) {
    const ev = events[pos]!;
    if (!ev.write) {
      for (const w of pending) if (w.write) durable.set(w.data, w.block * 4096);
      pending = [];
      for (let i = lastDone + 1; i < ranges.length; i++) if (ranges[i]!.op.persist && flushOf[i]! >= 0 && flushOf[i]! <= pos) lastDone = i;
      continue;
    }
    pending.push(ev);
    const cands: State[] = [lastDone < 0 ? initial : ranges[lastDone]!.op.after!];
    const q = opAt[pos]!;
    if (q > lastDone && ranges[q]!.op.persist) cands.push(ranges[q]!.op.after!);
    const tear = tried % 3 === 2 ? tearRng : null;
    if (tear) torn++;
    const err = checkCrash(m, { durable, pending, tear, candidates: cands, rw: tried % 7 === 0 });
    tried++;
    if (err) failures.push(`boundary ${pos} (write ${tried}, during "${ranges[q]!.op.text}", op ${q}${tear ? ", torn" : ""}): ${err}`);
  }
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  t.log(`workload: ${OPS} operations, ${events.filter((e) => e.write).length} writes, ${events.filter((e) => !e.write).length} flushes; ` +
    `commits ${stats.commits}, checkpoints ${stats.checkpoints}, cleaner runs ${stats.cleanerRuns}, segments cleaned ${stats.segmentsCleaned}, blocks moved ${stats.blocksMoved}; log blocks written ${stats.blocksWritten}, live ${stats.live} of ${stats.capacity}, free segments ${stats.freeSegments}/${stats.segments}`);
  console.log(`states tried ${tried}, failures ${failures.length} (${torn} with torn writes; checked in ${secs}s)`);
  void durable;
  durable = new Uint8Array(0);
  t.true(tried > 0);
  t.is(failures.length, 0, failures.slice(0, 10).join("\n"));
}
