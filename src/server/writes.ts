import { badRequest, pathNotFound } from '../k8s/errors.ts';
import type { WriteOptions, Written } from '../registry/types.ts';
import type { KubegateReply, KubegateRequest } from './http.ts';
import type { ResourceRequest } from './request.ts';
import { DEFAULT_MAX_WRITE_BYTES, readDeleteOptions, readObjectBody, readPatchBody } from './write-body.ts';

const JSON_TYPE = 'application/json';
const FIELD_VALIDATION = new Set(['Strict', 'Warn', 'Ignore']);

/** Limits of writes (server config). */
export interface WriteLimits {
  /** Largest request body read (bytes); default 3 MiB as the kube-apiserver. */
  maxBodyBytes: number;
}

export const DEFAULT_WRITE_LIMITS: WriteLimits = { maxBodyBytes: DEFAULT_MAX_WRITE_BYTES };

const values = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/**
 * The write options of a request's query: `dryRun` (only `All`, as on the apiserver; anything else is a 400)
 * and `fieldValidation` (Strict, Warn or Ignore; default Warn as on the apiserver). `fieldManager` is accepted
 * and not used: kubegate keeps no managed fields.
 */
export function writeOptions(query: unknown): Omit<WriteOptions, 'caller'> {
  const q = (query ?? {}) as Record<string, unknown>;
  const dry = values(q.dryRun);
  for (const d of dry)
    if (d !== 'All') throw badRequest(`Invalid dry run value: ${JSON.stringify(d)}: only "All" is supported`);
  const fv = values(q.fieldValidation);
  const fieldValidation = fv[0] ?? 'Warn';
  if (fv.length > 1 || !FIELD_VALIDATION.has(fieldValidation))
    throw badRequest(`invalid fieldValidation value ${JSON.stringify(fieldValidation)}: use Strict, Warn or Ignore`);
  return { dryRun: dry.length > 0, fieldValidation: fieldValidation as WriteOptions['fieldValidation'] };
}

function send(reply: KubegateReply, w: Written): KubegateReply {
  if (w.warnings) reply.header('warning', w.warnings);
  return reply.code(w.status).type(JSON_TYPE).send(w.json);
}

/**
 * create, delete, update and patch of a resource that offers them: the request was authorized (so the body is
 * read only now), the body is decoded and handed to the resource's write capability, which runs admission and
 * validation and writes through the adapter (docs/kubernetes-wire.md, "Writes").
 */
export async function serveWrite(
  rr: ResourceRequest,
  req: KubegateRequest,
  reply: KubegateReply,
  limits: WriteLimits = DEFAULT_WRITE_LIMITS,
): Promise<KubegateReply> {
  const { resource: r, path } = rr;
  const o: WriteOptions = { ...writeOptions(req.query), ...(req.user ? { caller: req.user } : {}) };
  const max = limits.maxBodyBytes;
  const name = path.name;
  switch (rr.action) {
    case 'create': {
      if (!r.creater) throw pathNotFound();
      const body = await readObjectBody(req, max);
      return send(reply, await r.creater.create(path.namespace, body, o));
    }
    case 'delete': {
      if (!r.deleter || name === undefined) throw pathNotFound();
      const options = await readDeleteOptions(req, max);
      return send(reply, await r.deleter.delete(path.namespace, name, options, o));
    }
    case 'update': {
      if (!r.updater || name === undefined) throw pathNotFound();
      const body = await readObjectBody(req, max);
      return send(reply, await r.updater.update(path.namespace, name, body, o));
    }
    default: {
      if (!r.updater || name === undefined) throw pathNotFound();
      const patch = await readPatchBody(req, max);
      return send(reply, await r.updater.patch(path.namespace, name, patch, o));
    }
  }
}
