import test from "ava";
import { MAXSYMLINKS } from "../src/index.js";
import { boot, throwsCode } from "./helpers.js";

function tree() {
  const b = boot();
  const { fs } = b;
  fs.mkdirSync("/a/b/c", { recursive: true });
  fs.writeFileSync("/a/b/f", "file");
  fs.symlinkSync("b", "/a/lb"); // relative, to a directory
  fs.symlinkSync("/a/b/f", "/a/lf"); // absolute, to a file
  fs.symlinkSync("nowhere", "/a/dangling");
  return b;
}

test(". and .. resolve, .. stops at the root, and repeated slashes are one", (t) => {
  const { fs } = tree();
  const ino = fs.statSync("/a/b").ino;
  for (const p of ["/a/b", "/a/b/", "/a/./b", "/a/b/c/..", "//a//b//", "/../a/b", "/../../a/../a/b/.", "/a/b/c/../../b"]) {
    t.is(fs.statSync(p).ino, ino, p);
  }
  t.is(fs.statSync("/..").ino, fs.statSync("/").ino);
  t.is(fs.realpathSync("/a/b/c/../../b/./c/"), "/a/b/c");
});

test("relative paths resolve against the working directory, '/' by default", (t) => {
  const { fs, vfs } = tree();
  t.is(vfs.cwd(), "/");
  t.is(fs.readFileSync("a/b/f", "utf8"), "file");
  vfs.chdir("/a/b/c");
  t.is(vfs.cwd(), "/a/b/c");
  t.is(fs.readFileSync("../f", "utf8"), "file");
  t.is(fs.realpathSync("."), "/a/b/c");
  t.is(fs.realpathSync(".."), "/a/b");
  throwsCode(t, () => vfs.chdir("/a/b/f"), "ENOTDIR", { syscall: "chdir" });
  // The working directory follows a rename of its ancestors: it is an inode, not a string.
  fs.renameSync("/a/b", "/a/moved");
  t.is(vfs.cwd(), "/a/moved/c");
  t.is(fs.readFileSync("../f", "utf8"), "file");
});

test("symlinks: relative and absolute targets, in the middle and at the end; lstat does not follow", async (t) => {
  const { fs } = tree();
  t.is(fs.readFileSync("/a/lb/f", "utf8"), "file");
  t.is(fs.readFileSync("/a/lf", "utf8"), "file");
  t.true(fs.lstatSync("/a/lf").isSymbolicLink());
  t.true(fs.statSync("/a/lf").isFile());
  t.is(fs.lstatSync("/a/lf").size, "/a/b/f".length);
  t.is(fs.readlinkSync("/a/lb"), "b");
  t.is(fs.realpathSync("/a/lb/c/../f"), "/a/b/f");
  // ".." after a symlink is the parent of the target, not of the link.
  fs.mkdirSync("/x/y", { recursive: true });
  fs.symlinkSync("/x/y", "/a/b/toy");
  t.is(fs.realpathSync.native("/a/b/toy/.."), "/x");
  t.is(await fs.promises.realpath("/a/b/toy/.."), "/x");
  // Node's JavaScript realpathSync normalises ".." lexically first, as node:fs does.
  t.is(fs.realpathSync("/a/b/toy/.."), "/a/b");
  throwsCode(t, () => fs.statSync("/a/dangling"), "ENOENT", { syscall: "stat" });
  t.true(fs.lstatSync("/a/dangling").isSymbolicLink());
});

test("symlink loops and chains longer than 40 links are ELOOP; 40 links are fine", (t) => {
  const { fs } = boot();
  fs.symlinkSync("loop2", "/loop1");
  fs.symlinkSync("loop1", "/loop2");
  fs.symlinkSync("self", "/self");
  throwsCode(t, () => fs.statSync("/loop1"), "ELOOP", { syscall: "stat", path: "/loop1", message: "ELOOP: too many symbolic links encountered, stat '/loop1'" });
  throwsCode(t, () => fs.readFileSync("/self/x"), "ELOOP", { syscall: "open" });
  t.true(fs.lstatSync("/loop1").isSymbolicLink());
  throwsCode(t, () => fs.lstatSync("/loop1/"), "ELOOP", { syscall: "lstat" });
  fs.writeFileSync("/target", "end");
  fs.symlinkSync("target", "/l0");
  for (let i = 1; i <= MAXSYMLINKS; i++) fs.symlinkSync(`l${i - 1}`, `/l${i}`);
  t.is(fs.readFileSync(`/l${MAXSYMLINKS - 1}`, "utf8"), "end"); // 40 links
  throwsCode(t, () => fs.readFileSync(`/l${MAXSYMLINKS}`), "ELOOP"); // 41 links
});

test("trailing slashes: a directory or a symlink to one only; ENOTDIR for files", (t) => {
  const { fs } = tree();
  t.true(fs.statSync("/a/b/").isDirectory());
  t.true(fs.lstatSync("/a/lb/").isDirectory(), "a trailing slash follows a final symlink, even for lstat");
  throwsCode(t, () => fs.statSync("/a/b/f/"), "ENOTDIR", { path: "/a/b/f/" });
  throwsCode(t, () => fs.statSync("/a/b/f/."), "ENOTDIR");
  throwsCode(t, () => fs.statSync("/a/b/f/.."), "ENOTDIR");
  throwsCode(t, () => fs.lstatSync("/a/lf/"), "ENOTDIR");
  throwsCode(t, () => fs.lstatSync("/a/dangling/"), "ENOENT");
  throwsCode(t, () => fs.openSync("/a/b/f/", "r"), "ENOTDIR");
  throwsCode(t, () => fs.openSync("/a/b/f/", "w"), "EISDIR");
  throwsCode(t, () => fs.openSync("/a/b/new/", "w"), "EISDIR");
  throwsCode(t, () => fs.unlinkSync("/a/b/f/"), "ENOTDIR");
  throwsCode(t, () => fs.renameSync("/a/b/f", "/a/b/g/"), "ENOTDIR");
  throwsCode(t, () => fs.symlinkSync("x", "/a/sl/"), "ENOENT");
  throwsCode(t, () => fs.linkSync("/a/b/f", "/a/nl/"), "ENOENT");
  fs.mkdirSync("/a/newdir/");
  fs.rmdirSync("/a/newdir/");
  t.false(fs.existsSync("/a/newdir"));
});

test("intermediate components must be directories; missing ones are ENOENT", (t) => {
  const { fs } = tree();
  throwsCode(t, () => fs.statSync("/a/b/f/x/y"), "ENOTDIR", { syscall: "stat", path: "/a/b/f/x/y" });
  throwsCode(t, () => fs.statSync("/a/nope/x"), "ENOENT");
  throwsCode(t, () => fs.statSync("/a/dangling/x"), "ENOENT");
  throwsCode(t, () => fs.statSync("/a/lf/x"), "ENOTDIR");
});

test("empty paths are ENOENT, NUL bytes are refused, names over 255 bytes and paths of 4096 are ENAMETOOLONG", (t) => {
  const { fs, vfs } = boot();
  throwsCode(t, () => fs.statSync(""), "ENOENT", { message: "ENOENT: no such file or directory, stat ''" });
  throwsCode(t, () => vfs.stat(""), "ENOENT");
  const nul = t.throws(() => fs.statSync("a\0b")) as Error & { code: string };
  t.is(nul.code, "ERR_INVALID_ARG_VALUE", "as Node: a TypeError before any system call");
  t.true(nul instanceof TypeError);
  throwsCode(t, () => vfs.stat("/a\0b"), "EINVAL", { syscall: "stat" });
  fs.writeFileSync("/" + "a".repeat(255), "x");
  t.is(fs.readFileSync("/" + "a".repeat(255), "utf8"), "x");
  throwsCode(t, () => fs.writeFileSync("/" + "a".repeat(256), "x"), "ENAMETOOLONG", { syscall: "open" });
  throwsCode(t, () => fs.statSync("/" + "é".repeat(128)), "ENAMETOOLONG", { message: `ENAMETOOLONG: name too long, stat '/${"é".repeat(128)}'` });
  throwsCode(t, () => fs.statSync("/nope/" + "a".repeat(300)), "ENOENT", { message: undefined });
  throwsCode(t, () => fs.statSync("/" + "a/".repeat(2048)), "ENAMETOOLONG");
});

test("paths may be Buffers and file: URLs; other types are Node's ERR_INVALID_ARG_TYPE", (t) => {
  const { fs } = tree();
  t.is(fs.readFileSync(Buffer.from("/a/b/f"), "utf8"), "file");
  t.is(fs.readFileSync(new URL("file:///a/b/f"), "utf8"), "file");
  const e = t.throws(() => fs.statSync(12 as never)) as Error & { code: string };
  t.is(e.code, "ERR_INVALID_ARG_TYPE");
  t.is(e.message, 'The "path" argument must be of type string or an instance of Buffer or URL. Received type number (12)');
  t.is((t.throws(() => fs.statSync(new URL("http://x/y"))) as Error & { code: string }).code, "ERR_INVALID_URL_SCHEME");
});

test("the dentry cache answers repeated lookups, caches negatives, and follows renames and removals", (t) => {
  const { fs, vfs } = tree();
  fs.statSync("/a/b/f");
  const before = vfs.cacheCounts();
  fs.statSync("/a/b/f");
  const after = vfs.cacheCounts();
  t.is(after.misses, before.misses, "a second walk misses nothing");
  t.true(after.hits >= before.hits + 3);
  t.false(fs.existsSync("/a/b/ghost"));
  const neg = vfs.cacheCounts().negativeHits;
  t.false(fs.existsSync("/a/b/ghost"));
  t.is(vfs.cacheCounts().negativeHits, neg + 1, "the missing name is a cached negative entry");
  fs.writeFileSync("/a/b/ghost", "now here");
  t.is(fs.readFileSync("/a/b/ghost", "utf8"), "now here", "creating the name replaces the negative entry");
  fs.renameSync("/a/b", "/a/c2");
  t.false(fs.existsSync("/a/b/f"));
  t.is(fs.readFileSync("/a/c2/f", "utf8"), "file");
  fs.unlinkSync("/a/c2/f");
  t.false(fs.existsSync("/a/c2/f"));
  fs.rmSync("/a/c2", { recursive: true });
  fs.mkdirSync("/a/c2");
  t.deepEqual(fs.readdirSync("/a/c2"), [], "a new directory of the same name sees nothing of the old one");
  t.false(fs.existsSync("/a/c2/c"));
});

test("shrinkCaches drops unused dentries, least recently used first, and lookups still work", (t) => {
  const { fs, vfs } = tree();
  for (let i = 0; i < 50; i++) fs.writeFileSync(`/a/file${i}`, String(i));
  const n = vfs.cacheCounts().dentries;
  t.true(n >= 50);
  t.is(vfs.shrinkCaches(20), 20);
  t.is(vfs.cacheCounts().dentries, n - 20);
  t.is(vfs.shrinkCaches(1e9), n - 20);
  t.is(vfs.cacheCounts().dentries, 0);
  for (let i = 0; i < 50; i++) t.is(fs.readFileSync(`/a/file${i}`, "utf8"), String(i));
  t.is(fs.realpathSync("/a/lb/c"), "/a/b/c", "directory parents survive the shrinker");
});

test("the dentry cache is a shrinker: reclaim scans it in proportion to the LRU it scanned", (t) => {
  const { fs, vfs } = tree();
  for (let i = 0; i < 200; i++) fs.writeFileSync(`/a/file${i}`, String(i));
  const m = vfs.machine;
  const dentries = vfs.cacheCounts().dentries;
  const lru = m.reclaim.counts().lruFolios;
  t.true(dentries >= 200 && lru > 0);
  const scannedBefore = m.vmstat.toObject().slabs_scanned!;
  m.reclaim.shrink(1); // frees one clean folio: scans a sliver of the LRU, and at least a batch of dentries
  const asked = m.vmstat.toObject().slabs_scanned! - scannedBefore;
  t.true(asked >= Math.min(128, dentries), `shrinkers asked to scan ${asked} objects`);
  t.true(vfs.cacheCounts().dentries < dentries, "dentries went");
  for (let i = 0; i < 200; i++) t.is(fs.readFileSync(`/a/file${i}`, "utf8"), String(i));
});
