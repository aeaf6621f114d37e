import { createHmac, randomBytes } from 'node:crypto';
import { createReviewCache, type ReviewCache, type ReviewCacheStats } from './cache.ts';
import type { KubeClient } from './kube-client.ts';
import type { Authenticator, UserInfo } from './types.ts';
import { KubegateError } from '../errors.ts';

export const TOKEN_REVIEW_PATH = '/apis/authentication.k8s.io/v1/tokenreviews';

/** The status of an authentication.k8s.io/v1 TokenReview. */
export interface TokenReviewStatus {
  authenticated?: boolean;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  audiences?: string[];
  error?: string;
}

/** Sends one TokenReview; resolves with its status, rejects when the kube-apiserver cannot answer. */
export type TokenReviewer = (token: string, audiences: string[] | undefined) => Promise<TokenReviewStatus>;

/** Why a bearer token was refused; the gate answers 401. */
export class TokenReviewError extends KubegateError {
  override name = 'TokenReviewError';
  override readonly code: string = 'KUBEGATE_TOKEN_REVIEW';
}

export interface TokenReviewOptions {
  /** How long an answer (authenticated or not) is reused; default 10 s, as the kube-apiserver's delegating authenticator. */
  cacheTtlMs?: number;
  /** Audiences to ask for (default none: the kube-apiserver's own). */
  audiences?: string[];
  maxEntries?: number;
  now?: () => number;
}

export interface TokenReviewAuthenticator extends Authenticator {
  readonly stats: ReviewCacheStats;
}

/**
 * Posts TokenReviews with `client`, bounded by `timeoutMs` (default 10 s). A non-2xx answer rejects.
 *
 * @example
 * const review = kubeTokenReviewer(createKubeClient({ kubeconfig }));
 */
export function kubeTokenReviewer(client: KubeClient, timeoutMs = 10_000): TokenReviewer {
  return async (token, audiences) => {
    const { status, body } = await client.request<{ status?: TokenReviewStatus; message?: string }>(
      'POST',
      TOKEN_REVIEW_PATH,
      {
        timeoutMs,
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenReview',
          spec: { token, ...(audiences && audiences.length > 0 ? { audiences } : {}) },
        },
      },
    );
    if (status < 200 || status > 299)
      throw new Error(`TokenReview answered ${status}${body?.message ? `: ${body.message}` : ''}`);
    return body?.status ?? {};
  };
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Bearer-token authentication by TokenReview (docs/kubernetes-wire.md, "Authentication"). Answers are cached for 10 s under an HMAC-SHA-256 of
 * the token (with a key made per process, so the cache holds nothing a token can be recovered or matched
 * from); concurrent requests with one token share one review. A refused token → throws (401), and the refusal
 * is cached too, as the kube-apiserver does; a review that fails (timeout, 5xx) → throws and is not cached.
 * On success the Authorization header is removed, as the kube-apiserver does, so it reaches nothing downstream.
 *
 * @example
 * const authn = createTokenReviewAuthenticator(kubeTokenReviewer(kube));
 */
export function createTokenReviewAuthenticator(
  review: TokenReviewer,
  o: TokenReviewOptions = {},
): TokenReviewAuthenticator {
  const ttl = o.cacheTtlMs ?? 10_000;
  const key = randomBytes(32);
  const audiences = o.audiences && o.audiences.length > 0 ? [...o.audiences] : undefined;
  const cache: ReviewCache<UserInfo | string> = createReviewCache({
    ...(o.maxEntries !== undefined ? { maxEntries: o.maxEntries } : {}),
    ...(o.now ? { now: o.now } : {}),
  });
  const toUser = (s: TokenReviewStatus): UserInfo | string => {
    if (!s.authenticated) return s.error ? `token review: ${s.error}` : 'invalid bearer token';
    if (audiences && s.audiences && !s.audiences.some((a) => audiences.includes(a)))
      return 'token audiences do not match';
    const u = s.user ?? {};
    if (!u.username) return 'token review returned no username';
    const user: UserInfo = {
      name: u.username,
      groups: Array.isArray(u.groups) ? u.groups.filter((g) => typeof g === 'string') : [],
    };
    if (u.uid) user.uid = u.uid;
    if (u.extra && Object.keys(u.extra).length > 0) user.extra = u.extra;
    return user;
  };
  return {
    stats: cache.stats,
    async authenticate(req) {
      const h = req.headers.authorization;
      const value = Array.isArray(h) ? h[0] : h;
      if (!value) return null;
      const m = BEARER.exec(value);
      if (!m?.[1]) return null;
      const token = m[1];
      const id = createHmac('sha256', key)
        .update(token)
        .update('\0')
        .update((audiences ?? []).join(','))
        .digest('base64url');
      const answer = await cache.get(id, async () => ({ value: toUser(await review(token, audiences)), ttlMs: ttl }));
      if (typeof answer === 'string') throw new TokenReviewError(answer);
      delete req.headers.authorization;
      return { ...answer, groups: [...answer.groups] };
    },
  };
}
