import type { Logger } from 'pino';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadAdapters } from '../../src/config/adapters.ts';
import { parseConfig } from '../../src/config/load.ts';
import { startGateway, type Gateway } from '../../src/server/gateway.ts';
import { createDevCertificates, type DevCertificates } from '../../src/server/tls.ts';
import { writeKubeconfig } from '../../src/cli/kubeconfig.ts';

const ROOT = resolve(import.meta.dirname, '../..');

export interface TestGatewayOptions {
  /** Adapter entries as in kubegate.yaml (module paths relative to the repo root). */
  adapters: {
    name: string;
    module: string;
    config: unknown;
    pollInterval?: string;
    resilience?: Record<string, unknown>;
  }[];
  /** More users (group `testers`, allowed everything), for tests with several callers. */
  users?: { token: string; user: string }[];
  port?: number;
  certs?: DevCertificates;
  token?: string;
  watch?: Record<string, unknown>;
  store?: Record<string, unknown>;
  /** The process logger (default: kubegate's own, to stdout). */
  logger?: Logger;
}

export interface TestGateway {
  gateway: Gateway;
  url: string;
  port: number;
  kubeconfig: string;
  token: string;
  certs: DevCertificates;
  /** Fetch against the gateway with the bearer token (HTTP/1.1 over TLS, CA verified). */
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: string }>;
  close(): Promise<void>;
}

/** A gateway in this process on a free (or given) port, with a kubeconfig in a temp dir. */
export async function startTestGateway(o: TestGatewayOptions): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'kubegate-gw-'));
  const token = o.token ?? randomBytes(18).toString('base64url');
  const certs = o.certs ?? (await createDevCertificates(['localhost'], ['127.0.0.1']));
  const loaded = parseConfig(
    JSON.stringify({
      server: { host: '127.0.0.1', port: o.port ?? 0 },
      auth: {
        tokens: [
          { token, user: 'tester', groups: ['testers'] },
          ...(o.users ?? []).map((u) => ({ ...u, groups: ['testers'] })),
        ],
        policy: [{ groups: ['testers'], verbs: ['*'], apiGroups: ['*'], resources: ['*'], nonResourceURLs: ['*'] }],
      },
      ...(o.watch ? { watch: o.watch } : {}),
      ...(o.store ? { store: o.store } : {}),
      adapters: o.adapters,
    }),
    'test config',
  );
  const adapters = await loadAdapters(loaded, ROOT);
  const gateway = await startGateway({
    config: loaded.config,
    adapters,
    tls: certs.server,
    ...(o.logger ? { logger: o.logger } : {}),
  });
  const kubeconfig = join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfig, { server: gateway.url, ca: certs.ca.cert, token, user: 'tester' });
  const { Agent, fetch: ufetch } = await import('undici');
  const agent = new Agent({ connect: { ca: certs.ca.cert } });
  return {
    gateway,
    url: gateway.url,
    port: Number(new URL(gateway.url).port),
    kubeconfig,
    token,
    certs,
    async get(path, headers = {}) {
      const r = await ufetch(gateway.url + path, {
        headers: { authorization: `Bearer ${token}`, ...headers },
        dispatcher: agent,
      });
      return { status: r.status, headers: r.headers as unknown as Headers, body: await r.text() };
    },
    async close() {
      await gateway.close();
      await agent.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
