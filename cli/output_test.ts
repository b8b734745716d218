import { assert, assertEquals, assertNotEquals } from "../deps.ts";
import { main } from "../cli.ts";
import { captured } from "../tests/_io.ts";
import { parseTrace } from "../sim/trace.ts";

const tmp = await Deno.makeTempDir({ prefix: "sim-output-test-" });
const racy = ["--scenario", "lost-update", "--variant", "racy", "--out", tmp];
const replayPath = (out: string[]) =>
  out.find((l) => l.startsWith("  replay: "))!.split("--replay ")[1];

Deno.test("runs with different parameters into one --out keep their own traces", async () => {
  const a = await captured(main, [...racy, "--param", "fibers=2", "--no-shrink"]);
  const b = await captured(main, [...racy, "--param", "fibers=3", "--no-shrink"]);
  assertEquals([a.code, b.code], [0, 0]);
  const [pa, pb] = [replayPath(a.out), replayPath(b.out)];
  assertNotEquals(pa, pb);
  assertEquals(parseTrace(await Deno.readTextFile(pa)).params.fibers, 2);
  assertEquals(parseTrace(await Deno.readTextFile(pb)).params.fibers, 3);
  const again = await captured(main, ["--replay", pa]);
  assertEquals(again.code, 0);
});

Deno.test("a trace written again loses the stale shrunk trace and report of the last run", async () => {
  const shrunk = await captured(main, [...racy, "--param", "fibers=4"]);
  const path = replayPath(shrunk.out);
  const stem = path.replace(/\.json$/, "");
  assert((await Deno.stat(`${stem}.shrunk.json`)).isFile);
  const plain = await captured(main, [...racy, "--param", "fibers=4", "--no-shrink"]);
  assertEquals(replayPath(plain.out), path);
  await Deno.stat(`${stem}.shrunk.json`).then(
    () => assert(false, "the stale .shrunk.json is still there"),
    (e) => assert(e instanceof Deno.errors.NotFound),
  );
  // The report is written again for the new run; no temporary file is left.
  assert((await Deno.stat(`${stem}.html`)).isFile);
  const leftovers = [...Deno.readDirSync(tmp)].filter((e) => e.name.includes(".tmp-"));
  assertEquals(leftovers, []);
});
