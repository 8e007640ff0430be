/**
 * The public page interface: what the rest of the system may ask of whoever owns a folio.
 *
 * Memory is self-describing: from a frame's struct page alone, migration, compaction, reclaim,
 * memory-failure handling and the page-fault path find the folio and its owner, and then talk to
 * the owner only through these three calls. Everything else an owner does with its folios (a
 * filesystem reading or writing them back) is its private business, done through callbacks it
 * hands to the helpers it calls, never through a shared table.
 */

/** Who is asking, and why. Owners may answer differently: truncate cannot be refused. */
export const enum PageOpCaller {
  /** Memory reclaim (kswapd or direct) wants the memory back. */
  Reclaim = 0,
  /** Compaction wants the frames to build a larger free block. */
  Compaction = 1,
  /** A hardware error hit a frame of the folio. */
  MemoryFailure = 2,
  /** The owner's own range is being truncated or invalidated. */
  Truncate = 3,
  /** A store through a user mapping (or get_user_pages for write) dirtied the folio. */
  UserMapping = 4,
  /** A soft offline moves content off a frame that reports correctable errors. */
  SoftOffline = 5,
  /** A test or a tool. */
  Other = 6,
}

/** Names of {@link PageOpCaller} values. */
export const PAGE_OP_CALLER_NAMES = ["reclaim", "compaction", "memory-failure", "truncate", "user-mapping", "soft-offline", "other"] as const;

/** The outcome of a public page operation: a reason, never a bare boolean. */
export const enum PageOpResult {
  /** The owner did what was asked. */
  Done = 0,
  /** The folio is in use in a way that forbids it right now (locked, under writeback, mapped); try later. */
  Busy = 1,
  /** Someone holds extra references (a pin for DMA, get_user_pages): the folio cannot move or go. */
  Pinned = 2,
  /** Doing it would need to wait (for I/O, a lock) and the caller said it cannot. */
  WouldBlock = 3,
  /** The owner tried and failed (an I/O error); the folio is unchanged. */
  Failed = 4,
  /** This owner never does this (an unmovable owner asked to migrate). */
  Unsupported = 5,
}

/** Names of {@link PageOpResult} values. */
export const PAGE_OP_RESULT_NAMES = ["done", "busy", "pinned", "would-block", "failed", "unsupported"] as const;

/** Context passed with every call. */
export interface PageOpContext {
  /** Who asks. */
  readonly caller: PageOpCaller;
  /** The caller cannot wait (reclaim from an atomic allocation, async compaction). */
  readonly mayNotBlock?: boolean;
  /**
   * Reclaim only: the eviction policy's workingset value for the page (its eviction timestamp),
   * which `release` leaves in the owner's index as a shadow entry in place of the folio; absent or
   * negative for none. The owner hands it back when the page is inserted again (a refault).
   */
  readonly shadow?: number;
  /**
   * Memory failure only: the frame that failed. An owner holding it in a large folio may split the
   * folio (`Migration.splitFolio`) and give up only the piece holding this frame, keeping the rest.
   */
  readonly pfn?: number;
}

/**
 * Implemented by every owner of movable or reclaimable folios: a file's page cache (via the
 * default implementation in @folio/pagecache, which a filesystem may wrap), anonymous memory,
 * and movable slab caches. Calls arrive with the folio's reference held by the caller and, for
 * `migrate` and `release`, with the folio locked by the caller (it took the lock with a trylock:
 * a folio someone else holds locked, for I/O say, is busy to the caller, who never asks). The
 * owner neither takes nor drops that lock.
 */
export interface PageOwner {
  /**
   * Short human label for this owner: `"inode 12 on fs-simple"`. `describe` prints it; it is
   * data, not a call.
   */
  readonly label: string;

  /**
   * `dirty(folio)`: the folio's contents were changed behind the owner's back (a store through a
   * user mapping, a write by a device). The owner records whatever that means for it: a page
   * cache folio becomes dirty in its mapping and will be written back; an anonymous folio needs
   * a new swap copy. Called by the fault and page-table code and by get_user_pages users.
   * Returns Done, or Failed if the owner cannot accept the change (read-only, no space reserved).
   */
  dirty(folio: number, ctx: PageOpContext): PageOpResult;

  /**
   * `migrate(src, dst)`: move the owner's use of `src` to `dst`, a freshly allocated folio of the
   * same order (refcount 1, which becomes the owner's reference). The owner copies the data and
   * state it keeps (`moveFolioState`), points its index at `dst`, moves LRU membership
   * (`reclaim.replace`) and drops its reference on `src`. Page tables are not its business:
   * `Migration` has taken down every entry mapping `src` before the call and puts them back on
   * whichever folio holds the data after it. Called through `Migration.migrateFolio` (compaction,
   * soft offline, explicit migration), with `src` isolated and locked and the caller holding one
   * reference: any reference beyond the owner's and the caller's is someone using the folio, and
   * the answer is Pinned. Returns Done, or Busy/Pinned/WouldBlock/Failed/Unsupported leaving `src`
   * exactly as it was.
   */
  migrate(src: number, dst: number, ctx: PageOpContext): PageOpResult;

  /**
   * `release(folio)`: give the folio up. A clean cache folio is removed from the owner's index
   * (a shadow entry may remain) and its reference dropped; a dirty one is refused (Busy) unless
   * the caller is memory failure or truncate, which drop its data (the owner records the loss).
   * Memory failure passes the failed frame in `ctx.pfn`: an owner may split a large folio and drop
   * only the piece holding it; a dirty page it drops is lost, and the owner must make every later
   * user of that data see an error rather than older or zeroed data.
   * Called by reclaim, truncate and memory failure. Returns Done, or a reason it was kept.
   */
  release(folio: number, ctx: PageOpContext): PageOpResult;
}

/**
 * Owner ids for folio descriptors. A folio records its owner as a small integer; the registry
 * turns it back into the {@link PageOwner}. Id 0 means "no owner".
 */
export class OwnerRegistry {
  private readonly owners: (PageOwner | undefined)[] = [undefined];
  private readonly freeIds: number[] = [];

  /** Registers an owner and returns its id (never 0). */
  register(owner: PageOwner): number {
    const id = this.freeIds.pop() ?? this.owners.length;
    this.owners[id] = owner;
    return id;
  }

  /** Forgets an owner; its id may be reused. The owner must own no folios any more. */
  unregister(id: number): void {
    if (this.owners[id] !== undefined) {
      this.owners[id] = undefined;
      this.freeIds.push(id);
    }
  }

  /** The owner with id `id`, or undefined. */
  get(id: number): PageOwner | undefined {
    return this.owners[id];
  }
}
