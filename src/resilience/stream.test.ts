import { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { createLane, fromWebWithIdle, limitStream, LaneRejectedError, StreamLimitError } from './stream.ts';

describe('createLane (bulkhead with a per-user share)', () => {
  it('gives each user at most its share, queues the rest of the lane, and hands slots on when released', async () => {
    const lane = createLane(3, 2, 1);
    const far = Date.now() + 60_000;
    const a1 = await lane.acquire('a', far);
    await lane.acquire('a', far);
    await expect(lane.acquire('a', far)).rejects.toMatchObject({ why: 'user' });
    const b1 = await lane.acquire('b', far);
    const queued = lane.acquire('c', far);
    expect(lane.stats()).toEqual({ running: 3, queued: 1, users: 3 });
    await expect(lane.acquire('d', far)).rejects.toBeInstanceOf(LaneRejectedError);
    a1();
    a1(); // releasing twice frees one slot only
    const c1 = await queued;
    expect(lane.stats()).toEqual({ running: 3, queued: 0, users: 3 });
    b1();
    c1();
    expect(lane.stats()).toEqual({ running: 1, queued: 0, users: 1 });
  });

  it('a queued call gives up at its deadline or when aborted, and its share is returned', async () => {
    const lane = createLane(1, 1, 4);
    await lane.acquire('a', Date.now() + 60_000);
    await expect(lane.acquire('b', Date.now() + 5)).rejects.toMatchObject({ why: 'timeout' });
    const ac = new AbortController();
    const waiting = lane.acquire('c', Date.now() + 60_000, ac.signal);
    ac.abort(new Error('gone'));
    await expect(waiting).rejects.toThrow('gone');
    expect(lane.stats()).toEqual({ running: 1, queued: 0, users: 1 });
  });
});

describe('limitStream / fromWebWithIdle', () => {
  it('passes a stream within the limit and cuts one over it with a 413 limit error', async () => {
    const ends: (Error | undefined)[] = [];
    const ok = limitStream(Readable.from([Buffer.alloc(10), Buffer.alloc(10)]), { maxBytes: 20, what: 'x' }, (e) =>
      ends.push(e),
    );
    let n = 0;
    for await (const c of ok) n += (c as Buffer).length;
    expect(n).toBe(20);
    const big = limitStream(Readable.from([Buffer.alloc(15), Buffer.alloc(15)]), { maxBytes: 20, what: 'x' }, (e) =>
      ends.push(e),
    );
    await expect(big.toArray()).rejects.toMatchObject({ status: 413 });
    await expect.poll(() => ends.length).toBe(2);
    expect(ends[0]).toBeUndefined();
    expect(ends[1]).toBeInstanceOf(StreamLimitError);
  });

  it('fails a source that keeps a read waiting past the idle limit', async () => {
    const stalled = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new Uint8Array(4));
      },
    });
    const s = fromWebWithIdle(stalled, 20, 'upstream answer');
    await expect(s.toArray()).rejects.toMatchObject({
      status: 504,
      message: 'upstream answer stalled for more than 20ms',
    });
  });

  it('with idleMs, fails a Node source that stalls while the reader waits, not one whose reader paused', async () => {
    const stalled = new Readable({ read() {} });
    stalled.push(Buffer.alloc(4));
    const s = limitStream(stalled, { maxBytes: 100, idleMs: 20, what: 'upstream answer' });
    await expect(s.toArray()).rejects.toMatchObject({
      status: 504,
      message: 'upstream answer stalled for more than 20ms',
    });
    // A reader that stops: the source has nothing to deliver to, so no idle limit runs.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const source = new Readable({ read() {} });
    const paused = limitStream(source, { maxBytes: 1 << 20, idleMs: 20, what: 'upstream answer' });
    paused.pause();
    for (let i = 0; i < 8; i++) source.push(Buffer.alloc(16 * 1024));
    await vi.waitFor(() => expect(paused.readableLength).toBeGreaterThanOrEqual(paused.readableHighWaterMark));
    vi.advanceTimersByTime(1000);
    vi.useRealTimers();
    expect(paused.destroyed).toBe(false);
    source.push(null);
    expect(Buffer.concat((await paused.toArray()) as Buffer[]).length).toBe(8 * 16 * 1024);
  });
});
