import { assert, assertEquals, assertMatch } from "../deps.ts";
import { PROJECT_ROOT } from "./init_cwd.ts";

function withoutInitCwd(): Record<string, string> {
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  return env;
}

async function task(cwd: string, ...args: string[]): Promise<{ code: number; out: string }> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", ...args],
    cwd,
    // An INIT_CWD inherited from an outer `deno task test` would win over the
    // one `deno task` sets, so the child gets the environment without it.
    clearEnv: true,
    env: { ...withoutInitCwd(), NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout) + dec.decode(r.stderr) };
}

Deno.test("relative --scenario, --out and --replay resolve where deno task was typed (INIT_CWD)", async () => {
  await Deno.mkdir(`${PROJECT_ROOT}sim-out`, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: `${PROJECT_ROOT}sim-out`, prefix: "init-cwd-" });
  try {
    const run = await task(
      dir,
      "sim",
      "--scenario",
      "lost-update",
      "--variant",
      "racy",
      "--out",
      "o",
    );
    assertEquals(run.code, 0, run.out);
    const trace = run.out.match(/replay: deno task sim --replay (\S+\.json)/)![1];
    assert(trace.startsWith("o/"), trace);
    assert((await Deno.stat(`${dir}/${trace}`)).isFile);
    assert((await Deno.stat(`${dir}/o/summary.md`)).isFile);
    const replayed = await task(dir, "sim", "--replay", trace);
    assertEquals(replayed.code, 0, replayed.out);
    assertMatch(replayed.out, /reproduced: bug \(no-lost-update\)/);
    const own = await task(
      dir,
      "sim",
      "--scenario",
      "../../tests/fixtures/my_scenario.ts",
      "--out",
      "mine",
    );
    assertEquals(own.code, 0, own.out);
    assert((await Deno.stat(`${dir}/mine/summary.md`)).isFile);
    const merged = await task(dir, "merge", "o");
    assertEquals(merged.code, 0, merged.out);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
