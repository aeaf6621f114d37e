import { describe, expect, it } from 'vitest';
import type { MirrorResource, ObjectInput } from '../sdk/types.ts';
import { createSelfAdapter, type ResourceHealth } from './self-adapter.ts';

const noop = () => undefined;
const ctx = {
  config: {},
  fetch: globalThis.fetch,
  signal: new AbortController().signal,
  skip: noop,
  log: { debug: noop, info: noop, warn: noop, error: noop },
};

async function rows(resources: ResourceHealth[]): Promise<ObjectInput[]> {
  const def = createSelfAdapter({ resources: () => resources, p99: () => undefined, errorRate: () => undefined });
  return (def.resources[0] as MirrorResource).list(ctx) as Promise<ObjectInput[]>;
}

const base = { group: 'payments.kubegate.dev', version: 'v1alpha1', breaker: 'closed', skipped: [] };
const mirror = (o: { lastError?: string; consecutiveFailures?: number } = {}) => ({
  adapter: 'payments',
  resource: 'refunds',
  objects: 3,
  watchers: 0,
  leader: true,
  lastSuccess: Date.parse('2026-12-01T07:00:00Z'),
  started: true,
  lastError: o.lastError,
  consecutiveFailures: o.consecutiveFailures ?? 0,
  intervalMs: 30_000,
});

describe('kubectl get adapters: change feeds', () => {
  it("shows a pass-through resource's change feed, and its error when no poll failed", async () => {
    const feed = {
      leader: true,
      polls: 9,
      lastSuccess: Date.parse('2026-12-01T07:00:02Z'),
      lastError: 'upstream deadline of 1s exceeded',
      consecutiveFailures: 2,
    };
    const [row] = await rows([
      { ...base, adapter: 'payments', plural: 'refunds', mirror: mirror() as never },
      { ...base, adapter: 'payments', plural: 'charges', feed },
    ]);
    expect(row?.status).toMatchObject({
      lastError: 'charges.payments.kubegate.dev change feed: upstream deadline of 1s exceeded',
      consecutiveFailures: 2,
      changeFeeds: [
        {
          resource: 'charges.payments.kubegate.dev',
          reading: true,
          lastSuccessfulRead: '2026-12-01T07:00:02Z',
          lastError: 'upstream deadline of 1s exceeded',
          consecutiveFailures: 2,
        },
      ],
    });
  });

  it("a poll's error comes first; a pass-through-only adapter reports its feed; no feed, no field", async () => {
    const feed = { leader: false, polls: 0, lastSuccess: undefined, lastError: 'x', consecutiveFailures: 1 };
    const [mixed] = await rows([
      {
        ...base,
        adapter: 'payments',
        plural: 'refunds',
        mirror: mirror({ lastError: 'poll failed', consecutiveFailures: 4 }) as never,
      },
      { ...base, adapter: 'payments', plural: 'charges', feed },
    ]);
    expect(mixed?.status).toMatchObject({ lastError: 'poll failed', consecutiveFailures: 4 });
    const [pass] = await rows([
      {
        ...base,
        adapter: 'payments',
        plural: 'charges',
        feed: { ...feed, lastError: undefined, consecutiveFailures: 0 },
      },
    ]);
    expect(pass?.status).toMatchObject({
      consecutiveFailures: 0,
      changeFeeds: [{ reading: false, consecutiveFailures: 0 }],
    });
    const [plain] = await rows([{ ...base, adapter: 'weather', plural: 'forecasts', mirror: mirror() as never }]);
    expect(plain?.status).not.toHaveProperty('changeFeeds');
  });
});
