import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSubjectAccessReviewAuthorizer,
  kubeSubjectAccessReviewer,
  subjectAccessReviewSpec,
  type SubjectAccessReviewSpec,
  type SubjectAccessReviewStatus,
} from './sar.ts';
import { createKubeClient, type KubeClient } from './kube-client.ts';
import { startFakeKubeApi, type FakeKubeApi } from '../../test/harness/fake-kube-api.ts';
import type { RequestAttributes, UserInfo } from './types.ts';

const bob: UserInfo = { name: 'bob', uid: 'u-bob', groups: ['devs', 'system:authenticated'], extra: { scopes: ['a'] } };
const list: RequestAttributes = {
  verb: 'list',
  group: 'weather.example.com',
  version: 'v1alpha1',
  resource: 'forecasts',
};

function reviewer(answer: (s: SubjectAccessReviewSpec) => SubjectAccessReviewStatus = () => ({ allowed: true })) {
  const specs: SubjectAccessReviewSpec[] = [];
  return { specs, review: (s: SubjectAccessReviewSpec) => (specs.push(s), Promise.resolve(answer(s))) };
}

describe('subjectAccessReviewSpec', () => {
  it('sends resource attributes with the user, uid, groups and extra', () => {
    expect(
      subjectAccessReviewSpec(bob, { ...list, verb: 'get', subresource: 'status', namespace: 'ns', name: 'berlin' }),
    ).toEqual({
      user: 'bob',
      uid: 'u-bob',
      groups: ['devs', 'system:authenticated'],
      extra: { scopes: ['a'] },
      resourceAttributes: {
        verb: 'get',
        group: 'weather.example.com',
        version: 'v1alpha1',
        resource: 'forecasts',
        subresource: 'status',
        namespace: 'ns',
        name: 'berlin',
      },
    });
  });

  it('sends non-resource attributes for paths', () => {
    expect(subjectAccessReviewSpec({ name: 'x', groups: [] }, { verb: 'get', path: '/metrics' })).toEqual({
      user: 'x',
      groups: [],
      nonResourceAttributes: { path: '/metrics', verb: 'get' },
    });
  });
});

describe('createSubjectAccessReviewAuthorizer', () => {
  it('allows system:masters and the health paths without a review', async () => {
    const r = reviewer(() => ({ allowed: false }));
    const a = createSubjectAccessReviewAuthorizer(r.review);
    expect(await a.authorize({ name: 'admin', groups: ['system:masters'] }, list)).toEqual({ allowed: true });
    for (const path of ['/healthz', '/livez', '/readyz'])
      expect(await a.authorize({ name: 'x', groups: [] }, { verb: 'get', path })).toEqual({ allowed: true });
    expect((await a.authorize({ name: 'x', groups: [] }, { verb: 'get', path: '/healthz/ping' })).allowed).toBe(false);
    expect(r.specs).toHaveLength(1);
  });

  it('supports prefix patterns in alwaysAllowPaths', async () => {
    const a = createSubjectAccessReviewAuthorizer(reviewer(() => ({ allowed: false })).review, {
      alwaysAllowPaths: ['/healthz/*'],
    });
    expect((await a.authorize({ name: 'x', groups: [] }, { verb: 'get', path: '/healthz/ping' })).allowed).toBe(true);
  });

  it('caches allows and denies for their TTLs', async () => {
    let now = 0;
    const r = reviewer((s) => ({ allowed: s.user === 'bob', ...(s.user === 'bob' ? {} : { reason: 'no RBAC rule' }) }));
    const a = createSubjectAccessReviewAuthorizer(r.review, { allowTtlMs: 10_000, denyTtlMs: 2_000, now: () => now });
    const eve: UserInfo = { name: 'eve', groups: [] };
    expect(await a.authorize(bob, list)).toEqual({ allowed: true });
    expect(await a.authorize(eve, list)).toEqual({ allowed: false, reason: 'no RBAC rule' });
    await a.authorize(bob, list);
    await a.authorize(eve, list);
    expect(r.specs).toHaveLength(2);
    now = 2_000;
    await a.authorize(bob, list);
    await a.authorize(eve, list);
    expect(r.specs).toHaveLength(3);
    now = 10_000;
    await a.authorize(bob, list);
    expect(r.specs).toHaveLength(4);
    expect(a.stats).toEqual({ hits: 3, misses: 4, coalesced: 0 });
  });

  it('keys the cache by user and attributes, whatever order their fields come in', async () => {
    const r = reviewer();
    const a = createSubjectAccessReviewAuthorizer(r.review);
    await a.authorize(bob, { verb: 'list', group: 'g', version: 'v', resource: 'r' });
    await a.authorize(
      { extra: { scopes: ['a'] }, groups: ['devs', 'system:authenticated'], uid: 'u-bob', name: 'bob' },
      { resource: 'r', version: 'v', group: 'g', verb: 'list' },
    );
    expect(r.specs).toHaveLength(1);
    await a.authorize({ ...bob, groups: ['devs'] }, { verb: 'list', group: 'g', version: 'v', resource: 'r' });
    await a.authorize(bob, { verb: 'list', group: 'g', version: 'v', resource: 'r', namespace: 'n' });
    expect(r.specs).toHaveLength(3);
  });

  it('shares one review between concurrent identical requests', async () => {
    const r = reviewer();
    const a = createSubjectAccessReviewAuthorizer(r.review);
    await Promise.all(Array.from({ length: 30 }, () => a.authorize(bob, list)));
    expect(r.specs).toHaveLength(1);
  });

  it('rejects when the review fails, and does not cache the failure', async () => {
    let calls = 0;
    const a = createSubjectAccessReviewAuthorizer(() =>
      ++calls === 1 ? Promise.reject(new Error('timeout')) : Promise.resolve({ allowed: true }),
    );
    await expect(a.authorize(bob, list)).rejects.toThrow('timeout');
    expect(await a.authorize(bob, list)).toEqual({ allowed: true });
  });
});

describe('kubeSubjectAccessReviewer against the fake kube-apiserver', () => {
  let kube: FakeKubeApi;
  let client: KubeClient;
  beforeAll(async () => {
    kube = await startFakeKubeApi();
    client = createKubeClient({ kubeconfig: kube.kubeconfig });
  });
  afterAll(async () => {
    client.close();
    await kube.close();
  });

  it('answers from the RBAC table: default discovery access for authenticated users', async () => {
    const review = kubeSubjectAccessReviewer(client);
    const user = { name: 'system:kube-aggregator', groups: ['system:authenticated'] };
    expect((await review(subjectAccessReviewSpec(user, { verb: 'get', path: '/apis/g/v1' }))).allowed).toBe(true);
    expect((await review(subjectAccessReviewSpec(user, { verb: 'get', path: '/metrics' }))).allowed).toBe(false);
    expect(
      (await review(subjectAccessReviewSpec({ name: 'x', groups: [] }, { verb: 'get', path: '/apis' }))).allowed,
    ).toBe(false);
    expect((await review(subjectAccessReviewSpec(bob, list))).allowed).toBe(false);
    kube.rules.push({
      role: 'forecast-reader',
      users: ['bob'],
      verbs: ['list'],
      apiGroups: ['weather.example.com'],
      resources: ['forecasts'],
    });
    expect(await review(subjectAccessReviewSpec(bob, list))).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by ClusterRoleBinding "forecast-reader" of ClusterRole "forecast-reader" to User "bob"',
    });
  });

  it('times out a review that hangs', async () => {
    kube.faults.subjectAccessReview = 'hang';
    const started = Date.now();
    await expect(kubeSubjectAccessReviewer(client, 300)(subjectAccessReviewSpec(bob, list))).rejects.toThrow(
      /no answer .* within 300 ms/,
    );
    expect(Date.now() - started).toBeLessThan(2000);
    kube.faults.subjectAccessReview = 503;
    await expect(kubeSubjectAccessReviewer(client)(subjectAccessReviewSpec(bob, list))).rejects.toThrow(/answered 503/);
    kube.faults.subjectAccessReview = undefined;
  });
});
