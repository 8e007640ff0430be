/**
 * An address space (Linux's mm_struct): the mappings of one simulated process, its page tables,
 * the system calls that change them (mmap, munmap, mprotect, madvise, msync), and loads and
 * stores at virtual addresses, which fault when a page-table entry is missing or forbids the
 * access (handle_mm_fault).
 */
import { fail, isFolioError, type ErrorCode } from "../../errors.js";
import { PAGE_SIZE } from "../../units.js";
import type { AnonRegion } from "../anon.js";
import { FolioFlag } from "../folio.js";
import { PageOpCaller, PageOpResult } from "../page-owner.js";
import { VmEvent } from "../vmstat.js";
import {
  FAULT_AROUND_PAGES, HPAGE_PMD_ORDER, HPAGE_PMD_SIZE, MADV_DONTNEED, MADV_HUGEPAGE, MADV_HWPOISON, MADV_NOHUGEPAGE, MADV_NORMAL, MADV_SOFT_OFFLINE, MADV_RANDOM,
  MADV_SEQUENTIAL, MADV_WILLNEED, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_HUGETLB, MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED, MAX_MAP_COUNT, MMAP_BASE,
  MMAP_MIN_ADDR, MS_ASYNC, MS_INVALIDATE, MS_SYNC, PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE, TASK_SIZE,
} from "./constants.js";
import type { HugetlbRegion } from "./hugetlb-region.js";
import { MemoryAccessError, type AccessKind } from "./errors.js";
import { PTES_PER_TABLE, PageTables, Pte, isPoisonPte, ptePfn } from "./page-table.js";
import { ZapMode } from "./rmap.js";
import type { UserMemory } from "./user-memory.js";
import { Vma, type MapPageSink, type MappableFile } from "./vma.js";

/** What {@link AddressSpace.mmap} is asked for (the arguments of mmap(2)). */
export interface MmapRequest {
  /**
   * Where: with MAP_FIXED or MAP_FIXED_NOREPLACE the exact, page-aligned address; otherwise a
   * hint, used when that range is free. Default: the address space chooses (top-down).
   */
  addr?: number;
  /** Bytes to map (> 0); rounded up to whole pages. */
  length: number;
  /** PROT_NONE or PROT_READ | PROT_WRITE | PROT_EXEC bits. */
  prot: number;
  /** MAP_SHARED or MAP_PRIVATE, optionally with MAP_ANONYMOUS, MAP_FIXED or MAP_FIXED_NOREPLACE, MAP_HUGETLB (with MAP_ANONYMOUS), MAP_NORESERVE. */
  flags: number;
  /** The file to map (required without MAP_ANONYMOUS, refused with it). */
  file?: MappableFile;
  /** Byte offset in the file of the first mapped byte; page-aligned. Default 0. */
  offset?: number;
}

const KNOWN_PROT = PROT_READ | PROT_WRITE | PROT_EXEC;
const KNOWN_FLAGS = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_HUGETLB | MAP_NORESERVE;
/** Small pages per huge page (a hugetlb page, or a PMD-sized THP). */
const HPAGE_PAGES = 1 << HPAGE_PMD_ORDER;
/** Loads and stores up to this many bytes within a page copy byte by byte: no view object, nothing allocated. */
const SMALL_COPY = 64;
/** A fault retries this often when what it waited for changed under it (truncate, reclaim) before giving up. */
const MAX_FAULT_RETRIES = 64;
/** Bits that identify what a PTE maps; a fault that waited re-checks them. */
const PTE_IDENTITY = ~(Pte.Write | Pte.Dirty | Pte.Accessed);
/** Largest file offset a mapping may reach: 16 TiB, the largest file. */
const MAX_FILE_BYTES = 2 ** 44;

/**
 * One simulated process's memory: its VMAs, sorted by address (no object per page), and its
 * {@link PageTables}. Created by `machine.mm.createAddressSpace(label)`.
 *
 * Loads and stores behave like a CPU with an MMU: a present PTE serves the access directly (setting
 * the accessed bit, and the dirty bit on a store) and allocates nothing for accesses of up to 64
 * bytes within a page; a missing entry, or a store through a read-only one, enters the fault
 * handler, which consults the VMA and either installs the entry or throws a
 * {@link MemoryAccessError} (SIGSEGV-like for a bad address or protection, SIGBUS-like for a page
 * beyond the end of the file or one that cannot be read). An access spanning several pages is done
 * page by page: if a later page faults fatally, the earlier pages have been accessed (a store has
 * changed them), as with a real `memcpy`.
 *
 * System calls validate everything before they change anything, and throw Folio errors with
 * Linux's codes (EINVAL, ENOMEM for unmapped ranges, EACCES, EEXIST, EBADF, EPERM).
 */
export class AddressSpace {
  /** The page tables (read by the reverse map and checks). */
  readonly pageTables: PageTables;
  private readonly vmas: Vma[] = [];
  private destroyed = false;
  /** Fault-around state for {@link mapAround}: the VMA and page of the fault being served. */
  private aroundVma: Vma | null = null;
  private aroundVpn = -1;
  /** Bound once, so a fault-around allocates no closure. */
  private readonly mapAround: MapPageSink = (folio, pgoff) => this.mapAroundPage(folio, pgoff);

  /**
   * Called by {@link UserMemory.createAddressSpace} with a fresh `id`; builds the space's page
   * tables.
   */
  constructor(
    private readonly mm: UserMemory,
    /** Address space id: the memdesc reference of its page-table frames. */
    readonly id: number,
    /** The process's name, for messages. */
    readonly label: string,
  ) {
    this.pageTables = new PageTables(mm.memory, mm.pages, mm.vm, id);
  }

  // ── System calls ──

  /**
   * Creates a mapping (mmap(2)) and returns its address. The file's pages are not read now: the
   * first access to each page faults it in. A private mapping copies a page on its first store to
   * it; a shared one dirties the file's page. Errors, all before anything changes: EINVAL (length
   * not positive, flags without exactly one of MAP_SHARED/MAP_PRIVATE or with unknown bits, unknown
   * prot bits, unaligned offset or fixed address, a file with MAP_ANONYMOUS), EBADF (no file
   * without MAP_ANONYMOUS), EACCES (a shared writable mapping of a file not open for writing),
   * EEXIST (MAP_FIXED_NOREPLACE over a mapping), EPERM (a fixed address below 64 KiB), ENOMEM (no
   * room, beyond the user address space, or more than 65530 mappings). With MAP_FIXED, whatever
   * was mapped in the range is unmapped first, as munmap would.
   *
   * Placement: without a usable hint, an anonymous mapping whose length is a multiple of 2 MiB is
   * placed 2 MiB-aligned unless transparent huge pages are "never" (thp_get_unmapped_area), so its
   * faults can get whole huge pages. MAP_HUGETLB (with MAP_ANONYMOUS only: EINVAL otherwise) rounds
   * the length up to 2 MiB, needs a 2 MiB-aligned fixed address (EINVAL) and reserves its huge pages
   * in the pool now: ENOMEM if the pool cannot cover them, unless MAP_NORESERVE.
   */
  mmap(request: MmapRequest): number {
    this.checkAlive("mmap");
    if (typeof request !== "object" || request === null) throw fail("EINVAL", "mmap needs a request { length, prot, flags, file?, offset? }", { syscall: "mmap" });
    const { prot, flags, file } = request;
    const offset = request.offset ?? 0;
    const e = (code: ErrorCode, why: string) => fail(code, why, { syscall: "mmap" });
    if (!Number.isSafeInteger(request.length) || request.length <= 0) throw e("EINVAL", `length ${String(request.length)} must be a positive integer`);
    if (!Number.isInteger(prot) || (prot & ~KNOWN_PROT) !== 0) throw e("EINVAL", `prot ${String(prot)} has bits other than PROT_READ, PROT_WRITE, PROT_EXEC`);
    if (!Number.isInteger(flags) || (flags & ~KNOWN_FLAGS) !== 0) throw e("EINVAL", `flags 0x${Number(flags).toString(16)} have unknown bits`);
    const type = flags & (MAP_SHARED | MAP_PRIVATE);
    if (type !== MAP_SHARED && type !== MAP_PRIVATE) throw e("EINVAL", "flags need exactly one of MAP_SHARED and MAP_PRIVATE");
    if (!Number.isSafeInteger(offset) || offset < 0 || offset % PAGE_SIZE !== 0) throw e("EINVAL", `offset ${String(offset)} must be a non-negative multiple of ${PAGE_SIZE}`);
    let length = Math.ceil(request.length / PAGE_SIZE) * PAGE_SIZE;
    if (length > TASK_SIZE - MMAP_MIN_ADDR) throw e("ENOMEM", `${length} bytes do not fit in the user address space`);
    const anonymous = (flags & MAP_ANONYMOUS) !== 0;
    const hugetlb = (flags & MAP_HUGETLB) !== 0;
    if (hugetlb && !anonymous) throw e("EINVAL", "MAP_HUGETLB needs MAP_ANONYMOUS (hugetlbfs files are not modelled)");
    if (anonymous && file !== undefined) throw e("EINVAL", "MAP_ANONYMOUS maps no file");
    if (!anonymous) {
      if (file === undefined || file === null) throw e("EBADF", "a mapping without MAP_ANONYMOUS needs a file");
      if (offset + length > MAX_FILE_BYTES) throw e("EINVAL", `offset ${offset} + length ${length} is beyond the largest file`);
      if (type === MAP_SHARED && prot & PROT_WRITE && !file.writable) throw e("EACCES", `${file.label} is not open for writing, so it cannot be mapped shared and writable`);
    }
    if (hugetlb) length = Math.ceil(length / HPAGE_PMD_SIZE) * HPAGE_PMD_SIZE;
    const align = hugetlb || (anonymous && length % HPAGE_PMD_SIZE === 0 && this.mm.transparentHugepage !== "never") ? HPAGE_PMD_SIZE : PAGE_SIZE;
    const fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0;
    let addr: number;
    if (fixed) {
      addr = request.addr ?? NaN;
      if (!Number.isSafeInteger(addr) || addr % PAGE_SIZE !== 0) throw e("EINVAL", `fixed address ${String(request.addr)} must be page-aligned`);
      if (hugetlb && addr % HPAGE_PMD_SIZE !== 0) throw e("EINVAL", `fixed address 0x${addr.toString(16)} of a MAP_HUGETLB mapping must be 2 MiB-aligned`);
      if (addr < MMAP_MIN_ADDR) throw e("EPERM", `address 0x${addr.toString(16)} is below the lowest mappable address 0x${MMAP_MIN_ADDR.toString(16)}`);
      if (addr + length > TASK_SIZE) throw e("ENOMEM", `[0x${addr.toString(16)}, 0x${(addr + length).toString(16)}) is beyond the user address space`);
      if (flags & MAP_FIXED_NOREPLACE && this.overlaps(addr, addr + length)) throw e("EEXIST", `[0x${addr.toString(16)}, 0x${(addr + length).toString(16)}) overlaps an existing mapping`);
      this.checkHugeSplit(addr, addr + length, "mmap");
      // Replacing mappings can split one in two: one more at most.
      if (this.vmas.length + 2 > MAX_MAP_COUNT) throw e("ENOMEM", `${this.vmas.length} mappings is the limit`);
    } else {
      if (this.vmas.length + 1 > MAX_MAP_COUNT) throw e("ENOMEM", `${this.vmas.length} mappings is the limit`);
      addr = this.findRoom(request.addr, length, align, hugetlb);
      if (addr < 0) throw e("ENOMEM", `no free range of ${length} bytes in the address space`);
    }
    // The last check: the reservation (hugetlb_reserve_pages) is ENOMEM when the pool cannot cover the pages.
    let huge: HugetlbRegion | null = null;
    if (hugetlb) {
      const label = `huge pages at 0x${addr.toString(16)} in ${this.label}`;
      huge = this.mm.createHugetlbRegion(label, length / HPAGE_PMD_SIZE, (flags & MAP_NORESERVE) !== 0);
    }
    if (fixed) this.removeRange(addr, addr + length);
    const vmaFlags = type | (anonymous ? MAP_ANONYMOUS : 0) | (hugetlb ? MAP_HUGETLB : 0);
    const vma = new Vma(this, addr, addr + length, prot, vmaFlags, anonymous ? null : file!, offset / PAGE_SIZE, null, 0, MADV_NORMAL, 0, huge);
    this.insert(vma);
    return addr;
  }

  /**
   * Removes the mappings in [addr, addr + length) (munmap(2)), splitting a mapping that straddles
   * either end. Stores through shared mappings stay in the file's dirty pages; anonymous pages and
   * private copies are freed (a transparent huge page unmapped in part is split, and only its
   * unmapped pages go); huge pages of a MAP_HUGETLB mapping go back to the pool with the
   * reservations of those never faulted in. Unmapping a range that holds no mapping is not an
   * error. Throws EINVAL for an unaligned address, a length that is not positive, a range beyond
   * user space or one that would cut a MAP_HUGETLB mapping inside a huge page, ENOMEM when a split
   * would pass the mapping limit.
   */
  munmap(addr: number, length: number): void {
    this.checkAlive("munmap");
    const end = this.checkRange(addr, length, "munmap");
    this.checkHugeSplit(addr, end, "munmap");
    if (this.vmas.length + 1 > MAX_MAP_COUNT && this.splits(addr, end) > 0) throw fail("ENOMEM", `${this.vmas.length} mappings is the limit`, { syscall: "munmap" });
    this.removeRange(addr, end);
  }

  /**
   * Changes the protection of [addr, addr + length) (mprotect(2)), splitting mappings at the ends.
   * Taking write permission away write-protects the pages (a later PROT_WRITE lets the next store
   * fault and dirty the page properly); PROT_NONE unmaps them from the page tables (their contents
   * stay: in the file, or in the mapping's anonymous memory). Throws EINVAL (unaligned address,
   * unknown bits), ENOMEM (part of the range is not mapped, or too many mappings), EACCES
   * (PROT_WRITE on a shared mapping of a file not open for writing) — before changing anything.
   */
  mprotect(addr: number, length: number, prot: number): void {
    this.checkAlive("mprotect");
    if (!Number.isInteger(prot) || (prot & ~KNOWN_PROT) !== 0) throw fail("EINVAL", `prot ${String(prot)} has unknown bits`, { syscall: "mprotect" });
    if (length === 0 && Number.isSafeInteger(addr) && addr % PAGE_SIZE === 0) return;
    const end = this.checkRange(addr, length, "mprotect");
    const hole = this.firstHole(addr, end);
    if (hole >= 0) throw fail("ENOMEM", `address 0x${hole.toString(16)} in the range is not mapped`, { syscall: "mprotect" });
    for (const vma of this.overlapping(addr, end)) {
      if (vma.shared && vma.file !== null && prot & PROT_WRITE && !vma.file.writable) {
        throw fail("EACCES", `${vma.file.label} is not open for writing, so its shared mapping cannot become writable`, { syscall: "mprotect" });
      }
    }
    this.checkHugeSplit(addr, end, "mprotect");
    if (this.vmas.length + this.splits(addr, end) > MAX_MAP_COUNT) throw fail("ENOMEM", `${this.vmas.length} mappings is the limit`, { syscall: "mprotect" });
    this.splitAt(addr);
    this.splitAt(end);
    for (const vma of this.overlapping(addr, end)) {
      vma.prot = prot;
      const pt = this.pageTables;
      if (prot === PROT_NONE) {
        this.zap(vma, vma.startVpn, vma.endVpn, false, false);
      } else if (!(prot & PROT_WRITE)) {
        pt.forEachPresent(vma.startVpn, vma.endVpn, (vpn, pte) => {
          if (pte & Pte.Write) pt.set(vpn, pte & ~Pte.Write);
        });
      }
    }
  }

  /**
   * Gives advice about [addr, addr + length) (madvise(2)). MADV_DONTNEED unmaps the pages: a
   * shared file mapping keeps its stores (in the file's dirty pages), while anonymous memory and a
   * private mapping's copies are freed, so the next access reads zeros or the file again (poison
   * markers go too). MADV_WILLNEED starts reading a file mapping's pages into the page cache.
   * MADV_RANDOM turns off read-around on faults, MADV_SEQUENTIAL reads ahead aggressively,
   * MADV_NORMAL restores the default. MADV_HWPOISON and MADV_SOFT_OFFLINE inject a memory error
   * into the frame of each page (faulting it in first, as a load would): hard offline (the data of
   * a dirty page is lost, and the next access to it is SIGBUS with EHWPOISON) or soft offline (the
   * contents move to another frame); a frame whose handling failed is EBUSY, a page that cannot be
   * faulted in EFAULT. MADV_HUGEPAGE and MADV_NOHUGEPAGE allow or forbid transparent huge pages for
   * later anonymous faults in the range (see {@link UserMemory.thpOrdersFor}). On a MAP_HUGETLB
   * mapping, MADV_DONTNEED needs a 2 MiB-aligned start and drops whole huge pages up to the last
   * 2 MiB boundary of the range. Throws EINVAL (unaligned address, unknown advice, a split inside a
   * huge page); ENOMEM if part of the range is not mapped, after advising the parts that are (as
   * Linux does).
   */
  madvise(addr: number, length: number, advice: number): void {
    this.checkAlive("madvise");
    const known = [MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED, MADV_HWPOISON, MADV_SOFT_OFFLINE, MADV_HUGEPAGE, MADV_NOHUGEPAGE];
    if (!known.includes(advice)) {
      throw fail("EINVAL", `advice ${String(advice)} is not one of MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED, MADV_HWPOISON, MADV_SOFT_OFFLINE, MADV_HUGEPAGE, MADV_NOHUGEPAGE`, { syscall: "madvise" });
    }
    if (length === 0 && Number.isSafeInteger(addr) && addr % PAGE_SIZE === 0) return;
    const end = this.checkRange(addr, length, "madvise");
    const hole = this.firstHole(addr, end);
    if (advice === MADV_DONTNEED) {
      const vmas = this.overlapping(addr, end);
      for (const vma of vmas) {
        if (vma.huge !== null && Math.max(addr, vma.start) % HPAGE_PMD_SIZE !== 0) {
          throw fail("EINVAL", `MADV_DONTNEED of a MAP_HUGETLB mapping must start on a 2 MiB boundary, not at 0x${Math.max(addr, vma.start).toString(16)}`, { syscall: "madvise" });
        }
      }
      for (const vma of vmas) {
        const from = Math.max(addr, vma.start) / PAGE_SIZE;
        let to = Math.min(end, vma.end) / PAGE_SIZE;
        if (vma.huge !== null) to -= to % HPAGE_PAGES; // whole huge pages only
        if (to > from) this.zap(vma, from, to, !vma.shared);
      }
    } else if (advice === MADV_WILLNEED) {
      for (const vma of this.overlapping(addr, end)) {
        if (vma.file === null || vma.file.willneed === undefined) continue;
        const from = Math.max(addr, vma.start) / PAGE_SIZE;
        const to = Math.min(end, vma.end) / PAGE_SIZE;
        vma.file.willneed(vma.pgoffOf(from), to - from);
      }
    } else if (advice === MADV_HWPOISON || advice === MADV_SOFT_OFFLINE) {
      this.injectMemoryError(addr, end, advice === MADV_HWPOISON);
    } else if (this.vmas.length + this.splits(addr, end) <= MAX_MAP_COUNT) {
      this.checkHugeSplit(addr, end, "madvise");
      this.splitAt(addr);
      this.splitAt(end);
      for (const vma of this.overlapping(addr, end)) {
        if (advice === MADV_HUGEPAGE || advice === MADV_NOHUGEPAGE) vma.hugepage = advice;
        else vma.advice = advice;
      }
    } else {
      throw fail("ENOMEM", `${this.vmas.length} mappings is the limit`, { syscall: "madvise" });
    }
    if (hole >= 0) throw fail("ENOMEM", `address 0x${hole.toString(16)} in the range is not mapped`, { syscall: "madvise" });
  }

  /**
   * Flushes stores in [addr, addr + length) to their files (msync(2)). The pages were dirtied when
   * the stores faulted, so nothing has to be collected from the page tables: MS_SYNC writes the
   * file range back and waits until it is durable, as the filesystem's fsync makes it (EIO, once,
   * if writeback failed); MS_ASYNC starts the writeback and returns (Linux has treated it as a
   * no-op since 2.6.19, because dirty pages are tracked anyway; starting the I/O keeps the call's
   * promise that an update is scheduled); MS_INVALIDATE has nothing to do, as every mapping shares
   * the page cache. Private and anonymous mappings are skipped. Throws EINVAL (unaligned address,
   * unknown flags, MS_SYNC with MS_ASYNC), ENOMEM if part of the range is not mapped (after syncing
   * the mapped parts).
   */
  msync(addr: number, length: number, flags: number): void {
    this.checkAlive("msync");
    if (!Number.isInteger(flags) || (flags & ~(MS_ASYNC | MS_SYNC | MS_INVALIDATE)) !== 0) throw fail("EINVAL", `flags ${String(flags)} have unknown bits`, { syscall: "msync" });
    if (flags & MS_ASYNC && flags & MS_SYNC) throw fail("EINVAL", "MS_SYNC and MS_ASYNC exclude each other", { syscall: "msync" });
    if (length === 0 && Number.isSafeInteger(addr) && addr % PAGE_SIZE === 0) return;
    const end = this.checkRange(addr, length, "msync");
    const hole = this.firstHole(addr, end);
    if (flags & (MS_SYNC | MS_ASYNC)) {
      for (const vma of this.overlapping(addr, end)) {
        if (vma.file === null || !vma.shared) continue;
        const from = Math.max(addr, vma.start);
        const to = Math.min(end, vma.end);
        const fileStart = vma.pgoff * PAGE_SIZE + (from - vma.start);
        vma.file.sync(fileStart, fileStart + (to - from) - 1, (flags & MS_SYNC) !== 0);
      }
    }
    if (hole >= 0) throw fail("ENOMEM", `address 0x${hole.toString(16)} in the range is not mapped`, { syscall: "msync" });
  }

  /**
   * Unmaps everything and frees the page tables (exit_mmap): files are released, anonymous memory
   * freed; stores through shared mappings stay in the files' dirty pages. The address space cannot
   * be used afterwards (EINVAL).
   */
  destroy(): void {
    if (this.destroyed) return;
    for (const vma of [...this.vmas]) this.removeRange(vma.start, vma.end);
    this.pageTables.freeAll();
    this.destroyed = true;
    this.mm.forget(this);
  }

  // ── Loads and stores ──

  /** Reads `length` bytes at `addr` into a new array. Faults as described on the class. */
  load(addr: number, length: number): Uint8Array;
  /** Reads `length` bytes (default: to the end of `dst`) at `addr` into `dst[dstOffset…]`. */
  load(addr: number, dst: Uint8Array, dstOffset?: number, length?: number): void;
  load(addr: number, dstOrLength: Uint8Array | number, dstOffset = 0, length?: number): Uint8Array | void {
    if (typeof dstOrLength === "number") {
      if (!Number.isSafeInteger(dstOrLength) || dstOrLength < 0) throw fail("EINVAL", `length ${dstOrLength} must be a non-negative integer`);
      const out = new Uint8Array(dstOrLength);
      this.access(addr, out, 0, dstOrLength, false);
      return out;
    }
    const n = length ?? dstOrLength.length - dstOffset;
    this.access(addr, dstOrLength, dstOffset, n, false);
  }

  /** Writes `length` bytes (default: to the end of `src`) of `src[srcOffset…]` at `addr`. Faults as described on the class. */
  store(addr: number, src: Uint8Array, srcOffset = 0, length = src.length - srcOffset): void {
    this.access(addr, src, srcOffset, length, true);
  }

  // ── Introspection ──

  /** The mappings, sorted by address. */
  mappings(): readonly Vma[] {
    return this.vmas;
  }

  /** The mapping containing `addr`, or undefined (find_vma). */
  vmaAt(addr: number): Vma | undefined {
    const vmas = this.vmas;
    let lo = 0;
    let hi = vmas.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = vmas[mid]!;
      if (addr < v.start) hi = mid - 1;
      else if (addr >= v.end) lo = mid + 1;
      else return v;
    }
    return undefined;
  }

  /** The mappings as /proc/pid/maps lists them. */
  maps(): string[] {
    return this.vmas.map((v) => v.describe());
  }

  /** Pages mapped by a present PTE (the resident set), the zero page included. */
  residentPages(): number {
    let n = 0;
    for (const v of this.vmas) this.pageTables.forEachPresent(v.startVpn, v.endVpn, () => void n++);
    return n;
  }

  // ── The access path ──

  private access(addr: number, buf: Uint8Array, bufOffset: number, length: number, write: boolean): void {
    if (!Number.isSafeInteger(addr) || addr < 0 || !Number.isSafeInteger(length) || length < 0 || !Number.isSafeInteger(bufOffset) || bufOffset < 0 || bufOffset + length > buf.length) {
      throw fail("EINVAL", `${write ? "store" : "load"} of ${String(length)} bytes at ${String(addr)} from buffer offset ${String(bufOffset)} is out of range`);
    }
    const pt = this.pageTables;
    const mem = this.mm.memory;
    const need = write ? Pte.Present | Pte.Write : Pte.Present;
    const mark = write ? Pte.Accessed | Pte.Dirty : Pte.Accessed;
    let done = 0;
    while (done < length) {
      const a = addr + done;
      const vpn = Math.floor(a / PAGE_SIZE);
      const inPage = a - vpn * PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - inPage, length - done);
      let pte = pt.get(vpn);
      // A fault may run the engine after fixing the entry (dirty throttling), and writeback may then
      // write-protect it again: fault until the entry allows the access.
      for (let tries = 0; (pte & need) !== need; tries++) {
        if (tries === MAX_FAULT_RETRIES) throw fail("EDEADLK", `the page at 0x${a.toString(16)} in ${this.label} lost its entry after every fault`);
        this.fault(a, write);
        pte = pt.get(vpn);
      }
      if ((pte & mark) !== mark) pt.set(vpn, pte | mark);
      const pfn = ptePfn(pte);
      const frame = mem.sectionOf(pfn);
      const at = mem.offsetOf(pfn) + inPage;
      const b = bufOffset + done;
      if (n <= SMALL_COPY) {
        if (write) for (let i = 0; i < n; i++) frame[at + i] = buf[b + i]!;
        else for (let i = 0; i < n; i++) buf[b + i] = frame[at + i]!;
      } else if (write) {
        frame.set(buf.subarray(b, b + n), at);
      } else {
        buf.set(frame.subarray(at, at + n), b);
      }
      done += n;
    }
  }

  /**
   * The page-fault handler (handle_mm_fault): makes the PTE of the page holding `addr` present,
   * and writable for a store, or throws. Retries when something it waited for changed the page
   * under it (a truncate, reclaim), as Linux retries on VM_FAULT_RETRY.
   */
  private fault(addr: number, write: boolean): void {
    this.checkAlive(write ? "store" : "load");
    const kind: AccessKind = write ? "store" : "load";
    if (addr >= TASK_SIZE) throw new MemoryAccessError("EFAULT", "SIGSEGV", kind, addr, "beyond the user address space (SEGV_MAPERR)");
    this.mm.vm.events[VmEvent.PgFault]++;
    for (let attempt = 0; attempt < MAX_FAULT_RETRIES; attempt++) {
      const vma = this.vmaAt(addr);
      if (vma === undefined) throw new MemoryAccessError("EFAULT", "SIGSEGV", kind, addr, "no mapping contains this address (SEGV_MAPERR)");
      if (write ? !(vma.prot & PROT_WRITE) : vma.prot === PROT_NONE) {
        throw new MemoryAccessError("EACCES", "SIGSEGV", kind, addr, `the mapping ${vma.describe()} does not allow a ${kind} (SEGV_ACCERR)`);
      }
      const vpn = Math.floor(addr / PAGE_SIZE);
      const entry = this.pageTables.get(vpn);
      if (isPoisonPte(entry)) {
        // do_swap_page on a hwpoison entry: the data is gone, the access cannot complete.
        throw new MemoryAccessError("EHWPOISON", "SIGBUS", kind, addr, `the page's data was lost to a memory error in frame ${ptePfn(entry)} (BUS_MCEERR_AR, in ${vma.describe()})`);
      }
      let done: boolean;
      try {
        done = this.faultPage(vma, vpn, write);
      } catch (e) {
        throw this.sigbus(e, kind, addr, vma);
      }
      if (done) {
        // A store dirtied a page of a shared file: let the file pause us if dirty memory is over
        // its limit (fault_dirty_shared_page → balance_dirty_pages_ratelimited).
        if (write && vma.shared && vma.file !== null) vma.file.vmOps.balanceDirty?.(vma);
        return;
      }
    }
    throw fail("EDEADLK", `the fault at 0x${addr.toString(16)} in ${this.label} kept racing with changes to its page (${MAX_FAULT_RETRIES} retries)`);
  }

  /** One attempt at a fault; false when the page changed while it waited and it must start over. */
  private faultPage(vma: Vma, vpn: number, write: boolean): boolean {
    const pte = this.pageTables.get(vpn);
    if (vma.huge !== null) return this.hugetlbFault(vma, vpn, pte);
    if (pte & Pte.Present) {
      // Only a store to a read-only entry faults on a present PTE.
      if (pte & Pte.Special) return this.anonymousFault(vma, vpn, pte, true);
      const folio = this.mm.folios.fromPfn(ptePfn(pte));
      if (this.mm.folios.test(folio, FolioFlag.SwapBacked)) return this.reuseAnonymous(vma, vpn, pte, folio);
      return vma.shared ? this.writeNotify(vma, vpn, pte, folio) : this.copyOnWrite(vma, vpn, pte, folio);
    }
    if (vma.file === null || (vma.anon !== null && vma.anon.has(vma.anonIndexOf(vpn)))) return this.anonymousFault(vma, vpn, pte, write);
    if (!write) return this.readFault(vma, vpn);
    return vma.shared ? this.sharedWriteFault(vma, vpn) : this.copyOnWrite(vma, vpn, 0, 0);
  }

  /**
   * A fault on anonymous memory (do_anonymous_page, do_swap_page), or on a page a private file
   * mapping has its own copy of. A load of a page never touched maps the shared zero page; a store
   * to it (or to the zero page) gets a fresh zeroed page — a large folio when transparent huge pages
   * allow it ({@link hugeAnonymousFault}). A page on swap is read back. A read fault maps the page
   * writable only if it already has no swap copy to keep current. A page of a large folio is mapped
   * alone (the folio is then mapped in part).
   */
  private anonymousFault(vma: Vma, vpn: number, pte: number, write: boolean): boolean {
    const index = vma.anonIndexOf(vpn);
    const pt = this.pageTables;
    if (!write && (vma.anon === null || !vma.anon.has(index))) {
      this.mm.mapZeroPage(pt, vpn, Pte.Accessed);
      return true;
    }
    const region = this.regionOf(vma);
    if (write && !region.has(index) && this.hugeAnonymousFault(vma, vpn, region)) return true;
    const swapIns = this.mm.vm.events[VmEvent.SwapIn]!;
    pt.prepare(vpn);
    const folio = region.faultIn(index, write);
    if (this.mm.vm.events[VmEvent.SwapIn] !== swapIns) this.mm.vm.events[VmEvent.PgMajFault]++;
    // A swap-in waited: if someone else mapped the page meanwhile, their entry stands.
    if ((pt.get(vpn) & PTE_IDENTITY) !== (pte & PTE_IDENTITY)) return false;
    const f = this.mm.folios;
    const writable = write || (vma.prot & PROT_WRITE && f.test(folio, FolioFlag.Dirty));
    if (pte & Pte.Present) pt.set(vpn, 0); // the zero page: no reference or mapcount to drop
    this.mm.mapPage(pt, vpn, folio, f.pfn(folio) + (index - f.index(folio)), Pte.Accessed | (writable ? Pte.Write : 0) | (write ? Pte.Dirty : 0));
    return true;
  }

  /**
   * A store to an untouched anonymous page where transparent huge pages are allowed
   * (do_huge_pmd_anonymous_page; alloc_anon_folio for mTHP): for each allowed order, largest first,
   * the naturally aligned run of pages holding the fault must lie in the VMA, with no page of it
   * touched and no entry but the zero page's (Linux's huge zero page is replaced the same way); then
   * one zeroed folio of that order is mapped by a PTE per page, all writable and dirty — a
   * PTE-mapped THP, as there are no PMD mappings here. When no such folio can be had at once the
   * next order is tried (thp_fault_fallback); false sends the fault on to order 0.
   */
  private hugeAnonymousFault(vma: Vma, vpn: number, region: AnonRegion): boolean {
    const mask = this.mm.thpOrdersFor(vma);
    if (mask === 0) return false;
    const pt = this.pageTables;
    for (let order = HPAGE_PMD_ORDER; order >= 1; order--) {
      if (!(mask & (1 << order))) continue;
      const n = 1 << order;
      const head = vpn - (vpn % n);
      if (head < vma.startVpn || head + n > vma.endVpn) continue;
      const first = vma.anonIndexOf(head);
      // Both checks stop at the first page in use: cheap where earlier faults fell back to order 0.
      if (first + n > region.nrPages || !this.onlyZeroPages(head, n) || !region.isEmpty(first, n)) continue;
      pt.prepare(head); // aligned runs never cross a page-table page
      const folio = region.faultInLarge(first, order);
      if (folio === 0) continue;
      // The allocation may have reclaimed or compacted; nothing of ours can have moved, but check.
      if (!this.onlyZeroPages(head, n)) {
        region.discard(first, n);
        return false;
      }
      const f = this.mm.folios;
      const pfn = f.pfn(folio);
      for (let i = 0; i < n; i++) {
        if (pt.get(head + i) !== 0) pt.set(head + i, 0); // the zero page: no reference or mapcount to drop
        this.mm.mapPage(pt, head + i, folio, pfn + i, Pte.Accessed | Pte.Write | Pte.Dirty);
      }
      return true;
    }
    return false;
  }

  /** True if every PTE of pages [head, head + n) is empty or maps the zero page. */
  private onlyZeroPages(head: number, n: number): boolean {
    const pt = this.pageTables;
    for (let i = 0; i < n; i++) {
      const pte = pt.get(head + i);
      if (pte !== 0 && (pte & (Pte.Present | Pte.Special)) !== (Pte.Present | Pte.Special)) return false;
    }
    return true;
  }

  /**
   * A fault on a MAP_HUGETLB mapping (hugetlb_fault): the huge page holding the address is taken
   * from the pool at its first fault (from the mapping's reservation; SIGBUS when none is left and
   * the pool has no unreserved page) and mapped whole, a PTE per small page, writable when the
   * mapping is; a store to an entry made read-only by mprotect makes it writable again (the mapping
   * is the page's only user, so there is nothing to copy). A huge page with a memory error is SIGBUS.
   */
  private hugetlbFault(vma: Vma, vpn: number, pte: number): boolean {
    const pt = this.pageTables;
    if (pte & Pte.Present) {
      pt.set(vpn, pte | Pte.Write | Pte.Dirty | Pte.Accessed);
      return true;
    }
    const index = vma.anonIndexOf(vpn);
    const head = vpn - (index % HPAGE_PAGES);
    pt.prepare(head);
    const folio = vma.huge!.faultIn((index - (index % HPAGE_PAGES)) / HPAGE_PAGES);
    const pfn = this.mm.folios.pfn(folio);
    const bits = vma.prot & PROT_WRITE ? Pte.Accessed | Pte.Write | Pte.Dirty : Pte.Accessed;
    for (let i = 0; i < HPAGE_PAGES; i++) if (pt.get(head + i) === 0) this.mm.mapPage(pt, head + i, folio, pfn + i, bits);
    return true;
  }

  /** A store to an anonymous page mapped read-only (it had a swap copy, or was write-protected): reuse it (wp_page_reuse). */
  private reuseAnonymous(vma: Vma, vpn: number, pte: number, folio: number): boolean {
    // The owner frees the now stale swap copy and marks the folio dirty.
    const owner = this.mm.owners.get(this.mm.folios.owner(folio));
    if (owner === undefined || owner.dirty(folio, { caller: PageOpCaller.UserMapping }) !== PageOpResult.Done) {
      throw fail("EFAULT", `the owner of anonymous page ${vma.anonIndexOf(vpn)} refused the store`);
    }
    this.pageTables.set(vpn, pte | Pte.Write | Pte.Dirty | Pte.Accessed);
    return true;
  }

  /**
   * A load from a file page with no PTE (do_read_fault): first map what is already cached around
   * it (fault-around, if the file offers it); if that did not map the page itself, ask the file's
   * `fault` for it. File pages are always mapped read-only on a load, so that the first store
   * faults and dirties the page (shared) or copies it (private).
   */
  private readFault(vma: Vma, vpn: number): boolean {
    const file = vma.file!;
    const pt = this.pageTables;
    if (file.vmOps.mapPages !== undefined) {
      this.faultAround(vma, vpn);
      if (pt.get(vpn) & Pte.Present) return true;
    }
    const pgoff = vma.pgoffOf(vpn);
    pt.prepare(vpn);
    const folio = this.fileFault(vma, pgoff);
    const f = this.mm.folios;
    try {
      if (pt.get(vpn) !== 0) return false;
      if (!vma.shared && vma.anon !== null && vma.anon.has(vma.anonIndexOf(vpn))) return false;
      this.mm.mapPage(pt, vpn, folio, f.pfn(folio) + (pgoff - f.index(folio)), Pte.Accessed);
      return true;
    } finally {
      f.put(folio);
    }
  }

  /**
   * A store to a shared file page with no PTE (do_shared_fault): fault the page in, let the file
   * prepare it for writing (page_mkwrite), map it writable and dirty, and dirty the folio through
   * its owner's public `dirty`.
   */
  private sharedWriteFault(vma: Vma, vpn: number): boolean {
    const pgoff = vma.pgoffOf(vpn);
    const pt = this.pageTables;
    pt.prepare(vpn);
    const folio = this.fileFault(vma, pgoff);
    const f = this.mm.folios;
    try {
      if (!this.pageMkwrite(vma, folio)) return false;
      if (pt.get(vpn) !== 0) return false;
      this.mm.mapPage(pt, vpn, folio, f.pfn(folio) + (pgoff - f.index(folio)), Pte.Accessed | Pte.Write | Pte.Dirty);
      this.dirtyThroughOwner(folio);
      return true;
    } finally {
      f.put(folio);
    }
  }

  /**
   * A store to a shared file page mapped read-only (wp_page_shared): after a first load, or after
   * writeback cleaned and write-protected it. page_mkwrite, then the PTE becomes writable and dirty
   * and the folio dirty.
   */
  private writeNotify(vma: Vma, vpn: number, pte: number, folio: number): boolean {
    const f = this.mm.folios;
    f.get(folio);
    try {
      if (!this.pageMkwrite(vma, folio)) return false;
      const now = this.pageTables.get(vpn);
      if ((now & PTE_IDENTITY) !== (pte & PTE_IDENTITY)) return false;
      this.dirtyThroughOwner(folio);
      this.pageTables.set(vpn, now | Pte.Write | Pte.Dirty | Pte.Accessed);
      return true;
    } finally {
      f.put(folio);
    }
  }

  /**
   * A store to a private file mapping's page that still shows the file's data (wp_page_copy,
   * do_cow_fault): the page is copied into the mapping's anonymous region and the copy mapped
   * writable in place of the file's page, which the file never sees changed. `pte` is the entry
   * mapping the file's `folio` now, or 0 when nothing is mapped yet (then the page is faulted in).
   */
  private copyOnWrite(vma: Vma, vpn: number, pte: number, folio: number): boolean {
    const f = this.mm.folios;
    const pt = this.pageTables;
    const index = vma.anonIndexOf(vpn);
    const pgoff = vma.pgoffOf(vpn);
    pt.prepare(vpn);
    let src = folio;
    if (src === 0) src = this.fileFault(vma, pgoff);
    else f.get(src);
    try {
      const region = this.regionOf(vma);
      if (region.has(index)) return false; // a copy appeared while we waited
      const srcPfn = f.pfn(src) + (pgoff - f.index(src));
      const copy = region.installCopy(index, this.mm.memory.sectionOf(srcPfn), this.mm.memory.offsetOf(srcPfn));
      // The allocation may have reclaimed: if the entry changed meanwhile, undo the copy and retry.
      const now = pt.get(vpn);
      if ((now & PTE_IDENTITY) !== (pte & PTE_IDENTITY)) {
        region.discard(index, 1);
        return false;
      }
      if (now !== 0) this.mm.unmapPage(pt, vpn, now, ZapMode.Transfer);
      this.mm.mapPage(pt, vpn, copy, f.pfn(copy), Pte.Accessed | Pte.Write | Pte.Dirty);
      return true;
    } finally {
      f.put(src);
    }
  }

  /** Maps the cached pages around a read fault at `vpn` (do_fault_around): within the VMA and the page-table page. */
  private faultAround(vma: Vma, vpn: number): void {
    const aligned = vpn - (vpn % FAULT_AROUND_PAGES);
    const tableFirst = vpn - (vpn % PTES_PER_TABLE);
    const first = Math.max(aligned, vma.startVpn, tableFirst);
    const last = Math.min(aligned + FAULT_AROUND_PAGES - 1, vma.endVpn - 1, tableFirst + PTES_PER_TABLE - 1);
    this.pageTables.prepare(vpn);
    this.aroundVma = vma;
    this.aroundVpn = vpn;
    try {
      vma.file!.vmOps.mapPages!(vma, vma.pgoffOf(first), vma.pgoffOf(last), this.mapAround);
    } finally {
      this.aroundVma = null;
    }
  }

  /**
   * The fault-around sink: maps page `pgoff` of `folio` read-only if its PTE is empty (and a
   * private mapping has no copy of it). Pages other than the faulting one are mapped "old" (accessed
   * bit clear), so reclaim does not count a page nobody touched as used.
   */
  private mapAroundPage(folio: number, pgoff: number): void {
    const vma = this.aroundVma;
    if (vma === null) return;
    const vpn = vma.startVpn + (pgoff - vma.pgoff);
    if (vpn < vma.startVpn || vpn >= vma.endVpn) return;
    const pt = this.pageTables;
    if (pt.get(vpn) !== 0) return;
    if (!vma.shared && vma.anon !== null && vma.anon.has(vma.anonIndexOf(vpn))) return;
    const f = this.mm.folios;
    if (f.owner(folio) !== vma.file!.ownerId || pgoff < f.index(folio) || pgoff >= f.index(folio) + f.nrPages(folio)) return;
    this.mm.mapPage(pt, vpn, folio, f.pfn(folio) + (pgoff - f.index(folio)), vpn === this.aroundVpn ? Pte.Accessed : 0);
  }

  /** The file's `fault`, checked: the folio it returns must hold page `pgoff` of that file. */
  private fileFault(vma: Vma, pgoff: number): number {
    const file = vma.file!;
    const folio = file.vmOps.fault(vma, pgoff);
    const f = this.mm.folios;
    if (f.owner(folio) !== file.ownerId || pgoff < f.index(folio) || pgoff >= f.index(folio) + f.nrPages(folio) || !f.test(folio, FolioFlag.Uptodate)) {
      f.put(folio);
      throw fail("EIO", `${file.label} answered a fault at page ${pgoff} with folio ${folio}, which does not hold that page uptodate`);
    }
    return folio;
  }

  /** page_mkwrite through the file; true when the folio may be dirtied now, false to retry the fault. */
  private pageMkwrite(vma: Vma, folio: number): boolean {
    const mkwrite = vma.file!.vmOps.pageMkwrite;
    if (mkwrite === undefined) return true;
    const result = mkwrite(vma, folio);
    if (result === PageOpResult.Busy) return false;
    if (result !== PageOpResult.Done) throw fail("EIO", `${vma.file!.label} refused to make page ${this.mm.folios.index(folio)} writable`);
    return true;
  }

  /** A store made the folio dirty: tell its owner (PageOpCaller.UserMapping). */
  private dirtyThroughOwner(folio: number): void {
    const owner = this.mm.owners.get(this.mm.folios.owner(folio));
    if (owner === undefined || owner.dirty(folio, { caller: PageOpCaller.UserMapping }) !== PageOpResult.Done) {
      throw fail("EIO", `the owner of page ${this.mm.folios.index(folio)} refused the store`);
    }
  }

  /** The VMA's anonymous region, created at its first page (anon_vma_prepare). */
  private regionOf(vma: Vma): AnonRegion {
    if (vma.anon !== null) return vma.anon;
    const what = vma.file === null ? "anonymous memory" : `private copies of ${vma.file.label}`;
    // Indexes stay as the VMA has them (a split made before this has anonIndex > 0), so the region
    // spans up to this VMA's end; splits made earlier get regions of their own when they need one.
    const region = this.mm.anon.createRegion(`${what} at 0x${vma.start.toString(16)} in ${this.label}`, (vma.anonIndex + vma.nrPages) * PAGE_SIZE);
    this.mm.attachRegion(vma, region);
    return region;
  }

  /** Turns an error from a file operation or the anonymous memory into what the access gets (vmf_error). */
  private sigbus(e: unknown, kind: AccessKind, addr: number, vma: Vma): unknown {
    if (!isFolioError(e) || e instanceof MemoryAccessError || e.code === "ENOMEM" || e.code === "EDEADLK") return e;
    const why = e.message.startsWith(`${e.code}: `) ? e.message.slice(e.code.length + 2) : e.message;
    return new MemoryAccessError(e.code, "SIGBUS", kind, addr, `${why} (${e.code === "EFAULT" ? "BUS_ADRERR" : "BUS_OBJERR"}, in ${vma.describe()})`);
  }

  /**
   * MADV_HWPOISON / MADV_SOFT_OFFLINE (madvise_inject_error): each mapped page of [start, end) is
   * faulted in as a load would (get_user_pages), then its frame goes to memory failure. Stops at the
   * first page whose handling failed (EBUSY) or that cannot be faulted in (EFAULT).
   */
  private injectMemoryError(start: number, end: number, hard: boolean): void {
    const mf = this.mm.memoryFailure;
    const what = hard ? "MADV_HWPOISON" : "MADV_SOFT_OFFLINE";
    if (mf === undefined) throw fail("ENOSYS", `${what}: this machine has no memory-failure handling`, { syscall: "madvise" });
    const pt = this.pageTables;
    for (const vma of this.overlapping(start, end)) {
      for (let a = Math.max(start, vma.start); a < Math.min(end, vma.end); a += PAGE_SIZE) {
        const vpn = a / PAGE_SIZE;
        if (isPoisonPte(pt.get(vpn))) continue; // lost already
        if (!(pt.get(vpn) & Pte.Present)) {
          try {
            this.fault(a, false);
          } catch (e) {
            if (!isFolioError(e) || e.code === "ENOMEM") throw e;
            throw fail("EFAULT", `${what}: the page at 0x${a.toString(16)} cannot be faulted in (${e.message})`, { syscall: "madvise" });
          }
        }
        const pte = pt.get(vpn);
        if (!(pte & Pte.Present)) continue;
        const r = hard ? mf.hardOffline(ptePfn(pte)) : mf.softOffline(ptePfn(pte));
        if (r.action === "failed") throw fail("EBUSY", `${what} at 0x${a.toString(16)}: ${r.detail}`, { syscall: "madvise" });
      }
    }
  }

  // ── VMA list management ──

  /**
   * Removes every mapping in [start, end): splits at the ends, clears the page tables (a dirty
   * bit of a file page dirties it; anonymous pages and private copies are freed), detaches the
   * VMAs and frees page-table pages no mapping uses any more.
   */
  private removeRange(start: number, end: number): void {
    this.splitAt(start);
    this.splitAt(end);
    const gone = this.overlapping(start, end);
    if (gone.length === 0) return;
    for (const vma of gone) {
      this.zap(vma, vma.startVpn, vma.endVpn, true);
      // munmap gives back the reservations of huge pages it never used (hugetlb_vm_op_close).
      if (vma.huge !== null) vma.huge.discard(vma.anonIndex / HPAGE_PAGES, vma.nrPages / HPAGE_PAGES, true);
    }
    const first = this.vmas.indexOf(gone[0]!);
    this.vmas.splice(first, gone.length);
    for (const vma of gone) this.mm.detach(vma);
    this.pageTables.freeUnused(start / PAGE_SIZE, end / PAGE_SIZE, (firstVpn, endVpn) => this.overlaps(firstVpn * PAGE_SIZE, endVpn * PAGE_SIZE));
  }

  /**
   * Clears the PTEs of pages [fromVpn, toVpn) of `vma` (zap_page_range). With `discard`, the
   * region's pages in that range go too (munmap, MADV_DONTNEED of private memory); without, only the
   * entries go and the pages stay where they live. With `clearMarkers` (all but mprotect), poison
   * markers go too.
   */
  private zap(vma: Vma, fromVpn: number, toVpn: number, discard: boolean, clearMarkers = true): void {
    const pt = this.pageTables;
    const f = this.mm.folios;
    const huge = vma.huge !== null;
    pt.forEachPresent(fromVpn, toVpn, (vpn, pte) => {
      const anon = huge || ((pte & Pte.Special) === 0 && f.test(f.fromPfn(ptePfn(pte)), FolioFlag.SwapBacked));
      this.mm.unmapPage(pt, vpn, pte, discard && anon ? ZapMode.Drop : ZapMode.Transfer);
    });
    if (clearMarkers) pt.clearMarkers(fromVpn, toVpn);
    if (discard && vma.anon !== null) vma.anon.discard(vma.anonIndexOf(fromVpn), toVpn - fromVpn);
    // Hugetlb ranges are whole huge pages (splits and MADV_DONTNEED keep them aligned).
    if (discard && vma.huge !== null) vma.huge.discard(vma.anonIndexOf(fromVpn) / HPAGE_PAGES, (toVpn - fromVpn) / HPAGE_PAGES, false);
  }

  /** Splits the VMA strictly containing `addr` into two at `addr` (split_vma); both keep the file, region and indexes. */
  private splitAt(addr: number): void {
    const vma = this.vmaAt(addr);
    if (vma === undefined || vma.start === addr) return;
    const pages = (addr - vma.start) / PAGE_SIZE;
    const tail = new Vma(this, addr, vma.end, vma.prot, vma.flags, vma.file, vma.pgoff + pages, vma.anon, vma.anonIndex + pages, vma.advice, vma.hugepage, vma.huge);
    vma.end = addr;
    this.vmas.splice(this.vmas.indexOf(vma) + 1, 0, tail);
    this.mm.attach(tail);
  }

  /**
   * Throws EINVAL if cutting at `start` or `end` would split a MAP_HUGETLB mapping inside a huge
   * page (hugetlb_vm_op_split): its VMAs start and end on 2 MiB boundaries.
   */
  private checkHugeSplit(start: number, end: number, syscall: string): void {
    for (const at of [start, end]) {
      const v = this.vmaAt(at);
      if (v !== undefined && v.huge !== null && v.start !== at && at % HPAGE_PMD_SIZE !== 0) {
        throw fail("EINVAL", `0x${at.toString(16)} is inside a huge page of the MAP_HUGETLB mapping ${v.describe()}: it can only be cut on 2 MiB boundaries`, { syscall });
      }
    }
  }

  /** Splits that cutting at `start` and `end` would make. */
  private splits(start: number, end: number): number {
    let n = 0;
    for (const at of [start, end]) {
      const v = this.vmaAt(at);
      if (v !== undefined && v.start !== at) n++;
    }
    return n;
  }

  private insert(vma: Vma): void {
    let i = this.vmas.length;
    while (i > 0 && this.vmas[i - 1]!.start > vma.start) i--;
    this.vmas.splice(i, 0, vma);
    this.mm.attach(vma);
  }

  /** The VMAs overlapping [start, end), in order. */
  private overlapping(start: number, end: number): Vma[] {
    return this.vmas.filter((v) => v.start < end && v.end > start);
  }

  private overlaps(start: number, end: number): boolean {
    return this.vmas.some((v) => v.start < end && v.end > start);
  }

  /** The first address in [start, end) that no VMA covers, or -1. */
  private firstHole(start: number, end: number): number {
    let at = start;
    for (const v of this.overlapping(start, end)) {
      if (v.start > at) return at;
      at = v.end;
    }
    return at < end ? at : -1;
  }

  /**
   * A free range of `length` bytes (get_unmapped_area): the hint if it is free and in range (rounded
   * up to `align` with `alignHint`, as hugetlb_get_unmapped_area does; thp_get_unmapped_area takes a
   * free hint as it is), else the highest free range below {@link MMAP_BASE} starting on a multiple
   * of `align` (top-down, as Linux lays out x86-64 processes). Returns -1 when nothing fits.
   */
  private findRoom(hint: number | undefined, length: number, align = PAGE_SIZE, alignHint = false): number {
    if (hint !== undefined && Number.isSafeInteger(hint) && hint > 0) {
      const at = Math.ceil(hint / (alignHint ? align : PAGE_SIZE)) * (alignHint ? align : PAGE_SIZE);
      if (at >= MMAP_MIN_ADDR && at + length <= TASK_SIZE && !this.overlaps(at, at + length)) return at;
    }
    const below = (top: number) => Math.floor((top - length) / align) * align;
    let top = MMAP_BASE;
    for (let i = this.vmas.length - 1; i >= 0; i--) {
      const v = this.vmas[i]!;
      if (v.start >= top) continue; // wholly above the search
      if (v.end <= top && below(top) >= Math.max(v.end, MMAP_MIN_ADDR)) return below(top);
      top = v.start;
    }
    if (below(top) >= MMAP_MIN_ADDR) return below(top);
    return -1;
  }

  /** Validates an (address, length) argument pair; returns the page-aligned end. */
  private checkRange(addr: number, length: number, syscall: string): number {
    if (!Number.isSafeInteger(addr) || addr < 0 || addr % PAGE_SIZE !== 0) throw fail("EINVAL", `address ${String(addr)} must be page-aligned`, { syscall });
    if (!Number.isSafeInteger(length) || length <= 0) throw fail("EINVAL", `length ${String(length)} must be a positive integer`, { syscall });
    const end = addr + Math.ceil(length / PAGE_SIZE) * PAGE_SIZE;
    if (end > TASK_SIZE) throw fail(syscall === "munmap" ? "EINVAL" : "ENOMEM", `[0x${addr.toString(16)}, 0x${end.toString(16)}) goes beyond the user address space`, { syscall });
    return end;
  }

  private checkAlive(syscall: string): void {
    if (this.destroyed) throw fail("EINVAL", `address space ${this.label} was destroyed`, { syscall });
  }
}
