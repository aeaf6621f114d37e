import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backupName, createAuditSink, DEFAULT_SINK, type AuditSinkOptions } from './sink.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubegate-audit-sink-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const opts = (o: Partial<AuditSinkOptions>): AuditSinkOptions => ({
  ...DEFAULT_SINK,
  path: join(dir, 'audit.log'),
  ...o,
});

describe('audit sink', () => {
  it('writes lines in order, one per event', async () => {
    const sink = createAuditSink(opts({ batchMaxSize: 3 }));
    for (let i = 0; i < 10; i++) sink.push(JSON.stringify({ i }));
    await sink.close();
    const lines = readFileSync(join(dir, 'audit.log'), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { i: number }).i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('a line given as parts is written whole, across chunk ends and in reused buffers, in order', async () => {
    const sink = createAuditSink(opts({ batchMaxSize: 50, batchMaxWaitMs: 1 }));
    const pad = 'é'.repeat(2000);
    const head = Buffer.from('{"i":');
    for (let i = 0; i < 1500; i++) {
      sink.push([head, String(i), Buffer.from(`,"pad":"${pad}`), '"}']);
      // Let batches go out between pushes, so that written buffers come back and are filled again.
      if (i % 100 === 99) await sink.flush();
    }
    await sink.close();
    const lines = readFileSync(join(dir, 'audit.log'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1500);
    lines.forEach((l, i) => expect(JSON.parse(l)).toEqual({ i, pad }));
  });

  it('rotates by size and keeps maxBackups rotated files', async () => {
    let t = Date.parse('2026-12-01T03:00:00Z');
    const sink = createAuditSink(opts({ maxSizeBytes: 100, maxBackups: 2, batchMaxSize: 1, now: () => (t += 1000) }));
    for (let i = 0; i < 20; i++) {
      sink.push(JSON.stringify({ line: i, pad: 'x'.repeat(40) }));
      await sink.flush();
    }
    await sink.close();
    const files = readdirSync(dir).sort();
    expect(files).toHaveLength(3);
    expect(files).toContain('audit.log');
    expect(files.filter((f) => /^audit-2026-12-01T03-\d\d-\d\d\.\d{3}\.log$/.test(f))).toHaveLength(2);
    // The newest lines survive; each file stays under the limit.
    expect(readFileSync(join(dir, 'audit.log'), 'utf8')).toContain('"line":19');
    for (const f of files) expect(readFileSync(join(dir, f)).length).toBeLessThanOrEqual(100);
    expect(backupName('/var/log/audit.log', Date.parse('2026-12-01T03:04:05.678Z'))).toBe(
      '/var/log/audit-2026-12-01T03-04-05.678.log',
    );
  });

  it('batch mode: a full queue drops and counts instead of waiting', async () => {
    let dropped = 0;
    const sink = createAuditSink(opts({ bufferSize: 5, batchMaxSize: 100, onDropped: (n) => (dropped += n) }));
    const kept = Array.from({ length: 8 }, (_, i) => sink.push(`{"i":${i}}`));
    expect(kept).toEqual([true, true, true, true, true, false, false, false]);
    expect(dropped).toBe(3);
    expect(sink.room()).toBeUndefined();
    await sink.close();
    expect(readFileSync(join(dir, 'audit.log'), 'utf8').trim().split('\n')).toHaveLength(5);
  });

  it('blocking mode: room() waits until the queue drains', async () => {
    const sink = createAuditSink(opts({ mode: 'blocking', bufferSize: 2, batchMaxSize: 100, batchMaxWaitMs: 10 }));
    sink.push('{}');
    sink.push('{}');
    expect(sink.push('{}')).toBe(true);
    const room = sink.room();
    expect(room).toBeInstanceOf(Promise);
    await room;
    expect(sink.room()).toBeUndefined();
    await sink.close();
  });

  it('an unwritable log: dropped and counted, reported once, readiness says why; then recovers', async () => {
    // A folder where the file should be: unwritable even for root.
    const path = join(dir, 'audit.log');
    mkdirSync(path);
    let dropped = 0;
    const errors: (Error | undefined)[] = [];
    const sink = createAuditSink(
      opts({ path, batchMaxSize: 1, onDropped: (n) => (dropped += n), onError: (e) => errors.push(e) }),
    );
    sink.push('{"a":1}');
    await sink.flush();
    sink.push('{"a":2}');
    await sink.flush();
    expect(dropped).toBe(2);
    expect(errors).toHaveLength(1);
    expect(sink.problem()).toBe('the audit log cannot be written: EISDIR');
    rmSync(path, { recursive: true });
    sink.push('{"a":3}');
    await sink.flush();
    expect(sink.problem()).toBeUndefined();
    expect(errors).toHaveLength(2);
    expect(errors[1]).toBeUndefined();
    await sink.close();
    expect(readFileSync(path, 'utf8')).toBe('{"a":3}\n');
  });

  it('stdout: `-` writes to the stream', async () => {
    const chunks: string[] = [];
    const out = new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(c.toString());
        cb();
      },
    });
    const sink = createAuditSink(opts({ path: '-', stdout: out }));
    sink.push('{"x":1}');
    await sink.close();
    expect(chunks.join('')).toBe('{"x":1}\n');
  });
});
