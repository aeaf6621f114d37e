import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type, defineAdapter, defineResource } from '../sdk/index.ts';
import { checkConfig, pathProblem } from './checks.ts';
import { parseConfig } from './load.ts';

const Status = Type.Object({
  temperatureC: Type.Number(),
  daily: Type.Array(Type.Object({ condition: Type.String() })),
  extra: Type.Optional(Type.Unknown()),
  tags: Type.Optional(Type.Record(Type.String(), Type.String())),
  kind: Type.Union([Type.Object({ a: Type.String() }), Type.Object({ b: Type.String() })]),
});

const resource = (columns: string[], fields: string[] = []) =>
  defineResource({
    kind: 'Thing',
    plural: 'things',
    scope: 'Cluster',
    mode: 'mirror',
    schema: { status: Status },
    columns: columns.map((jsonPath, i) => ({ name: `c${i}`, type: 'string' as const, jsonPath })),
    fields,
    list: () => Promise.resolve([]),
  });

const adapter = (columns: string[], fields: string[] = []) =>
  defineAdapter({
    name: 'things',
    group: 'things.example.com',
    version: 'v1',
    config: Type.Object({ baseUrl: Type.String(), nested: Type.Optional(Type.Object({ a: Type.Number() })) }),
    resources: [resource(columns, fields)],
  });

describe('object paths against the resource schema', () => {
  it.each([
    ['.status.temperatureC', undefined],
    ['{.status.daily[0].condition}', undefined],
    ['.status.daily[*].condition', undefined],
    ['.status.extra.anything.below', undefined],
    ['.status.tags.owner', undefined],
    ['.status.kind.b', undefined],
    ['.metadata.labels.country', undefined],
    ['.metadata.creationTimestamp', undefined],
    ['status.temperatureC', undefined],
    ['.status.temprature', 'status schema has no "temprature" there'],
    ['.status.daily[0].conditon', 'status schema has no "conditon" there'],
    ['.status.kind.c', 'status schema has no "c" there'],
    ['.spec.x', 'the resource declares no spec schema'],
    ['.metadata.owner', 'metadata has no field "owner"'],
    ['.data.x', 'objects have no "data" (use metadata, spec or status)'],
  ])('%s', (path, want) => {
    expect(pathProblem(resource([]), path)).toBe(want);
  });
});

describe('checkConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubegate-checks-'));
  const file = join(dir, 'kubegate.yaml');
  writeFileSync(join(dir, 'tls.crt'), 'x');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const check = (yaml: string, columns: string[], fields: string[] = [], env: NodeJS.ProcessEnv = {}) => {
    const loaded = parseConfig(yaml, file);
    const entry = loaded.config.adapters[0]!;
    return checkConfig(loaded, [{ entry, definition: adapter(columns, fields), config: entry.config }], { env });
  };
  const base = ['adapters:', '  - name: things', '    module: ./things.ts', '    config:', '      baseUrl: http://x'];

  it('a good config has no problems; certificate paths are relative to the config file', () => {
    const yaml = ['server:', '  tls:', '    certFile: tls.crt', ...base].join('\n');
    expect(check(yaml, ['.status.temperatureC'], ['status.kind.a'])).toEqual([]);
  });

  it('names columns, fields, certificates, short tokens and unknown adapter config keys, one line each', () => {
    const yaml = [
      'server:',
      '  tls:',
      '    certFile: missing.crt',
      '    keyFile: /nowhere/tls.key',
      'auth:',
      '  tokens:',
      '    - tokenEnv: SHORT_TOKEN',
      '      user: a',
      '    - tokenEnv: UNSET_TOKEN',
      '      user: b',
      ...base,
      '      nested: { a: 1, b: 2 }',
      '      baseURL: http://typo',
    ].join('\n');
    const problems = check(yaml, ['.status.temprature'], ['status.nope'], { SHORT_TOKEN: 'abc123' });
    expect(problems).toEqual([
      expect.stringMatching(
        /^server\.tls\.certFile: "missing\.crt" does not exist \(relative to the config file's folder\) \(.*kubegate\.yaml line 3\)$/,
      ),
      expect.stringMatching(/^server\.tls\.keyFile: "\/nowhere\/tls\.key" does not exist \(.*line 4\)$/),
      expect.stringMatching(
        /^auth\.tokens\[0\]\.tokenEnv: the token in SHORT_TOKEN is 6 characters; use at least 16 \(.*line 7\)$/,
      ),
      expect.stringMatching(/^auth\.tokens\[1\]\.tokenEnv: environment variable UNSET_TOKEN is not set \(.*line 9\)$/),
      expect.stringMatching(/^adapters\[0\]\.config\.nested\.b: unknown field \(adapter "things"\) \(.*line 16\)$/),
      expect.stringMatching(/^adapters\[0\]\.config\.baseURL: unknown field \(adapter "things"\) \(.*line 17\)$/),
      expect.stringMatching(
        /^adapters\[0\] \(things\): Thing columns\[0\]\.jsonPath "\.status\.temprature": status schema has no "temprature" there \(.*line 13\)$/,
      ),
      expect.stringMatching(
        /^adapters\[0\] \(things\): Thing fields "status\.nope": status schema has no "nope" there \(.*line 13\)$/,
      ),
    ]);
    expect(problems.join('\n')).not.toContain('abc123');
    for (const p of problems) expect(p).not.toContain('\n');
  });

  it('reports a watch.sessionBufferedBytes above half of server.http2.maxSessionMemory in one line, as startup refuses it', () => {
    const over = ['server:', '  http2:', '    maxSessionMemory: 8388608', 'watch:', '  sessionBufferedBytes: 5242880'];
    expect(check([...over, ...base].join('\n'), [])).toEqual([
      expect.stringMatching(
        /^watch\.sessionBufferedBytes: 5242880 is more than half of server\.http2\.maxSessionMemory \(8388608\); lower it or raise server\.http2\.maxSessionMemory \(.*kubegate\.yaml line 5\)$/,
      ),
    ]);
    // The default buffer (32 MiB) against a lowered ceiling: the line points at the ceiling.
    expect(check(['server:', '  http2:', '    maxSessionMemory: 8388608', ...base].join('\n'), [])).toEqual([
      expect.stringMatching(/^watch\.sessionBufferedBytes: 33554432 is more than half .*\(.*kubegate\.yaml line 3\)$/),
    ]);
    // Exactly half is fine.
    const half = ['server:', '  http2:', '    maxSessionMemory: 8388608', 'watch:', '  sessionBufferedBytes: 4194304'];
    expect(check([...half, ...base].join('\n'), [])).toEqual([]);
  });

  it('checks the audit policy as serve would read it: a missing file, a bad file, a bad inline policy', () => {
    const audit = (lines: string[]) => check([...base, 'audit:', '  path: audit.log', ...lines].join('\n'), []);
    writeFileSync(
      join(dir, 'good-policy.yaml'),
      'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n',
    );
    writeFileSync(join(dir, 'bad-policy.yaml'), 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Loud\n');
    expect(audit(['  policyFile: good-policy.yaml'])).toEqual([]);
    const [missing] = audit(['  policyFile: nowhere.yaml']);
    expect(missing).toMatch(
      /^audit\.policyFile: "nowhere\.yaml" does not exist \(relative to the config file's folder\) \(.*kubegate\.yaml line \d+\)$/,
    );
    const [bad] = audit(['  policyFile: bad-policy.yaml']);
    expect(bad).toMatch(/^audit\.policyFile bad-policy\.yaml: rules\[0\]\.level: .*\(.*kubegate\.yaml line \d+\)$/);
    const [inline] = audit([
      '  policy:',
      '    apiVersion: audit.k8s.io/v1',
      '    kind: Policy',
      '    rules:',
      '      - level: Loud',
    ]);
    expect(inline).toMatch(/^audit\.policy: rules\[0\]\.level: .*\(.*kubegate\.yaml line \d+\)$/);
  });

  it('a short inline token is reported by its length, never printed', () => {
    expect(() =>
      parseConfig(['auth:', '  tokens:', '    - token: tiny-secret', '      user: a', ...base].join('\n'), file),
    ).toThrow(/^auth\.tokens\[0\]\.token: Expected string length greater or equal to 16 .*got 11 characters \(/);
    expect(() =>
      parseConfig(['auth:', '  tokens:', '    - token: tiny-secret', '      user: a', ...base].join('\n'), file),
    ).not.toThrow(/tiny-secret/);
  });
});

describe('checkConfig with resource versions', () => {
  it("checks each version's columns and fields against that version's schema", async () => {
    const weather = (await import('../../adapters/weather/index.ts')).default;
    const yaml = [
      'adapters:',
      '  - name: weather',
      '    module: ./weather.ts',
      '    config:',
      '      baseUrl: http://x',
    ];
    const loaded = parseConfig(yaml.join('\n'), '/tmp/kubegate.yaml');
    const entry = loaded.config.adapters[0]!;
    expect(checkConfig(loaded, [{ entry, definition: weather, config: entry.config }])).toEqual([]);
    const r = weather.resources[0]!;
    const broken = {
      ...weather,
      resources: [
        {
          ...r,
          versions: r.versions?.map((v) => (v.storage ? v : { ...v, fields: ['status.wind.speedKmh'] })),
        },
      ],
    };
    expect(checkConfig(loaded, [{ entry, definition: broken, config: entry.config }])).toEqual([
      expect.stringMatching(/^adapters\[0\] \(weather\): Forecast v1alpha1 fields "status\.wind\.speedKmh": /),
    ]);
  });
});
