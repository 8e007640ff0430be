/**
 * The daemon process: `node daemon-main.js '<MountConfig as JSON>'`, started by {@link mountFolio}
 * with an IPC channel. It mounts, tells its parent `{ ready: true }` (or `{ error }`) and
 * disconnects; then it serves until SIGINT/SIGTERM/SIGHUP or an unmount from outside, writes
 * everything back, and exits 0 (1 when writing back failed).
 */
import type { MountConfig } from "./daemon.js";
import { runDaemonProcess } from "./cli.js";

const config = JSON.parse(process.argv[2] ?? "{}") as MountConfig;
await runDaemonProcess(config, (msg) => {
  if (process.send === undefined) return;
  process.send(msg);
  process.disconnect();
});
