import {
  AdapterError,
  RequestRejected,
  Type,
  defineResource,
  type AdapterContext,
  type FieldError,
  type ObjectInput,
  type Static,
  type WriteContext,
  type WriteObject,
} from 'kubegate/sdk';
import { accountFor, accountHeaders, accountsOf, type Account } from './accounts.ts';
import { ID_ANNOTATION, formatAmount } from './map.ts';
import { idToName, teamNamespace } from './names.ts';
import type { PaymentsConfig } from './schema.ts';

/**
 * Refunds of the payments API as `Refund` objects you can create (`kubectl create -f refund.yaml`) and delete
 * (the refund is canceled, which the API allows while it is pending). Mirrored, so `kubectl get -w` sees them.
 * The upstream types are written by hand: the refunds endpoints are not in openapi.yaml.
 */

/** Metadata keys the adapter keeps on the upstream refund: the Kubernetes name and namespace it was created as. */
export const NAME_KEY = 'kubegate_name';
export const NAMESPACE_KEY = 'kubegate_namespace';

/** A refund as the payments API returns it (the fields read). */
export interface UpstreamRefund {
  id: string;
  amount: number;
  charge: string | null;
  currency: string;
  created: number;
  metadata: Record<string, string> | null;
  reason: string | null;
  status: string;
}

const REASONS = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;
const STATUSES = ['pending', 'succeeded', 'failed', 'canceled', 'requires_action'] as const;

export const RefundSpec = Type.Object(
  {
    charge: Type.String({
      pattern: '^ch_[A-Za-z0-9]+$',
      description: 'Id of the charge to refund, as the payments API spells it (ch_...).',
    }),
    amount: Type.Integer({
      exclusiveMinimum: 0,
      description:
        'Amount to refund, in the smallest unit of the charge currency (cents for EUR). At most what is left.',
    }),
    reason: Type.Optional(
      Type.Union(
        REASONS.map((r) => Type.Literal(r)),
        { description: 'Why: duplicate, fraudulent or requested_by_customer.' },
      ),
    ),
  },
  { additionalProperties: false, description: 'What to refund.' },
);
export type RefundSpec = Static<typeof RefundSpec>;

export const RefundStatus = Type.Object(
  {
    status: Type.Union(
      STATUSES.map((s) => Type.Literal(s)),
      { description: 'pending, succeeded, failed, canceled or requires_action.' },
    ),
    currency: Type.String({ description: 'Currency of the refund (the charge currency), lower case.' }),
    amountDisplay: Type.String({ description: 'The amount in major units with the currency code, e.g. "12.50 EUR".' }),
    id: Type.String({ description: 'The refund id at the payments API (re_...).' }),
  },
  { additionalProperties: false, description: 'The refund as the payments API reports it.' },
);

const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** Label keys are stored as metadata keys: at most 40 characters, no square brackets (the API's rules). */
const METADATA_KEY = /^[^[\]]{1,40}$/;
const OWN_KEYS = new Set([NAME_KEY, NAMESPACE_KEY, 'team']);

/**
 * The object of an upstream refund; canceled refunds are deleted objects and are not listed. With `accounts`, a
 * refund is in its account's namespace (`namespace`); without, in the namespace it was created in.
 */
export function refundToObject(r: UpstreamRefund, config: PaymentsConfig, namespace?: string): ObjectInput | undefined {
  const meta = r.metadata ?? {};
  const own = meta[NAME_KEY];
  const name = own && DNS_SUBDOMAIN.test(own) ? own : idToName(r.id);
  if (!name || !r.charge) return undefined;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) if (!OWN_KEYS.has(k)) labels[k] = v;
  return {
    name,
    namespace: namespace ?? meta[NAMESPACE_KEY] ?? teamNamespace(meta.team, config.defaultNamespace ?? 'default'),
    labels,
    annotations: { [ID_ANNOTATION]: r.id },
    creationTimestamp: new Date(r.created * 1000),
    spec: {
      charge: r.charge,
      amount: r.amount,
      ...(r.reason && (REASONS as readonly string[]).includes(r.reason) ? { reason: r.reason } : {}),
    },
    status: {
      status: (STATUSES as readonly string[]).includes(r.status) ? r.status : 'pending',
      currency: r.currency,
      amountDisplay: formatAmount(r.amount, r.currency),
      id: r.id,
    },
  };
}

interface ApiErrorBody {
  type?: string;
  code?: string;
  param?: string;
}

/**
 * One call to the payments API with the credentials of `account`; a 4xx answer comes back with the API's error
 * code (never its message).
 */
async function call(
  ctx: AdapterContext<PaymentsConfig>,
  account: Account,
  what: string,
  path: string,
  o: { form?: URLSearchParams; idempotencyKey?: string } = {},
): Promise<{ ok: true; data: unknown } | { ok: false; status: number; error: ApiErrorBody }> {
  const base = ctx.config.baseUrl.replace(/\/+$/, '');
  const res = await ctx.fetch(`${base}${path}`, {
    method: o.form ? 'POST' : 'GET',
    headers: {
      ...accountHeaders(account),
      accept: 'application/json',
      ...(o.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      ...(o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {}),
    },
    ...(o.form ? { body: o.form.toString() } : {}),
    signal: ctx.signal,
  });
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new AdapterError(`payments: ${what} answered ${res.status} without a JSON body`, { status: res.status });
  }
  if (res.ok) return { ok: true, data: body };
  const e = (body as { error?: ApiErrorBody } | null)?.error ?? {};
  const clean = (s: string | undefined) => (s && /^[a-z_]{1,40}$/.test(s) ? s : undefined);
  const error: ApiErrorBody = {};
  const type = clean(e.type);
  const code = clean(e.code);
  const param = clean(e.param);
  if (type) error.type = type;
  if (code) error.code = code;
  if (param) error.param = param;
  return { ok: false, status: res.status, error };
}

function failed(what: string, r: { status: number; error: ApiErrorBody }): AdapterError {
  const code = r.error.code ?? r.error.type;
  return new AdapterError(`payments: ${what} answered ${r.status}${code ? ` (${code})` : ''}`, { status: r.status });
}

/** What the API said about a create, as the client's answer. */
function createRejection(obj: WriteObject, r: { status: number; error: ApiErrorBody }): Error {
  const spec = obj.spec as RefundSpec;
  const f = (e: FieldError) => new RequestRejected('Invalid', '', [e]);
  if (r.error.type === 'idempotency_error')
    return new RequestRejected(
      'AlreadyExists',
      `a refund named "${obj.name}" was requested with other parameters within the last 24 hours; choose another name`,
    );
  switch (r.error.code) {
    case 'resource_missing':
      return f({ field: 'spec.charge', type: 'NotFound', value: spec.charge, detail: 'no such charge' });
    case 'amount_too_large':
      return f({
        field: 'spec.amount',
        type: 'Invalid',
        value: spec.amount,
        detail: 'more than is left to refund on the charge',
      });
    case 'charge_not_refundable':
    case 'charge_already_refunded':
      return f({
        field: 'spec.charge',
        type: 'Invalid',
        value: spec.charge,
        detail: 'the charge cannot be refunded (it has not succeeded, or is refunded)',
      });
    default:
      return failed('POST /v1/refunds', r);
  }
}

/** The upstream metadata of an object: its labels plus the name and namespace it was created as. */
function metadataForm(obj: WriteObject, form: URLSearchParams, removed: string[] = []): void {
  for (const [k, v] of Object.entries(obj.labels)) form.set(`metadata[${k}]`, v);
  for (const k of removed) form.set(`metadata[${k}]`, '');
}

/** The account of an object's namespace (with `accounts`, the one bound to it; without, the single one). */
function accountOf(ctx: AdapterContext<PaymentsConfig>, namespace: string | undefined): Account {
  const a = accountFor(ctx.config, namespace);
  if (!a) throw new AdapterError(`payments: no account is bound to the namespace "${namespace ?? ''}"`);
  return a;
}

/**
 * Every refund, page by page (100 per call), canceled ones left out: a canceled refund is a deleted object. With
 * accounts, each account's refunds in its namespace, the accounts one after the other.
 */
async function* listRefunds(ctx: AdapterContext<PaymentsConfig>): AsyncIterable<ObjectInput[]> {
  for (const account of accountsOf(ctx.config)) {
    let after: string | undefined;
    for (;;) {
      const q = new URLSearchParams({ limit: '100', ...(after ? { starting_after: after } : {}) });
      const r = await call(ctx, account, 'GET /v1/refunds', `/v1/refunds?${q.toString()}`);
      if (!r.ok) throw failed('GET /v1/refunds', r);
      const page = r.data as { data: UpstreamRefund[]; has_more: boolean };
      const out: ObjectInput[] = [];
      for (const x of page.data) {
        if (x.status === 'canceled') continue;
        const obj = refundToObject(x, ctx.config, account.namespace);
        if (obj) out.push(obj);
        else ctx.skip('a refund id does not have the prefix_alphanumerics shape, or it has no charge', x.id);
      }
      yield out;
      const last = page.data.at(-1)?.id;
      if (!page.has_more || !last) break;
      after = last;
    }
  }
}

export const refunds = defineResource<PaymentsConfig>({
  kind: 'Refund',
  plural: 'refunds',
  shortNames: ['rf'],
  categories: ['external', 'payments'],
  scope: 'Namespaced',
  mode: 'mirror',
  pollInterval: '30s',
  description:
    'A refund of a charge at the payments provider. Create one to refund (the namespace and name are kept in ' +
    'the refund metadata); delete it to cancel it, which the provider allows while it is pending.',
  schema: { spec: RefundSpec, status: RefundStatus },
  fields: ['spec.charge', 'status.status'],
  columns: [
    { name: 'Charge', type: 'string', jsonPath: '.spec.charge', description: 'The charge refunded.' },
    { name: 'Amount', type: 'string', jsonPath: '.status.amountDisplay', description: 'Amount in major units.' },
    { name: 'Status', type: 'string', jsonPath: '.status.status', description: 'pending, succeeded, failed...' },
    { name: 'Reason', type: 'string', jsonPath: '.spec.reason', priority: 1 },
  ],
  list: listRefunds,

  admission: {
    validate(ctx, req) {
      const errs: FieldError[] = [];
      if (!accountFor(ctx.config, req.object.namespace))
        errs.push({
          field: 'metadata.namespace',
          type: 'Invalid',
          value: req.object.namespace ?? '',
          detail: "no payments account is bound to this namespace (the adapter config's accounts)",
        });
      for (const k of Object.keys(req.object.labels))
        if (!METADATA_KEY.test(k) || OWN_KEYS.has(k))
          errs.push({
            field: 'metadata.labels',
            type: 'Invalid',
            value: k,
            detail:
              'a refund label key must be at most 40 characters, without [ or ], and not kubegate_name, kubegate_namespace or team',
          });
      if (Object.keys(req.object.labels).length > 47)
        errs.push({
          field: 'metadata.labels',
          type: 'TooMany',
          value: Object.keys(req.object.labels).length,
          detail: 'a refund has room for 47 labels',
        });
      // A refund cannot change once requested: only its labels can.
      const old = req.oldObject?.spec as RefundSpec | undefined;
      if (old) {
        const spec = req.object.spec as RefundSpec;
        for (const f of ['charge', 'amount', 'reason'] as const)
          if (spec[f] !== old[f])
            errs.push({ field: `spec.${f}`, type: 'Invalid', value: spec[f] ?? null, detail: 'field is immutable' });
      }
      return errs;
    },
  },

  async create(ctx: WriteContext<PaymentsConfig>, obj) {
    const spec = obj.spec as RefundSpec;
    const form = new URLSearchParams({ charge: spec.charge, amount: String(spec.amount) });
    if (spec.reason) form.set('reason', spec.reason);
    metadataForm(obj, form);
    form.set(`metadata[${NAME_KEY}]`, obj.name);
    if (obj.namespace) form.set(`metadata[${NAMESPACE_KEY}]`, obj.namespace);
    const account = accountOf(ctx, obj.namespace);
    const r = await call(ctx, account, 'POST /v1/refunds', '/v1/refunds', {
      form,
      idempotencyKey: ctx.idempotencyKey,
    });
    if (!r.ok) throw createRejection(obj, r);
    const refund = r.data as UpstreamRefund;
    // The same key answered with an earlier refund of this name that was canceled since: the name is taken for
    // as long as the API remembers the key.
    if (refund.status === 'canceled')
      throw new RequestRejected(
        'AlreadyExists',
        `a refund named "${obj.name}" was created and canceled within the last 24 hours; choose another name`,
      );
    const out = refundToObject(refund, ctx.config, account.namespace);
    if (!out) throw new AdapterError('payments: the created refund cannot be named');
    return out;
  },

  async delete(ctx: WriteContext<PaymentsConfig>, current) {
    const id = current.metadata.annotations?.[ID_ANNOTATION];
    if (!id) throw new AdapterError('payments: the refund has no id annotation');
    const path = `/v1/refunds/${encodeURIComponent(id)}/cancel`;
    const account = accountOf(ctx, current.metadata.namespace);
    const r = await call(ctx, account, `POST /v1/refunds/{id}/cancel`, path, {
      form: new URLSearchParams(),
      idempotencyKey: ctx.idempotencyKey,
    });
    if (!r.ok) {
      if (r.status === 404)
        throw new RequestRejected('NotFound', `refunds.payments.kubegate.dev "${current.metadata.name}" not found`);
      if (r.status === 400) {
        const status = (current.status as { status?: string } | undefined)?.status ?? 'unknown';
        throw new RequestRejected(
          'Conflict',
          `refund "${current.metadata.name}" cannot be deleted: the payments API cancels only pending refunds, and this one is ${status}`,
        );
      }
      throw failed('POST /v1/refunds/{id}/cancel', r);
    }
    return refundToObject(r.data as UpstreamRefund, ctx.config, account.namespace);
  },

  async update(ctx: WriteContext<PaymentsConfig>, obj, current) {
    const id = current.metadata.annotations?.[ID_ANNOTATION];
    if (!id) throw new AdapterError('payments: the refund has no id annotation');
    const form = new URLSearchParams();
    const removed = Object.keys(current.metadata.labels ?? {}).filter((k) => !(k in obj.labels));
    metadataForm(obj, form, removed);
    const account = accountOf(ctx, current.metadata.namespace);
    const r = await call(ctx, account, 'POST /v1/refunds/{id}', `/v1/refunds/${encodeURIComponent(id)}`, {
      form,
      idempotencyKey: ctx.idempotencyKey,
    });
    if (!r.ok) throw failed('POST /v1/refunds/{id}', r);
    const out = refundToObject(r.data as UpstreamRefund, ctx.config, account.namespace);
    if (!out) throw new AdapterError('payments: the updated refund cannot be named');
    return out;
  },
});
