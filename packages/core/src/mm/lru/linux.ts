/**
 * "linux": Linux's two-list page reclaim for file pages with workingset detection — the
 * active/inactive LRU of mm/vmscan.c, folio_mark_accessed() of mm/swap.c and the refault distance
 * of mm/workingset.c (as in Linux 6.x without MGLRU). The default policy.
 *
 * Lists and bits (per page: PG_referenced, PG_workingset; the list it is on is PG_active):
 *
 * - **Insertion** (`folio_add_lru`): a new page goes to the head of the inactive list,
 *   unreferenced — "freshly faulted pages start out at the head of the inactive list".
 * - **Access** (`folio_mark_accessed`): on an inactive page, the first access sets PG_referenced,
 *   the second activates it (to the active head, PG_referenced cleared, `workingset_activation`
 *   ages the non-resident clock). On an active page it only sets PG_referenced: the active list
 *   is not reordered by accesses.
 * - **Reclaim** (`shrink_lruvec` for one page): first the active list is aged when
 *   `inactive_is_low` — inactive × ratio < active, ratio = 1 below 1 GiB of LRU pages (262,144
 *   pages of 4 KiB) and ⌊√(10 × GiB)⌋ above — deactivating tail pages until the balance holds; or,
 *   as `prepare_scan_control` does since Linux 5.9, when workingset activations (refaults)
 *   happened since the last reclaim, at the rate Linux scans both lists (active/inactive pages of
 *   the active list per inactive page). `shrink_active_list` moves the tail page to the inactive
 *   head, clears PG_referenced and sets PG_workingset. Then `shrink_inactive_list` takes the
 *   inactive tail: a referenced page gets its second chance by activation (what
 *   `folio_check_references` does with a page referenced since it was last looked at); an
 *   unreferenced one is the victim. When the inactive list is empty, the active tail is
 *   deactivated first.
 * - **Eviction** (`workingset_eviction`): the shadow value is the non-resident age (the
 *   `lruvec->nonresident_age` counter of evictions and activations) read before this eviction
 *   increments it, times 2, plus 1 if the page had PG_workingset (it had been active).
 * - **Refault** (`workingset_refault`, given the stored shadow): workingset_refault++; the refault
 *   distance is age now − age at eviction; if it is ≤ the active list's size (the workingset a
 *   refaulting file page competes with), the page goes straight to the active list,
 *   workingset_activate++ and the age advances (`workingset_age_nonresident`); a page that had
 *   PG_workingset also counts workingset_restore and keeps the bit (as in Linux, restores are
 *   counted among the activated refaults).
 *
 * Parameters: none to tune — the inactive ratio is Linux's formula and the refault comparison
 * uses the active list size, as Linux does for file pages without swap. All operations are O(1)
 * except the bounded aging: each deactivation or second-chance activation consumes an activation
 * or a reference bit that an access paid for, so reclaim is amortised O(1).
 */
import { type EvictionPolicy, registerEvictionPolicy } from "../eviction.js";
import { NIL, NO_LIST, NodePool, checkCapacity } from "./node-pool.js";

const INACTIVE = 0;
const ACTIVE = 1;

const REFERENCED = 1;
const WORKINGSET = 2;

/** Victims remembered for {@link LinuxPolicy.keep}; a victim kept after more evictions than this only loses its PG_workingset bit. */
const PENDING_LIMIT = 4096;

/** Pages of 4 KiB in 1 GiB: where Linux's inactive:active ratio starts to grow. */
export const PAGES_PER_GIB = 262_144;

/** Linux's inactive_is_low() ratio for an LRU of `pages` pages: 1 below 1 GiB, ⌊√(10·GiB)⌋ above. */
export function inactiveRatio(pages: number): number {
  const gb = Math.floor(pages / PAGES_PER_GIB);
  return gb > 0 ? Math.floor(Math.sqrt(10 * gb)) : 1;
}

/** The counters of the policy, named as in /proc/vmstat. */
export type LinuxCounters = {
  /** Refaults of evicted file pages (a shadow entry was found when the page came back). */
  workingset_refault_file: number;
  /** Refaults that activated the page at once, because its refault distance fit the active list. */
  workingset_activate_file: number;
  /** Refaults of pages that were in the workingset when evicted (PG_workingset set again). */
  workingset_restore_file: number;
  /** Activations by access or second chance (not counting refault activations). */
  pgactivate: number;
  /** Pages moved from the active to the inactive list to rebalance them. */
  pgdeactivate: number;
  /** Pages evicted. */
  pgsteal_file: number;
  /** The non-resident age clock (lruvec->nonresident_age). */
  nonresident_age: number;
  /** Keys (folios, to the kernel) on the inactive list now; the machine's vmstat counts pages (Stat.InactiveFile) and shows that instead. */
  nr_inactive_file: number;
  /** Keys on the active list now; as {@link nr_inactive_file}. */
  nr_active_file: number;
};

export class LinuxPolicy implements EvictionPolicy {
  readonly name = "linux";
  private readonly pool = new NodePool(2);
  private capacity = 0;
  /** lruvec->nonresident_age: evictions + activations. */
  private age = 0;
  private refaults = 0;
  private refaultActivations = 0;
  private restores = 0;
  private activations = 0;
  private deactivations = 0;
  private evictions = 0;
  /** workingset_activate at the end of the last reclaim (lruvec->refaults). */
  private refaultSnapshot = 0;
  /** Fractional active-list scan carried between reclaims while refaults drive deactivation. */
  private scanCredit = 0;
  private lastKey = -1;
  private lastShadow = -1;
  /** Advanced by every deactivation: the only way a referenced active page stops ignoring accesses. */
  epoch = 0;
  /** Bits of recent victims, by key, in case the cache keeps them after all (bounded, oldest dropped). */
  private readonly pending = new Map<number, number>();

  get size(): number {
    return this.pool.count[INACTIVE]! + this.pool.count[ACTIVE]!;
  }

  resize(capacity: number): void {
    this.capacity = checkCapacity(capacity);
  }

  /** Returns the page's node as a hint for {@link access}. */
  insert(key: number, shadow: number): number {
    const pool = this.pool;
    const found = pool.find(key);
    if (found !== NIL) return found;
    const n = pool.alloc(key);
    if (shadow >= 0) {
      this.refaults++;
      const eviction = Math.floor(shadow / 2);
      const workingset = shadow % 2 === 1;
      const distance = this.age - eviction;
      if (distance >= 0 && distance <= pool.count[ACTIVE]!) {
        this.refaultActivations++;
        this.age++;
        if (workingset) {
          pool.bits[n] = WORKINGSET;
          this.restores++;
        }
        pool.pushHead(ACTIVE, n);
        return n;
      }
    }
    pool.pushHead(INACTIVE, n);
    return n;
  }

  /**
   * folio_mark_accessed. Returns true when the page is now referenced on the active list, where
   * accesses change nothing until a deactivation (which advances {@link epoch}).
   */
  access(key: number, hint = NIL): boolean {
    const pool = this.pool;
    // Every node on a list is resident, so a hint naming a listed node of this key is its node.
    const n = hint >= 0 && hint < pool.keys.length && pool.keys[hint] === key && pool.list[hint] !== NO_LIST ? hint : pool.find(key);
    if (n === NIL) return false;
    const b = pool.bits[n]!;
    if ((b & REFERENCED) === 0) {
      pool.bits[n] = b | REFERENCED;
      return pool.list[n] === ACTIVE;
    }
    if (pool.list[n] === INACTIVE) this.activate(n);
    return false;
  }

  evict(): number {
    const pool = this.pool;
    if (this.size === 0) return -1;
    this.ageActive();
    for (;;) {
      const t = pool.tail[INACTIVE]!;
      if (t === NIL) {
        this.deactivate(pool.tail[ACTIVE]!);
        continue;
      }
      if ((pool.bits[t]! & REFERENCED) !== 0) {
        this.activate(t);
        continue;
      }
      const key = pool.keys[t]!;
      const bits = pool.bits[t]!;
      this.lastKey = key;
      this.pending.set(key, bits);
      if (this.pending.size > PENDING_LIMIT) this.pending.delete(this.pending.keys().next().value!);
      this.lastShadow = this.age * 2 + ((bits & WORKINGSET) !== 0 ? 1 : 0);
      this.age++;
      this.evictions++;
      pool.free(t);
      this.refaultSnapshot = this.refaultActivations;
      return key;
    }
  }

  /** The eviction timestamp (non-resident age) of `key`, just evicted, with its workingset bit. */
  shadow(key: number): number {
    return key === this.lastKey ? this.lastShadow : -1;
  }

  /**
   * The page could not go (dirty, locked): it is put back at the inactive head with its
   * PG_workingset bit, and its eviction is not counted. The cache may keep several victims aside
   * before putting them back; the last `PENDING_LIMIT` (4096) victims are remembered for this.
   */
  keep(key: number): number {
    const pool = this.pool;
    const found = pool.find(key);
    if (found !== NIL) return found;
    const n = pool.alloc(key);
    const bits = this.pending.get(key);
    if (bits !== undefined) {
      this.pending.delete(key);
      pool.bits[n] = bits & WORKINGSET;
      this.age--;
      this.evictions--;
      if (key === this.lastKey) {
        this.lastKey = -1;
        this.lastShadow = -1;
      }
    }
    pool.pushHead(INACTIVE, n);
    return n;
  }

  remove(key: number): void {
    const n = this.pool.find(key);
    if (n !== NIL) this.pool.free(n);
  }

  /** On the active list. */
  isActive(key: number): boolean {
    const n = this.pool.find(key);
    return n !== NIL && this.pool.list[n] === ACTIVE;
  }

  counters(): LinuxCounters {
    return {
      workingset_refault_file: this.refaults,
      workingset_activate_file: this.refaultActivations,
      workingset_restore_file: this.restores,
      pgactivate: this.activations,
      pgdeactivate: this.deactivations,
      pgsteal_file: this.evictions,
      nonresident_age: this.age,
      nr_inactive_file: this.pool.count[INACTIVE]!,
      nr_active_file: this.pool.count[ACTIVE]!,
    };
  }

  /** Both lists from head to tail, with the referenced and workingset pages. */
  snapshot(): {
    /** Pages the policy was sized for (its {@link resize}). */
    capacity: number;
    /** Keys on the inactive list, head (newest) first. */
    inactive: number[];
    /** Keys on the active list, head first. */
    active: number[];
    /** Keys, of either list, with PG_referenced set. */
    referenced: number[];
    /** Keys, of either list, with PG_workingset set. */
    workingset: number[];
  } {
    const inactive = this.pool.keysOf(INACTIVE);
    const active = this.pool.keysOf(ACTIVE);
    const all = [...inactive, ...active];
    const has = (k: number, bit: number) => (this.pool.bits[this.pool.find(k)]! & bit) !== 0;
    return {
      capacity: this.capacity,
      inactive,
      active,
      referenced: all.filter((k) => has(k, REFERENCED)),
      workingset: all.filter((k) => has(k, WORKINGSET)),
    };
  }

  /** folio_activate + workingset_activation: to the active head, PG_referenced cleared. */
  private activate(n: number): void {
    const pool = this.pool;
    pool.unlink(n);
    pool.bits[n] = pool.bits[n]! & ~REFERENCED;
    pool.pushHead(ACTIVE, n);
    this.age++;
    this.activations++;
  }

  /** shrink_active_list for one page: to the inactive head, PG_referenced cleared, PG_workingset set. */
  private deactivate(n: number): void {
    const pool = this.pool;
    pool.unlink(n);
    pool.bits[n] = (pool.bits[n]! & ~REFERENCED) | WORKINGSET;
    pool.pushHead(INACTIVE, n);
    this.deactivations++;
    this.epoch++;
  }

  /** The active-list half of shrink_lruvec: inactive_is_low, or refaults since the last reclaim. */
  private ageActive(): void {
    const pool = this.pool;
    const count = pool.count;
    const ratio = inactiveRatio(count[INACTIVE]! + count[ACTIVE]!);
    if (count[INACTIVE]! * ratio < count[ACTIVE]!) {
      while (count[INACTIVE]! * ratio < count[ACTIVE]!) this.deactivate(pool.tail[ACTIVE]!);
    } else if (this.refaultActivations !== this.refaultSnapshot && count[ACTIVE]! > 0) {
      // Scan the active list at its share: active/inactive pages per inactive page reclaimed.
      this.scanCredit += count[ACTIVE]! / Math.max(1, count[INACTIVE]!);
      while (this.scanCredit >= 1 && count[ACTIVE]! > 0) {
        this.deactivate(pool.tail[ACTIVE]!);
        this.scanCredit -= 1;
      }
    }
  }
}

registerEvictionPolicy("linux", () => new LinuxPolicy());
