/**
 * Timing helpers for the bench task: medians of repeated measurements in one
 * process, so ratios compare like with like.
 */
import { cpuUsage } from "../deps.ts";

/** Runs `fn` (which returns how many units it did) `reps` times; the median ns per unit. */
export function nsPerUnit(fn: () => number, reps = 7): number {
  fn(); // warm up: let the JIT settle before measuring
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const units = fn();
    samples.push(((performance.now() - t0) * 1e6) / units);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

/**
 * The CPU time this process has used, in milliseconds. On a machine shared
 * with other jobs it is steadier than the wall clock: time spent waiting for
 * a core is not counted.
 */
export function cpuMs(): number {
  const u = cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The median of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Prints a table with a header row. */
export function printTable(head: string[], rows: (string | number)[][]): void {
  const cells = rows.map((r) => r.map(String));
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => x.padStart(widths[i])).join("  ");
  console.log(line(head));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const c of cells) console.log(line(c));
}
