import { assertEquals, assertMatch } from "../deps.ts";
import { main } from "../cli.ts";
import { mergeRuns } from "../scale/merge.ts";
import { captured, type Ran } from "./_io.ts";

const run = (args: string[]): Promise<Ran> => captured(main, args);
const tmp = await Deno.makeTempDir({ prefix: "sim-search-test-" });

Deno.test("bad --delays, --order and misplaced search flags get one line and exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [["--strategy", "dfs", "--delays=-1"], /bad --delays "-1": need an integer >= 0/],
    [["--strategy", "dfs", "--order", "nope"], /bad --order "nope": default or random/],
    [["--strategy", "pct", "--order", "random"], /--order goes with --strategy dfs or dpor/],
    [["--strategy", "dpor", "--delays=-1"], /bad --delays "-1": need an integer >= 0/],
    [["--strategy", "dpor", "--order", "nope"], /bad --order "nope": default or random/],
    [["--strategy", "dpor", "--delays", "2", "--dpor", "optimal"], /drop --dpor optimal/],
    [["--strategy", "dpor", "--delays", "1", "--preemptions", "1"], /give one/],
    [["--strategy", "random", "--delays", "1"], /go with --strategy dfs or dpor/],
    [["--strategy", "dfs", "--delays", "1", "--preemptions", "1"], /give one/],
  ];
  for (const [args, message] of cases) {
    const r = await run(["--scenario", "lost-update", "--variant", "racy", ...args]);
    assertEquals(r.code, 2, args.join(" "));
    assertEquals(r.err.length, 1);
    assertMatch(r.err[0], message);
  }
});

Deno.test("dpor --delays names its bound; --order random reruns with the seed", async () => {
  const args = ["--scenario", "lost-update", "--variant", "racy", "--param", "fibers=4"];
  const zero = await run([...args, "--strategy", "dpor", "--delays", "0", "--out", tmp]);
  assertMatch(zero.out[0], /dpor ran 1 schedules .*: exhausted \(bound: 0 delays\)/);
  const r = await run([
    ...args,
    ...["--strategy", "dpor", "--delays", "1", "--order", "random", "--seed", "7", "--out", tmp],
  ]);
  assertEquals(r.code, 0);
  assertMatch(
    r.out.join("\n"),
    /rerun: .*--strategy dpor --delays 1 --order random --dpor source --seed 7/,
  );
});

Deno.test("dfs --order random finds the bug; the rerun command names the order and seed", async () => {
  const args = ["--scenario", "lost-update", "--variant", "racy", "--param", "fibers=4"];
  const r = await run([
    ...args,
    "--strategy",
    "dfs",
    "--order",
    "random",
    "--seed",
    "5",
    "--out",
    tmp,
  ]);
  assertEquals(r.code, 0);
  const rerun = r.out.find((l) => l.includes("rerun:"))!;
  assertMatch(rerun, /--strategy dfs --order random --seed 5$/);
  const schedule = r.out.find((l) => /^\s+schedule \d+/.test(l))!;
  const again = await run(
    rerun.split("rerun:")[1].trim().split(/\s+/).slice(3).concat(["--out", tmp]),
  );
  assertEquals(again.out.find((l) => /^\s+schedule \d+/.test(l)), schedule);
  const file = r.out.find((l) => l.includes("--replay"))!.split("--replay ")[1];
  assertEquals((await run(["--replay", file])).code, 0);
});

Deno.test("dfs --delays names its bound; --iterative --delays 0 raises it", async () => {
  const args = ["--scenario", "lost-update", "--variant", "racy", "--param", "fibers=8"];
  const zero = await run([...args, "--strategy", "dfs", "--delays", "0", "--out", tmp]);
  assertMatch(zero.out[0], /dfs ran 1 schedules .*: exhausted \(bound: 0 delays\)/);
  const it = await run([
    ...args,
    "--strategy",
    "dfs",
    "--iterative",
    "--delays",
    "0",
    "--out",
    tmp,
  ]);
  assertEquals(it.code, 0);
  assertMatch(it.out.join("\n"), /strategy dfs \(delays 1, iterative true\)/);
  assertMatch(it.out.join("\n"), /rerun: .*--strategy dfs --iterative --delays 0/);
});

Deno.test("--shard splits DFS and DPOR: the shards' schedules add up, and merge says exhausted", async () => {
  const args = ["--scenario", "lost-update", "--variant", "locked", "--param", "fibers=3"];
  for (const strategy of ["dfs", "dpor"]) {
    const whole = await run([
      ...args,
      "--strategy",
      strategy,
      "--shard",
      "0/1",
      "--json",
      "--out",
      tmp,
    ]);
    const total = JSON.parse(whole.out.find((l) => l.includes('"schedules"'))!).schedules;
    let sum = 0;
    const dirs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const dir = `${tmp}/${strategy}-shard-${i}`;
      dirs.push(dir);
      const r = await run([
        ...args,
        "--strategy",
        strategy,
        "--shard",
        `${i}/3`,
        "--json",
        "--out",
        dir,
      ]);
      assertEquals(r.code, 0);
      const line = JSON.parse(r.out.find((l) => l.includes('"schedules"'))!);
      assertEquals(line.exhausted, true);
      sum += line.schedules;
    }
    assertEquals(sum, total, strategy);
    const texts = await Promise.all(dirs.map((d) => Deno.readTextFile(`${d}/runs.jsonl`)));
    const merged = mergeRuns(
      texts.map((t) => t.trim().split("\n").map((l) => JSON.parse(l))),
    );
    assertEquals([merged.targets[0].runs, merged.targets[0].exhausted], [total, true]);
  }
});

Deno.test("--shard with iterative bounding is a usage error", async () => {
  const r = await run([
    "--scenario",
    "lost-update",
    "--strategy",
    "dfs",
    "--iterative",
    "--shard",
    "0/2",
  ]);
  assertEquals(r.code, 2);
  assertMatch(r.err[0], /--iterative cannot be split/);
});

Deno.test("each variant's line says whether pass was verified (exhausted) or sampled", async () => {
  const lineOf = async (variant: string) => {
    const r = await run([
      "--scenario",
      "work-stealing",
      "--variant",
      variant,
      "--json",
      "--out",
      tmp,
    ]);
    assertEquals(r.code, 0);
    // A DFS or DPOR budget prints its exploration line instead of the target line.
    return r.out.map((l) => JSON.parse(l)).find((l) => l.target === true || "exhausted" in l);
  };
  const chaseLev = await lineOf("chase-lev");
  assertEquals([chaseLev.exhausted, chaseLev.verifiedParams.thieves], [true, 1]);
  const balance = await lineOf("load-balance");
  assertEquals([balance.exhausted, balance.strategy], [true, "dpor"]);
  const written = (await Deno.readTextFile(`${tmp}/runs.jsonl`)).trim().split("\n");
  const target = JSON.parse(written.find((l) => l.includes('"target":true'))!);
  assertEquals([target.variant, target.exhausted], ["load-balance", true]);
  const text = await run(["--scenario", "reactor", "--variant", "correct", "--out", tmp]);
  assertMatch(text.out.join("\n"), /reactor\s+correct\s+pass\s+pass\s+\d+\s+\d+\s+.*ok\s+sampled/);
});
