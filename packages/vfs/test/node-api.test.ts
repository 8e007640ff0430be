import test from "ava";
import { BigIntStats, Dirent, Stats, VfsError } from "../src/index.js";
import { boot, throwsCode } from "./helpers.js";

function tree() {
  const b = boot();
  b.fs.writeFileSync("/f", "hello");
  b.fs.mkdirSync("/sub");
  return b;
}

test("errors have Node's shape: code, negative errno, syscall, path, dest, message", (t) => {
  const { fs } = tree();
  const e = throwsCode(t, () => fs.openSync("/a/b", "r"), "ENOENT") as VfsError;
  t.true(e instanceof VfsError);
  t.true(e instanceof Error);
  t.is(e.name, "Error");
  t.is(e.errno, -2);
  t.is(e.syscall, "open");
  t.is(e.path, "/a/b");
  t.is(e.message, "ENOENT: no such file or directory, open '/a/b'");
  t.truthy((e as Error & { cause?: unknown }).cause, "the filesystem's own explanation is kept as the cause");
  const r = throwsCode(t, () => fs.renameSync("/nope", "/x2"), "ENOENT") as VfsError;
  t.is(r.dest, "/x2");
  t.is(r.message, "ENOENT: no such file or directory, rename '/nope' -> '/x2'");
  t.deepEqual(Object.keys(r).sort(), ["code", "dest", "errno", "path", "syscall"].sort());
});

test("statSync, lstatSync, fstatSync: Stats like Node's; bigint; throwIfNoEntry", (t) => {
  const { fs, machine } = tree();
  const st = fs.statSync("/f");
  t.true(st instanceof Stats);
  t.deepEqual(Object.keys(st), ["dev", "mode", "nlink", "uid", "gid", "rdev", "blksize", "ino", "size", "blocks", "atimeMs", "mtimeMs", "ctimeMs", "birthtimeMs", "atime", "mtime", "ctime", "birthtime"]);
  t.true(st.isFile());
  t.false(st.isDirectory() || st.isSymbolicLink() || st.isFIFO() || st.isSocket() || st.isBlockDevice() || st.isCharacterDevice());
  t.like(st, { size: 5, nlink: 1, uid: 0, gid: 0, mode: 0o100644, blksize: 4096, blocks: 8, rdev: 0 });
  t.is(st.mtime.getTime(), Math.floor(st.mtimeMs));
  t.true(Math.abs(st.mtimeMs - machine.wallClockNs() / 1e6) < 1000, "times come from the machine's wall clock");
  t.is(st.mtime.getUTCFullYear(), 2026);
  const big = fs.statSync("/f", { bigint: true });
  t.true(big instanceof BigIntStats);
  t.is(big.size, 5n);
  t.is(typeof big.mtimeNs, "bigint");
  t.true(big.isFile());
  t.is(fs.statSync("/nope", { throwIfNoEntry: false }), undefined);
  throwsCode(t, () => fs.statSync("/f/x", { throwIfNoEntry: false }), "ENOTDIR");
  t.is(fs.lstatSync("/nope", { throwIfNoEntry: false }), undefined);
  const sub = fs.statSync("/sub");
  t.true(sub.isDirectory());
  t.is(sub.nlink, 2);
  t.is(fs.statSync("/").nlink, 3);
  const fd = fs.openSync("/f", "r");
  t.is(fs.fstatSync(fd).ino, st.ino);
  t.is(fs.fstatSync(fd, { bigint: true }).ino, BigInt(st.ino));
  fs.closeSync(fd);
  throwsCode(t, () => fs.lstatSync("/nope"), "ENOENT", { syscall: "lstat" });
});

test("readdirSync: sorted names, withFileTypes Dirents, Buffers, recursive", (t) => {
  const { fs } = tree();
  fs.writeFileSync("/sub/b", "");
  fs.mkdirSync("/sub/a/deep", { recursive: true });
  fs.symlinkSync("f", "/Z");
  t.deepEqual(fs.readdirSync("/"), ["Z", "f", "sub"]);
  const ents = fs.readdirSync("/", { withFileTypes: true });
  t.true(ents[0] instanceof Dirent);
  t.deepEqual(Object.keys(ents[0]!), ["name", "parentPath", "path"]);
  t.deepEqual(ents.map((e) => [e.name, e.parentPath, e.isFile(), e.isDirectory(), e.isSymbolicLink()]), [
    ["Z", "/", false, false, true],
    ["f", "/", true, false, false],
    ["sub", "/", false, true, false],
  ]);
  t.deepEqual(fs.readdirSync("/sub", "buffer"), [Buffer.from("a"), Buffer.from("b")]);
  t.deepEqual(fs.readdirSync("/", { recursive: true }), ["Z", "f", "sub", "sub/a", "sub/b", "sub/a/deep"]);
  t.deepEqual(fs.readdirSync("/sub", { recursive: true, withFileTypes: true }).map((e) => `${e.parentPath}:${e.name}`), ["/sub:a", "/sub:b", "/sub/a:deep"]);
  throwsCode(t, () => fs.readdirSync("/f"), "ENOTDIR", { syscall: "scandir", message: "ENOTDIR: not a directory, scandir '/f'" });
  throwsCode(t, () => fs.readdirSync("/nope"), "ENOENT", { syscall: "scandir" });
});

test("mkdirSync: mode, EEXIST, recursive returning the first directory created", (t) => {
  const { fs } = tree();
  t.is(fs.mkdirSync("/m"), undefined);
  throwsCode(t, () => fs.mkdirSync("/m"), "EEXIST", { syscall: "mkdir", message: "EEXIST: file already exists, mkdir '/m'" });
  throwsCode(t, () => fs.mkdirSync("/f"), "EEXIST");
  throwsCode(t, () => fs.mkdirSync("/m/."), "EEXIST");
  throwsCode(t, () => fs.mkdirSync("/x/y"), "ENOENT");
  t.is(fs.mkdirSync("/m/a/b/c", { recursive: true }), "/m/a");
  t.is(fs.mkdirSync("/m/a/b/c", { recursive: true }), undefined);
  t.is(fs.mkdirSync("rel/one", { recursive: true }), "rel");
  throwsCode(t, () => fs.mkdirSync("/f", { recursive: true }), "EEXIST", { path: "/f" });
  throwsCode(t, () => fs.mkdirSync("/f/a/b", { recursive: true }), "ENOTDIR", { path: "/f/a/b" });
  fs.mkdirSync("/mode", 0o700);
  t.is(fs.statSync("/mode").mode, 0o40700);
  fs.mkdirSync("/mode2", { mode: "750" });
  t.is(fs.statSync("/mode2").mode & 0o777, 0o750);
});

test("rmdirSync, unlinkSync and rmSync", (t) => {
  const { fs } = tree();
  fs.mkdirSync("/m/a", { recursive: true });
  throwsCode(t, () => fs.rmdirSync("/f"), "ENOTDIR", { syscall: "rmdir" });
  throwsCode(t, () => fs.rmdirSync("/m"), "ENOTEMPTY", { message: "ENOTEMPTY: directory not empty, rmdir '/m'" });
  throwsCode(t, () => fs.rmdirSync("/m/."), "EINVAL");
  throwsCode(t, () => fs.rmdirSync("/m/a/.."), "ENOTEMPTY");
  throwsCode(t, () => fs.rmdirSync("/"), "EBUSY", { message: "EBUSY: resource busy or locked, rmdir '/'" });
  throwsCode(t, () => fs.unlinkSync("/sub"), "EISDIR", { syscall: "unlink" });
  throwsCode(t, () => fs.unlinkSync("/sub/."), "EISDIR");
  throwsCode(t, () => fs.unlinkSync("/nope"), "ENOENT");
  const rm = t.throws(() => fs.rmSync("/m")) as Error & { code: string; errno: number; syscall: string };
  t.is(rm.code, "ERR_FS_EISDIR");
  t.is(rm.errno, 21);
  t.is(rm.name, "SystemError");
  t.is(rm.message, "Path is a directory: rm returned EISDIR (is a directory) /m");
  throwsCode(t, () => fs.rmSync("/nope"), "ENOENT", { syscall: "lstat" });
  fs.rmSync("/nope", { force: true });
  fs.symlinkSync("sub", "/linkToSub");
  fs.writeFileSync("/sub/keep", "");
  fs.rmSync("/linkToSub", { recursive: true });
  t.true(fs.existsSync("/sub/keep"), "rm does not follow symlinks");
  fs.writeFileSync("/m/a/file", "x");
  fs.rmSync("/m", { recursive: true });
  t.false(fs.existsSync("/m"));
  fs.rmSync("/f");
  t.false(fs.existsSync("/f"));
  fs.mkdirSync("/r/a", { recursive: true });
  fs.rmdirSync("/r", { recursive: true });
  t.false(fs.existsSync("/r"));
  fs.rmdirSync("/sub/", { recursive: true });
});

test("renameSync: files, directories, replacement rules, EXDEV", (t) => {
  const { fs, vfs } = tree();
  fs.mkdirSync("/sub/in");
  fs.renameSync("/f", "/g");
  t.is(fs.readFileSync("/g", "utf8"), "hello");
  fs.writeFileSync("/h", "other");
  fs.renameSync("/g", "/h");
  t.is(fs.readFileSync("/h", "utf8"), "hello");
  fs.renameSync("/h", "/h");
  fs.linkSync("/h", "/h2");
  fs.renameSync("/h", "/h2");
  t.true(fs.existsSync("/h"), "renaming onto another link of the same inode does nothing");
  throwsCode(t, () => fs.renameSync("/sub", "/sub/in/x"), "EINVAL", { message: "EINVAL: invalid argument, rename '/sub' -> '/sub/in/x'" });
  throwsCode(t, () => fs.renameSync("/sub/in", "/sub"), "ENOTEMPTY");
  throwsCode(t, () => fs.renameSync("/sub", "/h"), "ENOTDIR");
  throwsCode(t, () => fs.renameSync("/h", "/sub"), "EISDIR");
  throwsCode(t, () => fs.renameSync("/sub/in", "/sub/in/.."), "EBUSY");
  throwsCode(t, () => fs.renameSync("/", "/x"), "EBUSY");
  fs.mkdirSync("/empty");
  fs.renameSync("/sub", "/empty");
  t.true(fs.statSync("/empty/in").isDirectory());
  t.is(fs.realpathSync("/empty/in"), "/empty/in");
  t.is(fs.statSync("/").nlink, 3, "/ has one subdirectory left (plus . and ..)");
  fs.mkdirSync("/mnt");
  vfs.mount("/mnt", "ramfs");
  throwsCode(t, () => fs.renameSync("/h", "/mnt/h"), "EXDEV", { message: "EXDEV: cross-device link not permitted, rename '/h' -> '/mnt/h'" });
  throwsCode(t, () => fs.renameSync("/mnt", "/mnt2"), "EBUSY");
});

test("linkSync, symlinkSync, readlinkSync, realpathSync", (t) => {
  const { fs } = tree();
  fs.linkSync("/f", "/f2");
  t.is(fs.statSync("/f").nlink, 2);
  t.is(fs.statSync("/f2").ino, fs.statSync("/f").ino);
  throwsCode(t, () => fs.linkSync("/f", "/f2"), "EEXIST", { syscall: "link", dest: "/f2", message: "EEXIST: file already exists, link '/f' -> '/f2'" });
  throwsCode(t, () => fs.linkSync("/sub", "/sub2"), "EPERM");
  throwsCode(t, () => fs.linkSync("/nope", "/x"), "ENOENT");
  fs.symlinkSync("f", "/s");
  fs.linkSync("/s", "/s2");
  t.true(fs.lstatSync("/s2").isSymbolicLink(), "link does not follow a final symlink");
  throwsCode(t, () => fs.symlinkSync("x", "/f"), "EEXIST", { path: "x", dest: "/f", message: "EEXIST: file already exists, symlink 'x' -> '/f'" });
  throwsCode(t, () => fs.symlinkSync("", "/empty"), "ENOENT");
  t.is(fs.readlinkSync("/s"), "f");
  t.deepEqual(fs.readlinkSync("/s", "buffer"), Buffer.from("f"));
  throwsCode(t, () => fs.readlinkSync("/f"), "EINVAL", { syscall: "readlink", message: "EINVAL: invalid argument, readlink '/f'" });
  t.is(fs.realpathSync("/sub/../s"), "/f");
  t.is(fs.realpathSync.native("/s"), "/f");
  fs.symlinkSync("nowhere", "/dangling");
  throwsCode(t, () => fs.realpathSync("/dangling"), "ENOENT");
});

test("truncateSync and ftruncateSync", (t) => {
  const { fs } = tree();
  fs.truncateSync("/f", 2);
  t.is(fs.readFileSync("/f", "utf8"), "he");
  fs.truncateSync("/f");
  t.is(fs.statSync("/f").size, 0);
  fs.truncateSync("/f", -5);
  throwsCode(t, () => fs.truncateSync("/sub"), "EISDIR", { syscall: "open" });
  throwsCode(t, () => fs.truncateSync("/nope"), "ENOENT", { syscall: "open" });
  const fd = fs.openSync("/f", "r+");
  fs.ftruncateSync(fd, 3);
  t.deepEqual(fs.readFileSync("/f"), Buffer.alloc(3));
  fs.closeSync(fd);
  const dfd = fs.openSync("/sub", "r");
  throwsCode(t, () => fs.ftruncateSync(dfd, 0), "EINVAL", { message: "EINVAL: invalid argument, ftruncate" });
  fs.closeSync(dfd);
});

test("readFileSync, writeFileSync, appendFileSync: encodings, flags, modes, descriptors", (t) => {
  const { fs } = tree();
  t.deepEqual(fs.readFileSync("/f"), Buffer.from("hello"));
  t.is(fs.readFileSync("/f", "utf8"), "hello");
  t.is(fs.readFileSync("/f", { encoding: "base64" }), Buffer.from("hello").toString("base64"));
  throwsCode(t, () => fs.readFileSync("/sub"), "EISDIR", { syscall: "read", message: "EISDIR: illegal operation on a directory, read" });
  throwsCode(t, () => fs.writeFileSync("/sub", "x"), "EISDIR", { syscall: "open" });
  fs.writeFileSync("/w", "héllo", { mode: 0o600 });
  t.is(fs.statSync("/w").mode & 0o777, 0o600);
  t.is(fs.statSync("/w").size, 6);
  fs.writeFileSync("/w", Buffer.from("68656c6c6f", "hex"));
  t.is(fs.readFileSync("/w", "latin1"), "hello");
  fs.writeFileSync("/w", new Uint16Array([0x6968]));
  t.is(fs.readFileSync("/w", "latin1"), "hi");
  fs.writeFileSync("/w", "aGk=", "base64");
  t.is(fs.readFileSync("/w", "utf8"), "hi");
  throwsCode(t, () => fs.writeFileSync("/w", "x", { flag: "wx" }), "EEXIST");
  fs.writeFileSync("/w", "!", { flag: "a" });
  t.is(fs.readFileSync("/w", "utf8"), "hi!");
  fs.appendFileSync("/new", "a");
  fs.appendFileSync("/new", Buffer.from("b"));
  t.is(fs.readFileSync("/new", "utf8"), "ab");
  const fd = fs.openSync("/w", "r+");
  const buf = Buffer.alloc(1);
  fs.readSync(fd, buf);
  t.is(fs.readFileSync(fd, "utf8"), "i!", "a descriptor is read from its position");
  fs.writeFileSync(fd, "?");
  t.is(fs.readFileSync("/w", "utf8"), "hi!?");
  fs.closeSync(fd);
  const big = Buffer.alloc(300_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
  fs.writeFileSync("/big", big);
  t.true(fs.readFileSync("/big").equals(big));
  const bad = t.throws(() => fs.writeFileSync("/w", 42 as never)) as Error & { code: string };
  t.is(bad.code, "ERR_INVALID_ARG_TYPE");
  t.is((t.throws(() => fs.openSync("/f", "q")) as Error & { code: string }).code, "ERR_INVALID_ARG_VALUE");
});

test("readSync and writeSync argument forms, with Node's range errors", (t) => {
  const { fs } = tree();
  const fd = fs.openSync("/f", "r+");
  const buf = Buffer.alloc(8);
  t.is(fs.readSync(fd, buf, 2, 3, 0), 3);
  t.is(buf.subarray(2, 5).toString(), "hel");
  t.is(fs.readSync(fd, buf, { offset: 0, length: 2, position: 3n }), 2);
  t.is(buf.subarray(0, 2).toString(), "lo");
  t.is(fs.readSync(fd, new Uint8Array(2)), 2);
  t.is(fs.readSync(fd, buf, 0, 0, 0), 0);
  t.is((t.throws(() => fs.readSync(fd, buf, 0, 10, 0)) as Error & { code: string }).code, "ERR_OUT_OF_RANGE");
  t.is((t.throws(() => fs.readSync(fd, buf, -1, 1, 0)) as Error & { code: string }).code, "ERR_OUT_OF_RANGE");
  t.is(fs.writeSync(fd, Buffer.from("ABCDEF"), 1, 2, 0), 2);
  t.is(fs.writeSync(fd, Buffer.from("XYZ"), { offset: 2, position: 4 }), 1);
  t.is(fs.writeSync(fd, "é", 5, "latin1"), 1);
  t.is(fs.readFileSync("/f", "latin1"), "BCllZé");
  t.is(fs.writeSync(fd, new DataView(new ArrayBuffer(2))), 2);
  t.is((t.throws(() => fs.writeSync(fd, Buffer.alloc(2), 3)) as Error & { code: string }).code, "ERR_OUT_OF_RANGE");
  t.is((t.throws(() => fs.writeSync(fd, 5 as never)) as Error & { code: string }).code, "ERR_INVALID_ARG_TYPE");
  fs.closeSync(fd);
});

test("copyFileSync: copies data and mode, COPYFILE_EXCL, same file, directories", (t) => {
  const { fs } = tree();
  fs.chmodSync("/f", 0o640);
  fs.copyFileSync("/f", "/copy");
  t.is(fs.readFileSync("/copy", "utf8"), "hello");
  t.is(fs.statSync("/copy").mode & 0o777, 0o640);
  fs.writeFileSync("/longer", "a much longer file");
  fs.copyFileSync("/f", "/longer");
  t.is(fs.readFileSync("/longer", "utf8"), "hello", "an existing destination is truncated");
  throwsCode(t, () => fs.copyFileSync("/f", "/copy", fs.constants.COPYFILE_EXCL), "EEXIST", {
    syscall: "copyfile",
    path: "/f",
    dest: "/copy",
    message: "EEXIST: file already exists, copyfile '/f' -> '/copy'",
  });
  fs.copyFileSync("/f", "/f");
  t.is(fs.readFileSync("/f", "utf8"), "hello", "copying a file onto itself leaves it alone");
  throwsCode(t, () => fs.copyFileSync("/sub", "/c"), "EISDIR", { syscall: "copyfile" });
  throwsCode(t, () => fs.copyFileSync("/nope", "/c"), "ENOENT", { syscall: "copyfile" });
  const big = Buffer.alloc(200_000, 9);
  fs.writeFileSync("/big", big);
  fs.copyFileSync("/big", "/big2");
  t.true(fs.readFileSync("/big2").equals(big));
});

test("accessSync, existsSync, utimesSync, chmodSync, fsyncSync, fdatasyncSync, statfsSync", (t) => {
  const { fs } = tree();
  fs.accessSync("/f");
  fs.accessSync("/f", fs.constants.R_OK | fs.constants.W_OK);
  throwsCode(t, () => fs.accessSync("/nope"), "ENOENT", { syscall: "access", message: "ENOENT: no such file or directory, access '/nope'" });
  t.is((t.throws(() => fs.accessSync("/f", 8)) as Error & { code: string }).code, "ERR_OUT_OF_RANGE");
  t.true(fs.existsSync("/f"));
  t.false(fs.existsSync("/nope"));
  t.false(fs.existsSync(12 as never));
  fs.utimesSync("/f", 1000.5, new Date(2000));
  const st = fs.statSync("/f");
  t.is(st.atimeMs, 1000500);
  t.is(st.mtimeMs, 2000);
  t.is(st.atime.toISOString(), "1970-01-01T00:16:40.500Z");
  fs.utimesSync("/f", "12", "13");
  t.is(fs.statSync("/f").mtimeMs, 13000);
  throwsCode(t, () => fs.utimesSync("/nope", 1, 1), "ENOENT", { syscall: "utime" });
  fs.symlinkSync("f", "/s");
  fs.lutimesSync("/s", 5, 6);
  t.is(fs.lstatSync("/s").mtimeMs, 6000);
  t.is(fs.statSync("/s").mtimeMs, 13000);
  fs.chmodSync("/f", 0o604);
  t.is(fs.statSync("/f").mode, 0o100604);
  throwsCode(t, () => fs.chmodSync("/nope", 0o644), "ENOENT", { syscall: "chmod" });
  const fd = fs.openSync("/f", "r+");
  fs.fsyncSync(fd);
  fs.fdatasyncSync(fd);
  fs.fchmodSync(fd, 0o600);
  fs.futimesSync(fd, 1, 2);
  t.is(fs.fstatSync(fd).mtimeMs, 2000);
  fs.closeSync(fd);
  throwsCode(t, () => fs.fsyncSync(fd), "EBADF", { syscall: "fsync" });
  throwsCode(t, () => fs.fdatasyncSync(fd), "EBADF", { syscall: "fdatasync" });
  const sfs = fs.statfsSync("/");
  t.is(sfs.bsize, 4096);
  t.true(sfs.files >= 4);
});

test("times: writes update mtime and ctime, namespace changes update the directory's", (t) => {
  const { fs, machine } = tree();
  const before = fs.statSync("/f");
  machine.scheduler.runFor(2e9);
  fs.appendFileSync("/f", "!");
  const after = fs.statSync("/f");
  t.true(after.mtimeMs > before.mtimeMs);
  t.true(after.ctimeMs > before.ctimeMs);
  t.is(after.birthtimeMs, before.birthtimeMs);
  const dir = fs.statSync("/sub").mtimeMs;
  machine.scheduler.runFor(2e9);
  fs.writeFileSync("/sub/new", "");
  t.true(fs.statSync("/sub").mtimeMs > dir);
});

test("null options: the defaults wherever options are optional, ERR_INVALID_ARG_TYPE for rm and rmdir (as node:fs)", async (t) => {
  const { fs } = tree();
  fs.symlinkSync("f", "/link");
  const fd = fs.openSync("/f", "r");
  // stat, lstat and fstat read no field of null options (node:fs 20 throws a TypeError here).
  t.true(fs.statSync("/f", null).isFile());
  t.true(fs.lstatSync("/link", null).isSymbolicLink());
  t.true(fs.fstatSync(fd, null).isFile());
  t.true((await fs.promises.stat("/f", null)).isFile());
  t.true((await fs.promises.lstat("/link", null)).isSymbolicLink());
  const fh = await fs.promises.open("/f", null, null);
  t.true((await fh.stat(null)).isFile());
  t.like(await fh.read(Buffer.alloc(5), null), { bytesRead: 5 });
  await fh.close();
  // The other calls with optional options or modes, as node:fs takes null.
  t.deepEqual(fs.readdirSync("/", null), ["f", "link", "sub"]);
  t.is(fs.readFileSync("/f", null).toString(), "hello");
  t.is(fs.readlinkSync("/link", null), "f");
  t.is(fs.realpathSync("/link", null), "/f");
  fs.writeFileSync("/w", "x", null);
  fs.appendFileSync("/w", "y", null);
  t.is(fs.readFileSync("/w", "utf8"), "xy");
  t.is(fs.mkdirSync("/m", null), undefined);
  fs.copyFileSync("/f", "/copy", null);
  await fs.promises.copyFile("/f", "/copy2", null);
  t.is(fs.readFileSync("/copy2", "utf8"), "hello");
  fs.accessSync("/f", null);
  await fs.promises.access("/f", null);
  t.is(fs.readSync(fd, Buffer.alloc(5), null), 5);
  fs.closeSync(fd);
  // rm and rmdir validate options as an object: null is an argument error, and nothing is removed.
  for (const call of [() => fs.rmSync("/w", null as never), () => fs.rmdirSync("/m", null as never), () => fs.rmSync("/w", [] as never)]) {
    const e = t.throws(call) as Error & { code: string };
    t.is(e.code, "ERR_INVALID_ARG_TYPE");
    t.true(e instanceof TypeError);
  }
  t.regex((t.throws(() => fs.rmSync("/w", null as never)) as Error).message, /^The "options" argument must be of type object\. Received null$/);
  await t.throwsAsync(fs.promises.rm("/w", null as never), { code: "ERR_INVALID_ARG_TYPE" });
  t.true(fs.existsSync("/w") && fs.existsSync("/m"));
});

test("readSync and FileHandle.read: the usual call and the general forms read the same, and bad values fail as in Node", async (t) => {
  const { fs } = tree(); // "/f" holds "hello"
  const fd = fs.openSync("/f", "r");
  const fh = await fs.promises.open("/f", "r");
  const buf = Buffer.alloc(5);
  t.is(fs.readSync(fd, buf, 0, 5, 0), 5, "a range that ends at the buffer's end");
  t.is(buf.toString(), "hello");
  t.is(fs.readSync(fd, buf, 1, 2, null), 2, "null: at the file position…");
  t.is(fs.readSync(fd, buf, 3, 2, -1), 2, "…and -1 too, each advancing it");
  t.is(buf.toString(), "hhell");
  t.is(fs.readSync(fd, buf, 0, 5, null), 1);
  t.is(fs.readSync(fd, new Uint16Array(2), 0, 4, 1), 4, "any ArrayBufferView, counted in bytes");
  t.is(fs.readSync(fd, buf, 0, 5, 2n), 3);
  for (const [args, code] of [
    [[fd, buf, 0, 5, 1.5], "ERR_OUT_OF_RANGE"],
    [[fd, buf, 0, 5, -2], "ERR_OUT_OF_RANGE"],
    [[fd, buf, 0, 6, 0], "ERR_OUT_OF_RANGE"],
    [[fd, buf, 1.5, 1, 0], "ERR_OUT_OF_RANGE"],
    [[fd, buf, 2 ** 32, 1, 0], "ERR_OUT_OF_RANGE"],
    [[fd + 0.5, buf, 0, 1, 0], "ERR_OUT_OF_RANGE"],
    [[-1, buf, 0, 1, 0], "ERR_OUT_OF_RANGE"],
    [[fd, buf, "0", 1, 0], "ERR_INVALID_ARG_TYPE"],
    [[fd, buf, 0, 1, "0"], "ERR_INVALID_ARG_TYPE"],
    [[99, buf, 0, 1, 0], "EBADF"],
  ] as const) {
    t.is((t.throws(() => fs.readSync(...(args as unknown as Parameters<typeof fs.readSync>))) as Error & { code: string }).code, code, String(args));
  }
  const w = fs.openSync("/f", "a");
  throwsCode(t, () => fs.readSync(w, buf, 0, 1, 0), "EBADF", { syscall: "read" });
  fs.closeSync(w);
  const d = fs.openSync("/sub", "r");
  throwsCode(t, () => fs.readSync(d, buf, 0, 1, 0), "EISDIR", { syscall: "read" });
  fs.closeSync(d);
  t.like(await fh.read(buf, 0, 5, 0), { bytesRead: 5, buffer: buf });
  t.like(await fh.read(buf, 0, 2, null), { bytesRead: 2 });
  t.like(await fh.read(buf, 0, 5, null), { bytesRead: 3 }, "the handle's position moved past the first two bytes");
  t.is(buf.subarray(0, 3).toString(), "llo");
  await t.throwsAsync(fh.read(buf, 0, 5, 1.5), { code: "ERR_OUT_OF_RANGE" });
  await t.throwsAsync(fh.read(buf, 4, 2, 0), { code: "ERR_OUT_OF_RANGE" });
  await fh.close();
  fs.closeSync(fd);
});
