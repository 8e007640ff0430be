/**
 * Writes the plots of docs/plots (`pnpm docs:plots`), each an SVG drawn by the CLI's plot module:
 *
 * - miss-ratio.svg: the miss ratio of every eviction policy of @folio/policies and of Belady's OPT
 *   against cache size, on the CloudPhysics block I/O trace (../shared/traces/cloudPhysicsIO.csv,
 *   or $FOLIO_TRACES/cloudPhysicsIO.csv) replayed through `simulate` — the policies suite's real
 *   trace, at more cache sizes than its table. Without the trace the plot is not rewritten.
 * - throughput-vs-memory.svg: 4 KiB random reads per second of virtual time against the machine's
 *   memory (64 MiB … 1 GiB) on fs-simple, under three eviction policies: a 512 MiB file read with
 *   Zipf(0.8) popularity (hot pages scattered over the file), 100,000 reads to warm the cache, then
 *   100,000 measured. Virtual time is the device model's (a hit costs none), so the figure is what
 *   the simulated machine achieves, not how fast the simulator runs. Pages read for the first time
 *   miss at any size, which is where the curves level off.
 *
 * Everything is seeded: the same build writes the same files. About a minute and a half.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_EVICTION_POLICY, PAGE_SIZE } from "@folio/core";
import { POLICY_NAMES, footprint, readBlockTraceCsv, simulate, simulateOpt, zipfTrace } from "@folio/policies";
import { linePlot, openSession, type FsName, type PlotSeries } from "../src/index.js";

/** The repository (this file is packages/cli/dist/scripts/plots.js). */
const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const OUT = join(ROOT, "docs", "plots");
const TRACE = join(process.env["FOLIO_TRACES"] ?? join(ROOT, "..", "shared", "traces"), "cloudPhysicsIO.csv");
const MiB = 1 << 20;

/** Cache sizes of the miss-ratio plot, as fractions of the trace's footprint. */
const FRACTIONS = [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5];
/** Colours of the policies, as in docs/policies.svg. */
const COLORS: Record<string, string> = {
  lru: "#1f77b4", fifo: "#ff7f0e", clock: "#2ca02c", sieve: "#d62728", arc: "#9467bd", s3fifo: "#8c564b", linux: "#e377c2", opt: "#000000",
};

function missRatioPlot(): void {
  if (!existsSync(TRACE)) {
    console.log(`(${TRACE} is not there: docs/plots/miss-ratio.svg is left as it is)`);
    return;
  }
  const bt = readBlockTraceCsv(TRACE);
  const pages = footprint(bt.pages);
  const names = [...POLICY_NAMES, "opt"];
  const points = new Map<string, [number, number][]>(names.map((n) => [n, []]));
  for (const fraction of FRACTIONS) {
    const capacity = Math.max(1, Math.round(fraction * pages));
    const mib = (capacity * PAGE_SIZE) / MiB;
    const t0 = performance.now();
    for (const name of POLICY_NAMES) points.get(name)!.push([mib, 100 * simulate(name, bt.pages, capacity).missRatio]);
    points.get("opt")!.push([mib, 100 * simulateOpt(bt.pages, capacity).missRatio]);
    console.log(`miss ratio: cache ${capacity} pages (${(fraction * 100).toFixed(1)}% of the footprint) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const series: PlotSeries[] = names.map((name) => ({
    name: name === "opt" ? "OPT (Belady)" : name === DEFAULT_EVICTION_POLICY ? `${name} (default)` : name,
    points: points.get(name)!,
    color: COLORS[name]!,
    ...(name === "opt" ? { dashed: true } : {}),
    ...(name === DEFAULT_EVICTION_POLICY ? { width: 3 } : {}),
  }));
  write("miss-ratio.svg", linePlot({
    title: "Miss ratio against cache size, CloudPhysics block I/O trace",
    subtitle: [
      `${bt.pages.length.toLocaleString("en-US")} page accesses (${bt.requests.toLocaleString("en-US")} requests, reads and writes),`,
      `footprint ${pages.toLocaleString("en-US")} pages (${Math.round((pages * PAGE_SIZE) / MiB)} MiB); simulate() and simulateOpt() of @folio/policies`,
    ],
    x: { label: "cache size (MiB)", log: true, base2: true },
    y: { label: "miss ratio (%)" },
    series,
  }));
}

/** Memory sizes of the throughput plot. */
const MEMORIES = [64, 128, 256, 512, 1024];
const FILE = 512 * MiB;
const READS = 100_000;
const ZIPF_ALPHA = 0.8;

/** The filesystem and the policies of the throughput plot. */
const FS: FsName = "simple";
const POLICIES = [DEFAULT_EVICTION_POLICY, "lru", "s3fifo"];

/** Reads per second of virtual time and the hit ratio of the measured reads, on one machine. */
function zipfReads(policy: string, memory: number, trace: Int32Array): { perSecond: number; hitRatio: number } {
  const fs = FS;
  const session = openSession({ memory, fs, policy, disk: FILE + 256 * MiB, seed: 1 });
  const { fs: nodeFs, vfs, device, machine } = session;
  const chunk = new Uint8Array(MiB);
  const w = nodeFs.openSync("/data", "w");
  for (let done = 0; done < FILE; done += MiB) nodeFs.writeSync(w, chunk.fill((done / MiB) & 0xff));
  nodeFs.closeSync(w);
  // A cold cache: everything written back, the cache dropped.
  vfs.umount("/");
  vfs.mount("/", fs, { device });
  const fd = nodeFs.openSync("/data", "r");
  const page = new Uint8Array(PAGE_SIZE);
  const pages = FILE / PAGE_SIZE;
  const read = (i: number) => {
    // Hot pages scattered over the file (an odd multiplier permutes 0 … 2^k − 1), so that
    // readahead around one does not bring in the next.
    const p = Math.imul(trace[i]!, 40503) & (pages - 1);
    nodeFs.readSync(fd, page, 0, PAGE_SIZE, p * PAGE_SIZE);
  };
  for (let i = 0; i < READS; i++) read(i);
  const t0 = machine.scheduler.now;
  const r0 = device.stats.snapshot().bytesRead;
  for (let i = READS; i < 2 * READS; i++) read(i);
  const seconds = (machine.scheduler.now - t0) / 1e9;
  const misses = (device.stats.snapshot().bytesRead - r0) / PAGE_SIZE;
  nodeFs.closeSync(fd);
  return { perSecond: READS / seconds, hitRatio: Math.max(0, 1 - misses / READS) };
}

function throughputPlot(): void {
  const pages = FILE / PAGE_SIZE;
  const trace = zipfTrace(ZIPF_ALPHA, pages, 2 * READS, 1);
  const series: PlotSeries[] = [];
  for (const policy of POLICIES) {
    const points: [number, number][] = [];
    for (const mib of MEMORIES) {
      const t0 = performance.now();
      const r = zipfReads(policy, mib * MiB, trace);
      points.push([mib, r.perSecond]);
      console.log(`throughput: ${policy}, ${mib} MiB: ${Math.round(r.perSecond)} reads/s, hit ratio ${(r.hitRatio * 100).toFixed(1)}% (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
    series.push({
      name: policy === DEFAULT_EVICTION_POLICY ? `${policy} (default)` : policy,
      points, color: COLORS[policy]!, ...(policy === DEFAULT_EVICTION_POLICY ? { width: 3 } : {}),
    });
  }
  write("throughput-vs-memory.svg", linePlot({
    title: `Random 4 KiB reads per second against memory size, fs-${FS}`,
    subtitle: [
      `a ${FILE / MiB} MiB file, Zipf(${ZIPF_ALPHA}) popularity, ${READS.toLocaleString("en-US")} reads measured after as many to warm the cache;`,
      "nvme model, virtual time (a hit costs none); the curves level off where only first reads of a page miss",
    ],
    x: { label: "machine memory (MiB)", log: true, base2: true },
    y: { label: "reads per second (virtual time)", min: 0 },
    series,
  }));
}

function write(name: string, svg: string): void {
  const path = join(OUT, name);
  writeFileSync(path, svg);
  console.log(`wrote ${path}`);
}

mkdirSync(OUT, { recursive: true });
const only = process.argv.slice(2);
if (only.length === 0 || only.includes("miss-ratio")) missRatioPlot();
if (only.length === 0 || only.includes("throughput")) throughputPlot();
