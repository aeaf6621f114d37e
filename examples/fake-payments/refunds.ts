import { createHash, randomBytes } from 'node:crypto';
import { ApiError, DropAnswer, invalid } from './api-error.ts';
import type { Charge } from './charges.ts';

/** A refund as the payments API serializes it (Stripe's refund object, the fields kubegate reads). */
export interface Refund {
  id: string;
  object: 'refund';
  amount: number;
  charge: string;
  currency: string;
  created: number;
  metadata: Record<string, string>;
  reason: 'duplicate' | 'fraudulent' | 'requested_by_customer' | null;
  status: 'pending' | 'succeeded' | 'failed' | 'canceled';
}

/** What the refunds endpoints saw, for tests. */
export interface RefundCounters {
  /** `POST /v1/refunds` requests that passed authentication (replays included). */
  createRequests: number;
  /** Refunds actually created (a replayed idempotent request creates nothing). */
  created: number;
  /** Requests answered from the idempotency store. */
  replayed: number;
  /** `POST /v1/refunds/{id}/cancel` requests. */
  cancels: number;
}

const REASONS = new Set(['duplicate', 'fraudulent', 'requested_by_customer']);
const CREATE_PARAMS = new Set(['charge', 'amount', 'reason', 'metadata']);
const LIST_PARAMS = new Set(['limit', 'starting_after', 'ending_before', 'charge']);
/** How long an idempotency key is remembered (the payments API documents 24 hours). */
const KEY_TTL_MS = 24 * 3_600_000;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function refundId(): string {
  let s = 're_3';
  for (const b of randomBytes(23)) s += ALNUM[b % ALNUM.length] ?? 'A';
  return s;
}

/** Form parameters with `metadata[key]` gathered into one map; unknown parameters are a 400. */
function formParams(
  body: string,
  allowed: Set<string>,
): { flat: Map<string, string>; metadata: Record<string, string> } {
  const flat = new Map<string, string>();
  const metadata: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const m = /^metadata\[([^\]]{1,40})\]$/.exec(k);
    if (m && allowed.has('metadata')) metadata[m[1] ?? ''] = v;
    else if (allowed.has(k) && k !== 'metadata') flat.set(k, v);
    else throw invalid(`Received unknown parameter: ${k}`, k);
  }
  if (Object.keys(metadata).length > 50) throw invalid('Metadata may have at most 50 keys.', 'metadata');
  return { flat, metadata };
}

export interface RefundsApi {
  readonly counters: RefundCounters;
  /** All refunds, newest first. */
  readonly refunds: Refund[];
  /** Processes the next create, then drops the connection instead of answering (a lost answer). */
  dropNextCreateAnswer(): void;
  /** Sets a refund's status (pending refunds settle or fail on the provider's side). */
  setStatus(id: string, status: Refund['status']): void;
  /** Answers a refunds route, or undefined when the path is not one. */
  route(method: string, u: URL, body: string, headers: Record<string, string | string[] | undefined>): unknown;
}

/**
 * The refunds endpoints of the fake payments API, as Stripe documents them: `POST /v1/refunds` (form-encoded
 * `charge`, `amount`, `reason`, `metadata[...]`; new refunds are pending), `GET /v1/refunds` (newest first,
 * `limit` and `starting_after`/`ending_before` cursors, `charge` filter), `GET /v1/refunds/{id}`,
 * `POST /v1/refunds/{id}` (metadata only) and `POST /v1/refunds/{id}/cancel` (pending refunds only).
 * POSTs honour `Idempotency-Key`: the same key with the same parameters gets the first answer again
 * (`Idempotent-Replayed: true`) without acting twice; with other parameters a 400 `idempotency_error`.
 */
export function createRefundsApi(
  findCharge: (id: string) => Charge | undefined,
  setRefunded: (chargeId: string, amountRefunded: number) => void,
): RefundsApi {
  const refunds: Refund[] = [];
  const counters: RefundCounters = { createRequests: 0, created: 0, replayed: 0, cancels: 0 };
  const keys = new Map<string, { params: string; answer: unknown; at: number }>();
  let dropNext = false;
  const find = (id: string) => refunds.find((r) => r.id === id);
  const missing = (id: string, param = 'id') =>
    new ApiError(404, {
      type: 'invalid_request_error',
      code: 'resource_missing',
      param,
      message: `No such refund: '${id}'`,
    });

  /** Runs a POST once per idempotency key; a replay answers what the first one answered. */
  const idempotent = (key: string | undefined, what: string, body: string, act: () => unknown): unknown => {
    if (!key) return act();
    const now = Date.now();
    for (const [k, v] of keys) if (now - v.at > KEY_TTL_MS) keys.delete(k);
    const params = createHash('sha256').update(`${what}\u0000${body}`).digest('hex');
    const seen = keys.get(key);
    if (seen) {
      if (seen.params !== params)
        throw new ApiError(400, {
          type: 'idempotency_error',
          message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
        });
      counters.replayed++;
      return seen.answer;
    }
    const answer = act();
    keys.set(key, { params, answer: structuredClone(answer), at: now });
    return answer;
  };

  const create = (body: string): Refund => {
    const { flat, metadata } = formParams(body, CREATE_PARAMS);
    const chargeId = flat.get('charge');
    if (!chargeId) throw invalid('Missing required param: charge.', 'charge', 'parameter_missing');
    const charge = findCharge(chargeId);
    if (!charge) throw invalid(`No such charge: '${chargeId}'`, 'charge', 'resource_missing');
    const left = charge.amount - charge.amount_refunded;
    const rawAmount = flat.get('amount');
    if (rawAmount !== undefined && !/^[0-9]+$/.test(rawAmount))
      throw invalid(`Invalid integer: ${rawAmount}`, 'amount', 'parameter_invalid_integer');
    const amount = rawAmount === undefined ? left : Number(rawAmount);
    if (amount < 1)
      throw invalid('This value must be greater than or equal to 1.', 'amount', 'parameter_invalid_integer');
    if (charge.status !== 'succeeded')
      throw invalid(`Charge ${chargeId} has not succeeded; it cannot be refunded.`, 'charge', 'charge_not_refundable');
    if (amount > left)
      throw invalid(
        `Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`,
        'amount',
        'amount_too_large',
      );
    const reason = flat.get('reason');
    if (reason !== undefined && !REASONS.has(reason))
      throw invalid(`Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer`, 'reason');
    const refund: Refund = {
      id: refundId(),
      object: 'refund',
      amount,
      charge: chargeId,
      currency: charge.currency,
      created: Math.floor(Date.now() / 1000),
      metadata,
      reason: (reason as Refund['reason'] | undefined) ?? null,
      status: 'pending',
    };
    refunds.unshift(refund);
    setRefunded(chargeId, charge.amount_refunded + amount);
    counters.created++;
    return refund;
  };

  const cancel = (id: string): Refund => {
    const r = find(id);
    if (!r) throw missing(id);
    if (r.status !== 'pending')
      throw invalid(
        `Refund ${id} has status ${r.status}; only a pending refund can be canceled.`,
        undefined,
        'refund_not_cancelable',
      );
    r.status = 'canceled';
    const charge = findCharge(r.charge);
    if (charge) setRefunded(r.charge, charge.amount_refunded - r.amount);
    return r;
  };

  const list = (q: URLSearchParams) => {
    for (const k of q.keys()) if (!LIST_PARAMS.has(k)) throw invalid(`Received unknown parameter: ${k}`, k);
    const limitRaw = q.get('limit') ?? '10';
    if (!/^[0-9]+$/.test(limitRaw)) throw invalid(`Invalid integer: ${limitRaw}`, 'limit');
    const limit = Number(limitRaw);
    if (limit < 1 || limit > 100) throw invalid('This value must be between 1 and 100.', 'limit');
    const charge = q.get('charge');
    let rows = refunds.filter((r) => charge === null || r.charge === charge);
    const after = q.get('starting_after');
    const before = q.get('ending_before');
    let hasMore: boolean;
    if (before !== null) {
      const i = rows.findIndex((r) => r.id === before);
      if (i < 0) throw missing(before, 'ending_before');
      rows = rows.slice(0, i);
      hasMore = rows.length > limit;
      rows = rows.slice(-limit);
    } else {
      if (after !== null) {
        const i = rows.findIndex((r) => r.id === after);
        if (i < 0) throw missing(after, 'starting_after');
        rows = rows.slice(i + 1);
      }
      hasMore = rows.length > limit;
      rows = rows.slice(0, limit);
    }
    return { object: 'list', url: '/v1/refunds', has_more: hasMore, data: rows };
  };

  return {
    counters,
    refunds,
    dropNextCreateAnswer() {
      dropNext = true;
    },
    setStatus(id, status) {
      const r = find(id);
      if (!r) throw new Error(`no refund ${id}`);
      r.status = status;
    },
    route(method, u, body, headers) {
      const rawKey = headers['idempotency-key'];
      const key = typeof rawKey === 'string' && rawKey !== '' ? rawKey.slice(0, 255) : undefined;
      if (u.pathname === '/v1/refunds') {
        if (method === 'GET') return list(u.searchParams);
        if (method !== 'POST') return undefined;
        counters.createRequests++;
        const answer = idempotent(key, 'create', body, () => create(body));
        if (dropNext) {
          dropNext = false;
          throw new DropAnswer('answer dropped after processing');
        }
        return answer;
      }
      const one = /^\/v1\/refunds\/([^/]+)(\/cancel)?$/.exec(u.pathname);
      if (!one) return undefined;
      const id = decodeURIComponent(one[1] ?? '');
      if (one[2]) {
        if (method !== 'POST') return undefined;
        counters.cancels++;
        return idempotent(key, `cancel ${id}`, body, () => cancel(id));
      }
      if (method === 'GET') {
        const r = find(id);
        if (!r) throw missing(id);
        return r;
      }
      if (method !== 'POST') return undefined;
      return idempotent(key, `update ${id}`, body, () => {
        const r = find(id);
        if (!r) throw missing(id);
        const { metadata } = formParams(body, new Set(['metadata']));
        // Stripe semantics: an empty value removes the key.
        for (const [k, v] of Object.entries(metadata)) {
          if (v === '') Reflect.deleteProperty(r.metadata, k);
          else r.metadata[k] = v;
        }
        return r;
      });
    },
  };
}
