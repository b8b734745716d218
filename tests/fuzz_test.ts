/**
 * Fuzzing the command line: fast-check generates command lines and trace
 * files (valid ones mutated, and garbage). Whatever it makes, the command
 * exits 0, 1 or 2 with no stack trace. Most cases run in this process; a few
 * run as subprocesses under a heap cap and a time limit.
 */
import fc from "fast-check";
import { assert } from "../deps.ts";
import { main } from "../cli.ts";
import { captured, type Ran } from "./_io.ts";

const tmp = await Deno.makeTempDir({ prefix: "sim-fuzz-test-" });
const SEED = 1105;

const pick = (...xs: string[]) => fc.constantFrom(...xs);
const flag = fc.oneof(
  fc.tuple(fc.constant("--seed"), pick("1", "42", "abc", "-1", "1.5", "12345678901234567", "")),
  fc.tuple(
    fc.constant("--scenario"),
    pick(
      "lost-update",
      "lock-order",
      "nope",
      "tests/fixtures/my_scenario.ts",
      "tests/fixtures/not_a_scenario.ts",
      "/nonexistent/x.ts",
      "data:text/javascript,export default 1",
    ),
  ),
  fc.tuple(fc.constant("--variant"), pick("racy", "locked", "opposite", "fixed", "x")),
  fc.tuple(fc.constant("--param"), pick("fibers=3", "fibers=-1", "fibers=abc", "nope=1", "=", "x")),
  fc.tuple(fc.constant("--cores"), pick("0", "1", "2", "1000000000", "-1", "x")),
  fc.tuple(fc.constant("--strategy"), pick("random", "pct", "dfs", "dpor", "portfolio", "x")),
  fc.tuple(fc.constant("--depth"), pick("1", "3", "100000000", "0")),
  fc.tuple(fc.constant("--pct-steps"), pick("1", "10", "0", "99999999999")),
  fc.tuple(fc.constant("--preemptions"), pick("0", "1", "-1")),
  fc.tuple(fc.constant("--runs"), pick("1", "3", "20", "0", "-5", "x")),
  fc.tuple(fc.constant("--max-steps"), pick("1", "5", "100", "0", "x")),
  fc.tuple(fc.constant("--shard"), pick("0/2", "1/2", "3/2", "x")),
  fc.tuple(fc.constant("--jsonl"), pick("all", "failures", "x")),
  fc.tuple(fc.constant("--traces-max"), pick("1", "0", "x")),
  fc.tuple(fc.constant("--workers"), pick("1", "0", "x")),
  fc.tuple(fc.constant("--step-timeout"), pick("0", "0.5", "10", "-1", "1e9", "x")),
  fc.tuple(fc.constant("--heap-max"), pick("64", "1", "99999999", "x")),
  pick("--iterative", "--keep-going", "--no-shrink", "--json", "--list", "--help", "--bogus")
    .map((f) => [f]),
  pick("--check-determinism", "-x", "positional").map((f) => [f]),
  fc.string({ maxLength: 12 }).map((s) => [s]),
);

function clean(r: Ran): string | null {
  if (![0, 1, 2].includes(r.code)) return `exit ${r.code}`;
  const trace = [...r.out, ...r.err].find((l) => /^\s+at\s|Uncaught|\n\s+at\s/.test(l));
  return trace === undefined ? null : `a stack trace: ${trace}`;
}

async function run(args: string[]): Promise<Ran> {
  try {
    return await captured(main, args);
  } catch (e) {
    // The command threw: the user would see a stack trace.
    throw new Error(`sim ${JSON.stringify(args)} threw: ${(e as Error).stack}`);
  }
}

Deno.test("fuzzed command lines exit 0, 1 or 2 with no stack trace", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(flag, { maxLength: 6 }), async (flags) => {
      // A scenario and a small budget come first; generated flags may override them.
      const args = ["--scenario", "lost-update", "--runs", "5", "--out", `${tmp}/cli`];
      const r = await run([...args, ...flags.flat()]);
      const problem = clean(r);
      assert(problem === null, `${JSON.stringify(flags.flat())}: ${problem}`);
    }),
    { numRuns: 150, seed: SEED },
  );
});

const base = JSON.parse(
  await Deno.readTextFile("regress/traces/lost-update.racy.no-lost-update.60c8dbe1.json"),
);
const FIELDS = Object.keys(base);

/** Trace files: a valid one with a field replaced, cut short, spliced, or garbage. */
const traceText = fc.oneof(
  fc.tuple(fc.constantFrom(...FIELDS), fc.jsonValue({ maxDepth: 2 })).map(([k, v]) =>
    JSON.stringify({ ...base, [k]: v })
  ),
  fc.tuple(
    fc.constantFrom("params", "strategy", "outcome"),
    fc.string({ maxLength: 8 }),
    fc.jsonValue({ maxDepth: 1 }),
  ).map(([k, key, v]) => JSON.stringify({ ...base, [k]: { ...base[k], [key]: v } })),
  pick("0*200000000", "1*4294967296", "0,".repeat(2000) + "0", "4294967296", "-1", "0**1", "")
    .map((d) => JSON.stringify({ ...base, decisions: d })),
  fc.nat({ max: 400 }).map((n) => JSON.stringify(base, null, 2).slice(0, n)),
  fc.tuple(fc.nat({ max: 400 }), fc.string({ maxLength: 6 })).map(([n, s]) => {
    const t = JSON.stringify(base, null, 2);
    return t.slice(0, n) + s + t.slice(n);
  }),
  fc.string({ maxLength: 60 }),
);

Deno.test("fuzzed trace files replay or shrink with exit 0, 1 or 2 and no stack trace", async () => {
  let i = 0;
  await fc.assert(
    fc.asyncProperty(
      traceText,
      fc.constantFrom("--replay", "--replay", "--replay", "--shrink"),
      fc.constantFrom([], ["--scenario", "lost-update"], ["--json"]),
      async (text, command, extra) => {
        const file = `${tmp}/trace-${i++}.json`;
        await Deno.writeTextFile(file, text);
        const r = await run([command, file, ...extra]);
        const problem = clean(r);
        assert(problem === null, `${command} of ${JSON.stringify(text)}: ${problem}`);
      },
    ),
    { numRuns: 200, seed: SEED },
  );
});

Deno.test("fuzzed subprocess runs stay inside a heap cap and a time limit", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(flag, { maxLength: 4 }), async (flags) => {
      const args = [
        "run",
        "--v8-flags=--max-old-space-size=160",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "cli.ts",
        "--scenario",
        "lock-order",
        "--runs",
        "5",
        "--out",
        `${tmp}/sub`,
        ...flags.flat(),
      ];
      const r = await new Deno.Command(Deno.execPath(), {
        args,
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).output();
      const text = new TextDecoder().decode(r.stderr) + new TextDecoder().decode(r.stdout);
      assert(
        [0, 1, 2].includes(r.code),
        `${JSON.stringify(flags.flat())}: exit ${r.code}\n${text}`,
      );
      assert(!/^\s+at\s/m.test(text), `${JSON.stringify(flags.flat())}: a stack trace\n${text}`);
    }),
    { numRuns: 4, seed: SEED },
  );
});
