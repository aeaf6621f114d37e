import type { AdapterEntry } from '../config/schema.ts';
import { prepareAdapter } from '../config/adapters.ts';
import type { KubeObject } from '../k8s/types.ts';
import { parseFieldSelector } from '../k8s/fields.ts';
import { parseLabelSelector } from '../k8s/labels.ts';
import { buildObject } from '../resources/object.ts';
import { createRuntime, type Runtime } from '../resources/runtime.ts';
import { objectFilter } from '../server/list.ts';
import type {
  AdapterContext,
  AdapterDefinition,
  AdapterLogger,
  ObjectInput,
  PassThroughResource,
  ResourceDefinition,
} from '../sdk/types.ts';
import { createMemoryStore } from '../store/memory.ts';

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

/** What one call returned: the objects exactly as kubegate serves them, and every item it skipped, with why. */
export interface RunResult {
  objects: KubeObject[];
  skipped: string[];
}

const quiet: AdapterLogger = { debug() {}, info() {}, warn() {}, error() {} };

function pickResource(adapter: AdapterDefinition, which: string | undefined): ResourceDefinition {
  const all = adapter.resources as ResourceDefinition[];
  const r = which === undefined && all.length === 1 ? all[0] : all.find((x) => x.plural === which || x.kind === which);
  if (!r)
    throw new Error(
      `adapter ${adapter.name}: ${which === undefined ? 'name the resource' : `no resource "${which}"`} ` +
        `(one of ${all.map((x) => x.plural).join(', ')})`,
    );
  return r;
}

async function withRuntime<T>(
  o: AdapterUnderTest,
  resource: ResourceDefinition,
  use: (rt: Runtime) => Promise<T>,
): Promise<T> {
  const loaded = prepareAdapter(
    {
      name: o.adapter.name,
      module: '(in test)',
      ...(o.resilience ? { resilience: o.resilience } : {}),
      config: o.config,
    },
    { ...o.adapter, resources: [resource] },
  );
  const rt = createRuntime([loaded], {
    store: createMemoryStore(),
    log: o.log ?? quiet,
    watch: { bookmarkIntervalMs: 60_000, maxEvents: 100, maxEventAgeMs: 60_000, maxBufferedBytes: 1 << 20 },
    errorFrame: (_code, _reason, message) => Buffer.from(message),
    ...(o.fetch ? { baseFetch: o.fetch } : {}),
  });
  try {
    return await use(rt);
  } finally {
    await rt.stop();
  }
}

/**
 * Runs a mirror resource's `list` once, as one poll of kubegate would, and returns the objects it would serve
 * (names and labels sanitized, uid, resourceVersion and creationTimestamp set) and the items it skipped. A poll
 * that fails (upstream error, thrown mapping, the delete guard) rejects with its cause.
 *
 * @example
 * const { objects, skipped } = await listOnce({ adapter, config: { baseUrl: fake.url } });
 * expect(skipped).toEqual([]);
 * expect(objects.map((o) => o.metadata.name)).toContain('paris');
 */
export async function listOnce(o: AdapterUnderTest): Promise<RunResult> {
  const r = pickResource(o.adapter, o.resource);
  if (r.mode !== 'mirror') throw new Error(`${r.plural} is a pass-through resource: use listPageOnce or getOnce`);
  return withRuntime(o, r, async (rt) => {
    const c = rt.collections[0];
    if (!c) throw new Error('no collection');
    await rt.start();
    await c.poller.ready();
    if (c.poller.status.lastError !== undefined) throw new Error(`${r.plural}: ${c.poller.status.lastError}`);
    return { objects: c.view.sorted().map((e) => e.obj), skipped: [...c.poller.status.skipped] };
  });
}

/** A page request of a pass-through resource, as kubectl would send it. */
export interface PageQuery {
  /** `?limit=`; default 500 (kubectl's chunk size), capped by the resource's maxPageSize. */
  limit?: number;
  /** The upstream cursor of the previous page (`cursor` of its result). */
  cursor?: string;
  namespace?: string;
  /** `-l`, e.g. `team=payments` */
  labelSelector?: string;
  /** `--field-selector`, e.g. `status.state=open` */
  fieldSelector?: string;
}

/**
 * Runs a pass-through resource's `listPage` once, as one page of `kubectl get --chunk-size` would: declared
 * selectors pushed down to the adapter, every selector re-applied to what it returned, as kubegate does.
 *
 * @example
 * const page = await listPageOnce({ adapter, config, resource: 'charges' }, { limit: 10 });
 * const next = await listPageOnce({ adapter, config, resource: 'charges' }, { limit: 10, cursor: page.cursor });
 */
export async function listPageOnce(
  o: AdapterUnderTest,
  q: PageQuery = {},
): Promise<RunResult & { cursor: string | undefined }> {
  const r = passThrough(o);
  const seen = captureItems();
  const captured: PassThroughResource = {
    ...r,
    listPage: async (ctx, page) => {
      const res = await r.listPage(seen.ctx(ctx), page);
      seen.items.push(...res.items);
      return res;
    },
  };
  return withRuntime(o, captured, async (rt) => {
    const pc = rt.passthrough[0];
    if (!pc) throw new Error('no collection');
    const selectors = {
      labelSelector: parseLabelSelector(q.labelSelector ?? ''),
      fieldSelector: parseFieldSelector(q.fieldSelector ?? '', pc.supportedFields),
    };
    const res = await pc.pass.listPage({
      namespace: q.namespace,
      limit: q.limit ?? 500,
      cursor: q.cursor,
      ...selectors,
    });
    const filter = objectFilter(pc, q.namespace, selectors);
    const entries = filter ? res.entries.filter(filter) : res.entries;
    return { objects: entries.map((e) => e.obj), skipped: seen.skipped(o.adapter, r), cursor: res.cursor };
  });
}

/**
 * Runs a pass-through resource's `get` once, as `kubectl get KIND NAME` would.
 *
 * @example
 * const { object } = await getOnce({ adapter, config, resource: 'charges' }, { name: 'ch-1', namespace: 'team-a' });
 */
export async function getOnce(
  o: AdapterUnderTest,
  ref: { name: string; namespace?: string },
): Promise<{ object: KubeObject | undefined; skipped: string[] }> {
  const r = passThrough(o);
  const seen = captureItems();
  const captured: PassThroughResource = {
    ...r,
    get: async (ctx, x) => {
      const item = await r.get(seen.ctx(ctx), x);
      if (item) seen.items.push(item);
      return item;
    },
  };
  return withRuntime(o, captured, async (rt) => {
    const pc = rt.passthrough[0];
    if (!pc) throw new Error('no collection');
    const res = await pc.pass.get(ref.namespace, ref.name);
    return { object: res.entry?.obj, skipped: seen.skipped(o.adapter, r) };
  });
}

function passThrough(o: AdapterUnderTest): PassThroughResource {
  const r = pickResource(o.adapter, o.resource);
  if (r.mode !== 'passthrough') throw new Error(`${r.plural} is a mirror resource: use listOnce`);
  return r;
}

/**
 * What a pass-through call skipped: the reasons the adapter gave through `ctx.skip`, and the items kubegate
 * would not serve (no name, schema mismatch with the failing path), worded as kubegate words them.
 */
function captureItems() {
  const items: ObjectInput[] = [];
  const reasons: string[] = [];
  return {
    items,
    ctx: <C>(ctx: AdapterContext<C>): AdapterContext<C> => ({
      ...ctx,
      skip: (reason, item) => {
        reasons.push(reason);
        ctx.skip(reason, item);
      },
    }),
    skipped(adapter: AdapterDefinition, r: ResourceDefinition): string[] {
      const t = {
        group: adapter.group,
        version: adapter.version,
        kind: r.kind,
        namespaced: r.scope === 'Namespaced',
        schema: r.schema,
      };
      const out = [...reasons];
      for (const item of items) {
        try {
          buildObject(item, t, () => '1970-01-01T00:00:00Z');
        } catch (err) {
          out.push(err instanceof Error ? err.message : String(err));
        }
      }
      return out;
    },
  };
}
