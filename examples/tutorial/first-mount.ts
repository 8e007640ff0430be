/**
 * Tutorial step 2 (docs/TUTORIAL.md): a machine, its VFS, and fs-simple on a simulated disk whose
 * blocks live in a memfs file, used through Node's fs API.
 */
// #region mount
import { Machine } from "@folio/core";
import { createBlockDevice } from "@folio/pagecache";
import { SimpleFs } from "@folio/fs-simple"; // importing it registers the "simple" filesystem type
import { Vfs, createNodeFs } from "@folio/vfs";

const machine = Machine.boot({ memory: "64MiB", seed: 1 }); // physical memory, a virtual clock, a seed
const vfs = new Vfs(machine); // its VFS, page cache and writeback flusher
const device = createBlockDevice("memfs", machine.scheduler, { size: "16MiB" }); // a disk in a memfs file
SimpleFs.mkfs({ device, scheduler: machine.scheduler, machine });
vfs.mount("/", "simple", { device });

const fs = createNodeFs(vfs); // Node's fs API over the VFS
fs.writeFileSync("/hello.txt", "Hello, Folio!\n");
process.stdout.write(fs.readFileSync("/hello.txt", "utf8"));
const { Cached, Dirty } = machine.meminfo();
console.log(`page cache: ${Cached} kB, dirty: ${Dirty} kB`);
vfs.umount("/"); // writes everything back
console.log(`unmounted: ${machine.meminfo().Cached} kB cached, ${device.stats.writes} writes to ${device.name}`);
// #endregion mount
