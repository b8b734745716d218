/**
 * The state half of the HTML report: the data each trace panel embeds (steps,
 * source lines, state deltas, heap layout, reads-from pairs, the race, the
 * Zeno instant) and the page script that moves a step cursor over it and
 * draws the heap, fibers, locks and cells at the cursor.
 *
 * @module
 */
import { heapLayout, readsFrom, recordingJson, zenoInstant } from "./state_view.ts";
import type { Timeline } from "./timeline.ts";

/** The JSON a trace panel embeds for the page script. */
export function panelData(t: Timeline, firstDiff: number | null): string {
  const files: string[] = [];
  const fileIndex = new Map<string, number>();
  const src = t.sources.map((s) => {
    if (s === null) return -1;
    let i = fileIndex.get(s);
    if (i === undefined) {
      i = files.push(s) - 1;
      fileIndex.set(s, i);
    }
    return i;
  });
  const events = t.events.map((e) => [
    e.step,
    e.name,
    e.core,
    e.kind,
    e.object,
    e.write ? 1 : 0,
    e.time,
  ]);
  const rec = t.state;
  const parts = [
    `"events":${JSON.stringify(events)}`,
    `"src":${JSON.stringify(src)}`,
    `"files":${JSON.stringify(files)}`,
    `"fail":${t.outcome.step}`,
    `"verdict":${JSON.stringify(t.outcome.verdict)}`,
    `"steps":${t.steps}`,
    `"firstDiff":${firstDiff ?? "null"}`,
    `"race":${JSON.stringify(t.race)}`,
    `"zeno":${JSON.stringify(zenoInstant(t))}`,
    `"rf":${JSON.stringify(readsFrom(t.events, rec, t.readsFrom ?? null))}`,
  ];
  if (rec !== null) {
    parts.push(`"state":${recordingJson(rec)}`, `"layout":${JSON.stringify(heapLayout(rec))}`);
  }
  return `{${parts.join(",")}}`.replace(/</g, "\\u003c");
}

/** The cursor controls and the state panels of one trace panel. */
export function stateMarkup(id: string, t: Timeline, firstDiff: number | null): string {
  const last = t.events.length;
  const rec = t.state;
  const min = rec === null ? 0 : rec.from;
  const capped = rec !== null && rec.capped
    ? `<p class="note">The state is recorded from step ${rec.from} on: earlier steps were left ` +
      `out to keep this report small (${(rec.bytes / 1e6).toFixed(2)} MB of state).</p>`
    : "";
  const diff = firstDiff === null
    ? ""
    : ` <button type="button" class="first-diff" data-step="${firstDiff}">First difference ` +
      `(step ${firstDiff})</button>`;
  return `<div class="cursor-bar">` +
    `<button type="button" class="prev" aria-label="previous step">◀</button>` +
    `<input type="range" class="slider" min="${min}" max="${last}" value="${
      Math.min(t.outcome.step, last)
    }" aria-label="step">` +
    `<button type="button" class="next" aria-label="next step">▶</button>` +
    ` <span class="step-label"></span>` +
    ` <button type="button" class="to-fail">Failing step</button>${diff}` +
    ` <label><input type="checkbox" class="all-rf"> all reads-from arrows</label></div>` +
    `<p class="step-info" data-panel="${id}"></p>${capped}` +
    `<div class="finding"></div>` +
    `<div class="heap-box"><h3>Heap <span class="key-note">white, grey, black: mark colours; ` +
    `orange: changed by this step; crossed out: freed or poisoned</span></h3><div class="heap"></div></div>` +
    `<div class="waitfor-box"><h3>Wait-for</h3><div class="waitfor"></div></div>` +
    `<div class="state">` +
    `<div class="state-col"><h3>Fibers</h3><div class="fibers"></div>` +
    `<h3>Locks, queues, clocks</h3><div class="others"></div></div>` +
    `<div class="state-col"><details class="cells-box" open><summary>Cells</summary>` +
    `<div class="cells"></div></details></div></div>`;
}

/** Styles of the state panels. */
export const STATE_CSS = `
.cursor-bar { display: flex; align-items: center; gap: 6px; margin: 6px 0; flex-wrap: wrap; }
.cursor-bar .slider { flex: 1; min-width: 160px; }
.step-label { font: 12.5px ui-monospace, monospace; min-width: 110px; }
.step-info { font: 12.5px ui-monospace, monospace; background: #f3f6fb; padding: 4px 6px; margin: 4px 0;
  border-radius: 4px; min-height: 1.4em; white-space: pre-wrap; }
.finding { margin: 4px 0; } .finding p { margin: 2px 0; }
.finding .race-note { background: #f4ecfb; border-left: 3px solid #7b3fb5; padding: 3px 6px; }
.finding .zeno-note { background: #fff1e0; border-left: 3px solid #d17a00; padding: 3px 6px; }
.finding button { font-size: 12px; }
.state { display: grid; grid-template-columns: minmax(240px, 1.3fr) minmax(160px, 1fr); gap: 12px; }
.panel h3 { font-size: 13px; margin: 8px 0 3px; } .key-note { font: 400 11.5px system-ui; color: #666; }
.heap { overflow-x: auto; }
.state table { font: 12px ui-monospace, monospace; margin: 2px 0; }
.state td, .state th { text-align: left; padding: 1px 6px; }
.state tr.changed td { background: #fff3c4; } .state tr.stepper td:first-child { font-weight: 700; }
.heap svg, .waitfor svg { background: #fcfcfd; border: 1px solid #eee; }
.hnode rect { stroke: #333; stroke-width: 1.2; }
.hnode.white rect { fill: #fff; } .hnode.grey rect { fill: #a9a9a9; } .hnode.black rect { fill: #222; }
.hnode.uncoloured rect { fill: #e6eef8; }
.hnode text { font: 600 13px system-ui, sans-serif; text-anchor: middle; fill: #111; }
.hnode.black text { fill: #fff; }
.hnode.freed { opacity: .55; } .hnode .cross { stroke: #d00; stroke-width: 2; }
.hnode.changed rect { stroke: #ff8c00; stroke-width: 3; }
.hroot rect { fill: #eef7ee; stroke: #4a8f4a; } .hroot text { font: 12px system-ui; text-anchor: middle; }
.hroot.changed rect { stroke: #ff8c00; stroke-width: 3; }
.hedge { fill: none; stroke: #555; stroke-width: 1.3; }
.hedge.changed { stroke: #ff8c00; stroke-width: 2.5; }
.hedge-label { font: 9.5px system-ui; fill: #666; }
.poison { font: 700 10.5px system-ui; fill: #d00; }
.cursor { stroke: #ff8c00; stroke-width: 2; }
.cursor, .zeno-band, .race-arc, .rf-layer { pointer-events: none; }
.mark.race { stroke: #7b3fb5; stroke-width: 3; }
.race-arc { fill: none; stroke: #7b3fb5; stroke-width: 1.5; stroke-dasharray: 3 2; }
.zeno-band { fill: #ffd9a8; opacity: .45; }
.rf-arrow { fill: none; stroke: #2a7ab0; stroke-width: 1.4; }
.rf-label { font: 10px ui-monospace, monospace; fill: #2a7ab0; }
.wf-node circle { fill: #fde2e1; stroke: #8a1c17; } .wf-node text { font: 11px system-ui; text-anchor: middle; }
.wf-edge { stroke: #8a1c17; stroke-width: 1.5; fill: none; }
.wf-label { font: 10px system-ui; fill: #8a1c17; }
`;

/** The page script: one cursor per trace panel, state rebuilt from the deltas. */
export const STATE_SCRIPT = `
(function () {
  "use strict";
  var details = document.getElementById("details");
  var panels = [];
  var active = null;
  var SVGNS = "http://www.w3.org/2000/svg";
  var CHECKPOINT = 256;

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; });
  }
  function show(v) { return typeof v === "string" ? v : JSON.stringify(v); }

  function Panel(section) {
    this.id = section.id;
    this.root = section;
    this.data = JSON.parse(section.querySelector("script[data-timeline]").textContent);
    this.svg = section.querySelector("svg.timeline");
    this.w = Number(this.svg.getAttribute("data-w"));
    this.x0 = Number(this.svg.getAttribute("data-x0"));
    this.marks = [];
    var self = this;
    this.svg.querySelectorAll(".mark").forEach(function (m) {
      self.marks[Number(m.getAttribute("data-i"))] = m;
    });
    this.slider = section.querySelector(".slider");
    this.label = section.querySelector(".step-label");
    this.info = section.querySelector(".step-info");
    this.cps = {};
    this.cur = null;
    this.curStep = -1;
    this.step = -1;
    var st = this.data.state;
    this.min = st ? st.from : 0;
    this.max = this.data.events.length;
    this.cursorLine = document.createElementNS(SVGNS, "line");
    this.cursorLine.setAttribute("class", "cursor");
    this.svg.appendChild(this.cursorLine);
    this.rfLayer = document.createElementNS(SVGNS, "g");
    this.rfLayer.setAttribute("class", "rf-layer");
    this.svg.appendChild(this.rfLayer);
    this.rfByRead = {};
    this.rfByWrite = {};
    (this.data.rf || []).forEach(function (p) {
      self.rfByRead[p[0]] = p;
      (self.rfByWrite[p[1]] = self.rfByWrite[p[1]] || []).push(p);
    });
    this.slider.addEventListener("input", function () { self.go(Number(self.slider.value)); });
    section.querySelector(".prev").addEventListener("click", function () { self.go(self.step - 1); });
    section.querySelector(".next").addEventListener("click", function () { self.go(self.step + 1); });
    section.querySelector(".to-fail").addEventListener("click", function () { self.go(self.failStep(), true); });
    section.querySelector(".all-rf").addEventListener("change", function () { self.drawRf(); });
    var diff = section.querySelector(".first-diff");
    if (diff) diff.addEventListener("click", function () {
      var s = Number(diff.getAttribute("data-step"));
      panels.forEach(function (p) { p.go(s, true); });
    });
    section.addEventListener("mousedown", function () { active = self; });
    this.finding();
  }

  Panel.prototype.failStep = function () {
    return Math.max(this.min, Math.min(this.data.fail, this.max));
  };

  // The state after step s, as {key: value}; null when not recorded.
  Panel.prototype.stateAt = function (s) {
    var st = this.data.state;
    if (!st || s < st.from || s > st.from + st.deltas.length) return null;
    if (this.cur === null || s < this.curStep) {
      var best = st.from;
      for (var c in this.cps) if (Number(c) <= s && Number(c) > best) best = Number(c);
      if (this.cps[best]) {
        this.cur = copy(this.cps[best]);
      } else {
        this.cur = {};
        for (var i = 0; i < st.base.length; i++) this.cur[st.keys[st.base[i][0]]] = st.base[i][1];
        this.cps[st.from] = copy(this.cur);
      }
      this.curStep = best;
    }
    while (this.curStep < s) {
      var d = st.deltas[this.curStep - st.from];
      for (var j = 0; j < d.length; j++) {
        var key = st.keys[d[j][0]];
        if (d[j].length === 1) delete this.cur[key]; else this.cur[key] = d[j][1];
      }
      this.curStep++;
      if (this.curStep % CHECKPOINT === 0 && !this.cps[this.curStep]) this.cps[this.curStep] = copy(this.cur);
    }
    return this.cur;
  };
  function copy(o) { var r = {}; for (var k in o) r[k] = o[k]; return r; }

  Panel.prototype.changedAt = function (s) {
    var st = this.data.state, out = {};
    if (!st || s <= st.from || s > st.from + st.deltas.length) return out;
    var d = st.deltas[s - st.from - 1];
    for (var i = 0; i < d.length; i++) out[st.keys[d[i][0]]] = true;
    return out;
  };

  Panel.prototype.go = function (s, scroll) {
    s = Math.max(this.min, Math.min(this.max, s));
    this.step = s;
    active = active || this;
    this.slider.value = String(s);
    var e = this.data.events[s - 1];
    this.root.querySelectorAll(".mark.selected").forEach(function (m) { m.classList.remove("selected"); });
    var x = this.x0 + (Math.max(s, 1) - 1) * this.w + this.w / 2;
    if (s === 0) x = this.x0 - 4;
    this.cursorLine.setAttribute("x1", x); this.cursorLine.setAttribute("x2", x);
    this.cursorLine.setAttribute("y1", 22); this.cursorLine.setAttribute("y2", this.svg.getAttribute("data-lanes-bottom"));
    if (e && this.marks[s - 1]) this.marks[s - 1].classList.add("selected");
    this.label.textContent = "step " + s + " of " + this.max;
    var src = e ? this.data.src[s - 1] : -1;
    var line = s === 0 ? "after setup" :
      "step " + e[0] + ": " + e[1] + " (core " + e[2] + ") " + e[3] + (e[4] ? " " + e[4] : "") +
      (e[5] ? " (writes)" : "") + ", t=" + e[6] + (src >= 0 ? "\\n  at " + this.data.files[src] : "") +
      (e[0] === this.data.fail ? "\\n  <- the failing step" : "");
    var state = this.stateAt(s);
    var changed = this.changedAt(s);
    var names = Object.keys(changed).filter(function (k) { return !/^(fiber|clock)\\//.test(k); })
      .map(function (k) { return k.replace(/^cell\\//, ""); });
    if (names.length > 0) line += "\\n  changed: " + names.join(", ");
    this.info.textContent = line;
    if (e) {
      details.textContent = this.id + " trace, step " + e[0] + ": core " + e[2] + ", fiber " + e[1] +
        ", " + e[3] + (e[4] ? " " + e[4] : "") + (e[5] ? " (writes)" : "") + ", virtual time " + e[6] +
        (e[0] === this.data.fail ? "  <- the failing step" : "") + (src >= 0 ? "  at " + this.data.files[src] : "");
    }
    this.render(state, changed, e ? e[1] : null);
    this.drawRf();
    if (scroll) this.scrollTo(x);
  };

  Panel.prototype.scrollTo = function (x) {
    var box = this.root.querySelector(".scroll");
    box.scrollLeft = Math.max(0, x - box.clientWidth / 2);
  };

  Panel.prototype.render = function (state, changed, stepper) {
    var heap = this.root.querySelector(".heap");
    var fibers = this.root.querySelector(".fibers");
    var others = this.root.querySelector(".others");
    var cells = this.root.querySelector(".cells");
    if (state === null) {
      var none = "<p class=\\"note\\">No state recorded for this step.</p>";
      heap.innerHTML = none; fibers.innerHTML = ""; others.innerHTML = ""; cells.innerHTML = "";
      return;
    }
    var groups = {};
    Object.keys(state).forEach(function (k) {
      var i = k.indexOf("/");
      var sec = k.slice(0, i);
      (groups[sec] = groups[sec] || []).push([k.slice(i + 1), state[k], k]);
    });
    var hasHeap = (groups.heap || []).length + (groups.root || []).length > 0;
    this.root.querySelector(".heap-box").style.display = hasHeap ? "" : "none";
    heap.innerHTML = hasHeap ? this.heapSvg(groups, changed) : "";
    var rows = (groups.fiber || []).map(function (f) {
      var v = f[1];
      var cls = (changed[f[2]] ? "changed " : "") + (f[0] === stepper ? "stepper" : "");
      return "<tr class=\\"" + cls + "\\"><td>" + esc(f[0]) + "</td><td>" + v.core + "</td><td>" + esc(v.state) +
        "</td><td>" + esc(v.op) + "</td><td>" + esc(v.waits || "") + "</td></tr>";
    });
    fibers.innerHTML = "<table><thead><tr><th>fiber</th><th>core</th><th>state</th><th>next</th><th>waits for</th></tr></thead><tbody>" +
      rows.join("") + "</tbody></table>";
    var other = [];
    Object.keys(groups).sort().forEach(function (sec) {
      if (["fiber", "cell", "heap", "root", "color"].indexOf(sec) >= 0) return;
      groups[sec].forEach(function (e) {
        other.push("<tr class=\\"" + (changed[e[2]] && e[2] !== "clock/virtual time" ? "changed" : "") + "\\"><td>" + esc(sec) + "</td><td>" + esc(e[0]) +
          "</td><td>" + esc(describe(e[1])) + "</td></tr>");
      });
    });
    others.innerHTML = other.length === 0 ? "<p class=\\"note\\">none</p>" : "<table><tbody>" + other.join("") + "</tbody></table>";
    var cellRows = (groups.cell || []).map(function (c) {
      return "<tr class=\\"" + (changed[c[2]] ? "changed" : "") + "\\"><td>" + esc(c[0]) + "</td><td>" + esc(show(c[1])) + "</td></tr>";
    });
    cells.innerHTML = "<table><tbody>" + cellRows.join("") + "</tbody></table>";
    this.waitFor(groups);
  };

  function describe(v) {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return show(v);
    return Object.keys(v).map(function (k) { return k + " " + show(v[k]); }).join(", ");
  }

  var NODE_W = 64, NODE_H = 28, COL_W = 128, ROW_H = 46, TOP = 14, ROOT_W = 76;
  Panel.prototype.heapSvg = function (groups, changed) {
    var lay = this.data.layout, id = this.id;
    var objs = groups.heap || [];
    if (!lay || (objs.length === 0 && (groups.root || []).length === 0)) return "<p class=\\"note\\">no heap</p>";
    var byId = {}, pos = {}, colors = {};
    (groups.color || []).forEach(function (c) { colors[c[0]] = c[1]; });
    var maxCol = 1, maxRow = lay.roots.length;
    objs.forEach(function (o) {
      byId[o[1].id] = o[0];
      var p = lay.objects[o[0]] || [1, 0];
      pos[o[0]] = [ROOT_W + 60 + (p[0] - 1) * COL_W, TOP + p[1] * ROW_H];
      maxCol = Math.max(maxCol, p[0]); maxRow = Math.max(maxRow, p[1] + 1);
    });
    var rootPos = {};
    lay.roots.forEach(function (r, i) { rootPos[r] = [8, TOP + i * ROW_H]; });
    var width = ROOT_W + 60 + maxCol * COL_W + 10, height = TOP + maxRow * ROW_H + 8;
    var out = ["<svg xmlns=\\"" + SVGNS + "\\" width=\\"" + width + "\\" height=\\"" + height + "\\" viewBox=\\"0 0 " + width + " " + height + "\\" class=\\"heap-graph\\">",
      "<defs><marker id=\\"arrow-" + this.id + "\\" viewBox=\\"0 0 10 10\\" refX=\\"9\\" refY=\\"5\\" markerWidth=\\"7\\" markerHeight=\\"7\\" orient=\\"auto\\"><path d=\\"M0,0 L10,5 L0,10 z\\" fill=\\"#555\\"/></marker></defs>"];
    function edge(x1, y1, x2, y2, cls, label) {
      var mx = (x1 + x2) / 2, bend = x2 <= x1 ? 36 : 0;
      var d = "M" + x1 + "," + y1 + " C" + (mx + bend) + "," + (y1 - bend) + " " + (mx - bend) + "," + (y2 - bend) + " " + x2 + "," + y2;
      out.push("<path class=\\"hedge" + cls + "\\" d=\\"" + d + "\\" marker-end=\\"url(#arrow-" + id + ")\\"/>");
      if (label) out.push("<text class=\\"hedge-label\\" x=\\"" + (mx + 2) + "\\" y=\\"" + ((y1 + y2) / 2 - 3) + "\\">" + esc(label) + "</text>");
    }
    (groups.root || []).forEach(function (r) {
      var p = rootPos[r[0]]; if (!p) return;
      var ch = changed[r[2]] ? " changed" : "";
      out.push("<g class=\\"hroot" + ch + "\\"><rect x=\\"" + p[0] + "\\" y=\\"" + p[1] + "\\" width=\\"" + ROOT_W + "\\" height=\\"" + NODE_H + "\\" rx=\\"4\\"/><text x=\\"" + (p[0] + ROOT_W / 2) + "\\" y=\\"" + (p[1] + 18) + "\\">" + esc(r[0]) + "</text></g>");
      var to = byId[r[1]];
      if (to !== undefined && pos[to]) edge(p[0] + ROOT_W, p[1] + NODE_H / 2, pos[to][0], pos[to][1] + NODE_H / 2, ch, "");
    });
    objs.forEach(function (o) {
      var v = o[1], p = pos[o[0]];
      var ch = changed[o[2]] ? " changed" : "";
      v.ptrs.forEach(function (r, i) {
        var to = byId[r];
        if (to !== undefined && pos[to]) edge(p[0] + NODE_W, p[1] + NODE_H / 2, pos[to][0], pos[to][1] + NODE_H / 2, ch, "p" + i);
      });
    });
    objs.forEach(function (o) {
      var v = o[1], p = pos[o[0]];
      var color = colors[o[0]] || "uncoloured";
      var cls = "hnode " + color + (v.freed ? " freed" : "") + (changed[o[2]] || changed["color/" + o[0]] ? " changed" : "");
      var poisoned = v.ptrs.concat(v.imms).some(function (x) { return x === "NaN"; });
      var title = o[0] + " (" + v.space + ")" + (colors[o[0]] ? " " + colors[o[0]] : "") + (v.freed ? " FREED" : "") +
        " " + v.ptrs.map(function (r, i) { return "p" + i + "=" + (byId[r] !== undefined ? byId[r] : show(r)); }).join(" ");
      out.push("<g class=\\"" + cls + "\\" data-name=\\"" + esc(o[0]) + "\\"><title>" + esc(title) + "</title><rect x=\\"" + p[0] + "\\" y=\\"" + p[1] + "\\" width=\\"" + NODE_W + "\\" height=\\"" + NODE_H + "\\" rx=\\"5\\"/>" +
        "<text x=\\"" + (p[0] + NODE_W / 2) + "\\" y=\\"" + (p[1] + 19) + "\\">" + esc(o[0]) + "</text>" +
        (v.freed || poisoned ? "<line class=\\"cross\\" x1=\\"" + p[0] + "\\" y1=\\"" + p[1] + "\\" x2=\\"" + (p[0] + NODE_W) + "\\" y2=\\"" + (p[1] + NODE_H) + "\\"/><line class=\\"cross\\" x1=\\"" + (p[0] + NODE_W) + "\\" y1=\\"" + p[1] + "\\" x2=\\"" + p[0] + "\\" y2=\\"" + (p[1] + NODE_H) + "\\"/>" : "") +
        (poisoned ? "<text class=\\"poison\\" x=\\"" + p[0] + "\\" y=\\"" + (p[1] + NODE_H + 11) + "\\">poisoned</text>" : "") + "</g>");
    });
    out.push("</svg>");
    return out.join("");
  };

  Panel.prototype.waitFor = function (groups) {
    var box = this.root.querySelector(".waitfor-box"), id = this.id;
    var edges = [];
    (groups.fiber || []).forEach(function (f) {
      if (f[1].state === "blocked" && f[1].on) f[1].on.forEach(function (t) { edges.push([f[0], t, f[1].op]); });
    });
    if (edges.length === 0) { box.style.display = "none"; return; }
    box.style.display = "";
    var names = [];
    edges.forEach(function (e) { if (names.indexOf(e[0]) < 0) names.push(e[0]); if (names.indexOf(e[1]) < 0) names.push(e[1]); });
    var n = names.length, R = 70 + 12 * n, cx = R + 60, cy = R + 20, pos = {};
    names.forEach(function (nm, i) {
      var a = -Math.PI / 2 + 2 * Math.PI * i / n;
      pos[nm] = [cx + R * Math.cos(a), cy + R * Math.sin(a)];
    });
    var out = ["<svg xmlns=\\"" + SVGNS + "\\" width=\\"" + (2 * cx) + "\\" height=\\"" + (2 * cy) + "\\"><defs><marker id=\\"wf-arrow-" + this.id + "\\" viewBox=\\"0 0 10 10\\" refX=\\"9\\" refY=\\"5\\" markerWidth=\\"7\\" markerHeight=\\"7\\" orient=\\"auto\\"><path d=\\"M0,0 L10,5 L0,10 z\\" fill=\\"#8a1c17\\"/></marker></defs>"];
    edges.forEach(function (e) {
      var a = pos[e[0]], b = pos[e[1]];
      var dx = b[0] - a[0], dy = b[1] - a[1], len = Math.sqrt(dx * dx + dy * dy) || 1;
      var x1 = a[0] + dx / len * 22, y1 = a[1] + dy / len * 22, x2 = b[0] - dx / len * 22, y2 = b[1] - dy / len * 22;
      // Bend each edge to its right: two fibers waiting for each other get two arcs.
      var cx = (x1 + x2) / 2 - dy / len * 34, cy = (y1 + y2) / 2 + dx / len * 34;
      out.push("<path class=\\"wf-edge\\" d=\\"M" + x1 + "," + y1 + " Q" + cx + "," + cy + " " + x2 + "," + y2 + "\\" marker-end=\\"url(#wf-arrow-" + id + ")\\"/>");
      out.push("<text class=\\"wf-label\\" x=\\"" + (cx + 4) + "\\" y=\\"" + cy + "\\">" + esc(e[2]) + "</text>");
    });
    names.forEach(function (nm) {
      out.push("<g class=\\"wf-node\\"><circle cx=\\"" + pos[nm][0] + "\\" cy=\\"" + pos[nm][1] + "\\" r=\\"20\\"/><text x=\\"" + pos[nm][0] + "\\" y=\\"" + (pos[nm][1] + 4) + "\\">" + esc(nm) + "</text></g>");
    });
    out.push("</svg>");
    box.querySelector(".waitfor").innerHTML = out.join("");
  };

  Panel.prototype.markCenter = function (i) {
    var m = this.marks[i];
    if (!m) return null;
    return [Number(m.getAttribute("x")) + Number(m.getAttribute("width")) / 2, Number(m.getAttribute("y"))];
  };

  Panel.prototype.drawRf = function () {
    var layer = this.rfLayer, self = this;
    while (layer.firstChild) layer.removeChild(layer.firstChild);
    var pairs = [];
    if (this.root.querySelector(".all-rf").checked) {
      pairs = (this.data.rf || []).slice(0, 3000);
    } else {
      var i = this.step - 1;
      if (this.rfByRead[i]) pairs.push(this.rfByRead[i]);
      (this.rfByWrite[i] || []).forEach(function (p) { pairs.push(p); });
    }
    pairs.forEach(function (p) {
      var to = self.markCenter(p[0]);
      if (!to) return;
      var from = p[1] >= 0 ? self.markCenter(p[1]) : [self.x0 - 2, to[1]];
      if (!from) return;
      var mx = (from[0] + to[0]) / 2, top = Math.min(from[1], to[1]) - 14;
      var path = document.createElementNS(SVGNS, "path");
      path.setAttribute("class", "rf-arrow");
      path.setAttribute("d", "M" + from[0] + "," + from[1] + " Q" + mx + "," + top + " " + to[0] + "," + to[1]);
      path.setAttribute("marker-end", "url(#rf-head-" + self.id + ")");
      layer.appendChild(path);
      if (p[2] !== null) {
        var t = document.createElementNS(SVGNS, "text");
        t.setAttribute("class", "rf-label");
        t.setAttribute("x", mx); t.setAttribute("y", top + 4);
        t.textContent = p[2];
        layer.appendChild(t);
      }
    });
  };

  Panel.prototype.finding = function () {
    var box = this.root.querySelector(".finding"), d = this.data, self = this, ev = d.events;
    var html = "";
    if (d.race) {
      var a = ev[d.race.first], b = ev[d.race.second];
      html += "<p class=\\"race-note\\"><strong>Race</strong> on <code>" + esc(d.race.object) + "</code>: " +
        esc(a[1]) + " " + esc(a[3]) + " at <button type=\\"button\\" data-go=\\"" + a[0] + "\\">step " + a[0] + "</button>, then " +
        esc(b[1]) + " " + esc(b[3]) + " at <button type=\\"button\\" data-go=\\"" + b[0] + "\\">step " + b[0] + "</button>. " +
        (d.race.confirmed ? "With " + esc(b[1]) + "'s access first, the run does not fail this way (rerun checked)."
          : "A guess: the latest conflicting pair (no reordering was confirmed).") + "</p>";
    }
    if (d.zeno) {
      var z = d.zeno;
      html += "<p class=\\"zeno-note\\"><strong>Zeno</strong>: region <code>" + esc(z.region) + "</code> stuck at logical time " + z.now +
        " from <button type=\\"button\\" data-go=\\"" + z.fromStep + "\\">step " + z.fromStep + "</button> to step " + z.toStep +
        " (" + (z.toStep - z.fromStep + 1) + " steps: " + Object.keys(z.byFiber).map(function (f) { return esc(f) + " " + z.byFiber[f]; }).join(", ") + ").</p>";
    }
    box.innerHTML = html;
    box.querySelectorAll("button[data-go]").forEach(function (btn) {
      btn.addEventListener("click", function () { active = self; self.go(Number(btn.getAttribute("data-go")), true); });
    });
  };

  document.querySelectorAll("section.panel").forEach(function (s) {
    if (s.querySelector("script[data-timeline]") && s.querySelector(".slider")) panels.push(new Panel(s));
  });
  panels.slice().reverse().forEach(function (p) { p.go(p.failStep(), true); });
  active = panels[0] || null;

  document.addEventListener("click", function (ev) {
    var m = ev.target.closest ? ev.target.closest(".mark") : null;
    if (!m) return;
    var sec = m.closest("section.panel");
    for (var i = 0; i < panels.length; i++) {
      if (panels[i].root === sec) {
        active = panels[i];
        panels[i].go(Number(m.getAttribute("data-i")) + 1);
      }
    }
  });
  document.addEventListener("mouseover", function (ev) {
    var m = ev.target.closest ? ev.target.closest(".mark") : null;
    if (!m) return;
    var sec = m.closest("section.panel");
    panels.forEach(function (p) {
      if (p.root !== sec) return;
      var e = p.data.events[Number(m.getAttribute("data-i"))];
      var src = p.data.src[Number(m.getAttribute("data-i"))];
      details.textContent = p.id + " trace, step " + e[0] + ": core " + e[2] + ", fiber " + e[1] + ", " + e[3] +
        (e[4] ? " " + e[4] : "") + (e[5] ? " (writes)" : "") + ", virtual time " + e[6] +
        (e[0] === p.data.fail ? "  <- the failing step" : "") + (src >= 0 ? "  at " + p.data.files[src] : "");
    });
  });
  document.addEventListener("keydown", function (ev) {
    if (!active || ev.target.tagName === "INPUT" || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (ev.key === "ArrowLeft") { active.go(active.step - 1, true); ev.preventDefault(); }
    else if (ev.key === "ArrowRight") { active.go(active.step + 1, true); ev.preventDefault(); }
  });
})();
`;
