/**
 * Fibers: simulated threads, written as generator functions.
 *
 * @module
 */
import { type Guard, Op } from "./op.ts";

/** What the kernel knows of a fiber when it spawns it. */
export interface FiberInit {
  /** The fiber's id, its index in the run. */
  readonly id: number;
  /** Its name. */
  readonly name: string;
  /** The core it runs on. */
  readonly core: number;
  /** The object id joins and completion name in their footprint. */
  readonly obj: number;
  /** The fiber that spawned it, or null for one spawned in setup. */
  readonly parent: Fiber | null;
  /** Whether the run may end while it is alive. */
  readonly daemon: boolean;
}

/**
 * A simulated thread. Only the kernel resumes it. Its `pending` operation is
 * what it will do when next scheduled; a fiber is blocked while that
 * operation's guard is not ready.
 */
export class Fiber implements Guard {
  /** Dense id in spawn order, starting at 0: what traces record. */
  readonly id!: number;
  /** A name for reports. */
  readonly name!: string;
  /** The simulated core this fiber runs on. */
  readonly core!: number;
  /** The kernel object id of this fiber itself (joins read it, completion writes it). */
  readonly obj!: number;
  /** The fiber that spawned this one, or null when spawned during setup. */
  readonly parent!: Fiber | null;
  /** A daemon does not keep the run alive. */
  readonly daemon!: boolean;
  /** A store buffer's drain fiber, which does not occupy its core (see `sim/memory.ts`). */
  detached = false;
  /** The step during which this fiber was spawned (0 for setup). */
  readonly spawnStep!: number;
  /** The operation this fiber will perform next; null once done. */
  pending: Op | null = null;
  /** True once the body has returned or thrown. */
  done = false;
  /** What the body returned. */
  result: unknown = undefined;
  /**
   * The fiber's dynamic scope: an object a runtime layer hangs on it (the
   * innermost region it runs in). A spawned fiber starts in its parent's
   * scope; the kernel never looks inside.
   */
  scope: object | null = null;
  /** @internal The generator; owned by the kernel. */
  gen: Generator<Op, unknown, void> | null = null;

  /** Makes a fiber; the kernel does this in `spawn`. */
  constructor(init: FiberInit, spawnStep: number) {
    this.reuse(init.id, init.name, init.core, init.obj, init.parent, init.daemon, spawnStep);
  }

  #joinOp: Op | null = null;

  /**
   * @internal Makes this fiber object a new fiber of a later run: the kernel
   * keeps fiber objects across the runs of a sweep instead of allocating them
   * again. A fiber belongs to one run; do not keep it past the run's end.
   */
  reuse(
    id: number,
    name: string,
    core: number,
    obj: number,
    parent: Fiber | null,
    daemon: boolean,
    spawnStep: number,
  ): this {
    const w = this as { -readonly [K in keyof Fiber]: Fiber[K] };
    w.id = id;
    w.name = name;
    w.core = core;
    if (obj !== this.obj) this.#joinOp = null;
    w.obj = obj;
    w.parent = parent;
    w.daemon = daemon;
    w.spawnStep = spawnStep;
    this.pending = null;
    this.done = false;
    this.result = undefined;
    this.scope = parent === null ? null : parent.scope;
    this.gen = null;
    return this;
  }

  /** The operation a joiner waits on: reads this fiber's object, ready once done. */
  get joinOp(): Op {
    return this.#joinOp ??= new Op("join", this.obj, false, this);
  }

  /** Only this fiber's completion (a write of its object) changes `done`. */
  readonly footprintOnly = true;
  readonly anyFiber = true;

  /** Joining this fiber is possible once it is done. */
  ready(): boolean {
    return this.done;
  }

  waitReason(): string {
    return `join ${this.name} (still running)`;
  }

  /** A joiner waits for this fiber. */
  blockers(): readonly Fiber[] {
    return [this];
  }

  /** The fiber's name. */
  toString(): string {
    return this.name;
  }
}
