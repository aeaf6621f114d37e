import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { RequestAttributes, UserInfo } from '../auth/types.ts';
import { AuditPolicyError, compilePolicy, parsePolicy } from './policy.ts';

const alice: UserInfo = { name: 'alice', groups: ['devs', 'system:authenticated'] };
const list: RequestAttributes = { verb: 'list', group: 'weather.kubegate.dev', version: 'v1', resource: 'forecasts' };

function policy(rules: string, extra = ''): ReturnType<typeof compilePolicy> {
  return compilePolicy(parsePolicy(`apiVersion: audit.k8s.io/v1\nkind: Policy\n${extra}rules:\n${rules}`));
}

describe('audit policy: matching (first rule wins)', () => {
  const decide = policy(`
  - level: None
    users: [system:kube-aggregator]
  - level: None
    nonResourceURLs: ["/healthz*", /version]
  - level: RequestResponse
    resources: [{ group: weather.kubegate.dev, resources: [forecasts], resourceNames: [berlin] }]
  - level: Request
    userGroups: [admins]
    verbs: [get, list]
  - level: Metadata
    namespaces: [checkout]
  - level: Metadata
    resources: [{ group: payments.kubegate.dev, resources: ["*/proxy"] }]
    omitStages: [RequestReceived]
  - level: Request
    resources: [{ group: payments.kubegate.dev, resources: ["charges/*"] }]
  - level: Metadata
    nonResourceURLs: ["*"]
`);

  it.each<[string, UserInfo | undefined, RequestAttributes, string]>([
    ['users', { name: 'system:kube-aggregator', groups: [] }, list, 'None'],
    ['nonResourceURLs prefix', alice, { verb: 'get', path: '/healthz/ping' }, 'None'],
    ['nonResourceURLs exact', alice, { verb: 'get', path: '/version' }, 'None'],
    ['resourceNames', alice, { ...list, verb: 'get', name: 'berlin' }, 'RequestResponse'],
    ['other name', alice, { ...list, verb: 'get', name: 'paris' }, 'None'],
    ['userGroups and verbs', { name: 'root', groups: ['admins'] }, list, 'Request'],
    ['no user: user rules never match', undefined, { verb: 'get', path: '/apis' }, 'Metadata'],
    [
      'namespaces',
      alice,
      { verb: 'list', group: 'payments.kubegate.dev', resource: 'charges', namespace: 'checkout' },
      'Metadata',
    ],
    [
      '*/subresource',
      alice,
      { verb: 'get', group: 'payments.kubegate.dev', resource: 'charges', subresource: 'proxy', namespace: 'x' },
      'Metadata',
    ],
    [
      'resource/* matches subresources only when listed so',
      alice,
      { verb: 'get', group: 'payments.kubegate.dev', resource: 'charges', subresource: 'status', namespace: 'x' },
      'Request',
    ],
    ['a resource rule never matches a path', alice, { verb: 'get', path: '/apis/x' }, 'Metadata'],
    ['nothing matches: None', alice, { verb: 'list', group: 'other.example.com', resource: 'x' }, 'None'],
  ])('%s', (_name, user, attrs, level) => {
    expect(decide(user, attrs).level).toBe(level);
  });

  it('omitStages of the policy and the rule are both omitted; omitManagedFields is overridden per rule', () => {
    const d = policy(
      `  - level: Metadata
    omitManagedFields: false
    verbs: [get]
  - level: Metadata
`,
      'omitStages: [ResponseStarted]\nomitManagedFields: true\n',
    );
    const get = d(alice, { ...list, verb: 'get' });
    expect([...get.omitStages]).toEqual(['ResponseStarted']);
    expect(get.omitManagedFields).toBe(false);
    expect(d(alice, list).omitManagedFields).toBe(true);
  });
});

describe('audit policy: validation names the field', () => {
  it.each([
    ['apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules: []', 'apiVersion: must be audit.k8s.io/v1'],
    ['apiVersion: audit.k8s.io/v1\nkind: Polcy\nrules: []', 'kind: must be Policy'],
    [
      'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Everything',
      'rules[0].level: must be None, Metadata',
    ],
    ['apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: None\n    user: [x]', 'rules[0].user'],
    [
      'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [Done]\nrules: []',
      'omitStages[0]: must be RequestReceived',
    ],
    [
      'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: None\n    nonResourceURLs: [healthz]',
      "rules[0].nonResourceURLs[0]: non-resource URL rules must begin with a '/' character",
    ],
    [
      'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: None\n    nonResourceURLs: ["/a*b"]',
      "rules[0].nonResourceURLs[0]: non-resource URL wildcards '*' must be the final character",
    ],
    [
      'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: None\n    nonResourceURLs: [/x]\n    namespaces: [a]',
      'rules[0].nonResourceURLs: rules cannot apply to both regular resources and non-resource URLs',
    ],
    [
      'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: None\n    resources: [{ resourceNames: [a] }]',
      'rules[0].resources[0].resourceNames: using resourceNames requires at least one resource',
    ],
    ['rules: [', 'not valid YAML'],
  ])('%s', (text, message) => {
    expect(() => parsePolicy(text, 'p.yaml')).toThrow(AuditPolicyError);
    expect(() => parsePolicy(text, 'p.yaml')).toThrow(message);
    try {
      parsePolicy(text, 'p.yaml');
    } catch (err) {
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('arbitrary text parses to a policy or throws one AuditPolicyError line', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parsePolicy(`apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: ${text}`);
        } catch (err) {
          expect(err).toBeInstanceOf(AuditPolicyError);
          expect((err as Error).message).not.toContain('\n');
        }
      }),
    );
  });
});
