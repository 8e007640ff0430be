/**
 * Tutorial step 5 (docs/TUTORIAL.md): flatfs on a disk that loses power. What fsync made durable
 * survives the crash and a remount on a new machine; what was only in the page cache, or written
 * without a sync after it, does not.
 */
import { Machine, SECOND } from "@folio/core";
import { FaultyDevice, MemfsStore, SimDevice } from "@folio/pagecache";
import { Vfs, createNodeFs } from "@folio/vfs";
import { FlatFs } from "./flatfs.js"; // registers the "flat" filesystem type

// #region crash
const store = new MemfsStore({ size: "8MiB" }); // the disk's contents: they outlive machines
let machine = Machine.boot({ memory: "32MiB", seed: 1 });
let vfs = new Vfs(machine);
const disk = new FaultyDevice(new SimDevice(store, machine.scheduler)); // a disk that can lose power
FlatFs.mkfs({ device: disk, scheduler: machine.scheduler, machine });
vfs.mount("/", "flat", { device: disk });
let fs = createNodeFs(vfs);

fs.writeFileSync("/kept.txt", "written, then fsync'd\n");
const fd = fs.openSync("/kept.txt", "r+");
fs.fsyncSync(fd); // its data, then the table, then a device flush
fs.closeSync(fd);
fs.appendFileSync("/kept.txt", "appended, never synced\n");
fs.writeFileSync("/lost.txt", "created, never synced\n");
machine.scheduler.runFor(35 * SECOND); // the flusher writes the new data, not the table
const { reverted } = disk.crash(); // power fails: every write since the last flush is undone
console.log(`crash: ${reverted.length} blocks written since the last flush are lost`);

// A new machine (the old one died with the power) and the same disk.
machine = Machine.boot({ memory: "32MiB", seed: 2 });
vfs = new Vfs(machine);
vfs.mount("/", "flat", { device: new SimDevice(store, machine.scheduler) });
fs = createNodeFs(vfs);
console.log(`after remount: ${fs.readdirSync("/").join(", ")}`);
process.stdout.write(`kept.txt: ${fs.readFileSync("/kept.txt", "utf8")}`);
try {
  fs.readFileSync("/lost.txt");
} catch (e) {
  console.log(`lost.txt: ${(e as NodeJS.ErrnoException).code}`);
}
vfs.umount("/");
// #endregion crash
