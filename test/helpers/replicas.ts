import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { Agent, fetch as ufetch } from 'undici';
import { createDevCertificates, type DevCertificates } from '../../src/server/tls.ts';

const ROOT = resolve(import.meta.dirname, '../..');

export interface Replica {
  name: string;
  url: string;
  port: number;
  proc: ChildProcess;
  /** Everything the process logged (for the no-credential checks). */
  output(): string;
  get(path: string): Promise<{ status: number; body: string; headers: Headers }>;
  kill(signal?: NodeJS.Signals): Promise<void>;
  /**
   * Runs a full garbage collection in the replica through its inspector (started with `inspect`), so a
   * memory reading afterwards counts what is retained, not garbage not yet collected.
   */
  collectGarbage(): Promise<void>;
}

/** How a replica is started. */
export interface ReplicaStartOptions {
  /** Open the Node inspector on a free loopback port (for {@link Replica.collectGarbage}). */
  inspect?: boolean;
}

export interface ReplicaSet {
  certs: DevCertificates;
  token: string;
  dir: string;
  replicas: Replica[];
  start(name: string, options?: ReplicaStartOptions): Promise<Replica>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((r) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => r(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/**
 * Real `kubegate serve` processes sharing one config (and so one Redis): what a Deployment with several
 * replicas is, on one machine.
 */
export async function startReplicaSet(config: (port: number) => Record<string, unknown>): Promise<ReplicaSet> {
  const dir = mkdtempSync(join(tmpdir(), 'kubegate-ha-'));
  const certs = await createDevCertificates(['localhost'], ['127.0.0.1']);
  writeFileSync(join(dir, 'tls.crt'), certs.server.cert);
  writeFileSync(join(dir, 'tls.key'), certs.server.key);
  const token = randomBytes(18).toString('base64url');
  const agent = new Agent({ connect: { ca: certs.ca.cert } });
  const set: ReplicaSet = {
    certs,
    token,
    dir,
    replicas: [],
    async start(name, options = {}) {
      const port = await freePort();
      const cfg = {
        mode: 'standalone',
        server: { host: '127.0.0.1', port, tls: { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') } },
        auth: {
          tokens: [{ token, user: 'ops', groups: ['ops'] }],
          policy: [{ groups: ['ops'], verbs: ['*'], apiGroups: ['*'], resources: ['*'], nonResourceURLs: ['*'] }],
        },
        ...config(port),
      };
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, stringify(cfg));
      const inspect = options.inspect ? ['--inspect=127.0.0.1:0'] : [];
      const proc = spawn(process.execPath, [...inspect, join(ROOT, 'src/cli/main.ts'), 'serve', '--config', file], {
        cwd: ROOT,
        env: { ...process.env, KUBEGATE_LOG_LEVEL: 'info' },
      });
      let out = '';
      proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const url = `https://127.0.0.1:${port}`;
      const r: Replica = {
        name,
        url,
        port,
        proc,
        output: () => out,
        async get(path) {
          const res = await ufetch(url + path, { headers: { authorization: `Bearer ${token}` }, dispatcher: agent });
          return { status: res.status, body: await res.text(), headers: res.headers as unknown as Headers };
        },
        collectGarbage() {
          const ws = /Debugger listening on (ws:\/\/\S+)/.exec(out)?.[1];
          if (!ws) return Promise.reject(new Error(`replica ${name} was not started with its inspector`));
          return inspectorCall(ws, 'HeapProfiler.collectGarbage');
        },
        kill(signal = 'SIGTERM') {
          if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
          return new Promise((res) => {
            proc.once('exit', () => res());
            proc.kill(signal);
          });
        },
      };
      const end = Date.now() + 20_000;
      for (;;) {
        if (proc.exitCode !== null) throw new Error(`replica ${name} exited: ${out}`);
        try {
          if ((await r.get('/readyz')).status === 200) break;
        } catch {
          // not listening yet
        }
        if (Date.now() > end) throw new Error(`replica ${name} did not become ready: ${out}`);
        await new Promise((x) => setTimeout(x, 100));
      }
      set.replicas.push(r);
      return r;
    },
    async close() {
      await Promise.all(set.replicas.map((r) => r.kill('SIGKILL')));
      await agent.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return set;
}

/** Writes a kubeconfig for `user` (bearer `token`) against one replica and returns its path (for kubectl). */
export function replicaKubeconfig(set: ReplicaSet, replica: Replica, user: string, token: string): string {
  const file = join(set.dir, `${replica.name}-${user}.kubeconfig`);
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'kubegate',
          cluster: {
            server: replica.url,
            'certificate-authority-data': Buffer.from(set.certs.ca.cert).toString('base64'),
          },
        },
      ],
      users: [{ name: user, user: { token } }],
      contexts: [{ name: 'kubegate', context: { cluster: 'kubegate', user } }],
      'current-context': 'kubegate',
    }),
  );
  return file;
}

/** One call of the Chrome DevTools protocol on a Node inspector's WebSocket. */
function inspectorCall(url: string, method: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.onopen = () => socket.send(JSON.stringify({ id: 1, method }));
    socket.onmessage = (m: MessageEvent) => {
      const reply = JSON.parse(String(m.data)) as { id?: number; error?: { message: string } };
      if (reply.id !== 1) return;
      socket.close();
      if (reply.error) reject(new Error(`${method}: ${reply.error.message}`));
      else resolve();
    };
    socket.onerror = () => reject(new Error(`inspector at ${url} unreachable`));
  });
}
