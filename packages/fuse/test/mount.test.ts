/**
 * Real mounts: a daemon process serves a Folio filesystem through /dev/fuse, and ordinary programs
 * (cp, diff, git, sqlite3, fio) run on it. Skipped, saying why, only where /dev/fuse is absent or
 * this process may not mount (not root) and CI is not set; under CI=true those fail instead.
 */
import test, { type ExecutionContext } from "ava";
import { existsSync, promises as fsp, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { mountFolio, umountFolio, type MountedFolio } from "../src/cli.js";
import type { MountConfig } from "../src/daemon.js";
import { fuseMountAt, processAlive, readRecord, recordPath } from "../src/runtime.js";
import { fusePrerequisites, requirePrerequisites, run, tempDir } from "./helpers.js";

const pre = fusePrerequisites();
if (pre.skip !== null) console.log(`real-mount FUSE tests skipped: ${pre.skip} (they run where /dev/fuse exists and as root; under CI=true they never skip)`);
const mountTest = (title: string, fn: (t: ExecutionContext) => Promise<void>) =>
  pre.skip !== null ? test.skip(`${title} (skipped: ${pre.skip})`, fn) : test.serial(title, fn);

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const BIN = fileURLToPath(new URL("../../bin/folio-mount.js", import.meta.url));

/** Mounts `config` on a fresh directory; `done` unmounts (if still mounted) and removes the directory. */
async function withMount<T>(config: Omit<MountConfig, "mountpoint">, fn: (mnt: string, m: MountedFolio) => Promise<T>): Promise<T> {
  const dir = tempDir("folio-fuse-mnt-");
  const m = await mountFolio({ size: "256MiB", memory: "256MiB", ...config, mountpoint: dir.path });
  try {
    return await fn(m.mountpoint, m);
  } finally {
    if (fuseMountAt(m.mountpoint) !== undefined) await umountFolio(m.mountpoint);
    dir.cleanup();
    rmSync(m.log, { force: true });
  }
}

/** sha256 of every file under `dir`, by relative path, read in a child process (sha256sum). */
async function checksums(dir: string): Promise<string> {
  const { stdout } = await run("sh", ["-c", "find . -type f -print0 | sort -z | xargs -0 sha256sum"], { cwd: dir, maxBuffer: 64 << 20 });
  return stdout;
}

/** A source tree of the repository: a few thousand KiB in a few hundred files, without build output or node_modules. */
const SOURCES = ["packages/core/src", "packages/pagecache/src", "packages/vfs/src", "packages/fs-simple/src", "packages/fs-log/src", "docs"].map((p) => join(ROOT, p));

for (const fs of ["simple", "log"] as const) {
  mountTest(`fs-${fs}: cp -r a source tree in, diff -r it back`, async (t) => {
    if (!requirePrerequisites(t, pre)) return;
    await withMount({ fs }, async (mnt) => {
      await fsp.mkdir(join(mnt, "tree"));
      for (const src of SOURCES) await run("cp", ["-r", src, join(mnt, "tree", src.split("/").slice(-2).join("-"))]);
      for (const src of SOURCES) {
        const r = await run("diff", ["-r", src, join(mnt, "tree", src.split("/").slice(-2).join("-"))]).then(() => 0, (e: { code: number; stdout: string }) => (t.log(e.stdout), e.code));
        t.is(r, 0, `diff -r ${src}`);
      }
      // The same tree again through the kernel's own cp with every attribute, then removed.
      await run("cp", ["-a", join(mnt, "tree"), join(mnt, "copy")]);
      await run("diff", ["-r", join(mnt, "tree"), join(mnt, "copy")]);
      await run("rm", ["-rf", join(mnt, "copy")]);
      t.false(existsSync(join(mnt, "copy")));
    });
  });
}

mountTest("a plugin filesystem from --module: mounted by its type name, used through the kernel", async (t) => {
  if (!requirePrerequisites(t, pre)) return;
  const plugin = fileURLToPath(new URL("../../test/fixtures/plugin.mjs", import.meta.url));
  await withMount({ fs: "plugin-simple", modules: [plugin] }, async (mnt) => {
    const mounts = readFileSync("/proc/mounts", "utf8");
    t.regex(mounts, new RegExp(` ${mnt} fuse\\.folio-plugin-simple `), "the host sees the plugin's type as the mount's subtype");
    await run("cp", [join(ROOT, "README.md"), join(mnt, "readme.md")]);
    await run("cmp", [join(ROOT, "README.md"), join(mnt, "readme.md")]);
  });
});

mountTest("git init, add, commit, log, status, fsck in the mount", async (t) => {
  if (!requirePrerequisites(t, pre)) return;
  await withMount({ fs: "simple" }, async (mnt) => {
    const repo = join(mnt, "repo");
    const git = (...args: string[]) => run("git", ["-c", "user.name=Folio", "-c", "user.email=folio@example.invalid", "-c", "init.defaultBranch=main", ...args], { cwd: repo });
    await fsp.mkdir(repo);
    await git("init", "-q");
    await run("cp", ["-r", join(ROOT, "packages/vfs/src"), join(repo, "src")]);
    await git("add", ".");
    await git("commit", "-q", "-m", "first");
    await fsp.appendFile(join(repo, "src/index.ts"), "// changed on a Folio mount\n");
    await fsp.writeFile(join(repo, "NEW"), "new file\n");
    const status = (await git("status", "--porcelain")).stdout;
    t.is(status, " M src/index.ts\n?? NEW\n");
    await git("add", "-A");
    await git("commit", "-q", "-m", "second");
    const log = (await git("log", "--format=%s")).stdout;
    t.is(log, "second\nfirst\n");
    t.is((await git("status", "--porcelain")).stdout, "");
    await git("gc", "-q");
    await git("fsck", "--full");
    t.is((await git("show", "HEAD:NEW")).stdout, "new file\n");
  });
});

mountTest("sqlite3: a transaction workload, then PRAGMA integrity_check is ok (rollback journal and WAL)", async (t) => {
  if (!requirePrerequisites(t, pre)) return;
  await withMount({ fs: "log" }, async (mnt) => {
    for (const mode of ["DELETE", "WAL"]) {
      const db = join(mnt, `test-${mode}.db`);
      const sql = `PRAGMA journal_mode=${mode};
CREATE TABLE acct(id INTEGER PRIMARY KEY, owner TEXT NOT NULL, balance INTEGER NOT NULL);
CREATE INDEX acct_owner ON acct(owner);
BEGIN;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 20000)
  INSERT INTO acct(owner, balance) SELECT 'owner-' || (x % 997) || '-' || hex(randomblob(24)), 1000 FROM n;
COMMIT;
BEGIN; UPDATE acct SET balance = balance - 10 WHERE id % 3 = 0; UPDATE acct SET balance = balance + 10 WHERE id % 3 = 1; COMMIT;
BEGIN; DELETE FROM acct WHERE id % 7 = 0; ROLLBACK;
BEGIN; DELETE FROM acct WHERE id % 11 = 0; COMMIT;
BEGIN; UPDATE acct SET owner = owner || '-moved' WHERE id % 5 = 0; COMMIT;
VACUUM;
PRAGMA integrity_check;
SELECT count(*), sum(balance) FROM acct;`;
      const { stdout } = await run("sqlite3", [db, sql]);
      const lines = stdout.trim().split("\n");
      t.is(lines[0]!.toLowerCase(), mode.toLowerCase());
      t.is(lines[1], "ok", `${mode}: integrity_check`);
      const kept = 20000 - Math.floor(20000 / 11);
      let sum = 0;
      for (let id = 1; id <= 20000; id++) if (id % 11 !== 0) sum += 1000 + (id % 3 === 0 ? -10 : id % 3 === 1 ? 10 : 0);
      t.is(lines[2], `${kept}|${sum}`, `${mode}: the committed transactions, not the rolled-back one`);
      const again = await run("sqlite3", [db, "PRAGMA integrity_check; SELECT count(*) FROM acct;"]);
      t.is(again.stdout, `ok\n${kept}\n`);
    }
  });
});

mountTest("fio: random reads and writes with verification, direct and buffered", async (t) => {
  if (!requirePrerequisites(t, pre)) return;
  await withMount({ fs: "simple" }, async (mnt) => {
    const common = ["--ioengine=psync", "--fallocate=none", "--verify_fatal=1", "--do_verify=1", "--output-format=json"];
    const jobs = [
      ["--name=direct", `--filename=${join(mnt, "direct.dat")}`, "--size=48M", "--rw=randrw", "--bs=4k", "--direct=1", "--verify=crc32c"],
      ["--name=buffered", `--filename=${join(mnt, "buffered.dat")}`, "--size=32M", "--rw=randwrite", "--bs=16k", "--verify=md5"],
      ["--name=large", `--filename=${join(mnt, "large.dat")}`, "--size=64M", "--rw=write", "--bs=1M", "--direct=1", "--verify=sha256"],
    ];
    for (const job of jobs) {
      const { stdout } = await run("fio", [...job, ...common], { maxBuffer: 16 << 20 });
      const r = (JSON.parse(stdout) as { jobs: { error: number; read: { io_bytes: number } }[] }).jobs[0]!;
      t.is(r.error, 0, job[0]);
      t.true(r.read.io_bytes > 0, `${job[0]} read its data back to verify it`);
    }
  });
});

mountTest("unmount, mount the image again: the checksums are equal (fs-simple and fs-log, with folio-mount)", async (t) => {
  if (!requirePrerequisites(t, pre)) return;
  for (const fs of ["simple", "log"] as const) {
    const dir = tempDir("folio-fuse-img-");
    const mnt = join(dir.path, "mnt");
    const image = join(dir.path, "disk.img");
    try {
      await fsp.mkdir(mnt);
      await run(process.execPath, [BIN, "mount", image, mnt, "--fs", fs, "--size", "256MiB", "--memory", "128MiB"]);
      await run("cp", ["-r", join(ROOT, "packages/fs-simple/src"), join(mnt, "src")]);
      await run("dd", ["if=/dev/urandom", `of=${join(mnt, "random.bin")}`, "bs=1M", "count=24", "status=none"]);
      await fsp.symlink("src", join(mnt, "link"));
      const before = await checksums(mnt);
      await run(process.execPath, [BIN, "umount", mnt]);
      t.is(fuseMountAt(mnt), undefined, "unmounted");
      t.is(readRecord(mnt), null, "the daemon removed its record: it wrote everything back");
      const out = await run(process.execPath, [BIN, "mount", image, mnt, "--memory", "64MiB"]);
      t.regex(out.stdout, /mounted on/);
      t.is(await checksums(mnt), before, `fs-${fs}: every file's sha256 is the same after the remount`);
      t.is(await fsp.readlink(join(mnt, "link")), "src");
      const wrong = await run(process.execPath, [BIN, "mount", image, join(dir.path, "x"), "--fs", fs === "simple" ? "log" : "simple"]).catch((e: { stderr: string }) => e.stderr);
      t.regex(String(wrong), /holds fs-|no such file|ENOENT|not a directory/i);
      await run(process.execPath, [BIN, "umount", mnt]);
    } finally {
      if (fuseMountAt(mnt) !== undefined) await umountFolio(mnt).catch(() => undefined);
      rmSync(recordPath(mnt).replace(/\.json$/, ".log"), { force: true });
      dir.cleanup();
    }
  }
});

mountTest("SIGINT and SIGTERM: the daemon writes back, unmounts and exits 0; a busy mount detaches and ends at the last close", async (t) => {
  if (!requirePrerequisites(t, pre)) return;
  const dir = tempDir("folio-fuse-sig-");
  const mnt = join(dir.path, "mnt");
  const image = join(dir.path, "disk.img");
  try {
    await fsp.mkdir(mnt);
    const m = await mountFolio({ image, mountpoint: mnt, fs: "log", size: "128MiB", memory: "128MiB" });
    const payload = Buffer.alloc(3 << 20, "folio ");
    await fsp.writeFile(join(mnt, "data"), payload);
    process.kill(m.pid, "SIGINT");
    for (let i = 0; i < 400 && processAlive(m.pid); i++) await new Promise((r) => setTimeout(r, 25));
    t.false(processAlive(m.pid), "the daemon exited");
    t.is(fuseMountAt(mnt), undefined);
    t.regex(readFileSync(m.log, "utf8"), /SIGINT: writing back[\s\S]*unmounted cleanly/);

    // Busy: a process holds a file open while the daemon is told to stop.
    const m2 = await mountFolio({ image, mountpoint: mnt, memory: "128MiB" });
    t.true(Buffer.from(await fsp.readFile(join(mnt, "data"))).equals(payload), "the data written before SIGINT is there");
    const holder = run("sh", ["-c", `exec 3<"${join(mnt, "data")}"; sleep 1.5; head -c 6 <&3`]);
    await new Promise((r) => setTimeout(r, 300));
    process.kill(m2.pid, "SIGTERM");
    const { stdout } = await holder;
    t.is(stdout, "folio ", "the open file stayed readable after the lazy unmount");
    for (let i = 0; i < 400 && processAlive(m2.pid); i++) await new Promise((r) => setTimeout(r, 25));
    t.false(processAlive(m2.pid), "the daemon exited once the last file was closed");
    t.regex(readFileSync(m2.log, "utf8"), /detaching lazily[\s\S]*unmounted cleanly/);
    await t.throwsAsync(umountFolio(mnt), { code: "EINVAL" }, "nothing is mounted any more");
  } finally {
    if (fuseMountAt(mnt) !== undefined) await umountFolio(mnt).catch(() => undefined);
    rmSync(recordPath(mnt).replace(/\.json$/, ".log"), { force: true });
    dir.cleanup();
  }
});

mountTest("every VFS operation through the kernel, with Node's error codes", async (t) => {
  if (!requirePrerequisites(t, pre)) return;
  await withMount({ fs: "simple", size: "64MiB" }, async (mnt) => {
    const p = (...s: string[]) => join(mnt, ...s);
    const code = (promise: Promise<unknown>) => promise.then(() => "ok", (e: NodeJS.ErrnoException) => e.code);
    await fsp.mkdir(p("d/sub"), { recursive: true });
    await fsp.writeFile(p("f"), "hello");
    t.is(await code(fsp.mkdir(p("d"))), "EEXIST");
    t.is(await code(fsp.rmdir(p("d"))), "ENOTEMPTY");
    t.is(await code(fsp.rmdir(p("f"))), "ENOTDIR");
    t.is(await code(fsp.unlink(p("d"))), "EISDIR");
    t.is(await code(fsp.unlink(p("missing"))), "ENOENT");
    t.is(await code(fsp.open(p("missing"), "r")), "ENOENT");
    t.is(await code(fsp.open(p("f"), "wx")), "EEXIST");
    t.is(await code(fsp.rename(p("d"), p("d/sub/inside"))), "EINVAL");
    await fsp.mkdir(p("e"));
    t.is(await code(fsp.rename(p("e"), p("d"))), "ENOTEMPTY");
    t.is(await code(fsp.link(p("d"), p("dl"))), "EPERM");
    t.is(await code(fsp.readlink(p("f"))), "EINVAL");
    t.is(await code(fsp.writeFile(p("n".repeat(256)), "")), "ENAMETOOLONG");
    const fifo = await run("mkfifo", [p("fifo")]).then(() => "", (e: { stderr: string }) => e.stderr);
    t.regex(fifo, /not permitted/, "no FIFOs on Folio filesystems (EPERM)");
    // Successes, and what stat says afterwards.
    await fsp.link(p("f"), p("f2"));
    t.is((await fsp.stat(p("f"))).nlink, 2);
    await fsp.symlink("f", p("s"));
    t.is(await fsp.readlink(p("s")), "f");
    t.is(await fsp.readFile(p("s"), "utf8"), "hello");
    await fsp.chmod(p("f"), 0o640);
    t.is((await fsp.stat(p("f"))).mode & 0o7777, 0o640);
    await fsp.utimes(p("f"), 1_000, 2_000);
    const st = await fsp.stat(p("f"));
    t.is(st.atimeMs, 1_000_000);
    t.is(st.mtimeMs, 2_000_000);
    await fsp.truncate(p("f"), 100_000);
    t.is((await fsp.stat(p("f"))).size, 100_000);
    await fsp.rename(p("d"), p("d2"));
    t.true((await fsp.stat(p("d2/sub"))).isDirectory(), "what was below a renamed directory moved with it");
    t.deepEqual((await fsp.readdir(mnt)).sort(), ["d2", "e", "f", "f2", "s"]);
    const sfs = await fsp.statfs(mnt);
    t.true(sfs.blocks > 0 && sfs.bfree > 0 && sfs.bsize === 4096);
    // Large reads and writes, fsync, an unlinked file used through its descriptor.
    const big = Buffer.alloc(5 << 20);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
    const fh = await fsp.open(p("big"), "w+");
    t.is((await fh.write(big, 0, big.length, 0)).bytesWritten, big.length);
    await fh.sync();
    const back = Buffer.alloc(big.length);
    t.is((await fh.read(back, 0, back.length, 0)).bytesRead, big.length);
    t.true(back.equals(big));
    await fh.close();
    const tmp = await fsp.open(p("tmp"), "w+");
    await fsp.unlink(p("tmp"));
    await tmp.write("abcdef", 0);
    await tmp.truncate(3);
    t.like(await tmp.stat(), { size: 3, nlink: 0 });
    await tmp.close();
    t.is(await code(fsp.writeFile(p("huge"), Buffer.alloc(80 << 20))), "ENOSPC");
  });
});
