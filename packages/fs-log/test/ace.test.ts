/**
 * ACE-style bounded crash test (after Mohan et al., "Finding crash-consistency bugs with bounded
 * black-box crash testing", OSDI '18): every sequence of up to two operations over two directories
 * × two file names, each followed by each persistence point (fsync of each existing file, fsync
 * of each directory, sync), then a crash, fsck and mount. The recovered tree must be exactly the
 * model's durable state (docs/FS-LOG.md): every commit persists the whole namespace; fsync of a
 * file persists its contents too; sync persists everything.
 */
import test from "ava";
import { O_RDWR, type FsFile } from "@folio/fs-api";
import { FaultyDevice, SimDevice } from "@folio/pagecache";
import { ROOT_INO } from "../src/format.js";
import { LogFs } from "../src/index.js";
import { OverlayStore, checkMachine } from "./crash-rig.js";
import { ctxOf, evictIfGone, makeRig, mountFs, pattern } from "./helpers.js";
import { diffStates, hash, observe, sameState, type State } from "./model.js";

const DIRS = ["A", "B"] as const;
const NAMES = ["f", "g"] as const;
const PATHS = DIRS.flatMap((d) => NAMES.map((n) => `${d}/${n}`));

type AceOp =
  | { k: "create"; p: string }
  | { k: "write"; p: string }
  | { k: "truncate"; p: string }
  | { k: "unlink"; p: string }
  | { k: "rename"; p: string; q: string }
  | { k: "link"; p: string; q: string };

const OPS: AceOp[] = [
  ...PATHS.map((p) => ({ k: "create", p }) as AceOp),
  ...PATHS.map((p) => ({ k: "write", p }) as AceOp),
  ...PATHS.map((p) => ({ k: "truncate", p }) as AceOp),
  ...PATHS.map((p) => ({ k: "unlink", p }) as AceOp),
  ...PATHS.flatMap((p) => PATHS.filter((q) => q !== p).map((q) => ({ k: "rename", p, q }) as AceOp)),
  ...PATHS.flatMap((p) => PATHS.filter((q) => q !== p).map((q) => ({ k: "link", p, q }) as AceOp)),
];

type Persist = { k: "fsync"; p: string } | { k: "fsyncdir"; d: string } | { k: "sync" };

/** Files by identity: path → id, id → contents now and as last committed. */
class AceModel {
  names = new Map<string, number>();
  data = new Map<number, Uint8Array>();
  committed = new Map<number, Uint8Array>();
  nextId = 1;
  clone(): AceModel {
    const m = new AceModel();
    m.names = new Map(this.names);
    m.data = new Map(this.data);
    m.committed = new Map(this.committed);
    m.nextId = this.nextId;
    return m;
  }
  /** Applies an op; false if it is not valid here (ENOENT, EEXIST…). */
  apply(op: AceOp, step: number): boolean {
    const id = this.names.get(op.p);
    switch (op.k) {
      case "create":
        if (id !== undefined) return false;
        this.names.set(op.p, this.nextId);
        this.data.set(this.nextId, new Uint8Array(0));
        this.committed.set(this.nextId, new Uint8Array(0));
        this.nextId++;
        return true;
      case "write": {
        if (id === undefined) return false;
        const old = this.data.get(id)!;
        const bytes = pattern(5000, 100 + step);
        const next = new Uint8Array(Math.max(old.length, 3000 + 5000));
        next.set(old);
        next.set(bytes, 3000);
        this.data.set(id, next);
        return true;
      }
      case "truncate":
        if (id === undefined) return false;
        this.data.set(id, this.data.get(id)!.slice(0, 1000));
        if (this.data.get(id)!.length < 1000) {
          const n = new Uint8Array(1000);
          n.set(this.data.get(id)!);
          this.data.set(id, n);
        }
        return true;
      case "unlink":
        if (id === undefined) return false;
        this.names.delete(op.p);
        return true;
      case "rename": {
        if (id === undefined) return false;
        if (this.names.get(op.q) === id) return false; // same inode: a no-op, not interesting
        this.names.set(op.q, id);
        this.names.delete(op.p);
        return true;
      }
      case "link":
        if (id === undefined || this.names.has(op.q)) return false;
        this.names.set(op.q, id);
        return true;
    }
  }
  durable(): State {
    const s: State = new Map();
    for (const d of DIRS) s.set(`/${d}`, "D");
    for (const [p, id] of this.names) s.set(`/${p}`, `F:${hash(this.committed.get(id)!)}`);
    return new Map([...s].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  }
}

function opText(op: AceOp): string {
  return "q" in op ? `${op.k} ${op.p} ${op.q}` : `${op.k} ${op.p}`;
}

test("ACE: every sequence of up to 2 operations over 2 directories × 2 files, each persistence point, crash", (t) => {
  // The starting image: /A/f with contents, /B, all synced.
  const base = makeRig({ blocks: 2048, mkfs: { segmentBlocks: 16, inodes: 128 } });
  {
    const fs = mountFs(base);
    const a = fs.mkdir(ROOT_INO, "A", 0o755);
    fs.mkdir(ROOT_INO, "B", 0o755);
    const f = fs.create(a, "f", 0o644);
    const h = fs.open(f, O_RDWR);
    fs.write(h, 0, pattern(6000, 1), 0, 6000);
    fs.release(h);
    fs.sync();
    fs.unmount();
  }
  const image = new Uint8Array(2048 * 4096);
  base.store.read(image, 0);
  const start = new AceModel();
  start.names.set("A/f", start.nextId);
  start.data.set(start.nextId, pattern(6000, 1));
  start.committed.set(start.nextId, pattern(6000, 1));
  start.nextId++;

  // Every valid sequence of up to two operations.
  const seqs: AceOp[][] = [[]];
  for (const a of OPS) {
    if (!start.clone().apply(a, 0)) continue;
    seqs.push([a]);
    for (const b of OPS) {
      const m = start.clone();
      m.apply(a, 0);
      if (m.apply(b, 1)) seqs.push([a, b]);
    }
  }

  const m = checkMachine();
  let tried = 0;
  const failures: string[] = [];
  for (const seq of seqs) {
    const model = start.clone();
    seq.forEach((op, i) => model.apply(op, i));
    const points: Persist[] = [
      ...[...model.names.keys()].map((p) => ({ k: "fsync", p }) as Persist),
      ...DIRS.map((d) => ({ k: "fsyncdir", d }) as Persist),
      { k: "sync" },
    ];
    for (const pp of points) {
      tried++;
      const what = `[${seq.map(opText).join(", ")}] then ${pp.k}${"p" in pp ? ` ${pp.p}` : "d" in pp ? ` ${pp.d}` : ""}`;
      const err = runCase(m, image, seq, pp, model.clone());
      if (err) failures.push(`${what}: ${err}`);
    }
  }
  console.log(`ACE: ${seqs.length} sequences, states tried ${tried}, failures ${failures.length}`);
  t.is(failures.length, 0, failures.slice(0, 10).join("\n"));
});

function runCase(m: ReturnType<typeof checkMachine>, image: Uint8Array, seq: AceOp[], pp: Persist, model: AceModel): string | null {
  const sim = new SimDevice(new OverlayStore(image), m.scheduler);
  const faulty = new FaultyDevice(sim);
  const rig = { machine: m, device: faulty };
  try {
    const fs = mountFs(rig);
    const dirIno = (d: string) => fs.lookup(ROOT_INO, d);
    const split = (p: string): [number, string] => [dirIno(p.split("/")[0]!), p.split("/")[1]!];
    const withFile = (p: string, fn: (h: FsFile) => void) => {
      const [d, n] = split(p);
      const h = fs.open(fs.lookup(d, n), O_RDWR);
      try {
        fn(h);
      } finally {
        fs.release(h);
      }
    };
    seq.forEach((op, i) => {
      const [d, n] = split(op.p);
      switch (op.k) {
        case "create":
          fs.create(d, n, 0o644);
          break;
        case "write":
          withFile(op.p, (h) => fs.write(h, 3000, pattern(5000, 100 + i), 0, 5000));
          break;
        case "truncate":
          fs.setattr(fs.lookup(d, n), { size: 1000 });
          break;
        case "unlink": {
          const ino = fs.lookup(d, n);
          fs.unlink(d, n);
          evictIfGone(fs, ino);
          break;
        }
        case "rename": {
          const [d2, n2] = split(op.q);
          let victim = 0;
          try {
            victim = fs.lookup(d2, n2);
          } catch {
            // no target
          }
          fs.rename(d, n, d2, n2, 0);
          if (victim) evictIfGone(fs, victim);
          break;
        }
        case "link": {
          const [d2, n2] = split(op.q);
          fs.link(fs.lookup(d, n), d2, n2);
          break;
        }
      }
    });
    if (pp.k === "sync") {
      fs.sync();
      for (const [id, d] of model.data) model.committed.set(id, d);
    } else if (pp.k === "fsyncdir") {
      const h = fs.open(dirIno(pp.d), O_RDWR);
      fs.fsync(h, false);
      fs.release(h);
    } else {
      withFile(pp.p, (h) => fs.fsync(h, false));
      const id = model.names.get(pp.p)!;
      model.committed.set(id, model.data.get(id)!);
    }
    faulty.crash();
    try {
      fs.unmount();
    } catch {
      // the device is gone: the unmount's writes fail, its memory is released anyway
    }
    faulty.restart();
    const rep = LogFs.fsck(ctxOf(rig), { repair: false });
    if (!rep.clean) return `fsck: ${rep.problems.map((p) => p.what).join("; ")}`;
    const fs2 = mountFs(rig, { readOnly: true });
    let got: State;
    try {
      got = observe(fs2);
    } finally {
      fs2.unmount();
    }
    const want = model.durable();
    return sameState(want, got) ? null : diffStates(want, got);
  } catch (e) {
    return `exception: ${e instanceof Error ? e.stack ?? e.message : String(e)}`;
  }
}
