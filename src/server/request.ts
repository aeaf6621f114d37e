import type { KubegateRequest } from './http.ts';
import type { RequestAttributes } from '../auth/types.ts';
import { badRequest, pathNotFound } from '../k8s/errors.ts';
import { parseListOptions, type ListOptions, type Query } from '../k8s/params.ts';
import { requestVerb, type ResourcePath } from '../k8s/paths.ts';
import type { ServedResource } from '../registry/types.ts';

/** What a request under `/apis/<group>/<version>/<plural>` asks of a served resource. */
export interface ResourceRequest {
  resource: ServedResource;
  path: ResourcePath;
  opts: ListOptions;
  /** What the handler does with it; `unsupported` answers 405. */
  action: 'get' | 'list' | 'watch' | 'proxy' | 'create' | 'delete' | 'update' | 'patch' | 'unsupported';
  /** The RBAC verb. */
  verb: string;
}

/** Options of requests without a query, parsed once per resource and shared (only watches replace them). */
const defaults = new WeakMap<ServedResource, ListOptions>();

function defaultOptions(r: ServedResource): ListOptions {
  let d = defaults.get(r);
  if (!d) defaults.set(r, (d = parseListOptions({}, r.supportedFields)));
  return d;
}

/**
 * Checks the path against the resource (scope, subresource, name) and parses the list options; throws the
 * 404/400 Status the apiserver answers for a malformed request.
 */
export function resolveRequest(req: KubegateRequest, r: ServedResource, path: ResourcePath): ResourceRequest {
  const { info } = r;
  if (info.namespaced ? path.namespace === undefined && path.name !== undefined : path.namespace !== undefined)
    throw pathNotFound();
  const proxy = path.subresource === 'proxy' && r.proxy !== undefined && path.name !== undefined;
  if (path.subresource !== undefined && !proxy && !(path.subresource === 'status' && path.rest === undefined))
    throw pathNotFound();
  if (path.name === '') throw badRequest('resource name may not be empty');
  const method = req.method;
  const read = method === 'GET' || method === 'HEAD';
  // A proxied call's query belongs to the upstream, and a write's are write options, not list options.
  const opts =
    proxy || !read || !req.url.includes('?')
      ? defaultOptions(r)
      : parseListOptions(req.query as Query, r.supportedFields);
  const verb = requestVerb(method, path.name !== undefined, opts.watch);
  const action = proxy
    ? 'proxy'
    : !read
      ? writeAction(r, method, path)
      : opts.watch
        ? 'watch'
        : path.name !== undefined
          ? 'get'
          : 'list';
  return { resource: r, path, opts, action, verb };
}

/** The write a method asks for, when the resource offers it (not on subresources): else `unsupported`. */
function writeAction(r: ServedResource, method: string, path: ResourcePath): ResourceRequest['action'] {
  if (path.subresource !== undefined) return 'unsupported';
  const named = path.name !== undefined;
  if (method === 'POST' && !named && r.creater) return 'create';
  if (method === 'DELETE' && named && r.deleter) return 'delete';
  if (method === 'PUT' && named && r.updater) return 'update';
  if (method === 'PATCH' && named && r.updater) return 'patch';
  return 'unsupported';
}

/** The attributes authorization decides on. */
export function requestAttributes(rr: ResourceRequest): RequestAttributes {
  const { info } = rr.resource;
  const { path } = rr;
  const name = path.name ?? rr.opts.fieldSelector.exactName();
  return {
    verb: rr.verb,
    group: info.group,
    version: info.version,
    resource: info.plural,
    ...(path.subresource !== undefined ? { subresource: path.subresource } : {}),
    ...(path.namespace !== undefined ? { namespace: path.namespace } : {}),
    ...(name !== undefined ? { name } : {}),
  };
}
