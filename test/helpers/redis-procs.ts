import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';

/** A free TCP port on loopback (and, with `plusBus`, port + 10000 free too, for a Cluster node's bus). */
export async function freePort(plusBus = false): Promise<number> {
  for (;;) {
    const p = await listenOnce(0);
    if (!plusBus || (p + 10000 < 65536 && (await listenOnce(p + 10000).catch(() => 0)) !== 0)) return p;
  }
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

/** A client that gives up at once instead of retrying (for probes in tests). */
export function probe(port: number): Redis {
  const r = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  r.on('error', () => undefined);
  return r;
}

/** Runs one command against 127.0.0.1:port; undefined if the server does not answer. */
export async function redisCommand(port: number, ...args: string[]): Promise<unknown> {
  const r = probe(port);
  try {
    await r.connect();
    return await r.call(args[0] ?? 'PING', ...args.slice(1));
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}

/** Starts `redis-server` with `args` and waits until it answers PING. */
export async function startRedisServer(port: number, args: string[]): Promise<ChildProcess> {
  // Run in the temp folder: a replica writes the RDB it receives from its master into its working directory.
  const proc = spawn('redis-server', [...args, '--port', String(port), '--bind', '127.0.0.1'], {
    stdio: 'ignore',
    cwd: tmpdir(),
  });
  const end = Date.now() + 15_000;
  while ((await redisCommand(port, 'PING')) !== 'PONG') {
    if (proc.exitCode !== null) throw new Error(`redis-server on ${port} exited with ${proc.exitCode}`);
    if (Date.now() > end) throw new Error(`redis-server on ${port} did not start`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return proc;
}
