import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineAdapter, defineResource, Type, type ObjectInput } from '../../src/sdk/index.ts';
import { kubectl } from '../helpers/kubectl.ts';
import { startFakeKubeApi, type FakeKubeApi } from './fake-kube-api.ts';
import { startFrontProxy, type FrontProxy } from './front-proxy.ts';
import { startTestKubegate, type TestKubegate } from './kubegate.ts';
import { authenticationConfigMapData, createClusterPki, KUBEGATE_SERVICE_NAME } from './pki.ts';

/**
 * Writes behind the aggregator stand-in: RBAC decides by the ordinary verbs, so a user allowed to read but not
 * to create gets the apiserver's Forbidden from kubectl, and nothing reaches the adapter.
 */

const GROUP = 'notes.test.kubegate.io';
const created: ObjectInput[] = [];

const notes = defineAdapter({
  name: 'notes',
  group: GROUP,
  version: 'v1alpha1',
  config: Type.Object({}),
  resources: [
    defineResource({
      kind: 'Note',
      plural: 'notes',
      scope: 'Namespaced',
      mode: 'mirror',
      pollInterval: '1h',
      schema: { spec: Type.Object({ text: Type.String({ maxLength: 100 }) }, { additionalProperties: false }) },
      list: () => Promise.resolve([...created]),
      create(_ctx, obj) {
        const o: ObjectInput = { name: obj.name, namespace: obj.namespace ?? 'default', spec: obj.spec };
        created.push(o);
        return Promise.resolve(o);
      },
    }),
  ],
});

let kube: FakeKubeApi;
let gate: TestKubegate;
let proxy: FrontProxy;
let dir: string;

beforeAll(async () => {
  const pki = await createClusterPki();
  dir = mkdtempSync(join(tmpdir(), 'kubegate-writes-rbac-'));
  kube = await startFakeKubeApi({
    configMap: authenticationConfigMapData(pki),
    tokens: {
      'reader-token': { username: 'reader', groups: ['devs'] },
      'writer-token': { username: 'writer', groups: ['devs'] },
    },
  });
  kube.rules.push(
    {
      role: 'note-viewer',
      groups: ['devs'],
      verbs: ['get', 'list', 'watch'],
      apiGroups: [GROUP],
      resources: ['notes'],
    },
    { role: 'note-writer', users: ['writer'], verbs: ['create'], apiGroups: [GROUP], resources: ['notes'] },
  );
  gate = await startTestKubegate({ tls: pki.kubegate, kubeconfig: kube.kubeconfig, adapter: notes });
  proxy = await startFrontProxy({
    target: gate.url,
    targetCA: pki.kubegateCA.cert,
    serverName: KUBEGATE_SERVICE_NAME,
    clientCert: pki.frontProxyClient,
    authenticate: (token) => {
      const u = kube.tokens.get(token);
      return u ? { name: u.username, groups: u.groups ?? [] } : undefined;
    },
  });
});

afterAll(async () => {
  await proxy.close();
  await gate.close();
  await kube.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('writes through the aggregator', () => {
  it('a user without create gets Forbidden from kubectl; one with it creates', async () => {
    const file = join(dir, 'note.yaml');
    writeFileSync(
      file,
      `apiVersion: ${GROUP}/v1alpha1\nkind: Note\nmetadata:\n  name: n1\n  namespace: default\nspec:\n  text: hello\n`,
    );
    const readerKc = join(dir, 'reader');
    proxy.writeKubeconfig(readerKc, 'reader-token', 'reader');
    const denied = await kubectl(readerKc, ['create', '-f', file]);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('(Forbidden)');
    expect(denied.stderr).toContain(
      `User "reader" cannot create resource "notes" in API group "${GROUP}" in the namespace "default"`,
    );
    expect(created).toHaveLength(0);

    const writerKc = join(dir, 'writer');
    proxy.writeKubeconfig(writerKc, 'writer-token', 'writer');
    const ok = await kubectl(writerKc, ['create', '-f', file]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout.trim()).toBe(`note.${GROUP}/n1 created`);
    expect(created).toHaveLength(1);
    const got = await kubectl(readerKc, ['get', 'notes', '-n', 'default', '-o', 'name']);
    expect(got.stdout.trim()).toBe(`note.${GROUP}/n1`);
  });
});
