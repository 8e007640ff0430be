/**
 * Tracepoints from the page cache and core: which events a read, a write and its writeback, a
 * refault and reclaim emit, in order, with virtual time; and nothing when they are off.
 */
import test from "ava";
import { Gfp, MemdescType, PAGE_SIZE, PageOpCaller, TRACEPOINT_NAMES, type TimedTraceEvent } from "@folio/core";
import { TestFs, pattern } from "./testfs.js";

test("a cold read emits readahead and folio_add; writeback emits start and end; reclaim and a refault are seen", (t) => {
  const s = new TestFs({ memory: "16MiB" });
  const ino = s.create();
  s.populate(ino, pattern(64 * PAGE_SIZE, 3));
  const events: TimedTraceEvent[] = [];
  const detach = s.machine.trace.enable("all", (e) => events.push(e));
  s.read(s.open(ino), 0, 8 * PAGE_SIZE);
  const ra = events.find((e) => e.point === "readahead");
  t.truthy(ra, "readahead traced");
  const adds = events.filter((e) => e.point === "folio_add");
  t.true(adds.length > 0);
  if (ra?.point === "readahead") t.is(ra.index, 0);

  events.length = 0;
  s.write(s.open(ino), 0, pattern(PAGE_SIZE, 9));
  s.syncAll();
  const starts = events.filter((e) => e.point === "writeback_start");
  const ends = events.filter((e) => e.point === "writeback_end");
  t.is(starts.length, 1);
  t.is(ends.length, 1);
  t.true(ends[0]!.ns >= starts[0]!.ns, "the end comes after the start in virtual time");
  if (ends[0]!.point === "writeback_end") t.is(ends[0]!.error, null);

  events.length = 0;
  s.machine.reclaim.shrink(1 << 20);
  t.true(events.some((e) => e.point === "reclaim_scan" && e.freed > 0));
  t.true(events.some((e) => e.point === "folio_delete" && e.why === "reclaim"));
  events.length = 0;
  s.read(s.open(ino), 0, PAGE_SIZE);
  t.true(events.some((e) => e.point === "workingset_refault"), "the page came back while its shadow was there");
  t.true(events.some((e) => e.point === "folio_add" && e.refault));

  events.length = 0;
  const folio = s.cache.lookup(s.inodes.get(ino)!.mapping, 0);
  s.machine.migration.migrateFolio(folio, { caller: PageOpCaller.Compaction });
  t.true(events.some((e) => e.point === "migrate" && e.result === "done" && e.caller === "compaction"));

  detach();
  events.length = 0;
  s.read(s.open(ino), 32 * PAGE_SIZE, 8 * PAGE_SIZE);
  s.machine.reclaim.shrink(1 << 20);
  t.deepEqual(events, [], "nothing after detaching");
  t.is(s.machine.trace.enabled, 0);
});

test("enable takes tracepoint names and says which are unknown; two sinks get what each asked for", (t) => {
  const s = new TestFs();
  const e = t.throws(() => s.machine.trace.enable(["readahead", "nope"], () => {}));
  t.is((e as { code?: string }).code, "EINVAL");
  t.regex(e!.message, /unknown tracepoint "nope" \(known: folio_add, /);
  t.is(s.machine.trace.enabled, 0, "nothing enabled by a failed call");
  const a: string[] = [];
  const b: string[] = [];
  s.machine.trace.enable(["folio_add"], (ev) => a.push(ev.point));
  const detachB = s.machine.trace.enable(["readahead"], (ev) => b.push(ev.point));
  const ino = s.create();
  s.populate(ino, pattern(4 * PAGE_SIZE, 1));
  s.read(s.open(ino), 0, PAGE_SIZE);
  t.true(a.length > 0 && a.every((p) => p === "folio_add"));
  t.deepEqual(b, ["readahead"]);
  detachB();
  t.is(s.machine.trace.enabled, 1 << TRACEPOINT_NAMES.indexOf("folio_add"));
});

test("memory failure and allocation failure are traced with what happened", (t) => {
  const s = new TestFs();
  const events: TimedTraceEvent[] = [];
  s.machine.trace.enable(["memory_failure", "alloc_fail"], (e) => events.push(e));
  let free = 0;
  while (s.machine.memmap.type[free] !== MemdescType.Buddy) free++;
  s.machine.memoryFailure.hardOffline(free);
  t.deepEqual(events.map((e) => e.point === "memory_failure" && [e.pfn, e.type, e.action, e.soft]), [[free, "buddy", "recovered", false]]);
  events.length = 0;
  s.machine.pages.injectFailures((order) => order === 3);
  t.throws(() => s.machine.folios.alloc(3, Gfp.Movable));
  s.machine.pages.injectFailures(undefined);
  t.deepEqual(events.map((e) => e.point === "alloc_fail" && e.order), [3]);
});
