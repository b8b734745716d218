/**
 * What the HTML report embeds to show the state at every step: the recorded
 * deltas, a fixed layout of the heap graph, reads-from pairs, the Zeno
 * instant and the first difference between two traces. The page rebuilds
 * the state at the cursor from these.
 *
 * @module
 */
import type { StepEvent } from "../sim/events.ts";
import type { ReadsFromLog } from "../sim/memory.ts";
import { type Change, encodeValue, type StateRecording } from "../sim/state.ts";
import type { Timeline } from "./timeline.ts";

/** A recording as JSON text; values are embedded as JSON, not as strings. */
export function recordingJson(rec: StateRecording): string {
  const changes = (cs: readonly Change[]) =>
    `[${cs.map(([k, v]) => (v === null ? `[${k}]` : `[${k},${v}]`)).join(",")}]`;
  return `{"keys":${JSON.stringify(rec.keys)},"from":${rec.from},"steps":${rec.steps},` +
    `"capped":${rec.capped},"base":${changes(rec.base)},` +
    `"deltas":[${rec.deltas.map(changes).join(",")}]}`;
}

/** Walks a recording from its base, calling `at(step, state)` for every step kept. */
function walk(
  rec: StateRecording,
  at: (step: number, state: Map<string, string>, changed: readonly Change[]) => void,
): void {
  const state = new Map<string, string>();
  for (const [k, v] of rec.base) if (v !== null) state.set(rec.keys[k], v);
  at(rec.from, state, rec.base);
  rec.deltas.forEach((d, i) => {
    for (const [k, v] of d) v === null ? state.delete(rec.keys[k]) : state.set(rec.keys[k], v);
    at(rec.from + i + 1, state, d);
  });
}

/** Where the heap graph draws each object and root: fixed for the whole run. */
export interface HeapLayout {
  /** Root names, top to bottom, in column 0. */
  readonly roots: readonly string[];
  /** Object name → [column (1..), row]. */
  readonly objects: Readonly<Record<string, readonly [number, number]>>;
}

interface HeapJson {
  id: number;
  ptrs: unknown[];
}

/**
 * A layout that does not move as the cursor moves. An object's column is
 * its distance from the roots when it first appears. Objects the roots do
 * not reach then (often allocated first and linked later) are placed by
 * every pointer that existed at any step: their distance in that graph,
 * and what no root ever reaches is laid out the same way from the objects
 * nothing points to, right of the rest. Rows follow the order objects
 * first appeared in.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * const rec = { keys: ["root/g", "heap/A", "heap/B"], from: 0, steps: 0, capped: false, bytes: 0,
 *   base: [[0, "0"], [1, '{"id":0,"ptrs":[1]}'], [2, '{"id":1,"ptrs":[-1]}']] as const, deltas: [] };
 * assertEquals(heapLayout(rec), { roots: ["g"], objects: { A: [1, 0], B: [2, 0] } });
 * ```
 */
export function heapLayout(rec: StateRecording): HeapLayout {
  const roots: string[] = [];
  const order: string[] = [];
  const byId = new Map<number, string>();
  const edges = new Map<string, Set<number>>();
  const rootEdges = new Set<number>();
  const visit = (changes: readonly Change[]) => {
    for (const [k, v] of changes) {
      if (v === null) continue;
      const key = rec.keys[k];
      if (key.startsWith("root/")) {
        const name = key.slice(5);
        if (!roots.includes(name)) roots.push(name);
        const r = JSON.parse(v);
        if (typeof r === "number" && r >= 0) rootEdges.add(r);
      } else if (key.startsWith("heap/")) {
        const name = key.slice(5);
        const o = JSON.parse(v) as HeapJson;
        let out = edges.get(name);
        if (out === undefined) {
          order.push(name);
          byId.set(o.id, name);
          edges.set(name, out = new Set());
        }
        for (const p of o.ptrs) if (typeof p === "number" && p >= 0) out.add(p);
      }
    }
  };
  // Depth from the roots when an object first appears, if they reach it then.
  const appear = new Map<string, number>();
  const reachAt = (state: Map<string, string>) => {
    const ids = new Map<number, string>();
    for (const [key, text] of state) {
      if (key.startsWith("heap/")) ids.set((JSON.parse(text) as HeapJson).id, key.slice(5));
    }
    const d = new Map<string, number>();
    let frontier: string[] = [];
    for (const [key, text] of state) {
      if (!key.startsWith("root/")) continue;
      const name = ids.get(JSON.parse(text) as number);
      if (name !== undefined && !d.has(name)) {
        d.set(name, 1);
        frontier.push(name);
      }
    }
    while (frontier.length > 0) {
      const next: string[] = [];
      for (const name of frontier) {
        for (const p of (JSON.parse(state.get(`heap/${name}`) as string) as HeapJson).ptrs) {
          const to = typeof p === "number" ? ids.get(p) : undefined;
          if (to !== undefined && !d.has(to)) {
            d.set(to, (d.get(name) as number) + 1);
            next.push(to);
          }
        }
      }
      frontier = next;
    }
    return d;
  };
  walk(rec, (_step, state, changed) => {
    const before = order.length;
    visit(changed);
    if (order.length === before) return;
    const d = reachAt(state);
    for (const name of order.slice(before)) {
      const at = d.get(name);
      if (at !== undefined) appear.set(name, at);
    }
  });
  const targets = (name: string) =>
    [...(edges.get(name) ?? [])].map((id) => byId.get(id)).filter((n) => n !== undefined);
  const depth = new Map<string, number>(appear);
  const bfs = (start: string[], base: number) => {
    let frontier = start.filter((n) => !depth.has(n));
    for (const n of frontier) depth.set(n, base);
    while (frontier.length > 0) {
      const next: string[] = [];
      for (const name of frontier) {
        for (const to of targets(name)) {
          if (!depth.has(to)) {
            depth.set(to, (depth.get(name) as number) + 1);
            next.push(to);
          }
        }
      }
      frontier = next;
    }
  };
  for (const id of rootEdges) {
    const n = byId.get(id);
    if (n !== undefined && !depth.has(n)) depth.set(n, 1);
  }
  // Level by level, so objects placed where they appeared pass their depth on.
  for (let level = 1; [...depth.values()].some((d) => d >= level); level++) {
    for (const [name, d] of [...depth]) {
      if (d !== level) continue;
      for (const to of targets(name)) if (!depth.has(to)) depth.set(to, level + 1);
    }
  }
  const reached = Math.max(0, ...depth.values());
  const loose = order.filter((n) => !depth.has(n));
  const pointedTo = new Set(loose.flatMap((n) => targets(n).filter((t) => t !== n)));
  bfs(loose.filter((n) => !pointedTo.has(n)), reached + 1);
  bfs(loose, reached + 1); // cycles nothing outside points into
  const objects: Record<string, [number, number]> = {};
  const rows = new Map<number, number>();
  for (const name of order) {
    const col = depth.get(name) as number;
    const row = rows.get(col) ?? 0;
    rows.set(col, row + 1);
    objects[name] = [col, row];
  }
  return { roots, objects };
}

/** A read and the write it saw: event indexes (-1: the value setup left), and the value. */
export type ReadsFrom = readonly [read: number, write: number, value: string | null];

/**
 * For every read of a cell (and every read-modify-write), the write it read
 * from and the value it read. Under `sc` that is the last write to the cell
 * before it (the kernel runs steps one at a time); under a weak model the
 * run's own log says which store each load read (`Kernel.logReadsFrom`): a
 * store still in the reader's buffer, a drained one, or under `ra` any
 * store its view allowed. Write -1 is the initial value.
 */
export function readsFrom(
  events: readonly StepEvent[],
  rec: StateRecording | null,
  log: ReadsFromLog | null = null,
): ReadsFrom[] {
  if (log !== null) return readsFromLog(events, log);
  const cells = new Set<string>();
  if (rec !== null) {
    for (const k of rec.keys) if (k.startsWith("cell/")) cells.add(k.slice(5));
  }
  const last = new Map<string, number>();
  const pairs: [number, number][] = [];
  events.forEach((e, i) => {
    if (e.object === "" || !cells.has(e.object)) return;
    if (!e.write || e.kind === "rmw") {
      pairs.push([i, last.get(e.object) ?? -1]);
    }
    if (e.write) last.set(e.object, i);
  });
  // `walk` reuses its map: take the values as it goes.
  const values = new Map<number, Map<string, string>>();
  if (rec !== null) {
    const needed = new Map<number, string[]>();
    for (const [r] of pairs) {
      const e = events[r];
      const list = needed.get(e.step - 1) ?? [];
      list.push(e.object);
      needed.set(e.step - 1, list);
    }
    walk(rec, (step, state) => {
      const names = needed.get(step);
      if (names === undefined) return;
      const m = new Map<string, string>();
      for (const n of names) {
        const v = state.get(`cell/${n}`);
        if (v !== undefined) m.set(n, v);
      }
      values.set(step, m);
    });
  }
  return pairs.map(([r, w]) => {
    const e = events[r];
    return [r, w, values.get(e.step - 1)?.get(e.object) ?? null] as const;
  });
}

function readsFromLog(events: readonly StepEvent[], log: ReadsFromLog): ReadsFrom[] {
  const index = new Map<number, number>();
  events.forEach((e, i) => index.set(e.step, i));
  const out: ReadsFrom[] = [];
  events.forEach((e, i) => {
    const rf = log.get(e.step);
    if (rf === undefined) return;
    out.push([i, index.get(rf[0]) ?? -1, encodeValue(rf[1])]);
  });
  return out;
}

/** The stuck instant of a Zeno failure: the region, its clock, and the steps taken at it. */
export interface ZenoInstant {
  readonly region: string;
  readonly now: number;
  /** The first and last step at that instant. */
  readonly fromStep: number;
  readonly toStep: number;
  /** Steps at the instant, by fiber. */
  readonly byFiber: Readonly<Record<string, number>>;
}

/**
 * For a `zeno` failure: the region its message names and the run of steps
 * during which that region's clock stood still at the end.
 */
export function zenoInstant(t: Timeline): ZenoInstant | null {
  const rec = t.state;
  if (t.outcome.verdict !== "zeno" || rec === null) return null;
  const named = rec.keys.filter((k) => k.startsWith("clock/") && k !== "clock/virtual time")
    .map((k) => k.slice(6)).filter((r) => t.outcome.message.startsWith(`${r} `))
    .sort((a, b) => b.length - a.length)[0];
  if (named === undefined) return null;
  const key = `clock/${named}`;
  const nowAt: (number | null)[] = [];
  walk(rec, (step, state) => {
    const v = state.get(key);
    nowAt[step] = v === undefined ? null : (JSON.parse(v) as { now: number }).now;
  });
  const end = Math.min(t.outcome.step, nowAt.length - 1);
  const now = nowAt[end];
  if (now === null || now === undefined) return null;
  let from = end;
  while (from - 1 > rec.from && nowAt[from - 1] === now) from--;
  const byFiber: Record<string, number> = {};
  for (const e of t.events) {
    if (e.step >= from && e.step <= end) byFiber[e.name] = (byFiber[e.name] ?? 0) + 1;
  }
  return { region: named, now, fromStep: from, toStep: end, byFiber };
}

/**
 * The first step at which two runs part (a different fiber or operation),
 * or null when one is a prefix of the other and they have the same length.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * const e = (step: number, name: string) => ({ step, fiber: 0, name, core: 0, kind: "read",
 *   obj: 0, object: "x", write: false, time: step });
 * assertEquals(firstDifference([e(1, "a"), e(2, "b")], [e(1, "a"), e(2, "a")]), 2);
 * assertEquals(firstDifference([e(1, "a")], [e(1, "a")]), null);
 * ```
 */
export function firstDifference(a: readonly StepEvent[], b: readonly StepEvent[]): number | null {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x.name !== y.name || x.kind !== y.kind || x.object !== y.object) return i + 1;
  }
  return a.length === b.length ? null : n + 1;
}
