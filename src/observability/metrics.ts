import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BreakerState, UpstreamEvents } from '../resilience/fetch.ts';
import { createRequestMetrics } from './request-metrics.ts';

/**
 * kubegate's Prometheus metrics (`/metrics`). Labels are adapter, resource, verb, code and outcome only —
 * never a URL, a query or anything from a credential.
 */
export interface Metrics {
  registry: Registry;
  upstreamEvents(adapter: string): UpstreamEvents;
  /** `error`: why a poll failed (Kubernetes Events tell the delete guard apart). */
  poll(adapter: string, resource: string, ok: boolean, seconds: number, changes: number, error?: unknown): void;
  /** `reason`: schema, duplicate, name, namespace, mapping or adapter (a fixed set). */
  skipped(adapter: string, resource: string, n: number, reason: string): void;
  staleServe(adapter: string, resource: string): void;
  watchEvent(resource: string, type: string, n: number): void;
  /** A watch refused (429) by the per-user (`user`) or process-wide (`total`) limit. */
  watchRejected(reason: 'user' | 'total'): void;
  http(verb: string, resource: string, code: number, seconds: number): void;
  /** Latency quantile of upstream calls over the recent window (for `kubectl get adapters`). */
  upstreamP99(adapter: string): number | undefined;
  upstreamErrorRate(adapter: string): number | undefined;
}

export interface MetricsSources {
  objects(): { adapter: string; resource: string; count: number }[];
  watchers(): { resource: string; count: number }[];
  lastSuccess(): { adapter: string; resource: string; seconds: number | undefined }[];
  leaders(): { adapter: string; resource: string; leader: boolean }[];
  /** Poll interval of each mirrored collection (staleness is judged in intervals). */
  intervals?(): { adapter: string; resource: string; seconds: number }[];
  /** Whether the store (Redis) is reachable; the memory store always is. */
  storeUp?(): boolean;
}

const BREAKER: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** Keeps the last N upstream call samples per adapter for p99 and error rate. */
class Window {
  private lat: number[] = [];
  private err: boolean[] = [];
  add(ms: number, failed: boolean): void {
    this.lat.push(ms);
    this.err.push(failed);
    if (this.lat.length > 200) {
      this.lat.shift();
      this.err.shift();
    }
  }
  p99(): number | undefined {
    if (this.lat.length === 0) return undefined;
    const s = [...this.lat].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))];
  }
  errorRate(): number | undefined {
    return this.err.length === 0 ? undefined : this.err.filter(Boolean).length / this.err.length;
  }
}

export function createMetrics(src: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'kubegate_process_' });
  const upstreamRequests = new Counter({
    name: 'kubegate_upstream_requests_total',
    help: 'Upstream HTTP calls by outcome (status code, timeout, error).',
    labelNames: ['adapter', 'outcome'],
    registers: [registry],
  });
  const upstreamLatency = new Histogram({
    name: 'kubegate_upstream_request_duration_seconds',
    help: 'Upstream call latency per attempt.',
    labelNames: ['adapter'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const retries = new Counter({
    name: 'kubegate_upstream_retries_total',
    help: 'Upstream calls retried.',
    labelNames: ['adapter'],
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'kubegate_upstream_rate_limited_total',
    help: 'Upstream calls delayed or refused by the rate limit.',
    labelNames: ['adapter'],
    registers: [registry],
  });
  const breaker = new Gauge({
    name: 'kubegate_upstream_breaker_state',
    help: 'Circuit breaker: 0 closed, 1 half-open, 2 open.',
    labelNames: ['adapter'],
    registers: [registry],
  });
  const polls = new Counter({
    name: 'kubegate_polls_total',
    help: 'Polls of mirrored collections by result.',
    labelNames: ['adapter', 'resource', 'result'],
    registers: [registry],
  });
  const pollDuration = new Histogram({
    name: 'kubegate_poll_duration_seconds',
    help: 'Duration of a whole poll (all pages).',
    labelNames: ['adapter', 'resource'],
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const changes = new Counter({
    name: 'kubegate_poll_changes_total',
    help: 'Objects added, modified or deleted by polls.',
    labelNames: ['adapter', 'resource'],
    registers: [registry],
  });
  const skipped = new Counter({
    name: 'kubegate_skipped_items_total',
    help: 'Upstream items skipped because they could not be served (schema mismatch, duplicate name, ...).',
    labelNames: ['adapter', 'resource', 'reason'],
    registers: [registry],
  });
  const stale = new Counter({
    name: 'kubegate_stale_serves_total',
    help: 'Responses served from stale data with a Warning.',
    labelNames: ['adapter', 'resource'],
    registers: [registry],
  });
  const events = new Counter({
    name: 'kubegate_watch_events_total',
    help: 'Watch events emitted by collections.',
    labelNames: ['resource', 'type'],
    registers: [registry],
  });
  const watchRejected = new Counter({
    name: 'kubegate_watch_rejected_total',
    help: 'Watches refused (429) by the per-user (reason="user") or total (reason="total") limit.',
    labelNames: ['reason'],
    registers: [registry],
  });
  // Both series from the start: a rate over them reads 0, not "no data", before the first refusal.
  for (const reason of ['user', 'total']) watchRejected.inc({ reason }, 0);
  new Gauge({
    name: 'kubegate_objects',
    help: 'Objects in the local view.',
    labelNames: ['adapter', 'resource'],
    registers: [registry],
    collect() {
      this.reset();
      for (const o of src.objects()) this.set({ adapter: o.adapter, resource: o.resource }, o.count);
    },
  });
  new Gauge({
    name: 'kubegate_watchers',
    help: 'Open watch streams.',
    labelNames: ['resource'],
    registers: [registry],
    collect() {
      this.reset();
      for (const w of src.watchers()) this.set({ resource: w.resource }, w.count);
    },
  });
  new Gauge({
    name: 'kubegate_poll_last_success_timestamp_seconds',
    help: 'When the last poll succeeded.',
    labelNames: ['adapter', 'resource'],
    registers: [registry],
    collect() {
      this.reset();
      for (const l of src.lastSuccess())
        if (l.seconds !== undefined) this.set({ adapter: l.adapter, resource: l.resource }, l.seconds);
    },
  });
  const requests = createRequestMetrics(registry);
  new Gauge({
    name: 'kubegate_poll_leader',
    help: '1 when this replica holds the poll lease of the collection (it is the one calling the upstream).',
    labelNames: ['adapter', 'resource'],
    registers: [registry],
    collect() {
      this.reset();
      for (const l of src.leaders()) this.set({ adapter: l.adapter, resource: l.resource }, l.leader ? 1 : 0);
    },
  });
  new Gauge({
    name: 'kubegate_poll_interval_seconds',
    help: 'Configured poll interval of the collection.',
    labelNames: ['adapter', 'resource'],
    registers: [registry],
    collect() {
      this.reset();
      for (const i of src.intervals?.() ?? []) this.set({ adapter: i.adapter, resource: i.resource }, i.seconds);
    },
  });
  new Gauge({
    name: 'kubegate_store_up',
    help: '1 while the store (Redis) is reachable from this replica, 0 while it is not.',
    registers: [registry],
    collect() {
      this.set(src.storeUp === undefined || src.storeUp() ? 1 : 0);
    },
  });
  const windows = new Map<string, Window>();
  const win = (a: string): Window => {
    let w = windows.get(a);
    if (!w) windows.set(a, (w = new Window()));
    return w;
  };
  return {
    registry,
    upstreamEvents(adapter) {
      breaker.set({ adapter }, 0);
      return {
        onRequest(outcome, ms) {
          upstreamRequests.inc({ adapter, outcome });
          upstreamLatency.observe({ adapter }, ms / 1000);
          win(adapter).add(ms, !/^[23]/.test(outcome));
        },
        onRetry: () => retries.inc({ adapter }),
        onRateLimited: () => rateLimited.inc({ adapter }),
        onBreakerState: (s) => breaker.set({ adapter }, BREAKER[s]),
      };
    },
    poll(adapter, resource, ok, seconds, n) {
      polls.inc({ adapter, resource, result: ok ? 'success' : 'failure' });
      pollDuration.observe({ adapter, resource }, seconds);
      if (n > 0) changes.inc({ adapter, resource }, n);
    },
    skipped: (adapter, resource, n, reason) => skipped.inc({ adapter, resource, reason }, n),
    staleServe: (adapter, resource) => stale.inc({ adapter, resource }),
    watchEvent: (resource, type, n) => events.inc({ resource, type }, n),
    watchRejected: (reason) => watchRejected.inc({ reason }),
    http: (verb, resource, code, seconds) => requests.record(verb, resource, code, seconds),
    upstreamP99: (a) => windows.get(a)?.p99(),
    upstreamErrorRate: (a) => windows.get(a)?.errorRate(),
  };
}
