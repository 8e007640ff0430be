/**
 * Known bugs: real bugs the harness found in Folio, reported and not fixed yet. A violation is
 * attributed to one only when the harness has evidence of that bug's mechanism (not from its
 * message alone), so a new bug is never mistaken for a known one. Each has a regression test in
 * test/regressions.test.ts (a `test.failing` until it is fixed) and an entry in docs/TRUST.md.
 */

/** What the harness knew when a violation showed. */
export interface KnownBugContext {
  /** The target filesystem's name (`simple`, `log`). */
  fs: string;
  /** The inode and byte offset of a wrong byte, or the wrong size seen, when the violation is about contents. */
  where?: Where;
  /** Problems the last crash recovery's fsck repaired (when the violation came from that recovery's check). */
  fsckProblems?: readonly string[];
  /** Problems a second fsck found right after a repair (when the violation is that it was not clean). */
  fsckAfterRepair?: readonly string[];
  /** Files whose last block held non-zero bytes past EOF on disk when the model last learned the tree. */
  staleTails?: ReadonlyMap<number, {
    /** The file's size: the stale bytes lie at or after it. */
    from: number;
    /** End of the file's last block (exclusive). */
    to: number;
  }>;
  /** An error code that was not legal where it came: the code, on a tiny-memory machine, with no I/O error injected. */
  unexpected?: {
    /** The error code. */
    code: string;
    /** The machine had tiny memory (ENOMEM is legal there). */
    tiny: boolean;
    /** I/O errors injected on the machine so far. */
    injected: number;
  };
  /** An operation failed with a fault (EIO, ENOMEM, ENOSPC) but changed what it touched. */
  halfDone?: {
    /** The operation's name (`truncate`, `write`, …). */
    op: string;
    /** The error it failed with. */
    code: string;
    /** The inode it changed. */
    ino: number;
    /** The inode's size after the failure, when it still exists. */
    size?: number;
    /** The size the operation asked for (truncate, create with O_TRUNC). */
    asked?: number;
    /** The operation would have dropped the inode's last name (the VFS evicts it within the call). */
    lastName: boolean;
  };
  /** Bytes stored past EOF (in the last page) through shared mappings in the run (they may have reached the disk): inode → file range. */
  mappedTails?: ReadonlyMap<number, {
    /** First byte past EOF stored through a mapping. */
    from: number;
    /** End of those bytes (exclusive). */
    to: number;
  }>;
  /** Truncates that failed (EIO, ENOMEM) since the model last learned the tree: inode → sizes asked for. */
  failedTruncates?: ReadonlyMap<number, ReadonlySet<number>>;
}

/** Where a violation about contents showed: the inode, and the first wrong byte or the wrong size. */
export interface Where {
  /** The inode. */
  ino: number;
  /** Byte offset of the first wrong byte. */
  offset?: number;
  /** The size the filesystem reported, when that is what is wrong. */
  size?: number;
  /** A missing directory entry's name. */
  name?: string;
}

/** A known bug: how to recognise the violations it causes. */
export interface KnownBug {
  /** Short id, as in docs/TRUST.md and the regression test. */
  id: string;
  /** One line saying what goes wrong. */
  title: string;
  /** A run that shows it: fs, seed, ops, faults. */
  example: string;
  /** Whether the evidence in `ctx` shows this bug's mechanism (not merely a similar message). */
  matches(ctx: KnownBugContext): boolean;
}

/** The known bugs still open: none now (each one fixed left with its regression test; see docs/TRUST.md). */
export const KNOWN_BUGS: readonly KnownBug[] = [];

/** The known bug a violation shows, or null. */
export function classify(ctx: KnownBugContext): KnownBug | null {
  return KNOWN_BUGS.find((b) => b.matches(ctx)) ?? null;
}
