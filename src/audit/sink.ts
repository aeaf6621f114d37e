import { open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';

/**
 * Where audit events go: a bounded queue of JSON lines written in batches to a file (rotated by size, a fixed
 * number of backups kept, like the kube-apiserver's `--audit-log-maxsize`/`--audit-log-maxbackup`) or stdout.
 * Requests never wait for the disk: in `batch` mode an event that finds the queue full is dropped and counted;
 * in `blocking` mode new requests wait for room instead (see {@link AuditSink.room}). A write that fails drops
 * its batch (counted), is reported once per interval, and makes {@link AuditSink.problem} say so until a write
 * succeeds again; it never throws into a request.
 */
export interface AuditSink {
  /** Queues one line (without its newline); false when it was dropped. */
  push(line: AuditLine): boolean;
  /** Resolves when the queue has room (at once in `batch` mode or when it has room). */
  room(): Promise<void> | undefined;
  /** Why the log cannot be written, while it cannot (readiness). */
  problem(): string | undefined;
  /** Writes what is queued; resolves once written. */
  flush(): Promise<void>;
  /** Flushes and closes the file. */
  close(): Promise<void>;
}

/**
 * A line, whole or as parts written one after the other (strings as UTF-8, bytes as they are): an event made of
 * parts encoded once per request is not joined into a new string, which would then be flattened and encoded again
 * for every stage.
 */
export type AuditLine = string | readonly (string | Uint8Array)[];

/** The line as one string (tests, and sinks that want text). */
export function lineText(line: AuditLine): string {
  if (typeof line === 'string') return line;
  let s = '';
  for (const p of line)
    s += typeof p === 'string' ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength).toString('utf8');
  return s;
}

export interface AuditSinkOptions {
  /** A file path, or `-` for stdout. */
  path: string;
  /** Rotate when the file would grow past this many bytes (0: never). */
  maxSizeBytes: number;
  /** Rotated files kept; older ones are deleted. */
  maxBackups: number;
  mode: 'batch' | 'blocking';
  /** Events queued at most. */
  bufferSize: number;
  /** A batch is written as soon as it has this many events... */
  batchMaxSize: number;
  /** ...or this long after its first event. */
  batchMaxWaitMs: number;
  /** Events dropped (queue full or write failed). */
  onDropped?: (n: number) => void;
  /** A write failed (called at most once per `errorIntervalMs`) or recovered (`err` undefined). */
  onError?: (err: Error | undefined) => void;
  errorIntervalMs?: number;
  now?: () => number;
  /** Where `-` writes (default process.stdout). */
  stdout?: NodeJS.WritableStream;
}

export const DEFAULT_SINK: Omit<AuditSinkOptions, 'path'> = {
  maxSizeBytes: 100 * 1024 * 1024,
  maxBackups: 10,
  mode: 'batch',
  bufferSize: 10_000,
  batchMaxSize: 400,
  batchMaxWaitMs: 1000,
};

/** The name a rotated file gets: `audit-2026-12-01T03-40-00.123.log` for `audit.log` (UTC). */
export function backupName(path: string, at: number): string {
  const ext = extname(path);
  const stamp = new Date(at).toISOString().replace(/:/g, '-').replace('Z', '');
  return join(dirname(path), `${basename(path, ext)}-${stamp}${ext}`);
}

/** Whether `file` (a name in the log's folder) is a rotated copy of `path`. */
function isBackupOf(path: string, file: string): boolean {
  const ext = extname(path);
  const base = basename(path, ext);
  return (
    file.startsWith(`${base}-`) &&
    file.endsWith(ext) &&
    /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}$/.test(file.slice(base.length + 1, file.length - ext.length))
  );
}

/** The file side: appends, rotates by size, prunes backups. */
function fileWriter(o: AuditSinkOptions) {
  const now = o.now ?? Date.now;
  let handle: FileHandle | undefined;
  let size = 0;
  async function ensureOpen(): Promise<FileHandle> {
    if (handle) return handle;
    const h = await open(o.path, 'a', 0o600);
    size = (await h.stat()).size;
    return (handle = h);
  }
  async function rotate(): Promise<void> {
    await handle?.close();
    handle = undefined;
    let at = now();
    // Two rotations within a millisecond must not overwrite each other.
    for (;;) {
      try {
        await stat(backupName(o.path, at));
        at += 1;
      } catch {
        break;
      }
    }
    await rename(o.path, backupName(o.path, at));
    const dir = dirname(o.path);
    const backups = (await readdir(dir)).filter((f) => isBackupOf(o.path, f)).sort();
    for (const old of backups.slice(0, Math.max(0, backups.length - o.maxBackups))) await unlink(join(dir, old));
  }
  return {
    async write(chunks: Buffer[], bytes: number): Promise<void> {
      let h = await ensureOpen();
      if (o.maxSizeBytes > 0 && size > 0 && size + bytes > o.maxSizeBytes) {
        await rotate();
        h = await ensureOpen();
      }
      await h.writev(chunks);
      size += bytes;
    },
    async close(): Promise<void> {
      const h = handle;
      handle = undefined;
      await h?.close();
    },
    /** After a failed write the handle may be bad (file deleted, disk replaced): reopen next time. */
    reset(): void {
      const h = handle;
      handle = undefined;
      void h?.close().catch(() => undefined);
    },
  };
}

function stdoutWriter(out: NodeJS.WritableStream) {
  return {
    write: (chunks: Buffer[]) =>
      new Promise<void>((resolve, reject) => {
        out.write(Buffer.concat(chunks), (err) => (err ? reject(err) : resolve()));
      }),
    close: () => Promise.resolve(),
    reset: () => undefined,
  };
}

/**
 * Creates the sink. Lines are serialized by the caller; the sink only queues and writes them.
 *
 * @example
 * const sink = createAuditSink({ ...DEFAULT_SINK, path: '/var/log/kubegate/audit.log' });
 * sink.push(JSON.stringify(event));
 * await sink.close();
 */
export function createAuditSink(o: AuditSinkOptions): AuditSink {
  const now = o.now ?? Date.now;
  const errorIntervalMs = o.errorIntervalMs ?? 60_000;
  const out = o.path === '-' ? stdoutWriter(o.stdout ?? process.stdout) : fileWriter(o);
  // Lines are copied into buffers outside the JS heap as they come: queued events do not live on as strings
  // the garbage collector would promote and later sweep.
  // Written chunks are used again: a new buffer per batch is memory outside the heap that V8 counts toward its
  // next collection, and fresh pages to fault in.
  const CHUNK = 256 * 1024;
  const spare: Buffer[] = [];
  const chunkOf = (size: number): Buffer =>
    (size <= CHUNK ? spare.pop() : undefined) ?? Buffer.allocUnsafe(Math.max(CHUNK, size));
  /** The buffers the queued chunks are parts of. */
  let owners: Buffer[] = [];
  let chunks: Buffer[] = [];
  let current = chunkOf(0);
  let used = 0;
  let bytes = 0;
  let count = 0;
  let writing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let failing: string | undefined;
  let lastReport = -Infinity;
  let waiters: (() => void)[] = [];
  let closed = false;

  const wake = () => {
    if (waiters.length === 0 || count >= o.bufferSize) return;
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };

  /** Makes room for `need` more bytes (the newline included) in the current chunk. */
  const reserve = (need: number): void => {
    if (used + need <= current.length) return;
    if (used > 0) {
      chunks.push(current.subarray(0, used));
      owners.push(current);
    }
    current = chunkOf(need);
    used = 0;
  };

  const append = (line: AuditLine): void => {
    if (typeof line === 'string') {
      // A UTF-16 unit is at most 3 bytes of UTF-8: the exact length is measured only near the chunk's end.
      if (used + line.length * 3 + 1 > current.length) reserve(Buffer.byteLength(line) + 1);
    } else {
      let bound = 1;
      for (const p of line) bound += typeof p === 'string' ? p.length * 3 : p.byteLength;
      if (used + bound > current.length) {
        let need = 1;
        for (const p of line) need += typeof p === 'string' ? Buffer.byteLength(p) : p.byteLength;
        reserve(need);
      }
    }
    const start = used;
    if (typeof line === 'string') used += current.write(line, used);
    else
      for (const p of line) {
        if (typeof p === 'string') used += current.write(p, used);
        else {
          current.set(p, used);
          used += p.byteLength;
        }
      }
    current[used++] = 0x0a;
    bytes += used - start;
    count++;
  };

  const writeBatch = async (): Promise<void> => {
    if (used > 0) {
      chunks.push(current.subarray(0, used));
      owners.push(current);
    }
    const batch = chunks;
    const written = owners;
    const n = count;
    const size = bytes;
    chunks = [];
    owners = [];
    current = chunkOf(0);
    used = 0;
    bytes = 0;
    count = 0;
    wake();
    try {
      await out.write(batch, size);
      if (failing !== undefined) {
        failing = undefined;
        o.onError?.(undefined);
      }
    } catch (err) {
      out.reset();
      o.onDropped?.(n);
      const e = err instanceof Error ? err : new Error(String(err));
      failing = `the audit log cannot be written: ${(e as NodeJS.ErrnoException).code ?? e.message}`;
      if (now() - lastReport >= errorIntervalMs) {
        lastReport = now();
        o.onError?.(e);
      }
    }
    for (const b of written) if (b.length === CHUNK && spare.length < 4) spare.push(b);
  };

  const kick = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (writing || count === 0) return;
    writing = writeBatch().finally(() => {
      writing = undefined;
      if (count >= o.batchMaxSize || (closed && count > 0)) setImmediate(kick);
      else if (count > 0) schedule();
      wake();
    });
  };

  const schedule = (): void => {
    if (timer || writing) return;
    timer = setTimeout(kick, o.batchMaxWaitMs);
    timer.unref();
  };

  return {
    push(line) {
      if (count >= o.bufferSize && o.mode === 'batch') {
        o.onDropped?.(1);
        return false;
      }
      // Blocking mode admits requests only with room (room()), so events of admitted requests always fit.
      append(line);
      if (count === o.batchMaxSize) {
        if (!writing) setImmediate(kick);
      } else schedule();
      return true;
    },
    room() {
      if (o.mode !== 'blocking' || count < o.bufferSize) return undefined;
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
    problem: () => failing,
    async flush() {
      while (writing || count > 0) {
        if (!writing) kick();
        await writing;
      }
    },
    async close() {
      closed = true;
      await this.flush();
      clearTimeout(timer);
      await out.close();
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    },
  };
}
