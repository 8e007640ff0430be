/** Command-line parsing shared by run.js and soak.js. */
export function parseArgs(argv: string[], known: Record<string, "string" | "number" | "flag">): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
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
