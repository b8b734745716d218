import { assertEquals } from "../deps.ts";
import plugin from "./determinism.ts";

const lint = (file: string, source: string): string[] =>
  Deno.lint.runPlugin(plugin, file, source).map((d) => d.message.split(" on ")[0]);

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
    "setTimeout()",
    "an async function",
    "await",
    "Promise",
    "Deno.env",
  ]);
});

Deno.test("the determinism rule applies to runtime/ too, not elsewhere or in tests", () => {
  const source = "const a = Math.random();";
  assertEquals(lint("/repo/runtime/heap.ts", source), ["Math.random"]);
  assertEquals(lint("/repo/cli.ts", source), []);
  assertEquals(lint("/repo/sim/kernel_test.ts", source), []);
});

Deno.test("the determinism rule leaves ordinary code alone", () => {
  const source = "const r = rng.below(4); const m = Math.max(1, 2); function* g() { yield 1; }";
  assertEquals(lint("/repo/sim/kernel.ts", source), []);
});
