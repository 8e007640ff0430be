/**
 * @folio/fuse: a Folio filesystem mounted on the host through FUSE. A TypeScript implementation of
 * the FUSE kernel protocol over /dev/fuse (protocol, channel, server), the FUSE operations over a
 * Folio VFS (vfs-ops), the mount daemon, and the `mount`/`umount` commands. See docs/FUSE.md.
 *
 * @module @folio/fuse
 */
export * from "./protocol.js";
export * from "./channel.js";
export * from "./server.js";
export * from "./vfs-ops.js";
export * from "./daemon.js";
export * from "./runtime.js";
export * from "./cli.js";
export { registerMountCommands } from "./commands.js";
