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
    assertMatch(s.result, /recorded against the scenario file/);
  }
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
