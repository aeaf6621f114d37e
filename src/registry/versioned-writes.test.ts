import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeError } from '../k8s/errors.ts';
import { createRuntime, type Runtime } from '../resources/runtime.ts';
import { createDisksAdapter } from '../../test/helpers/disks.ts';
import { createMemoryStore } from '../store/memory.ts';
import type { ServedResource, WriteOptions } from './types.ts';

// Writes in a version other than the storage one: checked in that version's terms, converted to the hub for the
// adapter, answered in the version written.

const GROUP = 'vw.test.kubegate.dev';
const { adapter, upstream } = createDisksAdapter(GROUP, 'ns');

let runtime: Runtime;
let beta: ServedResource;
let v1: ServedResource;
beforeAll(async () => {
  const silent = { debug() {}, info() {}, warn() {}, error() {} };
  runtime = createRuntime([{ entry: { name: 'vw', module: '(in test)' }, definition: adapter, config: {} }], {
    store: createMemoryStore(),
    log: silent,
    watch: { bookmarkIntervalMs: 60_000, maxEvents: 100, maxEventAgeMs: 60_000, maxBufferedBytes: 1 << 20 },
  });
  await runtime.start();
  await runtime.collections[0]?.poller.ready();
  beta = runtime.resource(GROUP, 'v1beta1', 'disks') as ServedResource;
  v1 = runtime.resource(GROUP, 'v1', 'disks') as ServedResource;
});
afterAll(() => runtime.stop());

const o: WriteOptions = { dryRun: false, fieldValidation: 'Strict' };
const disk = (name: string, spec: unknown, apiVersion = `${GROUP}/v1beta1`) => ({
  apiVersion,
  kind: 'Disk',
  metadata: { name, labels: { team: 'a' } },
  spec,
});

describe('writes in a non-storage version', () => {
  it('discovery offers the write verbs in every version', () => {
    expect(beta.info.verbs).toEqual(expect.arrayContaining(['create', 'delete', 'update', 'patch']));
    expect(beta.creater && beta.updater && beta.deleter).toBeTruthy();
  });

  it('creates in the hub shape and answers in the version written; both versions read the object', async () => {
    const w = await beta.creater!.create('ns', disk('d1', { sizeMiB: 2048 }), o);
    expect(w.status).toBe(201);
    expect(upstream.get('d1')).toEqual({ sizeGiB: 2, labels: { team: 'a' } });
    const answered = JSON.parse(w.json) as { apiVersion: string; spec: unknown; metadata: { resourceVersion: string } };
    expect(answered.apiVersion).toBe(`${GROUP}/v1beta1`);
    expect(answered.spec).toEqual({ sizeMiB: 2048 });
    const hub = JSON.parse((await v1.getter.get('ns', 'd1')).entry.json.toString()) as typeof answered;
    expect(hub.spec).toEqual({ sizeGiB: 2 });
    expect(hub.metadata.resourceVersion).toBe(answered.metadata.resourceVersion);
  });

  it("refuses an object invalid in its own version with that version's field names", async () => {
    const err = await beta.creater!.create('ns', disk('d2', { sizeMiB: 10 }), o).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KubeError);
    expect((err as KubeError).code).toBe(422);
    expect((err as KubeError).message).toContain('spec.sizeMiB');
    const strict = await beta.creater!.create('ns', disk('d2', { sizeGiB: 3 }), o).catch((e: unknown) => e);
    expect((strict as KubeError).message).toBe('strict decoding error: unknown field "spec.sizeGiB"');
    const other = await beta
      .creater!.create('ns', disk('d2', { sizeMiB: 2048 }, `${GROUP}/v1`), o)
      .catch((e: unknown) => e);
    expect((other as KubeError).code).toBe(400);
    expect(upstream.has('d2')).toBe(false);
  });

  it('patches the object as its version shows it, and deletes', async () => {
    const w = await beta.updater!.patch('ns', 'd1', { type: 'merge', patch: { spec: { sizeMiB: 4096 } } }, o);
    expect((JSON.parse(w.json) as { spec: unknown }).spec).toEqual({ sizeMiB: 4096 });
    expect(upstream.get('d1')?.sizeGiB).toBe(4);
    expect(upstream.get('d1')?.labels).toEqual({ team: 'a' });
    const dry = await beta.creater!.create('ns', disk('d3', { sizeMiB: 1024 }), { ...o, dryRun: true });
    expect((JSON.parse(dry.json) as { spec: unknown }).spec).toEqual({ sizeMiB: 1024 });
    expect(upstream.has('d3')).toBe(false);
    await beta.deleter!.delete('ns', 'd1', undefined, o);
    expect(upstream.has('d1')).toBe(false);
  });
});
