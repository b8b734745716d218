/**
 * Process functions (the third and fourth seed notes): `PF i o = [i → (o *
 * PF i o)]`, forked into a process with an input queue, whose sends give
 * futures.
 *
 * @module
 */
import type { Fiber } from "../sim/fiber.ts";
import type { Kernel } from "../sim/kernel.ts";
import type { Action } from "../sim/op.ts";
import { Channel } from "./channel.ts";
import { Future } from "./future.ts";

/** One step of a process function: an output, and the state the next call starts from. */
export interface Stepped<O, S> {
  /** What the call gives back. */
  readonly output: O;
  /** The state the next call starts from. */
  readonly state: S;
}

/**
 * A process function, written as a generator function declared once: given
 * its state and one input it gives an output and its next state. Shared
 * actions inside it (sends to other processes) are scheduling points.
 */
export type ProcessFn<I, O, S> = (state: S, input: I) => Action<Stepped<O, S>>;

/** How a process is forked. */
export interface ForkOptions {
  /**
   * Inputs queued before a send waits: the pushback that keeps a fast
   * producer from running ahead of a slow process. "unbounded" never waits.
   */
  readonly bound: number | "unbounded";
  /** The simulated core the process runs on; round-robin when absent. */
  readonly core?: number;
}

/** An input queued for a process, and the future its output resolves. */
export interface ProcessRequest<I, O> {
  /** The input. */
  readonly input: I;
  /** Resolved with the output once the process has served the input. */
  readonly reply: Future<O>;
}

/**
 * A forked process function: a fiber serving its input queue in order,
 * carrying the function's state from call to call. `send` queues an input
 * and gives a future of its output; `stop` closes the queue, waits for the
 * queued inputs to be served, and gives the final state.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * import type { Action } from "../sim/op.ts";
 * // A running sum: the state is the total so far.
 * function* sum(total: number, x: number): Action<Stepped<number, number>> {
 *   return { output: total + x, state: total + x };
 * }
 * function* client(p: Process<number, number, number>, out: unknown[]) {
 *   const a = yield* p.send(1);
 *   const b = yield* p.send(2);
 *   out.push(yield* b.join(), yield* a.join(), yield* p.stop());
 * }
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 1000 }, new RandomStrategy(), 1);
 * const p = Process.fork(k, "sum", sum, 0, { bound: 1 });
 * const out: unknown[] = [];
 * k.spawn("client", client, p, out);
 * assertEquals(k.execute().verdict, "pass");
 * assertEquals(out, [3, 1, 3]);
 * ```
 */
export class Process<I, O, S> {
  /** The process's name. */
  readonly name: string;
  /** Its input queue. */
  readonly queue: Channel<ProcessRequest<I, O>>;
  /** The fiber that serves the queue. */
  readonly fiber: Fiber;
  readonly #k: Kernel;
  readonly #fn: ProcessFn<I, O, S>;
  #state: S;
  #sent = 0;

  private constructor(
    kernel: Kernel,
    name: string,
    fn: ProcessFn<I, O, S>,
    state: S,
    options: ForkOptions,
  ) {
    this.#k = kernel;
    this.name = name;
    this.#fn = fn;
    this.#state = state;
    this.queue = new Channel(kernel, `${name}.queue`, { capacity: options.bound });
    this.fiber = kernel.spawn(
      options.core === undefined ? name : { name, core: options.core },
      serve<I, O, S>,
      this,
    );
  }

  /** `{&fork}`: starts a process running `fn` from `state`. Callable from setup or a fiber. */
  static fork<I, O, S>(
    kernel: Kernel,
    name: string,
    fn: ProcessFn<I, O, S>,
    state: S,
    options: ForkOptions,
  ): Process<I, O, S> {
    return new Process(kernel, name, fn, state, options);
  }

  /** Queues `input`, waiting while the queue is full; gives the future of its output. */
  *send(input: I): Action<Future<O>> {
    const reply = new Future<O>(this.#k, `${this.name}#${this.#sent++}`);
    const r = yield* this.queue.post({ input, reply });
    if (r.tag === "closed") {
      throw new Error(`Cannot send to process ${this.name}: it was stopped`);
    }
    return reply;
  }

  /** Closes the queue, waits until every queued input is served, gives the final state. */
  *stop(): Action<S> {
    yield* this.queue.close();
    yield* this.#k.join(this.fiber);
    return this.#state;
  }

  /** The state now, for checks: not a scheduling point. */
  peekState(): S {
    return this.#state;
  }

  /** @internal One call of the function, in the process's own fiber. */
  *step(input: I): Action<O> {
    const r = yield* this.#fn(this.#state, input);
    this.#state = r.state;
    return r.output;
  }
}

function* serve<I, O, S>(p: Process<I, O, S>): Action<void> {
  for (;;) {
    const r = yield* p.queue.retrieve();
    if (r.tag === "closed") return;
    const output = yield* p.step(r.value.input);
    yield* r.value.reply.resolve(output);
  }
}

// Stages of one pipeline have different input, output and state types; the
// line as a whole is typed only at its ends, by the caller.
/** A process of any types, as a pipeline holds its stages. */
// deno-lint-ignore no-explicit-any
export type AnyProcess = Process<any, any, any>;
/** A process function of any types, as a pipeline stage holds it. */
// deno-lint-ignore no-explicit-any
export type AnyFn = ProcessFn<any, any, any>;

/** A stage of a pipeline: a process function and its first state. */
export interface Stage {
  /** The stage's name. */
  readonly name: string;
  /** The process function. */
  readonly fn: AnyFn;
  /** The state the first call starts from. */
  readonly state: unknown;
}

interface Forward {
  readonly fn: AnyFn;
  inner: unknown;
  readonly next: AnyProcess;
}

// A stage that is not the last: run the stage's function, send its output on,
// and answer with the next stage's future (PF i o → PF i (future o)).
function* forward(s: Forward, input: unknown): Action<Stepped<unknown, Forward>> {
  const r = yield* s.fn(s.inner, input);
  s.inner = r.state;
  const output = yield* s.next.send(r.output);
  return { output, state: s };
}

/**
 * Processes in a line: each stage's output is the next stage's input. A send
 * gives a future of a future ... of the last output; `settle` follows it.
 * Stopping goes front to back, so each stage has handed on all its work
 * before the next one's queue closes.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * import type { Action } from "../sim/op.ts";
 * import { settle } from "./future.ts";
 * function* double(s: null, x: number): Action<Stepped<number, null>> {
 *   return { output: 2 * x, state: s };
 * }
 * function* client(p: Pipeline, out: unknown[]) {
 *   const f = yield* p.send(5);
 *   out.push(yield* settle(f));
 *   yield* p.stop();
 * }
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 1000 }, new RandomStrategy(), 1);
 * const stage = (name: string) => ({ name, fn: double, state: null });
 * const p = new Pipeline(k, [stage("a"), stage("b"), stage("c")], { bound: 1 });
 * const out: unknown[] = [];
 * k.spawn("client", client, p, out);
 * assertEquals(k.execute().verdict, "pass");
 * assertEquals(out, [40]);
 * ```
 */
export class Pipeline {
  /** The stages' processes, front to back. */
  readonly stages: readonly AnyProcess[];

  /** Forks a process per stage, front to back. */
  constructor(kernel: Kernel, stages: readonly Stage[], options: ForkOptions) {
    if (stages.length === 0) throw new RangeError("Cannot build a pipeline of no stages");
    const procs: AnyProcess[] = [];
    // Fork back to front, so each stage knows the process it feeds.
    for (let i = stages.length - 1; i >= 0; i--) {
      const { name, fn, state } = stages[i];
      const next = procs[0];
      procs.unshift(
        next === undefined
          ? Process.fork(kernel, name, fn, state, options)
          : Process.fork(kernel, name, forward, { fn, inner: state, next }, options),
      );
    }
    this.stages = procs;
  }

  /** Sends `input` to the first stage; waits while its queue is full. */
  send(input: unknown): Action<Future<unknown>> {
    return this.stages[0].send(input);
  }

  /** Stops every stage, front to back. */
  *stop(): Action<void> {
    for (const p of this.stages) yield* p.stop();
  }
}
