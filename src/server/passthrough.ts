import type { FastifyReply } from 'fastify';
import { encodeContinueToken } from '../k8s/continue.ts';
import { KubeError, badRequest, notFound, serviceUnavailable } from '../k8s/errors.ts';
import type { Negotiated } from '../k8s/negotiate.ts';
import type { ListOptions } from '../k8s/params.ts';
import type { PassCollection } from '../resources/runtime.ts';
import type { PageResult } from '../resources/passthrough.ts';
import { objectFilter } from './list.ts';
import { addWarning, staleDataWarning } from '../k8s/warning.ts';
import { skipWarning } from '../resources/skips.ts';

const CURSOR = 'pt:';

function warn(reply: FastifyReply, c: PassCollection, r: Pick<PageResult, 'stale' | 'skipped'>): void {
  if (r.stale) reply.header('warning', staleDataWarning(c.adapter, r.stale.cause, r.stale.ageMs));
  if (r.skipped) addWarning(reply, skipWarning(c.adapter, `${c.info.plural}.${c.info.group}`, r.skipped));
}

async function upstream<T>(c: PassCollection, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof KubeError) throw err;
    throw serviceUnavailable(
      `${c.adapter}: upstream unavailable for ${c.info.plural}.${c.info.group}: ${err instanceof Error ? err.message : String(err)}`,
      5,
    );
  }
}

/**
 * list and get of a pass-through resource. The upstream's cursor rides inside kubegate's opaque continue
 * token; every selector is re-applied here, so a page may hold fewer items than `limit` (clients follow
 * `continue`, as the Kubernetes API allows).
 */
export async function servePassThrough(
  c: PassCollection,
  namespace: string | undefined,
  name: string | undefined,
  o: ListOptions,
  format: Negotiated,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const inc = o.includeObject;
  if (name !== undefined) {
    const got = await upstream(c, () => c.pass.get(namespace, name));
    const { entry } = got;
    // An object the upstream has but kubegate cannot serve is a NotFound that says why (in the Warning).
    warn(reply, c, got);
    if (!entry) throw notFound(c.info.plural, c.info.group, name);
    return reply
      .type('application/json')
      .send(format.kind === 'table' ? c.encoder.objectTable(entry, format.version, inc) : entry.json);
  }
  let cursor: string | undefined;
  if (o.continue) {
    if (!o.continue.key.startsWith(CURSOR)) throw badRequest('continue key is not valid: not a token of this resource');
    cursor = o.continue.key.slice(CURSOR.length);
  }
  const page = await upstream(c, () =>
    c.pass.listPage({
      namespace,
      limit: o.limit ?? 500,
      cursor,
      labelSelector: o.labelSelector,
      fieldSelector: o.fieldSelector,
    }),
  );
  warn(reply, c, page);
  const filter = objectFilter(c, namespace, o);
  const entries = filter ? page.entries.filter(filter) : page.entries;
  const meta = {
    resourceVersion: page.rv,
    ...(page.cursor ? { continue: encodeContinueToken({ rv: page.rv, key: CURSOR + page.cursor }) } : {}),
  };
  const body =
    format.kind === 'table'
      ? c.encoder.listTable(entries, meta, format.version, inc)
      : c.encoder.listJson(entries, meta);
  return reply.type('application/json').send(body);
}
