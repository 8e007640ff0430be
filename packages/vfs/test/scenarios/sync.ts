/**
 * Scenarios of the synchronous API: each one does a sequence of calls under `root` and records
 * every result and error. They run on node:fs and on every Folio filesystem; the transcripts
 * must be equal after normalisation (see transcript.ts).
 */
import { allZero, at, linuxAtLeast, pattern, pread, type Scenario } from "./scenario.js";
import { hashBytes } from "./transcript.js";

export const SYNC_SCENARIOS: Scenario[] = [
  {
    name: "open flags: r, r+, w, w+, wx, a, a+, ax and numeric combinations",
    run(fs, root, rec) {
      const p = at(root);
      const { O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_RDONLY, O_WRONLY, O_RDWR } = fs.constants;
      rec.fd("open r missing", () => fs.openSync(p("f"), "r"));
      rec.fd("open r+ missing", () => fs.openSync(p("f"), "r+"));
      let fd = rec.fd("open w creates", () => fs.openSync(p("f"), "w"));
      rec.call("write hello", () => fs.writeSync(fd, "hello world"));
      rec.call("read on w fd", () => fs.readSync(fd, Buffer.alloc(4), 0, 4, 0));
      rec.call("fstat", () => fs.fstatSync(fd));
      rec.call("close", () => fs.closeSync(fd));
      rec.fd("open wx existing", () => fs.openSync(p("f"), "wx"));
      rec.fd("open ax existing", () => fs.openSync(p("f"), "ax"));
      rec.fd("open wx+ existing", () => fs.openSync(p("f"), "wx+"));
      fd = rec.fd("open r", () => fs.openSync(p("f"), "r"));
      rec.call("write on r fd", () => fs.writeSync(fd, "x"));
      rec.call("read on r fd", () => pread(fs, fd, 0, 64).toString());
      rec.call("close r", () => fs.closeSync(fd));
      fd = rec.fd("open r+", () => fs.openSync(p("f"), "r+"));
      rec.call("r+ write at current position", () => fs.writeSync(fd, "HE"));
      rec.call("r+ read continues at position 2", () => {
        const b = Buffer.alloc(3);
        return [fs.readSync(fd, b, 0, 3, null), b.toString()];
      });
      rec.call("r+ pwrite at 6", () => fs.writeSync(fd, "WO", 6));
      rec.call("r+ read after pwrite keeps position", () => {
        const b = Buffer.alloc(3);
        return [fs.readSync(fd, b, 0, 3, null), b.toString()];
      });
      rec.call("close r+", () => fs.closeSync(fd));
      rec.call("content after r+", () => fs.readFileSync(p("f"), "utf8"));
      fd = rec.fd("open a", () => fs.openSync(p("f"), "a"));
      rec.call("append write", () => fs.writeSync(fd, "!"));
      rec.call("append pwrite at 0 still appends", () => fs.writeSync(fd, "?", 0));
      rec.call("close a", () => fs.closeSync(fd));
      rec.call("content after a", () => fs.readFileSync(p("f"), "utf8"));
      fd = rec.fd("open a+", () => fs.openSync(p("f"), "a+"));
      rec.call("a+ reads from the start", () => pread(fs, fd, null as unknown as number, 5).toString());
      rec.call("a+ write appends", () => fs.writeSync(fd, "#"));
      rec.call("a+ fstat size", () => fs.fstatSync(fd).size);
      rec.call("close a+", () => fs.closeSync(fd));
      fd = rec.fd("open w+ truncates", () => fs.openSync(p("f"), "w+"));
      rec.call("w+ size 0", () => fs.fstatSync(fd).size);
      rec.call("w+ write", () => fs.writeSync(fd, "abc"));
      rec.call("w+ read back", () => pread(fs, fd, 0, 10).toString());
      rec.call("close w+", () => fs.closeSync(fd));
      fd = rec.fd("O_CREAT|O_EXCL|O_WRONLY new", () => fs.openSync(p("g"), O_CREAT | O_EXCL | O_WRONLY, 0o640));
      rec.call("close g", () => fs.closeSync(fd));
      rec.call("mode of g is 0640 & ~umask", () => fs.statSync(p("g")).mode);
      rec.fd("O_CREAT|O_EXCL|O_WRONLY existing", () => fs.openSync(p("g"), O_CREAT | O_EXCL | O_WRONLY));
      rec.fd("O_EXCL without O_CREAT on existing", () => {
        const d = fs.openSync(p("g"), O_EXCL | O_RDONLY);
        fs.closeSync(d);
        return d;
      });
      rec.fd("O_CREAT existing keeps content", () => {
        const d = fs.openSync(p("f"), O_CREAT | O_RDWR);
        fs.closeSync(d);
        return d;
      });
      rec.call("content kept", () => fs.readFileSync(p("f"), "utf8"));
      rec.fd("O_RDONLY|O_TRUNC truncates", () => {
        const d = fs.openSync(p("f"), O_RDONLY | O_TRUNC);
        fs.closeSync(d);
        return d;
      });
      rec.call("size after O_RDONLY|O_TRUNC", () => fs.statSync(p("f")).size);
      fd = rec.fd("O_WRONLY|O_APPEND", () => fs.openSync(p("f"), O_WRONLY | O_APPEND));
      rec.call("append 1", () => fs.writeSync(fd, "one"));
      rec.call("append 2", () => fs.writeSync(fd, Buffer.from("two"), 0, 3, 0));
      rec.call("close append", () => fs.closeSync(fd));
      rec.call("content after appends", () => fs.readFileSync(p("f"), "utf8"));
      fd = rec.fd("open as (O_SYNC append)", () => fs.openSync(p("s"), "as"));
      rec.call("synchronous append", () => [fs.writeSync(fd, "sync"), fs.writeSync(fd, "ed", 0)]);
      rec.call("close as", () => fs.closeSync(fd));
      fd = rec.fd("open rs+ (O_SYNC read-write)", () => fs.openSync(p("s"), "rs+"));
      rec.call("synchronous write", () => fs.writeSync(fd, "S"));
      rec.call("read back", () => pread(fs, fd, 0, 10).toString());
      rec.call("close rs+", () => fs.closeSync(fd));
      rec.fd("open with a bad flag string", () => fs.openSync(p("s"), "rw"));
      rec.fd("open with a bad mode string", () => fs.openSync(p("s2"), "w", "rw-"));
      rec.fd("O_WRONLY|O_TRUNC on missing", () => fs.openSync(p("nope"), O_WRONLY | O_TRUNC));
      rec.fd("O_CREAT in missing dir", () => fs.openSync(p("nodir/x"), O_CREAT | O_WRONLY));
      rec.fd("O_CREAT under a file", () => fs.openSync(p("f/x"), O_CREAT | O_WRONLY));
    },
  },
  {
    name: "open flags: O_DIRECTORY, O_NOFOLLOW, directories, symlinks, trailing slashes",
    run(fs, root, rec) {
      const p = at(root);
      const { O_CREAT, O_EXCL, O_RDONLY, O_WRONLY, O_RDWR, O_DIRECTORY, O_NOFOLLOW, O_TRUNC } = fs.constants;
      fs.writeFileSync(p("f"), "data");
      fs.mkdirSync(p("d"));
      fs.symlinkSync("f", p("lf"));
      fs.symlinkSync("d", p("ld"));
      fs.symlinkSync("missing", p("dangling"));
      let fd = rec.fd("O_DIRECTORY on dir", () => fs.openSync(p("d"), O_RDONLY | O_DIRECTORY));
      rec.call("fstat dir fd", () => fs.fstatSync(fd).isDirectory());
      rec.call("read dir fd", () => fs.readSync(fd, Buffer.alloc(8), 0, 8, null));
      rec.call("write dir fd", () => fs.writeSync(fd, "x"));
      rec.call("fsync dir fd", () => fs.fsyncSync(fd));
      rec.call("ftruncate dir fd", () => fs.ftruncateSync(fd, 0));
      rec.call("close dir fd", () => fs.closeSync(fd));
      rec.fd("O_DIRECTORY on file", () => fs.openSync(p("f"), O_RDONLY | O_DIRECTORY));
      rec.fd("O_DIRECTORY on missing", () => fs.openSync(p("zz"), O_RDONLY | O_DIRECTORY));
      if (linuxAtLeast(6, 4)) {
        // Linux 6.4 made O_CREAT | O_DIRECTORY EINVAL (before, it created a regular file and failed with ENOTDIR); Folio models 6.4.
        rec.fd("O_DIRECTORY|O_CREAT on missing", () => fs.openSync(p("zz"), O_RDONLY | O_DIRECTORY | O_CREAT));
        rec.call("O_DIRECTORY|O_CREAT made nothing", () => fs.existsSync(p("zz")));
        rec.fd("O_DIRECTORY|O_CREAT on a dir", () => fs.openSync(p("d"), O_RDONLY | O_DIRECTORY | O_CREAT));
      }
      rec.fd("O_DIRECTORY via symlink to dir", () => {
        const d = fs.openSync(p("ld"), O_RDONLY | O_DIRECTORY);
        fs.closeSync(d);
        return d;
      });
      rec.fd("dir opened w", () => fs.openSync(p("d"), "w"));
      rec.fd("dir opened r+", () => fs.openSync(p("d"), "r+"));
      rec.fd("dir opened a", () => fs.openSync(p("d"), "a"));
      rec.fd("dir opened O_WRONLY", () => fs.openSync(p("d"), O_WRONLY));
      rec.fd("dir opened O_RDONLY|O_TRUNC", () => fs.openSync(p("d"), O_RDONLY | O_TRUNC));
      rec.fd("dir opened O_RDONLY|O_CREAT", () => fs.openSync(p("d"), O_RDONLY | O_CREAT));
      rec.fd("dir opened O_CREAT|O_EXCL", () => fs.openSync(p("d"), O_RDONLY | O_CREAT | O_EXCL));
      rec.fd("O_NOFOLLOW on file symlink", () => fs.openSync(p("lf"), O_RDONLY | O_NOFOLLOW));
      rec.fd("O_NOFOLLOW on dir symlink", () => fs.openSync(p("ld"), O_RDONLY | O_NOFOLLOW));
      rec.fd("O_NOFOLLOW|O_DIRECTORY on dir symlink", () => fs.openSync(p("ld"), O_RDONLY | O_NOFOLLOW | O_DIRECTORY));
      rec.fd("O_NOFOLLOW on dangling", () => fs.openSync(p("dangling"), O_RDONLY | O_NOFOLLOW));
      rec.fd("O_NOFOLLOW|O_CREAT on dangling", () => fs.openSync(p("dangling"), O_WRONLY | O_CREAT | O_NOFOLLOW));
      rec.fd("O_NOFOLLOW on regular file", () => {
        const d = fs.openSync(p("f"), O_RDONLY | O_NOFOLLOW);
        fs.closeSync(d);
        return d;
      });
      rec.fd("O_NOFOLLOW applies only to the last component", () => {
        const d = fs.openSync(p("ld/../f"), O_RDONLY | O_NOFOLLOW);
        fs.closeSync(d);
        return d;
      });
      fd = rec.fd("open through file symlink", () => fs.openSync(p("lf"), O_RDWR));
      rec.call("read through symlink", () => pread(fs, fd, 0, 10).toString());
      rec.call("close", () => fs.closeSync(fd));
      rec.fd("O_CREAT|O_EXCL on dangling symlink", () => fs.openSync(p("dangling"), O_WRONLY | O_CREAT | O_EXCL));
      rec.fd("O_CREAT|O_EXCL on file symlink", () => fs.openSync(p("lf"), O_WRONLY | O_CREAT | O_EXCL));
      rec.call("missing still missing", () => fs.existsSync(p("missing")));
      fd = rec.fd("O_CREAT through dangling symlink creates its target", () => fs.openSync(p("dangling"), O_WRONLY | O_CREAT, 0o600));
      rec.call("write via dangling", () => fs.writeSync(fd, "made"));
      rec.call("close", () => fs.closeSync(fd));
      rec.call("target created", () => fs.readFileSync(p("missing"), "utf8"));
      rec.call("target mode", () => fs.lstatSync(p("missing")).mode);
      rec.fd("file with trailing slash, r", () => fs.openSync(p("f/"), "r"));
      rec.fd("file with trailing slash, w", () => fs.openSync(p("f/"), "w"));
      rec.fd("new name with trailing slash, w", () => fs.openSync(p("new/"), "w"));
      rec.fd("new name with trailing slash, O_CREAT|O_EXCL", () => fs.openSync(p("new/"), O_CREAT | O_EXCL | O_WRONLY));
      rec.call("nothing created", () => fs.existsSync(p("new")));
      rec.fd("dir with trailing slash, r", () => {
        const d = fs.openSync(p("d/"), "r");
        fs.closeSync(d);
        return d;
      });
      rec.fd("file symlink with trailing slash", () => fs.openSync(p("lf/"), "r"));
      rec.fd("dir symlink with trailing slash", () => {
        const d = fs.openSync(p("ld/"), "r");
        fs.closeSync(d);
        return d;
      });
      rec.fd("dir symlink with trailing slash and O_NOFOLLOW", () => {
        const d = fs.openSync(p("ld/"), O_RDONLY | O_NOFOLLOW);
        fs.closeSync(d);
        return d;
      });
      rec.fd("open the root dir", () => {
        const d = fs.openSync(root, "r");
        fs.closeSync(d);
        return d;
      });
      rec.fd("open dir/.", () => {
        const d = fs.openSync(p("d/."), "r");
        fs.closeSync(d);
        return d;
      });
      rec.fd("open dir/.. for writing", () => fs.openSync(p("d/.."), "w"));
      rec.fd("open empty path", () => fs.openSync("", "r"));
    },
  },
  {
    name: "read and write: positions, offsets, lengths, EOF, holes",
    run(fs, root, rec) {
      const p = at(root);
      const fd = rec.fd("open w+", () => fs.openSync(p("f"), "w+"));
      const data = Buffer.from("0123456789abcdef");
      rec.call("write buffer slice", () => fs.writeSync(fd, data, 4, 6));
      rec.call("write buffer with options", () => fs.writeSync(fd, data, { offset: 10, length: 3 } as never));
      rec.call("write string at position", () => fs.writeSync(fd, "XY", 1));
      rec.call("write string with encoding", () => fs.writeSync(fd, "6869", null, "hex"));
      rec.call("write empty buffer", () => fs.writeSync(fd, Buffer.alloc(0)));
      rec.call("fstat size", () => fs.fstatSync(fd).size);
      rec.call("pread all", () => pread(fs, fd, 0, 100).toString("latin1"));
      rec.call("pread at EOF", () => fs.readSync(fd, Buffer.alloc(4), 0, 4, 11));
      rec.call("pread past EOF", () => fs.readSync(fd, Buffer.alloc(4), 0, 4, 1000));
      rec.call("read length 0", () => fs.readSync(fd, Buffer.alloc(4), 0, 0, 0));
      rec.call("read into offset", () => {
        const b = Buffer.alloc(8, ".");
        const n = fs.readSync(fd, b, 2, 4, 3);
        return [n, b.toString("latin1")];
      });
      rec.call("read with options object", () => {
        const b = Buffer.alloc(6);
        const n = fs.readSync(fd, b, { offset: 1, length: 3, position: 5 });
        return [n, b];
      });
      rec.call("read into Uint16Array", () => {
        const u = new Uint16Array(2);
        const n = fs.readSync(fd, u, 0, 4, 0);
        return [n, Buffer.from(u.buffer)];
      });
      rec.call("read past buffer end", () => fs.readSync(fd, Buffer.alloc(4), 2, 4, 0));
      rec.call("read negative offset", () => fs.readSync(fd, Buffer.alloc(4), -1, 1, 0));
      rec.call("write past buffer end", () => fs.writeSync(fd, Buffer.alloc(4), 2, 4, 0));
      rec.call("pwrite beyond EOF makes a hole", () => fs.writeSync(fd, "Z", 20));
      rec.call("hole reads zeros", () => pread(fs, fd, 0, 100));
      rec.call("read at current position (after writes)", () => fs.readSync(fd, Buffer.alloc(4), 0, 4, null));
      rec.call("write with bigint position", () => fs.writeSync(fd, Buffer.from("B"), 0, 1, 2n as never));
      rec.call("read with bigint position", () => pread(fs, fd, 2n as never, 1).toString());
      rec.call("close", () => fs.closeSync(fd));
      const ro = rec.fd("open r", () => fs.openSync(p("f"), "r"));
      rec.call("sequential read 1", () => pread(fs, ro, null as unknown as number, 5));
      rec.call("sequential read 2", () => pread(fs, ro, null as unknown as number, 5));
      rec.call("positional read does not move", () => pread(fs, ro, 0, 2));
      rec.call("sequential read 3", () => pread(fs, ro, null as unknown as number, 100));
      rec.call("sequential read at EOF", () => pread(fs, ro, null as unknown as number, 100));
      rec.call("close r", () => fs.closeSync(ro));
    },
  },
  {
    name: "descriptors: EBADF and EINVAL",
    run(fs, root, rec) {
      const p = at(root);
      fs.writeFileSync(p("f"), "abc");
      const fd = rec.fd("open", () => fs.openSync(p("f"), "r"));
      rec.call("ftruncate read-only fd", () => fs.ftruncateSync(fd, 1));
      rec.call("fchmod read-only fd", () => fs.fchmodSync(fd, 0o600));
      rec.call("futimes read-only fd", () => fs.futimesSync(fd, 1000, 2000));
      rec.call("close", () => fs.closeSync(fd));
      // Only calls that change nothing use the closed number: on node:fs another thread of the
      // process could open a file and get it. Writes go to a number nothing has.
      rec.call("read closed", () => fs.readSync(fd, Buffer.alloc(1), 0, 1, 0));
      rec.call("fstat closed", () => fs.fstatSync(fd));
      rec.call("fsync closed", () => fs.fsyncSync(fd));
      rec.call("fdatasync closed", () => fs.fdatasyncSync(fd));
      rec.call("close closed", () => fs.closeSync(fd));
      const bogus = 1_000_000;
      rec.call("read bogus fd", () => fs.readSync(bogus, Buffer.alloc(1), 0, 1, 0));
      rec.call("write bogus fd", () => fs.writeSync(bogus, "x"));
      rec.call("ftruncate bogus fd", () => fs.ftruncateSync(bogus));
      rec.call("fchmod bogus fd", () => fs.fchmodSync(bogus, 0o644));
      rec.call("futimes bogus fd", () => fs.futimesSync(bogus, 1, 2));
      rec.call("fstat bogus fd", () => fs.fstatSync(bogus));
      rec.call("close bogus fd", () => fs.closeSync(bogus));
      rec.call("readFile bogus fd", () => fs.readFileSync(bogus));
      rec.call("writeFile bogus fd", () => fs.writeFileSync(bogus, "x"));
      rec.call("fd -1", () => fs.fstatSync(-1));
      rec.call("fd not a number", () => fs.fstatSync("3" as never));
      const w = rec.fd("open w", () => fs.openSync(p("f"), "w"));
      rec.call("readFile from write-only fd", () => fs.readFileSync(w));
      rec.call("ftruncate negative length", () => fs.ftruncateSync(w, -5));
      rec.call("size after negative ftruncate", () => fs.fstatSync(w).size);
      rec.call("write negative position", () => fs.writeSync(w, Buffer.from("x"), 0, 1, -2));
      rec.call("close w", () => fs.closeSync(w));
    },
  },
  {
    name: "stat, lstat, fstat: types, modes, links, errors",
    run(fs, root, rec) {
      const p = at(root);
      fs.writeFileSync(p("f"), "12345");
      fs.mkdirSync(p("d"));
      fs.mkdirSync(p("d/sub"));
      fs.symlinkSync("f", p("lf"));
      fs.symlinkSync("d", p("ld"));
      fs.symlinkSync("nowhere/x", p("dangling"));
      for (const name of ["f", "d", "d/sub", "lf", "ld", "dangling", "missing", "f/x", "f/", "d/", "lf/", "ld/", "d/sub/..", "d/./sub/../sub", ""]) {
        rec.call(`stat ${name}`, () => fs.statSync(name === "" ? root : p(name)));
        rec.call(`lstat ${name}`, () => fs.lstatSync(name === "" ? root : p(name)));
      }
      rec.call("stat bigint", () => fs.statSync(p("f"), { bigint: true }));
      rec.call("stat throwIfNoEntry false", () => fs.statSync(p("missing"), { throwIfNoEntry: false }));
      rec.call("lstat throwIfNoEntry false", () => fs.lstatSync(p("missing"), { throwIfNoEntry: false }));
      rec.call("stat throwIfNoEntry false, ENOTDIR", () => fs.statSync(p("f/x"), { throwIfNoEntry: false }));
      rec.call("stat throwIfNoEntry false, dangling", () => fs.statSync(p("dangling"), { throwIfNoEntry: false }));
      rec.call("stat empty path", () => fs.statSync(""));
      rec.call("stat path with NUL", () => fs.statSync(p("a\0b")));
      rec.call("stat not a path", () => fs.statSync(42 as never));
      rec.call("stat Buffer path", () => fs.statSync(Buffer.from(p("f"))));
      rec.call("stat file URL", () => fs.statSync(new URL(`file://${p("f")}`)));
      const st = fs.statSync(p("f"));
      rec.note("stat through symlink has the file's ino", fs.statSync(p("lf")).ino === st.ino);
      rec.note("lstat of the symlink has its own ino", fs.lstatSync(p("lf")).ino !== st.ino);
      rec.note("d/sub/.. is d", fs.statSync(p("d/sub/..")).ino === fs.statSync(p("d")).ino);
      const fd = rec.fd("open", () => fs.openSync(p("lf"), "r"));
      rec.call("fstat", () => fs.fstatSync(fd));
      rec.call("fstat bigint", () => fs.fstatSync(fd, { bigint: true }));
      rec.note("fstat ino = stat ino", fs.fstatSync(fd).ino === st.ino);
      rec.call("close", () => fs.closeSync(fd));
      rec.call("stat type tests", () => {
        const s = fs.lstatSync(p("lf"));
        return [s.isFile(), s.isDirectory(), s.isSymbolicLink(), s.isFIFO(), s.isSocket(), s.isBlockDevice(), s.isCharacterDevice()];
      });
    },
  },
  {
    name: "readdir: names, withFileTypes, recursive, errors",
    run(fs, root, rec) {
      const p = at(root);
      fs.mkdirSync(p("d"));
      rec.call("empty dir", () => fs.readdirSync(p("d")));
      for (const n of ["b", "a", "c.txt", "Z", "ünï", "sp ace", "-dash", ".hidden"]) fs.writeFileSync(p(`d/${n}`), n);
      fs.mkdirSync(p("d/sub"));
      fs.mkdirSync(p("d/sub/deeper"));
      fs.writeFileSync(p("d/sub/deeper/leaf"), "");
      fs.symlinkSync("a", p("d/link"));
      fs.symlinkSync("sub", p("d/dirlink"));
      fs.symlinkSync("zzz", p("d/dangling"));
      rec.call("names", () => fs.readdirSync(p("d")));
      rec.call("withFileTypes", () => fs.readdirSync(p("d"), { withFileTypes: true }));
      rec.call("buffer encoding", () => fs.readdirSync(p("d"), "buffer"));
      rec.call("recursive", () => fs.readdirSync(p("d"), { recursive: true }));
      rec.call("recursive withFileTypes", () => fs.readdirSync(p("d"), { recursive: true, withFileTypes: true }));
      rec.call("through a dir symlink", () => fs.readdirSync(p("d/dirlink")));
      rec.call("with trailing slash", () => fs.readdirSync(p("d/sub/")));
      rec.call("of a file", () => fs.readdirSync(p("d/a")));
      rec.call("of a file symlink", () => fs.readdirSync(p("d/link")));
      rec.call("of a dangling symlink", () => fs.readdirSync(p("d/dangling")));
      rec.call("of a missing dir", () => fs.readdirSync(p("nope")));
      rec.call("under a file", () => fs.readdirSync(p("d/a/x")));
      fs.unlinkSync(p("d/b"));
      fs.rmSync(p("d/sub/deeper"), { recursive: true });
      rec.call("after removals", () => fs.readdirSync(p("d")));
      rec.call("sub after removals", () => fs.readdirSync(p("d/sub")));
      const many: string[] = [];
      for (let i = 0; i < 300; i++) many.push(`entry-${i}-${"x".repeat(i % 50)}`);
      fs.mkdirSync(p("many"));
      for (const n of many) fs.writeFileSync(p(`many/${n}`), "");
      rec.call("300 entries", () => fs.readdirSync(p("many")));
      for (let i = 0; i < 300; i += 2) fs.unlinkSync(p(`many/${many[i]}`));
      rec.call("150 left", () => fs.readdirSync(p("many")));
      for (let i = 0; i < 300; i += 2) fs.writeFileSync(p(`many/new-${i}`), "");
      rec.call("150 refilled", () => fs.readdirSync(p("many")));
      rec.call("stat many", () => fs.statSync(p("many")).nlink);
    },
  },
  {
    name: "mkdir: plain, recursive, modes, errors",
    run(fs, root, rec) {
      const p = at(root);
      rec.call("mkdir", () => fs.mkdirSync(p("a")));
      rec.call("mkdir existing", () => fs.mkdirSync(p("a")));
      rec.call("mkdir missing parent", () => fs.mkdirSync(p("x/y")));
      rec.call("mkdir recursive returns first created", () => fs.mkdirSync(p("a/b/c/d"), { recursive: true }));
      rec.call("mkdir recursive existing", () => fs.mkdirSync(p("a/b/c"), { recursive: true }));
      rec.call("mkdir recursive fresh", () => fs.mkdirSync(p("r1/r2"), { recursive: true }));
      rec.call("mkdir recursive with mode", () => fs.mkdirSync(p("m1/m2"), { recursive: true, mode: 0o700 }));
      rec.call("modes of recursive dirs", () => [fs.statSync(p("m1")).mode, fs.statSync(p("m1/m2")).mode]);
      rec.call("mkdir mode 0o750", () => fs.mkdirSync(p("m750"), 0o750));
      rec.call("mkdir mode string", () => fs.mkdirSync(p("m711"), "711"));
      rec.call("mkdir mode 0o1777 keeps the sticky bit", () => fs.mkdirSync(p("sticky"), 0o1777));
      rec.call("modes", () => ["m750", "m711", "sticky"].map((n) => fs.statSync(p(n)).mode));
      fs.writeFileSync(p("file"), "");
      rec.call("mkdir over a file", () => fs.mkdirSync(p("file")));
      rec.call("mkdir recursive over a file", () => fs.mkdirSync(p("file"), { recursive: true }));
      rec.call("mkdir recursive through a file", () => fs.mkdirSync(p("file/x/y"), { recursive: true }));
      rec.call("mkdir under a file", () => fs.mkdirSync(p("file/x")));
      rec.call("mkdir trailing slash", () => fs.mkdirSync(p("t/")));
      rec.call("mkdir trailing slashes", () => fs.mkdirSync(p("t2//")));
      rec.call("mkdir recursive trailing slash", () => fs.mkdirSync(p("t3/t4/"), { recursive: true }));
      fs.symlinkSync("gone", p("dangling"));
      fs.symlinkSync("a", p("la"));
      rec.call("mkdir on a dangling symlink", () => fs.mkdirSync(p("dangling")));
      rec.call("mkdir recursive on a dangling symlink", () => fs.mkdirSync(p("dangling"), { recursive: true }));
      rec.call("mkdir on a symlink to a dir", () => fs.mkdirSync(p("la")));
      rec.call("mkdir recursive on a symlink to a dir", () => fs.mkdirSync(p("la"), { recursive: true }));
      rec.call("mkdir through a symlink", () => fs.mkdirSync(p("la/viaLink")));
      rec.call("mkdir dot", () => fs.mkdirSync(p("a/.")));
      rec.call("mkdir dotdot", () => fs.mkdirSync(p("a/..")));
      rec.call("mkdir root", () => fs.mkdirSync(root));
      rec.call("mkdir recursive root", () => fs.mkdirSync(root, { recursive: true }));
      rec.call("nlink of a", () => fs.statSync(p("a")).nlink);
      rec.call("nlink of root", () => fs.statSync(root).nlink);
      rec.call("tree", () => fs.readdirSync(root, { recursive: true }));
    },
  },
  {
    name: "rm, rmdir, unlink: success and errors",
    run(fs, root, rec) {
      const p = at(root);
      fs.mkdirSync(p("tree/a/b"), { recursive: true });
      fs.writeFileSync(p("tree/f"), "x");
      fs.writeFileSync(p("tree/a/g"), "y");
      fs.symlinkSync("../f", p("tree/a/l"));
      fs.mkdirSync(p("empty"));
      fs.writeFileSync(p("file"), "z");
      fs.symlinkSync("tree", p("treelink"));
      fs.symlinkSync("file", p("filelink"));
      rec.call("rm file", () => fs.rmSync(p("file")));
      rec.call("rm missing", () => fs.rmSync(p("file")));
      rec.call("rm missing force", () => fs.rmSync(p("file"), { force: true }));
      rec.call("rm missing recursive force", () => fs.rmSync(p("nope/deeper"), { recursive: true, force: true }));
      rec.call("rm dir without recursive", () => fs.rmSync(p("empty")), "code+syscall");
      rec.call("rm dangling symlink", () => fs.rmSync(p("filelink")));
      rec.call("rm symlink to dir removes the link only", () => fs.rmSync(p("treelink"), { recursive: true }));
      rec.call("tree still there", () => fs.readdirSync(p("tree"), { recursive: true }));
      rec.call("rm recursive tree", () => fs.rmSync(p("tree"), { recursive: true }));
      rec.call("tree gone", () => fs.existsSync(p("tree")));
      rec.call("rmdir empty", () => fs.rmdirSync(p("empty")));
      rec.call("rmdir missing", () => fs.rmdirSync(p("empty")));
      fs.mkdirSync(p("full/sub"), { recursive: true });
      fs.writeFileSync(p("f2"), "");
      fs.symlinkSync("full", p("fulllink"));
      rec.call("rmdir non-empty", () => fs.rmdirSync(p("full")));
      rec.call("rmdir a file", () => fs.rmdirSync(p("f2")));
      rec.call("rmdir a symlink to a dir", () => fs.rmdirSync(p("fulllink")));
      rec.call("rmdir dir/.", () => fs.rmdirSync(p("full/sub/.")));
      rec.call("rmdir dir/..", () => fs.rmdirSync(p("full/sub/..")));
      rec.call("rmdir under a file", () => fs.rmdirSync(p("f2/x")));
      rec.call("rmdir trailing slash", () => fs.rmdirSync(p("full/sub/")));
      rec.call("rm -r full", () => fs.rmSync(p("full"), { recursive: true }));
      rec.call("unlink file", () => fs.unlinkSync(p("f2")));
      rec.call("unlink missing", () => fs.unlinkSync(p("f2")));
      fs.mkdirSync(p("dir"));
      fs.writeFileSync(p("g"), "");
      rec.call("unlink a dir", () => fs.unlinkSync(p("dir")));
      rec.call("unlink a file with trailing slash", () => fs.unlinkSync(p("g/")));
      rec.call("unlink a symlink to a dir", () => fs.unlinkSync(p("fulllink")));
      rec.call("unlink under a file", () => fs.unlinkSync(p("g/x")));
      rec.call("unlink in a missing dir", () => fs.unlinkSync(p("nodir/x")));
      rec.call("left", () => fs.readdirSync(root));
      rec.call("root nlink", () => fs.statSync(root).nlink);
    },
  },
  {
    name: "unlinked and renamed-over files stay readable while open",
    run(fs, root, rec) {
      const p = at(root);
      fs.writeFileSync(p("f"), "still here");
      const fd = rec.fd("open", () => fs.openSync(p("f"), "r+"));
      rec.call("unlink while open", () => fs.unlinkSync(p("f")));
      rec.call("gone from the namespace", () => fs.existsSync(p("f")));
      rec.call("fstat nlink 0", () => fs.fstatSync(fd).nlink);
      rec.call("read", () => pread(fs, fd, 0, 100).toString());
      rec.call("write", () => fs.writeSync(fd, "!", 10));
      rec.call("read again", () => pread(fs, fd, 0, 100).toString());
      rec.call("ftruncate unlinked", () => fs.ftruncateSync(fd, 5));
      rec.call("fstat size", () => fs.fstatSync(fd).size);
      rec.call("new file with the same name", () => fs.writeFileSync(p("f"), "new"));
      rec.call("old descriptor still sees old data", () => pread(fs, fd, 0, 100).toString());
      rec.call("close", () => fs.closeSync(fd));
      fs.writeFileSync(p("a"), "aaa");
      fs.writeFileSync(p("b"), "bbb");
      const fb = rec.fd("open b", () => fs.openSync(p("b"), "r"));
      rec.call("rename a over b", () => fs.renameSync(p("a"), p("b")));
      rec.call("old b still readable", () => pread(fs, fb, 0, 10).toString());
      rec.call("old b nlink", () => fs.fstatSync(fb).nlink);
      rec.call("b has a's data", () => fs.readFileSync(p("b"), "utf8"));
      rec.call("close b", () => fs.closeSync(fb));
      fs.mkdirSync(p("d"));
      const fdd = rec.fd("open dir", () => fs.openSync(p("d"), "r"));
      rec.call("rmdir while open", () => fs.rmdirSync(p("d")));
      rec.call("fstat removed dir", () => fs.fstatSync(fdd).nlink);
      rec.call("close dir", () => fs.closeSync(fdd));
      rec.call("left", () => fs.readdirSync(root));
    },
  },
  {
    name: "rename: files, directories, replacement rules, errors",
    run(fs, root, rec) {
      const p = at(root);
      fs.writeFileSync(p("a"), "A");
      fs.writeFileSync(p("b"), "BB");
      fs.mkdirSync(p("d1/inner"), { recursive: true });
      fs.writeFileSync(p("d1/inner/x"), "x");
      fs.mkdirSync(p("d2"));
      fs.mkdirSync(p("full/child"), { recursive: true });
      rec.call("file to new name", () => fs.renameSync(p("a"), p("a2")));
      rec.call("source gone", () => fs.existsSync(p("a")));
      rec.call("file over file", () => fs.renameSync(p("a2"), p("b")));
      rec.call("replaced content", () => fs.readFileSync(p("b"), "utf8"));
      rec.call("missing source", () => fs.renameSync(p("a2"), p("c")));
      rec.call("missing target dir", () => fs.renameSync(p("b"), p("nodir/c")));
      rec.call("target under a file", () => fs.renameSync(p("b"), p("b/c")));
      rec.call("file to itself", () => fs.renameSync(p("b"), p("b")));
      rec.call("dir over empty dir", () => fs.renameSync(p("d1"), p("d2")));
      rec.call("moved tree", () => fs.readdirSync(p("d2"), { recursive: true }));
      rec.call("dir over non-empty dir", () => fs.renameSync(p("d2"), p("full")));
      fs.mkdirSync(p("e"));
      rec.call("file over dir", () => fs.renameSync(p("b"), p("e")));
      rec.call("dir over file", () => fs.renameSync(p("e"), p("b")));
      rec.call("dir into own subdir", () => fs.renameSync(p("d2"), p("d2/inner/moved")));
      rec.call("dir onto own subdir", () => fs.renameSync(p("d2"), p("d2/inner")));
      rec.call("dir to itself", () => fs.renameSync(p("d2"), p("d2")));
      rec.call("subdir over its ancestor", () => fs.renameSync(p("d2/inner"), p("d2")));
      rec.call("dir over empty dir with trailing slash", () => fs.renameSync(p("d2/"), p("e/")));
      rec.call("after", () => fs.readdirSync(root));
      rec.call("file with trailing slash", () => fs.renameSync(p("b/"), p("c")));
      rec.call("file to name with trailing slash", () => fs.renameSync(p("b"), p("c/")));
      rec.call("dir to new name with trailing slash", () => fs.renameSync(p("e"), p("e2/")));
      rec.call("dir to .", () => fs.renameSync(p("e2"), p("full/.")));
      rec.call("dir from ..", () => fs.renameSync(p("full/child/.."), p("zz")));
      rec.call("dir across parents", () => fs.renameSync(p("e2"), p("full/child/e3")));
      rec.call("nlinks after move", () => [fs.statSync(p("full")).nlink, fs.statSync(p("full/child")).nlink, fs.statSync(root).nlink]);
      rec.call("realpath of moved dir", () => fs.realpathSync.native(p("full/child/e3/inner/x")));
      rec.call("move the dir back up", () => fs.renameSync(p("full/child/e3"), p("up")));
      rec.call("nlinks after move back", () => [fs.statSync(p("full")).nlink, fs.statSync(p("full/child")).nlink, fs.statSync(root).nlink]);
      rec.call(".. of the moved dir", () => fs.readdirSync(p("up/inner/../..")).includes("up"));
      fs.writeFileSync(p("h1"), "hard");
      fs.linkSync(p("h1"), p("h2"));
      rec.call("rename a hard link onto its other name", () => fs.renameSync(p("h1"), p("h2")));
      rec.call("both names remain", () => [fs.existsSync(p("h1")), fs.existsSync(p("h2")), fs.statSync(p("h2")).nlink]);
      fs.symlinkSync("h1", p("sl"));
      rec.call("rename a symlink", () => fs.renameSync(p("sl"), p("full/sl")));
      rec.call("moved symlink keeps its target text", () => fs.readlinkSync(p("full/sl")));
      rec.call("and now dangles", () => fs.existsSync(p("full/sl")));
      fs.symlinkSync("full", p("dirsl"));
      rec.call("rename a dir symlink over a dir", () => fs.renameSync(p("dirsl"), p("up")));
      rec.call("rename a dir over a dir symlink", () => fs.renameSync(p("up"), p("dirsl")));
      rec.call("rename to an empty name", () => fs.renameSync(p("h1"), ""));
      rec.call("final tree", () => fs.readdirSync(root, { recursive: true }));
    },
  },
  {
    name: "link: hard links share the inode; errors",
    run(fs, root, rec) {
      const p = at(root);
      fs.writeFileSync(p("f"), "one");
      fs.mkdirSync(p("d"));
      fs.symlinkSync("f", p("sl"));
      rec.call("link", () => fs.linkSync(p("f"), p("g")));
      rec.call("link into a subdir", () => fs.linkSync(p("f"), p("d/h")));
      rec.note("same ino", fs.statSync(p("f")).ino === fs.statSync(p("g")).ino && fs.statSync(p("g")).ino === fs.statSync(p("d/h")).ino);
      rec.call("nlink 3", () => fs.statSync(p("g")).nlink);
      rec.call("write through one name", () => fs.appendFileSync(p("g"), " two"));
      rec.call("read through another", () => fs.readFileSync(p("d/h"), "utf8"));
      rec.call("link existing target", () => fs.linkSync(p("f"), p("g")));
      rec.call("link onto a dir", () => fs.linkSync(p("f"), p("d")));
      rec.call("link a dir", () => fs.linkSync(p("d"), p("d2")));
      rec.call("link missing", () => fs.linkSync(p("nope"), p("x")));
      rec.call("link into missing dir", () => fs.linkSync(p("f"), p("nodir/x")));
      rec.call("link to a name with trailing slash", () => fs.linkSync(p("f"), p("x/")));
      rec.call("link a file with trailing slash", () => fs.linkSync(p("f/"), p("x")));
      rec.call("link a symlink (links the symlink itself)", () => fs.linkSync(p("sl"), p("sl2")));
      rec.call("the new name is a symlink", () => fs.lstatSync(p("sl2")));
      rec.note("symlink links share ino", fs.lstatSync(p("sl")).ino === fs.lstatSync(p("sl2")).ino);
      rec.call("unlink one name", () => fs.unlinkSync(p("f")));
      rec.call("nlink 2", () => fs.statSync(p("g")).nlink);
      rec.call("data intact", () => fs.readFileSync(p("g"), "utf8"));
      rec.call("sl dangles now", () => fs.existsSync(p("sl2")));
      rec.call("unlink the rest", () => {
        fs.unlinkSync(p("g"));
        return fs.statSync(p("d/h")).nlink;
      });
    },
  },
  {
    name: "symlink, readlink, realpath",
    run(fs, root, rec) {
      const p = at(root);
      fs.mkdirSync(p("d/e"), { recursive: true });
      fs.writeFileSync(p("d/e/f"), "target");
      rec.call("relative symlink", () => fs.symlinkSync("d/e/f", p("rel")));
      rec.call("absolute symlink", () => fs.symlinkSync(p("d/e"), p("abs")));
      rec.call("symlink with ..", () => fs.symlinkSync("../../d", p("d/e/up")));
      rec.call("dangling symlink", () => fs.symlinkSync("no/such/thing", p("dangling")));
      rec.call("symlink to itself", () => fs.symlinkSync("self", p("self")));
      rec.call("symlink over existing", () => fs.symlinkSync("x", p("rel")));
      rec.call("symlink over a dir", () => fs.symlinkSync("x", p("d")));
      rec.call("symlink in missing dir", () => fs.symlinkSync("x", p("nodir/l")));
      rec.call("symlink with empty target", () => fs.symlinkSync("", p("empty")));
      rec.call("symlink name with trailing slash", () => fs.symlinkSync("d", p("slash/")));
      rec.call("readlink relative", () => fs.readlinkSync(p("rel")));
      rec.call("readlink absolute", () => fs.readlinkSync(p("abs")));
      rec.call("readlink buffer", () => fs.readlinkSync(p("rel"), "buffer"));
      rec.call("readlink of a file", () => fs.readlinkSync(p("d/e/f")));
      rec.call("readlink of a dir", () => fs.readlinkSync(p("d")));
      rec.call("readlink missing", () => fs.readlinkSync(p("nope")));
      rec.call("readlink dangling", () => fs.readlinkSync(p("dangling")));
      rec.call("readlink through a dir symlink", () => fs.readlinkSync(p("abs/up")));
      rec.call("readlink with trailing slash", () => fs.readlinkSync(p("abs/")));
      rec.call("lstat symlink size is its target's length", () => [fs.lstatSync(p("rel")).size, fs.lstatSync(p("abs")).size === Buffer.byteLength(p("d/e"))]);
      rec.call("read through symlink", () => fs.readFileSync(p("rel"), "utf8"));
      rec.call("read through chain", () => fs.readFileSync(p("abs/up/e/f"), "utf8"));
      // realpathSync is Node's JavaScript algorithm (lexical "..", errors from lstat/stat), realpathSync.native is realpath(3).
      for (const rel of ["rel", "abs", "abs/up", "abs/up/e/up/e/f", "d/./e/../e//f", "d/e/", "abs/..", "abs/up/..", "", "dangling", "self", "nope", "d/e/f/x", "rel/", "abs/up/e/f/"]) {
        rec.call(`realpath.native ${rel}`, () => fs.realpathSync.native(rel === "" ? root : p(rel)));
        rec.call(`realpath ${rel}`, () => fs.realpathSync(rel === "" ? root : p(rel)));
      }
      rec.call("realpath buffer encoding", () => {
        const b = fs.realpathSync(p("rel"), "buffer");
        return [Buffer.isBuffer(b), b.toString()];
      });
      rec.call("realpath.native buffer encoding", () => {
        const b = fs.realpathSync.native(p("rel"), "buffer");
        return [Buffer.isBuffer(b), b.toString()];
      });
      rec.call("dangling: exists", () => fs.existsSync(p("dangling")));
      rec.call("dangling: lstat", () => fs.lstatSync(p("dangling")).isSymbolicLink());
      rec.call("dangling: stat", () => fs.statSync(p("dangling")));
      rec.call("dangling: readFile", () => fs.readFileSync(p("dangling")));
      rec.call("dangling: access", () => fs.accessSync(p("dangling")));
      fs.symlinkSync("made-by-write", p("dw"));
      rec.call("writeFile through a dangling symlink creates the target", () => fs.writeFileSync(p("dw"), "hi"));
      rec.call("target", () => fs.readFileSync(p("made-by-write"), "utf8"));
      rec.call("unlink a symlink leaves the target", () => {
        fs.unlinkSync(p("rel"));
        return fs.existsSync(p("d/e/f"));
      });
      const long = "t".repeat(4000);
      rec.call("symlink with a 4000-byte target", () => fs.symlinkSync(long, p("longtarget")));
      rec.call("readlink it", () => fs.readlinkSync(p("longtarget")) === long);
      rec.call("its size", () => fs.lstatSync(p("longtarget")).size);
      const long2 = "u".repeat(4095);
      rec.call("symlink with a 4095-byte target", () => fs.symlinkSync(long2, p("longtarget2")));
      rec.call("readlink 4095", () => fs.readlinkSync(p("longtarget2")) === long2);
      rec.call("symlink with a 4096-byte target", () => fs.symlinkSync("v".repeat(4096), p("longtarget3")));
      rec.call("symlink with a multi-byte target", () => fs.symlinkSync("é/ü/€", p("utf")));
      rec.call("readlink multi-byte", () => [fs.readlinkSync(p("utf")), fs.lstatSync(p("utf")).size]);
    },
  },
  {
    name: "symlink loops and the 40-link limit (ELOOP)",
    run(fs, root, rec) {
      const p = at(root);
      fs.symlinkSync("self", p("self"));
      fs.symlinkSync("b", p("a"));
      fs.symlinkSync("a", p("b"));
      fs.writeFileSync(p("target"), "end");
      fs.mkdirSync(p("dir"));
      // chain: l0 -> target, l1 -> l0, …, l40 -> l39: reaching the target from l(n) follows n+1 links.
      fs.symlinkSync("target", p("l0"));
      for (let i = 1; i <= 41; i++) fs.symlinkSync(`l${i - 1}`, p(`l${i}`));
      fs.symlinkSync("dir", p("m0"));
      for (let i = 1; i <= 41; i++) fs.symlinkSync(`m${i - 1}`, p(`m${i}`));
      for (const name of ["self", "a", "self/x", "a/x"]) {
        rec.call(`stat ${name}`, () => fs.statSync(p(name)));
        rec.call(`lstat ${name}`, () => fs.lstatSync(p(name)));
        rec.fd(`open ${name}`, () => fs.openSync(p(name), "r"));
        rec.fd(`open O_CREAT ${name}`, () => fs.openSync(p(name), "w"));
        rec.call(`readFile ${name}`, () => fs.readFileSync(p(name)));
        rec.call(`realpath.native ${name}`, () => fs.realpathSync.native(p(name)));
        rec.call(`realpath ${name}`, () => fs.realpathSync(p(name)));
        rec.call(`exists ${name}`, () => fs.existsSync(p(name)));
        rec.call(`access ${name}`, () => fs.accessSync(p(name)));
        rec.call(`mkdir ${name}/sub`, () => fs.mkdirSync(p(`${name}/sub`)));
        rec.call(`readdir ${name}`, () => fs.readdirSync(p(name)));
        rec.call(`chmod ${name}`, () => fs.chmodSync(p(name), 0o644));
        rec.call(`utimes ${name}`, () => fs.utimesSync(p(name), 1, 2));
        rec.call(`truncate ${name}`, () => fs.truncateSync(p(name)));
      }
      rec.call("readlink self", () => fs.readlinkSync(p("self")));
      rec.call("rename loop", () => fs.renameSync(p("a"), p("a2")));
      rec.call("stat renamed loop", () => fs.statSync(p("a2")));
      rec.call("unlink loop member", () => fs.unlinkSync(p("b")));
      rec.call("a2 now dangles", () => fs.statSync(p("a2")));
      rec.call("chain of 39 links", () => fs.readFileSync(p("l38"), "utf8"));
      rec.call("chain of 40 links", () => fs.readFileSync(p("l39"), "utf8"));
      rec.call("chain of 41 links", () => fs.readFileSync(p("l40"), "utf8"));
      rec.call("chain of 42 links", () => fs.readFileSync(p("l41"), "utf8"));
      rec.call("stat chain of 40", () => fs.statSync(p("l39")).size);
      rec.call("stat chain of 41", () => fs.statSync(p("l40")));
      rec.call("lstat chain of 41", () => fs.lstatSync(p("l40")).isSymbolicLink());
      rec.call("realpath chain of 40", () => fs.realpathSync.native(p("l39")));
      rec.call("realpath chain of 41", () => fs.realpathSync.native(p("l40")));
      rec.call("dir chain of 40 in the middle of a path", () => fs.writeFileSync(p("m39/in"), "x"));
      rec.call("dir chain of 41 in the middle of a path", () => fs.writeFileSync(p("m40/in"), "x"));
      rec.call("dir chain of 40 with trailing slash", () => fs.statSync(p("m39/")).isDirectory());
      rec.call("dir chain of 41 with trailing slash", () => fs.statSync(p("m40/")));
      rec.call("written via chain", () => fs.readdirSync(p("dir")));
    },
  },
  {
    name: "trailing slashes on every call",
    run(fs, root, rec) {
      const p = at(root);
      fs.writeFileSync(p("f"), "file");
      fs.mkdirSync(p("d"));
      fs.symlinkSync("f", p("lf"));
      fs.symlinkSync("d", p("ld"));
      rec.call("stat f/", () => fs.statSync(p("f/")));
      rec.call("stat d/", () => fs.statSync(p("d/")).isDirectory());
      rec.call("stat d//", () => fs.statSync(p("d//")).isDirectory());
      rec.call("lstat ld/ follows the link", () => fs.lstatSync(p("ld/")).isDirectory());
      rec.call("lstat lf/", () => fs.lstatSync(p("lf/")));
      rec.call("exists f/", () => fs.existsSync(p("f/")));
      rec.call("exists d/", () => fs.existsSync(p("d/")));
      rec.call("access f/", () => fs.accessSync(p("f/")));
      rec.call("readFile f/", () => fs.readFileSync(p("f/")));
      rec.call("writeFile f/", () => fs.writeFileSync(p("f/"), "x"));
      rec.call("writeFile new/", () => fs.writeFileSync(p("new/"), "x"));
      rec.call("appendFile f/", () => fs.appendFileSync(p("f/"), "x"));
      rec.call("truncate f/", () => fs.truncateSync(p("f/")));
      rec.call("chmod f/", () => fs.chmodSync(p("f/"), 0o600));
      rec.call("chmod d/", () => fs.chmodSync(p("d/"), 0o700));
      rec.call("utimes f/", () => fs.utimesSync(p("f/"), 1, 2));
      rec.call("readlink lf/", () => fs.readlinkSync(p("lf/")));
      rec.call("readlink ld/", () => fs.readlinkSync(p("ld/")));
      rec.call("realpath f/", () => fs.realpathSync.native(p("f/")));
      rec.call("realpath ld/", () => fs.realpathSync.native(p("ld/")));
      rec.call("readdir ld/", () => fs.readdirSync(p("ld/")));
      rec.call("copyFile f/ x", () => fs.copyFileSync(p("f/"), p("x")));
      rec.call("copyFile f x/", () => fs.copyFileSync(p("f"), p("x/")));
      rec.call("link f/ x", () => fs.linkSync(p("f/"), p("x")));
      rec.call("symlink onto x/", () => fs.symlinkSync("f", p("x/")));
      rec.call("rename f/ x", () => fs.renameSync(p("f/"), p("x")));
      rec.call("rename lf/ x", () => fs.renameSync(p("lf/"), p("x")));
      rec.call("rename ld/ x (renames the link)", () => fs.renameSync(p("ld/"), p("x")));
      rec.call("after rename ld/", () => fs.readdirSync(root, { withFileTypes: true }));
      rec.call("unlink f/", () => fs.unlinkSync(p("f/")));
      rec.call("unlink lf/", () => fs.unlinkSync(p("lf/")));
      rec.call("rmdir x/ (a symlink to a dir)", () => fs.rmdirSync(p("x/")));
      rec.call("rm f/", () => fs.rmSync(p("f/")));
      rec.call("rm d/ recursive", () => fs.rmSync(p("d/"), { recursive: true }));
      rec.call("mkdir m/", () => fs.mkdirSync(p("m/")));
      rec.call("rmdir m/", () => fs.rmdirSync(p("m/")));
      rec.call("left", () => fs.readdirSync(root));
    },
  },
  {
    name: "long names and paths (ENAMETOOLONG)",
    run(fs, root, rec) {
      const p = at(root);
      const n255 = "n".repeat(255);
      const n256 = "n".repeat(256);
      const u255 = "é".repeat(127) + "x"; // 255 bytes of UTF-8
      const u256 = "é".repeat(128); // 256 bytes
      rec.call("create 255-byte name", () => fs.writeFileSync(p(n255), "ok"));
      rec.call("read it", () => fs.readFileSync(p(n255), "utf8"));
      rec.call("readdir shows it", () => fs.readdirSync(root));
      rec.call("mkdir 255-byte name", () => fs.mkdirSync(p(`d${n255.slice(1)}`)));
      rec.call("255 bytes of UTF-8", () => fs.writeFileSync(p(u255), "ok"));
      rec.call("stat it", () => fs.statSync(p(u255)).size);
      rec.call("256 bytes of UTF-8", () => fs.writeFileSync(p(u256), "no"));
      rec.call("create 256-byte name", () => fs.writeFileSync(p(n256), "no"));
      rec.call("stat 256-byte name", () => fs.statSync(p(n256)));
      rec.call("mkdir 256-byte name", () => fs.mkdirSync(p(n256)));
      rec.call("mkdir recursive 256-byte name", () => fs.mkdirSync(p(`a/${n256}/b`), { recursive: true }));
      rec.call("256-byte component in the middle", () => fs.statSync(p(`${n256}/x`)));
      rec.call("symlink to a 256-byte name", () => fs.symlinkSync(n256, p("l")));
      rec.call("follow it", () => fs.statSync(p("l")));
      rec.call("symlink named 256 bytes", () => fs.symlinkSync("x", p(n256)));
      rec.call("rename to 256 bytes", () => fs.renameSync(p(n255), p(n256)));
      rec.call("link to 256 bytes", () => fs.linkSync(p(n255), p(n256)));
      rec.call("rename 255 to 255", () => fs.renameSync(p(n255), p(`r${n255.slice(1)}`)));
      rec.call("unlink 256", () => fs.unlinkSync(p(n256)));
      rec.call("rmdir 256", () => fs.rmdirSync(p(n256)));
      rec.call("readdir", () => fs.readdirSync(root));
      // Paths: 4095 bytes pass (ENOENT for a missing one), 4096 or more are ENAMETOOLONG.
      const pathOf = (bytes: number) => {
        let s = root;
        while (s.length + 201 < bytes) s += "/" + "c".repeat(200);
        s += "/" + "c".repeat(bytes - s.length - 1);
        return s;
      };
      rec.call("path of 4095 bytes", () => fs.statSync(pathOf(4095)), "code");
      rec.call("path of 4096 bytes", () => fs.statSync(pathOf(4096)), "code");
      rec.call("path of 5000 bytes", () => fs.statSync(pathOf(5000)), "code");
      rec.call("open path of 4096 bytes", () => fs.openSync(pathOf(4096), "w"), "code");
      rec.call("mkdir path of 4096 bytes", () => fs.mkdirSync(pathOf(4096)), "code");
      // 38 levels of 100 bytes: 3838 bytes below the root, under PATH_MAX on both sides.
      const deep = root + `/${"k".repeat(100)}`.repeat(38);
      rec.call("a deep tree under PATH_MAX", () => fs.mkdirSync(deep, { recursive: true }) === `${root}/${"k".repeat(100)}`);
      rec.call("file at the bottom", () => fs.writeFileSync(`${deep}/f`, "deep"));
      rec.call("read it back", () => fs.readFileSync(`${deep}/f`, "utf8"));
      rec.call("realpath at the bottom", () => fs.realpathSync.native(`${deep}/f`) === `${deep}/f`);
      rec.call("one level more is too long", () => fs.mkdirSync(`${deep}/${"k".repeat(255)}`), "code");
      rec.call("rm the deep tree", () => fs.rmSync(p("k".repeat(100)), { recursive: true }));
    },
  },
  {
    name: "ENOENT, ENOTDIR, EISDIR, EEXIST across calls",
    run(fs, root, rec) {
      const p = at(root);
      fs.writeFileSync(p("f"), "file");
      fs.mkdirSync(p("d"));
      const missing = p("missing/x");
      const underFile = p("f/x");
      for (const [label, target] of [["missing parent", missing], ["under a file", underFile]] as const) {
        rec.call(`stat, ${label}`, () => fs.statSync(target));
        rec.call(`open, ${label}`, () => fs.openSync(target, "r"));
        rec.call(`open w, ${label}`, () => fs.openSync(target, "w"));
        rec.call(`mkdir, ${label}`, () => fs.mkdirSync(target));
        rec.call(`rmdir, ${label}`, () => fs.rmdirSync(target));
        rec.call(`unlink, ${label}`, () => fs.unlinkSync(target));
        rec.call(`rename from, ${label}`, () => fs.renameSync(target, p("y")));
        rec.call(`rename to, ${label}`, () => fs.renameSync(p("d"), target));
        rec.call(`link from, ${label}`, () => fs.linkSync(target, p("y")));
        rec.call(`link to, ${label}`, () => fs.linkSync(p("f"), target));
        rec.call(`symlink at, ${label}`, () => fs.symlinkSync("t", target));
        rec.call(`readlink, ${label}`, () => fs.readlinkSync(target));
        rec.call(`realpath, ${label}`, () => fs.realpathSync.native(target));
        rec.call(`readdir, ${label}`, () => fs.readdirSync(target));
        rec.call(`truncate, ${label}`, () => fs.truncateSync(target));
        rec.call(`readFile, ${label}`, () => fs.readFileSync(target));
        rec.call(`writeFile, ${label}`, () => fs.writeFileSync(target, "x"));
        rec.call(`appendFile, ${label}`, () => fs.appendFileSync(target, "x"));
        rec.call(`copyFile from, ${label}`, () => fs.copyFileSync(target, p("y")));
        rec.call(`copyFile to, ${label}`, () => fs.copyFileSync(p("f"), target));
        rec.call(`access, ${label}`, () => fs.accessSync(target));
        rec.call(`exists, ${label}`, () => fs.existsSync(target));
        rec.call(`utimes, ${label}`, () => fs.utimesSync(target, 1, 2));
        rec.call(`chmod, ${label}`, () => fs.chmodSync(target, 0o600));
        rec.call(`rm, ${label}`, () => fs.rmSync(target));
        rec.call(`rm force, ${label}`, () => fs.rmSync(target, { force: true }));
      }
      rec.call("readFile of a dir", () => fs.readFileSync(p("d")));
      rec.call("writeFile to a dir", () => fs.writeFileSync(p("d"), "x"));
      rec.call("appendFile to a dir", () => fs.appendFileSync(p("d"), "x"));
      rec.call("truncate a dir", () => fs.truncateSync(p("d")));
      rec.call("copyFile a dir", () => fs.copyFileSync(p("d"), p("y")));
      rec.call("copyFile onto a dir", () => fs.copyFileSync(p("f"), p("d")));
      rec.call("mkdir onto a file", () => fs.mkdirSync(p("f")));
      rec.call("symlink onto a file", () => fs.symlinkSync("t", p("f")));
      rec.call("link onto a file", () => fs.linkSync(p("f"), p("f")));
      rec.call("left", () => fs.readdirSync(root, { withFileTypes: true }));
    },
  },
  {
    name: "truncate and ftruncate: grow, shrink, zeros past the old end",
    run(fs, root, rec) {
      const p = at(root);
      const data = pattern(10000, 3);
      fs.writeFileSync(p("f"), data);
      rec.call("truncate to 5000", () => fs.truncateSync(p("f"), 5000));
      rec.call("size", () => fs.statSync(p("f")).size);
      rec.call("content is the prefix", () => fs.readFileSync(p("f")).equals(data.subarray(0, 5000)));
      rec.call("grow to 9000", () => fs.truncateSync(p("f"), 9000));
      rec.call("bytes past 5000 are zeros", () => {
        const b = fs.readFileSync(p("f"));
        return [b.length, b.subarray(0, 5000).equals(data.subarray(0, 5000)), allZero(b.subarray(5000))];
      });
      rec.call("shrink inside a page", () => fs.truncateSync(p("f"), 4100));
      rec.call("grow again", () => fs.truncateSync(p("f"), 4200));
      rec.call("4100..4200 are zeros", () => allZero(fs.readFileSync(p("f")).subarray(4100)));
      rec.call("truncate without length empties", () => fs.truncateSync(p("f")));
      rec.call("size 0", () => fs.statSync(p("f")).size);
      rec.call("truncate negative length is 0", () => fs.truncateSync(p("f"), -1));
      const fd = rec.fd("open r+", () => fs.openSync(p("f"), "r+"));
      rec.call("write 100 bytes", () => fs.writeSync(fd, Buffer.alloc(100, 0x62), 0, 100, 0));
      rec.call("ftruncate to 50", () => fs.ftruncateSync(fd, 50));
      rec.call("ftruncate to 100", () => fs.ftruncateSync(fd, 100));
      rec.call("50..100 are zeros", () => pread(fs, fd, 0, 200));
      rec.call("ftruncate to 3 pages + 1", () => fs.ftruncateSync(fd, 3 * 4096 + 1));
      rec.call("read across the grown part", () => pread(fs, fd, 4000, 8192));
      rec.call("write past the end after a shrink", () => {
        fs.ftruncateSync(fd, 10);
        return fs.writeSync(fd, "END", 20);
      });
      rec.call("10..20 are zeros", () => pread(fs, fd, 0, 100));
      rec.call("ftruncate without length", () => fs.ftruncateSync(fd));
      rec.call("fstat size", () => fs.fstatSync(fd).size);
      rec.call("ftruncate big", () => fs.ftruncateSync(fd, 5 * 1024 * 1024 + 123));
      rec.call("tail reads zeros", () => allZero(pread(fs, fd, 5 * 1024 * 1024 - 4000, 8192)));
      rec.call("read at the end", () => fs.readSync(fd, Buffer.alloc(10), 0, 10, 5 * 1024 * 1024 + 120));
      rec.call("close", () => fs.closeSync(fd));
      const w = rec.fd("open w", () => fs.openSync(p("g"), "w"));
      rec.call("ftruncate write-only fd", () => fs.ftruncateSync(w, 3));
      rec.call("read back", () => fs.readFileSync(p("g")));
      rec.call("close w", () => fs.closeSync(w));
      rec.call("truncate missing", () => fs.truncateSync(p("missing"), 1));
      fs.symlinkSync("g", p("lg"));
      rec.call("truncate through a symlink", () => fs.truncateSync(p("lg"), 7));
      rec.call("size via the symlink", () => [fs.statSync(p("g")).size, fs.lstatSync(p("lg")).size]);
      rec.call("truncate by descriptor number", () => {
        const d = fs.openSync(p("g"), "r+");
        try {
          fs.truncateSync(d as never, 2);
        } finally {
          fs.closeSync(d);
        }
        return fs.statSync(p("g")).size;
      });
    },
  },
  {
    name: "fsync and fdatasync",
    run(fs, root, rec) {
      const p = at(root);
      const fd = rec.fd("open", () => fs.openSync(p("f"), "w+"));
      rec.call("write", () => fs.writeSync(fd, pattern(10000)));
      rec.call("fsync", () => fs.fsyncSync(fd));
      rec.call("fdatasync", () => fs.fdatasyncSync(fd));
      rec.call("write more", () => fs.writeSync(fd, "tail", 20000));
      rec.call("fdatasync again", () => fs.fdatasyncSync(fd));
      rec.call("data", () => fs.readFileSync(p("f")));
      rec.call("close", () => fs.closeSync(fd));
      const ro = rec.fd("open r", () => fs.openSync(p("f"), "r"));
      rec.call("fsync a read-only fd", () => fs.fsyncSync(ro));
      rec.call("fdatasync a read-only fd", () => fs.fdatasyncSync(ro));
      rec.call("close r", () => fs.closeSync(ro));
      const dfd = rec.fd("open root dir", () => fs.openSync(root, "r"));
      rec.call("fsync a dir", () => fs.fsyncSync(dfd));
      rec.call("fdatasync a dir", () => fs.fdatasyncSync(dfd));
      rec.call("close dir", () => fs.closeSync(dfd));
      rec.call("fsync closed", () => fs.fsyncSync(dfd));
      rec.call("writeFile with flush", () => fs.writeFileSync(p("g"), "flushed", { flush: true }));
      rec.call("read it", () => fs.readFileSync(p("g"), "utf8"));
    },
  },
  {
    name: "readFile, writeFile, appendFile: encodings, flags, modes, descriptors",
    run(fs, root, rec) {
      const p = at(root);
      rec.call("writeFile string", () => fs.writeFileSync(p("a"), "héllo"));
      rec.call("readFile buffer", () => fs.readFileSync(p("a")));
      rec.call("readFile utf8", () => fs.readFileSync(p("a"), "utf8"));
      rec.call("readFile latin1 option object", () => fs.readFileSync(p("a"), { encoding: "latin1" }));
      rec.call("writeFile hex", () => fs.writeFileSync(p("b"), "deadbeef", "hex"));
      rec.call("readFile base64", () => fs.readFileSync(p("b"), "base64"));
      rec.call("writeFile Uint8Array", () => fs.writeFileSync(p("c"), new Uint8Array([1, 2, 3])));
      rec.call("writeFile DataView", () => fs.writeFileSync(p("c2"), new DataView(new Uint8Array([4, 5, 6, 7]).buffer, 1, 2)));
      rec.call("readFile c2", () => fs.readFileSync(p("c2")));
      rec.call("writeFile empty", () => fs.writeFileSync(p("e"), ""));
      rec.call("readFile empty", () => fs.readFileSync(p("e")));
      rec.call("writeFile replaces (shorter)", () => fs.writeFileSync(p("a"), "hi"));
      rec.call("readFile after replace", () => fs.readFileSync(p("a"), "utf8"));
      rec.call("writeFile flag wx on existing", () => fs.writeFileSync(p("a"), "x", { flag: "wx" }));
      rec.call("writeFile flag wx on new", () => fs.writeFileSync(p("n"), "x", { flag: "wx" }));
      rec.call("writeFile flag a", () => fs.writeFileSync(p("n"), "y", { flag: "a" }));
      rec.call("writeFile flag r+ (no truncation)", () => fs.writeFileSync(p("a"), "H", { flag: "r+" }));
      rec.call("readFile a", () => fs.readFileSync(p("a"), "utf8"));
      rec.call("writeFile flag r+ on missing", () => fs.writeFileSync(p("zz"), "x", { flag: "r+" }));
      rec.call("writeFile with mode on a new file", () => fs.writeFileSync(p("m"), "x", { mode: 0o600 }));
      rec.call("writeFile with mode on an existing file keeps its mode", () => fs.writeFileSync(p("m"), "y", { mode: 0o777 }));
      rec.call("mode of m", () => fs.statSync(p("m")).mode);
      rec.call("readFile flag", () => fs.readFileSync(p("a"), { flag: "r+" }));
      rec.call("readFile flag w+ truncates", () => fs.readFileSync(p("n"), { flag: "w+" }));
      rec.call("readFile flag wx on existing", () => fs.readFileSync(p("n"), { flag: "wx" }));
      rec.call("readFile bad flag", () => fs.readFileSync(p("n"), { flag: "bogus" }));
      rec.call("appendFile creates", () => fs.appendFileSync(p("log"), "one\n"));
      rec.call("appendFile appends", () => fs.appendFileSync(p("log"), "two\n"));
      rec.call("appendFile Buffer", () => fs.appendFileSync(p("log"), Buffer.from("three\n")));
      rec.call("appendFile with mode creates with it", () => fs.appendFileSync(p("log2"), "x", { mode: 0o640 }));
      rec.call("appendFile flag ax on existing", () => fs.appendFileSync(p("log"), "x", { flag: "ax" }));
      rec.call("log", () => fs.readFileSync(p("log"), "utf8"));
      rec.call("log2 mode", () => fs.statSync(p("log2")).mode);
      const fd = rec.fd("open r+", () => fs.openSync(p("log"), "r+"));
      rec.call("readFile fd reads from the position", () => {
        fs.readSync(fd, Buffer.alloc(4), 0, 4, null);
        return fs.readFileSync(fd, "utf8");
      });
      rec.call("readFile fd at EOF", () => fs.readFileSync(fd, "utf8"));
      rec.call("writeFile fd writes at the position (no truncation)", () => fs.writeFileSync(fd, "XX"));
      rec.call("appendFile fd", () => fs.appendFileSync(fd, "YY"));
      rec.call("close", () => fs.closeSync(fd));
      rec.call("log after fd writes", () => fs.readFileSync(p("log"), "utf8"));
      const afd = rec.fd("open a", () => fs.openSync(p("log"), "a"));
      rec.call("writeFile on an O_APPEND fd", () => fs.writeFileSync(afd, "Z"));
      rec.call("close a", () => fs.closeSync(afd));
      rec.call("log after append fd", () => fs.readFileSync(p("log"), "utf8"));
      const big = pattern(300_000, 9);
      rec.call("writeFile 300 KB", () => fs.writeFileSync(p("big"), big));
      rec.call("readFile 300 KB", () => fs.readFileSync(p("big")));
      rec.call("appendFile 300 KB", () => fs.appendFileSync(p("big"), big));
      rec.call("readFile 600 KB", () => fs.readFileSync(p("big")));
      rec.call("writeFile bad data", () => fs.writeFileSync(p("bad"), 42 as never));
      rec.call("bad not created", () => fs.existsSync(p("bad")));
    },
  },
  {
    name: "copyFile: content, mode, COPYFILE_EXCL, errors",
    run(fs, root, rec) {
      const p = at(root);
      const { COPYFILE_EXCL, COPYFILE_FICLONE } = fs.constants;
      const data = pattern(70_000, 5);
      fs.writeFileSync(p("src"), data, { mode: 0o640 });
      rec.call("copy", () => fs.copyFileSync(p("src"), p("dst")));
      rec.call("content", () => fs.readFileSync(p("dst")));
      rec.call("mode copied", () => fs.statSync(p("dst")).mode);
      rec.note("a new inode", fs.statSync(p("src")).ino !== fs.statSync(p("dst")).ino);
      rec.call("COPYFILE_EXCL on existing", () => fs.copyFileSync(p("src"), p("dst"), COPYFILE_EXCL));
      rec.call("COPYFILE_EXCL on new", () => fs.copyFileSync(p("src"), p("dst2"), COPYFILE_EXCL));
      rec.call("COPYFILE_FICLONE falls back to a copy", () => fs.copyFileSync(p("src"), p("dst3"), COPYFILE_FICLONE));
      fs.writeFileSync(p("long"), pattern(100_000, 6));
      rec.call("copy over a longer file truncates it", () => fs.copyFileSync(p("dst2"), p("long")));
      rec.call("long now", () => fs.readFileSync(p("long")));
      rec.call("copy onto itself", () => fs.copyFileSync(p("src"), p("src")));
      rec.call("src intact", () => fs.readFileSync(p("src")));
      fs.linkSync(p("src"), p("hard"));
      rec.call("copy onto a hard link of itself", () => fs.copyFileSync(p("src"), p("hard")));
      rec.call("src intact after", () => fs.readFileSync(p("src")).length);
      rec.call("copy missing", () => fs.copyFileSync(p("nope"), p("x")));
      rec.call("copy into missing dir", () => fs.copyFileSync(p("src"), p("nodir/x")));
      fs.mkdirSync(p("d"));
      rec.call("copy a dir", () => fs.copyFileSync(p("d"), p("x")));
      rec.call("copy onto a dir", () => fs.copyFileSync(p("src"), p("d")));
      rec.call("copy bad mode", () => fs.copyFileSync(p("src"), p("x"), 8));
      fs.symlinkSync("src", p("ls"));
      rec.call("copy through a symlink copies the target", () => fs.copyFileSync(p("ls"), p("fromlink")));
      rec.call("copied file is regular", () => fs.lstatSync(p("fromlink")));
      fs.symlinkSync("made", p("dangling"));
      rec.call("copy onto a dangling symlink creates its target", () => fs.copyFileSync(p("src"), p("dangling")));
      rec.call("target made", () => fs.statSync(p("made")).size);
      fs.writeFileSync(p("empty"), "");
      rec.call("copy an empty file", () => fs.copyFileSync(p("empty"), p("empty2")));
      rec.call("empty copy", () => fs.statSync(p("empty2")).size);
      rec.call("sparse source", () => {
        const fd = fs.openSync(p("sparse"), "w");
        fs.writeSync(fd, "end", 200_000);
        fs.closeSync(fd);
        fs.copyFileSync(p("sparse"), p("sparse2"));
        const b = fs.readFileSync(p("sparse2"));
        return [b.length, allZero(b.subarray(0, 200_000)), b.subarray(200_000).toString()];
      });
    },
  },
  {
    name: "access and exists",
    run(fs, root, rec) {
      const p = at(root);
      const { F_OK, R_OK, W_OK, X_OK } = fs.constants;
      fs.writeFileSync(p("f"), "");
      fs.writeFileSync(p("x"), "", { mode: 0o755 });
      fs.writeFileSync(p("none"), "", { mode: 0o000 });
      fs.writeFileSync(p("ownerx"), "", { mode: 0o744 });
      fs.mkdirSync(p("d"), 0o700);
      fs.symlinkSync("f", p("l"));
      fs.symlinkSync("zz", p("dangling"));
      for (const name of ["f", "x", "none", "ownerx", "d", "l", "dangling", "missing", "f/x"]) {
        rec.call(`access ${name} F_OK`, () => fs.accessSync(p(name), F_OK));
        rec.call(`access ${name} R_OK|W_OK`, () => fs.accessSync(p(name), R_OK | W_OK));
        rec.call(`access ${name} X_OK`, () => fs.accessSync(p(name), X_OK));
        rec.call(`exists ${name}`, () => fs.existsSync(p(name)));
      }
      rec.call("access default mode", () => fs.accessSync(p("f")));
      rec.call("access bad mode", () => fs.accessSync(p("f"), 8));
      rec.call("access root X_OK", () => fs.accessSync(root, X_OK));
      rec.call("exists empty", () => fs.existsSync(""));
      rec.call("exists non-path", () => fs.existsSync(42 as never));
      rec.call("exists root", () => fs.existsSync(root));
    },
  },
  {
    name: "chmod and utimes",
    run(fs, root, rec) {
      const p = at(root);
      fs.writeFileSync(p("f"), "x");
      fs.mkdirSync(p("d"));
      fs.symlinkSync("f", p("l"));
      rec.call("chmod 600", () => fs.chmodSync(p("f"), 0o600));
      rec.call("mode", () => fs.statSync(p("f")).mode);
      rec.call("chmod string", () => fs.chmodSync(p("f"), "640"));
      rec.call("mode after string", () => fs.statSync(p("f")).mode);
      rec.call("chmod with setuid, setgid, sticky", () => fs.chmodSync(p("f"), 0o7777));
      rec.call("mode 7777", () => fs.statSync(p("f")).mode);
      rec.call("chmod through a symlink changes the target", () => fs.chmodSync(p("l"), 0o604));
      rec.call("target mode, link mode", () => [fs.statSync(p("f")).mode, fs.lstatSync(p("l")).mode]);
      rec.call("chmod dir", () => fs.chmodSync(p("d"), 0o1755));
      rec.call("dir mode", () => fs.statSync(p("d")).mode);
      rec.call("chmod 0", () => fs.chmodSync(p("d"), 0));
      rec.call("root still enters", () => fs.readdirSync(p("d")));
      rec.call("chmod missing", () => fs.chmodSync(p("missing"), 0o600));
      // chown (even by root, even to the same owner) clears set-user-ID, and set-group-ID with group execute, except on directories.
      for (const [m, target] of [[0o6755, "f"], [0o6745, "f"], [0o4700, "f"], [0o6755, "d"]] as const) {
        rec.call(`chown -1 -1 of a ${target === "d" ? "dir" : "file"} of mode ${m.toString(8)}`, () => {
          fs.chmodSync(p(target), m);
          fs.chownSync(p(target), -1, -1);
          return fs.statSync(p(target)).mode;
        });
        rec.call(`chown 0 0 of a ${target === "d" ? "dir" : "file"} of mode ${m.toString(8)}`, () => {
          fs.chmodSync(p(target), m);
          fs.chownSync(p(target), 0, 0);
          return fs.statSync(p(target)).mode;
        });
      }
      rec.call("chown missing", () => fs.chownSync(p("missing"), 0, 0));
      rec.call("lchown a symlink", () => fs.lchownSync(p("l"), 0, 0));
      rec.call("chmod bad mode", () => fs.chmodSync(p("f"), "9" as never));
      rec.call("chmod no mode", () => fs.chmodSync(p("f"), undefined as never));
      const fd = rec.fd("open", () => fs.openSync(p("f"), "r+"));
      rec.call("fchmod", () => fs.fchmodSync(fd, 0o611));
      rec.call("fstat mode", () => fs.fstatSync(fd).mode);
      rec.call("close", () => fs.closeSync(fd));
      rec.call("utimes seconds", () => fs.utimesSync(p("f"), 1000, 2000.5));
      rec.call("times", () => {
        const s = fs.statSync(p("f"));
        return [s.atimeMs, s.mtimeMs, s.mtime.toISOString()];
      });
      rec.call("utimes Dates", () => fs.utimesSync(p("f"), new Date(5_000_123), new Date(6_000_456)));
      rec.call("times from Dates", () => {
        const s = fs.statSync(p("f"));
        return [s.atimeMs, s.mtimeMs];
      });
      rec.call("utimes numeric strings", () => fs.utimesSync(p("f"), "123", "456.25"));
      rec.call("times from strings", () => {
        const s = fs.statSync(p("f"));
        return [s.atimeMs, s.mtimeMs];
      });
      rec.call("utimes bigint stat ns", () => {
        fs.utimesSync(p("f"), 1.5, 2.25);
        const s = fs.statSync(p("f"), { bigint: true });
        return [s.atimeNs, s.mtimeNs];
      });
      rec.call("utimes through a symlink", () => fs.utimesSync(p("l"), 10, 20));
      rec.call("target mtime", () => fs.statSync(p("f")).mtimeMs);
      rec.call("lutimes on the link", () => fs.lutimesSync(p("l"), 30, 40));
      rec.call("link mtime, target mtime", () => [fs.lstatSync(p("l")).mtimeMs, fs.statSync(p("f")).mtimeMs]);
      rec.call("utimes a dir", () => fs.utimesSync(p("d"), 50, 60));
      rec.call("dir mtime", () => fs.statSync(p("d")).mtimeMs);
      rec.call("utimes missing", () => fs.utimesSync(p("missing"), 1, 2));
      rec.call("utimes bad time", () => fs.utimesSync(p("f"), {} as never, 2));
      const fd2 = rec.fd("open again", () => fs.openSync(p("f"), "r"));
      rec.call("futimes", () => fs.futimesSync(fd2, 70, 80));
      rec.call("mtime after futimes", () => fs.fstatSync(fd2).mtimeMs);
      rec.call("close again", () => fs.closeSync(fd2));
      rec.call("utimes before 1970", () => fs.utimesSync(p("f"), 0, 0));
      rec.call("epoch times", () => [fs.statSync(p("f")).mtimeMs, fs.statSync(p("f")).atimeMs]);
      rec.call("utimes far future", () => fs.utimesSync(p("f"), 4102444800, 4102444800.75));
      rec.call("future times", () => fs.statSync(p("f")).mtimeMs);
    },
  },
  {
    name: "times: what changes mtime and ctime",
    run(fs, root, rec) {
      const p = at(root);
      const OLD = 1_000_000; // seconds: any time now is later
      fs.mkdirSync(p("d"));
      fs.writeFileSync(p("d/f"), "data");
      const reset = () => {
        fs.utimesSync(p("d"), OLD, OLD);
        fs.utimesSync(p("d/f"), OLD, OLD);
      };
      const changed = (label: string, action: () => void) => {
        reset();
        const before = { d: fs.statSync(p("d")), f: fs.existsSync(p("d/f")) ? fs.statSync(p("d/f")) : null };
        rec.call(label, action);
        const after = { d: fs.statSync(p("d")), f: fs.existsSync(p("d/f")) ? fs.statSync(p("d/f")) : null };
        rec.note(`${label}: dir mtime changed`, after.d.mtimeMs !== before.d.mtimeMs);
        rec.note(`${label}: dir ctime advanced`, after.d.ctimeMs >= before.d.ctimeMs);
        if (before.f && after.f) rec.note(`${label}: file mtime changed`, after.f.mtimeMs !== before.f.mtimeMs);
      };
      changed("write to the file", () => fs.writeFileSync(p("d/f"), "new data"));
      changed("read the file", () => fs.readFileSync(p("d/f")));
      changed("append to the file", () => fs.appendFileSync(p("d/f"), "+"));
      changed("truncate the file", () => fs.truncateSync(p("d/f"), 2));
      changed("truncate to the same size", () => fs.truncateSync(p("d/f"), 2));
      changed("chmod the file", () => fs.chmodSync(p("d/f"), 0o600));
      changed("create in the dir", () => fs.writeFileSync(p("d/g"), ""));
      changed("mkdir in the dir", () => fs.mkdirSync(p("d/sub")));
      changed("rename within the dir", () => fs.renameSync(p("d/g"), p("d/g2")));
      changed("link in the dir", () => fs.linkSync(p("d/f"), p("d/f2")));
      changed("unlink in the dir", () => fs.unlinkSync(p("d/f2")));
      changed("symlink in the dir", () => fs.symlinkSync("f", p("d/s")));
      changed("rmdir in the dir", () => fs.rmdirSync(p("d/sub")));
      changed("readdir the dir", () => fs.readdirSync(p("d")));
      changed("stat the file", () => fs.statSync(p("d/f")));
      fs.writeFileSync(p("d/e"), "");
      for (const [label, flags] of [["open O_TRUNC an empty file", "w"], ["open without O_TRUNC", "r+"], ["open O_APPEND", "a"]] as const) {
        fs.utimesSync(p("d/e"), OLD, OLD);
        rec.call(label, () => fs.closeSync(fs.openSync(p("d/e"), flags)));
        rec.note(`${label}: file mtime changed`, fs.statSync(p("d/e")).mtimeMs !== OLD * 1000);
      }
      // ctime: set by every change of the inode, never settable.
      const ctimeAfter = (label: string, action: () => void) => {
        const before = fs.statSync(p("d/f")).ctimeMs;
        fs.utimesSync(p("d/f"), OLD, OLD);
        const mid = fs.statSync(p("d/f")).ctimeMs;
        rec.note(`${label}: utimes leaves ctime at least as late`, mid >= before);
        action();
        rec.note(`${label}: ctime not earlier after`, fs.statSync(p("d/f")).ctimeMs >= mid);
        rec.note(`${label}: ctime newer than the old mtime`, fs.statSync(p("d/f")).ctimeMs > OLD * 1000);
      };
      ctimeAfter("chmod", () => fs.chmodSync(p("d/f"), 0o644));
      ctimeAfter("link", () => fs.linkSync(p("d/f"), p("d/f3")));
      ctimeAfter("write", () => fs.writeFileSync(p("d/f"), "x"));
    },
  },
  {
    name: "directory link counts",
    run(fs, root, rec) {
      const p = at(root);
      const nl = (rel: string) => fs.statSync(rel === "" ? root : p(rel)).nlink;
      rec.call("empty root", () => nl(""));
      fs.mkdirSync(p("a"));
      fs.mkdirSync(p("b"));
      rec.call("two subdirs", () => [nl(""), nl("a"), nl("b")]);
      fs.mkdirSync(p("a/x"));
      fs.mkdirSync(p("a/y"));
      fs.writeFileSync(p("a/file"), "");
      fs.symlinkSync("x", p("a/link"));
      rec.call("a has two subdirs, a file and a symlink", () => [nl("a"), nl("a/x")]);
      fs.renameSync(p("a/x"), p("b/x"));
      rec.call("after moving a/x to b", () => [nl(""), nl("a"), nl("b"), nl("b/x")]);
      fs.renameSync(p("a/y"), p("a/y2"));
      rec.call("after renaming within a", () => [nl("a"), nl("a/y2")]);
      fs.mkdirSync(p("b/empty"));
      fs.renameSync(p("a/y2"), p("b/empty"));
      rec.call("after replacing an empty dir", () => [nl("a"), nl("b"), nl("b/empty")]);
      fs.rmdirSync(p("b/x"));
      rec.call("after rmdir", () => [nl("b")]);
      fs.renameSync(p("b"), p("a/b"));
      rec.call("after moving b into a", () => [nl(""), nl("a"), nl("a/b")]);
      fs.rmSync(p("a"), { recursive: true });
      rec.call("after rm -r", () => [nl("")]);
      fs.writeFileSync(p("f"), "");
      for (let i = 0; i < 10; i++) fs.linkSync(p("f"), p(`f${i}`));
      rec.call("file with 11 names", () => nl("f"));
      for (let i = 0; i < 10; i += 2) fs.unlinkSync(p(`f${i}`));
      rec.call("file with 6 names", () => nl("f"));
      fs.writeFileSync(p("g"), "");
      fs.renameSync(p("f1"), p("g"));
      rec.call("after renaming a name over another file", () => nl("f"));
    },
  },
  {
    name: "dots and slashes in paths",
    run(fs, root, rec) {
      const p = at(root);
      fs.mkdirSync(p("a/b"), { recursive: true });
      fs.writeFileSync(p("a/b/f"), "f");
      for (const rel of ["a/b/../b/f", "a/./b/./f", "a//b///f", "a/b/f/.", "a/b/f/..", "a/b/./", "a/b/../../a/b/f", "./a/b/f"]) {
        rec.call(`stat ${rel}`, () => fs.statSync(p(rel)));
        rec.call(`readFile ${rel}`, () => fs.readFileSync(p(rel), "utf8"));
      }
      rec.call("create via ..", () => fs.writeFileSync(p("a/b/../g"), "g"));
      rec.call("mkdir via .", () => fs.mkdirSync(p("a/./c")));
      rec.call("rename via ..", () => fs.renameSync(p("a/b/../g"), p("a/c/../h")));
      rec.call("unlink via .", () => fs.unlinkSync(p("a/./h")));
      rec.call("symlink with dots", () => fs.symlinkSync("./b/../b/f", p("a/l")));
      rec.call("follow it", () => fs.readFileSync(p("a/l"), "utf8"));
      rec.call("realpath through it", () => fs.realpathSync.native(p("a/l")));
      rec.call("tree", () => fs.readdirSync(root, { recursive: true }));
    },
  },
  {
    name: "large and sparse files: a byte at 10 MiB, holes read as zeros",
    run(fs, root, rec) {
      const p = at(root);
      const MiB = 1024 * 1024;
      const fd = rec.fd("open", () => fs.openSync(p("sparse"), "w+"));
      rec.call("write 1 byte at 10 MiB", () => fs.writeSync(fd, Buffer.from([0xab]), 0, 1, 10 * MiB));
      rec.call("size", () => fs.fstatSync(fd).size);
      rec.note("sparse: fewer blocks than bytes", fs.fstatSync(fd).blocks * 512 < 10 * MiB);
      for (const pos of [0, 4095, 4096, 5 * MiB, 10 * MiB - 4096, 10 * MiB - 1]) {
        rec.call(`hole at ${pos}`, () => {
          const b = pread(fs, fd, pos, 4096);
          return [b.length, allZero(b.subarray(0, Math.min(b.length, 10 * MiB - pos)))];
        });
      }
      rec.call("the byte", () => pread(fs, fd, 10 * MiB - 2, 8));
      rec.call("write in the middle of the hole", () => fs.writeSync(fd, "middle", 5 * MiB + 4093));
      rec.call("read around it", () => pread(fs, fd, 5 * MiB + 4090, 12));
      rec.call("whole file", () => {
        const b = fs.readFileSync(p("sparse"));
        return [b.length, hashBytes(b)];
      });
      rec.call("extend with ftruncate to 20 MiB", () => fs.ftruncateSync(fd, 20 * MiB));
      rec.call("new tail is zeros", () => allZero(pread(fs, fd, 20 * MiB - 8192, 8192)));
      rec.call("write at 12 MiB + 1", () => fs.writeSync(fd, "X", 12 * MiB + 1));
      rec.call("shrink to 11 MiB", () => fs.ftruncateSync(fd, 11 * MiB));
      rec.call("regrow to 13 MiB: the X is gone", () => {
        fs.ftruncateSync(fd, 13 * MiB);
        return allZero(pread(fs, fd, 12 * MiB - 4096, 8192));
      });
      rec.call("close", () => fs.closeSync(fd));
      const big = pattern(3 * MiB + 17, 11);
      rec.call("write 3 MiB + 17 in one call", () => fs.writeFileSync(p("big"), big));
      rec.call("read it back", () => fs.readFileSync(p("big")).equals(big));
      rec.call("stat big", () => fs.statSync(p("big")).size);
      rec.note("big: blocks cover the data", fs.statSync(p("big")).blocks * 512 >= big.length);
      rec.call("overwrite 1 MiB in the middle, unaligned", () => {
        const fd2 = fs.openSync(p("big"), "r+");
        try {
          return fs.writeSync(fd2, pattern(MiB, 12), 0, MiB, MiB + 1234);
        } finally {
          fs.closeSync(fd2);
        }
      });
      rec.call("read it back after the overwrite", () => {
        const model = Buffer.from(big);
        pattern(MiB, 12).copy(model, MiB + 1234);
        return fs.readFileSync(p("big")).equals(model);
      });
      rec.call("copy the sparse file", () => fs.copyFileSync(p("sparse"), p("sparse-copy")));
      rec.call("copy content", () => {
        const b = fs.readFileSync(p("sparse-copy"));
        return [b.length, hashBytes(b)];
      });
      rec.call("unlink the large files", () => {
        fs.unlinkSync(p("sparse"));
        fs.unlinkSync(p("sparse-copy"));
        fs.unlinkSync(p("big"));
        return fs.readdirSync(root);
      });
    },
  },
  {
    name: "odd-sized chunks across 4 KiB boundaries",
    run(fs, root, rec) {
      const p = at(root);
      const sizes = [1, 7, 4095, 4097, 13, 8191, 3, 12289, 4096, 2, 4094, 65537, 511, 1023, 4099];
      const total = sizes.reduce((a, b) => a + b, 0);
      const model = pattern(total, 21);
      const fd = rec.fd("open", () => fs.openSync(p("f"), "w+"));
      let off = 0;
      for (const n of sizes) {
        const o = off;
        rec.call(`write ${n} at ${o}`, () => fs.writeSync(fd, model, o, n, null));
        off += n;
      }
      rec.call("size", () => fs.fstatSync(fd).size);
      rec.call("whole file equals the model", () => fs.readFileSync(p("f")).equals(model));
      // Reads of odd sizes at odd positions, each checked against the model.
      let pos = 0;
      for (const n of [...sizes].reverse()) {
        const o = pos;
        rec.call(`read ${n} at ${o}`, () => {
          const b = pread(fs, fd, o, n);
          return [b.length, b.equals(model.subarray(o, o + n))];
        });
        pos += n;
      }
      // Overwrites across boundaries, the last one past the end of the file.
      const patches: [number, number][] = [[4090, 5000], [8191, 2], [12287, 4099], [1, 4096 * 3 + 5], [total - 3, 10]];
      let seed = 30;
      let current = model;
      for (const [pos, n] of patches) {
        const data = pattern(n, seed++);
        rec.call(`overwrite ${n} at ${pos}`, () => fs.writeSync(fd, data, 0, n, pos));
        const next = Buffer.alloc(Math.max(current.length, pos + n));
        current.copy(next);
        data.copy(next, pos);
        current = next;
        rec.call(`after overwrite at ${pos}: equals the model`, () => fs.readFileSync(p("f")).equals(next));
      }
      rec.call("final hash", () => hashBytes(fs.readFileSync(p("f"))));
      rec.call("close", () => fs.closeSync(fd));
      // Sequential writes through several descriptors, interleaved.
      const a = fs.openSync(p("g"), "w");
      const b = fs.openSync(p("g"), "r+");
      rec.call("interleaved descriptors have their own positions", () => {
        fs.writeSync(a, pattern(5000, 40));
        fs.writeSync(b, "BBBB");
        fs.writeSync(a, pattern(3, 41));
        fs.writeSync(b, pattern(4100, 42));
        return hashBytes(fs.readFileSync(p("g")));
      });
      fs.closeSync(a);
      fs.closeSync(b);
    },
  },
  {
    name: "small files: growing and shrinking around 160 bytes (fs-simple's inline data)",
    run(fs, root, rec) {
      const p = at(root);
      const read = (name: string) => fs.readFileSync(p(name));
      rec.call("write 150", () => fs.writeFileSync(p("a"), pattern(150, 1)));
      rec.call("append 20: 170", () => fs.appendFileSync(p("a"), pattern(20, 2)));
      rec.call("read 170", () => read("a"));
      rec.call("truncate to 100", () => fs.truncateSync(p("a"), 100));
      rec.call("read 100", () => read("a"));
      rec.call("grow to 300", () => fs.truncateSync(p("a"), 300));
      rec.call("read 300 (zeros past 100)", () => [read("a").subarray(0, 100).equals(pattern(150, 1).subarray(0, 100)), allZero(read("a").subarray(100))]);
      rec.call("truncate to 160", () => fs.truncateSync(p("a"), 160));
      rec.call("write 1 byte at 159", () => {
        const fd = fs.openSync(p("a"), "r+");
        fs.writeSync(fd, "Z", 159);
        fs.closeSync(fd);
        return read("a");
      });
      rec.call("write 1 byte at 160", () => {
        const fd = fs.openSync(p("a"), "r+");
        fs.writeSync(fd, "Y", 160);
        fs.closeSync(fd);
        return read("a");
      });
      rec.call("write past a 10-byte file: a hole", () => {
        fs.writeFileSync(p("b"), "0123456789");
        const fd = fs.openSync(p("b"), "r+");
        fs.writeSync(fd, "far", 200);
        fs.closeSync(fd);
        return read("b");
      });
      rec.call("write at 4095 in an empty file", () => {
        const fd = fs.openSync(p("c"), "w+");
        fs.writeSync(fd, "xy", 4095);
        const b = Buffer.alloc(4097);
        const n = fs.readSync(fd, b, 0, 4097, 0);
        fs.closeSync(fd);
        return [n, allZero(b.subarray(0, 4095)), b.subarray(4095).toString()];
      });
      rec.call("grow from 0 to 161 with ftruncate", () => {
        const fd = fs.openSync(p("d"), "w+");
        fs.ftruncateSync(fd, 161);
        fs.writeSync(fd, "end", 158);
        fs.closeSync(fd);
        return read("d");
      });
      rec.call("many small appends", () => {
        for (let i = 0; i < 70; i++) fs.appendFileSync(p("e"), String.fromCharCode(65 + (i % 26)).repeat(i % 5));
        return read("e");
      });
      rec.call("rewrite shorter in place", () => {
        fs.writeFileSync(p("f"), pattern(5000, 3));
        fs.writeFileSync(p("f"), "short");
        return [read("f"), fs.statSync(p("f")).size];
      });
      rec.call("rewrite longer in place", () => {
        fs.writeFileSync(p("f"), pattern(6000, 4));
        return hashBytes(read("f"));
      });
      rec.call("copy a small file", () => {
        fs.copyFileSync(p("a"), p("a2"));
        return read("a2");
      });
      rec.call("sizes", () => ["a", "b", "c", "d", "e", "f", "a2"].map((n) => fs.statSync(p(n)).size));
    },
  },
  {
    name: "block map boundaries: 12 direct blocks, indirect, double indirect",
    run(fs, root, rec) {
      const p = at(root);
      const B = 4096;
      const IND = 12 * B; // first byte mapped through the indirect block
      const DIND = (12 + 1024) * B; // first byte mapped through the double indirect block
      const fd = rec.fd("open", () => fs.openSync(p("f"), "w+"));
      for (const pos of [IND - 1, IND, DIND - 1, DIND, DIND + 1024 * B, DIND + 1024 * B - 2]) {
        rec.call(`write 2 bytes at ${pos}`, () => fs.writeSync(fd, Buffer.from([0xaa, 0x55]), 0, 2, pos));
        rec.call(`read around ${pos}`, () => pread(fs, fd, pos - 3, 8));
      }
      rec.call("size", () => fs.fstatSync(fd).size);
      rec.note("sparse", fs.fstatSync(fd).blocks * 512 < fs.fstatSync(fd).size);
      rec.call("hash", () => hashBytes(fs.readFileSync(p("f"))));
      for (const size of [DIND + 1, DIND, DIND - 1, IND + 1, IND, IND - 1, B + 1, 1]) {
        rec.call(`shrink to ${size}`, () => fs.ftruncateSync(fd, size));
        rec.call(`last bytes at ${size}`, () => pread(fs, fd, Math.max(0, size - 3), 8));
      }
      rec.call("regrow past the double indirect start", () => fs.ftruncateSync(fd, DIND + 3 * B));
      rec.call("all zeros after the first byte", () => {
        const b = fs.readFileSync(p("f"));
        return [b.length, allZero(b.subarray(1))];
      });
      rec.call("fill the direct and indirect range densely", () => {
        const data = pattern(DIND + 5000, 8);
        fs.writeSync(fd, data, 0, data.length, 0);
        return hashBytes(fs.readFileSync(p("f")));
      });
      rec.call("shrink into the indirect range, unaligned", () => {
        fs.ftruncateSync(fd, IND + 777);
        fs.ftruncateSync(fd, IND + 3 * B);
        const b = fs.readFileSync(p("f"));
        return [b.length, b.subarray(0, IND + 777).equals(pattern(DIND + 5000, 8).subarray(0, IND + 777)), allZero(b.subarray(IND + 777))];
      });
      rec.call("close", () => fs.closeSync(fd));
      rec.call("unlink", () => fs.unlinkSync(p("f")));
    },
  },
  {
    name: "big directories: 1500 entries with long names, removals and reuse",
    run(fs, root, rec) {
      const p = at(root);
      const name = (i: number) => `${String(i).padStart(4, "0")}-${"long-name-".repeat(1 + (i % 24))}`.slice(0, 255);
      fs.mkdirSync(p("big"));
      rec.call("create 1500", () => {
        for (let i = 0; i < 1500; i++) fs.writeFileSync(p(`big/${name(i)}`), `${i}`);
        return fs.readdirSync(p("big")).length;
      });
      rec.call("names", () => hashBytes(Buffer.from(fs.readdirSync(p("big")).sort().join("\n"))));
      rec.call("remove every third", () => {
        for (let i = 0; i < 1500; i += 3) fs.unlinkSync(p(`big/${name(i)}`));
        return fs.readdirSync(p("big")).length;
      });
      rec.call("lookups of removed and kept names", () => [fs.existsSync(p(`big/${name(300)}`)), fs.existsSync(p(`big/${name(301)}`))]);
      rec.call("rename every other kept one to a short name", () => {
        for (let i = 1; i < 1500; i += 6) fs.renameSync(p(`big/${name(i)}`), p(`big/s${i}`));
        return hashBytes(Buffer.from(fs.readdirSync(p("big")).sort().join("\n")));
      });
      rec.call("create 500 more into the holes", () => {
        for (let i = 0; i < 500; i++) fs.mkdirSync(p(`big/d${i}-${"x".repeat(i % 200)}`));
        return [fs.readdirSync(p("big")).length, fs.statSync(p("big")).nlink];
      });
      rec.call("contents still right", () => {
        let ok = 0;
        for (let i = 2; i < 1500; i += 3) if (fs.readFileSync(p(`big/${name(i)}`), "utf8") === `${i}`) ok++;
        return ok;
      });
      rec.call("rm -r", () => fs.rmSync(p("big"), { recursive: true }));
      rec.call("gone", () => fs.readdirSync(root));
    },
  },
  {
    name: "statfs",
    run(fs, root, rec) {
      rec.call("statfs returns numbers", () => {
        const s = fs.statfsSync(root);
        return [typeof s.bsize, typeof s.blocks, typeof s.bfree, typeof s.files, s.bfree <= s.blocks, s.bavail <= s.bfree];
      });
      rec.call("statfs missing", () => fs.statfsSync(`${root}/missing`));
    },
  },
];
