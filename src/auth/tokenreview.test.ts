import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTokenReviewAuthenticator,
  kubeTokenReviewer,
  TokenReviewError,
  type TokenReviewStatus,
} from './tokenreview.ts';
import { createKubeClient, type KubeClient } from './kube-client.ts';
import { startFakeKubeApi, type FakeKubeApi } from '../../test/harness/fake-kube-api.ts';
import type { AuthenticationRequest } from './types.ts';

const bearer = (t: string): AuthenticationRequest => ({ headers: { authorization: `Bearer ${t}`, accept: '*/*' } });

function table(users: Record<string, TokenReviewStatus>) {
  const seen: string[] = [];
  const review = (token: string) => {
    seen.push(token);
    return Promise.resolve(users[token] ?? { authenticated: false });
  };
  return { seen, review };
}

describe('createTokenReviewAuthenticator', () => {
  const alice: TokenReviewStatus = {
    authenticated: true,
    user: { username: 'alice', uid: 'u1', groups: ['devs', 'system:authenticated'], extra: { k: ['v'] } },
  };

  it('maps the review to a user and removes the Authorization header', async () => {
    const a = createTokenReviewAuthenticator(table({ t1: alice }).review);
    const req = bearer('t1');
    expect(await a.authenticate(req)).toEqual({
      name: 'alice',
      uid: 'u1',
      groups: ['devs', 'system:authenticated'],
      extra: { k: ['v'] },
    });
    expect(req.headers).toEqual({ accept: '*/*' });
  });

  it('ignores requests without a bearer token', async () => {
    const t = table({});
    const a = createTokenReviewAuthenticator(t.review);
    expect(await a.authenticate({ headers: {} })).toBeNull();
    expect(await a.authenticate({ headers: { authorization: 'Basic YTpi' } })).toBeNull();
    expect(await a.authenticate({ headers: { authorization: 'Bearer ' } })).toBeNull();
    expect(t.seen).toEqual([]);
  });

  it('caches answers 10 s, refusals included, and asks again after', async () => {
    let now = 0;
    const t = table({ t1: alice });
    const a = createTokenReviewAuthenticator(t.review, { now: () => now });
    await a.authenticate(bearer('t1'));
    await a.authenticate(bearer('t1'));
    await expect(a.authenticate(bearer('bad'))).rejects.toThrow(TokenReviewError);
    await expect(a.authenticate(bearer('bad'))).rejects.toThrow('invalid bearer token');
    expect(t.seen).toEqual(['t1', 'bad']);
    now = 10_000;
    await a.authenticate(bearer('t1'));
    expect(t.seen).toEqual(['t1', 'bad', 't1']);
    expect(a.stats).toEqual({ hits: 2, misses: 3, coalesced: 0 });
  });

  it('sends one review for concurrent requests with one token', async () => {
    const t = table({ t1: alice });
    const a = createTokenReviewAuthenticator(t.review);
    const users = await Promise.all(Array.from({ length: 50 }, () => a.authenticate(bearer('t1'))));
    expect(users.every((u) => u?.name === 'alice')).toBe(true);
    expect(t.seen).toHaveLength(1);
    expect(a.stats.coalesced).toBe(49);
  });

  it('does not cache a failed review', async () => {
    let calls = 0;
    const a = createTokenReviewAuthenticator(() =>
      ++calls === 1 ? Promise.reject(new Error('connection refused')) : Promise.resolve(alice),
    );
    await expect(a.authenticate(bearer('t1'))).rejects.toThrow('connection refused');
    expect((await a.authenticate(bearer('t1')))?.name).toBe('alice');
  });

  it('refuses a token whose audiences do not match', async () => {
    const a = createTokenReviewAuthenticator(() => Promise.resolve({ ...alice, audiences: ['other'] }), {
      audiences: ['kubegate'],
    });
    await expect(a.authenticate(bearer('t1'))).rejects.toThrow(/audiences/);
  });

  it('returns a copy callers may change', async () => {
    const a = createTokenReviewAuthenticator(table({ t1: alice }).review);
    const u1 = await a.authenticate(bearer('t1'));
    u1?.groups.push('mutated');
    expect((await a.authenticate(bearer('t1')))?.groups).not.toContain('mutated');
  });
});

describe('kubeTokenReviewer against the fake kube-apiserver', () => {
  let kube: FakeKubeApi;
  let client: KubeClient;
  beforeAll(async () => {
    kube = await startFakeKubeApi({ tokens: { 'bob-token': { username: 'bob', groups: ['devs'] } } });
    client = createKubeClient({ kubeconfig: kube.kubeconfig });
  });
  afterAll(async () => {
    client.close();
    await kube.close();
  });

  it('posts a TokenReview and reads its status', async () => {
    const review = kubeTokenReviewer(client);
    expect(await review('bob-token', undefined)).toMatchObject({
      authenticated: true,
      user: { username: 'bob', groups: ['devs', 'system:authenticated'] },
    });
    expect(await review('nope', undefined)).toMatchObject({ authenticated: false });
    expect(kube.calls.tokenReviews).toBe(2);
  });

  it('rejects on an error answer and on timeout', async () => {
    const review = kubeTokenReviewer(client, 200);
    kube.faults.tokenReview = 500;
    await expect(review('bob-token', undefined)).rejects.toThrow(/TokenReview answered 500/);
    kube.faults.tokenReview = 'hang';
    await expect(review('bob-token', undefined)).rejects.toThrow(/within 200 ms/);
    kube.faults.tokenReview = undefined;
  });
});
