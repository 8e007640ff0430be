/** The inode operations of the contract, with POSIX semantics, called directly on the SuperBlock. */
import test from "ava";
import { isFolioError } from "@folio/core";
import { FileType, O_APPEND, O_RDWR, RENAME_EXCHANGE, RENAME_NOREPLACE, S_IFDIR, S_IFLNK, S_IFREG } from "@folio/fs-api";
import { ROOT_INO } from "../src/format.js";
import { equalBytes, fsckOf, makeRig, mountFs, pattern, readAll, writeAt } from "./helpers.js";

function code(fn: () => unknown): string {
  try {
    fn();
    return "ok";
  } catch (e) {
    if (isFolioError(e)) return e.code;
    throw e;
  }
}

function setup() {
  const r = makeRig({ blocks: 4096 });
  return { r, fs: mountFs(r) };
}

test("create, lookup, readdir, getattr; EEXIST, ENOENT, ENOTDIR, name checks", (t) => {
  const { r, fs } = setup();
  const a = fs.create(ROOT_INO, "a", 0o640);
  const d = fs.mkdir(ROOT_INO, "d", 0o750);
  t.is(fs.lookup(ROOT_INO, "a"), a);
  t.is(code(() => fs.create(ROOT_INO, "a", 0o644)), "EEXIST");
  t.is(code(() => fs.mkdir(ROOT_INO, "a", 0o755)), "EEXIST");
  t.is(code(() => fs.lookup(ROOT_INO, "zz")), "ENOENT");
  t.is(code(() => fs.lookup(a, "x")), "ENOTDIR");
  t.is(code(() => fs.create(a, "x", 0o644)), "ENOTDIR");
  t.is(code(() => fs.create(ROOT_INO, "x".repeat(256), 0o644)), "ENAMETOOLONG");
  t.is(code(() => fs.create(ROOT_INO, "é".repeat(128), 0o644)), "ENAMETOOLONG");
  t.is(code(() => fs.create(ROOT_INO, "é".repeat(127), 0o644)), "ok");
  t.is(code(() => fs.create(ROOT_INO, "a/b", 0o644)), "EINVAL");
  t.is(code(() => fs.create(ROOT_INO, "bad\uD800", 0o644)), "EINVAL");
  const attrA = fs.getattr(a);
  t.is(attrA.mode, S_IFREG | 0o640);
  t.is(attrA.nlink, 1);
  t.is(attrA.size, 0);
  const attrD = fs.getattr(d);
  t.is(attrD.mode, S_IFDIR | 0o750);
  t.is(attrD.nlink, 2);
  t.is(fs.getattr(ROOT_INO).nlink, 3);
  const names = fs.readdir(ROOT_INO).map((e) => `${e.name}:${e.type}`).sort();
  t.deepEqual(names, [`a:${FileType.Regular}`, `d:${FileType.Directory}`, `${"é".repeat(127)}:${FileType.Regular}`].sort());
  fs.unmount();
  t.true(fsckOf(r).clean);
});

test("unlink and rmdir: EISDIR, ENOTDIR, ENOTEMPTY, link counts, an open unlinked file lives on", (t) => {
  const { r, fs } = setup();
  const d = fs.mkdir(ROOT_INO, "d", 0o755);
  const e = fs.mkdir(d, "e", 0o755);
  const f = fs.create(d, "f", 0o644);
  t.is(fs.getattr(d).nlink, 3);
  t.is(code(() => fs.unlink(ROOT_INO, "d")), "EISDIR");
  t.is(code(() => fs.rmdir(d, "f")), "ENOTDIR");
  t.is(code(() => fs.rmdir(ROOT_INO, "d")), "ENOTEMPTY");
  t.is(code(() => fs.unlink(d, "nope")), "ENOENT");
  writeAt(fs, f, 0, pattern(9000, 3));
  const h = fs.open(f, O_RDWR);
  fs.unlink(d, "f");
  t.is(fs.getattr(f).nlink, 0);
  t.is(code(() => fs.lookup(d, "f")), "ENOENT");
  const buf = new Uint8Array(9000);
  t.is(fs.read(h, 0, buf, 0, 9000), 9000);
  t.true(equalBytes(buf, pattern(9000, 3)));
  t.is(fs.write(h, 9000, pattern(100, 4), 0, 100), 100);
  fs.fsync(h, false);
  fs.evictInode(f);
  t.is(fs.getattr(f).nlink, 0, "eviction waits for the last close");
  fs.release(h);
  t.is(fs.getattr(f).nlink, 0, "the inode lives until it is evicted");
  fs.evictInode(f);
  t.is(code(() => fs.getattr(f)), "ENOENT");
  fs.rmdir(d, "e");
  t.is(fs.getattr(d).nlink, 2);
  t.is(fs.getattr(e).nlink, 0);
  fs.evictInode(e);
  t.is(code(() => fs.getattr(e)), "ENOENT");
  fs.rmdir(ROOT_INO, "d");
  t.is(fs.getattr(ROOT_INO).nlink, 2);
  t.deepEqual(fs.readdir(ROOT_INO), []);
  t.deepEqual(fs.verifyAccounting(), []);
  fs.unmount();
  t.true(fsckOf(r).clean);
  const fs2 = mountFs(r);
  t.deepEqual(fs2.readdir(ROOT_INO), []);
  t.is(fs2.statfs().ffree, fs2.statfs().files - 1);
  fs2.create(ROOT_INO, "x", 0o644);
  t.is(fs2.statfs().ffree, fs2.statfs().files - 2);
  fs2.unmount();
});

test("link and symlink", (t) => {
  const { r, fs } = setup();
  const d = fs.mkdir(ROOT_INO, "d", 0o755);
  const f = fs.create(ROOT_INO, "f", 0o644);
  fs.link(f, d, "g");
  t.is(fs.getattr(f).nlink, 2);
  t.is(fs.lookup(d, "g"), f);
  t.is(code(() => fs.link(d, ROOT_INO, "dd")), "EPERM");
  t.is(code(() => fs.link(f, d, "g")), "EEXIST");
  const s = fs.symlink(d, "s", "../f");
  t.is(fs.readlink(s), "../f");
  t.is(fs.getattr(s).mode, S_IFLNK | 0o777);
  t.is(fs.getattr(s).size, 4);
  t.is(code(() => fs.readlink(f)), "EINVAL");
  t.is(code(() => fs.symlink(d, "t", "")), "ENOENT");
  const long = "x/".repeat(2047) + "y"; // 4095 bytes: the record spans two blocks
  t.is(fs.readlink(fs.symlink(d, "long", long)), long);
  t.is(code(() => fs.symlink(d, "toolong", long + "z")), "ENAMETOOLONG");
  fs.unlink(ROOT_INO, "f");
  t.is(fs.getattr(f).nlink, 1);
  fs.unmount();
  t.true(fsckOf(r).clean);
  const fs2 = mountFs(r);
  t.is(fs2.readlink(fs2.lookup(fs2.lookup(ROOT_INO, "d"), "long")), long);
  t.is(fs2.getattr(fs2.lookup(fs2.lookup(ROOT_INO, "d"), "g")).nlink, 1);
  fs2.unmount();
});

test("rename: replace, NOREPLACE, EXCHANGE, directories, errors", (t) => {
  const { r, fs } = setup();
  const a = fs.mkdir(ROOT_INO, "a", 0o755);
  const b = fs.mkdir(ROOT_INO, "b", 0o755);
  const x = fs.create(a, "x", 0o644);
  const y = fs.create(b, "y", 0o644);
  writeAt(fs, x, 0, pattern(5000, 1));
  writeAt(fs, y, 0, pattern(7000, 2));
  // Same name: nothing; NOREPLACE on itself: EEXIST.
  fs.rename(a, "x", a, "x", 0);
  t.is(code(() => fs.rename(a, "x", a, "x", RENAME_NOREPLACE)), "EEXIST");
  t.is(code(() => fs.rename(a, "x", b, "y", RENAME_NOREPLACE)), "EEXIST");
  t.is(code(() => fs.rename(a, "nope", b, "y", 0)), "ENOENT");
  t.is(code(() => fs.rename(a, "x", b, "zz", RENAME_EXCHANGE)), "ENOENT");
  t.is(code(() => fs.rename(a, "x", b, "y", RENAME_EXCHANGE | RENAME_NOREPLACE)), "EINVAL");
  // Exchange two files across directories.
  fs.rename(a, "x", b, "y", RENAME_EXCHANGE);
  t.is(fs.lookup(a, "x"), y);
  t.is(fs.lookup(b, "y"), x);
  // Replace a file: the replaced one loses its link.
  fs.rename(a, "x", b, "y", 0);
  t.is(code(() => fs.lookup(a, "x")), "ENOENT");
  t.is(fs.lookup(b, "y"), y);
  t.is(fs.getattr(x).nlink, 0);
  fs.evictInode(x);
  t.is(code(() => fs.getattr(x)), "ENOENT");
  t.true(equalBytes(readAll(fs, y), pattern(7000, 2)));
  // Directories: EISDIR / ENOTDIR / ENOTEMPTY / into itself.
  const c = fs.mkdir(a, "c", 0o755);
  fs.mkdir(c, "inner", 0o755);
  t.is(code(() => fs.rename(b, "y", a, "c", 0)), "EISDIR");
  t.is(code(() => fs.rename(a, "c", b, "y", 0)), "ENOTDIR");
  const e = fs.mkdir(b, "e", 0o755);
  t.is(code(() => fs.rename(b, "e", a, "c", 0)), "ENOTEMPTY");
  t.is(code(() => fs.rename(ROOT_INO, "a", c, "a2", 0)), "EINVAL");
  // Move a directory over an empty one: link counts and parent follow.
  t.is(fs.getattr(a).nlink, 3);
  t.is(fs.getattr(b).nlink, 3);
  fs.rename(a, "c", b, "e", 0);
  t.is(fs.lookup(b, "e"), c);
  t.is(fs.getattr(e).nlink, 0);
  fs.evictInode(e);
  t.is(code(() => fs.getattr(e)), "ENOENT");
  t.is(fs.getattr(a).nlink, 2);
  t.is(fs.getattr(b).nlink, 3);
  // Exchange a directory with a file across directories.
  fs.rename(b, "e", ROOT_INO, "a", RENAME_EXCHANGE);
  t.is(fs.lookup(ROOT_INO, "a"), c);
  t.is(fs.lookup(b, "e"), a);
  t.deepEqual(fs.verifyAccounting(), []);
  fs.unmount();
  t.deepEqual(fsckOf(r), { clean: true, problems: [] });
  const fs2 = mountFs(r);
  t.is(fs2.lookup(ROOT_INO, "a"), c);
  t.is(fs2.lookup(c, "inner") > 0, true);
  fs2.unmount();
});

test("setattr: truncate down and up, mode, owner, times; O_APPEND; EISDIR", (t) => {
  const { r, fs } = setup();
  const f = fs.create(ROOT_INO, "f", 0o644);
  writeAt(fs, f, 0, pattern(20_000, 5));
  fs.setattr(f, { size: 5000 });
  t.is(fs.getattr(f).size, 5000);
  fs.setattr(f, { size: 12_000 });
  const got = readAll(fs, f);
  t.true(equalBytes(got.subarray(0, 5000), pattern(20_000, 5).subarray(0, 5000)));
  t.true(got.subarray(5000).every((b) => b === 0), "bytes past a truncation read as zeros after growing again");
  fs.setattr(f, { mode: 0o600, uid: 42, gid: 7, atimeNs: 1e18, mtimeNs: 2e18 });
  const a = fs.getattr(f);
  t.is(a.mode, S_IFREG | 0o600);
  t.is(a.uid, 42);
  t.is(a.gid, 7);
  t.is(a.atimeNs, 1e18);
  t.is(a.mtimeNs, 2e18);
  const h = fs.open(f, O_RDWR | O_APPEND);
  fs.write(h, 0, pattern(10, 6), 0, 10);
  fs.fsync(h, false);
  fs.release(h);
  t.is(fs.getattr(f).size, 12_010);
  t.is(code(() => fs.setattr(ROOT_INO, { size: 0 })), "EISDIR");
  fs.unmount();
  t.true(fsckOf(r).clean);
  // The zeroed tail survives a remount (the partial block was rewritten, not just hidden).
  const fs2 = mountFs(r);
  const again = readAll(fs2, fs2.lookup(ROOT_INO, "f"));
  t.is(again.length, 12_010);
  t.true(again.subarray(5000, 12_000).every((b) => b === 0));
  t.is(fs2.getattr(f).uid, 42);
  fs2.unmount();
});

test("read-only mount refuses changes with EROFS; mount refuses a second mount", (t) => {
  const { r, fs } = setup();
  fs.create(ROOT_INO, "f", 0o644);
  t.is(code(() => fs.mount()), "EBUSY");
  fs.unmount();
  const ro = mountFs(r, { readOnly: true });
  t.is(code(() => ro.create(ROOT_INO, "g", 0o644)), "EROFS");
  t.is(code(() => ro.setattr(ro.lookup(ROOT_INO, "f"), { mode: 0o600 })), "EROFS");
  t.is(ro.readdir(ROOT_INO).length, 1);
  const writesBefore = r.device.stats.writes;
  ro.sync();
  ro.unmount();
  t.is(r.device.stats.writes, writesBefore, "a read-only mount writes nothing");
});

test("evictInode keeps uncommitted inodes and drops clean ones", (t) => {
  const { fs } = setup();
  const f = fs.create(ROOT_INO, "f", 0o644);
  writeAt(fs, f, 0, pattern(8192, 1));
  fs.evictInode(f);
  t.true(equalBytes(readAll(fs, f), pattern(8192, 1)), "dirty data stays");
  fs.sync();
  fs.evictInode(f);
  t.true(equalBytes(readAll(fs, f), pattern(8192, 1)), "re-read from the log");
  t.deepEqual(fs.verifyAccounting(), []);
  fs.unmount();
});
