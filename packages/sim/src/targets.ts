/**
 * The filesystems the harness knows. Adding one is one entry in {@link TARGETS}: its registered
 * type name, the image size, mkfs and fsck, and its persistence rules.
 */
import { LogFs } from "@folio/fs-log";
import { SimpleFs } from "@folio/fs-simple";
import type { DeviceContext, FsckReport, MountOptions } from "@folio/fs-api";
import { staleTailsSimple } from "./inspect-simple.js";
import { LOG_RULES, SIMPLE_RULES, type PersistenceRules } from "./persistence.js";

/** A filesystem the harness can test: how to make, check and mount it, and what it promises. */
export interface FsTarget {
  /** Name on the command line (`--fs simple`). */
  readonly name: string;
  /** The `@filesystem` type name to mount. */
  readonly type: string;
  /** Image size in 4 KiB blocks: small, so ENOSPC happens and fsck after each crash is cheap. */
  readonly blocks: number;
  /** Writes an empty filesystem. */
  mkfs(ctx: DeviceContext): void;
  /** Checks (and with `repair` repairs) an unmounted image. */
  fsck(ctx: DeviceContext, repair: boolean): FsckReport;
  /** What fsync, a directory's fsync and sync make durable. */
  readonly rules: PersistenceRules;
  /** Mount options. */
  readonly mountOptions?: MountOptions;
  /** After a write or flush error the filesystem changes nothing more on disk until it is mounted again (fs-log). */
  readonly shutsDownOnError?: boolean;
  /** A directory's link count is 2 + its subdirectories (checked when true). */
  readonly dirNlink: boolean;
  /** Where fsck puts what it finds without a name (for reports). */
  readonly lostFound?: string;
  /** Known-bug evidence: files whose last block holds non-zero bytes past EOF on the image. */
  staleTails?(image: Uint8Array): Map<number, {
    /** The file's size: the stale bytes lie at or after it. */
    from: number;
    /** End of the file's last block (exclusive). */
    to: number;
  }>;
}

/** The filesystems the harness tests: fs-simple (`simple`) and fs-log (`log`). */
export const TARGETS: readonly FsTarget[] = [
  {
    name: "simple",
    type: "simple",
    blocks: 1024,
    mkfs: (ctx) => SimpleFs.mkfs(ctx, {}),
    fsck: (ctx, repair) => SimpleFs.fsck(ctx, { repair }),
    rules: SIMPLE_RULES,
    dirNlink: true,
    lostFound: "lost+found",
    staleTails: staleTailsSimple,
  },
  {
    name: "log",
    type: "log",
    blocks: 2048,
    mkfs: (ctx) => LogFs.mkfs(ctx, {}),
    fsck: (ctx, repair) => LogFs.fsck(ctx, { repair }),
    rules: LOG_RULES,
    dirNlink: false,
    shutsDownOnError: true,
  },
];

/** The target named `name`; throws naming the known ones. */
export function target(name: string): FsTarget {
  const t = TARGETS.find((x) => x.name === name);
  if (!t) throw new Error(`unknown filesystem "${name}" (known: ${TARGETS.map((x) => x.name).join(", ")})`);
  return t;
}
