/** Mask of the file type bits of a mode; the S_IF* values are Linux's and Node's fs.constants'. */
export const S_IFMT = 0o170000;
/** File type bits of a regular file. */
export const S_IFREG = 0o100000;
/** File type bits of a directory. */
export const S_IFDIR = 0o040000;
/** File type bits of a symbolic link. */
export const S_IFLNK = 0o120000;

/** The type of an inode, from its mode. */
export const enum FileType {
  /** A regular file: data read and written through the page cache. */
  Regular = 1,
  /** A directory: entries looked up and listed, never read as data. */
  Directory = 2,
  /** A symbolic link: its target read with readlink. */
  Symlink = 3,
}

/** The type encoded in a mode. */
export function fileTypeOf(mode: number): FileType {
  const t = mode & S_IFMT;
  return t === S_IFDIR ? FileType.Directory : t === S_IFLNK ? FileType.Symlink : FileType.Regular;
}

/** Open for reading only. Open flags have Linux's values (Node's fs.constants on Linux). */
export const O_RDONLY = 0;
/** Open for writing only. */
export const O_WRONLY = 1;
/** Open for reading and writing. */
export const O_RDWR = 2;
/** Mask of the access mode: `flags & O_ACCMODE` is O_RDONLY, O_WRONLY or O_RDWR. */
export const O_ACCMODE = 3;
/** Create the file if it does not exist. */
export const O_CREAT = 0o100;
/** With O_CREAT: fail with EEXIST if it exists. */
export const O_EXCL = 0o200;
/** Truncate a regular file to 0 bytes on open (applied by the VFS through setattr). */
export const O_TRUNC = 0o1000;
/** Every write goes to the end of the file. */
export const O_APPEND = 0o2000;
/** Fail with ENOTDIR unless the path is a directory. */
export const O_DIRECTORY = 0o200000;
/** Fail with ELOOP if the last component is a symbolic link. */
export const O_NOFOLLOW = 0o400000;

/** rename flag (renameat2): fail with EEXIST if the new name exists. */
export const RENAME_NOREPLACE = 1;
/** Swap the two names atomically; both must exist. */
export const RENAME_EXCHANGE = 2;

/** Longest name of one directory entry, in bytes of UTF-8. */
export const NAME_MAX = 255;

/** An inode's attributes, as getattr returns them (struct kstat). Times are nanoseconds since the epoch. */
export interface InodeAttr {
  /** Inode number, unique on the filesystem while the inode lives. */
  ino: number;
  /** Type and permission bits. */
  mode: number;
  /** Names linking to the inode (directories count "." and each subdirectory's ".."). */
  nlink: number;
  /** Owner user id. */
  uid: number;
  /** Owner group id. */
  gid: number;
  /** Bytes. */
  size: number;
  /** 512-byte blocks allocated. */
  blocks: number;
  /** Last access time (ns since the epoch). */
  atimeNs: number;
  /** Last data modification time (ns since the epoch). */
  mtimeNs: number;
  /** Last change of the inode or its data (ns since the epoch). */
  ctimeNs: number;
  /** Creation time (ns since the epoch). */
  birthtimeNs: number;
}

/** Changes for setattr; absent fields stay. Setting `size` truncates or extends the file. */
export interface SetAttr {
  /** New permission bits (the type bits are ignored). */
  mode?: number;
  /** New owner user id. */
  uid?: number;
  /** New owner group id. */
  gid?: number;
  /** New size in bytes: truncates (dropping cached pages past it) or extends with zeroes. */
  size?: number;
  /** New access time (ns since the epoch). */
  atimeNs?: number;
  /** New modification time (ns since the epoch). */
  mtimeNs?: number;
}

/** One directory entry. */
export interface DirEntry {
  /** The entry's name, one path component (no "/" or NUL). */
  name: string;
  /** The inode the name links to. */
  ino: number;
  /** The inode's type, so listing needs no getattr. */
  type: FileType;
}

/** Filesystem statistics (statfs). */
export interface StatFs {
  /** Block size in bytes. */
  bsize: number;
  /** Total data blocks, in units of `bsize`. */
  blocks: number;
  /** Free blocks. */
  bfree: number;
  /** Free blocks available to unprivileged users (the same as `bfree` here: no reserve). */
  bavail: number;
  /** Total inodes. */
  files: number;
  /** Free inodes. */
  ffree: number;
  /** Longest file name, in bytes. */
  namelen: number;
}

/** One problem fsck found, and whether it repaired it. */
export interface FsckProblem {
  /** The problem, in words, naming the inode or block. */
  what: string;
  /** fsck was asked to repair and did. */
  repaired: boolean;
}

/** What fsck found. `clean` means no problem at all. */
export interface FsckReport {
  /** No problem was found (repaired ones count as problems). */
  clean: boolean;
  /** Every problem, repaired or not, in the order found. */
  problems: FsckProblem[];
}
