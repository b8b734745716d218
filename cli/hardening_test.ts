// Untrusted input: trace files that name code, and limits on every size.
import { assert, assertEquals, assertMatch } from "../deps.ts";
import { main } from "../cli.ts";
import { captured, type Ran } from "../tests/_io.ts";
import { replayStored } from "./regress.ts";

const sim = (args: string[]): Promise<Ran> => captured(main, args);

const tmp = await Deno.makeTempDir({ prefix: "sim-hardening-test-" });
const SPIN = "tests/fixtures/spin_scenario.ts";
const STORED = "regress/traces/lost-update.racy.no-lost-update.60c8dbe1.json";

function oneLineError(r: Ran, pattern: RegExp, what: string): void {
  assertEquals(r.code, 2, `${what}: exit ${r.code}, ${r.err.join(" | ")}`);
  assertEquals(r.err.length, 1, what);
  assertMatch(r.err[0], pattern);
  assert(!r.err[0].includes("\n") && !r.err[0].includes("    at "), r.err[0]);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("a trace recorded against a scenario file replays only with --scenario FILE", async () => {
  const out = `${tmp}/spin`;
  const r = await sim(["--scenario", SPIN, "--no-shrink", "--out", out]);
  assertEquals(r.code, 0, r.out.join("\n"));
  const file = r.out.find((l) => l.includes("replay: "))!.split("--replay ")[1];
  assertEquals(JSON.parse(await Deno.readTextFile(file)).source, SPIN);
  for (const flag of ["--replay", "--shrink"]) {
    const without = await sim([flag, file]);
    oneLineError(
      without,
      new RegExp(
        `recorded against the scenario file "${SPIN}".* run: deno task sim ${flag} ` +
          `${file} --scenario ${SPIN}$`,
      ),
      flag,
    );
  }
  const replayed = await sim(["--replay", file, "--scenario", SPIN]);
  assertEquals(replayed.code, 0, replayed.err.join("\n"));
  assertMatch(replayed.out.at(-1)!, /^reproduced: step-limit/);
  const shrunk = await sim(["--shrink", file, "--scenario", SPIN]);
  assertEquals(shrunk.code, 0, shrunk.err.join("\n"));
  const stored = await replayStored(out);
  assertEquals(stored.length, 2); // the trace and its shrunk trace
  for (const s of stored) {
    assert(!s.ok);
    assertMatch(s.result, new RegExp(`file.*run: deno task regress --scenario ${SPIN}$`));
  }
  const trusted = await replayStored(out, [SPIN]);
  assertEquals(trusted.map((s) => [s.ok, s.result]), [
    [true, "reproduced step-limit (step-limit)"],
    [true, "reproduced step-limit (step-limit)"],
  ]);
});

Deno.test("a trace never runs the code it names: not a file, not a data: or file: URL", async () => {
  const dir = `${tmp}/evil`;
  await Deno.mkdir(dir, { recursive: true });
  const marker = `${dir}/marker`;
  const code = `Deno.writeTextFileSync(${JSON.stringify(marker)}, "ran"); export default {};`;
  const evil = `${dir}/evil.ts`;
  await Deno.writeTextFile(evil, code);
  const dataUrl = `data:application/typescript,${encodeURIComponent(code)}`;
  const base = JSON.parse(await Deno.readTextFile(STORED));
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["source: a path", { source: evil }, /recorded against the scenario file/],
    ["source: a data: URL", { source: dataUrl }, /URLs are never imported/],
    ["source: a file: URL", { source: `file://${evil}` }, /URLs are never imported/],
    ["scenario: a path", { scenario: evil }, /not in the catalog; name its file with --scenario/],
    ["scenario: a data: URL", { scenario: dataUrl }, /not in the catalog/],
  ];
  const traces = `${dir}/traces`;
  await Deno.mkdir(traces);
  for (const [i, [what, change, pattern]] of cases.entries()) {
    const file = `${traces}/t${i}.json`;
    await Deno.writeTextFile(file, JSON.stringify({ ...base, ...change }));
    oneLineError(await sim(["--replay", file]), pattern, `--replay, ${what}`);
    oneLineError(await sim(["--shrink", file]), pattern, `--shrink, ${what}`);
    assert(!await exists(marker), `${what}: the named code ran`);
  }
  const stored = await replayStored(traces);
  assertEquals(stored.map((s) => s.ok), cases.map(() => false));
  for (const [i, s] of stored.entries()) assertMatch(s.result, cases[i][2]);
  for (const ref of [dataUrl, `file://${evil}`, `http://127.0.0.1:1/x.ts`]) {
    oneLineError(await sim(["--scenario", ref]), /URLs are never imported/, ref);
  }
  assert(!await exists(marker), "regress or --scenario URL ran the named code");
  // The check above can fail: this code does write the marker when it runs.
  await import(`file://${evil}`);
  assert(await exists(marker));
});

Deno.test("every size on the command line has a limit: one line, exit 2", async () => {
  const hardware = Math.max(1, navigator.hardwareConcurrency || 1);
  const cases: [string[], RegExp][] = [
    [["--cores", "1000000000"], /^error: bad --cores 1000000000: at most 1024$/],
    [["--workers", "1000"], new RegExp(`bad --workers 1000: at most ${4 * hardware} \\(4 per`)],
    [["--depth", "100000000"], /^error: bad --depth 100000000: at most 1000$/],
    [["--runs", "10000000000"], /^error: bad --runs 10000000000: at most 1000000000$/],
    [["--max-steps", "100000000"], /^error: bad --max-steps 100000000: at most 20000000$/],
    [["--pct-steps", "100000000"], /^error: bad --pct-steps 100000000: at most 20000000$/],
    [["--preemptions", "100000000"], /^error: bad --preemptions 100000000: at most 20000000$/],
    [["--delays", "100000000"], /^error: bad --delays 100000000: at most 20000000$/],
    [["--cores", "1e3"], /bad --cores "1e3": need an integer >= 0/],
    [["--seed", "1234567890123456"], /bad --seed "1234567890123456": a seed is an integer from 0/],
    [["--seed", "1.5"], /bad --seed "1.5": a seed is an integer from 0 to 999999999999999, or a/],
    [["--seed", "1e9"], /bad --seed "1e9"/],
    [["--seed=-3"], /bad --seed "-3"/],
    [
      ["--scenario", "clock-sync", "--param", "clients=32", "--param", "rounds=100000"],
      /clock-sync's step limit with these parameters is 64001000: at most 20000000; give/,
    ],
  ];
  for (const [args, pattern] of cases) oneLineError(await sim(args), pattern, args.join(" "));
  // The largest accepted seed, and a word, still work.
  assertEquals((await sim(["--seed", "999999999999999", "--list"])).code, 0);
  assertEquals((await sim(["--seed", "nightly", "--list"])).code, 0);
});

Deno.test("every size in a trace has a limit, checked before allocating: one line, exit 2", async () => {
  const dir = `${tmp}/limits`;
  await Deno.mkdir(dir, { recursive: true });
  const base = JSON.parse(await Deno.readTextFile(STORED));
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["1*200000000", { decisions: "1*200000000" }, /decisions: more than 50000000 decisions/],
    ["a decision of 2^32", { decisions: "0,4294967296" }, /expected a decision below 2\^32/],
    ["a repeat of 0", { decisions: "0,1*0" }, /expected a repeat count >= 1/],
    ["a stray character", { decisions: "0,1;2" }, /malformed decision list at character 3/],
    ["cores 1e9", { cores: 1e9 }, /cores: Too big: expected number to be <=1024/],
    ["stepsMax 1e9", { stepsMax: 1e9 }, /stepsMax: Too big: expected number to be <=20000000/],
    [
      "a long variant",
      { variant: "v".repeat(1e6) },
      /variant: Too big: expected string to have <=200/,
    ],
    [
      "a fiber that does not exist",
      { decisions: "0,7,1" },
      /expects fiber 7, which does not|cannot shrink: the trace does not reproduce/,
    ],
  ];
  for (const [what, change, pattern] of cases) {
    const file = `${dir}/${what.replace(/\W/g, "_")}.json`;
    const text = JSON.stringify({ ...base, ...change });
    await Deno.writeTextFile(file, text);
    oneLineError(await sim(["--replay", file]), pattern, `--replay ${what}`);
    oneLineError(await sim(["--shrink", file]), pattern, `--shrink ${what}`);
  }
  assertEquals((await Deno.stat(`${dir}/1_200000000.json`)).size < 400, true);
  // Millions of nested brackets would keep JSON.parse busy for many seconds.
  const deep = `${dir}/deep.json`;
  const nested = "[".repeat(1_000_000) + "]".repeat(1_000_000);
  await Deno.writeTextFile(
    deep,
    JSON.stringify(base).replace('"params":{', `"params":{"x":${nested},`),
  );
  oneLineError(
    await sim(["--replay", deep]),
    /not a valid trace: nested deeper than 32 levels/,
    "deep",
  );
  const stored = await replayStored(dir);
  assertEquals(stored.filter((s) => s.ok), []);
  // A trace file past the size limit is refused before it is read: a sparse
  // file, so the test writes nothing.
  const huge = `${dir}/huge.json`;
  const f = await Deno.open(huge, { create: true, write: true });
  await f.truncate(64 * 1024 * 1024 + 1);
  f.close();
  const big = /cannot read trace .*huge\.json: larger than the limit of 67108864 bytes/;
  oneLineError(await sim(["--replay", huge]), big, "--replay huge");
  oneLineError(await sim(["--shrink", huge]), big, "--shrink huge");
  if (await exists("/dev/zero")) {
    oneLineError(await sim(["--replay", "/dev/zero"]), /not a regular file/, "/dev/zero");
  }
});

Deno.test("a 10,000,000-step trace replays, and regress replays it", async () => {
  const steps = 10_000_000;
  const dir = `${tmp}/long`;
  await Deno.mkdir(dir, { recursive: true });
  const file = `${dir}/spin.json`;
  // Fibers 0 and 1 alternate: 10,000,000 decisions that no run-length code
  // shortens, the list that overflowed the old regex.
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      format: 1,
      tool: "simtest 0.1.0",
      scenario: "spin",
      source: SPIN,
      variant: "forever",
      params: {},
      cores: 0,
      stepsMax: steps,
      strategy: { name: "random" },
      seed: 1,
      decisions: "0,1,".repeat(steps / 2).slice(0, -1),
      outcome: {
        verdict: "step-limit",
        check: "step-limit",
        message: `${steps} steps taken and still running: a spin loop or an unfair schedule?`,
        step: steps,
        fiber: null,
      },
    }),
  );
  const r = await sim(["--replay", file, "--scenario", SPIN]);
  assertEquals(r.code, 0, r.err.join("\n"));
  assertMatch(r.out.at(-1)!, /^reproduced: step-limit \(step-limit\) at step 10000000/);
  const stored = await replayStored(dir, [SPIN]);
  assertEquals(stored.map((s) => s.ok), [true]);
});

Deno.test("the report of a run over 10,000 steps leaves out state and source lines, and says so", async () => {
  const out = `${tmp}/long-report`;
  const r = await sim(["--scenario", SPIN, "--max-steps", "10001", "--no-shrink", "--out", out]);
  assertEquals(r.code, 0, r.out.join("\n"));
  const text = r.out.join("\n");
  assertMatch(
    text,
    /report without state or source lines: the run has 10001 steps, over 10000 \(deno task sim --replay FILE --at STEP shows one step's\)/,
  );
  const html = [...Deno.readDirSync(out)].find((e) => e.name.endsWith(".html"));
  assert(html !== undefined, "no report written");
  // At the limit, the report keeps them.
  const at = await sim(["--scenario", SPIN, "--max-steps", "10000", "--no-shrink", "--out", out]);
  assert(!at.out.join("\n").includes("report without state"), at.out.join("\n"));
});
