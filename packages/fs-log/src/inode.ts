/**
 * The in-memory inode of a mounted fs-log: its current attributes, its page-cache mapping, two
 * block maps (the latest written blocks, and the blocks its last committed record names), the
 * attributes that record holds, and, for a directory, its decoded entries.
 */
import type { Mapping, MappingHost } from "@folio/pagecache";
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, type DirEnt } from "./format.js";

/** The attributes an inode record stores. */
export interface Attrs {
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  atimeNs: number;
  mtimeNs: number;
  ctimeNs: number;
  btimeNs: number;
  parent: number;
}

export class LInode {
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  atimeNs: number;
  mtimeNs: number;
  ctimeNs: number;
  btimeNs: number;
  /** Parent directory (directories only). */
  parent: number;
  /** Symlink target. */
  target: Uint8Array | null;
  /** What the page cache sees: a plain record; `size` is i_size. */
  readonly host: MappingHost;
  mapping: Mapping | null;
  /** Page index → block holding its latest written data (regular files). */
  readonly cur = new Map<number, number>();
  /** Page index → block, as the inode's latest committed record names them. */
  readonly disk = new Map<number, number>();
  /** The attributes of the record a crash would recover (for a never-committed inode: its state at creation). */
  committed: Attrs;
  /** The inode map points at a committed record of this inode. */
  onDisk: boolean;
  /** Directory entries, decoded on first use. */
  entries: Map<string, DirEnt> | null = null;
  /** Pages dirtied since their last writeback: each holds one block of reserved space. */
  readonly reserved = new Set<number>();
  /** Regular file: data, size or attributes differ from the committed record. */
  dirty = false;
  /** Needs a record at the next commit for the namespace: new, link count changed, entries changed, removed. */
  nsDirty = false;
  /** Directory entries differ from the committed directory data. */
  entriesDirty = false;
  /** Files open on it (open minus release). */
  opens = 0;
  /** Unlinked and dropped from memory; kept only until its removal is committed. */
  evicted = false;

  constructor(
    readonly ino: number,
    a: Attrs,
    target: Uint8Array | null,
    label: string,
  ) {
    this.mode = a.mode;
    this.nlink = a.nlink;
    this.uid = a.uid;
    this.gid = a.gid;
    this.atimeNs = a.atimeNs;
    this.mtimeNs = a.mtimeNs;
    this.ctimeNs = a.ctimeNs;
    this.btimeNs = a.btimeNs;
    this.parent = a.parent;
    this.target = target;
    this.host = { ino, label, size: a.size };
    this.mapping = null;
    this.committed = { ...a };
    this.onDisk = false;
  }

  get size(): number {
    return this.host.size;
  }
  set size(v: number) {
    this.host.size = v;
  }
  get isDir(): boolean {
    return (this.mode & S_IFMT) === S_IFDIR;
  }
  get isReg(): boolean {
    return (this.mode & S_IFMT) === S_IFREG;
  }
  get isSymlink(): boolean {
    return (this.mode & S_IFMT) === S_IFLNK;
  }

  /** The current attributes. */
  attrs(): Attrs {
    return {
      mode: this.mode, nlink: this.nlink, uid: this.uid, gid: this.gid, size: this.size,
      atimeNs: this.atimeNs, mtimeNs: this.mtimeNs, ctimeNs: this.ctimeNs, btimeNs: this.btimeNs, parent: this.parent,
    };
  }
}
