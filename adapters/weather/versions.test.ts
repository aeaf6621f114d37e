import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Value } from 'kubegate/sdk';
import { DailyForecast, DailyForecastV1alpha1, ForecastStatus, ForecastStatusV1alpha1 } from './schema.ts';
import { fromHub, statusToV1, statusToV1alpha1, toHub } from './versions.ts';

const num = fc.double({ noNaN: true, noDefaultInfinity: true });
const int = fc.integer({ min: -1, max: 360 });
const text = fc.string({ maxLength: 12 });
const day = fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
const observedAt = fc
  .date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
  .map((d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z'));

const v1Status = fc.record({
  temperatureC: num,
  condition: text,
  weatherCode: int,
  wind: fc.record({ speedKmh: num, directionDeg: int }),
  humidityPercent: fc.integer({ min: 0, max: 100 }),
  observedAt,
  daily: fc.array(
    fc.record({ date: day, condition: text, temperatureC: fc.record({ max: num, min: num }), precipitationMm: num }),
    { maxLength: 4 },
  ),
});

const v1alpha1Status = fc.record({
  temperatureC: num,
  condition: text,
  weatherCode: int,
  windSpeedKmh: num,
  windDirectionDeg: int,
  humidityPercent: fc.integer({ min: 0, max: 100 }),
  observedAt,
  daily: fc.array(fc.record({ date: day, condition: text, maxC: num, minC: num, precipitationMm: num }), {
    maxLength: 4,
  }),
});

const object = (status: unknown) => ({
  metadata: { name: 'paris', labels: { country: 'FR' }, annotations: { a: 'b' } },
  spec: { latitude: 48.8, longitude: 2.3, elevation: 40, timezone: 'GMT' },
  status,
});

describe('Forecast v1 <-> v1alpha1', () => {
  it('v1 -> v1alpha1 -> v1 gives back the object, and each side matches its schema', () => {
    fc.assert(
      fc.property(v1Status, (s) => {
        expect(Value.Check(ForecastStatus, s)).toBe(true);
        const old = fromHub(object(s));
        expect(Value.Check(ForecastStatusV1alpha1, old.status)).toBe(true);
        expect(toHub(old)).toEqual(object(s));
      }),
    );
  });

  it('v1alpha1 -> v1 -> v1alpha1 gives back the object', () => {
    fc.assert(
      fc.property(v1alpha1Status, (s) => {
        const hub = toHub(object(s));
        expect(Value.Check(ForecastStatus, hub.status)).toBe(true);
        expect(fromHub(hub)).toEqual(object(s));
      }),
    );
  });

  it('v1alpha1 objects keep the field order they always had', () => {
    fc.assert(
      fc.property(v1Status, (s) => {
        const old = statusToV1alpha1(s);
        expect(Object.keys(old)).toEqual(Object.keys(ForecastStatusV1alpha1.properties));
        for (const d of old.daily) expect(Object.keys(d)).toEqual(Object.keys(DailyForecastV1alpha1.properties));
        for (const d of statusToV1(old).daily) expect(Object.keys(d)).toEqual(Object.keys(DailyForecast.properties));
      }),
    );
  });

  it('objects without status pass unchanged', () => {
    const o = { metadata: { name: 'x' } };
    expect(fromHub(o)).toEqual(o);
    expect(toHub(o)).toEqual(o);
  });
});
