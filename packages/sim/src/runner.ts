/**
 * One run of the harness: (filesystem, seed, operation count, fault rates) → an op log, a final
 * state hash, counters, and the first violation if there is one. Everything is drawn from the
 * seed, so a run replays exactly; a violation names its seed, its operation index and the command
 * that replays it.
 *
 * Each operation runs on the filesystem (through the VFS's Node API) and on the model; the
 * result, or the error code, must be the model's, except that an operation may fail with EIO
 * (once an error was injected), ENOMEM (on a tiny-memory boot) or ENOSPC (when it may allocate),
 * and then must have changed nothing. Power cuts (between operations, or timed to land inside
 * one), I/O error windows and tiny-memory boots come from the fault rates. After a power cut: fsck
 * with repair, fsck without repair (clean, and it must not write), mount, the persistence check
 * (see persistence.ts), and the model learns the recovered tree. After a remount (umount + mount)
 * the tree must be exactly the model's.
 *
 * User mappings (mmap, load, store, msync, munmap) live in two address spaces, one per simulated
 * process; their loads and stores are judged like calls (SIGBUS and SIGSEGV as outcomes), checked
 * against the model's file contents and private copies, and torn down (process exit) before every
 * umount.
 *
 * Memory faults (hard and soft offline of random frames, unpoison, compaction; memory-faults.ts)
 * land between operations or inside them. The model learns every page memory failure destroyed
 * from its results: a lost file page must read as EIO and fault as SIGBUS (EHWPOISON) until
 * replaced or truncated away, its loss must be reported by the next fsync of every open file, it
 * is never durable, and each file's record of lost pages must say the same; memory failure's
 * counters must match its results. The filesystem's files use folios up to a seed-chosen order.
 */
import { MAP_PRIVATE, MAP_SHARED, MS_SYNC, MemoryAccessError, PROT_READ, PROT_WRITE, Rng, fail as folioFail, isFolioError, type AddressSpace, type MemoryFailureResult } from "@folio/core";
import type { Mapping } from "@folio/pagecache";
import { POLICY_NAMES } from "@folio/policies";
import { O_CREAT, O_DIRECTORY, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, S_IFDIR, S_IFLNK, S_IFMT } from "@folio/fs-api";
import { Content, PAGE, fillBytes, firstDifference, hashBytes, hashNumber, hashString } from "./content.js";
import { FAULT_PROFILES, formatFaults, type FaultRates } from "./faults.js";
import { Model, ModelErrSeq, sortNames, type Expect, type Kind, type MNode } from "./model.js";
import { classify, type KnownBugContext, type Where } from "./known.js";
import { MachineMemoryFaults, type MemoryFaultCounts, type MemoryFaultKind } from "./memory-faults.js";
import { checkDurable, type Problem, type View, type ViewNode } from "./persistence.js";
import { RamStore } from "./ram-store.js";
import { target, type FsTarget } from "./targets.js";
import { PowerCut, World, type WorldHooks } from "./world.js";
import { MAP_SLOTS, POOL_SLOTS, Workload, formatOp, type Op, type OpType } from "./workload.js";

/** What one simulation run does: the target, the seed, how many operations, which faults. */
export interface RunConfig {
  /** Target name ("simple", "log"). */
  fs: string;
  /**
   * The run's seed: the workload, the faults, every machine's seed and the defaults of `policy` and
   * `maxOrder` derive from it.
   */
  seed: number;
  /** Operations to run. */
  ops: number;
  /** Fault rates (a profile of {@link FAULT_PROFILES} or parsed from `--faults`). */
  faults: FaultRates;
  /** Keep every op-log line in the result (the hash chain is always kept). */
  keepLog?: boolean;
  /** Operation weights replacing the defaults. */
  weights?: Partial<Record<OpType, number>>;
  /** Compare the live tree with the model every this many operations (0: never); 250 by default. */
  liveCheckEvery?: number;
  /**
   * The eviction policy of every machine of the run, by name; by default one of every policy in
   * turn, chosen by the seed ({@link policyOf}), so a soak runs them all.
   */
  policy?: string;
  /**
   * Memory pressure: ordinary boots leave the page cache only {@link PRESSURE_CACHE_PAGES} pages,
   * so reclaim never stops (tiny boots stay as they are). Off by default.
   */
  pressure?: boolean;
  /**
   * Largest folio order of the filesystem's file mappings (mount option `maxOrder`), 0..9; by
   * default one of {@link MAX_ORDERS}, chosen by the seed ({@link maxOrderOf}).
   */
  maxOrder?: number;
}

/** The eviction policy a run uses: the configured one, or the seed's pick among all of them. */
export function policyOf(config: Pick<RunConfig, "seed" | "policy">): string {
  return config.policy ?? POLICY_NAMES[config.seed % POLICY_NAMES.length]!;
}

/** The folio orders runs choose among by default: small folios only, 16 KiB, and up to 2 MiB. */
export const MAX_ORDERS = [0, 2, 9] as const;

/**
 * The largest folio order a run's filesystem uses: the configured one, or the seed's pick among
 * {@link MAX_ORDERS}. The pick uses the seed divided by the number of policies, so that every
 * pair of policy and order comes up once in 21 consecutive seeds.
 */
export function maxOrderOf(config: Pick<RunConfig, "seed" | "maxOrder">): number {
  return config.maxOrder ?? MAX_ORDERS[Math.floor(config.seed / POLICY_NAMES.length) % MAX_ORDERS.length]!;
}

/**
 * Page-cache room of an ordinary boot (pages above the high watermark; the rest of memory is
 * ballooned away): smaller than what the workload keeps cached, so reclaim (kswapd, direct
 * reclaim, shrinkers) runs all the time. Allocation failures here are violations; tiny boots
 * (1–3 MiB, no balloon) are where ENOMEM is a legal outcome.
 */
export const PRESSURE_CACHE_PAGES = [96, 160, 256] as const;

/** Test hooks (planted bugs); the command line has none. */
export interface RunHooks extends WorldHooks {
  /** Called with each operation before it runs (its index, its text). */
  beforeOp?(index: number, text: string): void;
}

/** A broken promise found by a run: where, what, and how to replay it. */
export interface Violation {
  /** Target name. */
  fs: string;
  /** The run's seed. */
  seed: number;
  /** Index of the operation after which it showed (ops count when found by the final checks). */
  op: number;
  /** The operation as the op log shows it ({@link formatOp}), or the final check's name. */
  opText: string;
  /** What was wrong, in words. */
  message: string;
  /** A command that replays the run up to the violation. */
  replay: string;
  /** The known bug (src/known.ts) this violation shows, when the harness has evidence of its mechanism. */
  known: string | null;
}

/** What a run did, counted; every count starts at 0 ({@link emptyStats}). */
export interface RunStats {
  /** Operations run. */
  ops: number;
  /** Operations that failed with the error the model predicted. */
  expectedErrors: number;
  /** Operations that failed with EIO (a legal fault outcome). */
  eio: number;
  /** Operations that failed with ENOMEM (legal on tiny machines). */
  enomem: number;
  /** Operations that failed with ENOSPC. */
  enospc: number;
  /** fsyncs and directory fsyncs run. */
  fsyncs: number;
  /** syncs run. */
  syncs: number;
  /** Clean remounts (the `remount` operation and others the harness makes). */
  remounts: number;
  /** Power cuts. */
  crashes: number;
  /** Of those, cuts in the middle of an operation. */
  midOpCrashes: number;
  /** Recoveries after a crash: fsck with repair, mount, and the checks of the persistence model. */
  recoveries: number;
  /** Machines booted. */
  boots: number;
  /** Of those, machines of 1–3 MiB, where ENOMEM is legal. */
  tinyBoots: number;
  /** Device reads failed by injection. */
  readErrors: number;
  /** Device writes failed by injection. */
  writeErrors: number;
  /** Device flushes failed by injection. */
  flushErrors: number;
  /** Blocks torn (partly written) by power cuts. */
  tornBlocks: number;
  /** Blocks rolled back to their old contents by power cuts (written but not flushed). */
  revertedBlocks: number;
  /** Windows of operations with I/O errors armed. */
  ioWindows: number;
  /** Problems fsck repaired after crashes. */
  fsckProblemsRepaired: number;
  /** Comparisons of the live tree with the model. */
  liveChecks: number;
  /** Mappings made (mmap). */
  mmaps: number;
  /** Loads through mappings that ran. */
  loads: number;
  /** Stores through mappings that ran. */
  stores: number;
  /** msyncs (MS_SYNC) that ran. */
  msyncs: number;
  /** Remounts after write errors where fsck found the image inconsistent although it was marked clean. */
  cleanButInconsistent: number;
  /** Pages reclaimed on the run's machines (kswapd and direct). */
  pagesReclaimed: number;
  /** Allocations that entered direct reclaim. */
  allocStalls: number;
  /** Workingset refaults of file pages. */
  refaults: number;
  /** kswapd runs. */
  kswapdRuns: number;
  /** OOM reports. */
  oomReports: number;
  /** Hard offlines injected. */
  hardOfflines: number;
  /** Soft offlines injected. */
  softOfflines: number;
  /** Unpoisons injected. */
  unpoisons: number;
  /** Compaction passes injected. */
  compactions: number;
  /** Folios those passes moved. */
  compactMigrated: number;
  /** Memory faults that landed inside an operation. */
  memMidOp: number;
  /** Dirty file-data pages memory errors destroyed. */
  lostFilePages: number;
  /** Dirty metadata pages destroyed (fs-simple's block-device mapping, directories, symlinks). */
  lostMetaPages: number;
  /** Private mappings' copied pages destroyed. */
  lostAnonPages: number;
  /** Reads that failed with EIO on a lost page. */
  lostReads: number;
  /** Accesses through mappings that got SIGBUS (EHWPOISON). */
  poisonSigbus: number;
  /** fsyncs or msyncs that reported a loss. */
  lossReports: number;
}

/** The outcome of {@link run}. */
export interface RunResult {
  /** The configuration run. */
  config: RunConfig;
  /** What the run did. */
  stats: RunStats;
  /** The first violation, or null for a clean run (a run stops at its first). */
  violation: Violation | null;
  /** FNV-1a chain over the op log. */
  opLogHash: number;
  /** Hash of the final tree as read back from the filesystem. */
  stateHash: number;
  /** The op log, when `keepLog` was set; empty otherwise. */
  log: string[];
  /** Memory-failure results by `kind memdesc-type action` ("hard folio recovered", "soft slab failed"…). */
  outcomes: Record<string, number>;
}

/** A {@link RunStats} with every count 0. */
export function emptyStats(): RunStats {
  return {
    ops: 0, expectedErrors: 0, eio: 0, enomem: 0, enospc: 0, fsyncs: 0, syncs: 0, remounts: 0, crashes: 0, midOpCrashes: 0, recoveries: 0,
    boots: 0, tinyBoots: 0, readErrors: 0, writeErrors: 0, flushErrors: 0, tornBlocks: 0, revertedBlocks: 0, ioWindows: 0, fsckProblemsRepaired: 0,
    liveChecks: 0, mmaps: 0, loads: 0, stores: 0, msyncs: 0, cleanButInconsistent: 0, pagesReclaimed: 0, allocStalls: 0, refaults: 0, kswapdRuns: 0, oomReports: 0,
    hardOfflines: 0, softOfflines: 0, unpoisons: 0, compactions: 0, compactMigrated: 0, memMidOp: 0, lostFilePages: 0, lostMetaPages: 0, lostAnonPages: 0,
    lostReads: 0, poisonSigbus: 0, lossReports: 0,
  };
}

/** The command that replays a run (`ops` operations); the folio order is always given, so the replay does not depend on the seed's default. */
export function replayCommand(fs: string, seed: number, ops: number, faults: FaultRates, policy?: string, pressure?: boolean, maxOrder?: number): string {
  return `node packages/sim/dist/src/run.js --fs ${fs} --seed ${seed} --ops ${ops} --faults ${formatFaults(faults)}${policy ? ` --policy ${policy}` : ""}${pressure ? " --pressure" : ""}${maxOrder !== undefined ? ` --max-order ${maxOrder}` : ""}`;
}

/** Runs one simulation. */
export function run(config: RunConfig, hooks: RunHooks = {}): RunResult {
  return new Harness(config, hooks).run();
}

/** Unwinds to the main loop once a violation is recorded. */
const STOP = Symbol("violation");
/** The power went during an operation. */
class Crashed extends Error {}

type Outcome<T> = { ok: true; value: T } | { ok: false; code: string };

/** A mapping the harness holds (one `map` slot), as the model sees it. */
interface LiveMapping {
  space: AddressSpace;
  addr: number;
  node: MNode;
  /** File offset of the first mapped byte (page-aligned). */
  off: number;
  /** Bytes mapped, as asked. */
  length: number;
  shared: boolean;
  /**
   * Private mappings: the pages copied so far (copy on write), by file page index. A copy of the
   * last page holds zeros past EOF, as the page cache's page did (Linux zeroes a page's part past
   * EOF when it reads it, and a truncate zeroes it). `tail`, when not 0: the offset in the page
   * from which the copied bytes are not known (the page held bytes stored past EOF).
   */
  copies: Map<number, { bytes: Uint8Array; tail: number }>;
  /**
   * File pages (by index) whose page-table entries here may still be poison markers: the page was
   * lost while this mapping may have mapped it, so an access may be SIGBUS (EHWPOISON) until munmap,
   * even once new data replaced the page.
   */
  markers: Set<number>;
  /** Private mappings: copied pages whose copy a memory error destroyed (an access is SIGBUS, EHWPOISON, until munmap). */
  lostCopies: Set<number>;
  /** The writeback error cursor of the file this mapping keeps open (msync reports through it). */
  cursor: number;
}

/** A descriptor the harness keeps open (one pool slot), with its writeback error cursor. */
interface PoolEntry {
  fd: number;
  node: MNode;
  cursor: number;
}

/** A dirty page a memory error destroyed, as memory failure reported it, before the model applies it. */
interface Loss {
  mapping: Mapping | undefined;
  ownerId: number | undefined;
  owner: string | undefined;
  index: number;
}

/** Poisoned frames a machine keeps at most (beyond, the oldest is unpoisoned first), by kind of boot: so memory never runs out. */
const MAX_POISONED = { roomy: 64, pressure: 8, tiny: 4 } as const;

const MiB = 1 << 20;
/** Operations that may allocate space (ENOSPC is then a legal outcome). */
const READ_ONLY: ReadonlySet<OpType> = new Set(["read", "stat", "readdir", "readlink", "fread", "open", "close", "idle", "load", "munmap"]);
/** Virtual time one operation may take before it counts as a hang. */
const HANG_NS = 300e9;

class Harness {
  private readonly t: FsTarget;
  private readonly wl: Workload;
  private readonly frng: Rng;
  private readonly brng: Rng;
  private readonly irng: Rng;
  /** Memory faults: which, when, and each one's choices (forked off it, so a fault's own draws never shift the others). */
  private readonly mrng: Rng;
  private readonly maxOrder: number;
  /** The current machine's memory faults and their bookkeeping. */
  private mem!: MachineMemoryFaults;
  private readonly memCounts: MemoryFaultCounts = { hard: 0, soft: 0, unpoisons: 0, compactions: 0, compactMigrated: 0, midOp: 0 };
  private readonly outcomes = new Map<string, number>();
  /** An operation is running: a memory fault whose timer fires now lands in it (otherwise it waits for the next operation). */
  private inOp = false;
  /** Memory faults whose timer fired between operations (during the harness's own checks): injected before the next one. */
  private deferredMem: { kind: MemoryFaultKind; r: Rng }[] = [];
  /** Losses memory failure reported while the current operation ran: the model applies them after it. */
  private raced: Loss[] = [];
  /** The file whose writeback error cursor the running operation samples or checks (open, mmap, fsync, msync). */
  private cursorNode: MNode | null = null;
  /** A memory fault call threw (a bug in Folio): reported after the operation. */
  private memError: string | null = null;
  /**
   * A memory error on this machine can make any operation fail with EIO: fs-simple metadata (a
   * bitmap, inode-table, indirect or directory block) was lost, or a bad frame stayed in a folio.
   */
  private memEio = false;
  /** The model's file each mapping caches, learnt when a fault was first injected into it (see sawMapping). */
  private readonly mappingNodes = new WeakMap<Mapping, MNode>();
  /** Mappings first seen inside the running operation: whose they are is learnt after it. */
  private unresolved: Mapping[] = [];
  private readonly store: RamStore;
  private world!: World;
  private readonly harvested = new WeakSet<World>();
  private model!: Model;
  private readonly pool: (PoolEntry | null)[] = new Array<null>(POOL_SLOTS).fill(null);
  private readonly maps: (LiveMapping | null)[] = new Array<null>(MAP_SLOTS).fill(null);
  /** The simulated processes' address spaces on the current machine (created on first use; gone with the machine). */
  private spaces: AddressSpace[] = [];
  private window: { end: number } | null = null;
  private tiny = false;
  private writeErrorsSeen = 0;
  /** Write errors counted when the filesystem was last mounted. */
  private writeErrorsAtMount = 0;
  /** Known-bug evidence gathered when the model last learned the tree, and by the recovery being checked. */
  private staleTails: Map<number, { from: number; to: number }> | undefined;
  private recoveryFsck: string[] | undefined;
  private fsckAfterRepair: string[] | undefined;
  private readonly failedTruncates = new Map<number, Set<number>>();
  /**
   * Bytes stored past EOF (within the last page) through shared mappings in this run: inode → file
   * range. Kept across remounts and crashes: writeback may have taken them to the disk with the block.
   */
  private readonly mappedTails = new Map<number, { from: number; to: number }>();
  /**
   * Files whose last page holds bytes stored past EOF through a shared mapping, and which page:
   * loads there may see them (or zeros, once writeback zeroed them), until the size changes.
   */
  private readonly tailStored = new Map<MNode, number>();
  /** The operation just run failed with a legal fault outcome (this code): it must have changed nothing. */
  private faulted: string | null = null;
  private halfDone: KnownBugContext["halfDone"];
  private unexpected: KnownBugContext["unexpected"];
  private opIndex = 0;
  private opText = "(setup)";
  private readonly stats = emptyStats();
  private violation: Violation | null = null;
  private readonly log: string[] = [];
  private logHash = 2166136261;

  constructor(
    private readonly cfg: RunConfig,
    private readonly hooks: RunHooks,
  ) {
    this.t = target(cfg.fs);
    const master = new Rng(cfg.seed);
    this.wl = new Workload(master.fork(), cfg.weights);
    this.frng = master.fork();
    this.brng = master.fork();
    this.irng = master.fork();
    this.mrng = master.fork();
    this.maxOrder = maxOrderOf(cfg);
    if (!Number.isInteger(this.maxOrder) || this.maxOrder < 0 || this.maxOrder > 9) throw new Error(`folio order ${this.maxOrder} is not an integer in 0..9`);
    this.store = new RamStore(this.t.blocks * PAGE);
  }

  run(): RunResult {
    const every = this.cfg.liveCheckEvery ?? 250;
    let stateHash = 0;
    this.guard(() => this.setup());
    for (let i = 0; i < this.cfg.ops && this.violation === null; i++) {
      this.opIndex = i;
      this.guard(() => {
        this.betweenOps(i);
        const op = this.wl.next(this.model, this.pool.map((p) => p?.node ?? null), this.maps);
        this.opText = formatOp(op);
        this.hooks.beforeOp?.(i, this.opText);
        const start = this.world.machine.scheduler.now;
        let outcome: string;
        this.faulted = null;
        try {
          // Memory faults from timers land inside the operation, but not inside a remount (its checks are the harness's own).
          this.inOp = op.t !== "remount";
          try {
            outcome = this.exec(op);
          } finally {
            this.inOp = false;
            this.cursorNode = null;
          }
          if (this.faulted !== null) this.probe(op, this.faulted);
          this.afterMemoryFaults();
        } catch (e) {
          this.raced = [];
          this.unresolved = [];
          if (!(e instanceof Crashed)) throw e;
          this.note("power cut");
          this.interrupted(op);
          this.stats.ops++;
          this.recover(true);
          return;
        }
        this.stats.ops++;
        this.note(outcome);
        if (op.t !== "idle" && this.world.machine.scheduler.now - start > HANG_NS) this.fail(`the operation took ${(this.world.machine.scheduler.now - start) / 1e9}s of virtual time (a hang)`);
        this.afterOp();
        if (every > 0 && (i + 1) % every === 0) this.liveCheck();
      });
    }
    if (this.violation === null) {
      this.opIndex = this.cfg.ops;
      this.opText = "(final checks)";
      this.guard(() => {
        this.liveCheck();
        this.remount();
        stateHash = this.viewHash(this.readView(this.tiny).view);
      });
    }
    this.guard(() => this.harvest(this.world));
    const c = this.memCounts;
    Object.assign(this.stats, { hardOfflines: c.hard, softOfflines: c.soft, unpoisons: c.unpoisons, compactions: c.compactions, compactMigrated: c.compactMigrated, memMidOp: c.midOp });
    return { config: this.cfg, stats: this.stats, violation: this.violation, opLogHash: this.logHash, stateHash, log: this.log, outcomes: Object.fromEntries(this.outcomes) };
  }

  // ── machine lifecycle ─────────────────────────────────────────────────────────────────────

  private setup(): void {
    this.world = this.boot(false);
    this.expectOk("mkfs", () => this.t.mkfs(this.world.ctx()));
    this.mountNow(this.world, "mount");
    this.model = new Model(this.world.fs.lstatSync("/").ino);
    this.model.settleAll();
  }

  private boot(tiny: boolean): World {
    this.stats.boots++;
    if (tiny) this.stats.tinyBoots++;
    this.tiny = tiny;
    this.window = null;
    this.writeErrorsSeen = 0;
    const pressure = this.cfg.pressure === true && !tiny;
    const memory = tiny ? MiB * (1 + this.frng.below(3)) : pressure ? 4 * MiB : 64 * MiB;
    const cachePages = !pressure ? {} : { cachePages: PRESSURE_CACHE_PAGES[this.brng.below(PRESSURE_CACHE_PAGES.length)]! };
    const world = new World(this.store, this.t, { memory, seed: this.brng.nextU32(), inflight: this.irng, hooks: this.hooks, evictionPolicy: policyOf(this.cfg), maxOrder: this.maxOrder, ...cachePages });
    this.mem = new MachineMemoryFaults(world, (r) => this.memoryResult(world, r), (m) => this.sawMapping(m));
    this.memEio = false;
    this.raced = [];
    this.unresolved = [];
    if (tiny) {
      // Reclaim makes room on a tiny machine most of the time, so allocations also fail by
      // injection (fail_page_alloc), at a rate drawn per boot: every allocation site's failure path.
      const r = this.frng.fork();
      const rate = 0.001 + r.next() * 0.01;
      world.machine.pages.injectFailures(() => r.chance(rate));
    }
    return world;
  }

  /** Adds a finished machine's injected faults to the counters. */
  private harvest(w: World): void {
    const f = w.faulty.faults;
    this.stats.readErrors += f.readErrors;
    this.stats.writeErrors += f.writeErrors;
    this.stats.flushErrors += f.flushErrors;
    this.stats.tornBlocks += f.tornBlocks;
    this.stats.revertedBlocks += f.revertedBlocks;
    f.reset();
    // Once per machine: a world is harvested again only after it was replaced.
    if (this.harvested.has(w)) return;
    this.harvested.add(w);
    if (this.mem.world === w) {
      for (const [k, n] of this.mem.outcomes) this.outcomes.set(k, (this.outcomes.get(k) ?? 0) + n);
      const off = this.mem.recount();
      if (off.length > 0 && this.violation === null) this.fail(`memory-failure counters do not match the results: ${off.join("; ")}`);
    }
    const vm = w.machine.vmstat.toObject();
    this.stats.pagesReclaimed += vm.pgsteal_kswapd! + vm.pgsteal_direct!;
    this.stats.allocStalls += vm.allocstall!;
    this.stats.refaults += vm.workingset_refault_file!;
    this.stats.kswapdRuns += vm.pageoutrun!;
    this.stats.oomReports += vm.oom_report!;
  }

  /**
   * A power cut interrupted `op`: whatever it may have changed may have reached the disk in part,
   * so it counts as changed since its durable point (contents touched, names unstable).
   */
  private interrupted(op: Op): void {
    const m = this.model;
    const node = (n: MNode | null | undefined, from = 0, to = Infinity) => {
      if (!n) return;
      n.metaDirty = true;
      if (n.kind === "file") n.touch(from, to, n.content!.size);
    };
    const name = (path: string) => {
      const p = m.parent(path);
      if ("err" in p) return;
      p.dir.unstable.add(p.name);
      p.dir.metaDirty = true;
      node(p.dir.entries!.get(p.name));
    };
    if ("path" in op) name(op.path);
    if ("from" in op) {
      name(op.from);
      name(op.to);
    }
    if ("slot" in op) node(this.pool[op.slot]?.node);
    if (op.t === "store") {
      const mp = this.maps[op.map];
      if (mp?.shared) node(mp.node, mp.off + op.off, mp.off + op.off + op.len);
    }
    if (op.t === "write" || op.t === "fwrite" || op.t === "punch") {
      const n = op.t === "fwrite" ? this.pool[op.slot]?.node : (() => { const e = m.lookup(op.path); return e.ok ? e.value : null; })();
      if (n?.kind === "file") n.touch(op.off, op.off + op.len, n.content!.size);
    }
  }

  /** Power cuts and I/O error windows, drawn before each operation. */
  private betweenOps(i: number): void {
    const r = this.frng;
    const rates = this.cfg.faults;
    const w = this.world;
    if (this.window && i >= this.window.end) {
      w.faulty.clearFaults();
      this.window = null;
    }
    if (rates.crash > 0 && r.chance(rates.crash)) {
      const tear = r.chance(rates.tear) ? r.fork() : undefined;
      if (r.chance(rates.midOp)) {
        w.armPowerCut(r.below(400_000), tear);
      } else {
        this.note(`power cut before op ${i}${tear ? " (tearing)" : ""}`);
        w.crash(tear);
        this.recover(false);
      }
    }
    if (this.window === null && rates.io > 0 && r.chance(rates.io)) this.openWindow(i);
    this.drawMemoryFaults();
  }

  // ── memory faults ─────────────────────────────────────────────────────────────────────────

  /**
   * Memory faults drawn before an operation (from their own stream, so runs without them draw
   * exactly what they did before they existed): hard and soft offline and compaction, now or — a
   * fraction `midOp` of them — from a timer 0–400 µs ahead, so they land inside the next
   * operations (in their I/O waits: folios locked or under writeback, blocks a filesystem holds);
   * and unpoison. Faults whose timer fired between operations go first.
   */
  private drawMemoryFaults(): void {
    const rates = this.cfg.faults;
    const r = this.mrng;
    const deferred = this.deferredMem;
    this.deferredMem = [];
    for (const d of deferred) this.injectMemory(d.kind, d.r);
    for (const kind of ["hard", "soft", "compact"] as const) {
      const rate = kind === "hard" ? rates.hardOffline : kind === "soft" ? rates.softOffline : rates.compact;
      if (rate <= 0 || !r.chance(rate)) continue;
      const own = r.fork();
      if (r.chance(rates.midOp)) {
        const w = this.world;
        w.machine.scheduler.after(r.below(400_000), `memory fault (${kind})`, () => {
          if (this.world !== w || w.powerCut) return;
          if (!this.inOp) this.deferredMem.push({ kind, r: own });
          else {
            this.memCounts.midOp++;
            this.injectMemory(kind, own);
          }
        });
      } else {
        this.injectMemory(kind, own);
      }
    }
    if (rates.unpoison > 0 && r.chance(rates.unpoison)) this.injectMemory("unpoison", r.fork());
  }

  /** Injects one memory fault on the current machine; a call that throws is a violation (reported after the operation). */
  private injectMemory(kind: MemoryFaultKind, r: Rng): void {
    const cap = this.tiny ? MAX_POISONED.tiny : this.cfg.pressure ? MAX_POISONED.pressure : MAX_POISONED.roomy;
    try {
      const line = this.mem.inject(kind, r, this.memCounts, cap);
      if (this.cfg.keepLog) this.note(line);
    } catch (e) {
      if (e instanceof PowerCut) throw e;
      this.memError ??= `${kind === "compact" ? "compaction" : kind === "unpoison" ? "unpoison" : `${kind} offline`} threw ${describe(e)}`;
    }
  }

  /**
   * A result of memory failure on machine `w` (an injection, or a delayed frame finished later).
   * A dirty page lost is recorded for the model: a file's page, the filesystem's metadata, or a
   * private mapping's copy. The file's writeback error is recorded at once (fsync may report it
   * inside this very operation); the lost page itself is applied after the operation, which may
   * have replaced it.
   */
  private memoryResult(w: World, r: MemoryFailureResult): void {
    if (this.world !== w) return;
    // A frame that stays in a folio (nobody could take it out): readers of that page fail with EIO.
    if (r.kind === "hard" && r.action === "failed" && r.type === "folio") this.memEio = true;
    if (!r.dataLost) return;
    const mapping = this.mem.mappingOf(r.ownerId);
    const loss: Loss = { mapping, ownerId: r.ownerId, owner: r.owner, index: r.index ?? -1 };
    const node = mapping ? this.nodeOf(mapping) : undefined;
    // Metadata lost: the operation running now may already fail for it.
    if (mapping && (mapping.host.ino === 0 || (node !== undefined && node.kind !== "file"))) this.memEio = true;
    // A file's page: lost file data if its record has it now (a page past EOF, in a large folio
    // straddling it, holds no file data: memory failure calls it lost, the file records nothing).
    if (node?.kind === "file" && mapping!.lost.has(loss.index)) {
      node.wbErr.set();
      // The operation samples or checks this file's error cursor: whether it saw this error depends on timing.
      if (node === this.cursorNode) node.wbErrKnown = false;
    }
    if (this.inOp) this.raced.push(loss);
    else this.applyLoss(loss, false);
  }

  /**
   * Applies a loss to the model. A file page joins the file's lost pages (for a loss during an
   * operation, only if the file's own record still has it: the operation may have replaced the
   * page after the loss), and mappings of the file that may have mapped it may keep a poison marker
   * there. fs-simple metadata (the block-device mapping, a directory's or symlink's block) makes
   * EIO possible anywhere on this machine. A private mapping's copied page is lost for good.
   */
  private applyLoss(loss: Loss, raced: boolean): void {
    const { mapping, index } = loss;
    if (mapping) {
      const ino = mapping.host.ino;
      const node = this.nodeOf(mapping);
      if (ino === 0 || (node !== undefined && node.kind !== "file")) {
        this.stats.lostMetaPages++;
        this.memEio = true;
        this.note(`lost ${ino === 0 ? "metadata block" : `page of ${node!.kind}`} ${index} of ${mapping.host.label}`);
        return;
      }
      // An inode the model no longer has (unlinked and closed, its eviction failed): nothing can read that page again.
      if (node === undefined) return this.note(`lost page ${index} of ${mapping.host.label}, which no name or descriptor reaches`);
      const pages = Math.ceil(node.content!.size / PAGE);
      if (!raced && index >= pages) return this.note(`lost page ${index} of inode ${node.ino}, past its end: no file data`);
      if (!raced && !mapping.lost.has(index)) return this.fail(`a memory error lost dirty page ${index} of inode ${node.ino}, but the file does not record it lost`, { ino: node.ino, offset: index * PAGE });
      this.stats.lostFilePages++;
      if (raced && !mapping.lost.has(index)) return;
      node.lost.add(index);
      for (const mp of this.maps) {
        if (mp?.node !== node || (!mp.shared && mp.copies.has(index))) continue;
        const first = mp.off / PAGE;
        if (index >= first && index < first + Math.ceil(mp.length / PAGE)) mp.markers.add(index);
      }
      return;
    }
    for (const mp of this.maps) {
      if (!mp || mp.shared) continue;
      const vma = mp.space.vmaAt(mp.addr);
      if (vma?.anon == null || vma.anon.id !== loss.ownerId) continue;
      this.stats.lostAnonPages++;
      const page = mp.off / PAGE + (index - vma.anonIndex);
      if (!mp.copies.has(page)) return this.fail(`a memory error lost page ${index} of the private copies of mapping at 0x${mp.addr.toString(16)}, which never copied file page ${page}`);
      mp.lostCopies.add(page);
      return;
    }
    this.fail(`a memory error lost page ${index} of ${loss.owner ?? `owner ${loss.ownerId}`}, which the harness cannot attribute`);
  }

  /**
   * A fault was injected into a folio of `mapping`: the model learns whose file it caches — now,
   * between operations, when the model and the filesystem agree; or, inside an operation (which
   * may be creating that very inode), once it has ended. Inode numbers are reused, so a mapping is
   * never looked up later than that.
   */
  private sawMapping(mapping: Mapping): void {
    if (mapping.host.ino === 0 || this.mappingNodes.has(mapping)) return;
    if (this.inOp) this.unresolved.push(mapping);
    else this.resolveMapping(mapping);
  }

  private resolveMapping(mapping: Mapping): void {
    const node = this.model.byIno.get(mapping.host.ino);
    if (node !== undefined) this.mappingNodes.set(mapping, node);
  }

  /**
   * The model's file a mapping caches while its inode lives (the mapping goes with the inode), or
   * undefined (gone, not known, or the filesystem's block-device mapping). Inside an operation, a
   * mapping first seen in it is looked up by inode number (the operation's own file).
   */
  private nodeOf(mapping: Mapping): MNode | undefined {
    if (mapping.host.ino === 0) return undefined;
    const node = this.mappingNodes.get(mapping) ?? (this.unresolved.includes(mapping) ? this.model.byIno.get(mapping.host.ino) : undefined);
    if (node === undefined) return undefined;
    return node.dead || this.model.byIno.get(node.ino) !== node ? undefined : node;
  }

  /**
   * After each operation: losses during it are applied, a memory fault call that threw is
   * reported, and each file's own record of lost pages (`Mapping.lost`) must say what the model
   * learnt — except pages beyond the one reported when a large folio could not be split (memory
   * failure drops it whole), which the model learns from the record.
   */
  private afterMemoryFaults(): void {
    const unresolved = this.unresolved;
    this.unresolved = [];
    for (const mapping of unresolved) if (!this.mappingNodes.has(mapping)) this.resolveMapping(mapping);
    const raced = this.raced;
    this.raced = [];
    for (const loss of raced) this.applyLoss(loss, true);
    if (this.memError !== null) this.fail(this.memError);
    for (const mapping of this.mem.injectedMappings()) {
      const node = this.nodeOf(mapping);
      if (node?.kind !== "file") continue;
      const record = new Set(mapping.lost.ranges().flatMap(([a, b]) => Array.from({ length: b - a }, (_, i) => a + i)));
      for (const p of node.lost) {
        if (!record.has(p)) this.fail(`the model has page ${p} of inode ${node.ino} lost, but the file's record of lost pages does not (it has {${[...record].join(",")}})`, { ino: node.ino, offset: p * PAGE });
      }
      for (const p of record) {
        if (node.lost.has(p)) continue;
        if (p * PAGE >= node.content!.size) this.fail(`inode ${node.ino} records page ${p} lost, past its end (${node.content!.size} bytes)`);
        node.lost.add(p);
        this.stats.lostFilePages++;
      }
    }
  }

  private openWindow(i: number): void {
    const r = this.frng;
    const rates = this.cfg.faults;
    // Nothing is evicted from the page cache (there is no reclaim yet): start some windows from a
    // cold cache, so that reads reach the device and can fail.
    if (r.chance(0.5)) {
      this.note("remount for a cold cache");
      this.remount();
      // The remount's check read everything back into the cache: once more, without reading.
      const u = this.attempt(() => this.world.umount());
      const m = u.ok ? this.attempt(() => this.world.mount()) : u;
      if (!m.ok) {
        if (!this.legal(m.code, false)) this.fail(`umount or mount failed with ${m.code}`);
        this.recover(false);
      }
    }
    const f = this.world.faulty;
    this.window = { end: i + 5 + r.below(150) };
    this.stats.ioWindows++;
    if (r.chance(rates.targeted)) {
      const x = r.below(3);
      if (x === 2) {
        f.failFlushes(true);
        this.note(`fault window: every flush fails until op ${this.window.end}`);
        return;
      }
      const n = this.t.blocks;
      // Half the time low blocks, where the superblocks, bitmaps and inode tables are.
      const lo = r.chance(0.5) ? 0 : r.below(n);
      const span = r.chance(0.5) ? 1 + r.below(4) : 1 + r.below(32);
      const first = Math.min(n - span, lo + (lo === 0 ? r.below(64) : 0));
      const blocks = (b: number) => b >= first && b < first + span;
      const reads = x === 0 || this.mayEvict();
      if (reads) f.failReads(blocks);
      else f.failWrites(blocks);
      this.note(`fault window: ${reads ? "reads" : "writes"} of blocks [${first}, ${first + span}) fail until op ${this.window.end}`);
      return;
    }
    const read = r.next() * rates.readRate;
    const write = r.next() * rates.writeRate * (this.mayEvict() ? 0 : 1);
    f.randomFaults({ readErrorRate: read, writeErrorRate: write, rng: r.fork() });
    this.note(`fault window: random read errors ${read.toFixed(4)}, write errors ${write.toFixed(4)} until op ${this.window.end}`);
  }

  /**
   * Whether this machine is small enough for reclaim to evict what the workload caches (a tiny or
   * a pressure boot). Such machines get no write errors: a folio whose writeback failed is clean
   * (Linux does not redirty it), so reclaim may drop it and a later read returns the disk's older
   * data — the documented loss that fsync's EIO reports — at a moment the model cannot predict
   * page by page. Write errors are exercised on the roomy boots, read errors and flush errors
   * everywhere.
   */
  private mayEvict(): boolean {
    return this.tiny || this.cfg.pressure === true;
  }

  /** A write failed since the last look: what had unsynced changes may be stale on disk for good. */
  private afterOp(): void {
    const f = this.world.faulty.faults;
    // A filesystem that shuts down on an error stops at a failed flush too.
    const we = f.writeErrors + (this.t.shutsDownOnError ? f.flushErrors : 0);
    if (we !== this.writeErrorsSeen) {
      this.writeErrorsSeen = we;
      this.model.taint(this.t.shutsDownOnError);
    }
  }

  /**
   * After a power cut: boot, fsck with repair, fsck without (clean, no writes), mount, check what
   * the persistence model promises, learn the recovered tree.
   */
  private recover(midOp: boolean): void {
    const old = this.world;
    if (!old.powerCut) old.crash();
    this.afterOp();
    this.harvest(old);
    this.stats.crashes++;
    if (midOp) this.stats.midOpCrashes++;
    this.pool.fill(null);
    // The machine is gone, and its address spaces with it.
    this.maps.fill(null);
    this.spaces = [];
    const w = (this.world = this.boot(false));
    const repaired = this.repair(w);
    this.mountNow(w, "mount after recovery");
    const { view } = this.readView(false);
    const problems = checkDurable(this.model, view);
    if (problems.length > 0 && this.cfg.keepLog) this.note(`fsck repaired: ${repaired.problems.map((p) => p.what).join("; ")}`);
    this.recoveryFsck = repaired.problems.flatMap((p) => p.what.split(";").map((x) => x.trim()));
    if (problems.length > 0) this.fail(`after crash recovery (${this.t.rules.name}): ${summary(problems)}`, problems[0]!.where);
    this.recoveryFsck = undefined;
    this.relearn(view, true);
    this.stats.recoveries++;
    this.note(`recovered: fsck repaired ${repaired.problems.length} problems${this.cfg.keepLog ? `: ${repaired.problems.map((p) => p.what).join("; ")}` : ""}`);
    if (this.cfg.faults.enomem > 0 && this.frng.chance(this.cfg.faults.enomem)) this.tinyReboot();
  }

  /** fsck with repair, then without: clean, and without writing. Returns the repair's report. */
  private repair(w: World) {
    const repaired = this.expectOk("fsck --repair", () => this.t.fsck(w.ctx(), true));
    this.stats.fsckProblemsRepaired += repaired.problems.filter((p) => p.repaired).length;
    const writes = this.store.writes;
    const check = this.expectOk("fsck after repair", () => this.t.fsck(w.ctx(), false));
    if (this.store.writes !== writes) this.fail("fsck without repair wrote to the image");
    if (!check.clean && this.cfg.keepLog) this.note(`the repair's report: ${repaired.problems.map((p) => `${p.what}${p.repaired ? "" : " (not repaired)"}`).join("; ")}`);
    if (!check.clean) {
      this.recoveryFsck = repaired.problems.flatMap((p) => p.what.split(";").map((x) => x.trim()));
      this.fsckAfterRepair = check.problems.map((p) => p.what);
      this.fail(`fsck after repair is not clean: ${check.problems.slice(0, 5).map((p) => p.what).join("; ")}`);
    }
    return repaired;
  }

  private mountNow(w: World, what: string): void {
    this.expectOk(what, () => w.mount());
    this.writeErrorsAtMount = w.faulty.faults.writeErrors + w.faulty.faults.flushErrors;
  }

  /** A clean reboot into a tiny memory, where allocations fail. */
  private tinyReboot(): void {
    this.closePool();
    const r = this.attempt(() => this.world.umount());
    if (!r.ok) this.fail(`umount before a reboot failed: ${r.code}`);
    this.model.settleAll();
    this.harvest(this.world);
    const w = (this.world = this.boot(true));
    const m = this.attempt(() => w.mount());
    this.writeErrorsAtMount = 0;
    if (!m.ok) {
      if (m.code !== "ENOMEM") this.fail(`mount on a tiny machine failed with ${m.code}`);
      this.harvest(w);
      this.world = this.boot(false);
      this.mountNow(this.world, "mount");
    }
    this.note(`rebooted with ${this.world.memory / MiB} MiB`);
  }

  /** umount + mount: afterwards the filesystem holds exactly the model's tree (but what a failed write left stale). */
  private remount(): void {
    this.closePool();
    const readErrors = this.world.faulty.faults.readErrors;
    const u = this.attempt(() => this.world.umount());
    if (!u.ok) {
      if (!this.legal(u.code, false)) this.fail(`umount failed with ${u.code}`);
      // The filesystem gave up on the device: power-cycle.
      this.recover(false);
      return;
    }
    this.stats.remounts++;
    this.world.faulty.clearFaults();
    this.window = null;
    this.forgetLosses();
    // The umount synced everything that could be written (a data write that failed in it is not reported).
    this.afterOp();
    // So is one that failed because a read did: the indirect block a data page's writeback must
    // look up, dropped by reclaim, could not be read back. What had unsynced changes may be stale.
    if (this.world.faulty.faults.readErrors !== readErrors) this.model.taint(this.t.shutsDownOnError);
    this.t.rules.sync(this.model);
    let repaired = false;
    if (this.world.faulty.faults.writeErrors + this.world.faulty.faults.flushErrors !== this.writeErrorsAtMount) {
      // A write failed while mounted: the image may be inconsistent (Linux does not retry a failed
      // write), so check it before mounting again, as an administrator would.
      const writes = this.store.writes;
      const found = this.expectOk("fsck after write errors", () => this.t.fsck(this.world.ctx(), false));
      if (this.store.writes !== writes) this.fail("fsck without repair wrote to the image");
      if (!found.clean && !found.problems.some((p) => /not cleanly unmounted/.test(p.what))) this.stats.cleanButInconsistent++;
      if (!found.clean) {
        this.repair(this.world);
        repaired = true;
      }
      this.note(`fsck after write errors: ${found.problems.length} problems`);
    }
    let m = this.attempt(() => this.world.mount());
    if (!m.ok && this.legal(m.code, false)) m = this.attempt(() => this.world.mount());
    if (!m.ok) {
      if (!this.legal(m.code, false)) this.fail(`mount failed with ${m.code}`);
      this.recover(false);
      return;
    }
    this.writeErrorsAtMount = this.world.faulty.faults.writeErrors + this.world.faulty.faults.flushErrors;
    const { view, complete } = this.readView(this.tiny);
    // After fsck repaired the image, what the repair may have moved is checked as after a crash.
    const problems = repaired ? checkDurable(this.model, view) : this.compareTree(view, true);
    if (problems.length > 0) this.fail(`after umount + mount${repaired ? " and fsck" : ""}: ${summary(problems)}`, problems[0]!.where);
    if (complete) this.relearn(view, false);
    else if (this.model.liveNodes().some((n) => n.uncertain)) this.recover(false);
    else this.model.settleAll();
  }

  /**
   * The filesystem was unmounted: its mappings, with their records of lost pages and their error
   * cursors, are gone. A file that had lost pages holds older bytes there on the disk (or, after a
   * partial write, a mix): it is uncertain until the model reads the tree back.
   */
  private forgetLosses(): void {
    for (const n of this.model.liveNodes()) {
      if (n.lost.size > 0) n.uncertain = true;
      n.lost.clear();
      n.wbErr = new ModelErrSeq();
      n.wbErrKnown = true;
    }
  }

  /** The live tree (page cache and all) must be exactly the model's. */
  private liveCheck(): void {
    this.stats.liveChecks++;
    const { view } = this.readView(true, true);
    const problems = this.compareTree(view, false);
    if (problems.length > 0) this.fail(`live tree differs from the model: ${summary(problems)}`, problems[0]!.where);
    // The machine's own recount: page tables, mapcounts and reverse map against the mappings.
    const broken = this.world.machine.verify();
    if (broken.length > 0) this.fail(`machine.verify: ${broken.slice(0, 3).join("; ")}`);
    // Memory failure's counters against the results the harness saw.
    const off = this.mem.recount();
    if (off.length > 0) this.fail(`memory-failure counters do not match the results: ${off.join("; ")}`);
  }

  /**
   * Reads a file with lost pages (a live check): each lost page must read as EIO; the others are
   * read around them. The lost pages' bytes are taken from the model (nothing can read them).
   * Undefined when a read failed with a legal fault outcome.
   */
  private readAroundLost(path: string, node: MNode, size: number): Uint8Array | undefined {
    const out = node.content!.read(0, size).slice();
    const r = this.attempt(() =>
      this.withFd(path, O_RDONLY, (fd) => {
        const pages = Math.ceil(size / PAGE);
        for (let p = 0; p < pages; ) {
          if (node.lost.has(p)) {
            const one = this.attempt(() => this.readAt(fd, p * PAGE, 1));
            if (one.ok) this.fail(`reading the tree back: page ${p} of ${path} (inode ${node.ino}) was lost to a memory error, but a read of it returned data`, { ino: node.ino, offset: p * PAGE });
            if (one.code !== "EIO") this.fail(`reading the tree back: lost page ${p} of ${path} failed with ${one.code}, not EIO`);
            p++;
            continue;
          }
          let q = p;
          while (q < pages && !node.lost.has(q)) q++;
          const end = Math.min(size, q * PAGE);
          const bytes = this.readAt(fd, p * PAGE, end - p * PAGE);
          // A short read here is an I/O error met after some pages (legal only as an injected fault).
          if (bytes.length !== end - p * PAGE) throw folioFail("EIO", `read of ${path} at ${p * PAGE} was short`);
          out.set(bytes, p * PAGE);
          p = q;
        }
      }),
    );
    if (r.ok) return out;
    if (this.legal(r.code, true)) return undefined;
    this.unexpected = { code: r.code, tiny: this.tiny, injected: this.world.injected };
    return this.fail(`reading the tree back: read ${path} failed with ${r.code}`);
  }

  private closePool(): void {
    this.unmapAll();
    for (let s = 0; s < this.pool.length; s++) {
      const p = this.pool[s];
      if (!p) continue;
      this.pool[s] = null;
      const r = this.attempt(() => this.world.fs.closeSync(p.fd));
      if (!r.ok) this.fail(`close failed with ${r.code}`);
      p.node.opens--;
      this.model.maybeDie(p.node);
    }
  }

  // ── one operation ──────────────────────────────────────────────────────────────────────────

  /** Runs `op` on the filesystem and the model; returns the outcome for the log. */
  private exec(op: Op): string {
    const fs = this.world.fs;
    const m = this.model;
    switch (op.t) {
      case "create": {
        const e = m.open(op.path, { creat: true, excl: op.excl, write: true, trunc: op.trunc });
        const flags = O_CREAT | O_WRONLY | (op.excl ? O_EXCL : 0) | (op.trunc ? O_TRUNC : 0);
        const got = this.attempt(() => this.withFd(op.path, flags, (fd) => fs.fstatSync(fd).ino));
        if (!this.judge(op, e, got) || !e.ok || !got.ok) return this.outcome(got);
        const { dir, name, node } = e.value;
        if (node === null) {
          const ino = got.value;
          if (m.byIno.has(ino)) this.fail(`create gave inode ${ino}, which is still in use by ${m.byIno.get(ino)!.kind} ${m.byIno.get(ino)!.id}`);
          const n = m.newNode(ino, "file");
          m.link(dir, name, n);
        } else {
          if (node.ino !== got.value) this.fail(`open of an existing file gave inode ${got.value}, the model has ${node.ino}`);
          if (op.trunc) this.truncateModel(node, 0);
        }
        return this.outcome(got);
      }
      case "write":
      case "fwrite": {
        const data = fillBytes(op.len, op.seed);
        let e: Expect<MNode>;
        let got: Outcome<number>;
        if (op.t === "write") {
          const o = m.open(op.path, { creat: false, excl: false, write: true, trunc: false });
          e = o.ok ? { ok: true, value: o.value.node! } : o;
          got = this.attempt(() => this.withFd(op.path, O_WRONLY, (fd) => fs.writeSync(fd, data, 0, op.len, op.off)));
        } else {
          const p = this.pool[op.slot]!;
          e = { ok: true, value: p.node };
          got = this.attempt(() => fs.writeSync(p.fd, data, 0, op.len, op.off));
        }
        if (!this.judge(op, e, got) || !e.ok || !got.ok) return this.outcome(got);
        const n = got.value;
        // A short write (ENOSPC, EIO or ENOMEM after some pages) ends at a page boundary.
        if (n !== op.len && !(n > 0 && n < op.len && (op.off + n) % PAGE === 0)) this.fail(`write returned ${n} of ${op.len} bytes`);
        this.writeModel(e.value, op.off, data.subarray(0, n));
        return `ok ${n}`;
      }
      case "punch": {
        // No fallocate(PUNCH_HOLE) in the VFS: emulated by writing zeros over the range (never past EOF).
        const o = m.open(op.path, { creat: false, excl: false, write: true, trunc: false });
        if (!o.ok || o.value.node!.kind !== "file") return "skipped";
        const node = o.value.node!;
        const end = Math.min(op.off + op.len, node.content!.size);
        if (end <= op.off) return "nothing to punch";
        const zeros = new Uint8Array(end - op.off);
        const got = this.attempt(() => this.withFd(op.path, O_WRONLY, (fd) => fs.writeSync(fd, zeros, 0, zeros.length, op.off)));
        if (!this.judge(op, { ok: true, value: undefined }, got) || !got.ok) return this.outcome(got);
        if (got.value !== zeros.length && (op.off + got.value) % PAGE !== 0) this.fail(`write of zeros returned ${got.value} of ${zeros.length} bytes`);
        this.writeModel(node, op.off, zeros.subarray(0, got.value));
        return `ok ${got.value}`;
      }
      case "read":
      case "fread": {
        let e: Expect<Uint8Array>;
        let got: Outcome<Uint8Array>;
        if (op.t === "read") {
          const o = m.open(op.path, { creat: false, excl: false, write: false, trunc: false });
          e = !o.ok ? o : o.value.node!.isDir ? { ok: false, code: "EISDIR" } : { ok: true, value: o.value.node!.content!.read(op.off, op.len) };
          got = this.attempt(() => this.withFd(op.path, O_RDONLY, (fd) => this.readAt(fd, op.off, op.len)));
        } else {
          const p = this.pool[op.slot]!;
          e = { ok: true, value: p.node.content!.read(op.off, op.len) };
          got = this.attempt(() => this.readAt(p.fd, op.off, op.len));
        }
        const file = op.t === "fread" ? this.pool[op.slot]!.node : (() => { const l = m.lookup(op.path); return l.ok ? l.value : null; })();
        // Lost pages: a read starting on one fails with EIO, one reaching one stops before it.
        const lost = e.ok && file?.kind === "file" ? this.lostInRead(file, op.off, e.value.length) : null;
        if (lost?.mustEio) {
          if (got.ok) this.fail(`read at ${op.off} returned ${got.value.length} bytes, but page ${Math.floor(op.off / PAGE)} of inode ${file!.ino} was lost to a memory error: it must fail with EIO until overwritten`, { ino: file!.ino, offset: op.off });
          if (!got.ok && got.code === "EIO") {
            this.stats.expectedErrors++;
            this.stats.lostReads++;
            return "EIO (lost page)";
          }
        }
        if (lost?.mayEio && !got.ok && got.code === "EIO") {
          this.stats.lostReads++;
          return "EIO (page lost during the read)";
        }
        if (!this.judge(op, e, got) || !e.ok || !got.ok) return this.outcome(got);
        let want = e.value;
        if (lost && lost.end < want.length) {
          if (got.value.length > lost.end) this.fail(`read at ${op.off} returned ${got.value.length} bytes, past the start of page ${Math.floor((op.off + lost.end) / PAGE)} of inode ${file!.ino}, which was lost to a memory error (the read must stop there)`, { ino: file!.ino, offset: op.off + lost.end });
          want = want.subarray(0, lost.end);
        }
        // A read that meets an I/O error after some pages returns what it read (as Linux's filemap_read does).
        const short = got.value.length < want.length && (this.legal("EIO", true) || lost?.mayEnds.has(got.value.length) === true);
        if (short) this.stats.eio++;
        const at = firstDifference(got.value, short ? want.subarray(0, got.value.length) : want);
        if (at >= 0) this.fail(`read returned ${got.value.length} bytes, the model ${want.length}; first difference at byte ${op.off + at}`, { ino: file?.ino ?? 0, offset: op.off + at });
        return `ok ${got.value.length}`;
      }
      case "truncate":
      case "ftruncate": {
        let e: Expect<MNode>;
        let got: Outcome<void>;
        if (op.t === "truncate") {
          const o = m.open(op.path, { creat: false, excl: false, write: true, trunc: false });
          e = o.ok ? { ok: true, value: o.value.node! } : o;
          got = this.attempt(() => fs.truncateSync(op.path, op.size));
        } else {
          const p = this.pool[op.slot]!;
          e = { ok: true, value: p.node };
          got = this.attempt(() => fs.ftruncateSync(p.fd, op.size));
        }
        if (e.ok && !got.ok && (got.code === "EIO" || got.code === "ENOMEM")) {
          const set = this.failedTruncates.get(e.value.ino) ?? new Set<number>();
          this.failedTruncates.set(e.value.ino, set.add(op.size));
        }
        if (!this.judge(op, e, got) || !e.ok || !got.ok) return this.outcome(got);
        this.truncateModel(e.value, op.size);
        return "ok";
      }
      case "rename": {
        const e = m.rename(op.from, op.to);
        const got = this.attempt(() => fs.renameSync(op.from, op.to));
        if (this.judge(op, e, got) && e.ok && got.ok) m.applyRename(e.value);
        return this.outcome(got);
      }
      case "link": {
        const e = m.linkPath(op.from, op.to);
        const got = this.attempt(() => fs.linkSync(op.from, op.to));
        if (this.judge(op, e, got) && e.ok && got.ok) {
          m.link(e.value.dir, e.value.name, e.value.node);
          e.value.node.nlink++;
        }
        return this.outcome(got);
      }
      case "unlink":
      case "rmdir": {
        const e = op.t === "unlink" ? m.unlink(op.path) : m.rmdir(op.path);
        const got = this.attempt(() => (op.t === "unlink" ? fs.unlinkSync(op.path) : fs.rmdirSync(op.path)));
        if (this.judge(op, e, got) && e.ok && got.ok) m.unlinkName(e.value.dir, e.value.name);
        return this.outcome(got);
      }
      case "mkdir":
      case "symlink": {
        const e = op.t === "mkdir" ? m.mkdir(op.path) : m.symlink(op.path);
        const got = this.attempt(() => (op.t === "mkdir" ? fs.mkdirSync(op.path, 0o755) : fs.symlinkSync(op.target, op.path)));
        if (!this.judge(op, e, got) || !e.ok || !got.ok) return this.outcome(got);
        // The harness's own look: under pressure the path's blocks may have left the cache, and a
        // read error injected here would be the harness's, not the operation's.
        const ino = this.expectOk("lstat of a new name", () => this.world.faulty.withoutReadErrors(() => fs.lstatSync(op.path).ino));
        if (m.byIno.has(ino)) this.fail(`${op.t} gave inode ${ino}, which is still in use`);
        const n = m.newNode(ino, op.t === "mkdir" ? "dir" : "symlink");
        if (op.t === "symlink") n.target = op.target;
        m.link(e.value.dir, e.value.name, n);
        return "ok";
      }
      case "fsync":
      case "ffsync": {
        let node: MNode;
        let got: Outcome<void>;
        const datasync = op.t === "fsync" && op.datasync;
        let cursor: number;
        if (op.t === "fsync") {
          const o = m.open(op.path, { creat: false, excl: false, write: false, trunc: false });
          if (!o.ok || o.value.node!.kind !== "file") return "skipped";
          node = o.value.node!;
          cursor = node.wbErr.sample();
          this.cursorNode = node;
          got = this.attempt(() => this.withFd(op.path, O_RDONLY, (fd) => (datasync ? fs.fdatasyncSync(fd) : fs.fsyncSync(fd))));
        } else {
          const p = this.pool[op.slot]!;
          node = p.node;
          cursor = p.cursor;
          this.cursorNode = node;
          got = this.attempt(() => fs.fsyncSync(p.fd));
        }
        this.stats.fsyncs++;
        const report = this.judgeLossReport(op, node, cursor, got);
        if (op.t === "ffsync") this.pool[op.slot]!.cursor = report.cursor;
        if (report.explained) return "EIO (lost pages reported)";
        if (this.judge(op, { ok: true, value: undefined }, got) && got.ok) this.t.rules.fsyncFile(m, node, datasync);
        return this.outcome(got);
      }
      case "fsyncdir": {
        const o = m.lookup(op.path);
        if (!o.ok || !o.value.isDir) return "skipped";
        // The VFS's fsync of a directory syncs its filesystem.
        const got = this.attempt(() => this.withFd(op.path, O_RDONLY | O_DIRECTORY, (fd) => fs.fsyncSync(fd)));
        this.stats.fsyncs++;
        if (this.judge(op, { ok: true, value: undefined }, got) && got.ok) this.t.rules.sync(m);
        return this.outcome(got);
      }
      case "fsyncdir-fs": {
        const o = m.lookup(op.path);
        if (!o.ok || !o.value.isDir) return "skipped";
        const dir = o.value;
        // The filesystem's own fsync of a directory, through its file operations (the VFS has no such call).
        const got = this.attempt(() => {
          const sb = this.world.vfs.superBlockOf(op.path);
          const f = sb.open(dir.ino, O_RDONLY);
          try {
            sb.fsync(f, false);
          } finally {
            sb.release(f);
          }
        });
        this.stats.fsyncs++;
        if (this.judge(op, { ok: true, value: undefined }, got) && got.ok) this.t.rules.fsyncDir(m, dir);
        return this.outcome(got);
      }
      case "sync": {
        const got = this.attempt(() => this.world.vfs.sync());
        this.stats.syncs++;
        if (this.judge(op, { ok: true, value: undefined }, got) && got.ok) this.t.rules.sync(m);
        return this.outcome(got);
      }
      case "stat": {
        const e = m.lookup(op.path);
        const got = this.attempt(() => fs.lstatSync(op.path));
        if (!this.judge(op, e, got) || !e.ok || !got.ok) return this.outcome(got);
        const n = e.value;
        const st = got.value;
        const kind = kindOf(st.mode);
        if (kind !== n.kind || st.ino !== n.ino) this.fail(`lstat: ${kind} inode ${st.ino}; the model has ${n.kind} inode ${n.ino}`);
        if (n.kind === "file" && st.size !== n.content!.size) this.fail(`lstat: size ${st.size}; the model has ${n.content!.size}`, { ino: n.ino, size: st.size });
        if (n.kind !== "dir" || this.t.dirNlink) {
          if (st.nlink !== n.nlink) this.fail(`lstat: nlink ${st.nlink}; the model has ${n.nlink}`);
        }
        return `ok ${kind} ${st.size}`;
      }
      case "readdir": {
        const e = m.readdir(op.path);
        const got = this.attempt(() => fs.readdirSync(op.path) as string[]);
        if (!this.judge(op, e, got) || !e.ok || !got.ok) return this.outcome(got);
        if (got.value.join("/") !== e.value.join("/")) this.fail(`readdir: [${got.value.join(", ")}]; the model has [${e.value.join(", ")}]`);
        return `ok ${got.value.length}`;
      }
      case "readlink": {
        const e = m.readlink(op.path);
        const got = this.attempt(() => fs.readlinkSync(op.path) as string);
        if (this.judge(op, e, got) && e.ok && got.ok && got.value !== e.value) this.fail(`readlink: ${JSON.stringify(got.value)}; the model has ${JSON.stringify(e.value)}`);
        return this.outcome(got);
      }
      case "open": {
        const o = m.open(op.path, { creat: false, excl: false, write: true, trunc: false });
        const cursor = o.ok && o.value.node?.kind === "file" ? o.value.node.wbErr.sample() : 0;
        if (o.ok) this.cursorNode = o.value.node;
        const got = this.attempt(() => fs.openSync(op.path, O_RDWR));
        if (!this.judge(op, o, got) || !o.ok || !got.ok) return this.outcome(got);
        const node = o.value.node!;
        node.opens++;
        this.pool[op.slot] = { fd: got.value, node, cursor };
        return `ok fd ${got.value}`;
      }
      case "close": {
        const p = this.pool[op.slot]!;
        this.pool[op.slot] = null;
        const got = this.attempt(() => fs.closeSync(p.fd));
        if (!got.ok) this.fail(`close failed with ${got.code}`);
        p.node.opens--;
        m.maybeDie(p.node);
        return "ok";
      }
      case "idle": {
        const got = this.attempt(() => this.world.machine.scheduler.runFor(op.ns));
        if (!got.ok) this.fail(`background work failed with ${got.code}`);
        return "ok";
      }
      case "remount":
        this.remount();
        return "ok";
      case "mmap-shared":
      case "mmap-private":
        return this.mmap(op);
      case "load":
        return this.loadMapped(op);
      case "store":
        return this.storeMapped(op);
      case "msync": {
        const mp = this.maps[op.map]!;
        if (mp.shared) this.cursorNode = mp.node;
        const got = this.attempt(() => mp.space.msync(mp.addr, mp.length, MS_SYNC));
        this.stats.msyncs++;
        // msync(MS_SYNC) of a shared mapping is an fdatasync through the file the mapping keeps: it reports losses as fsync does.
        if (mp.shared) {
          const report = this.judgeLossReport(op, mp.node, mp.cursor, got);
          mp.cursor = report.cursor;
          if (report.explained) return "EIO (lost pages reported)";
        }
        // A private mapping has nothing to write back: msync succeeds and promises nothing.
        if (this.judge(op, { ok: true, value: undefined }, got) && got.ok && mp.shared) this.model.settleRange(mp.node, mp.off, mp.off + mp.length);
        return this.outcome(got);
      }
      case "munmap": {
        const mp = this.maps[op.map]!;
        this.maps[op.map] = null;
        const got = this.attempt(() => mp.space.munmap(mp.addr, mp.length));
        if (!got.ok) this.fail(`munmap failed with ${got.code}`);
        mp.node.opens--;
        m.maybeDie(mp.node);
        // The range is gone: an access there is SIGSEGV (unless another mapping took the range since,
        // which cannot happen within this operation).
        const after = this.attemptAccess(() => mp.space.load(mp.addr, 1));
        if (after.ok || after.code !== "SIGSEGV") this.fail(`a load from an unmapped address gave ${after.ok ? "data" : after.code}, not SIGSEGV`);
        return "ok";
      }
    }
  }

  // ── user mappings ─────────────────────────────────────────────────────────────────────────

  /** The address space of the simulated process that holds map slot `map` (two processes: even and odd slots). */
  private spaceOf(map: number): AddressSpace {
    const i = map % 2;
    this.spaces[i] ??= this.world.machine.mm.createAddressSpace(`sim-process-${i}`);
    return this.spaces[i];
  }

  /**
   * Unmaps every mapping and destroys the address spaces (process exit), as before an umount
   * (which is EBUSY while a file is mapped). Stores through shared mappings stay in the page cache.
   */
  private unmapAll(): void {
    for (let i = 0; i < this.maps.length; i++) {
      const mp = this.maps[i];
      if (!mp) continue;
      this.maps[i] = null;
      mp.node.opens--;
      this.model.maybeDie(mp.node);
    }
    for (const space of this.spaces) {
      const r = this.attempt(() => space.destroy());
      if (!r.ok) this.fail(`destroying an address space failed with ${r.code}`);
    }
    this.spaces = [];
  }

  private mmap(op: Extract<Op, { t: "mmap-shared" | "mmap-private" }>): string {
    const shared = op.t === "mmap-shared";
    const o = this.model.open(op.path, { creat: false, excl: false, write: shared, trunc: false });
    const e: Expect<MNode> = !o.ok ? o : o.value.node!.kind !== "file" ? { ok: false, code: "EACCES" } : { ok: true, value: o.value.node! };
    const request = { length: op.len, prot: PROT_READ | PROT_WRITE, flags: shared ? MAP_SHARED : MAP_PRIVATE, offset: op.off };
    const cursor = e.ok ? e.value.wbErr.sample() : 0;
    if (e.ok) this.cursorNode = e.value;
    // Creating the process's address space allocates too (ENOMEM on a tiny machine): part of the call.
    const got = this.attempt(() => {
      const space = this.spaceOf(op.map);
      return { space, addr: this.withFd(op.path, shared ? O_RDWR : O_RDONLY, (fd) => this.world.vfs.mmap(space, fd, request)) };
    });
    if (!this.judge(op, e, got) || !e.ok || !got.ok) return this.outcome(got);
    this.stats.mmaps++;
    e.value.opens++;
    const { space, addr } = got.value;
    this.maps[op.map] = { space, addr, node: e.value, off: op.off, length: op.len, shared, copies: new Map(), markers: new Set(), lostCopies: new Set(), cursor };
    return `ok 0x${addr.toString(16)}`;
  }

  /**
   * Where an access of `len` bytes at `off` in mapping `mp` lands: the file offset and the length
   * the harness uses, and whether it must fault with SIGBUS (it starts in a page past the file's
   * last page). An access that would run into such a page is cut at the end of the last page, so
   * that it either completes or faults before it does anything. A store is also cut at EOF, so
   * that it is file data or not file data as a whole; a private mapping's store that starts past
   * EOF is not made (null).
   */
  private accessRange(mp: LiveMapping, off: number, len: number, store: boolean): { pos: number; len: number; sigbus: boolean } | null {
    const size = mp.node.content!.size;
    const pos = mp.off + off;
    const pagesEnd = Math.ceil(size / PAGE) * PAGE;
    if (pos >= pagesEnd) return { pos, len, sigbus: true };
    if (!store) return { pos, len: Math.min(len, pagesEnd - pos), sigbus: false };
    if (pos >= size) return mp.shared ? { pos, len: Math.min(len, pagesEnd - pos), sigbus: false } : null;
    return { pos, len: Math.min(len, size - pos), sigbus: false };
  }

  private loadMapped(op: Extract<Op, { t: "load" }>): string {
    const mp = this.maps[op.map]!;
    const at = this.accessRange(mp, op.off, op.len, false)!;
    const addr = mp.addr + (at.pos - mp.off);
    const got = this.attemptAccess(() => mp.space.load(addr, at.len));
    const poison = at.sigbus ? null : this.poisonIn(mp, at.pos, at.len);
    const e: Expect<undefined> = at.sigbus ? { ok: false, code: "SIGBUS" } : poison === "must" ? { ok: false, code: "EHWPOISON" } : { ok: true, value: undefined };
    if (poison !== null && !got.ok && got.code === "EHWPOISON") {
      this.stats.poisonSigbus++;
      if (poison === "must") this.stats.expectedErrors++;
      return `SIGBUS EHWPOISON${poison === "may" ? " (a poison marker, or a page lost during the load)" : ""}`;
    }
    if (poison === "must" && got.ok) this.fail(`a load from a ${mp.shared ? "shared" : "private"} mapping at file offset ${at.pos} returned data, but a page it covers was lost to a memory error: it must be SIGBUS (EHWPOISON)`, { ino: mp.node.ino, offset: at.pos });
    if (!this.judge(op, e, got) || !got.ok) return this.outcome(got);
    this.stats.loads++;
    // The file's bytes (zeros past EOF in its last page), or the private copy's.
    const file = mp.node.content!.read(at.pos, at.len);
    const size = mp.node.content!.size;
    const tail = this.tailStored.get(mp.node);
    for (let i = 0; i < at.len; i++) {
      const pos = at.pos + i;
      const index = Math.floor(pos / PAGE);
      const copy = mp.shared ? undefined : mp.copies.get(index);
      // Past EOF in a page that took stores there: those bytes, or zeros (writeback zeroes them); not tracked.
      if (copy ? copy.tail && pos % PAGE >= copy.tail : pos >= size && tail === index) continue;
      const want = copy ? copy.bytes[pos % PAGE]! : (file[i] ?? 0);
      if (got.value[i] !== want) {
        this.fail(`load from a ${mp.shared ? "shared" : "private"} mapping: byte ${pos} of the file is ${got.value[i]}, the model has ${want}${copy ? " (in the mapping's private copy)" : ""}`, { ino: mp.node.ino, offset: pos });
      }
    }
    return `ok ${at.len}`;
  }

  private storeMapped(op: Extract<Op, { t: "store" }>): string {
    const mp = this.maps[op.map]!;
    const at = this.accessRange(mp, op.off, op.len, true);
    if (at === null) return "skipped (past EOF in the last page)";
    const data = fillBytes(at.len, op.seed);
    const addr = mp.addr + (at.pos - mp.off);
    const got = this.attemptAccess(() => mp.space.store(addr, data));
    const poison = at.sigbus ? null : this.poisonIn(mp, at.pos, at.len);
    const e: Expect<undefined> = at.sigbus ? { ok: false, code: "SIGBUS" } : poison === "must" ? { ok: false, code: "EHWPOISON" } : { ok: true, value: undefined };
    if (poison !== null && !got.ok && got.code === "EHWPOISON") {
      this.stats.poisonSigbus++;
      if (poison === "must") this.stats.expectedErrors++;
      return `SIGBUS EHWPOISON${poison === "may" ? " (a poison marker, or a page lost during the store)" : ""}`;
    }
    if (poison === "must" && got.ok) this.fail(`a store into a ${mp.shared ? "shared" : "private"} mapping at file offset ${at.pos} succeeded, but its page was lost to a memory error: it must be SIGBUS (EHWPOISON)`, { ino: mp.node.ino, offset: at.pos });
    if (!this.judge(op, e, got) || !got.ok) return this.outcome(got);
    this.stats.stores++;
    if (mp.shared && at.pos >= mp.node.content!.size) {
      // Past EOF in the last page: Linux lets it change the page, but those bytes are not file
      // data; should the file grow, the grown part must read as zeros (POSIX), as the model has it.
      this.tailStored.set(mp.node, Math.floor(at.pos / PAGE));
      const seen = this.mappedTails.get(mp.node.ino);
      this.mappedTails.set(mp.node.ino, { from: Math.min(seen?.from ?? at.pos, at.pos), to: Math.max(seen?.to ?? 0, at.pos + at.len) });
      return `ok ${at.len} (past EOF)`;
    }
    if (mp.shared) {
      // A store through a shared mapping is a write that never extends the file.
      this.writeModel(mp.node, at.pos, data);
      return `ok ${at.len}`;
    }
    // Copy on write: the page as the file has it now, then the store into the copy; the file is unchanged.
    const index = Math.floor(at.pos / PAGE);
    let copy = mp.copies.get(index);
    if (!copy) {
      const size = mp.node.content!.size;
      copy = { bytes: new Uint8Array(PAGE), tail: this.tailStored.get(mp.node) === index ? size - index * PAGE : 0 };
      copy.bytes.set(mp.node.content!.read(index * PAGE, PAGE));
      mp.copies.set(index, copy);
    }
    copy.bytes.set(data, at.pos % PAGE);
    return `ok ${at.len} (private copy)`;
  }

  /**
   * Whether an access to file bytes [pos, pos + len) through mapping `mp` meets a lost page:
   * "must" — SIGBUS with EHWPOISON — when a page it covers is lost (a file page the mapping has no
   * private copy of, or a private copy that was lost); "may" when a page may hold a poison marker
   * (lost earlier, replaced since, still mapped here) or was lost during this operation; else null.
   */
  private poisonIn(mp: LiveMapping, pos: number, len: number): "must" | "may" | null {
    let out: "must" | "may" | null = null;
    const racing = this.raced.length > 0 ? this.racedPages(mp.node) : null;
    for (let p = Math.floor(pos / PAGE); p * PAGE < pos + len; p++) {
      if (!mp.shared && mp.copies.has(p)) {
        if (mp.lostCopies.has(p)) return "must";
        if (this.raced.some((l) => l.mapping === undefined)) out = "may";
        continue;
      }
      if (mp.node.lost.has(p)) return "must";
      if (mp.markers.has(p) || racing?.has(p)) out = "may";
    }
    return out;
  }

  /**
   * Runs a load or a store: its value, or its outcome as a code — "SIGSEGV" or "SIGBUS" for a bad
   * address or a page past EOF (EFAULT), the cause's code (EIO, ENOMEM, ENOSPC) for a page that
   * could not be read or made writable, so that the fault outcomes are judged as other calls' are.
   */
  private attemptAccess<T>(fn: () => T): Outcome<T> {
    try {
      return { ok: true, value: fn() };
    } catch (e) {
      if (e instanceof PowerCut || this.world.powerCut) throw new Crashed();
      if (e instanceof MemoryAccessError) return { ok: false, code: e.code === "EFAULT" ? e.signal : `${e.code}${e.signal === "SIGBUS" ? "" : `/${e.signal}`}` };
      if (isFolioError(e)) return { ok: false, code: e.code };
      return this.fail(`threw ${describe(e)}`);
    }
  }

  private writeModel(node: MNode, off: number, data: Uint8Array): void {
    if (data.length === 0) return;
    if (this.model.sticky) node.uncertain = true;
    const before = node.content!.size;
    node.content!.write(off, data);
    node.touch(off, off + data.length, before);
    if (node.content!.size !== before) this.tailStored.delete(node);
    if (node.lost.size > 0) {
      // New data replacing a lost page whole ends its loss; the last page counts whole up to EOF.
      const end = off + data.length;
      const size = node.content!.size;
      const last = end >= size ? Math.max(Math.floor(end / PAGE), Math.ceil(size / PAGE)) : Math.floor(end / PAGE);
      for (let p = Math.ceil(off / PAGE); p < last; p++) node.lost.delete(p);
    }
  }

  private truncateModel(node: MNode, size: number): void {
    if (this.model.sticky) node.uncertain = true;
    const before = node.content!.size;
    if (before === size) return;
    node.content!.truncate(size);
    node.touch(Math.min(before, size), Infinity, before);
    // A size change zeroes the old last page past EOF (truncate) or must expose zeros (growth).
    this.tailStored.delete(node);
    // Truncation unmaps the pages past the new last page, private copies and poison markers too
    // (truncate_pagecache); lost pages removed are lost no more.
    const pages = Math.ceil(size / PAGE);
    for (const p of node.lost) if (p >= pages) node.lost.delete(p);
    for (const mp of this.maps) {
      if (mp?.node !== node) continue;
      for (const index of mp.copies.keys()) if (index >= pages) mp.copies.delete(index);
      if (size < before) {
        for (const index of mp.markers) if (index >= pages) mp.markers.delete(index);
        for (const index of mp.lostCopies) if (index >= pages) mp.lostCopies.delete(index);
      }
    }
  }

  /**
   * What lost pages allow of a read of `len` bytes at `off` (the model's length, within the file):
   * EIO when its first page is lost (`mustEio`), or lost during this operation (`mayEio`); else it
   * must stop at the first lost page (`end`, bytes), and may stop at a page lost during it (`mayEnds`).
   */
  private lostInRead(node: MNode, off: number, len: number): { mustEio: boolean; mayEio: boolean; end: number; mayEnds: Set<number> } | null {
    const racing = this.racedPages(node);
    if (len <= 0 || (node.lost.size === 0 && racing.size === 0)) return null;
    const out = { mustEio: false, mayEio: false, end: len, mayEnds: new Set<number>() };
    const first = Math.floor(off / PAGE);
    for (let p = first; p * PAGE < off + len; p++) {
      if (node.lost.has(p)) {
        if (p === first) out.mustEio = true;
        else out.end = p * PAGE - off;
        break;
      }
      if (racing.has(p)) {
        if (p === first) out.mayEio = true;
        else out.mayEnds.add(p * PAGE - off);
      }
    }
    return out;
  }

  /** Pages of `node` lost while the current operation runs (not yet applied to the model). */
  private racedPages(node: MNode): Set<number> {
    const out = new Set<number>();
    for (const l of this.raced) if (l.mapping && this.nodeOf(l.mapping) === node) out.add(l.index);
    return out;
  }

  private withFd<T>(path: string, flags: number, fn: (fd: number) => T): T {
    const fs = this.world.fs;
    const fd = fs.openSync(path, flags, 0o644);
    try {
      return fn(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  private readAt(fd: number, off: number, len: number): Uint8Array {
    const buf = new Uint8Array(len);
    const n = this.world.fs.readSync(fd, buf, 0, len, off);
    return buf.subarray(0, n);
  }

  // ── outcomes ───────────────────────────────────────────────────────────────────────────────

  /** Runs a filesystem call: its value or its error code. A power cut unwinds; anything that is not an fs error is a violation. */
  private attempt<T>(fn: () => T): Outcome<T> {
    try {
      return { ok: true, value: fn() };
    } catch (e) {
      if (e instanceof PowerCut || this.world.powerCut) throw new Crashed();
      if (isFolioError(e)) return { ok: false, code: e.code };
      return this.fail(`threw ${describe(e)}`);
    }
  }

  /** Runs a call that must succeed; returns its value. */
  private expectOk<T>(what: string, fn: () => T): T {
    const r = this.attempt(fn);
    if (!r.ok) return this.fail(`${what} failed with ${r.code}`);
    return r.value;
  }

  /** Is `code` a legal fault outcome now? (EIO: after an injected I/O error, or a memory error that made any call able to fail.) */
  private legal(code: string, readOnly: boolean): boolean {
    if (code === "EIO") return this.world.injected > 0 || this.memEio;
    if (code === "ENOMEM") return this.tiny;
    if (code === "ENOSPC") return !readOnly;
    return false;
  }

  /**
   * Compares the filesystem's outcome with the model's prediction. True when they agree and the
   * model should apply the operation (both succeeded); false when nothing is to be applied (both
   * failed alike, or the filesystem failed with a legal fault outcome).
   */
  private judge(op: Op, e: Expect<unknown>, got: Outcome<unknown>): boolean {
    if (got.ok && e.ok) return true;
    if (!got.ok) {
      if (!e.ok && e.code === got.code) {
        this.stats.expectedErrors++;
        return false;
      }
      if (this.legal(got.code, READ_ONLY.has(op.t))) {
        if (got.code === "EIO") this.stats.eio++;
        else if (got.code === "ENOMEM") this.stats.enomem++;
        else this.stats.enospc++;
        this.faulted = got.code;
        return false;
      }
    }
    if (!got.ok) this.unexpected = { code: got.code, tiny: this.tiny, injected: this.world.injected };
    return this.fail(`expected ${e.ok ? "success" : e.code}, got ${got.ok ? "success" : got.code}`);
  }

  /**
   * After an operation failed with EIO, ENOMEM or ENOSPC, the names and files it touched must be
   * as they were (the model did not change): same inode, type, size and link count.
   */
  private probe(op: Op, code: string): void {
    const fs = this.world.fs;
    const m = this.model;
    const paths = "path" in op ? [op.path] : "from" in op ? [op.from, op.to] : [];
    const check = (what: string, node: MNode | null, st: { ino: number; mode: number; size: number; nlink: number } | null) => {
      let diff: string | null = null;
      if ((node === null) !== (st === null)) diff = node === null ? `now exists (inode ${st!.ino})` : "is gone";
      else if (node && st) {
        if (st.ino !== node.ino || kindOf(st.mode) !== node.kind) diff = `is now ${kindOf(st.mode)} inode ${st.ino}, was ${node.kind} inode ${node.ino}`;
        else if (node.kind === "file" && st.size !== node.content!.size) diff = `has size ${st.size}, was ${node.content!.size}`;
        else if ((node.kind !== "dir" || this.t.dirNlink) && st.nlink !== node.nlink) diff = `has nlink ${st.nlink}, was ${node.nlink}`;
      }
      if (diff === null) return;
      this.halfDone = {
        op: op.t, code, lastName: evicts,
        ino: node?.ino ?? st!.ino, size: st?.size, asked: "size" in op ? op.size : op.t === "create" && op.trunc ? 0 : undefined,
      };
      this.fail(`${formatOp(op)} failed with ${code}, but ${what} ${diff} (an error must leave nothing changed)`, { ino: node?.ino ?? st!.ino, size: st?.size });
    };
    // Did the operation, had it succeeded, drop an inode's last name (so the VFS evicts it in the call)?
    const last = (n: MNode) => n.isDir || (n.nlink === 1 && n.opens === 0);
    let evicts = false;
    if (op.t === "unlink" || op.t === "rmdir") {
      const e = m.lookup(op.path);
      evicts = e.ok && last(e.value);
    } else if (op.t === "rename") {
      const a = m.lookup(op.from);
      const b = m.lookup(op.to);
      evicts = a.ok && b.ok && a.value !== b.value && last(b.value);
    }
    for (const p of paths) {
      const e = m.lookup(p);
      if (!e.ok && e.code !== "ENOENT") continue;
      const r = this.attempt(() => fs.lstatSync(p));
      if (!r.ok && r.code !== "ENOENT") continue; // cannot look (a fault again)
      check(p, e.ok ? e.value : null, r.ok ? r.value : null);
    }
    if ("slot" in op && op.t !== "open" && op.t !== "close") {
      const slot = this.pool[op.slot];
      if (slot) {
        const r = this.attempt(() => fs.fstatSync(slot.fd));
        if (r.ok) check(`descriptor [${op.slot}]`, slot.node, r.value);
      }
    }
  }

  /**
   * An fsync (or msync) of `node` through a file whose error cursor was `cursor`: if a page was
   * lost since the file's last report, it must fail with EIO (once per open file). Returns the
   * file's cursor afterwards, and whether the model explains an EIO (a loss to report); an EIO it
   * does not explain is left to {@link judge}.
   */
  private judgeLossReport(op: Op, node: MNode, cursor: number, got: Outcome<unknown>): { cursor: number; explained: boolean } {
    const pending = node.wbErr.pending(cursor);
    if (!got.ok && got.code === "EIO") {
      if (pending) this.stats.lossReports++;
      return { cursor: node.wbErr.advance(), explained: pending || !node.wbErrKnown };
    }
    if (got.ok && node.wbErrKnown && pending) {
      this.fail(`${formatOp(op)} succeeded, but pages of inode ${node.ino} (${[...node.lost].slice(0, 8).join(", ") || "since replaced"}) were lost to a memory error since this file last reported an error: the next fsync must fail with EIO`);
    }
    return { cursor, explained: false };
  }

  private outcome(got: Outcome<unknown>): string {
    return got.ok ? "ok" : got.code;
  }

  private fail(message: string, where?: Where): never {
    if (this.violation === null) {
      const ops = Math.min(this.cfg.ops, this.opIndex + 1);
      const known = classify({ fs: this.cfg.fs, where, fsckProblems: this.recoveryFsck, staleTails: this.staleTails, failedTruncates: this.failedTruncates, mappedTails: this.mappedTails, fsckAfterRepair: this.fsckAfterRepair, halfDone: this.halfDone, unexpected: this.unexpected });
      this.violation = {
        fs: this.cfg.fs, seed: this.cfg.seed, op: this.opIndex, opText: this.opText, message,
        replay: replayCommand(this.cfg.fs, this.cfg.seed, ops, this.cfg.faults, this.cfg.policy, this.cfg.pressure, this.maxOrder), known: known?.id ?? null,
      };
      this.note(`VIOLATION${known ? ` (known bug ${known.id})` : ""}: ${message}`);
    }
    throw STOP;
  }

  /** Runs a step; a violation (already recorded) ends it. An exception of the harness itself is reported as one. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (e === STOP) return;
      try {
        // A power cut while checking (a timer armed earlier): recover, the checks come again later.
        if (e instanceof Crashed) this.recover(true);
        else this.fail(`harness error (a bug in @folio/sim, or an exception it did not expect): ${describe(e)}`);
      } catch (e2) {
        if (e2 !== STOP) throw e2;
      }
    }
  }

  private note(outcome: string): void {
    const line = `${this.opIndex} ${this.opText} -> ${outcome}`;
    this.logHash = hashString(this.logHash, line);
    if (this.cfg.keepLog) this.log.push(line);
  }

  // ── reading the tree back ──────────────────────────────────────────────────────────────────

  /**
   * Reads the whole tree through the VFS. With `tolerant`, a file or directory that cannot be read
   * with a legal fault outcome (ENOMEM on a tiny machine, EIO once an error was injected) is left
   * unknown, and `complete` is false.
   */
  private readView(tolerant: boolean, live = false): { view: View; complete: boolean } {
    const fs = this.world.fs;
    const byIno = new Map<number, { node: ViewNode; path: string }>();
    let complete = true;
    const read = <T>(what: string, fn: () => T): T | undefined => {
      const r = this.attempt(fn);
      if (r.ok) return r.value;
      if (tolerant && this.legal(r.code, true)) {
        complete = false;
        return undefined;
      }
      this.unexpected = { code: r.code, tiny: this.tiny, injected: this.world.injected };
      return this.fail(`reading the tree back: ${what} failed with ${r.code}`);
    };
    const nodeAt = (path: string): ViewNode | undefined => {
      const st = read(`lstat ${path}`, () => fs.lstatSync(path));
      if (!st) return undefined;
      const seen = byIno.get(st.ino);
      if (seen) {
        if (seen.node.kind === "dir") this.fail(`directory inode ${st.ino} has two names: ${seen.path} and ${path}`);
        return seen.node;
      }
      const node: ViewNode = { ino: st.ino, kind: kindOf(st.mode), nlink: st.nlink, size: st.size };
      byIno.set(st.ino, { node, path });
      const known = live && node.kind === "file" ? this.model.lookup(path) : null;
      if (known?.ok && known.value.ino === st.ino && known.value.lost.size > 0) {
        node.bytes = this.readAroundLost(path, known.value, st.size);
        if (node.bytes === undefined) complete = false;
      } else if (node.kind === "file") node.bytes = read(`read ${path}`, () => fs.readFileSync(path)) as Uint8Array | undefined;
      else if (node.kind === "symlink") node.target = read(`readlink ${path}`, () => fs.readlinkSync(path) as string);
      else {
        node.entries = new Map();
        const names = read(`readdir ${path}`, () => fs.readdirSync(path) as string[]);
        if (names === undefined) node.partial = true;
        for (const name of names ?? []) {
          const child = nodeAt(path === "/" ? `/${name}` : `${path}/${name}`);
          if (child) node.entries.set(name, child);
          else node.partial = true;
        }
      }
      return node;
    };
    const root = nodeAt("/")!;
    return { view: { root, byIno }, complete };
  }

  /**
   * Differences between the tree read back and the model. `onDisk`: the tree came from the disk
   * (after a remount), so what a failed write may have left stale (`uncertain`) is not compared.
   */
  private compareTree(view: View, onDisk: boolean): Problem[] {
    const out: Problem[] = [];
    const skip = (n: MNode) => onDisk && n.uncertain;
    const walk = (m: MNode, v: ViewNode, path: string) => {
      const mine = sortNames([...m.entries!.keys()]);
      const theirs = sortNames([...v.entries!.keys()]);
      if (!skip(m) && !v.partial && mine.join("/") !== theirs.join("/") && out.length < 8) out.push({ msg: `${path}: entries [${theirs.join(", ")}]; the model has [${mine.join(", ")}]` });
      for (const name of mine) {
        const mc = m.entries!.get(name)!;
        const vc = v.entries!.get(name);
        if (!vc || skip(mc)) continue;
        const p = path === "/" ? `/${name}` : `${path}/${name}`;
        if (vc.ino !== mc.ino || vc.kind !== mc.kind) {
          out.push({ msg: `${p}: ${vc.kind} inode ${vc.ino}; the model has ${mc.kind} inode ${mc.ino}` });
          continue;
        }
        if ((mc.kind !== "dir" || this.t.dirNlink) && vc.nlink !== mc.nlink) out.push({ msg: `${p}: nlink ${vc.nlink}; the model has ${mc.nlink}` });
        if (mc.kind === "file" && vc.bytes !== undefined) {
          const want = mc.content!.bytes();
          const at = firstDifference(vc.bytes, want);
          if (at >= 0) {
            const where = vc.bytes.length !== want.length ? { ino: mc.ino, size: vc.bytes.length } : { ino: mc.ino, offset: at };
            out.push({ msg: `${p}: ${vc.bytes.length} bytes, the model ${want.length}; first difference at byte ${at}`, where });
          }
        } else if (mc.kind === "symlink" && vc.target !== undefined && vc.target !== mc.target) {
          out.push({ msg: `${p}: symlink to ${JSON.stringify(vc.target)}; the model has ${JSON.stringify(mc.target)}` });
        } else if (mc.kind === "dir") {
          walk(mc, vc, p);
        }
      }
    };
    if (view.root.ino !== this.model.root.ino) out.push({ msg: `root is inode ${view.root.ino}; the model has ${this.model.root.ino}` });
    walk(this.model.root, view.root, "/");
    return out;
  }

  /**
   * Replaces the model with the tree read back; everything in it is durable. After a crash
   * (`afterCrash`) link counts must match the names found (fsck fixed them).
   */
  private relearn(view: View, afterCrash: boolean): void {
    if (this.t.staleTails) this.staleTails = this.t.staleTails(this.store.bytes);
    this.failedTruncates.clear();
    this.tailStored.clear();
    const m = this.model;
    m.reset(view.root.ino);
    const made = new Map<number, MNode>([[view.root.ino, m.root]]);
    const names = new Map<number, number>();
    const walk = (dir: MNode, v: ViewNode) => {
      let subdirs = 0;
      for (const [name, vc] of v.entries!) {
        names.set(vc.ino, (names.get(vc.ino) ?? 0) + 1);
        let n = made.get(vc.ino);
        if (!n) {
          n = m.newNode(vc.ino, vc.kind);
          made.set(vc.ino, n);
          if (vc.kind === "file") n.content = Content.of(vc.bytes!);
          if (vc.kind === "symlink") n.target = vc.target!;
        }
        dir.entries!.set(name, n);
        if (n.isDir) {
          subdirs++;
          n.parent = dir;
          walk(n, vc);
        } else {
          n.nlink = vc.nlink;
        }
      }
      dir.nlink = 2 + subdirs;
      if (this.t.dirNlink && v.nlink !== dir.nlink) this.fail(`directory inode ${v.ino} has nlink ${v.nlink} with ${subdirs} subdirectories`);
    };
    walk(m.root, view.root);
    for (const [ino, count] of names) {
      const n = made.get(ino)!;
      if (afterCrash && !n.isDir && n.nlink !== count) this.fail(`inode ${ino} has nlink ${n.nlink} but ${count} names after fsck`);
    }
    m.changed();
    m.settleAll();
  }

  private viewHash(view: View): number {
    let h = 2166136261;
    const walk = (v: ViewNode, path: string) => {
      h = hashString(h, path);
      h = hashNumber(h, v.ino);
      h = hashNumber(h, v.nlink);
      h = hashString(h, v.kind);
      if (v.bytes) h = hashBytes(v.bytes, hashNumber(h, v.bytes.length));
      if (v.target) h = hashString(h, v.target);
      if (v.entries) for (const name of sortNames([...v.entries.keys()])) walk(v.entries.get(name)!, `${path}/${name}`);
    };
    walk(view.root, "");
    return h;
  }
}

function summary(problems: Problem[]): string {
  return `${problems.slice(0, 4).map((p) => p.msg).join("; ")}${problems.length > 4 ? ` (+${problems.length - 4} more)` : ""}`;
}

function kindOf(mode: number): Kind {
  const t = mode & S_IFMT;
  return t === S_IFDIR ? "dir" : t === S_IFLNK ? "symlink" : "file";
}

function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}${(e as { code?: string }).code ? ` [${(e as { code?: string }).code}]` : ""}: ${e.message.split("\n")[0]}`;
  return String(e);
}

/** The rates of a named profile. */
export function profile(name: string): FaultRates {
  const p = FAULT_PROFILES[name];
  if (!p) throw new Error(`unknown fault profile ${name}`);
  return { ...p };
}
