import { KubeError } from '../k8s/errors.ts';
import { maskSecrets } from '../observability/mask.ts';
import { UpstreamError } from './fetch.ts';
import { KubegateError } from '../errors.ts';

/**
 * An error whose message an adapter wrote for people to read: kubegate shows it in Status messages,
 * Warnings, `kubectl get adapters` and logs (with secret config values masked). Never put upstream text
 * (an error body, an upstream message) in it; `status` is the upstream's HTTP status, when there was one.
 *
 * @example
 * throw new AdapterError('the upstream rejected the customer filter', { status: 400 });
 */
export class AdapterError extends KubegateError {
  override name = 'AdapterError';
  override readonly code: string = 'KUBEGATE_ADAPTER_ERROR';
  readonly status: number | undefined;
  constructor(message: string, o: { status?: number; cause?: unknown } = {}) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
    this.status = o.status;
  }
}

/** An error of kubegate's own making whose message is safe to show (it quotes nothing from an upstream). */
export class OwnError extends KubegateError {
  override name = 'OwnError';
  override readonly code: string = 'KUBEGATE_OWN_ERROR';
}

const MAX_REASON = 200;

function shortName(e: Error): string {
  return /^[A-Za-z][A-Za-z0-9]{0,39}$/.test(e.name) ? e.name : 'Error';
}

function clip(s: string): string {
  const one = s.replace(/[\r\n\t]+/g, ' ');
  return one.length > MAX_REASON ? `${one.slice(0, MAX_REASON - 1)}…` : one;
}

/**
 * The short, sanitized reason of a failed upstream call or adapter function, for clients and logs. Only text
 * kubegate or the adapter wrote for the purpose is kept (UpstreamError, AdapterError, kubegate's own errors);
 * anything else is reduced to its HTTP status or its class name, so an upstream's error body or a library's
 * message quoting it never reaches a client, a Warning or a log line. Declared secrets are masked in any case.
 *
 * @example
 * failureReason(new UpstreamError('upstream answered 500', 500)); // 'upstream answered 500'
 * failureReason(new Error('boom: {"key":"sk_live_..."}'));          // 'the adapter failed (Error)'
 */
export function failureReason(err: unknown, depth = 0): string {
  if (
    err instanceof UpstreamError ||
    err instanceof AdapterError ||
    err instanceof OwnError ||
    err instanceof KubeError
  )
    return clip(maskSecrets(err.message));
  if (!(err instanceof Error)) return 'the adapter failed';
  if (err.name === 'TimeoutError') return 'the call timed out';
  if (err.name === 'AbortError') return 'the call was abandoned';
  // An adapter's wrapper around an upstream failure: the wrapped failure says what happened.
  if (depth < 4 && err.cause !== undefined && err.cause !== err) {
    const inner = failureReason(err.cause, depth + 1);
    if (!inner.startsWith('the adapter failed')) return inner;
  }
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && Number.isInteger(status) && status >= 100 && status <= 599)
    return `upstream answered ${status}`;
  return `the adapter failed (${shortName(err)})`;
}
