import http from 'node:http';

/**
 * A fake of the Open-Meteo forecast API (`GET /v1/forecast`) reproducing its documented request and response
 * shapes: comma-separated coordinates answer a JSON array (one element per location), a single location an
 * object; `current`/`daily` variables with their `_units`; 400 `{"error":true,"reason":...}` for bad input.
 * Values are deterministic from the coordinates and a clock that advances every `changeEveryMs`, so a watch
 * sees MODIFIED events within seconds.
 */
export interface FakeWeather {
  url: string;
  /** Calls of /v1/forecast. */
  requests: number;
  /** Makes every following call answer `status` (null: back to normal); 429 uses Open-Meteo's body and Retry-After. */
  fail(status: number | null, retryAfterSeconds?: number): void;
  /** Stops the data from changing / lets it change again. */
  freeze(): void;
  unfreeze(): void;
  /** Advances the data one step now. */
  tick(): void;
  /**
   * Answers these top-level fields for the location at `latitude` (null: as normal again), e.g.
   * `{ timezone: null }`: the real API sends null where it has no value.
   */
  patch(latitude: number, fields: Record<string, unknown> | null): void;
  close(): Promise<void>;
}

const CURRENT = [
  'temperature_2m',
  'relative_humidity_2m',
  'weather_code',
  'wind_speed_10m',
  'wind_direction_10m',
] as const;
const DAILY = ['weather_code', 'temperature_2m_max', 'temperature_2m_min', 'precipitation_sum'] as const;
const UNITS: Record<string, string> = {
  time: 'iso8601',
  interval: 'seconds',
  temperature_2m: '°C',
  relative_humidity_2m: '%',
  weather_code: 'wmo code',
  wind_speed_10m: 'km/h',
  wind_direction_10m: '°',
  temperature_2m_max: '°C',
  temperature_2m_min: '°C',
  precipitation_sum: 'mm',
};
const CODES = [0, 1, 2, 3, 45, 51, 61, 63, 71, 80, 95];

/** A deterministic pseudo-random number in [0, 1) from integers. */
function noise(...xs: number[]): number {
  let h = 2166136261;
  for (const x of xs) {
    h ^= Math.round(x * 1000);
    h = Math.imul(h, 16777619);
  }
  h ^= h >>> 13;
  h = Math.imul(h, 0x5bd1e995);
  return ((h ^ (h >>> 15)) >>> 0) / 4294967296;
}

const round1 = (x: number) => Math.round(x * 10) / 10;
/** Open-Meteo's time format: ISO 8601 without seconds, in the location's time zone (GMT here). */
const isoMinute = (d: Date) => d.toISOString().slice(0, 16);

function forecast(lat: number, lon: number, step: number, current: string[], daily: string[], days: number, now: Date) {
  const base = 25 - Math.abs(lat) * 0.35;
  const v = (k: string, day = 0) => {
    const n = noise(lat, lon, step, day, k.length);
    switch (k) {
      case 'temperature_2m':
        return round1(base + (noise(lat, lon, step) - 0.5) * 6);
      case 'temperature_2m_max':
        return round1(base + 4 + n * 3);
      case 'temperature_2m_min':
        return round1(base - 4 - n * 3);
      case 'relative_humidity_2m':
        return Math.round(40 + n * 55);
      case 'weather_code':
        return CODES[Math.floor(noise(lat, lon, Math.floor(step / 3), day) * CODES.length)] ?? 0;
      case 'wind_speed_10m':
        return round1(n * 40);
      case 'wind_direction_10m':
        return Math.round(n * 359);
      case 'precipitation_sum':
        return round1(n < 0.6 ? 0 : (n - 0.6) * 20);
      default:
        return 0;
    }
  };
  const out: Record<string, unknown> = {
    latitude: lat,
    longitude: lon,
    generationtime_ms: 0.05,
    utc_offset_seconds: 0,
    timezone: 'GMT',
    timezone_abbreviation: 'GMT',
    elevation: Math.round(noise(lat, lon) * 300),
  };
  if (current.length > 0) {
    out.current_units = Object.fromEntries(['time', 'interval', ...current].map((k) => [k, UNITS[k]]));
    out.current = Object.fromEntries([['time', isoMinute(now)], ['interval', 900], ...current.map((k) => [k, v(k)])]);
  }
  if (daily.length > 0) {
    out.daily_units = Object.fromEntries(['time', ...daily].map((k) => [k, k === 'time' ? 'iso8601' : UNITS[k]]));
    const dates = Array.from({ length: days }, (_, i) =>
      new Date(now.getTime() + i * 86_400_000).toISOString().slice(0, 10),
    );
    out.daily = Object.fromEntries([['time', dates], ...daily.map((k) => [k, dates.map((_, i) => v(k, i + 1))])]);
  }
  return out;
}

export async function startFakeWeather(
  o: { port?: number; host?: string; changeEveryMs?: number } = {},
): Promise<FakeWeather> {
  let step = 0;
  // When the data last changed: the answer's `current.time` and dates follow it, as Open-Meteo's model time
  // does, so frozen data stays byte-for-byte the same even across a minute boundary.
  let changedAt = new Date();
  const advance = () => {
    step++;
    changedAt = new Date();
  };
  let frozen = false;
  let failure: { status: number; retryAfter?: number } | null = null;
  const patches = new Map<number, Record<string, unknown>>();
  const timer = setInterval(() => {
    if (!frozen) advance();
  }, o.changeEveryMs ?? 3000);
  timer.unref();
  const bad = (res: http.ServerResponse, reason: string) => {
    res.writeHead(400, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify({ error: true, reason }));
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/v1/forecast') {
      res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: true, reason: 'Not Found' }));
      return;
    }
    state.requests++;
    if (failure) {
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
      if (failure.retryAfter !== undefined) headers['retry-after'] = String(failure.retryAfter);
      res.writeHead(failure.status, headers);
      res.end(
        JSON.stringify({
          error: true,
          reason:
            failure.status === 429
              ? 'Minutely API request limit exceeded. Please try again in one minute.'
              : 'Service unavailable',
        }),
      );
      return;
    }
    const q = url.searchParams;
    const lats = (q.get('latitude') ?? '').split(',').filter(Boolean).map(Number);
    const lons = (q.get('longitude') ?? '').split(',').filter(Boolean).map(Number);
    if (lats.length === 0 || lons.length === 0) return bad(res, "Parameter 'latitude' and 'longitude' must be set");
    if (lats.length !== lons.length)
      return bad(res, "Parameter 'latitude' and 'longitude' must have the same number of elements");
    const badLat = lats.find((x) => !(x >= -90 && x <= 90));
    if (badLat !== undefined) return bad(res, `Latitude must be in range of -90 to 90°. Given: ${badLat}.`);
    const current = (q.get('current') ?? '').split(',').filter(Boolean);
    const daily = (q.get('daily') ?? '').split(',').filter(Boolean);
    for (const v of current)
      if (!(CURRENT as readonly string[]).includes(v))
        return bad(res, `Cannot initialize WeatherVariable from invalid String value ${v} for key current`);
    for (const v of daily)
      if (!(DAILY as readonly string[]).includes(v))
        return bad(res, `Cannot initialize DailyWeatherVariable from invalid String value ${v} for key daily`);
    const days = Number(q.get('forecast_days') ?? 7);
    if (!(Number.isInteger(days) && days >= 0 && days <= 16))
      return bad(res, `Forecast days is invalid. Allowed range 0 to 16. Given ${days}.`);
    const body = lats.map((lat, i) => ({
      ...forecast(lat, lons[i] ?? 0, step, current, daily, days, changedAt),
      ...patches.get(lat),
    }));
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body.length === 1 ? body[0] : body));
  });
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, o.host ?? '127.0.0.1', resolve));
  const addr = server.address();
  const state: FakeWeather = {
    url: `http://${o.host ?? '127.0.0.1'}:${typeof addr === 'object' && addr ? addr.port : 0}`,
    requests: 0,
    fail(status, retryAfterSeconds) {
      failure =
        status === null
          ? null
          : { status, ...(retryAfterSeconds !== undefined ? { retryAfter: retryAfterSeconds } : {}) };
    },
    freeze: () => (frozen = true),
    unfreeze: () => (frozen = false),
    tick: advance,
    patch(latitude, fields) {
      if (fields) patches.set(latitude, fields);
      else patches.delete(latitude);
    },
    close() {
      clearInterval(timer);
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return state;
}
