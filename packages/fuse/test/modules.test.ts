/**
 * Plugin filesystems for mounts: modules named by `--module` are imported and register their
 * types, bad modules and unknown types are clear errors, and a type without a device takes no
 * image. None of this needs /dev/fuse: nothing here mounts on the host.
 */
import test from "ava";
import { fileURLToPath } from "node:url";
import { filesystemTypes } from "@folio/fs-api";
import { createNodeFs } from "@folio/vfs";
import { join } from "node:path";
import { mountFolio } from "../src/cli.js";
import { FuseDaemon, detectImageFs, loadFilesystemModules, resolveMountConfig } from "../src/daemon.js";
import { tempDir } from "./helpers.js";

const fixture = (name: string) => fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));

test.serial("a module registers its type, which a mount then accepts", async (t) => {
  t.false(filesystemTypes().includes("plugin-simple"));
  t.throws(() => resolveMountConfig({ mountpoint: "/tmp", fs: "plugin-simple" }), { code: "EINVAL", message: /not a registered filesystem type \(simple, log; --module registers more\)/ });
  await loadFilesystemModules([fixture("plugin.mjs")]);
  t.true(filesystemTypes().includes("plugin-simple"));
  t.is(resolveMountConfig({ mountpoint: "/tmp", fs: "plugin-simple" }).fs, "plugin-simple");
  // The daemon formats a memfs disk with the plugin's mkfs and mounts it on the machine's VFS.
  const dir = tempDir("folio-fuse-plugin-");
  try {
    const d = new FuseDaemon({ mountpoint: dir.path, fs: "plugin-simple", size: "16MiB", memory: "64MiB" });
    t.is(d.disk.fs, "plugin-simple");
    t.true(d.disk.formatted);
    const fs = createNodeFs(d.vfs);
    fs.writeFileSync("/hello.txt", "from a plugin");
    t.is(fs.readFileSync("/hello.txt", "utf8"), "from a plugin");
    d.ops.closeAll();
    d.vfs.umount("/");
  } finally {
    dir.cleanup();
  }
});

test("a module that does not exist is ENOENT, one that fails to load EINVAL with its error as the cause", async (t) => {
  await t.throwsAsync(loadFilesystemModules(["/no/such/plugin.js"]), { code: "ENOENT", message: /filesystem module \/no\/such\/plugin.js does not exist/ });
  const e = await t.throwsAsync(loadFilesystemModules([fixture("broken.mjs")]), { code: "EINVAL", message: /failed to load: this plugin is broken/ });
  t.is((e?.cause as Error).message, "this plugin is broken");
});

test("an image holding another filesystem than --fs: the daemon's error reaches the caller once, code and all", async (t) => {
  const dir = tempDir("folio-fuse-mismatch-");
  try {
    // Format an fs-simple image through a daemon that is never started on the host.
    const image = join(dir.path, "disk.img");
    const formatter = new FuseDaemon({ mountpoint: dir.path, image, fs: "simple", size: "16MiB", memory: "64MiB" });
    formatter.ops.closeAll();
    formatter.vfs.umount("/");
    formatter.disk.store!.close();
    t.is(detectImageFs(image), "simple");
    const e = await t.throwsAsync(mountFolio({ mountpoint: dir.path, image, fs: "log" }, { log: join(dir.path, "daemon.log") }), { code: "EINVAL" });
    t.is(e?.message, `EINVAL: ${image} holds simple, not log`);
  } finally {
    dir.cleanup();
  }
});
