import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAdapters } from '../config/adapters.ts';
import { parseConfig } from '../config/load.ts';
import type { AdapterEntry } from '../config/schema.ts';
import { writeKubeconfig } from '../cli/kubeconfig.ts';
import { createLogger } from '../observability/log.ts';
import type { AdapterDefinition } from '../sdk/types.ts';
import { startGateway, type Gateway } from '../server/gateway.ts';
import { createDevCertificates, type DevCertificates } from '../server/tls.ts';

/** One adapter of a test gateway: a definition in the test's process, or a module as kubegate.yaml names it. */
export type TestAdapterEntry = Omit<AdapterEntry, 'name' | 'module'> & { name?: string } & (
    { adapter: AdapterDefinition; module?: never } | { module: string; adapter?: never }
  );

export interface TestGatewayOptions {
  adapters: TestAdapterEntry[];
  /** Folder `module` paths and package names are resolved from; default the current directory. */
  baseDir?: string;
  /** Default 0: a free port. */
  port?: number;
  certs?: DevCertificates;
  /** Bearer token of the kubeconfig's user; default a random one. */
  token?: string;
  /** More users allowed everything (group `testers`), for tests with several callers. */
  users?: { token: string; user: string }[];
  /** The process logger; default kubegate's own at level `KUBEGATE_LOG_LEVEL` (default warn). */
  logger?: Logger;
  /** `watch` section of kubegate.yaml. */
  watch?: Record<string, unknown>;
  /** `store` section of kubegate.yaml; default memory. */
  store?: Record<string, unknown>;
}

export interface TestGateway extends AsyncDisposable {
  gateway: Gateway;
  url: string;
  port: number;
  /** A kubeconfig for kubectl or `@kubernetes/client-node` (CA-verified TLS, bearer token), in a temp folder. */
  kubeconfig: string;
  token: string;
  certs: DevCertificates;
  /** GET against the gateway with the bearer token (HTTP/1.1 over TLS, CA verified). */
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: string }>;
  close(): Promise<void>;
}

/**
 * A kubegate in this process on a free port serving the given adapters, with a kubeconfig whose user may do
 * everything. Point kubectl (`--kubeconfig gw.kubeconfig`) or an informer at it.
 *
 * @example
 * await using gw = await startTestGateway({ adapters: [{ adapter, config: { baseUrl: fake.url } }] });
 * const list = JSON.parse((await gw.get('/apis/widgets.example.com/v1alpha1/widgets')).body);
 */
export async function startTestGateway(o: TestGatewayOptions): Promise<TestGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'kubegate-gw-'));
  const token = o.token ?? randomBytes(18).toString('base64url');
  const certs = o.certs ?? (await createDevCertificates(['localhost'], ['127.0.0.1']));
  const inProcess = new Map<string, AdapterDefinition>();
  const entries = o.adapters.map(({ adapter, module, name, ...rest }) => {
    const n = name ?? adapter?.name ?? module?.replace(/[^a-z0-9-]+/gi, '-').replace(/^-+|-+$/g, '') ?? 'adapter';
    if (adapter) inProcess.set(n, adapter);
    return { name: n, module: module ?? '(in this process)', ...rest };
  });
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
      adapters: entries,
    }),
    'test gateway config',
  );
  const adapters = await loadAdapters(loaded, o.baseDir ?? process.cwd(), inProcess);
  const gateway = await startGateway({
    config: loaded.config,
    adapters,
    tls: certs.server,
    logger: o.logger ?? createLogger(process.env.KUBEGATE_LOG_LEVEL ?? 'warn'),
  });
  const kubeconfig = join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfig, { server: gateway.url, ca: certs.ca.cert, token, user: 'tester' });
  const agent = new Agent({ ca: certs.ca.cert, keepAlive: true });
  const close = async () => {
    await gateway.close();
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  };
  return {
    gateway,
    url: gateway.url,
    port: Number(new URL(gateway.url).port),
    kubeconfig,
    token,
    certs,
    get: (path, headers = {}) => httpsGet(agent, gateway.url + path, { authorization: `Bearer ${token}`, ...headers }),
    close,
    [Symbol.asyncDispose]: close,
  };
}

function httpsGet(
  agent: Agent,
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Headers; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          if (Array.isArray(v)) for (const x of v) h.append(k, x);
          else if (v !== undefined) h.set(k, v);
        }
        resolve({ status: res.statusCode ?? 0, headers: h, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
