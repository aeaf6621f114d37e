import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { createKubeClient, type KubeClient } from '../auth/kube-client.ts';
import type { UpstreamEvents } from '../resilience/fetch.ts';
import { DeleteGuardError } from '../resources/poller.ts';
import type { Metrics } from './metrics.ts';

/**
 * Kubernetes Events (`events.k8s.io/v1`) about upstream incidents, posted in kubegate's namespace so that
 * `kubectl get events -n <namespace>` and `kubectl describe` show them next to the Adapter they concern.
 *
 * Repeats are aggregated into series as the apiserver's own event recorder does: the first occurrence of an
 * incident (same type, reason, action and regarding object) creates one Event; repeats within the series
 * window only raise `series.count` and `series.lastObservedTime`, sent with a merge PATCH at most once per
 * patch interval. New Event objects are rate limited (token bucket) and the series tracked are bounded, so a
 * flapping upstream cannot flood the kube-apiserver. Notes are kubegate's own words, never upstream text.
 */

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface EventInput {
  type: 'Normal' | 'Warning';
  /** UpperCamelCase, e.g. BreakerOpened. */
  reason: string;
  /** What kubegate did or failed to do, e.g. Poll, CallUpstream. */
  action: string;
  /** Human-readable, at most 1 KiB (longer is cut). */
  note: string;
  regarding: ObjectRef;
}

export interface EventRecorderOptions {
  client: Pick<KubeClient, 'request'>;
  namespace: string;
  /** `reportingController`; default kubegate.dev/kubegate. */
  controller?: string;
  /** `reportingInstance`: this replica (the pod name). */
  instance: string;
  /** Repeats this close to the previous occurrence join its series; later ones start a new Event (6 min). */
  seriesWindowMs?: number;
  /** Least time between two PATCHes of one series (30 s); repeats in between go in one PATCH. */
  patchIntervalMs?: number;
  /** New Event objects allowed at once (25) and the time to earn one more (10 s). */
  burst?: number;
  refillMs?: number;
  /** Series remembered at most (256); the least recently seen is forgotten first. */
  maxSeries?: number;
  log: { warn(msg: string, extra?: Record<string, unknown>): void };
  now?: () => number;
}

export interface EventRecorder {
  record(e: EventInput): void;
  /** Events refused by the rate limit so far. */
  readonly dropped: number;
  /** Sends pending series updates now and waits for every request in flight. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

interface Series {
  input: EventInput;
  name: string | undefined;
  firstMs: number;
  lastMs: number;
  count: number;
  sentCount: number;
  lastPatchMs: number;
  timer: NodeJS.Timeout | undefined;
  busy: Promise<void> | undefined;
}

const NOTE_MAX = 1024;

/** RFC 3339 with microseconds, as MicroTime fields are written. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function seriesKey(e: EventInput): string {
  const r = e.regarding;
  return JSON.stringify([e.type, e.reason, e.action, r.apiVersion, r.kind, r.namespace ?? '', r.name]);
}

export function createEventRecorder(o: EventRecorderOptions): EventRecorder {
  const now = o.now ?? Date.now;
  const windowMs = o.seriesWindowMs ?? 6 * 60_000;
  const patchIntervalMs = o.patchIntervalMs ?? 30_000;
  const burst = o.burst ?? 25;
  const refillMs = o.refillMs ?? 10_000;
  const maxSeries = o.maxSeries ?? 256;
  const controller = o.controller ?? 'kubegate.dev/kubegate';
  const base = `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(o.namespace)}/events`;
  const series = new Map<string, Series>();
  const inflight = new Set<Promise<void>>();
  let tokens = burst;
  let refilledAt = now();
  let dropped = 0;
  let lastDropLog = 0;
  let nameSeq = 0;
  let closed = false;

  const take = (): boolean => {
    const t = now();
    const earned = Math.floor((t - refilledAt) / refillMs);
    if (earned > 0) {
      tokens = Math.min(burst, tokens + earned);
      refilledAt = tokens === burst ? t : refilledAt + earned * refillMs;
    }
    if (tokens < 1) return false;
    tokens--;
    return true;
  };

  const track = (p: Promise<void>): Promise<void> => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    return p;
  };

  const fail = (what: string, s: Series, status: number | string): void => {
    o.log.warn(`could not ${what} a Kubernetes Event`, { reason: s.input.reason, status });
  };

  const create = async (s: Series): Promise<void> => {
    const r = s.input.regarding;
    // Unique per replica and time, as the apiserver's recorder names events: <regarding>.<hex time>.
    const name = `${r.name}.${(s.firstMs * 1000 + (nameSeq++ % 1000)).toString(16)}`;
    const body = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace: o.namespace },
      eventTime: microTime(s.firstMs),
      reportingController: controller,
      reportingInstance: o.instance,
      action: s.input.action,
      reason: s.input.reason,
      type: s.input.type,
      note: s.input.note.slice(0, NOTE_MAX),
      regarding: r,
      ...(s.count > 1 ? { series: { count: s.count, lastObservedTime: microTime(s.lastMs) } } : {}),
    };
    const sent = s.count;
    try {
      const res = await o.client.request('POST', base, { body, timeoutMs: 10_000 });
      if (res.status === 201 || res.status === 200) {
        s.name = name;
        s.sentCount = sent;
      } else fail('create', s, res.status);
    } catch (err) {
      fail('create', s, err instanceof Error ? err.message : String(err));
    }
  };

  const patch = async (s: Series): Promise<void> => {
    // Runs after the POST that names the Event; repeats it already carried need no PATCH.
    if (!s.name || s.count <= s.sentCount) return;
    const sent = s.count;
    s.lastPatchMs = now();
    const body = {
      series: { count: s.count, lastObservedTime: microTime(s.lastMs) },
      note: s.input.note.slice(0, NOTE_MAX),
    };
    try {
      const res = await o.client.request('PATCH', `${base}/${encodeURIComponent(s.name)}`, {
        body,
        contentType: 'application/merge-patch+json',
        timeoutMs: 10_000,
      });
      if (res.status === 200) s.sentCount = Math.max(s.sentCount, sent);
      else if (res.status === 404) {
        // The Event expired (the apiserver keeps them for an hour); the next occurrence starts a new one.
        series.delete(seriesKey(s.input));
      } else fail('update', s, res.status);
    } catch (err) {
      fail('update', s, err instanceof Error ? err.message : String(err));
    }
  };

  /** One request per series at a time; a PATCH waits for the POST that names the Event. */
  const run = (s: Series, step: (s: Series) => Promise<void>): Promise<void> => {
    const prev = s.busy ?? Promise.resolve();
    const next = prev.then(() => step(s));
    s.busy = next;
    return track(next);
  };

  const schedule = (s: Series): void => {
    if (s.timer || closed) return;
    const wait = Math.max(0, s.lastPatchMs + patchIntervalMs - now());
    s.timer = setTimeout(() => {
      s.timer = undefined;
      if (s.count > s.sentCount) void run(s, patch);
    }, wait);
    s.timer.unref();
  };

  return {
    get dropped() {
      return dropped;
    },
    record(e) {
      if (closed) return;
      const key = seriesKey(e);
      const t = now();
      const s = series.get(key);
      if (s && t - s.lastMs <= windowMs) {
        s.count++;
        s.lastMs = t;
        s.input = e;
        // Most recently seen last, so that eviction takes the stalest series.
        series.delete(key);
        series.set(key, s);
        schedule(s);
        return;
      }
      if (!take()) {
        dropped++;
        if (t - lastDropLog > 60_000) {
          lastDropLog = t;
          o.log.warn('Kubernetes Events rate limited; some incidents are only logged', { dropped });
        }
        return;
      }
      if (s) {
        clearTimeout(s.timer);
        series.delete(key);
      }
      while (series.size >= maxSeries) {
        const [oldest, old] = series.entries().next().value as [string, Series];
        clearTimeout(old.timer);
        series.delete(oldest);
      }
      const fresh: Series = {
        input: e,
        name: undefined,
        firstMs: t,
        lastMs: t,
        count: 1,
        sentCount: 0,
        lastPatchMs: t,
        timer: undefined,
        busy: undefined,
      };
      series.set(key, fresh);
      void run(fresh, create);
    },
    async flush() {
      for (const s of series.values()) {
        if (s.timer) {
          clearTimeout(s.timer);
          s.timer = undefined;
        }
        if (s.count > s.sentCount) void run(s, patch);
      }
      while (inflight.size > 0) await Promise.all([...inflight]);
    },
    async close() {
      await this.flush();
      closed = true;
      series.clear();
    },
  };
}

export interface IncidentOptions {
  /** Consecutive failed polls of one collection before a PollsFailing Warning (3). */
  pollFailures?: number;
}

/** kubegate's own Adapter object (`kubectl get adapters`), which the Events are about. */
export function adapterRef(adapter: string): ObjectRef {
  return { apiVersion: 'kubegate.dev/v1alpha1', kind: 'Adapter', name: adapter };
}

/**
 * Wraps the metrics hooks the runtime already calls (upstream outcomes and breaker state, polls, skipped
 * items) so that each also records the incident as an Event about the adapter.
 */
export function withIncidentEvents(metrics: Metrics, rec: EventRecorder, o: IncidentOptions = {}): Metrics {
  const threshold = o.pollFailures ?? 3;
  const failures = new Map<string, number>();
  const breakerOpen = new Set<string>();
  return {
    ...metrics,
    upstreamEvents(adapter): UpstreamEvents {
      const inner = metrics.upstreamEvents(adapter);
      const regarding = adapterRef(adapter);
      return {
        ...inner,
        onRequest(outcome, ms) {
          inner.onRequest?.(outcome, ms);
          if (outcome === '401' || outcome === '403')
            rec.record({
              type: 'Warning',
              reason: 'CredentialsRejected',
              action: 'CallUpstream',
              regarding,
              note:
                `The upstream of adapter ${adapter} answered ${outcome} ` +
                `${outcome === '401' ? 'Unauthorized' : 'Forbidden'}: it rejects kubegate's credentials. ` +
                'Check or rotate the credential Secret.',
            });
        },
        onBreakerState(state) {
          inner.onBreakerState?.(state);
          if (state === 'open') {
            breakerOpen.add(adapter);
            rec.record({
              type: 'Warning',
              reason: 'BreakerOpened',
              action: 'CallUpstream',
              regarding,
              note: `Calls to the upstream of adapter ${adapter} keep failing; the circuit breaker opened. kubegate serves the last good data with a Warning and retries later.`,
            });
          } else if (state === 'closed' && breakerOpen.delete(adapter)) {
            rec.record({
              type: 'Normal',
              reason: 'BreakerClosed',
              action: 'CallUpstream',
              regarding,
              note: `The upstream of adapter ${adapter} answers again; the circuit breaker closed.`,
            });
          }
        },
      };
    },
    poll(adapter, resource, ok, seconds, changes, error) {
      metrics.poll(adapter, resource, ok, seconds, changes, error);
      const key = `${adapter}/${resource}`;
      const regarding = adapterRef(adapter);
      if (ok) {
        const had = failures.get(key) ?? 0;
        failures.delete(key);
        if (had >= threshold)
          rec.record({
            type: 'Normal',
            reason: 'PollsRecovered',
            action: 'Poll',
            regarding,
            note: `Polling ${resource} of adapter ${adapter} succeeds again after ${had} failed polls.`,
          });
        return;
      }
      const n = (failures.get(key) ?? 0) + 1;
      failures.set(key, n);
      if (error instanceof DeleteGuardError)
        rec.record({
          type: 'Warning',
          reason: 'DeleteGuardTripped',
          action: 'Poll',
          regarding,
          note: `Adapter ${adapter}, ${resource}: ${error.message}. The previous objects are kept.`,
        });
      else if (n >= threshold)
        rec.record({
          type: 'Warning',
          reason: 'PollsFailing',
          action: 'Poll',
          regarding,
          note: `${n} polls in a row of ${resource} of adapter ${adapter} failed; kubegate serves the last good data. See kubectl get adapters ${adapter} -o yaml.`,
        });
    },
    skipped(adapter, resource, n, reason) {
      metrics.skipped(adapter, resource, n, reason);
      rec.record({
        type: 'Warning',
        reason: 'ItemsSkipped',
        action: 'Poll',
        regarding: adapterRef(adapter),
        note: `${n} upstream items of ${resource} were skipped (${reason}); see kubectl get adapters ${adapter} -o yaml.`,
      });
    },
  };
}

/** kubegate's namespace: KUBEGATE_NAMESPACE, else the in-cluster service account's, else `default`. */
export function ownNamespace(): string {
  const fromEnv = process.env.KUBEGATE_NAMESPACE;
  if (fromEnv) return fromEnv;
  const file = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || 'default' : 'default';
}

/** This replica's name for `reportingInstance`: KUBEGATE_POD_NAME, else the host name (the pod's). */
export function ownInstance(): string {
  return process.env.KUBEGATE_POD_NAME ?? hostname();
}

export type IncidentEventsOptions = Partial<
  Pick<EventRecorderOptions, 'namespace' | 'instance' | 'patchIntervalMs' | 'seriesWindowMs' | 'burst' | 'refillMs'>
> &
  IncidentOptions;

/**
 * Aggregated mode: Kubernetes Events about upstream incidents, posted with kubegate's own service account
 * (or `kubeconfig`) in its namespace. Returns the metrics hooks to give the runtime instead of `metrics`.
 */
export function startIncidentEvents(
  metrics: Metrics,
  o: IncidentEventsOptions & { kubeconfig?: string | undefined; log: Logger },
): { metrics: Metrics; recorder: EventRecorder; close(): Promise<void> } {
  const client = createKubeClient(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {});
  const recorder = createEventRecorder({
    client,
    namespace: o.namespace ?? ownNamespace(),
    instance: o.instance ?? ownInstance(),
    ...(o.patchIntervalMs !== undefined ? { patchIntervalMs: o.patchIntervalMs } : {}),
    ...(o.seriesWindowMs !== undefined ? { seriesWindowMs: o.seriesWindowMs } : {}),
    ...(o.burst !== undefined ? { burst: o.burst } : {}),
    ...(o.refillMs !== undefined ? { refillMs: o.refillMs } : {}),
    log: { warn: (msg, extra) => o.log.warn(extra ?? {}, msg) },
  });
  return {
    metrics: withIncidentEvents(
      metrics,
      recorder,
      o.pollFailures !== undefined ? { pollFailures: o.pollFailures } : {},
    ),
    recorder,
    async close() {
      await recorder.close();
      client.close();
    },
  };
}
