/**
 * Disk images on the host's filesystem: detecting which Folio filesystem an image holds, and
 * mounting it on a small machine through the VFS, read-only when the command only reads.
 */
import { basename } from "node:path";
import { Machine, fail } from "@folio/core";
import { FileStore, SimDevice, readImageHead, type BackingStore } from "@folio/pagecache";
import { probeFilesystem } from "@folio/fs-api";
import "@folio/fs-simple"; // registers "simple" (and its superblock probe)
import "@folio/fs-log"; // registers "log"
import { Vfs, createNodeFs, type NodeFs } from "@folio/vfs";
import { CliError, withoutCode } from "./errors.js";
import type { FsName } from "./session.js";

/** Memory of the machine that mounts an image: enough for the metadata of a large image. */
const IMAGE_MACHINE_MEMORY = "128MiB";

/**
 * The filesystem an image holds, from the superblock probes of the registered types (fs-simple's
 * magic in block 0, or its backup in block 1 when block 0 is damaged; fs-log's "FLOG" word in
 * block 0). Throws ENOENT/EACCES for a file that cannot be read, EINVAL for one holding neither.
 */
export function detectFs(path: string): FsName {
  let head: Uint8Array;
  try {
    head = readImageHead(path);
  } catch (e) {
    throw hostError(e, path);
  }
  const found = probeFilesystem(head);
  if (found === "simple" || found === "log") return found;
  throw new CliError("EINVAL", `${path} holds no Folio filesystem (neither fs-simple's nor fs-log's superblock magic): make one with folio mkfs`);
}

/** Node's error for a host file, as a one-line CLI error keeping its code. */
export function hostError(e: unknown, path: string): CliError {
  const code = (e as { code?: unknown }).code;
  const msg = e instanceof Error ? e.message : String(e);
  return new CliError(typeof code === "string" ? code : "EIO", msg.includes(path) ? msg : `${path}: ${msg}`);
}

/**
 * The host's clock, for the machines that work on image files: files created or changed in an
 * image get the real time, as on a real system. (Simulations keep the fixed default epoch, so
 * their runs replay exactly; these machines simulate nothing worth replaying.)
 */
export function hostEpochMs(): number {
  // eslint-disable-next-line no-restricted-globals
  return Date.now();
}

/**
 * The image file as the simulated disk sees it. Writes go to the file at once; the disk's flush
 * requests, which make writes durable inside the simulation, do not each fsync the host file:
 * the file is fsynced once, when the command closes it having written anything (as e2fsprogs'
 * tools sync an image when they close it). A read-only store refuses writes, so a command that only
 * reads can never change the image.
 */
export class ImageStore implements BackingStore {
  private written = false;

  constructor(
    private readonly inner: BackingStore,
    private readonly path: string,
    private readonly readOnly: boolean,
  ) {}

  get size(): number {
    return this.inner.size;
  }

  read(dst: Uint8Array, offset: number): void {
    this.inner.read(dst, offset);
  }

  write(src: Uint8Array, offset: number): void {
    if (this.readOnly) throw fail("EROFS", `image ${this.path} is opened read-only`);
    this.inner.write(src, offset);
    this.written = true;
  }

  /** Nothing to do now: see the class comment. */
  flush(): void {}

  /** fsyncs the file if anything was written, and closes it. */
  close(): void {
    try {
      if (this.written) this.inner.flush();
    } finally {
      this.written = false;
      this.inner.close();
    }
  }
}

/** A machine with an image mounted on `/`. */
export interface ImageSession {
  /** The small machine the image is opened on. */
  readonly machine: Machine;
  /** Its VFS, with the image mounted on `/`. */
  readonly vfs: Vfs;
  /** Node's fs API over {@link vfs}. */
  readonly fs: NodeFs;
  /** The filesystem found on the image. */
  readonly fsType: FsName;
  /** The simulated device over the image file. */
  readonly device: SimDevice;
  /** Unmounts (writing everything back unless read-only) and closes the image. Idempotent. */
  close(): void;
}

/** Opens the image file `path` as a device of a fresh small machine (nothing mounted). */
export function openImageDevice(path: string, readOnly: boolean): { machine: Machine; device: SimDevice; store: ImageStore } {
  let file: BackingStore;
  try {
    file = FileStore.open(path);
  } catch (e) {
    throw hostError(e, path);
  }
  const store = new ImageStore(file, path, readOnly);
  const machine = Machine.boot({ memory: IMAGE_MACHINE_MEMORY, seed: 1, epochMs: hostEpochMs() });
  // The instant device model: time on the image is of no interest, only its bytes. The device is
  // named after the file, so the filesystem's messages name it.
  const device = new SimDevice(store, machine.scheduler, { name: basename(path) });
  return { machine, device, store };
}

/**
 * Mounts the image `path` on `/` of a fresh machine: read-only (the image is never written, not
 * even its mount count) or read-write (unmounting writes everything back and marks it clean).
 */
export function openImage(path: string, options: { readOnly: boolean }): ImageSession {
  const fsType = detectFs(path);
  const { machine, device, store } = openImageDevice(path, options.readOnly);
  const vfs = new Vfs(machine);
  try {
    vfs.mount("/", fsType, { device, options: { readOnly: options.readOnly } });
  } catch (e) {
    store.close();
    const raw = (e as { code?: unknown }).code;
    const code = typeof raw === "string" ? raw : "EIO";
    // The VFS's error speaks Node's language ("structure needs cleaning, mount '/'"); the
    // filesystem's own explanation, its cause, says what is wrong with the image.
    const cause = (e as { cause?: unknown }).cause;
    const why = cause instanceof Error ? cause.message : (e as Error).message;
    throw new CliError(code, `cannot mount ${path} (fs-${fsType}): ${withoutCode(why, code)}${code === "EUCLEAN" ? " (try folio fsck)" : ""}`);
  }
  let open = true;
  return {
    machine, vfs, fsType, device,
    fs: createNodeFs(vfs),
    close() {
      if (!open) return;
      open = false;
      try {
        vfs.umount("/");
      } finally {
        store.close();
      }
    },
  };
}

/**
 * Runs `fn` on the mounted image and closes it afterwards. When `fn` fails, the image is still
 * closed, and an error while closing it gives way to `fn`'s (which says what went wrong first).
 */
export function withImage<T>(path: string, options: { readOnly: boolean }, fn: (img: ImageSession) => T): T {
  const img = openImage(path, options);
  let result: T;
  try {
    result = fn(img);
  } catch (e) {
    try {
      img.close();
    } catch {
      // fn's error is the one to report.
    }
    throw e;
  }
  img.close();
  return result;
}
