import { describe, expect, it } from 'vitest';
import { proxyRequestUrl } from './proxy-path.ts';

const refused = expect.objectContaining({ code: 400 }) as Error;

describe('proxyRequestUrl (the URL sent is the URL judged)', () => {
  it.each([
    ['https://api.example.com', '/v1/charges/ch_1', '', '', 'https://api.example.com/v1/charges/ch_1'],
    [
      'https://api.example.com/',
      '/v1/charges/ch_1',
      '/refunds',
      'limit=3',
      'https://api.example.com/v1/charges/ch_1/refunds?limit=3',
    ],
    ['https://api.example.com/base', '/v1/x', '', '', 'https://api.example.com/base/v1/x'],
    ['https://api.example.com', '/v1/charges/ch%5F1', '/a%40b', '', 'https://api.example.com/v1/charges/ch_1/a@b'],
    ['https://api.example.com', '/v1/x', '/...', '', 'https://api.example.com/v1/x/...'],
  ])('%s + %s + %s ? %s', (base, target, rest, q, want) => {
    const r = proxyRequestUrl(base, target, rest, q, ['limit']);
    expect(r.url.href).toBe(want);
  });

  it('reports the canonical sub-path for the allow list', () => {
    expect(proxyRequestUrl('https://a.example', '/v1/x', '/re%66unds/r1', '', []).sub).toBe('/refunds/r1');
    expect(proxyRequestUrl('https://a.example', '/v1/x', '', '', []).sub).toBe('');
  });

  it.each([
    '/..',
    '/.',
    '/../admin',
    '/%2e%2e/admin',
    '/.%2E',
    '/%2E.',
    '/a/../../b',
    '/..#',
    '/%2e%2e#',
    '/.%2E#x',
    '/x#/../..',
    '/%23',
    '/%252e%252e',
    '/%25',
    '/..%2f',
    '/..%2F..%2Fcustomers',
    '/%2e%2e%5c',
    '/x\\..\\y',
    '/;/..',
    '/..;',
    '/a;b=c',
    '/%3b',
    '//x',
    '/a//b',
    '/%00',
    '/a%0d%0aHost:%20evil',
    '/a%09',
    '/%zz',
    '/%',
    '/%c0%ae%c0%ae',
    '/%ef%bc%8e%ef%bc%8e',
    '/a b',
    '/%20',
    '/%3f',
    '/%u002e%u002e',
  ])('refuses %s', (rest) => {
    expect(() => proxyRequestUrl('https://api.example.com', '/v1/charges/ch_1', rest, '', [])).toThrow(refused);
  });

  it('never leaves the base origin or the object path, whatever the target says', () => {
    for (const target of ['//evil.example.net/x', '/v1/charges/..', '/v1/charges/%2e%2e', 'v1/x', '/v1/a#b', '/v1/'])
      expect(() => proxyRequestUrl('https://api.example.com', target, '', '', [])).toThrow(refused);
  });

  it('passes only allowed query parameters, re-encoded', () => {
    expect(proxyRequestUrl('https://a.example', '/v1/x', '', 'limit=3&limit=4', ['limit']).url.search).toBe(
      '?limit=3&limit=4',
    );
    expect(() => proxyRequestUrl('https://a.example', '/v1/x', '', 'expand[]=customer', ['limit'])).toThrow(
      expect.objectContaining({ code: 400, message: expect.stringContaining('"expand[]"') as string }) as Error,
    );
    expect(() => proxyRequestUrl('https://a.example', '/v1/x', '', 'expand%5B%5D=customer', [])).toThrow(refused);
    expect(proxyRequestUrl('https://a.example', '/v1/x', '', 'expand%5B%5D=customer', ['expand[]']).url.search).toBe(
      '?expand%5B%5D=customer',
    );
  });
});
