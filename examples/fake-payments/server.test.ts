import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskKey, startFakePayments, type Charge, type FakePayments } from './server.ts';

interface ListBody {
  object: string;
  url: string;
  has_more: boolean;
  data: Charge[];
}
interface ErrorBody {
  error: { type: string; message: string; code?: string; param?: string };
}

describe('fake payments API', () => {
  let fake: FakePayments;
  const call = async (path: string, key: string | null = fake.apiKey) => {
    const res = await fetch(`${fake.url}${path}`, { headers: key === null ? {} : { authorization: `Bearer ${key}` } });
    return { status: res.status, headers: res.headers, body: await res.json() };
  };
  const list = async (path: string) => {
    const r = await call(path);
    expect(r.status).toBe(200);
    return r.body as ListBody;
  };
  const all = async (query = '') => {
    const out: Charge[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await list(`/v1/charges?limit=100${query}${after ? `&starting_after=${after}` : ''}`);
      out.push(...page.data);
      if (!page.has_more) return out;
      after = page.data.at(-1)?.id;
    }
  };

  beforeAll(async () => {
    fake = await startFakePayments();
  });
  afterAll(() => fake.close());

  it('lists 10 charges by default in the Stripe list shape, newest first', async () => {
    const page = await list('/v1/charges');
    expect(page).toMatchObject({ object: 'list', url: '/v1/charges', has_more: true });
    expect(page.data).toHaveLength(10);
    const c = page.data[0];
    expect(c).toMatchObject({ object: 'charge', livemode: false });
    expect(c?.id).toMatch(/^ch_[A-Za-z0-9]{24}$/);
    expect(Object.keys(c ?? {}).sort()).toEqual(
      [
        'id',
        'object',
        'amount',
        'amount_captured',
        'amount_refunded',
        'currency',
        'created',
        'customer',
        'description',
        'status',
        'paid',
        'refunded',
        'captured',
        'livemode',
        'metadata',
        'receipt_email',
        'failure_code',
        'failure_message',
      ].sort(),
    );
    const created = page.data.map((x) => x.created);
    expect(created).toEqual([...created].sort((a, b) => b - a));
  });

  it('seeds 300 charges across about 5 teams and 20 customers, the same for the same seed', async () => {
    const charges = await all();
    expect(charges).toHaveLength(300);
    expect(new Set(charges.map((c) => c.id)).size).toBe(300);
    expect(new Set(charges.map((c) => c.metadata.team).filter(Boolean)).size).toBe(5);
    expect(charges.some((c) => c.metadata.team === undefined)).toBe(true);
    expect(new Set(charges.map((c) => c.customer).filter(Boolean)).size).toBe(20);
    expect(new Set(charges.map((c) => c.status))).toEqual(new Set(['succeeded', 'pending', 'failed']));
    expect(charges.some((c) => /[A-Z]/.test(c.id))).toBe(true);
    const again = await startFakePayments({ charges: 5 });
    try {
      const r = await fetch(`${again.url}/v1/charges`, { headers: { authorization: `Bearer ${again.apiKey}` } });
      expect(((await r.json()) as ListBody).data.map((c) => c.id)).toEqual(charges.slice(0, 5).map((c) => c.id));
    } finally {
      await again.close();
    }
  });

  it('pages with starting_after and ending_before', async () => {
    const everything = await all();
    const p1 = await list('/v1/charges?limit=3');
    const p2 = await list(`/v1/charges?limit=3&starting_after=${p1.data[2]?.id}`);
    expect(p2.data).toEqual(everything.slice(3, 6));
    const back = await list(`/v1/charges?limit=2&ending_before=${p2.data[0]?.id}`);
    expect(back.data).toEqual(everything.slice(1, 3));
    expect(back.has_more).toBe(true);
  });

  it('filters by customer and created[gt]', async () => {
    const everything = await all();
    const customer = everything.find((c) => c.customer)?.customer ?? '';
    const mine = await all(`&customer=${customer}`);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine).toEqual(everything.filter((c) => c.customer === customer));
    const t = everything[49]?.created ?? 0;
    const newer = await all(`&created[gt]=${t}`);
    expect(newer).toEqual(everything.filter((c) => c.created > t));
    expect((await list('/v1/charges?customer=cus_nobody')).data).toEqual([]);
  });

  it('answers errors in the Stripe error shape', async () => {
    const missing = await call('/v1/charges', null);
    expect(missing.status).toBe(401);
    const wrong = await call('/v1/charges', 'sk_test_wrongwrongwrong9876');
    expect(wrong).toMatchObject({ status: 401, body: { error: { type: 'invalid_request_error' } } });
    expect((wrong.body as ErrorBody).error.message).toBe('Invalid API Key provided: sk_test_****9876');
    expect(maskKey(fake.apiKey)).not.toContain(fake.apiKey.slice(8, -4));
    const none = await call('/v1/charges/ch_nope');
    expect(none).toMatchObject({
      status: 404,
      body: {
        error: {
          type: 'invalid_request_error',
          code: 'resource_missing',
          param: 'id',
          message: "No such charge: 'ch_nope'",
        },
      },
    });
    expect((await call('/v1/charges?limit=101')).status).toBe(400);
    expect((await call('/v1/charges?team=x')).body).toMatchObject({ error: { param: 'team' } });
  });

  it('gets, adds, updates and removes charges', async () => {
    const c = fake.add({ amount: 1250, currency: 'eur', metadata: { team: 'checkout' } });
    expect((await list('/v1/charges?limit=1')).data[0]).toEqual(c);
    expect((await call(`/v1/charges/${c.id}`)).body).toEqual(c);
    fake.update(c.id, { status: 'failed', paid: false });
    expect((await call(`/v1/charges/${c.id}`)).body).toMatchObject({ id: c.id, status: 'failed', paid: false });
    const next = (await list('/v1/charges?limit=2')).data[1];
    fake.remove(c.id);
    expect((await call(`/v1/charges/${c.id}`)).status).toBe(404);
    // A cursor naming a removed charge still positions the next page.
    expect((await list(`/v1/charges?limit=1&starting_after=${c.id}`)).data[0]).toEqual(next);
  });

  it('rate limits per second with 429 and Retry-After', async () => {
    fake.setRateLimit(2);
    try {
      const rs = await Promise.all([1, 2, 3, 4].map(() => call('/v1/charges?limit=1')));
      const limited = rs.filter((r) => r.status === 429);
      expect(limited.length).toBeGreaterThanOrEqual(2);
      expect(limited[0]?.headers.get('retry-after')).toBe('1');
      expect(limited[0]?.body).toMatchObject({ error: { type: 'rate_limit_error' } });
    } finally {
      fake.setRateLimit(null);
    }
    expect((await call('/v1/charges?limit=1')).status).toBe(200);
  });

  it('records changes as events, newest first, filtered by type and paged from a cursor', async () => {
    const before = fake.eventCount();
    const a = fake.add({ status: 'succeeded', amount: 500, amount_refunded: 0, refunded: false });
    const b = fake.add({ status: 'pending' });
    const description = b.description;
    fake.refund(a.id, 200);
    fake.update(b.id, { description: 'changed' });
    expect(fake.eventCount() - before).toBe(4);
    const page = (await call('/v1/events?type=charge.*&limit=4')).body as {
      data: { id: string; type: string; data: { object: Charge; previous_attributes?: Record<string, unknown> } }[];
      has_more: boolean;
    };
    expect(page.data.map((e) => e.type)).toEqual([
      'charge.updated',
      'charge.refunded',
      'charge.pending',
      'charge.succeeded',
    ]);
    expect(page.data[1]?.data.object).toMatchObject({ id: a.id, amount_refunded: 200, refunded: false });
    expect(page.data[1]?.data.previous_attributes).toEqual({ amount_refunded: 0, refunded: false });
    expect(page.data[0]?.data.previous_attributes).toEqual({ description });
    // Newer than the oldest of the four: the three after it, the closest first in time but listed newest first.
    const since = page.data[3]?.id ?? '';
    const newer = (await call(`/v1/events?ending_before=${since}&limit=2`)).body as { data: { type: string }[] };
    expect(newer.data.map((e) => e.type)).toEqual(['charge.refunded', 'charge.pending']);
    const refunds = (await call('/v1/events?types[]=charge.refunded')).body as { data: { type: string }[] };
    expect(refunds.data.every((e) => e.type === 'charge.refunded')).toBe(true);
    expect((await call('/v1/events?ending_before=evt_nope')).body).toMatchObject({
      error: { code: 'resource_missing', param: 'ending_before' },
    });
  });

  it('lists customers newest first with starting_after', async () => {
    const p1 = (await call('/v1/customers?limit=15')).body as { has_more: boolean; data: { id: string }[] };
    expect(p1).toMatchObject({ has_more: true });
    const p2 = (await call(`/v1/customers?limit=15&starting_after=${p1.data[14]?.id}`)).body as {
      has_more: boolean;
      data: { id: string; object: string }[];
    };
    expect(p2.has_more).toBe(false);
    expect(new Set([...p1.data, ...p2.data].map((c) => c.id)).size).toBe(20);
    expect(p2.data[0]).toMatchObject({ object: 'customer' });
  });
});

describe('fake payments API: refunds', () => {
  let fake: FakePayments;
  let charge: Charge;
  beforeAll(async () => {
    fake = await startFakePayments({ charges: 5 });
    charge = fake.add({ status: 'succeeded', amount: 1000, amount_refunded: 0, refunded: false });
  });
  afterAll(() => fake.close());
  const post = async (path: string, form: Record<string, string>, key?: string) => {
    const res = await fetch(`${fake.url}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${fake.apiKey}`,
        'content-type': 'application/x-www-form-urlencoded',
        ...(key ? { 'idempotency-key': key } : {}),
      },
      body: new URLSearchParams(form).toString(),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & ErrorBody };
  };

  it('creates a refund once per idempotency key; other parameters with the key are an idempotency_error', async () => {
    const before = { ...fake.refunds.counters };
    const form = { charge: charge.id, amount: '100', 'metadata[kubegate_name]': 'r1' };
    const a = await post('/v1/refunds', form, 'key-1');
    const b = await post('/v1/refunds', form, 'key-1');
    expect(a.status).toBe(200);
    expect(b.body).toEqual(a.body);
    expect(a.body).toMatchObject({
      object: 'refund',
      amount: 100,
      status: 'pending',
      metadata: { kubegate_name: 'r1' },
    });
    const c = await post('/v1/refunds', { ...form, amount: '200' }, 'key-1');
    expect(c.status).toBe(400);
    expect(c.body.error.type).toBe('idempotency_error');
    expect(fake.refunds.counters.created - before.created).toBe(1);
    expect(fake.refunds.counters.createRequests - before.createRequests).toBe(3);
    const noKey = await post('/v1/refunds', form);
    expect(noKey.body.id).not.toBe(a.body.id);
  });

  it('refuses what the API refuses: no charge, too much, unknown parameters', async () => {
    expect((await post('/v1/refunds', { amount: '1' })).body.error.code).toBe('parameter_missing');
    expect((await post('/v1/refunds', { charge: 'ch_nosuch' })).body.error.code).toBe('resource_missing');
    expect((await post('/v1/refunds', { charge: charge.id, amount: '999999' })).body.error.code).toBe(
      'amount_too_large',
    );
    expect((await post('/v1/refunds', { charge: charge.id, tip: '1' })).body.error.param).toBe('tip');
  });

  it('lists newest first with cursors, gets one, cancels pending refunds only', async () => {
    const page = (await (
      await fetch(`${fake.url}/v1/refunds?limit=1`, { headers: { authorization: `Bearer ${fake.apiKey}` } })
    ).json()) as { data: { id: string }[]; has_more: boolean };
    expect(page.has_more).toBe(true);
    const first = page.data[0]!.id;
    const next = (await (
      await fetch(`${fake.url}/v1/refunds?limit=10&starting_after=${first}`, {
        headers: { authorization: `Bearer ${fake.apiKey}` },
      })
    ).json()) as { data: { id: string }[] };
    expect(next.data.map((r) => r.id)).not.toContain(first);
    const cancel = await post(`/v1/refunds/${first}/cancel`, {});
    expect(cancel.body.status).toBe('canceled');
    const again = await post(`/v1/refunds/${first}/cancel`, {});
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('refund_not_cancelable');
  });
});
