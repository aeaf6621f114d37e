import {
  AdapterError,
  defineResource,
  type AdapterContext,
  type MirrorResource,
  type ObjectInput,
  type TSchema,
} from 'kubegate/sdk';
import { compileAuth } from './auth.ts';
import type { HttpConfig, ResourceConfig } from './config.ts';
import { compileExpression, DEFAULT_LIMITS, type Expression, type ExpressionLimits } from './expression.ts';
import { readPages, type PaginationPlan, type RequestPlan } from './pages.ts';
import { topLevelSchema, type Fail } from './schema.ts';

const DEFAULT_MAX_ITEMS = 10_000;
const DEFAULT_MAX_PAGES = 100;
const MAPPED = ['name', 'namespace', 'labels', 'annotations', 'creationTimestamp', 'spec', 'status'] as const;
type Mapped = (typeof MAPPED)[number];

/** A resource's mapping, compiled: one expression per mapped field. */
export type Mapping = Partial<Record<Mapped, Expression>> & { name: Expression };

/** What turns the config of one resource into objects. */
export interface ResourcePlan {
  request: RequestPlan;
  mapping: Mapping;
  maxItems: number;
  namespaced: boolean;
}

function expandUrl(template: string, vars: Record<string, string>, path: (string | number)[], fail: Fail): string {
  return template.replace(/\{([^{}]*)\}/g, (_, name: string) => {
    const v = vars[name];
    if (v === undefined) fail(path, `the URL template uses {${name}}, which is not in vars`);
    return encodeURIComponent(v);
  });
}

function pagination(
  r: ResourceConfig,
  path: (string | number)[],
  fail: Fail,
  limits: ExpressionLimits,
): PaginationPlan {
  const p = r.pagination ?? { kind: 'none' };
  const at = [...path, 'pagination'];
  const allowed: Record<string, string[]> = {
    none: [],
    link: ['maxPages'],
    cursor: ['param', 'next', 'maxPages'],
    page: ['param', 'start', 'sizeParam', 'size', 'maxPages'],
    offset: ['param', 'start', 'sizeParam', 'size', 'maxPages'],
  };
  const keys = allowed[p.kind];
  if (!keys) fail([...at, 'kind'], `unknown pagination kind "${p.kind}" (use none, link, cursor, page or offset)`);
  for (const k of Object.keys(p))
    if (k !== 'kind' && !keys.includes(k)) fail([...at, k], `not used by pagination kind "${p.kind}"`);
  if (p.kind === 'none' || p.kind === 'link') return { kind: p.kind };
  if (!p.param) fail([...at, 'param'], `pagination kind "${p.kind}" needs param (the query parameter it sets)`);
  if (p.kind === 'cursor') {
    if (!p.next) fail([...at, 'next'], 'pagination kind "cursor" needs next (where the next cursor is in the body)');
    return { kind: 'cursor', param: p.param, next: compileExpression(p.next, [...at, 'next'], fail, limits) };
  }
  if ((p.size === undefined) !== (p.sizeParam === undefined)) fail(at, 'give both size and sizeParam, or neither');
  return {
    kind: p.kind as 'page' | 'offset',
    param: p.param,
    start: p.start ?? (p.kind === 'page' ? 1 : 0),
    ...(p.sizeParam !== undefined ? { sizeParam: p.sizeParam } : {}),
    ...(p.size !== undefined ? { size: p.size } : {}),
  };
}

/** Compiles one resource of the config; every problem is reported by `fail` with the path of its field. */
export function compileResource(
  config: HttpConfig,
  r: ResourceConfig,
  path: (string | number)[],
  fail: Fail,
  dir: string,
): { definition: MirrorResource; plan: ResourcePlan } {
  const limits: ExpressionLimits = { ...DEFAULT_LIMITS, ...r.limits };
  const scope = r.scope ?? 'Cluster';
  if (scope !== 'Cluster' && scope !== 'Namespaced') fail([...path, 'scope'], 'scope must be Cluster or Namespaced');
  const expanded = expandUrl(r.url, config.vars ?? {}, [...path, 'url'], fail);
  let url: URL;
  try {
    url = new URL(expanded, config.baseUrl);
  } catch {
    fail([...path, 'url'], config.baseUrl ? 'not a valid URL' : 'a relative URL needs baseUrl');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail([...path, 'url'], 'the URL must be http or https');
  for (const [k, v] of Object.entries(r.query ?? {})) url.searchParams.set(k, String(v));
  const auth = r.auth ?? config.auth;
  const credentials = auth ? compileAuth(auth, r.auth ? [...path, 'auth'] : ['auth'], fail, dir) : undefined;
  const expr = (source: string, at: (string | number)[]) => compileExpression(source, at, fail, limits);
  const mapping = { name: expr(r.mapping.name, [...path, 'mapping', 'name']) } as Mapping;
  for (const k of MAPPED)
    if (k !== 'name' && r.mapping[k] !== undefined) mapping[k] = expr(r.mapping[k], [...path, 'mapping', k]);
  if (scope === 'Namespaced' && !mapping.namespace)
    fail([...path, 'mapping', 'namespace'], 'a Namespaced resource needs a namespace mapping');
  const schema: { spec?: TSchema; status?: TSchema } = {};
  for (const k of ['spec', 'status'] as const) {
    if (r.schema?.[k] !== undefined) schema[k] = topLevelSchema(r.schema[k], [...path, 'schema', k], fail);
    if (mapping[k] && !schema[k]) fail([...path, 'schema', k], `mapping.${k} is set, so schema.${k} must describe it`);
  }
  const p = pagination(r, path, fail, limits);
  const plan: ResourcePlan = {
    request: {
      url,
      headers: lowerKeys({ ...config.headers, ...r.headers }),
      credentials,
      pagination: p,
      maxPages: r.pagination?.maxPages ?? DEFAULT_MAX_PAGES,
      items: expr(r.itemsPath, [...path, 'itemsPath']),
    },
    mapping,
    maxItems: r.maxItems ?? DEFAULT_MAX_ITEMS,
    namespaced: scope === 'Namespaced',
  };
  let definition: MirrorResource;
  try {
    definition = defineResource<unknown>({
      kind: r.kind,
      plural: r.plural,
      ...(r.singular !== undefined ? { singular: r.singular } : {}),
      ...(r.shortNames !== undefined ? { shortNames: r.shortNames } : {}),
      ...(r.categories !== undefined ? { categories: r.categories } : {}),
      ...(r.description !== undefined ? { description: r.description } : {}),
      ...(r.pollInterval !== undefined ? { pollInterval: r.pollInterval } : {}),
      ...(r.fields !== undefined ? { fields: r.fields } : {}),
      ...(r.columns !== undefined ? { columns: r.columns as MirrorResource['columns'] } : {}),
      scope,
      mode: 'mirror',
      schema,
      // After a config reload ctx.config is the new config: its compiled plan, when it has this resource.
      list: (ctx) => listObjects(ctx, plans.get(ctx.config as object)?.get(r.plural) ?? plan),
    });
  } catch (err) {
    // defineResource names the option ("resource \"X\": plural ... must be"); the path adds where it is.
    fail(path, (err as Error).message);
  }
  let mine = plans.get(config);
  if (!mine) plans.set(config, (mine = new Map<string, ResourcePlan>()));
  mine.set(r.plural, plan);
  return { definition, plan };
}

/** Compiled plans by config object (the one kubegate validated and hands to `list` as ctx.config) and plural. */
const plans = new WeakMap<object, Map<string, ResourcePlan>>();

function lowerKeys(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Why an item cannot be served; worded without its values (they may be anything the upstream sent). */
class ItemProblem extends Error {}

/**
 * Maps one upstream item with the resource's expressions. Throws ItemProblem naming the mapping field.
 *
 * @example
 * await mapItem(plan.mapping, { name: 'kubegate', stargazers_count: 3 });
 */
export async function mapItem(mapping: Mapping, item: unknown): Promise<ObjectInput> {
  const values: Partial<Record<Mapped, unknown>> = {};
  for (const k of MAPPED) {
    const e = mapping[k];
    if (!e) continue;
    try {
      values[k] = await e.evaluate(item);
    } catch (err) {
      throw new ItemProblem(`mapping.${k}: ${(err as Error).message}`);
    }
  }
  const scalar = (k: 'name' | 'namespace') => {
    const v = values[k];
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    throw new ItemProblem(`mapping.${k}: expected a non-empty string or a number, got ${kindOf(v)}`);
  };
  const out: ObjectInput = { name: scalar('name') };
  if (mapping.namespace) out.namespace = scalar('namespace');
  if (values.labels !== undefined) out.labels = record('labels', values.labels) as ObjectInput['labels'];
  if (values.annotations !== undefined) {
    const a = record('annotations', values.annotations);
    out.annotations = Object.fromEntries(
      Object.entries(a)
        .filter(([, v]) => v !== undefined && v !== null)
        .map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
    );
  }
  const ts = values.creationTimestamp;
  if (ts !== undefined && ts !== null) {
    const d = typeof ts === 'number' || typeof ts === 'string' ? new Date(ts) : undefined;
    if (!d || Number.isNaN(d.getTime()))
      throw new ItemProblem(`mapping.creationTimestamp: expected RFC 3339 or epoch milliseconds, got ${kindOf(ts)}`);
    out.creationTimestamp = d;
  }
  if (values.spec !== undefined) out.spec = values.spec;
  if (values.status !== undefined) out.status = values.status;
  return out;
}

function record(k: string, v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new ItemProblem(`mapping.${k}: expected an object, got ${kindOf(v)}`);
  // JSONata marks sequences with extra properties; a plain copy keeps only the fields.
  return { ...(v as Record<string, unknown>) };
}

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : v === undefined ? 'nothing' : typeof v;
}

/** One poll: every page, each item mapped; a bad item is skipped with its reason, a long collection is an error. */
async function* listObjects(ctx: AdapterContext<unknown>, plan: ResourcePlan): AsyncGenerator<ObjectInput[]> {
  let seen = 0;
  for await (const page of readPages(ctx, plan.request)) {
    seen += page.items.length;
    if (seen > plan.maxItems)
      throw new AdapterError(`the collection has more than ${plan.maxItems} items; raise maxItems`);
    const out: ObjectInput[] = [];
    for (const item of page.items) {
      try {
        out.push(await mapItem(plan.mapping, item));
      } catch (err) {
        if (!(err instanceof ItemProblem)) throw err;
        ctx.skip(err.message, item);
      }
    }
    yield out;
  }
}
