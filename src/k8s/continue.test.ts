import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeContinueToken,
  encodeContinueToken,
  expiredContinueMessage,
  expiredContinueNoTokenMessage,
} from './continue.ts';
import { KubeError } from './errors.ts';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');

function kubeError(f: () => unknown): KubeError {
  try {
    f();
  } catch (e) {
    if (e instanceof KubeError) return e;
    throw e;
  }
  throw new Error('expected a KubeError');
}

describe('continue tokens', () => {
  it('encode to unpadded base64url JSON in the apiserver shape', () => {
    const token = encodeContinueToken({ rv: 42, key: 'default/paris' });
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))).toEqual({
      v: 'kubegate/v1',
      rv: 42,
      start: 'default/paris',
    });
    expect(decodeContinueToken(token)).toEqual({ rv: 42, key: 'default/paris' });
  });

  it('round-trip any position', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        (rv, key) => {
          expect(decodeContinueToken(encodeContinueToken({ rv, key }))).toEqual({ rv, key });
        },
      ),
      { numRuns: 2000 },
    );
  });

  const bad: [what: string, token: string, reason: string][] = [
    ['standard base64 alphabet', '+/+/', 'not base64url data'],
    ['padding', `${b64('{"v":"kubegate/v1","rv":1,"start":"a"}')}=`, 'not base64url data'],
    ['impossible length', 'abcde', 'not base64url data'],
    ['spaces', 'ab cd', 'not base64url data'],
    ['empty', '', 'does not decode to JSON'],
    ['not JSON', b64('hello'), 'does not decode to JSON'],
    ['a JSON array', b64('[1,2]'), 'not a JSON object'],
    ['JSON null', b64('null'), 'not a JSON object'],
    ['a JSON number', b64('5'), 'not a JSON object'],
    [
      'an upstream etcd token',
      b64('{"v":"meta.k8s.io/v1","rv":5,"start":"a"}'),
      'server does not recognize this encoded version "meta.k8s.io/v1"',
    ],
    ['no version', b64('{"rv":5,"start":"a"}'), 'server does not recognize this encoded version ""'],
    ['rv 0', b64('{"v":"kubegate/v1","rv":0,"start":"a"}'), 'incorrect encoded start resourceVersion'],
    [
      'rv -1 (upstream "latest")',
      b64('{"v":"kubegate/v1","rv":-1,"start":"a"}'),
      'incorrect encoded start resourceVersion',
    ],
    ['fractional rv', b64('{"v":"kubegate/v1","rv":1.5,"start":"a"}'), 'incorrect encoded start resourceVersion'],
    ['rv as string', b64('{"v":"kubegate/v1","rv":"5","start":"a"}'), 'incorrect encoded start resourceVersion'],
    [
      'unsafe rv',
      b64('{"v":"kubegate/v1","rv":9007199254740993,"start":"a"}'),
      'incorrect encoded start resourceVersion',
    ],
    ['no start', b64('{"v":"kubegate/v1","rv":5}'), 'encoded start key is not a string'],
    ['numeric start', b64('{"v":"kubegate/v1","rv":5,"start":7}'), 'encoded start key is not a string'],
  ];
  it.each(bad)('reject %s with 400 "continue key is not valid"', (_what, token, reason) => {
    const err = kubeError(() => decodeContinueToken(token));
    expect(err.code).toBe(400);
    expect(err.reason).toBe('BadRequest');
    expect(err.message).toMatch(/^continue key is not valid: /);
    expect(err.message).toContain(reason);
  });

  it('accept an empty start key (the beginning)', () => {
    expect(decodeContinueToken(b64('{"v":"kubegate/v1","rv":3,"start":""}'))).toEqual({ rv: 3, key: '' });
  });

  it('decode arbitrary input to a position or a 400 KubeError only', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 60 }), fc.base64String({ maxLength: 60 }), fc.json().map(b64)),
        (s) => {
          try {
            const p = decodeContinueToken(s);
            expect(Number.isSafeInteger(p.rv) && p.rv > 0).toBe(true);
            expect(typeof p.key).toBe('string');
          } catch (e) {
            expect(e).toBeInstanceOf(KubeError);
            expect((e as KubeError).code).toBe(400);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('carry the upstream 410 texts', () => {
    expect(expiredContinueMessage).toBe(
      'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
    );
    expect(expiredContinueMessage.startsWith(expiredContinueNoTokenMessage.slice(0, -1))).toBe(true);
  });
});
