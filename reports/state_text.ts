/**
 * A recorded state as text, for `--replay FILE --at N`: fibers, the heap,
 * roots, locks and the other sections, then every cell.
 *
 * @module
 */
import type { StateMap } from "../sim/state.ts";

type Json = unknown;

/** Sections in the order they are printed; others follow alphabetically, cells last. */
const ORDER = ["fiber", "heap", "root", "lock", "gc"];

function group(state: StateMap): Map<string, [string, Json][]> {
  const out = new Map<string, [string, Json][]>();
  for (const [key, text] of state) {
    const slash = key.indexOf("/");
    const section = key.slice(0, slash);
    const name = key.slice(slash + 1);
    let list = out.get(section);
    if (list === undefined) out.set(section, list = []);
    list.push([name, JSON.parse(text)]);
  }
  return out;
}

function show(v: Json): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/**
 * The state as indented lines; keys in `changed` (changed by the step
 * shown) get a `*`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * const state = new Map([["cell/c", "1"], ["fiber/w", '{"core":0,"state":"done","op":""}']]);
 * assertEquals(formatState(state, new Set(["cell/c"])), [
 *   "fibers:", "    w  core 0  done", "cells:", "  * c = 1",
 * ]);
 * ```
 */
export function formatState(state: StateMap, changed: ReadonlySet<string>): string[] {
  const groups = group(state);
  const mark = (section: string, name: string) =>
    changed.has(`${section}/${name}`) ? "  * " : "    ";
  const lines: string[] = [];
  const names = new Map<number, string>();
  for (const [name, o] of groups.get("heap") ?? []) names.set((o as { id: number }).id, name);
  const ref = (r: Json) =>
    typeof r === "number" && r >= 0 ? names.get(r) ?? `#${r}` : r === -1 ? "null" : show(r);
  const colors = new Map(groups.get("color") ?? []);
  const sections = [...groups.keys()].filter((s) => s !== "cell" && s !== "color")
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  for (const section of sections) {
    const entries = groups.get(section) ?? [];
    if (section === "fiber") {
      lines.push("fibers:");
      const width = Math.max(...entries.map(([n]) => n.length));
      for (const [name, f] of entries as [string, FiberJson][]) {
        const waits = f.waits === undefined ? "" : ` (waits for ${f.waits})`;
        lines.push(
          `${mark(section, name)}${name.padEnd(width)}  core ${f.core}  ${f.state}` +
            `${f.op === "" ? "" : `  next: ${f.op}`}${waits}`,
        );
      }
    } else if (section === "heap") {
      lines.push("heap:");
      const width = Math.max(...entries.map(([n]) => n.length));
      for (const [name, o] of entries as [string, HeapJson][]) {
        const color = colors.get(name);
        const fields = [
          ...o.ptrs.map((p, i) => `p${i} → ${ref(p)}`),
          ...o.imms.map((v, i) => `i${i} = ${show(v)}`),
        ];
        const tags = [
          color === undefined ? "" : String(color),
          o.freed ? "FREED" : "",
          o.fwd === undefined ? "" : `forwarded to ${ref(o.fwd)}`,
        ].filter((t) => t !== "");
        const changedHere = changed.has(`heap/${name}`) || changed.has(`color/${name}`);
        lines.push(
          `${changedHere ? "  * " : "    "}${name.padEnd(width)}  ${o.space}` +
            `${tags.length === 0 ? "" : `  [${tags.join(", ")}]`}  ${fields.join(", ")}`.trimEnd(),
        );
      }
    } else if (section === "root") {
      lines.push("roots:");
      for (const [name, r] of entries) lines.push(`${mark(section, name)}${name} → ${ref(r)}`);
    } else {
      lines.push(`${section === "lock" ? "locks" : section}:`);
      for (const [name, v] of entries) lines.push(`${mark(section, name)}${name}: ${show(v)}`);
    }
  }
  const cells = groups.get("cell") ?? [];
  if (cells.length > 0) {
    lines.push("cells:");
    for (const [name, v] of cells) lines.push(`${mark("cell", name)}${name} = ${show(v)}`);
  }
  return lines;
}

function rank(section: string): number {
  const i = ORDER.indexOf(section);
  return i < 0 ? ORDER.length : i;
}

interface FiberJson {
  core: number;
  state: string;
  op: string;
  waits?: string;
}

interface HeapJson {
  id: number;
  space: string;
  ptrs: Json[];
  imms: Json[];
  freed: boolean;
  fwd?: number;
}

/** The keys whose values differ between two states. */
export function changedKeys(before: StateMap | null, after: StateMap): Set<string> {
  const out = new Set<string>();
  if (before === null) return out;
  for (const [k, v] of after) if (before.get(k) !== v) out.add(k);
  for (const k of before.keys()) if (!after.has(k)) out.add(k);
  return out;
}
