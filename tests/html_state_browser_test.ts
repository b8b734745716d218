/**
 * The report's state view in a real headless browser, driven over the
 * DevTools protocol: the page opens at the failing step with it selected
 * and in view; the left arrow key moves the cursor back one step and
 * changes the state panels; a click on a mark and the slider move one
 * trace's cursor and leave the other's; reads-from arrows are drawn; the race, the wait-for graph and the Zeno
 * instant are shown; no console errors. Writes a screenshot of the
 * gc-mark-sweep report at its failing step to sim-out/ for people to look at.
 */
import { assert, assertEquals, assertMatch } from "../deps.ts";
import { renderHtml } from "../reports/html.ts";
import { timelineOf } from "../reports/timeline.ts";
import { gcMarkSweep, lockOrder, lostUpdate, zeno } from "../scenarios/mod.ts";
import { judge, makeTarget, makeTrace, planFor } from "../sim/explore.ts";
import type { AnyScenario } from "../sim/scenario.ts";
import { shrinkTrace } from "../sim/shrink.ts";
import { findChromium, type Page, withPage } from "./_chromium.ts";

const chromium = findChromium();
if (chromium === null) {
  console.error(
    "\n" + "!".repeat(78) + "\n" +
      "!!! SKIPPED: the HTML state view browser test. No chromium on PATH.\n" +
      "!!! Install Debian's package (apt-get install chromium); .ci/run does this.\n" +
      "!".repeat(78) + "\n",
  );
}

const SCREENSHOT = "sim-out/gc-mark-sweep-report.png";

async function reportFor(scenario: AnyScenario, variant: string, dir: string): Promise<string> {
  const target = makeTarget(scenario, variant);
  const found = judge(target, { ...planFor(target), seed: 1 });
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
      expected: true,
    }),
  );
  return path;
}

/** What the first (active) panel shows now. */
const LOOK = `(() => {
  const p = document.querySelector("section.panel");
  const svg = p.querySelector("svg.timeline");
  const box = p.querySelector(".scroll");
  const sel = p.querySelector(".mark.selected");
  const x = sel === null ? -1 : Number(sel.getAttribute("x"));
  return {
    id: p.id,
    cursor: Number(p.querySelector(".slider").value),
    failStep: Math.min(Number(svg.dataset.failingStep), p.querySelectorAll(".mark").length),
    selected: sel === null ? null : Number(sel.dataset.step),
    inView: x >= box.scrollLeft && x <= box.scrollLeft + box.clientWidth,
    heap: p.querySelector(".heap").innerHTML,
    state: p.querySelector(".fibers").innerHTML + p.querySelector(".others").innerHTML +
      p.querySelector(".cells").innerHTML,
    info: p.querySelector(".step-info").textContent,
    race: p.querySelector(".race-note")?.textContent ?? null,
    zeno: p.querySelector(".zeno-note")?.textContent ?? null,
    band: p.querySelectorAll(".zeno-band").length,
    waitFor: p.querySelector(".waitfor-box").style.display === "none"
      ? 0 : p.querySelectorAll(".waitfor .wf-node").length,
    heapNodes: [...p.querySelectorAll(".heap .hnode")].map((g) => g.getAttribute("class") + " " + g.dataset.name),
    firstDiff: document.querySelector(".first-diff")?.dataset.step ?? null,
    details: document.getElementById("details").textContent,
    external: document.querySelectorAll("script[src], link[href], img[src], iframe").length,
  };
})()`;

async function pressLeft(page: Page): Promise<void> {
  for (const type of ["keyDown", "keyUp"]) {
    await page.send("Input.dispatchKeyEvent", {
      type,
      key: "ArrowLeft",
      code: "ArrowLeft",
      windowsVirtualKeyCode: 37,
      nativeVirtualKeyCode: 37,
    });
  }
}

Deno.test({
  name: "the report opens at the failing step; the left arrow steps back and the state follows",
  ignore: chromium === null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "simtest-state-html-" });
    const cases: [AnyScenario, string][] = [
      [gcMarkSweep, "no-barrier"],
      [lostUpdate, "racy"],
      [lockOrder, "opposite"],
      [zeno, "busy-wait"],
    ];
    for (const [scenario, variant] of cases) {
      const name = `${scenario.name}/${variant}`;
      const path = await reportFor(scenario, variant, dir);
      await withPage(chromium!, `file://${path}`, async (page) => {
        const at = await page.evaluate(LOOK);
        assertEquals(at.external, 0, name);
        assertEquals(at.id, "shrunk", name);
        assertEquals(at.cursor, at.failStep, `${name}: opens at the failing step`);
        assertEquals(at.selected, at.failStep, `${name}: the failing step is selected`);
        assert(at.inView, `${name}: the failing step is scrolled into view`);
        assertMatch(at.info, /the failing step/);
        assertMatch(at.info, /\.ts:\d+/, `${name}: the step's source line`);
        if (scenario === gcMarkSweep) {
          // C is being freed (poisoned) while A still points at it.
          assert(at.heapNodes.some((c: string) => /white.* C$/.test(c)), at.heapNodes.join("; "));
          assert(at.heapNodes.some((c: string) => /black.* A$/.test(c)), at.heapNodes.join("; "));
          assertMatch(at.heap, /poisoned/);
          await Deno.mkdir("sim-out", { recursive: true });
          const shot = await page.send("Page.captureScreenshot", { format: "png" });
          await Deno.writeFile(
            SCREENSHOT,
            Uint8Array.from(atob(shot.data), (c) => c.charCodeAt(0)),
          );
        }
        if (at.failStep > 1) {
          await pressLeft(page);
          const back = await page.evaluate(LOOK);
          assertEquals(back.cursor, at.failStep - 1, `${name}: left arrow moves back one step`);
          assertEquals(back.selected, at.failStep - 1);
          if (scenario === gcMarkSweep) assert(back.heap !== at.heap, `${name}: the heap changes`);
          else assert(back.state !== at.state, `${name}: the state panels change`);
        }
        if (scenario === lostUpdate || scenario === gcMarkSweep) {
          assertMatch(at.race ?? "", /^Race on .*rerun checked/, `${name}: the race`);
        }
        if (scenario === lockOrder) assert(at.waitFor >= 2, `${name}: the wait-for graph`);
        if (scenario === zeno) {
          assertMatch(at.zeno ?? "", /^Zeno: region .* stuck at logical time/);
          assertEquals(at.band, 1);
        }
        if (at.firstDiff !== null) {
          const d = Number(at.firstDiff);
          const both = await page.evaluate(`(() => {
            document.querySelector(".first-diff").click();
            return [...document.querySelectorAll(".slider")].map((s) =>
              [Number(s.value), Math.max(Number(s.min), Math.min(${d}, Number(s.max)))]
            );
          })()`);
          assertEquals(both.length, 2);
          for (const [value, want] of both) {
            assertEquals(value, want, `${name}: first difference moves both cursors`);
          }
        }
        // A click on a mark and the slider move this trace's cursor, not the other's.
        const moved = await page.evaluate(`(() => {
          const [p, q] = document.querySelectorAll("section.panel");
          const other = () => q.querySelector(".slider").value;
          const before = other();
          p.querySelector('.mark[data-i="0"]').dispatchEvent(new MouseEvent("click", { bubbles: true }));
          const clicked = Number(p.querySelector(".mark.selected").dataset.step);
          const info = p.querySelector(".step-info").textContent;
          const slider = p.querySelector(".slider");
          slider.value = slider.max;
          slider.dispatchEvent(new Event("input"));
          const slid = Number(p.querySelector(".mark.selected").dataset.step);
          return { clicked, info, slid, last: Number(slider.max), otherKept: other() === before };
        })()`);
        assertEquals(moved.clicked, 1, `${name}: a click on step 1's mark`);
        assertMatch(moved.info, /\.ts:\d+/, `${name}: step 1's source line`);
        assertEquals(moved.slid, moved.last, `${name}: the slider`);
        assert(moved.otherKept, `${name}: the other trace keeps its cursor`);
        if (scenario === lostUpdate || scenario === gcMarkSweep) {
          // Each read gets an arrow from the write it saw, labelled with the value.
          const rf = await page.evaluate(`(() => {
            const p = document.querySelector("section.panel");
            const box = p.querySelector(".all-rf");
            box.checked = true;
            box.dispatchEvent(new Event("change"));
            const reads = JSON.parse(p.querySelector("script[data-timeline]").textContent).rf.length;
            return { reads, arrows: p.querySelectorAll(".rf-arrow").length,
              labels: p.querySelectorAll(".rf-label").length };
          })()`);
          assert(rf.reads > 0, `${name}: reads-from pairs`);
          assertEquals(rf.arrows, rf.reads, `${name}: one arrow per read`);
          assert(rf.labels > 0, `${name}: arrows labelled with the value read`);
        }
        assertEquals(page.errors(), [], `${name}: console errors`);
      });
    }
    await Deno.remove(dir, { recursive: true });
  },
});
