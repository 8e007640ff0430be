/**
 * Crash-testing machinery: a device wrapper that records every completed write and flush in
 * completion order, a copy-on-write store over a base image, and the check run at one crash point
 * (rebuild the device as it was, crash it with FaultyDevice, fsck, mount, compare with the model).
 */
import { Machine, type Rng } from "@folio/core";
import { FaultyDevice, SimDevice, installPageCache, type BackingStore, type BlockDevice, type BlockRequest, type DeviceStats } from "@folio/pagecache";
import { LogFs } from "../src/index.js";
import { ctxOf, mountFs } from "./helpers.js";
import { diffStates, observe, sameState, type State } from "./model.js";

/** A completed write (its data as it reached the device) or a completed flush. */
export type DevEvent = { write: true; block: number; data: Uint8Array } | { write: false };

/** Passes requests through, recording completions (while `on`). */
export class Recorder implements BlockDevice {
  readonly events: DevEvent[] = [];
  on = false;
  constructor(readonly inner: BlockDevice) {}
  get name(): string {
    return this.inner.name;
  }
  get blockSize(): number {
    return this.inner.blockSize;
  }
  get nrBlocks(): number {
    return this.inner.nrBlocks;
  }
  get stats(): DeviceStats {
    return this.inner.stats as DeviceStats;
  }
  submit(req: BlockRequest): void {
    const done = req.done;
    this.inner.submit({
      ...req,
      done: (err) => {
        if (this.on && err === null) {
          if (req.op === "write") this.events.push({ write: true, block: req.block, data: req.buffer.slice(req.offset, req.offset + req.count * this.blockSize) });
          else if (req.op === "flush") this.events.push({ write: false });
        }
        done(err);
      },
    });
  }
}

/** A store whose reads come from `base` unless written; writes never reach `base`. */
export class OverlayStore implements BackingStore {
  readonly size: number;
  private readonly over = new Map<number, Uint8Array>();
  constructor(private readonly base: Uint8Array) {
    this.size = base.length;
  }
  read(dst: Uint8Array, offset: number): void {
    let done = 0;
    while (done < dst.length) {
      const pos = offset + done;
      const b = Math.floor(pos / 4096);
      const within = pos % 4096;
      const n = Math.min(4096 - within, dst.length - done);
      const blk = this.over.get(b);
      if (blk) dst.set(blk.subarray(within, within + n), done);
      else dst.set(this.base.subarray(pos, pos + n), done);
      done += n;
    }
  }
  write(src: Uint8Array, offset: number): void {
    let done = 0;
    while (done < src.length) {
      const pos = offset + done;
      const b = Math.floor(pos / 4096);
      const within = pos % 4096;
      const n = Math.min(4096 - within, src.length - done);
      let blk = this.over.get(b);
      if (!blk) {
        blk = this.base.slice(b * 4096, b * 4096 + 4096);
        this.over.set(b, blk);
      }
      blk.set(src.subarray(done, done + n), within);
      done += n;
    }
  }
  flush(): void {}
  close(): void {}
}

/** A machine for checking crash images: one page cache reused by every check mount. */
export function checkMachine(): Machine {
  const m = Machine.boot({ memory: "64MiB", seed: 99 });
  installPageCache(m);
  return m;
}

export interface CrashCheck {
  /** Durable image at the last completed flush before the crash. */
  durable: Uint8Array;
  /** Writes completed since that flush, in completion order (the last is the crash point). */
  pending: readonly DevEvent[];
  /** Tear some unflushed blocks (FaultyDevice's torn writes) instead of reverting them all. */
  tear: Rng | null;
  /** States the crash may legally leave (the last completed persistence point, and the one in progress). */
  candidates: readonly State[];
  /** Mount read-write (recovery writes a checkpoint; fsck again after unmount) instead of read-only. */
  rw: boolean;
}

/** Rebuilds the device at a crash point, crashes it, and checks fsck and the recovered state. Returns null or what failed. */
export function checkCrash(m: Machine, c: CrashCheck): string | null {
  const store = new OverlayStore(c.durable);
  const sim = new SimDevice(store, m.scheduler);
  const faulty = new FaultyDevice(sim);
  let pending = 0;
  for (const ev of c.pending) {
    if (!ev.write) continue;
    pending++;
    faulty.submit({ op: "write", block: ev.block, count: ev.data.length / 4096, buffer: ev.data, offset: 0, done: () => pending-- });
  }
  m.scheduler.waitUntil(() => pending === 0, "replay of unflushed writes");
  faulty.crash(c.tear ? { tear: c.tear, tearRate: 0.5 } : {});
  faulty.restart();
  const rig = { machine: m, device: faulty };
  try {
    const rep = LogFs.fsck(ctxOf(rig), { repair: false });
    if (!rep.clean) return `fsck: ${rep.problems.map((p) => p.what).slice(0, 5).join("; ")}`;
    const fs = mountFs(rig, { readOnly: !c.rw });
    let got: State;
    try {
      got = observe(fs);
      if (c.rw) {
        const bad = fs.verifyAccounting();
        if (bad.length > 0) return `accounting after recovery: ${bad.slice(0, 3).join("; ")}`;
      }
    } finally {
      fs.unmount();
    }
    if (!c.candidates.some((s) => sameState(s, got))) {
      return `recovered state matches no durable state: ${c.candidates.map((s) => diffStates(s, got)).join(" | or | ")}`;
    }
    if (c.rw) {
      const rep2 = LogFs.fsck(ctxOf(rig), { repair: false });
      if (!rep2.clean) return `fsck after recovery mount: ${rep2.problems.map((p) => p.what).slice(0, 5).join("; ")}`;
    }
    return null;
  } catch (e) {
    return `exception: ${e instanceof Error ? e.stack ?? e.message : String(e)}`;
  }
}
