import { describe, expect, it } from 'vitest';
import { Type as OwnType, FormatRegistry } from '@sinclair/typebox';
import { Type, Value, validate } from './index.ts';

describe('SDK validator', () => {
  const Config = Type.Object({
    baseUrl: Type.String({ format: 'uri' }),
    since: Type.Optional(Type.String({ format: 'date-time' })),
    locations: Type.Array(Type.Object({ latitude: Type.Number({ minimum: -90, maximum: 90 }) })),
  });

  it('accepts kubegate formats in a team schema', () => {
    const r = validate(Config, { baseUrl: 'https://api.example.com', since: '2024-01-01T00:00:00Z', locations: [] });
    expect(r).toEqual({ ok: true, value: expect.objectContaining({ baseUrl: 'https://api.example.com' }) });
    expect(Value.Check(OwnType.String({ format: 'uri' }), 'https://x.example')).toBe(true);
    expect(FormatRegistry.Has('uri')).toBe(true);
  });

  it('names the failing path without echoing the value', () => {
    const r = validate(Config, { baseUrl: 'not a url', locations: [{ latitude: 91 }] });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.path)).toEqual(['baseUrl', 'locations[0].latitude']);
    expect(r.errors[0]?.message).toMatch(/uri/);
    expect(JSON.stringify(r.errors)).not.toContain('not a url');
  });
});
