import jsonata from 'jsonata';
import type { Fail } from './schema.ts';

/** Bounds of one evaluation: a badly written or hostile expression cannot stall a poll. */
export interface ExpressionLimits {
  /** Evaluation steps one evaluation may take (loops, recursion, long maps). Default 100000. */
  steps: number;
  /** Milliseconds one evaluation may run (checked at every step; a backstop for slow steps). Default 1000. */
  timeout: number;
  /** Deepest evaluation nesting (runaway recursion). Default 200. */
  stack: number;
  /** Longest sequence an evaluation may build (`[1..1e9]`). Default 100000. */
  sequence: number;
}

export const DEFAULT_LIMITS: ExpressionLimits = { steps: 100_000, timeout: 1000, stack: 200, sequence: 100_000 };

/** JSONata calls this (an environment binding) before every evaluation step. */
const ENTRY = Symbol.for('jsonata.__evaluate_entry');
/** The step counter of one evaluation, bound per call so concurrent evaluations count apart. */
const STEPS = '__kubegate_steps';

/** A compiled expression: evaluates against one input within its limits. */
export interface Expression {
  readonly source: string;
  evaluate(input: unknown): Promise<unknown>;
}

interface JsonataFailure {
  code?: unknown;
  position?: unknown;
  message?: unknown;
}

/** JSONata's own message for its error codes, cut to one line; it quotes the expression, never data. */
function describe(err: unknown): string {
  const e = err as JsonataFailure;
  const msg = typeof e.message === 'string' ? e.message.split('\n')[0] : String(err);
  return typeof e.code === 'string' ? `${msg} (${e.code})` : (msg ?? 'failed');
}

/**
 * Why an evaluation failed, without JSONata's message: those can quote the data (`{{value}}`), and a skip
 * reason or a poll error must not carry an item's values.
 */
function evaluationFailure(err: unknown, limits: ExpressionLimits): string {
  const code = (err as JsonataFailure).code;
  if (code === 'KUBEGATE_STEPS') return `evaluation took more than ${limits.steps} steps`;
  if (code === 'D1012') return `evaluation ran longer than ${limits.timeout}ms`;
  if (code === 'D1011') return `evaluation nested deeper than ${limits.stack} levels`;
  if (code === 'D2015') return `evaluation built a sequence longer than ${limits.sequence}`;
  return typeof code === 'string' ? `evaluation failed with JSONata error ${code}` : 'evaluation failed';
}

/**
 * Compiles a JSONata expression; a syntax error is reported by `fail` at `path` with its position.
 *
 * @example
 * const e = compileExpression('$lowercase(name)', ['mapping', 'name'], fail, DEFAULT_LIMITS);
 * await e.evaluate({ name: 'Kubegate' }); // 'kubegate'
 */
export function compileExpression(
  source: string,
  path: (string | number)[],
  fail: Fail,
  limits: ExpressionLimits,
): Expression {
  let expr: jsonata.Expression;
  try {
    expr = jsonata(source, { timeout: limits.timeout, stack: limits.stack, sequence: limits.sequence });
  } catch (err) {
    const e = err as JsonataFailure;
    const at = typeof e.position === 'number' ? ` at position ${e.position}` : '';
    fail(path, `JSONata syntax error${at}: ${describe(err)}`);
  }
  // Time alone is a poor bound on a loaded machine; counted steps stop a runaway expression the same way everywhere.
  expr.assign(ENTRY as unknown as string, (_node: unknown, _input: unknown, env: { lookup(n: string): unknown }) => {
    const counter = env.lookup(STEPS) as { n: number } | undefined;
    if (counter && ++counter.n > limits.steps) throw new StepLimit();
  });
  return {
    source,
    evaluate: async (input) => {
      try {
        return (await expr.evaluate(input, { [STEPS]: { n: 0 } })) as unknown;
      } catch (err) {
        throw new ExpressionError(evaluationFailure(err, limits));
      }
    },
  };
}

/** Thrown from inside JSONata's evaluation when an evaluation takes more steps than allowed. */
class StepLimit extends Error {
  readonly code = 'KUBEGATE_STEPS';
}

/** An evaluation that failed or hit a limit; the message is JSONata's (it names the code, not the data). */
export class ExpressionError extends Error {
  override name = 'ExpressionError';
}
