/**
 * Test helpers: a machine with a VFS whose root is the tutorial ramfs of examples/ramfs.ts. The
 * example itself is loaded (it registers the "ramfs" type), so the tests exercise it; the root
 * build (`tsc -b`) builds examples/dist before these tests run.
 */
import "reflect-metadata";
import type { ExecutionContext } from "ava";
import { Machine, isFolioError } from "@folio/core";
import { filesystemType } from "@folio/fs-api";
import { Vfs, createNodeFs, type NodeFs } from "../src/index.js";

await import(new URL("../../../../examples/dist/ramfs.js", import.meta.url).href);
/** The ramfs class of examples/ramfs.ts, from the registry. */
export const RamFs = filesystemType("ramfs");

export interface Booted {
  machine: Machine;
  vfs: Vfs;
  fs: NodeFs;
}

/** Boots a machine, creates its VFS and mounts ramfs at "/". */
export function boot(seed = 1, memory = "32MiB"): Booted {
  const machine = Machine.boot({ memory, seed });
  const vfs = new Vfs(machine);
  vfs.mount("/", "ramfs");
  return { machine, vfs, fs: createNodeFs(vfs) };
}

/** Asserts that `fn` throws a Node-shaped fs error with `code` (and `syscall`/`path`/`dest` when given). */
export function throwsCode(
  t: ExecutionContext,
  fn: () => unknown,
  code: string,
  more: { syscall?: string; path?: string; dest?: string; message?: string } = {},
): Error & { code: string } {
  try {
    fn();
  } catch (e) {
    const err = e as Error & { code: string; errno?: number; syscall?: string; path?: string; dest?: string };
    t.is(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    if (more.syscall !== undefined) t.is(err.syscall, more.syscall);
    if (more.path !== undefined) t.is(err.path, more.path);
    if (more.dest !== undefined) t.is(err.dest, more.dest);
    if (more.message !== undefined) t.is(err.message, more.message);
    if (isFolioError(err)) t.true(typeof err.errno === "number" && err.errno < 0, "errno is negative, as Node reports it");
    return err;
  }
  t.fail(`expected ${code}, nothing was thrown`);
  throw new Error("unreachable");
}

/** Asserts that a promise rejects with a Node-shaped error with `code`. */
export async function rejectsCode(t: ExecutionContext, p: Promise<unknown>, code: string, syscall?: string): Promise<void> {
  const err = (await t.throwsAsync(p)) as (Error & { code?: string; syscall?: string }) | undefined;
  t.is(err?.code, code, err?.message);
  if (syscall !== undefined) t.is(err?.syscall, syscall);
}
