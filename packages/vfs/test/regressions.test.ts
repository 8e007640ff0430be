import test from "ava";
import { Machine, fail } from "@folio/core";
import { Vfs, createNodeFs } from "../src/index.js";
import { boot } from "./helpers.js";

test("mkdirSync('', { recursive: true }) throws ENOENT like node:fs instead of looping", async (t) => {
  await import(new URL("../../../../examples/dist/ramfs.js", import.meta.url).href);
  const vfs = new Vfs(Machine.boot({ memory: "8MiB" }));
  vfs.mount("/", "ramfs");
  const fs = createNodeFs(vfs);
  const e = t.throws(() => fs.mkdirSync("", { recursive: true })) as NodeJS.ErrnoException;
  t.is(e.code, "ENOENT");
});

/**
 * A failing evictInode: the filesystem's eviction throws `error` for every inode in `failing`,
 * and evicts normally otherwise. Returns the inodes it was asked to evict.
 */
function failEviction(sb: { evictInode(ino: number): void }, failing: Set<number>, error: () => Error): number[] {
  const asked: number[] = [];
  const evict = sb.evictInode.bind(sb);
  sb.evictInode = (ino: number) => {
    asked.push(ino);
    if (failing.has(ino)) throw error();
    evict(ino);
  };
  return asked;
}

test("a failed eviction is not the error of the unlink, rmdir, rename or close that dropped the inode's last name or reference", (t) => {
  const { fs, vfs } = boot();
  fs.writeFileSync("/a", "a");
  fs.writeFileSync("/b", "b");
  fs.writeFileSync("/c", "c");
  fs.writeFileSync("/open", "o");
  fs.mkdirSync("/d");
  const ino = (p: string) => fs.statSync(p).ino;
  const failing = new Set([ino("/a"), ino("/c"), ino("/d"), ino("/open")]);
  const asked = failEviction(vfs.superBlockOf("/"), failing, () => fail("EIO", "the blocks could not be freed"));
  fs.unlinkSync("/a");
  fs.rmdirSync("/d");
  fs.renameSync("/b", "/c"); // replaces /c, whose inode loses its last name
  const fd = fs.openSync("/open", "r");
  fs.unlinkSync("/open");
  t.is(asked.length, 3, "an inode still open is not evicted at unlink");
  fs.closeSync(fd);
  t.deepEqual(fs.readdirSync("/"), ["c"], "every name is gone");
  t.is(fs.readFileSync("/c", "utf8"), "b");
  t.deepEqual([...asked].sort(), [...failing].sort(), "each inode was evicted once, when its last name or reference went");
  const { count, recent } = vfs.evictionFailures();
  t.is(count, 4);
  t.deepEqual(recent.map((f) => f.ino).sort(), [...failing].sort());
  t.true(recent.every((f) => f.dev === fs.statSync("/").dev && f.error.code === "EIO"));
});

test("evictionFailures keeps the latest 100 and counts them all; a bug in evictInode is still thrown", (t) => {
  const { fs, vfs } = boot();
  const sb = vfs.superBlockOf("/");
  const inos: number[] = [];
  for (let i = 0; i < 105; i++) {
    fs.writeFileSync(`/f${i}`, "x");
    inos.push(fs.statSync(`/f${i}`).ino);
  }
  failEviction(sb, new Set(inos), () => fail("ENOMEM", "no memory to free the blocks"));
  for (let i = 0; i < 105; i++) fs.unlinkSync(`/f${i}`);
  const { count, recent } = vfs.evictionFailures();
  t.is(count, 105);
  t.is(recent.length, 100);
  t.deepEqual(recent.map((f) => f.ino), inos.slice(5), "oldest first, the first five dropped");
  fs.writeFileSync("/bug", "x");
  failEviction(sb, new Set([fs.statSync("/bug").ino]), () => new TypeError("a bug in the filesystem"));
  t.throws(() => fs.unlinkSync("/bug"), { instanceOf: TypeError });
  t.is(vfs.evictionFailures().count, 105, "a bug is not recorded as a failed eviction");
});
