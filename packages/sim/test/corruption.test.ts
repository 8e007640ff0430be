/**
 * Corrupted images of fs-simple: a bit flipped in each metadata block (superblocks, bitmaps,
 * inode table, directory blocks, indirect blocks), each metadata block zeroed, and images cut
 * short. fsck without repair must answer (a report, or a clear error) and never write (the
 * image's bytes are compared); fsck with repair must leave an image the next fsck finds clean;
 * mount must succeed or fail with a clear error, and a mounted corrupted image must answer every
 * call with a result or a clear error — never a crash or a hang. (A garbled inode can claim a
 * file of gigabytes; reading it fills the page cache, and with no reclaim yet every later call,
 * umount included, fails with ENOMEM: a clear error, counted as one.)
 */
import test from "ava";
import { Rng, isFolioError } from "@folio/core";
import { format } from "@folio/fs-simple";
import { RamStore, World, target, type FsTarget } from "../src/index.js";

const T: FsTarget = target("simple");
const B = format.BLOCK_SIZE;
/** A clear mount or fsck error. */
const CLEAR = new Set(["ENOMEM", "EINVAL", "EUCLEAN", "ENOSYS", "EIO", "ENOSPC", "ENOENT", "ENOTDIR", "EISDIR", "EFBIG", "EEXIST", "ENOTEMPTY", "ELOOP", "ENAMETOOLONG", "EMLINK"]);

function world(store: RamStore, seed = 3): World {
  return new World(store, T, { memory: "64MiB", seed, inflight: new Rng(seed) });
}

/** A populated, cleanly unmounted image: directories, small and large (indirect, double-indirect) files, symlinks, links. */
function image(): Uint8Array {
  const store = new RamStore(T.blocks * B);
  const w = world(store);
  T.mkfs(w.ctx());
  w.mount();
  const fs = w.fs;
  const rng = new Rng(77);
  fs.mkdirSync("/a/b/c", { recursive: true });
  fs.mkdirSync("/d");
  for (let i = 0; i < 40; i++) fs.writeFileSync(`/${["a", "a/b", "a/b/c", "d"][i % 4]}/f${i}`, new Uint8Array(rng.below(9000)).fill(i + 1));
  fs.writeFileSync("/a/big", new Uint8Array(300 * 1024).fill(7)); // indirect block
  const fd = fs.openSync("/d/sparse", "w");
  fs.writeSync(fd, new Uint8Array(5000).fill(9), 0, 5000, 1040 * B); // double-indirect block
  fs.closeSync(fd);
  fs.symlinkSync("/a/b", "/d/short");
  fs.symlinkSync("../".repeat(80) + "long", "/d/long");
  fs.linkSync("/a/f0", "/d/hard");
  w.umount();
  return store.snapshot();
}

/** Every metadata block: fixed metadata, then directory and indirect blocks found through the inode table. */
function metadataBlocks(img: Uint8Array): number[] {
  const sb = format.decodeSuper(img, 0, "image");
  const out = new Set<number>();
  for (let b = 0; b < sb.firstDataBlock; b++) out.add(b);
  for (let ino = 1; ino < sb.inodeCount; ino++) {
    const loc = format.inodeLocation(sb, ino);
    const raw = format.decodeInode(img, loc.block * B + loc.offset);
    if (raw.mode === 0 || raw.inline) continue;
    const isDir = (raw.mode & format.S_IFMT) === format.S_IFDIR;
    if (isDir) for (let i = 0; i < format.NDIR; i++) if (raw.ptrs[i]) out.add(raw.ptrs[i]!);
    const ind = raw.ptrs[format.NDIR]!;
    const dind = raw.ptrs[format.NDIR + 1]!;
    if (ind) out.add(ind);
    if (dind) {
      out.add(dind);
      for (let s = 0; s < format.PTRS_PER_BLOCK; s++) {
        const c = format.getU32(img, dind * B + s * 4);
        if (c) out.add(c);
      }
    }
  }
  return [...out].sort((a, b) => a - b);
}

/** What a corrupted image did, or why the test fails. */
function exercise(img: Uint8Array, what: string, seed: number): string[] {
  const bad: string[] = [];
  const store = RamStore.of(img);
  const clear = (e: unknown, where: string) => {
    if (isFolioError(e) && CLEAR.has(e.code)) return;
    bad.push(`${what}: ${where} threw ${e instanceof Error ? `${e.name} [${(e as { code?: string }).code ?? "-"}]: ${e.message}` : String(e)}`);
  };
  // fsck without repair: never writes.
  let w = world(store, seed);
  const before = store.snapshot();
  try {
    T.fsck(w.ctx(), false);
  } catch (e) {
    clear(e, "fsck");
  }
  if (Buffer.compare(Buffer.from(before), Buffer.from(store.bytes)) !== 0) bad.push(`${what}: fsck without repair changed the image`);
  // mount, and use what mounts.
  w = world(store, seed + 1);
  let mounted = false;
  try {
    w.mount();
    mounted = true;
  } catch (e) {
    clear(e, "mount");
  }
  if (mounted) {
    const walk = (dir: string, depth: number) => {
      if (depth > 20) return;
      let names: string[] = [];
      try {
        names = w.fs.readdirSync(dir) as string[];
      } catch (e) {
        clear(e, `readdir ${dir}`);
      }
      for (const n of names) {
        const p = dir === "/" ? `/${n}` : `${dir}/${n}`;
        try {
          const st = w.fs.lstatSync(p);
          if (st.isDirectory()) walk(p, depth + 1);
          else if (st.isSymbolicLink()) w.fs.readlinkSync(p);
          else {
            w.fs.readFileSync(p);
            w.fs.writeFileSync(p, "x", { flag: "a" });
          }
        } catch (e) {
          clear(e, `use of ${p}`);
        }
      }
      try {
        w.fs.writeFileSync(`${dir === "/" ? "" : dir}/new`, "new");
        w.fs.mkdirSync(`${dir === "/" ? "" : dir}/newdir`);
        w.fs.renameSync(`${dir === "/" ? "" : dir}/newdir`, "/moved" + depth);
      } catch (e) {
        clear(e, `changes in ${dir}`);
      }
    };
    walk("/", 0);
    try {
      w.umount();
    } catch (e) {
      clear(e, "umount");
    }
  }
  // fsck with repair, then a clean check.
  w = world(store, seed + 2);
  try {
    T.fsck(w.ctx(), true);
    const after = T.fsck(w.ctx(), false);
    if (!after.clean) bad.push(`${what}: fsck after repair is not clean: ${after.problems.slice(0, 3).map((p) => p.what).join("; ")}`);
  } catch (e) {
    clear(e, "fsck --repair");
  }
  return bad;
}

const IMG = image();
const META = metadataBlocks(IMG);

test("the image has every kind of metadata block", (t) => {
  const sb = format.decodeSuper(IMG, 0, "image");
  t.true(META.length > sb.firstDataBlock + 5, `${META.length} metadata blocks, ${sb.firstDataBlock} fixed`);
});

test("a bit flipped in each metadata block: clear errors, fsck never writes without repair, repair leaves a clean image", (t) => {
  const rng = new Rng(2024);
  const bad: string[] = [];
  let cases = 0;
  for (const block of META) {
    for (let k = 0; k < 3; k++) {
      const img = IMG.slice();
      // Flip a bit where it matters most often: the first bytes (headers, early inodes, entries) half the time.
      const byte = rng.chance(0.5) ? rng.below(256) : rng.below(B);
      img[block * B + byte]! ^= 1 << rng.below(8);
      bad.push(...exercise(img, `block ${block} byte ${byte}`, cases++));
    }
  }
  t.log(`${cases} images`);
  t.deepEqual(bad.slice(0, 15), [], `${bad.length} problems in ${cases} images`);
});

test("each metadata block zeroed: clear errors, fsck never writes without repair, repair leaves a clean image", (t) => {
  const bad: string[] = [];
  for (const block of META) {
    const img = IMG.slice();
    img.fill(0, block * B, (block + 1) * B);
    bad.push(...exercise(img, `block ${block} zeroed`, block));
  }
  t.deepEqual(bad.slice(0, 15), [], `${bad.length} problems in ${META.length} images`);
});

test("truncated images: clear errors, and no crash or hang", (t) => {
  const bad: string[] = [];
  for (const blocks of [1, 2, 3, 8, 30, 64, 100, 300, 700, T.blocks - 1]) {
    const img = IMG.slice(0, blocks * B);
    bad.push(...exercise(img, `image cut to ${blocks} blocks`, blocks));
  }
  t.deepEqual(bad.slice(0, 15), [], `${bad.length} problems`);
});

test("random garbage over the whole metadata area: clear errors", (t) => {
  const rng = new Rng(99);
  const sb = format.decodeSuper(IMG, 0, "image");
  const bad: string[] = [];
  for (let k = 0; k < 20; k++) {
    const img = IMG.slice();
    for (let i = 0; i < 200; i++) img[rng.below(sb.firstDataBlock * B)] = rng.below(256);
    bad.push(...exercise(img, `garbage ${k}`, k));
  }
  t.deepEqual(bad.slice(0, 15), [], `${bad.length} problems`);
});
