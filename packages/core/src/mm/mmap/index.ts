/** User mappings: address spaces, page tables, faults and the reverse map (see docs/ARCHITECTURE.md). */
export * from "./constants.js";
export * from "./errors.js";
export * from "./page-table.js";
export * from "./vma.js";
export * from "./hugetlb-region.js";
export * from "./rmap.js";
export * from "./address-space.js";
export * from "./user-memory.js";
