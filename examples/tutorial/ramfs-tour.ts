/**
 * Tutorial step 3 (docs/TUTORIAL.md): ramfs mounted and watched — tracepoints, /proc/meminfo,
 * the flusher, reclaim and a frame retired under a folio, each acting on ramfs's folios through
 * the page interface alone.
 */
import { Machine, SECOND } from "@folio/core";
import { Vfs, createNodeFs } from "@folio/vfs";
import "../ramfs.js"; // registers the "ramfs" filesystem type

// #region mount
const machine = Machine.boot({ memory: "64MiB", seed: 1 });
const vfs = new Vfs(machine);
vfs.mount("/", "ramfs");
const fs = createNodeFs(vfs);
// #endregion mount

// #region trace
const events = { folio_add: 0, writeback_start: 0, migrate: 0 };
let pfn = -1; // the frame holding page 0 of the first file written
machine.trace.enable(Object.keys(events), (e) => {
  events[e.point as keyof typeof events]++;
  if (e.point === "folio_add" && pfn < 0) pfn = e.pfn;
  if (e.point === "migrate" && e.pfn === pfn && e.result === "done") pfn = e.dst;
});
const meminfo = () => `Cached ${machine.meminfo().Cached} kB, Dirty ${machine.meminfo().Dirty} kB`;

fs.writeFileSync("/notes.txt", "Hello from the page cache!\n");
fs.writeFileSync("/data.bin", Buffer.alloc(1 << 20, 0x2a));
console.log(`written: ${events.folio_add} folios added; ${meminfo()}`);
console.log(`pfn ${pfn}: ${machine.describe(pfn).text}`);
// #endregion trace

// #region watch
machine.scheduler.runFor(35 * SECOND); // virtual time: the flusher writes data dirty for 30 s
console.log(`35 s later: ${events.writeback_start} folios written back; ${meminfo()}`);

machine.reclaim.shrink(machine.frames); // ask reclaim for all of memory
console.log(`after reclaim: ${meminfo()}`);

const old = pfn;
const result = machine.memoryFailure.softOffline(old); // correctable errors: move the data off the frame
console.log(`soft offline: ${result.detail}`);
console.log(`pfn ${old}: ${machine.describe(old).text}`);
console.log(`pfn ${pfn}: ${machine.describe(pfn).text}`);
process.stdout.write(`/notes.txt: ${fs.readFileSync("/notes.txt", "utf8")}`);
const hard = machine.memoryFailure.hardOffline(pfn); // an uncorrectable error: the only copy is gone
console.log(`hard offline: ${hard.detail}`);
try {
  fs.readFileSync("/notes.txt", "utf8");
} catch (e) {
  console.log(`/notes.txt: ${(e as Error).message}`); // EIO, not a page of zeros
}
// #endregion watch
