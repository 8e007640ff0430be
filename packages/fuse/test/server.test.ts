/**
 * The protocol without a kernel: requests built byte by byte, served by FuseServer over a Folio
 * VFS, replies decoded. Every operation the FUSE mount maps is checked here with its success and
 * its errno cases, so these run everywhere, /dev/fuse or not.
 */
import test from "ava";
import { Op, FATTR_MODE, FATTR_MTIME, FATTR_ATIME_NOW, FATTR_SIZE, FATTR_FH, FUSE_ROOT_ID, InitFlag, InitFlag2, putAttr, direntSize } from "../src/protocol.js";
import { errnoOf } from "../src/server.js";
import { Harness, le, type Reply } from "./helpers.js";

const ENOENT = 2, EBADF = 9, EEXIST = 17, ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENOSPC = 28, ENAMETOOLONG = 36, ENOSYS = 38, ENOTEMPTY = 39, EPERM = 1;
const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_EXCL = 0o200;

const nodeOf = (r: Reply) => Number(r.view.getBigUint64(0, true));
/** Fields of the fuse_attr inside an entry (at 40) or attr_out (at 16) reply. */
const attrAt = (r: Reply, at: number) => ({
  ino: Number(r.view.getBigUint64(at, true)),
  size: Number(r.view.getBigUint64(at + 8, true)),
  atime: Number(r.view.getBigUint64(at + 24, true)),
  mtime: Number(r.view.getBigUint64(at + 32, true)),
  mtimensec: r.view.getUint32(at + 52, true),
  mode: r.view.getUint32(at + 60, true),
  nlink: r.view.getUint32(at + 64, true),
  uid: r.view.getUint32(at + 68, true),
  gid: r.view.getUint32(at + 72, true),
});
const entryAttr = (r: Reply) => attrAt(r, 40);
const attrOut = (r: Reply) => attrAt(r, 16);
const readIn = (fh: number, off: number, size: number) => le([64, fh], [64, off], [32, size], [32, 0], [64, 0], [32, 0], [32, 0]);
const setattrIn = (valid: number, f: { fh?: number; size?: number; atime?: number; mtime?: number; mtimensec?: number; mode?: number }) =>
  le([32, valid], [32, 0], [64, f.fh ?? 0], [64, f.size ?? 0], [64, 0], [64, f.atime ?? 0], [64, f.mtime ?? 0], [64, 0], [32, 0], [32, f.mtimensec ?? 0], [32, 0], [32, f.mode ?? 0], [32, 0], [32, 0], [32, 0], [32, 0]);

function init(h: Harness): Reply {
  return h.call(Op.INIT, 0, le([32, 7], [32, 45], [32, 131072], [32, 0xffffffff], [32, 0xffffffff]), Buffer.alloc(44))!;
}
function mkdir(h: Harness, parent: number, name: string, mode = 0o755): Reply {
  return h.call(Op.MKDIR, parent, le([32, mode], [32, 0]), name)!;
}
function create(h: Harness, parent: number, name: string, flags = O_RDWR, mode = 0o644): Reply {
  return h.call(Op.CREATE, parent, le([32, flags], [32, mode], [32, 0], [32, 0]), name)!;
}
const fhOfCreate = (r: Reply) => Number(r.view.getBigUint64(128, true));

test("INIT negotiates 7.39 with 1 MiB requests, direct I/O mmap and only the flags the kernel offered", (t) => {
  const h = new Harness();
  const r = init(h);
  t.is(r.errno, 0);
  t.is(r.body.length, 64);
  t.is(r.view.getUint32(0, true), 7);
  t.is(r.view.getUint32(4, true), 39);
  t.is(r.view.getUint32(20, true), 1 << 20, "max_write");
  t.is(r.view.getUint16(28, true), 256, "max_pages");
  const flags = r.view.getUint32(12, true);
  t.truthy(flags & InitFlag.MAX_PAGES);
  t.truthy(flags & InitFlag.ATOMIC_O_TRUNC);
  t.is(r.view.getUint32(32, true), InitFlag2.DIRECT_IO_ALLOW_MMAP);
  const old = new Harness().call(Op.INIT, 0, le([32, 7], [32, 27], [32, 0], [32, 0]))!;
  t.is(old.errno, 71, "a kernel older than 7.28 is refused (EPROTO)");
  const none = new Harness().call(Op.INIT, 0, le([32, 7], [32, 40], [32, 0], [32, InitFlag.ASYNC_READ]))!;
  t.is(none.view.getUint32(12, true), InitFlag.ASYNC_READ, "nothing the kernel did not offer");
  t.is(none.view.getUint32(4, true), 39);
});

test("LOOKUP and GETATTR: attributes of the Folio inode; ENOENT and ENOTDIR", (t) => {
  const h = new Harness();
  init(h);
  const d = mkdir(h, FUSE_ROOT_ID, "dir", 0o750);
  t.is(d.errno, 0);
  const dirId = nodeOf(d);
  t.true(dirId > FUSE_ROOT_ID);
  const st = h.vfs.stat("/dir");
  t.like(entryAttr(d), { ino: st.ino, mode: 0o40750, nlink: 2 });
  const again = h.call(Op.LOOKUP, FUSE_ROOT_ID, "dir")!;
  t.is(nodeOf(again), dirId, "the same inode is the same node");
  t.is(h.call(Op.LOOKUP, FUSE_ROOT_ID, "missing")!.errno, ENOENT);
  const f = create(h, FUSE_ROOT_ID, "file");
  t.is(h.call(Op.LOOKUP, nodeOf(f), "x")!.errno, ENOTDIR);
  const ga = h.call(Op.GETATTR, dirId, le([32, 0], [32, 0], [64, 0]))!;
  t.is(ga.errno, 0);
  t.like(attrOut(ga), { ino: st.ino, mode: 0o40750 });
  t.is(h.call(Op.GETATTR, 9999, le([32, 0], [32, 0], [64, 0]))!.errno, ENOENT, "an unknown node id");
  const root = h.call(Op.GETATTR, FUSE_ROOT_ID, le([32, 0], [32, 0], [64, 0]))!;
  t.is(attrOut(root).ino, h.vfs.stat("/").ino);
});

test("CREATE, WRITE and READ of 1 MiB requests, RELEASE; EEXIST with O_EXCL, EBADF on a released handle", (t) => {
  const h = new Harness();
  init(h);
  const c = create(h, FUSE_ROOT_ID, "big", O_WRONLY, 0o600);
  t.is(c.errno, 0);
  t.like(entryAttr(c), { mode: 0o100600, size: 0 });
  const fh = fhOfCreate(c);
  t.is(c.view.getUint32(136, true) & 1, 1, "FOPEN_DIRECT_IO");
  const data = Buffer.alloc(1 << 20);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 12)) & 0xff;
  const w = h.call(Op.WRITE, FUSE_ROOT_ID, readIn(fh, 4096, data.length), data)!;
  t.is(w.errno, 0);
  t.is(w.view.getUint32(0, true), data.length);
  const r = h.call(Op.READ, nodeOf(c), readIn(fh, 4096, 1 << 20))!;
  t.is(r.errno, 0, "a write-only open reads too (the kernel reads back through any handle)");
  t.true(r.body.equals(data));
  const tail = h.call(Op.READ, nodeOf(c), readIn(fh, 4096 + data.length - 100, 4096))!;
  t.is(tail.body.length, 100, "short only at end of file");
  t.is(h.call(Op.RELEASE, nodeOf(c), le([64, fh], [32, 0], [32, 0], [64, 0]))!.errno, 0);
  t.is(h.call(Op.READ, nodeOf(c), readIn(fh, 0, 10))!.errno, EBADF);
  t.is(create(h, FUSE_ROOT_ID, "big", O_RDWR | O_EXCL).errno, EEXIST);
  t.is(h.vfs.stat("/big").size, 4096 + data.length);
  const o = h.call(Op.OPEN, nodeOf(c), le([32, O_RDONLY], [32, 0]))!;
  t.is(o.errno, 0);
  t.deepEqual(h.ops.counts().files, 1);
});

test("SETATTR: truncate (by path and by handle), chmod, utimens with UTIME_NOW; EISDIR truncating a directory", (t) => {
  const h = new Harness();
  init(h);
  const c = create(h, FUSE_ROOT_ID, "f");
  const id = nodeOf(c);
  const fh = fhOfCreate(c);
  let r = h.call(Op.SETATTR, id, setattrIn(FATTR_SIZE, { size: 123_456 }))!;
  t.is(r.errno, 0);
  t.is(attrOut(r).size, 123_456);
  r = h.call(Op.SETATTR, id, setattrIn(FATTR_SIZE | FATTR_FH, { size: 10, fh }))!;
  t.is(attrOut(r).size, 10);
  r = h.call(Op.SETATTR, id, setattrIn(FATTR_MODE, { mode: 0o100640 }))!;
  t.is(attrOut(r).mode, 0o100640);
  r = h.call(Op.SETATTR, id, setattrIn(FATTR_MTIME | FATTR_ATIME_NOW, { mtime: 1_000_000, mtimensec: 500 }))!;
  t.is(r.errno, 0);
  t.like(attrOut(r), { mtime: 1_000_000, mtimensec: 500 });
  t.is(attrOut(r).atime, Math.floor(h.machine.wallClockNs() / 1e9), "UTIME_NOW is the machine's wall clock");
  const d = mkdir(h, FUSE_ROOT_ID, "d");
  t.is(h.call(Op.SETATTR, nodeOf(d), setattrIn(FATTR_SIZE, { size: 0 }))!.errno, EISDIR);
});

test("MKDIR, RMDIR, UNLINK: EEXIST, ENOTEMPTY, ENOTDIR, EISDIR, ENOENT, ENAMETOOLONG", (t) => {
  const h = new Harness();
  init(h);
  const d = nodeOf(mkdir(h, FUSE_ROOT_ID, "d"));
  create(h, d, "inner");
  t.is(mkdir(h, FUSE_ROOT_ID, "d").errno, EEXIST);
  t.is(h.call(Op.RMDIR, FUSE_ROOT_ID, "d")!.errno, ENOTEMPTY);
  t.is(h.call(Op.UNLINK, FUSE_ROOT_ID, "d")!.errno, EISDIR);
  t.is(h.call(Op.RMDIR, d, "inner")!.errno, ENOTDIR);
  t.is(h.call(Op.UNLINK, d, "inner")!.errno, 0);
  t.is(h.call(Op.UNLINK, d, "inner")!.errno, ENOENT);
  t.is(h.call(Op.RMDIR, FUSE_ROOT_ID, "d")!.errno, 0);
  t.is(h.call(Op.LOOKUP, FUSE_ROOT_ID, "d")!.errno, ENOENT);
  t.is(mkdir(h, FUSE_ROOT_ID, "n".repeat(256)).errno, ENAMETOOLONG);
});

test("RENAME and RENAME2: paths below a moved directory follow it; EINVAL, ENOTEMPTY, EEXIST; RENAME_EXCHANGE", (t) => {
  const h = new Harness();
  init(h);
  const a = nodeOf(mkdir(h, FUSE_ROOT_ID, "a"));
  const sub = nodeOf(mkdir(h, a, "sub"));
  const f = create(h, sub, "f");
  const fid = nodeOf(f);
  t.is(h.call(Op.RENAME, FUSE_ROOT_ID, le([64, sub]), "a", "inside")!.errno, EINVAL, "a directory into itself");
  const b = nodeOf(mkdir(h, FUSE_ROOT_ID, "b"));
  create(h, b, "x");
  t.is(h.call(Op.RENAME, FUSE_ROOT_ID, le([64, FUSE_ROOT_ID]), "a", "b")!.errno, ENOTEMPTY);
  t.is(h.call(Op.RENAME, FUSE_ROOT_ID, le([64, FUSE_ROOT_ID]), "a", "c")!.errno, 0);
  const ga = h.call(Op.GETATTR, fid, le([32, 0], [32, 0], [64, 0]))!;
  t.is(ga.errno, 0, "the file below the moved directory is found at its new path");
  t.is(attrOut(ga).ino, h.vfs.stat("/c/sub/f").ino);
  t.is(h.call(Op.RENAME2, FUSE_ROOT_ID, le([64, FUSE_ROOT_ID], [32, 1], [32, 0]), "c", "b")!.errno, EEXIST, "RENAME_NOREPLACE");
  t.is(h.call(Op.RENAME2, FUSE_ROOT_ID, le([64, FUSE_ROOT_ID], [32, 2], [32, 0]), "c", "b")!.errno, 0, "RENAME_EXCHANGE");
  t.is(h.vfs.stat("/b/sub/f").size, 0, "the exchanged directory is at b");
  t.is(attrOut(h.call(Op.GETATTR, fid, le([32, 0], [32, 0], [64, 0]))!).ino, h.vfs.stat("/b/sub/f").ino);
  t.is(h.call(Op.RENAME2, FUSE_ROOT_ID, le([64, FUSE_ROOT_ID], [32, 4], [32, 0]), "c", "z")!.errno, EINVAL, "RENAME_WHITEOUT is not supported");
});

test("LINK, SYMLINK, READLINK, MKNOD: EPERM linking a directory or making a FIFO, EEXIST, EINVAL reading a file as a link", (t) => {
  const h = new Harness();
  init(h);
  const f = create(h, FUSE_ROOT_ID, "f");
  const l = h.call(Op.LINK, FUSE_ROOT_ID, le([64, nodeOf(f)]), "hard")!;
  t.is(l.errno, 0);
  t.is(nodeOf(l), nodeOf(f), "a hard link is the same node");
  t.is(entryAttr(l).nlink, 2);
  t.is(h.call(Op.LINK, FUSE_ROOT_ID, le([64, nodeOf(f)]), "hard")!.errno, EEXIST);
  const d = mkdir(h, FUSE_ROOT_ID, "d");
  t.is(h.call(Op.LINK, FUSE_ROOT_ID, le([64, nodeOf(d)]), "dl")!.errno, EPERM);
  const s = h.call(Op.SYMLINK, FUSE_ROOT_ID, "s", "f")!;
  t.is(s.errno, 0);
  t.is(entryAttr(s).mode & 0o170000, 0o120000);
  const rl = h.call(Op.READLINK, nodeOf(s))!;
  t.is(rl.body.toString(), "f");
  t.is(h.call(Op.READLINK, nodeOf(f))!.errno, EINVAL);
  t.is(h.call(Op.SYMLINK, FUSE_ROOT_ID, "s", "g")!.errno, EEXIST);
  t.is(h.call(Op.MKNOD, FUSE_ROOT_ID, le([32, 0o010644], [32, 0], [32, 0], [32, 0]), "fifo")!.errno, EPERM);
  const reg = h.call(Op.MKNOD, FUSE_ROOT_ID, le([32, 0o100600], [32, 0], [32, 0], [32, 0]), "reg")!;
  t.is(reg.errno, 0);
  t.is(entryAttr(reg).mode, 0o100600);
  // Unlinking one name keeps the node reachable by the other.
  t.is(h.call(Op.UNLINK, FUSE_ROOT_ID, "f")!.errno, 0);
  t.is(h.call(Op.GETATTR, nodeOf(l), le([32, 0], [32, 0], [64, 0]))!.errno, 0);
});

test("OPENDIR/READDIR: '.', '..' and the entries, resumed at the offset the kernel passes back", (t) => {
  const h = new Harness();
  init(h);
  const names = Array.from({ length: 40 }, (_, i) => `file-${String(i).padStart(2, "0")}`);
  for (const n of names) create(h, FUSE_ROOT_ID, n);
  const od = h.call(Op.OPENDIR, FUSE_ROOT_ID, le([32, 0], [32, 0]))!;
  const fh = Number(od.view.getBigUint64(0, true));
  const seen: string[] = [];
  let off = 0;
  for (let rounds = 0; rounds < 100; rounds++) {
    const r = h.call(Op.READDIR, FUSE_ROOT_ID, readIn(fh, off, 256))!;
    t.is(r.errno, 0);
    if (r.body.length === 0) break;
    t.true(r.body.length <= 256);
    for (let p = 0; p < r.body.length;) {
      const nextOff = Number(r.view.getBigUint64(p + 8, true));
      const len = r.view.getUint32(p + 16, true);
      seen.push(r.body.subarray(p + 24, p + 24 + len).toString());
      off = nextOff;
      p += direntSize(len);
    }
  }
  t.deepEqual(seen, [".", "..", ...names]);
  t.is(h.call(Op.RELEASEDIR, FUSE_ROOT_ID, le([64, fh], [32, 0], [32, 0], [64, 0]))!.errno, 0);
  t.is(h.call(Op.READDIR, FUSE_ROOT_ID, readIn(fh, 0, 4096))!.errno, EBADF);
});

test("FSYNC, FSYNCDIR, SYNCFS and STATFS; ENOSPC from a full disk; unsupported requests are ENOSYS", (t) => {
  const h = new Harness("4MiB");
  init(h);
  const c = create(h, FUSE_ROOT_ID, "f");
  const fh = fhOfCreate(c);
  const chunk = Buffer.alloc(1 << 20, 1);
  let last: Reply | null = null;
  for (let i = 0; i < 8; i++) {
    last = h.call(Op.WRITE, FUSE_ROOT_ID, readIn(fh, i << 20, chunk.length), chunk)!;
    if (last.errno !== 0) break;
  }
  t.is(last!.errno, ENOSPC, "a 4 MiB disk fills up");
  h.call(Op.SETATTR, nodeOf(c), setattrIn(FATTR_SIZE, { size: 1 << 20 }));
  t.is(h.call(Op.FSYNC, nodeOf(c), le([64, fh], [32, 0], [32, 0]))!.errno, 0);
  t.is(h.call(Op.FSYNC, nodeOf(c), le([64, fh], [32, 1], [32, 0]))!.errno, 0, "fdatasync");
  t.is(h.call(Op.FSYNCDIR, FUSE_ROOT_ID, le([64, 0], [32, 0], [32, 0]))!.errno, 0);
  t.is(h.call(Op.SYNCFS, FUSE_ROOT_ID, le([64, 0]))!.errno, 0);
  t.is(h.machine.meminfo().Dirty, 0, "syncfs wrote everything back");
  const s = h.call(Op.STATFS, FUSE_ROOT_ID)!;
  const vs = h.vfs.statfs("/");
  t.is(s.body.length, 80);
  t.is(Number(s.view.getBigUint64(0, true)), vs.blocks);
  t.is(Number(s.view.getBigUint64(8, true)), vs.bfree);
  t.is(s.view.getUint32(40, true), vs.bsize);
  t.is(s.view.getUint32(44, true), 255);
  for (const op of [Op.GETXATTR, Op.LISTXATTR, Op.SETXATTR, Op.ACCESS, Op.FALLOCATE, Op.LSEEK, Op.IOCTL, Op.STATX, Op.TMPFILE]) {
    t.is(h.call(op, FUSE_ROOT_ID, Buffer.alloc(64))!.errno, ENOSYS, `opcode ${op}`);
  }
  t.is(h.call(Op.INTERRUPT, FUSE_ROOT_ID, le([64, 1])), null, "INTERRUPT has no reply");
});

test("an unlinked file stays usable through its handle; FORGET drops the node and a reused inode number is a new node", (t) => {
  const h = new Harness();
  init(h);
  const c = create(h, FUSE_ROOT_ID, "tmp");
  const id = nodeOf(c);
  const fh = fhOfCreate(c);
  t.is(h.call(Op.UNLINK, FUSE_ROOT_ID, "tmp")!.errno, 0);
  t.is(h.call(Op.WRITE, id, readIn(fh, 0, 5), Buffer.from("hello"))!.errno, 0);
  let r = h.call(Op.SETATTR, id, setattrIn(FATTR_SIZE, { size: 3 }))!;
  t.is(r.errno, 0, "truncate of a nameless file goes through its open descriptor");
  t.like(attrOut(r), { size: 3, nlink: 0 });
  r = h.call(Op.GETATTR, id, le([32, 0], [32, 0], [64, 0]))!;
  t.is(attrOut(r).size, 3);
  t.is(h.call(Op.READ, id, readIn(fh, 0, 100))!.body.toString(), "hel");
  h.call(Op.RELEASE, id, le([64, fh], [32, 0], [32, 0], [64, 0]));
  t.is(h.call(Op.GETATTR, id, le([32, 0], [32, 0], [64, 0]))!.errno, ENOENT, "nameless and closed");
  t.is(h.call(Op.FORGET, id, le([64, 1])), null, "FORGET has no reply");
  const before = h.ops.counts().nodes;
  const again = create(h, FUSE_ROOT_ID, "tmp2");
  t.not(nodeOf(again), id, "node ids are never reused");
  t.is(h.ops.counts().nodes, before + 1);
  h.call(Op.BATCH_FORGET, 0, le([32, 1], [32, 0], [64, nodeOf(again)], [64, 1]));
  t.is(h.ops.counts().nodes, before);
});

test("errors: a Folio error's errno is the reply's, anything else is EIO and reported", (t) => {
  t.is(errnoOf(Object.assign(new Error("x"), { errno: -2 })), 2);
  t.is(errnoOf(new Error("plain")), undefined);
  const h = new Harness();
  init(h);
  const seen: string[] = [];
  (h.server as unknown as { options: { onInternalError: (op: string) => void } }).options.onInternalError = (op) => seen.push(op);
  (h.ops as unknown as { statfs: () => never }).statfs = () => {
    throw new TypeError("a bug");
  };
  t.is(h.call(Op.STATFS, FUSE_ROOT_ID)!.errno, 5);
  t.deepEqual(seen, ["STATFS"]);
  t.deepEqual(h.server.stats.errors, { STATFS: 1 });
});

test("putAttr splits nanosecond times into seconds and nanoseconds", (t) => {
  const b = Buffer.alloc(88);
  const v = new DataView(b.buffer);
  putAttr(v, 0, { ino: 5, size: 2 ** 40, blocks: 8, atimeNs: 1_767_225_600_123_456_800, mtimeNs: 999, ctimeNs: 0, mode: 0o100644, nlink: 1, uid: 1000, gid: 100, blksize: 4096 });
  t.is(v.getBigUint64(8, true), 2n ** 40n);
  t.is(v.getBigUint64(24, true), 1_767_225_600n);
  t.true(Math.abs(v.getUint32(48, true) - 123_456_789) < 1000, "within the precision of a double");
  t.is(v.getBigUint64(32, true), 0n);
  t.is(v.getUint32(52, true), 999);
  t.is(v.getUint32(68, true), 1000);
});
