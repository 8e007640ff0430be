/**
 * Permission scenarios. The tests run as root, where node:fs never says EACCES, so these run only
 * on Folio (with non-root `vfs.creds`) and are checked against expectations written from POSIX
 * (and Linux where POSIX leaves a choice): each call states the outcome it must have.
 */
import type { Credentials } from "../../src/index.js";
import { at } from "./scenario.js";
import type { Recorder } from "./transcript.js";
import type { Fs } from "./setups.js";

/** What a call must do: succeed ("ok"), fail with a code, or succeed with a value. */
export type Expectation = "ok" | `E${string}` | { value: unknown };

export interface PosixContext {
  fs: Fs;
  root: string;
  /** Runs the following calls as `who`. */
  as(who: Credentials): void;
  /** Records a call, and the outcome POSIX says it has. */
  expect(label: string, fn: () => unknown, outcome: Expectation): void;
}

export interface PosixScenario {
  name: string;
  run(ctx: PosixContext): void;
}

export const ROOT: Credentials = { uid: 0, gid: 0 };
const ALICE: Credentials = { uid: 1000, gid: 1000, groups: [100] };
const BOB: Credentials = { uid: 1001, gid: 100 };
const CAROL: Credentials = { uid: 1002, gid: 200 };
const DAVE: Credentials = { uid: 1003, gid: 300, groups: [100] };

/** The outcome of one recorded call, in the terms of an {@link Expectation}. */
export function project(rec: Recorder, index: number, expected: Expectation): unknown {
  const o = rec.entries[index]!.outcome;
  if ("err" in o) return o.err.code;
  return typeof expected === "object" ? { value: o.ok } : "ok";
}

const mode = (fs: Fs, path: string) => fs.statSync(path).mode & 0o7777;
const owner = (fs: Fs, path: string) => {
  const s = fs.statSync(path);
  return [s.uid, s.gid];
};

export const POSIX_SCENARIOS: PosixScenario[] = [
  {
    name: "file permission bits: owner, group, others; root",
    run({ fs, root, as, expect }) {
      const p = at(root);
      const { R_OK, W_OK, X_OK } = fs.constants;
      as(ROOT);
      fs.writeFileSync(p("f"), "secret", { mode: 0o640 });
      fs.chownSync(p("f"), ALICE.uid, 100);
      expect("mode 0640 as created", () => mode(fs, p("f")), { value: 0o640 });
      as(ALICE);
      expect("owner reads", () => fs.readFileSync(p("f"), "utf8"), { value: "secret" });
      expect("owner writes", () => fs.appendFileSync(p("f"), "!"), "ok");
      expect("owner may not execute", () => fs.accessSync(p("f"), X_OK), "EACCES");
      as(BOB);
      expect("group reads", () => fs.readFileSync(p("f"), "utf8"), { value: "secret!" });
      expect("group may not open r+", () => fs.openSync(p("f"), "r+"), "EACCES");
      expect("group may not open w (O_TRUNC)", () => fs.openSync(p("f"), "w"), "EACCES");
      expect("group may not append", () => fs.appendFileSync(p("f"), "x"), "EACCES");
      expect("group may not truncate", () => fs.truncateSync(p("f"), 0), "EACCES");
      expect("group access R_OK", () => fs.accessSync(p("f"), R_OK), "ok");
      expect("group access W_OK", () => fs.accessSync(p("f"), W_OK), "EACCES");
      expect("stat needs no permission on the file", () => fs.statSync(p("f")).size, { value: 7 });
      as(CAROL);
      expect("others may not read", () => fs.readFileSync(p("f")), "EACCES");
      expect("others: exists", () => fs.existsSync(p("f")), { value: true });
      expect("others: access F_OK", () => fs.accessSync(p("f")), "ok");
      expect("others may not copy it", () => fs.copyFileSync(p("f"), p("copy")), "EACCES");
      as(DAVE);
      expect("a supplementary group counts", () => fs.readFileSync(p("f"), "utf8"), { value: "secret!" });
      as(ROOT);
      fs.chmodSync(p("f"), 0o077);
      as(ALICE);
      expect("the owner class applies to the owner even when others may", () => fs.readFileSync(p("f")), "EACCES");
      as(BOB);
      expect("the group class applies to the group", () => fs.readFileSync(p("f"), "utf8"), { value: "secret!" });
      as(ROOT);
      fs.chmodSync(p("f"), 0o000);
      expect("root reads a 0000 file", () => fs.readFileSync(p("f"), "utf8"), { value: "secret!" });
      expect("root writes a 0000 file", () => fs.appendFileSync(p("f"), "?"), "ok");
      expect("root may not execute a file with no x bit", () => fs.accessSync(p("f"), X_OK), "EACCES");
      fs.chmodSync(p("f"), 0o001);
      expect("root may execute a file with any x bit", () => fs.accessSync(p("f"), X_OK), "ok");
    },
  },
  {
    name: "open flags against permissions",
    run({ fs, root, as, expect }) {
      const p = at(root);
      const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC } = fs.constants;
      as(ROOT);
      fs.chmodSync(root, 0o777);
      as(ALICE);
      fs.writeFileSync(p("wo"), "w", { mode: 0o200 });
      fs.writeFileSync(p("ro"), "r", { mode: 0o400 });
      expect("O_RDONLY on write-only", () => fs.openSync(p("wo"), O_RDONLY), "EACCES");
      expect("O_WRONLY on write-only", () => fs.closeSync(fs.openSync(p("wo"), O_WRONLY)), "ok");
      expect("O_RDWR on write-only", () => fs.openSync(p("wo"), O_RDWR), "EACCES");
      expect("O_RDONLY on read-only", () => fs.closeSync(fs.openSync(p("ro"), O_RDONLY)), "ok");
      expect("O_RDONLY|O_TRUNC on read-only", () => fs.openSync(p("ro"), O_RDONLY | O_TRUNC), "EACCES");
      expect("O_CREAT|O_WRONLY on an existing read-only file", () => fs.openSync(p("ro"), O_CREAT | O_WRONLY), "EACCES");
      expect("readFile write-only", () => fs.readFileSync(p("wo")), "EACCES");
      expect("writeFile read-only", () => fs.writeFileSync(p("ro"), "x"), "EACCES");
      expect("truncate read-only", () => fs.truncateSync(p("ro"), 0), "EACCES");
      expect("copyFile onto a read-only file", () => fs.copyFileSync(p("ro"), p("ro")), "EACCES");
      expect("copyFile from write-only", () => fs.copyFileSync(p("wo"), p("x")), "EACCES");
      let fd = -1;
      expect("creating a 0444 file O_RDWR gives a writable descriptor", () => {
        fd = fs.openSync(p("new"), O_CREAT | O_RDWR, 0o444);
      }, "ok");
      expect("write through it", () => fs.writeSync(fd, "data"), { value: 4 });
      expect("ftruncate through it", () => fs.ftruncateSync(fd, 2), "ok");
      expect("read through it", () => {
        const b = Buffer.alloc(4);
        return b.subarray(0, fs.readSync(fd, b, 0, 4, 0)).toString();
      }, { value: "da" });
      expect("close it", () => fs.closeSync(fd), "ok");
      expect("its mode", () => mode(fs, p("new")), { value: 0o444 });
      expect("reopening it for writing", () => fs.openSync(p("new"), "r+"), "EACCES");
      as(BOB);
      expect("another user, O_CREAT on an existing file he cannot write", () => fs.openSync(p("new"), O_CREAT | O_WRONLY), "EACCES");
    },
  },
  {
    name: "directory permissions: search, read, write",
    run({ fs, root, as, expect }) {
      const p = at(root);
      as(ROOT);
      fs.mkdirSync(p("d"));
      fs.writeFileSync(p("d/f"), "in d");
      fs.chmodSync(p("d/f"), 0o666);
      fs.chownSync(p("d"), ALICE.uid, ALICE.gid);
      const chmod = (m: number) => {
        as(ROOT);
        fs.chmodSync(p("d"), m);
        as(BOB);
      };
      chmod(0o754); // others r--: names, but no search
      expect("readdir without search", () => fs.readdirSync(p("d")), { value: ["f"] });
      expect("stat through a dir without search", () => fs.statSync(p("d/f")), "EACCES");
      expect("open through a dir without search", () => fs.openSync(p("d/f"), "r"), "EACCES");
      expect("exists through a dir without search", () => fs.existsSync(p("d/f")), { value: false });
      expect("realpath through a dir without search", () => fs.realpathSync.native(p("d/f")), "EACCES");
      expect("stat the dir itself", () => fs.statSync(p("d")).isDirectory(), { value: true });
      chmod(0o711); // others --x: search, no names
      expect("readdir without read", () => fs.readdirSync(p("d")), "EACCES");
      expect("stat with search only", () => fs.statSync(p("d/f")).size, { value: 4 });
      expect("read a file with search only", () => fs.readFileSync(p("d/f"), "utf8"), { value: "in d" });
      expect("write a writable file in a dir without write", () => fs.writeFileSync(p("d/f"), "edit"), "ok");
      chmod(0o755); // others r-x: no write
      expect("create in a dir without write", () => fs.writeFileSync(p("d/new"), ""), "EACCES");
      expect("mkdir in a dir without write", () => fs.mkdirSync(p("d/sub")), "EACCES");
      expect("symlink in a dir without write", () => fs.symlinkSync("f", p("d/l")), "EACCES");
      expect("link into a dir without write", () => fs.linkSync(p("d/f"), p("d/g")), "EACCES");
      expect("unlink in a dir without write", () => fs.unlinkSync(p("d/f")), "EACCES");
      expect("rename in a dir without write", () => fs.renameSync(p("d/f"), p("d/g")), "EACCES");
      expect("rename out of a dir without write", () => fs.renameSync(p("d/f"), p("g")), "EACCES");
      expect("rm in a dir without write", () => fs.rmSync(p("d/f")), "EACCES");
      expect("nothing changed", () => fs.readdirSync(p("d")), { value: ["f"] });
      chmod(0o753); // others -wx: create and remove, but no names
      expect("create with write+search", () => fs.writeFileSync(p("d/new"), "n"), "ok");
      expect("new file belongs to the caller", () => owner(fs, p("d/new")), { value: [BOB.uid, BOB.gid] });
      expect("readdir still refused", () => fs.readdirSync(p("d")), "EACCES");
      expect("rename within", () => fs.renameSync(p("d/new"), p("d/new2")), "ok");
      expect("unlink another user's file (no sticky bit)", () => fs.unlinkSync(p("d/f")), "ok");
      expect("mkdir with write+search", () => fs.mkdirSync(p("d/sub")), "ok");
      chmod(0o752); // others -w-: write without search is useless
      expect("create with write but no search", () => fs.writeFileSync(p("d/other"), ""), "EACCES");
      expect("unlink with write but no search", () => fs.unlinkSync(p("d/new2")), "EACCES");
      chmod(0o700);
      expect("chdir-less walk through a 0700 dir", () => fs.statSync(p("d/sub")), "EACCES");
      as(ALICE);
      expect("the owner walks her 0700 dir", () => fs.readdirSync(p("d")).sort(), { value: ["new2", "sub"] });
      as(ROOT);
      expect("root walks every dir", () => fs.readdirSync(p("d")).length, { value: 2 });
    },
  },
  {
    name: "sticky directories",
    run({ fs, root, as, expect }) {
      const p = at(root);
      as(ROOT);
      fs.mkdirSync(p("tmp"), 0o1777);
      fs.chmodSync(p("tmp"), 0o1777);
      as(ALICE);
      fs.writeFileSync(p("tmp/alice"), "a");
      fs.mkdirSync(p("tmp/alicedir"));
      as(BOB);
      fs.writeFileSync(p("tmp/bob"), "b");
      expect("unlink another user's file", () => fs.unlinkSync(p("tmp/alice")), "EPERM");
      expect("rmdir another user's dir", () => fs.rmdirSync(p("tmp/alicedir")), "EPERM");
      expect("rename another user's file", () => fs.renameSync(p("tmp/alice"), p("tmp/mine")), "EPERM");
      expect("rename over another user's file", () => fs.renameSync(p("tmp/bob"), p("tmp/alice")), "EPERM");
      expect("create next to them", () => fs.writeFileSync(p("tmp/bob2"), ""), "ok");
      expect("rename own file", () => fs.renameSync(p("tmp/bob2"), p("tmp/bob3")), "ok");
      expect("unlink own file", () => fs.unlinkSync(p("tmp/bob3")), "ok");
      expect("another user's file is still readable if its mode says so", () => fs.readFileSync(p("tmp/alice"), "utf8"), { value: "a" });
      as(ALICE);
      expect("the owner unlinks her file", () => fs.unlinkSync(p("tmp/alice")), "ok");
      as(ROOT);
      fs.chownSync(p("tmp"), CAROL.uid, CAROL.gid);
      as(CAROL);
      expect("the directory's owner unlinks anyone's file", () => fs.unlinkSync(p("tmp/bob")), "ok");
      expect("and removes anyone's dir", () => fs.rmdirSync(p("tmp/alicedir")), "ok");
      expect("left", () => fs.readdirSync(p("tmp")), { value: [] });
    },
  },
  {
    name: "ownership: chmod, chown, utimes",
    run({ fs, root, as, expect }) {
      const p = at(root);
      as(ROOT);
      fs.chmodSync(root, 0o777);
      as(ALICE);
      fs.writeFileSync(p("f"), "x");
      expect("owned by alice", () => owner(fs, p("f")), { value: [ALICE.uid, ALICE.gid] });
      as(BOB);
      expect("chmod someone else's file", () => fs.chmodSync(p("f"), 0o666), "EPERM");
      expect("utimes with times on someone else's file", () => fs.utimesSync(p("f"), 1, 2), "EPERM");
      expect("chown someone else's file", () => fs.chownSync(p("f"), BOB.uid, BOB.gid), "EPERM");
      as(ALICE);
      expect("chmod own file", () => fs.chmodSync(p("f"), 0o600), "ok");
      expect("mode", () => mode(fs, p("f")), { value: 0o600 });
      expect("utimes own file", () => fs.utimesSync(p("f"), 10, 20), "ok");
      expect("mtime", () => fs.statSync(p("f")).mtimeMs, { value: 20_000 });
      expect("give the file away", () => fs.chownSync(p("f"), BOB.uid, -1), "EPERM");
      expect("chown to own uid is allowed", () => fs.chownSync(p("f"), ALICE.uid, -1), "ok");
      expect("chown to a group she is in", () => fs.chownSync(p("f"), -1, 100), "ok");
      expect("group changed", () => owner(fs, p("f")), { value: [ALICE.uid, 100] });
      expect("chown to a group she is not in", () => fs.chownSync(p("f"), -1, 200), "EPERM");
      expect("chmod setgid on a file of one of her groups keeps it", () => {
        fs.chmodSync(p("f"), 0o2755);
        return mode(fs, p("f"));
      }, { value: 0o2755 });
      as(ROOT);
      fs.chownSync(p("f"), ALICE.uid, 200);
      as(ALICE);
      // POSIX chmod: without privilege, S_ISGID is cleared on a regular file whose group the caller is not in.
      expect("chmod setgid on a file of a group she is not in clears it", () => {
        fs.chmodSync(p("f"), 0o2755);
        return mode(fs, p("f"));
      }, { value: 0o755 });
      as(ROOT);
      fs.chownSync(p("f"), ALICE.uid, ALICE.gid);
      fs.chmodSync(p("f"), 0o6755);
      as(ALICE);
      // POSIX chown: without privilege, S_ISUID and S_ISGID of a regular file are cleared.
      expect("chown by the owner clears set-user-ID and set-group-ID", () => {
        fs.chownSync(p("f"), -1, 100);
        return mode(fs, p("f"));
      }, { value: 0o755 });
      as(ROOT);
      expect("root gives files away", () => fs.chownSync(p("f"), BOB.uid, BOB.gid), "ok");
      expect("owner now", () => owner(fs, p("f")), { value: [BOB.uid, BOB.gid] });
      expect("root chmods anything", () => fs.chmodSync(p("f"), 0o604), "ok");
      as(BOB);
      expect("lchown of own symlink", () => {
        fs.symlinkSync("f", p("l"));
        fs.lchownSync(p("l"), -1, BOB.gid);
      }, "ok");
    },
  },
  {
    name: "new files: owner, group, umask, set-group-ID directories",
    run({ fs, root, as, expect }) {
      const p = at(root);
      as(ROOT);
      fs.chmodSync(root, 0o777);
      fs.mkdirSync(p("sg"), 0o777);
      fs.chownSync(p("sg"), ROOT.uid, 500);
      fs.chmodSync(p("sg"), 0o2777);
      as(BOB);
      fs.writeFileSync(p("plain"), "");
      fs.mkdirSync(p("pdir"));
      expect("file: caller's uid and gid", () => owner(fs, p("plain")), { value: [BOB.uid, BOB.gid] });
      expect("file mode 0666 & ~022", () => mode(fs, p("plain")), { value: 0o644 });
      expect("dir mode 0777 & ~022", () => mode(fs, p("pdir")), { value: 0o755 });
      fs.writeFileSync(p("sg/f"), "");
      fs.mkdirSync(p("sg/d"));
      expect("file in a setgid dir takes the dir's group", () => owner(fs, p("sg/f")), { value: [BOB.uid, 500] });
      expect("subdir takes the group", () => owner(fs, p("sg/d")), { value: [BOB.uid, 500] });
      expect("and the setgid bit", () => mode(fs, p("sg/d")), { value: 0o2755 });
      expect("and passes it on", () => {
        fs.mkdirSync(p("sg/d/e"));
        return [owner(fs, p("sg/d/e")), mode(fs, p("sg/d/e"))];
      }, { value: [[BOB.uid, 500], 0o2755] });
      expect("O_CREAT on an existing file ignores the mode", () => {
        fs.closeSync(fs.openSync(p("plain"), "a", 0o600));
        return mode(fs, p("plain"));
      }, { value: 0o644 });
    },
  },
  {
    name: "moving a directory to another parent needs write permission on it",
    run({ fs, root, as, expect }) {
      const p = at(root);
      as(ROOT);
      fs.chmodSync(root, 0o777);
      fs.mkdirSync(p("p1"), 0o777);
      fs.mkdirSync(p("p2"), 0o777);
      fs.chmodSync(p("p1"), 0o777);
      fs.chmodSync(p("p2"), 0o777);
      fs.mkdirSync(p("p1/rootdir"), 0o755);
      fs.writeFileSync(p("p1/rootfile"), "", { mode: 0o644 });
      as(ALICE);
      expect("rename root's dir within its parent", () => fs.renameSync(p("p1/rootdir"), p("p1/renamed")), "ok");
      expect("move root's dir to another parent", () => fs.renameSync(p("p1/renamed"), p("p2/moved")), "EACCES");
      expect("move root's file to another parent", () => fs.renameSync(p("p1/rootfile"), p("p2/moved-file")), "ok");
      expect("move own dir to another parent", () => {
        fs.mkdirSync(p("p1/mine"));
        fs.renameSync(p("p1/mine"), p("p2/mine"));
      }, "ok");
      expect("where things are", () => [fs.readdirSync(p("p1")).sort(), fs.readdirSync(p("p2")).sort()], { value: [["renamed"], ["mine", "moved-file"]] });
    },
  },
];
