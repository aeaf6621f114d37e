import { notAcceptable, unsupportedMediaType } from './errors.ts';

/** What a response is encoded as. */
export type Negotiated = { kind: 'json' } | { kind: 'table'; version: 'v1' | 'v1beta1' };

interface MediaRange {
  type: string;
  subtype: string;
  params: Map<string, string>;
  q: number;
  order: number;
}

/** Parses an Accept header into media ranges (RFC 9110 §12.5.1), lower-casing types and parameter names. */
export function parseAccept(accept: string): MediaRange[] {
  const out: MediaRange[] = [];
  accept.split(',').forEach((part, order) => {
    const [mt = '', ...ps] = part.split(';').map((x) => x.trim());
    const [type = '', subtype = ''] = mt.toLowerCase().split('/');
    if (!type || !subtype) return;
    const params = new Map<string, string>();
    let q = 1;
    for (const p of ps) {
      const eq = p.indexOf('=');
      if (eq <= 0) continue;
      const k = p.slice(0, eq).trim().toLowerCase();
      const v = p
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
      if (k === 'q') q = Number.isFinite(Number(v)) ? Math.min(1, Math.max(0, Number(v))) : 0;
      else params.set(k, v);
    }
    out.push({ type, subtype, params, q, order });
  });
  return out;
}

const JSON_LIKE = (r: MediaRange) =>
  (r.type === 'application' && (r.subtype === 'json' || r.subtype === '*')) || (r.type === '*' && r.subtype === '*');

/** What one media range would give, or undefined when kubegate cannot serve it. */
function serves(r: MediaRange): Negotiated | undefined {
  if (r.q <= 0 || !JSON_LIKE(r)) return undefined; // protobuf, CBOR, yaml: not served
  const as = r.params.get('as');
  if (as === undefined) return { kind: 'json' };
  if (as === 'Table' && r.params.get('g') === 'meta.k8s.io') {
    const v = r.params.get('v');
    if (v === 'v1' || v === 'v1beta1') return { kind: 'table', version: v };
  }
  // PartialObjectMetadata(List) and other conversions are not served: the next entry (usually plain JSON) wins,
  // which metadata clients accept as a fallback.
  return undefined;
}

const cache = new Map<string, Negotiated>();
const JSON_RESULT: Negotiated = { kind: 'json' };

/**
 * Picks the response encoding from an Accept header (docs/kubernetes-wire.md, "Content negotiation"): the highest-q entry kubegate serves,
 * ties broken by order; absent or `*\/*` → JSON; 406 only when nothing fits. Results are memoised: clients
 * send the same few headers over and over.
 *
 * @example
 * negotiate('application/json;as=Table;v=v1;g=meta.k8s.io,application/json'); // { kind: 'table', version: 'v1' }
 */
export function negotiate(accept: string | undefined): Negotiated {
  if (accept === undefined || accept === '' || accept === 'application/json' || accept === '*/*') return JSON_RESULT;
  const hit = cache.get(accept);
  if (hit) return hit;
  let best: { n: Negotiated; q: number; order: number } | undefined;
  for (const r of parseAccept(accept)) {
    const n = serves(r);
    if (n && (!best || r.q > best.q)) best = { n, q: r.q, order: r.order };
  }
  if (!best)
    throw notAcceptable(
      `only the following media types are available: application/json, application/json;as=Table;v=v1;g=meta.k8s.io, application/json;as=Table;v=v1beta1;g=meta.k8s.io`,
    );
  if (cache.size > 256) cache.clear();
  cache.set(accept, best.n);
  return best.n;
}

/** Request bodies kubegate could read are JSON only: CBOR and protobuf bodies are refused with 415. */
export function checkRequestContentType(contentType: string | undefined): void {
  if (!contentType) return;
  const t = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (
    t === 'application/json' ||
    t === 'application/merge-patch+json' ||
    t === 'application/json-patch+json' ||
    t === 'application/strategic-merge-patch+json' ||
    t === 'application/apply-patch+yaml'
  )
    return;
  throw unsupportedMediaType(
    `the body of the request was in an unknown format - accepted media types include: application/json`,
  );
}
