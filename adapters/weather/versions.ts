import type { Static, VersionedObject } from 'kubegate/sdk';
import type { ForecastStatus, ForecastStatusV1alpha1 } from './schema.ts';

type StatusV1 = Static<typeof ForecastStatus>;
type StatusV1alpha1 = Static<typeof ForecastStatusV1alpha1>;

/** v1 → v1alpha1: wind and the daily range flattened (field order as v1alpha1 always had it). */
export function statusToV1alpha1(s: StatusV1): StatusV1alpha1 {
  return {
    temperatureC: s.temperatureC,
    condition: s.condition,
    weatherCode: s.weatherCode,
    windSpeedKmh: s.wind.speedKmh,
    windDirectionDeg: s.wind.directionDeg,
    humidityPercent: s.humidityPercent,
    observedAt: s.observedAt,
    daily: s.daily.map((d) => ({
      date: d.date,
      condition: d.condition,
      maxC: d.temperatureC.max,
      minC: d.temperatureC.min,
      precipitationMm: d.precipitationMm,
    })),
  };
}

/** v1alpha1 → v1. */
export function statusToV1(s: StatusV1alpha1): StatusV1 {
  return {
    temperatureC: s.temperatureC,
    condition: s.condition,
    weatherCode: s.weatherCode,
    wind: { speedKmh: s.windSpeedKmh, directionDeg: s.windDirectionDeg },
    humidityPercent: s.humidityPercent,
    observedAt: s.observedAt,
    daily: s.daily.map((d) => ({
      date: d.date,
      condition: d.condition,
      temperatureC: { max: d.maxC, min: d.minC },
      precipitationMm: d.precipitationMm,
    })),
  };
}

/** The storage version (v1) to v1alpha1: only status differs; spec, labels and annotations are the same. */
export function fromHub(o: VersionedObject): VersionedObject {
  return o.status === undefined ? o : { ...o, status: statusToV1alpha1(o.status as StatusV1) };
}

/** v1alpha1 to the storage version (v1). */
export function toHub(o: VersionedObject): VersionedObject {
  return o.status === undefined ? o : { ...o, status: statusToV1(o.status as StatusV1alpha1) };
}
