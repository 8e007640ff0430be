/**
 * The registry of benchmark suites, in the order they run by default. A new suite is a file
 * bench/<name>.ts exporting a {@link Suite}, and one line here.
 */
import type { Suite } from "./harness.js";
import { coreSuite } from "./core.js";
import { fsSuite } from "./fs.js";
import { pagecacheSuite } from "./pagecache.js";
import { policiesSuite } from "./policies.js";
import { filesystemsSuite } from "./filesystems.js";
import { mmapSuite } from "./mmap.js";
import { fuseSuite } from "./fuse.js";
import { scalingSuite } from "./scaling.js";

export const SUITES: readonly Suite[] = [
  coreSuite,
  pagecacheSuite,
  policiesSuite,
  filesystemsSuite,
  fsSuite,
  mmapSuite,
  scalingSuite,
  fuseSuite,
];
