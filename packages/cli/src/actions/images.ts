/**
 * What the commands on disk images do (see commands/images.ts for their options): mkfs, fsck,
 * ls, cat, cp and stat. Each boots a small machine, mounts the image through the VFS (read-only
 * when the command only reads), does its work through Node's fs API over the VFS, and unmounts.
 */
import * as hostFs from "node:fs";
import { basename, posix, resolve } from "node:path";
import { Machine, formatSize } from "@folio/core";
import { FileStore, SimDevice, type BackingStore } from "@folio/pagecache";
import { filesystemType } from "@folio/fs-api";
import { CliError, usage, withoutCode } from "../errors.js";
import { ImageStore, detectFs, hostEpochMs, hostError, openImageDevice, withImage, type ImageSession } from "../image.js";
import { isoTime, printJson, println, shortTime, writeOut } from "../output.js";
import { createProgress, type Progress } from "../progress.js";
import type { FsName } from "../session.js";
import { sizeOption } from "../parse.js";

/** Options of mkfs. */
export interface MkfsOpts { fs: FsName; size: string; force?: boolean; inodes?: number; segmentBlocks?: number; json?: boolean }

/** mkfs: creates the image and reports what it holds. */
export function mkfsCommand(image: string, o: MkfsOpts): void {
  const size = sizeOption(o.size, "--size");
  if (size % 4096 !== 0) usage(`--size ${o.size} is not a whole number of 4 KiB blocks`);
  const options: Record<string, unknown> = {};
  if (o.inodes !== undefined) options["inodes"] = o.inodes;
  if (o.segmentBlocks !== undefined) {
    if (o.fs !== "log") usage("--segment-blocks is an fs-log option");
    options["segmentBlocks"] = o.segmentBlocks;
  }
  mkfsImage(image, o.fs, size, o.force === true, options);
  const info = withImage(image, { readOnly: true }, (img) => img.vfs.statfs("/"));
  const made = { image, fs: o.fs, size, blockSize: info.bsize, blocks: info.blocks, freeBlocks: info.bfree, inodes: info.files, freeInodes: info.ffree };
  if (o.json) printJson(made);
  else println(`${image}: fs-${o.fs}, ${formatSize(size)}: ${info.blocks} data blocks of ${info.bsize} bytes (${info.bfree} free), ${info.files} inodes (${info.ffree} free)`);
}

/** fsck: checks (and with `repair` repairs) the image; sets e2fsck's exit status. */
export function fsckCommand(image: string, o: { repair?: boolean; json?: boolean }): void {
  const fsType = detectFs(image);
  const repair = o.repair === true;
  const { machine, device, store } = openImageDevice(image, !repair);
  let report;
  try {
    report = filesystemType(fsType).fsck!({ device, scheduler: machine.scheduler, machine }, { repair });
  } finally {
    store.close();
  }
  const left = report.problems.filter((p) => !p.repaired).length;
  // e2fsck's exit statuses: 0 clean, 1 errors corrected, 4 errors left uncorrected.
  process.exitCode = report.clean ? 0 : left === 0 ? 1 : 4;
  if (o.json) {
    printJson({ image, fs: fsType, clean: report.clean, repaired: report.problems.length - left, left, problems: report.problems });
    return;
  }
  if (report.clean) {
    println(`${image}: fs-${fsType}: clean`);
    return;
  }
  println(`${image}: fs-${fsType}: ${report.problems.length} problem(s), ${report.problems.length - left} repaired, ${left} left${left > 0 && !repair ? " (run with --repair)" : ""}`);
  for (const p of report.problems) println(`  ${p.repaired ? "repaired" : "found"}: ${p.what}`);
}

/** ls: lists a directory (or names a file) of the image. */
export function lsCommand(image: string, path: string, o: { long?: boolean; recursive?: boolean; json?: boolean }): void {
  checkImagePath(path);
  withImage(image, { readOnly: true }, (img) => {
    const groups = listTree(img, path, o.recursive === true);
    if (o.json) {
      printJson(groups.flatMap((g) => g.entries));
      return;
    }
    groups.forEach((g, i) => {
      if (groups.length > 1 || o.recursive) println(`${i > 0 ? "\n" : ""}${g.dir}:`);
      for (const e of g.entries) println(o.long ? longLine(e) : e.name);
    });
  });
}

/** cat: writes a file of the image to stdout. */
export function catCommand(image: string, path: string): void {
  checkImagePath(path);
  withImage(image, { readOnly: true }, (img) => {
    const fd = img.fs.openSync(path, "r");
    try {
      const size = img.fs.fstatSync(fd).size;
      const progress = createProgress(`cat ${path}`, Math.ceil(size / 1048576), { unit: "MiB" });
      const buf = new Uint8Array(1 << 20);
      for (let n; (n = img.fs.readSync(fd, buf, 0, buf.length, null)) > 0;) {
        writeOut(buf.subarray(0, n));
        progress.tick();
      }
      progress.stop();
    } finally {
      img.fs.closeSync(fd);
    }
  });
}

/** stat: the attributes of a file of the image, like stat(1). */
export function statCommand(image: string, path: string, o: { json?: boolean }): void {
  checkImagePath(path);
  withImage(image, { readOnly: true }, (img) => {
    const st = img.vfs.lstat(path);
    const kind = typeName(st.mode);
    const target = kind === "symbolic link" ? img.vfs.readlink(path) : undefined;
    if (o.json) {
      printJson({
        path, type: kind, ...(target !== undefined ? { target } : {}), ino: st.ino, mode: st.mode, modeString: modeString(st.mode), nlink: st.nlink,
        uid: st.uid, gid: st.gid, size: st.size, blocks: st.blocks, blksize: st.blksize, dev: st.dev,
        atimeNs: st.atimeNs, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, birthtimeNs: st.birthtimeNs,
        atime: isoTime(st.atimeNs), mtime: isoTime(st.mtimeNs), ctime: isoTime(st.ctimeNs), birthtime: isoTime(st.birthtimeNs),
      });
      return;
    }
    println(`  File: ${path}${target !== undefined ? ` -> ${target}` : ""}`);
    println(`  Size: ${String(st.size).padEnd(15)} Blocks: ${String(st.blocks).padEnd(10)} IO Block: ${String(st.blksize).padEnd(6)} ${kind}`);
    println(`Device: ${img.fsType === "simple" ? "fs-simple" : "fs-log"}  Inode: ${String(st.ino).padEnd(10)} Links: ${st.nlink}`);
    println(`Access: (${(st.mode & 0o7777).toString(8).padStart(4, "0")}/${modeString(st.mode)})  Uid: ${st.uid}  Gid: ${st.gid}`);
    println(`Access: ${isoTime(st.atimeNs)}`);
    println(`Modify: ${isoTime(st.mtimeNs)}`);
    println(`Change: ${isoTime(st.ctimeNs)}`);
    println(` Birth: ${isoTime(st.birthtimeNs)}`);
  });
}

/** Writes an empty filesystem of type `fs` on a new image file; a failed mkfs leaves no file behind. */
export function mkfsImage(path: string, fs: FsName, size: number, force: boolean, options: Record<string, unknown>): void {
  let file: BackingStore;
  try {
    file = FileStore.create(path, size, { overwrite: force });
  } catch (e) {
    if ((e as { code?: unknown }).code === "EEXIST") throw new CliError("EEXIST", `${path} already exists (use --force to overwrite it)`);
    throw hostError(e, path);
  }
  const store = new ImageStore(file, path, false);
  try {
    const machine = Machine.boot({ memory: "64MiB", seed: 1, epochMs: hostEpochMs() });
    const device = new SimDevice(store, machine.scheduler, { name: basename(path) });
    filesystemType(fs).mkfs!({ device, scheduler: machine.scheduler, machine }, options);
  } catch (e) {
    store.close();
    hostFs.rmSync(path, { force: true });
    throw e;
  }
  store.close();
}

function checkImagePath(path: string): void {
  if (!path.startsWith("/")) usage(`"${path}" is not an absolute path in the image (start it with /)`);
}

/** One listed entry. */
interface Entry {
  path: string;
  name: string;
  type: string;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  mtime: string;
  mtimeNs: number;
  target?: string;
}

/** Lists `path` (a directory's entries sorted by name, or the file itself), and subdirectories with `recursive`. */
function listTree(img: ImageSession, path: string, recursive: boolean): { dir: string; entries: Entry[] }[] {
  const entryOf = (full: string, name: string): Entry => {
    const st = img.vfs.lstat(full);
    const type = typeName(st.mode);
    return {
      path: full, name, type, ino: st.ino, mode: st.mode, nlink: st.nlink, uid: st.uid, gid: st.gid, size: st.size,
      mtime: isoTime(st.mtimeNs), mtimeNs: st.mtimeNs, ...(type === "symbolic link" ? { target: img.vfs.readlink(full) } : {}),
    };
  };
  const top = img.vfs.stat(path);
  if (typeName(top.mode) !== "directory") return [{ dir: posix.dirname(path), entries: [entryOf(path, posix.basename(path))] }];
  const groups: { dir: string; entries: Entry[] }[] = [];
  const walk = (dir: string) => {
    const names = img.vfs.readdir(dir).map((e) => e.name).sort();
    const entries = names.map((n) => entryOf(posix.join(dir, n), n));
    groups.push({ dir, entries });
    if (recursive) for (const e of entries) if (e.type === "directory") walk(e.path);
  };
  walk(path);
  return groups;
}

function longLine(e: Entry): string {
  return `${modeString(e.mode)} ${String(e.nlink).padStart(3)} ${String(e.uid).padStart(4)} ${String(e.gid).padStart(4)} ${String(e.size).padStart(10)} ${shortTime(e.mtimeNs)} ${e.name}${e.target !== undefined ? ` -> ${e.target}` : ""}`;
}

function typeName(mode: number): string {
  switch (mode & 0o170000) {
    case 0o040000: return "directory";
    case 0o120000: return "symbolic link";
    default: return "regular file";
  }
}

/** `ls -l`'s mode column: `drwxr-xr-x`. */
export function modeString(mode: number): string {
  const t = (mode & 0o170000) === 0o040000 ? "d" : (mode & 0o170000) === 0o120000 ? "l" : "-";
  let s = t;
  for (let shift = 6; shift >= 0; shift -= 3) {
    const b = (mode >> shift) & 7;
    s += `${b & 4 ? "r" : "-"}${b & 2 ? "w" : "-"}${b & 1 ? "x" : "-"}`;
  }
  return s;
}

// ── cp ──────────────────────────────────────────────────────────────────────────────────────────

/** The part of Node's fs API a copy needs; node:fs and the VFS's Node API both have it. */
interface FsLike {
  statSync(path: string): { isDirectory(): boolean; isSymbolicLink(): boolean; size: number; mode: number };
  lstatSync(path: string): { isDirectory(): boolean; isSymbolicLink(): boolean; size: number; mode: number };
  mkdirSync(path: string, options?: { recursive?: boolean; mode?: number }): unknown;
  readdirSync(path: string): string[];
  openSync(path: string, flags: string, mode?: number): number;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  closeSync(fd: number): void;
  readlinkSync(path: string): string;
  symlinkSync(target: string, path: string): void;
  existsSync(path: string): boolean;
}

/** A side of a copy: the host, or a path in an image. */
type Side = { image: string; path: string } | { image: null; path: string };

/** `IMAGE:/path` names a path in an image; anything else is a host path. */
function parseSide(arg: string): Side {
  const i = arg.indexOf(":/");
  if (i > 0) return { image: arg.slice(0, i), path: arg.slice(i + 1) };
  return { image: null, path: arg };
}

/** cp: copies into, out of or within one image. */
export function copyCommand(source: string, dest: string, recursive: boolean, verbose: boolean): void {
  const src = parseSide(source);
  const dst = parseSide(dest);
  if (src.image === null && dst.image === null) usage("one side of folio cp must be in an image: IMAGE:/path");
  if (src.image !== null && dst.image !== null && resolve(src.image) !== resolve(dst.image)) {
    usage("folio cp copies within one image, or between an image and the host: copy through a host file");
  }
  const image = (src.image ?? dst.image)!;
  // Only a copy into the image writes it; a copy out of it mounts it read-only.
  withImage(image, { readOnly: dst.image === null }, (img) => {
    const from: FsLike = src.image === null ? (hostFs as unknown as FsLike) : (img.fs as unknown as FsLike);
    const to: FsLike = dst.image === null ? (hostFs as unknown as FsLike) : (img.fs as unknown as FsLike);
    const join = (side: Side) => (side.image === null ? (a: string, b: string) => resolve(a, b) : (a: string, b: string) => posix.join(a, b));
    const srcStat = statOrFail(from, src.path, source);
    let target = dst.path;
    if (to.existsSync(target) && to.statSync(target).isDirectory()) target = join(dst)(target, basename(src.path));
    if (srcStat.isDirectory() && !recursive) throw new CliError("EISDIR", `${source} is a directory (use -r to copy it)`);
    if (src.image !== null && dst.image !== null && srcStat.isDirectory() && (target === src.path || target.startsWith(`${posix.join(src.path, "/")}`))) {
      throw new CliError("EINVAL", `cannot copy directory ${src.path} into itself (${target})`);
    }
    const total = totalBytes(from, src.path, join(src));
    const progress = createProgress("copying", Math.max(1, Math.ceil(total / 1048576)), { unit: "MiB" });
    const copier = new Copier(from, to, join(src), join(dst), progress, verbose);
    copier.copy(src.path, target);
    progress.stop();
  });
}

function statOrFail(fs: FsLike, path: string, shown: string) {
  try {
    return fs.lstatSync(path);
  } catch (e) {
    const raw = (e as { code?: unknown }).code;
    const code = typeof raw === "string" ? raw : "EIO";
    throw new CliError(code, `cannot copy ${shown}: ${withoutCode((e as Error).message, code)}`);
  }
}

function totalBytes(fs: FsLike, path: string, join: (a: string, b: string) => string): number {
  const st = fs.lstatSync(path);
  if (!st.isDirectory()) return st.size;
  return fs.readdirSync(path).reduce((sum, n) => sum + totalBytes(fs, join(path, n), join), 0);
}

/** Copies files, directories and symlinks from one fs to another, 1 MiB at a time. */
class Copier {
  private readonly buf = new Uint8Array(1 << 20);
  private copied = 0;

  constructor(
    private readonly from: FsLike,
    private readonly to: FsLike,
    private readonly joinFrom: (a: string, b: string) => string,
    private readonly joinTo: (a: string, b: string) => string,
    private readonly progress: Progress,
    private readonly verbose: boolean,
  ) {}

  copy(src: string, dst: string): void {
    const st = this.from.lstatSync(src);
    if (this.verbose) println(`${src} -> ${dst}`);
    if (st.isSymbolicLink()) {
      this.to.symlinkSync(this.from.readlinkSync(src), dst);
      return;
    }
    if (st.isDirectory()) {
      if (!this.to.existsSync(dst)) this.to.mkdirSync(dst, { mode: st.mode & 0o7777 });
      for (const name of this.from.readdirSync(src)) this.copy(this.joinFrom(src, name), this.joinTo(dst, name));
      return;
    }
    const rfd = this.from.openSync(src, "r");
    try {
      const wfd = this.to.openSync(dst, "w", st.mode & 0o7777);
      try {
        for (let n; (n = this.from.readSync(rfd, this.buf, 0, this.buf.length, null)) > 0;) {
          this.to.writeSync(wfd, this.buf, 0, n);
          this.copied += n;
          this.progress.update(Math.floor(this.copied / 1048576));
        }
      } finally {
        this.to.closeSync(wfd);
      }
    } finally {
      this.from.closeSync(rfd);
    }
  }
}
