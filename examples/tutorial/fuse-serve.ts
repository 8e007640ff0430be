/**
 * Tutorial step 4 (docs/TUTORIAL.md): serves a registered Folio filesystem type on a host
 * directory through FUSE, from this process, until it is unmounted (umount, or SIGINT/SIGTERM).
 * A type that needs a device gets a fresh memfs disk, formatted with its mkfs. `folio mount` does
 * the same for fs-simple and fs-log, in a daemon.
 *
 *     node examples/dist/tutorial/fuse-serve.js ramfs|flat|simple <mountpoint>
 *
 * Needs Linux, /dev/fuse and root. The process must never touch its own mount point: every request
 * is served on this thread, so a request it sent itself would wait for a reply only it could give.
 */
import { resolve } from "node:path";
import { Machine, isFolioError } from "@folio/core";
import { createBlockDevice } from "@folio/pagecache";
import { filesystemType } from "@folio/fs-api";
import "@folio/fs-simple";
import { Vfs } from "@folio/vfs";
import { FuseChannel, FuseServer, VfsFuseOps } from "@folio/fuse";
import "../ramfs.js";
import "./flatfs.js";

const [type, dir] = process.argv.slice(2);
if (type === undefined || dir === undefined) {
  console.error("usage: fuse-serve.js <filesystem type> <mountpoint>");
  process.exit(2);
}

try {
  // #region serve
  const machine = Machine.boot({ memory: "256MiB", seed: 1, epochMs: Date.now() }); // files get the host's time
  const vfs = new Vfs(machine);
  const fsType = filesystemType(type); // EINVAL naming the known types
  const device = fsType.needsDevice ? createBlockDevice("memfs", machine.scheduler, { size: "64MiB" }) : undefined;
  if (device) fsType.mkfs?.({ device, scheduler: machine.scheduler, machine });
  vfs.mount("/", type, { device });

  const ops = new VfsFuseOps(vfs); // FUSE node ids and handles → the VFS's paths and descriptors
  const channel = await FuseChannel.open({
    mountpoint: resolve(dir), fsname: `folio:${type}`, subtype: `folio-${type}`, maxWrite: 1 << 20, readers: 2, allowOther: true,
  });
  const server = new FuseServer(ops, (buf, len) => channel.reply(buf, len), {
    maxWrite: 1 << 20, timeouts: { entry: 1, attr: 1 }, directIo: true, // no second copy of file data in the kernel
    onInit: () => console.log(`${type} mounted on ${dir}; umount ${dir} to stop`),
  });
  const background = machine.scheduler.startRealtime(); // the flusher and kswapd run between requests
  channel.start(
    (buf, len) => server.handle(buf, len),
    () => {
      // The kernel ended the connection (the host directory was unmounted): write back, leave.
      background.stop();
      ops.closeAll();
      vfs.umount("/");
      const requests = Object.values(server.stats.requests).reduce((a, b) => a + b, 0);
      console.log(`${type} unmounted after ${requests} requests`);
    },
  );
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void channel.unmount(true));
  // #endregion serve
} catch (e) {
  if (!isFolioError(e)) throw e;
  console.error(`fuse-serve: ${e.message}`); // "ENOENT: cannot open /dev/fuse: …", "EPERM: …"
  process.exitCode = 1;
}
