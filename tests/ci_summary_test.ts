import { assertEquals } from "../deps.ts";

const SCRIPT = new URL("../.ci/summary", import.meta.url).pathname;

/** .ci/run's closing line for a `deno task ok` log and exit status. */
async function closingLine(log: string, status: number): Promise<string> {
  const child = new Deno.Command("bash", {
    args: [SCRIPT, String(status)],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(log));
  await writer.close();
  const out = await child.output();
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test(".ci/run's closing line counts ignored tests as skipped", async () => {
  const log = "running 3 tests\nhtml in a browser ... ignored (0ms)\n\n" +
    "ok | 311 passed | 0 failed | 1 ignored (3m48s)\n";
  assertEquals(await closingLine(log, 0), "311 passed, 0 failed, 1 skipped");
});

Deno.test(".ci/run's closing line: failures, nothing ignored, and a gate failing before the tests", async () => {
  assertEquals(
    await closingLine("FAILED | 300 passed | 2 failed | 3 ignored (4m)\n", 1),
    "300 passed, 2 failed, 3 skipped",
  );
  assertEquals(
    await closingLine("ok | 12 passed | 0 failed (2s)\n", 0),
    "12 passed, 0 failed, 0 skipped",
  );
  // Test steps show beside the passed count.
  assertEquals(
    await closingLine("ok | 405 passed (4 steps) | 0 failed | 1 ignored (7m5s)\n", 0),
    "405 passed, 0 failed, 1 skipped",
  );
  assertEquals(
    await closingLine("error: Found 2 not formatted files\n", 1),
    "0 passed, 1 failed, 0 skipped",
  );
});
