/**
 * A real workload on Folio, recorded as a page-access trace: unpack a large npm package tarball
 * and read every file back, through Node's fs API on fs-simple, on a machine whose memory is
 * smaller than the data, so reclaim runs all along.
 *
 *   node examples/dist/npm-tarball.js                      # quick: the package's files, in order, up to 8 MiB
 *   node examples/dist/npm-tarball.js --full               # the whole package (typescript: ~24 MB unpacked)
 *   node examples/dist/npm-tarball.js --full --trace t.f64 # also write the trace (.f64 binary, else text)
 *
 * Other options: `--package <dir>` (default: node_modules/typescript), `--memory <size>` (default
 * 8MiB, smaller than the data either way), `--limit <MiB>` (the quick run's budget, default 8),
 * `--json` (print the summary as one JSON line). CI runs the quick form, with the other examples.
 *
 * Nothing comes from the network: the tarball is built here from the package directory, as
 * `npm pack` would lay it out (every file under `package/`, ustar headers, gzip), so a fresh clone
 * has everything it needs. On Folio the example then does what `npm install` does with a tarball:
 *
 * 1. writes the .tgz into the filesystem;
 * 2. streams it back through gunzip into a tar reader that creates each directory and writes each
 *    file (reads of the tarball and writes of the files interleave, as in `tar xzf`);
 * 3. reads every extracted file back and compares it with the package on the host.
 *
 * Meanwhile an `AccessTraceRecorder` on the page cache records every use of a cached page (each
 * read or write that touches it, misses included), one key per 4 KiB page. bench/policies.ts
 * replays that trace through every eviction policy (the "folio: npm tarball" rows of
 * docs/POLICIES.md).
 */
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, posix, relative, sep } from "node:path";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { gzipSync, createGunzip } from "node:zlib";
import { Machine, PAGE_SIZE } from "@folio/core";
import { AccessTraceRecorder, MemfsStore, SimDevice } from "@folio/pagecache";
import { footprint, writeTrace } from "@folio/policies";
import { SimpleFs } from "@folio/fs-simple"; // importing it registers the "simple" filesystem type
import { Vfs, createNodeFs } from "@folio/vfs";

const MiB = 1024 * 1024;
const BLOCK = 512;

// ── The package on the host ────────────────────────────────────────────────────────────────────

/** A file of the package: its path inside the package (with `/`), and its bytes. */
interface PackageFile {
  path: string;
  data: Buffer;
}

/** Every regular file under `root`, in sorted path order (so the tarball is the same every run). */
function readPackage(root: string): PackageFile[] {
  const out: PackageFile[] = [];
  const walk = (dir: string): void => {
    const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const full = join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) out.push({ path: relative(root, full).split(sep).join("/"), data: readFileSync(full) });
    }
  };
  walk(root);
  return out;
}

/** The files, in order, that fit in a budget of `bytes`: each taken if it still fits (at least one). */
function withinBudget(files: PackageFile[], bytes: number): PackageFile[] {
  const out: PackageFile[] = [];
  let total = 0;
  for (const f of files) {
    if (out.length === 0 || total + f.data.length <= bytes) {
      out.push(f);
      total += f.data.length;
    }
  }
  return out;
}

// ── A ustar writer and a streaming ustar reader ────────────────────────────────────────────────

/** Writes `value` as a NUL-terminated octal field of `width` bytes at `at`. */
function octal(header: Buffer, at: number, width: number, value: number): void {
  header.write(`${value.toString(8).padStart(width - 1, "0")}\0`, at, width, "latin1");
}

/** The sum of a header's bytes with the checksum field counted as spaces (POSIX ustar). */
function headerChecksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum;
}

/** A ustar header for a regular file; a path over 100 bytes is split into prefix and name. */
function tarHeader(path: string, size: number): Buffer {
  let name = path;
  let prefix = "";
  if (Buffer.byteLength(path) > 100) {
    const cut = path.lastIndexOf("/", 155);
    if (cut <= 0 || Buffer.byteLength(path.slice(cut + 1)) > 100) throw new Error(`path too long for ustar: ${path}`);
    prefix = path.slice(0, cut);
    name = path.slice(cut + 1);
  }
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, "utf8");
  octal(h, 100, 8, 0o644);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, 499162500); // npm pack's fixed mtime (1985-10-26), so the tarball is reproducible
  h.write("0", 156, 1, "latin1"); // regular file
  h.write("ustar\0" + "00", 257, 8, "latin1");
  h.write(prefix, 345, 155, "utf8");
  h.write(`${headerChecksum(h).toString(8).padStart(6, "0")}\0 `, 148, 8, "latin1");
  return h;
}

/** A gzipped ustar archive of `files`, each under `package/` as npm lays a tarball out. */
function packTarball(files: PackageFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const f of files) {
    parts.push(tarHeader(`package/${f.path}`, f.data.length), f.data);
    const pad = (BLOCK - (f.data.length % BLOCK)) % BLOCK;
    if (pad > 0) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(2 * BLOCK)); // end of archive
  return gzipSync(Buffer.concat(parts));
}

/** Where an entry's bytes go: the extractor's file-system side. */
interface ExtractTarget {
  /** Opens (creating parents) the file for an entry; returns a write function and a close function. */
  open(path: string): { write(chunk: Uint8Array): void; close(): void };
}

/**
 * A Writable that reads a ustar stream and extracts its regular files as the bytes arrive: file
 * data is written through as each chunk comes, never buffered whole. Only what `packTarball`
 * writes (regular files, directories) is accepted; anything else is an error, not silently lost.
 */
class TarExtractor extends Writable {
  /** Entries extracted, with their sizes. */
  readonly entries: { path: string; size: number }[] = [];
  private header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** Bytes of the current entry's data still to come, then its padding. */
  private dataLeft = 0;
  private padLeft = 0;
  private file: { write(chunk: Uint8Array): void; close(): void } | undefined;
  private ended = false;

  constructor(private readonly target: ExtractTarget) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    try {
      this.consume(chunk);
      done();
    } catch (e) {
      done(e as Error);
    }
  }

  override _final(done: (error?: Error | null) => void): void {
    done(this.ended ? null : new Error("the tar stream ended before its end-of-archive block"));
  }

  private consume(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.dataLeft > 0) {
        const n = Math.min(this.dataLeft, chunk.length - at);
        this.file!.write(chunk.subarray(at, at + n));
        at += n;
        this.dataLeft -= n;
        if (this.dataLeft === 0) this.closeFile();
      } else if (this.padLeft > 0) {
        const n = Math.min(this.padLeft, chunk.length - at);
        at += n;
        this.padLeft -= n;
      } else if (this.ended) {
        at = chunk.length; // the zero blocks after the end-of-archive marker
      } else {
        const n = Math.min(BLOCK - this.headerFill, chunk.length - at);
        chunk.copy(this.header, this.headerFill, at, at + n);
        this.headerFill += n;
        at += n;
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          this.startEntry();
        }
      }
    }
  }

  private startEntry(): void {
    const h = this.header;
    if (h.every((b) => b === 0)) {
      this.ended = true;
      return;
    }
    const field = (at: number, width: number) => h.toString("utf8", at, at + width).replace(/\0.*$/s, "");
    const stored = parseInt(field(148, 8).trim(), 8);
    if (stored !== headerChecksum(h)) throw new Error(`tar header checksum ${stored} does not match ${headerChecksum(h)}`);
    const prefix = field(345, 155);
    const path = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const size = parseInt(field(124, 12).trim(), 8);
    const type = h[156] === 0 ? "0" : String.fromCharCode(h[156]!);
    if (type === "5") return; // a directory: created with its first file
    if (type !== "0") throw new Error(`tar entry ${path}: type '${type}' is not supported here`);
    this.entries.push({ path, size });
    this.file = this.target.open(path);
    this.dataLeft = size;
    this.padLeft = (BLOCK - (size % BLOCK)) % BLOCK;
    if (size === 0) this.closeFile();
  }

  private closeFile(): void {
    this.file!.close();
    this.file = undefined;
  }
}

// ── The workload ───────────────────────────────────────────────────────────────────────────────

/** What one run did, and the trace it recorded. */
interface NpmTarballRun {
  package: string;
  version: string;
  files: number;
  bytes: number;
  tarballBytes: number;
  memoryBytes: number;
  /** Files read back identical to the package on the host (all of them, or the run failed). */
  identical: number;
  /** The recorded page-access trace: keys ownerId × 2^32 + page index. */
  trace: Float64Array;
  /** Distinct pages in the trace. */
  footprint: number;
  /** Reclaim and workingset counters at the end (/proc/vmstat names). */
  vmstat: Record<string, number>;
  /** Virtual time the workload took, ms. */
  virtualMs: number;
}

/** Runs the workload on a fresh machine and returns what it did. Throws if any file differs. */
async function runNpmTarball(options: { packageDir: string; memory: string; limitBytes: number | undefined }): Promise<NpmTarballRun> {
  const manifest = JSON.parse(readFileSync(join(options.packageDir, "package.json"), "utf8")) as { name: string; version: string };
  const all = readPackage(options.packageDir);
  const files = options.limitBytes === undefined ? all : withinBudget(all, options.limitBytes);
  const bytes = files.reduce((n, f) => n + f.data.length, 0);
  const tgz = packTarball(files);

  // A machine smaller than the data, and a disk with room for the tarball, the files and metadata.
  const machine = Machine.boot({ memory: options.memory, seed: 11 });
  const vfs = new Vfs(machine);
  const deviceBytes = Math.ceil((2 * (bytes + tgz.length) + 16 * MiB) / MiB) * MiB;
  const device = new SimDevice(new MemfsStore({ size: deviceBytes }), machine.scheduler);
  SimpleFs.mkfs({ device, scheduler: machine.scheduler, machine });
  vfs.mount("/", "simple", { device });
  const fs = createNodeFs(vfs);
  const recorder = new AccessTraceRecorder(vfs.cache, { initialCapacity: 1 << 20 });
  recorder.start();

  // 1. The tarball lands in the filesystem, as a download would leave it.
  const tgzPath = `/tmp/${manifest.name}-${manifest.version}.tgz`;
  fs.mkdirSync("/tmp");
  fs.writeFileSync(tgzPath, tgz);

  // 2. Stream it back through gunzip into the tar reader; each file is written as its bytes arrive.
  const dest = `/project/node_modules/${manifest.name}`;
  const made = new Set<string>();
  const extractor = new TarExtractor({
    open(path) {
      if (!path.startsWith("package/")) throw new Error(`tar entry outside package/: ${path}`);
      const target = posix.join(dest, path.slice("package/".length));
      const dir = posix.dirname(target);
      if (!made.has(dir)) {
        fs.mkdirSync(dir, { recursive: true });
        made.add(dir);
      }
      const fd = fs.openSync(target, "w", 0o644);
      const write = (chunk: Uint8Array): void => {
        // As with node:fs, a write may take fewer bytes than offered: write the rest.
        for (let done = 0; done < chunk.length; ) done += fs.writeSync(fd, chunk, done, chunk.length - done);
      };
      return { write, close: () => fs.closeSync(fd) };
    },
  });
  await pipeline(fs.createReadStream(tgzPath), createGunzip(), extractor);

  // 3. Read every file back and compare it with the package on the host.
  if (extractor.entries.length !== files.length) throw new Error(`extracted ${extractor.entries.length} files of ${files.length}`);
  let identical = 0;
  for (const f of files) {
    const back = fs.readFileSync(posix.join(dest, f.path));
    if (!back.equals(f.data)) throw new Error(`${f.path} read back differs from the package (${back.length} vs ${f.data.length} bytes)`);
    identical++;
  }
  recorder.stop();
  const virtualMs = machine.scheduler.now / 1e6;
  const vm = machine.vmstat.toObject();
  vfs.umount("/");
  const problems = machine.verify();
  if (problems.length > 0) throw new Error(`machine.verify: ${problems.join("; ")}`);

  const trace = recorder.trace();
  const keep = ["pgsteal_kswapd", "pgsteal_direct", "workingset_refault_file", "workingset_activate_file", "nr_reclaim_skip_dirty", "allocstall"];
  return {
    package: manifest.name,
    version: manifest.version,
    files: files.length,
    bytes,
    tarballBytes: tgz.length,
    memoryBytes: machine.config.memory,
    identical,
    trace,
    footprint: footprint(trace),
    vmstat: Object.fromEntries(keep.map((k) => [k, vm[k] ?? 0])),
    virtualMs,
  };
}

// ── Command line ───────────────────────────────────────────────────────────────────────────────

/** The typescript package this repository installs for its build: present in every checkout after install. */
function defaultPackage(): string {
  return dirname(createRequire(import.meta.url).resolve("typescript/package.json"));
}

function parseArgs(argv: string[]): { packageDir: string; memory: string; limitBytes: number | undefined; trace: string | undefined; json: boolean } {
  const o = { packageDir: "", memory: "8MiB", limitBytes: 8 * MiB as number | undefined, trace: undefined as string | undefined, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--package") o.packageDir = value();
    else if (a === "--memory") o.memory = value();
    else if (a === "--limit") o.limitBytes = Number(value()) * MiB;
    else if (a === "--full") o.limitBytes = undefined;
    else if (a === "--trace") o.trace = value();
    else if (a === "--json") o.json = true;
    else throw new Error(`unknown option ${a}`);
  }
  if (o.limitBytes !== undefined && !(o.limitBytes > 0)) throw new Error("--limit must be a positive number of MiB");
  return { ...o, packageDir: o.packageDir || defaultPackage() };
}

const args = parseArgs(process.argv.slice(2));
const run = await runNpmTarball(args);
if (args.trace !== undefined) {
  writeTrace(args.trace, run.trace, `page-access trace of examples/npm-tarball: ${run.package}@${run.version}, ${run.files} files, keys ownerId*2^32+index`);
}
const summary = { ...run, trace: args.trace ?? null, accesses: run.trace.length };
if (args.json) {
  console.log(JSON.stringify(summary));
} else {
  const mib = (b: number) => (b / MiB).toFixed(1);
  console.log(`== ${run.package}@${run.version} as an npm tarball, unpacked on Folio ==`);
  console.log(`packed ${run.files} files (${mib(run.bytes)} MiB${args.limitBytes === undefined ? "" : `, files of the package taken in order up to ${mib(args.limitBytes)} MiB; --full for all`}) into a ${mib(run.tarballBytes)} MiB .tgz`);
  console.log(`on a machine with ${mib(run.memoryBytes)} MiB of memory: wrote the .tgz, streamed it through gunzip into ${run.files} files, read them all back: ${run.identical} identical`);
  console.log(`reclaim: ${run.vmstat.pgsteal_kswapd! + run.vmstat.pgsteal_direct!} pages reclaimed, ${run.vmstat.workingset_refault_file} refaults, ${run.vmstat.workingset_activate_file} activated on refault`);
  console.log(`trace: ${run.trace.length.toLocaleString("en-US")} page accesses, footprint ${run.footprint.toLocaleString("en-US")} pages (${mib(run.footprint * PAGE_SIZE)} MiB)${args.trace ? `, written to ${args.trace}` : ""}`);
  console.log(`virtual time: ${run.virtualMs.toFixed(1)} ms`);
}
