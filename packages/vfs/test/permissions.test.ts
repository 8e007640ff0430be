import test from "ava";
import { R_OK, W_OK, X_OK } from "../src/index.js";
import { boot, throwsCode } from "./helpers.js";

/** A tree made by root: /pub (0755), /priv (0700), /tmp (1777), /pub/secret (0600), /pub/open (0666), /pub/tool (0755). */
function setup() {
  const b = boot();
  const { fs } = b;
  fs.mkdirSync("/pub", 0o755);
  fs.mkdirSync("/priv", 0o700);
  fs.mkdirSync("/tmp");
  fs.chmodSync("/tmp", 0o1777);
  fs.writeFileSync("/pub/secret", "root only", { mode: 0o600 });
  fs.writeFileSync("/pub/open", "anyone", { mode: 0o666 });
  fs.chmodSync("/pub/open", 0o666); // the umask took the group and other write bits
  fs.writeFileSync("/pub/tool", "#!", { mode: 0o755 });
  fs.writeFileSync("/priv/hidden", "x");
  return b;
}

const alice = { uid: 1000, gid: 1000 };
const bob = { uid: 1001, gid: 1001 };

test("root bypasses read, write and search checks, but executes only files with an execute bit", (t) => {
  const { fs, vfs } = setup();
  fs.chmodSync("/pub/secret", 0);
  t.is(fs.readFileSync("/pub/secret", "utf8"), "root only");
  fs.writeFileSync("/pub/secret", "still root");
  fs.chmodSync("/priv", 0);
  t.is(fs.readFileSync("/priv/hidden", "utf8"), "x");
  fs.accessSync("/pub/secret", R_OK | W_OK);
  fs.accessSync("/priv", R_OK | W_OK | X_OK);
  fs.accessSync("/pub/tool", X_OK);
  throwsCode(t, () => fs.accessSync("/pub/secret", X_OK), "EACCES", { syscall: "access", message: "EACCES: permission denied, access '/pub/secret'" });
  t.is(vfs.creds.uid, 0);
});

test("a non-root user: EACCES reading or writing without the bits, searching without x, creating or removing without w+x", (t) => {
  const { fs, vfs } = setup();
  vfs.creds = alice;
  throwsCode(t, () => fs.readFileSync("/pub/secret"), "EACCES", { syscall: "open", path: "/pub/secret" });
  throwsCode(t, () => fs.openSync("/pub/secret", "w"), "EACCES");
  throwsCode(t, () => fs.openSync("/pub/tool", "r+"), "EACCES");
  t.is(fs.readFileSync("/pub/tool", "utf8"), "#!");
  t.is(fs.readFileSync("/pub/open", "utf8"), "anyone");
  fs.writeFileSync("/pub/open", "changed by alice");
  throwsCode(t, () => fs.statSync("/priv/hidden"), "EACCES", { syscall: "stat" });
  throwsCode(t, () => fs.readdirSync("/priv"), "EACCES", { syscall: "scandir" });
  t.true(fs.statSync("/priv").isDirectory(), "stat of the directory itself needs only search on its parent");
  throwsCode(t, () => fs.writeFileSync("/pub/mine", "x"), "EACCES", { syscall: "open" });
  throwsCode(t, () => fs.mkdirSync("/pub/d"), "EACCES", { syscall: "mkdir" });
  throwsCode(t, () => fs.unlinkSync("/pub/open"), "EACCES", { syscall: "unlink" });
  throwsCode(t, () => fs.renameSync("/pub/open", "/tmp/open"), "EACCES", { syscall: "rename" });
  throwsCode(t, () => fs.symlinkSync("x", "/pub/l"), "EACCES");
  throwsCode(t, () => fs.linkSync("/pub/open", "/pub/l"), "EACCES");
  throwsCode(t, () => fs.accessSync("/pub/secret", R_OK), "EACCES");
  fs.accessSync("/pub/tool", R_OK | X_OK);
  throwsCode(t, () => fs.truncateSync("/pub/secret"), "EACCES", { syscall: "open" });
  t.false(fs.existsSync("/priv/hidden"), "existsSync reports what it can reach");
});

test("files a user creates are theirs, with the umask applied; the owner class decides", (t) => {
  const { fs, vfs } = setup();
  vfs.creds = alice;
  fs.writeFileSync("/tmp/a", "alice's");
  const st = fs.statSync("/tmp/a");
  t.is(st.uid, 1000);
  t.is(st.gid, 1000);
  t.is(st.mode & 0o777, 0o644);
  vfs.umask = 0o077;
  fs.mkdirSync("/tmp/adir");
  t.is(fs.statSync("/tmp/adir").mode & 0o777, 0o700);
  fs.chmodSync("/tmp/a", 0o060);
  throwsCode(t, () => fs.readFileSync("/tmp/a"), "EACCES", undefined);
  vfs.creds = { uid: 1002, gid: 1000 };
  t.is(fs.readFileSync("/tmp/a", "utf8"), "alice's", "the group bits apply to a member of the group");
  vfs.creds = { uid: 1002, gid: 5, groups: [1000] };
  t.is(fs.readFileSync("/tmp/a", "utf8"), "alice's", "supplementary groups count");
});

test("the sticky bit: only the owner of the file or of the directory may remove or rename", (t) => {
  const { fs, vfs } = setup();
  vfs.creds = alice;
  fs.writeFileSync("/tmp/alices", "a");
  vfs.creds = bob;
  throwsCode(t, () => fs.unlinkSync("/tmp/alices"), "EPERM", { syscall: "unlink" });
  throwsCode(t, () => fs.renameSync("/tmp/alices", "/tmp/bobs"), "EPERM");
  fs.writeFileSync("/tmp/bobs", "b");
  fs.unlinkSync("/tmp/bobs");
  vfs.creds = alice;
  fs.unlinkSync("/tmp/alices");
});

test("chmod, chown and utimes need the owner (or root): EPERM otherwise", (t) => {
  const { fs, vfs } = setup();
  vfs.creds = alice;
  throwsCode(t, () => fs.chmodSync("/pub/open", 0o600), "EPERM", { syscall: "chmod" });
  throwsCode(t, () => fs.utimesSync("/pub/open", 1, 1), "EPERM", { syscall: "utime" });
  throwsCode(t, () => fs.chownSync("/pub/open", 1000, 1000), "EPERM", { syscall: "chown" });
  fs.writeFileSync("/tmp/f", "");
  fs.chmodSync("/tmp/f", "600");
  t.is(fs.statSync("/tmp/f").mode & 0o7777, 0o600);
  fs.utimesSync("/tmp/f", 100, 200);
  t.is(fs.statSync("/tmp/f").mtimeMs, 200_000);
  throwsCode(t, () => fs.chownSync("/tmp/f", 0, -1), "EPERM", { message: "EPERM: operation not permitted, chown '/tmp/f'" });
  fs.chownSync("/tmp/f", -1, 1000);
  vfs.creds = { uid: 0, gid: 0 };
  fs.chownSync("/tmp/f", 42, 43);
  t.like(fs.statSync("/tmp/f"), { uid: 42, gid: 43 });
});

test("a set-group-ID directory gives new entries its group, and new directories its bit", (t) => {
  const { fs, vfs } = setup();
  fs.mkdirSync("/shared", 0o777);
  fs.chownSync("/shared", 0, 500);
  fs.chmodSync("/shared", 0o2777);
  vfs.creds = alice;
  fs.writeFileSync("/shared/f", "");
  fs.mkdirSync("/shared/d");
  t.is(fs.statSync("/shared/f").gid, 500);
  t.is(fs.statSync("/shared/d").gid, 500);
  t.true((fs.statSync("/shared/d").mode & 0o2000) !== 0);
});

test("only root mounts and unmounts", (t) => {
  const { fs, vfs } = setup();
  vfs.creds = alice;
  throwsCode(t, () => vfs.mount("/tmp", "ramfs"), "EPERM", { syscall: "mount" });
  vfs.creds = { uid: 0, gid: 0 };
  vfs.mount("/tmp", "ramfs");
  vfs.creds = alice;
  throwsCode(t, () => vfs.umount("/tmp"), "EPERM", { syscall: "umount" });
  t.is(fs.readdirSync("/tmp").length, 0);
});
