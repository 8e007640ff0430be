/** Delayed allocation, ENOSPC at write time, and the segment cleaner under a full filesystem. */
import test from "ava";
import { Rng, SECOND, isFolioError } from "@folio/core";
import { O_RDWR } from "@folio/fs-api";
import { ROOT_INO } from "../src/format.js";
import { equalBytes, firstDiff, fsckOf, fsyncIno, makeRig, mountFs, pattern, randomBytes, readAll, writeAt } from "./helpers.js";

test("delayed allocation: write reserves space but places nothing; writeback places it", (t) => {
  const r = makeRig({ blocks: 4096 });
  const fs = mountFs(r);
  const f = fs.create(ROOT_INO, "f", 0o644);
  fs.sync();
  const before = fs.statfs();
  const writes = r.device.stats.writes;
  const live = fs.logInfo().live;
  writeAt(fs, f, 0, pattern(100 * 1024, 1));
  t.is(r.device.stats.writes, writes, "a buffered write issues no device write");
  t.is(fs.logInfo().live, live, "and no block is placed");
  t.is(fs.logInfo().reserved, 25, "but 25 blocks are reserved");
  t.is(before.bfree - fs.statfs().bfree, 25, "statfs counts the reservation");
  t.is(fs.getattr(f).blocks, 25 * 8);
  // Overwriting the same (still dirty) pages reserves nothing more.
  writeAt(fs, f, 4096, pattern(8192, 2));
  t.is(fs.logInfo().reserved, 25);
  // Writeback (here: the flusher, after the 30 s expiry) chooses the blocks.
  r.machine.scheduler.runFor(36 * SECOND);
  t.true(r.device.stats.writes > writes, "the flusher wrote the data");
  t.is(fs.logInfo().reserved, 0);
  t.is(fs.logInfo().live, live + 25);
  // fsync now only has to commit the inode: a small unit.
  const blocks = fs.logInfo().blocksWritten;
  fsyncIno(fs, f);
  t.true(fs.logInfo().blocksWritten - blocks <= 4, `fsync after writeback wrote ${fs.logInfo().blocksWritten - blocks} blocks`);
  t.deepEqual(fs.verifyAccounting(), []);
  fs.unmount();
  t.true(fsckOf(r).clean);
});

test("ENOSPC is reported by write, never by writeback; space comes back after unlink", (t) => {
  const r = makeRig({ blocks: 2048 }); // 8 MiB: 63 segments of 32 blocks
  const fs = mountFs(r);
  const files: { ino: number; data: Uint8Array }[] = [];
  let enospc = false;
  for (let i = 0; i < 400 && !enospc; i++) {
    const ino = fs.create(ROOT_INO, `f${i}`, 0o644);
    const data = pattern(64 * 1024, i);
    const h = fs.open(ino, O_RDWR);
    let done = 0;
    try {
      while (done < data.length) done += fs.write(h, done, data, done, data.length - done);
    } catch (e) {
      t.true(isFolioError(e, "ENOSPC"), String(e));
      enospc = true;
    }
    // Whatever write accepted, fsync must be able to write: the space was reserved.
    fs.fsync(h, false);
    fs.release(h);
    files.push({ ino, data: data.subarray(0, done) });
  }
  t.true(enospc, "the filesystem filled up");
  const st = fs.statfs();
  t.true(st.bavail < st.blocks * 0.05, `ENOSPC with ${st.bavail} of ${st.blocks} blocks free`);
  for (const f of files) t.true(equalBytes(readAll(fs, f.ino), f.data));
  // Free a few files: the cleaner turns their dead blocks into room again.
  for (let i = 0; i < 4; i++) {
    fs.unlink(ROOT_INO, `f${i}`);
    fs.evictInode(files[i]!.ino);
  }
  fsyncIno(fs, ROOT_INO);
  const g = fs.create(ROOT_INO, "g", 0o644);
  writeAt(fs, g, 0, pattern(128 * 1024, 99), true);
  t.true(equalBytes(readAll(fs, g), pattern(128 * 1024, 99)));
  t.deepEqual(fs.verifyAccounting(), []);
  fs.unmount();
  t.deepEqual(fsckOf(r), { clean: true, problems: [] });
  const fs2 = mountFs(r);
  for (const f of files.slice(4)) t.true(equalBytes(readAll(fs2, f.ino), f.data));
  fs2.unmount();
});

for (const maxOrder of [0, 9]) test(`maxOrder ${maxOrder}: the cleaner keeps an 80%-full filesystem working under random overwrites, without ENOSPC`, (t) => {
  const r = makeRig({ blocks: 8192, seed: 3 }); // 32 MiB: 63 segments of 128 blocks
  let fs = mountFs(r, { maxOrder });
  const cap = fs.statfs().blocks;
  const fileBlocks = 64;
  const nFiles = Math.floor((0.8 * cap) / (fileBlocks + 0.1));
  const data: Uint8Array[] = [];
  const inos: number[] = [];
  for (let i = 0; i < nFiles; i++) {
    const ino = fs.create(ROOT_INO, `f${i}`, 0o644);
    data.push(pattern(fileBlocks * 4096, i + 1));
    writeAt(fs, ino, 0, data[i]!);
    inos.push(ino);
  }
  fs.sync();
  const full = fs.logInfo();
  t.true(full.live / full.capacity >= 0.79, `filled to ${((100 * full.live) / full.capacity).toFixed(1)}%`);
  const rng = new Rng(5);
  const rounds = 3000;
  let fsyncs = 0;
  const total = { segmentsCleaned: 0, blocksMoved: 0, checkpoints: 0, enospc: 0, pressureSyncs: 0, blocksWritten: 0 };
  const add = () => {
    for (const k of ["segmentsCleaned", "blocksMoved", "checkpoints", "enospc", "pressureSyncs"] as const) total[k] += fs.stats[k];
    total.blocksWritten += fs.logInfo().blocksWritten;
  };
  for (let i = 0; i < rounds; i++) {
    const k = rng.below(nFiles);
    const len = 4096 * (1 + rng.below(12));
    const pos = rng.below(fileBlocks * 4096 - len + 1);
    const bytes = randomBytes(rng, len);
    writeAt(fs, inos[k]!, pos, bytes);
    data[k]!.set(bytes, pos);
    if (rng.chance(0.5)) {
      fsyncIno(fs, inos[k]!);
      fsyncs++;
    }
    if (i % 1000 === 999) {
      // fsck stays clean along the way (on the unmounted image), and nothing was lost.
      t.deepEqual(fs.verifyAccounting(), []);
      add();
      fs.unmount();
      t.deepEqual(fsckOf(r), { clean: true, problems: [] });
      fs = mountFs(r, { maxOrder });
    }
  }
  add();
  t.is(total.enospc, 0);
  // Large folios cost the log some room: a folio is written whole, in one unit (contiguous in a
  // segment), so the cleaner now and then cannot keep up without a commit forcing superseded blocks dead.
  if (maxOrder === 0) t.is(total.pressureSyncs, 0);
  else t.true(total.pressureSyncs <= 5, `${total.pressureSyncs} pressure syncs`);
  t.true(total.segmentsCleaned > 50, `cleaned ${total.segmentsCleaned} segments`);
  t.log(`maxOrder ${maxOrder}: ${rounds} overwrites (${fsyncs} fsyncs, ${total.pressureSyncs} pressure syncs) at ${((100 * full.live) / full.capacity).toFixed(1)}% full: ` +
    `${total.segmentsCleaned} segments cleaned, ${total.blocksMoved} blocks moved, ${total.checkpoints} checkpoints, ${total.blocksWritten} log blocks written`);
  for (let k = 0; k < nFiles; k++) {
    const got = readAll(fs, inos[k]!);
    if (!equalBytes(got, data[k]!)) t.fail(`file ${k}: ${firstDiff(got, data[k]!)}`);
  }
  fs.unmount();
  t.deepEqual(fsckOf(r), { clean: true, problems: [] });
});
