import { createHash } from 'node:crypto';
import { createReviewCache, type ReviewCacheStats } from './cache.ts';
import type { KubeClient } from './kube-client.ts';
import type { Authorizer, Decision, RequestAttributes, UserInfo } from './types.ts';

export const SUBJECT_ACCESS_REVIEW_PATH = '/apis/authorization.k8s.io/v1/subjectaccessreviews';

/** The spec of an authorization.k8s.io/v1 SubjectAccessReview. */
export interface SubjectAccessReviewSpec {
  user: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
  resourceAttributes?: {
    namespace?: string;
    verb: string;
    group: string;
    version?: string;
    resource: string;
    subresource?: string;
    name?: string;
  };
  nonResourceAttributes?: { path: string; verb: string };
}

export interface SubjectAccessReviewStatus {
  allowed?: boolean;
  denied?: boolean;
  reason?: string;
  evaluationError?: string;
}

/** Sends one SubjectAccessReview; rejects when the kube-apiserver cannot answer. */
export type SubjectAccessReviewer = (spec: SubjectAccessReviewSpec) => Promise<SubjectAccessReviewStatus>;

/**
 * Posts SubjectAccessReviews with `client`, bounded by `timeoutMs` (default 10 s, as the kube-apiserver's
 * delegating authorizer). A non-2xx answer rejects.
 */
export function kubeSubjectAccessReviewer(client: KubeClient, timeoutMs = 10_000): SubjectAccessReviewer {
  return async (spec) => {
    const { status, body } = await client.request<{ status?: SubjectAccessReviewStatus; message?: string }>(
      'POST',
      SUBJECT_ACCESS_REVIEW_PATH,
      { timeoutMs, body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec } },
    );
    if (status < 200 || status > 299)
      throw new Error(`SubjectAccessReview answered ${status}${body?.message ? `: ${body.message}` : ''}`);
    return body?.status ?? {};
  };
}

/** The review the kube-apiserver's webhook authorizer would send for `user` doing `a`. */
export function subjectAccessReviewSpec(user: UserInfo, a: RequestAttributes): SubjectAccessReviewSpec {
  const spec: SubjectAccessReviewSpec = { user: user.name, groups: [...user.groups] };
  if (user.uid) spec.uid = user.uid;
  if (user.extra && Object.keys(user.extra).length > 0) spec.extra = user.extra;
  if (a.resource !== undefined) {
    spec.resourceAttributes = {
      verb: a.verb,
      group: a.group ?? '',
      ...(a.version !== undefined ? { version: a.version } : {}),
      resource: a.resource,
      ...(a.subresource !== undefined ? { subresource: a.subresource } : {}),
      ...(a.namespace !== undefined ? { namespace: a.namespace } : {}),
      ...(a.name !== undefined ? { name: a.name } : {}),
    };
  } else {
    spec.nonResourceAttributes = { path: a.path ?? '/', verb: a.verb };
  }
  return spec;
}

/** JSON with object keys sorted, so equal reviews hash equally whatever order their fields were built in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return v === undefined ? 'null' : JSON.stringify(v);
}

export interface SubjectAccessReviewOptions {
  /** How long an allow is reused (default 10 s). */
  allowTtlMs?: number;
  /** How long a deny is reused (default 10 s). */
  denyTtlMs?: number;
  /** Non-resource paths allowed without a review (default `/healthz`, `/readyz`, `/livez`); a trailing `*` is a prefix. */
  alwaysAllowPaths?: string[];
  /** Groups allowed everything without a review (default `system:masters`). */
  alwaysAllowGroups?: string[];
  maxEntries?: number;
  now?: () => number;
}

export interface SubjectAccessReviewAuthorizer extends Authorizer {
  readonly stats: ReviewCacheStats;
}

/**
 * Authorization by SubjectAccessReview, as an extension apiserver's delegating authorizer does (docs/kubernetes-wire.md, "Authorization"):
 * `system:masters` and the health paths are allowed without asking; otherwise one review per distinct
 * user + attributes (cache key: SHA-256 of both, canonical JSON), allows and denies cached 10 s each, concurrent
 * identical reviews shared. A review that fails or times out rejects — the gate answers 503, failing closed —
 * and is not cached.
 *
 * @example
 * const authz = createSubjectAccessReviewAuthorizer(kubeSubjectAccessReviewer(kube));
 */
export function createSubjectAccessReviewAuthorizer(
  review: SubjectAccessReviewer,
  o: SubjectAccessReviewOptions = {},
): SubjectAccessReviewAuthorizer {
  const allowTtl = o.allowTtlMs ?? 10_000;
  const denyTtl = o.denyTtlMs ?? 10_000;
  const groups = o.alwaysAllowGroups ?? ['system:masters'];
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const p of o.alwaysAllowPaths ?? ['/healthz', '/readyz', '/livez']) {
    const t = p.replace(/^\//, '');
    if (t.endsWith('*')) prefixes.push(t.slice(0, -1));
    else exact.add(t);
  }
  const cache = createReviewCache<Decision>({
    ...(o.maxEntries !== undefined ? { maxEntries: o.maxEntries } : {}),
    ...(o.now ? { now: o.now } : {}),
  });
  return {
    stats: cache.stats,
    async authorize(user, a) {
      if (user.groups.some((g) => groups.includes(g))) return { allowed: true };
      if (a.resource === undefined) {
        const path = (a.path ?? '/').replace(/^\//, '');
        if (exact.has(path) || prefixes.some((p) => path.startsWith(p))) return { allowed: true };
      }
      const spec = subjectAccessReviewSpec(user, a);
      const key = createHash('sha256').update(canonical(spec)).digest('base64url');
      return cache.get(key, async () => {
        const s = await review(spec);
        const allowed = s.allowed === true;
        const d: Decision = { allowed };
        if (!allowed && s.reason) d.reason = s.reason;
        return { value: d, ttlMs: allowed ? allowTtl : denyTtl };
      });
    },
  };
}
