import test from "ava";
import { isFolioError } from "@folio/core";
import { BS, eq, fresh, fsck, fsyncIno, mount, pattern, readFile, rig, writeFile } from "./helpers.js";

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return "ok";
  } catch (e) {
    return isFolioError(e) ? e.code : String(e);
  }
}

test("writing until the disk is full: ENOSPC, nothing half done, nothing acknowledged lost", (t) => {
  const { fs, store, ...r } = fresh(512, { mkfs: { inodes: 64 } });
  const root = fs.rootIno;
  const keep = pattern(40 * BS, 1);
  const kept = writeFile(fs, root, "keep", keep);
  fsyncIno(fs, kept);
  fsyncIno(fs, root);
  const ino = fs.create(root, "fill", 0o644);
  const f = fs.open(ino, 2);
  const chunk = pattern(64 * 1024 + 100, 2);
  let written = 0;
  let error = "";
  for (let i = 0; i < 1000 && !error; i++) {
    try {
      const n = fs.write(f, written, chunk, 0, chunk.length);
      written += n;
      if (n < chunk.length) {
        // A short write: the next one fails.
        const again = codeOf(() => fs.write(f, written, chunk, 0, chunk.length));
        error = again;
      }
    } catch (e) {
      error = isFolioError(e) ? e.code : String(e);
    }
  }
  t.is(error, "ENOSPC");
  t.is(fs.statfs().bfree, 0);
  t.is(fs.getattr(ino).size, written);
  // A failed write allocated nothing and left the size alone.
  t.is(codeOf(() => fs.write(f, written, new Uint8Array(1), 0, 1)), "ENOSPC");
  t.is(fs.getattr(ino).size, written);
  // Overwriting allocated blocks still works when the disk is full.
  t.is(fs.write(f, 0, pattern(BS, 3), 0, BS), BS);
  fs.fsync(f, false);
  fs.release(f);
  // Namespace operations that need a block fail and leave the directory as it was.
  const before = fs.readdir(root);
  const nlink = fs.getattr(root).nlink;
  t.is(codeOf(() => fs.mkdir(root, "dir", 0o755)), "ENOSPC");
  t.is(codeOf(() => fs.symlink(root, "long", "x".repeat(1000))), "ENOSPC");
  t.deepEqual(fs.readdir(root), before);
  t.is(fs.getattr(root).nlink, nlink);
  t.is(fs.statfs().bfree, 0);
  const ffree = fs.statfs().ffree;
  // A short symlink needs no block (inline), and the root block has room.
  fs.symlink(root, "short", "keep");
  t.is(fs.statfs().ffree, ffree - 1);
  fs.unmount();
  t.deepEqual(fsck({ ...r, store, fs } as never).problems, []);
  const fs2 = mount(rig(store));
  t.true(eq(readFile(fs2, kept), keep));
  const data = readFile(fs2, ino);
  t.is(data.length, written);
  t.true(eq(data.subarray(0, BS), pattern(BS, 3)));
  for (let off = BS; off < written; off += chunk.length) {
    const start = off - (off % chunk.length);
    if (start === 0) continue;
    t.true(eq(data.subarray(start, Math.min(written, start + chunk.length)), chunk.subarray(0, Math.min(written, start + chunk.length) - start)));
  }
  // Freeing space makes room again.
  const free0 = fs2.statfs().bfree;
  fs2.unlink(root, "fill");
  fs2.evictInode(ino);
  t.true(fs2.statfs().bfree > free0);
  fs2.mkdir(root, "dir", 0o755);
  fs2.unmount();
});

test("running out of inodes: ENOSPC from create, the directory as it was", (t) => {
  const { fs, store, ...r } = fresh(256, { mkfs: { inodes: 16 } });
  const root = fs.rootIno;
  const made: string[] = [];
  let error = "";
  for (let i = 0; i < 100 && !error; i++) {
    error = codeOf(() => fs.create(root, `f${i}`, 0o644));
    if (error === "ok") {
      made.push(`f${i}`);
      error = "";
    }
  }
  t.is(error, "ENOSPC");
  t.is(made.length, 14); // 16 slots: inode 0 reserved, 1 is the root
  t.is(fs.statfs().ffree, 0);
  t.deepEqual(fs.readdir(root).map((e) => e.name).sort(), made.slice().sort());
  t.is(codeOf(() => fs.mkdir(root, "d", 0o755)), "ENOSPC");
  t.is(codeOf(() => fs.symlink(root, "s", "t")), "ENOSPC");
  fs.unmount();
  t.deepEqual(fsck({ ...r, store, fs } as never).problems, []);
});

test("a directory that needs a new block on a full disk: ENOSPC, no inode leaked", (t) => {
  const { fs, store, ...r } = fresh(128, { mkfs: { inodes: 512 } });
  const root = fs.rootIno;
  // Fill the root's only block with entries.
  let i = 0;
  while (fs.getattr(root).size === BS) fs.create(root, `name-${"x".repeat(40)}-${i++}`, 0o644);
  const last = fs.readdir(root).length;
  // Now fill the disk.
  const f = fs.open(fs.create(root, "big", 0o644), 2);
  let pos = 0;
  try {
    for (;;) pos += fs.write(f, pos, pattern(BS * 8, 1), 0, BS * 8);
  } catch (e) {
    t.true(isFolioError(e, "ENOSPC"));
  }
  fs.release(f);
  t.is(fs.statfs().bfree, 0);
  // Fill the root's second block too.
  let j = 0;
  let err = "ok";
  while (err === "ok") err = codeOf(() => fs.create(root, `more-${"y".repeat(40)}-${j++}`, 0o644));
  t.is(err, "ENOSPC");
  const ffree = fs.statfs().ffree;
  const entries = fs.readdir(root).length;
  t.true(entries > last);
  t.is(codeOf(() => fs.create(root, "one-more-that-needs-a-new-block-" + "z".repeat(60), 0o644)), "ENOSPC");
  t.is(fs.statfs().ffree, ffree);
  t.is(fs.readdir(root).length, entries);
  fs.unmount();
  t.deepEqual(fsck({ ...r, store, fs } as never).problems, []);
});
