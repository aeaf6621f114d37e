import { KubeError, methodNotAllowed, pathNotFound } from '../k8s/errors.ts';
import { negotiate } from '../k8s/negotiate.ts';
import { parseResourcePath, type ResourcePath } from '../k8s/paths.ts';
import type { ResourceRegistry } from '../registry/types.ts';
import type { Gate } from './gate.ts';
import type { KubegatePlugin, KubegateReply, KubegateRequest } from './http.ts';
import type { Metrics } from '../observability/metrics.ts';
import { createListEncoder } from './list-body.ts';
import { serveProxy } from './proxy.ts';
import { addWarnings } from './status.ts';
import { requestAttributes, resolveRequest, type ResourceRequest } from './request.ts';
import { streamWatch } from './watch-response.ts';
import { serveWrite } from './writes.ts';
import { createWatchAdmission, DEFAULT_WATCH_LIMITS, type WatchAdmission } from './watch-limits.ts';

const JSON_TYPE = 'application/json';

/**
 * Handles every request under /apis/<group>/<version>/: parse the path, look the resource up, authenticate and
 * authorize, then dispatch by verb to the resource's capability and encode (docs/architecture.md, "Request
 * path"). The handler knows nothing of how a resource keeps its data.
 */
export function createResourceHandler(
  registry: ResourceRegistry,
  gate: Gate,
  discoveryFor: (g: string, v: string) => Buffer | undefined,
  watches: WatchAdmission = createWatchAdmission(DEFAULT_WATCH_LIMITS),
) {
  const encodeList = createListEncoder();

  /** The group-version discovery document: a non-resource request (system:discovery grants get). */
  async function discovery(req: KubegateRequest, reply: KubegateReply, path: ResourcePath): Promise<KubegateReply> {
    await gate(req, { verb: req.method.toLowerCase(), path: req.url.split('?')[0] ?? '/' });
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw new KubeError(405, 'MethodNotAllowed', `${req.method} is not supported on the discovery document`);
    const doc = discoveryFor(path.group, path.version);
    if (!doc) throw pathNotFound();
    return reply.type(JSON_TYPE).send(doc);
  }

  async function dispatch(rr: ResourceRequest, req: KubegateRequest, reply: KubegateReply): Promise<unknown> {
    const { resource: r, path, opts } = rr;
    const { plural, group } = r.info;
    switch (rr.action) {
      case 'proxy': {
        const proxy = r.proxy;
        const name = path.name;
        if (!proxy || name === undefined) throw pathNotFound();
        const { entry } = await r.getter.get(path.namespace, name, req.user);
        return serveProxy(proxy, proxy.upstream, entry.obj, path.rest ?? '', req, reply, {
          plural,
          group,
          adapter: r.adapter,
        });
      }
      case 'unsupported':
        throw methodNotAllowed(rr.verb, plural, group);
      case 'create':
      case 'delete':
      case 'update':
      case 'patch':
        return serveWrite(rr, req, reply);
      case 'watch': {
        if (!r.watcher)
          throw methodNotAllowed('watch', plural, group, 'a pass-through resource has no change feed to watch');
        let prepared = await r.watcher.watch(path.namespace, opts, negotiate(req.headers.accept), path.name);
        if (r.deprecation) {
          const p = prepared;
          prepared = { warnings: [r.deprecation, ...(p.warnings ?? [])], start: (sink) => p.start(sink) };
        }
        // Admitted once nothing can fail before streaming; the place is given back when the stream closes.
        streamWatch(prepared, reply, watches.admit(req.user?.name ?? ''), watches.limits.sessionBufferedBytes);
        return reply;
      }
      case 'get': {
        const format = negotiate(req.headers.accept);
        const { entry, warnings } = await r.getter.get(path.namespace, path.name ?? '', req.user);
        if (warnings) addWarnings(reply, warnings);
        const body =
          format.kind === 'table' ? r.encoder.objectTable(entry, format.version, opts.includeObject) : entry.json;
        return reply.type(JSON_TYPE).send(body);
      }
      case 'list': {
        const format = negotiate(req.headers.accept);
        const page = await r.lister.list(path.namespace, opts, req.user);
        if (page.warnings) addWarnings(reply, page.warnings);
        return reply.type(JSON_TYPE).send(encodeList(r, path.namespace, page, format, opts.includeObject));
      }
    }
  }

  return async function handle(req: KubegateRequest, reply: KubegateReply): Promise<unknown> {
    const url = req.url;
    const q = url.indexOf('?');
    const path = parseResourcePath(q >= 0 ? url.slice(0, q) : url);
    if (!path || !registry.hasGroupVersion(path.group, path.version)) throw pathNotFound();
    if (path.resource === '') return discovery(req, reply, path);
    const r = registry.resource(path.group, path.version, path.resource);
    if (!r) throw pathNotFound(`the server could not find the requested resource (${path.resource}.${path.group})`);
    const rr = resolveRequest(req, r, path);
    await gate(req, requestAttributes(rr));
    // Every answer of a deprecated version carries its Warning, errors included (as the kube-apiserver's).
    if (r.deprecation) reply.header('warning', [r.deprecation]);
    return dispatch(rr, req, reply);
  };
}

/** Routes of `/apis/<group>/<version>[/...]`; request metrics are recorded here (cheaper than a hook). */
export const resourceRoutes: KubegatePlugin<{
  registry: ResourceRegistry;
  gate: Gate;
  discoveryFor: (g: string, v: string) => Buffer | undefined;
  metrics?: Metrics | undefined;
  watches?: WatchAdmission | undefined;
}> = (app, o) => {
  const resources = createResourceHandler(o.registry, o.gate, o.discoveryFor, o.watches);
  const metrics = o.metrics;
  const handler = metrics
    ? async (req: KubegateRequest, reply: KubegateReply) => {
        const r = await resources(req, reply);
        const a = req.kubeAttrs;
        if (a) metrics.http(a.verb, a.resource ?? '', reply.statusCode, reply.elapsedTime / 1000);
        return r;
      }
    : resources;
  const method = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
  app.route({ method, url: '/apis/:group/:version', handler });
  // Only the proxy subresource and writes read a body: the proxy streams it upstream (bounded by the adapter's
  // proxy limits), writes read it whole (bounded, see writes.ts), both once the request was authorized.
  app.route({ method, url: '/apis/:group/:version/*', handler, config: { acceptsBody: true } });
  return Promise.resolve();
};
