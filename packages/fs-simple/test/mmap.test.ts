/**
 * fs-simple's mmap entry point: the page cache's generic mapping with fs-simple's callbacks —
 * stores through shared mappings reach read() and the disk, msync makes them survive a crash,
 * private mappings never reach the file, a store into a hole gets its block at page_mkwrite
 * (and a full disk is SIGBUS there, not a lost page at writeback), and bytes stored past EOF in
 * the last page never become file data nor reach the disk.
 */
import test from "ava";
import { FolioFlag, MAP_PRIVATE, MAP_SHARED, MS_SYNC, MemoryAccessError, PROT_READ, PROT_WRITE, Rng, Stat } from "@folio/core";
import type { BackingStore } from "@folio/pagecache";
import { format } from "../src/index.js";
import { BS, eq, fresh, fsck, fsyncIno, memStore, mkfs, mount, pattern, readFile, rig, writeFile } from "./helpers.js";

const RW = PROT_READ | PROT_WRITE;

test("a store through a shared mapping is seen by read(), and a write() by a load", (t) => {
  const { fs, machine } = fresh();
  const ino = writeFile(fs, fs.rootIno, "f", pattern(3 * BS, 1));
  const file = fs.open(ino, 2);
  const mm = machine.mm.createAddressSpace("app");
  const a = mm.mmap({ length: 3 * BS, prot: RW, flags: MAP_SHARED, file: fs.mmap(file) });
  mm.store(a + BS + 7, Uint8Array.of(1, 2, 3));
  const got = readFile(fs, ino);
  t.deepEqual([...got.subarray(BS + 7, BS + 10)], [1, 2, 3]);
  writeFile(fs, fs.rootIno, "f", Uint8Array.of(9, 9), 2 * BS);
  t.deepEqual([...mm.load(a + 2 * BS, 2)], [9, 9]);
  t.true(fs.getattr(ino).mtimeNs > 0);
  t.deepEqual(machine.verify(), []);
  mm.destroy();
  fs.release(file);
  fs.unmount();
});

test("msync(MS_SYNC) makes stores durable: they survive a crash right after it", (t) => {
  const store = memStore(2048);
  const r = rig(store, { faulty: true });
  mkfs(r);
  const fs = mount(r);
  const data = pattern(8 * BS, 2);
  const ino = writeFile(fs, fs.rootIno, "f", data);
  fsyncIno(fs, ino);
  fsyncIno(fs, fs.rootIno);
  const file = fs.open(ino, 2);
  const mm = r.machine.mm.createAddressSpace("app");
  const a = mm.mmap({ length: 8 * BS, prot: RW, flags: MAP_SHARED, file: fs.mmap(file) });
  const stored = pattern(5 * BS, 3);
  mm.store(a + 2 * BS, stored);
  mm.msync(a, 8 * BS, MS_SYNC);
  mm.store(a, pattern(BS, 4)); // not synced: may or may not survive
  r.faulty!.crash({ tear: new Rng(1) });
  const r2 = rig(store, { seed: 2 });
  fsck(r2, true);
  const fs2 = mount(r2);
  const after = readFile(fs2, ino);
  t.is(after.length, 8 * BS);
  t.true(eq(after.subarray(2 * BS, 7 * BS), stored), "what msync covered is on the disk");
  t.true(eq(after.subarray(7 * BS), data.subarray(7 * BS)));
  fs2.unmount();
  t.deepEqual(fsck(r2).problems, []);
});

test("munmap, unmount and mount again: shared stores are in the file, private ones never reached it", (t) => {
  const store = memStore(2048);
  const r = rig(store);
  mkfs(r);
  const fs = mount(r);
  const data = pattern(4 * BS, 5);
  const ino = writeFile(fs, fs.rootIno, "f", data);
  const file = fs.open(ino, 2);
  const mm = r.machine.mm.createAddressSpace("app");
  const shared = mm.mmap({ length: 4 * BS, prot: RW, flags: MAP_SHARED, file: fs.mmap(file) });
  const priv = mm.mmap({ length: 4 * BS, prot: RW, flags: MAP_PRIVATE, file: fs.mmap(file) });
  mm.store(shared + 100, Uint8Array.of(0xaa, 0xbb));
  mm.store(priv + BS + 100, Uint8Array.of(0xcc));
  mm.store(priv + 3 * BS, pattern(BS, 6));
  t.is(mm.load(priv + 100, 1)[0], 0xaa, "a private page not yet copied shows the shared store");
  mm.munmap(shared, 4 * BS);
  mm.munmap(priv, 4 * BS);
  t.is(r.machine.vmstat.stat[Stat.AnonPages], 0);
  fs.release(file);
  fs.unmount();
  const r2 = rig(store, { seed: 3 });
  const fs2 = mount(r2);
  const want = Uint8Array.from(data);
  want.set([0xaa, 0xbb], 100);
  t.true(eq(readFile(fs2, ino), want));
  fs2.unmount();
  t.deepEqual(fsck(r2).problems, []);
});

/**
 * A fresh 256-block disk mounted with folios up to `maxOrder`, a file of 16 pages that is all hole,
 * and a shared read-write mapping of it.
 */
function sparseMapping(maxOrder: number) {
  const { fs, machine, ...r } = fresh(256, { mount: { maxOrder } });
  const ino = fs.create(fs.rootIno, "sparse", 0o644);
  const file = fs.open(ino, 2);
  fs.setattr(ino, { size: 16 * BS });
  const mm = machine.mm.createAddressSpace("app");
  const a = mm.mmap({ length: 16 * BS, prot: RW, flags: MAP_SHARED, file: fs.mmap(file) });
  return { fs, machine, r, ino, file, mm, a };
}

test("a store into a hole gets its block at page_mkwrite; on a full disk it is SIGBUS with ENOSPC and nothing is dirtied", (t) => {
  // Single pages: with large folios, page_mkwrite gives the whole folio its blocks (the next test).
  const { fs, machine, r, ino, file, mm, a } = sparseMapping(0);
  t.true(mm.load(a, 16 * BS).every((b) => b === 0), "a hole reads as zeros");
  const blocksBefore = fs.getattr(ino).blocks;
  mm.store(a + 5 * BS, Uint8Array.of(7));
  t.true(fs.getattr(ino).blocks > blocksBefore, "the page got its block before it became writable");
  // Fill the disk with another file, then store into another hole.
  const filler = fs.open(fs.create(fs.rootIno, "filler", 0o644), 2);
  let filled = 0;
  try {
    for (;;) filled += fs.write(filler, filled, new Uint8Array(64 * BS), 0, 64 * BS);
  } catch (e) {
    t.is((e as { code?: string }).code, "ENOSPC");
  }
  fs.release(filler);
  const e = t.throws(() => mm.store(a + 9 * BS, Uint8Array.of(8)));
  t.true(e instanceof MemoryAccessError, String(e));
  t.is((e as MemoryAccessError).code, "ENOSPC");
  t.is((e as MemoryAccessError).signal, "SIGBUS");
  t.is(mm.load(a + 9 * BS, 1)[0], 0, "the failed store changed nothing");
  mm.msync(a, 16 * BS, MS_SYNC);
  t.is(readFile(fs, ino)[5 * BS], 7);
  t.deepEqual(machine.verify(), []);
  mm.destroy();
  fs.release(file);
  fs.unmount();
  t.deepEqual(fsck({ ...r, machine }).problems, []);
});

test("large folios: a store into a hole gives the whole folio its blocks at page_mkwrite, so a later store in it needs none on a full disk", (t) => {
  const { fs, machine, r, ino, file, mm, a } = sparseMapping(9);
  t.true(mm.load(a, 16 * BS).every((b) => b === 0), "a hole reads as zeros (readahead makes one large folio of it)");
  mm.store(a + 5 * BS, Uint8Array.of(7));
  t.is(fs.getattr(ino).blocks, 17 * (BS / 512), "every page of the folio got its block (and the indirect block pages 12-15 need)");
  const filler = fs.open(fs.create(fs.rootIno, "filler", 0o644), 2);
  let filled = 0;
  try {
    for (;;) filled += fs.write(filler, filled, new Uint8Array(64 * BS), 0, 64 * BS);
  } catch (e) {
    t.is((e as { code?: string }).code, "ENOSPC");
  }
  fs.release(filler);
  t.is(fs.statfs().bfree, 0, "the disk is full to its last block");
  t.notThrows(() => mm.store(a + 9 * BS, Uint8Array.of(8)));
  mm.msync(a, 16 * BS, MS_SYNC);
  const got = readFile(fs, ino);
  t.is(got[5 * BS], 7);
  t.is(got[9 * BS], 8);
  t.deepEqual(machine.verify(), []);
  mm.destroy();
  fs.release(file);
  fs.unmount();
  t.deepEqual(fsck({ ...r, machine }).problems, []);
});

test("large folios: a folio whose blocks a truncate frees forgets it has them, so a store there after the file grows back gets a block", (t) => {
  const { fs, machine, r, ino, file, mm, a } = sparseMapping(9);
  mm.load(a, 16 * BS); // one 16-page folio
  mm.store(a + 5 * BS, Uint8Array.of(7));
  const folio = file.mapping.index.load(0);
  t.is(machine.folios.nrPages(folio), 16);
  t.true(machine.folios.test(folio, FolioFlag.MappedToDisk), "page_mkwrite mapped all 16 blocks and says so");
  // A reader's reference keeps truncate from splitting the folio: it stays whole, straddling EOF,
  // while the blocks of its pages 9-15 are freed.
  machine.folios.get(folio);
  fs.setattr(ino, { size: 8 * BS + 100 });
  t.is(file.mapping.index.load(12), folio, "still one folio");
  t.false(machine.folios.test(folio, FolioFlag.MappedToDisk), "its blocks 9-15 are gone, and the mark with them");
  machine.folios.put(folio);
  fs.setattr(ino, { size: 16 * BS });
  mm.store(a + 12 * BS, Uint8Array.of(9)); // page_mkwrite must map block 12 again
  mm.msync(a, 16 * BS, MS_SYNC);
  mm.destroy();
  fs.release(file);
  fs.unmount();
  t.deepEqual(fsck({ ...r, machine }).problems, []);
  const again = mount({ ...r, machine });
  const got = readFile(again, ino);
  t.is(got[5 * BS], 7);
  t.is(got[12 * BS], 9, "the store after the file grew back reached the disk");
  again.unmount();
});

/** File block `index` (a direct block) of inode `ino` as the image holds it. */
function diskBlock(store: BackingStore, ino: number, index: number): Uint8Array {
  const b = new Uint8Array(BS);
  store.read(b, 0);
  const loc = format.inodeLocation(format.decodeSuper(b, 0, "test"), ino);
  store.read(b, loc.block * BS);
  const block = format.decodeInode(b, loc.offset).ptrs[index]!;
  store.read(b, block * BS);
  return b;
}

for (const [how, pos] of [["at EOF", 100], ["before EOF", 90]] as const) {
  test(`bytes stored through a shared mapping past EOF read as zeros once a write starting ${how} grows the file`, (t) => {
    const { fs, machine } = fresh();
    const ino = writeFile(fs, fs.rootIno, "f", pattern(100, 7));
    const file = fs.open(ino, 2);
    const mm = machine.mm.createAddressSpace("app");
    const a = mm.mmap({ length: BS, prot: RW, flags: MAP_SHARED, file: fs.mmap(file) });
    mm.store(a + 200, Uint8Array.of(9, 9)); // legal: the last page is mapped whole; not file data
    t.deepEqual([...mm.load(a + 200, 2)], [9, 9]);
    t.is(fs.write(file, pos, pattern(20, 8), 0, 20), 20); // grows the file to pos + 20, below 200
    t.deepEqual([...mm.load(a + 200, 2)], [0, 0], "past the new EOF: zeros, not the stored bytes");
    fs.setattr(ino, { size: 300 });
    const got = readFile(fs, ino);
    t.true(got.subarray(pos + 20).every((b) => b === 0), "the grown part reads as zeros");
    t.deepEqual([...mm.load(a + 200, 2)], [0, 0]);
    t.deepEqual(machine.verify(), []);
    mm.destroy();
    fs.release(file);
    fs.unmount();
  });
}

test("writeback zeroes the last page past EOF: bytes stored there never reach the disk, nor the file after a remount", (t) => {
  const store = memStore(2048);
  const r = rig(store);
  mkfs(r);
  const fs = mount(r);
  const data = pattern(100, 7);
  const ino = writeFile(fs, fs.rootIno, "f", data);
  const file = fs.open(ino, 2);
  const mm = r.machine.mm.createAddressSpace("app");
  const a = mm.mmap({ length: BS, prot: RW, flags: MAP_SHARED, file: fs.mmap(file) });
  mm.store(a + 50, Uint8Array.of(1, 2, 3)); // file data, so the page is written back
  mm.store(a + 200, pattern(3000, 9)); // past EOF
  mm.msync(a, BS, MS_SYNC);
  const want = Uint8Array.from(data);
  want.set([1, 2, 3], 50);
  const onDisk = diskBlock(store, ino, 0);
  t.true(eq(onDisk.subarray(0, 100), want));
  t.true(onDisk.subarray(100).every((b) => b === 0), "the block holds zeros past EOF");
  t.true(mm.load(a + 100, BS - 100).every((b) => b === 0), "as Linux does, the page itself was zeroed past EOF");
  mm.destroy();
  fs.release(file);
  fs.unmount();
  // Mounted again, the page comes from the disk; growing the file (a write past EOF) shows zeros.
  const r2 = rig(store, { seed: 2 });
  const fs2 = mount(r2);
  writeFile(fs2, fs2.rootIno, "f", Uint8Array.of(5), 4000);
  const got = readFile(fs2, ino);
  t.is(got.length, 4001);
  t.true(eq(got.subarray(0, 100), want));
  t.true(got.subarray(100, 4000).every((b) => b === 0), "the grown part reads as zeros");
  fs2.unmount();
  t.deepEqual(fsck(r2).problems, []);
});

test("large folios under memory pressure: a store into a large folio is not throttled for ever (the harness's seed 268)", (t) => {
  // The write fault dirtied a whole large folio, which alone put dirty memory over the throttle's
  // limit; the throttle waited for writeback, which write-protected the page again, and the store
  // faulted, was throttled and lost its permission again every time, until the fault gave up with
  // EDEADLK (--fs simple --seed 268 --ops 738 --faults default --pressure --max-order 9).
  const store = memStore(2048);
  const r = rig(store, { memory: "4MiB" });
  mkfs(r);
  const m = r.machine;
  m.vmalloc.vmalloc((m.reclaim.freePages() - m.pages.watermarks.high - 96) * 4096);
  let fs = mount(r, { maxOrder: 9 });
  const data = pattern(64 * BS, 7);
  const ino = writeFile(fs, fs.rootIno, "f", data);
  fs.unmount();
  fs = mount(r, { maxOrder: 9 }); // a cold cache: the mapping's first touch reads large folios
  const file = fs.open(ino, 2);
  const mm = m.mm.createAddressSpace("app");
  const a = mm.mmap({ length: 64 * BS, prot: RW, flags: MAP_SHARED, file: fs.mmap(file) });
  t.true(eq(mm.load(a, 64 * BS), data));
  for (let i = 0; i < 64; i++) t.notThrows(() => mm.store(a + i * BS + 5, Uint8Array.of((i + 1) & 0xff)), `store into page ${i}`);
  mm.msync(a, 64 * BS, MS_SYNC);
  const got = readFile(fs, ino);
  for (let i = 0; i < 64; i++) t.is(got[i * BS + 5], (i + 1) & 0xff);
  t.deepEqual(m.verify(), []);
  mm.destroy();
  fs.release(file);
  fs.unmount();
});
