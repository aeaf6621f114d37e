import { Counter, Gauge, type Registry } from 'prom-client';
import type { QueryCacheUsage } from '../store/query-cache.ts';

/**
 * Metrics of the pass-through query cache: entries and bytes per resource (against the configured caps) and
 * requests refused by the per-user upstream limit. Returns the refusal counter's increment.
 */
export function registerQueryCacheMetrics(
  registry: Registry,
  usage: () => Promise<QueryCacheUsage[]>,
): { refused(): void } {
  // One read serves both gauges of one scrape.
  let pending: Promise<QueryCacheUsage[]> | undefined;
  const read = () => {
    pending ??= usage().finally(() => setImmediate(() => (pending = undefined)));
    return pending;
  };
  new Gauge({
    name: 'kubegate_query_cache_entries',
    help: 'Entries in the pass-through query cache, per resource (capped by passThrough.cache.maxEntries).',
    labelNames: ['resource'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const u of await read()) this.set({ resource: u.resource }, u.entries);
    },
  });
  new Gauge({
    name: 'kubegate_query_cache_bytes',
    help: 'Bytes in the pass-through query cache, per resource (capped by passThrough.cache.maxBytes).',
    labelNames: ['resource'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const u of await read()) this.set({ resource: u.resource }, u.bytes);
    },
  });
  const refused = new Counter({
    name: 'kubegate_upstream_budget_refused_total',
    help: 'Requests refused (429) because their user was over the per-user limit on upstream calls.',
    registers: [registry],
  });
  return { refused: () => refused.inc() };
}
