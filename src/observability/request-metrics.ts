import type { Registry } from 'prom-client';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 5];

interface Series {
  verb: string;
  resource: string;
  count: Map<string, number>;
  buckets: number[];
  sum: number;
  n: number;
}

/**
 * API request counts and latencies, recorded with a few array writes per request and turned into Prometheus
 * series only when scraped. prom-client's labelled Counter/Histogram hash their label objects on every call,
 * which measured as about a tenth of the cost of serving a cached GET.
 */
export function createRequestMetrics(registry: Registry): {
  record(verb: string, resource: string, code: number, seconds: number): void;
} {
  const series = new Map<string, Series>();
  const all = () => [...series.values()];
  const counter = {
    name: 'kubegate_http_requests_total',
    help: 'API requests by verb, resource and code.',
    type: 'counter',
    aggregator: 'sum',
    get: () => ({
      name: counter.name,
      help: counter.help,
      type: 'counter',
      aggregator: 'sum',
      values: all().flatMap((s) =>
        [...s.count].map(([code, value]) => ({ labels: { verb: s.verb, resource: s.resource, code }, value })),
      ),
    }),
    reset: () => series.clear(),
  };
  const histogram = {
    name: 'kubegate_http_request_duration_seconds',
    help: 'API request latency (watches: until the stream starts).',
    type: 'histogram',
    aggregator: 'sum',
    get: () => ({
      name: histogram.name,
      help: histogram.help,
      type: 'histogram',
      aggregator: 'sum',
      values: all().flatMap((s) => {
        const labels = { verb: s.verb, resource: s.resource };
        let acc = 0;
        return [
          ...BUCKETS.map((le, i) => ({
            labels: { ...labels, le },
            value: (acc += s.buckets[i] ?? 0),
            metricName: `${histogram.name}_bucket`,
          })),
          { labels: { ...labels, le: '+Inf' }, value: s.n, metricName: `${histogram.name}_bucket` },
          { labels, value: s.sum, metricName: `${histogram.name}_sum` },
          { labels, value: s.n, metricName: `${histogram.name}_count` },
        ];
      }),
    }),
    reset: () => series.clear(),
  };
  registry.registerMetric(counter as unknown as Parameters<Registry['registerMetric']>[0]);
  registry.registerMetric(histogram as unknown as Parameters<Registry['registerMetric']>[0]);
  return {
    record(verb, resource, code, seconds) {
      const k = resource + ' ' + verb;
      let s = series.get(k);
      if (!s)
        series.set(
          k,
          (s = { verb, resource, count: new Map(), buckets: new Array<number>(BUCKETS.length).fill(0), sum: 0, n: 0 }),
        );
      const c = String(code);
      s.count.set(c, (s.count.get(c) ?? 0) + 1);
      let i = 0;
      while (i < BUCKETS.length && seconds > (BUCKETS[i] ?? Infinity)) i++;
      if (i < BUCKETS.length) s.buckets[i] = (s.buckets[i] ?? 0) + 1;
      s.sum += seconds;
      s.n++;
    },
  };
}
