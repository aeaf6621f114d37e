/**
 * A token bucket: `rate` tokens per second up to `burst`. `take()` reserves a token and returns 0 when one was available,
 * else the milliseconds until the reserved one will be (the caller waits).
 *
 * @example
 * const b = createTokenBucket({ rate: 10, burst: 20 });
 * const wait = b.take(); // 0 → go ahead
 */
export interface TokenBucket {
  take(): number;
}

export function createTokenBucket(o: { rate: number; burst: number; now?: () => number }): TokenBucket {
  const now = o.now ?? (() => performance.now());
  let tokens = o.burst;
  let last = now();
  return {
    take() {
      const t = now();
      tokens = Math.min(o.burst, tokens + ((t - last) / 1000) * o.rate);
      last = t;
      // Reserve the token even when it is not there yet (the balance goes negative), so callers that wait
      // their turn are spaced at `rate` instead of all waking up together.
      tokens -= 1;
      return tokens >= 0 ? 0 : Math.ceil((-tokens / o.rate) * 1000);
    },
  };
}
