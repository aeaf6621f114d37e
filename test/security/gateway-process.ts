// A kubegate gateway in its own process, so tests measure its memory without their own heap in the way.
// argv: a JSON file { tls: {cert,key}, config: <kubegate config> }. Logs go to stderr (JSON lines); stdout
// carries one JSON line when ready ({url}) and one per command read from stdin: `mem` → memory figures after
// a GC, `watchers` → open watches.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import pino from 'pino';
import { parseConfig } from '../../src/config/load.ts';
import { loadAdapters } from '../../src/config/adapters.ts';
import { startGateway } from '../../src/server/gateway.ts';
import { REDACT } from '../../src/observability/log.ts';

const spec = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as {
  tls: { cert: string; key: string };
  config: unknown;
};
const loaded = parseConfig(JSON.stringify(spec.config));
const adapters = await loadAdapters(loaded, process.cwd());
const logger = pino({ level: 'info', redact: { paths: REDACT, censor: '[redacted]' } }, pino.destination(2));
const gw = await startGateway({ config: loaded.config, adapters, tls: spec.tls, logger });
await Promise.all(gw.runtime.collections.map((c) => c.poller.ready()));
const reply = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
const watchers = () => gw.runtime.collections.reduce((n, c) => n + c.hub.size, 0);
const mem = () => {
  globalThis.gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
};
reply({ url: gw.url, ...mem() });
createInterface({ input: process.stdin }).on('line', (cmd) => {
  if (cmd === 'mem') reply({ event: 'mem', ...mem(), watchers: watchers() });
  else if (cmd === 'watchers') reply({ event: 'watchers', watchers: watchers() });
});
process.on('SIGTERM', () => void gw.close().then(() => process.exit(0)));
