/**
 * fs-log's mmap entry point: stores through a shared mapping reach read() and the log, msync
 * makes them survive a crash, and each page dirtied through a mapping holds a block reservation
 * (page_mkwrite), so writeback always has room for it.
 */
import test from "ava";
import { MAP_PRIVATE, MAP_SHARED, MS_SYNC, PROT_READ, PROT_WRITE, Rng } from "@folio/core";
import { O_RDWR } from "@folio/fs-api";
import { equalBytes, fsckOf, fsyncIno, makeRig, mountFs, pattern, readAll, writeAt } from "./helpers.js";

const RW = PROT_READ | PROT_WRITE;
const BS = 4096;

test("shared stores reach read() and survive a crash after msync; private ones never reach the file; page_mkwrite reserves", (t) => {
  const r = makeRig();
  const fs = mountFs(r);
  const ino = fs.create(fs.rootIno, "f", 0o644);
  const data = pattern(6 * BS, 1);
  writeAt(fs, ino, 0, data, true);
  fsyncIno(fs, fs.rootIno);
  const before = fs.statfs().bfree;
  const file = fs.open(ino, O_RDWR);
  const mm = r.machine.mm.createAddressSpace("app");
  const shared = mm.mmap({ length: 6 * BS, prot: RW, flags: MAP_SHARED, file: fs.mmap(file) });
  const priv = mm.mmap({ length: 6 * BS, prot: RW, flags: MAP_PRIVATE, file: fs.mmap(file) });
  mm.store(shared + BS, pattern(2 * BS, 2));
  t.true(fs.statfs().bfree < before, "the dirtied pages reserved their blocks");
  mm.store(priv, pattern(BS, 3));
  t.true(equalBytes(readAll(fs, ino).subarray(BS, 3 * BS), pattern(2 * BS, 2)));
  mm.msync(shared, 6 * BS, MS_SYNC);
  r.faulty.crash({ tear: new Rng(4) });
  const r2 = makeRig({ store: r.store, mkfs: false, seed: 2 });
  const fs2 = mountFs(r2);
  const want = Uint8Array.from(data);
  want.set(pattern(2 * BS, 2), BS);
  t.true(equalBytes(readAll(fs2, ino), want), "msync'd stores are there; the private one is not");
  t.deepEqual(r2.machine.verify(), []);
  fs2.unmount();
  t.deepEqual(fsckOf(r2).problems, []);
});
