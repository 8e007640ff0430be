/**
 * The live viewer: workloads as streams of operations, the server in this process (loopback only,
 * the page, the state and frames, describe, pause and step, injections, events, a clean close),
 * and `folio serve` as a child process stopped by SIGINT.
 */
import test from "ava";
import { spawn } from "node:child_process";
import { get } from "node:http";
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { Script } from "node:vm";
import { Cat, NO_PROGRESS, openSession, resolveWorkload, startViewer, type Viewer, type ViewerState } from "../src/index.js";
import { MAIN } from "./helpers.js";

const MiB = 1 << 20;
const SESSION = { memory: 16 * MiB, fs: "simple", policy: "linux", seed: 1, disk: 64 * MiB, device: "nvme", swap: 0, hugePages: 0 } as const;

/** A request to the viewer; JSON bodies are sent as JSON. */
async function call(v: Viewer, path: string, body?: unknown): Promise<Response> {
  return fetch(new URL(path, v.url), body === undefined ? {} : {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  });
}

/** The status of a GET with its own Host header (fetch does not let one set it). */
function statusWithHost(v: Viewer, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get({ host: "127.0.0.1", port: v.port, path, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).once("error", reject);
  });
}

async function json<T>(v: Viewer, path: string, body?: unknown): Promise<T> {
  const r = await call(v, path, body);
  if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

async function frames(v: Viewer): Promise<Uint8Array> {
  return new Uint8Array(await (await call(v, "/api/frames")).arrayBuffer());
}

test("a workload's stream is its run, one system call or allocation per step", (t) => {
  const w = resolveWorkload("zoo", 16 * MiB);
  const a = openSession(SESSION);
  const ops = w.run(a, NO_PROGRESS);
  const b = openSession(SESSION);
  const stream = w.stream(b, NO_PROGRESS);
  let steps = 0;
  let last = 0;
  let r = stream.next();
  for (; !r.done; r = stream.next()) {
    steps++;
    t.true(r.value.step >= last && r.value.step <= w.stepCount, "steps are numbered in order");
    last = r.value.step;
  }
  t.is(r.value, ops, "the same system calls and allocations");
  t.is(steps, ops, "the zoo makes one call per operation");
  t.is(last, w.stepCount);
  t.is(b.machine.scheduler.now, a.machine.scheduler.now, "the same run, to the nanosecond");
  t.deepEqual(b.machine.vmstat.toObject(), a.machine.vmstat.toObject());
});

test("abandoning a stream closes the files it had open", (t) => {
  const s = openSession(SESSION);
  const w = resolveWorkload("dirty-write", 16 * MiB);
  const stream = w.stream(s, NO_PROGRESS);
  for (let i = 0; i < 3; i++) t.like(stream.next().value, { step: 1, op: "write", target: "/dirty" });
  stream.return(0);
  t.notThrows(() => s.close(), "unmount finds no file open");
});

test("the viewer: loopback only, the page, state, frames, describe, pause and step, injections, events", async (t) => {
  const v = await startViewer({ session: SESSION, workload: "zoo", paused: true });
  t.teardown(() => v.close());
  const url = new URL(v.url);
  t.is(url.hostname, "127.0.0.1");
  // Not reachable on any other interface of this host.
  const other = Object.values(networkInterfaces()).flat().find((a) => a && a.family === "IPv4" && !a.internal);
  if (other) {
    const refused = await new Promise<boolean>((resolve) => {
      const s = connect({ host: other.address, port: v.port });
      s.once("connect", () => (s.destroy(), resolve(false)));
      s.once("error", () => resolve(true));
    });
    t.true(refused, `not listening on ${other.address}`);
  } else {
    t.log("no non-loopback IPv4 interface here: only the bound address is checked");
  }

  const page = await call(v, "/");
  t.is(page.status, 200);
  t.regex(page.headers.get("content-type") ?? "", /^text\/html/);
  const html = await page.text();
  t.true(html.includes("<canvas"));
  t.false(/\b(src|href)="https?:/.test(html), "no external assets");
  const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
  t.notThrows(() => new Script(script), "the page's script compiles");

  const info = await json<{ frames: number; layout: { columns: number; cellPx: number; framesPerCell: number }; categories: { key: string }[] }>(v, "/api/info");
  t.is(info.frames, 4096);
  t.is(info.layout.framesPerCell, 1);
  t.is(info.categories[Cat.Poisoned]!.key, "poisoned");

  let s = await json<ViewerState>(v, "/api/state");
  t.true(s.paused);
  t.is(s.ops, 0);
  t.is(s.phase, "workload");
  const bytes = await frames(v);
  t.is(bytes.length, 4096, "one byte per frame");
  t.is(Object.values(s.categories).reduce((a, b) => a + b, 0), 4096);

  // Paused, the machine does not move; a step is exactly one operation.
  await new Promise((r) => setTimeout(r, 100));
  t.is((await json<ViewerState>(v, "/api/state")).ops, 0);
  s = await json<ViewerState>(v, "/api/control", { action: "step" });
  t.is(s.ops, 1);
  t.deepEqual(s.step, { step: 1, op: "write", target: "/clean" });
  s = await json<ViewerState>(v, "/api/control", { action: "step", count: 5 });
  t.is(s.ops, 6);
  t.true(s.paused);
  s = await json<ViewerState>(v, "/api/control", { action: "step", count: 100000 });
  t.is(s.phase, "idle", "the zoo ran to its end");
  t.true(s.counters["nr_file_pages"]! > 0);

  // Describe: a frame of a file folio names its owner.
  const after = await frames(v);
  const filePfn = after.findIndex((b) => (b & 15) === Cat.FileClean && b >> 4 === 0);
  t.true(filePfn > 0);
  const d = await json<{ report: { pfn: number; type: string; owner?: string }; text: string }>(v, `/api/describe?pfn=${filePfn}`);
  t.is(d.report.pfn, filePfn);
  t.is(d.report.type, "folio");
  t.truthy(d.report.owner);
  t.true(d.text.includes(d.report.owner!));
  const bad = await call(v, "/api/describe?pfn=4096");
  t.is(bad.status, 400);
  t.regex(((await bad.json()) as { error: string }).error, /^EINVAL: pfn 4096 is not a frame/);

  // Injections: the frame taken offline shows as poisoned; compaction; dropping caches.
  const off = await json<{ result: string; state: ViewerState }>(v, "/api/inject", { kind: "hard-offline", pfn: filePfn });
  t.regex(off.result, new RegExp(`^hard-offline of pfn ${filePfn} \\(folio\\): recovered`));
  t.is((await frames(v))[filePfn]! & 15, Cat.Poisoned);
  const compact = await json<{ result: string; state: ViewerState }>(v, "/api/inject", { kind: "compact" });
  t.regex(compact.result, /^compact_memory: /);
  const before = compact.state.categories["file"]!;
  const dropped = await json<{ result: string; state: ViewerState }>(v, "/api/inject", { kind: "drop-caches" });
  t.regex(dropped.result, /^drop_caches: \d+ clean page-cache pages dropped/);
  t.true(dropped.state.categories["file"]! < before, dropped.result);
  const random = await json<{ result: string }>(v, "/api/inject", { kind: "soft-offline" });
  t.regex(random.result, /^soft-offline of pfn \d+/);
  t.true(dropped.state.log.some((l) => l.includes("drop_caches")), "injections are logged");
  t.is((await call(v, "/api/inject", { kind: "reboot" })).status, 400);

  // Guards: JSON only, this host only, known paths only.
  t.is((await fetch(new URL("/api/control", v.url), { method: "POST", body: "action=pause" })).status, 400);
  t.is(await statusWithHost(v, "/api/state", `evil.example:${v.port}`), 403, "a page of another site resolving to 127.0.0.1 is refused");
  t.is(await statusWithHost(v, "/api/state", `localhost:${v.port}`), 200);
  t.is((await call(v, "/nope")).status, 404);
  t.is((await call(v, "/api/state", {})).status, 405);

  // Resumed, an idle machine lets time pass; the events stream says so.
  const t0 = (await json<ViewerState>(v, "/api/control", { action: "resume" })).virtualNs;
  const events = await call(v, "/api/events");
  t.is(events.headers.get("content-type"), "text/event-stream");
  const reader = events.body!.getReader();
  let text = "";
  let later: ViewerState | undefined;
  while (!later || later.virtualNs <= t0) {
    text += new TextDecoder().decode((await reader.read()).value);
    const events = text.split("\n\n").filter((e) => e.startsWith("data: ") || e.includes("\ndata: "));
    const lastEvent = events.at(-1);
    if (lastEvent) later = JSON.parse(lastEvent.slice(lastEvent.indexOf("data: ") + 6)) as ViewerState;
  }
  t.false(later.paused);
  t.true(later.virtualNs > t0);
  await reader.cancel();

  await v.close();
  t.is(await v.closed, null);
  await t.throwsAsync(fetch(v.url), undefined, "closed: nothing listens any more");
});

test("a workload that runs freely reaches its end; a taken port is one clear error", async (t) => {
  const v = await startViewer({ session: SESSION, workload: "fragment", speed: 0 });
  t.teardown(() => v.close());
  let s = await json<ViewerState>(v, "/api/state");
  for (let i = 0; i < 400 && s.phase === "workload"; i++) {
    await new Promise((r) => setTimeout(r, 25));
    s = await json<ViewerState>(v, "/api/state");
  }
  t.is(s.phase, "idle");
  t.true(s.ops > 1000);
  t.true(s.log.some((l) => l.includes("workload finished")));
  await t.throwsAsync(startViewer({ session: SESSION, workload: null, port: v.port }), { code: "EADDRINUSE", message: /port \d+ of 127\.0\.0\.1 is in use/ });
  await t.throwsAsync(startViewer({ session: SESSION, workload: "no-such-workload" }), { code: "ENOENT", message: /no built-in workload named "no-such-workload"/ });
});

test("folio serve prints its address, serves, and stops cleanly on SIGINT", async (t) => {
  const child = spawn(process.execPath, [MAIN, "serve", "--memory", "16MiB", "--workload", "none", "--json"], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")));
    });
    child.once("exit", () => reject(new Error(`folio serve ended before printing its address: ${stderr}`)));
  });
  const { url, frames: n } = JSON.parse(line) as { url: string; frames: number };
  t.regex(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  t.is(n, 4096);
  const r = await fetch(url);
  t.is(r.status, 200);
  const s = (await (await fetch(new URL("/api/state", url))).json()) as ViewerState;
  t.is(s.phase, "idle");
  child.kill("SIGINT");
  t.is(await exit, 0, stderr);
  t.is(stderr, "");
});
