/**
 * Virtual memory areas (Linux's vm_area_struct) and the interface through which a file's owner
 * serves faults on its mappings (vm_operations_struct). Core defines the interface; the page
 * cache implements it generically and a filesystem hands its own read and write-back callbacks
 * to that implementation when it creates the {@link MappableFile} in its `mmap` entry point.
 */
import { PAGE_SIZE } from "../../units.js";
import type { AnonRegion } from "../anon.js";
import type { PageOpResult } from "../page-owner.js";
import { MADV_NORMAL, MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE } from "./constants.js";
import type { AddressSpace } from "./address-space.js";
import type { HugetlbRegion } from "./hugetlb-region.js";

/**
 * Called by a file's `mapPages` for each cached page it offers to map around a fault
 * (fault-around): page `pgoff` of the file, which lies in `folio`. The address space maps it
 * read-only if nothing is mapped there yet; the caller keeps its own references.
 */
export type MapPageSink = (folio: number, pgoff: number) => void;

/**
 * How faults on a file mapping are served (vm_operations_struct). The page cache implements these
 * (filemap_fault, filemap_map_pages, filemap_page_mkwrite) with the filesystem's callbacks.
 *
 * Errors: an operation throws a Folio error; the fault path turns every one except ENOMEM and
 * EDEADLK into a SIGBUS-like {@link MemoryAccessError} with the same code (EFAULT for a page beyond
 * the end of the file, EIO for a failed read, ENOSPC for no room), as Linux does with VM_FAULT_SIGBUS.
 */
export interface VmOperations {
  /**
   * A fault at page `pgoff` of the file found no PTE (filemap_fault): returns the page-cache folio
   * holding that page, uptodate, unlocked, with a reference the caller drops once it has mapped it.
   * Reads the page in (with read-around) if it is not cached; throws EFAULT if `pgoff` is at or
   * beyond the end of the file, EIO if the read failed.
   */
  fault(vma: Vma, pgoff: number): number;
  /**
   * Optional fault-around (filemap_map_pages): on a read fault, offers each page in [first, last]
   * that is already cached, uptodate and unlocked to `map`, without waiting, reading or taking
   * locks. Pages past the end of the file are never offered.
   */
  mapPages?(vma: Vma, first: number, last: number, map: MapPageSink): void;
  /**
   * Optional: a page of `folio` is about to become writable through a shared mapping
   * (filemap_page_mkwrite, or the filesystem's own): wait until it is not under writeback (stable
   * pages), reserve or allocate what writing it back needs, update the file times. Returns Done when
   * the caller may now dirty the folio and make the PTE writable; Busy when the folio left the file
   * meanwhile (truncated: the caller retries the fault). Throws (ENOSPC, EIO…) to refuse: SIGBUS.
   */
  pageMkwrite?(vma: Vma, folio: number): PageOpResult;
  /**
   * Optional: a store fault has just dirtied a page of this file through `vma`
   * (balance_dirty_pages_ratelimited): pause the writer while dirty memory is over its limit. It
   * may run the engine, so writeback may clean and write-protect the page again; the store then
   * simply faults once more.
   */
  balanceDirty?(vma: Vma): void;
}

/**
 * A file as a mapping sees it (the mapped `struct file` with its `vm_ops`): created by the
 * filesystem's `mmap` entry point and held by every VMA that maps it.
 */
export interface MappableFile {
  /**
   * The owner id of the file's page-cache folios (its mapping's id in the machine's
   * OwnerRegistry). The reverse map finds the VMAs of a folio through it (the i_mmap tree).
   */
  readonly ownerId: number;
  /** The file, for messages: `"inode 12 on fs-simple"`. */
  readonly label: string;
  /** The file was opened for writing: a shared mapping may be made writable. */
  readonly writable: boolean;
  /** How faults are served. */
  readonly vmOps: VmOperations;
  /**
   * msync of bytes [start, end] of the file: with `wait`, write them back and wait until they are
   * durable as the filesystem's fsync makes data durable (throwing EIO once per writeback error, as
   * fsync does); without, start writing them back and return. Called by {@link AddressSpace.msync}.
   */
  sync(start: number, end: number, wait: boolean): void;
  /** Optional: start reading pages [first, first + count) into the page cache (MADV_WILLNEED). */
  willneed?(first: number, count: number): void;
  /** Optional: the last VMA mapping this file is gone (the final fput); release what `mmap` opened. */
  release?(): void;
}

/**
 * One mapping of an address space (vm_area_struct): a page-aligned range [start, end) with one
 * protection, one kind (shared or private; a file or anonymous memory) and one advice. Anonymous
 * pages and the private copies of file pages belong to its {@link AnonRegion} (its anon_vma), at
 * `anonIndex + (address - start) / 4096`; file pages are at `pgoff + (address - start) / 4096` in
 * the file. Splitting a VMA (munmap, mprotect, madvise of part of it) keeps both halves in the same
 * region and file, so pages keep their index.
 */
export class Vma {
  /**
   * Called by {@link AddressSpace} when it maps a range and when it splits an area; not for use
   * elsewhere.
   */
  constructor(
    /** The address space this VMA belongs to. */
    readonly space: AddressSpace,
    /** First byte (page-aligned). */
    public start: number,
    /** One past the last byte (page-aligned). */
    public end: number,
    /** PROT_* bits. */
    public prot: number,
    /** MAP_SHARED or MAP_PRIVATE, with MAP_ANONYMOUS for anonymous memory. */
    readonly flags: number,
    /** The mapped file, or null for anonymous memory. */
    readonly file: MappableFile | null,
    /** Page offset in the file of `start` (file mappings). */
    public pgoff: number,
    /** Region holding anonymous and copied-on-write pages; created at the first page that needs it. */
    public anon: AnonRegion | null,
    /** Region index of `start`. */
    public anonIndex: number,
    /** The last MADV_NORMAL / MADV_RANDOM / MADV_SEQUENTIAL given for this range. */
    public advice: number = MADV_NORMAL,
    /** The last MADV_HUGEPAGE / MADV_NOHUGEPAGE given for this range (VM_HUGEPAGE / VM_NOHUGEPAGE), or 0. */
    public hugepage = 0,
    /**
     * For a MAP_HUGETLB mapping, the huge pages it maps (indexed like `anon`, by small page from
     * `anonIndex`); null otherwise. Such a mapping has no `anon` region and its bounds stay 2 MiB-aligned.
     */
    readonly huge: HugetlbRegion | null = null,
  ) {}

  /** Stores are shared (MAP_SHARED). */
  get shared(): boolean {
    return (this.flags & MAP_SHARED) !== 0;
  }

  /** First page number. */
  get startVpn(): number {
    return this.start / PAGE_SIZE;
  }

  /** One past the last page number. */
  get endVpn(): number {
    return this.end / PAGE_SIZE;
  }

  /** Pages spanned. */
  get nrPages(): number {
    return (this.end - this.start) / PAGE_SIZE;
  }

  /** File page offset of page `vpn` (file mappings). */
  pgoffOf(vpn: number): number {
    return this.pgoff + (vpn - this.startVpn);
  }

  /** Region index of page `vpn`. */
  anonIndexOf(vpn: number): number {
    return this.anonIndex + (vpn - this.startVpn);
  }

  /** `[start-end) prot flags file` in /proc/pid/maps style, for messages and `maps()`. */
  describe(): string {
    const p = this.prot;
    const perms = `${p & PROT_READ ? "r" : "-"}${p & PROT_WRITE ? "w" : "-"}${p & PROT_EXEC ? "x" : "-"}${this.shared ? "s" : "p"}`;
    const what = this.file ? `${this.file.label} (page ${this.pgoff})` : this.huge ? "/anon_hugepage (deleted)" : "[anon]";
    return `${this.start.toString(16).padStart(12, "0")}-${this.end.toString(16).padStart(12, "0")} ${perms} ${what}`;
  }
}
