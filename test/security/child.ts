import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { createDevCertificates, type DevCertificates } from '../../src/server/tls.ts';
import { writeKubeconfig } from '../../src/cli/kubeconfig.ts';

const ROOT = resolve(import.meta.dirname, '../..');

export interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  watchers?: number;
}

export interface ChildGateway {
  url: string;
  port: number;
  certs: DevCertificates;
  /** Bearer tokens by user name (`alice`, `bob` and `carol`, all allowed everything). */
  tokens: Record<'alice' | 'bob' | 'carol', string>;
  /** A kubeconfig for `carol`. */
  kubeconfig: string;
  /** The gateway's memory after a GC. */
  mem(): Promise<Memory>;
  /** The log lines the gateway wrote so far (JSON, one per line). */
  logLines(): string[];
  close(): Promise<void>;
}

/**
 * kubegate with the synthetic adapter (`objects` instances) in a child process (`--expose-gc`), configured
 * with `extra` over a two-user static config. Its memory is measured there, apart from the test's own heap.
 */
export async function startChildGateway(objects: number, extra: Record<string, unknown> = {}): Promise<ChildGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'kubegate-sec-'));
  const certs = await createDevCertificates(['localhost'], ['127.0.0.1']);
  const tokens = {
    alice: 'alice-token-0123456789abcdef',
    bob: 'bob-token-0123456789abcdef',
    carol: 'carol-token-0123456789abcdef',
  };
  const { server, ...rest } = extra as { server?: Record<string, unknown> };
  const config = {
    server: { host: '127.0.0.1', port: 0, ...server },
    auth: {
      tokens: [
        { token: tokens.alice, user: 'alice', groups: ['users'] },
        { token: tokens.bob, user: 'bob', groups: ['users'] },
        { token: tokens.carol, user: 'carol', groups: ['users'] },
      ],
      policy: [{ groups: ['users'], verbs: ['*'], apiGroups: ['*'], resources: ['*'], nonResourceURLs: ['*'] }],
    },
    adapters: [{ name: 'synthetic', module: './test/bench/synthetic-adapter.ts', config: { count: objects } }],
    ...rest,
  };
  const file = join(dir, 'spec.json');
  writeFileSync(file, JSON.stringify({ tls: certs.server, config }));
  const p = spawn(process.execPath, ['--expose-gc', join(ROOT, 'test/security/gateway-process.ts'), file], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  createInterface({ input: p.stderr }).on('line', (l) => logs.push(l));
  const waiting: ((o: Record<string, unknown>) => void)[] = [];
  const ready = new Promise<Record<string, unknown>>((res, rej) => {
    waiting.push(res);
    p.once('exit', (code) => rej(new Error(`gateway exited (${code}): ${logs.slice(-5).join('\n')}`)));
  });
  createInterface({ input: p.stdout }).on('line', (l) => waiting.shift()?.(JSON.parse(l) as Record<string, unknown>));
  const first = await ready;
  const url = String(first.url);
  const kubeconfig = join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfig, { server: url, ca: certs.ca.cert, token: tokens.carol, user: 'carol' });
  const ask = (cmd: string) =>
    new Promise<Record<string, unknown>>((res) => {
      waiting.push(res);
      p.stdin.write(cmd + '\n');
    });
  return {
    url,
    port: Number(new URL(url).port),
    certs,
    tokens,
    kubeconfig,
    mem: async () => (await ask('mem')) as unknown as Memory,
    logLines: () => [...logs],
    async close() {
      const exited = new Promise((r) => p.once('exit', r));
      p.kill('SIGTERM');
      // A graceful close waits for clients' open streams; the test's clients may be the reason it cannot.
      const force = setTimeout(() => p.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(force);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
