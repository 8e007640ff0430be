/**
 * The live viewer's page in a real browser: headless Chromium loads it (in its `?snapshot` mode,
 * which draws the state once instead of following it, so the screenshot does not wait on an open
 * stream) and the screenshot shows the memory map drawn on the canvas in the map's colours.
 * Skipped, saying why, when no Chromium is installed (.ci/run installs Debian's).
 */
import test from "ava";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PNG } from "pngjs";
import { Cat, MEMMAP_CATEGORIES, startViewer } from "../src/index.js";

const CANDIDATES = [process.env["CHROMIUM"], "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
const chromium = CANDIDATES.find((p): p is string => p !== undefined && p !== "" && existsSync(p));

if (chromium === undefined) {
  test.skip(`browser: the viewer's canvas draws (skipped: no Chromium at ${CANDIDATES.filter(Boolean).join(", ")}; install Debian's chromium or set CHROMIUM)`, () => {});
} else {
  test("browser: the viewer's canvas draws the memory map in its colours", async (t) => {
    const MiB = 1 << 20;
    const v = await startViewer({
      session: { memory: 16 * MiB, fs: "simple", policy: "linux", seed: 1, disk: 64 * MiB, device: "nvme", swap: 0, hugePages: 0 },
      workload: "zoo", paused: true,
    });
    const dir = mkdtempSync(join(tmpdir(), "folio-chromium-"));
    t.teardown(async () => {
      await v.close();
      rmSync(dir, { recursive: true, force: true });
    });
    // The zoo to its end: every kind of memory is on the map.
    await fetch(new URL("/api/control", v.url), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ action: "step", count: 100000 }) });
    const shot = join(dir, "viewer.png");
    const args = [
      "--headless", "--no-sandbox", "--disable-gpu", "--no-proxy-server", "--hide-scrollbars", `--user-data-dir=${join(dir, "profile")}`,
      "--window-size=1400,900", "--virtual-time-budget=3000", `--screenshot=${shot}`, `${v.url}?snapshot`,
    ];
    await new Promise<void>((resolve, reject) => {
      execFile(chromium, args, { timeout: 60_000 }, (err, _stdout, stderr) => (err ? reject(new Error(`${chromium} failed: ${err.message}\n${stderr}`)) : resolve()));
    });
    const image = PNG.sync.read(readFileSync(shot));
    const counts = new Map<string, number>();
    for (let i = 0; i < image.data.length; i += 4) {
      const hex = `#${[0, 1, 2].map((k) => image.data[i + k]!.toString(16).padStart(2, "0")).join("")}`;
      counts.set(hex, (counts.get(hex) ?? 0) + 1);
    }
    // Cells of file pages, anonymous memory and the huge page in use, drawn in the SVG's colours.
    for (const c of [Cat.FileClean, Cat.Anon, Cat.HugetlbUsed, Cat.Vmalloc]) {
      const { label, color } = MEMMAP_CATEGORIES[c]!;
      t.true((counts.get(color) ?? 0) > 100, `${label} (${color}): ${counts.get(color) ?? 0} pixels`);
    }
  });
}
