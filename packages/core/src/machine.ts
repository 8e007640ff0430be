import "reflect-metadata";
import { container as globalContainer, instancePerContainerCachingFactory, type DependencyContainer } from "tsyringe";
import { fail } from "./errors.js";
import { PAGE_SIZE, checkInt, parseSize } from "./units.js";
import { TOKENS } from "./tokens.js";
import { PhysicalMemory } from "./mm/physmem.js";
import { MemMap } from "./mm/memmap.js";
import { VmStat } from "./mm/vmstat.js";
import { PageAllocator } from "./mm/page-alloc.js";
import { MemoryAllocator, SlabAllocator } from "./mm/slab.js";
import { FolioTable } from "./mm/folio.js";
import { HugetlbPool } from "./mm/hugetlb.js";
import { Vmalloc } from "./mm/vmalloc.js";
import { OwnerRegistry } from "./mm/page-owner.js";
import { describeFrame, type FrameDescription } from "./mm/describe.js";
import { verifyMemory } from "./mm/verify.js";
import {
  buddyinfo, extfrag, formatBuddyinfo, formatExtfrag, formatMeminfo, formatPagetypeinfo, meminfo, pagetypeinfo, type Extfrag, type Meminfo, type PageTypeInfo,
} from "./mm/reports.js";
import { DEFAULT_EVICTION_POLICY, createEvictionPolicy, evictionPolicyNames, type EvictionPolicy } from "./mm/eviction.js";
import { Reclaim } from "./mm/reclaim.js";
import { AnonMemory } from "./mm/anon.js";
import { UserMemory } from "./mm/mmap/user-memory.js";
import type { TransparentHugepageMode } from "./mm/mmap/constants.js";
import { Migration } from "./mm/migrate.js";
import { Compaction, DEFAULT_COMPACTION_PROACTIVENESS } from "./mm/compaction.js";
import { MemoryFailure } from "./mm/memory-failure.js";
import { Tracer } from "./trace.js";
import "./mm/lru/linux.js";
import { Rng } from "./engine/rng.js";
import { Scheduler } from "./engine/scheduler.js";

/** Smallest machine: 1 MiB (256 frames). */
export const MIN_MEMORY = 1 << 20;
/** Largest machine: 16 GiB. */
export const MAX_MEMORY = 16 * 2 ** 30;

/** How to build a machine. */
export interface MachineConfig {
  /** Physical memory: `"256MiB"`, `"4GiB"`, or bytes. A multiple of 4 KiB in [1 MiB, 16 GiB]. */
  memory: string | number;
  /** Seed of every random choice the machine makes (default 1). */
  seed?: number;
  /** Huge pages to put in the hugetlb pool at boot (default 0). */
  hugePages?: number;
  /** Overrides the min watermark, in pages. */
  minFreePages?: number;
  /** Wall-clock time at boot, in ms since 1970 (default 2026-01-01T00:00:00Z): file times start here. */
  epochMs?: number;
  /**
   * The eviction policy reclaim uses, by registered name (default `"linux"`: Linux's two lists with
   * workingset detection; `@folio/policies` registers more). A container that registers
   * `TOKENS.EvictionPolicy` itself overrides this.
   */
  evictionPolicy?: string;
  /**
   * Whether the machine compacts memory by itself (CONFIG_COMPACTION): direct compaction when a
   * high-order allocation fails, and kcompactd (default true). `machine.compaction.compact()` works
   * either way.
   */
  compaction?: boolean;
  /**
   * `vm.compaction_proactiveness`, 0..100 (default 20): kcompactd compacts in the background while
   * the fragmentation score is above 100 − proactiveness + 10, down to 100 − proactiveness. 0
   * turns proactive compaction off.
   */
  compactionProactiveness?: number;
  /**
   * When anonymous faults may get transparent huge pages (default `"madvise"`, most distributions'
   * choice: only in ranges advised MADV_HUGEPAGE; `"always"`: everywhere but MADV_NOHUGEPAGE;
   * `"never"`). Changeable later with `machine.mm.setTransparentHugepage`.
   */
  transparentHugepage?: TransparentHugepageMode;
  /** The large folio orders anonymous faults may use, each 1..9 (default [9]: 2 MiB only; smaller ones are mTHP sizes). */
  transparentHugepageOrders?: readonly number[];
}

/**
 * One simulated machine: physical memory, its struct page table and allocators, counters, and
 * the clock and scheduler that drive everything on it.
 *
 * Each machine is its own child container of the DI container: its services are registered
 * container-scoped and resolved once, so two machines in one process share nothing. Packages
 * built on core (page cache, filesystems, devices) register their own services in
 * {@link container} and receive these by the tokens in {@link TOKENS}.
 */
export class Machine {
  /** The machine's DI container. */
  readonly container: DependencyContainer;
  /** The {@link MachineConfig} as booted, every default filled in. */
  readonly config: Readonly<Required<Omit<MachineConfig, "memory">> & {
    /** Memory size in bytes, parsed from the config's size. */
    memory: number;
  }>;
  /** The simulated RAM: one byte array per section, addressed by physical address. */
  readonly memory: PhysicalMemory;
  /** The struct page table: memdesc type, flags, order and reference of every frame. */
  readonly memmap: MemMap;
  /** The counters (/proc/vmstat gauges and events) every subsystem of this machine updates. */
  readonly vmstat: VmStat;
  /**
   * The buddy page allocator with per-CPU lists, watermarks and the slow path (reclaim,
   * compaction).
   */
  readonly pages: PageAllocator;
  /** The slab allocator: kmem caches of small fixed-size objects, descriptors included. */
  readonly slab: SlabAllocator;
  /** kmalloc/kfree: the one entry point for kernel memory of any size. */
  readonly kmem: MemoryAllocator;
  /** Folio descriptors and their life cycle; every folio handle on this machine is one of its. */
  readonly folios: FolioTable;
  /** The hugetlb pool of 2 MiB pages, sized by `hugePages` at boot. */
  readonly hugetlb: HugetlbPool;
  /** vmalloc and vmap: virtually contiguous kernel areas over scattered frames. */
  readonly vmalloc: Vmalloc;
  /**
   * Owner ids → {@link PageOwner}s: who answers for a folio's frames (`dirty`, `migrate`,
   * `release`).
   */
  readonly owners: OwnerRegistry;
  /**
   * The machine's root random stream, seeded by `seed`; subsystems fork their own streams from it.
   */
  readonly rng: Rng;
  /** The virtual clock and event queue; every delay on this machine is an event in it. */
  readonly scheduler: Scheduler;
  /** Tracepoints: typed events, off by default (`trace.enable([...], sink)`). */
  readonly trace: Tracer;
  /** Reclaim: the LRU of reclaimable folios, kswapd, direct reclaim, shrinkers, OOM reports. */
  readonly reclaim: Reclaim;
  /** Anonymous memory and its swap area. */
  readonly anon: AnonMemory;
  /** User memory: address spaces (`mm.createAddressSpace`), page tables, page faults and the reverse map. */
  readonly mm: UserMemory;
  /** Migration: moving a folio to other frames through its owner's `migrate` (compaction, offlining). */
  readonly migration: Migration;
  /** Compaction: direct, on request (`compact`) and proactive (kcompactd). */
  readonly compaction: Compaction;
  /** Memory failure: hard offline (`hardOffline`), soft offline (`softOffline`) and `unpoison` of frames. */
  readonly memoryFailure: MemoryFailure;

  private constructor(config: MachineConfig, parent: DependencyContainer) {
    const bytes = parseSize(config.memory, "memory size");
    if (bytes % PAGE_SIZE !== 0) throw fail("EINVAL", `memory size ${bytes} is not a multiple of the 4KiB frame size`);
    if (bytes < MIN_MEMORY || bytes > MAX_MEMORY) throw fail("EINVAL", `memory size ${bytes} is outside [1MiB, 16GiB]`);
    const seed = config.seed ?? 1;
    checkInt(seed, 0, 0xffffffff, "seed");
    const epochMs = config.epochMs ?? 1_767_225_600_000;
    checkInt(epochMs, 0, 2 ** 45, "epochMs");
    const policyName = config.evictionPolicy ?? DEFAULT_EVICTION_POLICY;
    if (typeof policyName !== "string") throw fail("EINVAL", "evictionPolicy must be the name of a registered eviction policy");
    const compaction = config.compaction ?? true;
    if (typeof compaction !== "boolean") throw fail("EINVAL", "compaction must be true or false");
    const compactionProactiveness = checkInt(config.compactionProactiveness ?? DEFAULT_COMPACTION_PROACTIVENESS, 0, 100, "compactionProactiveness");
    const transparentHugepage = config.transparentHugepage ?? "madvise";
    const transparentHugepageOrders = config.transparentHugepageOrders ?? [9];
    this.config = { memory: bytes, seed, hugePages: config.hugePages ?? 0, minFreePages: config.minFreePages ?? -1, epochMs, evictionPolicy: policyName,
      compaction, compactionProactiveness, transparentHugepage, transparentHugepageOrders };
    const c = (this.container = parent.createChildContainer());
    const reg = <T>(token: symbol, make: (c: DependencyContainer) => T) =>
      c.register<T>(token, { useFactory: instancePerContainerCachingFactory<T>(make) });
    c.register(TOKENS.Config, { useValue: this.config });
    c.register(TOKENS.Machine, { useValue: this });
    reg(TOKENS.PhysicalMemory, () => new PhysicalMemory(bytes));
    reg(TOKENS.MemMap, () => new MemMap(bytes / PAGE_SIZE));
    reg(TOKENS.VmStat, () => new VmStat());
    reg(TOKENS.Rng, () => new Rng(seed));
    reg(TOKENS.Scheduler, (r) => new Scheduler(r.resolve<Rng>(TOKENS.Rng).fork()));
    reg(TOKENS.OwnerRegistry, () => new OwnerRegistry());
    reg(TOKENS.Tracer, (r) => new Tracer(() => r.resolve<Scheduler>(TOKENS.Scheduler).now));
    reg(TOKENS.PageAllocator, (r) =>
      new PageAllocator(r.resolve(TOKENS.PhysicalMemory), r.resolve(TOKENS.MemMap), r.resolve(TOKENS.VmStat),
        { trace: r.resolve(TOKENS.Tracer), ...(config.minFreePages !== undefined ? { minFreePages: config.minFreePages } : {}) }));
    reg(TOKENS.SlabAllocator, (r) => new SlabAllocator(r.resolve(TOKENS.PhysicalMemory), r.resolve(TOKENS.MemMap), r.resolve(TOKENS.PageAllocator), r.resolve(TOKENS.VmStat)));
    reg(TOKENS.MemoryAllocator, (r) => new MemoryAllocator(r.resolve(TOKENS.SlabAllocator), r.resolve(TOKENS.PageAllocator), r.resolve(TOKENS.MemMap), r.resolve(TOKENS.VmStat)));
    reg(TOKENS.FolioTable, (r) => new FolioTable(r.resolve(TOKENS.PhysicalMemory), r.resolve(TOKENS.MemMap), r.resolve(TOKENS.PageAllocator), r.resolve(TOKENS.SlabAllocator), r.resolve(TOKENS.VmStat)));
    reg(TOKENS.HugetlbPool, (r) => new HugetlbPool(r.resolve(TOKENS.FolioTable), r.resolve(TOKENS.VmStat)));
    reg(TOKENS.Vmalloc, (r) =>
      new Vmalloc(r.resolve(TOKENS.PhysicalMemory), r.resolve(TOKENS.MemMap), r.resolve(TOKENS.PageAllocator), r.resolve(TOKENS.SlabAllocator),
        r.resolve(TOKENS.MemoryAllocator), r.resolve(TOKENS.FolioTable), r.resolve(TOKENS.VmStat)));

    if (!c.isRegistered(TOKENS.EvictionPolicy, true)) {
      c.register(TOKENS.EvictionPolicy, {
        useFactory: instancePerContainerCachingFactory<EvictionPolicy>(() => {
          const policy = createEvictionPolicy(policyName);
          if (!policy) throw fail("EINVAL", `unknown eviction policy "${policyName}" (registered: ${evictionPolicyNames().join(", ")})`);
          return policy;
        }),
      });
    }
    // Anonymous folios get their own instance of the policy (Linux keeps separate anon and file lists).
    const anonPolicy = () => {
      const p = createEvictionPolicy(policyName);
      if (!p) throw fail("EINVAL", `unknown eviction policy "${policyName}" (registered: ${evictionPolicyNames().join(", ")})`);
      return p;
    };
    reg(TOKENS.Reclaim, (r) =>
      new Reclaim(r.resolve(TOKENS.EvictionPolicy), anonPolicy(), r.resolve(TOKENS.FolioTable), r.resolve(TOKENS.PageAllocator), r.resolve(TOKENS.OwnerRegistry),
        r.resolve(TOKENS.VmStat), r.resolve(TOKENS.Scheduler), r.resolve(TOKENS.Tracer)));
    reg(TOKENS.AnonMemory, (r) => {
      const anon = new AnonMemory(r.resolve(TOKENS.FolioTable), r.resolve(TOKENS.Reclaim), r.resolve(TOKENS.OwnerRegistry), r.resolve(TOKENS.VmStat), r.resolve(TOKENS.Scheduler));
      r.resolve<Reclaim>(TOKENS.Reclaim).swapFree = () => (anon.swap ? anon.swap.slots - anon.swap.inUse : -1);
      return anon;
    });
    reg(TOKENS.UserMemory, (r) => {
      const mm = new UserMemory(r.resolve(TOKENS.PhysicalMemory), r.resolve(TOKENS.MemMap), r.resolve(TOKENS.PageAllocator), r.resolve(TOKENS.FolioTable),
        r.resolve(TOKENS.OwnerRegistry), r.resolve(TOKENS.Reclaim), r.resolve(TOKENS.AnonMemory), r.resolve(TOKENS.VmStat));
      // Reclaim reaches mapped folios through the reverse map: it is built after reclaim, so it plugs in here.
      r.resolve<Reclaim>(TOKENS.Reclaim).rmap = mm.rmap;
      mm.hugetlb = r.resolve<HugetlbPool>(TOKENS.HugetlbPool);
      mm.setTransparentHugepage(transparentHugepage, transparentHugepageOrders);
      return mm;
    });
    reg(TOKENS.Migration, (r) => {
      const migration = new Migration(r.resolve(TOKENS.FolioTable), r.resolve(TOKENS.MemMap), r.resolve(TOKENS.OwnerRegistry), r.resolve(TOKENS.VmStat), r.resolve(TOKENS.Tracer));
      migration.rmap = r.resolve<UserMemory>(TOKENS.UserMemory).rmap;
      migration.reclaim = r.resolve<Reclaim>(TOKENS.Reclaim);
      r.resolve<AnonMemory>(TOKENS.AnonMemory).splitter = migration;
      return migration;
    });
    reg(TOKENS.Compaction, (r) =>
      new Compaction(r.resolve(TOKENS.PageAllocator), r.resolve(TOKENS.FolioTable), r.resolve(TOKENS.MemMap), r.resolve(TOKENS.Migration), r.resolve(TOKENS.VmStat),
        r.resolve(TOKENS.Scheduler), r.resolve(TOKENS.Tracer), { enabled: compaction, proactiveness: compactionProactiveness }));
    reg(TOKENS.MemoryFailure, (r) => {
      const mm = r.resolve<UserMemory>(TOKENS.UserMemory);
      const mf = new MemoryFailure(r.resolve(TOKENS.MemMap), r.resolve(TOKENS.PageAllocator), r.resolve(TOKENS.FolioTable), r.resolve(TOKENS.HugetlbPool),
        r.resolve(TOKENS.OwnerRegistry), mm, r.resolve(TOKENS.Migration), r.resolve(TOKENS.VmStat), r.resolve(TOKENS.Scheduler), r.resolve(TOKENS.Tracer));
      // Built after the subsystems that ask it for help: they get it here.
      mm.memoryFailure = mf;
      r.resolve<AnonMemory>(TOKENS.AnonMemory).memoryFailure = mf;
      return mf;
    });

    // Resolve in a fixed order, so slab caches are created in the same order on every boot.
    this.rng = c.resolve(TOKENS.Rng);
    this.scheduler = c.resolve(TOKENS.Scheduler);
    this.trace = c.resolve(TOKENS.Tracer);
    this.memory = c.resolve(TOKENS.PhysicalMemory);
    this.memmap = c.resolve(TOKENS.MemMap);
    this.vmstat = c.resolve(TOKENS.VmStat);
    this.owners = c.resolve(TOKENS.OwnerRegistry);
    this.pages = c.resolve(TOKENS.PageAllocator);
    this.slab = c.resolve(TOKENS.SlabAllocator);
    this.kmem = c.resolve(TOKENS.MemoryAllocator);
    this.folios = c.resolve(TOKENS.FolioTable);
    this.hugetlb = c.resolve(TOKENS.HugetlbPool);
    this.vmalloc = c.resolve(TOKENS.Vmalloc);
    this.reclaim = c.resolve(TOKENS.Reclaim);
    this.anon = c.resolve(TOKENS.AnonMemory);
    this.mm = c.resolve(TOKENS.UserMemory);
    this.migration = c.resolve(TOKENS.Migration);
    this.compaction = c.resolve(TOKENS.Compaction);
    this.memoryFailure = c.resolve(TOKENS.MemoryFailure);
    const policy = this.reclaim.policy;
    if (policy.counters) this.vmstat.addSource(() => policy.counters!());
    if (this.config.hugePages > 0) this.hugetlb.setPoolSize(this.config.hugePages);
  }

  /**
   * Boots a machine. `parent` is the container whose registrations (filesystem types, policies,
   * devices) the machine inherits; by default the global one, which must hold no machine state.
   * Throws EINVAL naming the bad setting.
   */
  static boot(config: MachineConfig, parent: DependencyContainer = globalContainer): Machine {
    if (typeof config !== "object" || config === null) throw fail("EINVAL", "machine config must be an object such as { memory: \"64MiB\" }");
    return new Machine(config, parent);
  }

  /**
   * Wall-clock time in nanoseconds since 1970: the boot epoch plus virtual time. Filesystems
   * stamp inodes with it; it never reads the host clock, so runs replay exactly.
   */
  wallClockNs(): number {
    return this.config.epochMs * 1e6 + this.scheduler.now;
  }

  /** Number of frames. */
  get frames(): number {
    return this.memmap.frames;
  }

  /** What frame `pfn` holds and who owns it, from its struct page alone. Throws EINVAL for a bad pfn. */
  describe(pfn: number): FrameDescription {
    return describeFrame({ map: this.memmap, pages: this.pages, folios: this.folios, slab: this.slab, vmalloc: this.vmalloc, owners: this.owners }, pfn);
  }

  /**
   * Checks every frame and counter, and every page table against the mapcounts and reverse map
   * (`mm.verify`); returns the inconsistencies found (none on a healthy machine).
   */
  verify(): string[] {
    return [
      ...verifyMemory({ map: this.memmap, pages: this.pages, folios: this.folios, slab: this.slab, vmalloc: this.vmalloc, hugetlb: this.hugetlb, vm: this.vmstat }),
      ...this.mm.verify(),
    ];
  }

  /** /proc/meminfo as an object (KiB). */
  meminfo(): Meminfo {
    return meminfo(this.frames, this.vmstat, this.pages, this.hugetlb);
  }

  /** /proc/meminfo as text. */
  formatMeminfo(): string {
    return formatMeminfo(this.meminfo());
  }

  /** /proc/buddyinfo counts (free blocks per order). */
  buddyinfo(): number[] {
    return buddyinfo(this.pages);
  }

  /** /proc/buddyinfo as text. */
  formatBuddyinfo(): string {
    return formatBuddyinfo(this.buddyinfo());
  }

  /** /proc/pagetypeinfo as an object. */
  pagetypeinfo(): PageTypeInfo {
    return pagetypeinfo(this.pages);
  }

  /** /proc/pagetypeinfo as text. */
  formatPagetypeinfo(): string {
    return formatPagetypeinfo(this.pagetypeinfo());
  }

  /**
   * The fragmentation index and unusable free space index of every order, ×1000
   * (/sys/kernel/debug/extfrag/extfrag_index and unusable_index), from the buddy lists now.
   */
  extfrag(): Extfrag {
    return extfrag(this.pages);
  }

  /** {@link extfrag} as the two debugfs files print it. */
  formatExtfrag(): string {
    return formatExtfrag(this.extfrag());
  }

}
