import { createUserRateLimiter } from '../auth/ratelimit.ts';
import type { UserInfo } from '../auth/types.ts';
import { tooManyRequests } from '../k8s/errors.ts';

/** Requests per user that may reach an upstream: sustained rate and burst. */
export interface UpstreamBudgetOptions {
  perSecond: number;
  burst: number;
}

/** On unless the config turns it off: 5 upstream-reaching requests per second per user, 20 at once. */
export const DEFAULT_UPSTREAM_BUDGET: UpstreamBudgetOptions = { perSecond: 5, burst: 20 };

/**
 * The per-user limit on requests that reach an upstream (pass-through cache misses). Cached answers cost
 * nothing, so reading what is cached stays free; asking for many different things (a flood of made-up names
 * or cursors) is paced per user, so one user cannot spend the adapter's whole upstream rate or fill the cache.
 * Over the limit: 429 TooManyRequests with Retry-After, as the apiserver's priority and fairness answers.
 * `system:masters` is exempt, as in the apiserver. `onRefused` counts refusals (metrics).
 *
 * @example
 * const admit = createUpstreamBudget({ perSecond: 5, burst: 20 });
 * admit({ name: 'bob', groups: [] }); // throws a 429 KubeError once bob is over
 */
export function createUpstreamBudget(
  o: UpstreamBudgetOptions | false,
  onRefused?: (user: string) => void,
): (caller: UserInfo | undefined) => void {
  if (o === false) return () => undefined;
  const limiter = createUserRateLimiter({ rate: o.perSecond, burst: o.burst });
  return (caller) => {
    // Unauthenticated callers never get this far (401 first); anonymous access, when enabled, is one user.
    const user = caller ?? { name: 'system:anonymous', groups: ['system:unauthenticated'] };
    const d = limiter.take(user);
    if (d.allowed) return;
    onRefused?.(user.name);
    throw tooManyRequests(
      `too many requests from user "${user.name}" reach the upstream (more than ${o.perSecond}/s); ` +
        'cached answers are still served, please try again later',
      d.retryAfterSeconds,
    );
  };
}
