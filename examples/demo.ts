/**
 * The Quick start demo: boot a machine, put some memory to use, and let the frames describe
 * themselves. Run with `pnpm demo`.
 */
import { Gfp, Machine, type PageOwner, PageOpResult } from "@folio/core";

const machine = Machine.boot({ memory: "64MiB", hugePages: 2, seed: 42 });
console.log("== A 64 MiB machine, just booted ==");
console.log(machine.formatMeminfo());
console.log(machine.formatBuddyinfo());

// An owner of folios answers the public page interface; here a stand-in for a file's page cache.
const owner: PageOwner = {
  label: "inode 12 on demo-fs",
  dirty: () => PageOpResult.Done,
  migrate: () => PageOpResult.Unsupported,
  release: () => PageOpResult.Busy,
};
const ownerId = machine.owners.register(owner);
const folio = machine.folios.alloc(3, Gfp.Movable, ownerId, 4);
const small = machine.kmem.kmalloc(200);
const large = machine.kmem.kmalloc(256 * 1024);
const area = machine.vmalloc.vmalloc(5 * 4096);

console.log("\n== Every frame says what it holds ==");
const frames = [
  0,
  machine.folios.pfn(folio) + 7,
  Math.floor(small / 4096),
  Math.floor(large / 4096) + 2,
  machine.vmalloc.toPfn(area + 3 * 4096),
  machine.frames - 1,
];
for (const pfn of frames) console.log(`pfn ${String(pfn).padStart(6)}: ${machine.describe(pfn).text}`);

console.log("\n== After the allocations ==");
console.log(machine.formatBuddyinfo());
const problems = machine.verify();
console.log(problems.length === 0 ? "verify: every frame accounted for exactly once" : problems.join("\n"));
if (problems.length > 0) process.exitCode = 1;
