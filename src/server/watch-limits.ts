import { tooManyRequests } from '../k8s/errors.ts';
import type { KubegateConfig } from '../config/schema.ts';
import { DEFAULT_LIMITS } from './limits.ts';

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
 * Node refuses new streams on an HTTP/2 connection past its memory ceiling, so the watches' share of a
 * connection must leave room for everything else on it: `watch.sessionBufferedBytes` at most half of
 * `server.http2.maxSessionMemory` (both over their defaults). Returns the one line saying otherwise; startup
 * refuses such a config and `kubegate validate` reports it.
 */
export function sessionMemoryProblem(config: KubegateConfig): string | undefined {
  const buffered = config.watch?.sessionBufferedBytes ?? DEFAULT_WATCH_LIMITS.sessionBufferedBytes;
  const memory = config.server?.http2?.maxSessionMemory ?? DEFAULT_LIMITS.maxSessionMemory;
  return buffered * 2 > memory
    ? `watch.sessionBufferedBytes: ${buffered} is more than half of server.http2.maxSessionMemory (${memory}); lower it or raise server.http2.maxSessionMemory`
    : undefined;
}

/**
 * The retry hint of a refused watch, as the apiserver's priority and fairness answers a rejected request: come
 * back soon (another watch may have ended), client-go retries with backoff.
 */
const RETRY_AFTER_SECONDS = 1;

/** Which limit refused a watch (the `reason` label of `kubegate_watch_rejected_total`). */
export type WatchRejection = 'user' | 'total';

/**
 * Admission of watches against the per-user and total limits. `admit` returns the function that gives the
 * place back (call it once, when the watch ends) or throws 429 TooManyRequests with Retry-After; each refusal
 * is reported to `onReject` (the metric).
 *
 * @example
 * const release = watches.admit(user.name);
 * stream.once('close', release);
 */
export function createWatchAdmission(limits: WatchLimits, onReject?: (reason: WatchRejection) => void) {
  const perUser = new Map<string, number>();
  let total = 0;
  return {
    limits,
    get total(): number {
      return total;
    },
    admit(user: string): () => void {
      const mine = perUser.get(user) ?? 0;
      if (mine >= limits.maxPerUser) {
        onReject?.('user');
        throw tooManyRequests(
          `Too many requests: user "${user}" has ${mine} watches open, the most kubegate allows per user (watch.maxPerUser); end one or retry later`,
          RETRY_AFTER_SECONDS,
        );
      }
      if (total >= limits.maxTotal) {
        onReject?.('total');
        throw tooManyRequests(
          `Too many requests: kubegate serves ${total} watches, its limit (watch.maxTotal); please try again later`,
          RETRY_AFTER_SECONDS,
        );
      }
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
