import test from "ava";
import "reflect-metadata";
import { inject } from "tsyringe";
import { Machine, TOKENS, fail } from "@folio/core";
import { FS_TOKENS, filesystem, type MountOptions } from "@folio/fs-api";
import { PAGECACHE_TOKENS, type Flusher } from "@folio/pagecache";
import { Vfs, createNodeFs } from "../src/index.js";
import { boot, throwsCode } from "./helpers.js";

test("mounts cross both ways: into a mounted root, and back out with ..", (t) => {
  const { fs, vfs } = boot();
  fs.mkdirSync("/mnt/data", { recursive: true });
  fs.writeFileSync("/mnt/data/under", "hidden by the mount");
  vfs.mount("/mnt/data", "ramfs");
  t.deepEqual(fs.readdirSync("/mnt/data"), [], "the mounted filesystem covers the directory");
  fs.mkdirSync("/mnt/data/inner");
  fs.writeFileSync("/mnt/data/inner/f", "on the second fs");
  const rootDev = fs.statSync("/").dev;
  const st = fs.statSync("/mnt/data/inner/f");
  t.not(st.dev, rootDev, "files on another mount have another device number");
  t.is(fs.statSync("/mnt/data").ino, 1, "the mount point shows the mounted root");
  t.is(fs.realpathSync("/mnt/data/inner/.."), "/mnt/data");
  t.is(fs.realpathSync("/mnt/data/.."), "/mnt");
  t.is(fs.statSync("/mnt/data/..").ino, fs.statSync("/mnt").ino);
  t.is(fs.readFileSync("/mnt/data/inner/../../data/inner/f", "utf8"), "on the second fs");
  vfs.chdir("/mnt/data/inner");
  t.is(vfs.cwd(), "/mnt/data/inner");
  t.is(fs.readFileSync("../../../mnt/data/inner/f", "utf8"), "on the second fs");
  fs.symlinkSync("/mnt/data/inner", "/shortcut");
  t.is(fs.realpathSync("/shortcut/f"), "/mnt/data/inner/f");
  throwsCode(t, () => fs.linkSync("/shortcut/f", "/hardlink"), "EXDEV", { syscall: "link" });
  t.deepEqual(
    vfs.mountTable().map((m) => [m.path, m.type, m.dev]),
    [
      ["/", "ramfs", rootDev],
      ["/mnt/data", "ramfs", st.dev],
    ],
  );
  vfs.chdir("/");
  vfs.umount("/mnt/data");
  t.deepEqual(fs.readdirSync("/mnt/data"), ["under"], "after umount the covered directory shows again");
  t.is(fs.readFileSync("/mnt/data/under", "utf8"), "hidden by the mount");
  throwsCode(t, () => fs.statSync("/shortcut/f"), "ENOENT");
});

test("umount: EINVAL off a mount point, EBUSY while in use, then the filesystem unmounts and leaves the flusher", (t) => {
  const { fs, vfs, machine } = boot();
  fs.mkdirSync("/m");
  const flusher = machine.container.resolve<Flusher>(PAGECACHE_TOKENS.Flusher);
  vfs.mount("/m", "ramfs");
  const sb = vfs.superBlockOf("/m");
  let unmounted = 0;
  const unmount = sb.unmount.bind(sb);
  sb.unmount = () => {
    unmounted++;
    unmount();
  };
  throwsCode(t, () => vfs.umount("/"), "EBUSY", { syscall: "umount" });
  throwsCode(t, () => vfs.umount("/m/../m/nope"), "ENOENT");
  fs.mkdirSync("/m/d");
  throwsCode(t, () => vfs.umount("/m/d"), "EINVAL", { message: "EINVAL: invalid argument, umount '/m/d'" });
  const fd = fs.openSync("/m/file", "w");
  fs.writeSync(fd, "dirty data");
  throwsCode(t, () => vfs.umount("/m"), "EBUSY");
  fs.closeSync(fd);
  vfs.chdir("/m/d");
  throwsCode(t, () => vfs.umount("/m"), "EBUSY");
  vfs.chdir("/");
  vfs.mount("/m/d", "ramfs");
  throwsCode(t, () => vfs.umount("/m"), "EBUSY");
  throwsCode(t, () => fs.rmdirSync("/m/d"), "EBUSY");
  vfs.umount("/m/d");
  t.is(unmounted, 0);
  const cachedWithMount = machine.meminfo().Cached;
  vfs.umount("/m");
  t.is(unmounted, 1);
  t.is(machine.meminfo().Cached, cachedWithMount - 4, "ramfs dropped its page cache at unmount");
  t.deepEqual(vfs.mountTable().map((m) => m.path), ["/"]);
  // The flusher still runs for the root mount: dirty ramfs pages are cleaned by its periodic pass.
  fs.writeFileSync("/dirty", Buffer.alloc(8192));
  t.true(machine.meminfo().Dirty > 0);
  machine.scheduler.runFor(40e9);
  t.is(machine.meminfo().Dirty, 0);
  t.true(flusher.stats.periodic > 0);
  t.is(fs.readFileSync("/dirty").length, 8192, "cleaned ramfs pages stay cached: they are the data");
  t.deepEqual(machine.verify(), []);
});

test("mounting on a mount point covers it; stacked mounts unmount top first", (t) => {
  const { fs, vfs } = boot();
  fs.mkdirSync("/m");
  vfs.mount("/m", "ramfs");
  fs.writeFileSync("/m/first", "1");
  vfs.mount("/m", "ramfs");
  t.deepEqual(fs.readdirSync("/m"), []);
  vfs.umount("/m");
  t.deepEqual(fs.readdirSync("/m"), ["first"]);
  vfs.mount("/", "ramfs");
  t.deepEqual(fs.readdirSync("/"), [], "a mount on / covers the old root");
  vfs.umount("/");
  t.deepEqual(fs.readdirSync("/"), ["m"]);
});

test("mount errors: unknown type, not a directory, missing, first mount not on /", (t) => {
  const { fs, vfs } = boot();
  fs.writeFileSync("/file", "");
  throwsCode(t, () => vfs.mount("/", "nosuchfs"), "EINVAL", { syscall: "mount" });
  throwsCode(t, () => vfs.mount("/file", "ramfs"), "ENOTDIR");
  throwsCode(t, () => vfs.mount("/nope", "ramfs"), "ENOENT");
  const bare = new Vfs(Machine.boot({ memory: "8MiB" }));
  throwsCode(t, () => bare.mount("/mnt", "ramfs"), "ENOENT");
  throwsCode(t, () => createNodeFs(bare).statSync("/"), "ENOENT");
  t.throws(() => new Vfs(bare.machine), { code: "EEXIST" });
  t.is(Vfs.of(bare.machine), bare);
});

/** A filesystem type that only records what its constructor was given, and refuses to mount. */
const probed: unknown[][] = [];
class ProbeFs {
  static readonly needsDevice = true;
  constructor(
    @inject(TOKENS.Machine) machine: Machine,
    @inject(FS_TOKENS.BlockDevice) device: unknown,
    @inject(FS_TOKENS.MountOptions) options: MountOptions,
    @inject(PAGECACHE_TOKENS.PageCache) cache: unknown,
  ) {
    probed.push([machine, device, options, cache]);
  }
  mount(): void {
    throw fail("EINVAL", "bad magic: this device holds no probe filesystem");
  }
}
filesystem("probe")(ProbeFs as never);

test("mount constructs the class in a child container: machine, device, options and page cache injected", (t) => {
  const { fs, vfs, machine } = boot();
  fs.mkdirSync("/p");
  throwsCode(t, () => vfs.mount("/p", "probe"), "EINVAL", { syscall: "mount" });
  t.is(probed.length, 0, "a type that needs a device is refused without one, before construction");
  const device = { fake: "device" };
  const err = throwsCode(t, () => vfs.mount("/p", "probe", { device: device as never, options: { size: "1m" } }), "EINVAL");
  t.regex(String((err as Error & { cause?: Error }).cause?.message), /bad magic/);
  t.is(probed.length, 1);
  const [m, d, o, c] = probed[0]!;
  t.is(m, machine);
  t.is(d, device);
  t.deepEqual(o, { size: "1m" });
  t.is(c, vfs.cache);
  t.deepEqual(vfs.mountTable().map((x) => x.path), ["/"], "a failed mount leaves no trace");
  t.false(machine.container.isRegistered(FS_TOKENS.MountOptions), "mount tokens live in the mount's child container");
});

test("read-only mounts refuse every change with EROFS", (t) => {
  const { vfs, fs } = boot();
  fs.mkdirSync("/ro");
  vfs.mount("/ro", "ramfs", { options: { readOnly: true } });
  t.deepEqual(vfs.mountTable()[1]!.options, { readOnly: true });
  t.true(vfs.mountTable()[1]!.readOnly);
  throwsCode(t, () => fs.writeFileSync("/ro/f", "x"), "EROFS", { syscall: "open", message: "EROFS: read-only file system, open '/ro/f'" });
  throwsCode(t, () => fs.mkdirSync("/ro/d"), "EROFS");
  throwsCode(t, () => fs.chmodSync("/ro", 0o700), "EROFS");
  throwsCode(t, () => fs.utimesSync("/ro", 1, 1), "EROFS");
  throwsCode(t, () => fs.accessSync("/ro", fs.constants.W_OK), "EROFS");
  t.deepEqual(fs.readdirSync("/ro"), []);
});

test("two machines in one process share nothing: files, mounts, descriptors, caches", (t) => {
  const one = boot(1);
  const two = boot(1);
  one.fs.writeFileSync("/only-on-one", "1");
  one.fs.mkdirSync("/mnt");
  one.vfs.mount("/mnt", "ramfs");
  t.false(two.fs.existsSync("/only-on-one"));
  t.deepEqual(two.fs.readdirSync("/"), []);
  t.is(one.vfs.mountTable().length, 2);
  t.is(two.vfs.mountTable().length, 1);
  const fd1 = one.fs.openSync("/only-on-one", "r");
  t.is(two.fs.openSync("/x", "w"), fd1, "each VFS has its own descriptor table");
  throwsCode(t, () => two.fs.readSync(fd1 + 1, Buffer.alloc(1)), "EBADF");
  t.not(one.vfs.superBlockOf("/"), two.vfs.superBlockOf("/"));
  t.not(one.vfs.cache, two.vfs.cache);
  t.is(one.vfs.cache.machine, one.machine);
  t.is(Vfs.of(two.machine), two.vfs);
  two.fs.writeFileSync("/x", "2");
  t.is(one.fs.readFileSync("/only-on-one", "utf8"), "1");
  t.is(one.machine.meminfo().Cached, 4);
  t.is(two.machine.meminfo().Cached, 4);
});
