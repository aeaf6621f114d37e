import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDelegatedAuth, type DelegatedAuth } from './delegation.ts';
import { startFakeKubeApi, type FakeKubeApi } from '../../test/harness/fake-kube-api.ts';
import {
  authenticationConfigMapData,
  createClusterPki,
  peerCertificateFromPem,
  type ClusterPki,
} from '../../test/harness/pki.ts';

let pki: ClusterPki;
const open: { close(): Promise<void> }[] = [];
beforeAll(async () => {
  pki = await createClusterPki();
});
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function setup(
  o: Parameters<typeof createDelegatedAuth>[0] = {},
): Promise<{ kube: FakeKubeApi; auth: DelegatedAuth }> {
  const kube = await startFakeKubeApi({
    configMap: authenticationConfigMapData(pki),
    tokens: { t: { username: 'tess', groups: ['devs'] } },
  });
  open.push(kube);
  const auth = createDelegatedAuth({ kubeconfig: kube.kubeconfig, ...o });
  open.push(auth);
  await auth.ready;
  return { kube, auth };
}

describe('createDelegatedAuth', () => {
  it('authenticates in kube-apiserver order: front proxy, client certificate, token', async () => {
    const { auth, kube } = await setup();
    expect(auth.authenticators).toHaveLength(3);
    const [rh, x509, token] = auth.authenticators;
    const proxied = {
      headers: { 'x-remote-user': 'pat' },
      peerCertificate: () => peerCertificateFromPem(pki.frontProxyClient.cert),
    };
    expect(await rh?.authenticate(proxied)).toEqual({ name: 'pat', groups: [] });
    expect(
      await x509
        ?.authenticate({ headers: {}, peerCertificate: () => peerCertificateFromPem(pki.frontProxyClient.cert) })
        .catch((e: unknown) => (e as Error).message),
    ).toMatch(/unknown authority/);
    expect(await token?.authenticate({ headers: { authorization: 'Bearer t' } })).toMatchObject({
      name: 'tess',
      groups: ['devs', 'system:authenticated'],
    });
    expect(kube.calls.tokenReviews).toBe(1);
  });

  it('authorizes by SubjectAccessReview and counts cache hits', async () => {
    const { auth, kube } = await setup();
    const user = { name: 'tess', groups: ['system:authenticated'] };
    for (let i = 0; i < 100; i++)
      expect(await auth.authorizer.authorize(user, { verb: 'get', path: '/version' })).toEqual({ allowed: true });
    await Promise.all(
      Array.from({ length: 50 }, () => auth.authorizer.authorize(user, { verb: 'get', path: '/openapi/v2' })),
    );
    expect(kube.calls.subjectAccessReviews).toBe(2);
    expect(auth.stats().subjectAccessReview).toEqual({ hits: 99, misses: 2, coalesced: 49 });
  });

  it('can leave token authentication out', async () => {
    const { auth } = await setup({ tokenReview: false });
    expect(auth.authenticators).toHaveLength(2);
    expect(auth.stats().tokenReview).toBeUndefined();
  });

  it('exposes the configuration in force', async () => {
    const { auth } = await setup();
    expect(auth.config().requestHeader?.allowedNames).toEqual(['front-proxy-client']);
    expect(auth.config().clientCA).toHaveLength(1);
  });
});
