import { Type } from 'kubegate/sdk';

export const Location = Type.Object(
  {
    name: Type.String({
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
      maxLength: 63,
      description: 'Object name, e.g. "paris".',
    }),
    latitude: Type.Number({ minimum: -90, maximum: 90 }),
    longitude: Type.Number({ minimum: -180, maximum: 180 }),
    country: Type.String({
      pattern: '^[A-Z]{2}$',
      description: 'ISO 3166-1 alpha-2 code, e.g. "FR" (the `country` label).',
    }),
    region: Type.String({ description: 'A region label, e.g. "europe".' }),
    city: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const WeatherConfig = Type.Object(
  {
    baseUrl: Type.String({ format: 'uri', description: 'Open-Meteo API base URL, e.g. https://api.open-meteo.com' }),
    locations: Type.Array(Location, {
      minItems: 1,
      description: 'The locations to forecast: one Forecast object each.',
    }),
    forecastDays: Type.Integer({ minimum: 1, maximum: 16, default: 3, description: 'Days of daily forecast.' }),
  },
  { additionalProperties: false },
);

export const ForecastSpec = Type.Object({
  latitude: Type.Number({ description: 'Latitude of the location (WGS84), as the upstream snapped it to its grid.' }),
  longitude: Type.Number({ description: 'Longitude of the location (WGS84), as the upstream snapped it to its grid.' }),
  elevation: Type.Number({ description: 'Elevation in metres used for the forecast.' }),
  timezone: Type.String({ description: 'Time zone of the upstream times.' }),
  city: Type.Optional(Type.String({ description: 'City name, when configured.' })),
});

const date = Type.String({ description: 'The day, YYYY-MM-DD.' });
const dayCondition = Type.String({ description: 'Dominant weather of the day.' });
const precipitationMm = Type.Number({ description: 'Sum of precipitation, mm.' });
const current = {
  temperatureC: Type.Number({ description: 'Current air temperature 2 m above ground, °C.' }),
  condition: Type.String({ description: 'Current weather, from the WMO code (e.g. "Partly cloudy").' }),
  weatherCode: Type.Integer({ description: 'WMO weather interpretation code.' }),
};
const humidityPercent = Type.Integer({ description: 'Relative humidity 2 m above ground, %.' });
const observedAt = Type.String({ format: 'date-time', description: 'Time the current conditions refer to (UTC).' });

/** v1 (the storage version): wind and the daily temperature range are nested objects. */
export const DailyForecast = Type.Object({
  date,
  condition: dayCondition,
  temperatureC: Type.Object(
    {
      max: Type.Number({ description: 'Maximum temperature, °C.' }),
      min: Type.Number({ description: 'Minimum temperature, °C.' }),
    },
    { description: 'Temperature range of the day, °C.' },
  ),
  precipitationMm,
});

export const ForecastStatus = Type.Object({
  ...current,
  wind: Type.Object(
    {
      speedKmh: Type.Number({ description: 'Wind speed 10 m above ground, km/h.' }),
      directionDeg: Type.Integer({ description: 'Wind direction 10 m above ground, degrees.' }),
    },
    { description: 'Current wind 10 m above ground.' },
  ),
  humidityPercent,
  observedAt,
  daily: Type.Array(DailyForecast, { description: 'Daily forecast, today first.' }),
});

/** v1alpha1 (deprecated): the same data with flat fields. */
export const DailyForecastV1alpha1 = Type.Object({
  date,
  condition: dayCondition,
  maxC: Type.Number({ description: 'Maximum temperature, °C.' }),
  minC: Type.Number({ description: 'Minimum temperature, °C.' }),
  precipitationMm,
});

export const ForecastStatusV1alpha1 = Type.Object({
  ...current,
  windSpeedKmh: Type.Number({ description: 'Wind speed 10 m above ground, km/h.' }),
  windDirectionDeg: Type.Integer({ description: 'Wind direction 10 m above ground, degrees.' }),
  humidityPercent,
  observedAt,
  daily: Type.Array(DailyForecastV1alpha1, { description: 'Daily forecast, today first.' }),
});
