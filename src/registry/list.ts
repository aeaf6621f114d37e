import { encodeContinueToken } from '../k8s/continue.ts';
import { expired, timeout } from '../k8s/errors.ts';
import type { ListOptions } from '../k8s/params.ts';
import type { ObjectEntry } from '../resources/entry.ts';
import { lowerBound, type CollectionView } from '../resources/view.ts';

/** How long a request for a resourceVersion this replica has not reached yet waits before 504. */
export const FUTURE_RV_WAIT_MS = 3000;

/** What list semantics read from a mirrored collection's view. */
export type ListSource = Pick<CollectionView, 'rv' | 'logStartRv' | 'sorted' | 'snapshotAt' | 'waitFor'>;

/** Value of a selectable field of an object (field selectors). */
export type FieldGetter = (e: ObjectEntry, field: string) => string | undefined;

export interface Selected {
  entries: readonly ObjectEntry[];
  rv: number;
  continue?: string;
  remainingItemCount?: number;
}

/** A predicate for namespace + label + field selectors, or undefined when everything matches. */
export function objectFilter(
  field: FieldGetter,
  namespace: string | undefined,
  o: Pick<ListOptions, 'labelSelector' | 'fieldSelector'>,
): ((e: ObjectEntry) => boolean) | undefined {
  const ls = o.labelSelector.empty ? undefined : o.labelSelector;
  const fs = o.fieldSelector.empty ? undefined : o.fieldSelector;
  if (!ls && !fs && namespace === undefined) return undefined;
  return (e) =>
    (namespace === undefined || e.inNamespace(namespace)) &&
    (!ls || ls.matches(e.labels)) &&
    (!fs || fs.matches((f) => field(e, f)));
}

/** Waits briefly for a resourceVersion from the future, then answers 504 as the apiserver does. */
export async function awaitResourceVersion(view: Pick<ListSource, 'rv' | 'waitFor'>, rv: number): Promise<void> {
  if (rv <= view.rv) return;
  if (await view.waitFor(rv, FUTURE_RV_WAIT_MS)) return;
  throw timeout(`Too large resource version: ${rv}, current: ${view.rv}`, 'ResourceVersionTooLarge');
}

/** The snapshot a list reads (docs/kubernetes-wire.md, "Lists"): resourceVersion, resourceVersionMatch, continue. */
async function snapshotFor(view: ListSource, o: ListOptions): Promise<{ rv: number; entries: readonly ObjectEntry[] }> {
  if (o.continue) {
    const snap = view.snapshotAt(o.continue.rv);
    if (!snap) {
      throw expired(
        'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
      );
    }
    return { rv: o.continue.rv, entries: snap };
  }
  const rv = o.resourceVersion;
  if (rv !== undefined && rv > 0) {
    if (o.resourceVersionMatch === 'Exact') {
      if (rv > view.rv) await awaitResourceVersion(view, rv);
      const snap = view.snapshotAt(rv);
      if (!snap) throw expired(`too old resource version: ${rv} (${view.logStartRv})`);
      return { rv, entries: snap };
    }
    await awaitResourceVersion(view, rv);
  }
  return { rv: view.rv, entries: view.sorted() };
}

/** Selects one page of a list from a mirrored collection's view. */
export async function selectList(
  view: ListSource,
  field: FieldGetter,
  namespace: string | undefined,
  o: ListOptions,
): Promise<Selected> {
  const { rv, entries } = await snapshotFor(view, o);
  const filter = objectFilter(field, undefined, o);
  let start = 0;
  let end = entries.length;
  if (namespace !== undefined) {
    // Keys are `namespace/name`, sorted: one namespace is a contiguous range.
    start = lowerBound(entries, `${namespace}/`);
    end = lowerBound(entries, `${namespace}0`); // '0' is the character after '/'
  }
  if (o.continue) start = Math.max(start, lowerBound(entries, o.continue.key + '\u0000'));
  const limit = o.limit && o.limit > 0 ? o.limit : Infinity;
  if (!filter && limit === Infinity && start === 0 && end === entries.length) return { entries, rv };
  const out: ObjectEntry[] = [];
  let i = start;
  for (; i < end && out.length < limit; i++) {
    const e = entries[i] as ObjectEntry;
    if (!filter || filter(e)) out.push(e);
  }
  if (i < end && out.length >= limit) {
    // Is anything left that matches? Only then hand out a continue token.
    let more = !filter;
    for (let j = i; !more && j < end; j++) more = filter?.(entries[j] as ObjectEntry) ?? true;
    if (more) {
      const last = out[out.length - 1] as ObjectEntry;
      const sel: Selected = { entries: out, rv, continue: encodeContinueToken({ rv, key: last.key }) };
      if (!filter) sel.remainingItemCount = end - i;
      return sel;
    }
  }
  return { entries: out, rv };
}
