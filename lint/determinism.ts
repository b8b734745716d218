/**
 * A lint rule that keeps real time, real randomness, the environment and
 * Promises off the simulated paths (`sim/` and `runtime/`).
 *
 * Everything a run does must come from the seed and be recorded; one
 * `Date.now()` in the kernel would make a trace unreplayable.
 *
 * @module
 */

const SIMULATED = /[\\/](sim|runtime)[\\/][^\\/]+\.ts$/;
const TESTS = /(_test|_bench)\.ts$/;

/** Member expressions that read the outside world. */
const FORBIDDEN_MEMBERS: Record<string, string[]> = {
  Math: ["random"],
  Date: ["now"],
  performance: ["now", "timeOrigin"],
  crypto: ["getRandomValues", "randomUUID"],
  Deno: ["env", "hrtime", "args", "pid"],
  process: ["env", "hrtime", "nextTick"],
};

/** Globals whose mere use breaks determinism on a simulated path. */
const FORBIDDEN_CALLS = new Set([
  "setTimeout",
  "setInterval",
  "setImmediate",
  "queueMicrotask",
  "requestAnimationFrame",
]);

const plugin: Deno.lint.Plugin = {
  name: "sim",
  rules: {
    determinism: {
      create(context) {
        if (!SIMULATED.test(context.filename) || TESTS.test(context.filename)) return {};
        const report = (node: Deno.lint.Node, what: string): void =>
          context.report({
            node,
            message: `${what} on a simulated path: every run must come from the seed alone`,
          });
        return {
          MemberExpression(node) {
            if (node.object.type !== "Identifier" || node.property.type !== "Identifier") return;
            const banned = FORBIDDEN_MEMBERS[node.object.name];
            if (banned?.includes(node.property.name)) {
              report(node, `${node.object.name}.${node.property.name}`);
            }
          },
          CallExpression(node) {
            if (node.callee.type === "Identifier" && FORBIDDEN_CALLS.has(node.callee.name)) {
              report(node, `${node.callee.name}()`);
            }
          },
          NewExpression(node) {
            if (node.callee.type !== "Identifier") return;
            if (node.callee.name === "Date") report(node, "new Date()");
            if (node.callee.name === "Promise") report(node, "a Promise");
          },
          Identifier(node) {
            if (node.name === "Promise") report(node, "Promise");
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
      },
    },
  },
};

export default plugin;
