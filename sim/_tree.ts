/**
 * The path through a tree of choices that a stateless exhaustive strategy
 * replays at the start of each run and extends past its end.
 */
import type { Kernel } from "./kernel.ts";
import { Nondeterminism, PrunedRun } from "./outcome.ts";

/** A `choose(n)` (or `chance`) point: every value is explored. */
export interface ValueNode {
  readonly kind: "value";
  readonly n: number;
  /** The values tried, in order (a seeded order, or one forced value); null for 0, 1, ... n-1. */
  readonly values: readonly number[] | null;
  /** How many values were tried before the current one. */
  chosen: number;
}

/** The order children of a node are explored in. */
export type Order = "default" | "random";

/** The orders `--order` accepts. */
export const ORDERS: readonly Order[] = ["default", "random"];

function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A seeded child order that depends only on the seed and the choices on the
 * path to a node, never on which schedules ran before: the same node gets the
 * same order in every run, in every worker and on every shard.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * const a = new PathOrder(), b = new PathOrder();
 * a.begin(7); b.begin(7);
 * a.step(2); b.step(2);
 * assertEquals(a.shuffle([0, 1, 2, 3]), b.shuffle([0, 1, 2, 3]));
 * ```
 */
export class PathOrder {
  #key = 0;

  /** Starts at the root, with the run's seed. */
  begin(seed: number): void {
    this.#key = mix32((seed ^ 0x5bd1e995) + Math.floor(seed / 0x100000000));
  }

  /** Moves to the child reached by choosing `value`. */
  step(value: number): void {
    this.#key = mix32(this.#key ^ Math.imul(value + 1, 0x9e3779b9));
  }

  /** The current node's key: a number drawn from the path to it. */
  get key(): number {
    return this.#key;
  }

  /** `items` in an order drawn from the current node's key (a new array). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    let h = this.#key;
    for (let i = out.length - 1; i > 0; i--) {
      h = mix32(h + 0x6d2b79f5);
      const j = h % (i + 1);
      const t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    return out;
  }

  /** A number in [0, n) drawn from `key` and `i`: the i-th pick at a node. */
  static pick(key: number, i: number, n: number): number {
    return mix32(key + Math.imul(i + 1, 0x27d4eb2f)) % n;
  }
}

/** The nodes of the current path: scheduling nodes `S`, and value nodes. */
export class ChoicePath<S extends { readonly kind: string }> {
  readonly nodes: (S | ValueNode)[] = [];
  /** The seeded order of children, or null for the default order. */
  order: PathOrder | null = null;
  /**
   * Decisions every run takes first (fiber ids and values, as a trace records
   * them): the walk explores only the subtree below them.
   */
  prefix: readonly number[] = [];
  /** A run that reaches this many decisions is cut off there (`PrunedRun`). */
  cutAt = Infinity;
  #pos = 0;
  #decision = 0;
  /** Nodes below this index are pinned by the prefix: `advance` never changes them. */
  #pinned = 0;

  /** Starts a run: the path is replayed from its first node. */
  begin(): void {
    this.#pos = 0;
    this.#decision = 0;
  }

  /**
   * Called at each decision (a choice among two or more fibers, or of a
   * value), before its node is replayed or made: the value the prefix forces
   * there, if any. Throws `PrunedRun` at the cut.
   */
  decide(): number | undefined {
    const d = this.#decision++;
    if (d >= this.cutAt) throw new PrunedRun();
    if (d >= this.prefix.length) return undefined;
    if (this.#pos >= this.#pinned) this.#pinned = this.#pos + 1;
    return this.prefix[d];
  }

  /** How many decisions this run has taken so far. */
  get decided(): number {
    return this.#decision;
  }

  /** The next node when replaying the explored prefix; undefined past its end. */
  replayed(): S | ValueNode | undefined {
    return this.#pos < this.nodes.length ? this.nodes[this.#pos++] : undefined;
  }

  /** Extends the path with a new scheduling node. */
  push(node: S): void {
    this.nodes.push(node);
    this.#pos++;
  }

  /** Resolves a value choice: the recorded one when replaying, else 0 as a new node. */
  pickValue(n: number, stream: string, kernel: Kernel): number {
    const forced = this.decide();
    const node = this.replayed();
    const order = this.order;
    if (node === undefined) {
      const values = forced !== undefined
        ? [forced]
        : order === null
        ? null
        : order.shuffle(Array.from({ length: n }, (_, i) => i));
      this.nodes.push({ kind: "value", n, values, chosen: 0 });
      this.#pos++;
      const v = values === null ? 0 : values[0];
      order?.step(v);
      return v;
    }
    if (node.kind !== "value" || (node as ValueNode).n !== n) {
      throw new Nondeterminism(
        `at step ${kernel.step} the scenario asks for a ${stream} value in 0..${n - 1}, ` +
          "but an earlier run of the same schedule made a different choice there",
      );
    }
    const value = node as ValueNode;
    const v = value.values === null ? value.chosen : value.values[value.chosen];
    order?.step(v);
    return v;
  }

  /**
   * Moves to the next unexplored branch, deepest first: a value node tries
   * its next value, a scheduling node whatever `next` picks. False when the
   * whole tree was explored.
   */
  advance(next: (node: S) => boolean): boolean {
    const nodes = this.nodes;
    nodes.length = Math.min(nodes.length, this.#pos);
    while (nodes.length > this.#pinned) {
      const node = nodes[nodes.length - 1];
      if (node.kind === "value") {
        const value = node as ValueNode;
        if (++value.chosen < (value.values?.length ?? value.n)) return true;
      } else if (next(node as S)) {
        return true;
      }
      nodes.pop();
    }
    return false;
  }
}
