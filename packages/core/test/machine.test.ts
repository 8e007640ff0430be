import test from "ava";
import { Machine, isFolioError } from "../src/index.js";

test("a fresh machine accounts for every frame", (t) => {
  const m = Machine.boot({ memory: "8MiB" });
  t.deepEqual(m.verify(), []);
  t.is(m.meminfo().MemTotal, 8192);
  t.is(m.meminfo().MemFree + m.meminfo().Reserved + m.meminfo().Slab, 8192);
});

test("bad memory sizes are refused with EINVAL naming the size", (t) => {
  for (const memory of ["0", "-1MiB", "1.5KiB", "lots", "64PiB", "4097", 0, -4096, 1.5]) {
    const e = t.throws(() => Machine.boot({ memory }));
    t.true(isFolioError(e, "EINVAL"), String(memory));
  }
});
