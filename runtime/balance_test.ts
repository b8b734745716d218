import { assertEquals } from "../deps.ts";
import { Kernel } from "../sim/kernel.ts";
import { RandomStrategy } from "../sim/random.ts";
import { Balancer } from "./balance.ts";

function* dispatch(lb: Balancer<number>, tasks: number) {
  for (let t = 0; t < tasks; t++) yield* lb.assign(t);
  yield* lb.close();
}

function* work(lb: Balancer<number>, me: number, ran: number[][]) {
  for (;;) {
    const r = yield* lb.next(me);
    if (r.tag === "closed") return;
    ran[me].push(r.value);
    yield* lb.finished(me);
  }
}

Deno.test("every task runs once, in dispatch order per worker, under random schedules", () => {
  for (let seed = 0; seed < 300; seed++) {
    const k = new Kernel();
    k.reset({ cores: 0, stepsMax: 10_000 }, new RandomStrategy(), seed);
    const lb = new Balancer<number>(k, "lb", { workers: 3, capacity: 1 });
    const ran: number[][] = [[], [], []];
    k.spawn("d", dispatch, lb, 7);
    for (let w = 0; w < 3; w++) k.spawn(`w${w}`, work, lb, w, ran);
    assertEquals(k.execute().verdict, "pass");
    for (const r of ran) assertEquals(r, [...r].sort((a, b) => a - b));
    assertEquals(ran.flat().sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6]);
  }
});
