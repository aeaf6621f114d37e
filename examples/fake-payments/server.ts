import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createChargeFactory, seedCharges, type Charge } from './charges.ts';
import { makeCustomers, type Customer } from './customers.ts';
import { EventLog, page, type PageQuery } from './events.ts';
import { ApiError, DropAnswer, invalid } from './api-error.ts';
import { createRefundsApi, type RefundsApi } from './refunds.ts';

export type { Charge } from './charges.ts';
export type { Customer } from './customers.ts';
export type { PaymentEvent } from './events.ts';
export type { Refund, RefundCounters } from './refunds.ts';

/** The default secret key of the fake (a test-mode key shape; not a real key). */
export const FAKE_API_KEY = 'sk_test_51KubegateFakePaymentsKey00001234';

export interface FakePaymentsOptions {
  /** Port to listen on, 0 (default) for any free port. */
  port?: number;
  /** The only key accepted; default FAKE_API_KEY. */
  apiKey?: string;
  /** Charges seeded at start; default 300. */
  charges?: number;
  /** Seed of the generated data; the same seed gives the same charges. Default 1. */
  seed?: number;
  /** Customers (charges are drawn from them); default 20. Other counts draw other charges from the seed. */
  customers?: number;
  /** Creates a charge (and its event) every this many ms while running; default never. */
  chargeEveryMs?: number;
}

export interface FakePayments {
  /** Base URL, e.g. `http://127.0.0.1:40123` (the API lives under `/v1`). */
  url: string;
  apiKey: string;
  /** Requests received per route, counted before auth and rate limiting. */
  calls: { list: number; get: number; events: number; customers: number };
  /** Creates a charge (generated fields, overridden by `c`), created now, and returns it (event `charge.<status>`). */
  add(c?: Partial<Charge>): Charge;
  /**
   * Changes fields of a charge (its id and object stay); event `charge.updated` with the previous values.
   * Throws if there is no such charge.
   */
  update(id: string, patch: Partial<Charge>): void;
  /** Refunds `amount` (default all that is left) of a charge; event `charge.refunded`. Returns the charge. */
  refund(id: string, amount?: number): Charge;
  /** Events recorded so far. */
  eventCount(): number;
  /** Forgets every event, as the API does after its retention period (a cursor naming one becomes unknown). */
  forgetEvents(): void;
  /** Deletes a charge (cursors naming it keep working). Throws if there is no such charge. */
  remove(id: string): void;
  /** The refunds endpoints: their counters (creates that reached the fake, refunds created) and test hooks. */
  refunds: Pick<RefundsApi, 'counters' | 'refunds' | 'dropNextCreateAnswer' | 'setStatus'>;
  /** Allows at most `n` requests per second (others get 429 with Retry-After), or no limit with null. */
  setRateLimit(n: number | null): void;
  close(): Promise<void>;
}

const LIST_PARAMS = new Set([
  'limit',
  'starting_after',
  'ending_before',
  'customer',
  'created[gt]',
  'created[gte]',
  'created[lt]',
  'created[lte]',
]);

/** `sk_test_****1234`: how the API shows a key in errors. */
export function maskKey(key: string): string {
  const prefix = /^[a-z]{2}_(?:test|live)_/.exec(key)?.[0] ?? '';
  return key.length - prefix.length > 8 ? `${prefix}****${key.slice(-4)}` : `${prefix}****`;
}

/** The key of `Authorization: Bearer <key>` or of Basic auth with the key as user name. */
function presentedKey(h: string | undefined): string | undefined {
  if (!h) return undefined;
  const [scheme, value = ''] = h.split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer') return value;
  if (scheme?.toLowerCase() === 'basic') return Buffer.from(value, 'base64').toString().split(':')[0];
  return undefined;
}

/**
 * A fake of a Stripe-shaped charges API on node:http: `GET /v1/charges` (newest first, `limit`,
 * `starting_after`/`ending_before` cursors, `customer` and `created[gt|gte|lt|lte]` filters),
 * `GET /v1/charges/{id}`, `GET /v1/customers` (paged the same way) and `GET /v1/events` (the changes made
 * through add, update and refund, filtered by `type=charge.*` or `types[]=`), with bearer-key auth (401), unknown-parameter errors (400), missing charges (404)
 * and an optional per-second rate limit (429 with Retry-After). Data is generated from a seed.
 *
 * @example
 * const fake = await startFakePayments({ charges: 50 });
 * const res = await fetch(`${fake.url}/v1/charges?limit=3`, { headers: { authorization: `Bearer ${fake.apiKey}` } });
 * await fake.close();
 */
export async function startFakePayments(opts: FakePaymentsOptions = {}): Promise<FakePayments> {
  const apiKey = opts.apiKey ?? FAKE_API_KEY;
  const seed = opts.seed ?? 1;
  const factory = createChargeFactory(seed, opts.customers ?? 20);
  // Newest first; `seq` breaks ties between charges created in the same second (later insert = newer).
  const charges: Charge[] = seedCharges(factory, opts.charges ?? 300, seed);
  const seq = new Map<string, number>(charges.map((c, i) => [c.id, charges.length - i]));
  let nextSeq = charges.length + 1;
  const removed = new Map<string, Charge>();
  const calls = { list: 0, get: 0, events: 0, customers: 0 };
  const events = new EventLog();
  const customers: Customer[] = makeCustomers(factory.customers);
  const customerAt = new Map(customers.map((c, i) => [c.id, customers.length - i]));
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  let rate: number | null = null;
  let window = { start: 0, count: 0 };
  let requestNo = 0;

  /** Negative when a comes before b in the list (a is newer). */
  const order = (a: Charge, b: Charge) => b.created - a.created || (seq.get(b.id) ?? 0) - (seq.get(a.id) ?? 0);
  const find = (id: string) => charges.find((c) => c.id === id);

  const list = (q: URLSearchParams) => {
    const { limit, startingAfter: after, endingBefore: before, created: bounds } = pageQuery(q, []);
    const cursorOf = (id: string, param: string) => {
      const c = find(id) ?? removed.get(id);
      if (!c) throw invalid(`No such charge: '${id}'`, param, 'resource_missing');
      return c;
    };
    const customer = q.get('customer');
    let rows = charges.filter(
      (c) =>
        (customer === null || c.customer === customer) &&
        (bounds.gt === undefined || c.created > bounds.gt) &&
        (bounds.gte === undefined || c.created >= bounds.gte) &&
        (bounds.lt === undefined || c.created < bounds.lt) &&
        (bounds.lte === undefined || c.created <= bounds.lte),
    );
    let hasMore: boolean;
    if (before !== null) {
      const at = cursorOf(before, 'ending_before');
      rows = rows.filter((c) => order(c, at) < 0);
      hasMore = rows.length > limit;
      rows = rows.slice(-limit);
    } else {
      if (after !== null) {
        const at = cursorOf(after, 'starting_after');
        rows = rows.filter((c) => order(c, at) > 0);
      }
      hasMore = rows.length > limit;
      rows = rows.slice(0, limit);
    }
    return { object: 'list', url: '/v1/charges', has_more: hasMore, data: rows };
  };

  /** Parameters of a list other than charges': only `allowed` ones, cursors and range bounds parsed. */
  const pageQuery = (q: URLSearchParams, allowed: string[]): PageQuery => {
    for (const k of q.keys())
      if (!allowed.includes(k) && !LIST_PARAMS.has(k)) throw invalid(`Received unknown parameter: ${k}`, k);
    const int = (name: string): number | undefined => {
      const v = q.get(name);
      if (v === null) return undefined;
      if (!/^-?\d+$/.test(v)) throw invalid(`Invalid integer: ${v}`, name);
      return Number(v);
    };
    const limit = int('limit') ?? 10;
    if (limit < 1 || limit > 100) throw invalid('This value must be between 1 and 100.', 'limit');
    const startingAfter = q.get('starting_after');
    const endingBefore = q.get('ending_before');
    if (startingAfter !== null && endingBefore !== null)
      throw invalid('You may only specify one of these parameters: ending_before, starting_after.', 'starting_after');
    return {
      limit,
      startingAfter,
      endingBefore,
      created: { gt: int('created[gt]'), gte: int('created[gte]'), lt: int('created[lt]'), lte: int('created[lte]') },
    };
  };
  const missing = (what: string) => (id: string, param: string) =>
    invalid(`No such ${what}: '${id}'`, param, 'resource_missing');

  const listEvents = (q: URLSearchParams) => {
    const types = [...q.getAll('types[]'), ...q.getAll('type')];
    if (q.has('type') && q.has('types[]'))
      throw invalid('You may only specify one of these parameters: type, types[].', 'type');
    return events.list(pageQuery(q, ['type', 'types[]']), types, missing('event'));
  };

  const listCustomers = (q: URLSearchParams) => {
    const p = page(
      customers,
      pageQuery(q, []),
      (id) => customerAt.get(id),
      (c) => customerAt.get(c.id) ?? 0,
      missing('customer'),
    );
    return { object: 'list', url: '/v1/customers', ...p };
  };

  const refunds = createRefundsApi(find, (id, amountRefunded) => {
    const c = find(id);
    if (c) update(id, { amount_refunded: amountRefunded, refunded: amountRefunded >= c.amount }, 'charge.refunded');
  });

  /** Largest request body read (form-encoded parameters are small). */
  const MAX_BODY = 64 * 1024;
  const readBody = (req: http.IncomingMessage): Promise<string> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let n = 0;
      req.on('data', (c: Buffer) => {
        n += c.length;
        if (n > MAX_BODY) {
          reject(invalid('The request body is too large.'));
          req.destroy();
        } else chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  const route = (req: http.IncomingMessage, body = ''): unknown => {
    const u = new URL(req.url ?? '/', 'http://fake');
    const isList = u.pathname === '/v1/charges';
    const one = /^\/v1\/charges\/([^/]+)$/.exec(u.pathname);
    if (isList) calls.list++;
    if (one) calls.get++;
    if (u.pathname === '/v1/events') calls.events++;
    if (u.pathname === '/v1/customers') calls.customers++;
    if (rate !== null) {
      const now = Date.now();
      if (now - window.start >= 1000) window = { start: now, count: 0 };
      if (++window.count > rate)
        throw new ApiError(429, {
          type: 'rate_limit_error',
          code: 'rate_limit',
          message: 'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.',
        });
    }
    const key = presentedKey(req.headers.authorization);
    if (key === undefined || key === '')
      throw new ApiError(401, {
        type: 'invalid_request_error',
        message:
          "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
      });
    if (key !== apiKey)
      throw new ApiError(401, { type: 'invalid_request_error', message: `Invalid API Key provided: ${maskKey(key)}` });
    if (req.method === 'GET' && isList) return list(u.searchParams);
    if (req.method === 'GET' && u.pathname === '/v1/events') return listEvents(u.searchParams);
    if (req.method === 'GET' && u.pathname === '/v1/customers') return listCustomers(u.searchParams);
    const refundAnswer = refunds.route(req.method ?? 'GET', u, body, req.headers);
    if (refundAnswer !== undefined) return refundAnswer;
    if (req.method === 'GET' && one) {
      const id = decodeURIComponent(one[1] ?? '');
      const c = find(id);
      if (!c)
        throw new ApiError(404, {
          type: 'invalid_request_error',
          code: 'resource_missing',
          param: 'id',
          message: `No such charge: '${id}'`,
        });
      return c;
    }
    throw new ApiError(404, {
      type: 'invalid_request_error',
      message: `Unrecognized request URL (${req.method ?? 'GET'}: ${u.pathname}).`,
    });
  };

  const server = http.createServer((req, res) => {
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'application/json',
      'request-id': `req_${String(++requestNo).padStart(14, '0')}`,
    };
    const answer = (reqBody: string) => {
      try {
        const body = JSON.stringify(route(req, reqBody));
        res.writeHead(200, headers).end(body);
      } catch (err) {
        // Processed, but the client never learns the outcome (what a retry with an idempotency key is for).
        if (err instanceof DropAnswer) return void req.socket.destroy();
        const e = err instanceof ApiError ? err : new ApiError(500, { type: 'api_error', message: String(err) });
        if (e.status === 429) headers['retry-after'] = '1';
        res.writeHead(e.status, headers).end(JSON.stringify({ error: e.body }));
      }
    };
    if (req.method !== 'POST') {
      req.resume();
      answer('');
      return;
    }
    readBody(req).then(answer, (err: unknown) => {
      const e = err instanceof ApiError ? err : invalid('The request body could not be read.');
      res.writeHead(e.status, headers).end(JSON.stringify({ error: e.body }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const add = (c: Partial<Charge> = {}): Charge => {
    const created = c.created ?? Math.max(nowSeconds(), charges[0]?.created ?? 0);
    const charge = factory.make(created, c);
    if (find(charge.id)) throw new Error(`charge ${charge.id} already exists`);
    seq.set(charge.id, nextSeq++);
    charges.push(charge);
    charges.sort(order);
    events.emit(`charge.${charge.status}`, charge, Math.max(nowSeconds(), created));
    return charge;
  };
  const update = (id: string, patch: Partial<Charge>, type = 'charge.updated'): Charge => {
    const c = find(id);
    if (!c) throw new Error(`no charge ${id}`);
    const previous: Record<string, unknown> = {};
    for (const k of Object.keys(patch) as (keyof Charge)[]) if (k !== 'id' && k !== 'object') previous[k] = c[k];
    Object.assign(c, patch, { id, object: 'charge' });
    charges.sort(order);
    events.emit(type, c, nowSeconds(), previous);
    return c;
  };
  const ticker = opts.chargeEveryMs ? setInterval(() => add(), opts.chargeEveryMs) : undefined;
  ticker?.unref();

  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    calls,
    refunds,
    add,
    update(id, patch) {
      update(id, patch);
    },
    refund(id, amount) {
      const c = find(id);
      if (!c) throw new Error(`no charge ${id}`);
      const refunded = Math.min(c.amount, c.amount_refunded + (amount ?? c.amount - c.amount_refunded));
      return update(id, { amount_refunded: refunded, refunded: refunded === c.amount }, 'charge.refunded');
    },
    eventCount: () => events.size,
    forgetEvents: () => events.clear(),
    remove(id) {
      const i = charges.findIndex((c) => c.id === id);
      const [c] = i >= 0 ? charges.splice(i, 1) : [];
      if (!c) throw new Error(`no charge ${id}`);
      removed.set(id, c);
    },
    setRateLimit(n) {
      rate = n;
      window = { start: 0, count: 0 };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (ticker) clearInterval(ticker);
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
