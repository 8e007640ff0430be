/**
 * Raw inspection of an fs-simple image (through its published format), for the harness's
 * known-bug classifier: which files' last blocks hold non-zero bytes past the end of file.
 */
import { format } from "@folio/fs-simple";

/** Files whose last block holds non-zero bytes past EOF: inode → byte range [from, to) of the file. */
export function staleTailsSimple(image: Uint8Array): Map<number, { from: number; to: number }> {
  const out = new Map<number, { from: number; to: number }>();
  const B = format.BLOCK_SIZE;
  let sb: ReturnType<typeof format.decodeSuper>;
  try {
    sb = format.decodeSuper(image, 0, "image");
  } catch {
    return out;
  }
  const ok = (b: number) => b >= sb.firstDataBlock && b < sb.blockCount && (b + 1) * B <= image.length;
  for (let ino = 1; ino < sb.inodeCount; ino++) {
    const loc = format.inodeLocation(sb, ino);
    if ((loc.block + 1) * B > image.length) break;
    const raw = format.decodeInode(image, loc.block * B + loc.offset);
    if ((raw.mode & format.S_IFMT) !== format.S_IFREG || raw.size % B === 0) continue;
    const index = Math.floor(raw.size / B);
    if (index >= format.MAX_FILE_BLOCKS) continue;
    const path = format.blockPath(index);
    let block = raw.ptrs[path[0]!]!;
    for (let d = 1; d < path.length && ok(block); d++) block = format.getU32(image, block * B + path[d]! * 4);
    if (!ok(block)) continue;
    const tail = image.subarray(block * B + (raw.size % B), (block + 1) * B);
    if (tail.some((x) => x !== 0)) out.set(ino, { from: raw.size, to: (index + 1) * B });
  }
  return out;
}
