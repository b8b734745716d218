/**
 * Supervision: runs per second of one sweep on this thread, and on the
 * supervised worker the `sim` command uses by default (`--step-timeout`),
 * worker start-up included; and the time to a verdict of a one-run command.
 * Medians of 3; the README quotes a run of it.
 */
import { lostUpdate } from "../scenarios/mod.ts";
import { judge, makeTarget, planFor } from "../sim/explore.ts";
import { Supervisor } from "../scale/supervisor.ts";
import { median, printTable } from "./_measure.ts";

const RUNS = 200_000;

/** Prints the supervision section. */
export async function superviseBench(): Promise<void> {
  console.log(
    `\n## Supervision: one sweep of ${RUNS.toLocaleString("en")} runs ` +
      "(lost-update/locked, random strategy; every run sent back, as runs.jsonl needs)\n",
  );
  const target = makeTarget(lostUpdate, "locked");
  const plan = { strategy: "random", runs: RUNS };
  const options = { ...planFor(target, plan), seed: 1, onRun: () => {} };
  const time = async (fn: () => unknown): Promise<number> => {
    const samples: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await fn();
      samples.push(performance.now() - t0);
    }
    return median(samples);
  };
  const base = await time(() => judge(target, options));
  const rows: (string | number)[][] = [
    ["this thread (--step-timeout 0)", Math.round(base), Math.round((RUNS / base) * 1000), "1.00x"],
  ];
  const supervised = await time(async () => {
    const sup = new Supervisor({ stepTimeoutMs: 10_000, heapMaxBytes: 2 ** 31 });
    try {
      await sup.judge(target, plan, options);
    } finally {
      sup.close();
    }
  });
  rows.push([
    "supervised worker (default)",
    Math.round(supervised),
    Math.round((RUNS / supervised) * 1000),
    `${(base / supervised).toFixed(2)}x`,
  ]);
  printTable(["where", "ms", "runs/s", "speed"], rows);
  console.log(
    "\nTime to a verdict of `sim --scenario lost-update --variant racy` (process start included):\n",
  );
  const command = (timeout: string) => async () => {
    await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../cli.ts", import.meta.url).pathname,
        "--scenario",
        "lost-update",
        "--variant",
        "racy",
        "--no-shrink",
        "--step-timeout",
        timeout,
        "--out",
        Deno.makeTempDirSync(),
      ],
      stdout: "null",
      stderr: "null",
    }).output();
  };
  const plain = await time(command("0"));
  const watched = await time(command("10"));
  printTable(["where", "ms"], [
    ["this thread", Math.round(plain)],
    ["supervised worker", Math.round(watched)],
  ]);
}

if (import.meta.main) await superviseBench();
