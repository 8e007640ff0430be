/**
 * A tiny filesystem for the page-cache tests: files are block maps on a block device, blocks
 * allocated on first write. It plugs into the filemap helpers exactly as a real filesystem does:
 * by passing its own callbacks to each helper call.
 */
import { FolioFlag, Machine, PAGE_SIZE, Stat, fail, type FolioError, type MachineConfig, type MappableFile } from "@folio/core";
import {
  Flusher, PageCache, XA_MAX_INDEX, XaMark, fileWriteAndWaitRange, filemapMmap, filemapRead, finishRead, genericWriteEnd, grabFolioForWrite,
  openCachedFile, performWrite, truncateSetSize, wbcAll, writeCachePages, writebackMappings,
  type CachedFile, type Mapping, type MmapCallbacks, type ReadCallbacks, type WriteCallbacks, type WriteFolio, type WritebackControl,
} from "../src/index.js";
import { MemfsStore, SimDevice, type BlockDevice, type DeviceModel } from "../src/blockdev/index.js";

export interface TestFsOptions {
  memory?: string;
  deviceBlocks?: number;
  maxOrder?: number;
  raPages?: number;
  model?: Partial<DeviceModel>;
  seed?: number;
  device?: (machine: Machine, inner: SimDevice) => BlockDevice;
  evictionPolicy?: string;
  /** Further machine settings (transparent huge pages, say). */
  machine?: Partial<MachineConfig>;
}

interface TestInode {
  ino: number;
  mapping: Mapping;
  blocks: Map<number, number>;
}

export class TestFs {
  readonly machine: Machine;
  readonly cache: PageCache;
  readonly flusher: Flusher;
  readonly store: MemfsStore;
  readonly sim: SimDevice;
  readonly device: BlockDevice;
  readonly inodes = new Map<number, TestInode>();
  private nextBlock = 0;
  private nextIno = 1;
  /** Order of folio indices passed to writeFolio, per inode, for tests that check writeback order. */
  readonly writeLog: number[] = [];

  readonly readCallbacks: ReadCallbacks = {
    readFolio: (file, folio) => this.readFolio(file, folio),
  };
  readonly writeCallbacks: WriteCallbacks = {
    writeBegin: (file, pos, len) => this.writeBegin(file, pos, len),
    writeEnd: (file, pos, len, copied, folio) => genericWriteEnd(this.cache, file, pos, len, copied, folio),
  };

  constructor(options: TestFsOptions = {}) {
    this.machine = Machine.boot({
      memory: options.memory ?? "16MiB", seed: options.seed ?? 1, ...(options.evictionPolicy ? { evictionPolicy: options.evictionPolicy } : {}), ...options.machine,
    });
    this.cache = new PageCache(this.machine);
    this.flusher = new Flusher(this.cache);
    const blocks = options.deviceBlocks ?? 4096;
    this.store = new MemfsStore({ size: blocks * PAGE_SIZE });
    this.sim = new SimDevice(this.store, this.machine.scheduler, options.model ? { model: options.model } : {});
    this.device = options.device ? options.device(this.machine, this.sim) : this.sim;
    this.flusher.register({ writeback: (wbc) => writebackMappings([...this.cache.dirtyMappings], wbc, (m, w) => this.writepages(m, w)) });
    this.options = options;
  }
  private readonly options: TestFsOptions;

  create(size = 0): number {
    const ino = this.nextIno++;
    const host = { ino, label: `inode ${ino} on testfs`, size };
    const mapping = this.cache.createMapping(host, { maxOrder: this.options.maxOrder ?? 0, raPages: this.options.raPages ?? 32 });
    this.inodes.set(ino, { ino, mapping, blocks: new Map() });
    return ino;
  }

  /** Writes file data straight to the device, bypassing the cache (a pre-existing file). */
  populate(ino: number, data: Uint8Array): void {
    const inode = this.inodes.get(ino)!;
    for (let i = 0; i * PAGE_SIZE < data.length; i++) {
      const block = this.allocBlock();
      inode.blocks.set(i, block);
      const page = new Uint8Array(PAGE_SIZE);
      page.set(data.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE));
      this.store.write(page, block * PAGE_SIZE);
    }
    inode.mapping.host.size = data.length;
  }

  open(ino: number): CachedFile {
    return openCachedFile(this.inodes.get(ino)!.mapping);
  }

  read(file: CachedFile, pos: number, length: number): Uint8Array {
    const buf = new Uint8Array(length);
    const n = filemapRead(this.cache, file, pos, buf, 0, length, this.readCallbacks);
    return buf.subarray(0, n);
  }

  write(file: CachedFile, pos: number, data: Uint8Array): number {
    return performWrite(this.cache, file, pos, data, 0, data.length, this.writeCallbacks, this.flusher);
  }

  fsync(file: CachedFile): void {
    fileWriteAndWaitRange(this.cache, file, (m, wbc) => this.writepages(m, wbc));
    this.flushDevice();
  }

  /**
   * The callbacks of a mapping of `ino` for filemapMmap: reads and writeback as for read() and
   * fsync; page_mkwrite allocates the blocks of the folio's pages below EOF, as writeBegin does, so
   * writeback never finds a hole under a page stored through a mapping.
   */
  mmapCallbacks(ino: number): MmapCallbacks {
    const inode = this.inodes.get(ino)!;
    return {
      read: this.readCallbacks,
      writepages: (m, wbc) => this.writepages(m, wbc),
      pageMkwrite: (folio) => {
        const f = this.cache.folios;
        for (let i = f.index(folio); i < f.index(folio) + f.nrPages(folio) && i * PAGE_SIZE < inode.mapping.host.size; i++) {
          if (!inode.blocks.has(i)) inode.blocks.set(i, this.allocBlock());
        }
      },
    };
  }

  /** Maps file `ino` through the page cache's generic mmap, with {@link mmapCallbacks}. */
  mappable(ino: number): MappableFile {
    return filemapMmap(this.cache, this.open(ino), this.mmapCallbacks(ino));
  }

  truncate(ino: number, size: number): void {
    const inode = this.inodes.get(ino)!;
    truncateSetSize(this.cache, inode.mapping, size);
    for (const [i] of inode.blocks) if (i * PAGE_SIZE >= size) inode.blocks.delete(i);
  }

  /** What the device holds for a file, read synchronously from the store (for checks). */
  onDevice(ino: number): Uint8Array {
    const inode = this.inodes.get(ino)!;
    const out = new Uint8Array(inode.mapping.host.size);
    for (const [i, block] of inode.blocks) {
      const page = new Uint8Array(PAGE_SIZE);
      this.store.read(page, block * PAGE_SIZE);
      out.set(page.subarray(0, Math.max(0, Math.min(PAGE_SIZE, out.length - i * PAGE_SIZE))), i * PAGE_SIZE);
    }
    return out;
  }

  writepages(mapping: Mapping, wbc: WritebackControl): void {
    writeCachePages(this.cache, mapping, wbc, this.writeFolio);
  }

  syncAll(): void {
    for (const m of [...this.cache.dirtyMappings]) this.writepages(m, wbcAll(true, "sync"));
    this.machine.scheduler.waitUntil(() => this.machine.vmstat.stat[5] === 0, "writeback to finish");
    this.flushDevice();
  }

  /**
   * Recounts the page cache of every file from the folios themselves and returns each
   * disagreement with the counters (FilePages, Dirty, Writeback, nrPages) and with the index
   * marks, which must sit on the first index of exactly the dirty / written-back folios.
   * Call it when no writeback pass is in the middle of a folio (marks lag flags there).
   */
  checkCache(): string[] {
    const f = this.cache.folios;
    const bad: string[] = [];
    const total = { file: 0, dirty: 0, writeback: 0 };
    for (const { ino, mapping } of this.inodes.values()) {
      let pages = 0;
      mapping.index.forEach(0, XA_MAX_INDEX, (i, e) => {
        if (e <= 0) return;
        const head = f.index(e);
        if (f.owner(e) !== mapping.ownerId) bad.push(`inode ${ino}: folio ${e} at ${i} has owner ${f.owner(e)}`);
        if (i < head || i >= head + f.nrPages(e)) bad.push(`inode ${ino}: folio ${e} at ${i} covers [${head}, ${head + f.nrPages(e)})`);
        const isHead = i === head;
        for (const [flag, mark, name] of [[FolioFlag.Dirty, XaMark.Dirty, "dirty"], [FolioFlag.Writeback, XaMark.Writeback, "writeback"]] as const) {
          const want = isHead && f.test(e, flag);
          if (mapping.index.getMark(i, mark) !== want) bad.push(`inode ${ino}: ${name} mark at ${i} is ${!want} but the folio's flag says ${want}`);
        }
        if (mapping.index.getMark(i, XaMark.Towrite) && !isHead) bad.push(`inode ${ino}: towrite mark on tail index ${i}`);
        if (!isHead) return;
        const nr = f.nrPages(e);
        pages += nr;
        if (f.test(e, FolioFlag.Dirty)) total.dirty += nr;
        if (f.test(e, FolioFlag.Writeback)) total.writeback += nr;
      });
      if (pages !== mapping.nrPages) bad.push(`inode ${ino}: nrPages is ${mapping.nrPages} but the index holds ${pages}`);
      if ((mapping.dirtiedAt >= 0) !== this.cache.dirtyMappings.has(mapping)) bad.push(`inode ${ino}: dirtiedAt ${mapping.dirtiedAt} disagrees with the dirty list`);
      if (mapping.index.anyMarked(XaMark.Dirty) && mapping.dirtiedAt < 0) bad.push(`inode ${ino}: dirty folios but the mapping is not on the dirty list`);
      total.file += pages;
    }
    const s = this.machine.vmstat.stat;
    if (s[Stat.FilePages] !== total.file) bad.push(`FilePages is ${s[Stat.FilePages]} but the mappings hold ${total.file}`);
    if (s[Stat.Dirty] !== total.dirty) bad.push(`Dirty is ${s[Stat.Dirty]} but ${total.dirty} pages are dirty`);
    if (s[Stat.Writeback] !== total.writeback) bad.push(`Writeback is ${s[Stat.Writeback]} but ${total.writeback} pages are under writeback`);
    return bad;
  }

  flushDevice(): void {
    let done = false;
    let error: FolioError | null = null;
    this.device.submit({ op: "flush", block: 0, count: 0, buffer: new Uint8Array(0), offset: 0, done: (e) => ((done = true), (error = e)) });
    this.machine.scheduler.waitUntil(() => done, "device flush");
    if (error) throw error;
  }

  private allocBlock(): number {
    if (this.nextBlock >= this.device.nrBlocks) throw fail("ENOSPC", "testfs device is full");
    return this.nextBlock++;
  }

  private inodeOf(file: CachedFile): TestInode {
    return this.inodes.get(file.mapping.host.ino)!;
  }

  /** Reads the mapped blocks of a folio into its memory; holes read as zeros. */
  private readFolio(file: CachedFile, folio: number): void {
    this.fillFolio(this.inodeOf(file), folio, (ok) => finishRead(this.cache, folio, ok));
  }

  private fillFolio(inode: TestInode, folio: number, done: (ok: boolean) => void): void {
    const f = this.cache.folios;
    const first = f.index(folio);
    let pending = 1;
    let ok = true;
    const complete = (e: FolioError | null) => {
      if (e) ok = false;
      if (--pending === 0) done(ok);
    };
    for (let i = 0; i < f.nrPages(folio); i++) {
      const at = f.dataOffset(folio) + i * PAGE_SIZE;
      const block = inode.blocks.get(first + i);
      if (block === undefined) {
        f.data(folio).fill(0, at, at + PAGE_SIZE);
        continue;
      }
      pending++;
      this.device.submit({ op: "read", block, count: 1, buffer: f.data(folio), offset: at, done: complete });
    }
    complete(null);
  }

  private writeBegin(file: CachedFile, pos: number, len: number): number {
    const inode = this.inodeOf(file);
    const f = this.cache.folios;
    const folio = grabFolioForWrite(this.cache, file, pos, len);
    const first = f.index(folio);
    // Allocate blocks for the pages written (delayed allocation would defer this to writeback).
    try {
      for (let i = Math.floor(pos / PAGE_SIZE); i <= Math.floor((pos + len - 1) / PAGE_SIZE); i++) {
        if (!inode.blocks.has(i)) inode.blocks.set(i, this.allocBlock());
      }
    } catch (e) {
      this.cache.unlock(folio);
      f.put(folio);
      throw e;
    }
    const folioStart = first * PAGE_SIZE;
    if (!f.test(folio, FolioFlag.Uptodate) && !(pos === folioStart && len === f.size(folio))) {
      let done = false;
      let ok = true;
      this.fillFolio(inode, folio, (r) => ((done = true), (ok = r)));
      this.machine.scheduler.waitUntil(() => done, "testfs read for write");
      if (!ok) {
        this.cache.unlock(folio);
        f.put(folio);
        throw fail("EIO", `read before write of ${inode.mapping.host.label} failed`);
      }
      f.set(folio, FolioFlag.Uptodate);
    }
    return folio;
  }

  /** The filesystem's WriteFolio (public so tests can wrap it in their own writepages). */
  readonly writeFolio: WriteFolio = (folio) => {
    const f = this.cache.folios;
    const mapping = this.cache.mappingOf(folio)!;
    const inode = this.inodes.get(mapping.host.ino)!;
    const first = f.index(folio);
    this.writeLog.push(first);
    this.cache.startWriteback(mapping, folio);
    this.cache.unlock(folio);
    let pending = 1;
    let error: FolioError | null = null;
    const complete = (e: FolioError | null) => {
      if (e) error = e;
      if (--pending === 0) this.cache.endWriteback(mapping, folio, error ? "EIO" : null);
    };
    for (let i = 0; i < f.nrPages(folio); i++) {
      if ((first + i) * PAGE_SIZE >= mapping.host.size) break; // nothing past EOF reaches the disk
      const block = inode.blocks.get(first + i);
      if (block === undefined) continue;
      pending++;
      this.device.submit({ op: "write", block, count: 1, buffer: f.data(folio), offset: f.dataOffset(folio) + i * PAGE_SIZE, done: complete });
    }
    complete(null);
  };
}

/** Deterministic test data: byte i of a stream seeded by `seed`. */
export function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2654435761;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
