import test from "ava";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStore } from "@folio/pagecache";
import { RENAME_EXCHANGE } from "@folio/fs-api";
import type { SimpleFs } from "../src/index.js";
import { BS, eq, fresh, fsck, memStore, mkfs, mount, pattern, readFile, rig, snapshot, writeFile } from "./helpers.js";

/** A workload touching every kind of metadata: directories, indirect blocks, symlinks, links, renames, truncates. */
function workload(fs: SimpleFs): void {
  const root = fs.rootIno;
  const docs = fs.mkdir(root, "docs", 0o755);
  const src = fs.mkdir(docs, "src", 0o750);
  writeFile(fs, root, "small", pattern(100, 1));
  writeFile(fs, docs, "medium", pattern(40 * BS + 7, 2)); // indirect block
  writeFile(fs, src, "large", pattern(1100 * BS, 3)); // double-indirect block
  const sparse = fs.create(root, "sparse", 0o600);
  writeFile(fs, root, "sparse", pattern(BS, 4), 3000 * BS);
  fs.symlink(root, "short-link", "docs/medium");
  fs.symlink(docs, "long-link", "../".repeat(100) + "target");
  fs.link(sparse, src, "sparse-link");
  for (let i = 0; i < 50; i++) writeFile(fs, src, `f${i}`, pattern(i * 97, i));
  for (let i = 0; i < 50; i += 3) {
    const ino = fs.lookup(src, `f${i}`);
    fs.unlink(src, `f${i}`);
    fs.evictInode(ino); // what the VFS does when it drops the inode
  }
  fs.rename(src, "f1", docs, "renamed", 0);
  fs.rename(root, "small", docs, "renamed", RENAME_EXCHANGE);
  fs.setattr(fs.lookup(src, "large"), { size: 500 * BS + 33 });
  fs.setattr(fs.lookup(src, "f2"), { mode: 0o400, uid: 7, gid: 8 });
  fs.mkdir(src, "empty", 0o700);
}

test("unmount writes everything; mounting again reads back an identical tree", (t) => {
  const store = memStore(8192);
  const r = rig(store);
  mkfs(r);
  const fs = mount(r);
  workload(fs);
  snapshot(fs); // reading updates atimes once (relatime)
  const before = snapshot(fs);
  const stat = fs.statfs();
  fs.unmount();
  t.deepEqual(fsck(r).problems, []);
  // Reboot: a new machine on the same image.
  const r2 = rig(store, { seed: 2 });
  const fs2 = mount(r2);
  t.false(fs2.notCleanAtMount);
  t.deepEqual(snapshot(fs2), before);
  t.deepEqual(fs2.statfs(), stat);
  fs2.unmount();
  t.deepEqual(fsck(r2).problems, []);
});

test("sync makes everything durable without unmounting; a second mount sees it", (t) => {
  const { fs, store } = fresh(4096);
  workload(fs);
  snapshot(fs);
  const before = snapshot(fs);
  fs.sync();
  // Another machine reads the image as it is on disk now (the first one is left mounted).
  const r2 = rig(store, { seed: 3 });
  t.deepEqual(fsck(r2).problems.map((p) => p.what), ["the filesystem was not cleanly unmounted"]);
  const fs2 = mount(r2, { readOnly: true });
  t.true(fs2.notCleanAtMount);
  t.deepEqual(snapshot(fs2), before);
  fs2.unmount();
  fs.unmount();
});

test("large folios: the same data through order-2 folios", (t) => {
  const store = memStore(4096);
  const r = rig(store);
  mkfs(r);
  const fs = mount(r, { maxOrder: 2 });
  const data = pattern(300 * BS + 5, 11);
  const ino = writeFile(fs, fs.rootIno, "big", data);
  writeFile(fs, fs.rootIno, "big", pattern(3 * BS, 12), 10 * BS + 100);
  writeFile(fs, fs.rootIno, "holey", pattern(10, 13), 50 * BS + 3);
  const want = data.slice();
  want.set(pattern(3 * BS, 12), 10 * BS + 100);
  t.true(eq(readFile(fs, ino), want));
  fs.setattr(ino, { size: 7 * BS + 9 });
  fs.unmount();
  t.deepEqual(fsck(r).problems, []);
  const fs2 = mount(rig(store));
  t.true(eq(readFile(fs2, ino), want.subarray(0, 7 * BS + 9)));
  const holey = readFile(fs2, fs2.lookup(fs2.rootIno, "holey"));
  t.is(holey.length, 50 * BS + 13);
  t.true(holey.subarray(0, 50 * BS + 3).every((b) => b === 0));
  fs2.unmount();
});

test("runs on a disk image file (FileStore) and reads it back after reopening", (t) => {
  const dir = mkdtempSync(join(tmpdir(), "fs-simple-"));
  const path = join(dir, "disk.img");
  try {
    const store = FileStore.create(path, 4096 * BS);
    const r = rig(store);
    mkfs(r);
    const fs = mount(r);
    workload(fs);
    snapshot(fs);
    const before = snapshot(fs);
    fs.unmount();
    store.close();
    const reopened = FileStore.open(path);
    const r2 = rig(reopened);
    t.deepEqual(fsck(r2).problems, []);
    const fs2 = mount(r2);
    t.deepEqual(snapshot(fs2), before);
    fs2.unmount();
    reopened.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the flusher writes dirty data and metadata back in the background", (t) => {
  const { fs, machine, sim } = fresh(2048);
  const ino = writeFile(fs, fs.rootIno, "f", pattern(64 * BS, 5));
  const writes = sim.stats.writes;
  machine.scheduler.runFor(60e9);
  t.true(sim.stats.writes > writes);
  t.is(fs.writebackInodes({ sync: false, start: 0, end: 0xffffffff, nrToWrite: Infinity, reason: "test" }), 0);
  t.true(eq(readFile(fs, ino), pattern(64 * BS, 5)));
  fs.unmount();
});
