/**
 * A lint rule that keeps real time, real randomness, the environment, the
 * garbage collector and Promises off the simulated paths: everything under
 * `sim/`, `runtime/` and `scenarios/`, at any depth (scenario code runs inside
 * the simulation too). Test and bench files are exempt.
 *
 * Everything a run does must come from the seed and be recorded; one
 * `Date.now()` in the kernel would make a trace unreplayable. The rule follows
 * the usual ways of hiding such a read: through `globalThis` (or `window`,
 * `self`, `global`), with a string key (`Math["random"]`), by destructuring
 * (`const { random } = Math`) or by aliasing (`const M = Math`).
 *
 * @module
 */

/** Paths (relative to the project root) whose code runs inside a simulation. */
const SIMULATED = /(^|[\\/])(sim|runtime|scenarios)[\\/](.+[\\/])?[^\\/]+\.ts$/;
const TESTS = /(_test|_bench)\.ts$/;

/** The project root, so a checkout inside a folder named `sim` is not all "simulated". */
const ROOT = decodeURIComponent(new URL("../", import.meta.url).pathname);

/** Names that stand for the global object itself. */
const GLOBAL_OBJECTS = new Set(["globalThis", "window", "self", "global"]);

/** Globals that read the outside world in every member: any use is reported. */
const WORLD = new Set(["Deno", "process", "navigator", "performance", "crypto", "location"]);

/** Members of otherwise harmless globals that read the outside world. */
const FORBIDDEN_MEMBERS: Record<string, string[]> = {
  Math: ["random"],
  Date: ["now"],
};

/**
 * Globals whose mere use breaks determinism on a simulated path: real timers,
 * the microtask queue, and the garbage collector's timing (`WeakRef`,
 * `FinalizationRegistry`).
 */
const FORBIDDEN_GLOBALS = new Set([
  "setTimeout",
  "setInterval",
  "setImmediate",
  "clearTimeout",
  "clearInterval",
  "queueMicrotask",
  "requestAnimationFrame",
  "requestIdleCallback",
  "WeakRef",
  "FinalizationRegistry",
  "fetch",
  // Code built from strings hides whatever it reads.
  "eval",
  "Function",
]);

type Node = Deno.lint.Node;

/** A static property name: `a.b`, `a["b"]` and `` a[`b`] `` all give "b"; anything else null. */
function keyName(node: Node, computed: boolean): string | null {
  if (!computed && node.type === "Identifier") return node.name;
  if (node.type === "Literal" && typeof node.value === "string") return node.value;
  if (node.type === "TemplateLiteral" && node.expressions.length === 0) {
    return node.quasis[0]?.cooked ?? null;
  }
  return null;
}

/**
 * The dotted global path an expression names, with a leading `globalThis.`
 * (or `window.` ...) dropped: `globalThis.Math["random"]` is "Math.random",
 * `globalThis` alone is "". A computed key that is not a constant string reads
 * as "*". Null when the expression is not a chain rooted at an identifier.
 */
function globalPath(node: Node): string | null {
  if (node.type === "Identifier") return GLOBAL_OBJECTS.has(node.name) ? "" : node.name;
  if (node.type === "ChainExpression") return globalPath(node.expression);
  if (node.type !== "MemberExpression") return null;
  const object = globalPath(node.object);
  if (object === null) return null;
  const key = keyName(node.property, node.computed) ?? "*";
  return object === "" ? key : `${object}.${key}`;
}

/**
 * Why a global path may not be read on a simulated path, or null when it may.
 * `called` says the path is called or constructed (`Date()`, `new Date()`).
 */
function forbidden(path: string, called: boolean): string | null {
  const [root, member] = path.split(".");
  if (root === "*") return "a global read with a computed key";
  if (WORLD.has(root)) return path;
  if (FORBIDDEN_GLOBALS.has(root)) return root;
  if (member === undefined) return root === "Date" && called ? "Date()" : null;
  if (member === "*" && root in FORBIDDEN_MEMBERS) return `${root}[...] with a computed key`;
  return FORBIDDEN_MEMBERS[root]?.includes(member) ? path : null;
}

/**
 * Whether a read that starts a longer chain is left for the chain to report:
 * a bare name (`Deno`, `globalThis.performance`) says less than the member read.
 */
function namedByChain(path: string): boolean {
  return !path.includes(".") && path !== "*";
}

/** Globals that must not be handed around whole: doing so hides which member is read. */
const NO_ALIAS = new Set(Object.keys(FORBIDDEN_MEMBERS));

/** Whether an identifier is a name in a type, a property key, a label or an import name. */
function isNotARead(node: Deno.lint.Identifier): boolean {
  const parent = node.parent;
  if (parent.type.startsWith("TS")) return true;
  switch (parent.type) {
    case "MemberExpression":
      return parent.property === node && !parent.computed;
    case "Property":
    case "MethodDefinition":
    case "PropertyDefinition":
      return parent.key === node && !parent.computed;
    case "ImportSpecifier":
    case "ExportSpecifier":
    case "ImportDefaultSpecifier":
    case "ImportNamespaceSpecifier":
    case "LabeledStatement":
    case "BreakStatement":
    case "ContinueStatement":
      return true;
    default:
      return false;
  }
}

/** The pattern and value of a destructuring (`const { a } = v`, `({ a } = v)`), or null. */
function destructuring(node: Node): { pattern: Deno.lint.ObjectPattern; value: Node } | null {
  if (node.type === "VariableDeclarator" && node.id.type === "ObjectPattern" && node.init) {
    return { pattern: node.id, value: node.init };
  }
  if (
    (node.type === "AssignmentExpression" || node.type === "AssignmentPattern") &&
    node.left.type === "ObjectPattern"
  ) {
    return { pattern: node.left, value: node.right };
  }
  return null;
}

/** The path relative to the project root when the file is inside it. */
function relativePath(filename: string): string {
  return filename.startsWith(ROOT) ? filename.slice(ROOT.length) : filename;
}

const plugin: Deno.lint.Plugin = {
  name: "sim",
  rules: {
    determinism: {
      create(context) {
        const file = relativePath(context.filename);
        if (!SIMULATED.test(file) || TESTS.test(file)) return {};
        const report = (node: Node, what: string): void =>
          context.report({
            node,
            message: `${what} on a simulated path: every run must come from the seed alone`,
          });

        /**
         * Judges one read of a global path (an identifier or a member chain)
         * by how it is used: as part of a longer chain, called, constructed,
         * destructured, or handed around as a value.
         */
        const judge = (
          node: Deno.lint.Identifier | Deno.lint.MemberExpression,
          path: string,
        ): void => {
          const parent = node.parent;
          const chained = parent.type === "MemberExpression" && parent.object === node;
          const called = parent.type === "CallExpression" && parent.callee === node;
          const constructed = parent.type === "NewExpression" && parent.callee === node;
          const destructured = destructuring(parent)?.value === node;
          if (destructured) return; // judged key by key below
          if (path === "") {
            if (!chained) report(node, `${context.sourceCode.getText(node)} used as a value`);
            return;
          }
          // A chain is reported at its shortest forbidden prefix, with its
          // members named: `Deno.readTextFileSync`, not `Deno`.
          if (chained && namedByChain(path)) return;
          if (constructed && path === "Date") return; // reported as new Date()
          const why = forbidden(path, called);
          if (why !== null) return report(node, why);
          if (NO_ALIAS.has(path) && !chained && !called && !constructed) {
            report(node, `${path} used as a value`);
          }
        };

        return {
          MemberExpression(node) {
            const path = globalPath(node);
            if (path === null) return;
            const object = node.object.type === "MemberExpression" ? globalPath(node.object) : null;
            if (object !== null && !namedByChain(object) && forbidden(object, false) !== null) {
              return;
            }
            judge(node, path);
          },
          Identifier(node) {
            if (node.name === "Promise") return report(node, "Promise");
            if (isNotARead(node)) return;
            const parent = node.parent;
            // A binding (`const process = ...`, `const { random } = x`) is not a read of a global.
            if (parent.type === "VariableDeclarator" && parent.id === node) return;
            if (parent.type === "Property" && parent.parent.type === "ObjectPattern") return;
            judge(node, GLOBAL_OBJECTS.has(node.name) ? "" : node.name);
          },
          VariableDeclarator: judgeDestructuring,
          AssignmentExpression: judgeDestructuring,
          AssignmentPattern: judgeDestructuring,
          NewExpression(node) {
            const path = globalPath(node.callee);
            if (path === "Date") report(node, "new Date()");
            if (path === "Promise") report(node, "a Promise");
          },
          ImportExpression(node) {
            report(node, "a dynamic import");
          },
          FunctionDeclaration(node) {
            if (node.async) report(node, "an async function");
          },
          FunctionExpression(node) {
            if (node.async) report(node, "an async function");
          },
          ArrowFunctionExpression(node) {
            if (node.async) report(node, "an async function");
          },
          AwaitExpression(node) {
            report(node, "await");
          },
        };

        /** `const { random } = Math`, `const { Math: M } = globalThis`, `const { ...m } = Math`. */
        function judgeDestructuring(node: Node): void {
          const found = destructuring(node);
          if (found === null) return;
          const source = globalPath(found.value);
          if (source === null) return;
          for (const property of found.pattern.properties) {
            if (property.type === "RestElement") {
              if (source === "" || NO_ALIAS.has(source) || forbidden(source, false) !== null) {
                report(property, `${source || "globalThis"} used as a value`);
              }
              continue;
            }
            const key = keyName(property.key, property.computed) ?? "*";
            const path = source === "" ? key : `${source}.${key}`;
            const why = forbidden(path, false) ??
              (NO_ALIAS.has(path) ? `${path} used as a value` : null);
            if (why !== null) report(property, why);
          }
        }
      },
    },
  },
};

export default plugin;
