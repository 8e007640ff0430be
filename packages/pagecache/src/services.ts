import type { Machine } from "@folio/core";
import { PageCache } from "./page-cache.js";
import { Flusher, type WritebackTunables } from "./writeback.js";

/** Injection tokens of the page-cache services of a machine. */
export const PAGECACHE_TOKENS = {
  /** The machine's {@link PageCache}. */
  PageCache: Symbol.for("folio.PageCache"),
  /** The machine's writeback {@link Flusher}. */
  Flusher: Symbol.for("folio.Flusher"),
} as const;

/**
 * Installs the page cache and the writeback flusher in a machine's container (once; later calls
 * return the same services), so filesystems can inject them by {@link PAGECACHE_TOKENS}.
 */
export function installPageCache(machine: Machine, tunables: Partial<WritebackTunables> = {}): {
  /** The machine's page cache. */
  cache: PageCache;
  /** The machine's flusher (its tunables are those of the first call). */
  flusher: Flusher;
} {
  const c = machine.container;
  if (c.isRegistered(PAGECACHE_TOKENS.PageCache)) {
    return { cache: c.resolve(PAGECACHE_TOKENS.PageCache), flusher: c.resolve(PAGECACHE_TOKENS.Flusher) };
  }
  const cache = new PageCache(machine);
  const flusher = new Flusher(cache, tunables);
  c.register(PAGECACHE_TOKENS.PageCache, { useValue: cache });
  c.register(PAGECACHE_TOKENS.Flusher, { useValue: flusher });
  return { cache, flusher };
}
