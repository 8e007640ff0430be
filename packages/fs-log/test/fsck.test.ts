/** fsck: what it finds, what it repairs, what it refuses; and mount's refusal of bad images. */
import test from "ava";
import fc from "fast-check";
import { Rng, isFolioError } from "@folio/core";
import { FaultyDevice, SimDevice, type BlockDevice } from "@folio/pagecache";
import { SyncBlockIo } from "@folio/pagecache";
import {
  BLOCK_SIZE, CP_BLOCKS, DT_DIR, DT_LNK, DT_REG, ROOT_INO, SEG_START, crc32, decodeDir, fromExtents, segBase, type DirEnt, type RecordData,
} from "../src/format.js";
import { LogFs } from "../src/index.js";
import { emptyEdit, writeImageEdit, type ImageEdit } from "../src/offline.js";
import { loadState, readRecord, type LoadedState } from "../src/recovery.js";
import { OverlayStore, checkMachine } from "./crash-rig.js";
import { ctxOf, equalBytes, fsckOf, makeRig, mountFs, pattern, readAll, writeAt, type Rig } from "./helpers.js";
import { observe } from "./model.js";

/** A small populated image: /d/f (9000 bytes), /g (hard link count 1), /d/s -> "target", /e (empty dir). */
function populated(): { r: Rig; d: number; f: number; g: number; e: number; s: number } {
  const r = makeRig({ blocks: 2048, mkfs: { inodes: 512 } });
  const fs = mountFs(r);
  const d = fs.mkdir(ROOT_INO, "d", 0o755);
  const f = fs.create(d, "f", 0o644);
  writeAt(fs, f, 0, pattern(9000, 1));
  const g = fs.create(ROOT_INO, "g", 0o644);
  writeAt(fs, g, 0, pattern(70_000, 2));
  const s = fs.symlink(d, "s", "target");
  const e = fs.mkdir(ROOT_INO, "e", 0o700);
  fs.unmount();
  return { r, d, f, g, e, s };
}

interface Loaded {
  st: LoadedState;
  recs: Map<number, RecordData>;
  dirs: Map<number, Map<string, DirEnt>>;
}

function load(r: Rig): Loaded {
  const io = new SyncBlockIo(r.device, r.machine.scheduler);
  const st = loadState(io);
  const recs = new Map<number, RecordData>();
  const dirs = new Map<number, Map<string, DirEnt>>();
  for (let ino = 1; ino < st.sb.maxInodes; ino++) {
    if (st.imap.addr[ino] === 0) continue;
    const rec = readRecord(io, st.sb, st.imap, ino);
    if (typeof rec === "string") throw new Error(rec);
    recs.set(ino, rec);
    if ((rec.mode & 0o170000) === 0o040000) {
      const map = fromExtents(rec.extents);
      const buf = new Uint8Array(Math.ceil(rec.size / BLOCK_SIZE) * BLOCK_SIZE);
      for (const [k, a] of map) io.readInto(a, 1, buf, k * BLOCK_SIZE);
      dirs.set(ino, decodeDir(buf, rec.size, st.sb.maxInodes).entries);
    }
  }
  return { st, recs, dirs };
}

/** Writes a well-formed image with the inconsistency `change` makes. */
function craft(r: Rig, change: (l: Loaded, e: ImageEdit) => void): void {
  const l = load(r);
  const e = emptyEdit();
  change(l, e);
  writeImageEdit(ctxOf(r), l.st, e);
}

/** fsck must report problems matching `expect` (and change nothing), repair them, and then be clean; the fs must mount. */
function reportRepairRecheck(t: import("ava").ExecutionContext, r: Rig, expect: RegExp[]): void {
  const writes = r.device.stats.writes;
  const rep = fsckOf(r);
  t.is(r.device.stats.writes, writes, "fsck without repair writes nothing");
  t.false(rep.clean);
  for (const re of expect) t.true(rep.problems.some((p) => re.test(p.what)), `expected a problem like ${re}; got ${rep.problems.map((p) => p.what).join(" | ")}`);
  t.deepEqual(fsckOf(r), rep, "fsck without repair changed nothing");
  const fixed = fsckOf(r, true);
  t.true(fixed.problems.every((p) => p.repaired), fixed.problems.filter((p) => !p.repaired).map((p) => p.what).join(" | "));
  const again = fsckOf(r);
  t.deepEqual(again, { clean: true, problems: [] }, again.problems.map((p) => p.what).join(" | "));
  const fs = mountFs(r);
  t.notThrows(() => observe(fs));
  t.deepEqual(fs.verifyAccounting(), []);
  fs.unmount();
}

test("fsck of a healthy image is clean and writes nothing, with or without repair", (t) => {
  const { r } = populated();
  const writes = r.device.stats.writes;
  t.deepEqual(fsckOf(r), { clean: true, problems: [] });
  t.deepEqual(fsckOf(r, true), { clean: true, problems: [] });
  t.is(r.device.stats.writes, writes);
});

test("wrong link counts are found and fixed", (t) => {
  const { r, g, d } = populated();
  craft(r, (l, e) => {
    e.records.set(g, { ...l.recs.get(g)!, nlink: 5 });
    e.records.set(d, { ...l.recs.get(d)!, nlink: 7 });
  });
  reportRepairRecheck(t, r, [new RegExp(`inode ${g} has link count 5, should be 1`), new RegExp(`inode ${d} has link count 7, should be 2`)]);
});

test("a dangling entry and a wrong entry type are found and fixed", (t) => {
  const { r, d, f } = populated();
  craft(r, (l, e) => {
    const root = new Map(l.dirs.get(ROOT_INO)!);
    root.set("ghost", { ino: 400, type: DT_REG });
    e.dirs.set(ROOT_INO, root);
    e.records.set(ROOT_INO, { ...l.recs.get(ROOT_INO)! });
    const dd = new Map(l.dirs.get(d)!);
    dd.set("f", { ino: f, type: DT_LNK });
    e.dirs.set(d, dd);
    e.records.set(d, { ...l.recs.get(d)! });
  });
  reportRepairRecheck(t, r, [/entry "ghost" names inode 400, which does not exist/, new RegExp(`entry "f" says type ${DT_LNK} but inode ${f} is type ${DT_REG}`)]);
  const fs = mountFs(r);
  t.throws(() => fs.lookup(ROOT_INO, "ghost"));
  t.true(equalBytes(readAll(fs, fs.lookup(d, "f")), pattern(9000, 1)));
  fs.unmount();
});

test("an orphaned file and a directory with the wrong parent are found and fixed", (t) => {
  const { r, d, f, e: edir } = populated();
  craft(r, (l, e) => {
    const dd = new Map(l.dirs.get(d)!);
    dd.delete("f");
    e.dirs.set(d, dd);
    e.records.set(d, { ...l.recs.get(d)! });
    e.records.set(edir, { ...l.recs.get(edir)!, parent: d });
  });
  reportRepairRecheck(t, r, [new RegExp(`inode ${f} \\(file\\) is in no directory`), new RegExp(`directory ${edir}: its parent is recorded as ${d} but it is in directory ${ROOT_INO}`)]);
  const fs = mountFs(r);
  t.true(equalBytes(readAll(fs, fs.lookup(ROOT_INO, `#${f}`)), pattern(9000, 1)), "the orphan is linked into the root, contents intact");
  fs.unmount();
});

test("a directory linked twice is found and fixed", (t) => {
  const { r, d, e: edir } = populated();
  craft(r, (l, e) => {
    const dd = new Map(l.dirs.get(d)!);
    dd.set("again", { ino: edir, type: DT_DIR });
    e.dirs.set(d, dd);
    e.records.set(d, { ...l.recs.get(d)! });
  });
  reportRepairRecheck(t, r, [new RegExp(`directory ${edir} is linked from more than one place`)]);
});

test("a wrong segment usage table is found and fixed", (t) => {
  const { r } = populated();
  craft(r, (_l, e) => {
    e.tamperUsage = (live) => {
      live[0]! += 3;
    };
  });
  reportRepairRecheck(t, r, [/segment 0: the usage table of checkpoint \d+ counts \d+ live blocks, its state has \d+/]);
});

test("a damaged data block is found; repair keeps it and makes the log whole", (t) => {
  const { r, g } = populated();
  const l = load(r);
  const [, addr] = l.recs.get(g)!.extents[0]!;
  const blk = new Uint8Array(BLOCK_SIZE);
  r.store.read(blk, addr * BLOCK_SIZE);
  blk[100]! ^= 0xff;
  r.store.write(blk, addr * BLOCK_SIZE);
  reportRepairRecheck(t, r, [new RegExp(`fails its checksum \\(damaged\\), and holds .*inode ${g}`)]);
  const fs = mountFs(r);
  const want = pattern(70_000, 2);
  want[100]! ^= 0xff;
  t.true(equalBytes(readAll(fs, g), want));
  fs.unmount();
});

test("a damaged inode record is found; repair drops the inode and the entries naming it", (t) => {
  const { r, s } = populated();
  const l = load(r);
  const a = l.st.imap.addr[s]!;
  const blk = new Uint8Array(BLOCK_SIZE);
  r.store.read(blk, a * BLOCK_SIZE);
  blk[l.st.imap.off[s]! + 40]! ^= 0x55;
  r.store.write(blk, a * BLOCK_SIZE);
  t.throws(() => {
    const fs = mountFs(r);
    try {
      fs.readlink(s);
    } finally {
      fs.unmount();
    }
  }, { code: "EUCLEAN" });
  reportRepairRecheck(t, r, [new RegExp(`inode ${s}: record of inode ${s}: checksum mismatch`)]);
});

test("images that are not fs-log, newer, or without a checkpoint are refused with a clear error", (t) => {
  const blank = makeRig({ blocks: 512, mkfs: false });
  t.throws(() => mountFs(blank), { code: "EINVAL", message: /not an fs-log filesystem/ });
  t.throws(() => fsckOf(blank), { code: "EINVAL" });
  const tiny = makeRig({ blocks: 64, mkfs: false });
  t.throws(() => LogFs.mkfs(ctxOf(tiny)), { code: "EINVAL" });

  const { r } = populated();
  const sb = new Uint8Array(BLOCK_SIZE);
  r.store.read(sb, 0);
  const newer = sb.slice();
  new DataView(newer.buffer).setUint32(4, 2, true);
  reseal(newer, BLOCK_SIZE - 4);
  r.store.write(newer, 0);
  t.throws(() => mountFs(r), { code: "ENOSYS" });
  t.throws(() => fsckOf(r), { code: "ENOSYS" });
  const damaged = sb.slice();
  damaged[30]! ^= 1;
  r.store.write(damaged, 0);
  t.throws(() => mountFs(r), { code: "EUCLEAN" });
  r.store.write(sb, 0);
  for (const b of CP_BLOCKS) r.store.write(new Uint8Array(BLOCK_SIZE), b * BLOCK_SIZE);
  t.throws(() => mountFs(r), { code: "EUCLEAN", message: /no valid checkpoint/ });
  t.throws(() => fsckOf(r), { code: "EUCLEAN" });
});

/** Recomputes a block's CRC32 field at `at` (taken as zero while computing). */
function reseal(b: Uint8Array, at: number): void {
  let c = crc32(b, 0, at);
  c = crc32(new Uint8Array(4), 0, 4, c);
  c = crc32(b, at + 4, BLOCK_SIZE, c);
  new DataView(b.buffer).setUint32(at, c, true);
}

test("damaged images never crash, hang or loop mount and fsck; fsck writes only when repairing", (t) => {
  // A populated image with commits after its last checkpoint (so roll-forward has work).
  const r = makeRig({ blocks: 1024, mkfs: { segmentBlocks: 16, inodes: 256 } });
  const fs = mountFs(r);
  for (let i = 0; i < 12; i++) {
    const dir = i % 3 === 0 ? ROOT_INO : fs.lookup(ROOT_INO, "sub").valueOf();
    if (i === 0) fs.mkdir(ROOT_INO, "sub", 0o755);
    const f = fs.create(i === 0 ? ROOT_INO : dir, `f${i}`, 0o644);
    writeAt(fs, f, 0, pattern(3000 + i * 2500, i), i % 2 === 0);
  }
  fs.sync();
  for (let i = 0; i < 5; i++) writeAt(fs, fs.lookup(ROOT_INO, "f0"), i * 5000, pattern(4000, 50 + i), true);
  r.faulty.crash();
  try {
    fs.unmount();
  } catch {
    // crashed
  }
  r.faulty.restart();
  const image = new Uint8Array(1024 * BLOCK_SIZE);
  r.store.read(image, 0);
  const st = loadState(new SyncBlockIo(r.device, r.machine.scheduler));
  const logEnd = segBase(st.sb, st.sb.nrSegments);
  const m = checkMachine();
  const allowed = new Set(["EINVAL", "EUCLEAN", "ENOSYS", "EIO", "ENOENT", "ENOTDIR", "EISDIR", "ENOSPC", "EFBIG"]);
  let runs = 0;
  const seen = { fsckClean: 0, fsckProblems: 0, fsckRefused: 0, mounted: 0, mountRefused: 0, repairedAll: 0, partlyRepaired: 0 };
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 0xffffffff }), (seed) => {
      runs++;
      const rng = new Rng(seed);
      const img = image.slice();
      const n = 1 + rng.below(6);
      for (let i = 0; i < n; i++) {
        const pick = rng.below(100);
        const block = pick < 5 ? 0 : pick < 25 ? CP_BLOCKS[rng.below(2)]! : SEG_START + rng.below(logEnd - SEG_START);
        const bytes = rng.chance(0.2) ? BLOCK_SIZE : 1 + rng.below(16);
        for (let k = 0; k < bytes; k++) img[block * BLOCK_SIZE + (bytes === BLOCK_SIZE ? k : rng.below(BLOCK_SIZE))] = rng.below(256);
      }
      const dev = new FaultyDevice(new SimDevice(new OverlayStore(img), m.scheduler));
      const rig = { machine: m, device: dev as BlockDevice };
      const expectFolio = (what: string, fn: () => void): boolean => {
        try {
          fn();
          return true;
        } catch (e) {
          if (!isFolioError(e) || !allowed.has(e.code)) throw new Error(`${what} (seed ${seed}) threw ${e instanceof Error ? e.stack : String(e)}`);
          return false;
        }
      };
      const writes = dev.stats.writes;
      if (!expectFolio("fsck", () => void (fsckOf(rig).clean ? seen.fsckClean++ : seen.fsckProblems++))) seen.fsckRefused++;
      if (dev.stats.writes !== writes) throw new Error(`fsck without repair wrote (seed ${seed})`);
      expectFolio("mount", () => {
        let fs2: LogFs;
        try {
          fs2 = mountFs(rig);
          seen.mounted++;
        } catch (e) {
          seen.mountRefused++;
          throw e;
        }
        try {
          expectFolio("walk", () => void observe(fs2));
        } finally {
          expectFolio("unmount", () => fs2.unmount());
        }
      });
      expectFolio("fsck --repair", () => {
        const rep = fsckOf(rig, true);
        if (rep.problems.length > 0 && !rep.problems.every((p) => p.repaired)) seen.partlyRepaired++;
        if (rep.problems.length > 0 && rep.problems.every((p) => p.repaired)) {
          seen.repairedAll++;
          const again = fsckOf(rig);
          if (!again.clean) throw new Error(`repair left problems (seed ${seed}): ${again.problems.map((p) => p.what).join(" | ")}`);
        }
      });
      return true;
    }),
    { numRuns: 300, seed: 4242 },
  );
  t.is(runs, 300);
  t.log(JSON.stringify(seen));
});

