import { assert, assertEquals } from "../deps.ts";

Deno.test("after SIGINT, runs.jsonl and summary.md end with an interrupted line, no old verdict", async () => {
  const out = await Deno.makeTempDir({ prefix: "sim-sigint-test-" });
  await Deno.writeTextFile(`${out}/summary.md`, "## simtest: all 43 verdicts as expected (1 s)\n");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      new URL("../cli.ts", import.meta.url).pathname,
      "--scenario=lost-update",
      "--variant=locked",
      "--strategy=random",
      "--runs=1000000000",
      `--out=${out}`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Wait until the sweep is under way: its first runs are on disk.
  for (let i = 0; i < 600; i++) {
    const size = await Deno.stat(`${out}/runs.jsonl`).then((s) => s.size, () => 0);
    if (size > 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGINT");
  const { code, stdout } = await child.output();
  const printed = new TextDecoder().decode(stdout);
  assertEquals(code, 130, printed);
  assert(printed.includes("interrupted after 0 of 1 variants: no verdict"), printed);
  const lines = (await Deno.readTextFile(`${out}/runs.jsonl`)).trim().split("\n");
  assertEquals(JSON.parse(lines.at(-1)!).interrupted, true);
  const md = await Deno.readTextFile(`${out}/summary.md`);
  assertEquals(md.trim().split("\n").at(-1), "interrupted");
  assert(!md.includes("as expected"), md);
  await Deno.remove(out, { recursive: true });
});
