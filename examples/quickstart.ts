/**
 * Quick start, part two: a filesystem on a simulated disk, used through Node's fs API, and the
 * memory under it describing itself. Run with `pnpm demo` (after examples/demo.ts).
 *
 * The stack, top to bottom: createNodeFs → Vfs → fs-simple (an ext2-like filesystem) → the page
 * cache → a SimDevice whose blocks live in a memfs file — all inside one simulated 64 MiB machine.
 */
import { Machine } from "@folio/core";
import { DEVICE_MODELS, MemfsStore, SimDevice } from "@folio/pagecache";
import { O_RDONLY } from "@folio/fs-api";
import { SimpleFs } from "@folio/fs-simple"; // importing it registers the "simple" filesystem type
import { Vfs, createNodeFs } from "@folio/vfs";

const MiB = 1024 * 1024;

// ── 1. Boot a machine and give it a disk ──────────────────────────────────────────────────────
const machine = Machine.boot({ memory: "64MiB", seed: 7 }); // the seed fixes every interleaving
const vfs = new Vfs(machine); // one per machine; installs the page cache and the writeback flusher
const store = new MemfsStore({ size: "32MiB" }); // the disk image: a file in an in-memory memfs volume
const device = new SimDevice(store, machine.scheduler, { model: DEVICE_MODELS.nvme }); // 100 µs, 1 GiB/s, in virtual time
SimpleFs.mkfs({ device, scheduler: machine.scheduler, machine });
vfs.mount("/", "simple", { device });
const fs = createNodeFs(vfs); // Node's fs API (sync, promises, streams) over the VFS

// ── 2. Use it as you would use node:fs ─────────────────────────────────────────────────────────
fs.mkdirSync("/home/ada/notes", { recursive: true });
fs.mkdirSync("/var/log", { recursive: true });
fs.writeFileSync("/home/ada/notes/hello.txt", "Hello from a simulated disk!\n");
fs.appendFileSync("/var/log/boot.log", "mounted / (simple)\n");
const data = Buffer.alloc(1 * MiB, "folio "); // 256 pages of data
fs.writeFileSync("/home/ada/data.bin", data);

console.log("== Node's fs API on fs-simple ==");
process.stdout.write(`hello.txt: ${fs.readFileSync("/home/ada/notes/hello.txt", "utf8")}`);
const back = await fs.promises.readFile("/home/ada/data.bin"); // a promise call runs as a scheduler event
console.log(`data.bin read back with fs.promises.readFile: ${back.length} bytes, ${back.equals(data) ? "identical" : "DIFFERENT"}`);
for (const e of fs.readdirSync("/home/ada", { withFileTypes: true })) console.log(`  /home/ada/${e.name}${e.isDirectory() ? "/" : ""}`);
const st = fs.statSync("/home/ada/data.bin");
console.log(`stat data.bin: inode ${st.ino}, ${st.size} bytes, ${st.blocks} sectors, mode ${st.mode.toString(8)}`);

// Until now every write only dirtied folios in the page cache; fsync writes them to the device.
const dirtyKb = machine.meminfo().Dirty;
const fd = fs.openSync("/home/ada/data.bin", "r+");
fs.fsyncSync(fd);
fs.closeSync(fd);
console.log(`fsync data.bin: Dirty ${dirtyKb} kB → ${machine.meminfo().Dirty} kB (the other files wait for the flusher or unmount)`);

// ── 3. The memory under it ─────────────────────────────────────────────────────────────────────
console.log("\n== /proc/meminfo ==");
console.log(machine.formatMeminfo());
const mi = machine.meminfo();
console.log("\n== Caches and the device ==");
console.log(`page cache: ${mi.Cached / 4} pages (${mi.Cached} kB), dirty ${mi.Dirty} kB, writeback ${mi.Writeback} kB`);
console.log(`device ${device.name} (mkfs included): ${device.stats.reads} reads (${device.stats.bytesRead} B), ${device.stats.writes} writes (${device.stats.bytesWritten} B), ${device.stats.flushes} flushes`);
console.log(`virtual time: ${(machine.scheduler.now / 1e6).toFixed(3)} ms`);

// Find a frame holding data.bin: open the inode through the filesystem's own contract to reach
// its mapping (the page cache of the file), look up the folio at page 100, take its first frame.
const sb = vfs.superBlockOf("/home/ada/data.bin");
const file = sb.open(st.ino, O_RDONLY);
const folio = vfs.cache.lookup(file.mapping, 100);
sb.release(file);
const pfn = machine.folios.pfn(folio);
console.log("\n== A frame describes itself (from its struct page alone) ==");
console.log(`pfn ${pfn}: ${machine.describe(pfn).text}`);
// The folio's descriptor is itself in simulated memory: a slab object at physical address handle × 16.
const descPfn = Math.floor((folio * 16) / 4096);
console.log(`pfn ${descPfn}: ${machine.describe(descPfn).text}   ← where that folio's descriptor lives`);

// ── 4. Unmount, mount again: the data survived ─────────────────────────────────────────────────
vfs.umount("/"); // writes everything back and drops the filesystem's page cache
console.log(`\n== Unmounted: page cache ${machine.meminfo().Cached} kB ==`);
const readsBefore = device.stats.reads;
vfs.mount("/", "simple", { device });
const again = fs.readFileSync("/home/ada/data.bin");
console.log(`mounted again: hello.txt says "${fs.readFileSync("/home/ada/notes/hello.txt", "utf8").trim()}"`);
console.log(`data.bin: ${again.equals(data) ? "identical" : "DIFFERENT"} (${device.stats.reads - readsBefore} device reads to get it back)`);
console.log(`boot.log: ${fs.readFileSync("/var/log/boot.log", "utf8").trim()}`);
vfs.umount("/");

const problems = machine.verify();
console.log(problems.length === 0 ? "verify: every frame accounted for exactly once" : problems.join("\n"));
if (problems.length > 0 || !again.equals(data) || !back.equals(data)) process.exitCode = 1;
