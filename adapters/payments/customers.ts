import { defineResource, type AdapterContext, type ObjectInput } from 'kubegate/sdk';
import { accountsOf } from './accounts.ts';
import { callPayments, paymentsClient } from './client.ts';
import { DASHBOARD_ANNOTATION, ID_ANNOTATION } from './map.ts';
import { idToName, teamNamespace } from './names.ts';
import { CustomerSpec, CustomerStatus, type PaymentsConfig } from './schema.ts';
import type { components } from './upstream.ts';

type UpstreamCustomer = components['schemas']['Customer'];

/** Bounds when the config sets none. */
export const DEFAULT_MAX_CUSTOMERS = 5000;
export const DEFAULT_MAX_CUSTOMERS_PER_NAMESPACE = 1000;

/**
 * Maps a customer to a Kubernetes object: name from the id (names.ts), namespace from `metadata.team`, labels
 * from its metadata plus currency and delinquent. Undefined for an id that cannot be named.
 *
 * @example
 * customerToObject(customer, config)?.name; // 'cus-nffr-fe-uf-nv2-hib'
 */
export function customerToObject(
  c: UpstreamCustomer,
  config: PaymentsConfig,
  namespace?: string,
): ObjectInput | undefined {
  const name = idToName(c.id);
  if (name === undefined) return undefined;
  const dashboard = (config.dashboardUrl ?? 'https://dashboard.stripe.com').replace(/\/+$/, '');
  const spec: CustomerSpec = {
    ...(c.email ? { email: c.email } : {}),
    ...(c.name ? { name: c.name } : {}),
    ...(c.currency ? { currency: c.currency } : {}),
  };
  const status: CustomerStatus = { delinquent: c.delinquent, balance: c.balance, livemode: c.livemode };
  return {
    name,
    namespace: namespace ?? teamNamespace(c.metadata.team, config.defaultNamespace ?? 'default'),
    labels: { ...c.metadata, currency: c.currency, delinquent: c.delinquent },
    annotations: {
      [ID_ANNOTATION]: c.id,
      [DASHBOARD_ANNOTATION]: `${dashboard}/${c.livemode ? '' : 'test/'}customers/${c.id}`,
    },
    creationTimestamp: new Date(c.created * 1000),
    spec,
    status,
  };
}

/**
 * Every customer, newest first, page by page, within the configured bounds: at most `customers.maxObjects`
 * in all and `customers.maxPerNamespace` per namespace. What a bound leaves out is reported with ctx.skip
 * (a Warning on reads, `status.skipped` of the Adapter, a metric), never dropped silently.
 */
export async function* listCustomers(ctx: AdapterContext<PaymentsConfig>): AsyncIterable<ObjectInput[]> {
  const maxObjects = ctx.config.customers?.maxObjects ?? DEFAULT_MAX_CUSTOMERS;
  const maxPerNamespace = ctx.config.customers?.maxPerNamespace ?? DEFAULT_MAX_CUSTOMERS_PER_NAMESPACE;
  const perNamespace = new Map<string, number>();
  // Customers examined (mirrored or skipped): the upstream calls of one poll are bounded by the bound too.
  let seen = 0;
  // With accounts, each account's customers in its namespace, the accounts one after the other.
  for (const account of accountsOf(ctx.config)) {
    const client = paymentsClient(ctx, account);
    let after: string | undefined;
    for (;;) {
      const limit = Math.min(100, maxObjects - seen + 1);
      const query = { limit, ...(after ? { starting_after: after } : {}) };
      const page = await callPayments(ctx, 'GET /v1/customers', () =>
        client.GET('/v1/customers', { params: { query }, signal: ctx.signal }),
      );
      const items: ObjectInput[] = [];
      for (const c of page.data) {
        if (seen >= maxObjects) {
          ctx.skip(`more customers than customers.maxObjects (${maxObjects}); the oldest are not mirrored`, c.id);
          yield items;
          return;
        }
        seen++;
        const obj = customerToObject(c, ctx.config, account.namespace);
        if (!obj) {
          ctx.skip('a customer id does not have the prefix_alphanumerics shape; it cannot be named', c.id);
          continue;
        }
        const ns = obj.namespace ?? '';
        const n = perNamespace.get(ns) ?? 0;
        if (n >= maxPerNamespace) {
          ctx.skip(
            `more customers in one namespace than customers.maxPerNamespace (${maxPerNamespace}); the oldest are not mirrored`,
            c.id,
          );
          continue;
        }
        perNamespace.set(ns, n + 1);
        items.push(obj);
      }
      yield items;
      const last = page.data.at(-1)?.id;
      if (!page.has_more || !last) break;
      after = last;
    }
  }
}

/** Customers of the account, mirrored (a bounded collection polled as a whole). */
export const customers = defineResource<PaymentsConfig>({
  kind: 'Customer',
  plural: 'customers',
  shortNames: ['cus'],
  categories: ['external', 'payments'],
  scope: 'Namespaced',
  mode: 'mirror',
  description:
    'A customer of the payments provider, mirrored (at most customers.maxObjects, the newest). The namespace is ' +
    'the customer metadata "team"; the name is the customer id made lower case reversibly.',
  pollInterval: '1m',
  fields: ['spec.email', 'status.delinquent'],
  schema: { spec: CustomerSpec, status: CustomerStatus },
  columns: [
    { name: 'Name', type: 'string', jsonPath: '.spec.name', description: 'Full name or business name.' },
    { name: 'Email', type: 'string', jsonPath: '.spec.email', description: 'Email address.' },
    { name: 'Currency', type: 'string', jsonPath: '.spec.currency', description: 'Default currency.' },
    { name: 'Delinquent', type: 'boolean', jsonPath: '.status.delinquent', description: 'Last payment failed.' },
    { name: 'Balance', type: 'integer', jsonPath: '.status.balance', description: 'Minor units.', priority: 1 },
    { name: 'Created', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'When it was created.' },
  ],
  list: listCustomers,
});
