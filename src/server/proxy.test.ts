import { describe, expect, it } from 'vitest';
import { proxyUrl } from './proxy.ts';

describe('proxyUrl (no open relay)', () => {
  it.each([
    ['https://api.example.com', '/v1/charges/ch_1', '', '', 'https://api.example.com/v1/charges/ch_1'],
    [
      'https://api.example.com/',
      '/v1/charges/ch_1',
      '/refunds',
      '?limit=3',
      'https://api.example.com/v1/charges/ch_1/refunds?limit=3',
    ],
    ['https://api.example.com/base', '/v1/x', '', '', 'https://api.example.com/base/v1/x'],
  ])('%s + %s + %s', (base, target, rest, q, want) => {
    expect(proxyUrl(base, target, rest, q).url.href).toBe(want);
  });
  it.each(['/../admin', '/%2e%2e/admin', '/a/../../b', '/.', '/x\\..\\y', '/%00', '/%zz'])('refuses %s', (rest) => {
    expect(() => proxyUrl('https://api.example.com', '/v1/charges/ch_1', rest, '')).toThrow(
      expect.objectContaining({ code: 400 }) as Error,
    );
  });
  it('never leaves the base origin, whatever the target says', () => {
    expect(() => proxyUrl('https://api.example.com', '//evil.example.net/x', '', '')).toThrow(
      expect.objectContaining({ code: 400 }) as Error,
    );
  });
});
