import {
  BrokenCircuitError,
  BulkheadRejectedError,
  CircuitState,
  ConsecutiveBreaker,
  DelegateBackoff,
  ExponentialBackoff,
  bulkhead,
  circuitBreaker,
  handleWhen,
  retry,
  type IBackoff,
  type IRetryBackoffContext,
} from 'cockatiel';
import type { UpstreamFetch, UpstreamRequestInit } from '../sdk/types.ts';
import http from 'node:http';
import https from 'node:https';
import { Readable, pipeline } from 'node:stream';
import { createTokenBucket } from './token-bucket.ts';
import { createLane, fromWebWithIdle, LaneRejectedError, limitStream, StreamLimitError } from './stream.ts';
import { KubegateError } from '../errors.ts';

/** Every knob of an adapter's upstream policy (config: `adapters[].resilience`). */
export interface ResilienceOptions {
  /** Per-attempt deadline (ms). */
  timeoutMs: number;
  /** Overall deadline for one call including retries and waits (ms); keep well under the aggregator's 60 s. */
  deadlineMs: number;
  /** Attempts after the first, for idempotent calls (GET/HEAD, and calls with an `Idempotency-Key` header). */
  retries: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** Consecutive failures that open the breaker. */
  breakerThreshold: number;
  /** How long the breaker stays open before a half-open probe (ms). */
  halfOpenAfterMs: number;
  /** Calls in flight at once, and calls allowed to queue for a slot. */
  maxConcurrent: number;
  maxQueued: number;
  /** Token bucket on upstream calls: calls per second and burst. 0 disables. */
  rateLimitPerSecond: number;
  rateLimitBurst: number;
  /** Largest response body accepted (bytes); a streamed (proxied) answer is cut when it passes it. */
  maxResponseBytes: number;
  /**
   * The proxy subresource's own bulkhead (calls in flight, calls queued) and each user's share of it: proxied
   * calls can be slow or hang, so they never take the slots lists and gets need.
   */
  proxyMaxConcurrent: number;
  proxyMaxQueued: number;
  proxyMaxConcurrentPerUser: number;
  /** A proxied answer's body: longest pause between chunks and longest total time (ms). */
  proxyIdleTimeoutMs: number;
  proxyMaxDurationMs: number;
  /** Largest request body a proxied call may stream upstream (bytes). */
  proxyMaxRequestBytes: number;
}

export const DEFAULT_RESILIENCE: ResilienceOptions = {
  timeoutMs: 10_000,
  deadlineMs: 25_000,
  retries: 2,
  backoffInitialMs: 200,
  backoffMaxMs: 5_000,
  breakerThreshold: 5,
  halfOpenAfterMs: 15_000,
  maxConcurrent: 8,
  maxQueued: 64,
  rateLimitPerSecond: 20,
  rateLimitBurst: 40,
  maxResponseBytes: 32 << 20,
  proxyMaxConcurrent: 4,
  proxyMaxQueued: 16,
  proxyMaxConcurrentPerUser: 2,
  proxyIdleTimeoutMs: 10_000,
  proxyMaxDurationMs: 300_000,
  proxyMaxRequestBytes: 8 << 20,
};

/** Stable codes of {@link UpstreamError}, one per class of failure. */
export type UpstreamErrorCode =
  | 'KUBEGATE_UPSTREAM_STATUS'
  | 'KUBEGATE_UPSTREAM_TIMEOUT'
  | 'KUBEGATE_UPSTREAM_UNREACHABLE'
  | 'KUBEGATE_UPSTREAM_TOO_LARGE'
  | 'KUBEGATE_UPSTREAM_RATE_LIMITED'
  | 'KUBEGATE_UPSTREAM_BREAKER_OPEN'
  | 'KUBEGATE_UPSTREAM_BUSY';

/**
 * A failed upstream call. Its message is a fixed phrase per class of failure with the status code or the
 * duration ("upstream answered 500", "upstream did not answer within 10s"): never the upstream's body, the
 * URL or a header, so it can be shown to clients and logged as it is.
 */
export class UpstreamError extends KubegateError {
  override name = 'UpstreamError';
  override readonly code: UpstreamErrorCode;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, status?: number, retryAfterMs?: number, code?: UpstreamErrorCode) {
    super(message);
    this.status = status;
    this.retryAfterMs = retryAfterMs;
    this.code =
      code ??
      (status === 413
        ? 'KUBEGATE_UPSTREAM_TOO_LARGE'
        : status !== undefined
          ? 'KUBEGATE_UPSTREAM_STATUS'
          : 'KUBEGATE_UPSTREAM_UNREACHABLE');
  }
}

/** A duration as people read it in a message: 800ms, 10s, 2.5s. */
function seconds(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${Math.round(ms / 100) / 10}s`;
}

/** Network error codes as short phrases; anything else is named by its code alone. */
const NETWORK: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  UND_ERR_SOCKET: 'connection reset',
  UND_ERR_CLOSED: 'connection closed',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name not resolved',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
};

function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  if (!code) return 'upstream unreachable';
  if (code.startsWith('ERR_TLS') || /CERT|SELF_SIGNED|DEPTH_ZERO/.test(code))
    return 'upstream unreachable (TLS handshake failed)';
  const phrase = NETWORK[code] ?? (/^[A-Z_]{2,40}$/.test(code) ? code : undefined);
  return phrase ? `upstream unreachable (${phrase})` : 'upstream unreachable';
}

/** What the policy reports, for metrics. */
export interface UpstreamEvents {
  onRequest?(outcome: string, ms: number): void;
  onRetry?(): void;
  onRateLimited?(ms: number): void;
  onBreakerState?(state: BreakerState): void;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

/** A proxied call: streamed both ways, counted against `user`'s share of the proxy bulkhead. */
export interface StreamRequest {
  method: string;
  headers: Record<string, string>;
  /** The request body, read only as the upstream takes it. */
  body?: Readable;
  user: string;
  /** Aborts the call (the caller went away). */
  signal?: AbortSignal;
}

export interface StreamedResponse {
  status: number;
  headers: Headers;
  /** The answer's body with the policy's limits applied; null when there is none. */
  body: Readable | null;
}

export interface UpstreamClient {
  fetch: UpstreamFetch;
  /**
   * The proxy's call: the same rate limit, breaker and deadline (to the answer's headers) as {@link fetch}, its
   * own bulkhead with a per-user share; the body streams, cut at `maxResponseBytes`, the idle timeout or the
   * total duration.
   */
  stream(url: URL, req: StreamRequest): Promise<StreamedResponse>;
  breakerState(): BreakerState;
}

const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

/** `Retry-After` as seconds or an HTTP date, in ms; capped at an hour. */
export function parseRetryAfter(v: string | null, now = Date.now()): number | undefined {
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Math.min(Number(v) * 1000, 3_600_000);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.min(Math.max(0, t - now), 3_600_000);
}

const sleep = (ms: number, signal?: AbortSignal | null) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason as Error);
      },
      { once: true },
    );
  });

/**
 * Whether a call carries an `Idempotency-Key` header: the upstream answers a repeat of it with the first
 * answer instead of acting twice (as Stripe documents it), so it is retried like a GET. This is what makes a
 * create retried after a lost answer reach the upstream once.
 */
export function hasIdempotencyKey(input: string | URL | Request, init: RequestInit | undefined): boolean {
  const h = init?.headers ?? (input instanceof Request ? input.headers : undefined);
  if (!h) return false;
  if (h instanceof Headers) return h.has('idempotency-key');
  if (Array.isArray(h)) return h.some(([k]) => k.toLowerCase() === 'idempotency-key');
  return Object.keys(h).some((k) => k.toLowerCase() === 'idempotency-key');
}

/**
 * Reads the whole body, refusing more than `max` bytes, so a huge upstream answer cannot exhaust memory and
 * the attempt's deadline covers the body too (an upstream that stalls mid-body is a timeout like any other).
 * Reading it here is also cheaper than handing the adapter a counting stream (measured: a TransformStream
 * doubled the cost of a small call).
 */
async function readLimited(res: Response, max: number): Promise<Response> {
  const len = Number(res.headers.get('content-length') ?? NaN);
  if (len > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new UpstreamError(`upstream answered ${len} bytes, more than the limit of ${max}`, 413);
  }
  // A declared length within the limit: the HTTP client will not read past it, hand the body on as it is.
  if (!res.body || len <= max) return res;
  const chunks: Uint8Array[] = [];
  let seen = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    seen += chunk.byteLength;
    // 413 (not retried): the same request would get the same answer.
    if (seen > max) throw new UpstreamError(`upstream answered more than the limit of ${max} bytes`, 413);
    chunks.push(chunk);
  }
  return new Response(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}

/**
 * The adapter's fetch, outermost first: rate limit (token bucket) → bulkhead → circuit breaker → retry
 * (exponential backoff with jitter, GET/HEAD, calls marked `idempotent` and calls with an Idempotency-Key
 * only, honouring Retry-After) → per-attempt deadline.
 *
 * The per-attempt deadline is one timer that aborts the request: measured cheaper than cockatiel's
 * `timeout()` policy, which builds a linked AbortSignal per call (see BENCHMARKS.md). It covers the body too:
 * a body handed on unread keeps the timer armed, so an upstream that stalls after its headers fails the
 * read with a timeout instead of waiting for the HTTP client's own (minutes long) body timeout. Streamed
 * (proxy) bodies are bounded by their own idle and total timeouts instead.
 */
export function createUpstreamClient(
  opts: Partial<ResilienceOptions> & { baseFetch?: typeof fetch; events?: UpstreamEvents } = {},
): UpstreamClient {
  const o: ResilienceOptions = { ...DEFAULT_RESILIENCE, ...opts };
  const base = opts.baseFetch ?? globalThis.fetch;
  const ev = opts.events ?? {};
  const bucket =
    o.rateLimitPerSecond > 0 ? createTokenBucket({ rate: o.rateLimitPerSecond, burst: o.rateLimitBurst }) : undefined;
  /** The upstream asked us (429/503 Retry-After) not to call before this time. */
  let holdUntil = 0;

  const breaker = circuitBreaker(
    handleWhen((e) => e instanceof UpstreamError && e.status !== 404),
    {
      halfOpenAfter: o.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(o.breakerThreshold),
    },
  );
  const toState = (s: CircuitState): BreakerState =>
    s === CircuitState.Open || s === CircuitState.Isolated
      ? 'open'
      : s === CircuitState.HalfOpen
        ? 'half-open'
        : 'closed';
  breaker.onStateChange((s) => ev.onBreakerState?.(toState(s)));
  const pool = bulkhead(o.maxConcurrent, o.maxQueued);
  const exponential = new ExponentialBackoff({ initialDelay: o.backoffInitialMs, maxDelay: o.backoffMaxMs });
  const backoff = new DelegateBackoff<
    IRetryBackoffContext<unknown>,
    IBackoff<IRetryBackoffContext<unknown>> | undefined
  >((ctx, state) => {
    const next = (state ?? exponential).next(ctx);
    const err = 'error' in ctx.result ? ctx.result.error : undefined;
    const ra = err instanceof UpstreamError ? (err.retryAfterMs ?? 0) : 0;
    return { delay: Math.max(next.duration, ra), state: next };
  });
  const retryPolicy = retry(
    handleWhen((e) => e instanceof UpstreamError && (e.status === undefined || RETRYABLE.has(e.status))),
    { maxAttempts: o.retries, backoff },
  );
  retryPolicy.onRetry(() => ev.onRetry?.());

  const attempt = async (
    input: string | URL | Request,
    init: RequestInit | undefined,
    deadline: number,
    streaming = false,
    send: typeof fetch = base,
  ): Promise<Response> => {
    const now = Date.now();
    if (holdUntil > now) {
      if (holdUntil >= deadline)
        throw new UpstreamError(
          `upstream asked to wait ${Math.ceil((holdUntil - now) / 1000)}s (Retry-After)`,
          429,
          holdUntil - now,
          'KUBEGATE_UPSTREAM_RATE_LIMITED',
        );
      await sleep(holdUntil - now, init?.signal);
    }
    const budget = Math.min(o.timeoutMs, deadline - Date.now());
    if (budget <= 0)
      throw new UpstreamError(
        `upstream deadline of ${seconds(o.deadlineMs)} exceeded`,
        undefined,
        undefined,
        'KUBEGATE_UPSTREAM_TIMEOUT',
      );
    const ac = new AbortController();
    const outer = init?.signal;
    const onAbort = (): void => ac.abort(outer?.reason);
    outer?.addEventListener('abort', onAbort, { once: true });
    let headersIn = false;
    const timer = setTimeout(
      () =>
        ac.abort(
          new UpstreamError(
            headersIn
              ? `upstream body did not arrive within ${seconds(budget)}`
              : `upstream did not answer within ${seconds(budget)}`,
            undefined,
            undefined,
            'KUBEGATE_UPSTREAM_TIMEOUT',
          ),
        ),
      budget,
    );
    timer.unref();
    /** True when the body is handed on unread: the timer then stays armed to bound its read. */
    let bodyPending = false;
    const t0 = performance.now();
    try {
      // Redirects are not followed: an adapter's calls stay on its upstream (no open relay to other hosts).
      const res = await send(input, { ...init, signal: ac.signal, redirect: 'manual' });
      headersIn = true;
      if (!res.ok) {
        const ra = parseRetryAfter(res.headers.get('retry-after'));
        if (ra !== undefined && (res.status === 429 || res.status === 503))
          holdUntil = Math.max(holdUntil, Date.now() + ra);
        // Transient failures are the policy's business; anything else (404, 401, 422...) is the adapter's to read.
        // The body of a failure is not read: upstreams echo requests (and their credentials) in error bodies.
        if (RETRYABLE.has(res.status)) {
          await res.body?.cancel().catch(() => undefined);
          ev.onRequest?.(String(res.status), performance.now() - t0);
          throw new UpstreamError(
            `upstream answered ${res.status}`,
            res.status,
            ra,
            res.status === 429 ? 'KUBEGATE_UPSTREAM_RATE_LIMITED' : 'KUBEGATE_UPSTREAM_STATUS',
          );
        }
      }
      ev.onRequest?.(String(res.status), performance.now() - t0);
      if (streaming) {
        const len = Number(res.headers.get('content-length') ?? NaN);
        if (len > o.maxResponseBytes) {
          await res.body?.cancel().catch(() => undefined);
          throw new UpstreamError(`upstream answered ${len} bytes, more than the limit of ${o.maxResponseBytes}`, 413);
        }
        return res;
      }
      const out = await readLimited(res, o.maxResponseBytes);
      bodyPending = out === res && res.body !== null;
      return out;
    } catch (err) {
      if (err instanceof UpstreamError) throw err;
      if (outer?.aborted) throw err;
      const outcome = ac.signal.aborted ? 'timeout' : 'error';
      if (!headersIn) ev.onRequest?.(outcome, performance.now() - t0);
      if (ac.signal.aborted) {
        const reason: unknown = ac.signal.reason;
        throw reason instanceof UpstreamError
          ? reason
          : new UpstreamError(
              `upstream did not answer within ${seconds(budget)}`,
              undefined,
              undefined,
              'KUBEGATE_UPSTREAM_TIMEOUT',
            );
      }
      throw new UpstreamError(networkReason(err), undefined, undefined, 'KUBEGATE_UPSTREAM_UNREACHABLE');
    } finally {
      if (!bodyPending) clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    }
  };

  const takeToken = async (input: string | URL | Request, deadline: number, signal?: AbortSignal | null) => {
    if (!bucket) return;
    const wait = bucket.take();
    if (wait <= 0) return;
    ev.onRateLimited?.(wait);
    if (Date.now() + wait >= deadline)
      throw new UpstreamError(
        `upstream rate limit (${o.rateLimitPerSecond}/s) exceeded`,
        429,
        undefined,
        'KUBEGATE_UPSTREAM_RATE_LIMITED',
      );
    await sleep(wait, signal);
  };
  const breakerError = (err: unknown): unknown =>
    err instanceof BrokenCircuitError
      ? new UpstreamError(
          `circuit breaker open after ${o.breakerThreshold} consecutive failures`,
          503,
          undefined,
          'KUBEGATE_UPSTREAM_BREAKER_OPEN',
        )
      : err;
  const lane = createLane(o.proxyMaxConcurrent, o.proxyMaxConcurrentPerUser, o.proxyMaxQueued);

  return {
    async fetch(input, withMarks) {
      const deadline = Date.now() + o.deadlineMs;
      await takeToken(input, deadline, withMarks?.signal);
      const { idempotent: marked, ...rest }: UpstreamRequestInit = withMarks ?? {};
      const init: RequestInit | undefined = withMarks ? rest : undefined;
      const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
      const idempotent = marked ?? (method === 'GET' || method === 'HEAD' || hasIdempotencyKey(input, init));
      try {
        return await pool.execute(() =>
          breaker.execute(() =>
            idempotent ? retryPolicy.execute(() => attempt(input, init, deadline)) : attempt(input, init, deadline),
          ),
        );
      } catch (err) {
        if (err instanceof BrokenCircuitError) throw breakerError(err);
        if (err instanceof BulkheadRejectedError)
          throw new UpstreamError(
            `too many concurrent upstream calls (${o.maxConcurrent} running, ${o.maxQueued} queued)`,
            503,
            undefined,
            'KUBEGATE_UPSTREAM_BUSY',
          );
        throw err;
      }
    },
    async stream(url, req) {
      const declared = Number(req.headers['content-length'] ?? NaN);
      if (req.body && declared > o.proxyMaxRequestBytes)
        throw new UpstreamError(
          `request body of ${declared} bytes is larger than the limit of ${o.proxyMaxRequestBytes}`,
          413,
        );
      const deadline = Date.now() + o.deadlineMs;
      await takeToken(url, deadline, req.signal);
      let release: () => void;
      try {
        release = await lane.acquire(req.user, deadline, req.signal);
      } catch (err) {
        if (!(err instanceof LaneRejectedError)) throw err;
        // The caller's own share: 429, try later. The whole lane: 503, like the main bulkhead.
        throw new UpstreamError(err.message, err.why === 'user' ? 429 : 503, 1000);
      }
      const body = req.body
        ? limitStream(req.body, { maxBytes: o.proxyMaxRequestBytes, what: 'request body' })
        : undefined;
      // Without an injected fetch (tests) the call goes out through node:http(s): the answer is a Node stream
      // read straight into the reply, without WHATWG streams in between (BENCHMARKS.md, "Proxy streaming").
      const viaNode = !opts.baseFetch;
      const init: RequestInit & { duplex?: 'half' } = {
        method: req.method,
        headers: req.headers,
        ...(req.signal ? { signal: req.signal } : {}),
        ...(body && !viaNode ? { body: Readable.toWeb(body), duplex: 'half' } : {}),
      };
      const send = viaNode ? nodeSend(body) : base;
      const once = () => attempt(url, init, deadline, true, send);
      const idempotent = !body && (req.method === 'GET' || req.method === 'HEAD');
      let res: Response;
      try {
        res = await breaker.execute(() => (idempotent ? retryPolicy.execute(once) : once()));
      } catch (err) {
        release();
        const cut = body?.errored;
        body?.destroy();
        if (cut instanceof StreamLimitError) throw new UpstreamError(cut.message, cut.status);
        throw breakerError(err);
      }
      if (!res.body) {
        release();
        return { status: res.status, headers: res.headers, body: null };
      }
      const what = 'upstream answer';
      const limits = { maxBytes: o.maxResponseBytes, totalMs: o.proxyMaxDurationMs, what };
      const node = nodeBodyOf(res);
      const out = node
        ? limitStream(node, { ...limits, idleMs: o.proxyIdleTimeoutMs }, release)
        : limitStream(fromWebWithIdle(res.body, o.proxyIdleTimeoutMs, what), limits, release);
      return { status: res.status, headers: res.headers, body: out };
    },
    breakerState: () => toState(breaker.state),
  };
}

/** Where a response made by {@link nodeSend} keeps its body as a Node stream. */
const NODE_BODY = Symbol('nodeBody');

/** The Node stream of a response made by {@link nodeSend}, if it is one. */
function nodeBodyOf(res: Response): Readable | undefined {
  return (res as Response & { [NODE_BODY]?: Readable })[NODE_BODY];
}

/**
 * A fetch-shaped call through node:http(s) for streamed (proxied) calls: what the policy reads of a Response
 * (status, ok, headers, body.cancel) with the body as the Node stream itself, and `body` (already limited) piped
 * into the request. Errors look like fetch's (a TypeError whose cause carries the socket's code), so the policy
 * words them the same way. Redirects are never followed (node:http does not).
 */
function nodeSend(body: Readable | undefined): typeof fetch {
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : input);
      const client = url.protocol === 'https:' ? https : http;
      const fail = (err: unknown): void => reject(new TypeError('fetch failed', { cause: err }));
      const signal = init?.signal ?? undefined;
      const req = client.request(
        url,
        {
          method: init?.method ?? 'GET',
          headers: init?.headers as Record<string, string>,
          ...(signal ? { signal } : {}),
        },
        (res) => {
          const headers = new Headers();
          const raw = res.rawHeaders;
          for (let i = 0; i + 1 < raw.length; i += 2) {
            try {
              headers.append(raw[i] as string, raw[i + 1] as string);
            } catch {
              // a header value Headers refuses is dropped, as fetch would refuse the whole answer
            }
          }
          const status = res.statusCode ?? 502;
          const answer = {
            status,
            ok: status >= 200 && status < 300,
            headers,
            body: {
              cancel: () => {
                res.destroy();
                return Promise.resolve();
              },
            },
            [NODE_BODY]: res,
          };
          resolve(answer as unknown as Response);
        },
      );
      req.on('error', fail);
      if (body) pipeline(body, req, () => undefined);
      else req.end();
    });
}
