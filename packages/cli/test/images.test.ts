/**
 * Disk images end to end, through the built CLI: mkfs → cp in → ls → cat → stat → cp out → fsck,
 * on both filesystems.
 */
import test from "ava";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { folio, tempDir } from "./helpers.js";

const dir = tempDir();

for (const fs of ["simple", "log"] as const) {
  test(`round trip on fs-${fs}: mkfs, cp in, ls, cat, stat, cp out, fsck`, async (t) => {
    const img = `${fs}.img`;
    const host = join(dir, fs);
    mkdirSync(join(host, "tree", "sub"), { recursive: true });
    const big = Buffer.alloc(3 * 1048576 + 123);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 12)) & 0xff;
    writeFileSync(join(host, "hello.txt"), "hello, folio\n");
    writeFileSync(join(host, "tree", "big.bin"), big);
    writeFileSync(join(host, "tree", "sub", "note.txt"), "nested\n");
    const ok = async (args: string[]) => {
      const r = await folio(args, dir);
      t.is(r.code, 0, `folio ${args.join(" ")}: ${r.stderr}`);
      return r;
    };

    const made = JSON.parse((await ok(["mkfs", "--fs", fs, "--size", "32MiB", img, "--json"])).stdout) as { fs: string; blocks: number };
    t.is(made.fs, fs);
    t.true(made.blocks > 0);
    await ok(["cp", join(host, "hello.txt"), `${img}:/hello.txt`]);
    await ok(["cp", "-r", join(host, "tree"), `${img}:/tree`]);
    await ok(["cp", `${img}:/hello.txt`, `${img}:/tree/hello-copy.txt`]);

    const long = (await ok(["ls", "-l", img, "/tree"])).stdout;
    t.regex(long, /^-rw-r--r-- +1 +0 +0 +3145851 .* big\.bin$/m);
    t.regex(long, /^drwxr-xr-x .* sub$/m);
    const all = JSON.parse((await ok(["ls", "-R", "--json", img, "/"])).stdout) as { path: string; size: number }[];
    t.deepEqual(all.map((e) => e.path).sort(), ["/hello.txt", "/tree", "/tree/big.bin", "/tree/hello-copy.txt", "/tree/sub", "/tree/sub/note.txt"]);

    t.is((await ok(["cat", img, "/tree/hello-copy.txt"])).stdout, "hello, folio\n");
    const st = JSON.parse((await ok(["stat", "--json", img, "/tree/big.bin"])).stdout) as { size: number; type: string; nlink: number };
    t.is(st.size, big.length);
    t.is(st.type, "regular file");

    await ok(["cp", "-r", `${img}:/tree`, join(host, "out")]);
    t.true(readFileSync(join(host, "out", "big.bin")).equals(big));
    t.is(readFileSync(join(host, "out", "sub", "note.txt"), "utf8"), "nested\n");
    // A file copied onto a host directory lands inside it, as with cp.
    await ok(["cp", `${img}:/hello.txt`, host]);
    t.is(readFileSync(join(host, "hello.txt"), "utf8"), "hello, folio\n");

    const check = await ok(["fsck", img]);
    t.regex(check.stdout, /clean/);
  });
}

test("fsck finds damage (exit 4) and repairs it (exit 1), then the image is clean", async (t) => {
  const img = join(dir, "damaged.img");
  t.is((await folio(["mkfs", "--size", "8MiB", img], dir)).code, 0);
  writeFileSync(join(dir, "small.txt"), "data\n");
  t.is((await folio(["cp", join(dir, "small.txt"), `${img}:/small.txt`], dir)).code, 0);
  // Zero fs-simple's block bitmap (block 2): the blocks of the root directory and of small.txt
  // are in use but marked free.
  const bytes = readFileSync(img);
  bytes.fill(0, 2 * 4096, 3 * 4096);
  writeFileSync(img, bytes);
  const found = await folio(["fsck", "--json", img], dir);
  t.is(found.code, 4, found.stderr);
  const report = JSON.parse(found.stdout) as { clean: boolean; left: number };
  t.false(report.clean);
  t.true(report.left > 0);
  const repaired = await folio(["fsck", "--repair", img], dir);
  t.is(repaired.code, 1, repaired.stdout + repaired.stderr);
  t.regex(repaired.stdout, /repaired: /);
  const after = await folio(["fsck", img], dir);
  t.is(after.code, 0, after.stdout);
  t.is((await folio(["cat", img, "/small.txt"], dir)).stdout, "data\n");
});
