// Cost of the upstream policy per call, against a direct fetch of a local fake upstream (issue: under 5%),
// and against the same policy with cockatiel's own timeout() (an AbortSignal linked per call) for comparison.
import http from 'node:http';
import { TimeoutStrategy, timeout, wrap } from 'cockatiel';
import { createUpstreamClient } from '../../src/resilience/fetch.ts';

export async function policyBench(
  calls: number,
): Promise<{ direct: number; policy: number; cockatielTimeout: number }> {
  const body = JSON.stringify({ latitude: 48.85, longitude: 2.35, current: { temperature_2m: 12.3 } });
  const server = http.createServer((req, res) => {
    // /chunked answers without a Content-Length (kubegate then reads and counts the body itself).
    if (req.url?.startsWith('/chunked')) res.writeHead(200, { 'content-type': 'application/json' });
    else res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  const url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}/v1/forecast`;
  const policy = createUpstreamClient({ rateLimitPerSecond: 0 });
  const withCockatielTimeout = (() => {
    const t = timeout(10_000, TimeoutStrategy.Aggressive);
    const p = wrap(t);
    // The body is read inside: cockatiel aborts the call's signal once the function returns.
    return (u: string) => p.execute(async ({ signal }) => (await fetch(u, { signal })).text());
  })();
  const time = async (f: () => Promise<string>) => {
    for (let i = 0; i < 500; i++) await f(); // warm-up (JIT, connection pool)
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) await f();
    return ((performance.now() - t0) * 1000) / calls; // µs per call
  };
  const rounds = { direct: [] as number[], policy: [] as number[], cockatielTimeout: [] as number[] };
  const variants: [keyof typeof rounds, () => Promise<string>][] = [
    ['direct', async () => (await fetch(url)).text()],
    ['policy', async () => (await policy.fetch(url)).text()],
    ['cockatielTimeout', () => withCockatielTimeout(url)],
  ];
  // Five rounds, the order rotating each round so no variant always runs first (the machine drifts).
  for (let r = 0; r < 5; r++) {
    for (let i = 0; i < variants.length; i++) {
      const [name, f] = variants[(i + r) % variants.length]!;
      rounds[name].push(await time(f));
    }
  }
  server.close();
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[2] ?? NaN;
  return {
    direct: median(rounds.direct),
    policy: median(rounds.policy),
    cockatielTimeout: median(rounds.cockatielTimeout),
  };
}
