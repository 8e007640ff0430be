/**
 * Real bugs the harness found (src/known.ts, docs/TRUST.md). For each: the harness's replay of the
 * seed that found it must still attribute the violation to it (a passing test), and a regression
 * test of the correct behaviour is a `test.failing` until the bug is fixed — when it starts passing,
 * AVA reports it, and it becomes a plain `test` and the known bug is removed.
 */
import test from "ava";
import { Rng } from "@folio/core";
import { format } from "@folio/fs-simple";
import { KNOWN_BUGS, RamStore, World, parseFaults, run, target } from "../src/index.js";

for (const bug of KNOWN_BUGS) {
  const m = /--fs (\w+) --seed (\d+) --ops (\d+) --faults (\S+)/.exec(bug.example);
  if (!m) continue;
  test(`the harness finds ${bug.id} (${bug.example})`, (t) => {
    const r = run({ fs: m[1]!, seed: Number(m[2]), ops: Number(m[3]), faults: parseFaults(m[4]!) });
    t.truthy(r.violation, "a violation");
    t.is(r.violation?.known, bug.id, r.violation?.message);
  });
}

/** fs-simple mounted through the harness's World on a fresh image. */
function simple(store = new RamStore(target("simple").blocks * 4096), seed = 1): World {
  const w = new World(store, target("simple"), { memory: "64MiB", seed, inflight: new Rng(seed) });
  if (seed === 1) target("simple").mkfs(w.ctx());
  w.mount();
  return w;
}

/** The device block of file block `index` of inode `ino`, read from the image. */
function blockOf(img: Uint8Array, ino: number, index: number): number {
  const sb = format.decodeSuper(img, 0, "image");
  const loc = format.inodeLocation(sb, ino);
  const raw = format.decodeInode(img, loc.block * 4096 + loc.offset);
  const path = format.blockPath(index);
  let b = raw.ptrs[path[0]!]!;
  for (let d = 1; d < path.length; d++) b = format.getU32(img, b * 4096 + path[d]! * 4);
  return b;
}

test.failing("simple-stale-tail: bytes past EOF on disk never become file data when the file grows", (t) => {
  let w = simple();
  w.fs.writeFileSync("/f", new Uint8Array(475).fill(1));
  const ino = w.fs.statSync("/f").ino;
  w.umount();
  // What a crash leaves when a data write landed and the inode's new size did not: bytes past EOF.
  const b = blockOf(w.store.bytes, ino, 0);
  w.store.bytes.fill(0xab, b * 4096 + 475, (b + 1) * 4096);
  w = simple(w.store, 2);
  const fd = w.fs.openSync("/f", "r+");
  w.fs.writeSync(fd, new Uint8Array([7]), 0, 1, 4073); // extend within the same page
  const gap = new Uint8Array(4073 - 475);
  w.fs.readSync(fd, gap, 0, gap.length, 475);
  t.true(gap.every((x) => x === 0), "the bytes between the old end and the write read as zeros");
  w.fs.ftruncateSync(fd, 8000); // and truncate up
  const more = new Uint8Array(8000 - 4074);
  w.fs.readSync(fd, more, 0, more.length, 4074);
  t.true(more.every((x) => x === 0));
});

test.failing("simple-truncate-half-done: a truncate that fails changes nothing", (t) => {
  let w = simple();
  w.fs.writeFileSync("/f", new Uint8Array(14544).fill(3));
  const ino = w.fs.statSync("/f").ino;
  w.umount();
  w = simple(w.store, 2);
  // The new last block (file block 1) cannot be read: zeroing its tail fails.
  w.faulty.failReads([blockOf(w.store.bytes, ino, 1)]);
  t.throws(() => w.fs.truncateSync("/f", 4097), { code: "EIO" });
  t.is(w.fs.statSync("/f").size, 14544, "the size did not change");
});

test.failing("vfs-evict-error-after-unlink: an unlink that fails leaves the name", (t) => {
  let w = simple();
  w.fs.writeFileSync("/f", new Uint8Array(100 * 1024).fill(5)); // an indirect block
  const ino = w.fs.statSync("/f").ino;
  w.umount();
  w = simple(w.store, 2);
  w.fs.statSync("/f");
  // Freeing the inode's blocks reads its indirect block (not cached since the mount), which fails.
  const sb = format.decodeSuper(w.store.bytes, 0, "image");
  const loc = format.inodeLocation(sb, ino);
  const raw = format.decodeInode(w.store.bytes, loc.block * 4096 + loc.offset);
  w.faulty.failReads([raw.ptrs[format.NDIR]!]);
  let threw = false;
  try {
    w.fs.unlinkSync("/f");
  } catch {
    threw = true;
  }
  t.is(w.fs.existsSync("/f"), threw, threw ? "unlink failed, so the name must still be there" : "unlink succeeded");
  t.true(threw, "this reproduction makes the eviction fail");
});

test.failing("vfs-stat-null-options: statSync, lstatSync and fstatSync take null options as node:fs does", (t) => {
  const w = simple();
  const fd = w.fs.openSync("/", "r");
  t.true(w.fs.statSync("/", null as never).isDirectory());
  t.true(w.fs.lstatSync("/", null as never).isDirectory());
  t.true(w.fs.fstatSync(fd, null as never).isDirectory());
});
