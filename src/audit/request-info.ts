import type { RequestAttributes } from '../auth/types.ts';
import { parseResourcePath, requestVerb } from '../k8s/paths.ts';

/**
 * The attributes of a request judged from its method and path alone (the apiserver's RequestInfo), for requests
 * that never reach the gate: refused at the edge (401, odd methods), rate limited, or for a path nothing serves.
 */
export function attributesFromPath(method: string, url: string): RequestAttributes {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const p = parseResourcePath(path);
  if (!p || p.resource === '') return { verb: method.toLowerCase(), path };
  const watch = q >= 0 && /(?:^|&)watch=(?:true|1)(?:&|$)/.test(url.slice(q + 1));
  const a: RequestAttributes = {
    verb: requestVerb(method, p.name !== undefined, watch),
    group: p.group,
    version: p.version,
    resource: p.resource,
  };
  if (p.subresource !== undefined) a.subresource = p.subresource;
  if (p.namespace !== undefined) a.namespace = p.namespace;
  if (p.name !== undefined) a.name = p.name;
  return a;
}

/** Query parameters whose values are never recorded (a credential passed in a URL). */
const SECRET_PARAM = /token|key|secret|passw|auth|sig|credential|session|cookie|code/i;

/**
 * The request URI as recorded: the path, and the query with the value of any parameter whose name suggests a
 * credential replaced. A proxied call's query belongs to the upstream and is left out whole.
 */
export function recordedRequestURI(url: string, proxied: boolean): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  if (proxied) return url.slice(0, q);
  const query = url.slice(q + 1);
  if (!SECRET_PARAM.test(query)) return url;
  const kept = query
    .split('&')
    .map((kv) => {
      const eq = kv.indexOf('=');
      const name = eq < 0 ? kv : kv.slice(0, eq);
      return SECRET_PARAM.test(name) ? `${name}=REDACTED` : kv;
    })
    .join('&');
  return `${url.slice(0, q)}?${kept}`;
}
