import { defineAdapter, defineResource, type AdapterContext, type PageRequest } from 'kubegate/sdk';
import { PaymentsError, callPayments, paymentsClient } from './client.ts';
import { accountFor, accountHeaders, accountsOf, type Account } from './accounts.ts';
import { customers } from './customers.ts';
import { readChargeChanges } from './events.ts';
import { ID_ANNOTATION, chargeToObject } from './map.ts';
import { CHARGE_NAME, nameToId } from './names.ts';
import { ChargeSpec, ChargeStatus, PaymentsConfig } from './schema.ts';
import { refunds } from './refunds.ts';

/** Largest `limit` the payments API accepts. */
const MAX_PAGE = 100;

/** The customer to filter on upstream: the `customer` label, else the `spec.customer` field (both equality). */
function pushedCustomer(page: PageRequest): string | undefined {
  const req = page.labels.find((r) => r.key === 'customer') ?? page.fields.find((r) => r.key === 'spec.customer');
  // An empty `customer=` would make the API ignore the filter and list every charge: do not send it.
  return req?.value ? req.value : undefined;
}

/** The API may answer an unknown customer filter with `resource_missing` on `customer`: that is an empty list. */
function isUnknownCustomer(err: unknown): boolean {
  if (!(err instanceof PaymentsError)) return false;
  if (err.upstreamCode === 'resource_missing' && err.param === 'customer') return true;
  return (err.status === 400 || err.status === 404) && /No such customer/.test(err.upstreamMessage ?? '');
}

const charges = defineResource<PaymentsConfig>({
  kind: 'Charge',
  plural: 'charges',
  shortNames: ['ch'],
  categories: ['external', 'payments'],
  scope: 'Namespaced',
  mode: 'passthrough',
  description:
    'A charge of the payments provider (one attempt to move money), read through from its API. ' +
    'The namespace is the charge metadata "team"; the name is the charge id made lower case reversibly.',
  cacheTtl: '10s',
  // `kubectl get charges -w` and informers: the API's event log of charges, read every 2 s by one replica.
  changes: { interval: '2s', read: readChargeChanges },
  maxPageSize: MAX_PAGE,
  // Names made by idToName only: a get of any other name is NotFound without a cache entry or an API call.
  namePattern: CHARGE_NAME,
  // The namespace picks the account when accounts are configured (without them it is not an upstream filter).
  pushDown: { labels: ['customer'], fields: ['spec.customer'], namespace: true },
  fields: ['status.status', 'spec.customer', 'spec.currency'],
  schema: { spec: ChargeSpec, status: ChargeStatus },
  // `kubectl get --raw .../charges/<name>/proxy`: the charge as the payments API returns it, with the API key
  // added by kubegate, for users RBAC allows `get` on `charges/proxy`; GET only.
  proxy: {
    baseUrl: (config) => config.baseUrl,
    target: (object) => `/v1/charges/${encodeURIComponent(object.metadata.annotations?.[ID_ANNOTATION] ?? '')}`,
    // The credentials of the object's namespace's account (none for a namespace bound to no account).
    headers: (config, object) => {
      const a = accountFor(config, object.metadata.namespace);
      return a ? accountHeaders(a) : {};
    },
    allow: { methods: ['GET'], paths: [''] },
  },
  columns: [
    { name: 'Amount', type: 'string', jsonPath: '.spec.amountDisplay', description: 'Amount in major units.' },
    { name: 'Status', type: 'string', jsonPath: '.status.status', description: 'succeeded, pending or failed.' },
    { name: 'Customer', type: 'string', jsonPath: '.spec.customer', description: 'Customer id.' },
    { name: 'Paid', type: 'boolean', jsonPath: '.status.paid', description: 'Whether the charge was paid.' },
    {
      name: 'Minor Units',
      type: 'integer',
      jsonPath: '.spec.amount',
      description: 'Amount in the smallest currency unit (sortable).',
      priority: 1,
    },
    { name: 'Description', type: 'string', jsonPath: '.spec.description', priority: 1 },
    { name: 'Created', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'When it was created.' },
  ],

  // One upstream call per page. Without accounts the API cannot filter by team, so a list in one namespace
  // asks for every charge and the framework keeps those of the namespace (it re-applies every selector and the
  // namespace). With accounts, a namespace's list is its account's charges, and a list of all namespaces
  // reads the accounts one after the other (the cursor says which: "<index>:<charge id>").
  async listPage(ctx, page) {
    const accounts = accountsOf(ctx.config);
    let account: Account | undefined;
    let index: number | undefined;
    let cursor = page.cursor;
    if (!ctx.config.accounts) account = accounts[0];
    else if (page.namespace !== undefined) account = accountFor(ctx.config, page.namespace);
    else {
      const m = /^(\d+):(.*)$/.exec(page.cursor ?? '0:');
      index = Number(m?.[1] ?? 0);
      cursor = m?.[2] || undefined;
      account = accounts[index];
    }
    if (!account) return { items: [] };
    const customer = pushedCustomer(page);
    const client = paymentsClient(ctx, account);
    const query = {
      limit: Math.min(Math.max(page.limit, 1), MAX_PAGE),
      ...(cursor ? { starting_after: cursor } : {}),
      ...(customer ? { customer } : {}),
    };
    let list;
    try {
      list = await callPayments(ctx, 'GET /v1/charges', () =>
        client.GET('/v1/charges', { params: { query }, signal: ctx.signal }),
      );
    } catch (err) {
      if (customer && isUnknownCustomer(err)) list = { object: 'list' as const, url: '', has_more: false, data: [] };
      else throw err;
    }
    const items = [];
    for (const c of list.data) {
      const obj = chargeToObject(c, ctx.config, account.namespace);
      if (obj) items.push(obj);
      else ctx.skip('a charge id does not have the prefix_alphanumerics shape; it cannot be named', c.id);
    }
    // The cursor is the last upstream id, even if that charge was skipped.
    const last = list.data.at(-1)?.id;
    const next = list.has_more && last ? last : undefined;
    if (index === undefined) return { items, cursor: next };
    if (next) return { items, cursor: `${index}:${next}` };
    return { items, cursor: index + 1 < accounts.length ? `${index + 1}:` : undefined };
  },

  async get(ctx: AdapterContext<PaymentsConfig>, { name, namespace }) {
    const id = nameToId(name);
    const account = accountFor(ctx.config, namespace);
    // No id maps to this name, or no account to the namespace: nothing to ask the upstream.
    if (id === undefined || !account) return undefined;
    const client = paymentsClient(ctx, account);
    let charge;
    try {
      charge = await callPayments(ctx, 'GET /v1/charges/{id}', () =>
        client.GET('/v1/charges/{id}', { params: { path: { id } }, signal: ctx.signal }),
      );
    } catch (err) {
      // 404 is resource_missing ("No such charge"). The framework's fetch throws on it without the body.
      if (err instanceof PaymentsError && err.status === 404) return undefined;
      throw err;
    }
    const obj = chargeToObject(charge, ctx.config, account.namespace);
    if (!obj || (namespace !== undefined && obj.namespace !== namespace)) return undefined;
    return obj;
  },
});

/**
 * The payments adapter: charges of a Stripe-shaped payments API as namespaced `Charge` objects in
 * `payments.kubegate.dev/v1alpha1`, read through to the upstream (pass-through mode).
 *
 * @example
 * # kubegate.yaml
 * adapters:
 *   - name: payments
 *     module: ./adapters/payments/index.ts
 *     config:
 *       baseUrl: https://api.stripe.com
 *       apiKey: ${env:PAYMENTS_API_KEY}
 * # then: kubectl get charges -n checkout -l customer=cus_NffrFeUfNV2Hib
 */
export default defineAdapter({
  name: 'payments',
  group: 'payments.kubegate.dev',
  version: 'v1alpha1',
  config: PaymentsConfig,
  resources: [charges, customers, refunds],
});
