import createClient from 'openapi-fetch';
import { AdapterError, UpstreamError as CallError, type AdapterContext } from 'kubegate/sdk';
import { accountHeaders, type Account } from './accounts.ts';
import type { PaymentsConfig } from './schema.ts';
import type { components, paths } from './upstream.ts';

type UpstreamError = components['schemas']['Error'];

/**
 * A failed call to the payments API. The message names the call, the status and the API's error code, and
 * nothing the API wrote (kubegate shows it to users); the API's own message is kept apart, masked, in
 * `upstreamMessage`, for the adapter's decisions only.
 */
export class PaymentsError extends AdapterError {
  override name = 'PaymentsError';
  /** The upstream's `error.code` (e.g. `resource_missing`), when its body was seen. */
  readonly upstreamCode: string | undefined;
  /** The upstream's `error.param` (e.g. `customer`), when its body was seen. */
  readonly param: string | undefined;
  /** The upstream's `error.message`, keys masked; never shown. */
  readonly upstreamMessage: string | undefined;
  constructor(message: string, status?: number, error?: Partial<UpstreamError>, cause?: unknown) {
    super(message, { ...(status !== undefined ? { status } : {}), ...(cause !== undefined ? { cause } : {}) });
    this.upstreamCode = error?.code;
    this.param = error?.param;
    this.upstreamMessage = error?.message;
  }
}

/**
 * `text` with API keys masked the way the payments API shows them (`sk_test_****1234`): the configured key
 * wherever it appears, and anything shaped like a secret or restricted key.
 *
 * @example
 * maskSecrets('bad key sk_test_abcdefgh1234', 'x'); // 'bad key sk_test_****1234'
 */
export function maskSecrets(text: string, apiKey: string): string {
  const mask = (k: string) => {
    const prefix = /^[a-z]{2}_(?:test|live)_/.exec(k)?.[0] ?? '';
    return k.length - prefix.length > 8 ? `${prefix}****${k.slice(-4)}` : `${prefix}****`;
  };
  let out = apiKey.length >= 6 ? text.split(apiKey).join(mask(apiKey)) : text;
  out = out.replace(/\b[sr]k_(?:test|live)_[A-Za-z0-9]+/g, mask);
  return out;
}

/**
 * A typed client of the payments API for one adapter call, with the credentials of `account` (default the
 * config's apiKey). Built per call from `ctx` (cheap): a rotated key in the config is used by the next call,
 * with no client to rebuild.
 */
export function paymentsClient(ctx: AdapterContext<PaymentsConfig>, account?: Account) {
  const { baseUrl, apiKey } = ctx.config;
  return createClient<paths>({
    baseUrl: baseUrl.replace(/\/+$/, ''),
    // openapi-fetch hands fetch a Request; ctx.fetch takes a URL and init, so pass it the Request's parts.
    fetch: (req) => ctx.fetch(req.url, { method: req.method, headers: req.headers, signal: req.signal }),
    headers: { ...accountHeaders(account ?? { namespace: undefined, apiKey }), accept: 'application/json' },
  });
}

/**
 * Runs one upstream call and returns its data. A non-2xx answer (seen by a plain fetch) or an error thrown
 * by the framework's fetch (which throws on non-2xx itself, with a `status`) becomes a PaymentsError with
 * the key masked. `what` names the call in messages, e.g. `GET /v1/charges`.
 */
export async function callPayments<T>(
  ctx: AdapterContext<PaymentsConfig>,
  what: string,
  call: () => Promise<{ data?: T; error?: { error: UpstreamError }; response: Response }>,
): Promise<T> {
  const key = ctx.config.apiKey;
  let r: Awaited<ReturnType<typeof call>>;
  try {
    r = await call();
  } catch (err) {
    const status = (err as { status?: unknown }).status;
    // The framework's errors say what happened in fixed words; anything else (a parse error quoting the
    // body, say) is not repeated.
    const msg = err instanceof CallError ? err.message : 'the call failed';
    throw new PaymentsError(
      `payments: ${what} failed: ${msg}`,
      typeof status === 'number' ? status : undefined,
      undefined,
      err,
    );
  }
  if (r.data !== undefined && r.response.ok) return r.data;
  const e = r.error?.error;
  const code = e?.code && /^[a-z_]{1,40}$/.test(e.code) ? ` (${e.code})` : '';
  throw new PaymentsError(`payments: ${what} answered ${r.response.status}${code}`, r.response.status, {
    ...e,
    ...(e?.message ? { message: maskSecrets(e.message, key) } : {}),
  });
}
