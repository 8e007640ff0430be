/**
 * The live viewer's server: an HTTP server on the loopback interface only, serving one
 * self-contained page and a small API over the machine running in a worker thread. The state is
 * read from the worker's SharedArrayBuffer, so no request waits for the machine except those that
 * change it or ask it something (control, inject, describe), and those wait only for the end of the
 * operation it is in.
 *
 * | request | answer |
 * | --- | --- |
 * | `GET /` | the page |
 * | `GET /api/info` | the machine, its workload, the map's layout, categories, counters and injections |
 * | `GET /api/state` | the state now: paused, phase, step, operations, virtual time, counters, frames per category, recent log |
 * | `GET /api/frames` | one byte per frame (protocol.ts: `frameByte`), `application/octet-stream` |
 * | `GET /api/events` | Server-Sent Events: the state, whenever the worker publishes (at most 10 a second) |
 * | `GET /api/describe?pfn=N` | what frame N says about itself |
 * | `POST /api/control` `{"action": "pause"\|"resume"\|"step", "count"?: N}` | the state after it |
 * | `POST /api/speed` `{"speed": N}` | operations per second, 0 for as fast as it can; the state after it |
 * | `POST /api/inject` `{"kind": …, "pfn"?: N}` | `{"result": text, "state": …}` |
 *
 * Requests whose Host header is not the loopback address (DNS rebinding) are refused, and a POST
 * must carry JSON (a cross-site form cannot).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Worker } from "node:worker_threads";
import { CliError } from "../errors.js";
import { MEMMAP_CATEGORIES, layoutMemmap } from "../memmap/model.js";
import { outlineStyle } from "../memmap/svg.js";
import { viewerPage } from "./page.js";
import {
  CONTROL_BYTES, INJECTIONS, NUMBERS, SEQ, VIEWER_COUNTERS, framesOffset,
  type Injection, type MachineInfo, type WorkerConfig, type WorkerMessage, type WorkerRequest, type WorkerRequestBody, type WorkerStatus,
} from "./protocol.js";

/** The address the viewer listens on: loopback only, never another interface. */
export const VIEWER_HOST = "127.0.0.1";
/** Shortest time between two state events sent to the pages. */
const EVENT_MS = 100;
/** Lines of the event log a newly connected page gets. */
const LOG_KEEP = 200;
/** Largest request body accepted. */
const MAX_BODY = 4096;

/** How to start the viewer. */
export interface ViewerOptions extends Omit<WorkerConfig, "paused" | "speed"> {
  /** TCP port on 127.0.0.1; 0 (the default) for any free one. */
  port?: number;
  /** Start paused (default false). */
  paused?: boolean;
  /** Operations per second (default {@link DEFAULT_SPEED}); 0 for as fast as it can. */
  speed?: number;
}

/** Operations per second a workload runs at unless told otherwise: slow enough to watch. */
export const DEFAULT_SPEED = 2000;

/** The state as the API returns it. */
export interface ViewerState extends Omit<WorkerStatus, "log"> {
  /** Changes whenever the worker publishes; the frames go with it. */
  seq: number;
  /** Operations the workload has run. */
  ops: number;
  /** Virtual time since boot, in ns. */
  virtualNs: number;
  /** Every counter of VIEWER_COUNTERS by key. */
  counters: Record<string, number>;
  /** Frames per memory map category, by key. */
  categories: Record<string, number>;
  /** The latest lines of the event log, oldest first. */
  log: string[];
}

/** A running viewer. */
export interface Viewer {
  /** `http://127.0.0.1:PORT/`. */
  readonly url: string;
  /** The port it listens on (on 127.0.0.1). */
  readonly port: number;
  /** What the worker said about the machine when it booted. */
  readonly info: MachineInfo;
  /** Ends the event streams, closes the server and stops the worker. Idempotent. */
  close(): Promise<void>;
  /**
   * Resolves once the viewer has closed: with null after {@link close}, or with the error that
   * ended the machine's worker thread (the viewer then closes itself).
   */
  readonly closed: Promise<Error | null>;
}

/**
 * Boots the machine in a worker thread and starts serving on 127.0.0.1. Rejects with the
 * machine's error (an unknown workload, a bad option) or EADDRINUSE when the port is taken.
 */
export async function startViewer(options: ViewerOptions): Promise<Viewer> {
  const config: WorkerConfig = {
    session: options.session, workload: options.workload, paused: options.paused ?? false, speed: options.speed ?? DEFAULT_SPEED,
  };
  const worker = new Worker(new URL("./worker.js", import.meta.url), { workerData: config });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let status: WorkerStatus;
  const log: string[] = [];
  const streams = new Set<ServerResponse>();
  let exited: Error | null = null;

  // Only the listeners added here are ever removed: Worker keeps its message port referenced
  // through listeners of its own (removeAllListeners would leave the port deaf).
  const booting: { message?: (m: WorkerMessage) => void; error?: (e: Error) => void; exit?: (code: number) => void } = {};
  const stopBooting = () => {
    worker.off("message", booting.message!);
    worker.off("error", booting.error!);
    worker.off("exit", booting.exit!);
  };
  const ready = await new Promise<{ info: MachineInfo; shared: SharedArrayBuffer }>((resolve, reject) => {
    booting.message = (m: WorkerMessage) => {
      if (m.type === "ready") {
        status = m.status;
        addLog(m.status.log);
        resolve({ info: m.info, shared: m.shared });
      } else if (m.type === "fatal") {
        const e = new CliError(m.code, m.error);
        if (m.stack !== undefined) e.stack = m.stack;
        reject(e);
      }
    };
    booting.error = reject;
    booting.exit = (code) => reject(new CliError("EIO", `the machine's worker thread exited (code ${code}) before it booted`));
    worker.on("message", booting.message);
    worker.on("error", booting.error);
    worker.on("exit", booting.exit);
  }).catch(async (e: unknown) => {
    stopBooting();
    await worker.terminate();
    throw e;
  });
  stopBooting();

  const { info, shared } = ready;
  const control = new Int32Array(shared, 0, CONTROL_BYTES / 4);
  const numbers = new Float64Array(shared, CONTROL_BYTES, NUMBERS.length);
  const frames = new Uint8Array(shared, framesOffset(), info.frames);
  const layout = layoutMemmap(info.frames);

  function addLog(lines: readonly string[]): void {
    log.push(...lines);
    if (log.length > LOG_KEEP) log.splice(0, log.length - LOG_KEEP);
  }

  /**
   * Copies what the worker published (with the frames' bytes if asked): retried while the
   * sequence number is odd (the worker is writing) or changed during the copy. A worker stuck
   * mid-write cannot hold the server: after a few tries the copy is taken as it is (a picture a
   * moment out of date is harmless).
   */
  function readShared(withFrames: boolean): { seq: number; numbers: Float64Array; frames: Buffer | null } {
    let seq = 0;
    let nums = new Float64Array(0);
    let bytes: Buffer | null = null;
    for (let tries = 0; tries < 20; tries++) {
      seq = Atomics.load(control, SEQ);
      if (seq & 1) {
        Atomics.wait(control, SEQ, seq, 5);
        continue;
      }
      nums = numbers.slice();
      bytes = withFrames ? Buffer.from(frames) : null;
      if (Atomics.load(control, SEQ) === seq) break;
    }
    return { seq: seq >>> 1, numbers: nums, frames: bytes };
  }

  function state(): ViewerState {
    const s = readShared(false);
    const counters: Record<string, number> = {};
    VIEWER_COUNTERS.forEach((c, i) => (counters[c.key] = s.numbers[2 + i]!));
    const categories: Record<string, number> = {};
    MEMMAP_CATEGORIES.forEach((c, i) => (categories[c.key] = s.numbers[2 + VIEWER_COUNTERS.length + i]!));
    // The worker's log is the lines new with its last update; the state carries the latest lines.
    return { ...status, seq: s.seq, ops: s.numbers[0]!, virtualNs: s.numbers[1]!, counters, categories, log: log.slice(-50) };
  }

  function request(req: WorkerRequestBody): Promise<unknown> {
    if (exited) return Promise.reject(new CliError("EIO", exited.message));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ ...req, id } as WorkerRequest);
    });
  }

  // Events to the pages: at most one per EVENT_MS, the latest state.
  let eventTimer: NodeJS.Timeout | undefined;
  let lastEvent = 0;
  function notify(): void {
    if (eventTimer !== undefined || streams.size === 0) return;
    const wait = Math.max(0, lastEvent + EVENT_MS - performance.now());
    eventTimer = setTimeout(() => {
      eventTimer = undefined;
      lastEvent = performance.now();
      const data = `data: ${JSON.stringify(state())}\n\n`;
      for (const res of streams) res.write(data);
    }, wait);
  }

  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const onMessage = (m: WorkerMessage) => {
    if (m.type === "update") {
      status = m.status;
      addLog(m.status.log);
      notify();
    } else if (m.type === "reply") {
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.ok) p.resolve(m.value);
      else p.reject(new CliError(m.code, m.error));
    }
  };
  const onWorkerGone = (e: Error) => {
    if (exited) return;
    exited = e;
    for (const p of pending.values()) p.reject(new CliError("EIO", e.message));
    pending.clear();
    void close();
  };
  const onError = (e: Error) => onWorkerGone(e);
  const onExit = (code: number) => onWorkerGone(new Error(`the machine's worker thread exited (code ${code})`));
  worker.on("message", onMessage);
  worker.on("error", onError);
  worker.on("exit", onExit);
  const stopListening = () => {
    worker.off("message", onMessage);
    worker.off("error", onError);
    worker.off("exit", onExit);
  };

  const page = viewerPage();
  const infoJson = JSON.stringify({
    ...info,
    layout: { unit: layout.unit, framesPerCell: layout.framesPerCell, cells: layout.cells, columns: layout.columns, rows: layout.rows, cellPx: layout.cellPx },
    categories: MEMMAP_CATEGORIES,
    outlines: Array.from({ length: 11 }, (_, order) => outlineStyle(order, layout.cellPx)),
    counters: VIEWER_COUNTERS,
    injections: INJECTIONS,
  });

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const code = (e as { code?: unknown }).code;
      const status = code === "EINVAL" ? 400 : 500;
      if (!res.headersSent) sendJson(res, status, { error: e instanceof Error ? e.message : String(e) });
      else res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = req.headers.host ?? "";
    if (!allowedHost(host, port)) {
      sendJson(res, 403, { error: `Host ${host} is not this viewer's (${VIEWER_HOST}:${port} or localhost:${port})` });
      return;
    }
    const url = new URL(req.url ?? "/", `http://${VIEWER_HOST}`);
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case "GET /":
      case "GET /index.html":
        res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "content-security-policy": CSP });
        res.end(page);
        return;
      case "GET /api/info":
        res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
        res.end(infoJson);
        return;
      case "GET /api/state":
        sendJson(res, 200, state());
        return;
      case "GET /api/frames": {
        const s = readShared(true);
        res.writeHead(200, { "content-type": "application/octet-stream", "cache-control": "no-store", "x-folio-seq": String(s.seq) });
        res.end(s.frames);
        return;
      }
      case "GET /api/events":
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
        res.write(`retry: 1000\ndata: ${JSON.stringify(state())}\n\n`);
        streams.add(res);
        req.on("close", () => streams.delete(res));
        return;
      case "GET /api/describe": {
        const pfn = Number(url.searchParams.get("pfn") ?? NaN);
        sendJson(res, 200, await request({ type: "describe", pfn }));
        return;
      }
      case "POST /api/control": {
        const body = await readJson(req);
        const action = body["action"];
        if (action !== "pause" && action !== "resume" && action !== "step") throw new CliError("EINVAL", `action ${JSON.stringify(action)} is not pause, resume or step`);
        const count = body["count"];
        if (count !== undefined && typeof count !== "number") throw new CliError("EINVAL", "count must be a number");
        await request({ type: "control", action, ...(count !== undefined ? { count } : {}) });
        sendJson(res, 200, state());
        return;
      }
      case "POST /api/speed": {
        const speed = (await readJson(req))["speed"];
        if (typeof speed !== "number") throw new CliError("EINVAL", "speed must be a number of operations per second (0: as fast as it can)");
        await request({ type: "speed", speed });
        sendJson(res, 200, state());
        return;
      }
      case "POST /api/inject": {
        const body = await readJson(req);
        const kind = body["kind"];
        if (!INJECTIONS.includes(kind as Injection)) throw new CliError("EINVAL", `kind ${JSON.stringify(kind)} is not one of ${INJECTIONS.join(", ")}`);
        const pfn = body["pfn"];
        if (pfn !== undefined && pfn !== null && typeof pfn !== "number") throw new CliError("EINVAL", "pfn must be a frame number");
        const result = await request({ type: "inject", kind: kind as Injection, ...(typeof pfn === "number" ? { pfn } : {}) });
        sendJson(res, 200, { result, state: state() });
        return;
      }
      default:
        if (["/", "/index.html", "/api/info", "/api/state", "/api/frames", "/api/events", "/api/describe", "/api/control", "/api/speed", "/api/inject"].includes(url.pathname)) {
          sendJson(res, 405, { error: `${req.method} is not allowed on ${url.pathname}` });
        } else {
          sendJson(res, 404, { error: `no such page: ${url.pathname}` });
        }
    }
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, VIEWER_HOST, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (e) {
    stopListening();
    await worker.terminate();
    const code = (e as { code?: unknown }).code;
    if (code === "EADDRINUSE") throw new CliError("EADDRINUSE", `port ${options.port} of ${VIEWER_HOST} is in use: choose another with --port, or --port 0 for any free one`);
    if (code === "EACCES") throw new CliError("EACCES", `port ${options.port} of ${VIEWER_HOST} needs privileges: choose one above 1023, or --port 0`);
    throw e;
  }
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= (async () => {
      clearTimeout(eventTimer);
      for (const res of streams) res.end();
      streams.clear();
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      stopListening();
      for (const p of pending.values()) p.reject(new CliError("EIO", "the viewer closed"));
      pending.clear();
      await Promise.all([serverClosed, worker.terminate()]);
      resolveClosed();
    })();
    return closing;
  }

  return { url: `http://${VIEWER_HOST}:${port}/`, port, info, close, closed: closed.then(() => exited) };
}

/** Only scripts and styles of the page itself; no connection anywhere but this server. */
const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:";

/** Whether a Host header names this viewer (a page from elsewhere resolving to 127.0.0.1 does not). */
function allowedHost(host: string, port: number): boolean {
  return host === `${VIEWER_HOST}:${port}` || host === `localhost:${port}`;
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(body);
}

/** Reads a JSON object body; EINVAL (400) without a JSON content type, which a cross-site form cannot send. */
async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  if (!(req.headers["content-type"] ?? "").startsWith("application/json")) throw new CliError("EINVAL", "a POST to the viewer carries JSON (Content-Type: application/json)");
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new CliError("EINVAL", `request body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  let value: unknown;
  try {
    value = text === "" ? {} : JSON.parse(text);
  } catch {
    throw new CliError("EINVAL", "request body is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new CliError("EINVAL", "request body must be a JSON object");
  return value as Record<string, unknown>;
}
