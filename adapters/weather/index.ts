import createClient from 'openapi-fetch';
import { defineAdapter, defineResource, type ColumnDefinition, type ObjectInput, type Static } from 'kubegate/sdk';
import type { components, paths } from './upstream.ts';
import { ForecastSpec, ForecastStatus, ForecastStatusV1alpha1, WeatherConfig } from './schema.ts';
import { fromHub, toHub } from './versions.ts';
import { condition } from './wmo.ts';

type Config = Static<typeof WeatherConfig>;
type UpstreamForecast = components['schemas']['Forecast'];

const CURRENT = 'temperature_2m,relative_humidity_2m,weather_code,wind_speed_10m,wind_direction_10m';
const DAILY = 'weather_code,temperature_2m_max,temperature_2m_min,precipitation_sum';

/** Open-Meteo local time without seconds + UTC offset → RFC 3339 UTC. */
function toUtc(local: string, offsetSeconds: number): string {
  const t = Date.parse(`${local}:00Z`) - offsetSeconds * 1000;
  if (Number.isNaN(t)) throw new Error(`bad time "${local}"`);
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Maps one upstream forecast to a Forecast object (v1); throws when the element is not usable. */
export function toForecast(loc: Config['locations'][number], f: UpstreamForecast, sourceUrl: string): ObjectInput {
  const c = f.current;
  if (!c || typeof c.temperature_2m !== 'number')
    throw new Error(`${loc.name}: the upstream sent no current temperature`);
  const d = f.daily;
  const days = d?.time ?? [];
  return {
    name: loc.name,
    labels: { country: loc.country, region: loc.region, ...(loc.city ? { city: loc.city } : {}) },
    annotations: { 'weather.kubegate.dev/source-url': sourceUrl },
    spec: {
      latitude: f.latitude,
      longitude: f.longitude,
      elevation: f.elevation,
      timezone: f.timezone,
      ...(loc.city ? { city: loc.city } : {}),
    },
    status: {
      temperatureC: c.temperature_2m,
      condition: condition(c.weather_code),
      weatherCode: c.weather_code ?? -1,
      wind: { speedKmh: c.wind_speed_10m ?? 0, directionDeg: c.wind_direction_10m ?? 0 },
      humidityPercent: c.relative_humidity_2m ?? 0,
      observedAt: toUtc(c.time, f.utc_offset_seconds),
      daily: days.map((date, i) => ({
        date,
        condition: condition(d?.weather_code?.[i]),
        temperatureC: { max: d?.temperature_2m_max?.[i] ?? 0, min: d?.temperature_2m_min?.[i] ?? 0 },
        precipitationMm: d?.precipitation_sum?.[i] ?? 0,
      })),
    },
  };
}

/** Printer columns of both versions: only where the wind speed is differs. */
const columns = (wind: string): ColumnDefinition[] => [
  { name: 'Country', type: 'string', jsonPath: '.metadata.labels.country' },
  { name: 'Temp', type: 'number', jsonPath: '.status.temperatureC', description: 'Current temperature, °C.' },
  { name: 'Condition', type: 'string', jsonPath: '.status.condition' },
  { name: 'Wind', type: 'number', jsonPath: wind, description: 'Wind speed, km/h.' },
  { name: 'Updated', type: 'date', jsonPath: '.status.observedAt' },
  { name: 'Region', type: 'string', jsonPath: '.metadata.labels.region', priority: 1 },
  { name: 'Latitude', type: 'number', jsonPath: '.spec.latitude', priority: 1 },
  { name: 'Longitude', type: 'number', jsonPath: '.spec.longitude', priority: 1 },
];

/**
 * Weather forecasts from an Open-Meteo-shaped API: one cluster-scoped Forecast per configured location,
 * all fetched in one upstream call per poll. Served as v1 (stored, preferred) and v1alpha1 (deprecated: flat
 * wind and daily temperature fields), converted from v1.
 */
export default defineAdapter({
  name: 'weather',
  group: 'weather.kubegate.dev',
  version: 'v1',
  config: WeatherConfig,
  resources: [
    defineResource<Config>({
      kind: 'Forecast',
      plural: 'forecasts',
      shortNames: ['fc'],
      categories: ['external', 'weather'],
      scope: 'Cluster',
      mode: 'mirror',
      pollInterval: '5s',
      description: 'Current weather and a daily forecast for one location, from the weather upstream.',
      schema: { spec: ForecastSpec, status: ForecastStatus },
      columns: columns('.status.wind.speedKmh'),
      fields: ['status.condition'],
      versions: [
        { name: 'v1', storage: true },
        {
          name: 'v1alpha1',
          deprecated: true,
          schema: { spec: ForecastSpec, status: ForecastStatusV1alpha1 },
          columns: columns('.status.windSpeedKmh'),
          fromHub,
          toHub,
        },
      ],
      async list(ctx) {
        const { locations, baseUrl, forecastDays } = ctx.config;
        const client = createClient<paths>({ baseUrl, fetch: ctx.fetch });
        const query = {
          latitude: locations.map((l) => l.latitude).join(','),
          longitude: locations.map((l) => l.longitude).join(','),
          current: CURRENT,
          daily: DAILY,
          forecast_days: forecastDays,
        };
        const { data, error, response } = await client.GET('/v1/forecast', { params: { query }, signal: ctx.signal });
        if (!data) {
          const reason = (error as { reason?: unknown } | undefined)?.reason;
          throw new Error(
            `weather upstream answered ${response.status}${typeof reason === 'string' ? `: ${reason}` : ''}`,
          );
        }
        const all = Array.isArray(data) ? data : [data];
        const source = `${baseUrl.replace(/\/$/, '')}/v1/forecast`;
        const out: ObjectInput[] = [];
        locations.forEach((loc, i) => {
          const f = all[i];
          try {
            if (!f) throw new Error(`${loc.name}: missing from the upstream answer`);
            out.push(toForecast(loc, f, `${source}?latitude=${loc.latitude}&longitude=${loc.longitude}`));
          } catch (err) {
            ctx.skip(err instanceof Error ? err.message : String(err), f);
          }
        });
        return out;
      },
    }),
  ],
});
