/**
 * Known bugs: real bugs the harness found in Folio, reported and not fixed yet. A violation is
 * attributed to one only when the harness has evidence of that bug's mechanism (not from its
 * message alone), so a new bug is never mistaken for a known one. Each has a regression test in
 * test/regressions.test.ts (a `test.failing` until it is fixed) and an entry in docs/TRUST.md.
 */

/** What the harness knew when a violation showed. */
export interface KnownBugContext {
  fs: string;
  /** The inode and byte offset of a wrong byte, or the wrong size seen, when the violation is about contents. */
  where?: Where;
  /** Problems the last crash recovery's fsck repaired (when the violation came from that recovery's check). */
  fsckProblems?: readonly string[];
  /** Problems a second fsck found right after a repair (when the violation is that it was not clean). */
  fsckAfterRepair?: readonly string[];
  /** Files whose last block held non-zero bytes past EOF on disk when the model last learned the tree. */
  staleTails?: ReadonlyMap<number, { from: number; to: number }>;
  /** An error code that was not legal where it came: the code, on a tiny-memory machine, with no I/O error injected. */
  unexpected?: { code: string; tiny: boolean; injected: number };
  /** An operation failed with a fault (EIO, ENOMEM, ENOSPC) but changed what it touched. */
  halfDone?: { op: string; code: string; ino: number; size?: number; asked?: number; lastName: boolean };
  /** Truncates that failed (EIO, ENOMEM) since the model last learned the tree: inode → sizes asked for. */
  failedTruncates?: ReadonlyMap<number, ReadonlySet<number>>;
}

/** Where a violation about contents showed: the inode, and the first wrong byte or the wrong size. */
export interface Where {
  ino: number;
  offset?: number;
  size?: number;
  /** A missing directory entry's name. */
  name?: string;
}

export interface KnownBug {
  id: string;
  title: string;
  /** A run that shows it: fs, seed, ops, faults. */
  example: string;
  matches(ctx: KnownBugContext): boolean;
}

export const KNOWN_BUGS: readonly KnownBug[] = [
  {
    id: "simple-stale-tail",
    title:
      "fs-simple: bytes past EOF in a file's last block are not zeroed when the block is read into the page cache, so data a crash left " +
      "there (the data write landed, the inode's size did not) reappears when the file is extended (write past EOF, truncate up)",
    example: "--fs simple --seed 3 --ops 2291 --faults crash",
    matches: (c) => {
      if (c.fs !== "simple" || !c.where || !c.staleTails) return false;
      const r = c.staleTails.get(c.where.ino);
      const at = c.where.offset;
      return r !== undefined && at !== undefined && at >= r.from && at < r.to;
    },
  },
  {
    id: "simple-fsck-shared-indirect",
    title:
      "fs-simple fsck: an indirect block claimed both by an fsynced file and by a stale on-disk inode (the block was freed, reused, " +
      "and the free never reached the disk) is dropped from the fsynced file, which loses the data it maps",
    example: "--fs simple --seed 14 --ops 1573 --faults crash",
    matches: (c) => {
      if (c.fs !== "simple" || !c.where || !c.fsckProblems) return false;
      const re = new RegExp(`^inode ${c.where.ino}: indirect block \\d+ is also used by inode \\d+`);
      return c.fsckProblems.some((p) => re.test(p));
    },
  },
  {
    id: "simple-fsck-shared-block-clobbered",
    title:
      "fs-simple fsck: a data block of an fsynced file that a stale, garbled inode also claims (as an indirect block) is repaired " +
      "as the stale inode's indirect block first — its \"pointers\" cleared — and the fsynced file then gets a copy of the cleared block",
    example: "--fs simple --seed 147 --ops 1839 --faults crash",
    matches: (c) => {
      if (c.fs !== "simple" || !c.where || !c.fsckProblems) return false;
      const ino = c.where.ino;
      const shared = c.fsckProblems.map((p) => new RegExp(`^block \\d+ is used by both inode (\\d+) and inode ${ino}$`).exec(p.trim())?.[1]).filter((x) => x !== undefined);
      const garbled = new Set(c.fsckProblems.map((p) => /^inode (\d+): .* points at block \d+, outside the data area/.exec(p.trim())?.[1]).filter((x) => x !== undefined));
      return shared.some((other) => garbled.has(other));
    },
  },
  {
    id: "simple-enomem-as-eio",
    title:
      "fs-simple: an allocation failure while starting a read (the folio of an indirect block, in the readFolio callback) is reported " +
      "as EIO, not ENOMEM, though no I/O failed",
    example: "--fs simple --seed 109 --ops 3000 --faults default",
    matches: (c) => c.fs === "simple" && c.unexpected?.code === "EIO" && c.unexpected.tiny && c.unexpected.injected === 0,
  },
  {
    id: "simple-fsck-dir-second-name",
    title:
      "fs-simple fsck: when a directory inode has two names — its durable one, and a stale entry left from the inode's previous life " +
      "(as a file, whose removal was not durable) — fsck keeps the stale one (fixing its type, re-parenting the directory) and removes " +
      "the durable one",
    example: "--fs simple --seed 64 --ops 234 --faults heavy",
    matches: (c) => {
      if (c.fs !== "simple" || !c.where?.name || !c.fsckProblems) return false;
      const name = c.where.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      const re = new RegExp(`^directory ${c.where.ino} has a second name "${name}" in directory \\d+$`);
      return c.fsckProblems.some((p) => re.test(p.trim()));
    },
  },
  {
    id: "simple-truncate-half-done",
    title:
      "fs-simple: a shrinking truncate that fails (ENOMEM or EIO while reading the new last block to zero its tail) has already set " +
      "the new size and freed the blocks past it, so the call reports an error and the file is truncated anyway",
    example: "--fs simple --seed 1 --ops 3273 --faults default",
    matches: (c) => {
      if (c.fs !== "simple") return false;
      const h = c.halfDone;
      // O_TRUNC is a truncate to 0 too (the VFS calls setattr after opening).
      if (h && (h.op === "truncate" || h.op === "ftruncate" || h.op === "create")) return h.size === h.asked;
      if (!c.where || c.where.size === undefined || !c.failedTruncates) return false;
      return c.failedTruncates.get(c.where.ino)?.has(c.where.size) === true;
    },
  },
  {
    id: "log-truncate-half-done",
    title:
      "fs-log: a shrinking truncate that fails with EIO (reading the new last block) has already changed the size, so the call " +
      "reports an error and the file is truncated anyway",
    example: "--fs log --seed 6 --ops 1202 --faults default",
    matches: (c) => c.fs === "log" && ["truncate", "ftruncate", "create"].includes(c.halfDone?.op ?? "") && c.halfDone!.size === c.halfDone!.asked,
  },
  {
    id: "vfs-evict-error-after-unlink",
    title:
      "VFS: unlink, rmdir and rename call the filesystem's evictInode for an inode that lost its last name inside the system call and " +
      "report its failure (EIO or ENOMEM while freeing the blocks) as the call's error, although the name is already gone",
    example: "--fs simple --seed 6 --ops 159 --faults heavy",
    matches: (c) => {
      const h = c.halfDone;
      return h !== undefined && (h.op === "unlink" || h.op === "rmdir" || h.op === "rename") && h.lastName && h.size === undefined;
    },
  },
  {
    id: "simple-fsck-lost-found-duplicate",
    title:
      "fs-simple fsck: a disconnected inode is moved to /lost+found/#<ino> even when that name is taken, leaving two entries with one " +
      "name (the next fsck removes one: the repair is not idempotent)",
    example: "--fs simple --seed 62 --ops 335 --faults default",
    matches: (c) => {
      if (c.fs !== "simple" || !c.fsckProblems || !c.fsckAfterRepair) return false;
      const moved = new Set(c.fsckProblems.map((p) => /^moved to \/lost\+found\/(#\d+)$/.exec(p.trim())?.[1]).filter((x) => x !== undefined));
      const dups = c.fsckAfterRepair.map((p) => /entry "(#\d+)" duplicates an earlier name/.exec(p)?.[1]).filter((x) => x !== undefined);
      return dups.length > 0 && dups.every((d) => moved.has(d!));
    },
  },
  {
    id: "vfs-stat-null-options",
    title:
      "VFS Node API: statSync, lstatSync and fstatSync crash with a TypeError (\"Cannot read properties of null\") when options is " +
      "null, which node:fs accepts as the defaults",
    example: "test/bad-input.test.ts (not a simulation finding)",
    matches: () => false,
  },
];

/** The known bug a violation shows, or null. */
export function classify(ctx: KnownBugContext): KnownBug | null {
  return KNOWN_BUGS.find((b) => b.matches(ctx)) ?? null;
}
