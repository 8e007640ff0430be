import test from "ava";
import { isFolioError } from "@folio/core";
import { BS, fresh, fsck, mount, rig } from "./helpers.js";

const FOUR_GIB = 4 * 1024 ** 3;

test("a 4 GiB+ sparse file on a 1 MiB device: one byte past 4 GiB, three blocks", (t) => {
  const { fs, store, ...r } = fresh(256);
  const root = fs.rootIno;
  const ino = fs.create(root, "huge", 0o644);
  const f = fs.open(ino, 2);
  const free = fs.statfs().bfree;
  t.is(fs.write(f, FOUR_GIB + 10, new Uint8Array([0xab]), 0, 1), 1);
  const a = fs.getattr(ino);
  t.is(a.size, FOUR_GIB + 11);
  t.is(a.blocks, 3 * (BS / 512)); // data + double-indirect + its indirect
  t.is(fs.statfs().bfree, free - 3);
  const buf = new Uint8Array(32).fill(7);
  t.is(fs.read(f, FOUR_GIB, buf, 0, 32), 11);
  t.deepEqual([...buf.subarray(0, 11)], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab]);
  t.is(fs.read(f, 12345678, buf, 0, 16), 16);
  t.true(buf.subarray(0, 16).every((b) => b === 0));
  t.is(fs.read(f, FOUR_GIB + 11, buf, 0, 16), 0);
  // Past the largest file (12 + 1024 + 1024² blocks).
  const max = (12 + 1024 + 1024 * 1024) * BS;
  let err: unknown;
  try {
    fs.write(f, max, new Uint8Array(1), 0, 1);
  } catch (e) {
    err = e;
  }
  t.true(isFolioError(err, "EFBIG"));
  t.is(fs.write(f, max - 1, new Uint8Array(5), 0, 5), 1);
  fs.fsync(f, false);
  fs.release(f);
  fs.setattr(ino, { size: FOUR_GIB + 11 });
  fs.unmount();
  t.deepEqual(fsck({ ...r, store, fs } as never).problems, []);
  const r2 = rig(store);
  const fs2 = mount(r2);
  t.is(fs2.getattr(ino).size, FOUR_GIB + 11);
  const f2 = fs2.open(ino, 0);
  const one = new Uint8Array(1);
  fs2.read(f2, FOUR_GIB + 10, one, 0, 1);
  t.is(one[0], 0xab);
  fs2.release(f2);
  // Truncating the huge file frees its blocks, indirect ones included.
  fs2.setattr(ino, { size: 0 });
  t.is(fs2.getattr(ino).blocks, 0);
  fs2.unmount();
  t.deepEqual(fsck(r2).problems, []);
});
