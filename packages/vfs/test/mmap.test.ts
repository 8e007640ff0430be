/**
 * vfs.mmap: mapping a file open on a descriptor (Node's fs API has no mmap) into an address
 * space, with Linux's checks on the descriptor, and the mapping's own open file: the descriptor
 * may close, the file may be unlinked, and the mount stays busy until the last page is unmapped.
 */
import test from "ava";
import { MAP_PRIVATE, MAP_SHARED, MS_SYNC, PROT_READ, PROT_WRITE, Stat } from "@folio/core";
import { boot, throwsCode } from "./helpers.js";

const RW = PROT_READ | PROT_WRITE;

test("a shared mapping of a descriptor: stores are seen by readFileSync, writes by loads", (t) => {
  const { machine, vfs, fs } = boot();
  fs.writeFileSync("/f", Buffer.alloc(10000, 0x61));
  const fd = fs.openSync("/f", "r+");
  const mm = machine.mm.createAddressSpace("app");
  const a = vfs.mmap(mm, fd, { length: 10000, prot: RW, flags: MAP_SHARED });
  mm.store(a + 4096, Buffer.from("mapped"));
  t.is(fs.readFileSync("/f", "utf8").slice(4096, 4102), "mapped");
  fs.writeSync(fd, "written", 8000);
  t.is(Buffer.from(mm.load(a + 8000, 7)).toString(), "written");
  mm.msync(a, 10000, MS_SYNC);
  mm.destroy();
  fs.closeSync(fd);
  t.deepEqual(machine.verify(), []);
});

test("descriptor checks: EACCES for a write-only descriptor, a shared writable mapping of a read-only one, a directory; EBADF", (t) => {
  const { machine, vfs, fs } = boot();
  fs.writeFileSync("/f", "data");
  fs.mkdirSync("/d");
  const mm = machine.mm.createAddressSpace("app");
  const ro = fs.openSync("/f", "r");
  const wo = fs.openSync("/f", "a"); // write-only, without truncating
  const dir = fs.openSync("/d", "r");
  throwsCode(t, () => vfs.mmap(mm, wo, { length: 4096, prot: PROT_READ, flags: MAP_PRIVATE }), "EACCES", { syscall: "mmap" });
  throwsCode(t, () => vfs.mmap(mm, ro, { length: 4096, prot: RW, flags: MAP_SHARED }), "EACCES", { syscall: "mmap" });
  throwsCode(t, () => vfs.mmap(mm, dir, { length: 4096, prot: PROT_READ, flags: MAP_PRIVATE }), "EACCES", { syscall: "mmap" });
  throwsCode(t, () => vfs.mmap(mm, 99, { length: 4096, prot: PROT_READ, flags: MAP_PRIVATE }), "EBADF", { syscall: "mmap" });
  throwsCode(t, () => vfs.mmap(mm, ro, { length: 0, prot: PROT_READ, flags: MAP_PRIVATE }), "EINVAL", { syscall: "mmap" });
  const a = vfs.mmap(mm, ro, { length: 4096, prot: RW, flags: MAP_PRIVATE });
  mm.store(a, Buffer.from("DATA"));
  t.is(fs.readFileSync("/f", "utf8"), "data", "a private mapping of a read-only descriptor may be written; the file is not");
  const b = vfs.mmap(mm, ro, { length: 4096, prot: PROT_READ, flags: MAP_SHARED });
  throwsCode(t, () => mm.mprotect(b, 4096, RW), "EACCES", { syscall: "mprotect" });
  t.deepEqual(machine.verify(), []);
});

test("the mapping keeps its own open file: close and unlink do not end it; umount is EBUSY until munmap", (t) => {
  const { machine, vfs, fs } = boot();
  fs.mkdirSync("/mnt");
  vfs.mount("/mnt", "ramfs");
  fs.writeFileSync("/mnt/f", Buffer.alloc(8192, 1));
  const fd = fs.openSync("/mnt/f", "r+");
  const mm = machine.mm.createAddressSpace("app");
  const a = vfs.mmap(mm, fd, { length: 8192, prot: RW, flags: MAP_SHARED });
  fs.closeSync(fd);
  fs.unlinkSync("/mnt/f");
  mm.store(a, Uint8Array.of(2));
  t.is(mm.load(a, 1)[0], 2, "the unlinked file lives on while mapped");
  throwsCode(t, () => vfs.umount("/mnt"), "EBUSY");
  mm.munmap(a, 4096);
  throwsCode(t, () => vfs.umount("/mnt"), "EBUSY");
  mm.munmap(a + 4096, 4096);
  t.is(machine.vmstat.stat[Stat.FileMapped], 0);
  vfs.umount("/mnt");
  t.deepEqual(machine.verify(), []);
});
