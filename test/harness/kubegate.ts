import type { FastifyInstance } from 'fastify';
import { defineAdapter, defineResource, Type } from '../../src/sdk/index.ts';
import type { LoadedAdapter } from '../../src/config/adapters.ts';
import { createRuntime, type Runtime } from '../../src/resources/runtime.ts';
import { createMemoryStore } from '../../src/store/memory.ts';
import { buildApp } from '../../src/server/app.ts';
import { createDelegatedAuth, type DelegatedAuth, type DelegatedAuthOptions } from '../../src/auth/delegation.ts';
import type { CertPair } from '../../src/server/tls.ts';

/** The API group of the in-test adapter. */
export const TEST_GROUP = 'forecasts.test.kubegate.io';
export const TEST_VERSION = 'v1alpha1';

/** A mirror adapter whose list returns two cluster-scoped Forecasts (independent of the weather adapter). */
export const testAdapter = defineAdapter({
  name: 'authtest',
  group: TEST_GROUP,
  version: TEST_VERSION,
  config: Type.Object({}),
  resources: [
    defineResource({
      kind: 'Forecast',
      plural: 'forecasts',
      shortNames: ['fc'],
      scope: 'Cluster',
      mode: 'mirror',
      pollInterval: '1h',
      schema: { status: Type.Object({ temperatureC: Type.Number() }) },
      columns: [{ name: 'Temp', type: 'number', jsonPath: '.status.temperatureC' }],
      list() {
        return Promise.resolve([
          { name: 'berlin', status: { temperatureC: 21.5 } },
          { name: 'paris', status: { temperatureC: 24 } },
        ]);
      },
    }),
  ],
});

export interface TestKubegate {
  url: string;
  app: FastifyInstance;
  runtime: Runtime;
  auth: DelegatedAuth;
  close(): Promise<void>;
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * A real kubegate (`buildApp`, HTTP/2 + HTTP/1.1 over TLS, client certificates requested) serving the in-test
 * adapter, authenticating and authorizing through {@link createDelegatedAuth} against `kubeconfig`.
 */
export async function startTestKubegate(o: {
  tls: CertPair;
  kubeconfig: string;
  auth?: Omit<DelegatedAuthOptions, 'kubeconfig'>;
  anonymous?: boolean;
}): Promise<TestKubegate> {
  const auth = createDelegatedAuth({ kubeconfig: o.kubeconfig, ...o.auth });
  await auth.ready;
  const store = createMemoryStore();
  const loaded: LoadedAdapter = {
    entry: { name: 'authtest', module: '(in test)' },
    definition: testAdapter,
    config: {},
  };
  const runtime = createRuntime([loaded], {
    store,
    log: silent,
    watch: { bookmarkIntervalMs: 60_000, maxEvents: 1000, maxEventAgeMs: 900_000, maxBufferedBytes: 1 << 20 },
  });
  const app = buildApp({
    runtime,
    store,
    authenticators: auth.authenticators,
    authorizer: auth.authorizer,
    anonymous: o.anonymous ?? false,
    tls: o.tls,
    tlsRequestCert: true,
  });
  await runtime.start();
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address() as { port: number };
  return {
    url: `https://127.0.0.1:${addr.port}`,
    app,
    runtime,
    auth,
    async close() {
      await runtime.stop();
      await app.close();
      await store.close();
      await auth.close();
    },
  };
}
