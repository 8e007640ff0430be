import { ERRNO, type ErrorCode } from "@folio/core";

const MAX_ERRNO_BITS = 12;
const MAX_ERRNO = (1 << MAX_ERRNO_BITS) - 1;
const SEEN = 1 << MAX_ERRNO_BITS;
const COUNTER_INC = 1 << (MAX_ERRNO_BITS + 1);

/**
 * A writeback error cursor (Linux's errseq_t): the last error, a "seen" bit and a change
 * counter in one number. The mapping records errors with {@link set}; each open file samples the
 * value at open and checks it at fsync, so every file open when an error happened is told once.
 */
export class ErrSeq {
  /** The packed value; files keep a copy of it as their cursor. */
  value = 0;

  /** Records an error (errseq_set). The counter moves only if someone saw the previous value. */
  set(code: ErrorCode): void {
    const old = this.value;
    let next = (old & ~(MAX_ERRNO | SEEN)) | (-ERRNO[code] & MAX_ERRNO);
    if (old & SEEN) next += COUNTER_INC;
    this.value = next;
  }

  /**
   * The cursor a newly opened file starts from (errseq_sample). An error nobody has seen yet is
   * still reported to the new file, as in Linux, so no error goes unreported; once seen, later
   * openers are not told about it.
   */
  sample(): number {
    return this.value & SEEN ? this.value : 0;
  }

  /** The error code recorded since `cursor`, without advancing it (errseq_check), or null. */
  check(cursor: number): ErrorCode | null {
    return this.value === cursor ? null : codeOf(this.value & MAX_ERRNO);
  }

  /**
   * Reports the error recorded since `cursor.value`, if any, marks it seen and advances the
   * cursor (errseq_check_and_advance): each file gets each error exactly once.
   */
  checkAndAdvance(cursor: { value: number }): ErrorCode | null {
    const old = this.value;
    if (old === cursor.value) return null;
    const seen = old | SEEN;
    this.value = seen;
    cursor.value = seen;
    return codeOf(seen & MAX_ERRNO);
  }
}

function codeOf(errno: number): ErrorCode | null {
  if (errno === 0) return null;
  for (const [code, n] of Object.entries(ERRNO)) if (-n === errno) return code as ErrorCode;
  return "EIO";
}
