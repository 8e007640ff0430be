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
  /** Bytes stored past EOF (in the last page) through shared mappings in the run (they may have reached the disk): inode → file range. */
  mappedTails?: ReadonlyMap<number, { from: number; to: number }>;
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

/** The known bugs still open: none now (each one fixed left with its regression test; see docs/TRUST.md). */
export const KNOWN_BUGS: readonly KnownBug[] = [];

/** The known bug a violation shows, or null. */
export function classify(ctx: KnownBugContext): KnownBug | null {
  return KNOWN_BUGS.find((b) => b.matches(ctx)) ?? null;
}
