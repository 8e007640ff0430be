/**
 * A tree written with many kinds of calls, and a complete read-back of it. The suite runs it as
 * an ordinary scenario (write, then read back, compared with node:fs), and on filesystems with a
 * device also across an unmount and a mount of the same device: the read-back transcript after
 * the remount must equal the one before.
 */
import { at, pattern, type Scenario } from "./scenario.js";
import type { Recorder } from "./transcript.js";
import type { Fs } from "./setups.js";

/** Writes the tree under `root`. Times set with utimes are exact and compared everywhere. */
export function writeTree(fs: Fs, root: string): void {
  const p = at(root);
  fs.mkdirSync(p("docs/deep/deeper/deepest"), { recursive: true });
  fs.mkdirSync(p("empty"));
  fs.mkdirSync(p("private"), 0o700);
  fs.writeFileSync(p("small"), "tiny");
  fs.writeFileSync(p("inline-edge"), pattern(160, 1));
  fs.writeFileSync(p("inline-edge+1"), pattern(161, 2));
  fs.writeFileSync(p("one-page"), pattern(4096, 3));
  fs.writeFileSync(p("docs/direct"), pattern(12 * 4096, 4)); // every direct block
  fs.writeFileSync(p("docs/indirect"), pattern(12 * 4096 + 1, 5)); // one past them
  fs.writeFileSync(p("docs/deep/big"), pattern(5 * 1024 * 1024 + 3, 6)); // double indirect
  const fd = fs.openSync(p("docs/sparse"), "w");
  fs.writeSync(fd, "start", 0);
  fs.writeSync(fd, "middle", 3 * 1024 * 1024 + 5);
  fs.writeSync(fd, "end", 10 * 1024 * 1024);
  fs.closeSync(fd);
  fs.writeFileSync(p("shrunk"), pattern(50_000, 7));
  fs.truncateSync(p("shrunk"), 4097);
  fs.writeFileSync(p("grown"), "g");
  fs.truncateSync(p("grown"), 70_000);
  fs.writeFileSync(p("empty-file"), "");
  for (let i = 0; i < 120; i++) fs.writeFileSync(p(`docs/deep/n${i}-${"x".repeat(i)}`), `${i}`);
  for (let i = 0; i < 120; i += 3) fs.unlinkSync(p(`docs/deep/n${i}-${"x".repeat(i)}`));
  fs.linkSync(p("small"), p("docs/hardlink"));
  fs.linkSync(p("small"), p("docs/deep/deeper/hardlink2"));
  fs.symlinkSync("../small", p("docs/rel-link"));
  fs.symlinkSync("nowhere", p("dangling"));
  fs.symlinkSync("x".repeat(200), p("long-link"));
  fs.symlinkSync("y".repeat(3000), p("longer-link"));
  fs.symlinkSync("docs/deep", p("dir-link"));
  fs.writeFileSync(p("renamed-from"), "moved");
  fs.renameSync(p("renamed-from"), p("docs/deep/deeper/deepest/renamed-to"));
  fs.renameSync(p("docs/deep/deeper"), p("moved-dir"));
  fs.writeFileSync(p("replaced"), "old");
  fs.writeFileSync(p("replacement"), "new");
  fs.renameSync(p("replacement"), p("replaced"));
  fs.writeFileSync(p("mode600"), "m", { mode: 0o600 });
  fs.chmodSync(p("mode600"), 0o640);
  fs.writeFileSync(p("appended"), "a");
  for (let i = 0; i < 50; i++) fs.appendFileSync(p("appended"), pattern(97, i));
  fs.writeFileSync(p("timed"), "t");
  fs.utimesSync(p("timed"), 1_234_567_890.5, 987_654_321.25);
  fs.utimesSync(p("empty"), 1_000_000, 2_000_000);
  fs.writeFileSync(p("naïve ünïcödé €"), "utf8 name");
  fs.writeFileSync(p("n".repeat(255)), "long name");
  fs.mkdirSync(p("many"));
  for (let i = 0; i < 400; i++) fs.writeFileSync(p(`many/f${i}`), i % 7 === 0 ? pattern(i * 31, i) : "");
  fs.rmSync(p("many/f13"));
  fs.copyFileSync(p("docs/indirect"), p("copied"));
  fs.writeFileSync(p("removed"), "gone");
  fs.unlinkSync(p("removed"));
  fs.mkdirSync(p("removed-dir/sub"), { recursive: true });
  fs.rmSync(p("removed-dir"), { recursive: true });
}

/**
 * Reads everything under `root` back: every entry's lstat, every file's bytes, every link's
 * target. With `exact` (comparing a filesystem with itself across a remount), also every inode
 * number, mtime and ctime to the nanosecond.
 */
export function readTree(fs: Fs, root: string, rec: Recorder, exact = false): void {
  const rel = (path: string) => (path === root ? "." : path.slice(root.length + 1));
  const walk = (dir: string) => {
    const names = rec.call(`readdir ${rel(dir)}`, () => fs.readdirSync(dir).sort()) ?? [];
    for (const name of names) {
      const path = `${dir}/${name}`;
      const label = rel(path);
      const st = rec.call(`lstat ${label}`, () => fs.lstatSync(path));
      if (!st) continue;
      if (name === "timed" || name === "empty") rec.note(`mtime of ${label}`, st.mtimeMs);
      if (exact) {
        const big = fs.lstatSync(path, { bigint: true });
        rec.note(`ino, mtime, ctime of ${label}`, [big.ino, big.mtimeNs, big.ctimeNs]);
      }
      if (st.isDirectory()) walk(path);
      else if (st.isSymbolicLink()) rec.call(`readlink ${label}`, () => fs.readlinkSync(path));
      else rec.call(`read ${label}`, () => fs.readFileSync(path));
    }
  };
  walk(root);
}

/** What {@link writeTree} made besides the bytes: links share inodes, symlinks resolve. */
export function checkTree(fs: Fs, root: string, rec: Recorder): void {
  const ino = (rel: string) => fs.statSync(`${root}/${rel}`).ino;
  rec.note("hard links share an inode", ino("small") === ino("docs/hardlink") && ino("small") === ino("moved-dir/hardlink2"));
  rec.call("follow the relative link", () => fs.readFileSync(`${root}/docs/rel-link`, "utf8"));
  rec.call("follow the dir link", () => fs.readdirSync(`${root}/dir-link`).length);
  rec.call("realpath through the dir link", () => fs.realpathSync.native(`${root}/dir-link/big`));
}

export const PERSIST_SCENARIO: Scenario = {
  name: "a tree written by many calls, read back",
  run(fs, root, rec) {
    rec.call("write the tree", () => writeTree(fs, root));
    readTree(fs, root, rec);
    checkTree(fs, root, rec);
  },
};
