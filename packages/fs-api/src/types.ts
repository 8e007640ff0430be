/** File type bits of a mode (S_IFMT and friends), as in Linux and Node's fs.constants. */
export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;

/** The type of an inode, from its mode. */
export const enum FileType {
  Regular = 1,
  Directory = 2,
  Symlink = 3,
}

/** The type encoded in a mode. */
export function fileTypeOf(mode: number): FileType {
  const t = mode & S_IFMT;
  return t === S_IFDIR ? FileType.Directory : t === S_IFLNK ? FileType.Symlink : FileType.Regular;
}

/** Open flags, with Linux's values (Node's fs.constants on Linux). */
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_ACCMODE = 3;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;

/** rename flags (renameat2). */
export const RENAME_NOREPLACE = 1;
export const RENAME_EXCHANGE = 2;

/** Longest name of one directory entry, in bytes of UTF-8. */
export const NAME_MAX = 255;

/** An inode's attributes, as getattr returns them (struct kstat). Times are nanoseconds since the epoch. */
export interface InodeAttr {
  ino: number;
  /** Type and permission bits. */
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  /** Bytes. */
  size: number;
  /** 512-byte blocks allocated. */
  blocks: number;
  atimeNs: number;
  mtimeNs: number;
  ctimeNs: number;
  birthtimeNs: number;
}

/** Changes for setattr; absent fields stay. Setting `size` truncates or extends the file. */
export interface SetAttr {
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  atimeNs?: number;
  mtimeNs?: number;
}

/** One directory entry. */
export interface DirEntry {
  name: string;
  ino: number;
  type: FileType;
}

/** Filesystem statistics (statfs). */
export interface StatFs {
  /** Block size in bytes. */
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  namelen: number;
}

/** One problem fsck found, and whether it repaired it. */
export interface FsckProblem {
  what: string;
  repaired: boolean;
}

/** What fsck found. `clean` means no problem at all. */
export interface FsckReport {
  clean: boolean;
  problems: FsckProblem[];
}
