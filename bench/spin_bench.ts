/**
 * Side by side with SPIN (`spin -a`, gcc, `pan`) on the same small models:
 * lost-update with N fibers, racy (a bug to find) and locked (a space to
 * exhaust). Time to a verdict, start-up included, as a user feels it.
 * Skipped when `spin` or `gcc` is not installed (Debian's `spin` package).
 */
import { lostUpdate } from "../scenarios/mod.ts";
import { DporStrategy } from "../sim/dpor.ts";
import { exploreExhaustive } from "../sim/exhaustive.ts";
import { makeTarget } from "../sim/explore.ts";
import { printTable } from "./_measure.ts";

/** Promela for lost-update: N processes each increment a shared counter once. */
function model(fibers: number, locked: boolean): string {
  const take = locked ? "atomic { !lock -> lock = true };" : "";
  const give = locked ? "lock = false;" : "";
  return `byte counter = 0;
byte done = 0;
bool lock = false;
active [${fibers}] proctype inc() {
  byte v;
  ${take}
  v = counter;
  counter = v + 1;
  ${give}
  done++
}
active proctype check() {
  (done == ${fibers}) -> assert(counter == ${fibers})
}
`;
}

async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success && !cmd.endsWith("/pan")) throw new Error(`${cmd} failed: ${text}`);
  return text;
}

async function have(cmd: string): Promise<boolean> {
  try {
    await new Deno.Command(cmd, { args: ["-V"], stdout: "null", stderr: "null" }).output();
    return true;
  } catch {
    return false;
  }
}

function ms(x: number): string {
  return x < 1000 ? `${x.toFixed(0)} ms` : `${(x / 1000).toFixed(2)} s`;
}

/** Prints the SPIN comparison section of the bench report. */
export async function spinBench(): Promise<void> {
  console.log("\n## Beside SPIN: lost-update, time to a verdict\n");
  if (!(await have("spin")) || !(await have("gcc"))) {
    console.log("skipped: spin or gcc is not installed (apt-get install spin gcc)");
    return;
  }
  const dir = await Deno.makeTempDir({ prefix: "simtest-spin-" });
  const rows: string[][] = [];
  try {
    for (const [variant, locked] of [["racy", false], ["locked", true]] as const) {
      for (const fibers of [2, 3, 4, 5]) {
        await Deno.writeTextFile(`${dir}/m.pml`, model(fibers, locked));
        const t0 = performance.now();
        await run("spin", ["-a", "m.pml"], dir);
        const t1 = performance.now();
        await run("gcc", ["-O2", "-DSAFETY", "-o", "pan", "pan.c"], dir);
        const t2 = performance.now();
        const pan = await run(`${dir}/pan`, [], dir);
        const t3 = performance.now();
        const states = /(\d+) states, stored/.exec(pan)?.[1] ?? "?";
        const errors = /errors: (\d+)/.exec(pan)?.[1] ?? "?";
        const target = makeTarget(lostUpdate, variant, { params: { fibers } });
        const s0 = performance.now();
        const r = exploreExhaustive(target, new DporStrategy(), { runs: 1e6 });
        const s1 = performance.now();
        rows.push([
          `${variant}, ${fibers} fibers`,
          errors === "0" ? "pass" : "bug",
          states,
          ms(t1 - t0),
          ms(t2 - t1),
          ms(t3 - t2),
          ms(t3 - t0),
          r.failures.length > 0 ? "bug" : r.exhausted ? "pass" : "?",
          String(r.schedules),
          ms(s1 - s0),
        ]);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  printTable([
    "model",
    "SPIN",
    "states",
    "spin -a",
    "gcc",
    "pan",
    "SPIN total",
    "DPOR",
    "schedules",
    "DPOR time",
  ], rows);
  console.log(
    "\nSPIN stores states (stateful search, partial-order reduction); DPOR stores none and" +
      "\nre-executes each schedule. SPIN's total is dominated by compiling the verifier; DPOR's" +
      "\ntime excludes Deno's start-up (about 35 ms, 50 ms more with the imports).",
  );
}

if (import.meta.main) await spinBench();
