/**
 * Memory faults of one machine: hard and soft offline of random frames, unpoison of frames
 * poisoned earlier, and compaction passes, each drawn from the run's seed; and the bookkeeping the
 * harness checks them with — every result memory failure reports (`onResult`, delayed ones
 * finished later included), counted by kind, memdesc type and action, which must match the
 * machine's own counters (`memory_failure_*`, `soft_offline`, `nr_hwpoisoned`); and which mapping
 * each failed folio frame belonged to, so that a loss can be attributed to a file, to the
 * filesystem's metadata, or to a private mapping's copied page.
 */
import { MemdescType, type CompactMode, type MemoryFailureResult, type Rng } from "@folio/core";
import type { Mapping } from "@folio/pagecache";
import type { World } from "./world.js";

/** A memory fault the harness injects. */
export type MemoryFaultKind = "hard" | "soft" | "unpoison" | "compact";

/** Largest order a compaction pass is asked for (MAX_ORDER − 1: a 2 MiB block). */
const MAX_COMPACT_ORDER = 9;
const MODES: readonly CompactMode[] = ["async", "sync", "full"];
/** Random draws when looking for a frame that holds a folio, before settling for any frame. */
const FOLIO_TRIES = 48;

/** Counts of what memory faults did on a run's machines (summed into the run's statistics). */
export interface MemoryFaultCounts {
  /** Hard offline calls made by the harness. */
  hard: number;
  /** Soft offline calls made by the harness. */
  soft: number;
  /** Unpoisons made by the harness. */
  unpoisons: number;
  /** Compaction passes the harness started. */
  compactions: number;
  /** Folios compaction moved. */
  compactMigrated: number;
  /** Memory faults that landed inside an operation (a timer armed before it). */
  midOp: number;
}

/**
 * One machine's memory faults. Created at boot; the harness calls {@link inject} (now, or from a
 * timer inside the next operations), and learns of every result through `onResult`.
 */
export class MachineMemoryFaults {
  /** Frames this machine's memory failure has flagged poisoned, in the order they were (for unpoison). */
  readonly poisoned: number[] = [];
  /** Results by `kind type action`, as the listener saw them. */
  readonly outcomes = new Map<string, number>();
  /** Hard-offline results by action, and soft offlines that succeeded: what vmstat must say. */
  private readonly hardByAction = { recovered: 0, ignored: 0, failed: 0, delayed: 0 };
  private softDone = 0;
  /** The mapping each folio frame belonged to when a fault was injected there, by owner id. */
  private readonly mappings = new Map<number, Mapping>();

  /** Made at each boot; subscribes to the machine's memory-failure results. */
  constructor(
    /** The world whose machine faults are injected into. */
    readonly world: World,
    /** The harness's reaction to each result (after it is counted here). */
    onResult: (result: MemoryFailureResult) => void,
    /** Told of each file mapping a fault is injected into, when it is injected (the harness learns whose it is then). */
    private readonly onMapping: (mapping: Mapping) => void = () => {},
  ) {
    world.machine.memoryFailure.onResult((r) => {
      this.count(r);
      onResult(r);
    });
  }

  /** The mapping a result's owner id names, if a fault was injected into one of its folios on this machine. */
  mappingOf(ownerId: number | undefined): Mapping | undefined {
    return ownerId === undefined ? undefined : this.mappings.get(ownerId);
  }

  /** Every mapping a fault was injected into on this machine (some may be gone since). */
  injectedMappings(): Mapping[] {
    return [...this.mappings.values()];
  }

  /**
   * Injects one fault of `kind`, its choices drawn from `r`; returns a line for the op log.
   * Poisoning stops at `maxPoisoned` frames: beyond, the oldest is unpoisoned first.
   */
  inject(kind: MemoryFaultKind, r: Rng, counts: MemoryFaultCounts, maxPoisoned: number): string {
    const m = this.world.machine;
    const mf = m.memoryFailure;
    if (kind === "unpoison") {
      if (this.poisoned.length === 0) return "unpoison: nothing poisoned";
      const [pfn] = this.poisoned.splice(r.below(this.poisoned.length), 1);
      counts.unpoisons++;
      return `unpoison ${pfn}: ${mf.unpoison(pfn!).detail}`;
    }
    if (kind === "compact") {
      const order = r.below(MAX_COMPACT_ORDER + 2) - 1;
      const mode = MODES[r.below(MODES.length)]!;
      const res = m.compaction.compact({ order, mode });
      counts.compactions++;
      counts.compactMigrated += res.migrated;
      return `compact order ${order} ${mode}: ${res.status}, ${res.migrated} moved, ${res.failed} failed`;
    }
    while (this.poisoned.length >= maxPoisoned) {
      const pfn = this.poisoned.shift()!;
      mf.unpoison(pfn);
      counts.unpoisons++;
    }
    const pfn = this.pickFrame(r);
    if (kind === "hard") counts.hard++;
    else counts.soft++;
    const res = kind === "hard" ? mf.hardOffline(pfn) : mf.softOffline(pfn);
    if (mf.isPoisoned(pfn) && !this.poisoned.includes(pfn)) this.poisoned.push(pfn);
    return `${kind} offline ${pfn}: ${res.type} ${res.action}${res.dataLost ? " (data lost)" : ""}: ${res.detail}`;
  }

  /**
   * A frame to inject into: half the time one holding a folio (page cache or anonymous memory —
   * where data can be lost), else any frame, whatever it holds (free memory, slab, page tables, the
   * balloon's vmalloc area, reserved frames). A folio frame's mapping is remembered for its results.
   */
  private pickFrame(r: Rng): number {
    const m = this.world.machine;
    const types = m.memmap.type;
    let pfn = 1 + r.below(m.frames - 1);
    if (r.chance(0.5)) {
      for (let i = 0; i < FOLIO_TRIES; i++) {
        const p = 1 + r.below(m.frames - 1);
        if (types[p] === MemdescType.Folio) {
          pfn = p;
          break;
        }
      }
    }
    if (types[pfn] === MemdescType.Folio) {
      // Owner ids are reused: the latest folio seen under an id says what it is now (a file's mapping, or anonymous memory).
      const folio = m.folios.fromPfn(pfn);
      const owner = folio === 0 ? 0 : m.folios.owner(folio);
      const mapping = folio === 0 ? undefined : this.world.vfs.cache.mappingOf(folio);
      if (mapping) {
        this.mappings.set(mapping.ownerId, mapping);
        this.onMapping(mapping);
      } else if (owner !== 0) this.mappings.delete(owner);
    }
    return pfn;
  }

  private count(r: MemoryFailureResult): void {
    const key = `${r.kind} ${r.type} ${r.action}`;
    this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1);
    if (r.kind === "hard") this.hardByAction[r.action]++;
    else if (r.kind === "soft" && r.action === "recovered") this.softDone++;
  }

  /**
   * Differences between what the results said and the machine's counters: memory_failure_* by
   * action, soft_offline, and nr_hwpoisoned against the frames flagged now (recounted from the
   * flags of the frames this machine poisoned).
   */
  recount(): string[] {
    const m = this.world.machine;
    const vm = m.vmstat.toObject();
    const out: string[] = [];
    for (const a of ["recovered", "ignored", "failed", "delayed"] as const) {
      const v = vm[`memory_failure_${a}`] ?? 0;
      if (v !== this.hardByAction[a]) out.push(`memory_failure_${a} is ${v}, the results said ${this.hardByAction[a]}`);
    }
    if ((vm["soft_offline"] ?? 0) !== this.softDone) out.push(`soft_offline is ${vm["soft_offline"]}, the results said ${this.softDone}`);
    const flagged = this.poisoned.filter((p) => m.memoryFailure.isPoisoned(p)).length;
    if (flagged !== this.poisoned.length) out.push(`${this.poisoned.length - flagged} frames the harness poisoned are no longer flagged`);
    if ((vm["nr_hwpoisoned"] ?? 0) !== this.poisoned.length) out.push(`nr_hwpoisoned is ${vm["nr_hwpoisoned"]}, ${this.poisoned.length} frames are poisoned`);
    return out;
  }
}
