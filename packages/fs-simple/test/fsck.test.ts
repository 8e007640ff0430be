import test from "ava";
import fc from "fast-check";
import { isFolioError } from "@folio/core";
import { MemfsStore, type BackingStore } from "@folio/pagecache";
import { format, type SimpleFs } from "../src/index.js";
import { BS, eq, fsck, memStore, mkfs, mount, pattern, readFile, rig, snapshot, writeFile } from "./helpers.js";

const { decodeSuper, decodeInode, encodeInode, inodeLocation, parseDirBlock, getU32, putU32 } = format;

/** A formatted image with a small tree, unmounted. Returns the store and some inode numbers. */
function image(blocks = 1024) {
  const store = memStore(blocks);
  const r = rig(store);
  mkfs(r);
  const fs = mount(r);
  const root = fs.rootIno;
  const d = fs.mkdir(root, "d", 0o755);
  const a = writeFile(fs, root, "a", pattern(3 * BS, 1));
  const b = writeFile(fs, d, "b", pattern(2 * BS, 2));
  const c = writeFile(fs, d, "c", pattern(30 * BS, 3));
  fs.link(a, d, "a-link");
  fs.symlink(root, "s", "d/b");
  fs.unmount();
  return { store, root, d, a, b, c };
}

function readBlock(store: BackingStore, block: number): Uint8Array {
  const b = new Uint8Array(BS);
  store.read(b, block * BS);
  return b;
}
function writeBlock(store: BackingStore, block: number, b: Uint8Array): void {
  store.write(b, block * BS);
}
function sbOf(store: BackingStore) {
  return decodeSuper(readBlock(store, 0), 0, "test");
}
function editInode(store: BackingStore, ino: number, edit: (raw: format.RawInode) => void): void {
  const loc = inodeLocation(sbOf(store), ino);
  const blk = readBlock(store, loc.block);
  const raw = decodeInode(blk, loc.offset);
  edit(raw);
  encodeInode(blk, loc.offset, raw);
  writeBlock(store, loc.block, blk);
}
function inodeOf(store: BackingStore, ino: number): format.RawInode {
  const loc = inodeLocation(sbOf(store), ino);
  return decodeInode(readBlock(store, loc.block), loc.offset);
}
function image8(store: BackingStore): Uint8Array {
  const b = new Uint8Array(store.size);
  store.read(b, 0);
  return b;
}

function code(fn: () => unknown): string {
  try {
    fn();
    return "ok";
  } catch (e) {
    return isFolioError(e) ? e.code : `not a FolioError: ${String(e)}`;
  }
}

/** Mounts, reads every file and directory, unmounts: the tree is usable. */
function walkAll(fs: SimpleFs): number {
  // Files are read up to 64 KiB: a corrupted size may describe a huge sparse file (valid, but
  // more than the machine's memory holds without page reclaim).
  return Object.keys(snapshot(fs, fs.rootIno, "", new Set(), 65536)).length;
}

test("fsck is clean after a normal workload and never writes without repair", (t) => {
  const { store } = image();
  const r = rig(store);
  const before = image8(store);
  const report = fsck(r);
  t.deepEqual(report, { clean: true, problems: [] });
  t.is(r.sim.stats.writes, 0);
  t.true(eq(image8(store), before));
  // Repair of a clean image changes nothing either.
  t.deepEqual(fsck(r, true).problems, []);
  t.true(eq(image8(store), before));
});

interface Corruption {
  name: string;
  apply(img: ReturnType<typeof image>): void;
  /** A substring every report of it contains. */
  expect: RegExp;
  /** The code mounting the corrupted image fails with, or "ok" when mount does not notice. */
  mount: string;
}

const corruptions: Corruption[] = [
  {
    name: "a flipped block-bitmap bit (a used block marked free)",
    apply: ({ store, c }) => {
      const sb = sbOf(store);
      const blk = inodeOf(store, c).ptrs[0]!;
      const bm = readBlock(store, sb.blockBitmapStart);
      bm[blk >> 3]! &= ~(1 << (blk & 7));
      writeBlock(store, sb.blockBitmapStart, bm);
    },
    expect: /in use but marked free/,
    mount: "ok",
  },
  {
    name: "a flipped block-bitmap bit (a free block marked used)",
    apply: ({ store }) => {
      const sb = sbOf(store);
      const blk = sb.blockCount - 1;
      const bm = readBlock(store, sb.blockBitmapStart);
      bm[blk >> 3]! |= 1 << (blk & 7);
      writeBlock(store, sb.blockBitmapStart, bm);
    },
    expect: /marked used in the block bitmap but nothing uses it/,
    mount: "ok",
  },
  {
    name: "a wrong link count",
    apply: ({ store, a }) => editInode(store, a, (raw) => (raw.nlink = 5)),
    expect: /link count is 5, should be 2/,
    mount: "ok",
  },
  {
    name: "a duplicate block pointer",
    apply: ({ store, a, b }) => {
      const shared = inodeOf(store, a).ptrs[1]!;
      editInode(store, b, (raw) => (raw.ptrs[0] = shared));
    },
    expect: /is used by both inode \d+ and inode \d+/,
    mount: "ok",
  },
  {
    name: "a directory entry pointing at a free inode",
    apply: ({ store, d }) => {
      const dirBlock = inodeOf(store, d).ptrs[0]!;
      const blk = readBlock(store, dirBlock);
      const e = parseDirBlock(blk, 0).entries.find((x) => x.ino !== 0 && x.offset > 12)!;
      putU32(blk, e.offset, 14);
      writeBlock(store, dirBlock, blk);
    },
    expect: /points at free inode 14/,
    mount: "ok",
  },
  {
    name: "a bad rec_len",
    apply: ({ store, d }) => {
      const dirBlock = inodeOf(store, d).ptrs[0]!;
      const blk = readBlock(store, dirBlock);
      const e = parseDirBlock(blk, 0).entries.find((x) => x.ino !== 0 && x.offset > 12)!;
      blk[e.offset + 4] = 3;
      blk[e.offset + 5] = 0;
      writeBlock(store, dirBlock, blk);
    },
    expect: /bad rec_len 3/,
    mount: "ok",
  },
  {
    name: "a bad rec_len on the first entry of the root",
    apply: ({ store, root }) => {
      const dirBlock = inodeOf(store, root).ptrs[0]!;
      const blk = readBlock(store, dirBlock);
      blk[4] = 0xff;
      blk[5] = 0xff;
      writeBlock(store, dirBlock, blk);
    },
    expect: /bad rec_len 65535/,
    mount: "ok",
  },
  {
    name: "a bad magic",
    apply: ({ store }) => {
      const blk = readBlock(store, 0);
      blk[0] = 0x58;
      writeBlock(store, 0, blk);
    },
    expect: /backup/,
    mount: "EINVAL",
  },
  {
    name: "a corrupted geometry",
    apply: ({ store }) => {
      const blk = readBlock(store, 0);
      putU32(blk, 20, 0); // inode count
      writeBlock(store, 0, blk);
    },
    expect: /backup/,
    mount: "EUCLEAN",
  },
  {
    name: "an indirect pointer out of range",
    apply: ({ store, c }) => {
      const ind = inodeOf(store, c).ptrs[12]!;
      const blk = readBlock(store, ind);
      putU32(blk, 4, 0x7fffffff);
      writeBlock(store, ind, blk);
    },
    expect: /outside the data area/,
    mount: "ok",
  },
  {
    name: "blocks past the end of a file",
    apply: ({ store, b }) => editInode(store, b, (raw) => (raw.size = 10)),
    expect: /past the end of the file/,
    mount: "ok",
  },
  {
    name: "an inode with an invalid mode",
    apply: ({ store, b }) => editInode(store, b, (raw) => (raw.mode = 0o070000 | 0o644)),
    expect: /invalid mode/,
    mount: "ok",
  },
  {
    name: "the root inode cleared",
    apply: ({ store, root }) => editInode(store, root, (raw) => Object.assign(raw, format.emptyInode())),
    expect: /root directory is missing/,
    mount: "ENOENT",
  },
  {
    name: "an orphaned directory (its entry removed)",
    apply: ({ store, root, d }) => {
      const dirBlock = inodeOf(store, root).ptrs[0]!;
      const blk = readBlock(store, dirBlock);
      const entries = parseDirBlock(blk, 0).entries;
      const i = entries.findIndex((x) => x.ino === d);
      const prev = entries[i - 1]!;
      blk[prev.offset + 4] = (prev.recLen + entries[i]!.recLen) & 0xff;
      blk[prev.offset + 5] = (prev.recLen + entries[i]!.recLen) >> 8;
      writeBlock(store, dirBlock, blk);
    },
    expect: /lost\+found/,
    mount: "ok",
  },
  {
    name: "a not-cleanly-unmounted state",
    apply: ({ store }) => {
      const blk = readBlock(store, 0);
      putU32(blk, 68, 2);
      writeBlock(store, 0, blk);
    },
    expect: /not cleanly unmounted/,
    mount: "ok",
  },
];

for (const c of corruptions) {
  test(`fsck finds ${c.name}, and repair makes the image clean`, (t) => {
    const img = image();
    c.apply(img);
    const r = rig(img.store);
    // A read-only mount changes nothing on the image.
    t.is(code(() => mount(r, { readOnly: true }).unmount()), c.mount);
    const corrupted = image8(img.store);
    const report = fsck(r);
    t.false(report.clean);
    t.true(report.problems.some((p) => c.expect.test(p.what)), report.problems.map((p) => p.what).join("\n"));
    t.true(report.problems.every((p) => !p.repaired));
    t.true(eq(image8(img.store), corrupted), "fsck without repair wrote");
    const fixed = fsck(r, true);
    t.true(fixed.problems.every((p) => p.repaired));
    t.deepEqual(fsck(r).problems, [], "not clean after repair");
    const fs = mount(rig(img.store));
    t.true(walkAll(fs) > 0);
    fs.unmount();
    t.deepEqual(fsck(rig(img.store)).problems, []);
  });
}

test("fsck repair keeps the data of both owners of a shared block", (t) => {
  const img = image();
  const { store, a, b } = img;
  const shared = inodeOf(store, a).ptrs[1]!;
  editInode(store, b, (raw) => (raw.ptrs[0] = shared));
  fsck(rig(store), true);
  const fs = mount(rig(store));
  const da = readFile(fs, a);
  const db = readFile(fs, b);
  t.true(eq(da, pattern(3 * BS, 1)));
  t.true(eq(db.subarray(0, BS), pattern(3 * BS, 1).subarray(BS, 2 * BS)));
  t.true(eq(db.subarray(BS), pattern(2 * BS, 2).subarray(BS)));
  t.not(inodeOf(store, b).ptrs[0], shared);
  fs.unmount();
});

test("a newer on-disk version is refused by mount and fsck with ENOSYS", (t) => {
  const { store } = image();
  const blk = readBlock(store, 0);
  putU32(blk, 8, 2);
  writeBlock(store, 0, blk);
  const r = rig(store);
  t.is(code(() => mount(r)), "ENOSYS");
  t.is(code(() => fsck(r)), "ENOSYS");
  t.is(code(() => fsck(r, true)), "ENOSYS");
  t.is(getU32(readBlock(store, 0), 8), 2);
});

test("an image that is not fs-simple is EINVAL for mount and fsck", (t) => {
  const store = memStore(128);
  const r = rig(store);
  t.is(code(() => mount(r)), "EINVAL");
  t.is(code(() => fsck(r)), "EINVAL");
  t.is(code(() => fsck(r, true)), "EINVAL");
});

test("a truncated image: mount refuses (EUCLEAN), fsck reports, repair shrinks it to the device", (t) => {
  const { store, a } = image(1024);
  const sb = sbOf(store);
  // Cut the image after the last block in use plus a little.
  const keep = 600;
  const small = new MemfsStore({ size: keep * BS });
  const buf = new Uint8Array(keep * BS);
  store.read(buf, 0);
  small.write(buf, 0);
  t.true(sb.blockCount > keep);
  const r = rig(small);
  t.is(code(() => mount(r)), "EUCLEAN");
  const report = fsck(r);
  t.true(report.problems.some((p) => /image truncated/.test(p.what)));
  fsck(r, true);
  t.deepEqual(fsck(r).problems, []);
  const fs = mount(rig(small));
  t.true(eq(readFile(fs, a), pattern(3 * BS, 1)));
  t.is(fs.statfs().blocks, keep - sb.firstDataBlock);
  fs.unmount();
});

test("an image truncated inside its metadata is a clear EUCLEAN", (t) => {
  const { store } = image(1024);
  const small = new MemfsStore({ size: 4 * BS });
  const buf = new Uint8Array(4 * BS);
  store.read(buf, 0);
  small.write(buf, 0);
  const r = rig(small);
  t.is(code(() => mount(r)), "EUCLEAN");
  t.is(code(() => fsck(r)), "EUCLEAN");
});

test("random corruption of metadata blocks: mount and fsck end with a clear result, and repair converges", (t) => {
  const base = image(256);
  const pristine = image8(base.store);
  const sb = sbOf(base.store);
  const metaBlocks = [0, sb.blockBitmapStart, sb.inodeBitmapStart, sb.inodeTableStart];
  for (const ino of [base.root, base.d]) metaBlocks.push(inodeOf(base.store, ino).ptrs[0]!);
  metaBlocks.push(inodeOf(base.store, base.c).ptrs[12]!);
  const allowed = new Set(["ok", "EUCLEAN", "EINVAL", "ENOSYS", "EIO", "ENOENT"]);
  fc.assert(
    fc.property(
      fc.array(fc.record({ block: fc.constantFrom(...metaBlocks), offset: fc.nat(BS - 1), value: fc.nat(255), wide: fc.boolean() }), { minLength: 1, maxLength: 8 }),
      (edits) => {
        base.store.write(pristine, 0);
        for (const e of edits) {
          const blk = readBlock(base.store, e.block);
          if (e.wide) putU32(blk, e.offset & ~3, e.value * 0x01010101);
          else blk[e.offset] = e.value;
          writeBlock(base.store, e.block, blk);
        }
        const r = rig(base.store);
        const m = code(() => {
          const fs = mount(r);
          walkAll(fs);
          fs.unmount();
        });
        if (!allowed.has(m)) return false;
        const c1 = code(() => fsck(r));
        if (!allowed.has(c1)) return false;
        if (c1 !== "ok") return true; // not repairable: a clear error
        fsck(r, true);
        const again = fsck(r);
        if (!again.clean) throw new Error(`not clean after repair: ${again.problems.map((p) => p.what).join("; ")} (edits ${JSON.stringify(edits)})`);
        const fs = mount(rig(base.store));
        walkAll(fs);
        fs.unmount();
        return fsck(rig(base.store)).clean;
      },
    ),
    { numRuns: 150, seed: 7 },
  );
  t.pass();
});

// ── Blocks claimed twice after a crash, and names fsck chooses ──

/** Appends an entry to the first block of directory `dir` on the image (in the last entry's slack). */
function addRawEntry(store: BackingStore, dir: number, name: string, ino: number, type: number): void {
  const block = inodeOf(store, dir).ptrs[0]!;
  const blk = readBlock(store, block);
  const entries = parseDirBlock(blk, 0).entries;
  const last = entries[entries.length - 1]!;
  const used = format.direntSize(last.nameLen);
  const bytes = format.nameBytes(name);
  if (last.recLen - used < format.direntSize(bytes.length)) throw new Error("no room in the directory block");
  format.setDirentRecLen(blk, 0, last.offset, used);
  format.putDirent(blk, 0, last.offset + used, ino, last.recLen - used, bytes, type);
  writeBlock(store, block, blk);
}

/** Removes the entry naming `ino` from the first block of directory `dir` on the image (merged into the one before it). */
function removeRawEntry(store: BackingStore, dir: number, ino: number): void {
  const block = inodeOf(store, dir).ptrs[0]!;
  const blk = readBlock(store, block);
  const entries = parseDirBlock(blk, 0).entries;
  const i = entries.findIndex((x) => x.ino === ino && x.offset > 12);
  format.setDirentRecLen(blk, 0, entries[i - 1]!.offset, entries[i - 1]!.recLen + entries[i]!.recLen);
  writeBlock(store, block, blk);
}

/** Repairs, then checks that a second fsck finds nothing and that the tree mounts and reads. */
function repairConverges(t: { deepEqual(a: unknown, b: unknown, m?: string): void }, store: BackingStore): string[] {
  const problems = fsck(rig(store), true).problems.map((p) => p.what);
  t.deepEqual(fsck(rig(store)).problems, [], "not clean after repair");
  const fs = mount(rig(store));
  walkAll(fs);
  fs.unmount();
  return problems;
}

test("fsck: a file whose indirect block a stale inode also claims as a data block keeps all its data", (t) => {
  // Inode a (scanned first) points at c's indirect block as its file block 2: what a crash leaves
  // when a was truncated in memory, the block went to c, c was fsynced and a's inode was not.
  const { store, a, c } = image();
  const ind = inodeOf(store, c).ptrs[12]!;
  editInode(store, a, (raw) => (raw.ptrs[2] = ind));
  const problems = repairConverges(t, store);
  t.true(problems.some((p) => new RegExp(`block ${ind} is used by both inode ${c} and inode ${a}; inode ${a} gets a copy`).test(p)), problems.join("\n"));
  t.is(inodeOf(store, c).ptrs[12], ind, "the indirect block stays with the file that maps through it");
  const fs = mount(rig(store));
  t.true(eq(readFile(fs, c), pattern(30 * BS, 3)), "every block the indirect block maps is still the file's");
  t.true(eq(readFile(fs, a).subarray(0, 2 * BS), pattern(3 * BS, 1).subarray(0, 2 * BS)));
  fs.unmount();
});

test("fsck: a garbled inode that reads a file's data block as an indirect block never changes that block", (t) => {
  // Inode a, scanned first, claims c's first data block as its indirect block: as one, the block
  // holds "pointers" out of range, which must not be cleared — the block is c's data.
  const { store, a, c } = image();
  const victim = inodeOf(store, c).ptrs[0]!;
  editInode(store, a, (raw) => {
    raw.ptrs[12] = victim;
    raw.size = 20 * BS;
  });
  const problems = repairConverges(t, store);
  t.true(problems.some((p) => new RegExp(`inode ${a}: indirect block ${victim} is also claimed by inode ${c}; the block is not an indirect block`).test(p)), problems.join("\n"));
  t.is(inodeOf(store, a).ptrs[12], 0, "the garbled claim is dropped");
  const fs = mount(rig(store));
  t.true(eq(readFile(fs, c), pattern(30 * BS, 3)));
  fs.unmount();
});

test("fsck: a dead inode (free in the inode bitmap, no name) loses a shared block without getting a copy", (t) => {
  const { store, c } = image();
  const shared = inodeOf(store, c).ptrs[1]!;
  // A deleted file whose inode-table slot never reached the disk: the bitmap (written later) says free.
  const stale = 12;
  editInode(store, stale, (raw) => {
    Object.assign(raw, format.emptyInode());
    raw.mode = format.S_IFREG | 0o644;
    raw.nlink = 1;
    raw.size = 2 * BS;
    raw.blocks = 1;
    raw.ptrs[0] = shared;
  });
  t.false(format.testBit(readBlock(store, sbOf(store).inodeBitmapStart), 0, stale));
  const problems = repairConverges(t, store);
  t.true(problems.some((p) => new RegExp(`inode ${stale}: file block 0 \\(block ${shared}\\) is also claimed by inode ${c}; the inode is stale`).test(p)), problems.join("\n"));
  t.is(inodeOf(store, stale).ptrs[0], 0);
  t.is(inodeOf(store, c).ptrs[1], shared);
  const fs = mount(rig(store));
  t.true(eq(readFile(fs, c), pattern(30 * BS, 3)));
  fs.unmount();
});

test("fsck: a directory with a stale second name keeps the name its \"..\" agrees with", (t) => {
  const store = memStore(256);
  const r = rig(store);
  mkfs(r);
  const fs = mount(r);
  const d = fs.mkdir(fs.rootIno, "d", 0o755);
  const e = fs.mkdir(d, "e", 0o755);
  writeFile(fs, e, "f", pattern(100, 4));
  fs.unmount();
  // A stale entry in the root from the inode's previous life as a file (the root is scanned first).
  addRawEntry(store, 1, "z", e, format.DT_REG);
  const problems = repairConverges(t, store);
  t.true(problems.some((p) => p.startsWith(`directory ${e} has a second name "z" in directory 1`)), problems.join("\n"));
  const fs2 = mount(rig(store));
  t.is(fs2.lookup(fs2.lookup(fs2.rootIno, "d"), "e"), e);
  t.throws(() => fs2.lookup(fs2.rootIno, "z"), { code: "ENOENT" });
  fs2.unmount();
});

test("fsck: a file moved to /lost+found gets a name not already taken there", (t) => {
  const store = memStore(256);
  const r = rig(store);
  mkfs(r);
  const fs = mount(r);
  const orphan = writeFile(fs, fs.rootIno, "f", pattern(200, 5));
  const lf = fs.mkdir(fs.rootIno, "lost+found", 0o700);
  const other = writeFile(fs, lf, `#${orphan}`, pattern(300, 6));
  fs.unmount();
  removeRawEntry(store, 1, orphan);
  const problems = repairConverges(t, store);
  t.true(problems.some((p) => p === `inode ${orphan} had no name; moved to /lost+found/#${orphan}.1`), problems.join("\n"));
  const fs2 = mount(rig(store));
  t.is(fs2.lookup(lf, `#${orphan}`), other);
  t.is(fs2.lookup(lf, `#${orphan}.1`), orphan);
  t.true(eq(readFile(fs2, orphan), pattern(200, 5)));
  fs2.unmount();
});
