import { POLICY_NAMES } from "@folio/policies";
import { type FaultRates, parseFaults } from "./faults.js";

/**
 * Command-line parsing shared by run.js and soak.js: `--name value`, `--name=value` and flags,
 * then `interpret` turns them into the command's options (and may throw for a bad value: an
 * unknown filesystem, a bad fault rate). `--help` prints `usage` and exits 0; a bad argument prints
 * one line naming it, then `usage`, and exits 2 — a person typing a command wants the mistake, not
 * a stack trace.
 */
export function parseArgs<T>(argv: string[], known: Record<string, "string" | "number" | "flag">, usage: string, interpret: (args: Record<string, string | number | boolean>) => T): T {
  try {
    return interpret(parseOrThrow(argv, known));
  } catch (e) {
    if (e instanceof HelpRequested) {
      console.log(usage);
      process.exit(0);
    }
    console.error(`error: ${(e as Error).message}\n${usage}`);
    process.exit(2);
  }
}

class HelpRequested extends Error {}

function parseOrThrow(argv: string[], known: Record<string, "string" | "number" | "flag">): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--help" || a === "-h") throw new HelpRequested();
    if (!a.startsWith("--")) throw new Error(`unexpected argument ${a}`);
    const [key, inline] = a.slice(2).split("=", 2) as [string, string | undefined];
    const kind = known[key];
    if (!kind) throw new Error(`unknown option --${key} (known: ${Object.keys(known).map((k) => `--${k}`).join(", ")})`);
    if (kind === "flag") {
      out[key] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${key} needs a value`);
    if (kind === "number") {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new Error(`--${key} ${value} is not a number`);
      out[key] = n;
    } else out[key] = value;
  }
  return out;
}

/** The options the two commands share, checked: an unknown filesystem, policy or order is an error here, not a stack trace later. */
export function commonOptions(args: Record<string, string | number | boolean>, defaultOps: number): { seed: number; ops: number; faults: FaultRates; policy?: string; maxOrder?: number; pressure: boolean } {
  const policy = args["policy"] === undefined ? undefined : String(args["policy"]);
  if (policy !== undefined && !POLICY_NAMES.includes(policy)) throw new Error(`unknown eviction policy "${policy}" (known: ${POLICY_NAMES.join(", ")})`);
  const maxOrder = args["max-order"] === undefined ? undefined : Number(args["max-order"]);
  if (maxOrder !== undefined && !(Number.isInteger(maxOrder) && maxOrder >= 0 && maxOrder <= 9)) throw new Error(`--max-order ${maxOrder} is not an order from 0 to 9`);
  const seed = Number(args["seed"] ?? 1);
  const ops = Number(args["ops"] ?? defaultOps);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed ${seed} is not a non-negative integer`);
  if (!Number.isInteger(ops) || ops < 1) throw new Error(`--ops ${ops} is not a positive integer`);
  return {
    seed,
    ops,
    faults: parseFaults(String(args["faults"] ?? "default")),
    ...(policy !== undefined ? { policy } : {}),
    ...(maxOrder !== undefined ? { maxOrder } : {}),
    pressure: Boolean(args["pressure"]),
  };
}
