import test from "ava";
import fc from "fast-check";
import { Rng } from "@folio/core";
import type { SimpleFs } from "../src/index.js";
import { BS, eq, fsck, fsyncIno, memStore, mkfs, mount, pattern, readFile, rig, writeFile } from "./helpers.js";

test("crash: a file fsynced with its directory survives; fsck repairs the rest", (t) => {
  const store = memStore(2048);
  const r = rig(store, { faulty: true });
  mkfs(r);
  const fs = mount(r);
  const root = fs.rootIno;
  const dir = fs.mkdir(root, "dir", 0o755);
  const data = pattern(70 * BS + 123, 1);
  const ino = writeFile(fs, dir, "precious", data);
  fsyncIno(fs, ino);
  fsyncIno(fs, dir);
  fsyncIno(fs, root);
  // More work, never fsynced: new files, a rename, an unlink, background writeback in between.
  for (let i = 0; i < 20; i++) writeFile(fs, dir, `junk${i}`, pattern(i * 1000 + 5, i + 10));
  r.machine.scheduler.runFor(40e9);
  fs.rename(dir, "junk3", root, "moved", 0);
  fs.unlink(dir, "junk4");
  for (let i = 0; i < 10; i++) writeFile(fs, root, `late${i}`, pattern(5000, i));
  const report = r.faulty!.crash({ tear: new Rng(5) });
  t.true(report.reverted.length + report.torn.length > 0);
  // Reboot.
  const r2 = rig(store, { seed: 9 });
  fsck(r2, true);
  t.deepEqual(fsck(r2).problems, []);
  const fs2 = mount(r2);
  t.is(fs2.lookup(fs2.lookup(root, "dir"), "precious"), ino);
  t.true(eq(readFile(fs2, ino), data));
  fs2.unmount();
  t.deepEqual(fsck(r2).problems, []);
});

/** One step of a random workload on a few names in two directories. */
type Step = { op: "write" | "append" | "truncate" | "unlink" | "rename" | "fsync" | "sync" | "time"; a: number; b: number; n: number };

test("crash at random points of random workloads: every file fsynced (with its directories) is intact after fsck", (t) => {
  const step = fc.record({
    op: fc.constantFrom("write", "write", "append", "truncate", "unlink", "rename", "fsync", "fsync", "fsync", "fsync", "sync", "time"),
    a: fc.nat(7),
    b: fc.nat(7),
    n: fc.nat(40 * BS),
  }) as fc.Arbitrary<Step>;
  fc.assert(
    fc.property(fc.array(step, { minLength: 5, maxLength: 40 }), fc.nat(1000), (steps, seed) => {
      const store = memStore(1024);
      const r = rig(store, { faulty: true, seed: seed + 1 });
      mkfs(r);
      const fs = mount(r);
      const root = fs.rootIno;
      const dirs = [root, fs.mkdir(root, "sub", 0o755)];
      fsyncIno(fs, dirs[1]!);
      fsyncIno(fs, root);
      const name = (i: number) => `f${i % 4}`;
      const dirOf = (i: number) => dirs[i >> 2 & 1]!;
      /** Durable expectations: ino → content, for files fsynced with their directory since their last change. */
      const content = new Map<number, Uint8Array>();
      const durable = new Map<string, { ino: number; data: Uint8Array }>();
      const changed = (ino: number) => {
        for (const [k, v] of durable) if (v.ino === ino) durable.delete(k);
      };
      const lookup = (fs: SimpleFs, d: number, n: string) => {
        try {
          return fs.lookup(d, n);
        } catch {
          return 0;
        }
      };
      for (const s of steps) {
        const d = dirOf(s.a);
        const n = name(s.a);
        try {
          switch (s.op) {
            case "write":
            case "append": {
              const ino = lookup(fs, d, n) || fs.create(d, n, 0o644);
              const old = content.get(ino) ?? new Uint8Array(0);
              const pos = s.op === "append" ? old.length : s.n % (old.length + 1);
              const bytes = pattern((s.n % 9000) + 1, s.n);
              writeFile(fs, d, n, bytes, pos);
              const next = new Uint8Array(Math.max(old.length, pos + bytes.length));
              next.set(old);
              next.set(bytes, pos);
              content.set(ino, next);
              changed(ino);
              break;
            }
            case "truncate": {
              const ino = lookup(fs, d, n);
              if (!ino) break;
              const old = content.get(ino)!;
              const size = s.n % (old.length + 2 * BS);
              fs.setattr(ino, { size });
              const next = new Uint8Array(size);
              next.set(old.subarray(0, Math.min(size, old.length)));
              content.set(ino, next);
              changed(ino);
              break;
            }
            case "unlink": {
              const ino = lookup(fs, d, n);
              if (!ino) break;
              fs.unlink(d, n);
              durable.delete(`${d}/${n}`);
              if (fs.getattr(ino).nlink === 0) {
                fs.evictInode(ino);
                content.delete(ino);
                changed(ino);
              }
              break;
            }
            case "rename": {
              const to = dirOf(s.b);
              const tn = name(s.b);
              const ino = lookup(fs, d, n);
              if (!ino || (d === to && n === tn)) break;
              const victim = lookup(fs, to, tn);
              fs.rename(d, n, to, tn, 0);
              durable.delete(`${d}/${n}`);
              durable.delete(`${to}/${tn}`);
              if (victim && victim !== ino && fs.getattr(victim).nlink === 0) {
                fs.evictInode(victim);
                content.delete(victim);
                changed(victim);
              }
              break;
            }
            case "fsync": {
              const ino = lookup(fs, d, n);
              if (!ino) break;
              fsyncIno(fs, ino);
              fsyncIno(fs, d);
              durable.set(`${d}/${n}`, { ino, data: content.get(ino)!.slice() });
              break;
            }
            case "sync":
              fs.sync();
              for (const dd of dirs) for (let i = 0; i < 4; i++) {
                const ino = lookup(fs, dd, name(i));
                if (ino) durable.set(`${dd}/${name(i)}`, { ino, data: content.get(ino)!.slice() });
              }
              break;
            case "time":
              r.machine.scheduler.runFor(s.n * 1e6);
              break;
          }
        } catch (e) {
          throw new Error(`step ${JSON.stringify(s)} failed: ${String(e)}`);
        }
      }
      r.faulty!.crash({ tear: new Rng(seed) });
      const r2 = rig(store, { seed: seed + 2 });
      fsck(r2, true);
      const after = fsck(r2);
      if (!after.clean) throw new Error(`not clean after repair: ${after.problems.map((p) => p.what).join("; ")}`);
      const fs2 = mount(r2);
      for (const [path, { ino, data }] of durable) {
        const [d, n] = path.split("/");
        const found = lookup(fs2, Number(d), n!);
        if (found !== ino) throw new Error(`${path}: found inode ${found}, expected ${ino}`);
        if (!eq(readFile(fs2, ino), data)) throw new Error(`${path}: contents differ`);
      }
      fs2.unmount();
      return true;
    }),
    { numRuns: 80, seed: 3 },
  );
  t.pass();
});
