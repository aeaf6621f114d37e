import { Readable, Transform, pipeline, type TransformCallback } from 'node:stream';
import { KubegateError } from '../errors.ts';
import { noteStreamed } from '../resources/memory.ts';

/** Why a lane refused a call: the caller's own share is taken (`user`) or the lane and its queue are (`full`). */
export class LaneRejectedError extends KubegateError {
  override name = 'LaneRejectedError';
  override readonly code: string = 'KUBEGATE_LANE_REJECTED';
  readonly why: 'user' | 'full' | 'timeout';
  constructor(why: 'user' | 'full' | 'timeout', message: string) {
    super(message);
    this.why = why;
  }
}

export interface Lane {
  /** Waits for a slot (until `deadline`, ms since the epoch); resolves to its release function (idempotent). */
  acquire(user: string, deadline: number, signal?: AbortSignal): Promise<() => void>;
  /** Calls running, queued, and users holding at least one (for tests and metrics). */
  stats(): { running: number; queued: number; users: number };
}

/**
 * A bulkhead with a per-user share: at most `max` calls run at once, `maxQueued` wait for a slot, and one user
 * holds at most `perUser` of them (running and queued together), so one caller's hanging calls leave the rest
 * of the lane to others. Bookkeeping is one counter per user with calls in flight (removed at zero).
 */
export function createLane(max: number, perUser: number, maxQueued: number): Lane {
  let running = 0;
  const byUser = new Map<string, number>();
  const queue: { grant: () => void; fail: (e: Error) => void }[] = [];

  const leave = (user: string): void => {
    const n = (byUser.get(user) ?? 1) - 1;
    if (n <= 0) byUser.delete(user);
    else byUser.set(user, n);
  };
  const releaser = (user: string) => {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      leave(user);
      const next = queue.shift();
      if (next) next.grant();
      else running--;
    };
  };

  return {
    acquire(user, deadline, signal) {
      const mine = byUser.get(user) ?? 0;
      if (mine >= perUser)
        return Promise.reject(
          new LaneRejectedError('user', `${mine} proxy calls of this user are already in flight (share: ${perUser})`),
        );
      if (running < max) {
        byUser.set(user, mine + 1);
        running++;
        return Promise.resolve(releaser(user));
      }
      if (queue.length >= maxQueued)
        return Promise.reject(
          new LaneRejectedError('full', `too many proxy calls (${max} running, ${maxQueued} queued)`),
        );
      byUser.set(user, mine + 1);
      return new Promise((resolve, reject) => {
        const entry = {
          grant: () => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', onAbort);
            resolve(releaser(user));
          },
          fail: (e: Error) => {
            clearTimeout(timer);
            signal?.removeEventListener('abort', onAbort);
            const i = queue.indexOf(entry);
            if (i >= 0) queue.splice(i, 1);
            leave(user);
            reject(e);
          },
        };
        const onAbort = (): void => entry.fail(signal?.reason as Error);
        const timer = setTimeout(
          () => entry.fail(new LaneRejectedError('timeout', `no free proxy slot within the deadline (${max} running)`)),
          Math.max(0, deadline - Date.now()),
        );
        signal?.addEventListener('abort', onAbort, { once: true });
        queue.push(entry);
      });
    },
    stats: () => ({ running, queued: queue.length, users: byUser.size }),
  };
}

/** A body cut short by a limit; `status` is the HTTP status the limit stands for. */
export class StreamLimitError extends KubegateError {
  override name = 'StreamLimitError';
  override readonly code: string = 'KUBEGATE_STREAM_LIMIT';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/**
 * A web stream (an HTTP client's body) as a Node stream that reads only when its reader wants more, and fails
 * when the source keeps a read waiting longer than `idleMs`: a stalled upstream is cut, a slow reader is not
 * (while the reader is not asking, nothing waits).
 */
export function fromWebWithIdle(body: ReadableStream<Uint8Array>, idleMs: number, what: string): Readable {
  const reader = body.getReader();
  return new Readable({
    read() {
      const timer =
        idleMs > 0
          ? setTimeout(
              () => this.destroy(new StreamLimitError(504, `${what} stalled for more than ${idleMs}ms`)),
              idleMs,
            )
          : undefined;
      reader.read().then(
        ({ done, value }) => {
          clearTimeout(timer);
          this.push(done ? null : value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          this.destroy(err instanceof Error ? err : new Error(String(err)));
        },
      );
    },
    destroy(err, cb) {
      reader.cancel(err ?? undefined).then(
        () => cb(err),
        () => cb(err),
      );
    },
  });
}

export interface StreamLimits {
  /** Most bytes allowed through. */
  maxBytes: number;
  /** Longest the whole stream may take (ms); 0 for none. */
  totalMs?: number;
  /** What the stream is, for messages (`upstream answer`, `request body`). */
  what: string;
  /**
   * Longest wait (ms) for the next chunk while the reader wants one; 0 or absent for none. A reader that stops
   * reading does not count against the source.
   */
  idleMs?: number;
}

/**
 * Pipes `source` through a counting stage that destroys both ends when the stream passes `maxBytes` or runs
 * past `totalMs`; backpressure flows through, so memory stays at a few chunks whatever the size. `onEnd` runs
 * once, however the stream ends (finished, failed, or destroyed by the reader).
 */
export function limitStream(source: Readable, l: StreamLimits, onEnd?: (err?: Error) => void): Readable {
  let seen = 0;
  const total = l.totalMs
    ? setTimeout(() => guard.destroy(new StreamLimitError(504, `${l.what} took longer than ${l.totalMs}ms`)), l.totalMs)
    : undefined;
  const idleMs = l.idleMs ?? 0;
  let idle: NodeJS.Timeout | undefined;
  /** Waits for the source while the reader has room: the source must deliver within idleMs. */
  const arm = (): void => {
    if (idleMs <= 0 || guard.writableEnded || guard.destroyed) return;
    if (idle) idle.refresh();
    else {
      idle = setTimeout(
        () => guard.destroy(new StreamLimitError(504, `${l.what} stalled for more than ${idleMs}ms`)),
        idleMs,
      );
      idle.unref();
    }
  };
  const disarm = (): void => {
    clearTimeout(idle);
    idle = undefined;
  };
  const guard = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      disarm();
      seen += chunk.byteLength;
      if (seen > l.maxBytes) {
        cb(new StreamLimitError(413, `${l.what} is larger than the limit of ${l.maxBytes} bytes`));
        return;
      }
      noteStreamed(chunk.byteLength);
      cb(null, chunk);
      if (guard.readableLength < guard.readableHighWaterMark) arm();
    },
    flush(cb) {
      disarm();
      cb();
    },
  });
  if (idleMs > 0) {
    // The reader asks for more: from now on the wait is the source's.
    const read = guard._read.bind(guard);
    guard._read = (n: number) => {
      arm();
      read(n);
    };
  }
  let ended = false;
  pipeline(source, guard, (err) => {
    clearTimeout(total);
    disarm();
    if (ended) return;
    ended = true;
    onEnd?.(err ?? undefined);
  });
  return guard;
}
