/**
 * Errors of the command line: what a user did wrong becomes one line on stderr and a non-zero
 * exit status; only a bug in Folio itself earns a stack trace.
 */

/** Exit status of a failed command (a user mistake or a failed operation). */
export const EXIT_FAILURE = 1;
/** Exit status of a command line that does not parse (unknown command or option, missing argument). */
export const EXIT_USAGE = 2;

/**
 * An error the user can act on, with a Node-style `code` (`EINVAL`, `ENOENT`, …) and the exit
 * status to leave with. Commands throw it for bad arguments and files; {@link describeError}
 * prints it as one line.
 */
export class CliError extends Error {
  /** The message reads `CODE: message` (unless it already starts with the code). */
  constructor(
    /** Node-style error code, e.g. `EINVAL`. */
    readonly code: string,
    message: string,
    /** Exit status; {@link EXIT_FAILURE} unless given. */
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message.startsWith(`${code}:`) ? message : `${code}: ${message}`);
    this.name = "CliError";
  }
}

/**
 * `message` without a leading `CODE: ` of its own, for wrapping an error in context without
 * repeating its code ("ENOMEM: workload step 3 (anon): out of memory…").
 */
export function withoutCode(message: string, code: string): string {
  return message.startsWith(`${code}: `) ? message.slice(code.length + 2) : message;
}

/** Throws a {@link CliError} with code EINVAL: a bad option value or argument. */
export function usage(message: string): never {
  throw new CliError("EINVAL", message, EXIT_USAGE);
}

/** How a failure is reported: one line, the exit status, and a stack only for an internal error. */
export interface ErrorReport {
  /** One line, without the trailing newline. */
  line: string;
  /** Exit status to leave with: {@link EXIT_FAILURE}, a CliError's own, or 70 (EX_SOFTWARE) for an internal error. */
  exitCode: number;
  /** The stack trace of an internal error (a bug), to print after the line; undefined otherwise. */
  stack?: string;
}

/**
 * Turns anything thrown into what the user sees. Errors with a string `code` — Folio's
 * (`FolioError`, the VFS's Node-shaped errors), Node's own system errors, this CLI's — are the
 * user's or the operation's failure: one line with the message. Anything else (a `TypeError` from
 * a bug) is an internal error: one line that says so, and the stack for the bug report.
 */
export function describeError(e: unknown): ErrorReport {
  if (e instanceof CliError) return { line: oneLine(e.message), exitCode: e.exitCode };
  const code = (e as { code?: unknown } | null)?.code;
  if (e instanceof Error && typeof code === "string") {
    // Node's system errors spell the code in the message already ("ENOENT: no such file…").
    const msg = e.message.startsWith(code) ? e.message : `${code}: ${e.message}`;
    return { line: oneLine(msg), exitCode: EXIT_FAILURE };
  }
  const msg = e instanceof Error ? e.message : String(e);
  const report: ErrorReport = { line: `internal error (a bug in Folio, please report it): ${oneLine(msg)}`, exitCode: 70 };
  if (e instanceof Error && e.stack !== undefined) report.stack = e.stack;
  return report;
}

/** Joins a multi-line message into one line. */
function oneLine(s: string): string {
  return s.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "").join(" — ");
}
