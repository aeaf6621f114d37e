import { describe, expect, it } from 'vitest';
import { createFailureLog } from './failures.ts';

function setup(maxCauses?: number) {
  let t = 0;
  const lines: { msg: string; extra: Record<string, unknown> }[] = [];
  const log = createFailureLog((msg, extra) => lines.push({ msg, extra }), {
    intervalMs: 60_000,
    now: () => t,
    ...(maxCauses ? { maxCauses } : {}),
  });
  return { log, lines, advance: (ms: number) => (t += ms) };
}

describe('authentication failure log', () => {
  it('logs each cause once per interval, then how many it covered', () => {
    const { log, lines, advance } = setup();
    for (let i = 0; i < 50; i++) log.record('authentication failed', 'invalid bearer token');
    log.record('authentication failed', 'no credentials');
    expect(lines).toEqual([
      { msg: 'authentication failed', extra: { cause: 'invalid bearer token' } },
      { msg: 'authentication failed', extra: { cause: 'no credentials' } },
    ]);
    advance(60_000);
    log.record('authentication failed', 'invalid bearer token');
    expect(lines.at(-1)).toEqual({
      msg: 'authentication failed',
      extra: { cause: 'invalid bearer token', repeated: 49 },
    });
  });

  it('stays bounded when every request brings a new cause', () => {
    const { log, lines } = setup(10);
    for (let i = 0; i < 10_000; i++) log.record('authentication failed', `certificate SN=${i} failed`);
    expect(lines).toHaveLength(11);
    expect(lines.at(-1)?.extra.cause).toBe('(other causes)');
  });

  it('keeps a line printable and short', () => {
    const { log, lines } = setup();
    log.record('front-proxy headers not trusted', `bad\nline\u0000${'x'.repeat(1000)}`);
    const cause = String(lines[0]?.extra.cause);
    expect(cause.includes('\n') || cause.includes('\u0000')).toBe(false);
    expect(cause.length).toBeLessThanOrEqual(200);
  });
});
