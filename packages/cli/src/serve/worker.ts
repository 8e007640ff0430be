/**
 * The live viewer's worker thread: boots the machine, runs its workload in slices of at most
 * {@link SLICE_MS} of wall time (at the speed asked for), and between slices answers the server's
 * requests — pause, step, resume, speed, inject, describe — and publishes the machine's state at
 * most {@link PUBLISH_MS} apart. The server's event loop never waits for the machine; this one
 * never runs more than a slice before it looks at its messages again.
 */
import { parentPort, workerData } from "node:worker_threads";
import { describeError } from "../errors.js";
import { LiveMachine } from "./live.js";
import type { WorkerConfig, WorkerMessage, WorkerRequest } from "./protocol.js";

/** Longest run of operations between two looks at the message queue. */
const SLICE_MS = 20;
/** Shortest time between two publications while running (at most 20 a second). */
const PUBLISH_MS = 50;
/** Most virtual time an idle machine lets pass per slice, however long the slice was delayed. */
const IDLE_MAX_NS = 200_000_000;

const port = parentPort!;
const post = (m: WorkerMessage) => port.postMessage(m);

let live: LiveMachine;
let lastPublish = performance.now();
let lastSlice = performance.now();
/** Operations the speed allows and not yet run (a token bucket holding at most 100 ms worth). */
let tokens = 0;
let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;

/** Time between publications while running: PUBLISH_MS, or longer on a machine so large that
 * classifying its frames takes a while, so that publishing stays under a tenth of the time. */
let publishEvery = PUBLISH_MS;

function publish(): void {
  const start = performance.now();
  live.publish();
  lastPublish = performance.now();
  publishEvery = Math.max(PUBLISH_MS, 10 * (lastPublish - start));
  post({ type: "update", status: live.status() });
}

/** Runs one slice and schedules the next, unless paused. */
function slice(): void {
  timer = undefined;
  const now = performance.now();
  const elapsed = Math.min(1000, now - lastSlice);
  lastSlice = now;
  if (live.isPaused) return;
  let wait = 0;
  if (live.currentPhase === "workload") {
    const speed = live.opsPerSecond;
    if (speed === 0) {
      live.runUntil(now + SLICE_MS, Infinity);
    } else {
      tokens = Math.min(tokens + (elapsed * speed) / 1000, Math.max(1, speed / 10));
      const ran = live.runUntil(now + SLICE_MS, Math.floor(tokens));
      tokens -= ran;
      // Not a token left: sleep until the next one, and at least half a slice, so that a high
      // speed runs its operations in batches rather than waking for each.
      if (tokens < 1) wait = Math.max(SLICE_MS / 2, Math.ceil(((1 - tokens) * 1000) / speed));
    }
  } else {
    // Without a workload (or after it) virtual time passes as wall time does: writeback, kswapd
    // and kcompactd go on at a pace one can watch.
    live.idle(Math.min(IDLE_MAX_NS, elapsed * 1e6));
    wait = SLICE_MS;
  }
  if (performance.now() - lastPublish >= publishEvery) publish();
  schedule(wait);
}

function schedule(wait: number): void {
  if (timer !== undefined || live.isPaused) return;
  timer = wait > 0 ? setTimeout(slice, wait) : setImmediate(slice);
}

function stopTimer(): void {
  if (timer === undefined) return;
  clearTimeout(timer as NodeJS.Timeout);
  clearImmediate(timer as NodeJS.Immediate);
  timer = undefined;
}

function answer(req: WorkerRequest): unknown {
  switch (req.type) {
    case "control":
      if (req.action === "pause") {
        live.setPaused(true);
        stopTimer();
      } else if (req.action === "resume") {
        live.setPaused(false);
        lastSlice = performance.now();
        tokens = 0;
      } else {
        // Stepping pauses: one sees exactly what the steps did.
        live.setPaused(true);
        stopTimer();
        live.runSteps(req.count ?? 1);
      }
      return null;
    case "speed":
      live.setSpeed(req.speed);
      tokens = 0;
      return null;
    case "inject":
      return live.inject(req.kind, req.pfn);
    case "describe":
      return live.describe(req.pfn);
  }
}

function onRequest(req: WorkerRequest): void {
  try {
    const value = answer(req);
    // Published before the answer, so that what the server reads next includes the change (a
    // description changes nothing).
    if (req.type !== "describe") publish();
    post({ type: "reply", id: req.id, ok: true, value });
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    post({ type: "reply", id: req.id, ok: false, code: typeof code === "string" ? code : "EFAULT", error: describeError(e).line });
  }
  schedule(0);
}

try {
  live = LiveMachine.boot(workerData as WorkerConfig);
  post({ type: "ready", info: live.info, status: live.status(), shared: live.shared });
  schedule(0);
  port.on("message", onRequest);
} catch (e) {
  // Nothing started: with the message posted, the thread has nothing left to do and ends.
  const r = describeError(e);
  const code = (e as { code?: unknown }).code;
  post({ type: "fatal", code: typeof code === "string" ? code : "EFAULT", error: r.line, ...(r.stack !== undefined ? { stack: r.stack } : {}) });
}
