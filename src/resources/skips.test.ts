import { describe, expect, it } from 'vitest';
import { SkipLedger, skipWarning, summarizeSkips } from './skips.ts';

function ledger(o: { retainMs?: number; maxReasons?: number } = {}) {
  let now = Date.parse('2026-01-01T00:00:00Z');
  const logged: Record<string, unknown>[] = [];
  const counted: [string, number][] = [];
  const nop = () => undefined;
  const l = new SkipLedger({
    adapter: 'shop',
    resource: 'items.shop.example.com',
    log: { debug: nop, info: nop, error: nop, warn: (_m, e) => logged.push(e ?? {}) },
    count: (kind, n) => counted.push([kind, n]),
    now: () => now,
    ...o,
  });
  return { l, logged, counted, advance: (ms: number) => (now += ms) };
}

describe('SkipLedger', () => {
  it('logs a reason once while polls keep meeting it, counts every item, resolves it when a poll no longer does', () => {
    const { l, logged, counted } = ledger();
    for (let poll = 0; poll < 3; poll++) {
      l.beginPoll();
      l.record('schema', 'status.owner: expected string, got null', 'a');
      l.record('schema', 'status.owner: expected string, got null', 'b');
      l.endPoll();
    }
    expect(logged).toHaveLength(1);
    expect(counted).toHaveLength(6);
    expect(l.list()).toMatchObject([{ count: 2, example: 'b', kind: 'schema' }]);
    expect(l.warning()).toBe(
      'shop: 2 upstream items of items.shop.example.com skipped: status.owner: expected string, got null (e.g. b); ' +
        'see kubectl get adapters shop -o yaml',
    );
    l.beginPoll();
    l.endPoll();
    expect(l.list()).toEqual([]);
    expect(l.warning()).toBeUndefined();
    // It comes back: logged again.
    l.beginPoll();
    l.record('schema', 'status.owner: expected string, got null', 'a');
    l.endPoll();
    expect(logged).toHaveLength(2);
  });

  it('a failed poll keeps the reasons of the last good one', () => {
    const { l } = ledger();
    l.beginPoll();
    l.record('duplicate', 'another item of this poll has the same name', 'x');
    l.endPoll();
    l.beginPoll();
    l.abandonPoll();
    expect(l.total()).toBe(1);
  });

  it('keeps at most maxReasons distinct reasons', () => {
    const { l, logged } = ledger({ maxReasons: 3 });
    l.beginPoll();
    for (let i = 0; i < 100; i++) l.record('adapter', `reason ${i}`);
    l.endPoll();
    const list = l.list();
    expect(list.length).toBeLessThanOrEqual(4);
    expect(list.reduce((n, r) => n + r.count, 0)).toBe(100);
    expect(list[0]?.reason).toMatch(/other reasons/);
    expect(logged.length).toBeLessThanOrEqual(4);
  });

  it('without polls, a reason lasts retainMs after it was last seen', () => {
    const { l, advance } = ledger({ retainMs: 60_000 });
    l.record('schema', 'spec.x: expected number, got null', 'ns/a');
    advance(30_000);
    l.record('schema', 'spec.x: expected number, got null', 'ns/b');
    advance(45_000);
    expect(l.list()).toMatchObject([{ count: 2, example: 'ns/b', lastSeen: '2026-01-01T00:00:30Z' }]);
    advance(20_000);
    expect(l.list()).toEqual([]);
  });

  it('summarizes one fetch for a cached page and words its Warning', () => {
    const s = summarizeSkips([{ reason: 'r1', item: 'a' }, { reason: 'r2' }, { reason: 'r1', item: 'c' }]);
    expect(s).toEqual([
      { reason: 'r1', count: 2, example: 'c' },
      { reason: 'r2', count: 1 },
    ]);
    expect(skipWarning('pay', 'charges.pay.example.com', s)).toBe(
      'pay: 3 upstream items of charges.pay.example.com skipped: r1 (e.g. c) and 1 more reason; ' +
        'see kubectl get adapters pay -o yaml',
    );
  });
});
