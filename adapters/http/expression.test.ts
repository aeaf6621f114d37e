import { describe, expect, it } from 'vitest';
import { compileExpression, DEFAULT_LIMITS, type ExpressionLimits } from './expression.ts';

const fail = (path: (string | number)[], message: string): never => {
  throw new Error(`${path.join('.')}: ${message}`);
};
const compile = (source: string, limits: Partial<ExpressionLimits> = {}) =>
  compileExpression(source, ['mapping', 'status'], fail, { ...DEFAULT_LIMITS, ...limits });

describe('JSONata expressions', () => {
  it('reshape an item', async () => {
    const e = compile('{ "stars": stargazers_count, "topics": $join(topics, ",") }');
    await expect(e.evaluate({ stargazers_count: 3, topics: ['a', 'b'] })).resolves.toEqual({ stars: 3, topics: 'a,b' });
  });

  it('a syntax error names the field and the position', () => {
    expect(() => compile('name.(')).toThrow(/^mapping\.status: JSONata syntax error at position \d+: .+\(S0\d+\)$/);
  });

  describe('guards: a runaway expression fails its item, in bounded time', () => {
    it.each([
      ['deep recursion', '($f := function($n) { 1 + $f($n + 1) }; $f(0))', {}, /nested deeper than 200 levels/],
      // A tail call runs as a loop in JSONata: the step or time limit ends it.
      ['endless tail recursion', '($f := function($n) { $f($n + 1) }; $f(0))', {}, /more than 100000 steps|ran longer/],
      ['a long loop', '$sum([1..1000000].($ * 2))', {}, /more than 100000 steps|sequence longer than 100000/],
      [
        'a loop within the step limit but over time',
        '$sum([1..50000].($ * 2))',
        { steps: 10_000_000, timeout: 1 },
        /ran longer than 1ms/,
      ],
      ['many steps', '$sum([1..5000].($ * 2))', { steps: 1000 }, /more than 1000 steps/],
    ])('%s', async (_, source, limits, want) => {
      const started = Date.now();
      await expect(compile(source, limits).evaluate({})).rejects.toThrow(want);
      // Bounded: far below what the unguarded expression would take.
      expect(Date.now() - started).toBeLessThan(10_000);
    });

    it('the failure never quotes the data', async () => {
      const err = await compile('$number(secret)')
        .evaluate({ secret: 'sk_live_abcdef' })
        .catch((e: unknown) => e as Error);
      expect((err as Error).message).toMatch(/JSONata error D3030/);
      expect((err as Error).message).not.toContain('sk_live');
    });

    it('each evaluation counts its own steps', async () => {
      const e = compile('$sum([1..300].($ * 2))', { steps: 2000 });
      for (let i = 0; i < 5; i++) await expect(e.evaluate({})).resolves.toBe(90300);
    });
  });
});
