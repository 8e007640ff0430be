import test from "ava";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const script = (name: string) => fileURLToPath(new URL(`../src/${name}.js`, import.meta.url));

function runCli(name: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [script(name), ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

for (const name of ["run", "soak"]) {
  test(`${name}.js: a bad argument is one line naming it, the usage, exit 2`, (t) => {
    for (const [args, message] of [
      [["--fs", "nope"], 'unknown filesystem "nope"'],
      [["--policy", "mru"], 'unknown eviction policy "mru"'],
      [["--max-order", "10"], "--max-order 10 is not an order"],
      [["--faults", "bogus=1"], 'unknown fault rate "bogus"'],
      [["--ops", "x"], "--ops x is not a number"],
      [["--nope"], "unknown option --nope"],
    ] as const) {
      const r = runCli(name, [...args]);
      t.is(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
      const [first, second] = r.stderr.split("\n");
      t.true(first!.startsWith("error: "), `${args.join(" ")}: ${first}`);
      t.true(first!.includes(message), `${args.join(" ")}: ${first}`);
      t.true(second!.startsWith(`usage: ${name}.js`), `${args.join(" ")}: ${second}`);
      t.false(r.stderr.includes("    at "), "no stack trace");
    }
  });

  test(`${name}.js --help prints the usage and exits 0`, (t) => {
    const r = runCli(name, ["--help"]);
    t.is(r.status, 0);
    t.true(r.stdout.startsWith(`usage: ${name}.js`));
  });
}
