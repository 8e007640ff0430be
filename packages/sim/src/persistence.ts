/**
 * Persistence models: what each durability call makes durable, as a filesystem's documentation
 * promises it, and the check run after a crash and recovery — every durable fact that has not
 * changed since it became durable must hold on the recovered filesystem.
 *
 * A filesystem's rules only say which facts a call makes durable (by calling the model's
 * `settleFile`, `settleEntries`, `settleAll`); the check is the same for every filesystem:
 *
 * 1. every directory found after recovery that the model knows durably (by inode number) holds
 *    each of its durable, unchanged entries whose inode is durable, naming the same inode (a
 *    directory moved in from another directory counts once both directories are durable after
 *    the move: until then fs-simple may keep it in either);
 * 2. every file found whose inode is durable and whose contents have not changed since their
 *    durable point reads back exactly as then (size included); a file changed since has a size
 *    it had at some point since, and the pages not written since still hold their durable bytes;
 * 3. a symlink whose inode is durable has its target.
 *
 * Whatever is `uncertain` (a write failed while it had unsynced changes) is skipped.
 */
import { PAGE, firstDifference } from "./content.js";
import type { Where } from "./known.js";
import type { Kind, MNode, Model } from "./model.js";

/** What a filesystem's durability calls make durable. */
export interface PersistenceRules {
  /** Name shown in reports. */
  readonly name: string;
  /** A successful fsync (or fdatasync) of regular file `file`. */
  fsyncFile(model: Model, file: MNode, datasync: boolean): void;
  /** A successful fsync of directory `dir` through the filesystem's own file operations. */
  fsyncDir(model: Model, dir: MNode): void;
  /** A successful sync (syncfs), and what the VFS's fsync of a directory does (it syncs the filesystem). */
  sync(model: Model): void;
}

/**
 * fs-simple (docs/PERSISTENCE-fs-simple.md): fsync of a file makes its data and inode durable,
 * not its names; fsync of a directory makes its entries and its inode durable; sync makes
 * everything durable. (fdatasync skips the inode only when nothing but times changed: for the
 * data and size the harness checks, it is an fsync.)
 */
export const SIMPLE_RULES: PersistenceRules = {
  name: "fs-simple (ext2-like: names durable only with their directory)",
  fsyncFile(model, file) {
    model.settleFile(file);
  },
  fsyncDir(model, dir) {
    model.settleEntries(dir);
  },
  sync(model) {
    model.settleAll();
  },
};

/**
 * fs-log (log-fs.ts, `commit`): every fsync is a commit that makes the whole namespace durable —
 * every directory's entries, every inode's existence and link count — plus the data, size and
 * attributes of the file fsynced; sync commits everything. A directory's fsync is a commit of the
 * namespace alone.
 */
export const LOG_RULES: PersistenceRules = {
  name: "fs-log (each fsync commits the whole namespace and the file)",
  fsyncFile(model, file) {
    commitNamespace(model);
    model.settleFile(file);
  },
  fsyncDir(model) {
    commitNamespace(model);
  },
  sync(model) {
    model.settleAll();
  },
};

function commitNamespace(model: Model): void {
  for (const n of model.liveNodes()) {
    if (n.isDir) model.settleEntries(n);
    else if (n.nlink > 0) {
      n.inodeDurable = true;
      n.metaDirty = false;
      if (n.kind === "symlink") n.settled = true;
    }
  }
}

/** A file, directory or symlink as read back from the filesystem. */
export interface ViewNode {
  /** Inode number. */
  ino: number;
  /** What the inode is. */
  kind: Kind;
  /** Link count as stat reported it. */
  nlink: number;
  /** Size as stat reported it (bytes). */
  size: number;
  /** Regular files: the contents. */
  bytes?: Uint8Array;
  /** Symlinks: the target. */
  target?: string;
  /** Directories: entries by name. */
  entries?: Map<string, ViewNode>;
  /** Some entries could not be read (a tolerated ENOMEM or EIO): the listing is partial. */
  partial?: boolean;
}

/** The whole tree as read back, and every node by inode number. */
export interface View {
  /** The root directory. */
  root: ViewNode;
  /** Every node by inode number, with one path to it. */
  byIno: Map<number, {
    /** The node. */
    node: ViewNode;
    /** The first path the walk reached it by. */
    path: string;
  }>;
}

/** A broken promise: what, and for contents the inode and byte offset of the first wrong byte. */
export interface Problem {
  /** What promise was broken, in words. */
  msg: string;
  /** For contents: where the first wrong byte or size is. */
  where?: Where;
}

/** Runs the post-crash check; returns one problem per broken promise. */
export function checkDurable(model: Model, view: View): Problem[] {
  const problems: Problem[] = [];
  for (const [ino, { node: v, path }] of view.byIno) {
    const m = model.byIno.get(ino);
    // An unlinked file still open is not promised after a crash (fsck frees it).
    if (!m || m.dead || m.uncertain || !m.inodeDurable || (m.kind !== "dir" && m.nlink === 0)) continue;
    if (m.kind !== v.kind) {
      problems.push({ msg: `${path}: inode ${ino} is a ${v.kind}; the durable inode ${ino} is a ${m.kind}` });
      continue;
    }
    if (m.kind === "dir") checkEntries(m, v, path, problems);
    else if (m.kind === "symlink") {
      if (m.settled && v.target !== m.target) problems.push({ msg: `${path}: symlink ${ino} points to ${JSON.stringify(v.target)}, durably ${JSON.stringify(m.target)}` });
    } else checkContents(m, v, path, problems);
  }
  return problems;
}

function checkEntries(m: MNode, v: ViewNode, path: string, problems: Problem[]): void {
  if (m.durEntries === null) return;
  for (const [name, child] of m.durEntries) {
    if (m.unstable.has(name)) continue;
    if (m.entries!.get(name) !== child) throw new Error(`model: stable entry ${name} of directory ${m.ino} changed without being marked`);
    if (!child.inodeDurable || child.uncertain) continue;
    if (child.movedFrom.length > 0) {
      child.movedFrom = child.movedFrom.filter((d) => !(d.dir.settledAt > d.at));
      if (child.movedFrom.length > 0) continue;
    }
    const where = `${path === "/" ? "" : path}/${name}`;
    const found = v.entries!.get(name);
    if (!found && v.partial) continue;
    if (!found) problems.push({ msg: `${where}: durable entry (inode ${child.ino}, ${child.kind}) is missing after recovery`, where: { ino: child.ino, name } });
    else if (found.ino !== child.ino) problems.push({ msg: `${where}: names inode ${found.ino} after recovery; durably inode ${child.ino}` });
  }
}

function checkContents(m: MNode, v: ViewNode, path: string, problems: Problem[]): void {
  if (v.bytes === undefined) return; // could not be read (a tolerated ENOMEM)
  const bytes = v.bytes;
  if (m.settled) {
    const want = m.durContent!;
    if (bytes.length !== want.size) {
      problems.push({ msg: `${path}: inode ${m.ino} has ${bytes.length} bytes after recovery; durably ${want.size} (unchanged since it was made durable)`, where: { ino: m.ino, size: bytes.length } });
      return;
    }
    const wantBytes = want.bytes();
    const at = firstDifference(bytes, wantBytes);
    if (at >= 0) problems.push({ msg: `${path}: inode ${m.ino} (${bytes.length} bytes) differs at byte ${at} from its durable contents (unchanged since it was made durable): ${diffNote(bytes, wantBytes, at)}`, where: { ino: m.ino, offset: at } });
    return;
  }
  if (m.durContent === null) return;
  const dur = m.durContent;
  if (!m.sizes.has(bytes.length) && bytes.length !== dur.size) {
    problems.push({ msg: `${path}: inode ${m.ino} has size ${bytes.length} after recovery, a size it never had since its durable point (${dur.size}; since: ${[...m.sizes].slice(0, 8).join(", ")})`, where: { ino: m.ino, size: bytes.length } });
    return;
  }
  const limit = Math.min(dur.size, bytes.length);
  for (let p = 0; p * PAGE < limit; p++) {
    if (m.dirtyPages.has(p)) continue;
    const end = Math.min(limit, (p + 1) * PAGE);
    const want = dur.read(p * PAGE, end - p * PAGE);
    const at = firstDifference(bytes.subarray(p * PAGE, end), want);
    if (at >= 0) {
      problems.push({ msg: `${path}: inode ${m.ino} differs at byte ${p * PAGE + at} from its durable contents, in page ${p}, which was not written since: ${diffNote(bytes.subarray(p * PAGE), want, at)}`, where: { ino: m.ino, offset: p * PAGE + at } });
      return;
    }
  }
}

/** "found 00 00 00…, expected 5a 13 9c… (n bytes differ)" at `at`. */
export function diffNote(got: Uint8Array, want: Uint8Array, at: number): string {
  const hex = (b: Uint8Array) => [...b.subarray(at, at + 6)].map((x) => x.toString(16).padStart(2, "0")).join(" ");
  let n = 0;
  let last = at;
  for (let i = at; i < Math.min(got.length, want.length); i++) {
    if (got[i] !== want[i]) {
      n++;
      last = i;
    }
  }
  return `found ${hex(got)}…, expected ${hex(want)}… (${n} bytes differ, up to byte ${last})`;
}
