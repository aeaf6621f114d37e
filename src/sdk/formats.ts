import { FormatRegistry } from '@sinclair/typebox';

// TypeBox validates `format` only for registered formats and rejects unknown ones, so register the formats
// adapter schemas use. Checks are deliberately simple: they catch typos in config, not every RFC corner.
const formats: Record<string, (v: string) => boolean> = {
  uri: (v) => URL.canParse(v),
  url: (v) => URL.canParse(v),
  'date-time': (v) => !Number.isNaN(Date.parse(v)) && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(v),
  date: (v) => /^\d{4}-\d\d-\d\d$/.test(v) && !Number.isNaN(Date.parse(v)),
  email: (v) => /^[^\s@]+@[^\s@]+$/.test(v),
  hostname: (v) =>
    /^(?=.{1,253}$)[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*$/.test(v),
};
for (const [name, check] of Object.entries(formats)) if (!FormatRegistry.Has(name)) FormatRegistry.Set(name, check);
