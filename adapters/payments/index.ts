import { defineAdapter, defineResource, type AdapterContext, type PageRequest } from 'kubegate/sdk';
import { PaymentsError, callPayments, paymentsClient } from './client.ts';
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
  pushDown: { labels: ['customer'], fields: ['spec.customer'] },
  fields: ['status.status', 'spec.customer', 'spec.currency'],
  schema: { spec: ChargeSpec, status: ChargeStatus },
  // `kubectl get --raw .../charges/<name>/proxy`: the charge as the payments API returns it, with the API key
  // added by kubegate, for users RBAC allows `get` on `charges/proxy`; GET only.
  proxy: {
    baseUrl: (config) => config.baseUrl,
    target: (object) => `/v1/charges/${encodeURIComponent(object.metadata.annotations?.[ID_ANNOTATION] ?? '')}`,
    headers: (config) => ({ authorization: `Bearer ${config.apiKey}` }),
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

  // One upstream call per page. The API cannot filter by team, so a list in one namespace asks for every
  // charge and the framework keeps those of the namespace (it re-applies every selector and the namespace).
  async listPage(ctx, page) {
    const customer = pushedCustomer(page);
    const client = paymentsClient(ctx);
    const query = {
      limit: Math.min(Math.max(page.limit, 1), MAX_PAGE),
      ...(page.cursor ? { starting_after: page.cursor } : {}),
      ...(customer ? { customer } : {}),
    };
    let list;
    try {
      list = await callPayments(ctx, 'GET /v1/charges', () =>
        client.GET('/v1/charges', { params: { query }, signal: ctx.signal }),
      );
    } catch (err) {
      if (customer && isUnknownCustomer(err)) return { items: [] };
      throw err;
    }
    const items = [];
    for (const c of list.data) {
      const obj = chargeToObject(c, ctx.config);
      if (obj) items.push(obj);
      else ctx.skip('a charge id does not have the prefix_alphanumerics shape; it cannot be named', c.id);
    }
    // The cursor is the last upstream id, even if that charge was skipped.
    const last = list.data.at(-1)?.id;
    return { items, cursor: list.has_more && last ? last : undefined };
  },

  async get(ctx: AdapterContext<PaymentsConfig>, { name, namespace }) {
    const id = nameToId(name);
    // No id maps to this name: nothing to ask the upstream.
    if (id === undefined) return undefined;
    const client = paymentsClient(ctx);
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
    const obj = chargeToObject(charge, ctx.config);
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
