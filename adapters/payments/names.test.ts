import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sanitizeName } from '../../src/resources/identity.ts';
import { formatAmount } from './map.ts';
import { idToName, nameToId, teamNamespace } from './names.ts';

const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const alnum = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'.split(''));
const ids = fc
  .tuple(fc.stringMatching(/^[a-z]{1,5}$/), fc.array(alnum, { minLength: 1, maxLength: 40 }))
  .map(([prefix, rest]) => `${prefix}_${rest.join('')}`);

describe('charge names', () => {
  it('maps a Stripe-style id readably and back', () => {
    expect(idToName('ch_3MmlLrLkdIwHu7ix0snN0B15')).toBe('ch-3-mml-lr-lkd-iw-hu7ix0sn-n0-b15');
    expect(nameToId('ch-3-mml-lr-lkd-iw-hu7ix0sn-n0-b15')).toBe('ch_3MmlLrLkdIwHu7ix0snN0B15');
    expect(idToName('ch_abc123')).toBe('ch-abc123');
    expect(idToName('ch_Abc')).toBe('ch--abc');
    expect(nameToId('ch--abc')).toBe('ch_Abc');
  });

  it('round-trips every prefix_alphanumerics id into a name the framework keeps as it is', () => {
    fc.assert(
      fc.property(ids, (id) => {
        const name = idToName(id);
        expect(name).toBeDefined();
        expect(name).toMatch(DNS_SUBDOMAIN);
        expect(sanitizeName(name ?? '')).toBe(name);
        expect(nameToId(name ?? '')).toBe(id);
      }),
    );
  });

  it('never maps two ids to one name', () => {
    fc.assert(fc.property(ids, ids, (a, b) => a === b || idToName(a) !== idToName(b)));
  });

  it('rejects ids and names outside the mapping', () => {
    for (const id of ['ch-abc', 'ch_', '_abc', 'CH_abc', 'ch_a-b', 'ch_a_b', '']) expect(idToName(id)).toBeUndefined();
    for (const name of ['ch', 'ch-', 'ch-abc-', 'ch-a--b', 'ch-a-1', 'ch-A', 'ch_abc', '-abc', 'ch-a.b'])
      expect(nameToId(name)).toBeUndefined();
  });
});

describe('team namespaces', () => {
  it('makes a DNS label of a team, or falls back', () => {
    expect(teamNamespace('checkout', 'default')).toBe('checkout');
    expect(teamNamespace('Mobile Apps', 'default')).toBe('mobile-apps');
    expect(teamNamespace('  --Ops/EU--  ', 'default')).toBe('ops-eu');
    expect(teamNamespace('', 'misc')).toBe('misc');
    expect(teamNamespace('***', 'misc')).toBe('misc');
    expect(teamNamespace(undefined, 'misc')).toBe('misc');
    expect(teamNamespace(`${'a'.repeat(62)} b`, 'x')).toBe('a'.repeat(62));
  });

  it('always yields a DNS label', () => {
    fc.assert(
      fc.property(fc.string(), (team) => /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(teamNamespace(team, 'default'))),
    );
  });
});

describe('amounts', () => {
  it('shows minor units in major units with the currency', () => {
    expect(formatAmount(1250, 'eur')).toBe('12.50 EUR');
    expect(formatAmount(5, 'usd')).toBe('0.05 USD');
    expect(formatAmount(500, 'jpy')).toBe('500 JPY');
    expect(formatAmount(1234, 'kwd')).toBe('1.234 KWD');
    expect(formatAmount(0, 'gbp')).toBe('0.00 GBP');
  });
});
