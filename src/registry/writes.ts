import { createHash, randomInt } from 'node:crypto';
import type { UserInfo } from '../auth/types.ts';
import { KubeError, badRequest, qualifiedResource, upstreamUnavailable } from '../k8s/errors.ts';
import { invalidObject } from '../k8s/field-errors.ts';
import { jsonPatch, mergePatch, type PatchType } from '../k8s/patch.ts';
import { schemaFieldErrors, unknownFields } from '../k8s/schema-errors.ts';
import type { TSchema } from '@sinclair/typebox';
import type { ResourceInfo } from '../k8s/types.ts';
import { warningHeader } from '../k8s/warning.ts';
import { failureReason } from '../resilience/reason.ts';
import { buildObject, rfc3339 } from '../resources/object.ts';
import { isLabelKey, isLabelValue } from '../sdk/labels.ts';
import { REJECTION_CODES, RequestRejected } from '../sdk/rejected.ts';
import type {
  AdapterLogger,
  AdmissionRequest,
  FieldError,
  ObjectInput,
  ResourceDefinition,
  ServedObject,
  UpstreamFetch,
  WriteContext,
  WriteObject,
} from '../sdk/types.ts';
import type { Creater, Deleter, Getter, Updater, WriteOptions, Written } from './types.ts';

/** What the writes of one resource are made of (built by the runtime). */
export interface WriteParts {
  adapter: string;
  info: ResourceInfo;
  def: ResourceDefinition;
  /** The adapter's current config (it may be reloaded). */
  config(): unknown;
  fetch: UpstreamFetch;
  log: AdapterLogger;
  /** Reads the current object (existence checks, update and delete). */
  getter: Getter;
  /** Makes a write visible at once: a mirror polls now, a pass-through drops its cached answers. */
  refresh(): Promise<void>;
  /** How long one write may take in the adapter (ms); default 60 s. */
  timeoutMs?: number;
  now?: () => number;
}

const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_SUBDOMAIN_DETAIL =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start " +
  "and end with an alphanumeric character (e.g. 'example.com', regex used for validation is " +
  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
/** The apiserver's generateName: the prefix cut to 58 characters, then 5 of these characters. */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const MAX_PREFIX = 58;

/** A value of the request as a message shows it: strings as they are, anything else as JSON. */
const shown = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function generateName(prefix: string): string {
  let s = prefix.slice(0, MAX_PREFIX);
  for (let i = 0; i < 5; i++) s += NAME_ALPHABET[randomInt(NAME_ALPHABET.length)] ?? 'x';
  return s;
}

function stringMap(v: unknown, field: string, errs: FieldError[]): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isObject(v)) {
    errs.push({ field, type: 'Invalid', value: v, detail: 'must be a map of strings' });
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string')
      errs.push({ field: `${field}.${k}`, type: 'Invalid', value: x, detail: 'must be a string' });
    else out[k] = x;
  }
  return out;
}

/** The identity a write's idempotency key is derived from: the same object gets the same key on every replica. */
function idempotencyKey(...parts: string[]): string {
  return `kubegate-${createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 43)}`;
}

/**
 * A write's body checked against the version it is sent to: an object of its apiVersion and kind, with metadata
 * an object. Unknown fields (top level, and in the spec by `specSchema`) are refused under Strict field
 * validation, reported as Warnings under Warn, and dropped from the returned copy of the spec but under Strict.
 * Shared by the storage version's writes and the other versions' (versioned-writes.ts).
 */
export function decodeBody(
  body: unknown,
  info: Pick<ResourceInfo, 'group' | 'version' | 'kind'>,
  specSchema: TSchema | undefined,
  o: Pick<WriteOptions, 'fieldValidation'>,
): { body: Record<string, unknown>; meta: Record<string, unknown>; spec: unknown; warnings: string[] } {
  if (!isObject(body)) throw badRequest(`the request body must be a ${info.kind} object`);
  const apiVersion = `${info.group}/${info.version}`;
  if (body.apiVersion !== undefined && body.apiVersion !== apiVersion)
    throw badRequest(
      `the API version in the data (${shown(body.apiVersion)}) does not match the expected API version (${apiVersion})`,
    );
  if (body.kind !== undefined && body.kind !== info.kind)
    throw badRequest(`the kind in the data (${shown(body.kind)}) does not match the expected kind (${info.kind})`);
  const meta = body.metadata ?? {};
  if (!isObject(meta)) throw badRequest('metadata must be an object');
  const warnings: string[] = [];
  const extra = Object.keys(body).filter((k) => !TOP_LEVEL.has(k));
  const spec = structuredClone(body.spec);
  const unknown = [
    ...extra,
    ...(specSchema && isObject(spec) ? unknownFields(specSchema, spec, 'spec', o.fieldValidation !== 'Strict') : []),
  ];
  if (unknown.length > 0) {
    if (o.fieldValidation === 'Strict')
      throw badRequest(`strict decoding error: ${unknown.map((f) => `unknown field ${JSON.stringify(f)}`).join(', ')}`);
    if (o.fieldValidation === 'Warn')
      for (const f of unknown) warnings.push(warningHeader(`unknown field ${JSON.stringify(f)}`));
  }
  return { body, meta, spec, warnings };
}

/** The fields of an object at its top level. */
const TOP_LEVEL = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);

/**
 * The writes of one resource, in the order of the kube-apiserver's request flow: decode and check the object
 * against the request (apiVersion, kind, name, namespace), admission mutate, validation against the resource
 * schema, admission validate, then the write through the adapter (never for a dry run), and last a refresh
 * so that lists and watches show the change (docs/architecture.md, "Writes").
 */
export class WriteStorage implements Creater, Deleter, Updater {
  private readonly p: WriteParts;
  private readonly now: () => number;

  constructor(p: WriteParts) {
    this.p = p;
    this.now = p.now ?? Date.now;
  }

  private get qualified(): string {
    return qualifiedResource(this.p.info.plural, this.p.info.group);
  }

  private ctx(user: UserInfo | undefined, key: string): WriteContext<unknown> {
    return {
      config: this.p.config(),
      fetch: this.p.fetch,
      signal: AbortSignal.timeout(this.p.timeoutMs ?? 60_000),
      log: this.p.log,
      skip: () => undefined,
      idempotencyKey: key,
      user: { name: user?.name ?? 'system:anonymous', groups: user?.groups ?? [] },
    };
  }

  /** Checks a request body against the request: an object of this resource's kind, in this namespace. */
  private decode(
    body: unknown,
    namespace: string | undefined,
    o: WriteOptions,
  ): { meta: Record<string, unknown>; obj: Record<string, unknown>; warnings: string[] } {
    const { info } = this.p;
    const d = decodeBody(body, info, this.p.def.schema.spec, o);
    if (info.namespaced) {
      if (namespace === undefined) throw badRequest(`a ${info.kind} is namespaced: send it to a namespace's path`);
      if (d.meta.namespace !== undefined && d.meta.namespace !== '' && d.meta.namespace !== namespace)
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    return { meta: d.meta, obj: { ...d.body, spec: d.spec }, warnings: d.warnings };
  }

  /** The write object of a decoded body (labels and annotations checked), and the field errors found. */
  private writeObject(name: string, namespace: string | undefined, meta: Record<string, unknown>, spec: unknown) {
    const errs: FieldError[] = [];
    if (!DNS_SUBDOMAIN.test(name))
      errs.push({ field: 'metadata.name', type: 'Invalid', value: name, detail: DNS_SUBDOMAIN_DETAIL });
    const labels = stringMap(meta.labels, 'metadata.labels', errs);
    for (const [k, v] of Object.entries(labels)) {
      if (!isLabelKey(k))
        errs.push({ field: 'metadata.labels', type: 'Invalid', value: k, detail: 'not a valid label key' });
      if (!isLabelValue(v))
        errs.push({ field: `metadata.labels.${k}`, type: 'Invalid', value: v, detail: 'not a valid label value' });
    }
    const annotations = stringMap(meta.annotations, 'metadata.annotations', errs);
    const obj: WriteObject = {
      name,
      ...(this.p.info.namespaced && namespace !== undefined ? { namespace } : {}),
      labels,
      annotations,
      spec,
    };
    return { obj, errs };
  }

  /** Admission mutate, schema validation, admission validate: the object to write, or 422 Invalid. */
  private async admit(req: AdmissionRequest, metaErrs: FieldError[]): Promise<WriteObject> {
    const { def, info } = this.p;
    const actx = this.ctx(undefined, '');
    try {
      const mutated = await def.admission?.mutate?.(actx, req);
      if (mutated) req.object = mutated;
    } catch (err) {
      throw this.failure(err, 'admit', req.object.name);
    }
    // The name and namespace are the request's: admission cannot move an object.
    const errs = [...metaErrs];
    const specSchema = def.schema.spec;
    if (specSchema) errs.push(...schemaFieldErrors(specSchema, req.object.spec, 'spec'));
    if (errs.length === 0) {
      try {
        errs.push(...((await def.admission?.validate?.(actx, req)) ?? []));
      } catch (err) {
        throw this.failure(err, 'admit', req.object.name);
      }
    }
    if (errs.length > 0) throw invalidObject(info.kind, info.group, req.object.name, errs);
    return req.object;
  }

  /** The served object of a write object (a dry run's answer, or when the refresh did not bring it yet). */
  private served(input: ObjectInput): string {
    const { info, def } = this.p;
    const built = buildObject(
      input,
      { group: info.group, version: info.version, kind: info.kind, namespaced: info.namespaced, schema: def.schema },
      () => rfc3339(this.now()),
    );
    return built.body;
  }

  private asInput(o: WriteObject): ObjectInput {
    return {
      name: o.name,
      ...(o.namespace !== undefined ? { namespace: o.namespace } : {}),
      labels: o.labels,
      annotations: o.annotations,
      spec: o.spec,
    };
  }

  /** The object as now served after a write, else as the adapter returned it. */
  private async after(
    namespace: string | undefined,
    name: string,
    returned: ObjectInput | undefined,
    fallback: string,
  ) {
    try {
      await this.p.refresh();
    } catch (err) {
      this.p.log.warn('refresh after a write failed', { resource: this.qualified, reason: failureReason(err) });
    }
    try {
      const { entry } = await this.p.getter.get(namespace, name);
      return entry.json.toString();
    } catch {
      if (!returned) return fallback;
      try {
        return this.served(returned);
      } catch {
        return fallback;
      }
    }
  }

  /** A failure of an adapter function as the client's answer (never upstream text). */
  private failure(err: unknown, verb: string, name: string): KubeError {
    const { info, adapter } = this.p;
    if (err instanceof KubeError) return err;
    if (err instanceof RequestRejected) {
      if (err.reason === 'Invalid' && err.causes.length > 0)
        return invalidObject(info.kind, info.group, name, err.causes);
      return new KubeError(REJECTION_CODES[err.reason], err.reason, err.message, {
        name,
        group: info.group,
        kind: info.plural,
        ...(err.causes.length > 0
          ? { causes: err.causes.map((c) => ({ field: c.field, message: c.detail ?? c.type })) }
          : {}),
      });
    }
    const why = failureReason(err);
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500 && ![401, 403, 408, 429].includes(status))
      return badRequest(`${adapter}: the upstream refused to ${verb} ${this.qualified} "${name}": ${why}`);
    const e = upstreamUnavailable(adapter, this.qualified, why);
    return new KubeError(
      e.code,
      e.reason,
      `${adapter}: could not ${verb} ${this.qualified} "${name}": ${why}; sending the same request again is safe`,
      e.details,
    );
  }

  private async current(namespace: string | undefined, name: string, caller?: UserInfo): Promise<ServedObject> {
    const { entry } = await this.p.getter.get(namespace, name, caller);
    return JSON.parse(entry.json.toString()) as ServedObject;
  }

  private alreadyExists(name: string): KubeError {
    const { info } = this.p;
    return new KubeError(409, 'AlreadyExists', `${this.qualified} "${name}" already exists`, {
      name,
      group: info.group,
      kind: info.plural,
    });
  }

  private conflict(name: string, why: string): KubeError {
    const { info } = this.p;
    return new KubeError(409, 'Conflict', `Operation cannot be fulfilled on ${this.qualified} "${name}": ${why}`, {
      name,
      group: info.group,
      kind: info.plural,
    });
  }

  private async exists(namespace: string | undefined, name: string, caller?: UserInfo): Promise<boolean> {
    try {
      await this.p.getter.get(namespace, name, caller);
      return true;
    } catch (err) {
      if (err instanceof KubeError && err.code === 404) return false;
      throw err;
    }
  }

  async create(namespace: string | undefined, body: unknown, o: WriteOptions): Promise<Written> {
    const { info, def } = this.p;
    const create = def.create?.bind(def);
    if (!create) throw badRequest(`${this.qualified} cannot be created`);
    const { meta, obj, warnings } = this.decode(body, namespace, o);
    const metaErrs: FieldError[] = [];
    let name = typeof meta.name === 'string' ? meta.name : '';
    if (!name) {
      const prefix = typeof meta.generateName === 'string' ? meta.generateName : '';
      if (!prefix)
        throw invalidObject(info.kind, info.group, '', [
          { field: 'metadata.name', type: 'Required', detail: 'name or generateName is required' },
        ]);
      name = generateName(prefix);
    }
    const { obj: wo, errs } = this.writeObject(name, namespace, meta, obj.spec);
    metaErrs.push(...errs);
    const user = { name: o.caller?.name ?? 'system:anonymous', groups: o.caller?.groups ?? [] };
    const admitted = await this.admit({ operation: 'CREATE', object: wo, dryRun: o.dryRun, user }, metaErrs);
    if (await this.exists(namespace, name, o.caller)) throw this.alreadyExists(name);
    const out = (json: string): Written => ({ json, status: 201, ...(warnings.length > 0 ? { warnings } : {}) });
    const wouldBe = this.served(this.asInput(admitted));
    if (o.dryRun) return out(wouldBe);
    let returned: ObjectInput;
    try {
      returned = await create(
        this.ctx(o.caller, idempotencyKey(info.group, info.plural, namespace ?? '', name)),
        admitted,
      );
    } catch (err) {
      throw this.failure(err, 'create', name);
    }
    return out(await this.after(namespace, name, returned, wouldBe));
  }

  async delete(namespace: string | undefined, name: string, options: unknown, o: WriteOptions): Promise<Written> {
    const { info, def } = this.p;
    const del = def.delete?.bind(def);
    if (!del) throw badRequest(`${this.qualified} cannot be deleted`);
    let dryRun = o.dryRun;
    let pre: Record<string, unknown> = {};
    if (options !== undefined) {
      if (!isObject(options)) throw badRequest('the DeleteOptions in the request body must be an object');
      if (options.kind !== undefined && options.kind !== 'DeleteOptions')
        throw badRequest(`the request body must be DeleteOptions, not ${shown(options.kind)}`);
      if (options.dryRun !== undefined) {
        if (!Array.isArray(options.dryRun) || options.dryRun.some((x) => x !== 'All'))
          throw badRequest('Invalid dry run value: only "All" is supported');
        dryRun ||= options.dryRun.length > 0;
      }
      if (options.preconditions !== undefined && options.preconditions !== null) {
        if (!isObject(options.preconditions)) throw badRequest('preconditions must be an object');
        pre = options.preconditions;
      }
    }
    const current = await this.current(namespace, name, o.caller);
    if (typeof pre.uid === 'string' && pre.uid !== current.metadata.uid)
      throw this.conflict(
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`,
      );
    if (typeof pre.resourceVersion === 'string' && pre.resourceVersion !== current.metadata.resourceVersion)
      throw this.conflict(
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
      );
    const json = JSON.stringify(current);
    if (dryRun) return { json, status: 200 };
    let returned: ObjectInput | undefined;
    try {
      returned = await del(
        this.ctx(
          o.caller,
          idempotencyKey('delete', info.group, info.plural, namespace ?? '', name, current.metadata.resourceVersion),
        ),
        current,
      );
    } catch (err) {
      throw this.failure(err, 'delete', name);
    }
    try {
      await this.p.refresh();
    } catch (err) {
      this.p.log.warn('refresh after a write failed', { resource: this.qualified, reason: failureReason(err) });
    }
    let last = json;
    if (returned) {
      try {
        last = this.served(returned);
      } catch {
        // The last state did not match the schema: the object as it was is answer enough.
      }
    }
    return { json: last, status: 200 };
  }

  async update(namespace: string | undefined, name: string, body: unknown, o: WriteOptions): Promise<Written> {
    const current = await this.current(namespace, name, o.caller);
    return this.replace(namespace, name, body, current, o);
  }

  async patch(
    namespace: string | undefined,
    name: string,
    patch: { type: PatchType; patch: unknown },
    o: WriteOptions,
  ): Promise<Written> {
    const current = await this.current(namespace, name, o.caller);
    const patched = patch.type === 'json' ? jsonPatch(current, patch.patch) : mergePatch(current, patch.patch);
    return this.replace(namespace, name, patched, current, o);
  }

  private async replace(
    namespace: string | undefined,
    name: string,
    body: unknown,
    current: ServedObject,
    o: WriteOptions,
  ): Promise<Written> {
    const { info, def } = this.p;
    const update = def.update?.bind(def);
    if (!update) throw badRequest(`${this.qualified} cannot be updated`);
    const { meta, obj, warnings } = this.decode(body, namespace, o);
    if (meta.name !== undefined && meta.name !== name)
      throw badRequest(`the name of the object (${shown(meta.name)}) does not match the name on the URL (${name})`);
    const rv = meta.resourceVersion;
    if (typeof rv === 'string' && rv !== '' && rv !== current.metadata.resourceVersion)
      throw this.conflict(
        name,
        'the object has been modified; please apply your changes to the latest version and try again',
      );
    const { obj: wo, errs } = this.writeObject(name, namespace, meta, obj.spec);
    const user = { name: o.caller?.name ?? 'system:anonymous', groups: o.caller?.groups ?? [] };
    const admitted = await this.admit(
      { operation: 'UPDATE', object: wo, oldObject: current, dryRun: o.dryRun, user },
      errs,
    );
    const out = (json: string): Written => ({ json, status: 200, ...(warnings.length > 0 ? { warnings } : {}) });
    const wouldBe = this.served({
      ...this.asInput(admitted),
      ...(current.status !== undefined ? { status: current.status } : {}),
    });
    if (o.dryRun) return out(wouldBe);
    let returned: ObjectInput;
    try {
      const key = idempotencyKey(
        'update',
        info.group,
        info.plural,
        namespace ?? '',
        name,
        current.metadata.resourceVersion,
        JSON.stringify(admitted),
      );
      returned = await update(this.ctx(o.caller, key), admitted, current);
    } catch (err) {
      throw this.failure(err, 'update', name);
    }
    return out(await this.after(namespace, name, returned, wouldBe));
  }
}
