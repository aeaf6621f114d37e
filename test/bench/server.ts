// One benchmark server process: `gateway` (kubegate with the synthetic adapter) or `baseline` (fastify
// returning pre-built bytes from memory, same TLS and protocol). Prints one JSON line when ready.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { createInterface } from 'node:readline';
import { parseConfig } from '../../src/config/load.ts';
import { loadAdapters } from '../../src/config/adapters.ts';
import { startGateway } from '../../src/server/gateway.ts';
import { memoryReleased } from '../../src/resources/memory.ts';

const [mode, arg1, arg2] = process.argv.slice(2);

/** A memory figure of this process from /proc/self/status (`VmHWM`, `RssAnon`), in bytes; undefined off Linux. */
function procStatus(field: string): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return undefined;
}

/**
 * This process's peak RSS: VmHWM where Linux reports it (getrusage's maximum also counts the parent's memory
 * at the time of the fork, which in `npm run bench` is the watch benchmark's client).
 */
const peakRss = (): number => procStatus('VmHWM') ?? process.resourceUsage().maxRSS * 1024;

/**
 * Resident memory that is not a mapped file (RssAnon: heap, malloc, stacks). The rest of RSS is mostly the node
 * executable's own pages, shared by every process running it and reclaimable.
 */
const anonRss = (): number | undefined => procStatus('RssAnon');

// Exit cleanly on SIGINT and SIGTERM (the benches kill their servers) so --cpu-prof can write its profile.
process.on('SIGINT', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
const tls = JSON.parse(readFileSync(arg1 ?? '', 'utf8')) as { cert: string; key: string };

if (mode === 'gateway') {
  const count = Number(arg2);
  const loaded = parseConfig(
    JSON.stringify({
      auth: {
        tokens: [{ token: 'bench-token-0123456789', user: 'bench', groups: ['bench'] }],
        policy: [{ groups: ['bench'], verbs: ['*'], apiGroups: ['*'], resources: ['*'], nonResourceURLs: ['*'] }],
      },
      // Thousands of watchers of one user on a few connections: the limits sized for it.
      watch: { maxBufferedBytes: 64 << 20, maxPerUser: 50_000, maxTotal: 50_000, sessionBufferedBytes: 512 << 20 },
      server: { host: '127.0.0.1', port: 0, http2: { maxConcurrentStreams: 1000, maxSessionMemory: 2 * 2 ** 30 } },
      // The audit log at Metadata level for every request (test/bench/audit.ts compares with and without).
      ...(process.env.BENCH_AUDIT
        ? {
            audit: {
              path: process.env.BENCH_AUDIT,
              policy: {
                apiVersion: 'audit.k8s.io/v1',
                kind: 'Policy',
                rules: [{ level: process.env.BENCH_AUDIT_LEVEL ?? 'Metadata' }],
              },
            },
          }
        : {}),
      ...(process.env.BENCH_STORE === 'redis'
        ? { store: { type: 'redis', redis: { url: 'redis://127.0.0.1:6379', keyPrefix: `kgbench:${process.pid}:` } } }
        : {}),
      adapters: [
        {
          name: 'synthetic',
          // Beside this file: the TypeScript source, or what `npm run build` made of it (`--built`).
          module: fileURLToPath(new URL(`./synthetic-adapter.${import.meta.url.slice(-2)}`, import.meta.url)),
          config: { count },
          ...(process.env.BENCH_POLL ? { pollInterval: process.env.BENCH_POLL } : {}),
        },
      ],
    }),
  );
  const adapters = await loadAdapters(loaded, process.cwd());
  const { createLogger } = await import('../../src/observability/log.ts');
  const gw = await startGateway({ config: loaded.config, adapters, tls, logger: createLogger('error') });
  const c = gw.runtime.collections[0];
  await c?.poller.ready();
  await memoryReleased();
  globalThis.gc?.();
  const m = process.memoryUsage();
  process.stdout.write(
    JSON.stringify({
      url: gw.url,
      rss: m.rss,
      rssAnon: anonRss(),
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      // Peak resident memory so far (the first poll's), in bytes.
      maxRss: peakRss(),
      objects: c?.view.size,
      // What the objects weigh as JSON (as a list or GET serves them), measured after the memory figures.
      jsonBytes: c?.view.sorted().reduce((n, e) => n + Buffer.byteLength(e.text()), 0),
    }) + '\n',
  );
  const { stats } = await import('./synthetic-adapter.ts');
  const reply = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
  createInterface({ input: process.stdin }).on('line', (cmd) => {
    if (cmd === 'touch') {
      // Changes one object; reports when the change is committed (the watch delay is measured from here).
      void gw.runtime
        .reconfigure('synthetic', { count, generation: Date.now() })
        .then(() => reply({ event: 'polled', at: performance.timeOrigin + performance.now() }));
    } else if (cmd === 'mem') {
      globalThis.gc?.();
      const m = process.memoryUsage();
      reply({ event: 'mem', rss: m.rss, heapUsed: m.heapUsed, watchers: c?.hub.size });
    } else if (cmd === 'cpu') {
      reply({ event: 'cpu', ...process.cpuUsage() });
    } else if (cmd === 'stats') {
      reply({ event: 'stats', polls: stats.polls, dispatchMs: c?.hub.lastDispatchMs });
    }
  });
} else {
  const routes = JSON.parse(readFileSync(arg2 ?? '', 'utf8')) as Record<string, string>;
  const app = Fastify({ http2: true, https: { allowHTTP1: true, ...tls } } as Parameters<typeof Fastify>[0]);
  const bodies = new Map(Object.entries(routes).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
  app.get('/*', (req, reply) => {
    const b = bodies.get(req.url);
    if (!b) return reply.code(404).send();
    return reply.type('application/json').send(b);
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const a = app.server.address();
  process.stdout.write(JSON.stringify({ url: `https://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}` }) + '\n');
}
