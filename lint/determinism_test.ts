import { assertEquals } from "../deps.ts";
import plugin from "./determinism.ts";

const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);

const lint = (file: string, source: string): string[] =>
  Deno.lint.runPlugin(plugin, file, source).map((d) => d.message.split(" on a simulated")[0]);

/** Each diagnostic as "line: message", in source order. */
function lintLines(file: string, source: string): string[] {
  const lineOf = (offset: number): number => source.slice(0, offset).split("\n").length;
  return Deno.lint.runPlugin(plugin, file, source)
    .map((d) => ({ line: lineOf(d.range[0]), what: d.message.split(" on a simulated")[0] }))
    .sort((a, b) => a.line - b.line || a.what.localeCompare(b.what))
    .map((d) => `${d.line}: ${d.what}`);
}

/** What the fixture's `// expect: a, b` comments ask for, as "line: message". */
function expectedLines(source: string): string[] {
  return source.split("\n").flatMap((text, i) => {
    const found = /\/\/ expect: (.+)$/.exec(text);
    if (!found) return [];
    return found[1].split(", ").sort((a, b) => a.localeCompare(b)).map((what) =>
      `${i + 1}: ${what}`
    );
  });
}

const fixture = (name: string): string =>
  Deno.readTextFileSync(new URL(`./fixtures/${name}`, import.meta.url));

Deno.test("the determinism rule flags real time, randomness and Promises under sim/", () => {
  const source = `
    const a = Math.random();
    const b = Date.now();
    const c = performance.now();
    const d = new Date();
    setTimeout(() => {}, 1);
    async function f() { await g(); }
    const p = Promise.resolve(1);
    const e = Deno.env.get("X");
  `;
  assertEquals(lint("/repo/sim/kernel.ts", source), [
    "Math.random",
    "Date.now",
    "performance.now",
    "new Date()",
    "setTimeout",
    "an async function",
    "await",
    "Promise",
    "Deno.env",
  ]);
});

Deno.test("the determinism rule catches every evasion in lint/fixtures/evasions.ts, each on its line", () => {
  const source = fixture("evasions.ts");
  const expected = expectedLines(source);
  assertEquals(expected.length >= 35, true, "the fixture lost its expectations");
  assertEquals(lintLines(`${ROOT}scenarios/evasions.ts`, source), expected);
});

Deno.test("the determinism rule passes lint/fixtures/clean.ts, ordinary simulated code", () => {
  const source = fixture("clean.ts");
  assertEquals(lintLines(`${ROOT}sim/clean.ts`, source), []);
  assertEquals(lintLines(`${ROOT}scenarios/clean.ts`, source), []);
});

Deno.test("the determinism rule covers sim/, runtime/ and scenarios/ at any depth, not tests", () => {
  const source = "const a = Math.random();";
  for (
    const file of [
      "sim/kernel.ts",
      "sim/search/deep/dpor.ts",
      "runtime/heap.ts",
      "runtime/gc/copying.ts",
      "scenarios/gc_copying.ts",
      "scenarios/contrib/my_scenario.ts",
    ]
  ) {
    assertEquals(lint(`${ROOT}${file}`, source), ["Math.random"], file);
  }
  for (
    const file of [
      "cli.ts",
      "cli/run.ts",
      "reports/html.ts",
      "sim/kernel_test.ts",
      "scenarios/gc_copying_test.ts",
      "bench/sim_bench.ts",
      "tests/simulation_helpers.ts",
    ]
  ) {
    assertEquals(lint(`${ROOT}${file}`, source), [], file);
  }
  // Outside this checkout the folder names decide; inside, only the path below the root does.
  assertEquals(lint("/elsewhere/runtime/x.ts", source), ["Math.random"]);
});

Deno.test("the determinism rule leaves ordinary code alone", () => {
  const source = "const r = rng.below(4); const m = Math.max(1, 2); function* g() { yield 1; }";
  assertEquals(lint("/repo/sim/kernel.ts", source), []);
});
