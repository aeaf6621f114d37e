import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeError } from '../k8s/errors.ts';
import { parseListOptions } from '../k8s/params.ts';
import { createRuntime, type Runtime } from '../resources/runtime.ts';
import { defineAdapter, defineResource, Type } from '../sdk/index.ts';
import type { ObjectInput } from '../sdk/types.ts';
import { createMemoryStore } from '../store/memory.ts';
import type { ServedResource } from './types.ts';

// Behaviour mirrored and pass-through resources share, run against both: the handler relies on it without
// knowing which kind it talks to.

const GROUP = 'contract.test.kubegate.dev';
const ITEMS: ObjectInput[] = ['a', 'b', 'c', 'd', 'e'].flatMap((n, i) => [
  { name: `${n}-one`, namespace: 'one', labels: { tier: i % 2 === 0 ? 'gold' : 'silver' }, status: { n: i } },
  { name: `${n}-two`, namespace: 'two', labels: { tier: 'silver' }, status: { n: i + 10 } },
]);
const common = {
  scope: 'Namespaced' as const,
  schema: { status: Type.Object({ n: Type.Number() }) },
  columns: [{ name: 'N', type: 'number' as const, jsonPath: '.status.n' }],
};
const adapter = defineAdapter({
  name: 'contract',
  group: GROUP,
  version: 'v1',
  config: Type.Object({}),
  resources: [
    defineResource({
      ...common,
      kind: 'Mirrored',
      plural: 'mirrored',
      mode: 'mirror',
      pollInterval: '1h',
      list: () => Promise.resolve(ITEMS),
    }),
    defineResource({
      ...common,
      kind: 'Forwarded',
      plural: 'forwarded',
      mode: 'passthrough',
      maxPageSize: 3,
      listPage: (_ctx, page) => {
        const all = ITEMS.filter((i) => page.namespace === undefined || i.namespace === page.namespace);
        const start = Number(page.cursor ?? 0);
        const next = start + page.limit;
        return Promise.resolve({
          items: all.slice(start, next),
          ...(next < all.length ? { cursor: String(next) } : {}),
        });
      },
      get: (_ctx, ref) => Promise.resolve(ITEMS.find((i) => i.name === ref.name && i.namespace === ref.namespace)),
    }),
  ],
});

let runtime: Runtime;
beforeAll(async () => {
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  runtime = createRuntime([{ entry: { name: 'contract', module: '(in test)' }, definition: adapter, config: {} }], {
    store: createMemoryStore(),
    log: silent,
    watch: { bookmarkIntervalMs: 60_000, maxEvents: 100, maxEventAgeMs: 60_000, maxBufferedBytes: 1 << 20 },
  });
  await runtime.start();
  await runtime.collections[0]?.poller.ready();
});
afterAll(() => runtime.stop());

const opts = (q: Record<string, string> = {}) => parseListOptions(q, new Set(['metadata.name', 'metadata.namespace']));

/** Every page of a list, following continue tokens. */
async function listAll(r: ServedResource, namespace: string | undefined, q: Record<string, string>) {
  const names: string[] = [];
  let cont = '';
  for (let i = 0; i < 20; i++) {
    const page = await r.lister.list(namespace, opts({ ...q, ...(cont ? { continue: cont } : {}) }));
    names.push(...page.entries.map((e) => e.key));
    expect(page.meta.resourceVersion).toBeGreaterThan(0);
    cont = page.meta.continue ?? '';
    if (!cont) return names.sort();
  }
  throw new Error('continue tokens never ended');
}

describe.each(['mirrored', 'forwarded'])('%s resources', (plural) => {
  const resource = () => {
    const r = runtime.resource(GROUP, 'v1', plural);
    if (!r) throw new Error(`no ${plural}`);
    return r;
  };

  it('are found by group, version and plural; unknown names are not', () => {
    expect(resource().info).toMatchObject({ group: GROUP, version: 'v1', plural, namespaced: true });
    expect(runtime.resource(GROUP, 'v1', 'nothing')).toBeUndefined();
    expect(runtime.resource(GROUP, 'v2', plural)).toBeUndefined();
  });

  it('get returns the object with a resourceVersion, and NotFound naming the resource', async () => {
    const { entry } = await resource().getter.get('one', 'c-one');
    expect(entry.obj.metadata).toMatchObject({ name: 'c-one', namespace: 'one', labels: { tier: 'gold' } });
    expect(Number(JSON.parse(entry.json.toString()).metadata.resourceVersion)).toBeGreaterThan(0);
    const err = await resource()
      .getter.get('one', 'zzz')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    expect(err).toMatchObject({ code: 404, reason: 'NotFound', message: `${plural}.${GROUP} "zzz" not found` });
  });

  it('lists every object across pages, per namespace, and with label and field selectors', async () => {
    const r = resource();
    expect(await listAll(r, undefined, { limit: '4' })).toEqual(ITEMS.map((i) => `${i.namespace}/${i.name}`).sort());
    expect(await listAll(r, 'two', { limit: '2' })).toEqual(
      ITEMS.filter((i) => i.namespace === 'two').map((i) => `two/${i.name}`),
    );
    expect(await listAll(r, undefined, { limit: '2', labelSelector: 'tier=gold' })).toEqual([
      'one/a-one',
      'one/c-one',
      'one/e-one',
    ]);
    expect(await listAll(r, undefined, { fieldSelector: 'metadata.name=d-two' })).toEqual(['two/d-two']);
  });

  it('converts objects and lists to Tables with the declared columns', async () => {
    const r = resource();
    const { entry } = await r.getter.get('two', 'b-two');
    const one = JSON.parse(r.encoder.objectTable(entry, 'v1', 'Metadata').toString()) as {
      kind: string;
      columnDefinitions: { name: string }[];
      rows: { cells: unknown[] }[];
    };
    expect(one.kind).toBe('Table');
    expect(one.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'N', 'Age']);
    expect(one.rows[0]?.cells.slice(0, 2)).toEqual(['b-two', 11]);
    const page = await r.lister.list('one', opts({ limit: '50' }));
    const table = JSON.parse(r.encoder.listTable(page.entries, page.meta, 'v1', 'None').toString()) as {
      rows: unknown[];
      metadata: { resourceVersion: string };
    };
    expect(table.rows).toHaveLength(page.entries.length);
    expect(table.metadata.resourceVersion).toBe(String(page.meta.resourceVersion));
  });

  it('offer a watcher exactly when discovery advertises watch', () => {
    const r = resource();
    expect(r.watcher !== undefined).toBe(r.info.verbs.includes('watch'));
  });
});
