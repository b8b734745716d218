/**
 * The per-fiber free-list allocator with a local sweep (seed note on
 * context-local parallelism: free lists within a thread, thread-local GC to
 * recover memory and extend the duty cycle between compactions).
 *
 * @module
 */
import type { Cell } from "../sim/kernel.ts";
import { type Action, Op } from "../sim/op.ts";
import {
  type Allocator,
  type Heap,
  HeapExhausted,
  NULL,
  type Ref,
  type Shape,
  shapeBytes,
  type Space,
} from "./heap.ts";

/** The shape of a fiber's page. */
export interface FreeListOptions {
  /** Cells in the page. */
  readonly cells: number;
  /** Bytes per cell: the largest object the page holds. */
  readonly cellBytes: number;
  /**
   * The owner's roots for the local sweep: its stack slots. Objects of the
   * page that escaped elsewhere must be pinned.
   */
  readonly roots: readonly Cell<number>[];
}

/** What a free list did. */
export interface FreeListStats {
  /** Cells handed out. */
  allocs: number;
  /** Local sweeps run. */
  sweeps: number;
  /** Cells the local sweeps returned to the list. */
  reclaimed: number;
}

/**
 * A page of equal cells owned by one fiber. `alloc` pops a free cell; when
 * none is left it runs a local sweep: mark from the owner's roots and the
 * pinned objects, through objects of this page only, and return every
 * unmarked occupied cell to the list (each free is checked by the heap's
 * safety oracle). Still empty afterwards: `HeapExhausted`.
 *
 * The list itself is fiber-local: no other fiber allocates from it, so it
 * needs no lock. An allocation is one scheduling point on the page.
 *
 * @example
 * ```ts
 * import { assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * import { Heap } from "./heap.ts";
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 1000 }, new RandomStrategy(), 1);
 * const heap = new Heap(k);
 * const regs = heap.roots.stack("w", 1);
 * const page = new FreeList(heap, "w.page", { cells: 2, cellBytes: 24, roots: regs });
 * k.spawn("w", function* () {
 *   for (let i = 0; i < 5; i++) yield* regs[0].write(yield* page.alloc({ imms: [i] }));
 * });
 * assertEquals(k.execute().verdict, "pass");
 * // Only the last object is live: each sweep found one dead cell.
 * assertEquals([page.stats.allocs, page.stats.sweeps, page.stats.reclaimed], [5, 3, 3]);
 * ```
 */
export class FreeList implements Allocator {
  /** The list's name. */
  readonly name: string;
  /** The heap it allocates in. */
  readonly heap: Heap;
  /** The page's space. */
  readonly space: Space;
  /** The size of every cell. */
  readonly cellBytes: number;
  /** The owner's roots a sweep marks from. */
  readonly roots: readonly Cell<number>[];
  /** What the list did so far in the run. */
  readonly stats: FreeListStats = { allocs: 0, sweeps: 0, reclaimed: 0 };
  /** The kernel object of the page: every allocation writes it. */
  readonly id: number;
  readonly #allocOp: Op;
  /** Free cell indices; the next allocation takes the last. */
  readonly #free: number[] = [];
  /** The object in each cell, or NULL. */
  readonly #occupant: Ref[];
  readonly #pinned = new Set<Ref>();

  /** Makes the page and its free list (in setup). */
  constructor(heap: Heap, name: string, options: FreeListOptions) {
    const { cells, cellBytes } = options;
    if (!Number.isInteger(cells) || cells < 1 || !Number.isInteger(cellBytes) || cellBytes < 8) {
      throw new RangeError(`Cannot make page ${name} of ${cells} cells of ${cellBytes} bytes`);
    }
    this.name = name;
    this.heap = heap;
    this.space = heap.space(name, cells * cellBytes);
    this.cellBytes = cellBytes;
    this.roots = options.roots;
    this.id = heap.kernel.newObject(name);
    this.#allocOp = new Op("alloc", this.id, true);
    this.#occupant = new Array(cells).fill(NULL);
    for (let i = cells - 1; i >= 0; i--) this.#free.push(i);
  }

  /** Free cells right now. */
  get freeCells(): number {
    return this.#free.length;
  }

  /** Keeps `ref` (an object of this page that escaped) alive across local sweeps. */
  pin(ref: Ref): void {
    this.#pinned.add(ref);
  }

  /** Lets `ref` go again. */
  unpin(ref: Ref): void {
    this.#pinned.delete(ref);
  }

  /** Allocates an object of `shape` in a free cell, sweeping locally when none is left. */
  *alloc(shape: Shape): Action<Ref> {
    const bytes = shapeBytes(shape);
    if (bytes > this.cellBytes) {
      throw new RangeError(
        `Cannot allocate ${bytes} bytes in ${this.name}: cells hold ${this.cellBytes}`,
      );
    }
    if (this.#free.length === 0) yield* this.sweep();
    yield this.#allocOp;
    const cell = this.#free.pop();
    if (cell === undefined) {
      throw new HeapExhausted(this.name, bytes, 0);
    }
    const ref = this.heap.place(this.space, shape, { addr: cell * this.cellBytes }).id;
    this.#occupant[cell] = ref;
    this.stats.allocs++;
    return ref;
  }

  /**
   * The local sweep: marks what the owner's roots and the pinned objects
   * reach within this page, frees every other occupied cell and returns it
   * to the list. Returns the number of cells reclaimed.
   */
  *sweep(): Action<number> {
    const heap = this.heap;
    this.stats.sweeps++;
    const live = new Set<Ref>();
    const stack: Ref[] = [];
    const reach = (r: Ref) => {
      if (r !== NULL && !live.has(r) && heap.get(r).space === this.space) {
        live.add(r);
        stack.push(r);
      }
    };
    for (const slot of this.roots) reach(yield* slot.read());
    for (const r of this.#pinned) reach(r);
    while (stack.length > 0) {
      const x = stack.pop() as Ref;
      const fields = heap.get(x).ptrs.length;
      for (let i = 0; i < fields; i++) reach(yield* heap.load(x, i));
    }
    let reclaimed = 0;
    for (let cell = 0; cell < this.#occupant.length; cell++) {
      const r = this.#occupant[cell];
      if (r === NULL || live.has(r)) continue;
      yield* heap.free(r);
      this.#occupant[cell] = NULL;
      this.#free.push(cell);
      reclaimed++;
    }
    this.stats.reclaimed += reclaimed;
    return reclaimed;
  }
}
