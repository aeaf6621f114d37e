import type { ObjectInput } from 'kubegate/sdk';
import { idToName, teamNamespace } from './names.ts';
import type { ChargeSpec, ChargeStatus, PaymentsConfig } from './schema.ts';
import type { components } from './upstream.ts';

/** A charge as the payments API returns it. */
export type UpstreamCharge = components['schemas']['Charge'];

/** Annotation with a link to the charge in the web dashboard (no credentials in it). */
export const DASHBOARD_ANNOTATION = 'payments.kubegate.dev/dashboard-url';
/** Annotation with the upstream id, exactly as the payments API spells it. */
export const ID_ANNOTATION = 'payments.kubegate.dev/id';

// Currencies whose smallest unit is not a hundredth (ISO 4217 minor units, as the payments API documents them).
const ZERO_DECIMAL = new Set('bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf'.split(' '));
const THREE_DECIMAL = new Set('bhd jod kwd omr tnd'.split(' '));

/**
 * An amount in the smallest currency unit shown in major units with the currency code.
 *
 * @example
 * formatAmount(1250, 'eur'); // '12.50 EUR'
 * formatAmount(500, 'jpy');  // '500 JPY'
 */
export function formatAmount(amount: number, currency: string): string {
  const digits = ZERO_DECIMAL.has(currency) ? 0 : THREE_DECIMAL.has(currency) ? 3 : 2;
  const sign = amount < 0 ? '-' : '';
  const abs = Math.abs(amount);
  const major = Math.trunc(abs / 10 ** digits);
  const minor = digits > 0 ? `.${String(abs % 10 ** digits).padStart(digits, '0')}` : '';
  return `${sign}${major}${minor} ${currency.toUpperCase()}`;
}

const opt = <K extends string>(key: K, v: string | null | undefined): { [P in K]?: string } =>
  (v === null || v === undefined || v === '' ? {} : { [key]: v }) as { [P in K]?: string };

/**
 * Maps a charge to a Kubernetes object: name from the id (see names.ts), namespace from `metadata.team` (or
 * `namespace`, the namespace of the charge's account when accounts are configured),
 * labels from the charge's metadata plus customer, status and currency, spec and status per schema.ts.
 * Returns undefined for a charge whose id cannot be named (the caller reports it with ctx.skip).
 *
 * @example
 * chargeToObject(charge, { baseUrl: 'https://api.stripe.com', apiKey: '...' })?.name; // 'ch-3-mml-lr-...'
 */
export function chargeToObject(c: UpstreamCharge, config: PaymentsConfig, namespace?: string): ObjectInput | undefined {
  const name = idToName(c.id);
  if (name === undefined) return undefined;
  const spec: ChargeSpec = {
    amount: c.amount,
    amountDisplay: formatAmount(c.amount, c.currency),
    currency: c.currency,
    ...opt('customer', c.customer),
    ...opt('description', c.description),
    ...opt('receiptEmail', c.receipt_email),
  };
  const status: ChargeStatus = {
    status: c.status,
    paid: c.paid,
    refunded: c.refunded,
    captured: c.captured,
    amountCaptured: c.amount_captured,
    amountRefunded: c.amount_refunded,
    ...opt('failureCode', c.failure_code),
    ...opt('failureMessage', c.failure_message),
    livemode: c.livemode,
  };
  const dashboard = (config.dashboardUrl ?? 'https://dashboard.stripe.com').replace(/\/+$/, '');
  return {
    name,
    namespace: namespace ?? teamNamespace(c.metadata.team, config.defaultNamespace ?? 'default'),
    // The fixed labels come last: `customer` must be the upstream's customer (it is pushed down as the
    // upstream filter), whatever a metadata key of the same name says.
    labels: { ...c.metadata, customer: c.customer, status: c.status, currency: c.currency },
    annotations: {
      [ID_ANNOTATION]: c.id,
      [DASHBOARD_ANNOTATION]: `${dashboard}/${c.livemode ? '' : 'test/'}payments/${c.id}`,
    },
    creationTimestamp: new Date(c.created * 1000),
    spec,
    status,
  };
}
