/**
 * Writes in a served version other than the storage one (docs/architecture.md, "Versions"): the request's object
 * is checked against its own version's schema, converted to the hub with the version's `toHub` and written by
 * the hub's writes (admission, validation, the adapter's write, the refresh); the answer is converted back with
 * `fromHub`. A patch is applied to the object as this version shows it. So a client keeps writing the version it
 * reads, and the adapter only ever sees its storage version.
 */
import { badRequest, KubeError } from '../k8s/errors.ts';
import { invalidObject } from '../k8s/field-errors.ts';
import { jsonPatch, mergePatch, type PatchType } from '../k8s/patch.ts';
import { schemaFieldErrors } from '../k8s/schema-errors.ts';
import type { KubeObject, ResourceInfo } from '../k8s/types.ts';
import type { VersionedObject } from '../sdk/types.ts';
import type { Creater, Deleter, Getter, Updater, WriteOptions, Written } from './types.ts';
import { convertObject, type ServedVersion } from './versions.ts';
import { decodeBody } from './writes.ts';

export interface VersionedWriteParts {
  /** This version's resource. */
  info: ResourceInfo;
  /** The storage version's resource. */
  hub: ResourceInfo;
  /** The hub's writes. */
  creater?: Creater | undefined;
  deleter?: Deleter | undefined;
  updater?: Updater | undefined;
  /** This version's getter (objects converted from the hub). */
  getter: Getter;
  writes: NonNullable<ServedVersion['writes']>;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** create, delete, update and patch in one non-storage version, through the hub's. */
export class VersionedWrites implements Creater, Deleter, Updater {
  private readonly p: VersionedWriteParts;

  constructor(p: VersionedWriteParts) {
    this.p = p;
  }

  /** Capabilities of the version: those the hub has. */
  static over(p: VersionedWriteParts): { creater?: Creater; deleter?: Deleter; updater?: Updater } {
    const w = new VersionedWrites(p);
    return {
      ...(p.creater ? { creater: w } : {}),
      ...(p.deleter ? { deleter: w } : {}),
      ...(p.updater ? { updater: w } : {}),
    };
  }

  /**
   * The request body as a hub object: apiVersion and kind checked, the spec validated against this version's
   * schema (field errors in this version's terms), then converted.
   */
  private toHub(body: unknown, o: WriteOptions): { hubBody: Record<string, unknown>; warnings: string[] } {
    const { info, hub, writes } = this.p;
    const { meta, spec, warnings } = decodeBody(body, info, writes.spec, o);
    const name = typeof meta.name === 'string' ? meta.name : '';
    if (writes.spec) {
      const errs = schemaFieldErrors(writes.spec, spec, 'spec');
      if (errs.length > 0) throw invalidObject(info.kind, info.group, name, errs);
    }
    const labels = isObject(meta.labels) ? (meta.labels as Record<string, string>) : undefined;
    const annotations = isObject(meta.annotations) ? (meta.annotations as Record<string, string>) : undefined;
    let out: VersionedObject;
    try {
      out = writes.toHub({
        metadata: {
          name,
          ...(typeof meta.namespace === 'string' ? { namespace: meta.namespace } : {}),
          ...(labels ? { labels } : {}),
          ...(annotations ? { annotations } : {}),
        },
        ...(spec !== undefined ? { spec } : {}),
      });
    } catch {
      throw new KubeError(
        500,
        'InternalError',
        `converting ${info.plural}.${info.group} "${name}" to ${hub.version} failed`,
      );
    }
    // Labels and annotations are what the conversion returns; the rest of metadata is the request's.
    const rest = { ...meta };
    delete rest.labels;
    delete rest.annotations;
    const hubBody = {
      apiVersion: `${hub.group}/${hub.version}`,
      kind: hub.kind,
      metadata: {
        ...rest,
        ...(out.metadata.labels ? { labels: out.metadata.labels } : {}),
        ...(out.metadata.annotations ? { annotations: out.metadata.annotations } : {}),
      },
      ...(out.spec !== undefined ? { spec: out.spec } : {}),
    };
    return { hubBody, warnings };
  }

  /** The hub's answer in this version; its Warnings after this version's own. */
  private answer(w: Written, warnings: string[] = []): Written {
    const obj = JSON.parse(w.json) as KubeObject;
    const json =
      obj.kind === 'Status' ? w.json : JSON.stringify(convertObject(obj, this.p.info, this.p.writes.fromHub));
    const all = [...warnings, ...(w.warnings ?? [])];
    return { json, status: w.status, ...(all.length > 0 ? { warnings: all } : {}) };
  }

  private need<T>(capability: T | undefined, verb: string): T {
    if (!capability) throw badRequest(`${this.p.info.plural}.${this.p.info.group} cannot be ${verb}`);
    return capability;
  }

  async create(namespace: string | undefined, body: unknown, o: WriteOptions): Promise<Written> {
    const creater = this.need(this.p.creater, 'created');
    const { hubBody, warnings } = this.toHub(body, o);
    return this.answer(await creater.create(namespace, hubBody, o), warnings);
  }

  async delete(namespace: string | undefined, name: string, options: unknown, o: WriteOptions): Promise<Written> {
    const deleter = this.need(this.p.deleter, 'deleted');
    return this.answer(await deleter.delete(namespace, name, options, o));
  }

  async update(namespace: string | undefined, name: string, body: unknown, o: WriteOptions): Promise<Written> {
    const updater = this.need(this.p.updater, 'updated');
    const { hubBody, warnings } = this.toHub(body, o);
    return this.answer(await updater.update(namespace, name, hubBody, o), warnings);
  }

  async patch(
    namespace: string | undefined,
    name: string,
    patch: { type: PatchType; patch: unknown },
    o: WriteOptions,
  ): Promise<Written> {
    this.need(this.p.updater, 'updated');
    const { entry } = await this.p.getter.get(namespace, name, o.caller);
    const current = JSON.parse(entry.json.toString()) as unknown;
    const patched = patch.type === 'json' ? jsonPatch(current, patch.patch) : mergePatch(current, patch.patch);
    return this.update(namespace, name, patched, o);
  }
}
