import { Redis, type RedisOptions } from 'ioredis';
import { duplicateRedis, type RedisClient } from './redis-connection.ts';
import type {
  CollectionSnapshot,
  EventType,
  Lease,
  Store,
  StoredEvent,
  StoredObject,
  SubscribeHandlers,
  Subscription,
} from './types.ts';
import { FencedError } from './types.ts';
import { ACQUIRE_LEASE, COMMIT, ENSURE_COUNTER, LOAD, RELEASE_LEASE } from './redis-scripts.ts';

export interface RedisStoreOptions {
  /** redis:// or rediss:// URL; default redis://127.0.0.1:6379. */
  url?: string;
  /** Extra ioredis options (Sentinel: `sentinels` + `name`; TLS; password). */
  redis?: RedisOptions;
  /** Makes the client from the store's options (default: `new Redis(url, options)`); overrides url. */
  connect?: (options: RedisOptions) => RedisClient;
  /** Prefix of every key, e.g. `kubegate:` (several installations can share a Redis). */
  keyPrefix?: string;
  /** Events kept per collection stream (approximate, trimmed with MAXLEN ~); match watch.maxEvents. */
  streamMaxLen?: number;
  log?: { warn(msg: string, extra?: Record<string, unknown>): void };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rvBase = () => String(Date.now() * 1000);

function parseObject(key: string, v: string): StoredObject {
  const a = v.indexOf('|');
  const b = v.indexOf('|', a + 1);
  return { key, rv: Number(v.slice(0, a)), hash: v.slice(a + 1, b), body: v.slice(b + 1) };
}

/**
 * The shared store: any number of replicas on one Redis (standalone, or Sentinel through ioredis options).
 * A collection's keys share one hash slot (`{collection}`), so its Lua scripts are atomic on Cluster too.
 * Every replica tails each collection's stream into its local view; the stream entry id is the
 * resourceVersion, so resuming after a disconnect is "read after the last version I applied", and a gap
 * (trimmed stream, flushed Redis) is detected by a version that does not follow and answered with a reset.
 *
 * @example
 * const store = createRedisStore({ url: 'redis://127.0.0.1:6379', keyPrefix: 'kubegate:' });
 */
export function createRedisStore(o: RedisStoreOptions = {}): Store & { downSince(): number | undefined } {
  const prefix = o.keyPrefix ?? 'kubegate:';
  const maxLen = String(o.streamMaxLen ?? 10_000);
  const options: RedisOptions = {
    maxRetriesPerRequest: 2,
    retryStrategy: (times) => Math.min(100 * times, 2000),
    lazyConnect: false,
    ...o.redis,
  };
  const client: RedisClient = o.connect ? o.connect(options) : o.url ? new Redis(o.url, options) : new Redis(options);
  let downAt: number | undefined;
  client.on('ready', () => (downAt = undefined));
  const markDown = () => (downAt ??= Date.now());
  client.on('close', markDown);
  client.on('end', markDown);
  client.on('error', (err: Error) => {
    markDown();
    o.log?.warn('redis error', { err: err.message });
  });
  const keys = (c: string) => {
    const t = `${prefix}{${c}}`;
    return {
      rv: `${t}:rv`,
      obj: `${t}:obj`,
      stream: `${t}:stream`,
      lease: `${t}:lease`,
      fence: `${t}:fence`,
      synced: `${t}:synced`,
    };
  };
  const run = (script: string, keyList: string[], args: string[]) =>
    client.eval(script, keyList.length, ...keyList, ...args);

  async function load(collection: string): Promise<CollectionSnapshot> {
    const k = keys(collection);
    const r = (await run(LOAD, [k.rv, k.obj, k.synced], [rvBase()])) as string[];
    const objects: StoredObject[] = [];
    for (let i = 2; i + 1 < r.length; i += 2) objects.push(parseObject(r[i] ?? '', r[i + 1] ?? ''));
    return { rv: Number(r[0]), synced: r[1] === '1', objects };
  }

  const tails = new Set<() => void>();

  return {
    type: 'redis',
    load,
    async acquireLease(collection, holder, ttlMs) {
      const k = keys(collection);
      const f = Number(await run(ACQUIRE_LEASE, [k.lease, k.fence], [holder, String(Math.round(ttlMs))]));
      return f > 0 ? { fence: f, holder } : null;
    },
    async releaseLease(collection, lease: Lease) {
      const k = keys(collection);
      await run(RELEASE_LEASE, [k.lease], [lease.holder, String(lease.fence)]);
    },
    async commit(collection, lease, changes) {
      const k = keys(collection);
      const payload = JSON.stringify(changes.map((c) => ({ t: c.type, k: c.key, h: c.hash, b: c.body })));
      let r: string[];
      try {
        r = (await run(
          COMMIT,
          [k.lease, k.rv, k.obj, k.stream, k.synced],
          [lease.holder, String(lease.fence), rvBase(), maxLen, payload],
        )) as string[];
      } catch (err) {
        if (err instanceof Error && err.message.includes('FENCED'))
          throw new FencedError(`lease on ${collection} was taken over`);
        throw err;
      }
      const events: StoredEvent[] = [];
      changes.forEach((c, i) => {
        const rv = r[2 * i];
        if (rv) events.push({ ...c, rv: Number(rv), type: r[2 * i + 1] as EventType });
      });
      return events;
    },
    subscribe(collection, afterRv, handlers: SubscribeHandlers): Subscription {
      const k = keys(collection);
      const reader = duplicateRedis(client, { ...options, maxRetriesPerRequest: null });
      reader.on('error', () => undefined);
      // An object, not a `let`: it changes while the loop awaits (and the linter cannot see that).
      const state = { closed: false };
      const isClosed = () => state.closed;
      let last = afterRv;
      const reset = async () => {
        const snap = await load(collection);
        last = snap.rv;
        handlers.onReset(snap);
      };
      const loop = async () => {
        // A subscriber behind the stream's start (trimmed) or ahead of a flushed Redis must start over.
        let checked = false;
        while (!state.closed) {
          try {
            if (!checked) {
              const first = (await reader.xrange(k.stream, '-', '+', 'COUNT', 1)) as [string, string[]][];
              const firstRv = first[0] ? Number(first[0][0].split('-')[0]) : undefined;
              const current = Number(await reader.eval(ENSURE_COUNTER, 1, k.rv, rvBase()));
              if (
                (firstRv !== undefined && firstRv > last + 1) ||
                current < last ||
                (firstRv === undefined && current > last)
              )
                await reset();
              checked = true;
            }
            const res = await reader.xread('COUNT', 1000, 'BLOCK', 2000, 'STREAMS', k.stream, `${last}-0`);
            if (isClosed() || !res) continue;
            const events: StoredEvent[] = [];
            for (const [id, fields] of res[0]?.[1] ?? []) {
              const rv = Number(id.split('-')[0]);
              if (rv !== last + 1) {
                // A version is missing (trimmed while we were away, or Redis lost its data): reload.
                if (events.length > 0) handlers.onEvents(events.splice(0));
                await reset();
                break;
              }
              const f: Record<string, string> = {};
              for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i] ?? ''] = fields[i + 1] ?? '';
              events.push({ rv, type: f.t as EventType, key: f.k ?? '', hash: f.h ?? '', body: f.b ?? '' });
              last = rv;
            }
            if (events.length > 0) handlers.onEvents(events);
          } catch (err) {
            if (isClosed()) break;
            checked = false; // after an outage, check for gaps again
            o.log?.warn('redis stream tail interrupted; retrying', {
              collection,
              err: err instanceof Error ? err.message : String(err),
            });
            await sleep(500);
          }
        }
      };
      const stop = () => {
        state.closed = true;
        reader.disconnect();
      };
      tails.add(stop);
      void loop();
      return {
        close: () => {
          tails.delete(stop);
          stop();
        },
      };
    },
    healthy: () => downAt === undefined && client.status === 'ready',
    downSince: () => downAt,
    async close() {
      for (const t of tails) t();
      tails.clear();
      await client.quit().catch(() => client.disconnect());
    },
  };
}
