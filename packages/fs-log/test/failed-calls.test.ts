/**
 * A call that fails changes nothing: whatever fault stops it (EIO from the device, ENOMEM from the
 * page cache, ENOSPC, a bad argument), the inode, the tree and the space accounting are as they
 * were before it, and the same call succeeds once the fault is gone.
 */
import test, { type ExecutionContext } from "ava";
import { Gfp, isFolioError } from "@folio/core";
import { O_RDWR, type InodeAttr, type StatFs } from "@folio/fs-api";
import { ROOT_INO } from "../src/format.js";
import type { LogFs } from "../src/index.js";
import { equalBytes, firstDiff, fsckOf, fsyncIno, makeRig, mountFs, pattern, readAll, writeAt, type Rig } from "./helpers.js";

/** What a failed call must leave as it was: the inode's attributes, free space and reservations. */
interface Snapshot {
  attr: InodeAttr;
  statfs: StatFs;
  reserved: number;
}

function snapshot(fs: LogFs, ino: number): Snapshot {
  return { attr: fs.getattr(ino), statfs: fs.statfs(), reserved: fs.logInfo().reserved };
}

/** A file of `length` pattern bytes, committed, on a filesystem mounted again (nothing cached). */
function coldFile(length: number, options: Record<string, unknown> = {}, memory?: string): { r: Rig; fs: LogFs; ino: number; data: Uint8Array } {
  const r = makeRig({ blocks: 2048, ...(memory ? { memory } : {}) });
  const first = mountFs(r, options);
  const ino = first.create(ROOT_INO, "f", 0o644);
  const data = pattern(length, 7);
  writeAt(first, ino, 0, data, true);
  first.unmount();
  const fs = mountFs(r, options);
  fs.getattr(ino); // the inode's record is in memory: only data reads remain
  return { r, fs, ino, data };
}

function expectUnchanged(t: ExecutionContext, fs: LogFs, ino: number, before: Snapshot): void {
  t.deepEqual(fs.getattr(ino), before.attr, "size, times and blocks are unchanged");
  t.deepEqual(fs.statfs(), before.statfs, "free space is unchanged");
  t.is(fs.logInfo().reserved, before.reserved, "no space stays reserved");
  t.deepEqual(fs.verifyAccounting(), []);
}

for (const maxOrder of [0, 2]) {
  test(`a shrinking truncate whose last block cannot be read fails with EIO and changes nothing (maxOrder ${maxOrder})`, (t) => {
    const { r, fs, ino, data } = coldFile(14_544, { maxOrder });
    const before = snapshot(fs, ino);
    // The new last block (file block 1) must be read to zero it past the new end: that read fails.
    r.faulty.failReads(() => true);
    t.throws(() => fs.setattr(ino, { size: 4097 }), { code: "EIO" });
    r.faulty.clearFaults();
    expectUnchanged(t, fs, ino, before);
    const back = readAll(fs, ino);
    t.true(equalBytes(back, data), firstDiff(back, data));
    // Without the fault the same truncate succeeds, and the bytes past the new end are gone.
    fs.setattr(ino, { size: 4097 });
    fs.setattr(ino, { size: 14_544 });
    const grown = readAll(fs, ino);
    t.true(equalBytes(grown.subarray(0, 4097), data.subarray(0, 4097)));
    t.true(grown.subarray(4097).every((b) => b === 0), "the old bytes past the truncation point read as zeros");
    fsyncIno(fs, ino);
    fs.unmount();
    t.deepEqual(fsckOf(r), { clean: true, problems: [] });
  });
}

test("a shrinking truncate that cannot get a folio fails with ENOMEM and changes nothing", (t) => {
  const { r, fs, ino, data } = coldFile(10_000, {}, "4MiB");
  // Every page the page cache could get is taken (the same kind of allocation) and held outside
  // it, where reclaim cannot free it.
  const held: number[] = [];
  const full = t.throws(() => {
    for (;;) held.push(r.machine.folios.alloc(0, Gfp.Movable));
  });
  t.true(isFolioError(full, "ENOMEM"), String(full));
  const before = snapshot(fs, ino);
  // File block 1, the new last one, is not cached: zeroing its tail needs a folio.
  t.throws(() => fs.setattr(ino, { size: 5000 }), { code: "ENOMEM" });
  for (const h of held) r.machine.folios.put(h);
  expectUnchanged(t, fs, ino, before);
  t.true(equalBytes(readAll(fs, ino), data));
  fs.setattr(ino, { size: 5000 });
  t.true(equalBytes(readAll(fs, ino), data.subarray(0, 5000)));
});

test("a shrinking truncate that needs a block on a full filesystem fails with ENOSPC and changes nothing", (t) => {
  const r = makeRig({ blocks: 2048 });
  const fs = mountFs(r);
  const victim = fs.create(ROOT_INO, "victim", 0o644);
  writeAt(fs, victim, 0, pattern(3 * 4096, 1), true);
  let full = false;
  for (let i = 0; i < 400 && !full; i++) {
    const ino = fs.create(ROOT_INO, `fill${i}`, 0o644);
    try {
      writeAt(fs, ino, 0, pattern(64 * 1024, i + 2));
    } catch (e) {
      t.true(isFolioError(e, "ENOSPC"), String(e));
      full = true;
    }
    fsyncIno(fs, ino);
  }
  t.true(full, "the filesystem filled up");
  // A 64 KiB write reserves its large folio whole: fill what is left a page at a time.
  const last = fs.create(ROOT_INO, "last", 0o644);
  for (let i = 0; ; i++) {
    try {
      writeAt(fs, last, i * 4096, pattern(4096, 1000 + i));
    } catch (e) {
      t.true(isFolioError(e, "ENOSPC"), String(e));
      break;
    }
  }
  fsyncIno(fs, last);
  // Truncating to the middle of a block rewrites that block zeroed past the end: a new block.
  const before = snapshot(fs, victim);
  t.throws(() => fs.setattr(victim, { size: 4097 }), { code: "ENOSPC" });
  expectUnchanged(t, fs, victim, before);
  // A truncate to a block boundary rewrites nothing, so it needs no space.
  fs.setattr(victim, { size: 4096 });
  t.is(fs.getattr(victim).size, 4096);
  fs.unmount();
  t.deepEqual(fsckOf(r), { clean: true, problems: [] });
});

test("a write whose read-before-write fails (overwrite, or extending the file) throws EIO and changes nothing", (t) => {
  const { r, fs, ino, data } = coldFile(10_000);
  const h = fs.open(ino, O_RDWR);
  const before = snapshot(fs, ino);
  r.faulty.failReads(() => true);
  // Inside the file, and past its end in its last (partial) block: both must read the block first.
  for (const pos of [5000, 10_100]) {
    t.throws(() => fs.write(h, pos, pattern(10, 3), 0, 10), { code: "EIO" }, `write at ${pos}`);
  }
  r.faulty.clearFaults();
  expectUnchanged(t, fs, ino, before);
  t.true(equalBytes(readAll(fs, ino), data));
  fs.write(h, 10_100, pattern(10, 3), 0, 10);
  t.is(fs.getattr(ino).size, 10_110);
  fs.release(h);
  fs.unmount();
  t.deepEqual(fsckOf(r), { clean: true, problems: [] });
});

test("setattr with an invalid uid or gid changes no other attribute", (t) => {
  const r = makeRig({ blocks: 2048 });
  const fs = mountFs(r);
  const ino = fs.create(ROOT_INO, "f", 0o644);
  writeAt(fs, ino, 0, pattern(10_000, 1));
  const before = snapshot(fs, ino);
  t.throws(() => fs.setattr(ino, { mode: 0o600, size: 5000, uid: -1 }), { code: "EINVAL" });
  t.throws(() => fs.setattr(ino, { mode: 0o600, gid: 2 ** 32 }), { code: "EINVAL" });
  expectUnchanged(t, fs, ino, before);
  fs.unmount();
});

test("namespace operations that fail on a fault change nothing", (t) => {
  const r = makeRig({ blocks: 2048, mkfs: { inodes: 64 } });
  let fs = mountFs(r);
  fs.create(ROOT_INO, "f", 0o644);
  const g = fs.create(ROOT_INO, "g", 0o644);
  const d = fs.mkdir(ROOT_INO, "d", 0o755);
  fs.mkdir(ROOT_INO, "e", 0o755);
  fs.symlink(ROOT_INO, "s", "f");
  fs.sync();
  fs.unmount();
  fs = mountFs(r);
  const tree = (): unknown => ({ root: fs.getattr(ROOT_INO), entries: fs.readdir(ROOT_INO) });
  const before = tree();
  // The root's entries are in memory; the records of f, g, d and e are not, and cannot be read.
  r.faulty.failReads(() => true);
  const calls: [string, () => unknown][] = [
    ["unlink", () => fs.unlink(ROOT_INO, "f")],
    ["rmdir", () => fs.rmdir(ROOT_INO, "e")],
    ["rename over a file", () => fs.rename(ROOT_INO, "f", ROOT_INO, "g", 0)],
    ["rename into a directory", () => fs.rename(ROOT_INO, "f", d, "f2", 0)],
    ["link", () => fs.link(g, ROOT_INO, "g2")],
  ];
  for (const [what, call] of calls) t.throws(call, { code: "EIO" }, what);
  r.faulty.clearFaults();
  t.deepEqual(tree(), before, "the root is as it was");
  // No free inode: creations fail with ENOSPC and leave the parent as it was.
  let made = 0;
  for (; made < 64; made++) {
    try {
      fs.create(ROOT_INO, `n${made}`, 0o644);
    } catch (e) {
      t.true(isFolioError(e, "ENOSPC"), String(e));
      break;
    }
  }
  t.true(made < 64, "the inodes ran out");
  const full = tree();
  t.throws(() => fs.create(ROOT_INO, "x", 0o644), { code: "ENOSPC" });
  t.throws(() => fs.mkdir(ROOT_INO, "x", 0o755), { code: "ENOSPC" });
  t.throws(() => fs.symlink(ROOT_INO, "x", "f"), { code: "ENOSPC" });
  t.deepEqual(tree(), full, "the root is as it was");
  // Without the faults the same calls succeed.
  fs.unlink(ROOT_INO, "f");
  fs.rmdir(ROOT_INO, "e");
  fs.link(g, ROOT_INO, "g2");
  t.is(fs.getattr(g).nlink, 2);
  fs.unmount();
  t.deepEqual(fsckOf(r), { clean: true, problems: [] });
});
