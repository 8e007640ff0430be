import test from "ava";
import { Machine, isFolioError } from "@folio/core";
import { blockDeviceTypes, createBlockDevice } from "../src/blockdev/index.js";

test("devices are chosen by name, like filesystems and eviction policies", (t) => {
  const m = Machine.boot({ memory: "4MiB" });
  t.true(blockDeviceTypes().includes("memfs") && blockDeviceTypes().includes("file"));
  const dev = createBlockDevice("memfs", m.scheduler, { size: "1MiB", model: "nvme", name: "vdb" });
  t.is(dev.nrBlocks, 256);
  t.is(dev.name, "vdb");
  let done = false;
  dev.submit({ op: "write", block: 3, count: 1, buffer: new Uint8Array(4096).fill(7), offset: 0, done: () => (done = true) });
  m.scheduler.waitUntil(() => done, "write");
  t.true(m.scheduler.now >= 100_000, "the nvme model's latency applied");
  t.true(isFolioError(t.throws(() => createBlockDevice("tape", m.scheduler)), "EINVAL"));
  t.true(isFolioError(t.throws(() => createBlockDevice("memfs", m.scheduler, { size: "1MiB", model: "floppy" as never })), "EINVAL"));
  t.true(isFolioError(t.throws(() => createBlockDevice("file", m.scheduler, {})), "EINVAL"));
});
