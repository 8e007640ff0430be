/**
 * Options shared by the commands, as commander parses them. This module and the command
 * definitions import nothing of Folio: sizes stay strings until an action parses them with core's
 * `parseSize`, and names are checked against the registries when the machine is built, so
 * `folio --help` and a mistyped command line answer without loading the simulator.
 */
import { InvalidArgumentError, Option, type Command } from "commander";

/** Filesystems the CLI formats: their registered type names. */
export const FILESYSTEMS = ["simple", "log"] as const;
/** A filesystem the CLI formats. */
export type FsName = (typeof FILESYSTEMS)[number];
/** Eviction policies named in the help (the registry decides what is accepted). */
export const POLICY_HELP = "linux, lru, fifo, clock, sieve, arc, s3fifo";
/** Device models named in the help (DEVICE_MODELS decides what is accepted). */
export const DEVICE_HELP = "instant, nvme, ssd, hdd";

/** Parses a whole number argument for commander (decimal, or hex with 0x). */
export function intArg(value: string): number {
  const n = /^\s*(0x[0-9a-f]+|\d+)\s*$/i.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`"${value}" is not a whole number.`);
  return n;
}

/** The options {@link machineOptions} adds, as commander leaves them (sizes unparsed). */
export interface MachineOpts {
  memory: string;
  fs: FsName;
  policy: string;
  seed: number;
  disk?: string;
  device: string;
  swap?: string;
  hugepages: number;
}

/** Adds the options that choose a machine: memory, filesystem, policy, seed, disk, device, swap, huge pages. */
export function machineOptions(cmd: Command): Command {
  return cmd
    .option("-m, --memory <size>", "physical memory of the machine", "64MiB")
    .addOption(new Option("--fs <type>", "filesystem on its disk").choices(FILESYSTEMS).default("simple"))
    .option("--policy <name>", `eviction policy: ${POLICY_HELP}`, "linux")
    .option("--seed <n>", "seed of every random choice", intArg, 1)
    .option("--disk <size>", "size of its disk (default: twice the memory, at least 64MiB)")
    .option("--device <model>", `disk timing model: ${DEVICE_HELP}`, "nvme")
    .option("--swap <size>", "swap space (default none)")
    .option("--hugepages <n>", "huge pages in the hugetlb pool at boot", intArg, 0);
}

/** Adds `--workload`. */
export function workloadOption(cmd: Command): Command {
  return cmd.option("-w, --workload <name-or-file>", "run a workload first: a built-in (folio workloads), a JSON script or a recorded trace");
}

/** Adds `--json`. */
export function jsonOption(cmd: Command): Command {
  return cmd.option("--json", "print the report as JSON");
}

/** The command an action runs for: commander passes the declared arguments first and the command last. */
export function commandOf(args: readonly unknown[]): Command {
  return args[args.length - 1] as Command;
}
