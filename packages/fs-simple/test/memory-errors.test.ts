/**
 * Memory errors in fs-simple's metadata: a dirty block of the block-device mapping (bitmaps, inode
 * table, indirect blocks) or of a directory, whose frame is hard-offlined, is gone — its newest
 * contents never reached the disk. fs-simple must never read the older copy back in its place:
 * what needs the block fails with EIO, every durability call that would have to write it fails
 * with EIO (every time, not once), and the image is left marked not clean.
 */
import test from "ava";
import { MemdescType } from "@folio/core";
import { O_RDWR } from "@folio/fs-api";
import { format } from "../src/index.js";
import { fresh, fsck, fsyncIno, mount, pattern, readFile, rig, writeFile, type Rig } from "./helpers.js";

/** The frame holding page `index` of the mapping of inode `ino` (0: the block device), or -1. */
function frameOf(r: Rig, ino: number, index: number): number {
  const m = r.machine;
  for (let pfn = 1; pfn < m.frames; pfn++) {
    if (m.memmap.type[pfn] !== MemdescType.Folio) continue;
    const folio = m.folios.fromPfn(pfn);
    const mapping = r.cache.mappingOf(folio);
    if (mapping?.host.ino === ino && m.folios.index(folio) + (pfn - m.folios.pfn(folio)) === index) return pfn;
  }
  return -1;
}

/** Hard-offlines the frame of a dirty page; asserts the loss was recorded. */
function lose(t: import("ava").ExecutionContext, r: Rig, ino: number, index: number): void {
  const pfn = frameOf(r, ino, index);
  t.true(pfn > 0, `page ${index} of inode ${ino} is cached`);
  const res = r.machine.memoryFailure.hardOffline(pfn);
  t.true(res.dataLost, res.detail);
}

test("a lost inode-bitmap block: allocating an inode fails with EIO instead of reading the old bitmap back (no inode handed out twice)", (t) => {
  const r = fresh();
  const fs = r.fs;
  const a = fs.create(fs.rootIno, "a", 0o644);
  fs.sync();
  const sb = format.decodeSuper(imageOf(r), 0, "image");
  const c = fs.create(fs.rootIno, "c", 0o644); // its bit: the inode bitmap block is dirty
  lose(t, r, 0, sb.inodeBitmapStart);
  t.throws(() => fs.create(fs.rootIno, "d", 0o644), { code: "EIO" }, "the bitmap's newest contents are gone");
  t.not(c, a);
  t.throws(() => fsyncIno(fs, a), { code: "EIO" }, "fsync cannot make the bitmaps durable");
  t.throws(() => fsyncIno(fs, a), { code: "EIO" }, "and fails every time, not once");
  t.throws(() => fs.sync(), { code: "EIO" });
  t.throws(() => fs.sync(), { code: "EIO" });
  t.true(fs.errors.some((e) => /lost to a memory error/.test(e)), "recorded: the image is left not clean");
  t.throws(() => fs.unmount(), { code: "EIO" });
  fsck(r, true);
  t.deepEqual(fsck(r).problems, [], "fsck repairs what the lost block left");
});

test("a lost directory block: looking names up in it and listing it fail with EIO; its fsync fails every time", (t) => {
  const r = fresh();
  const fs = r.fs;
  const d = fs.mkdir(fs.rootIno, "d", 0o755);
  fs.sync();
  fs.create(d, "x", 0o644); // the directory's block 0 is dirty
  lose(t, r, d, 0);
  t.throws(() => fs.lookup(d, "x"), { code: "EIO" });
  t.throws(() => fs.readdir(d), { code: "EIO" });
  t.throws(() => fs.create(d, "y", 0o644), { code: "EIO" });
  t.throws(() => fsyncIno(fs, d), { code: "EIO" });
  t.throws(() => fsyncIno(fs, d), { code: "EIO" }, "every time");
  t.throws(() => fs.sync(), { code: "EIO" });
});

test("a lost indirect block: fsync of its file fails every time (its block map on the disk is older than the file)", (t) => {
  // The harness's --fs simple --seed 98 --ops 1053 --faults memory --max-order 9: fsync reported
  // the loss once, then succeeded, and after a power cut the file's pages past its 12 direct blocks
  // read as holes.
  const r = fresh();
  const fs = r.fs;
  const ino = writeFile(fs, fs.rootIno, "f", pattern(20 * 4096, 1));
  fsyncIno(fs, ino);
  writeFile(fs, fs.rootIno, "f", pattern(4096, 2), 30 * 4096); // maps page 30: the indirect block is dirty
  const ind = inodeOf(r, ino).ptrs[format.NDIR]!;
  t.true(ind > 0);
  lose(t, r, 0, ind);
  const h = fs.open(ino, O_RDWR);
  try {
    t.throws(() => fs.fsync(h, false), { code: "EIO" });
    t.throws(() => fs.fsync(h, false), { code: "EIO" }, "every time, not once");
  } finally {
    fs.release(h);
  }
  t.throws(() => readFile(fs, ino), { code: "EIO" }, "pages mapped through it cannot be found");
});

test("a lost indirect block: a truncate that must read it fails with EIO and changes nothing; after unmount, fsck repairs the image", (t) => {
  const r = fresh();
  const fs = r.fs;
  const ino = writeFile(fs, fs.rootIno, "f", pattern(20 * 4096, 1));
  fs.sync();
  writeFile(fs, fs.rootIno, "f", pattern(4096, 2), 30 * 4096);
  const ind = inodeOf(r, ino).ptrs[format.NDIR]!;
  lose(t, r, 0, ind);
  // Freeing the blocks it maps needs its pointers: the older ones on the disk might name blocks
  // that are someone else's by now.
  t.throws(() => fs.setattr(ino, { size: 13 * 4096 }), { code: "EIO" });
  t.throws(() => fs.setattr(ino, { size: 5 * 4096 }), { code: "EIO" });
  t.is(fs.getattr(ino).size, 31 * 4096, "the size did not change");
  t.deepEqual(readFile(fs, ino, 12 * 4096), pattern(12 * 4096, 1), "the direct blocks still read");
  t.throws(() => fs.unmount(), { code: "EIO" });
  t.true(fsck(r, true).problems.length > 0);
  t.deepEqual(fsck(r).problems, []);
  const fs2 = mount(rig(r.store));
  t.deepEqual(readFile(fs2, fs2.lookup(fs2.rootIno, "f"), 12 * 4096), pattern(12 * 4096, 1));
  fs2.unmount();
});

function imageOf(r: Rig): Uint8Array {
  const img = new Uint8Array(r.store.size);
  r.store.read(img, 0);
  return img;
}

/** The inode as the disk holds it (made durable by the caller). */
function inodeOf(r: Rig, ino: number): format.RawInode {
  const img = imageOf(r);
  const sb = format.decodeSuper(img, 0, "image");
  const loc = format.inodeLocation(sb, ino);
  return format.decodeInode(img, loc.block * 4096 + loc.offset);
}
