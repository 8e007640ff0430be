/**
 * What serve does (see commands/serve.ts for its options): starts the live viewer, prints its
 * address, and runs until SIGINT or SIGTERM, then closes it (the worker stops, the port is freed).
 */
import { formatSize } from "@folio/core";
import { CliError, usage } from "../errors.js";
import type { ServeOpts } from "../commands/serve.js";
import { println } from "../output.js";
import { startViewer } from "../serve/server.js";
import { resolveSessionOptions } from "../session.js";
import { sessionOptions } from "./prepare.js";

/** serve: runs until interrupted. */
export async function serveCommand(o: ServeOpts): Promise<void> {
  if (o.port < 0 || o.port > 65535) usage(`--port ${o.port} is not a TCP port (0 … 65535; 0 for any free one)`);
  if (o.speed < 0) usage(`--speed ${o.speed} must be 0 (as fast as it can) or more operations per second`);
  const session = resolveSessionOptions(sessionOptions(o));
  const viewer = await startViewer({ session, workload: o.workload === "none" ? null : o.workload, port: o.port, paused: o.paused === true, speed: o.speed });
  if (o.json) println(JSON.stringify({ url: viewer.url, port: viewer.port, frames: viewer.info.frames }));
  else {
    const w = viewer.info.workload;
    println(`folio: the memory of a ${formatSize(session.memory)} machine${w ? ` running ${w.name}` : ""} at ${viewer.url} (Ctrl-C stops)`);
  }
  const stop = () => void viewer.close();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const error = await viewer.closed;
  process.off("SIGINT", stop);
  process.off("SIGTERM", stop);
  if (error) throw new CliError("EIO", `the machine stopped: ${error.message}`);
}
