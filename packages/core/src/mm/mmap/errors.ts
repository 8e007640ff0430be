import { FolioError, type ErrorCode } from "../../errors.js";

/** The signal a real process would receive for a bad access. */
export type AccessSignal = "SIGSEGV" | "SIGBUS";

/** Which instruction faulted. */
export type AccessKind = "load" | "store";

/**
 * A load or store that a real process would die of: the signal it would receive, where, and why.
 *
 * Folio throws instead of killing anything. `code` stays one of Node's error codes, so code that
 * handles Folio errors by code keeps working; `signal` says which signal Linux would send:
 *
 * | case | code | signal |
 * | --- | --- | --- |
 * | no mapping contains the address (SEGV_MAPERR) | EFAULT | SIGSEGV |
 * | the mapping's protection forbids the access (SEGV_ACCERR) | EACCES | SIGSEGV |
 * | the page lies beyond the end of the mapped file (BUS_ADRERR) | EFAULT | SIGBUS |
 * | the page could not be read, or made writable (no space, I/O error) (BUS_OBJERR) | the cause's code (EIO, ENOSPC…) | SIGBUS |
 * | the page's data was lost to a hardware memory error (BUS_MCEERR_AR) | EHWPOISON | SIGBUS |
 *
 * Out of memory is not a signal: a fault that cannot get memory throws the allocator's ENOMEM.
 */
export class MemoryAccessError extends FolioError {
  /** The signal Linux would deliver. */
  readonly signal: AccessSignal;
  /** The faulting user address. */
  readonly address: number;
  /** Whether a load or a store faulted. */
  readonly access: AccessKind;

  /**
   * Built by the access and fault paths of {@link AddressSpace}; the message reads `CODE: SIGNAL on
   * a load|store at 0xADDR: why`.
   */
  constructor(code: ErrorCode, signal: AccessSignal, access: AccessKind, address: number, why: string) {
    super(code, `${signal} on a ${access} at 0x${address.toString(16)}: ${why}`);
    this.name = "MemoryAccessError";
    this.signal = signal;
    this.address = address;
    this.access = access;
  }
}
