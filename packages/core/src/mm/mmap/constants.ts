/**
 * The constants of the user-mapping system calls, with Linux's values (x86-64), and the layout
 * of a simulated process's address space.
 */
import { PAGE_SIZE } from "../../units.js";

/** Page protection (mmap, mprotect): no access at all. */
export const PROT_NONE = 0;
/** Pages may be read. */
export const PROT_READ = 0x1;
/** Pages may be written; as on x86, a writable page is readable too. */
export const PROT_WRITE = 0x2;
/** Pages may be executed; accepted and recorded (nothing executes), and as on x86 it allows reads. */
export const PROT_EXEC = 0x4;

/** Stores are shared with every other mapping of the file and reach the file. */
export const MAP_SHARED = 0x01;
/** Stores are private to this mapping: the first store to a page copies it (copy on write). */
export const MAP_PRIVATE = 0x02;
/** Place the mapping exactly at `addr`, replacing whatever was mapped there. */
export const MAP_FIXED = 0x10;
/** Memory backed by no file: zero-filled, and by swap under pressure. */
export const MAP_ANONYMOUS = 0x20;
/** Place the mapping exactly at `addr`, failing with EEXIST if anything is mapped there. */
export const MAP_FIXED_NOREPLACE = 0x100000;
/** Reserve nothing ahead: for MAP_HUGETLB, no huge pages are promised at mmap, so a fault may find none (SIGBUS). Accepted and ignored otherwise. */
export const MAP_NORESERVE = 0x4000;
/**
 * Anonymous memory backed by 2 MiB pages of the hugetlb pool (MAP_HUGETLB | MAP_ANONYMOUS): the
 * pages are reserved at mmap (ENOMEM when the pool cannot cover them, unless MAP_NORESERVE), the
 * address and length are 2 MiB-aligned, and a fault maps a whole zeroed huge page. Never split,
 * reclaimed or swapped; freed back to the pool at munmap or exit. hugetlbfs files are not modelled.
 */
export const MAP_HUGETLB = 0x40000;

/** madvise: no special treatment (the default read-around on faults). */
export const MADV_NORMAL = 0;
/** madvise: expect random accesses, so a fault reads only the page it needs. */
export const MADV_RANDOM = 1;
/** madvise: expect sequential accesses, so a fault reads ahead aggressively. */
export const MADV_SEQUENTIAL = 2;
/** madvise: start reading the range into the page cache now. */
export const MADV_WILLNEED = 3;
/** madvise: drop the range's pages from this mapping; anonymous and copied pages read as new afterwards. */
export const MADV_DONTNEED = 4;
/**
 * madvise: inject a hardware memory error into the frame of each page (hard offline, as if the
 * memory had failed): a dirty page's data is lost and its next access is SIGBUS; a clean one is
 * dropped and read again. Linux requires CAP_SYS_ADMIN; the simulation has no privileges.
 */
export const MADV_HWPOISON = 100;
/** madvise: move the contents of each page to another frame and retire the old frame (soft offline); nothing is lost. */
export const MADV_SOFT_OFFLINE = 101;
/** madvise: anonymous faults in the range may get transparent huge pages (VM_HUGEPAGE), also under the "madvise" mode. */
export const MADV_HUGEPAGE = 14;
/** madvise: anonymous faults in the range never get transparent huge pages (VM_NOHUGEPAGE), even under "always". */
export const MADV_NOHUGEPAGE = 15;

/**
 * When anonymous faults may allocate large folios (/sys/kernel/mm/transparent_hugepage/enabled):
 * `always` in every private anonymous mapping not advised MADV_NOHUGEPAGE, `madvise` only where
 * MADV_HUGEPAGE was given (most distributions' default), `never` not at all.
 */
export type TransparentHugepageMode = "always" | "madvise" | "never";
/** Order of a PMD-sized transparent huge page (2 MiB), the default and largest anonymous folio order. */
export const HPAGE_PMD_ORDER = 9;
/** Bytes of a PMD-sized huge page: 2 MiB, also the size of a hugetlb page. */
export const HPAGE_PMD_SIZE = PAGE_SIZE << HPAGE_PMD_ORDER;

/** msync: start writing the range back and return at once. */
export const MS_ASYNC = 1;
/** msync: invalidate other copies of the data (nothing to do: the page cache is the one copy). */
export const MS_INVALIDATE = 2;
/** msync: write the range back and wait until it is on the device. */
export const MS_SYNC = 4;

/** One past the highest user address: 2^47 − 4 KiB, as with x86-64's four-level page tables. */
export const TASK_SIZE = 2 ** 47 - PAGE_SIZE;
/** Lowest address a mapping may use (vm.mmap_min_addr's default: 64 KiB), so address 0 never maps. */
export const MMAP_MIN_ADDR = 0x10000;
/** Where the top-down search for free address space starts: below a 128 MiB gap for the stack. */
export const MMAP_BASE = TASK_SIZE - 128 * 1024 * 1024;
/** Most mappings one address space may hold (vm.max_map_count's default); more is ENOMEM. */
export const MAX_MAP_COUNT = 65530;
/** Pages a read fault maps around the faulting one when they are already cached (fault_around_bytes: 64 KiB). */
export const FAULT_AROUND_PAGES = 16;
