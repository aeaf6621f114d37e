import { defineAdapter, defineResource, Type } from '../../src/sdk/index.ts';
import type { LoadedAdapter } from '../../src/config/adapters.ts';
import type { Runtime } from '../../src/resources/runtime.ts';
import { createMemoryStore } from '../../src/store/memory.ts';
import { startGateway, type KubegateApp } from '../../src/server/gateway.ts';
import pino from 'pino';
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
  app: KubegateApp;
  runtime: Runtime;
  auth: DelegatedAuth;
  /** The log lines kubegate wrote (JSON). */
  logs: string[];
  close(): Promise<void>;
}

/**
 * A real kubegate ({@link startGateway}: HTTP/2 + HTTP/1.1 over TLS, client certificates requested) serving the
 * in-test adapter, authenticating and authorizing through {@link createDelegatedAuth} against `kubeconfig`.
 */
export async function startTestKubegate(o: {
  tls: CertPair;
  kubeconfig: string;
  auth?: Omit<DelegatedAuthOptions, 'kubeconfig'>;
  anonymous?: boolean;
  /** The adapter served (default {@link testAdapter}). */
  adapter?: LoadedAdapter['definition'];
}): Promise<TestKubegate> {
  // Where the app reports front-proxy headers it did not trust (filled in by the app).
  const untrusted: { reason?: (why: string) => void } = {};
  const auth = createDelegatedAuth({
    kubeconfig: o.kubeconfig,
    onUntrusted: (why) => untrusted.reason?.(why),
    ...o.auth,
  });
  const logs: string[] = [];
  await auth.ready;
  const loaded: LoadedAdapter = {
    entry: { name: o.adapter?.name ?? 'authtest', module: '(in test)' },
    definition: o.adapter ?? testAdapter,
    config: {},
  };
  const gateway = await startGateway({
    config: { server: { host: '127.0.0.1', port: 0 }, adapters: [loaded.entry] },
    adapters: [loaded],
    tls: o.tls,
    store: createMemoryStore(),
    logger: pino({ level: 'info' }, { write: (line: string) => void logs.push(line) }),
    auth: {
      authenticators: auth.authenticators,
      authorizer: auth.authorizer,
      requestClientCertificates: true,
      anonymous: o.anonymous ?? false,
      untrusted,
      close: () => auth.close(),
    },
  });
  return { url: gateway.url, app: gateway.app, runtime: gateway.runtime, auth, logs, close: () => gateway.close() };
}
