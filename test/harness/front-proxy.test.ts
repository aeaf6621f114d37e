import { describe, expect, it } from 'vitest';
import { aggregatorHeaders, headerKeyEscape, reencodeQuery } from './front-proxy.ts';

describe('front proxy header handling (as kube-apiserver + client-go SetAuthProxyHeaders)', () => {
  it('drops the user token, incoming X-Remote-* and Impersonate-*, hop-by-hop headers; sets the identity', () => {
    const out = aggregatorHeaders(
      [
        ['Authorization', 'Bearer secret'],
        ['X-Remote-User', 'admin'],
        ['x-remote-group', 'system:masters'],
        ['X-Remote-Extra-Scopes', 'all'],
        ['Impersonate-User', 'admin'],
        ['Connection', 'keep-alive, X-Custom'],
        ['X-Custom', 'hop'],
        ['Keep-Alive', 'timeout=5'],
        ['Accept', 'application/json'],
        ['X-Forwarded-For', '10.0.0.1'],
      ],
      {
        name: 'alice',
        uid: 'u1',
        groups: ['devs', 'system:authenticated'],
        extra: { 'acme.com/project': ['p1', 'p2'] },
      },
      '192.0.2.7',
    );
    const names = out.map(([k]) => k);
    expect(names).not.toContain('authorization');
    expect(names).not.toContain('impersonate-user');
    expect(names).not.toContain('x-custom');
    expect(names).not.toContain('keep-alive');
    expect(out.filter(([k]) => k.startsWith('x-remote-'))).toEqual([
      ['x-remote-user', 'alice'],
      ['x-remote-uid', 'u1'],
      ['x-remote-group', 'devs'],
      ['x-remote-group', 'system:authenticated'],
      ['x-remote-extra-acme.com%2fproject', 'p1'],
      ['x-remote-extra-acme.com%2fproject', 'p2'],
    ]);
    expect(out).toContainEqual(['accept', 'application/json']);
    expect(out).toContainEqual(['x-forwarded-for', '10.0.0.1, 192.0.2.7']);
    expect(names).toContain('audit-id');
  });

  it('escapes extra keys like client-go headerKeyEscape', () => {
    expect(headerKeyEscape('acme.com/project')).toBe('acme.com%2Fproject');
    expect(headerKeyEscape('100%')).toBe('100%25');
    expect(headerKeyEscape('ünï')).toBe('%C3%BCn%C3%AF');
    expect(headerKeyEscape("a-b_c.d~e!f#g$h&i'j*k+l^m`n|o")).toBe("a-b_c.d~e!f#g$h&i'j*k+l^m`n|o");
  });

  it('re-encodes the query like Go url.Values.Encode (sorted keys, QueryEscape)', () => {
    expect(reencodeQuery('?watch=true&labelSelector=app%3Dweb,tier+in+(a)&allowWatchBookmarks=true')).toBe(
      'allowWatchBookmarks=true&labelSelector=app%3Dweb%2Ctier+in+%28a%29&watch=true',
    );
    expect(reencodeQuery('?b=2&a=1&b=1')).toBe('a=1&b=2&b=1');
    expect(reencodeQuery('')).toBe('');
  });
});
