/** Where authentication failures are reported (a logger's warn). */
export type FailureSink = (msg: string, extra: Record<string, unknown>) => void;

export interface FailureLogOptions {
  /** One line per cause per interval (ms); default one minute. */
  intervalMs?: number;
  /** Distinct causes remembered at once; beyond it, new causes share one line. Default 100. */
  maxCauses?: number;
  now?: () => number;
}

/** Causes are written by kubegate's authenticators; still, a line is kept short and printable. */
function clean(cause: string): string {
  let s = '';
  for (const ch of cause.slice(0, 200)) s += ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f ? ' ' : ch;
  return s;
}

/**
 * Reports why requests fail authentication, or why front-proxy headers were not trusted, without flooding the
 * log: each cause once per interval, with how many requests it covered since its last line. Causes never carry
 * credentials (authenticators describe the failure, not the token). Unauthenticated clients choose how often
 * they fail, so the memory is bounded too: past `maxCauses` distinct causes in one interval, the rest are
 * counted under one "other causes" line.
 *
 * @example
 * const failures = createFailureLog((msg, extra) => log.warn(extra, msg));
 * failures.record('authentication failed', 'invalid bearer token');
 */
export function createFailureLog(sink: FailureSink, o: FailureLogOptions = {}) {
  const interval = o.intervalMs ?? 60_000;
  const max = o.maxCauses ?? 100;
  const now = o.now ?? Date.now;
  const seen = new Map<string, { at: number; suppressed: number }>();
  let windowStart = now();
  return {
    record(what: string, cause: string): void {
      const t = now();
      if (t - windowStart >= interval) {
        for (const [k, v] of seen) if (t - v.at >= (v.suppressed === 0 ? interval : 2 * interval)) seen.delete(k);
        windowStart = t;
      }
      let key = `${what}\0${clean(cause)}`;
      if (!seen.has(key) && seen.size >= max) key = `${what}\0(other causes)`;
      const e = seen.get(key);
      if (e && t - e.at < interval) {
        e.suppressed++;
        return;
      }
      const [, shown] = key.split('\0');
      sink(what, { cause: shown, ...(e?.suppressed ? { repeated: e.suppressed } : {}) });
      seen.set(key, { at: t, suppressed: 0 });
    },
  };
}

export type FailureLog = ReturnType<typeof createFailureLog>;
