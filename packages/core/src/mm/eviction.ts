/**
 * The eviction policy plugin interface: which cached page goes when memory is needed.
 *
 * A cache (the kernel's reclaim, or the trace simulator) owns membership: it decides what is
 * resident, inserts on a miss, and removes what the policy picks. The policy only keeps order and
 * history. Keys are opaque non-negative integers below 2^53 that identify a page for as long as
 * it exists: in the kernel `owner id × 2^32 + page index`, in trace replay the page number.
 *
 * Workingset detection travels through shadow values: when the cache evicts a key it asks the
 * policy for a `shadow` value and keeps it (in the kernel, as a value entry in the mapping's index;
 * in the simulator, in a bounded map); when the key comes back, the cache hands the value to
 * `insert`. A policy that keeps its own ghost history returns -1 and ignores what it gets.
 */
export interface EvictionPolicy {
  /** Short name, e.g. "lru", "arc", "linux". */
  readonly name: string;
  /** The cache's capacity in pages; called before use and whenever it changes. */
  resize(capacity: number): void;
  /**
   * `key` was inserted after a miss; `shadow` is what {@link EvictionPolicy.shadow | shadow} returned at its last eviction,
   * or -1. May return a hint (a non-negative integer) that the cache keeps with the page and passes
   * to {@link access}, so the policy can skip its own lookup; a hint may go stale, and the policy
   * must check it.
   */
  insert(key: number, shadow: number): number | void;
  /**
   * A resident `key` was accessed; `hint` is what insert or keep returned for it, if anything. Must
   * be cheap: it is on the hit path. May return true to promise that further accesses of `key`
   * change nothing (Linux: a referenced page on the active list) for as long as {@link EvictionPolicy.epoch | epoch} keeps
   * its value: the cache then skips the call (touching only its own page descriptor, as Linux's
   * folio_mark_accessed does on such a page).
   */
  access(key: number, hint?: number): boolean | void;
  /**
   * Optional, with `access` returning true: a counter the policy changes whenever some page may
   * leave the state in which accesses change nothing (a deactivation). Read on every hit.
   */
  readonly epoch?: number;
  /** Chooses a resident victim, stops tracking it as resident, and returns it; -1 when empty. */
  evict(): number;
  /** The value to remember for a key just evicted (for workingset refault detection), or -1. */
  shadow(key: number): number;
  /** The cache could not evict `key` (dirty, locked, pinned): it stays resident and tracked. May return a new hint, as insert. */
  keep(key: number): number | void;
  /** A resident `key` left the cache for another reason (truncate, invalidation). */
  remove(key: number): void;
  /** Resident keys tracked. */
  readonly size: number;
  /** Optional: the policy's own counters (activations, ghost hits…), added to the machine's vmstat. */
  counters?(): Readonly<Record<string, number>>;
  /**
   * Optional: whether the policy holds resident `key` among its active (frequently used) pages —
   * Linux's active list. Reports call it for every page on the LRU to fill meminfo's `Active` and
   * vmstat's `nr_active_*`; a policy without such a notion leaves it out, and all its pages count
   * as inactive. Not on any hot path.
   */
  isActive?(key: number): boolean;
}

/** Constructs a policy; registered by name so a machine or a simulation can choose one. */
export type EvictionPolicyFactory = () => EvictionPolicy;

const policies = new Map<string, EvictionPolicyFactory>();

/** Registers a policy by name (process-wide: factories hold no state). */
export function registerEvictionPolicy(name: string, factory: EvictionPolicyFactory): void {
  policies.set(name, factory);
}

/** Names of the registered policies. */
export function evictionPolicyNames(): string[] {
  return [...policies.keys()];
}

/** A new instance of the policy registered as `name`; undefined when there is none. */
export function createEvictionPolicy(name: string): EvictionPolicy | undefined {
  return policies.get(name)?.();
}

/** The default policy of a machine: Linux's active/inactive lists with workingset detection. */
export const DEFAULT_EVICTION_POLICY = "linux";
