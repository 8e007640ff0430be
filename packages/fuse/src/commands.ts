/**
 * The `mount` and `umount` subcommands for a commander program (the `folio` command registers
 * them with {@link registerMountCommands}; `folio-mount` is a program of these two alone). This
 * module loads nothing of Folio: an action imports the implementation when it runs.
 *
 * @module @folio/fuse/commands
 */
import type { Command } from "commander";

/** Options of `mount` as commander parses them. */
interface MountCliOptions {
  fs?: string;
  /** Modules registering plugin filesystem types (--module, repeatable). */
  module?: string[];
  memory: string;
  policy: string;
  size: string;
  device: string;
  seed: string;
  kernelCache?: boolean;
  foreground?: boolean;
  log?: string;
  maxWrite: string;
  cacheTimeout: string;
}

/**
 * Adds `mount [image] <mountpoint>` and `umount <mountpoint>` to `program`. Actions print one
 * line on success and throw Folio errors (Node's shape: code, errno, message) on failure, for the
 * program's error handling to report.
 */
export function registerMountCommands(program: Command): void {
  program
    .command("mount")
    .description("mount a Folio filesystem through FUSE, served by a daemon process (a memfs disk when no image is given)")
    .argument("<image-or-mountpoint>", "a disk image file (it persists; created and formatted when missing), or the mount point alone for a throwaway memfs disk")
    .argument("[mountpoint]", "the directory to mount on, when an image is given")
    .option("--fs <name>", "filesystem type: simple, log, or one a --module registers (needed to format a new disk; checked against an existing image)")
    .option("--module <file>", "a JavaScript module that registers a filesystem type with @filesystem (repeatable)", (file: string, all: string[] = []) => [...all, file])
    .option("-m, --memory <size>", "the machine's memory, which holds Folio's page cache", "512MiB")
    .option("--policy <name>", "eviction policy (linux, lru, fifo, clock, sieve, arc, s3fifo)", "linux")
    .option("--size <size>", "size of a memfs disk or a new image", "1GiB")
    .option("--device <model>", "device model of the simulated disk (instant, nvme, ssd, hdd); its time is virtual", "instant")
    .option("--seed <n>", "seed of the machine", "1")
    .option("--kernel-cache", "let the kernel cache file data too (no direct I/O): faster re-reads, but Folio's page cache no longer sees them")
    .option("--max-write <bytes>", "largest read/write request", "1048576")
    .option("--cache-timeout <seconds>", "how long the kernel may cache names and attributes", "1")
    .option("--foreground", "serve from this process until SIGINT/SIGTERM instead of starting a daemon")
    .option("--log <file>", "the daemon's log (default: beside its record in $XDG_RUNTIME_DIR/folio-fuse or the temp directory)")
    .addHelpText("after", `
Examples:
  folio mount /mnt/folio --fs log                      # throwaway memfs disk, 1GiB
  folio mount disk.img /mnt/folio --fs simple --memory 256MiB --policy s3fifo
  folio mount /mnt/folio --module dist/myfs.js --fs myfs # your own filesystem plugin
  folio umount /mnt/folio                              # or SIGTERM/SIGINT the daemon: writes back, unmounts
Needs root and /dev/fuse. File data bypasses the kernel's page cache (direct I/O) unless --kernel-cache.`)
    .action(async (first: string, second: string | undefined, o: MountCliOptions) => {
      const { mountFolio, runDaemonProcess } = await import("./cli.js");
      const config = {
        image: second === undefined ? null : first,
        mountpoint: second ?? first,
        ...(o.fs !== undefined ? { fs: o.fs } : {}),
        ...(o.module !== undefined ? { modules: o.module } : {}),
        memory: o.memory,
        policy: o.policy,
        size: o.size,
        device: o.device,
        seed: intOption(o.seed, "--seed"),
        directIo: o.kernelCache !== true,
        maxWrite: intOption(o.maxWrite, "--max-write"),
        cacheTimeout: Number(o.cacheTimeout),
      };
      if (o.foreground === true) {
        await runDaemonProcess(config, (msg) => {
          if ("error" in msg) throw Object.assign(new Error(msg.error.message), { code: msg.error.code });
          process.stdout.write(`mounted on ${msg.mountpoint} (pid ${msg.pid}); SIGINT or SIGTERM unmounts\n`);
        });
        return;
      }
      const m = await mountFolio(config, o.log !== undefined ? { log: o.log } : {});
      process.stdout.write(`mounted on ${m.mountpoint} (daemon pid ${m.pid}, log ${m.log})\n`);
    });
  program
    .command("umount")
    .description("unmount a Folio FUSE mount: its daemon writes everything back, unmounts and exits")
    .argument("<mountpoint>", "the mount point")
    .option("--timeout <seconds>", "how long to wait for the write-back", "120")
    .action(async (mountpoint: string, o: { timeout: string }) => {
      const { umountFolio } = await import("./cli.js");
      await umountFolio(mountpoint, { timeoutMs: Number(o.timeout) * 1000 });
      process.stdout.write(`unmounted ${mountpoint}\n`);
    });
}

function intOption(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw Object.assign(new Error(`${name} "${value}" is not an integer`), { code: "EINVAL", errno: -22 });
  return n;
}
