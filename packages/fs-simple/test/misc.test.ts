import test from "ava";
import { Stat, isFolioError } from "@folio/core";
import { format } from "../src/index.js";
import { BS, eq, fresh, fsck, memStore, mkfs, mount, pattern, readFile, rig, writeFile } from "./helpers.js";

test("the filesystem holds no data callbacks: none in its own fields, none in its mappings", (t) => {
  const { fs } = fresh();
  const ino = writeFile(fs, fs.rootIno, "f", pattern(100, 1));
  const file = fs.open(ino, 0);
  readFile(fs, ino);
  const forbidden = /readFolio|readahead|writeBegin|writeEnd|writepages|writeFolio/i;
  const shared = new Set(["machine", "cache", "flusher", "device"]);
  const seen = new Set<unknown>();
  const walk = (o: unknown, path: string) => {
    if (o === null || typeof o !== "object" || seen.has(o) || ArrayBuffer.isView(o)) return;
    seen.add(o);
    const entries = o instanceof Map ? [...o.entries()].map(([k, v]) => [String(k), v] as const) : o instanceof Set ? [...o].map((v, i) => [String(i), v] as const) : Object.entries(o);
    for (const [k, v] of entries) {
      if (path === "fs" && shared.has(k)) continue;
      t.false(forbidden.test(k), `${path}.${k} names a filesystem callback`);
      t.false(typeof v === "function", `${path}.${k} holds a function`);
      walk(v, `${path}.${k}`);
    }
  };
  walk(fs, "fs");
  walk(file, "file");
  fs.release(file);
  fs.unmount();
});

test("a read-only mount reads and refuses changes with EROFS, writing nothing", (t) => {
  const store = memStore(512);
  const r = rig(store);
  mkfs(r);
  const rw = mount(r);
  const ino = writeFile(rw, rw.rootIno, "f", pattern(5 * BS, 2));
  rw.unmount();
  const r2 = rig(store);
  const fs = mount(r2, { readOnly: true });
  t.true(eq(readFile(fs, ino), pattern(5 * BS, 2)));
  for (const op of [
    () => fs.create(fs.rootIno, "g", 0o644),
    () => fs.unlink(fs.rootIno, "f"),
    () => fs.setattr(ino, { mode: 0o600 }),
    () => fs.write(fs.open(ino, 2), 0, new Uint8Array(1), 0, 1),
  ]) {
    let code = "";
    try {
      op();
    } catch (e) {
      code = isFolioError(e) ? e.code : String(e);
    }
    t.is(code, "EROFS");
  }
  fs.unmount();
  t.is(r2.sim.stats.writes, 0);
});

test("fsync reports a failed data write with EIO once", (t) => {
  const store = memStore(512);
  const r = rig(store, { faulty: true });
  mkfs(r);
  const fs = mount(r);
  const ino = fs.create(fs.rootIno, "f", 0o644);
  const file = fs.open(ino, 2);
  fs.write(file, 0, pattern(4 * BS, 3), 0, 4 * BS);
  // Fail writes to the file's data blocks: everything past the metadata and the root directory's block.
  const sbBlock = new Uint8Array(BS);
  store.read(sbBlock, 0);
  const firstData = format.decodeSuper(sbBlock, 0, "test").firstDataBlock;
  r.faulty!.failWrites((b) => b > firstData);
  let code = "";
  try {
    fs.fsync(file, false);
  } catch (e) {
    code = isFolioError(e) ? e.code : String(e);
  }
  t.is(code, "EIO");
  r.faulty!.clearFaults();
  fs.fsync(file, false); // reported once
  fs.release(file);
  fs.unmount();
});

test("a large write is throttled while background writeback cleans it; memory is consistent", (t) => {
  const { fs, machine, flusher, cache } = fresh(16384, { memory: "64MiB" });
  const data = pattern(24 * 1024 * 1024, 9);
  const ino = writeFile(fs, fs.rootIno, "big", data);
  t.true(flusher.stats.throttled > 0 || flusher.stats.background > 0);
  t.true(flusher.stats.pagesWritten > 0);
  t.true(eq(readFile(fs, ino).subarray(0, 1 << 20), data.subarray(0, 1 << 20)));
  t.deepEqual(machine.verify(), []);
  fs.unmount();
  // Unmount released every page the filesystem had in the cache.
  t.is(machine.vmstat.stat[Stat.FilePages], 0);
  t.is(cache.dirtyMappings.size, 0);
  t.deepEqual(machine.verify(), []);
});

test("metadata lives in the block device's mapping: its folios describe themselves", (t) => {
  const { fs, machine, cache } = fresh(512);
  writeFile(fs, fs.rootIno, "f", pattern(20 * BS, 1));
  const labels = new Set<string>();
  for (const m of cache.dirtyMappings) labels.add(m.host.label);
  t.true(labels.has("block device vda on fs-simple"));
  t.true([...labels].some((l) => /^inode \d+ on fs-simple$/.test(l)));
  fs.sync();
  t.is(cache.dirtyMappings.size, 0);
  fs.unmount();
  t.deepEqual(machine.verify(), []);
});

test("mkfs refuses devices that are too small and bad options", (t) => {
  const r = rig(memStore(32));
  t.throws(() => mkfs(r), { code: "ENOSPC" } as never);
  const r2 = rig(memStore(64));
  t.throws(() => mkfs(r2, { inodes: -3 }), { code: "EINVAL" } as never);
  mkfs(r2);
  const fs = mount(r2);
  t.true(fs.statfs().bfree > 0);
  writeFile(fs, fs.rootIno, "x", pattern(10 * BS, 1));
  fs.unmount();
  t.deepEqual(fsck(r2).problems, []);
});
