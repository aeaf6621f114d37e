import type { Negotiated } from '../k8s/negotiate.ts';
import type { Encoder, IncludeObject } from '../resources/encode.ts';
import type { FrameEncoder } from '../resources/watch.ts';

/**
 * The watch frame encoder of one format (JSON, or Table rows with their column definitions in the first row),
 * kept per format key so the resource's watchers share it (and the hub shares their encoded frames).
 *
 * @example
 * const encode = frameEncoders(encoder)(format, 'Object', 'json');
 */
export function frameEncoders(enc: Encoder): (format: Negotiated, include: IncludeObject, key: string) => FrameEncoder {
  const byKey = new Map<string, FrameEncoder>();
  return (format, include, key) => {
    let e = byKey.get(key);
    if (e) return e;
    e =
      format.kind === 'table'
        ? (type, entry, rv, first, end) =>
            entry && type !== 'BOOKMARK'
              ? enc.tableFrame(type, entry, rv, first, format.version, include)
              : enc.jsonFrame(type, entry, rv, end)
        : (type, entry, rv, _first, end) => enc.jsonFrame(type, entry, rv, end);
    byKey.set(key, e);
    return e;
  };
}
