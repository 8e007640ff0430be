/**
 * Registers the test-only module hook (loader.ts) in every AVA worker of this package (see
 * "nodeArguments" in package.json). Nothing in production code changes: the hook rewrites two
 * compiled modules as they load so a test can plant a bug in them.
 */
import { register } from "node:module";

register("./loader.js", import.meta.url);
