import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { informAuthenticationConfigMap, type ConfigMapInformer } from './configmap-informer.ts';
import { createKubeClient } from './kube-client.ts';
import { subjectOf } from './certs.ts';
import { startFakeKubeApi } from '../../test/harness/fake-kube-api.ts';
import { authenticationConfigMapData, createCA } from '../../test/harness/pki.ts';
import type { CertPair } from '../server/tls.ts';

let clientCA: CertPair;
let frontProxyCA: CertPair;
let rotatedCA: CertPair;
const open: { close(): Promise<void> | void }[] = [];

beforeAll(async () => {
  [clientCA, frontProxyCA, rotatedCA] = await Promise.all([
    createCA('client-ca'),
    createCA('front-proxy-ca'),
    createCA('front-proxy-ca-2'),
  ]);
});

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function setup(
  configMap: Record<string, string> | null = authenticationConfigMapData({ clientCA, frontProxyCA }),
) {
  const kube = await startFakeKubeApi({ configMap });
  const client = createKubeClient({ kubeconfig: kube.kubeconfig });
  open.push(kube, client);
  const warnings: string[] = [];
  const informer = informAuthenticationConfigMap(client, {
    initialBackoffMs: 20,
    log: { info() {}, warn: (m) => warnings.push(m) },
  });
  open.push(informer);
  return { kube, client, informer, warnings };
}

const proxyCAs = (i: ConfigMapInformer) =>
  i.current().requestHeader?.caCertificates.map((c) => subjectOf(c).commonName);

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  await vi.waitFor(() => expect(cond(), 'condition not met in time').toBe(true), { timeout: ms, interval: 10 });
}

describe('informAuthenticationConfigMap', () => {
  it('lists the configmap, then applies changes from the watch', async () => {
    const { kube, informer } = await setup();
    await informer.ready;
    expect(informer.synced).toBe(true);
    expect(proxyCAs(informer)).toEqual(['front-proxy-ca']);
    expect(kube.calls.configMapLists).toBe(1);
    await until(() => kube.calls.configMapWatches === 1);
    kube.setConfigMap(
      authenticationConfigMapData(
        { clientCA, frontProxyCA },
        { requestHeaderCA: `${frontProxyCA.cert}\n${rotatedCA.cert}` },
      ),
    );
    await until(() => proxyCAs(informer)?.length === 2);
    expect(proxyCAs(informer)).toEqual(['front-proxy-ca', 'front-proxy-ca-2']);
    expect(informer.resourceVersion).toBe(kube.resourceVersion);
    expect(kube.calls.configMapLists).toBe(1);
  });

  it('re-watches from the last resourceVersion when the server ends a watch', async () => {
    const { kube, informer } = await setup();
    await informer.ready;
    await until(() => kube.calls.configMapWatches === 1);
    kube.endWatches();
    await until(() => kube.calls.configMapWatches === 2);
    kube.setConfigMap(authenticationConfigMapData({ clientCA, frontProxyCA: rotatedCA }));
    await until(() => proxyCAs(informer)?.[0] === 'front-proxy-ca-2');
    expect(kube.calls.configMapLists).toBe(1);
  });

  it('relists after 410 Gone', async () => {
    const { kube, informer } = await setup();
    await informer.ready;
    await until(() => kube.calls.configMapWatches === 1);
    kube.compact();
    kube.endWatches();
    await until(() => kube.calls.configMapLists === 2);
    kube.setConfigMap(authenticationConfigMapData({ clientCA, frontProxyCA: rotatedCA }));
    await until(() => proxyCAs(informer)?.[0] === 'front-proxy-ca-2');
  });

  it('turns authentication parts off when the configmap is deleted, and back on when it returns', async () => {
    const { kube, informer, warnings } = await setup();
    await informer.ready;
    await until(() => kube.calls.configMapWatches === 1);
    kube.setConfigMap(null);
    await until(() => informer.current().requestHeader === undefined);
    expect(informer.current()).toEqual({});
    expect(warnings.join()).toMatch(/not found/);
    kube.setConfigMap(authenticationConfigMapData({ clientCA, frontProxyCA }));
    await until(() => informer.current().requestHeader !== undefined);
  });

  it('is ready with nothing configured when the configmap does not exist', async () => {
    const { informer } = await setup(null);
    await informer.ready;
    expect(informer.current()).toEqual({});
  });

  it('retries a failing list with backoff and becomes ready once it succeeds', async () => {
    const kube = await startFakeKubeApi({ configMap: authenticationConfigMapData({ clientCA, frontProxyCA }) });
    kube.faults.configMap = 403;
    const client = createKubeClient({ kubeconfig: kube.kubeconfig });
    open.push(kube, client);
    const informer = informAuthenticationConfigMap(client, { initialBackoffMs: 20 });
    open.push(informer);
    await until(() => informer.lastError !== undefined);
    expect(informer.lastError).toMatch(/HTTP 403/);
    expect(informer.synced).toBe(false);
    kube.faults.configMap = undefined;
    await informer.ready;
    expect(informer.lastError).toBeUndefined();
  });

  it('keeps the last good CA when a change does not parse', async () => {
    const { kube, informer, warnings } = await setup();
    await informer.ready;
    await until(() => kube.calls.configMapWatches === 1);
    kube.setConfigMap(authenticationConfigMapData({ clientCA, frontProxyCA }, { requestHeaderCA: 'not a pem' }));
    await until(() => warnings.length > 0);
    expect(warnings[0]).toMatch(/requestheader-client-ca-file: no PEM certificate found; keeping the previous value/);
    expect(proxyCAs(informer)).toEqual(['front-proxy-ca']);
  });

  it('rejects ready when closed before the first list', async () => {
    const kube = await startFakeKubeApi();
    kube.faults.configMap = 'hang';
    const client = createKubeClient({ kubeconfig: kube.kubeconfig });
    open.push(kube, client);
    const informer = informAuthenticationConfigMap(client);
    await informer.close();
    await expect(informer.ready).rejects.toThrow(/closed before/);
  });
});
