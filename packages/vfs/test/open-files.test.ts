import test from "ava";
import { Machine } from "@folio/core";
import { O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } from "@folio/fs-api";
import { SEEK_CUR, SEEK_END, Vfs, createNodeFs } from "../src/index.js";
import { boot, throwsCode } from "./helpers.js";

test("descriptors start at 3 and the lowest free one is reused", (t) => {
  const { fs, vfs } = boot();
  fs.writeFileSync("/f", "x");
  const a = fs.openSync("/f", "r");
  const b = fs.openSync("/f", "r");
  const c = fs.openSync("/f", "r");
  t.deepEqual([a, b, c], [3, 4, 5]);
  fs.closeSync(b);
  t.is(fs.openSync("/f", "r"), 4);
  t.deepEqual(vfs.openDescriptors(), [3, 4, 5]);
  for (const fd of [3, 4, 5]) fs.closeSync(fd);
  throwsCode(t, () => fs.closeSync(3), "EBADF", { syscall: "close", message: "EBADF: bad file descriptor, close" });
  throwsCode(t, () => fs.readSync(3, Buffer.alloc(1)), "EBADF", { syscall: "read" });
  throwsCode(t, () => fs.fstatSync(99), "EBADF", { syscall: "fstat" });
  const bad = t.throws(() => fs.closeSync(-1)) as Error & { code: string };
  t.is(bad.code, "ERR_OUT_OF_RANGE");
});

test("EMFILE past the descriptor limit", (t) => {
  const machine = Machine.boot({ memory: "16MiB" });
  const vfs = new Vfs(machine, { maxFds: 4 });
  vfs.mount("/", "ramfs");
  const fs = createNodeFs(vfs);
  fs.writeFileSync("/f", "");
  for (let i = 0; i < 4; i++) fs.openSync("/f", "r");
  throwsCode(t, () => fs.openSync("/f", "r"), "EMFILE", { syscall: "open" });
  throwsCode(t, () => fs.openSync("/new", "w"), "EMFILE");
  t.false(fs.existsSync("/new"), "EMFILE creates nothing");
});

test("each open file description has its own position; pread and pwrite leave it alone", (t) => {
  const { fs, vfs } = boot();
  fs.writeFileSync("/f", "0123456789");
  const a = fs.openSync("/f", "r+");
  const b = fs.openSync("/f", "r");
  const buf = Buffer.alloc(4);
  t.is(fs.readSync(a, buf, 0, 4, null), 4);
  t.is(buf.toString(), "0123");
  t.is(fs.readSync(b, buf, 0, 2, null), 2);
  t.is(buf.subarray(0, 2).toString(), "01");
  t.is(fs.readSync(a, buf, 0, 4, 8), 2, "pread at 8 returns the last two bytes");
  t.is(fs.readSync(a, buf, 0, 4, null), 4, "and did not move the position");
  t.is(buf.toString(), "4567");
  t.is(fs.writeSync(a, "AB", 0), 2, "pwrite");
  t.is(vfs.lseek(a, 0, SEEK_CUR), 8);
  t.is(fs.writeSync(a, "XY"), 2);
  t.is(fs.readFileSync("/f", "utf8"), "AB234567XY");
  t.is(vfs.lseek(a, -3, SEEK_END), 7);
  t.is(fs.readSync(a, buf, { length: 3 }), 3);
  t.is(buf.subarray(0, 3).toString(), "7XY");
  t.is(fs.readSync(a, buf, 0, 4, null), 0, "0 at end of file");
  throwsCode(t, () => vfs.lseek(a, -100, SEEK_CUR), "EINVAL", { syscall: "lseek" });
  fs.closeSync(a);
  fs.closeSync(b);
});

test("access modes: EBADF reading a write-only descriptor and writing a read-only one", (t) => {
  const { fs, vfs } = boot();
  fs.writeFileSync("/f", "data");
  const ro = vfs.open("/f", O_RDONLY);
  const wo = vfs.open("/f", O_WRONLY);
  const rw = vfs.open("/f", O_RDWR);
  throwsCode(t, () => fs.writeSync(ro, "x"), "EBADF", { syscall: "write", message: "EBADF: bad file descriptor, write" });
  throwsCode(t, () => fs.readSync(wo, Buffer.alloc(2)), "EBADF", { syscall: "read" });
  throwsCode(t, () => fs.ftruncateSync(ro, 0), "EINVAL", { syscall: "ftruncate" });
  t.is(fs.writeSync(wo, "D"), 1);
  const buf = Buffer.alloc(4);
  t.is(fs.readSync(rw, buf), 4);
  t.is(buf.toString(), "Data");
  throwsCode(t, () => vfs.open("/f", 3), "EINVAL", { syscall: "open" });
  for (const fd of [ro, wo, rw]) fs.closeSync(fd);
});

test("O_CREAT, O_EXCL and O_TRUNC", (t) => {
  const { fs, vfs } = boot();
  throwsCode(t, () => vfs.open("/f", O_RDONLY), "ENOENT", { syscall: "open", path: "/f", message: "ENOENT: no such file or directory, open '/f'" });
  const fd = vfs.open("/f", O_WRONLY | O_CREAT, 0o640);
  t.is(fs.fstatSync(fd).mode, 0o100640);
  fs.writeSync(fd, "hello");
  fs.closeSync(fd);
  throwsCode(t, () => vfs.open("/f", O_WRONLY | O_CREAT | O_EXCL), "EEXIST", { message: "EEXIST: file already exists, open '/f'" });
  fs.closeSync(vfs.open("/f", O_WRONLY | O_CREAT));
  t.is(fs.readFileSync("/f", "utf8"), "hello", "O_CREAT alone keeps an existing file");
  const mtime = fs.statSync("/f").mtimeMs;
  fs.closeSync(vfs.open("/f", O_RDWR | O_TRUNC));
  t.is(fs.statSync("/f").size, 0);
  t.true(fs.statSync("/f").mtimeMs >= mtime);
  throwsCode(t, () => vfs.open("/", O_RDONLY | O_CREAT), "EISDIR");
  fs.mkdirSync("/d");
  throwsCode(t, () => vfs.open("/d", O_WRONLY | O_CREAT), "EISDIR");
  throwsCode(t, () => vfs.open("/d", O_CREAT | O_EXCL), "EEXIST");
  throwsCode(t, () => vfs.open("/d/.", O_CREAT | O_EXCL), "EEXIST");
  throwsCode(t, () => vfs.open("/d/.", O_CREAT), "EISDIR");
  throwsCode(t, () => vfs.open("/d", O_RDONLY | O_TRUNC), "EISDIR");
  throwsCode(t, () => vfs.open("/nodir/f", O_WRONLY | O_CREAT), "ENOENT");
});

test("O_APPEND writes at the end, even with a position, and leaves the position past the data", (t) => {
  const { fs, vfs } = boot();
  fs.writeFileSync("/log", "abc");
  const fd = vfs.open("/log", O_RDWR | O_APPEND);
  t.is(fs.writeSync(fd, "d"), 1);
  t.is(fs.writeSync(fd, "e", 0), 1, "a positional write on an O_APPEND file appends, as on Linux");
  t.is(fs.readFileSync("/log", "utf8"), "abcde");
  t.is(vfs.lseek(fd, 0, SEEK_CUR), 4, "the positional write did not move the position");
  fs.closeSync(fd);
  fs.appendFileSync("/log", "f");
  t.is(fs.readFileSync("/log", "utf8"), "abcdef");
});

test("O_DIRECTORY and O_NOFOLLOW", (t) => {
  const { fs, vfs } = boot();
  fs.writeFileSync("/f", "x");
  fs.mkdirSync("/d");
  fs.symlinkSync("f", "/lf");
  fs.symlinkSync("d", "/ld");
  throwsCode(t, () => vfs.open("/f", O_RDONLY | O_DIRECTORY), "ENOTDIR", { syscall: "open" });
  const dfd = vfs.open("/ld", O_RDONLY | O_DIRECTORY);
  t.true(fs.fstatSync(dfd).isDirectory());
  throwsCode(t, () => fs.readSync(dfd, Buffer.alloc(1)), "EISDIR", { syscall: "read", message: "EISDIR: illegal operation on a directory, read" });
  fs.fsyncSync(dfd);
  fs.closeSync(dfd);
  throwsCode(t, () => vfs.open("/lf", O_RDONLY | O_NOFOLLOW), "ELOOP", { message: "ELOOP: too many symbolic links encountered, open '/lf'" });
  throwsCode(t, () => vfs.open("/lf", O_WRONLY | O_CREAT | O_NOFOLLOW), "ELOOP");
  fs.closeSync(vfs.open("/d/../f", O_RDONLY | O_NOFOLLOW));
  throwsCode(t, () => fs.openSync("/d", "w"), "EISDIR");
  throwsCode(t, () => fs.openSync("/d", "r+"), "EISDIR");
});

test("O_CREAT through a dangling symlink creates its target; O_EXCL refuses the symlink itself", (t) => {
  const { fs, vfs } = boot();
  fs.symlinkSync("target", "/link");
  throwsCode(t, () => vfs.open("/link", O_WRONLY | O_CREAT | O_EXCL), "EEXIST");
  t.false(fs.existsSync("/target"));
  fs.writeFileSync("/link", "through the link");
  t.is(fs.readFileSync("/target", "utf8"), "through the link");
  t.true(fs.lstatSync("/link").isSymbolicLink());
});

test("an unlinked file stays readable and writable while open; the last close evicts its inode", (t) => {
  const { fs, vfs, machine } = boot();
  const sb = vfs.superBlockOf("/");
  const evicted: number[] = [];
  const evict = sb.evictInode.bind(sb);
  sb.evictInode = (ino: number) => {
    evicted.push(ino);
    evict(ino);
  };
  const data = Buffer.alloc(3 * 4096 + 5, 7);
  fs.writeFileSync("/tmpfile", data);
  const ino = fs.statSync("/tmpfile").ino;
  const cachedBefore = machine.meminfo().Cached;
  const files = fs.statfsSync("/").files;
  const a = fs.openSync("/tmpfile", "r+");
  const b = fs.openSync("/tmpfile", "r");
  fs.unlinkSync("/tmpfile");
  t.false(fs.existsSync("/tmpfile"));
  t.is(fs.fstatSync(a).nlink, 0);
  t.deepEqual(evicted, [], "not evicted while open");
  t.is(fs.writeSync(a, "new", 0), 3);
  const back = Buffer.alloc(data.length);
  t.is(fs.readSync(b, back, 0, back.length, 0), data.length);
  t.is(back.subarray(0, 3).toString(), "new");
  t.true(back.subarray(3).equals(data.subarray(3)));
  fs.closeSync(a);
  t.deepEqual(evicted, [], "one descriptor is still open");
  fs.closeSync(b);
  t.deepEqual(evicted, [ino], "the last close evicts");
  t.is(fs.statfsSync("/").files, files - 1, "ramfs dropped the inode");
  t.is(machine.meminfo().Cached, cachedBefore - 16, "and its four cached pages");
  // Unlinking a file nobody has open evicts at once; a file with another link is not evicted.
  fs.writeFileSync("/x", "x");
  fs.linkSync("/x", "/y");
  fs.unlinkSync("/x");
  t.is(evicted.length, 1);
  t.is(fs.readFileSync("/y", "utf8"), "x");
  fs.unlinkSync("/y");
  t.is(evicted.length, 2);
  // A directory removed while it is the working directory goes when the VFS lets go of it.
  fs.mkdirSync("/wd");
  vfs.chdir("/wd");
  fs.rmdirSync("/wd");
  t.is(evicted.length, 2);
  throwsCode(t, () => fs.writeFileSync("new", "x"), "ENOENT", { syscall: "open" });
  vfs.chdir("/");
  t.is(evicted.length, 3);
  t.deepEqual(machine.verify(), []);
});

test("rename over an open file keeps the old inode alive until it is closed", (t) => {
  const { fs } = boot();
  fs.writeFileSync("/old", "old data");
  fs.writeFileSync("/new", "new data");
  const fd = fs.openSync("/old", "r");
  fs.renameSync("/new", "/old");
  t.is(fs.readFileSync("/old", "utf8"), "new data");
  t.is(fs.readFileSync(fd, "utf8"), "old data");
  fs.closeSync(fd);
  t.deepEqual(fs.readdirSync("/"), ["old"]);
});

test("write extends with zeros across a hole, truncate shrinks and extends with zeros", (t) => {
  const { fs } = boot();
  const fd = fs.openSync("/sparse", "w+");
  fs.writeSync(fd, "end", 10000);
  t.is(fs.fstatSync(fd).size, 10003);
  const all = fs.readFileSync("/sparse");
  t.true(all.subarray(0, 10000).equals(Buffer.alloc(10000)));
  t.is(all.subarray(10000).toString(), "end");
  fs.ftruncateSync(fd, 10001);
  fs.ftruncateSync(fd, 20000);
  const again = fs.readFileSync("/sparse");
  t.is(again.length, 20000);
  t.is(again[10000], "e".charCodeAt(0));
  t.true(again.subarray(10001).equals(Buffer.alloc(9999)), "bytes past a truncation read back as zeros");
  fs.closeSync(fd);
});
