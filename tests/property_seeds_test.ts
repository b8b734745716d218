/**
 * Every fast-check property in the repository runs from a fixed seed, so a
 * failure in CI reproduces on any machine; fast-check prints that seed (and
 * the path to the failing case) when a property fails.
 */
import fc from "fast-check";
import { assert, assertEquals } from "../deps.ts";

const ROOT = new URL("../", import.meta.url);
const SKIP = new Set(["node_modules", "sim-out", ".git", "fixtures"]);
/** The fast-check runners that take a seed in their options. */
const RUNNERS = new Set(["assert", "check", "sample", "statistics"]);

/** Every .ts file under the repository root, as paths relative to it. */
function sources(dir = ROOT, prefix = ""): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    if (SKIP.has(entry.name)) continue;
    if (entry.isDirectory) {
      found.push(...sources(new URL(`${entry.name}/`, dir), `${prefix}${entry.name}/`));
    } else if (entry.name.endsWith(".ts")) {
      found.push(`${prefix}${entry.name}`);
    }
  }
  return found.sort();
}

/** A lint pass that reports each `fc.<runner>(...)` call, and whether its options name a seed. */
const seedScan: Deno.lint.Plugin = {
  name: "seeds",
  rules: {
    calls: {
      create(context) {
        return {
          CallExpression(node) {
            const callee = node.callee;
            if (
              callee.type !== "MemberExpression" || callee.object.type !== "Identifier" ||
              callee.object.name !== "fc" || callee.property.type !== "Identifier" ||
              !RUNNERS.has(callee.property.name)
            ) return;
            const options = node.arguments.at(-1);
            const seeded = node.arguments.length >= 2 && options?.type === "ObjectExpression" &&
              options.properties.some((p) =>
                p.type === "Property" && p.key.type === "Identifier" && p.key.name === "seed"
              );
            context.report({
              node,
              message: `fc.${callee.property.name} ${seeded ? "seeded" : "UNSEEDED"}`,
            });
          },
        };
      },
    },
  },
};

/** The fast-check runner calls in one source text, as "fc.assert seeded" and the like. */
function runnerCalls(file: string, source: string): string[] {
  return Deno.lint.runPlugin(seedScan, file, source).map((d) => d.message);
}

Deno.test("the seed scan tells seeded from unseeded fast-check runs", () => {
  const source = `
    fc.assert(fc.property(fc.nat(), (n) => n >= 0), { numRuns: 10, seed: 4 });
    fc.assert(fc.property(fc.nat(), (n) => n >= 0));
    fc.assert(fc.property(fc.nat(), (n) => n >= 0), { numRuns: 10 });
    fc.assert(fc.property(fc.nat(), (n) => n >= 0), options);
    fc.check(fc.property(fc.nat(), (n) => n >= 0), { seed });
    const s = "fc.assert(in a string)"; // fc.assert(in a comment)
  `;
  assertEquals(runnerCalls("/x/a_test.ts", source), [
    "fc.assert seeded",
    "fc.assert UNSEEDED",
    "fc.assert UNSEEDED",
    "fc.assert UNSEEDED",
    "fc.check seeded",
  ]);
});

Deno.test("every fast-check property in the repository has a fixed seed", () => {
  const unseeded: string[] = [];
  let seeded = 0;
  for (const file of sources()) {
    const source = Deno.readTextFileSync(new URL(file, ROOT));
    if (!source.includes("fast-check")) continue;
    // The scan looks for `fc.<runner>`: fast-check must be imported under that name.
    const imports = [...source.matchAll(/import\s+(.+?)\s+from\s+["'](npm:)?fast-check[@"'\/]/g)];
    for (const [, clause] of imports) {
      assert(/^(fc|\* as fc)$/.test(clause), `${file} imports fast-check as "${clause}", not fc`);
    }
    for (const call of runnerCalls(file, source)) {
      if (call.endsWith("UNSEEDED")) unseeded.push(`${file}: ${call}`);
      else seeded++;
    }
  }
  assertEquals(unseeded, [], "fast-check runs without a fixed { seed } in their options");
  // The repository's property tests (copying, rng, dpor, replay, shrink, determinism) are found.
  assert(seeded >= 9, `only ${seeded} seeded fast-check runs found: is the scan blind?`);
});

Deno.test("a failing property prints its seed, so the failure can be rerun", () => {
  let message = "";
  try {
    fc.assert(fc.property(fc.nat(), (n) => n < 5), { seed: 424242 });
  } catch (e) {
    message = String(e);
  }
  assert(/seed: 424242\b/.test(message), message);
});
