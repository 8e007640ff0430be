import { fail } from "../errors.js";
import { PAGE_SIZE, checkInt } from "../units.js";
import type { PhysicalMemory } from "./physmem.js";
import { MEMDESC_TYPE_NAMES, MemdescType, PageFlag, type MemMap } from "./memmap.js";
import type { FolioTable } from "./folio.js";
import type { PageAllocator } from "./page-alloc.js";
import type { KmemCache, MemoryAllocator, SlabAllocator } from "./slab.js";
import { Stat, VmEvent, type VmStat } from "./vmstat.js";

/** First virtual page number of the vmalloc range (virtual address 1 TiB). */
export const VMALLOC_START_VPN = 0x10000000;
/** Pages of virtual address space in the vmalloc range (64 GiB). */
export const VMALLOC_PAGES = 0x1000000;

/** vm area descriptor words: a 32-byte slab object of cache `vmap_area`. */
const V_START = 0;
const V_PAGES = 1;
const V_ARRAY = 2;
const V_FLAGS = 3;
const VM_ALLOC = 1;
const VM_MAP = 2;

/** A vm area as reports see it. */
export interface VmAreaInfo {
  /** The area's descriptor handle (the memdesc reference of its frames). */
  handle: number;
  /** Virtual start address in the vmalloc range, in bytes. */
  address: number;
  /** Pages mapped (the guard page not counted). */
  nrPages: number;
  /** `vmalloc`: the area allocated its pages; `vmap`: it maps frames its caller owns. */
  kind: "vmalloc" | "vmap";
}

/**
 * vmalloc and vmap: virtually contiguous kernel memory.
 *
 * `vmalloc(size)` backs a range of the vmalloc address space with order-0 frames from anywhere,
 * and writes the area's descriptor into every one of them, so each frame of the area describes
 * the same vm area. `vmap(pfns)` maps frames that already belong to someone; it does not change
 * their owner and therefore accepts only frames whose owner has a reference count that the
 * mapping can hold: folio frames (page cache, anonymous, hugetlb). It refuses, with the reason:
 *  - free frames (buddy or per-CPU lists): nobody owns them; they could be handed out while mapped;
 *  - slab frames: a slab's pages live as long as its last object, not as long as a mapping;
 *  - frames of another vm area: a frame has one owner, and the area frees it with itself;
 *  - page tables: only the page-table code may write them;
 *  - large kmalloc memory: it has no reference count to hold;
 *  - reserved frames: not allocator memory;
 *  - offline or poisoned frames (a memory error hit them): reading them is a machine check (EHWPOISON).
 */
export class Vmalloc {
  private readonly cache: KmemCache;
  /** Busy ranges, sorted by start: [startVpn, endVpn incl. guard page, handle]. */
  private readonly areas: { start: number; end: number; handle: number }[] = [];

  /** Built once per machine at boot ({@link Machine.boot}); reach it as `machine.vmalloc`. */
  constructor(
    private readonly mem: PhysicalMemory,
    private readonly map: MemMap,
    private readonly pages: PageAllocator,
    private readonly slab: SlabAllocator,
    private readonly kmem: MemoryAllocator,
    private readonly folios: FolioTable,
    private readonly vm: VmStat,
  ) {
    this.cache = slab.createCache("vmap_area", 32);
  }

  /**
   * Allocates `size` bytes of virtually contiguous memory and returns its virtual address.
   * Throws EINVAL for a bad size, ENOMEM (having freed everything it took) when frames or
   * address space run out.
   */
  vmalloc(size: number, gfp = 0): number {
    checkInt(size, 1, VMALLOC_PAGES * PAGE_SIZE, "vmalloc size");
    const n = Math.ceil(size / PAGE_SIZE);
    const h = this.newArea(n, VM_ALLOC);
    const array = this.pageArray(h);
    let done = 0;
    try {
      for (; done < n; done++) array.set(done, this.pages.allocPages(0, gfp, MemdescType.Vmalloc, h));
    } catch (e) {
      for (let i = 0; i < done; i++) this.pages.freeOwned(array.get(i), 0);
      this.dropArea(h);
      throw e;
    }
    this.vm.stat[Stat.VmallocPages] += n;
    this.vm.events[VmEvent.VmallocAlloc]++;
    return this.word(h, V_START) * PAGE_SIZE;
  }

  /** Frees a {@link vmalloc} area and its frames. Throws EINVAL for any other address. */
  vfree(addr: number): void {
    const h = this.areaAt(addr, VM_ALLOC, "vfree");
    const n = this.word(h, V_PAGES);
    const array = this.pageArray(h);
    for (let i = 0; i < n; i++) this.pages.freeOwned(array.get(i), 0);
    this.vm.stat[Stat.VmallocPages] -= n;
    this.dropArea(h);
  }

  /**
   * Maps existing frames into one virtually contiguous range and returns its address. Each frame
   * must belong to a folio (see the class comment for what is refused and why); the mapping
   * holds one reference on the folio per mapped page until {@link vunmap}. Throws EINVAL (or
   * EHWPOISON for a poisoned frame) naming the first refused frame, mapping nothing.
   */
  vmap(pfns: readonly number[]): number {
    if (!Array.isArray(pfns) || pfns.length === 0) throw fail("EINVAL", "vmap needs at least one frame");
    for (const pfn of pfns) this.checkMappable(this.map.checkPfn(pfn, "vmap frame"));
    const h = this.newArea(pfns.length, VM_MAP);
    const array = this.pageArray(h);
    pfns.forEach((pfn, i) => {
      array.set(i, pfn);
      this.folios.get(this.folios.fromPfn(pfn));
    });
    this.vm.events[VmEvent.VmapCalls]++;
    return this.word(h, V_START) * PAGE_SIZE;
  }

  /** Removes a {@link vmap} mapping and drops its folio references. */
  vunmap(addr: number): void {
    const h = this.areaAt(addr, VM_MAP, "vunmap");
    const n = this.word(h, V_PAGES);
    const array = this.pageArray(h);
    const refs: number[] = [];
    for (let i = 0; i < n; i++) refs.push(this.folios.fromPfn(array.get(i)));
    this.dropArea(h);
    for (const f of refs) this.folios.put(f);
  }

  /** Copies `dst.length` bytes from virtual address `addr` (inside one area) into `dst`. */
  read(addr: number, dst: Uint8Array): void {
    this.access(addr, dst, false);
  }

  /** Copies `src` to virtual address `addr` (inside one area). */
  write(addr: number, src: Uint8Array): void {
    this.access(addr, src, true);
  }

  /** The frame backing virtual address `addr` (vmalloc_to_pfn). Throws EFAULT outside any area. */
  toPfn(addr: number): number {
    const a = this.containing(addr);
    return this.pageArray(a.handle).get(Math.floor(addr / PAGE_SIZE) - a.start);
  }

  /** Facts about the area whose descriptor is `h`. */
  info(h: number): VmAreaInfo {
    return {
      handle: h,
      address: this.word(h, V_START) * PAGE_SIZE,
      nrPages: this.word(h, V_PAGES),
      kind: this.word(h, V_FLAGS) === VM_ALLOC ? "vmalloc" : "vmap",
    };
  }

  /** Every live area. */
  list(): VmAreaInfo[] {
    return this.areas.map((a) => this.info(a.handle));
  }

  /** Frames of the area `h`, in virtual order. */
  framesOf(h: number): number[] {
    const array = this.pageArray(h);
    return Array.from({ length: this.word(h, V_PAGES) }, (_, i) => array.get(i));
  }

  private checkMappable(pfn: number): void {
    const t = this.map.type[pfn]!;
    if (this.map.flags[pfn]! & PageFlag.HwPoison && t !== MemdescType.Offline) {
      throw fail("EHWPOISON", `vmap refuses frame ${pfn} (${MEMDESC_TYPE_NAMES[t]}): it had a memory error`);
    }
    if (t === MemdescType.Folio || t === MemdescType.Hugetlb) {
      // A folio with no reference (a free hugetlb pool page, a frozen folio) has nothing the mapping can hold.
      if (this.folios.refcount(this.map.ref[pfn]!) > 0) return;
      throw fail("EINVAL", `vmap refuses frame ${pfn} (${MEMDESC_TYPE_NAMES[t]}): its folio has no reference (free in the hugetlb pool or frozen): it could be handed out while mapped`);
    }
    const why: Record<number, string> = {
      [MemdescType.Buddy]: "it is free: nobody owns it and it could be handed out while mapped",
      [MemdescType.PerCpu]: "it is free: nobody owns it and it could be handed out while mapped",
      [MemdescType.Slab]: "it is slab memory: its lifetime follows its objects, not a mapping",
      [MemdescType.Vmalloc]: "it already backs a vmalloc area, which frees it with itself",
      [MemdescType.PageTable]: "it is a page table: only the page-table code may write it",
      [MemdescType.LargeKmalloc]: "it is large kmalloc memory, which has no reference count to hold",
      [MemdescType.Reserved]: "it is reserved: not allocator memory",
      [MemdescType.Offline]: "it is offline after a memory error",
    };
    throw fail(t === MemdescType.Offline ? "EHWPOISON" : "EINVAL", `vmap refuses frame ${pfn} (${MEMDESC_TYPE_NAMES[t]}): ${why[t]}`);
  }

  private newArea(nrPages: number, flags: number): number {
    // First fit in the vmalloc range, with one unmapped guard page after each area.
    let start = VMALLOC_START_VPN;
    let at = 0;
    for (; at < this.areas.length; at++) {
      const a = this.areas[at]!;
      if (a.start - start >= nrPages + 1) break;
      start = a.end;
    }
    if (start + nrPages + 1 > VMALLOC_START_VPN + VMALLOC_PAGES) {
      throw fail("ENOMEM", `vmalloc address space exhausted: no room for ${nrPages} pages`);
    }
    const addr = this.slab.alloc(this.cache, true);
    const h = addr / 16;
    let array: number;
    try {
      array = this.kmem.kmalloc(nrPages * 4);
    } catch (e) {
      this.slab.free(addr);
      throw e;
    }
    this.setWord(h, V_START, start);
    this.setWord(h, V_PAGES, nrPages);
    this.setWord(h, V_ARRAY, array / 8);
    this.setWord(h, V_FLAGS, flags);
    this.areas.splice(at, 0, { start, end: start + nrPages + 1, handle: h });
    return h;
  }

  private dropArea(h: number): void {
    const i = this.areas.findIndex((a) => a.handle === h);
    this.areas.splice(i, 1);
    this.kmem.kfree(this.word(h, V_ARRAY) * 8);
    this.slab.free(h * 16);
  }

  private areaAt(addr: number, kind: number, call: string): number {
    const a = this.areas.find((x) => x.start * PAGE_SIZE === addr);
    if (!a || this.word(a.handle, V_FLAGS) !== kind) {
      throw fail("EINVAL", `${call} of ${String(addr)}: not the start of a ${kind === VM_ALLOC ? "vmalloc" : "vmap"} area`);
    }
    return a.handle;
  }

  private containing(addr: number): { start: number; end: number; handle: number } {
    const vpn = Math.floor(addr / PAGE_SIZE);
    const a = this.areas.find((x) => vpn >= x.start && vpn < x.end - 1);
    if (!a) throw fail("EFAULT", `virtual address ${addr} is not inside a vmalloc or vmap area`);
    return a;
  }

  private access(addr: number, buf: Uint8Array, toMemory: boolean): void {
    const a = this.containing(addr);
    if (addr + buf.length > (a.end - 1) * PAGE_SIZE) throw fail("EFAULT", `access of ${buf.length} bytes at ${addr} runs past the end of its area`);
    const array = this.pageArray(a.handle);
    for (let done = 0; done < buf.length; ) {
      const va = addr + done;
      const pfn = array.get(Math.floor(va / PAGE_SIZE) - a.start);
      const inPage = va % PAGE_SIZE;
      const n = Math.min(buf.length - done, PAGE_SIZE - inPage);
      const sec = this.mem.sectionOf(pfn);
      const off = this.mem.offsetOf(pfn) + inPage;
      if (toMemory) sec.set(buf.subarray(done, done + n), off);
      else buf.set(sec.subarray(off, off + n), done);
      done += n;
    }
  }

  /** The area's array of frame numbers, kept in kmalloc memory (4 bytes a page). */
  private pageArray(h: number): { get(i: number): number; set(i: number, pfn: number): void } {
    const base = this.word(h, V_ARRAY) * 8;
    const mem = this.mem;
    const at = (i: number) => {
      const a = base + i * 4;
      const pfn = Math.floor(a / PAGE_SIZE);
      return { words: mem.wordsOf(Math.floor(a / 16)), index: (mem.offsetOf(pfn) + (a % PAGE_SIZE)) >>> 2 };
    };
    return {
      get: (i) => {
        const p = at(i);
        return p.words[p.index]!;
      },
      set: (i, pfn) => {
        const p = at(i);
        p.words[p.index] = pfn;
      },
    };
  }

  private word(h: number, f: number): number {
    return this.mem.wordsOf(h)[this.mem.wordIndexOf(h) + f]!;
  }

  private setWord(h: number, f: number, v: number): void {
    this.mem.wordsOf(h)[this.mem.wordIndexOf(h) + f] = v;
  }
}
