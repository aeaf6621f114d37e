import type { AdapterEntry } from '../config/schema.ts';
import { prepareAdapter, type LoadedAdapter } from '../config/adapters.ts';
import { KubeError } from '../k8s/errors.ts';
import { parseListOptions } from '../k8s/params.ts';
import type { KubeObject } from '../k8s/types.ts';
import { createRuntime, type Runtime } from '../resources/runtime.ts';
import type { SkippedItem } from '../resources/skips.ts';
import type { AdapterDefinition, AdapterLogger, ResourceDefinition } from '../sdk/types.ts';
import { createMemoryStore } from '../store/memory.ts';

export type { SkippedItem };

/** An adapter as a test runs it: the definition, its config as written in kubegate.yaml, and where it fetches. */
export interface AdapterUnderTest {
  /** The adapter module's default export. */
  adapter: AdapterDefinition;
  /** The `config` of its entry in kubegate.yaml; validated against the adapter's schema, defaults applied. */
  config?: unknown;
  /** The fetch under the adapter's resilience policy: recorded fixtures ({@link fixtureFetch}); default global fetch. */
  fetch?: typeof fetch;
  /** `resilience` of the entry (timeouts, retries...); default kubegate's. */
  resilience?: AdapterEntry['resilience'];
  /** Which resource: its plural or kind; default the adapter's only resource. */
  resource?: string;
  /** Where the adapter's log lines go; default nowhere. */
  log?: AdapterLogger;
}

/**
 * What one call returned: the objects exactly as kubegate serves them, and every item it skipped (schema
 * mismatch with the failing path, duplicate or missing name, `ctx.skip`) with its kind and reason.
 */
export interface RunResult {
  objects: KubeObject[];
  skipped: SkippedItem[];
}

const quiet: AdapterLogger = { debug() {}, info() {}, warn() {}, error() {} };

function pickResource(adapter: LoadedAdapter['definition'], which: string | undefined): ResourceDefinition {
  const all = adapter.resources;
  const r = which === undefined && all.length === 1 ? all[0] : all.find((x) => x.plural === which || x.kind === which);
  if (!r)
    throw new Error(
      `adapter ${adapter.name}: ${which === undefined ? 'name the resource' : `no resource "${which}"`} ` +
        `(one of ${all.map((x) => x.plural).join(', ')})`,
    );
  return r;
}

/** The runtime `kubegate serve` builds, for one resource, on a memory store, collecting every skipped item. */
async function withRuntime<T>(
  o: AdapterUnderTest,
  mode: ResourceDefinition['mode'],
  use: (rt: Runtime, skipped: SkippedItem[]) => Promise<T>,
): Promise<T> {
  // Resources made from the config (a function of it) exist once the config is loaded.
  const all = prepareAdapter(
    {
      name: o.adapter.name,
      module: '(in test)',
      ...(o.resilience ? { resilience: o.resilience } : {}),
      config: o.config,
    },
    o.adapter,
  );
  const resource = pickResource(all.definition, o.resource);
  if (resource.mode !== mode)
    throw new Error(
      `${resource.plural} is a ${resource.mode === 'mirror' ? 'mirror' : 'pass-through'} resource: use ` +
        (resource.mode === 'mirror' ? 'listOnce' : 'listPageOnce or getOnce'),
    );
  const loaded: LoadedAdapter = { ...all, definition: { ...all.definition, resources: [resource] } };
  const skipped: SkippedItem[] = [];
  const rt = createRuntime([loaded], {
    store: createMemoryStore(),
    log: o.log ?? quiet,
    watch: { bookmarkIntervalMs: 60_000, maxEvents: 100, maxEventAgeMs: 60_000, maxBufferedBytes: 1 << 20 },
    onSkip: (_adapter, _resource, s) => skipped.push(s),
    ...(o.fetch ? { baseFetch: o.fetch } : {}),
  });
  try {
    return await use(rt, skipped);
  } finally {
    await rt.stop();
  }
}

/**
 * Runs a mirror resource's `list` once, as one poll of kubegate would, and returns the objects it would serve
 * (names and labels mapped, uid, resourceVersion and creationTimestamp set) and the items it skipped. A poll
 * that fails (upstream error, thrown mapping, the delete guard) rejects with its cause.
 *
 * @example
 * const { objects, skipped } = await listOnce({ adapter, config: { baseUrl: fake.url } });
 * expect(skipped).toEqual([]);
 * expect(objects.map((o) => o.metadata.name)).toContain('paris');
 */
export function listOnce(o: AdapterUnderTest): Promise<RunResult> {
  return withRuntime(o, 'mirror', async (rt, skipped) => {
    const c = rt.collections[0];
    if (!c) throw new Error('no mirrored collection');
    await rt.start();
    await c.poller.ready();
    if (c.poller.status.lastError !== undefined) throw new Error(`${c.info.plural}: ${c.poller.status.lastError}`);
    return { objects: c.view.sorted().map((e) => e.obj), skipped };
  });
}

/** A page request of a pass-through resource, as kubectl sends it. */
export interface PageQuery {
  /** `?limit=`; default 500 (kubectl's chunk size), capped by the resource's maxPageSize. */
  limit?: number;
  /** `continue` of the previous page's result. */
  continue?: string;
  namespace?: string;
  /** `-l`, e.g. `team=payments` */
  labelSelector?: string;
  /** `--field-selector`, e.g. `status.state=open` */
  fieldSelector?: string;
}

/**
 * Runs one list request of a pass-through resource, as one page of `kubectl get --chunk-size` would: declared
 * selectors pushed down, every selector re-applied, the upstream's cursor inside the `continue` token.
 *
 * @example
 * const page = await listPageOnce({ adapter, config, resource: 'charges' }, { limit: 10 });
 * const next = await listPageOnce({ adapter, config, resource: 'charges' }, { limit: 10, continue: page.continue });
 */
export function listPageOnce(
  o: AdapterUnderTest,
  q: PageQuery = {},
): Promise<RunResult & { continue: string | undefined; warnings: string[] }> {
  return withRuntime(o, 'passthrough', async (rt, skipped) => {
    const r = rt.passthrough[0];
    if (!r) throw new Error('no pass-through resource');
    const query: Record<string, string> = { limit: String(q.limit ?? 500) };
    if (q.continue) query.continue = q.continue;
    if (q.labelSelector) query.labelSelector = q.labelSelector;
    if (q.fieldSelector) query.fieldSelector = q.fieldSelector;
    const page = await r.lister.list(q.namespace, parseListOptions(query, r.supportedFields));
    return {
      objects: page.entries.map((e) => e.obj),
      skipped,
      continue: page.meta.continue,
      warnings: page.warnings ?? [],
    };
  });
}

/**
 * Runs one get of a pass-through resource, as `kubectl get KIND NAME` would; `object` is undefined when
 * kubegate would answer 404.
 *
 * @example
 * const { object } = await getOnce({ adapter, config, resource: 'charges' }, { name: 'ch-1', namespace: 'team-a' });
 */
export function getOnce(
  o: AdapterUnderTest,
  ref: { name: string; namespace?: string },
): Promise<{ object: KubeObject | undefined; skipped: SkippedItem[] }> {
  return withRuntime(o, 'passthrough', async (rt, skipped) => {
    const r = rt.passthrough[0];
    if (!r) throw new Error('no pass-through resource');
    try {
      const got = await r.getter.get(ref.namespace, ref.name);
      return { object: got.entry.obj, skipped };
    } catch (err) {
      if (err instanceof KubeError && err.code === 404) return { object: undefined, skipped };
      throw err;
    }
  });
}
