/**
 * fsck for fs-log: checks an unmounted image the way mount reads it (newest valid checkpoint plus
 * roll-forward) and reports every inconsistency:
 *
 *  - the checkpoint's segment usage table against a recount of the checkpoint's own state, and no
 *    live block in a segment marked free (before and after roll-forward);
 *  - every inode record (readable, checksummed, fields valid), and every block it names against
 *    the summary of the unit that wrote it (data of that inode at that index, inode blocks, imap
 *    chunks, usage-table blocks), with no block claimed twice;
 *  - the directory tree: a root directory, every entry naming an existing inode of the entry's type,
 *    each directory linked exactly once with a matching parent, nothing unreachable, and every link
 *    count.
 *
 * With `repair` it fixes what is safe: dangling or duplicate entries are removed, wrong entry types,
 * parents and link counts corrected, damaged records dropped, blocks whose summary disagrees
 * dropped (they become holes), unreferenced inodes linked into the root as "#<ino>", and the
 * usage table rewritten; the fixes are written as one commit followed by a checkpoint. Without
 * `repair` nothing is written. An image that is not fs-log is refused with EINVAL, one with no
 * usable checkpoint with EUCLEAN.
 */
import type { DeviceContext, FsckProblem, FsckReport } from "@folio/fs-api";
import { SyncBlockIo } from "@folio/pagecache";
import {
  BLOCK_SIZE, IMAP_PER_CHUNK, Kind, ROOT_INO, S_IFDIR, S_IFMT, SEG_START, SegState,
  decodeDir, dtOf, segBase, type DirEnt, type RecordData,
} from "./format.js";
import { emptyEdit, writeImageEdit } from "./offline.js";
import { checkSegment, loadState, recordBlocks, recount } from "./recovery.js";

interface Problem {
  what: string;
  fix?: () => void;
}

/**
 * Checks an unmounted fs-log device: superblock and checkpoints, every unit the checkpoint and
 * roll-forward reach, the inode map, inode records, directories and the segment usage table.
 * With `repair` it fixes what is safe (and writes the fixes as a new checkpoint); without, it
 * never writes. Throws EINVAL for a device holding no fs-log, ENOSYS for a newer format, EUCLEAN
 * when no checkpoint is valid or the metadata it points to is damaged.
 */
export function fsck(ctx: DeviceContext, options: { repair: boolean }): FsckReport {
  const io = new SyncBlockIo(ctx.device, ctx.scheduler, BLOCK_SIZE, "fs-log");
  const st = loadState(io);
  const { sb, cp } = st;
  const problems: Problem[] = [];
  const note = (what: string, fix?: () => void) => problems.push(fix ? { what, fix } : { what });
  /** The usage table is always rewritten (recounted) by the checkpoint a repair ends with. */
  const rewriteUsage = () => {};
  const changedRecs = new Set<number>();
  const changedDirs = new Set<number>();
  const removed = new Set<number>();
  const chunksToWrite = new Set<number>();
  const relocate = new Map<number, Set<number>>();

  // 1. The checkpoint's usage table against its own state.
  // (A damaged record here is repaired by the new checkpoint any repair writes.)
  const cpLive = recount(io, sb, st.cpImap, st.cpChunks, cp.sut, (ino, why) => note(`checkpoint ${cp.seq}: inode ${ino}: ${why}`, rewriteUsage));
  for (let s = 0; s < sb.nrSegments; s++) {
    if (cpLive[s] !== st.usage.live[s]) {
      note(`segment ${s}: the usage table of checkpoint ${cp.seq} counts ${st.usage.live[s]} live blocks, its state has ${cpLive[s]}`, rewriteUsage);
    }
    if (cpLive[s]! > 0 && st.cpState[s] === SegState.Free) {
      note(`segment ${s} is marked free in checkpoint ${cp.seq} but holds ${cpLive[s]} live blocks`, rewriteUsage);
    }
  }

  // 2. The state after roll-forward: every record.
  const recs = new Map<number, RecordData>();
  const bad = new Map<number, string>();
  const live = recount(io, sb, st.imap, st.chunks, cp.sut, (ino, why) => {
    bad.set(ino, why);
    note(`inode ${ino}: ${why}`, () => {
      removed.add(ino);
      chunksToWrite.add(Math.floor(ino / IMAP_PER_CHUNK));
    });
  }, recs);
  for (let s = 0; s < sb.nrSegments; s++) {
    if (live[s]! > 0 && st.usage.state[s] === SegState.Free) note(`segment ${s} holds ${live[s]} live blocks but is free`, rewriteUsage);
  }

  // 3. Every block against the summary of the unit that wrote it.
  const area = sb.nrSegments * sb.segBlocks;
  const kinds = new Uint8Array(area);
  const inos = new Uint32Array(area);
  const idxs = new Uint32Array(area);
  /** Units that fail their checksum: [first payload block, blocks, what]. */
  const damaged: [number, number, string][] = [];
  for (let s = 0; s < sb.nrSegments; s++) {
    if (st.usage.state[s] !== SegState.Used) continue;
    const base = segBase(sb, s);
    const buf = io.read(base, sb.segBlocks);
    const { units, problems: bad, damaged: dmg } = checkSegment(sb, buf, s === st.headSeg ? Math.min(st.headOff, sb.segBlocks) : sb.segBlocks, s);
    for (const why of bad) note(why);
    for (const [off, n, why] of dmg) damaged.push([base + off + 1, n, why]);
    for (const u of units) {
      for (let i = 0; i < u.sum.nBlocks; i++) {
        const a = base + u.off + 1 + i - SEG_START;
        kinds[a] = u.sum.entries[i * 3]!;
        inos[a] = u.sum.entries[i * 3 + 1]!;
        idxs[a] = u.sum.entries[i * 3 + 2]!;
      }
    }
  }
  const desc = (a: number): string => {
    const k = kinds[a - SEG_START]!;
    if (k === 0) return "no unit describes it";
    const name = ["", "data", "inode block", "inode continuation", "imap chunk", "usage table"][k];
    return `its summary says ${name} (inode ${inos[a - SEG_START]}, index ${idxs[a - SEG_START]})`;
  };
  const owner = new Map<number, string>();
  const claim = (a: number, who: string): string | null => {
    const o = owner.get(a);
    if (o !== undefined) return o;
    owner.set(a, who);
    return null;
  };
  for (let c = 0; c < sb.imapChunks; c++) {
    const a = st.chunks[c]!;
    if (kinds[a - SEG_START] !== Kind.Imap || idxs[a - SEG_START] !== c) note(`imap chunk ${c} at block ${a}: ${desc(a)}`, () => chunksToWrite.add(c));
    const o = claim(a, `imap chunk ${c}`);
    if (o) note(`block ${a} is both ${o} and imap chunk ${c}`, () => chunksToWrite.add(c));
  }
  for (let k = 0; k < sb.sutBlocks; k++) {
    const a = cp.sut[k]!;
    if (kinds[a - SEG_START] !== Kind.Sut || idxs[a - SEG_START] !== k) note(`usage table block ${k} at block ${a}: ${desc(a)}`, rewriteUsage);
    const o = claim(a, `usage table block ${k}`);
    if (o) note(`block ${a} is both ${o} and usage table block ${k}`, rewriteUsage);
  }
  const inodeBlocks = new Set<number>();
  for (const [ino, r] of recs) {
    const blocks = recordBlocks(st.imap, ino);
    blocks.forEach((a, k) => {
      const want = k === 0 ? kinds[a - SEG_START] === Kind.Inode : kinds[a - SEG_START] === Kind.InodeCont && inos[a - SEG_START] === ino;
      if (!want) note(`inode ${ino}: its record's block ${a}: ${desc(a)}`, () => changedRecs.add(ino));
      if (!inodeBlocks.has(a)) {
        const o = claim(a, `inode block of inode ${ino}`);
        if (o && !o.startsWith("inode block")) note(`block ${a} is both ${o} and the record of inode ${ino}`, () => changedRecs.add(ino));
        inodeBlocks.add(a);
      }
    });
    const dropped: number[] = [];
    for (const [index, addr, n] of r.extents) {
      for (let k = 0; k < n; k++) {
        const a = addr + k;
        const at = a - SEG_START;
        let why: string | null = null;
        if (kinds[at] !== Kind.Data || inos[at] !== ino || idxs[at] !== index + k) why = desc(a);
        const o = why ? null : claim(a, `block ${index + k} of inode ${ino}`);
        if (o) why = `it is also ${o}`;
        if (why) {
          note(`inode ${ino}: block ${index + k} at ${a}: ${why}`, () => changedRecs.add(ino));
          dropped.push(index + k);
        }
      }
    }
    if (dropped.length > 0 && options.repair) {
      const drop = new Set(dropped);
      const kept: [number, number, number][] = [];
      for (const [index, addr, n] of r.extents) for (let k = 0; k < n; k++) if (!drop.has(index + k)) kept.push([index + k, addr + k, 1]);
      r.extents = kept;
    }
  }

  // A unit that fails its checksum matters only if something live is in it: its blocks are then
  // copied elsewhere as they are (their contents cannot be vouched for, but the log is whole again).
  for (const [first, n, why] of damaged) {
    const live: string[] = [];
    for (let a = first; a < first + n; a++) {
      const o = owner.get(a);
      if (o !== undefined) live.push(o);
    }
    if (live.length === 0) continue;
    note(`${why}, and holds ${live.slice(0, 3).join(", ")}${live.length > 3 ? ` and ${live.length - 3} more` : ""}`, () => {
      for (let a = first; a < first + n; a++) {
        const at = a - SEG_START;
        const k = kinds[at];
        if (k === Kind.Data && recs.has(inos[at]!)) {
          const set = relocate.get(inos[at]!) ?? new Set<number>();
          set.add(idxs[at]!);
          relocate.set(inos[at]!, set);
          changedRecs.add(inos[at]!);
        } else if (k === Kind.Imap) {
          chunksToWrite.add(idxs[at]!);
        } else if (k === Kind.Sut) {
          rewriteUsage();
        }
      }
      for (const [ino] of recs) if (recordBlocks(st.imap, ino).some((b) => b >= first && b < first + n)) changedRecs.add(ino);
    });
  }

  // 4. The namespace.
  const dirs = new Map<number, Map<string, DirEnt>>();
  for (const [ino, r] of recs) {
    if ((r.mode & S_IFMT) !== S_IFDIR) continue;
    const n = Math.ceil(r.size / BLOCK_SIZE);
    const map = new Map<number, number>();
    for (const [index, addr, len] of r.extents) for (let k = 0; k < len; k++) map.set(index + k, addr + k);
    const buf = new Uint8Array(n * BLOCK_SIZE);
    let size = r.size;
    for (let k = 0; k < n; k++) {
      const a = map.get(k);
      if (a === undefined) {
        note(`directory ${ino}: block ${k} of its entries is missing`, () => changedDirs.add(ino));
        size = k * BLOCK_SIZE;
        break;
      }
      io.readInto(a, 1, buf, k * BLOCK_SIZE);
    }
    const { entries, error } = decodeDir(buf, size, sb.maxInodes);
    if (error) note(`directory ${ino}: ${error}`, () => changedDirs.add(ino));
    dirs.set(ino, entries);
  }
  const root = recs.get(ROOT_INO);
  if (!root || (root.mode & S_IFMT) !== S_IFDIR) {
    note(root ? `the root inode ${ROOT_INO} is not a directory` : `the root directory (inode ${ROOT_INO}) is missing or damaged`);
    return finish();
  }
  if (root.parent !== ROOT_INO) note(`the root directory's parent is ${root.parent}`, () => ((root.parent = ROOT_INO), changedRecs.add(ROOT_INO)));
  const visited = new Set<number>([ROOT_INO]);
  const walk = (start: number) => {
    const queue = [start];
    while (queue.length > 0) {
      const d = queue.shift()!;
      const entries = dirs.get(d)!;
      for (const [name, e] of [...entries]) {
        const t = recs.get(e.ino);
        if (!t || e.ino === ROOT_INO) {
          const why = e.ino === ROOT_INO ? "the root directory" : bad.has(e.ino) ? `damaged inode ${e.ino}` : `inode ${e.ino}, which does not exist`;
          note(`directory ${d}: entry "${name}" names ${why}`, () => (entries.delete(name), changedDirs.add(d)));
          continue;
        }
        if (dtOf(t.mode) !== e.type) note(`directory ${d}: entry "${name}" says type ${e.type} but inode ${e.ino} is type ${dtOf(t.mode)}`, () => (entries.set(name, { ino: e.ino, type: dtOf(t.mode) }), changedDirs.add(d)));
        if ((t.mode & S_IFMT) !== S_IFDIR) continue;
        if (visited.has(e.ino)) {
          note(`directory ${e.ino} is linked from more than one place (again as "${name}" in ${d})`, () => (entries.delete(name), changedDirs.add(d)));
          continue;
        }
        visited.add(e.ino);
        if (t.parent !== d) note(`directory ${e.ino}: its parent is recorded as ${t.parent} but it is in directory ${d}`, () => ((t.parent = d), changedRecs.add(e.ino)));
        queue.push(e.ino);
      }
    }
  };
  walk(ROOT_INO);
  // References from every directory, reachable or not.
  const refs = (): Map<number, number> => {
    const m = new Map<number, number>();
    for (const entries of dirs.values()) for (const e of entries.values()) m.set(e.ino, (m.get(e.ino) ?? 0) + 1);
    return m;
  };
  const r0 = refs();
  for (const [ino, r] of recs) {
    if (ino === ROOT_INO) continue;
    const isDir = (r.mode & S_IFMT) === S_IFDIR;
    if ((r0.get(ino) ?? 0) === 0) {
      note(`inode ${ino} (${isDir ? "directory" : "file"}) is in no directory`, () => {
        const rootEntries = dirs.get(ROOT_INO)!;
        let name = `#${ino}`;
        for (let k = 1; rootEntries.has(name); k++) name = `#${ino}.${k}`;
        rootEntries.set(name, { ino, type: dtOf(r.mode) });
        changedDirs.add(ROOT_INO);
        if (isDir) {
          r.parent = ROOT_INO;
          changedRecs.add(ino);
          visited.add(ino);
          walk(ino);
        }
      });
    } else if (isDir && !visited.has(ino)) {
      note(`directory ${ino} is not reachable from the root`);
    }
  }
  if (options.repair) for (const p of problems) p.fix?.();

  // 5. Link counts (after the repairs above, when repairing).
  const r1 = refs();
  for (const [ino, r] of recs) {
    if (removed.has(ino)) continue;
    let want: number;
    if ((r.mode & S_IFMT) === S_IFDIR) {
      want = 2;
      for (const e of dirs.get(ino)!.values()) {
        const t = recs.get(e.ino);
        if (t && (t.mode & S_IFMT) === S_IFDIR && e.ino !== ROOT_INO) want++;
      }
    } else {
      want = r1.get(ino) ?? 0;
      if (want === 0) continue; // reported above as unreferenced
    }
    if (r.nlink !== want) {
      const fix = () => ((r.nlink = want), changedRecs.add(ino));
      note(`inode ${ino} has link count ${r.nlink}, should be ${want}`, fix);
      if (options.repair) fix();
    }
  }
  return finish();

  function finish(): FsckReport {
    const out: FsckProblem[] = problems.map((p) => ({ what: p.what, repaired: options.repair && p.fix !== undefined }));
    if (options.repair && out.some((p) => p.repaired)) {
      writeRepairs();
    }
    return { clean: out.length === 0, problems: out };
  }

  function writeRepairs(): void {
    const edit = emptyEdit();
    for (const ino of removed) edit.removed.add(ino);
    for (const c of chunksToWrite) edit.chunks.add(c);
    for (const d of changedDirs) {
      if (!recs.has(d) || removed.has(d)) continue;
      edit.dirs.set(d, dirs.get(d)!);
      changedRecs.add(d);
    }
    for (const ino of changedRecs) if (recs.has(ino) && !removed.has(ino)) edit.records.set(ino, recs.get(ino)!);
    for (const [ino, set] of relocate) if (edit.records.has(ino)) edit.relocate.set(ino, [...set]);
    for (let s = 0; s < sb.nrSegments; s++) if (live[s]! > 0) st.usage.state[s] = SegState.Used;
    writeImageEdit(ctx, st, edit);
  }
}
