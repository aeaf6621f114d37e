import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { contentHash, objectUid, sanitizeLabels, sanitizeName } from './identity.ts';

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

describe('objectUid', () => {
  it('is a stable UUIDv5 of group/kind/namespace/name', () => {
    const a = objectUid('g.example.com', 'Forecast', undefined, 'paris');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(objectUid('g.example.com', 'Forecast', undefined, 'paris')).toBe(a);
    expect(objectUid('g.example.com', 'Forecast', 'ns', 'paris')).not.toBe(a);
    expect(objectUid('g.example.com', 'Other', undefined, 'paris')).not.toBe(a);
  });
});

describe('label sanitizing', () => {
  it('maps keys and values readably, without hashes, so they can be selected on', () => {
    expect(sanitizeLabels({ 'env:prod': 'yes', Owner: 'Jane Doe', 'example.com/team': 'a b', '-x-': 'é' })).toEqual({
      'env-prod': 'yes',
      Owner: 'Jane-Doe',
      'example.com/team': 'a-b',
    });
  });
  it('drops null values, stringifies numbers and booleans, never throws', () => {
    expect(sanitizeLabels({ a: 1, b: true, c: null, d: undefined })).toEqual({ a: '1', b: 'true' });
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null))),
        (input) => {
          const out = sanitizeLabels(input) ?? {};
          for (const [k, v] of Object.entries(out)) {
            expect(k.length).toBeGreaterThan(0);
            expect(v).toMatch(LABEL_VALUE);
            expect(v.length).toBeLessThanOrEqual(63);
          }
          expect(sanitizeLabels(input)).toEqual(sanitizeLabels(input));
        },
      ),
    );
  });
});

describe('sanitizeName', () => {
  it('keeps DNS subdomains and maps anything else deterministically', () => {
    expect(sanitizeName('paris')).toBe('paris');
    expect(sanitizeName('New York')).toMatch(/^new-york-[0-9a-f]{8}$/);
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (s) => {
        expect(sanitizeName(s)).toMatch(DNS_SUBDOMAIN);
      }),
    );
  });
});

describe('contentHash', () => {
  it('ignores key order and changes with content', () => {
    expect(contentHash({ a: 1, b: { c: 2, d: [1, 2] } })).toBe(contentHash({ b: { d: [1, 2], c: 2 }, a: 1 }));
    expect(contentHash({ a: 1 })).not.toBe(contentHash({ a: 2 }));
  });
});
