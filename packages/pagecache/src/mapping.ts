import { ErrSeq } from "./errseq.js";
import { LostPages } from "./lost-pages.js";
import { XArray } from "./xarray.js";

/** What a mapping caches: the file (inode) it belongs to, as the page cache needs to see it. */
export interface MappingHost {
  /** Inode number. */
  readonly ino: number;
  /** Who owns it, for reports: `"inode 12 on fs-simple"`. */
  readonly label: string;
  /** File size in bytes (i_size). The read helper stops here; write-end helpers grow it. */
  size: number;
}

/** Per-mapping settings a filesystem chooses when it creates the mapping. */
export interface MappingOptions {
  /** Largest folio order the mapping accepts (0: small folios only; Linux's mapping_set_large_folios allows up to 9 here). */
  maxOrder?: number;
  /** Readahead window ceiling in pages (default 32 = 128 KiB, Linux's VM_READAHEAD_PAGES). */
  raPages?: number;
}

/**
 * A file's page cache (Linux's struct address_space): folios by page index, with marks, the
 * writeback error cursor, and counts. It holds no filesystem callbacks: the filesystem passes
 * those to each filemap helper it calls. The only operations the rest of the system may invoke on
 * a mapping's folios are the public page interface, through the owner registered for it.
 */
export class Mapping {
  /** Folios and shadow entries by page index. */
  readonly index = new XArray();
  /** Writeback errors, sampled by files at open and checked at fsync. */
  readonly wbErr = new ErrSeq();
  /** Pages whose dirty data a memory error destroyed: they read as EIO until overwritten or truncated. */
  readonly lost = new LostPages();
  /** Pages (not folios) cached. */
  nrPages = 0;
  /** Shadow entries left by reclaim. */
  nrShadows = 0;
  /** Largest folio order this mapping accepts. */
  readonly maxOrder: number;
  /** Default readahead window ceiling in pages for files of this mapping. */
  raPages: number;
  /** Virtual time when the mapping first became dirty (inode dirtied_when), or -1 when clean. */
  dirtiedAt = -1;

  /**
   * Called by {@link PageCache.createMapping}, which registers the owner and keeps the mapping;
   * filesystems do not construct mappings themselves.
   */
  constructor(
    /** The file this mapping caches. */
    readonly host: MappingHost,
    /** Id of this mapping's {@link @folio/core!PageOwner | PageOwner} in the machine's owner registry. */
    readonly ownerId: number,
    options: MappingOptions = {},
  ) {
    this.maxOrder = options.maxOrder ?? 0;
    this.raPages = options.raPages ?? 32;
  }
}
