/**
 * Messages between contexts, read in place while the sender's collector
 * compacts.
 *
 * @module
 */
import { z } from "zod";
import { CommsMatrix, Context } from "../runtime/comms.ts";
import { Heap, WORD_BYTES } from "../runtime/heap.ts";
import type { Action } from "../sim/op.ts";
import { Violation } from "../sim/outcome.ts";
import { defineScenario, type Scenario } from "../sim/scenario.ts";
import { RunLedger } from "./_ledger.ts";

/** Bytes of one message node: header, next pointer, one word. */
const NODE_BYTES = 8 + 2 * WORD_BYTES;

/** Word j of message i. */
function word(i: number, j: number): number {
  return 100 * (i + 1) + j;
}

function* send(
  m: CommsMatrix,
  from: Context,
  to: Context,
  messages: number,
  words: number,
  gcs: number,
) {
  for (let i = 0; i < messages; i++) {
    const body: number[] = [];
    for (let j = 0; j < words; j++) body.push(word(i, j));
    yield* m.send(from, to, body);
    for (let g = 0; g < gcs; g++) yield* from.collect();
  }
}

function* receive(
  m: CommsMatrix,
  at: Context,
  from: Context,
  ledger: RunLedger,
  messages: number,
  words: number,
): Action<void> {
  for (let i = 0; i < messages; i++) {
    const got = yield* m.receive(at, from);
    for (let j = 0; j < words; j++) {
      if (got[j] !== word(i, j) || got.length !== words) {
        throw new Violation(
          "message-intact",
          `message ${i} read as [${got.join(", ")}], sent as ` +
            `[${Array.from({ length: words }, (_, j) => word(i, j)).join(", ")}]`,
        );
      }
    }
    ledger.run(i, at.name);
  }
}

/** The parameters of `comms` (see its `params` schema for ranges and defaults). */
export type CommsParams = {
  /** Messages context A sends to context B. */
  readonly messages: number;
  /** Words in each message. */
  readonly words: number;
  /** Messages that may be in flight at once. */
  readonly slots: number;
  /** Compactions A runs after each send. */
  readonly gcs: number;
};

/**
 * `comms`: context A builds messages in its own heap and announces them in
 * the comms matrix; context B reads each in place, under A's collector lock,
 * and marks it done; A compacts its heap after every send, moving whatever is
 * still in flight. Checks: every message read exactly once and intact, and
 * the heap's own checks (no free of a message a reader still holds, no use
 * after free).
 */
export const comms: Scenario<CommsParams> = defineScenario({
  name: "comms",
  description: "a receiver reads messages in place in the sender's heap while it compacts",
  params: z.object({
    messages: z.number().int().min(1).max(16).default(3),
    words: z.number().int().min(1).max(8).default(2),
    slots: z.number().int().min(1).max(4).default(1),
    gcs: z.number().int().min(1).max(4).default(1),
  }),
  variants: {
    correct: {
      description: "the receiver holds the sender's collector lock while it reads",
      // DPOR explores every interleaving class of the default parameters in 18 schedules.
      expect: { verdict: "pass", budget: { strategy: "dpor", runs: 1_000 } },
    },
    "no-gc-lock": {
      description: "the receiver reads without the lock, while the sender's collector compacts",
      expect: { verdict: "bug", check: "free-safety", budget: { strategy: "pct", runs: 2_000 } },
    },
  },
  stepsMax: (p) => 2_000 + 100 * p.messages * p.words * (p.gcs + 1),
  setup(k, { messages, words, slots, gcs }, variant) {
    const heap = new Heap(k);
    const flaw = variant === "no-gc-lock" ? "no-gc-lock" : null;
    const bytes = NODE_BYTES * words * (slots + 1);
    const a = new Context(heap, "A", { bytes, flaw });
    const b = new Context(heap, "B", { bytes, flaw });
    const m = new CommsMatrix(k, [a, b], { slots });
    const ledger = new RunLedger(messages, "read-once");
    k.spawn("A", send, m, a, b, messages, words, gcs);
    k.spawn("B", receive, m, b, a, ledger, messages, words);
    k.invariant("read-once", () => ledger.missing());
  },
});
