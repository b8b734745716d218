/**
 * The HTML failure report: one self-contained page per failure, with an SVG
 * timeline of the original and of the shrunk trace. No network, no external
 * scripts or styles: it opens from a CI artifact as it is.
 *
 * @module
 */
import type { StepEvent } from "../sim/events.ts";
import type { ScheduleStats } from "../sim/guided.ts";
import { describeOutcome } from "../sim/outcome.ts";
import { SOURCE_STEPS_MAX } from "./sources.ts";
import { panelData, STATE_CSS, STATE_SCRIPT, stateMarkup } from "./html_state.ts";
import { firstDifference, zenoInstant } from "./state_view.ts";
import type { Timeline } from "./timeline.ts";

/** What one failure report shows. */
export interface FailureReport {
  /** "scenario/variant". */
  readonly title: string;
  /** The failing run as found. */
  readonly original: Timeline;
  /** The shrunk run, or null when shrinking was off. */
  readonly shrunk: Timeline | null;
  /** The original trace's file. */
  readonly originalPath: string;
  /** The shrunk trace's file, or null. */
  readonly shrunkPath: string | null;
  /** The command that re-runs the seed, when there is one. */
  readonly rerun?: string;
  /** Whether this failure is what the variant expects. */
  readonly expected?: boolean;
  /**
   * Which run failed, as the command line names it: "seed 44", or
   * "schedule 13" for DFS and DPOR. By default the trace's seed.
   */
  readonly where?: string;
}

const LANE_HEIGHT = 30;
const LABEL_WIDTH = 150;
const TOP = 34;
const WIDTH_TARGET = 900;
/** Runs with more steps than this draw their marks without tooltips. */
const TITLED_MAX = 2_000;

/**
 * Colours for the kinds the kernel and runtime use, in families: memory in
 * blues and reds, locks in greens, messages in purples, time in browns and
 * greys. Other kinds get one from `PALETTE`.
 */
const KIND_COLORS: Record<string, string> = {
  read: "#4e79a7",
  write: "#e15759",
  rmw: "#f28e2b",
  // Weak memory: a buffered store is a "write" of x@sb<core> on its core's
  // lane; the drain that moves it to memory is a paler mark on the same lane.
  drain: "#f7b3b4",
  fence: "#1f4e79",
  alloc: "#a0cbe8",
  reset: "#ffbe7d",
  lock: "#59a14f",
  unlock: "#8cd17d",
  trylock: "#86bc86",
  relock: "#3e7d3a",
  rlock: "#76b7b2",
  runlock: "#a5d4d0",
  wlock: "#2f8f89",
  wunlock: "#9bd0c9",
  acquire: "#b6992d",
  release: "#f1ce63",
  send: "#b07aa1",
  recv: "#6a3d9a",
  push: "#d4a6c8",
  pop: "#8e5b8a",
  "wait-item": "#c5b0d5",
  "wait-space": "#e7cbe3",
  signal: "#ff9d9a",
  wait: "#d37295",
  join: "#fabfd2",
  sleep: "#9c755f",
  timer: "#c49c7f",
  ltimer: "#7a5a43",
  tick: "#d7b5a6",
  await: "#8c6d31",
  park: "#bab0ac",
  pause: "#d3d3d3",
  work: "#79706e",
};
const PALETTE = ["#edc948", "#499894", "#ff9da7", "#86bcb6", "#e49444", "#b9a0b4", "#d4a6c8"];

/** The colour of an operation kind, stable across reports. */
export function kindColor(kind: string): string {
  const known = KIND_COLORS[kind];
  if (known !== undefined) return known;
  let h = 0;
  for (let i = 0; i < kind.length; i++) h = (Math.imul(h, 31) + kind.charCodeAt(i)) | 0;
  return PALETTE[(h & 0x7fffffff) % PALETTE.length];
}

/**
 * Renders a failure report as one HTML document.
 *
 * @example
 * ```ts
 * import { assert } from "../deps.ts";
 * import { lostUpdate } from "../scenarios/mod.ts";
 * import { judge, makeTarget, makeTrace, planFor } from "../sim/explore.ts";
 * import { timelineOf } from "./timeline.ts";
 * const target = makeTarget(lostUpdate, "racy");
 * const r = judge(target, { ...planFor(target), seed: 1 });
 * const t = timelineOf(makeTrace(target, r.strategy, r.failures[0]), lostUpdate);
 * const html = renderHtml({ title: "lost-update/racy", original: t, shrunk: null, originalPath: "t.json", shrunkPath: null });
 * assert(html.includes('class="lane"') && !html.includes("<script src"));
 * ```
 */
export function renderHtml(report: FailureReport): string {
  const o = report.original;
  const panels = [];
  const both = report.shrunk !== null && report.shrunkPath !== null;
  const diff = both ? firstDifference((report.shrunk as Timeline).events, o.events) : null;
  if (both) {
    panels.push(
      panel("shrunk", "Shrunk trace", report.shrunk as Timeline, report.shrunkPath as string, diff),
    );
  }
  panels.push(panel("original", "Original trace", o, report.originalPath, diff));
  const expected = report.expected === undefined
    ? ""
    : report.expected
    ? ` <span class="tag ok">as expected</span>`
    : ` <span class="tag bad">not expected</span>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(report.title)}: ${esc(o.outcome.verdict)}</title>
<style>${CSS}${STATE_CSS}</style>
</head>
<body>
<header>
<h1>${esc(report.title)}: ${esc(o.outcome.verdict)} <code>${
    esc(o.outcome.check)
  }</code>${expected}</h1>
<p class="message">${esc(describeOutcome(o.outcome))}</p>
<p class="meta">${esc(report.where ?? `seed ${o.trace.seed}`)} · strategy ${
    esc(strategyText(o.trace.strategy))
  } · ` +
    `params <code>${esc(JSON.stringify(o.trace.params))}</code> · ${esc(coresText(o))} · ` +
    `${esc(o.trace.tool)}</p>
${statsTable(report)}
${report.rerun === undefined ? "" : `<p>Re-run the seed: <code>${esc(report.rerun)}</code></p>`}
</header>
<div id="details" class="details" aria-live="polite">Hover over or click an operation for its details.</div>
<main class="panels">
${panels.join("\n")}
</main>
<script>${STATE_SCRIPT}</script>
</body>
</html>
`;
}

function strategyText(s: Record<string, unknown>): string {
  const rest = Object.entries(s).filter(([k]) => k !== "name").map(([k, v]) => `${k} ${v}`);
  return rest.length === 0 ? String(s.name) : `${s.name} (${rest.join(", ")})`;
}

function coresText(t: Timeline): string {
  return `${t.cores} core${t.cores === 1 ? "" : "s"}, ${t.fibers.length} fibers`;
}

function statsTable(r: FailureReport): string {
  const row = (label: string, s: ScheduleStats, t: Timeline) =>
    `<tr><th>${label}</th><td>${s.steps}</td><td>${s.preemptions}</td><td>${s.switches}</td>` +
    `<td>${s.decisions}</td><td>${t.fibers.length}</td><td>${
      t.usesClock ? t.events.at(-1)?.time ?? 0 : "-"
    }</td></tr>`;
  const rows = [row("original", r.original.stats, r.original)];
  if (r.shrunk !== null) rows.push(row("shrunk", r.shrunk.stats, r.shrunk));
  return `<table class="stats"><thead><tr><th></th><th>steps</th><th>preemptions</th>` +
    `<th>context switches</th><th>decisions</th><th>fibers</th><th>virtual time</th></tr></thead>` +
    `<tbody>${rows.join("")}</tbody></table>`;
}

function panel(
  id: string,
  heading: string,
  t: Timeline,
  path: string,
  firstDiff: number | null,
): string {
  const kinds = [...new Set(t.events.map((e) => e.kind))].sort();
  const legend = kinds.map((k) =>
    `<span class="key"><span class="swatch" style="background:${kindColor(k)}"></span>${
      esc(k)
    }</span>`
  ).join(" ");
  const cut = t.steps > t.events.length
    ? `<p class="note">The run took ${t.steps} steps; the first ${t.events.length} are drawn.</p>`
    : "";
  const firstSource = t.sourceSteps?.[0] ?? 1;
  const sourcesCut = t.events.length > 0 && firstSource > t.events[0].step
    ? `<p class="note">Source lines are recorded for steps ${firstSource} to ` +
      `${t.sourceSteps?.[1]} only: at most ${SOURCE_STEPS_MAX} steps get them.</p>`
    : "";
  const data = panelData(t, firstDiff);
  return `<section class="panel" id="${id}">
<h2>${esc(heading)}</h2>
<p>${plural(t.stats.steps, "step")}, ${plural(t.stats.preemptions, "preemption")}, ` +
    `${plural(t.stats.switches, "context switch", "context switches")}. ` +
    `${esc(describeOutcome(t.outcome))}</p>
<p>Replay: <code>deno task sim --replay ${esc(path)}</code></p>
<div class="legend">${legend} <span class="key"><span class="swatch failing"></span>failing step</span></div>
<div class="scroll">${svg(id, t)}</div>
${cut}${sourcesCut}
${stateMarkup(id, t, firstDiff)}
<details><summary>Steps as text</summary>${stepTable(t.events)}</details>
<script type="application/json" data-timeline="${id}">${data}</script>
</section>`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function niceTick(minSteps: number): number {
  for (const n of [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]) {
    if (n >= minSteps) return n;
  }
  return 10000;
}

function svg(id: string, t: Timeline): string {
  const steps = Math.max(1, t.events.length);
  const w = Math.max(4, Math.min(28, Math.floor(WIDTH_TARGET / steps)));
  const lanesBottom = TOP + t.cores * LANE_HEIGHT;
  const height = lanesBottom + (t.usesClock ? 44 : 24);
  const width = LABEL_WIDTH + steps * w + 160; // room for the failure label
  const x = (step: number) => LABEL_WIDTH + (step - 1) * w;
  const failStep = t.outcome.step;
  const parts: string[] = [];
  const onCore = new Map<number, string[]>();
  for (const f of t.fibers) push(onCore, f.core, f.name);
  const byCore = new Map<number, string[]>();
  // Titles double a big run's page; the script shows details on hover anyway.
  const titled = t.events.length <= TITLED_MAX;
  const race = t.race;
  const inRace = (i: number) => race !== null && (i === race.first || i === race.second);
  t.events.forEach((e, i) => {
    const failing = e.step === failStep;
    const title = `step ${e.step} · core ${e.core} · ${e.name} · ${e.kind}` +
      `${e.object === "" ? "" : ` ${e.object}`}${e.write ? " (writes)" : ""} · t=${e.time}`;
    const cls = `mark${failing ? " failing" : ""}${inRace(i) ? " race" : ""}`;
    const mark = `<rect class="${cls}" data-i="${i}" data-step="${e.step}" ` +
      `x="${x(e.step) + 1}" y="${TOP + e.core * LANE_HEIGHT + 5}" width="${Math.max(2, w - 2)}" ` +
      `height="${LANE_HEIGHT - 10}" fill="${kindColor(e.kind)}"${
        titled ? `><title>${esc(title)}</title></rect>` : "/>"
      }`;
    push(byCore, e.core, mark);
  });
  for (let c = 0; c < t.cores; c++) {
    const y = TOP + c * LANE_HEIGHT;
    const names = (onCore.get(c) ?? []).join(", ");
    parts.push(
      `<g class="lane" data-core="${c}"><rect class="lane-bg" x="0" y="${y}" width="${width}" ` +
        `height="${LANE_HEIGHT}"/><text class="lane-label" x="6" y="${y + 13}">core ${c}</text>` +
        `<text class="lane-fibers" x="6" y="${y + 25}">${esc(clip(names, 22))}</text>` +
        `${(byCore.get(c) ?? []).join("")}</g>`,
    );
  }
  const tick = niceTick(Math.ceil(50 / w));
  const axis: string[] = [];
  for (let s = 1; s <= steps; s++) {
    if (s !== 1 && s % tick !== 0) continue;
    const cx = x(s) + w / 2;
    axis.push(`<line class="tick" x1="${cx}" y1="${TOP - 4}" x2="${cx}" y2="${lanesBottom}"/>`);
    axis.push(`<text class="tick-label" x="${cx}" y="${lanesBottom + 14}">${s}</text>`);
    if (t.usesClock) {
      const time = t.events[s - 1]?.time ?? 0;
      axis.push(`<text class="time-label" x="${cx}" y="${lanesBottom + 32}">t=${time}</text>`);
    }
  }
  axis.push(`<text class="axis-name" x="6" y="${lanesBottom + 14}">step</text>`);
  if (t.usesClock) {
    axis.push(`<text class="axis-name" x="6" y="${lanesBottom + 32}">virtual time</text>`);
  }
  const fx = failStep >= 1 ? x(Math.min(failStep, steps)) + w / 2 : LABEL_WIDTH;
  const label = t.outcome.verdict === "deadlock"
    ? `deadlock after step ${failStep}`
    : `${t.outcome.verdict} at step ${failStep}`;
  const fail = `<g class="fail-marker"><line class="fail-line" x1="${fx}" y1="${TOP - 10}" ` +
    `x2="${fx}" y2="${lanesBottom}"/><text class="fail-label" x="${fx + 4}" y="${TOP - 14}">` +
    `${esc(label)}</text></g>`;
  const defs = `<defs><marker id="rf-head-${id}" viewBox="0 0 10 10" refX="9" refY="5" ` +
    `markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#2a7ab0"/>` +
    `</marker></defs>`;
  const extra: string[] = [];
  if (race !== null) {
    const a = t.events[race.first];
    const b = t.events[race.second];
    const ya = TOP + a.core * LANE_HEIGHT + 5;
    const yb = TOP + b.core * LANE_HEIGHT + 5;
    const xa = x(a.step) + w / 2;
    const xb = x(b.step) + w / 2;
    extra.push(
      `<path class="race-arc" d="M${xa},${ya} Q${(xa + xb) / 2},${Math.min(ya, yb) - 24} ` +
        `${xb},${yb}"/>`,
    );
  }
  const zeno = zenoInstant(t);
  const band = zeno === null ? "" : `<rect class="zeno-band" x="${x(zeno.fromStep)}" y="${TOP}" ` +
    `width="${(Math.min(zeno.toStep, steps) - zeno.fromStep + 1) * w}" ` +
    `height="${lanesBottom - TOP}"><title>steps at the stuck instant</title></rect>`;
  return `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" data-timeline="${id}" ` +
    `data-cores="${t.cores}" data-failing-step="${failStep}" data-w="${w}" ` +
    `data-x0="${LABEL_WIDTH}" data-lanes-bottom="${lanesBottom}" width="${width}" ` +
    `height="${height}" viewBox="0 0 ${width} ${height}" role="img" ` +
    `aria-label="timeline, one lane per core">` +
    `${defs}${axis.join("")}${parts.join("")}${band}${extra.join("")}${fail}</svg>`;
}

function push<K, V>(m: Map<K, V[]>, key: K, value: V): void {
  const list = m.get(key);
  if (list === undefined) m.set(key, [value]);
  else list.push(value);
}

function stepTable(events: readonly StepEvent[]): string {
  const rows = events.slice(0, 2000).map((e) =>
    `<tr><td>${e.step}</td><td>${e.core}</td><td>${esc(e.name)}</td><td>${esc(e.kind)}</td>` +
    `<td>${esc(e.object)}</td><td>${e.time}</td></tr>`
  );
  const more = events.length > 2000 ? `<p class="note">${events.length - 2000} more steps</p>` : "";
  return `<table class="steps"><thead><tr><th>step</th><th>core</th><th>fiber</th><th>op</th>` +
    `<th>object</th><th>time</th></tr></thead><tbody>${rows.join("")}</tbody></table>${more}`;
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

/** Escapes text for HTML content and attribute values. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d1d1f; background: #fafafa; }
header, .details, .panels { padding: 0 20px; }
h1 { font-size: 20px; margin: 16px 0 4px; }
h2 { font-size: 16px; margin: 8px 0; }
code { font: 12.5px ui-monospace, monospace; background: #eee; padding: 1px 4px; border-radius: 3px; }
.message { font-weight: 600; margin: 4px 0; }
.meta, .note { color: #555; }
.tag { font-size: 12px; padding: 2px 6px; border-radius: 8px; vertical-align: middle; }
.tag.ok { background: #dff3e0; color: #225c27; } .tag.bad { background: #fde2e1; color: #8a1c17; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 2px 8px; text-align: right; }
.steps td:nth-child(3), .steps td:nth-child(4), .steps td:nth-child(5) { text-align: left; }
.details { position: sticky; top: 0; background: #fffbe6; border-bottom: 1px solid #e6dca0;
  padding-top: 6px; padding-bottom: 6px; font: 13px ui-monospace, monospace; z-index: 1; }
.panels { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 16px; }
.panel { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 8px 12px; min-width: 0; }
.scroll { overflow-x: auto; border: 1px solid #eee; }
.legend { margin: 6px 0; } .key { margin-right: 10px; white-space: nowrap; }
.swatch { display: inline-block; width: 11px; height: 11px; margin-right: 4px; vertical-align: -1px;
  border-radius: 2px; }
.swatch.failing { border: 2px solid #d00; width: 7px; height: 7px; }
.lane-bg { fill: #fff; stroke: #eee; } .lane:nth-of-type(odd) .lane-bg { fill: #f6f8fb; }
.lane-label { font: 600 12px system-ui, sans-serif; } .lane-fibers { font: 10.5px system-ui; fill: #666; }
.mark { cursor: pointer; } .mark:hover, .mark.selected { stroke: #111; stroke-width: 2; }
.mark.failing { stroke: #d00; stroke-width: 3; }
.fail-line { stroke: #d00; stroke-width: 1.5; stroke-dasharray: 4 3; }
.fail-label { fill: #d00; font: 600 11px system-ui, sans-serif; }
.tick { stroke: #e4e4e4; } .tick-label, .time-label, .axis-name { font: 10px system-ui; fill: #666; }
.tick-label, .time-label { text-anchor: middle; }
`;
