import type { PaymentsConfig } from './schema.ts';

/** Credentials of one account of the payments API, and the namespace its objects are served in. */
export interface Account {
  /** The namespace of the account's objects; undefined for the single account of a config without accounts. */
  namespace: string | undefined;
  apiKey: string;
  /** A connected account id, sent as `Stripe-Account`. */
  account?: string | undefined;
}

/**
 * The accounts a config reads: its `accounts` (each namespace bound to one; the first entry wins when a
 * namespace is listed twice), or the one account of `apiKey`, whose objects take their namespace from the
 * metadata "team".
 *
 * @example
 * accountsOf({ baseUrl, apiKey: 'sk_a', accounts: [{ namespace: 'checkout', apiKey: 'sk_b' }] });
 * // [{ namespace: 'checkout', apiKey: 'sk_b' }]
 */
export function accountsOf(config: PaymentsConfig): Account[] {
  if (!config.accounts) return [{ namespace: undefined, apiKey: config.apiKey }];
  const seen = new Set<string>();
  const out: Account[] = [];
  for (const a of config.accounts) {
    if (seen.has(a.namespace)) continue;
    seen.add(a.namespace);
    out.push({ namespace: a.namespace, apiKey: a.apiKey ?? config.apiKey, account: a.account });
  }
  return out;
}

/**
 * The account whose objects a namespace holds: with `accounts`, the one bound to it (undefined when none is:
 * the namespace has no objects); without, the single account (any namespace may hold its objects).
 */
export function accountFor(config: PaymentsConfig, namespace: string | undefined): Account | undefined {
  const all = accountsOf(config);
  if (!config.accounts) return all[0];
  return namespace === undefined ? undefined : all.find((a) => a.namespace === namespace);
}

/** The request headers of an account: its key as a bearer token, and `Stripe-Account` for a connected one. */
export function accountHeaders(a: Account): Record<string, string> {
  return { authorization: `Bearer ${a.apiKey}`, ...(a.account ? { 'stripe-account': a.account } : {}) };
}
