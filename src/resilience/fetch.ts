import {
  ConsecutiveBreaker,
  ExponentialBackoff,
  circuitBreaker,
  handleWhen,
  retry,
  wrap,
  BrokenCircuitError,
  CircuitState,
} from 'cockatiel';
import type { UpstreamFetch } from '../sdk/types.ts';

export interface ResilienceOptions {
  adapter: string;
  /** Per-attempt deadline (ms). */
  timeoutMs: number;
  /** Attempts after the first, for idempotent calls. */
  retries: number;
  /** Consecutive failures that open the breaker. */
  breakerThreshold: number;
  /** How long the breaker stays open before a half-open probe (ms). */
  halfOpenAfterMs: number;
  baseFetch?: typeof fetch;
}

/** A failed upstream call; its message never includes the URL's query (credentials often live there). */
export class UpstreamError extends Error {
  override name = 'UpstreamError';
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, status?: number, retryAfterMs?: number) {
    super(message);
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

export interface UpstreamClient {
  fetch: UpstreamFetch;
  breakerState(): 'closed' | 'open' | 'half-open';
}

function describe(url: string | URL): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return 'upstream';
  }
}

/**
 * The adapter's fetch: per-attempt deadline by timer (one setTimeout that aborts the request — cheaper than a
 * composed AbortSignal per call), retries with exponential backoff and jitter for GET/HEAD on network errors
 * and 408/429/5xx, and a consecutive-failure circuit breaker.
 */
export function createUpstreamClient(o: ResilienceOptions): UpstreamClient {
  const base = o.baseFetch ?? globalThis.fetch;
  const breaker = circuitBreaker(handleWhen((e) => e instanceof UpstreamError), {
    halfOpenAfter: o.halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(o.breakerThreshold),
  });
  const retryPolicy = retry(
    handleWhen((e) => e instanceof UpstreamError && (e.status === undefined || RETRYABLE.has(e.status))),
    { maxAttempts: o.retries, backoff: new ExponentialBackoff({ initialDelay: 200, maxDelay: 5000 }) },
  );
  const policy = wrap(breaker, retryPolicy);

  const attempt = async (input: string | URL, init: RequestInit | undefined): Promise<Response> => {
    const ac = new AbortController();
    const outer = init?.signal;
    const onAbort = (): void => ac.abort(outer?.reason);
    outer?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => ac.abort(new Error('deadline')), o.timeoutMs);
    try {
      const res = await base(input, { ...init, signal: ac.signal });
      if (!res.ok && RETRYABLE.has(res.status)) {
        const ra = res.headers.get('retry-after');
        const body = await res.text().catch(() => '');
        const reason = /"reason"\s*:\s*"([^"]{1,200})"/.exec(body)?.[1];
        throw new UpstreamError(
          `${describe(input)} answered ${res.status}${reason ? `: ${reason}` : ''}`,
          res.status,
          ra && /^\d+$/.test(ra) ? Number(ra) * 1000 : undefined,
        );
      }
      return res;
    } catch (err) {
      if (err instanceof UpstreamError) throw err;
      if (ac.signal.aborted && !outer?.aborted)
        throw new UpstreamError(`${describe(input)} did not answer within ${o.timeoutMs}ms`);
      if (outer?.aborted) throw err;
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      throw new UpstreamError(`${describe(input)} unreachable${cause ? ` (${cause})` : ''}`);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    }
  };

  return {
    async fetch(input, init) {
      const method = (init?.method ?? 'GET').toUpperCase();
      try {
        if (method !== 'GET' && method !== 'HEAD') return await breaker.execute(() => attempt(input, init));
        return await policy.execute(() => attempt(input, init));
      } catch (err) {
        if (err instanceof BrokenCircuitError)
          throw new UpstreamError(`circuit breaker open after ${o.breakerThreshold} consecutive failures`);
        throw err;
      }
    },
    breakerState() {
      const s = breaker.state;
      return s === CircuitState.Open || s === CircuitState.Isolated ? 'open' : s === CircuitState.HalfOpen ? 'half-open' : 'closed';
    },
  };
}
