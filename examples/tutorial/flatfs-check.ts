/**
 * Tutorial step 5 (docs/TUTORIAL.md): flatfs checked against a model. A seeded random workload —
 * writes anywhere (growing files with zeros), truncates, renames over files, unlinks (also of open
 * files), fsync, sync, virtual time for the flusher, on a machine small enough that reclaim drops
 * clean folios — is run on flatfs and on a map of names to bytes. After an unmount and mount the
 * filesystem must hold what the model holds; after a power cut, what the model held at the last
 * sync; after a machine lost with every write kept, the names and sizes of the last sync, with no
 * byte another file wrote. Exits 1 at the first difference.
 */
import { Machine, Rng, SECOND } from "@folio/core";
import { FaultyDevice, MemfsStore, SimDevice } from "@folio/pagecache";
import { Vfs, createNodeFs, type NodeFs } from "@folio/vfs";
import { FlatFs } from "./flatfs.js";

/** A file of the model: its bytes, and every byte value ever written to it (0 included). */
interface ModelFile {
  data: Buffer;
  readonly values: Set<number>;
}

const EXTENT_BLOCKS = 64; // 256 KiB files: writes past the end are common, and together they outgrow memory
const MAX = EXTENT_BLOCKS * 4096;
const NAMES = Array.from({ length: 40 }, (_, i) => `f${i}`); // more than the 32 slots: ENOSPC, and slots reused

/** Whether every byte of `data` is one of `values`. */
function ownBytes(data: Uint8Array, values: Set<number>): boolean {
  const allowed = new Uint8Array(256);
  for (const v of values) allowed[v] = 1;
  for (let i = 0; i < data.length; i++) if (allowed[data[i]!] === 0) return false;
  return true;
}

/** Runs `ops` random operations from `seed`; returns what happened, or throws where flatfs and the model differ. */
function check(seed: number, ops: number): { remounts: number; crashes: number; lost: number } {
  const rng = new Rng(seed);
  const store = new MemfsStore({ size: "10MiB" });
  let machine!: Machine;
  let vfs!: Vfs;
  let fs!: NodeFs;
  let disk!: FaultyDevice;
  const boot = (format: boolean) => {
    machine = Machine.boot({ memory: "4MiB", seed: rng.below(1 << 30) });
    vfs = new Vfs(machine);
    disk = new FaultyDevice(new SimDevice(store, machine.scheduler));
    if (format) FlatFs.mkfs({ device: disk, scheduler: machine.scheduler, machine }, { extentBlocks: EXTENT_BLOCKS });
    vfs.mount("/", "flat", { device: disk });
    fs = createNodeFs(vfs);
  };
  boot(true);
  let model = new Map<string, ModelFile>();
  let durable = new Map<string, ModelFile>();
  const copy = (m: Map<string, ModelFile>) => new Map([...m].map(([k, f]) => [k, { data: Buffer.from(f.data), values: f.values }]));
  const synced = () => (durable = copy(model));
  const same = (where: string, m: Map<string, ModelFile>, contents: "equal" | "own bytes") => {
    const names = fs.readdirSync("/").sort().join(" ");
    if (names !== [...m.keys()].sort().join(" ")) throw new Error(`${where}: flatfs has ${names || "no files"}; the model ${[...m.keys()].sort().join(" ") || "none"}`);
    for (const [name, f] of m) {
      const data = fs.readFileSync(`/${name}`);
      if (data.length !== f.data.length) throw new Error(`${where}: ${name} has ${data.length} bytes; the model ${f.data.length}`);
      if (contents === "equal" && !data.equals(f.data)) throw new Error(`${where}: ${name} differs from the model`);
      if (contents === "own bytes" && !ownBytes(data, f.values)) throw new Error(`${where}: ${name} holds bytes no write to it wrote`);
    }
  };
  let [remounts, crashes, lost] = [0, 0, 0];
  for (let i = 0; i < ops; i++) {
    const name = NAMES[rng.below(NAMES.length)]!;
    const file = model.get(name);
    const op = rng.below(100);
    const where = `seed ${seed}, operation ${i}`;
    if (op < 35) {
      const [pos, len, value] = [rng.below(MAX + 4096), 1 + rng.below(3 * 4096), 1 + rng.below(255)];
      const flushes = disk.stats.flushes;
      let fd: number;
      try {
        fd = fs.openSync(`/${name}`, file ? "r+" : "w+");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOSPC" && !file) continue; // all 32 slots in use
        throw e;
      }
      if (disk.stats.flushes !== flushes) synced(); // create synced to reuse freed slots, before it made this file
      const f = file ?? { data: Buffer.alloc(0), values: new Set([0]) };
      model.set(name, f);
      try {
        const n = fs.writeSync(fd, Buffer.alloc(len, value), 0, len, pos);
        if (n !== Math.min(len, MAX - pos)) throw new Error(`${where}: a write of ${len} bytes at ${pos} wrote ${n}`);
        if (pos + n > f.data.length) f.data = Buffer.concat([f.data, Buffer.alloc(pos + n - f.data.length)]);
        f.data.fill(value, pos, pos + n);
        f.values.add(value);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EFBIG" || pos < MAX) throw e;
      } finally {
        fs.closeSync(fd);
      }
    } else if (op < 38) {
      vfs.sync();
      synced();
    } else if (op < 44) {
      machine.scheduler.runFor(rng.below(40) * SECOND);
    } else if (op < 46) {
      vfs.umount("/");
      synced();
      boot(false);
      same(`${where}, after a remount`, model, "equal");
      remounts++;
    } else if (op < 48) {
      machine.scheduler.runFor(rng.below(10) * SECOND);
      disk.crash(); // every write since the last flush is undone
      boot(false);
      model = copy(durable);
      same(`${where}, after a crash`, model, "equal");
      crashes++;
    } else if (op < 49) {
      machine.scheduler.runFor(rng.below(40) * SECOND); // the flusher writes data; the machine is then lost, the writes kept
      boot(false);
      same(`${where}, after a machine was lost`, durable, "own bytes");
      model = new Map(fs.readdirSync("/").map((n) => [n, { data: fs.readFileSync(`/${n}`), values: durable.get(n)!.values }]));
      synced();
      lost++;
    } else if (op < 51) {
      same(where, model, "equal");
    } else if (file === undefined) {
      continue; // the operations below need a file
    } else if (op < 61) {
      const size = rng.below(MAX + 1);
      fs.truncateSync(`/${name}`, size);
      file.data = size <= file.data.length ? Buffer.from(file.data.subarray(0, size)) : Buffer.concat([file.data, Buffer.alloc(size - file.data.length)]);
    } else if (op < 68) {
      fs.unlinkSync(`/${name}`);
      model.delete(name);
    } else if (op < 76) {
      const to = NAMES[rng.below(NAMES.length)]!;
      fs.renameSync(`/${name}`, `/${to}`);
      model.delete(name);
      model.set(to, file);
    } else if (op < 82) {
      const fd = fs.openSync(`/${name}`, "r+");
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      synced();
    } else if (op < 98) {
      if (!fs.readFileSync(`/${name}`).equals(file.data)) throw new Error(`${where}: ${name} reads other than the model`);
    } else {
      const fd = fs.openSync(`/${name}`, "r+"); // unlinked while open: still written to, then gone
      fs.unlinkSync(`/${name}`);
      model.delete(name);
      fs.writeSync(fd, Buffer.alloc(5000, 7), 0, 5000, 0);
      fs.fsyncSync(fd);
      synced();
      fs.closeSync(fd);
    }
  }
  same(`seed ${seed}, at the end`, model, "equal");
  const problems = machine.verify();
  if (problems.length > 0) throw new Error(`seed ${seed}: ${problems.join("; ")}`);
  return { remounts, crashes, lost };
}

for (const seed of [1, 2, 3]) {
  const { remounts, crashes, lost } = check(seed, 1000);
  console.log(`seed ${seed}: 1000 operations, ${remounts} remounts, ${crashes} power cuts, ${lost} machines lost: as the model says`);
}
