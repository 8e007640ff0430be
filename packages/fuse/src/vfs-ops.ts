/**
 * FUSE operations over a Folio {@link Vfs}: the kernel speaks of node ids and file handles, the
 * VFS of paths and descriptors, and this module translates.
 *
 * Node ids: FUSE names inodes by ids the server chooses, and the kernel holds references to them
 * (one per lookup, dropped by FORGET). The VFS is path-based, so each node remembers the names it
 * was found under (parent node, name); its path is its first name's parent's path plus the name,
 * computed when needed, so renaming a directory moves everything below it for free. Ids are never
 * reused, and a node that loses its last name (unlink, rmdir, rename over it) is detached from its
 * inode number: a new file that gets the same Folio inode number later is a new node, never
 * mistaken for the old one, which lives on (reachable through its open handles) until FORGET.
 *
 * Handles: an OPEN or CREATE opens a VFS descriptor, and the handle names it; reads and writes go
 * straight to the descriptor (no path walk). A directory handle holds a snapshot of the
 * directory's entries taken at OPENDIR, which READDIR serves by index (the offset the kernel
 * passes back is the index of the next entry), so a directory changing during `rm -rf` or
 * `readdir` never makes an entry appear twice.
 *
 * Permissions are the kernel's (the mount has default_permissions), so the VFS runs as root; new
 * files are then given to the caller's uid and gid, as the kernel would for a local filesystem.
 */
import { O_ACCMODE, O_APPEND, O_CREAT, O_EXCL, O_RDWR, O_TRUNC, O_WRONLY, FileType, S_IFMT, S_IFREG } from "@folio/fs-api";
import { O_DSYNC, O_SYNC, type FileStat, type Vfs } from "@folio/vfs";
import { fail } from "@folio/core";
import { DT_DIR, DT_LNK, DT_REG, FUSE_ROOT_ID, type FuseAttr } from "./protocol.js";
import type { AttrChanges, DirFiller, Entry, FuseOps, FuseStatfs, Opened, RequestContext } from "./server.js";

/** One name of a node: the directory node it is in and the name there. */
interface Name {
  parent: number;
  name: string;
}

/** An inode the kernel knows by a node id. */
interface FNode {
  readonly id: number;
  readonly ino: number;
  /** References the kernel holds (lookups not yet forgotten). */
  nlookup: number;
  /** Names it is known under; empty once it has lost them all. */
  names: Name[];
  /** VFS descriptors open on it (for attributes of a file that has no name left). */
  readonly fds: Set<number>;
}

/** An open file: its VFS descriptor and node. */
interface OpenHandle {
  readonly fd: number;
  readonly node: FNode;
  readonly writable: boolean;
}

/** An open directory: the snapshot of its entries, "." and ".." first. */
interface DirHandle {
  readonly entries: { name: string; ino: number; type: number }[];
}

/** Options of {@link VfsFuseOps}. */
export interface VfsFuseOpsOptions {
  /**
   * The host's wall clock in ns, for utimensat's UTIME_NOW; defaults to the machine's wall clock
   * (its boot epoch plus virtual time).
   */
  nowNs?: () => number;
}

const keyOf = (parent: number, name: string): string => `${parent}\u0000${name}`;

/**
 * The FUSE operations of the filesystem mounted at "/" of `vfs`. Every operation runs
 * synchronously on the machine's engine and throws the VFS's errors (Node's shape, negative
 * errno), which the server turns into the reply's errno.
 */
export class VfsFuseOps implements FuseOps {
  private readonly nodes = new Map<number, FNode>();
  /** Nodes that still have a name, by Folio inode number. */
  private readonly byIno = new Map<number, FNode>();
  /** Nodes by one of their names ("parent\0name"). */
  private readonly byName = new Map<string, FNode>();
  private readonly files = new Map<number, OpenHandle>();
  private readonly dirs = new Map<number, DirHandle>();
  private nextNode = FUSE_ROOT_ID + 1;
  private nextHandle = 1;
  private readonly nowNs: () => number;

  /**
   * Serves the filesystem at "/" of `vfs`. Sets the VFS's umask to 0: the kernel has applied the
   * caller's umask to every mode it sends.
   */
  constructor(
    private readonly vfs: Vfs,
    options: VfsFuseOpsOptions = {},
  ) {
    // The kernel applies the caller's umask before it sends a mode (no FUSE_DONT_MASK).
    vfs.umask = 0;
    this.nowNs = options.nowNs ?? (() => vfs.machine.wallClockNs());
    const root: FNode = { id: FUSE_ROOT_ID, ino: vfs.lstat("/").ino, nlookup: 1, names: [], fds: new Set() };
    this.nodes.set(root.id, root);
  }

  /** Open file handles, open directory handles and nodes the kernel holds (for tests and status). */
  counts(): {
    /** Open file handles. */
    files: number;
    /** Open directory handles. */
    dirs: number;
    /** Node ids the kernel holds, the root included. */
    nodes: number;
  } {
    return { files: this.files.size, dirs: this.dirs.size, nodes: this.nodes.size };
  }

  /** Closes every VFS descriptor still open (the connection ended with files open), so the filesystem can be unmounted. */
  closeAll(): void {
    for (const h of this.files.values()) {
      try {
        this.vfs.close(h.fd);
      } catch {
        // Closing is all that is left to do; an error here changes nothing for the unmount.
      }
    }
    this.files.clear();
    this.dirs.clear();
  }

  // ── Names ───────────────────────────────────────────────────────────────────────────────────

  lookup(_ctx: RequestContext, parent: number, name: string): Entry {
    return this.entryFor(parent, name, this.vfs.lstat(this.childPath(parent, name)));
  }

  forget(nodeid: number, nlookup: number): void {
    const node = this.nodes.get(nodeid);
    if (node === undefined || nodeid === FUSE_ROOT_ID) return;
    node.nlookup -= nlookup;
    if (node.nlookup > 0) return;
    this.nodes.delete(nodeid);
    for (const n of node.names) {
      const key = keyOf(n.parent, n.name);
      if (this.byName.get(key) === node) this.byName.delete(key);
    }
    if (this.byIno.get(node.ino) === node) this.byIno.delete(node.ino);
  }

  getattr(_ctx: RequestContext, nodeid: number, fh: number | null): FuseAttr {
    const h = fh === null ? undefined : this.files.get(fh);
    if (h !== undefined) return attrOf(this.vfs.fstat(h.fd));
    const node = this.node(nodeid);
    const path = this.pathOf(node);
    if (path !== null) return attrOf(this.vfs.lstat(path));
    const fd = this.anyFd(node, false);
    if (fd === undefined) throw fail("ENOENT", `node ${nodeid} has no name and no open file`);
    return attrOf(this.vfs.fstat(fd));
  }

  setattr(_ctx: RequestContext, nodeid: number, fh: number | null, c: AttrChanges): FuseAttr {
    const node = this.node(nodeid);
    const h = fh === null ? undefined : this.files.get(fh);
    const path = this.pathOf(node);
    // By path when the node has one; by descriptor when the kernel named the handle (ftruncate,
    // futimens) or the file has no name left (an unlinked file still open).
    let fd = h?.fd;
    if (fd === undefined && path === null) fd = this.anyFd(node, c.size !== undefined);
    if (fd === undefined && path === null) throw fail("ENOENT", `node ${nodeid} has no name and no open file`);
    const vfs = this.vfs;
    if (c.size !== undefined) {
      if (fd !== undefined) vfs.ftruncate(fd, c.size);
      else vfs.truncate(path!, c.size);
    }
    if (c.mode !== undefined) {
      if (path !== null && fd === undefined) vfs.chmod(path, c.mode & 0o7777);
      else vfs.fchmod(fd!, c.mode & 0o7777);
    }
    if (c.uid !== undefined || c.gid !== undefined) {
      if (path !== null && fd === undefined) vfs.chown(path, c.uid ?? -1, c.gid ?? -1, false);
      else vfs.fchown(fd!, c.uid ?? -1, c.gid ?? -1);
    }
    if (c.atimeNs !== undefined || c.mtimeNs !== undefined) {
      const st = fd !== undefined ? vfs.fstat(fd) : vfs.lstat(path!);
      const now = this.nowNs();
      const a = c.atimeNs === "now" ? now : c.atimeNs ?? st.atimeNs;
      const m = c.mtimeNs === "now" ? now : c.mtimeNs ?? st.mtimeNs;
      if (fd !== undefined) vfs.futimes(fd, a, m);
      else vfs.utimes(path!, a, m, false);
    }
    return attrOf(fd !== undefined ? vfs.fstat(fd) : vfs.lstat(path!));
  }

  readlink(_ctx: RequestContext, nodeid: number): string {
    return this.vfs.readlink(this.requirePath(this.node(nodeid)));
  }

  symlink(ctx: RequestContext, parent: number, name: string, target: string): Entry {
    const path = this.childPath(parent, name);
    this.vfs.symlink(target, path);
    return this.created(ctx, parent, name, path);
  }

  mknod(ctx: RequestContext, parent: number, name: string, mode: number): Entry {
    // Folio filesystems hold regular files, directories and symlinks only: no device files,
    // FIFOs or sockets (Linux answers EPERM for a filesystem without mknod).
    const type = mode & S_IFMT;
    if (type !== S_IFREG && type !== 0) throw fail("EPERM", "Folio filesystems have no device files, FIFOs or sockets");
    const path = this.childPath(parent, name);
    this.vfs.close(this.vfs.open(path, O_CREAT | O_EXCL | O_WRONLY, mode & 0o7777));
    return this.created(ctx, parent, name, path);
  }

  mkdir(ctx: RequestContext, parent: number, name: string, mode: number): Entry {
    const path = this.childPath(parent, name);
    this.vfs.mkdir(path, mode & 0o7777);
    return this.created(ctx, parent, name, path);
  }

  unlink(_ctx: RequestContext, parent: number, name: string): void {
    this.vfs.unlink(this.childPath(parent, name));
    this.dropName(parent, name);
  }

  rmdir(_ctx: RequestContext, parent: number, name: string): void {
    this.vfs.rmdir(this.childPath(parent, name));
    this.dropName(parent, name);
  }

  rename(_ctx: RequestContext, parent: number, name: string, newParent: number, newName: string, flags: number): void {
    const from = this.childPath(parent, name);
    const to = this.childPath(newParent, newName);
    this.vfs.rename(from, to, flags);
    const src = this.byName.get(keyOf(parent, name));
    const dst = this.byName.get(keyOf(newParent, newName));
    if (src === dst) return; // two names of one inode: renaming one onto the other does nothing
    const exchange = (flags & 2) !== 0; // RENAME_EXCHANGE
    this.dropName(parent, name);
    this.dropName(newParent, newName);
    if (src !== undefined) this.addName(src, newParent, newName);
    if (exchange && dst !== undefined) this.addName(dst, parent, name);
  }

  link(_ctx: RequestContext, nodeid: number, newParent: number, newName: string): Entry {
    const path = this.childPath(newParent, newName);
    this.vfs.link(this.requirePath(this.node(nodeid)), path);
    return this.entryFor(newParent, newName, this.vfs.lstat(path));
  }

  // ── Files ───────────────────────────────────────────────────────────────────────────────────

  open(_ctx: RequestContext, nodeid: number, flags: number): Opened {
    const node = this.node(nodeid);
    return this.openHandle(node, this.vfs.open(this.requirePath(node), vfsFlags(flags)), flags);
  }

  create(ctx: RequestContext, parent: number, name: string, mode: number, flags: number): Entry & Opened {
    const path = this.childPath(parent, name);
    const fd = this.vfs.open(path, vfsFlags(flags) | O_CREAT | (flags & O_EXCL), mode & 0o7777);
    try {
      const entry = this.created(ctx, parent, name, path);
      return { ...entry, ...this.openHandle(this.nodes.get(entry.nodeid)!, fd, flags) };
    } catch (e) {
      this.vfs.close(fd);
      throw e;
    }
  }

  read(fh: number, offset: number, size: number, dst: Uint8Array, dstOffset: number): number {
    const fd = this.file(fh).fd;
    let done = 0;
    while (done < size) {
      const n = this.vfs.read(fd, dst, dstOffset + done, size - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  write(fh: number, offset: number, src: Uint8Array, srcOffset: number, size: number): number {
    const fd = this.file(fh).fd;
    let done = 0;
    while (done < size) {
      const n = this.vfs.write(fd, src, srcOffset + done, size - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  flush(fh: number): void {
    // close(2) of one descriptor: the open file lives until RELEASE, and durability is fsync's
    // business (as on a local filesystem, close does not write back).
    this.file(fh);
  }

  release(fh: number): void {
    const h = this.file(fh);
    this.files.delete(fh);
    h.node.fds.delete(h.fd);
    this.vfs.close(h.fd);
  }

  fsync(fh: number, datasync: boolean): void {
    this.vfs.fsync(this.file(fh).fd, datasync);
  }

  // ── Directories ─────────────────────────────────────────────────────────────────────────────

  opendir(_ctx: RequestContext, nodeid: number): Opened {
    const node = this.node(nodeid);
    const path = this.requirePath(node);
    const list = this.vfs.readdir(path);
    const parentIno = nodeid === FUSE_ROOT_ID ? node.ino : this.vfs.lstat(path === "/" ? "/" : `${path}/..`).ino;
    const entries = [
      { name: ".", ino: node.ino, type: DT_DIR },
      { name: "..", ino: parentIno, type: DT_DIR },
      ...list.map((e) => ({ name: e.name, ino: e.ino, type: dtOf(e.type) })),
    ];
    const fh = this.nextHandle++;
    this.dirs.set(fh, { entries });
    return { fh };
  }

  readdir(fh: number, offset: number, fill: DirFiller): void {
    const d = this.dirs.get(fh);
    if (d === undefined) throw fail("EBADF", `no directory handle ${fh}`);
    for (let i = offset; i < d.entries.length; i++) {
      const e = d.entries[i]!;
      if (!fill(e.name, e.ino, e.type, i + 1)) break;
    }
  }

  releasedir(fh: number): void {
    this.dirs.delete(fh);
  }

  fsyncdir(_fh: number, _datasync: boolean): void {
    // The VFS's fsync of a directory syncs its filesystem (directories have no data of their own here).
    this.vfs.sync();
  }

  // ── The filesystem ──────────────────────────────────────────────────────────────────────────

  statfs(_ctx: RequestContext, _nodeid: number): FuseStatfs {
    const s = this.vfs.statfs("/");
    return { blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, bsize: s.bsize, namelen: s.namelen };
  }

  syncfs(): void {
    this.vfs.sync();
  }

  destroy(): void {
    // Nothing: the daemon unmounts the Folio filesystem when the connection has ended.
  }

  // ── Helpers ─────────────────────────────────────────────────────────────────────────────────

  private node(nodeid: number): FNode {
    const node = this.nodes.get(nodeid);
    if (node === undefined) throw fail("ENOENT", `unknown node id ${nodeid}`);
    return node;
  }

  private file(fh: number): OpenHandle {
    const h = this.files.get(fh);
    if (h === undefined) throw fail("EBADF", `no file handle ${fh}`);
    return h;
  }

  /** The node's path now, or null when it has no name left. */
  private pathOf(node: FNode): string | null {
    if (node.id === FUSE_ROOT_ID) return "/";
    const n = node.names[0];
    if (n === undefined) return null;
    const parent = this.nodes.get(n.parent);
    const base = parent === undefined ? null : this.pathOf(parent);
    if (base === null) return null;
    return base === "/" ? `/${n.name}` : `${base}/${n.name}`;
  }

  private requirePath(node: FNode): string {
    const path = this.pathOf(node);
    if (path === null) throw fail("ENOENT", `node ${node.id} has no name left`);
    return path;
  }

  private childPath(parent: number, name: string): string {
    const base = this.requirePath(this.node(parent));
    return base === "/" ? `/${name}` : `${base}/${name}`;
  }

  /** The node `st` describes, found under (parent, name): known already or new; adds the kernel's reference. */
  private entryFor(parent: number, name: string, st: FileStat): Entry {
    const key = keyOf(parent, name);
    const prev = this.byName.get(key);
    if (prev !== undefined && prev.ino !== st.ino) this.dropName(parent, name);
    let node = this.byIno.get(st.ino);
    if (node === undefined) {
      node = { id: this.nextNode++, ino: st.ino, nlookup: 0, names: [], fds: new Set() };
      this.nodes.set(node.id, node);
      this.byIno.set(st.ino, node);
    }
    this.addName(node, parent, name);
    node.nlookup++;
    return { nodeid: node.id, attr: attrOf(st) };
  }

  /** The entry of a node just created at `path`, given to the caller's uid and gid. */
  private created(ctx: RequestContext, parent: number, name: string, path: string): Entry {
    if (ctx.uid !== 0 || ctx.gid !== 0) this.vfs.chown(path, ctx.uid, ctx.gid, false);
    return this.entryFor(parent, name, this.vfs.lstat(path));
  }

  private addName(node: FNode, parent: number, name: string): void {
    const key = keyOf(parent, name);
    if (!node.names.some((n) => n.parent === parent && n.name === name)) node.names.push({ parent, name });
    this.byName.set(key, node);
    if (node.names.length > 0 && !this.byIno.has(node.ino) && this.nodes.has(node.id)) this.byIno.set(node.ino, node);
  }

  /** Forgets the name (parent, name); a node left with no name is detached from its inode number. */
  private dropName(parent: number, name: string): void {
    const key = keyOf(parent, name);
    const node = this.byName.get(key);
    if (node === undefined) return;
    this.byName.delete(key);
    node.names = node.names.filter((n) => n.parent !== parent || n.name !== name);
    if (node.names.length === 0 && this.byIno.get(node.ino) === node) this.byIno.delete(node.ino);
  }

  private openHandle(node: FNode, fd: number, flags: number): Opened {
    const fh = this.nextHandle++;
    this.files.set(fh, { fd, node, writable: (flags & O_ACCMODE) !== 0 });
    node.fds.add(fd);
    return { fh };
  }

  /** A descriptor open on the node (a writable one when `writable`), for a file with no name left. */
  private anyFd(node: FNode, writable: boolean): number | undefined {
    for (const h of this.files.values()) if (h.node === node && (!writable || h.writable)) return h.fd;
    return undefined;
  }
}

/**
 * The VFS open flags for the kernel's: the access mode (write-only opened read-write, so that the
 * kernel may read back through any handle, as it does for pages of a shared mapping), and the flags
 * the VFS acts on. O_CREAT and O_EXCL are the kernel's business (it sends CREATE), O_DIRECT and
 * O_NONBLOCK mean nothing to Folio's files.
 */
function vfsFlags(flags: number): number {
  const acc = flags & O_ACCMODE;
  return (acc === O_WRONLY ? O_RDWR : acc) | (flags & (O_APPEND | O_TRUNC | O_SYNC | O_DSYNC));
}

function dtOf(type: FileType): number {
  return type === FileType.Directory ? DT_DIR : type === FileType.Symlink ? DT_LNK : DT_REG;
}

/** A VFS stat in FUSE's terms. */
export function attrOf(st: FileStat): FuseAttr {
  return {
    ino: st.ino, size: st.size, blocks: st.blocks, atimeNs: st.atimeNs, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs,
    mode: st.mode, nlink: st.nlink, uid: st.uid, gid: st.gid, blksize: st.blksize,
  };
}
