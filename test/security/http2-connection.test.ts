import http2 from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildGateway, type ChildGateway } from './child.ts';

const ALL = '/apis/bench.kubegate.dev/v1/instances';
let gw: ChildGateway;

beforeAll(async () => {
  // The defaults, but for a smaller watch budget per connection (so that the test shows it at work with a
  // thousand objects): 150 stalled watches queue more than it allows.
  gw = await startChildGateway(1000, { watch: { sessionBufferedBytes: 4 << 20, maxPerUser: 1000 } });
});
afterAll(async () => {
  await gw.close();
});

describe('one HTTP/2 connection shared by many users (the aggregator)', () => {
  it('carrying 150 watches that never read, every GET on the same connection succeeds', async () => {
    const session = http2.connect(gw.url, { ca: gw.certs.ca.cert, servername: 'localhost' });
    session.on('error', () => undefined);
    try {
      const auth = { authorization: `Bearer ${gw.tokens.alice}` };
      const stalled = await Promise.all(
        Array.from(
          { length: 150 },
          () =>
            new Promise<string>((resolve) => {
              const q = session.request({ ':path': `${ALL}?watch=true&resourceVersion=0`, ...auth });
              q.pause();
              q.on('error', () => undefined);
              q.on('response', (h) => resolve(String(h[':status'])));
              // Cut at once (before its headers left): reset with CANCEL, and the client watches again.
              q.on('close', () => resolve(`reset ${q.rstCode}`));
            }),
        ),
      );
      expect(stalled.filter((s) => s !== '200' && s !== `reset ${http2.constants.NGHTTP2_CANCEL}`)).toEqual([]);

      const get = (path: string) =>
        new Promise<{ status: number; bytes: number; rst: number }>((resolve) => {
          const q = session.request({ ':path': path, ...auth });
          let status = 0;
          let bytes = 0;
          q.on('response', (h) => (status = Number(h[':status'])));
          q.on('data', (d: Buffer) => (bytes += d.length));
          q.on('error', () => undefined);
          q.on('close', () => resolve({ status, bytes, rst: q.rstCode }));
        });
      const gets = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          get(i % 2 ? `${ALL}?limit=5` : `/apis/bench.kubegate.dev/v1/namespaces/team-1/instances`),
        ),
      );
      const failed = gets.filter((g) => g.status !== 200 || g.rst !== 0);
      expect(failed).toEqual([]);
      expect(gets.every((g) => g.bytes > 0)).toBe(true);
      expect(session.destroyed).toBe(false);
      // The budget did its work: the stalled watches past their share were cut, the others still stand.
      const { watchers } = await gw.mem();
      console.log(`150 stalled watches on one connection: ${watchers} still open, 100 GETs on it all answered`);
      expect(watchers).toBeLessThan(150);
    } finally {
      session.destroy();
    }
  }, 60_000);
});
