/**
 * A scenario file may import another copy of `mod.ts` (another checkout, a
 * vendored copy): its violations must still be bugs and its operations still
 * operations, so the kernel recognises both by a registered-symbol brand.
 */
import { assertEquals, assertMatch } from "../deps.ts";
import { main } from "../cli.ts";
import { captured } from "./_io.ts";

const root = new URL("../", import.meta.url).pathname;

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyTree(`${from}/${e.name}`, `${to}/${e.name}`);
    else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
      await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
    }
  }
}

const SCENARIO = `
import { defineScenario, type Kernel, Mutex, Violation, z } from "./mod.ts";

function* worker(k: Kernel, m: Mutex, where: string) {
  yield* m.lock();
  yield* k.pause();
  yield* m.unlock();
  if (where === "fiber") throw new Violation("copied-check", "a violation from the copy");
}

export default defineScenario({
  name: "copied",
  description: "imports a copy of mod.ts",
  params: z.object({ where: z.string().default("fiber") }),
  variants: {
    v: { description: "", expect: { verdict: "bug", budget: { strategy: "random", runs: 5 } } },
  },
  setup(k, { where }) {
    if (where === "setup") throw new Violation("copied-check", "a violation in setup");
    const m = new Mutex(k, "m");
    k.spawn("w", worker, k, m, where);
    k.invariant("copied-check", () => {
      if (where === "invariant") throw new Violation("copied-check", "a violation in a check");
      return true;
    });
  },
});
`;

Deno.test("violations and operations from a copied mod.ts are recognised by their brand", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sim-brand-test-" });
  try {
    // Every folder of sources mod.ts may reach, and the top-level files.
    const skip = new Set([
      "tests",
      "bench",
      "lint",
      "node_modules",
      "sim-out",
      "deploy",
      "regress",
    ]);
    for await (const e of Deno.readDir(root)) {
      if (e.isDirectory && !skip.has(e.name) && !e.name.startsWith(".")) {
        await copyTree(`${root}${e.name}`, `${dir}/${e.name}`);
      } else if (e.isFile && /\.(ts|json)$/.test(e.name)) {
        await Deno.copyFile(`${root}${e.name}`, `${dir}/${e.name}`);
      }
    }
    await Deno.writeTextFile(`${dir}/copied.ts`, SCENARIO);
    for (const where of ["fiber", "invariant", "setup"]) {
      const r = await captured(main, [
        "--scenario",
        `${dir}/copied.ts`,
        "--param",
        `where=${where}`,
        "--no-shrink",
        "--out",
        `${dir}/out`,
      ]);
      const text = r.out.join("\n") + r.err.join("\n");
      assertEquals(r.code, 0, text);
      assertMatch(text, /copied\/v: bug \(copied-check\) at step \d+/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
