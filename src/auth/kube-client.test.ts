import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKubeClient, type KubeClient } from './kube-client.ts';
import { startFakeKubeApi, type FakeKubeApi } from '../../test/harness/fake-kube-api.ts';

let kube: FakeKubeApi;
let client: KubeClient;
beforeAll(async () => {
  kube = await startFakeKubeApi({ configMap: { 'client-ca-file': '' } });
  client = createKubeClient({ kubeconfig: kube.kubeconfig });
});
afterAll(async () => {
  client.close();
  await kube.close();
});

describe('createKubeClient', () => {
  it('sends the kubeconfig token over TLS verified with its CA, reusing one connection', async () => {
    const r = await client.request<{ kind: string }>(
      'GET',
      '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication',
    );
    expect(r.status).toBe(200);
    expect(r.body?.kind).toBe('ConfigMap');
    expect(client.server).toBe(kube.url);
    expect(kube.calls.unauthorized).toBe(0);
    const before = kube.calls.connections;
    for (let i = 0; i < 3; i++)
      await client.request('GET', '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication');
    expect(kube.calls.connections).toBe(before);
  });

  it('answers any HTTP status with its body', async () => {
    const r = await client.request<{ reason: string }>('GET', '/api/v1/nothing');
    expect(r).toMatchObject({ status: 404, body: { reason: 'NotFound' } });
  });

  it('streams lines of a watch until aborted', async () => {
    const lines: string[] = [];
    const stop = new AbortController();
    const done = client.stream(
      '/api/v1/namespaces/kube-system/configmaps?fieldSelector=metadata.name%3Dextension-apiserver-authentication&watch=true&resourceVersion=0',
      (l) => {
        lines.push(l);
        stop.abort();
      },
      { signal: stop.signal, idleTimeoutMs: 5000 },
    );
    expect(await done).toEqual({ status: 200, body: undefined });
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ type: 'ADDED', object: { kind: 'ConfigMap' } });
  });

  it('fails a watch that goes silent for idleTimeoutMs', async () => {
    const stop = new AbortController();
    await expect(
      client.stream(
        '/api/v1/namespaces/kube-system/configmaps?fieldSelector=metadata.name%3Dextension-apiserver-authentication&watch=true&resourceVersion=' +
          kube.resourceVersion,
        () => {},
        {
          signal: stop.signal,
          idleTimeoutMs: 150,
        },
      ),
    ).rejects.toThrow(/nothing received for 150 ms/);
  });

  it('in a cluster: the service account token and CA from their files, the server from the environment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubegate-sa-'));
    writeFileSync(join(dir, 'token'), `${kube.callerToken}\n`);
    writeFileSync(join(dir, 'ca.crt'), kube.ca);
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    const url = new URL(kube.url);
    process.env.KUBERNETES_SERVICE_HOST = url.hostname;
    process.env.KUBERNETES_SERVICE_PORT = url.port;
    const c = createKubeClient({ serviceAccountDir: dir });
    try {
      const r = await c.request<{ kind: string }>(
        'GET',
        '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication',
      );
      expect(r.status).toBe(200);
      expect(r.body?.kind).toBe('ConfigMap');
      expect(c.server).toBe(`https://${url.hostname}:${url.port}`);
    } finally {
      c.close();
      if (saved.host === undefined) delete process.env.KUBERNETES_SERVICE_HOST;
      else process.env.KUBERNETES_SERVICE_HOST = saved.host;
      if (saved.port === undefined) delete process.env.KUBERNETES_SERVICE_PORT;
      else process.env.KUBERNETES_SERVICE_PORT = saved.port;
    }
  });

  it('says which option is wrong when there is no cluster to talk to', async () => {
    const saved = process.env.KUBERNETES_SERVICE_HOST;
    delete process.env.KUBERNETES_SERVICE_HOST;
    try {
      await expect(createKubeClient().request('GET', '/version')).rejects.toThrow(
        /^kubeconfig: not running in a cluster/,
      );
    } finally {
      if (saved !== undefined) process.env.KUBERNETES_SERVICE_HOST = saved;
    }
    const dir = mkdtempSync(join(tmpdir(), 'kubegate-kc-'));
    writeFileSync(join(dir, 'empty'), 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
    await expect(createKubeClient({ kubeconfig: join(dir, 'empty') }).request('GET', '/version')).rejects.toThrow(
      /no current cluster/,
    );
  });
});
