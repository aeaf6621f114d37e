import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CHART, HA_VALUES, renderChart } from './chart.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startFakeWeather, type FakeWeather } from '../../examples/fake-weather/server.ts';
import { LOCATIONS } from '../../examples/fake-weather/locations.ts';

// The dashboard and the alerts name metrics; a renamed metric would leave an empty panel or an alert that
// never fires. Every name they use must be exported by a running gateway.
const METRIC = /\bkubegate_[a-z0-9_]+\b/g;

interface Rule {
  alert: string;
  expr: string;
}

const dashboard = JSON.parse(readFileSync(resolve(CHART, 'dashboards/kubegate.json'), 'utf8')) as {
  panels: { title: string; targets: { expr: string }[] }[];
};

/** Family names and their types from the exposition (HELP/TYPE lines exist even before a first sample). */
function families(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1] as string, m[2] as string);
  return out;
}

function exported(name: string, fams: Map<string, string>): boolean {
  if (fams.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && fams.get(base) === 'histogram';
}

let weather: FakeWeather;
let gw: TestGateway;
let rules: Rule[];
beforeAll(async () => {
  weather = await startFakeWeather({ port: 0 });
  gw = await startTestGateway({
    adapters: [
      {
        name: 'weather',
        module: './adapters/weather/index.ts',
        config: { baseUrl: weather.url, locations: LOCATIONS },
      },
    ],
  });
  const objs = await renderChart([HA_VALUES]);
  const pr = objs.find((o) => o.kind === 'PrometheusRule') as unknown as { spec: { groups: { rules: Rule[] }[] } };
  rules = pr.spec.groups.flatMap((g) => g.rules);
});
afterAll(async () => {
  await gw.close();
  await weather.close();
});

describe('dashboard and alerts against /metrics of a running gateway', () => {
  it('every metric the dashboard queries is exported', async () => {
    const fams = families((await gw.get('/metrics')).body);
    const used = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(METRIC) ?? [])));
    expect(used.size).toBeGreaterThan(12);
    expect([...used].filter((n) => !exported(n, fams))).toEqual([]);
  });

  it('every metric the alerts query is exported, and the alerts cover the incidents operators page on', async () => {
    const fams = families((await gw.get('/metrics')).body);
    const used = new Set(rules.flatMap((r) => r.expr.match(METRIC) ?? []));
    expect([...used].filter((n) => !exported(n, fams))).toEqual([]);
    expect(rules.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        'KubegateUpstreamBreakerOpen',
        'KubegateDataStale',
        'KubegateNoPollLeader',
        'KubegateStoreUnreachable',
      ]),
    );
    const stale = rules.find((r) => r.alert === 'KubegateDataStale');
    expect(stale?.expr).toMatch(/> 3 \* max by/);
  });

  it('the store reachability and poll interval gauges carry values', async () => {
    const m = (await gw.get('/metrics')).body;
    expect(m).toMatch(/^kubegate_store_up 1$/m);
    expect(m).toMatch(/^kubegate_poll_interval_seconds\{adapter="weather",resource="forecasts"\} \d+/m);
  });

  it('the dashboard is valid JSON shipped by the chart as a ConfigMap', async () => {
    const objs = await renderChart([HA_VALUES]);
    const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-dashboard')) as unknown as {
      data: Record<string, string>;
      metadata: { labels: Record<string, string> };
    };
    expect(JSON.parse(cm.data['kubegate.json'] ?? '')).toEqual(dashboard);
    expect(cm.metadata.labels.grafana_dashboard).toBe('1');
    expect(parse(readFileSync(resolve(CHART, 'alerts.yaml'), 'utf8').replace(/\{\{[^}]*\}\}/g, 'x'))).toBeTruthy();
  });
});
