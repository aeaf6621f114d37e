import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { DefinitionError, defineAdapter, defineResource } from './define.ts';
import type { AdapterDefinition, PassThroughResource, ResourceDefinition, VersionedObject } from './types.ts';

const mirror = {
  kind: 'Forecast',
  plural: 'forecasts',
  scope: 'Cluster',
  mode: 'mirror',
  schema: { status: Type.Object({ temperatureC: Type.Number() }) },
  list: () => Promise.resolve([]),
} as const;

const passthrough = {
  kind: 'Charge',
  plural: 'charges',
  scope: 'Namespaced',
  mode: 'passthrough',
  schema: {},
  listPage: () => Promise.resolve({ items: [] }),
  get: () => Promise.resolve(undefined),
} as const;

/** A copy of `base` with the options of `change` set, those set to `undefined` left out. */
function changed(base: object, change: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries({ ...base, ...change }).filter(([, v]) => v !== undefined));
}

/** Defines a resource from a valid one with some options changed (or removed, with `undefined`). */
function resource(base: object, change: Record<string, unknown>): () => ResourceDefinition {
  const def = changed(base, change);
  return () => defineResource(def as unknown as ResourceDefinition & { mode: 'mirror' });
}

describe('defineResource', () => {
  it('accepts valid mirror and pass-through definitions as they are', () => {
    expect(defineResource(mirror)).toBe(mirror);
    expect(defineResource(passthrough)).toBe(passthrough);
    const full = {
      ...passthrough,
      mode: 'passthrough',
      singular: 'charge',
      shortNames: ['ch'],
      categories: ['payments'],
      cacheTtl: '30s',
      maxPageSize: 50,
      namePattern: '^ch-[a-z0-9]+$',
      fields: ['spec.customer'],
      pushDown: { labels: ['customer'], fields: ['spec.customer', 'metadata.name'], namespace: true },
      columns: [{ name: 'Amount', type: 'integer', jsonPath: '.spec.amount' }],
      proxy: { baseUrl: () => 'https://api.example.com', target: () => '/v1/x' },
    } satisfies PassThroughResource;
    expect(defineResource(full)).toBe(full);
  });

  // Each row: what is wrong, the definition, and the option the error must name.
  const cases: [string, () => unknown, RegExp][] = [
    ['missing kind', resource(mirror, { kind: undefined }), /kind must be UpperCamelCase/],
    ['lower-case kind', resource(mirror, { kind: 'forecast' }), /kind must be UpperCamelCase/],
    ['missing plural', resource(mirror, { plural: undefined }), /plural is required/],
    ['plural with capitals', resource(mirror, { plural: 'Forecasts' }), /plural "Forecasts" must be a lower-case/],
    ['plural with a dot', resource(mirror, { plural: 'fore.casts' }), /plural "fore.casts"/],
    ['bad singular', resource(mirror, { singular: 'Fore_cast' }), /singular "Fore_cast"/],
    ['bad short name', resource(mirror, { shortNames: ['FC'] }), /shortNames: "FC"/],
    ['category "all"', resource(mirror, { categories: ['all'] }), /categories: "all" is not allowed/],
    ['bad category', resource(mirror, { categories: ['A B'] }), /categories: "A B"/],
    ['unknown scope', resource(mirror, { scope: 'Global' }), /scope must be "Cluster" or "Namespaced"/],
    ['unknown mode', resource(mirror, { mode: 'cache' }), /mode "cache" is not supported/],
    ['mirror without list', resource(mirror, { list: undefined }), /list must be a function/],
    ['unparsable pollInterval', resource(mirror, { pollInterval: '5 minutes' }), /pollInterval/],
    ['negative pollInterval', resource(mirror, { pollInterval: -1 }), /pollInterval/],
    ['too short pollInterval', resource(mirror, { pollInterval: '10ms' }), /pollInterval must be at least 100ms/],
    [
      'deleteGuard ratio above 1',
      resource(mirror, { deleteGuard: { maxDeleteRatio: 1.5 } }),
      /deleteGuard.maxDeleteRatio must be between 0 and 1/,
    ],
    [
      'deleteGuard negative minObjects',
      resource(mirror, { deleteGuard: { minObjects: -2 } }),
      /deleteGuard.minObjects must be a non-negative integer/,
    ],
    ['pass-through without listPage', resource(passthrough, { listPage: undefined }), /listPage must be a function/],
    ['pass-through without get', resource(passthrough, { get: undefined }), /get must be a function/],
    ['unparsable cacheTtl', resource(passthrough, { cacheTtl: 'soon' }), /cacheTtl/],
    ['change feed without read', resource(passthrough, { changes: {} }), /changes.read must be a function/],
    [
      'too short change feed interval',
      resource(passthrough, {
        changes: { interval: '10ms', read: () => Promise.resolve({ changes: [], cursor: 'x' }) },
      }),
      /changes.interval must be at least 100ms/,
    ],
    ['zero maxPageSize', resource(passthrough, { maxPageSize: 0 }), /maxPageSize must be a positive integer/],
    ['fractional maxPageSize', resource(passthrough, { maxPageSize: 2.5 }), /maxPageSize must be a positive integer/],
    ['invalid namePattern', resource(passthrough, { namePattern: '(' }), /namePattern "\(" is not a valid/],
    ['namePattern of another type', resource(passthrough, { namePattern: 42 }), /namePattern must be a RegExp/],
    ['global namePattern', resource(passthrough, { namePattern: /^ch-/g }), /namePattern must not have the g or y/],
    [
      'pushed-down field not selectable',
      resource(passthrough, { pushDown: { fields: ['spec.customer'] } }),
      /pushDown.fields: "spec.customer" is not in fields/,
    ],
    [
      'column without name',
      resource(mirror, { columns: [{ type: 'string', jsonPath: '.a' }] }),
      /columns\[0\].name is required/,
    ],
    [
      'column declared twice',
      resource(mirror, {
        columns: [
          { name: 'A', type: 'string', jsonPath: '.a' },
          { name: 'A', type: 'string', jsonPath: '.b' },
        ],
      }),
      /columns\[1\].name "A" is declared twice/,
    ],
    [
      'column of unknown type',
      resource(mirror, { columns: [{ name: 'A', type: 'float', jsonPath: '.a' }] }),
      /columns\[0\].type must be/,
    ],
    [
      'column without jsonPath',
      resource(mirror, { columns: [{ name: 'A', type: 'string' }] }),
      /columns\[0\].jsonPath is required/,
    ],
    [
      'column jsonPath not starting with a dot',
      resource(mirror, { columns: [{ name: 'A', type: 'string', jsonPath: 'status.a' }] }),
      /columns\[0\].jsonPath must start with "."/,
    ],
    ['field selector that is not a path', resource(mirror, { fields: ['status a'] }), /fields: "status a"/],
    [
      'proxy without target',
      resource(mirror, { proxy: { baseUrl: () => 'https://x' } }),
      /proxy.baseUrl and proxy.target/,
    ],
  ];

  it.each(cases)('rejects a definition with %s, naming the option', (_what, define, message) => {
    let err: unknown;
    try {
      define();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DefinitionError);
    expect((err as Error).message).toMatch(/^resource "?\w*"?: /);
    expect((err as Error).message).toMatch(message);
  });
});

describe('defineAdapter', () => {
  const base = {
    name: 'weather',
    group: 'weather.example.com',
    version: 'v1alpha1',
    config: Type.Object({ baseUrl: Type.String() }),
    resources: [defineResource(mirror)],
  };
  const adapter = (change: Record<string, unknown>) => () => {
    const def = changed(base, change);
    return defineAdapter(def as unknown as AdapterDefinition<typeof base.config>);
  };

  it('accepts a valid definition as it is', () => {
    expect(defineAdapter(base)).toBe(base);
  });

  const cases: [string, () => unknown, RegExp][] = [
    ['missing name', adapter({ name: undefined }), /name must be a lower-case DNS label/],
    ['name with capitals', adapter({ name: 'Weather' }), /name must be a lower-case DNS label/],
    ['group without a dot', adapter({ group: 'weather' }), /group "weather" must be a DNS subdomain with a dot/],
    ['group with capitals', adapter({ group: 'Weather.example.com' }), /group "Weather.example.com"/],
    ['bad version', adapter({ version: '1.0' }), /version "1.0" must look like v1/],
    ['config that is not an object schema', adapter({ config: Type.String() }), /config must be a TypeBox/],
    ['missing config', adapter({ config: undefined }), /config must be a TypeBox/],
    ['no resources', adapter({ resources: [] }), /resources must not be empty/],
    ['missing resources', adapter({ resources: undefined }), /resources must not be empty/],
    [
      'duplicate plurals',
      adapter({ resources: [defineResource(mirror), defineResource({ ...mirror, kind: 'Other' })] }),
      /resource plural "forecasts" is declared twice/,
    ],
    [
      'duplicate kinds',
      adapter({ resources: [defineResource(mirror), defineResource({ ...mirror, plural: 'others' })] }),
      /resource kind "Forecast" is declared twice/,
    ],
  ];

  it.each(cases)('rejects a definition with %s, naming the option', (_what, define, message) => {
    expect(define).toThrow(DefinitionError);
    expect(define).toThrow(message);
  });
});

describe('resource versions', () => {
  const same = (o: VersionedObject) => o;
  const hub = { name: 'v1', storage: true };
  const alpha = { name: 'v1alpha1', deprecated: true, fromHub: same, toHub: same };
  const versioned = (versions: unknown) => resource(mirror, { versions });

  it('accepts a storage version and converted ones', () => {
    const def = { ...mirror, versions: [hub, alpha, { name: 'v1beta1', served: false }] };
    expect(defineResource(def)).toBe(def);
    const adapter = {
      name: 'weather',
      group: 'weather.example.com',
      version: 'v1',
      config: Type.Object({}),
      resources: [defineResource(def)],
    };
    expect(defineAdapter(adapter)).toBe(adapter);
  });

  const cases: [string, () => unknown, RegExp][] = [
    ['no versions', versioned([]), /versions must be a non-empty array/],
    ['no storage version', versioned([{ name: 'v1' }, alpha]), /exactly one version must be the storage version/],
    [
      'two storage versions',
      versioned([hub, { name: 'v2', storage: true }]),
      /exactly one version must be the storage version.*found 2/,
    ],
    [
      'a name declared twice',
      versioned([hub, { ...alpha, name: 'v1' }]),
      /versions\[1\]: version "v1" is declared twice/,
    ],
    ['a bad name', versioned([hub, { ...alpha, name: 'version2' }]), /versions\[1\]: name "version2" must look like/],
    [
      'no served version',
      versioned([
        { ...hub, served: false },
        { ...alpha, served: false },
      ]),
      /at least one version must be served/,
    ],
    ['one conversion of two', versioned([hub, { name: 'v2', fromHub: same }]), /give both fromHub and toHub/],
    ['a conversion on the hub', versioned([{ ...hub, fromHub: same, toHub: same }]), /the storage version is the hub/],
    ['a schema on the hub', versioned([{ ...hub, columns: [] }]), /declare them there/],
    [
      'a warning on a version that is not deprecated',
      versioned([hub, { name: 'v2', deprecationWarning: 'old' }]),
      /deprecationWarning can only be set on a deprecated version/,
    ],
    [
      'a warning with a line break',
      versioned([hub, { ...alpha, deprecationWarning: 'a\nb' }]),
      /deprecationWarning must be 1 to 256 printable characters/,
    ],
    [
      'a bad column of a version',
      versioned([hub, { ...alpha, columns: [{ name: 'A', type: 'string', jsonPath: 'a' }] }]),
      /versions\[1\]: columns\[0\].jsonPath must start with "."/,
    ],
    ['versions on a pass-through resource', resource(passthrough, { versions: [hub] }), /only mirror resources/],
  ];

  it.each(cases)('rejects %s, naming the option', (_what, define, message) => {
    expect(define).toThrow(DefinitionError);
    expect(define).toThrow(message);
  });

  it('the storage version must be the adapter version', () => {
    const define = () =>
      defineAdapter({
        name: 'weather',
        group: 'weather.example.com',
        version: 'v1alpha1',
        config: Type.Object({}),
        resources: [defineResource({ ...mirror, versions: [hub, alpha] })],
      });
    expect(define).toThrow(/storage version "v1" must be the adapter's version "v1alpha1"/);
  });
});
