/**
 * The HTML report in a real headless browser: it loads with no console
 * errors, each SVG timeline has one lane per core and a highlighted failing
 * step, and clicking an operation shows its details.
 */
import { assert, assertEquals } from "../deps.ts";
import { renderHtml } from "../reports/html.ts";
import { timelineOf } from "../reports/timeline.ts";
import { lockOrder, lostUpdate } from "../scenarios/mod.ts";
import { judge, makeTarget, makeTrace, planFor } from "../sim/explore.ts";
import type { AnyScenario } from "../sim/scenario.ts";
import { shrinkTrace } from "../sim/shrink.ts";
import { findChromium, visit } from "./_chromium.ts";

const chromium = findChromium();
if (chromium === null) {
  console.error(
    "\n" + "!".repeat(78) + "\n" +
      "!!! SKIPPED: the HTML report browser test. No chromium on PATH.\n" +
      "!!! Install Debian's package (apt-get install chromium); .ci/run does this.\n" +
      "!".repeat(78) + "\n",
  );
}

const CHECK = `(() => {
  const svgs = [...document.querySelectorAll("svg.timeline")].map((s) => {
    const failing = [...s.querySelectorAll(".mark.failing")];
    return {
      id: s.dataset.timeline,
      cores: Number(s.dataset.cores),
      lanes: s.querySelectorAll(":scope > .lane").length,
      failStep: Number(s.dataset.failingStep),
      failing: failing.map((m) => Number(m.dataset.step)),
      failLine: s.querySelectorAll(".fail-line").length,
      marks: s.querySelectorAll(".mark").length,
    };
  });
  const mark = document.querySelector("svg.timeline .mark.failing");
  mark.dispatchEvent(new MouseEvent("click", { bubbles: true }));
  return {
    svgs,
    details: document.getElementById("details").textContent,
    // Each trace keeps its own cursor: one selected mark per timeline.
    selected: [...document.querySelectorAll("svg.timeline")]
      .map((s) => s.querySelectorAll(".mark.selected").length),
    external: document.querySelectorAll("script[src], link[href], img[src], iframe").length,
  };
})()`;

async function reportFor(
  scenario: AnyScenario,
  variant: string,
  params: Record<string, unknown>,
  dir: string,
): Promise<string> {
  const target = makeTarget(scenario, variant, { params });
  const found = judge(target, { ...planFor(target, { strategy: "random" }), seed: 3 });
  const trace = makeTrace(target, found.strategy, found.failures[0]);
  const shrunk = shrinkTrace(trace, scenario).shrunk;
  const path = `${dir}/${scenario.name}.html`;
  await Deno.writeTextFile(
    path,
    renderHtml({
      title: `${scenario.name}/${variant}`,
      original: timelineOf(trace, scenario),
      shrunk: timelineOf(shrunk, scenario),
      originalPath: "x.json",
      shrunkPath: "x.shrunk.json",
      rerun: "deno task sim --seed 3",
      expected: true,
    }),
  );
  return path;
}

Deno.test({
  name:
    "the HTML report loads in headless chromium with no errors, a lane per core, the failing step marked",
  ignore: chromium === null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "simtest-html-" });
    const cases: [AnyScenario, string, Record<string, unknown>, number[]][] = [
      [lostUpdate, "racy", { fibers: 3, increments: 2 }, [2, 3]], // shrunk, original cores
      [lockOrder, "opposite", { rounds: 2 }, [2, 2]],
    ];
    for (const [scenario, variant, params, cores] of cases) {
      const path = await reportFor(scenario, variant, params, dir);
      const { errors, value } = await visit(chromium!, `file://${path}`, CHECK);
      assertEquals(errors, [], `${scenario.name}: console errors`);
      assertEquals(value.external, 0);
      assertEquals(value.svgs.map((s: { id: string }) => s.id), ["shrunk", "original"]);
      for (const [i, s] of value.svgs.entries()) {
        assertEquals(s.cores, cores[i], `${scenario.name} ${s.id}: cores`);
        assertEquals(s.lanes, s.cores, `${scenario.name} ${s.id}: one lane per core`);
        assertEquals(s.failing, [s.failStep], `${scenario.name} ${s.id}: the failing step marked`);
        assertEquals(s.failLine, 1);
        assert(s.marks >= s.failStep);
      }
      assert(/shrunk trace, step \d+: core \d+/.test(value.details), value.details);
      assertEquals(value.selected, [1, 1]);
    }
    await Deno.remove(dir, { recursive: true });
  },
});
