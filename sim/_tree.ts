/**
 * The path through a tree of choices that a stateless exhaustive strategy
 * replays at the start of each run and extends past its end.
 */
import type { Kernel } from "./kernel.ts";
import { Nondeterminism } from "./outcome.ts";

/** A `choose(n)` (or `chance`) point: every value is explored. */
export interface ValueNode {
  readonly kind: "value";
  readonly n: number;
  chosen: number;
}

/** The nodes of the current path: scheduling nodes `S`, and value nodes. */
export class ChoicePath<S extends { readonly kind: string }> {
  readonly nodes: (S | ValueNode)[] = [];
  #pos = 0;

  /** Starts a run: the path is replayed from its first node. */
  begin(): void {
    this.#pos = 0;
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
    const node = this.replayed();
    if (node === undefined) {
      this.nodes.push({ kind: "value", n, chosen: 0 });
      this.#pos++;
      return 0;
    }
    if (node.kind !== "value" || (node as ValueNode).n !== n) {
      throw new Nondeterminism(
        `at step ${kernel.step} the scenario asks for a ${stream} value in 0..${n - 1}, ` +
          "but an earlier run of the same schedule made a different choice there",
      );
    }
    return (node as ValueNode).chosen;
  }

  /**
   * Moves to the next unexplored branch, deepest first: a value node tries
   * its next value, a scheduling node whatever `next` picks. False when the
   * whole tree was explored.
   */
  advance(next: (node: S) => boolean): boolean {
    const nodes = this.nodes;
    nodes.length = Math.min(nodes.length, this.#pos);
    while (nodes.length > 0) {
      const node = nodes[nodes.length - 1];
      if (node.kind === "value") {
        if (++(node as ValueNode).chosen < (node as ValueNode).n) return true;
      } else if (next(node as S)) {
        return true;
      }
      nodes.pop();
    }
    return false;
  }
}
