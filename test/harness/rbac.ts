import type { SubjectAccessReviewSpec } from '../../src/auth/sar.ts';

/**
 * One RBAC grant: a (Cluster)Role rule bound to users and groups. `namespaces` absent = a ClusterRoleBinding;
 * present = RoleBindings in those namespaces. Matching follows the kube-apiserver's RBAC authorizer
 * (plugin/pkg/auth/authorizer/rbac: VerbMatches, APIGroupMatches, ResourceMatches with `*` and `*\/sub`,
 * ResourceNameMatches, NonResourceURLMatches with a trailing `*`).
 */
export interface RbacRule {
  /** ClusterRole name, for the allow reason. */
  role: string;
  users?: string[];
  groups?: string[];
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  namespaces?: string[];
  nonResourceURLs?: string[];
}

/**
 * What a fresh cluster grants (kube's bootstrap policy): `system:discovery` and `system:public-info-viewer`
 * to authenticated users, and everything to `system:masters` (cluster-admin; the real apiserver also
 * short-circuits that group before RBAC).
 */
export const DEFAULT_RBAC: RbacRule[] = [
  {
    role: 'system:discovery',
    groups: ['system:authenticated'],
    verbs: ['get'],
    nonResourceURLs: [
      '/api',
      '/api/*',
      '/apis',
      '/apis/*',
      '/healthz',
      '/livez',
      '/openapi',
      '/openapi/*',
      '/readyz',
      '/version',
      '/version/',
    ],
  },
  {
    role: 'system:public-info-viewer',
    groups: ['system:authenticated', 'system:unauthenticated'],
    verbs: ['get'],
    nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'],
  },
  {
    role: 'cluster-admin',
    groups: ['system:masters'],
    verbs: ['*'],
    apiGroups: ['*'],
    resources: ['*'],
    nonResourceURLs: ['*'],
  },
];

const has = (list: string[] | undefined, v: string): boolean => (list ?? []).some((x) => x === '*' || x === v);

function resourceMatches(rule: RbacRule, resource: string, subresource: string | undefined): boolean {
  const combined = subresource ? `${resource}/${subresource}` : resource;
  return (rule.resources ?? []).some(
    (r) => r === '*' || r === combined || (subresource !== undefined && r === `*/${subresource}`),
  );
}

/** The binding that allows `spec`, or undefined. */
export function rbacAllows(rules: RbacRule[], spec: SubjectAccessReviewSpec): RbacRule | undefined {
  return rules.find((r) => {
    const subject = (r.users ?? []).includes(spec.user) || (r.groups ?? []).some((g) => spec.groups.includes(g));
    if (!subject) return false;
    const ra = spec.resourceAttributes;
    if (ra) {
      if (!has(r.verbs, ra.verb) || !has(r.apiGroups, ra.group) || !resourceMatches(r, ra.resource, ra.subresource))
        return false;
      if (r.resourceNames && r.resourceNames.length > 0 && !(ra.name && r.resourceNames.includes(ra.name)))
        return false;
      if (r.namespaces && !(ra.namespace && r.namespaces.includes(ra.namespace))) return false;
      return true;
    }
    const nr = spec.nonResourceAttributes;
    if (!nr || r.namespaces) return false;
    if (!has(r.verbs, nr.verb)) return false;
    return (r.nonResourceURLs ?? []).some(
      (u) => u === '*' || u === nr.path || (u.endsWith('*') && nr.path.startsWith(u.slice(0, -1))),
    );
  });
}
