/**
 * Parsing option values the way core does, for the actions (the command definitions keep sizes
 * as strings so that they load nothing of Folio).
 */
import { parseSize } from "@folio/core";
import { usage } from "./errors.js";

/** Parses a size option ("64MiB", "4k", bytes) with core's rules; EINVAL naming the option otherwise. */
export function sizeOption(value: string, option: string): number {
  try {
    return parseSize(value, option);
  } catch {
    usage(`${option} "${value}" is not a size (try 64MiB, 1GiB or a number of bytes)`);
  }
}
