import type { FileType } from "@folio/fs-api";

/** A positive dentry: the name resolves to this inode, of this type (types never change). */
export interface Dentry {
  /** The inode the name resolves to. */
  readonly ino: number;
  /** Its type, cached so a walk knows a directory without getattr. */
  readonly type: FileType;
}

/** What {@link DentryCache.get} returns for a cached negative entry: the name is known absent. */
export const NEGATIVE = null;

/**
 * The dentry cache (Linux's dcache, reduced to what a path walk needs): `(mount, directory
 * inode, name) → inode` with negative entries for names known not to exist.
 *
 * Contract:
 * * Entries are keyed by the directory's inode number, never by path, so renaming a directory
 *   invalidates nothing below it.
 * * Every namespace operation that goes through the VFS updates or drops exactly the entries it
 *   affects (create/mkdir/symlink/link add a positive entry; unlink/rmdir turn it negative; rename
 *   moves it; rmdir also drops everything cached under the removed directory; umount drops the
 *   mount's entries). A filesystem whose namespace changes behind the VFS's back must not be
 *   used with it.
 * * Dentries do not pin inodes: open files do (the VFS's inode reference counts). So every entry
 *   is "unused" in Linux's sense and may be dropped at any time; dropping one costs only a
 *   lookup later. {@link shrink} drops the least recently used first: the reclaim shrinker calls
 *   it through `Vfs.shrinkCaches`.
 * * The cache holds at most `limit` entries; inserting beyond it drops the least recently used.
 */
export class DentryCache {
  private readonly entries = new Map<string, Dentry | null>();
  /** Names cached under each directory ("mount:ino" → keys), so a removed directory's entries can go. */
  private readonly children = new Map<string, Set<string>>();
  /** Lookup counts since creation; they only grow. */
  readonly stats = {
    /** Lookups that found a positive entry. */
    hits: 0,
    /** Lookups that found a negative entry (the name is known absent). */
    negativeHits: 0,
    /** Lookups that found nothing cached. */
    misses: 0,
  };

  /**
   * An empty cache; the VFS makes one, sized by `VfsOptions.dentryLimit`.
   *
   * @param limit - Most entries, positive and negative, kept at once.
   */
  constructor(readonly limit = 65536) {}

  /** Number of entries, positive and negative. */
  get size(): number {
    return this.entries.size;
  }

  /** Number of negative entries. */
  get negatives(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e === null) n++;
    return n;
  }

  /** The cached entry: a {@link Dentry}, {@link NEGATIVE} (null) for a known-absent name, or undefined on a miss. */
  get(mount: number, dir: number, name: string): Dentry | null | undefined {
    const key = entryKey(mount, dir, name);
    const e = this.entries.get(key);
    if (e === undefined) {
      this.stats.misses++;
      return undefined;
    }
    // Move to the most recently used end.
    this.entries.delete(key);
    this.entries.set(key, e);
    if (e === null) this.stats.negativeHits++;
    else this.stats.hits++;
    return e;
  }

  /** Caches `name` in `dir` as `entry`, or as negative when `entry` is null. */
  set(mount: number, dir: number, name: string, entry: Dentry | null): void {
    const key = entryKey(mount, dir, name);
    this.entries.delete(key);
    this.entries.set(key, entry);
    const parent = dirKey(mount, dir);
    let names = this.children.get(parent);
    if (!names) this.children.set(parent, (names = new Set()));
    names.add(key);
    if (this.entries.size > this.limit) this.shrink(this.entries.size - this.limit);
  }

  /** Forgets one name. */
  invalidate(mount: number, dir: number, name: string): void {
    const key = entryKey(mount, dir, name);
    if (this.entries.delete(key)) this.children.get(dirKey(mount, dir))?.delete(key);
  }

  /** Forgets every name cached under a directory (it was removed, its inode number may be reused). */
  dropDir(mount: number, dir: number): void {
    const parent = dirKey(mount, dir);
    for (const key of this.children.get(parent) ?? []) this.entries.delete(key);
    this.children.delete(parent);
  }

  /** Forgets everything cached for a mount (at unmount). */
  dropMount(mount: number): void {
    const prefix = `${mount}:`;
    for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
    for (const key of this.children.keys()) if (key.startsWith(prefix)) this.children.delete(key);
  }

  /** Drops up to `n` entries, least recently used first; returns how many went. */
  shrink(n: number): number {
    let dropped = 0;
    for (const key of this.entries.keys()) {
      if (dropped >= n) break;
      this.entries.delete(key);
      const cut = key.lastIndexOf("/");
      const parent = key.slice(0, cut);
      const names = this.children.get(parent);
      if (names) {
        names.delete(key);
        if (names.size === 0) this.children.delete(parent);
      }
      dropped++;
    }
    return dropped;
  }
}

/** "mount:ino", the key of a directory (or any inode) of a mount. */
export function dirKey(mount: number, ino: number): string {
  return `${mount}:${ino}`;
}

function entryKey(mount: number, dir: number, name: string): string {
  // A name never contains "/", so the last "/" separates the directory key from the name.
  return `${mount}:${dir}/${name}`;
}
