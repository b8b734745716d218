/**
 * The arena (bump) allocator: what a worker allocates from during a job,
 * reset between jobs.
 *
 * @module
 */
import { type Action, Op } from "../sim/op.ts";
import { Faults } from "./faults.ts";
import { type Heap, HeapExhausted, type Ref, type Shape, shapeBytes, type Space } from "./heap.ts";

/** How an arena is built. */
export interface ArenaOptions {
  /** Whether an `alloc` fault may fail its allocations (default true). */
  readonly faultable?: boolean;
}

/**
 * Bump allocation in a space of fixed capacity. An allocation is one
 * scheduling point on the arena's bump pointer: it either fits and places the
 * whole object, or raises `HeapExhausted` having written nothing. `reset`
 * frees everything at once, checking each object is unreachable.
 *
 * @example
 * ```ts
 * import { assert, assertEquals } from "../deps.ts";
 * import { Kernel } from "../sim/kernel.ts";
 * import { RandomStrategy } from "../sim/random.ts";
 * import { Heap, HeapExhausted } from "./heap.ts";
 * const k = new Kernel();
 * k.reset({ cores: 0, stepsMax: 100 }, new RandomStrategy(), 1);
 * const heap = new Heap(k);
 * const arena = new Arena(heap, "w0", 32);
 * let raised = false;
 * k.spawn("job", function* () {
 *   yield* arena.alloc({ imms: [1, 2] }); // 24 bytes
 *   try {
 *     yield* arena.alloc({ imms: [3] }); // 16 more: no room
 *   } catch (e) {
 *     raised = e instanceof HeapExhausted;
 *   }
 *   assertEquals(arena.bytesUsed, 24); // the failed allocation left nothing
 *   yield* arena.reset();
 * });
 * assertEquals(k.execute().verdict, "pass");
 * assert(raised);
 * assertEquals(arena.bytesUsed, 0);
 * ```
 */
export class Arena {
  /** The arena's name. */
  readonly name: string;
  /** The heap it allocates in. */
  readonly heap: Heap;
  /** The space that holds its objects. */
  readonly space: Space;
  /** The kernel object of the bump pointer: every allocation and reset writes it. */
  readonly id: number;
  readonly #allocOp: Op;
  readonly #resetOp: Op;
  readonly #faults: Faults;
  readonly #faultable: boolean;
  #retired = false;

  /**
   * Makes an arena of `bytesMax` bytes and its bump pointer (in setup).
   * `faultable: false` keeps `alloc` faults out of an arena whose overflow
   * its user cannot resume from (the reactor's start-up arena).
   */
  constructor(heap: Heap, name: string, bytesMax: number, options: ArenaOptions = {}) {
    this.name = name;
    this.#faultable = options.faultable ?? true;
    this.heap = heap;
    this.space = heap.space(name, bytesMax);
    this.id = heap.kernel.newObject(`${name}.top`);
    this.#allocOp = new Op("alloc", this.id, true);
    this.#resetOp = new Op("reset", this.id, true);
    this.#faults = Faults.of(heap.kernel);
  }

  /** The arena's capacity in bytes. */
  get bytesMax(): number {
    return this.space.bytesMax;
  }

  /** Bytes handed out since the last reset (freed or not: a bump allocator never reuses). */
  get bytesUsed(): number {
    return this.space.top;
  }

  /** Bytes left. */
  get bytesFree(): number {
    return this.space.bytesMax - this.space.top;
  }

  /**
   * Allocates an object of `shape` and returns a pointer to it; raises
   * `HeapExhausted` when it does not fit, leaving the arena as it was. A
   * marked place: an `alloc` fault fails it the same way, though it fits.
   */
  *alloc(shape: Shape): Action<Ref> {
    yield this.#allocOp;
    if (this.#faults.on && this.#faultable && this.#faults.fire("alloc")) {
      throw new HeapExhausted(this.name, shapeBytes(shape), this.bytesFree, true);
    }
    return this.place(shape);
  }

  /**
   * Allocates inside the caller's current step (no scheduling point of its
   * own), for runtime code that allocates as part of a larger atomic action
   * such as a collector copying an object, or for setup.
   */
  place(shape: Shape, origin?: Ref): Ref {
    if (this.#retired) {
      throw new RangeError(`Cannot allocate in ${this.name}: it was subdivided`);
    }
    const bytes = shapeBytes(shape);
    if (bytes > this.bytesFree) throw new HeapExhausted(this.name, bytes, this.bytesFree);
    return this.heap.place(this.space, shape, { origin }).id;
  }

  /**
   * Frees every object in the arena (each checked unreachable and poisoned,
   * one scheduling point per field) and moves the bump pointer back to the
   * start. Returns the bytes reclaimed.
   */
  *reset(): Action<number> {
    const bytes = this.space.top;
    const objects = this.space.objects.slice();
    for (const obj of objects) yield* this.heap.free(obj.id);
    yield this.#resetOp;
    this.space.top = 0;
    return bytes;
  }

  /**
   * Fixes the arena: it takes no more objects. The global heap is sealed
   * once the start-up heap was compacted into it.
   */
  seal(): void {
    this.space.sealed = true;
  }

  /**
   * Splits an empty arena into `parts` arenas of equal capacity, one per
   * worker (the start-up arena after compaction). This arena is retired.
   */
  subdivide(parts: number): Arena[] {
    if (!Number.isInteger(parts) || parts < 1) {
      throw new RangeError(`Cannot subdivide ${this.name} into ${parts} parts`);
    }
    if (this.space.objects.length > 0 || this.space.top > 0) {
      throw new RangeError(`Cannot subdivide ${this.name}: reset it first`);
    }
    this.#retired = true;
    const share = Math.floor(this.bytesMax / parts);
    const out: Arena[] = [];
    for (let i = 0; i < parts; i++) out.push(new Arena(this.heap, `${this.name}/${i}`, share));
    return out;
  }
}
