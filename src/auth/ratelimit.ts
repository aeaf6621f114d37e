import { tooManyRequests } from '../k8s/errors.ts';
import type { UserInfo } from './types.ts';

export interface UserRateLimitOptions {
  /** Sustained requests per second per user (> 0). */
  rate: number;
  /** Requests a user may make at once after being idle (≥ 1). */
  burst: number;
  /** Users exempt from the limit (default `system:masters`, as the kube-apiserver's exempt priority level). */
  exemptGroups?: string[];
  /** Users tracked at most; idle (full) buckets are dropped first, then the least recently seen (default 10 000). */
  maxUsers?: number;
  /** Milliseconds clock (tests). */
  now?: () => number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface UserRateLimiter {
  /** Takes one token from the user's bucket; a refused request takes nothing. */
  take(user: UserInfo): RateDecision;
  readonly size: number;
}

/**
 * A token bucket per user name: `rate` requests per second sustained, `burst` at once. Unlike a pacing bucket,
 * a request over the limit is refused (not queued) and costs nothing, and the answer says how many whole
 * seconds until a token is there — the `Retry-After` client-go honours on 429.
 *
 * @example
 * const limiter = createUserRateLimiter({ rate: 20, burst: 40 });
 * enforceUserRate(limiter, req.user); // throws 429 TooManyRequests with Retry-After when over
 */
export function createUserRateLimiter(o: UserRateLimitOptions): UserRateLimiter {
  if (!(Number.isFinite(o.rate) && o.rate > 0)) throw new Error(`rate must be a number > 0 (got ${String(o.rate)})`);
  if (!(Number.isFinite(o.burst) && o.burst >= 1))
    throw new Error(`burst must be a number ≥ 1 (got ${String(o.burst)})`);
  const maxUsers = o.maxUsers ?? 10_000;
  if (!(Number.isInteger(maxUsers) && maxUsers > 0))
    throw new Error(`maxUsers must be a positive integer (got ${String(maxUsers)})`);
  const now = o.now ?? (() => performance.now());
  const exempt = o.exemptGroups ?? ['system:masters'];
  const buckets = new Map<string, { tokens: number; last: number }>();

  const refill = (b: { tokens: number; last: number }, t: number): void => {
    // A clock that steps back must not mint tokens or leave the bucket stuck.
    const elapsed = Math.max(0, t - b.last);
    b.tokens = Math.min(o.burst, b.tokens + (elapsed / 1000) * o.rate);
    b.last = t;
  };

  const evict = (t: number): void => {
    for (const [k, b] of buckets) {
      refill(b, t);
      if (b.tokens >= o.burst) buckets.delete(k);
    }
    // Still full of busy users: drop the least recently seen (Map order is recency, see take()).
    while (buckets.size >= maxUsers) buckets.delete(buckets.keys().next().value as string);
  };

  return {
    get size() {
      return buckets.size;
    },
    take(user) {
      if (user.groups.some((g) => exempt.includes(g))) return { allowed: true };
      const t = now();
      let b = buckets.get(user.name);
      if (b) {
        buckets.delete(user.name);
        refill(b, t);
      } else {
        if (buckets.size >= maxUsers) evict(t);
        b = { tokens: o.burst, last: t };
      }
      buckets.set(user.name, b);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return { allowed: true };
      }
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / o.rate)) };
    },
  };
}

/**
 * Throws the 429 Status (`TooManyRequests`, `Retry-After`) when `user` is over its rate.
 *
 * @example
 * enforceUserRate(limiter, { name: 'bob', groups: [] });
 */
export function enforceUserRate(limiter: UserRateLimiter, user: UserInfo): void {
  const d = limiter.take(user);
  if (!d.allowed)
    throw tooManyRequests(`too many requests from user "${user.name}", please try again later`, d.retryAfterSeconds);
}
