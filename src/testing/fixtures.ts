/** A recorded answer: a JSON-able body (200), a Response, or a function of the request giving either. */
export type Fixture = unknown;

/**
 * A fetch that answers from recorded fixtures instead of the network, for {@link listOnce} and friends.
 * Keys are `METHOD /path?query` or `/path?query` (any method); the origin is ignored, and the query must match
 * exactly when the key has one, otherwise any query matches. Unknown requests get a 404 naming the request, so
 * a test shows which fixture is missing.
 *
 * @example
 * const fetch = fixtureFetch({
 *   'GET /v1/widgets': { items: [{ id: 'w1', size: 3 }] },
 *   '/v1/widgets/w2': new Response('gone', { status: 404 }),
 * });
 * const { objects } = await listOnce({ adapter, config: { baseUrl: 'http://upstream.test' }, fetch });
 */
export function fixtureFetch(fixtures: Record<string, Fixture>): typeof fetch & { calls: string[] } {
  const calls: string[] = [];
  const f = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    const path = url.pathname + url.search;
    calls.push(`${req.method} ${path}`);
    const keys = [`${req.method} ${path}`, path, `${req.method} ${url.pathname}`, url.pathname];
    const key = keys.find((k) => k in fixtures);
    if (key === undefined) return new Response(`no fixture for ${req.method} ${path}`, { status: 404 });
    let v = fixtures[key];
    if (typeof v === 'function') v = await (v as (r: Request) => Promise<unknown>)(req);
    // A fresh Response per call: a body can be read once.
    if (v instanceof Response) return v.clone();
    return Response.json(v);
  };
  return Object.assign(f, { calls });
}
