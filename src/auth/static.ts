import { createHash, timingSafeEqual } from 'node:crypto';
import type { Authenticator, Authorizer, Decision, RequestAttributes, UserInfo } from './types.ts';

export interface StaticToken {
  token: string;
  user: string;
  uid?: string;
  groups?: string[];
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * Standalone bearer tokens. Tokens are compared as SHA-256 digests in constant time, so neither the
 * comparison nor its timing reveals a token.
 *
 * @example
 * const authn = createStaticTokenAuthenticator([{ token: process.env.TOKEN!, user: 'alice', groups: ['dev'] }]);
 */
export function createStaticTokenAuthenticator(tokens: StaticToken[]): Authenticator {
  const entries = tokens.map((t) => ({ d: digest(t.token), t }));
  // Headers already verified, by their exact value: hashing every request's token costs more than serving a GET.
  // Only successful verifications are remembered, so a guess never skips the constant-time comparison.
  const verified = new Map<string, UserInfo>();
  return {
    authenticate(req) {
      const h = req.headers.authorization;
      const value = Array.isArray(h) ? h[0] : h;
      if (!value) return Promise.resolve(null);
      const hit = verified.get(value);
      if (hit) return Promise.resolve(hit);
      const m = /^Bearer\s+(\S+)\s*$/i.exec(value);
      if (!m?.[1]) return Promise.resolve(null);
      const d = digest(m[1]);
      let found: StaticToken | undefined;
      for (const e of entries) if (timingSafeEqual(e.d, d)) found = e.t;
      if (!found) return Promise.reject(new Error('invalid bearer token'));
      const u: UserInfo = { name: found.user, groups: found.groups ?? [] };
      if (found.uid) u.uid = found.uid;
      if (verified.size >= 1024) verified.clear();
      verified.set(value, u);
      return Promise.resolve(u);
    },
  };
}

export interface PolicyRule {
  users?: string[];
  groups?: string[];
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  namespaces?: string[];
  nonResourceURLs?: string[];
}

const has = (list: string[] | undefined, v: string | undefined): boolean =>
  list === undefined || list.includes('*') || (v !== undefined && list.includes(v));

/**
 * A small RBAC-like policy for standalone mode: a request is allowed when one rule matches its subject, verb
 * and resource (or non-resource URL). `system:masters` is always allowed, as in the kube-apiserver.
 *
 * @example
 * createStaticPolicyAuthorizer([{ groups: ['dev'], verbs: ['get', 'list', 'watch'], resources: ['forecasts'] }]);
 */
export function createStaticPolicyAuthorizer(rules: PolicyRule[]): Authorizer {
  return {
    authorize(user: UserInfo, a: RequestAttributes): Promise<Decision> {
      if (user.groups.includes('system:masters')) return Promise.resolve({ allowed: true });
      for (const r of rules) {
        const subject =
          (r.users?.includes(user.name) ?? false) ||
          (r.groups?.some((g) => g === '*' || user.groups.includes(g)) ?? false);
        if (!subject || !has(r.verbs, a.verb)) continue;
        if (a.resource) {
          if (r.nonResourceURLs && !r.resources) continue;
          const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
          if (!has(r.apiGroups, a.group) || !has(r.resources, res)) continue;
          if (r.namespaces && !(a.namespace !== undefined && has(r.namespaces, a.namespace))) continue;
          return Promise.resolve({ allowed: true });
        }
        const urls = r.nonResourceURLs;
        if (!urls) continue;
        const path = a.path ?? '/';
        if (urls.some((u) => u === '*' || u === path || (u.endsWith('*') && path.startsWith(u.slice(0, -1)))))
          return Promise.resolve({ allowed: true });
      }
      return Promise.resolve({ allowed: false });
    },
  };
}
