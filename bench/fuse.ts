/**
 * The `fuse` suite: fio on a Folio filesystem mounted through FUSE, beside the same fio job on
 * tmpfs in the same run. Sequential and random reads and writes on fs-simple and fs-log, a random
 * read of a file twice the machine's memory (Folio's reclaim at work), and one buffered read on a
 * mount that lets the kernel cache file data, to show what the kernel's page cache hides.
 *
 * What is cached where (docs/FUSE.md): the Folio mounts open every file with FOPEN_DIRECT_IO, so
 * the kernel keeps no copy of file data and every read and write reaches Folio's page cache; the
 * disk under Folio is a memfs file in the daemon's memory, so no host page cache is below it either;
 * fio runs with --direct=1, and the kernel's caches are dropped before each job. tmpfs is the peer
 * because it is the kernel's page cache and nothing else: the cost of a page cache with no disk.
 *
 * Needs root, /dev/fuse and fio; without them the suite prints why and measures nothing. In full
 * mode it writes its table to docs/FUSE.md (between the fuse-bench markers).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fuseAvailable, mountFolio, umountFolio, type MountConfig } from "@folio/fuse";
import { type BenchOptions, type Row, type Suite, type SuiteOutcome, stat } from "./harness.js";

const MiB = 1 << 20;
const FILE_SIZE = "256M";
const DOCS_FUSE = fileURLToPath(new URL("../../docs/FUSE.md", import.meta.url));
const BEGIN = "<!-- fuse-bench:begin -->";
const END = "<!-- fuse-bench:end -->";

interface Job {
  name: string;
  rw: "read" | "write" | "randread" | "randwrite";
  bs: string;
  /**
   * fio --direct (default 1). A buffered job also keeps fio from invalidating the file's cached
   * pages at each pass (--invalidate=0), to show what the kernel's page cache does when allowed.
   */
  direct?: 0 | 1;
}

const JOBS: Job[] = [
  { name: "seq write 1M", rw: "write", bs: "1M" },
  { name: "seq read 1M", rw: "read", bs: "1M" },
  { name: "rand read 4k", rw: "randread", bs: "4k" },
  { name: "rand write 4k", rw: "randwrite", bs: "4k" },
];

/** One fio run: MiB/s and IOPS of the job's direction. */
interface FioResult {
  mibs: number;
  iops: number;
}

function runFio(dir: string, job: Job, seconds: number): Promise<FioResult> {
  const args = ["--name=bench", `--filename=${join(dir, "bench.dat")}`, `--size=${FILE_SIZE}`, `--rw=${job.rw}`, `--bs=${job.bs}`,
    `--direct=${job.direct ?? 1}`, `--invalidate=${job.direct ?? 1}`, "--ioengine=psync", `--runtime=${seconds}`, "--time_based", "--fallocate=none", "--output-format=json"];
  // Drop the kernel's clean caches first: nothing of a direct-I/O mount is in them, and the
  // kernel-cache row then starts cold too.
  try {
    writeFileSync("/proc/sys/vm/drop_caches", "3\n");
  } catch {
    // Not permitted: the figures are still honest for the direct-I/O mounts, which the kernel never caches.
  }
  return new Promise((resolve, reject) => {
    const child = spawn("fio", args);
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`fio ${args.join(" ")} failed (${code}): ${err.trim()}`));
      const j = (JSON.parse(out) as { jobs: { read: { bw_bytes: number; iops: number }; write: { bw_bytes: number; iops: number } }[] }).jobs[0]!;
      const side = job.rw.includes("read") ? j.read : j.write;
      resolve({ mibs: side.bw_bytes / MiB, iops: side.iops });
    });
  });
}

/** A throwaway tmpfs for the peer (or /dev/shm when mounting one fails). */
function makeTmpfs(): { dir: string; close: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "folio-bench-tmpfs-"));
  if (spawnSync("mount", ["-t", "tmpfs", "-o", "size=1g", "folio-bench", dir]).status === 0) {
    return { dir, close: () => { spawnSync("umount", [dir]); rmSync(dir, { recursive: true, force: true }); } };
  }
  rmSync(dir, { recursive: true, force: true });
  const shm = mkdtempSync("/dev/shm/folio-bench-");
  return { dir: shm, close: () => rmSync(shm, { recursive: true, force: true }) };
}

interface Case {
  label: string;
  config: Omit<MountConfig, "mountpoint">;
  jobs: Job[];
  mnt?: string;
}

async function runSuite(opts: BenchOptions): Promise<SuiteOutcome> {
  const avail = fuseAvailable();
  if (!avail.ok || spawnSync("fio", ["--version"]).status !== 0) {
    // Said in the report in the table's place, so a report without fuse figures says why.
    const skipped = avail.ok ? "fio is not installed (apt-get install fio)" : avail.why ?? "FUSE is not available";
    console.log(`fuse: skipped: ${skipped}`);
    return { rows: [], skipped };
  }
  const seconds = opts.quick ? 1 : 2;
  const rounds = opts.quick ? 1 : 3;
  const big = { memory: "1GiB", size: "1GiB" };
  const cases: Case[] = [
    { label: "fs-simple", config: { fs: "simple", ...big }, jobs: JOBS },
    { label: "fs-log", config: { fs: "log", ...big }, jobs: JOBS },
    { label: "fs-simple, 128 MiB machine (file 2× memory)", config: { fs: "simple", memory: "128MiB", size: "1GiB" }, jobs: [JOBS[0]!, JOBS[2]!] },
    { label: "fs-simple, --kernel-cache", config: { fs: "simple", ...big, directIo: false }, jobs: [{ ...JOBS[0]!, direct: 0 }, { ...JOBS[1]!, direct: 0 }] },
  ];
  const tmpfs = makeTmpfs();
  const dirs: string[] = [];
  const logs: string[] = [];
  const results = new Map<string, { folio: FioResult[]; peer: FioResult[] }>();
  const key = (c: Case, j: Job) => `${c.label}\0${j.name}`;
  try {
    for (const c of cases) {
      const dir = mkdtempSync(join(tmpdir(), "folio-bench-mnt-"));
      dirs.push(dir);
      const m = await mountFolio({ ...c.config, mountpoint: dir });
      c.mnt = m.mountpoint;
      logs.push(m.log);
    }
    // Rounds interleave Folio and tmpfs, job by job, so drift in the machine hits both alike.
    for (let r = 0; r < rounds; r++) {
      for (const c of cases) {
        for (const j of c.jobs) {
          const e = results.get(key(c, j)) ?? { folio: [], peer: [] };
          results.set(key(c, j), e);
          e.folio.push(await runFio(c.mnt!, j, seconds));
          e.peer.push(await runFio(tmpfs.dir, j, seconds));
        }
      }
    }
  } finally {
    for (const c of cases) if (c.mnt !== undefined) await umountFolio(c.mnt).catch((e: Error) => console.log(`fuse: umount ${c.mnt}: ${e.message}`));
    for (const d of [...dirs, ...logs]) rmSync(d, { recursive: true, force: true });
    tmpfs.close();
  }
  const rows: Row[] = [];
  for (const c of cases) {
    for (const j of c.jobs) {
      const e = results.get(key(c, j))!;
      const iops = j.bs === "4k";
      const folio = stat(e.folio.map((x) => (iops ? x.iops : x.mibs)));
      const peer = stat(e.peer.map((x) => (iops ? x.iops : x.mibs)));
      rows.push({
        name: `fio ${j.name}${j.direct === 0 ? " buffered" : ""}, ${c.label}`,
        value: folio.median,
        unit: iops ? "IOPS" : "MiB/s",
        peer: { name: `tmpfs, same job`, value: peer.median },
        ratio: peer.median / folio.median,
        spread: Math.max(folio.spread, peer.spread),
      });
    }
  }
  if (opts.quick) console.log("(--quick: docs/FUSE.md is written only by a full run)");
  else writeDoc(rows, seconds, rounds);
  return {
    rows,
    notes: [`fio ${FILE_SIZE}iB file, --ioengine=psync, --direct=1 unless marked buffered; ${seconds} s per run, median of ${rounds} runs, Folio's and tmpfs's interleaved.`],
  };
}

/** Replaces the results section of docs/FUSE.md. */
function writeDoc(rows: Row[], seconds: number, rounds: number): void {
  if (!existsSync(DOCS_FUSE)) return;
  const doc = readFileSync(DOCS_FUSE, "utf8");
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) return;
  const fmt = (v: number, unit: string) => (unit === "IOPS" ? `${(v / 1000).toFixed(1)}k IOPS` : `${v.toFixed(0)} MiB/s`);
  const kernel = spawnSync("uname", ["-r"]).stdout.toString().trim();
  const lines = [
    BEGIN,
    "",
    `Measured by \`pnpm bench fuse\` on Linux ${kernel}, Node ${process.version}, ${spawnSync("nproc").stdout.toString().trim()} cores: ` +
      `${spawnSync("fio", ["--version"]).stdout.toString().trim()}, \`--ioengine=psync\`, one job, a ${FILE_SIZE}iB file, ` +
      `${seconds} s per run, median of ${rounds} runs with Folio's and tmpfs's interleaved. "tmpfs ÷ Folio" is how many times Folio's cost the same job costs on tmpfs; ` +
      `"spread" is (max − min) / median of the runs, the larger of Folio's and tmpfs's (fio, the daemon and the kernel share the cores, so single runs are noisy).`,
    "",
    "| job | Folio | tmpfs | tmpfs ÷ Folio | spread |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...rows.map((r) => `| ${r.name.replace(/^fio /, "")} | ${fmt(r.value, r.unit)} | ${fmt(r.peer!.value, r.unit)} | ${r.ratio!.toFixed(1)}× | ${((r.spread ?? 0) * 100).toFixed(0)}% |`),
    "",
    END,
  ];
  writeFileSync(DOCS_FUSE, doc.slice(0, a) + lines.join("\n") + doc.slice(b + END.length));
  console.log(`(wrote the results to ${DOCS_FUSE})`);
}

export const fuseSuite: Suite = {
  name: "fuse",
  description: "fio on Folio mounted through FUSE (direct I/O) beside the same job on tmpfs",
  run: runSuite,
};
