/**
 * The in-memory inode of a mounted fs-simple (Linux's ext2_inode_info + struct inode): the
 * decoded on-disk fields, the file's page-cache mapping, and writeback state.
 */
import type { Mapping, MappingHost } from "@folio/pagecache";
import { INODE_FLAG_INLINE, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, type RawInode } from "./format.js";

/** What the page cache sees of an fs-simple inode: a plain record (no callbacks, no back pointers). */
export interface InodeHost extends MappingHost {
  readonly ino: number;
  readonly label: string;
  size: number;
}

export class Inode {
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  flags: number;
  /** Filesystem blocks allocated to the file, indirect blocks included. */
  blocks: number;
  atimeNs: number;
  mtimeNs: number;
  ctimeNs: number;
  btimeNs: number;
  /** 12 direct pointers, the indirect and the double-indirect block (0 = hole / none). */
  ptrs: number[];
  /** The symlink target when stored inline. */
  inline: Uint8Array | null;
  /** The in-memory fields differ from the inode-table copy. */
  dirty = false;
  /** Size or block map changed since the inode was last stored (fdatasync must store it). */
  dataDirty = false;
  /** Virtual time the inode became dirty, or -1. */
  dirtiedAt = -1;
  /** Indirect blocks this inode changed that are not yet queued for writing with it. */
  readonly metaDirty = new Set<number>();
  /** Indirect blocks queued with the stored inode and perhaps not yet written (fsync writes them). */
  readonly queuedMeta = new Set<number>();
  /** Open files (FileOperations.open minus release). */
  opens = 0;

  constructor(
    readonly ino: number,
    raw: RawInode,
    readonly mapping: Mapping,
  ) {
    this.mode = raw.mode;
    this.nlink = raw.nlink;
    this.uid = raw.uid;
    this.gid = raw.gid;
    this.flags = raw.flags;
    this.blocks = raw.blocks;
    this.atimeNs = raw.atimeNs;
    this.mtimeNs = raw.mtimeNs;
    this.ctimeNs = raw.ctimeNs;
    this.btimeNs = raw.btimeNs;
    this.ptrs = raw.ptrs.slice();
    this.inline = raw.inline;
  }

  /** i_size, kept in the mapping's host where the filemap helpers read and grow it. */
  get size(): number {
    return this.mapping.host.size;
  }
  set size(v: number) {
    this.mapping.host.size = v;
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
  get isInline(): boolean {
    return (this.flags & INODE_FLAG_INLINE) !== 0;
  }

  /** The on-disk form of the inode. */
  toRaw(): RawInode {
    return {
      mode: this.mode, nlink: this.nlink, uid: this.uid, gid: this.gid, flags: this.flags, size: this.size, blocks: this.blocks,
      atimeNs: this.atimeNs, mtimeNs: this.mtimeNs, ctimeNs: this.ctimeNs, btimeNs: this.btimeNs, ptrs: this.ptrs.slice(), inline: this.inline,
    };
  }
}
