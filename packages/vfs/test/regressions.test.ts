import test from "ava";
import { Machine } from "@folio/core";
import { Vfs, createNodeFs } from "../src/index.js";

test("mkdirSync('', { recursive: true }) throws ENOENT like node:fs instead of looping", async (t) => {
  await import(new URL("../../../../examples/dist/ramfs.js", import.meta.url).href);
  const vfs = new Vfs(Machine.boot({ memory: "8MiB" }));
  vfs.mount("/", "ramfs");
  const fs = createNodeFs(vfs);
  const e = t.throws(() => fs.mkdirSync("", { recursive: true })) as NodeJS.ErrnoException;
  t.is(e.code, "ENOENT");
});
