import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import type { RequestAttributes, UserInfo } from '../auth/types.ts';
import { PolicySchema, type Level, type Policy, type PolicyRule, type Stage } from './types.ts';

/** What the policy decides for one request: its level, the stages not written, and managed fields. */
export interface AuditDecision {
  level: Level;
  omitStages: ReadonlySet<Stage>;
  omitManagedFields: boolean;
}

/** Decides the audit level of a request; `user` is undefined when authentication failed. */
export type PolicyEvaluator = (user: UserInfo | undefined, attrs: RequestAttributes) => AuditDecision;

/** A policy file that does not parse or validate; the message is one line naming the field. */
export class AuditPolicyError extends Error {
  override name = 'AuditPolicyError';
}

/** `/rules/0/resources/1/group` -> `rules[0].resources[1].group` (how kubectl names fields). */
function fieldName(pointer: string): string {
  const parts = pointer.split('/').filter((p) => p !== '');
  let out = '';
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out === '' ? p : `.${p}`;
  return out === '' ? '(top level)' : out;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The checks the kube-apiserver's policy validation makes beyond the types (pkg/apis/audit/validation). */
function checkRule(rule: PolicyRule, at: string): string | undefined {
  const resources = rule.resources ?? [];
  const urls = rule.nonResourceURLs ?? [];
  if (urls.length > 0 && (resources.length > 0 || (rule.namespaces ?? []).length > 0))
    return `${at}.nonResourceURLs: rules cannot apply to both regular resources and non-resource URLs`;
  for (const [i, url] of urls.entries()) {
    if (url === '*') continue;
    if (!url.startsWith('/'))
      return `${at}.nonResourceURLs[${i}]: non-resource URL rules must begin with a '/' character`;
    if (url.slice(0, -1).includes('*'))
      return `${at}.nonResourceURLs[${i}]: non-resource URL wildcards '*' must be the final character of the rule`;
  }
  for (const [i, gr] of resources.entries()) {
    const g = gr.group ?? '';
    if (g !== '' && !DNS_SUBDOMAIN.test(g)) return `${at}.resources[${i}].group: "${g}" is not a valid API group`;
    if ((gr.resourceNames ?? []).length > 0 && (gr.resources ?? []).length === 0)
      return `${at}.resources[${i}].resourceNames: using resourceNames requires at least one resource`;
  }
  return undefined;
}

/**
 * Validates a policy (already parsed from YAML or JSON) against the `audit.k8s.io/v1` Policy schema and the
 * apiserver's extra checks; throws an {@link AuditPolicyError} naming the first bad field.
 */
export function validatePolicy(doc: unknown, source = 'audit policy'): Policy {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new AuditPolicyError(`${source}: expected an audit.k8s.io/v1 Policy object`);
  const first = Value.Errors(PolicySchema, doc).First();
  if (first) {
    const field = fieldName(first.path);
    const why =
      first.path === '/apiVersion'
        ? 'must be audit.k8s.io/v1'
        : first.path === '/kind'
          ? 'must be Policy'
          : first.schema.description
            ? `must be ${first.schema.description}`
            : first.message.toLowerCase();
    throw new AuditPolicyError(`${source}: ${field}: ${why}`);
  }
  const policy = doc as Policy;
  for (const [i, rule] of policy.rules.entries()) {
    const bad = checkRule(rule, `rules[${i}]`);
    if (bad) throw new AuditPolicyError(`${source}: ${bad}`);
  }
  return policy;
}

/** Parses a policy file's text (YAML or JSON); throws an {@link AuditPolicyError} naming the bad field. */
export function parsePolicy(text: string, source = 'audit policy'): Policy {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100, logLevel: 'error' });
  } catch (err) {
    const msg = err instanceof Error ? (err.message.split('\n')[0] ?? '') : 'not YAML';
    throw new AuditPolicyError(`${source}: not valid YAML: ${msg}`);
  }
  return validatePolicy(doc, source);
}

function userMatches(rule: PolicyRule, user: UserInfo | undefined): boolean {
  if (rule.users && rule.users.length > 0 && (!user || !rule.users.includes(user.name))) return false;
  if (rule.userGroups && rule.userGroups.length > 0) {
    if (!user) return false;
    const groups = rule.userGroups;
    if (!user.groups.some((g) => groups.includes(g))) return false;
  }
  return true;
}

/** `*`, the exact path, or a prefix ending in `*`. */
function pathMatches(path: string, spec: string): boolean {
  if (spec === '*' || spec === path) return true;
  return spec.endsWith('*') && path.startsWith(spec.slice(0, -1));
}

function resourceMatches(rule: PolicyRule, a: RequestAttributes): boolean {
  if (a.resource === undefined) return false;
  // "" matches cluster-scoped requests.
  if (rule.namespaces && rule.namespaces.length > 0 && !rule.namespaces.includes(a.namespace ?? '')) return false;
  const resources = rule.resources ?? [];
  if (resources.length === 0) return true;
  const group = a.group ?? '';
  const sub = a.subresource ?? '';
  const combined = sub ? `${a.resource}/${sub}` : a.resource;
  for (const gr of resources) {
    if ((gr.group ?? '') !== group) continue;
    const list = gr.resources ?? [];
    if (list.length === 0) return true;
    const names = gr.resourceNames ?? [];
    if (names.length > 0 && !names.includes(a.name ?? '')) continue;
    for (const r of list) {
      if (r === '*' || r === combined) return true;
      if (sub && r.startsWith('*/') && r.slice(2) === sub) return true;
      if (r.endsWith('/*') && r.slice(0, -2) === a.resource) return true;
    }
  }
  return false;
}

/** Whether `rule` applies: every field it sets must match (an empty list matches everything). */
export function ruleMatches(rule: PolicyRule, user: UserInfo | undefined, a: RequestAttributes): boolean {
  if (!userMatches(rule, user)) return false;
  if (rule.verbs && rule.verbs.length > 0 && !rule.verbs.includes(a.verb)) return false;
  if ((rule.namespaces ?? []).length > 0 || (rule.resources ?? []).length > 0) return resourceMatches(rule, a);
  const urls = rule.nonResourceURLs ?? [];
  if (urls.length > 0) {
    if (a.resource !== undefined) return false;
    const path = a.path ?? '/';
    return urls.some((u) => pathMatches(path, u));
  }
  return true;
}

/**
 * The policy as a function: the first rule that matches decides the level (none matching: `None`); stages
 * omitted by the policy and by the rule are both omitted; the rule's `omitManagedFields` overrides the policy's.
 *
 * @example
 * const decide = compilePolicy(parsePolicy(readFileSync('audit-policy.yaml', 'utf8')));
 * decide(user, { verb: 'list', group: 'weather.kubegate.dev', resource: 'forecasts' }).level; // 'Metadata'
 */
export function compilePolicy(policy: Policy): PolicyEvaluator {
  const base = new Set<Stage>(policy.omitStages ?? []);
  const omitManaged = policy.omitManagedFields ?? false;
  const none: AuditDecision = { level: 'None', omitStages: base, omitManagedFields: omitManaged };
  // Decisions are shared objects (one per rule), so deciding allocates nothing.
  const decisions = policy.rules.map((r): AuditDecision => ({
    level: r.level,
    omitStages: new Set([...base, ...(r.omitStages ?? [])]),
    omitManagedFields: r.omitManagedFields ?? omitManaged,
  }));
  const rules = policy.rules;
  return (user, attrs) => {
    for (let i = 0; i < rules.length; i++)
      if (ruleMatches(rules[i] as PolicyRule, user, attrs)) return decisions[i] as AuditDecision;
    return none;
  };
}

/** The policy kubegate uses when the config names none: every request at Metadata level. */
export const DEFAULT_POLICY: Policy = { apiVersion: 'audit.k8s.io/v1', kind: 'Policy', rules: [{ level: 'Metadata' }] };
