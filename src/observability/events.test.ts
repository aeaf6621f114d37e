import { describe, expect, it } from 'vitest';
import { adapterRef, createEventRecorder, type EventInput } from './events.ts';

interface Sent {
  method: string;
  path: string;
  body: Record<string, unknown>;
  contentType: string | undefined;
}

function harness(o: { burst?: number; refillMs?: number; maxSeries?: number; seriesWindowMs?: number } = {}) {
  const sent: Sent[] = [];
  const warnings: string[] = [];
  let t = Date.parse('2026-01-01T00:00:00Z');
  const rec = createEventRecorder({
    client: {
      request: (method, path, ro) => {
        sent.push({ method, path, body: ro?.body as Record<string, unknown>, contentType: ro?.contentType });
        return Promise.resolve({ status: method === 'POST' ? 201 : 200, body: undefined });
      },
    },
    namespace: 'ns',
    instance: 'pod-0',
    patchIntervalMs: 0,
    log: { warn: (m) => warnings.push(m) },
    now: () => t,
    ...o,
  });
  return { rec, sent, warnings, advance: (ms: number) => (t += ms) };
}

const ev = (reason: string, adapter = 'weather'): EventInput => ({
  type: 'Warning',
  reason,
  action: 'Poll',
  note: `${reason} of ${adapter}`,
  regarding: adapterRef(adapter),
});

describe('event recorder', () => {
  it('repeats within the series window become one object with series.count; later ones a new object', async () => {
    const h = harness({ seriesWindowMs: 60_000 });
    h.rec.record(ev('PollsFailing'));
    await h.rec.flush();
    h.advance(1000);
    h.rec.record(ev('PollsFailing'));
    h.advance(1000);
    h.rec.record(ev('PollsFailing'));
    await h.rec.flush();
    expect(h.sent.map((s) => s.method)).toEqual(['POST', 'PATCH']);
    expect(h.sent[1]?.body).toMatchObject({ series: { count: 3, lastObservedTime: '2026-01-01T00:00:02.000000Z' } });
    expect(h.sent[1]?.contentType).toBe('application/merge-patch+json');
    const name = (h.sent[0]?.body.metadata as { name: string }).name;
    expect(h.sent[1]?.path).toBe(`/apis/events.k8s.io/v1/namespaces/ns/events/${name}`);
    h.advance(120_000);
    h.rec.record(ev('PollsFailing'));
    await h.rec.flush();
    expect(h.sent.map((s) => s.method)).toEqual(['POST', 'PATCH', 'POST']);
  });

  it('new objects are rate limited (burst, then one per refill) and the drop is logged once', async () => {
    const h = harness({ burst: 3, refillMs: 10_000 });
    for (let i = 0; i < 10; i++) h.rec.record(ev('ItemsSkipped', `a${i}`));
    await h.rec.flush();
    expect(h.sent).toHaveLength(3);
    expect(h.rec.dropped).toBe(7);
    expect(h.warnings).toHaveLength(1);
    h.advance(10_000);
    h.rec.record(ev('ItemsSkipped', 'late'));
    await h.rec.flush();
    expect(h.sent).toHaveLength(4);
  });

  it('remembers a bounded number of series and cuts notes to 1 KiB', async () => {
    const h = harness({ maxSeries: 2, burst: 100 });
    h.rec.record({ ...ev('A'), note: 'x'.repeat(5000) });
    h.rec.record(ev('B'));
    h.rec.record(ev('C'));
    await h.rec.flush();
    expect((h.sent[0]?.body.note as string).length).toBe(1024);
    // A was evicted: its repeat starts a new object instead of patching.
    h.rec.record(ev('A'));
    await h.rec.flush();
    expect(h.sent.map((s) => `${s.method} ${s.body.reason as string}`)).toEqual([
      'POST A',
      'POST B',
      'POST C',
      'POST A',
    ]);
  });
});
