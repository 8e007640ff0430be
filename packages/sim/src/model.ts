/**
 * The oracle: an in-memory model of the tree (directories, files, symlinks, link counts, open
 * descriptors) and of file contents, plus what the filesystem's persistence model says is
 * durable. Every operation of the workload is predicted here (its result or its error code, in
 * the order the VFS checks them) and applied here only when the filesystem says it succeeded.
 *
 * Durability is tracked per node, relative to its last durable point (the last fsync or sync
 * that covered it, as the filesystem's {@link PersistenceRules} say):
 *
 * * a node is `inodeDurable` once some durable point wrote its inode (it then exists on disk);
 * * a file is `settled` while its contents have not changed since its durable point: after a
 *   crash it must read back exactly as `durContent`. Once changed, `dirtyPages` and `sizes`
 *   record what changed since, and only the pages untouched since must still match;
 * * a directory's `durEntries` are its entries at its last durable point; a name in `unstable`
 *   changed since (added, removed, replaced), so the disk may hold either version of it;
 * * `uncertain` marks what a failed write may have left stale on the disk (a failed write is not
 *   retried, as in Linux): nothing about it is checked until the model learns the tree again.
 *
 * Memory errors (hard offline of a frame holding a dirty page) destroy data that never reached
 * the disk. A file's `lost` pages read as EIO (Folio's rule, stricter than Linux: never older data)
 * until new data replaces them whole or truncate removes them; no durability call can make them
 * durable (the disk holds older bytes), so they count as changed since every durable point; and
 * the loss is reported once to the next fsync of every open file ({@link ModelErrSeq}).
 */
import { Content, PAGE } from "./content.js";

/** What an inode of the model is. */
export type Kind = "file" | "dir" | "symlink";

/** One inode of the model (one incarnation: a reused inode number is a new node). */
export class MNode {
  /** Link count: names of a file or symlink; 2 + subdirectories for a directory. */
  nlink: number;
  /** File contents (files only). */
  content: Content | null = null;
  /** Symlink target. */
  target: string | null = null;
  /** Directory entries by name. */
  entries: Map<string, MNode> | null = null;
  /** A directory's parent (the root's is itself). */
  parent: MNode | null = null;
  /** Descriptors open on it. */
  opens = 0;
  /** Gone: its last name and descriptor went. */
  dead = false;

  /** Some durable point wrote its inode: after a crash it exists on disk. */
  inodeDurable = false;
  /**
   * A file whose contents have not changed since its durable point: after a crash it reads back as
   * {@link durContent}.
   */
  settled = false;
  /** The inode's link count changed since its durable point. */
  metaDirty = false;
  /** A file's contents at its last durable point (null before one). */
  durContent: Content | null = null;
  /** Pages of a file changed since its durable point (meaningful while not {@link settled}). */
  dirtyPages = new Set<number>();
  /** Sizes a file had since its durable point: after a crash its size may be any of them. */
  sizes = new Set<number>();
  /** A directory's entries at its last durable point (null before one). */
  durEntries: Map<string, MNode> | null = null;
  /**
   * Names of a directory changed since its durable point: the disk may hold either version of each.
   */
  unstable = new Set<string>();
  /**
   * A failed write may have left it stale on disk: not checked until the model relearns the tree.
   */
  uncertain = false;
  /**
   * Pages of a file whose dirty data a memory error destroyed: reads of them fail with EIO and
   * accesses through mappings with SIGBUS (EHWPOISON), until replaced whole or truncated away.
   */
  lost = new Set<number>();
  /** The file's writeback error cursor (errseq) as far as losses go: what fsync must report. */
  wbErr = new ModelErrSeq();
  /**
   * False once a loss raced with an operation sampling or checking the file's error cursor (open,
   * mmap, fsync, msync): whether that one saw it depends on timing, so until the filesystem is
   * mounted again the model does not hold fsync of this file to reporting or not reporting.
   */
  wbErrKnown = true;
  /** When {@link Model.settleEntries} last ran on this directory (the model's clock). */
  settledAt = 0;
  /**
   * A directory moved out of `dir` at time `at` is durably in its new place only once `dir` too
   * was made durable after the move (until then both may hold it, and fsck keeps one of them).
   */
  movedFrom: {
    /** The directory it moved out of. */
    dir: MNode;
    /** The model's clock at the move. */
    at: number;
  }[] = [];

  /** Made by {@link Model.newNode}: a fresh node with one link (a directory two), empty. */
  constructor(
    /** Incarnation id, unique in a run. */
    readonly id: number,
    /** Inode number the filesystem gave it. */
    public ino: number,
    /** What the inode is; never changes. */
    readonly kind: Kind,
  ) {
    this.nlink = kind === "dir" ? 2 : 1;
    if (kind === "file") this.content = new Content();
    if (kind === "dir") this.entries = new Map();
  }

  /** Whether it is a directory. */
  get isDir(): boolean {
    return this.kind === "dir";
  }

  /**
   * The file changed in bytes [from, to), or wholly from `from` on (to = Infinity), and its size
   * went from `before` to its current size. Call after applying the change to `content`.
   */
  touch(from: number, to: number, before: number): void {
    if (this.kind !== "file") return;
    if (this.settled) {
      this.settled = false;
      this.sizes.clear();
      this.dirtyPages.clear();
    }
    const last = to === Infinity ? Math.max(this.content!.size, before, this.durContent?.size ?? 0, from) + PAGE : to;
    for (let p = Math.floor(from / PAGE); p * PAGE < last; p++) this.dirtyPages.add(p);
    this.sizes.add(before);
    this.sizes.add(this.content!.size);
  }
}

/** Where a path leads: its parent directory and last name, or the error resolving the parent gives. */
export type Parent =
  | {
      /** The parent directory. */
      dir: MNode;
      /** The last component. */
      name: string;
    }
  | {
      /** The error code resolving the parent gives (ENOENT, ENOTDIR). */
      err: string;
    };

/** An expected outcome: success (with a value to compare, when there is one) or an error code. */
export type Expect<T = undefined> =
  | {
      /** Success. */
      ok: true;
      /** What the operation returns, to compare with what the filesystem returned. */
      value: T;
    }
  | {
      /** Failure. */
      ok: false;
      /** The error code expected. */
      code: string;
    };

const ok = <T>(value: T): Expect<T> => ({ ok: true, value });
const err = (code: string): Expect<never> => ({ ok: false, code });

/**
 * The live tree. Paths are absolute, made of plain names (no ".", "..", empty components or
 * trailing slashes); the workload never walks through a symlink (its targets never resolve).
 */
export class Model {
  /** The root directory (its own parent). */
  root!: MNode;
  /** Live nodes (named or open) by inode number. */
  readonly byIno = new Map<number, MNode>();
  private nextId = 1;
  /** Orders namespace changes and durable points. */
  clock = 0;
  /**
   * After a write error on a filesystem that shuts down then (fs-log), nothing it is asked to do
   * afterwards may reach the disk: every later change is uncertain too, until the model relearns.
   */
  sticky = false;
  private pathsCache: { path: string; node: MNode }[] | null = null;

  /** An empty tree whose root has inode `rootIno`. */
  constructor(rootIno: number) {
    this.reset(rootIno);
  }

  /** Forgets everything: an empty root directory. */
  reset(rootIno: number): void {
    this.sticky = false;
    this.byIno.clear();
    this.root = this.newNode(rootIno, "dir");
    this.root.parent = this.root;
    this.pathsCache = null;
  }

  /**
   * A new node for inode `ino`, registered by inode number (uncertain when the model is
   * {@link sticky}). Throws if a live node still has that inode number.
   */
  newNode(ino: number, kind: Kind): MNode {
    const n = new MNode(this.nextId++, ino, kind);
    if (this.sticky) n.uncertain = true;
    const stale = this.byIno.get(ino);
    // A reused inode number: the old incarnation must be gone.
    if (stale && !stale.dead) throw new Error(`model: inode ${ino} reused while ${stale.kind} ${stale.id} is alive`);
    this.byIno.set(ino, n);
    return n;
  }

  /** Every named node with its path, root first, in name order (cached until the tree changes). */
  paths(): {
    /** Absolute path. */
    path: string;
    /** The node it names. */
    node: MNode;
  }[] {
    if (this.pathsCache) return this.pathsCache;
    const out: { path: string; node: MNode }[] = [{ path: "/", node: this.root }];
    const walk = (dir: MNode, prefix: string) => {
      for (const name of [...dir.entries!.keys()].sort()) {
        const node = dir.entries!.get(name)!;
        const path = `${prefix}/${name}`;
        out.push({ path, node });
        if (node.isDir) walk(node, path);
      }
    };
    walk(this.root, "");
    this.pathsCache = out;
    return out;
  }

  /** The tree changed shape. */
  changed(): void {
    this.pathsCache = null;
  }

  /** Resolves all but the last component. */
  parent(path: string): Parent {
    const parts = path.split("/").filter((p) => p.length > 0);
    if (parts.length === 0) return { err: "ROOT" };
    let cur = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      const next = cur.entries!.get(parts[i]!);
      if (!next) return { err: "ENOENT" };
      // A symlink in the middle is followed; the workload's targets never resolve.
      if (next.kind === "symlink") return { err: "ENOENT" };
      if (!next.isDir) return { err: "ENOTDIR" };
      cur = next;
    }
    return { dir: cur, name: parts[parts.length - 1]! };
  }

  /** The node at `path` (not following a final symlink), or the error. */
  lookup(path: string): Expect<MNode> {
    if (path === "/") return ok(this.root);
    const p = this.parent(path);
    if ("err" in p) return err(p.err);
    const n = p.dir.entries!.get(p.name);
    return n ? ok(n) : err("ENOENT");
  }

  /** True if directory `anc` is `d` or one of its ancestors. */
  isAncestor(anc: MNode, d: MNode): boolean {
    for (let cur = d; ; cur = cur.parent!) {
      if (cur === anc) return true;
      if (cur === this.root) return false;
    }
  }

  // ── namespace changes (applied after the filesystem succeeded) ──────────────────────────────

  /** Adds `node` as `name` in `dir`. */
  link(dir: MNode, name: string, node: MNode): void {
    node.metaDirty = true;
    if (this.sticky) node.uncertain = dir.uncertain = true;
    dir.entries!.set(name, node);
    dir.unstable.add(name);
    if (node.isDir) {
      node.parent = dir;
      dir.nlink++;
    }
    this.changed();
  }

  /** Removes `name` from `dir`; returns the node that lost the name. */
  unlinkName(dir: MNode, name: string): MNode {
    const node = dir.entries!.get(name)!;
    dir.entries!.delete(name);
    dir.unstable.add(name);
    node.metaDirty = true;
    if (this.sticky) node.uncertain = dir.uncertain = true;
    if (node.isDir) {
      dir.nlink--;
      node.nlink = 0;
    } else {
      node.nlink--;
    }
    this.maybeDie(node);
    this.changed();
    return node;
  }

  /** A node with no names and no descriptors is gone (the VFS evicts it). */
  maybeDie(node: MNode): void {
    if (node.opens > 0) return;
    if (node.isDir ? node.nlink === 0 : node.nlink <= 0) {
      node.dead = true;
      if (this.byIno.get(node.ino) === node) this.byIno.delete(node.ino);
    }
  }

  // ── predictions, in the order the VFS and the filesystem check ──────────────────────────────

  /** mkdir(path). */
  mkdir(path: string): Expect<{
    /** The parent directory. */
    dir: MNode;
    /** The last component of the path. */
    name: string;
  }> {
    const p = this.parent(path);
    if ("err" in p) return err(p.err === "ROOT" ? "EEXIST" : p.err);
    if (p.dir.entries!.has(p.name)) return err("EEXIST");
    return ok(p);
  }

  /** rmdir(path). */
  rmdir(path: string): Expect<{
    /** The parent directory. */
    dir: MNode;
    /** The last component of the path. */
    name: string;
  }> {
    const p = this.parent(path);
    if ("err" in p) return err(p.err === "ROOT" ? "EBUSY" : p.err);
    const n = p.dir.entries!.get(p.name);
    if (!n) return err("ENOENT");
    if (!n.isDir) return err("ENOTDIR");
    if (n.entries!.size > 0) return err("ENOTEMPTY");
    return ok(p);
  }

  /** unlink(path). */
  unlink(path: string): Expect<{
    /** The parent directory. */
    dir: MNode;
    /** The last component of the path. */
    name: string;
  }> {
    const p = this.parent(path);
    if ("err" in p) return err(p.err === "ROOT" ? "EISDIR" : p.err);
    const n = p.dir.entries!.get(p.name);
    if (!n) return err("ENOENT");
    if (n.isDir) return err("EISDIR");
    return ok(p);
  }

  /**
   * open(path, flags) for the workload's flags: O_CREAT (with O_EXCL, O_TRUNC) creating a file,
   * or opening an existing one for reading or writing. Returns the node (null: to be created).
   */
  open(path: string, o: { creat: boolean; excl: boolean; write: boolean; trunc: boolean }): Expect<{
    /** The parent directory. */
    dir: MNode;
    /** The last component. */
    name: string;
    /** The node opened, or null when the open creates it. */
    node: MNode | null;
  }> {
    const p = this.parent(path);
    if ("err" in p) {
      if (p.err !== "ROOT") return err(p.err);
      if (o.creat && o.excl) return err("EEXIST");
      if (o.creat || o.write || o.trunc) return err("EISDIR");
      return ok({ dir: this.root, name: "", node: this.root });
    }
    const n = p.dir.entries!.get(p.name) ?? null;
    if (n === null) return o.creat ? ok({ ...p, node: null }) : err("ENOENT");
    if (o.creat && o.excl) return err("EEXIST");
    if (n.kind === "symlink") return err("ENOENT"); // followed: the target never exists (the workload never creates through one)
    if (n.isDir && o.creat) return err("EISDIR");
    if (n.isDir && (o.write || o.trunc)) return err("EISDIR");
    return ok({ ...p, node: n });
  }

  /**
   * rename(a, b): the VFS's checks, then the filesystem's. Returns what the rename does, or
   * `same` when both names are links to one inode (nothing happens).
   */
  rename(a: string, b: string): Expect<{
    /** The source's parent directory. */
    from: MNode;
    /** The source's name. */
    fromName: string;
    /** The target's parent directory. */
    to: MNode;
    /** The target's name. */
    toName: string;
    /** The node renamed. */
    src: MNode;
    /** The node the target name replaces, or null. */
    dst: MNode | null;
    /** Both names link to one inode: the rename does nothing. */
    same: boolean;
  }> {
    const pa = this.parent(a);
    const pb = this.parent(b);
    if ("err" in pa && pa.err !== "ROOT") return err(pa.err);
    if ("err" in pb && pb.err !== "ROOT") return err(pb.err);
    if ("err" in pa || "err" in pb) return err("EBUSY");
    const src = pa.dir.entries!.get(pa.name);
    if (!src) return err("ENOENT");
    if (src.isDir && this.isAncestor(src, pb.dir)) return err("EINVAL");
    const dst = pb.dir.entries!.get(pb.name) ?? null;
    if (dst && dst.isDir && this.isAncestor(dst, pa.dir)) return err("ENOTEMPTY");
    const base = { from: pa.dir, fromName: pa.name, to: pb.dir, toName: pb.name, src, dst };
    if (dst === src) return ok({ ...base, same: true });
    if (dst) {
      if (src.isDir && !dst.isDir) return err("ENOTDIR");
      if (!src.isDir && dst.isDir) return err("EISDIR");
      if (dst.isDir && dst.entries!.size > 0) return err("ENOTEMPTY");
    }
    return ok({ ...base, same: false });
  }

  /** Applies a successful rename. */
  applyRename(r: { from: MNode; fromName: string; to: MNode; toName: string; src: MNode; dst: MNode | null; same: boolean }): void {
    if (r.same) return;
    if (r.dst) this.unlinkName(r.to, r.toName);
    r.from.entries!.delete(r.fromName);
    r.from.unstable.add(r.fromName);
    if (r.src.isDir) r.from.nlink--;
    this.link(r.to, r.toName, r.src);
    if (r.src.isDir && r.from !== r.to) r.src.movedFrom.push({ dir: r.from, at: ++this.clock });
  }

  /** link(existing, new). */
  linkPath(existing: string, path: string): Expect<{
    /** The node linked to. */
    node: MNode;
    /** The new name's parent directory. */
    dir: MNode;
    /** The new name. */
    name: string;
  }> {
    const e = this.lookup(existing);
    if (!e.ok) return e;
    if (e.value.isDir) return err("EPERM");
    const p = this.parent(path);
    if ("err" in p) return err(p.err === "ROOT" ? "EEXIST" : p.err);
    if (p.dir.entries!.has(p.name)) return err("EEXIST");
    return ok({ node: e.value, ...p });
  }

  /** symlink(target, path). */
  symlink(path: string): Expect<{
    /** The parent directory. */
    dir: MNode;
    /** The last component of the path. */
    name: string;
  }> {
    const p = this.parent(path);
    if ("err" in p) return err(p.err === "ROOT" ? "EEXIST" : p.err);
    if (p.dir.entries!.has(p.name)) return err("EEXIST");
    return ok(p);
  }

  /** readlink(path). */
  readlink(path: string): Expect<string> {
    const n = this.lookup(path);
    if (!n.ok) return n;
    if (n.value.kind !== "symlink") return err("EINVAL");
    return ok(n.value.target!);
  }

  /** readdir(path): the names, sorted by bytes as the VFS returns them. */
  readdir(path: string): Expect<string[]> {
    const n = this.lookup(path);
    if (!n.ok) return n;
    if (n.value.kind === "symlink") return err("ENOENT");
    if (!n.value.isDir) return err("ENOTDIR");
    return ok(sortNames([...n.value.entries!.keys()]));
  }

  // ── durability (the persistence rules call these) ──────────────────────────────────────────

  /** Live nodes: every named node, and open unlinked files. */
  liveNodes(): MNode[] {
    return [...this.byIno.values()];
  }

  /** The file's data and inode are durable as they are now. */
  settleFile(n: MNode): void {
    n.inodeDurable = true;
    n.metaDirty = false;
    if (n.kind === "file") {
      n.settled = true;
      n.durContent = n.content!.clone();
      n.dirtyPages.clear();
      n.sizes.clear();
      this.keepLostUnsettled(n);
    } else {
      n.settled = true;
    }
  }

  /**
   * Lost pages are never durable: the disk holds older bytes (or, after a partial write, a mix),
   * so after a durable point they count as changed since it, at the size the file has now.
   */
  private keepLostUnsettled(n: MNode): void {
    if (n.lost.size === 0) return;
    n.settled = false;
    n.sizes.add(n.content!.size);
    for (const p of n.lost) n.dirtyPages.add(p);
  }

  /**
   * The data of file `n` in bytes [from, to) is durable as it is now (msync with MS_SYNC: an
   * fdatasync of that range). Only the range's pages become durable, and only when the size has not
   * changed since the file's durable point: the model then knows the size on disk and which bytes
   * the durable pages hold. Otherwise nothing is promised beyond what was (weaker, never wrong).
   */
  settleRange(n: MNode, from: number, to: number): void {
    if (n.kind !== "file" || n.settled || n.durContent === null) return;
    const size = n.content!.size;
    if (n.durContent.size !== size || [...n.sizes].some((s) => s !== size)) return;
    for (let p = Math.floor(from / PAGE); p * PAGE < Math.min(to, size); p++) {
      if (!n.dirtyPages.has(p) || n.lost.has(p)) continue;
      const start = p * PAGE;
      n.durContent.write(start, n.content!.read(start, Math.min(PAGE, size - start)));
      n.dirtyPages.delete(p);
    }
  }

  /** The directory's entries (and its inode) are durable as they are now. */
  settleEntries(d: MNode): void {
    d.settledAt = ++this.clock;
    d.inodeDurable = true;
    d.metaDirty = false;
    d.settled = true;
    d.durEntries = new Map(d.entries!);
    d.unstable.clear();
  }

  /** Everything is durable as it is now (sync). */
  settleAll(): void {
    for (const n of this.liveNodes()) {
      if (n.isDir) this.settleEntries(n);
      else this.settleFile(n);
    }
  }

  /**
   * A write failed somewhere: whatever has changed since its durable point may be stale on the
   * disk for good (Linux does not retry a failed write), so it becomes uncertain.
   */
  taint(sticky = false): void {
    if (sticky) this.sticky = true;
    for (const n of this.liveNodes()) {
      if (!n.inodeDurable || !n.settled || n.metaDirty || n.unstable.size > 0) n.uncertain = true;
    }
  }

  /** FNV-1a hash of the whole tree (names, kinds, inode numbers, link counts, contents). */
  hash(): number {
    let h = 2166136261;
    const mix = (v: number) => (h = Math.imul(h ^ (v >>> 0), 16777619) >>> 0);
    for (const { path, node } of this.paths()) {
      for (let i = 0; i < path.length; i++) mix(path.charCodeAt(i));
      mix(node.ino);
      mix(node.nlink);
      mix(node.kind.length);
      if (node.content) mix(node.content.hash());
      if (node.target) for (let i = 0; i < node.target.length; i++) mix(node.target.charCodeAt(i));
    }
    return h;
  }
}

/**
 * The model of a mapping's writeback error cursor (Linux's errseq_t, pagecache's `ErrSeq`) for the
 * errors the model knows of — memory errors that destroyed dirty pages: a counter, an error flag
 * and a "seen" flag. A file opened samples it; fsync reports an error recorded since its cursor
 * once and marks it seen; an error nobody has seen yet is reported to files opened after it too.
 */
export class ModelErrSeq {
  private gen = 0;
  private err = false;
  private seen = false;

  /** The current value, comparable with cursors. */
  get value(): number {
    return this.gen * 4 + (this.err ? 2 : 0) + (this.seen ? 1 : 0);
  }

  /** An error is recorded (errseq_set): the counter moves only if the last one was seen. */
  set(): void {
    if (this.seen) this.gen++;
    this.err = true;
    this.seen = false;
  }

  /** The cursor of a file opened now (errseq_sample): an unseen error is still reported to it. */
  sample(): number {
    return this.seen ? this.value : 0;
  }

  /** Whether an fsync through a file with `cursor` must report an error. */
  pending(cursor: number): boolean {
    return this.value !== cursor;
  }

  /** An fsync through the file reported an error (or had none to report): the new cursor (errseq_check_and_advance). */
  advance(): number {
    if (this.err) this.seen = true;
    return this.value;
  }
}

/** Names sorted by their UTF-8 bytes (the VFS's order). */
export function sortNames(names: string[]): string[] {
  return names.map((n) => ({ n, k: Buffer.from(n) })).sort((a, b) => Buffer.compare(a.k, b.k)).map((e) => e.n);
}
