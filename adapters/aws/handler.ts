import type { UpstreamFetch } from 'kubegate/sdk';

/**
 * The parts of the AWS SDK's HTTP request and response this handler reads and writes (the SDK's `HttpRequest`
 * and `HttpResponse` shapes, declared here rather than imported from the SDK's internal packages).
 */
export interface SdkHttpRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}
export interface SdkHttpResponse {
  statusCode: number;
  reason?: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** Headers fetch sets itself from the URL and body; passing the SDK's copies would conflict with them. */
const OWN_HEADERS = new Set(['host', 'content-length', 'connection', 'expect', 'transfer-encoding']);

/** Query actions that only read: a transient failure of one may be retried like a GET. */
const READS = /(?:^|&)Action=(?:Describe|Get|List)[A-Za-z]*(?:&|$)/;

/**
 * An AWS SDK request handler (the SDK's `HttpHandler` interface) that sends every call over kubegate's
 * `ctx.fetch`, so the adapter's resilience policy (rate limit, breaker, deadline, retries with backoff, body
 * limit) governs the SDK's calls like any other upstream call. Give the client `maxAttempts: 1`: retrying is
 * the policy's job, and two retry loops would multiply each other's attempts.
 *
 * `fetch` is asked for at each call: the adapter's fetch can be replaced when its entry is reconfigured.
 *
 * @example
 * new EC2Client({ region, maxAttempts: 1, requestHandler: fetchRequestHandler(() => ctx.fetch) });
 */
export function fetchRequestHandler(fetch: () => UpstreamFetch) {
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle(
      request: SdkHttpRequest,
      options: { abortSignal?: unknown } = {},
    ): Promise<{ response: SdkHttpResponse }> {
      const url = new URL(`${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ''}`);
      url.pathname = request.path;
      for (const [k, v] of Object.entries(request.query ?? {})) {
        if (v === null) url.searchParams.append(k, '');
        else for (const one of Array.isArray(v) ? v : [v]) url.searchParams.append(k, one);
      }
      const headers = new Headers();
      for (const [k, v] of Object.entries(request.headers)) if (!OWN_HEADERS.has(k.toLowerCase())) headers.set(k, v);
      const body = request.body;
      if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array))
        throw new TypeError('this request handler sends string and byte bodies only (no streaming uploads)');
      const signal = options.abortSignal instanceof AbortSignal ? options.abortSignal : undefined;
      const res = await fetch()(url, {
        method: request.method,
        headers,
        ...(body !== undefined && body !== null ? { body } : {}),
        idempotent: request.method === 'GET' || (typeof body === 'string' && READS.test(body)),
        ...(signal ? { signal } : {}),
      });
      // The policy has read the body already (bounded by its size limit): hand it to the SDK as bytes, which
      // its deserializers take without a stream collector.
      const bytes = new Uint8Array(await res.arrayBuffer());
      const out: Record<string, string> = {};
      res.headers.forEach((v, k) => (out[k] = v));
      return { response: { statusCode: res.status, reason: res.statusText, headers: out, body: bytes } };
    },
    updateHttpClientConfig(): void {
      // Timeouts and connections are the policy's: nothing of the SDK's handler configuration applies.
    },
    httpHandlerConfigs(): Record<string, never> {
      return {};
    },
    destroy(): void {
      // No connections of its own to close.
    },
  };
}
