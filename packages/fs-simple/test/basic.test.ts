import test from "ava";
import { isFolioError } from "@folio/core";
import { FileType, RENAME_EXCHANGE, RENAME_NOREPLACE, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, filesystemType } from "@folio/fs-api";
import { SimpleFs } from "../src/index.js";
import { BS, eq, fresh, fsck, pattern, readFile, writeFile } from "./helpers.js";

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return isFolioError(e) ? e.code : String(e);
  }
  return "ok";
};

test("the class registers as filesystem type simple", (t) => {
  t.is(filesystemType("simple"), SimpleFs);
});

test("create, write, read and overwrite round trip", (t) => {
  const { fs } = fresh();
  const root = fs.rootIno;
  t.deepEqual(fs.readdir(root), []);
  const data = pattern(3 * BS + 123, 1);
  const ino = writeFile(fs, root, "a.txt", data);
  t.is(fs.lookup(root, "a.txt"), ino);
  t.true(eq(readFile(fs, ino), data));
  const a = fs.getattr(ino);
  t.is(a.size, data.length);
  t.is(a.mode, S_IFREG | 0o644);
  t.is(a.nlink, 1);
  t.is(a.blocks, 4 * 8);
  // Partial overwrite in the middle, across a block boundary.
  const patch = pattern(5000, 2);
  writeFile(fs, root, "a.txt", patch, BS - 100);
  const want = data.slice();
  want.set(patch, BS - 100);
  t.true(eq(readFile(fs, ino), want));
  t.deepEqual(fs.readdir(root), [{ name: "a.txt", ino, type: FileType.Regular }]);
  t.is(code(() => fs.create(root, "a.txt", 0o644)), "EEXIST");
  t.is(code(() => fs.lookup(root, "nope")), "ENOENT");
  fs.unmount();
});

test("mkdir, nested lookups, readdir without dot entries, rmdir", (t) => {
  const { fs } = fresh();
  const root = fs.rootIno;
  const d = fs.mkdir(root, "d", 0o755);
  t.is(fs.getattr(d).mode, S_IFDIR | 0o755);
  t.is(fs.getattr(d).nlink, 2);
  t.is(fs.getattr(root).nlink, 3);
  const e = fs.mkdir(d, "e", 0o700);
  t.is(fs.getattr(d).nlink, 3);
  const f = writeFile(fs, e, "f", pattern(10, 3));
  t.deepEqual(fs.readdir(d).map((x) => x.name), ["e"]);
  t.is(fs.lookup(e, "f"), f);
  t.is(code(() => fs.rmdir(d, "e")), "ENOTEMPTY");
  t.is(code(() => fs.rmdir(e, "f")), "ENOTDIR");
  t.is(code(() => fs.unlink(d, "e")), "EISDIR");
  fs.unlink(e, "f");
  fs.rmdir(d, "e");
  t.is(fs.getattr(d).nlink, 2);
  t.deepEqual(fs.readdir(d), []);
  t.is(code(() => fs.create(e, "x", 0o644)), "ENOENT");
  fs.rmdir(root, "d");
  t.is(fs.getattr(root).nlink, 2);
  fs.unmount();
});

test("many entries spill into more directory blocks and stay findable", (t) => {
  const r = fresh(4096);
  const fs = r.fs;
  const root = fs.rootIno;
  const d = fs.mkdir(root, "many", 0o755);
  const names: string[] = [];
  for (let i = 0; i < 600; i++) {
    const name = `file-with-a-longish-name-${i}`;
    names.push(name);
    fs.create(d, name, 0o600);
  }
  t.true(fs.getattr(d).size > BS);
  t.deepEqual(fs.readdir(d).map((e) => e.name).sort(), names.slice().sort());
  for (let i = 0; i < 600; i += 2) fs.unlink(d, names[i]!);
  t.is(fs.readdir(d).length, 300);
  for (let i = 1; i < 600; i += 2) t.truthy(fs.lookup(d, names[i]!));
  // Freed space is reused.
  const size = fs.getattr(d).size;
  for (let i = 0; i < 300; i++) fs.create(d, `n${i}`, 0o600);
  t.is(fs.getattr(d).size, size);
  fs.unmount();
  t.deepEqual(fsck(r).problems, []);
});

test("unlinked inodes live while open; evictInode frees their blocks", (t) => {
  const { fs } = fresh(256);
  const root = fs.rootIno;
  const free0 = fs.statfs().bfree;
  const ino = writeFile(fs, root, "f", pattern(20 * BS, 4));
  t.is(fs.statfs().bfree, free0 - 21); // 20 data blocks + 1 indirect
  const file = fs.open(ino, 0);
  fs.unlink(root, "f");
  t.is(fs.getattr(ino).nlink, 0);
  const buf = new Uint8Array(100);
  t.is(fs.read(file, 5 * BS, buf, 0, 100), 100);
  t.true(eq(buf, pattern(20 * BS, 4).subarray(5 * BS, 5 * BS + 100)));
  fs.evictInode(ino); // still open: nothing happens
  t.is(fs.statfs().bfree, free0 - 21);
  fs.release(file);
  fs.evictInode(ino);
  t.is(fs.statfs().bfree, free0);
  t.is(code(() => fs.getattr(ino)), "ENOENT");
  fs.unmount();
});

test("hard links share the inode; EPERM on directories", (t) => {
  const { fs } = fresh();
  const root = fs.rootIno;
  const ino = writeFile(fs, root, "a", pattern(100, 5));
  const d = fs.mkdir(root, "d", 0o755);
  fs.link(ino, d, "b");
  t.is(fs.getattr(ino).nlink, 2);
  t.is(fs.lookup(d, "b"), ino);
  t.is(code(() => fs.link(d, root, "dd")), "EPERM");
  t.is(code(() => fs.link(ino, d, "b")), "EEXIST");
  fs.unlink(root, "a");
  t.is(fs.getattr(ino).nlink, 1);
  t.true(eq(readFile(fs, ino), pattern(100, 5)));
  fs.unmount();
});

test("symlinks: inline and in a block", (t) => {
  const { fs } = fresh();
  const root = fs.rootIno;
  const short = fs.symlink(root, "s", "../target");
  const longTarget = "x/".repeat(900) + "end";
  const long = fs.symlink(root, "l", longTarget);
  t.is(fs.readlink(short), "../target");
  t.is(fs.readlink(long), longTarget);
  t.is(fs.getattr(short).mode & S_IFMT, S_IFLNK);
  t.is(fs.getattr(short).size, 9);
  t.is(fs.getattr(short).blocks, 0);
  t.is(fs.getattr(long).blocks, 8);
  t.is(code(() => fs.readlink(root)), "EINVAL");
  t.is(code(() => fs.symlink(root, "big", "y".repeat(5000))), "ENAMETOOLONG");
  t.deepEqual(fs.readdir(root).map((e) => [e.name, e.type]).sort(), [["l", FileType.Symlink], ["s", FileType.Symlink]]);
  fs.unmount();
});

test("rename: move, replace, noreplace, exchange, directory link counts", (t) => {
  const { fs } = fresh();
  const root = fs.rootIno;
  const a = writeFile(fs, root, "a", pattern(10, 1));
  const b = writeFile(fs, root, "b", pattern(10, 2));
  const d1 = fs.mkdir(root, "d1", 0o755);
  const d2 = fs.mkdir(root, "d2", 0o755);
  // Plain move within a directory.
  fs.rename(root, "a", root, "a2", 0);
  t.is(fs.lookup(root, "a2"), a);
  t.is(code(() => fs.lookup(root, "a")), "ENOENT");
  // NOREPLACE over an existing name.
  t.is(code(() => fs.rename(root, "a2", root, "b", RENAME_NOREPLACE)), "EEXIST");
  // Replace a file: the old target loses its name.
  fs.rename(root, "a2", root, "b", 0);
  t.is(fs.lookup(root, "b"), a);
  t.is(fs.getattr(b).nlink, 0);
  // Exchange a file and a directory across directories.
  fs.rename(root, "b", d1, "x", 0);
  const sub = fs.mkdir(d2, "sub", 0o755);
  t.is(fs.getattr(d2).nlink, 3);
  fs.rename(d1, "x", d2, "sub", RENAME_EXCHANGE);
  t.is(fs.lookup(d1, "x"), sub);
  t.is(fs.lookup(d2, "sub"), a);
  t.is(fs.getattr(d1).nlink, 3);
  t.is(fs.getattr(d2).nlink, 2);
  // Move a directory: ".." follows, link counts too.
  fs.rename(d1, "x", root, "moved", 0);
  t.is(fs.getattr(d1).nlink, 2);
  t.is(fs.getattr(root).nlink, 5);
  // Replace an empty directory with a directory; a non-empty one refuses.
  const e1 = fs.mkdir(root, "e1", 0o755);
  writeFile(fs, e1, "f", pattern(1, 1));
  t.is(code(() => fs.rename(root, "moved", root, "e1", 0)), "ENOTEMPTY");
  t.is(code(() => fs.rename(root, "moved", d2, "sub", 0)), "ENOTDIR");
  t.is(code(() => fs.rename(d2, "sub", root, "e1", 0)), "EISDIR");
  const empty = fs.mkdir(root, "empty", 0o755);
  fs.rename(root, "moved", root, "empty", 0);
  t.is(fs.lookup(root, "empty"), sub);
  t.is(fs.getattr(empty).nlink, 0);
  t.is(fs.getattr(root).nlink, 6); // ".", its name, and the ".." of d1, d2, e1, empty (= sub)
  // Into itself.
  const inner = fs.mkdir(sub, "inner", 0o755);
  t.is(code(() => fs.rename(root, "empty", inner, "loop", 0)), "EINVAL");
  t.is(code(() => fs.rename(root, "nope", root, "x", 0)), "ENOENT");
  t.is(code(() => fs.rename(root, "e1", root, "zz", RENAME_EXCHANGE)), "ENOENT");
  fs.unmount();
});

test("getattr/setattr: mode, ids, times, truncate and extend", (t) => {
  const { fs, machine } = fresh();
  const root = fs.rootIno;
  const ino = writeFile(fs, root, "f", pattern(3 * BS, 9));
  const before = fs.getattr(ino);
  machine.scheduler.runFor(2e9);
  fs.setattr(ino, { mode: 0o600, uid: 1000, gid: 100 });
  const a = fs.getattr(ino);
  t.is(a.mode, S_IFREG | 0o600);
  t.is(a.uid, 1000);
  t.is(a.gid, 100);
  t.true(a.ctimeNs > before.ctimeNs);
  t.is(a.mtimeNs, before.mtimeNs);
  fs.setattr(ino, { atimeNs: 1e18, mtimeNs: 2e18 });
  t.is(fs.getattr(ino).atimeNs, 1e18);
  t.is(fs.getattr(ino).mtimeNs, 2e18);
  // Shrink to a partial block, then extend: the bytes past the old end read as zeros.
  fs.setattr(ino, { size: BS + 10 });
  t.is(fs.getattr(ino).size, BS + 10);
  t.is(fs.getattr(ino).blocks, 2 * 8);
  fs.setattr(ino, { size: 3 * BS });
  const got = readFile(fs, ino);
  const want = new Uint8Array(3 * BS);
  want.set(pattern(3 * BS, 9).subarray(0, BS + 10));
  t.true(eq(got, want));
  t.is(fs.getattr(ino).blocks, 2 * 8);
  fs.setattr(ino, { size: 0 });
  t.is(fs.getattr(ino).blocks, 0);
  t.is(code(() => fs.setattr(root, { size: 0 })), "EISDIR");
  // Writes move mtime and ctime.
  const m0 = fs.getattr(ino).ctimeNs;
  machine.scheduler.runFor(1e9);
  writeFile(fs, root, "f", pattern(5, 5));
  t.true(fs.getattr(ino).mtimeNs > m0);
  fs.unmount();
});

test("statfs counts blocks and inodes", (t) => {
  const { fs } = fresh(1024, { mkfs: { inodes: 64 } });
  const s = fs.statfs();
  t.is(s.bsize, BS);
  t.is(s.files, 63);
  t.is(s.ffree, 62);
  writeFile(fs, fs.rootIno, "f", pattern(10 * BS, 1));
  t.is(fs.statfs().bfree, s.bfree - 10);
  t.is(fs.statfs().ffree, 61);
  fs.unmount();
});
