import test from "ava";
import { pipeline } from "node:stream/promises";
import { FileHandle } from "../src/index.js";
import { boot, rejectsCode } from "./helpers.js";

test("a plain await works: the promise API drives the engine itself", async (t) => {
  const { fs } = boot();
  const p = fs.promises;
  await p.writeFile("/a", "alpha");
  await p.appendFile("/a", "bet");
  t.is(await p.readFile("/a", "utf8"), "alphabet");
  t.deepEqual(await p.readFile("/a"), Buffer.from("alphabet"));
  t.is(await p.mkdir("/d/e", { recursive: true }), "/d");
  await p.symlink("../a", "/d/link");
  t.is(await p.readlink("/d/link"), "../a");
  t.is(await p.realpath("/d/e/../link"), "/a");
  t.deepEqual(await p.readdir("/d"), ["e", "link"]);
  t.true((await p.readdir("/d", { withFileTypes: true }))[0]!.isDirectory());
  t.is((await p.stat("/a")).size, 8);
  t.true((await p.lstat("/d/link")).isSymbolicLink());
  t.is((await p.stat("/a", { bigint: true })).size, 8n);
  await p.copyFile("/a", "/b");
  await p.rename("/b", "/c");
  await p.link("/c", "/c2");
  await p.truncate("/c", 5);
  t.is(await p.readFile("/c2", "utf8"), "alpha");
  await p.chmod("/c", 0o600);
  await p.utimes("/c", 10, 20);
  t.like(await p.stat("/c"), { mode: 0o100600, mtimeMs: 20_000 });
  await p.access("/c");
  await p.unlink("/c2");
  await p.rm("/d", { recursive: true });
  await p.rmdir(await p.mkdir("/x", { recursive: true }) ?? "/x");
  t.deepEqual(fs.readdirSync("/"), ["a", "c"]);
  t.true((await p.statfs("/")).files > 0);
});

test("promise errors are Node's, with the syscall of the underlying call", async (t) => {
  const { fs } = boot();
  await rejectsCode(t, fs.promises.readFile("/nope"), "ENOENT", "open");
  await rejectsCode(t, fs.promises.mkdir("/"), "EEXIST", "mkdir");
  await rejectsCode(t, fs.promises.rm("/nope"), "ENOENT", "lstat");
  await rejectsCode(t, fs.promises.access("/nope"), "ENOENT", "access");
  await rejectsCode(t, fs.promises.stat(12 as never), "ERR_INVALID_ARG_TYPE");
});

test("operations run as scheduler events, never synchronously at the call", async (t) => {
  const { fs, vfs, machine } = boot();
  const before = machine.scheduler.pending;
  const p = fs.promises.writeFile("/f", "x");
  t.is(vfs.pending, 1);
  t.is(machine.scheduler.pending, before + 1, "the operation is an event in the machine's queue");
  t.false(fs.existsSync("/f"), "nothing has run yet");
  await p;
  t.is(vfs.pending, 0);
  t.true(fs.existsSync("/f"));
  // runUntilIdle runs scheduled operations at once, without a trip through the host's event loop.
  const q = fs.promises.readFile("/f", "utf8");
  vfs.runUntilIdle();
  t.is(vfs.pending, 0);
  t.is(await q, "x");
});

test("a deferred operation never runs inside another VFS call, even when that call waits", async (t) => {
  const { fs, vfs, machine } = boot();
  fs.writeFileSync("/slow", "x");
  const sb = vfs.superBlockOf("/");
  const log: string[] = [];
  const lookup = sb.lookup.bind(sb);
  sb.lookup = (dir: number, name: string) => {
    if (name === "slow") {
      machine.scheduler.runFor(1_000_000); // as a disk filesystem waits for a directory block
      log.push(fs.existsSync("/other") ? "the deferred write ran inside the lookup" : "lookup done, deferred write not run");
    }
    return lookup(dir, name);
  };
  vfs.shrinkCaches(1e9);
  const p = fs.promises.writeFile("/other", "y");
  t.true(fs.statSync("/slow").isFile());
  log.push("stat returned");
  await p;
  t.deepEqual(log, ["lookup done, deferred write not run", "stat returned"]);
  t.is(fs.readFileSync("/other", "utf8"), "y");
});

test("an awaited call runs without a trip through the host's event loop", async (t) => {
  const { fs } = boot();
  fs.writeFileSync("/f", "x");
  let hostTurned = false;
  setImmediate(() => (hostTurned = true));
  const fh = await fs.promises.open("/f");
  t.is((await fh.read(Buffer.alloc(1), 0, 1, 0)).bytesRead, 1);
  await fs.promises.stat("/f");
  t.false(hostTurned, "the pump ran as a microtask: the setImmediate queued first has not run");
  await fh.close();
});

test("a long chain of awaited calls still lets the host's event loop turn", async (t) => {
  const { fs } = boot();
  fs.writeFileSync("/f", "x");
  const fh = await fs.promises.open("/f");
  let turnedAt = -1;
  let i = 0;
  setImmediate(() => (turnedAt = i));
  for (; i < 3000; i++) await fh.read(Buffer.alloc(1), 0, 1, 0);
  t.true(turnedAt > 0 && turnedAt < 3000, `the setImmediate ran after ${turnedAt} of 3000 reads`);
  await fh.close();
});

test("a deferred operation that comes due while a read waits runs after the read", async (t) => {
  const { fs, vfs, machine } = boot();
  fs.writeFileSync("/f", "abc");
  const sb = vfs.superBlockOf("/");
  const read = sb.read.bind(sb);
  const log: string[] = [];
  sb.read = (file, pos, buf, offset, length) => {
    machine.scheduler.runFor(1_000_000); // as a disk filesystem waits for the data
    log.push(fs.existsSync("/other") ? "the deferred write ran inside the read" : "read done, deferred write not run");
    return read(file, pos, buf, offset, length);
  };
  const p = fs.promises.writeFile("/other", "y");
  const fd = fs.openSync("/f", "r");
  const buf = Buffer.alloc(3);
  t.is(fs.readSync(fd, buf, 0, 3, null), 3);
  log.push("read returned");
  await p;
  t.deepEqual(log, ["read done, deferred write not run", "read returned"]);
  t.is(fs.readFileSync("/other", "utf8"), "y");
  t.is(buf.toString(), "abc");
  t.is(fs.readSync(fd, buf, 0, 3, null), 0, "the read advanced the file position");
  fs.closeSync(fd);
});

test("concurrent promise operations run in the same order for the same seed", async (t) => {
  async function run(seed: number): Promise<string[]> {
    const { fs } = boot(seed);
    const order: string[] = [];
    await Promise.all(
      ["a", "b", "c", "d", "e", "f"].map((n) => fs.promises.appendFile("/log", n).then(() => order.push(n))),
    );
    return [fs.readFileSync("/log", "utf8"), order.join("")];
  }
  const one = await run(3);
  t.deepEqual(await run(3), one);
  t.is(one[0]!.length, 6);
  t.is([...one[0]!].sort().join(""), "abcdef");
});

test("FileHandle: read and write forms, stat, truncate, sync, readFile, writeFile, close", async (t) => {
  const { fs } = boot();
  const fh = await fs.promises.open("/h", "w+");
  t.true(fh instanceof FileHandle);
  t.is(fh.fd, 3);
  t.like(await fh.write(Buffer.from("hello world")), { bytesWritten: 11 });
  t.like(await fh.write("HELLO", 0), { bytesWritten: 5, buffer: "HELLO" });
  const buf = Buffer.alloc(5);
  t.like(await fh.read(buf, 0, 5, 6), { bytesRead: 5 });
  t.is(buf.toString(), "world");
  const r = await fh.read({ buffer: Buffer.alloc(3), position: 0 });
  t.is(r.buffer.toString(), "HEL");
  const r2 = await fh.read(Buffer.alloc(4), { position: 1, length: 2 });
  t.is(r2.bytesRead, 2);
  const r3 = await fh.read();
  t.is(r3.bytesRead, 0, "the position was at the end after the first write");
  t.is((await fh.stat()).size, 11);
  await fh.truncate(5);
  await fh.sync();
  await fh.datasync();
  await fh.writeFile("!");
  t.is(fs.readFileSync("/h", "utf8"), "HELLO world!".slice(0, 5) + "\0".repeat(6) + "!");
  await fh.chmod(0o600);
  t.is((await fh.stat()).mode & 0o777, 0o600);
  await fh.close();
  t.is(fh.fd, -1);
  await fh.close();
  await rejectsCode(t, fh.read(Buffer.alloc(1)), "EBADF", "read");
  const rh = await fs.promises.open("/h");
  t.is(await rh.readFile("utf8"), fs.readFileSync("/h", "utf8"));
  t.is(await fs.promises.readFile(rh, "utf8"), "", "a handle reads from its position");
  await rh.close();
  await rejectsCode(t, fs.promises.open("/nope"), "ENOENT", "open");
});

test("createReadStream: chunks of highWaterMark, start and end inclusive, encoding, events", async (t) => {
  const { fs } = boot();
  const data = Buffer.alloc(200_000);
  for (let i = 0; i < data.length; i++) data[i] = i % 251;
  fs.writeFileSync("/data", data);
  const chunks: Buffer[] = [];
  const rs = fs.createReadStream("/data", { highWaterMark: 16384 });
  let opened = -1;
  rs.on("open", (fd: number) => (opened = fd));
  for await (const c of rs) chunks.push(c as Buffer);
  t.true(Buffer.concat(chunks).equals(data));
  t.is(chunks[0]!.length, 16384);
  t.is(opened, 3);
  t.is(rs.bytesRead, data.length);
  const part: Buffer[] = [];
  for await (const c of fs.createReadStream("/data", { start: 10, end: 19 })) part.push(c as Buffer);
  t.true(Buffer.concat(part).equals(data.subarray(10, 20)));
  fs.writeFileSync("/text", "héllo");
  let text = "";
  for await (const c of fs.createReadStream("/text", "utf8")) text += c;
  t.is(text, "héllo");
  const missing = fs.createReadStream("/nope");
  const err = await new Promise<Error & { code?: string }>((resolve) => missing.on("error", resolve));
  t.is(err.code, "ENOENT");
  t.throws(() => fs.createReadStream("/data", { start: 5, end: 2 }), { code: "ERR_OUT_OF_RANGE" });
});

test("createWriteStream: writes in order, start, flags, and closes its descriptor", async (t) => {
  const { fs, vfs } = boot();
  const ws = fs.createWriteStream("/out");
  for (let i = 0; i < 100; i++) ws.write(`line ${i}\n`);
  ws.end("end\n");
  await new Promise((resolve, reject) => ws.on("close", resolve).on("error", reject));
  const expected = Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join("") + "end\n";
  t.is(fs.readFileSync("/out", "utf8"), expected);
  t.is(ws.bytesWritten, expected.length);
  t.deepEqual(vfs.openDescriptors(), [], "the stream closed its descriptor");
  fs.writeFileSync("/patch", "0123456789");
  const ps = fs.createWriteStream("/patch", { flags: "r+", start: 3, flush: true });
  ps.end("abc");
  await new Promise((resolve) => ps.on("close", resolve));
  t.is(fs.readFileSync("/patch", "utf8"), "012abc6789");
  const as = fs.createWriteStream("/patch", { flags: "a" });
  as.end("!");
  await new Promise((resolve) => as.on("close", resolve));
  t.is(fs.readFileSync("/patch", "utf8"), "012abc6789!");
  fs.mkdirSync("/dir");
  const bad = fs.createWriteStream("/dir");
  const err = await new Promise<Error & { code?: string }>((resolve) => bad.on("error", resolve));
  t.is(err.code, "EISDIR");
});

test("a read stream piped into a write stream copies a file", async (t) => {
  const { fs, machine } = boot();
  const data = Buffer.alloc(1 << 20);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
  fs.writeFileSync("/src", data);
  await pipeline(fs.createReadStream("/src"), fs.createWriteStream("/dst"));
  t.true(fs.readFileSync("/dst").equals(data));
  t.deepEqual(machine.verify(), []);
});
