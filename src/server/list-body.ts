import type { Negotiated } from '../k8s/negotiate.ts';
import type { IncludeObject } from '../resources/encode.ts';
import type { ListPage, ServedResource } from '../registry/types.ts';

interface CachedBody {
  rv: number;
  second: number;
  body: Buffer;
}

/**
 * Encodes list pages. A page of an unfiltered collection (what informers relist and kubectl gets, 500 objects
 * at a time) is encoded once per version and reused; Table bodies also once per second, since their ages change
 * with time.
 */
export function createListEncoder(now: () => number = Date.now) {
  const bodies = new WeakMap<ServedResource, Map<string, CachedBody>>();
  return function encodeList(
    r: ServedResource,
    namespace: string | undefined,
    page: ListPage,
    format: Negotiated,
    inc: IncludeObject,
  ): Buffer {
    const encode = () =>
      format.kind === 'table'
        ? r.encoder.listTable(page.entries, page.meta, format.version, inc)
        : r.encoder.listJson(page.entries, page.meta);
    if (!page.reusable) return encode();
    const key = `${format.kind === 'table' ? `${format.version}/${inc}` : 'json'}|${namespace ?? ''}|${page.position ?? ''}|${page.entries.length}`;
    const second = format.kind === 'table' ? Math.floor(now() / 1000) : 0;
    let cache = bodies.get(r);
    if (!cache) bodies.set(r, (cache = new Map<string, CachedBody>()));
    const rv = page.meta.resourceVersion;
    const hit = cache.get(key);
    if (hit && hit.rv === rv && hit.second === second) return hit.body;
    const body = encode();
    if (cache.size > 32) cache.clear();
    cache.set(key, { rv, second, body });
    return body;
  };
}
