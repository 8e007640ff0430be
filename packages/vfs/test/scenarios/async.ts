/**
 * Scenarios of the promise API (fs.promises, FileHandle) and of streams.
 */
import { once } from "node:events";
import type { Readable, Writable } from "node:stream";
import { allZero, at, pattern, type Scenario } from "./scenario.js";
import { hashBytes } from "./transcript.js";

/** Waits until a stream has closed; resolves to the error it failed with, if any. */
function closed(s: Readable | Writable): Promise<Error | null> {
  return new Promise((resolve) => {
    let error: Error | null = null;
    s.on("error", (e: Error) => {
      error = e;
    });
    s.on("close", () => resolve(error));
  });
}

/** Reads a whole stream; resolves to the data, or throws its error. */
async function drain(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  s.on("data", (c: Buffer | string) => chunks.push(typeof c === "string" ? Buffer.from(c) : c));
  const err = await closed(s);
  if (err) throw err;
  return Buffer.concat(chunks);
}

/** Writes chunks then ends; resolves when closed, or throws its error. */
async function fill(s: Writable, chunks: (string | Buffer)[]): Promise<void> {
  const done = closed(s);
  for (const c of chunks) s.write(c);
  s.end();
  const err = await done;
  if (err) throw err;
}

export const ASYNC_SCENARIOS: Scenario[] = [
  {
    name: "promises: path calls, success and errors",
    async run(fs, root, rec) {
      const p = at(root);
      const f = fs.promises;
      await rec.acall("mkdir recursive", () => f.mkdir(p("a/b/c"), { recursive: true }));
      await rec.acall("mkdir existing", () => f.mkdir(p("a")));
      await rec.acall("writeFile", () => f.writeFile(p("a/f"), "hello"));
      await rec.acall("writeFile wx existing", () => f.writeFile(p("a/f"), "x", { flag: "wx" }));
      await rec.acall("writeFile into missing dir", () => f.writeFile(p("zz/f"), "x"));
      await rec.acall("appendFile", () => f.appendFile(p("a/f"), " world"));
      await rec.acall("readFile utf8", () => f.readFile(p("a/f"), "utf8"));
      await rec.acall("readFile buffer", () => f.readFile(p("a/f")));
      await rec.acall("readFile missing", () => f.readFile(p("nope")));
      await rec.acall("readFile dir", () => f.readFile(p("a")));
      await rec.acall("stat", () => f.stat(p("a/f")));
      await rec.acall("stat bigint", () => f.stat(p("a/f"), { bigint: true }));
      await rec.acall("stat missing", () => f.stat(p("nope")));
      await rec.acall("symlink", () => f.symlink("f", p("a/l")));
      await rec.acall("symlink existing", () => f.symlink("f", p("a/l")));
      await rec.acall("lstat", () => f.lstat(p("a/l")));
      await rec.acall("readlink", () => f.readlink(p("a/l")));
      await rec.acall("readlink not a link", () => f.readlink(p("a/f")));
      await rec.acall("realpath", () => f.realpath(p("a/b/../l")));
      await rec.acall("realpath missing", () => f.realpath(p("a/nope")), "code");
      await rec.acall("readdir", () => f.readdir(p("a")));
      await rec.acall("readdir withFileTypes", () => f.readdir(p("a"), { withFileTypes: true }));
      await rec.acall("readdir of a file", () => f.readdir(p("a/f")));
      await rec.acall("link", () => f.link(p("a/f"), p("a/g")));
      await rec.acall("link existing", () => f.link(p("a/f"), p("a/g")));
      await rec.acall("nlink", async () => (await f.stat(p("a/g"))).nlink);
      await rec.acall("rename", () => f.rename(p("a/g"), p("a/h")));
      await rec.acall("rename missing", () => f.rename(p("a/g"), p("a/i")));
      await rec.acall("rename dir into itself", () => f.rename(p("a"), p("a/b/x")));
      await rec.acall("copyFile", () => f.copyFile(p("a/f"), p("a/copy")));
      await rec.acall("copyFile EXCL existing", () => f.copyFile(p("a/f"), p("a/copy"), fs.constants.COPYFILE_EXCL));
      await rec.acall("truncate", () => f.truncate(p("a/copy"), 3));
      await rec.acall("truncate grow", () => f.truncate(p("a/copy"), 6));
      await rec.acall("read truncated", () => f.readFile(p("a/copy")));
      await rec.acall("truncate a dir", () => f.truncate(p("a"), 1));
      await rec.acall("access", () => f.access(p("a/f")));
      await rec.acall("access missing", () => f.access(p("nope")));
      await rec.acall("access X_OK on a 0644 file", () => f.access(p("a/f"), fs.constants.X_OK));
      await rec.acall("chmod", () => f.chmod(p("a/f"), 0o600));
      await rec.acall("chmod missing", () => f.chmod(p("nope"), 0o600));
      await rec.acall("utimes", () => f.utimes(p("a/f"), 100, 200));
      await rec.acall("times", async () => {
        const s = await f.stat(p("a/f"));
        return [s.mode, s.atimeMs, s.mtimeMs];
      });
      await rec.acall("utimes missing", () => f.utimes(p("nope"), 1, 2));
      await rec.acall("unlink", () => f.unlink(p("a/h")));
      await rec.acall("unlink missing", () => f.unlink(p("a/h")));
      await rec.acall("unlink a dir", () => f.unlink(p("a/b")));
      await rec.acall("rmdir non-empty", () => f.rmdir(p("a/b")));
      await rec.acall("rmdir", () => f.rmdir(p("a/b/c")));
      await rec.acall("rmdir a file", () => f.rmdir(p("a/f")));
      await rec.acall("rm dir without recursive", () => f.rm(p("a")), "code+syscall");
      await rec.acall("rm missing", () => f.rm(p("nope")));
      await rec.acall("rm missing force", () => f.rm(p("nope"), { force: true }));
      await rec.acall("rm recursive", () => f.rm(p("a"), { recursive: true }));
      await rec.acall("left", () => f.readdir(root));
    },
  },
  {
    name: "promises: FileHandle read, write, stat, truncate, sync, close",
    async run(fs, root, rec) {
      const p = at(root);
      const f = fs.promises;
      await rec.acall("open missing", () => f.open(p("f"), "r"));
      const h = await rec.acall("open w+", () => f.open(p("f"), "w+", 0o640));
      if (!h) return;
      await rec.acall("write string", () => h.write("hello world"));
      await rec.acall("write buffer at position", () => h.write(Buffer.from("HELLO"), 0, 5, 0));
      await rec.acall("write buffer with options", () => h.write(Buffer.from("__abc__"), { offset: 2, length: 3, position: 20 } as never));
      await rec.acall("write string at position with encoding", () => h.write("4142", 30, "hex"));
      await rec.acall("stat", () => h.stat());
      await rec.acall("read at 0", async () => {
        const r = await h.read(Buffer.alloc(40), 0, 40, 0);
        return [r.bytesRead, r.buffer.subarray(0, r.bytesRead)];
      });
      await rec.acall("read with options", async () => {
        const r = await h.read({ buffer: Buffer.alloc(10), offset: 2, length: 5, position: 6 });
        return [r.bytesRead, r.buffer];
      });
      await rec.acall("read past EOF", async () => (await h.read(Buffer.alloc(4), 0, 4, 1000)).bytesRead);
      await rec.acall("read the hole", async () => {
        const r = await h.read(Buffer.alloc(9), 0, 9, 11);
        return [r.bytesRead, allZero(r.buffer.subarray(0, r.bytesRead))];
      });
      await rec.acall("readFile from the handle (from its position)", () => h.readFile());
      await rec.acall("truncate", () => h.truncate(5));
      await rec.acall("truncate grow", () => h.truncate(8));
      await rec.acall("read after truncate", async () => {
        const r = await h.read(Buffer.alloc(16), 0, 16, 0);
        return r.buffer.subarray(0, r.bytesRead);
      });
      await rec.acall("sync", () => h.sync());
      await rec.acall("datasync", () => h.datasync());
      await rec.acall("chmod", () => h.chmod(0o600));
      await rec.acall("utimes", () => h.utimes(1000, 2000));
      await rec.acall("stat after", async () => {
        const s = await h.stat();
        return [s.mode, s.size, s.mtimeMs];
      });
      await rec.acall("writeFile on the handle", () => h.writeFile("replaced?"));
      await rec.acall("appendFile on the handle", () => h.appendFile("+more"));
      await rec.acall("close", () => h.close());
      await rec.acall("content", () => f.readFile(p("f"), "latin1"));
      await rec.acall("read after close", () => h.read(Buffer.alloc(1), 0, 1, 0), "code+syscall");
      await rec.acall("write after close", () => h.write("x"), "code+syscall");
      await rec.acall("stat after close", () => h.stat(), "code+syscall");
      await rec.acall("close again", () => h.close());
      const r = await rec.acall("open r", () => f.open(p("f"), "r"));
      if (!r) return;
      await rec.acall("write on a read-only handle", () => r.write("x"));
      await rec.acall("truncate a read-only handle", () => r.truncate(1));
      await rec.acall("sequential reads", async () => {
        const a = await r.read(Buffer.alloc(4), 0, 4, null);
        const b = await r.read(Buffer.alloc(4), 0, 4, null);
        return [a.buffer, b.buffer];
      });
      await rec.acall("close r", () => r.close());
      const a = await rec.acall("open a", () => f.open(p("f"), "a"));
      if (!a) return;
      await rec.acall("append with a position", () => a.write("!", 0));
      await rec.acall("read on an append-only handle", () => a.read(Buffer.alloc(4), 0, 4, 0));
      await rec.acall("close a", () => a.close());
      await rec.acall("content after append", () => f.readFile(p("f"), "latin1"));
      await rec.acall("open a dir for writing", () => f.open(root, "w"));
      const d = await rec.acall("open a dir", () => f.open(root, "r"));
      if (!d) return;
      await rec.acall("read a dir handle", () => d.read(Buffer.alloc(4), 0, 4, 0));
      await rec.acall("readFile a dir handle", () => d.readFile());
      await rec.acall("stat a dir handle", async () => (await d.stat()).isDirectory());
      await rec.acall("close dir", () => d.close());
      await rec.acall("open wx existing", () => f.open(p("f"), "wx"));
      const x = await rec.acall("open with numeric flags", () => f.open(p("g"), fs.constants.O_CREAT | fs.constants.O_RDWR | fs.constants.O_EXCL));
      if (!x) return;
      await rec.acall("big write through a handle", () => x.write(pattern(200_000, 4), 0, 200_000, 4093));
      await rec.acall("big read through a handle", async () => {
        const r2 = await x.read(Buffer.alloc(300_000), 0, 300_000, 0);
        return [r2.bytesRead, allZero(r2.buffer.subarray(0, 4093)), r2.buffer.subarray(4093, r2.bytesRead).equals(pattern(200_000, 4))];
      });
      await rec.acall("close x", () => x.close());
    },
  },
  {
    name: "streams: write and read round trips, start and end",
    async run(fs, root, rec) {
      const p = at(root);
      const data = pattern(200_000, 7);
      await rec.acall("write stream in odd chunks", () =>
        fill(fs.createWriteStream(p("s")), [data.subarray(0, 1), data.subarray(1, 4097), data.subarray(4097, 70_001), data.subarray(70_001)]),
      );
      await rec.acall("readFile after the write stream", async () => (await fs.promises.readFile(p("s"))).equals(data));
      await rec.acall("read stream", async () => (await drain(fs.createReadStream(p("s")))).equals(data));
      await rec.acall("read stream with small highWaterMark", async () => hashBytes(await drain(fs.createReadStream(p("s"), { highWaterMark: 1000 }))));
      await rec.acall("read stream start/end (inclusive)", () => drain(fs.createReadStream(p("s"), { start: 4090, end: 4100 })));
      await rec.acall("read stream start only", async () => (await drain(fs.createReadStream(p("s"), { start: 150_000 }))).equals(data.subarray(150_000)));
      await rec.acall("read stream end only", () => drain(fs.createReadStream(p("s"), { end: 9 })));
      await rec.acall("read stream start past EOF", () => drain(fs.createReadStream(p("s"), { start: 300_000 })));
      await rec.acall("read stream end past EOF", async () => (await drain(fs.createReadStream(p("s"), { start: 199_990, end: 500_000 }))).length);
      await rec.acall("read stream start = end", () => drain(fs.createReadStream(p("s"), { start: 5, end: 5 })));
      await rec.acall("read stream utf8 encoding", () => drain(fs.createReadStream(p("s"), { encoding: "hex", start: 0, end: 3 })));
      await rec.acall("read stream of a missing file", () => drain(fs.createReadStream(p("missing"))));
      await rec.acall("read stream of a dir", () => drain(fs.createReadStream(root)));
      await rec.acall("write stream with start (r+)", () => fill(fs.createWriteStream(p("s"), { flags: "r+", start: 10 }), ["0123", "4567"]));
      await rec.acall("after start write", async () => {
        const b = await fs.promises.readFile(p("s"));
        const model = Buffer.from(data);
        model.write("01234567", 10, "latin1");
        return [b.length, b.equals(model)];
      });
      await rec.acall("write stream past EOF with start", () => fill(fs.createWriteStream(p("s"), { flags: "r+", start: 210_000 }), ["tail"]));
      await rec.acall("size after", async () => (await fs.promises.stat(p("s"))).size);
      await rec.acall("gap is zeros", async () => allZero((await fs.promises.readFile(p("s"))).subarray(200_000, 210_000)));
      await rec.acall("write stream flags a", () => fill(fs.createWriteStream(p("log"), { flags: "a" }), ["one,"]));
      await rec.acall("write stream flags a again", () => fill(fs.createWriteStream(p("log"), { flags: "a" }), ["two"]));
      await rec.acall("log", () => fs.promises.readFile(p("log"), "utf8"));
      await rec.acall("write stream w truncates", () => fill(fs.createWriteStream(p("log")), ["new"]));
      await rec.acall("log after w", () => fs.promises.readFile(p("log"), "utf8"));
      await rec.acall("write stream with string encoding", () => fill(fs.createWriteStream(p("hex"), { encoding: "hex" }), ["cafe"]));
      await rec.acall("hex file", () => fs.promises.readFile(p("hex")));
      await rec.acall("write stream flags wx on existing", () => fill(fs.createWriteStream(p("log"), { flags: "wx" }), ["x"]));
      await rec.acall("write stream into missing dir", () => fill(fs.createWriteStream(p("nodir/x")), ["x"]));
      await rec.acall("write stream onto a dir", () => fill(fs.createWriteStream(root), ["x"]));
      await rec.acall("write stream with mode", () => fill(fs.createWriteStream(p("moded"), { mode: 0o600 }), ["x"]));
      await rec.acall("mode", async () => (await fs.promises.stat(p("moded"))).mode);
      await rec.acall("write stream bytesWritten", async () => {
        const ws = fs.createWriteStream(p("count"));
        await fill(ws, ["abc", Buffer.from("defg")]);
        return ws.bytesWritten;
      });
      await rec.acall("read stream bytesRead", async () => {
        const rs = fs.createReadStream(p("count"), { start: 1 });
        await drain(rs);
        return rs.bytesRead;
      });
      await rec.acall("read stream from a descriptor", async () => {
        const fd = fs.openSync(p("count"), "r");
        return drain(fs.createReadStream("", { fd, start: 2 } as never));
      });
      await rec.acall("write stream to a descriptor", async () => {
        const fd = fs.openSync(p("count"), "r+");
        await fill(fs.createWriteStream("", { fd, start: 5 } as never), ["XY"]);
        return fs.readFileSync(p("count"), "utf8");
      });
      await rec.acall("stream open event", async () => {
        const rs = fs.createReadStream(p("count"));
        const [fd] = (await once(rs, "open")) as [number];
        const ok = typeof fd === "number";
        rs.destroy();
        await closed(rs);
        return ok;
      });
    },
  },
  {
    name: "promises: many concurrent operations on one directory",
    async run(fs, root, rec) {
      const p = at(root);
      const f = fs.promises;
      await rec.acall("create 50 files concurrently", async () => {
        await Promise.all(Array.from({ length: 50 }, (_, i) => f.writeFile(p(`c${i}`), pattern(1000 + i * 97, i))));
        return (await f.readdir(root)).length;
      });
      await rec.acall("read them concurrently", async () => {
        const all = await Promise.all(Array.from({ length: 50 }, (_, i) => f.readFile(p(`c${i}`))));
        return all.every((b, i) => b.equals(pattern(1000 + i * 97, i)));
      });
      await rec.acall("append to one file concurrently, one at a time", async () => {
        for (let i = 0; i < 10; i++) await f.appendFile(p("seq"), `${i},`);
        return f.readFile(p("seq"), "utf8");
      });
      await rec.acall("remove them concurrently", async () => {
        await Promise.all(Array.from({ length: 50 }, (_, i) => f.unlink(p(`c${i}`))));
        return f.readdir(root);
      });
    },
  },
];
