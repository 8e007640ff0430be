/**
 * ramfs, a tutorial filesystem (docs/RAMFS.md walks through it). As in Linux's ramfs, the page cache is its only
 * storage: inodes and directories are JS maps, file data lives only in folios, written with performWrite and read
 * with filemapRead, whose readFolio zero-fills (a folio that is not cached is a hole).
 */
import "reflect-metadata";
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { inject } from "tsyringe";
import { FolioFlag, Machine, PageOpCaller, PageOpResult, TOKENS, fail, type ErrorCode, type MappableFile, type PageOwner } from "@folio/core";
import {
  PAGECACHE_TOKENS, filemapMmap, filemapRead, finishRead, genericWriteEnd, grabFolioForWrite, openCachedFile, performWrite, truncateInodePages,
  truncateSetSize, writeCachePages, writebackMappings, zeroFolioRange, type Flusher, type Mapping, type PageCache, type PageCacheOwner,
  type WritebackControl,
} from "@folio/pagecache";
import { FileType, RENAME_EXCHANGE, RENAME_NOREPLACE, S_IFDIR, S_IFLNK, S_IFMT, fileTypeOf, filesystem } from "@folio/fs-api";
import type { DirEntry, FsFile, InodeAttr, SetAttr, StatFs, SuperBlock } from "@folio/fs-api";
import { Vfs, createNodeFs } from "@folio/vfs";

/** One inode: attributes, plus data (a file's mapping), entries (a directory) or a target (a symlink). */
// #region inode
interface RamInode { attr: InodeAttr; mapping?: Mapping; entries?: Map<string, number>; target?: string }
// #endregion inode

/** Throws a Folio error, as an expression: `map.get(key) ?? raise("ENOENT", "…")`. */
const raise = (code: ErrorCode, why: string): never => { throw fail(code, why); };

// #region owner
/**
 * Our folios' owner: the page cache's defaults, but every folio is the only copy of its data.
 * Reclaim may not drop one; memory failure may, but must report the loss, not leave zeros behind.
 */
const onlyCopy = (d: PageCacheOwner): PageOwner => ({
  get label() { return d.label; },
  dirty: (folio, ctx) => d.dirty(folio, ctx),
  migrate: (src, dst, ctx) => d.migrate(src, dst, ctx),
  release: (folio, ctx) => {
    if (ctx.caller === PageOpCaller.Truncate) return d.release(folio, ctx);
    if (ctx.caller !== PageOpCaller.MemoryFailure) return PageOpResult.Unsupported;
    d.dirty(folio, ctx); // the default owner records a lost page as lost only when it was dirty
    return d.release(folio, ctx);
  },
});
// #endregion owner

// #region register
/** A filesystem whose only storage is the page cache, like Linux's ramfs: `vfs.mount("/", "ramfs")`. */
@filesystem("ramfs")
export class RamFs implements SuperBlock {
  /** ramfs needs no block device. */
  static readonly needsDevice = false;
  readonly rootIno = 1;
  private readonly inodes = new Map<number, RamInode>();
  private nextIno = 1;

  constructor(
    @inject(TOKENS.Machine) private readonly machine: Machine,
    @inject(PAGECACHE_TOKENS.PageCache) private readonly cache: PageCache,
    @inject(PAGECACHE_TOKENS.Flusher) private readonly flusher: Flusher,
  ) {}
  // #endregion register

  // ── Superblock ──
  mount(): void { this.add(S_IFDIR | 0o755, { entries: new Map() }); }
  statfs(): StatFs { return { bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: this.inodes.size, ffree: 0, namelen: 255 }; }
  sync(): void {} // nothing is more durable than memory here
  unmount(): void {
    for (const ino of this.inodes.keys()) this.dropData(ino);
    this.inodes.clear();
  }
  // #region writeback
  /** Writeback has nowhere to write to: it only marks our dirty folios clean (they stay cached). */
  writebackInodes(wbc: WritebackControl): number {
    const mine = [...this.cache.dirtyMappings].filter((m) => this.inodes.get(m.host.ino)?.mapping === m);
    return writebackMappings(mine, wbc, (m, w) => this.cleanPages(m, w));
  }
  /** Our writepages: "writes" the dirty folios `wbc` selects by marking them clean. */
  private cleanPages(m: Mapping, wbc: WritebackControl): void {
    writeCachePages(this.cache, m, wbc, (folio) => {
      this.cache.startWriteback(m, folio);
      this.cache.unlock(folio);
      this.cache.endWriteback(m, folio);
    });
  }
  // #endregion writeback
  evictInode(ino: number): void {
    if ((this.inodes.get(ino)?.attr.nlink ?? 1) > 0) return; // still named: its data lives only here
    this.dropData(ino);
    this.inodes.delete(ino);
  }

  // ── Inodes: the namespace is plain maps ──
  getattr(ino: number): InodeAttr {
    const i = this.inode(ino);
    return { ...i.attr, size: i.mapping?.host.size ?? Buffer.byteLength(i.target ?? ""), blocks: (i.mapping?.nrPages ?? 0) * 8 };
  }
  setattr(ino: number, a: SetAttr): void {
    const i = this.inode(ino);
    // A new size drops (or zeroes) cached data past the end.
    if (a.size !== undefined) truncateSetSize(this.cache, i.mapping ?? raise("EINVAL", "only files have a size to set"), a.size);
    if (a.size !== undefined) i.attr.mtimeNs = this.now();
    if (a.mode !== undefined) i.attr.mode = (i.attr.mode & S_IFMT) | (a.mode & 0o7777);
    for (const k of ["uid", "gid", "atimeNs", "mtimeNs"] as const) if (a[k] !== undefined) i.attr[k] = a[k];
    i.attr.ctimeNs = this.now();
  }
  lookup(dir: number, name: string): number { return this.dir(dir).get(name) ?? raise("ENOENT", `no "${name}" in directory ${dir}`); }
  create(dir: number, name: string, mode: number): number { return this.enter(dir, name, () => this.add(mode)); }
  mkdir(dir: number, name: string, mode: number): number {
    const ino = this.enter(dir, name, () => this.add(mode, { entries: new Map() }));
    this.inode(dir).attr.nlink++; // the new directory's ".."
    return ino;
  }
  symlink(dir: number, name: string, target: string): number { return this.enter(dir, name, () => this.add(S_IFLNK | 0o777, { target })); }
  link(ino: number, dir: number, name: string): void {
    this.enter(dir, name, () => ino);
    this.inode(ino).attr.nlink++;
    this.inode(ino).attr.ctimeNs = this.now();
  }
  unlink(dir: number, name: string): void { this.unname(dir, name, false); }
  rmdir(dir: number, name: string): void { this.unname(dir, name, true); }
  rename(oldDir: number, oldName: string, newDir: number, newName: string, flags: number): void {
    if (flags & RENAME_EXCHANGE) throw fail("EINVAL", "ramfs does not implement RENAME_EXCHANGE");
    const ino = this.lookup(oldDir, oldName);
    const isDir = this.inode(ino).entries !== undefined;
    const target = this.dir(newDir).get(newName);
    if (target === ino) return;
    if (target !== undefined && flags & RENAME_NOREPLACE) throw fail("EEXIST", `"${newName}" exists`);
    if (target !== undefined) this.unname(newDir, newName, isDir); // a file replaces a file, a directory an empty directory
    this.remove(oldDir, oldName);
    this.enter(newDir, newName, () => ino);
    if (isDir) this.inode(oldDir).attr.nlink--; // its ".." moves to newDir
    if (isDir) this.inode(newDir).attr.nlink++;
    this.inode(ino).attr.ctimeNs = this.now();
  }
  readlink(ino: number): string { return this.inode(ino).target ?? raise("EINVAL", `inode ${ino} is not a symbolic link`); }
  readdir(dir: number): DirEntry[] { return [...this.dir(dir)].map(([name, ino]) => ({ name, ino, type: fileTypeOf(this.inode(ino).attr.mode) })); }

  // ── Files: data only ever lives in the page cache ──
  open(ino: number, flags: number): FsFile {
    return { ...openCachedFile(this.inode(ino).mapping ?? raise("EISDIR", `inode ${ino} is not a regular file`)), ino, flags };
  }
  // #region data
  // #region read
  read(file: FsFile, pos: number, buf: Uint8Array, offset: number, length: number): number {
    // readFolio: a folio that is not cached holds no data yet, so reading it is zero-filling it.
    return filemapRead(this.cache, file, pos, buf, offset, length, { readFolio: (_f, folio) => finishRead(this.cache, this.filled(folio), true) });
  }
  // #endregion read
  // #region write
  write(file: FsFile, pos: number, buf: Uint8Array, offset: number, length: number): number {
    const n = performWrite(this.cache, file, pos, buf, offset, length, {
      writeBegin: (f, p, len) => this.filled(grabFolioForWrite(this.cache, f, p, len)), // the locked folio to copy into
      writeEnd: (f, p, len, copied, folio) => genericWriteEnd(this.cache, f, p, len, copied, folio), // dirty it, grow the file
    }, this.flusher);
    this.touch(file.ino); // mtime and ctime
    return n;
  }
  // #endregion write
  // #endregion data
  fsync(): void {} // nothing to make durable
  release(): void {}
  // #region mmap
  /** Mappings fault pages in as read() does (a folio nobody wrote is zero-filled); msync makes nothing more durable. */
  mmap(file: FsFile): MappableFile {
    return filemapMmap(this.cache, file, {
      read: { readFolio: (_f, folio) => finishRead(this.cache, this.filled(folio), true) },
      writepages: (m, w) => this.cleanPages(m, w), // msync(MS_ASYNC) "writes" by marking clean
      fsync: () => {}, // msync(MS_SYNC): nothing is more durable than memory
      throttle: this.flusher, // a process dirtying pages through a mapping is paused like a writer
    });
  }
  // #endregion mmap

  // ── Helpers ──
  private now(): number { return this.machine.wallClockNs(); }
  private touch(ino: number): void { this.inode(ino).attr.mtimeNs = this.inode(ino).attr.ctimeNs = this.now(); }
  /** A new inode; a regular file gets its mapping, the page cache of its data. */
  private add(mode: number, extra: Omit<RamInode, "attr"> = {}): number {
    const [ino, t, nlink] = [this.nextIno++, this.now(), fileTypeOf(mode) === FileType.Directory ? 2 : 1];
    this.inodes.set(ino, { attr: { ino, mode, nlink, uid: 0, gid: 0, size: 0, blocks: 0, atimeNs: t, mtimeNs: t, ctimeNs: t, birthtimeNs: t }, ...extra });
    const host = { ino, label: `inode ${ino} on ramfs`, size: 0 };
    if (fileTypeOf(mode) === FileType.Regular) this.inode(ino).mapping = this.cache.createMapping(host, {}, onlyCopy);
    return ino;
  }
  private inode(ino: number): RamInode { return this.inodes.get(ino) ?? raise("ENOENT", `no inode ${ino}`); }
  private dir(ino: number): Map<string, number> { return this.inode(ino).entries ?? raise("ENOTDIR", `inode ${ino} is not a directory`); }
  /** Adds `name` → make() to `dir`; EEXIST, before making anything, if the name is taken. */
  private enter(dir: number, name: string, make: () => number): number {
    if (this.dir(dir).has(name)) raise("EEXIST", `"${name}" exists`);
    const ino = make();
    this.dir(dir).set(name, ino);
    this.touch(dir);
    return ino;
  }
  private remove(dir: number, name: string): void {
    this.dir(dir).delete(name);
    this.touch(dir);
  }
  /** Removes the name of a non-directory (unlink) or of an empty directory (rmdir); the VFS evicts the inode once unused. */
  private unname(dir: number, name: string, isDir: boolean): void {
    const i = this.inode(this.lookup(dir, name));
    if ((i.entries !== undefined) !== isDir) throw fail(isDir ? "ENOTDIR" : "EISDIR", `"${name}" is ${isDir ? "not " : ""}a directory`);
    if (i.entries && i.entries.size > 0) throw fail("ENOTEMPTY", `"${name}" is not empty`);
    this.remove(dir, name);
    i.attr.nlink = isDir ? 0 : i.attr.nlink - 1;
    if (isDir) this.inode(dir).attr.nlink--;
    i.attr.ctimeNs = this.now();
  }
  /** The folio, zero-filled first if it holds no data yet (not uptodate): bytes nobody wrote read as zeros. */
  private filled(folio: number): number {
    if (this.cache.folios.test(folio, FolioFlag.Uptodate)) return folio;
    zeroFolioRange(this.cache, folio, 0, this.cache.folios.size(folio));
    this.cache.folios.set(folio, FolioFlag.Uptodate);
    return folio;
  }
  private dropData(ino: number): void {
    const mapping = this.inodes.get(ino)?.mapping;
    if (mapping) truncateInodePages(this.cache, mapping, 0);
    if (mapping) this.cache.destroyMapping(mapping);
  }
}

// #region main
/** Boots a machine, mounts ramfs as its root, and uses it through Node's fs API. */
async function main(): Promise<void> {
  const machine = Machine.boot({ memory: "64MiB", seed: 7 });
  const vfs = new Vfs(machine);
  vfs.mount("/", "ramfs");
  const fs = createNodeFs(vfs);
  fs.mkdirSync("/home/folio", { recursive: true });
  fs.writeFileSync("/home/folio/hello.txt", "Hello from the page cache!\n");
  process.stdout.write(await fs.promises.readFile("/home/folio/hello.txt", "utf8"));
  console.log(`${fs.statSync("/home/folio/hello.txt").size} bytes; the page cache holds ${machine.meminfo().Cached} KiB`);
}
// #endregion main

// Run as a program (also through a symlink), not when imported to register the type.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) await main();
