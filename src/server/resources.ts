import type { FastifyReply, FastifyRequest } from 'fastify';
import { KubeError, badRequest, methodNotAllowed, notFound, pathNotFound, serviceUnavailable } from '../k8s/errors.ts';
import { negotiate } from '../k8s/negotiate.ts';
import { escapeFieldValue, parseFieldSelector } from '../k8s/fields.ts';
import { parseListOptions, type ListOptions } from '../k8s/params.ts';
import { parseResourcePath, requestVerb } from '../k8s/paths.ts';
import type { Collection, PassCollection, Runtime } from '../resources/runtime.ts';
import { servePassThrough } from './passthrough.ts';
import { addWarning, shortAge, staleDataWarning, warningHeader } from '../k8s/warning.ts';
import { serveProxy } from './proxy.ts';
import type { IncludeObject } from '../resources/encode.ts';
import { objectKey } from '../resources/entry.ts';
import { selectList } from './list.ts';
import { serveWatch } from './watch.ts';
import type { Gate } from './gate.ts';

const JSON_TYPE = 'application/json';

/** How long a request waits for a collection's first poll before answering 503. */
const FIRST_POLL_WAIT_MS = 5000;

/** The Warning kubectl prints when the data is stale (WIRE.md §7; text truncated like the apiserver). */
export function staleWarning(c: Collection, now = Date.now(), storeDownSince?: number): string | undefined {
  if (storeDownSince !== undefined) {
    // This replica cannot see other replicas' polls: its view is as old as the outage.
    return warningHeader(
      `kubegate: the shared store is unreachable, serving this replica's data from ${shortAge(now - storeDownSince)} ago`,
    );
  }
  const st = c.poller.status;
  if (!st.lastError || st.lastSuccess === undefined) return undefined;
  return staleDataWarning(c.adapter, st.lastError, now - st.lastSuccess);
}

async function ensureData(c: Collection): Promise<void> {
  if (c.view.synced) return;
  await Promise.race([c.poller.ready(), new Promise((r) => setTimeout(r, FIRST_POLL_WAIT_MS).unref())]);
  // The first poll may have filled the view while we waited (the linter cannot see that).
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
  if (c.view.synced) return;
  const cause = c.poller.status.lastError ?? 'the first poll has not finished';
  throw serviceUnavailable(
    `${c.adapter}: no data for ${c.info.plural}.${c.info.group} yet: upstream unavailable: ${cause}`,
    Math.max(1, Math.ceil(c.pollIntervalMs / 1000)),
  );
}

/** Handles every request under /apis/<group>/<version>/. */
export function createResourceHandler(
  runtime: Runtime,
  gate: Gate,
  discoveryFor: (g: string, v: string) => Buffer | undefined,
  onStale?: (c: Collection) => void,
  storeDownSince?: () => number | undefined,
) {
  const defaults = new WeakMap<object, ListOptions>();
  const bodies = new WeakMap<Collection, Map<string, { rv: number; second: number; body: Buffer }>>();
  return async function handle(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const url = req.url;
    const q = url.indexOf('?');
    const rp = parseResourcePath(q >= 0 ? url.slice(0, q) : url);
    if (!rp || !runtime.hasGroupVersion(rp.group, rp.version)) throw pathNotFound();
    const method = req.method;
    if (rp.resource === '') {
      // Discovery is a non-resource request: its verb is the lower-cased method (system:discovery grants get).
      await gate(req, { verb: method.toLowerCase(), path: url.split('?')[0] ?? '/' });
      if (method !== 'GET' && method !== 'HEAD')
        throw new KubeError(405, 'MethodNotAllowed', `${method} is not supported on the discovery document`);
      const doc = discoveryFor(rp.group, rp.version);
      if (!doc) throw pathNotFound();
      return reply.type(JSON_TYPE).send(doc);
    }
    const c = runtime.find(rp.group, rp.version, rp.resource);
    const pc = c ? undefined : runtime.findPassThrough(rp.group, rp.version, rp.resource);
    const target = c ?? pc;
    if (!target) throw pathNotFound(`the server could not find the requested resource (${rp.resource}.${rp.group})`);
    const { info } = target;
    if (info.namespaced ? rp.namespace === undefined && rp.name !== undefined : rp.namespace !== undefined)
      throw pathNotFound();
    const isProxy = rp.subresource === 'proxy' && target.proxy !== undefined;
    if (rp.subresource !== undefined && !isProxy && !(rp.subresource === 'status' && rp.rest === undefined))
      throw pathNotFound();
    if (rp.name === '') throw badRequest('resource name may not be empty');
    // Most GETs carry no query: their default options are parsed once per collection and shared (they are
    // only ever replaced on watches, which always have a query).
    let opts: ListOptions;
    // A proxied call's query belongs to the upstream, not to the list options.
    if (q < 0 || isProxy) {
      const d = defaults.get(target);
      opts = d ?? parseListOptions({}, target.supportedFields);
      if (!d) defaults.set(target, opts);
    } else {
      opts = parseListOptions(req.query as Record<string, string | string[] | undefined>, target.supportedFields);
    }
    const verb = requestVerb(method, rp.name !== undefined, opts.watch);
    const name = rp.name ?? opts.fieldSelector.exactName();
    await gate(req, {
      verb,
      group: info.group,
      version: info.version,
      resource: info.plural,
      ...(rp.subresource !== undefined ? { subresource: rp.subresource } : {}),
      ...(rp.namespace !== undefined ? { namespace: rp.namespace } : {}),
      ...(name !== undefined ? { name } : {}),
    });
    if (isProxy && target.proxy && rp.name !== undefined) {
      const name = rp.name;
      const object = c
        ? (await ensureData(c), c.view.get(objectKey(rp.namespace, name))?.obj)
        : (await (target as PassCollection).pass.get(rp.namespace, name)).entry?.obj;
      if (!object) throw notFound(info.plural, info.group, name);
      return serveProxy(target.proxy, target.upstream, object, rp.rest ?? '', req, reply, {
        plural: info.plural,
        group: info.group,
        adapter: target.adapter,
      });
    }
    if (method !== 'GET' && method !== 'HEAD') throw methodNotAllowed(verb, info.plural, info.group);
    const format = negotiate(req.headers.accept);
    if (!c) {
      if (opts.watch)
        throw methodNotAllowed('watch', info.plural, info.group, 'a pass-through resource has no change feed to watch');
      return servePassThrough(target as PassCollection, rp.namespace, rp.name, opts, format, reply);
    }
    await ensureData(c);
    const warning = staleWarning(c, Date.now(), storeDownSince?.());
    if (warning) {
      reply.header('warning', warning);
      onStale?.(c);
    }
    addWarning(reply, c.skips.warning());

    if (opts.watch) {
      if (rp.name !== undefined) {
        // Legacy single-object watch path: same as a watch with fieldSelector=metadata.name=<name>.
        const byName = `metadata.name=${escapeFieldValue(rp.name)}`;
        opts.fieldSelector = parseFieldSelector(
          opts.fieldSelector.empty ? byName : `${opts.fieldSelector.toString()},${byName}`,
          target.supportedFields,
        );
      }
      return serveWatch(c, rp.namespace, opts, format, reply);
    }
    const inc: IncludeObject = opts.includeObject;
    if (rp.name !== undefined) {
      const e = c.view.get(objectKey(rp.namespace, rp.name));
      if (!e) throw notFound(info.plural, info.group, rp.name);
      const body = format.kind === 'table' ? c.encoder.objectTable(e, format.version, inc) : e.json;
      return reply.type(JSON_TYPE).send(body);
    }
    const sel = await selectList(c, rp.namespace, opts);
    const meta = {
      resourceVersion: sel.rv,
      ...(sel.continue ? { continue: sel.continue } : {}),
      ...(sel.remainingItemCount !== undefined ? { remainingItemCount: sel.remainingItemCount } : {}),
    };
    // A whole, unfiltered collection (what informers relist and kubectl gets) is encoded once per version and
    // reused; Table bodies also once per second, since their ages change with time.
    const whole =
      !sel.continue && opts.labelSelector.empty && opts.fieldSelector.empty && !opts.continue && sel.rv === c.view.rv;
    const key = whole
      ? `${format.kind === 'table' ? `${format.version}/${inc}` : 'json'}|${rp.namespace ?? ''}|${sel.entries.length}`
      : '';
    const second = format.kind === 'table' ? Math.floor(Date.now() / 1000) : 0;
    const cache = whole
      ? (bodies.get(c) ?? new Map<string, { rv: number; second: number; body: Buffer }>())
      : undefined;
    if (cache && !bodies.has(c)) bodies.set(c, cache);
    const hit = cache?.get(key);
    if (hit && hit.rv === sel.rv && hit.second === second) return reply.type(JSON_TYPE).send(hit.body);
    const body =
      format.kind === 'table'
        ? c.encoder.listTable(sel.entries, meta, format.version, inc)
        : c.encoder.listJson(sel.entries, meta);
    if (cache) {
      if (cache.size > 32) cache.clear();
      cache.set(key, { rv: sel.rv, second, body });
    }
    return reply.type(JSON_TYPE).send(body);
  };
}
