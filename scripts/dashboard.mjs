// Writes deploy/chart/dashboards/kubegate.json: `node scripts/dashboard.mjs deploy/chart/dashboards/kubegate.json`
// (then `npx prettier --write` it). test/deploy/monitoring.test.ts checks every metric it names.
/* global process */
import { writeFileSync } from 'node:fs';
const ds = { type: 'prometheus', uid: '${datasource}' };
let id = 0;
const panel = (title, exprs, { unit = 'short', x, y, w = 12, h = 8, type = 'timeseries' } = {}) => ({
  id: ++id,
  type,
  title,
  datasource: ds,
  gridPos: { x, y, w, h },
  fieldConfig: { defaults: { unit }, overrides: [] },
  options: {},
  targets: exprs.map(([expr, legendFormat], i) => ({
    refId: String.fromCharCode(65 + i),
    datasource: ds,
    expr,
    legendFormat,
  })),
});
const sel = 'namespace="$namespace"';
const panels = [
  panel(
    'Requests by verb',
    [[`sum by (verb) (rate(kubegate_http_requests_total{${sel}}[$__rate_interval]))`, '{{verb}}']],
    { unit: 'reqps', x: 0, y: 0 },
  ),
  panel(
    'Request latency p99 by verb',
    [
      [
        `histogram_quantile(0.99, sum by (le, verb) (rate(kubegate_http_request_duration_seconds_bucket{${sel}}[$__rate_interval])))`,
        '{{verb}}',
      ],
    ],
    { unit: 's', x: 12, y: 0 },
  ),
  panel(
    'Responses by code',
    [[`sum by (code) (rate(kubegate_http_requests_total{${sel}}[$__rate_interval]))`, '{{code}}']],
    { unit: 'reqps', x: 0, y: 8 },
  ),
  panel(
    'Upstream calls by outcome',
    [
      [
        `sum by (adapter, outcome) (rate(kubegate_upstream_requests_total{${sel}}[$__rate_interval]))`,
        '{{adapter}} {{outcome}}',
      ],
    ],
    { unit: 'reqps', x: 12, y: 8 },
  ),
  panel(
    'Upstream latency p50 / p99',
    [
      [
        `histogram_quantile(0.5, sum by (le, adapter) (rate(kubegate_upstream_request_duration_seconds_bucket{${sel}}[$__rate_interval])))`,
        '{{adapter}} p50',
      ],
      [
        `histogram_quantile(0.99, sum by (le, adapter) (rate(kubegate_upstream_request_duration_seconds_bucket{${sel}}[$__rate_interval])))`,
        '{{adapter}} p99',
      ],
    ],
    { unit: 's', x: 0, y: 16 },
  ),
  panel(
    'Upstream retries and rate limiting',
    [
      [`sum by (adapter) (rate(kubegate_upstream_retries_total{${sel}}[$__rate_interval]))`, '{{adapter}} retries'],
      [
        `sum by (adapter) (rate(kubegate_upstream_rate_limited_total{${sel}}[$__rate_interval]))`,
        '{{adapter}} rate limited',
      ],
    ],
    { unit: 'ops', x: 12, y: 16 },
  ),
  panel(
    'Circuit breaker (0 closed, 1 half-open, 2 open)',
    [[`max by (adapter) (kubegate_upstream_breaker_state{${sel}})`, '{{adapter}}']],
    { x: 0, y: 24 },
  ),
  panel(
    'Data age (since the last successful poll)',
    [
      [
        `time() - max by (adapter, resource) (kubegate_poll_last_success_timestamp_seconds{${sel}})`,
        '{{adapter}}/{{resource}}',
      ],
      [`max by (adapter, resource) (kubegate_poll_interval_seconds{${sel}})`, '{{adapter}}/{{resource}} interval'],
    ],
    { unit: 's', x: 12, y: 24 },
  ),
  panel(
    'Polls by result',
    [
      [
        `sum by (adapter, resource, result) (rate(kubegate_polls_total{${sel}}[$__rate_interval]))`,
        '{{resource}} {{result}}',
      ],
      [
        `histogram_quantile(0.99, sum by (le, resource) (rate(kubegate_poll_duration_seconds_bucket{${sel}}[$__rate_interval])))`,
        '{{resource}} p99 duration',
      ],
    ],
    { x: 0, y: 32 },
  ),
  panel(
    'Poll leader per replica',
    [[`max by (pod, resource) (kubegate_poll_leader{${sel}})`, '{{pod}} {{resource}}']],
    { x: 12, y: 32 },
  ),
  panel(
    'Open watches',
    [
      [`sum by (resource) (kubegate_watchers{${sel}})`, '{{resource}}'],
      [
        `sum by (resource, type) (rate(kubegate_watch_events_total{${sel}}[$__rate_interval]))`,
        '{{resource}} {{type}}/s',
      ],
    ],
    { x: 0, y: 40 },
  ),
  panel(
    'Skipped upstream items and stale serves',
    [
      [`sum by (adapter, resource) (increase(kubegate_skipped_items_total{${sel}}[1h]))`, '{{resource}} skipped/h'],
      [
        `sum by (adapter, resource) (rate(kubegate_stale_serves_total{${sel}}[$__rate_interval]))`,
        '{{resource}} stale/s',
      ],
    ],
    { x: 12, y: 40 },
  ),
  panel(
    'Objects mirrored and changes',
    [
      [`max by (adapter, resource) (kubegate_objects{${sel}})`, '{{resource}}'],
      [`sum by (resource) (rate(kubegate_poll_changes_total{${sel}}[$__rate_interval]))`, '{{resource}} changes/s'],
    ],
    { x: 0, y: 48 },
  ),
  panel(
    'Store reachable and memory',
    [
      [`min by (pod) (kubegate_store_up{${sel}})`, '{{pod}} store up'],
      [`max by (pod) (kubegate_process_process_resident_memory_bytes{${sel}})`, '{{pod}} rss'],
    ],
    { x: 12, y: 48 },
  ),
];
const dash = {
  title: 'kubegate',
  uid: 'kubegate',
  tags: ['kubegate', 'kubernetes'],
  schemaVersion: 39,
  version: 1,
  editable: true,
  time: { from: 'now-3h', to: 'now' },
  refresh: '30s',
  templating: {
    list: [
      { name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Data source' },
      {
        name: 'namespace',
        type: 'query',
        datasource: ds,
        query: 'label_values(kubegate_objects, namespace)',
        refresh: 2,
        label: 'Namespace',
      },
    ],
  },
  panels,
};
writeFileSync(process.argv[2], JSON.stringify(dash, null, 2) + '\n');
