import { tooManyRequests } from '../k8s/errors.ts';

export interface WatchLimits {
  /** Watches one user may hold open at once. */
  maxPerUser: number;
  /** Watches the process holds open at once, all users together. */
  maxTotal: number;
  /**
   * Bytes the watches of one HTTP/2 connection may have queued together. Past it, the connection's watches
   * holding more than their share are cut, so the connection keeps room for its other streams.
   */
  sessionBufferedBytes: number;
}

export const DEFAULT_WATCH_LIMITS: WatchLimits = {
  maxPerUser: 200,
  maxTotal: 10_000,
  sessionBufferedBytes: 32 << 20,
};

/**
 * The retry hint of a refused watch, as the apiserver's priority and fairness answers a rejected request: come
 * back soon (another watch may have ended), client-go retries with backoff.
 */
const RETRY_AFTER_SECONDS = 1;

/**
 * Admission of watches against the per-user and total limits. `admit` returns the function that gives the
 * place back (call it once, when the watch ends) or throws 429 TooManyRequests with Retry-After.
 *
 * @example
 * const release = watches.admit(user.name);
 * stream.once('close', release);
 */
export function createWatchAdmission(limits: WatchLimits) {
  const perUser = new Map<string, number>();
  let total = 0;
  return {
    limits,
    get total(): number {
      return total;
    },
    admit(user: string): () => void {
      const mine = perUser.get(user) ?? 0;
      if (mine >= limits.maxPerUser)
        throw tooManyRequests(
          `Too many requests: user "${user}" has ${mine} watches open, the most kubegate allows per user (watch.maxPerUser); end one or retry later`,
          RETRY_AFTER_SECONDS,
        );
      if (total >= limits.maxTotal)
        throw tooManyRequests(
          `Too many requests: kubegate serves ${total} watches, its limit (watch.maxTotal); please try again later`,
          RETRY_AFTER_SECONDS,
        );
      perUser.set(user, mine + 1);
      total++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        total--;
        const left = (perUser.get(user) ?? 1) - 1;
        if (left > 0) perUser.set(user, left);
        else perUser.delete(user);
      };
    },
  };
}

export type WatchAdmission = ReturnType<typeof createWatchAdmission>;
