/**
 * The package is ready for JSR: `deno publish --dry-run` finds no slow types.
 *
 * It runs offline (it checks the graph the tests already cached). The one
 * problem it may report is the missing license: choosing one is the project's
 * decision, not the code's. Any other error fails the test.
 */
import { assert, assertEquals } from "../deps.ts";

const root = new URL("..", import.meta.url);

Deno.test("deno publish --dry-run reports no problem but the missing license", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty", "--no-check"],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert(text.includes("Checking for slow types"), `publish did not check slow types:\n${text}`);
  const errors = [...text.matchAll(/^error\[([a-z-]+)\]/gm)].map((m) => m[1]);
  assertEquals(
    errors.filter((e) => e !== "missing-license"),
    [],
    `${text}\nA slow type is usually an untyped export: give it an explicit type ` +
      `(for a scenario, README "Writing a scenario": export const x: Scenario<XParams> = ...).`,
  );
  if (errors.length === 0) assertEquals(out.code, 0, text);
});

Deno.test("deno task doc-lint covers every entry point of the export map", async () => {
  const meta = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  const linted: string[] = meta.tasks["doc-lint"].split(" ").slice(3);
  const entries = Object.values(meta.exports as Record<string, string>).map((p) =>
    p.replace(/^\.\//, "")
  );
  assertEquals([...linted].sort(), [...entries].sort());
  assert(meta.tasks.ok.includes("deno task doc-lint"), "deno task ok runs doc-lint");
});
