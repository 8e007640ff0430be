/**
 * Large folios (mount option maxOrder): writes that span several folios, over holes and blocks
 * whose old contents on the disk are garbage.
 */
import test from "ava";
import { MemdescType } from "@folio/core";
import { BS, eq, fsck, memStore, mkfs, mount, pattern, readFile, rig, writeFile } from "./helpers.js";

/** An image whose every block holds 0xa5 before mkfs: a block allocated and read back unzeroed shows it. */
function dirtyImage(blocks: number) {
  const store = memStore(blocks);
  store.write(new Uint8Array(blocks * BS).fill(0xa5), 0);
  const r = rig(store);
  mkfs(r);
  return { store, r };
}

for (const maxOrder of [2, 9]) {
  test(`maxOrder ${maxOrder}: a write across several folios into holes leaves the rest of its last folio zero (the harness's seed 3)`, (t) => {
    // The write allocated the blocks of its whole range in its first folio's writeBegin; the later
    // folios then saw them as blocks already on disk and read the garbage there into the part of the
    // last folio the write did not cover (--fs simple --seed 3 --ops 250 --faults none --max-order 9).
    const { store, r } = dirtyImage(2048);
    const fs = mount(r, { maxOrder });
    const ino = writeFile(fs, fs.rootIno, "f", pattern(26217, 1));
    fs.setattr(ino, { size: 42117 }); // a hole from 26217 on
    const data = pattern(24265, 2);
    writeFile(fs, fs.rootIno, "f", data, 13011); // ends at 37276, in page 9, inside a two-page folio
    const want = new Uint8Array(42117);
    want.set(pattern(26217, 1));
    want.set(data, 13011);
    t.true(eq(readFile(fs, ino), want), "bytes 37276.. of page 9 (never written) read as zeros");
    fs.unmount();
    t.deepEqual(fsck(r).problems, []);
    const fs2 = mount(rig(store), { maxOrder });
    t.true(eq(readFile(fs2, ino), want), "and so they are on the disk");
    fs2.unmount();
  });
}

test("maxOrder 9: a write covering whole folios and ending mid-folio over a hole, then a remount", (t) => {
  const { store, r } = dirtyImage(2048);
  const fs = mount(r, { maxOrder: 9 });
  const ino = writeFile(fs, fs.rootIno, "g", pattern(100, 3));
  fs.setattr(ino, { size: 600 * BS });
  const data = pattern(300 * BS + 123, 4);
  writeFile(fs, fs.rootIno, "g", data, 5 * BS + 7);
  const want = new Uint8Array(600 * BS);
  want.set(pattern(100, 3));
  want.set(data, 5 * BS + 7);
  t.true(eq(readFile(fs, ino), want));
  fs.unmount();
  const fs2 = mount(rig(store), { maxOrder: 9 });
  t.true(eq(readFile(fs2, ino), want));
  fs2.unmount();
});

test("maxOrder 9 with no free block larger than a page: a write falls back to smaller folios instead of failing with ENOMEM", (t) => {
  // The page cache asked for a write's large folio as if it were needed: on a pressure boot whose
  // free memory held no block of that order, a write failed with ENOMEM (the harness's
  // --fs simple --seed 20 --ops 2364 --faults none --pressure --max-order 9). Here every
  // allocation larger than a page fails (fail_page_alloc).
  const store = memStore(2048);
  const r = rig(store);
  mkfs(r);
  const fs = mount(r, { maxOrder: 9 });
  r.machine.pages.injectFailures((order) => order > 0);
  const data = pattern(78366, 5);
  const ino = writeFile(fs, fs.rootIno, "a", data);
  r.machine.pages.injectFailures(undefined);
  t.true(eq(readFile(fs, ino), data));
  fs.unmount();
  t.deepEqual(fsck(r).problems, []);
});

test("a memory error in the page past EOF of a dirty large folio loses no file data: the file grown over it reads zeros, fsync reports nothing", (t) => {
  // A large folio straddles EOF when a truncate could not split it (no memory for the pieces'
  // descriptors). Memory failure called its page past EOF lost, and the file recorded it: once the
  // file grew over it, reads there failed with EIO (the harness's --fs simple --seed 17 --ops 1049
  // --faults memory --max-order 9).
  const store = memStore(2048);
  const r = rig(store);
  mkfs(r);
  const fs = mount(r, { maxOrder: 2 });
  const ino = writeFile(fs, fs.rootIno, "f", pattern(4 * BS, 6)); // one order-2 folio, dirty
  r.machine.pages.injectFailures(() => true);
  try {
    fs.setattr(ino, { size: BS + 10 });
  } finally {
    r.machine.pages.injectFailures(undefined);
  }
  const m = r.machine;
  let pfn = -1;
  for (let p = 1; p < m.frames && pfn < 0; p++) {
    if (m.memmap.type[p] !== MemdescType.Folio) continue;
    const folio = m.folios.fromPfn(p);
    if (r.cache.mappingOf(folio)?.host.ino === ino && m.folios.index(folio) + (p - m.folios.pfn(folio)) === 3) pfn = p;
  }
  t.true(pfn > 0, "page 3, past EOF, is still in the whole folio");
  m.memoryFailure.hardOffline(pfn);
  fs.setattr(ino, { size: 4 * BS });
  const want = new Uint8Array(4 * BS);
  want.set(pattern(BS + 10, 6));
  t.true(eq(readFile(fs, ino), want), "the grown part reads as zeros");
  const h = fs.open(ino, 2);
  try {
    t.notThrows(() => fs.fsync(h, false), "nothing of the file was lost");
  } finally {
    fs.release(h);
  }
  fs.unmount();
});
