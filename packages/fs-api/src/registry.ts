import "reflect-metadata";
import { injectable } from "tsyringe";
import { fail } from "@folio/core";
import type { FileSystemClass } from "./contract.js";

/** Tokens a filesystem's constructor may inject beyond the machine's and the page cache's. */
export const FS_TOKENS = {
  /** The mount's block device (absent for device-less filesystems such as ramfs). */
  BlockDevice: Symbol.for("folio.fs.BlockDevice"),
  /** The mount's {@link MountOptions}. */
  MountOptions: Symbol.for("folio.fs.MountOptions"),
} as const;

const types = new Map<string, FileSystemClass>();

/**
 * Class decorator that makes a filesystem type injectable and registers it by name:
 * `@filesystem("simple") class SimpleFs implements SuperBlock {…}`. The registry holds classes
 * only (no machine state), so it is safely process-wide; each mount constructs its own instance in
 * a child container of its machine.
 */
export function filesystem(name: string) {
  return <T extends FileSystemClass>(cls: T): T => {
    if (types.has(name) && types.get(name) !== cls) throw fail("EEXIST", `filesystem type "${name}" is already registered`);
    injectable()(cls as never);
    types.set(name, cls);
    return cls;
  };
}

/** The filesystem type registered as `name`; throws ENODEV-like EINVAL naming the known types. */
export function filesystemType(name: string): FileSystemClass {
  const cls = types.get(name);
  if (!cls) throw fail("EINVAL", `unknown filesystem type "${name}" (known: ${[...types.keys()].join(", ") || "none"})`);
  return cls;
}

/** Names of every registered filesystem type. */
export function filesystemTypes(): string[] {
  return [...types.keys()];
}

/**
 * The registered filesystem type whose {@link FileSystemClass.probe} recognises `head` (the first
 * bytes of a device), preferring a primary superblock over a backup one; undefined when none does.
 * Types without a probe are never chosen. Callers: tools that open an image without being told
 * its type (`folio fsck`, `folio mount disk.img …`).
 */
export function probeFilesystem(head: Uint8Array): string | undefined {
  let best: string | undefined;
  let bestScore = 0;
  for (const [name, cls] of types) {
    const score = cls.probe?.(head) ?? 0;
    if (score > bestScore) [best, bestScore] = [name, score];
  }
  return best;
}