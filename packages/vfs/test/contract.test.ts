import test from "ava";
import { Mapping } from "@folio/pagecache";
import { boot } from "./helpers.js";

/** The data callbacks of a filesystem: arguments of the page-cache helpers, never stored. */
const CALLBACK_NAMES = new Set(["readFolio", "readahead", "writeBegin", "writeEnd", "writepages", "writeFolio"]);

/**
 * Walks every object reachable from `roots` through own properties, Map and Set entries (not
 * prototypes, not the machine-wide services in `skip`), and returns each field that holds a
 * function or is named like a data callback.
 */
function findCallbacks(roots: [string, object][], skip: Set<object>): { offenders: string[]; seen: Set<object> } {
  const offenders: string[] = [];
  const seen = new Set<object>();
  const stack = [...roots];
  while (stack.length > 0) {
    const [path, obj] = stack.pop()!;
    if (seen.has(obj) || skip.has(obj) || ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) continue;
    seen.add(obj);
    const fields: [string, unknown][] = [];
    if (obj instanceof Map) for (const [k, v] of obj) fields.push([`${path}.get(${String(k)})`, v], [`${path}.key`, k]);
    else if (obj instanceof Set) for (const v of obj) fields.push([`${path}.has`, v]);
    for (const key of Reflect.ownKeys(obj)) {
      const d = Object.getOwnPropertyDescriptor(obj, key)!;
      const name = String(key);
      if (CALLBACK_NAMES.has(name)) offenders.push(`${path}.${name} (named like a data callback)`);
      if ("value" in d) fields.push([`${path}.${name}`, d.value]);
    }
    for (const [p, v] of fields) {
      if (typeof v === "function") offenders.push(`${p} (a function)`);
      else if (typeof v === "object" && v !== null) stack.push([p, v]);
    }
  }
  return { offenders, seen };
}

test("no Vfs, superblock, FsFile or Mapping holds a data callback or any function", (t) => {
  const { fs, vfs, machine } = boot();
  fs.mkdirSync("/d");
  fs.writeFileSync("/d/f", Buffer.alloc(20_000, 1));
  fs.readFileSync("/d/f");
  fs.mkdirSync("/mnt");
  vfs.mount("/mnt", "ramfs");
  fs.writeFileSync("/mnt/g", "on the second mount");
  const fd = fs.openSync("/d/f", "r+");
  fs.writeSync(fd, "dirty", 100);
  const sb = vfs.superBlockOf("/");
  const ino = fs.statSync("/d/f").ino;
  const file = sb.open(ino, 0);
  const skip = new Set<object>([machine, machine.container, vfs.cache, vfs.flusher]);
  const { offenders, seen } = findCallbacks(
    [
      ["vfs", vfs],
      ["sb", sb],
      ["file", file],
      ["mapping", file.mapping],
    ],
    skip,
  );
  t.deepEqual(offenders, []);
  const mappings = [...seen].filter((o) => o instanceof Mapping);
  t.true(mappings.length >= 2, "the walk reached the mappings through the VFS and the superblock");
  t.true([...seen].some((o) => o !== file && "wbErr" in o && "ino" in o && "flags" in o), "and the open file's FsFile through the descriptor table");
  sb.release(file);
  fs.closeSync(fd);
});

test("the writeback flusher reaches a filesystem only through its superblock's writebackInodes", (t) => {
  const { fs, vfs, machine } = boot();
  const sb = vfs.superBlockOf("/");
  let calls = 0;
  const writeback = sb.writebackInodes.bind(sb);
  sb.writebackInodes = (wbc) => {
    calls++;
    return writeback(wbc);
  };
  fs.writeFileSync("/f", Buffer.alloc(4096 * 3));
  t.is(machine.meminfo().Dirty, 12);
  machine.scheduler.runFor(36e9);
  t.true(calls > 0);
  t.is(machine.meminfo().Dirty, 0);
});
