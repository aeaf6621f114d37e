/**
 * Parses `/apis/<group>/<version>/...` request paths into what they address (the apiserver's
 * RequestInfoFactory, reduced to what kubegate serves).
 */
export interface ResourcePath {
  group: string;
  version: string;
  /** Empty for the group-version discovery document. */
  resource: string;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
  /** Path after the subresource (proxy). */
  rest: string | undefined;
}

/** `path` without query; returns undefined when it is not under /apis/G/V. */
export function parseResourcePath(path: string): ResourcePath | undefined {
  if (!path.startsWith('/apis/')) return undefined;
  const parts = path.slice(6).split('/');
  if (parts.length > 0 && parts[parts.length - 1] === '' && parts.length > 2) parts.pop();
  const [group, version, ...rest] = parts;
  if (!group || !version) return undefined;
  const out: ResourcePath = {
    group: safeDecode(group),
    version: safeDecode(version),
    resource: '',
    namespace: undefined,
    name: undefined,
    subresource: undefined,
    rest: undefined,
  };
  let i = 0;
  // `namespaces/<ns>/<resource>...`; a bare `namespaces` or `namespaces/<name>` addresses the namespaces resource.
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    out.namespace = safeDecode(rest[1] ?? '');
    i = 2;
  }
  out.resource = safeDecode(rest[i] ?? '');
  if (rest.length > i + 1) out.name = safeDecode(rest[i + 1] ?? '');
  if (rest.length > i + 2) out.subresource = safeDecode(rest[i + 2] ?? '');
  if (rest.length > i + 3) out.rest = '/' + rest.slice(i + 3).join('/');
  return out;
}

function safeDecode(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Verb of a request, as RBAC sees it (docs/kubernetes-wire.md, "Authorization"). */
export function requestVerb(method: string, hasName: boolean, watch: boolean): string {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return watch ? 'watch' : hasName ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return hasName ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}
