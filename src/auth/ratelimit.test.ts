import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createUserRateLimiter, enforceUserRate } from './ratelimit.ts';
import { KubeError, toStatus } from '../k8s/errors.ts';

const bob = { name: 'bob', groups: ['system:authenticated'] };

describe('createUserRateLimiter', () => {
  it('allows a burst, then the sustained rate', () => {
    let t = 0;
    const l = createUserRateLimiter({ rate: 2, burst: 3, now: () => t });
    expect([1, 2, 3].map(() => l.take(bob).allowed)).toEqual([true, true, true]);
    expect(l.take(bob)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    t = 499;
    expect(l.take(bob).allowed).toBe(false);
    t = 500;
    expect(l.take(bob).allowed).toBe(true);
    expect(l.take(bob).allowed).toBe(false);
  });

  it('keeps users apart and exempts system:masters', () => {
    const l = createUserRateLimiter({ rate: 1, burst: 1, now: () => 0 });
    expect(l.take(bob).allowed).toBe(true);
    expect(l.take(bob).allowed).toBe(false);
    expect(l.take({ name: 'alice', groups: [] }).allowed).toBe(true);
    for (let i = 0; i < 10; i++) expect(l.take({ name: 'admin', groups: ['system:masters'] }).allowed).toBe(true);
  });

  it('says how long until the next token, in whole seconds', () => {
    const l = createUserRateLimiter({ rate: 0.1, burst: 1, now: () => 0 });
    l.take(bob);
    expect(l.take(bob)).toEqual({ allowed: false, retryAfterSeconds: 10 });
  });

  it('tracks at most maxUsers, idle ones dropped first', () => {
    let t = 0;
    const l = createUserRateLimiter({ rate: 1, burst: 1, maxUsers: 2, now: () => t });
    l.take({ name: 'a', groups: [] });
    l.take({ name: 'b', groups: [] });
    t = 5000;
    l.take({ name: 'c', groups: [] });
    expect(l.size).toBeLessThanOrEqual(2);
  });

  it('validates its options', () => {
    expect(() => createUserRateLimiter({ rate: 0, burst: 1 })).toThrow(/^rate/);
    expect(() => createUserRateLimiter({ rate: 1, burst: 0.5 })).toThrow(/^burst/);
    expect(() => createUserRateLimiter({ rate: 1, burst: 1, maxUsers: 0 })).toThrow(/^maxUsers/);
  });

  it('never allows more than burst + rate × elapsed (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 50, noNaN: true }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 2000 }), { maxLength: 200 }),
        (rate, burst, gaps) => {
          let t = 0;
          const l = createUserRateLimiter({ rate, burst, now: () => t });
          let allowed = 0;
          for (const g of gaps) {
            t += g;
            if (l.take(bob).allowed) allowed++;
          }
          return allowed <= burst + (rate * t) / 1000 + 1e-9;
        },
      ),
    );
  });
});

describe('enforceUserRate', () => {
  it('throws a 429 Status with Retry-After seconds', () => {
    const l = createUserRateLimiter({ rate: 1, burst: 1, now: () => 0 });
    enforceUserRate(l, bob);
    let err: unknown;
    try {
      enforceUserRate(l, bob);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KubeError);
    expect(toStatus(err)).toMatchObject({ code: 429, reason: 'TooManyRequests', details: { retryAfterSeconds: 1 } });
  });
});
