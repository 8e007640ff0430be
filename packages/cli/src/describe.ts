/**
 * `describe`: everything a frame says about itself — its struct page entry (memdesc type and
 * reference, per-page flags, order), its pageblock, and what core's `describe(pfn)` reads from
 * the descriptor the memdesc leads to.
 */
import {
  FolioFlag, MEMDESC_TYPE_NAMES, MIGRATE_TYPE_NAMES, MemdescType, PAGEBLOCK_ORDER, PAGE_SIZE, type FrameDescription, type Machine,
} from "@folio/core";

/** A frame's own record and its description. */
export interface FrameReport extends FrameDescription {
  /** Physical address of the frame, hex. */
  physical: string;
  /** The memdesc reference as stored (its meaning depends on the type). */
  ref: number;
  /** The order field of the struct page entry (meaningful on allocation heads and free-block heads). */
  order: number;
  /** The pageblock the frame is in. */
  pageblock: {
    /** Pageblock number: pfn / 512. */
    index: number;
    /** Its migrate type name (`Movable`, …). */
    migrateType: string;
  };
}

/** Everything frame `pfn` says about itself. Throws EINVAL (core's message) for a bad pfn. */
export function describePfn(machine: Machine, pfn: number): FrameReport {
  const d = machine.describe(pfn);
  const map = machine.memmap;
  return {
    ...d,
    physical: `0x${(pfn * PAGE_SIZE).toString(16)}`,
    ref: map.ref[pfn]!,
    order: map.order[pfn]!,
    pageblock: { index: pfn >>> PAGEBLOCK_ORDER, migrateType: MIGRATE_TYPE_NAMES[machine.pages.pageblockMigrateType(pfn)]! },
  };
}

/** Formats a {@link FrameReport} as `key: value` lines, its sentence first. */
export function formatFrameReport(r: FrameReport): string {
  const lines = [
    `pfn ${r.pfn} (physical ${r.physical}): ${r.text}`,
    `  memdesc:    ${r.type}, reference ${r.ref}`,
    `  page flags: ${r.pageFlags.length > 0 ? r.pageFlags.join(", ") : "none"}`,
    `  order:      ${r.order}`,
    `  pageblock:  ${r.pageblock.index} (${r.pageblock.migrateType})`,
  ];
  if (r.owner !== undefined) lines.push(`  owner:      ${r.owner}`);
  if (r.folio) {
    const f = r.folio;
    lines.push(`  folio:      handle ${f.handle}, head pfn ${f.pfn}, order ${f.order}, page ${f.pageInFolio} of ${1 << f.order}, index ${f.index}`);
    lines.push(`              flags ${f.flags || "none"}, refcount ${f.refcount}, mapcount ${f.mapcount}`);
  }
  return lines.join("\n");
}

/** One example frame of a kind of memory, or none when the machine has no such frame. */
export interface TypeExample {
  /** A memdesc type name, or `folio (file)` / `folio (anon)` for the two kinds of folio. */
  kind: string;
  /** The first frame of that kind, or null when there is none. */
  frame: FrameReport | null;
}

/**
 * The first frame of every memdesc type, with folios split into file-backed and anonymous ones:
 * what `describe --all-types` prints.
 */
export function exampleFrames(machine: Machine): TypeExample[] {
  const map = machine.memmap;
  const first = new Map<string, number>();
  for (let pfn = 0; pfn < map.frames; pfn++) {
    const type = map.type[pfn]! as MemdescType;
    let kind: string = MEMDESC_TYPE_NAMES[type];
    if (type === MemdescType.Folio) {
      const h = map.ref[pfn]!;
      kind = machine.folios.test(h, FolioFlag.SwapBacked) ? "folio (anon)" : machine.folios.owner(h) !== 0 ? "folio (file)" : "folio";
    }
    if (!first.has(kind)) first.set(kind, pfn);
  }
  const kinds: string[] = [];
  for (const name of MEMDESC_TYPE_NAMES) {
    if (name === "folio") kinds.push("folio (file)", "folio (anon)", ...(first.has("folio") ? ["folio"] : []));
    else kinds.push(name);
  }
  return kinds.map((kind) => {
    const pfn = first.get(kind);
    return { kind, frame: pfn === undefined ? null : describePfn(machine, pfn) };
  });
}
