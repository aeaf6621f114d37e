import type { KubeObject, ResourceInfo } from '../k8s/types.ts';
import { compileJsonPath, partialObjectMetadataJson, tableRowTemplate, type RowTemplate } from '../k8s/table.ts';

/** Placeholder the poller writes so a replica can set the resourceVersion without re-serializing. */
export const RV_PLACEHOLDER = '"resourceVersion":""';

/**
 * What a resource keeps of each object version besides its JSON: the values of its selectable fields and its
 * Table cells, extracted once when the version arrives so that lists, selectors and Tables never parse the
 * object again.
 */
export interface Projection {
  /** Declared selectable fields (dotted paths); an entry keeps their values in this order. */
  readonly fields: readonly string[];
  /** Table cells with the date cells left open (see RowTemplate). */
  readonly cells?: (obj: KubeObject) => RowTemplate;
  /** Shares equal values (label sets, field values) between entries: most objects repeat them. */
  readonly intern: Interner;
}

/** A bounded table of shared values: when full it starts over (values already handed out stay valid). */
export class Interner {
  private readonly values = new Map<string, unknown>();
  private readonly max: number;
  constructor(max = 10_000) {
    this.max = max;
  }
  get<T>(key: string, make: () => T): T {
    const v = this.values.get(key);
    if (v !== undefined) return v as T;
    if (this.values.size >= this.max) this.values.clear();
    const made = make();
    this.values.set(key, made);
    return made;
  }
}

/** The projection of a served resource: its declared fields and printer columns. */
export function createProjection(info: ResourceInfo): Projection {
  const compiled = info.columns.map((c) => compileJsonPath(c.jsonPath));
  return { fields: info.fields, cells: (obj) => tableRowTemplate(info, compiled, obj), intern: new Interner() };
}

const NO_PROJECTION: Projection = { fields: [], intern: new Interner(256) };
const CELL_BREAK = '\u0000'; // never in JSON.stringify output: control characters are escaped
const META_KEY = '"metadata":';

function pathValue(obj: unknown, path: string): string | undefined {
  let v = obj;
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

/**
 * One object version as served. The JSON is kept once, as the store gave it (with an empty resourceVersion,
 * the very string the in-process store holds), and the resourceVersion is spliced in when it is written out;
 * besides it only what selectors and Tables read is kept: labels, selectable field values, pre-rendered cells.
 * The parsed object ({@link ObjectEntry.obj}) is rebuilt on demand.
 */
export class ObjectEntry {
  readonly key: string;
  readonly rv: number;
  readonly hash: string;
  /** Object JSON with an empty resourceVersion at `rvAt`. */
  readonly body: string;
  private readonly rvAt: number;
  /** UTF-8 length of `body`. */
  private readonly bodyBytes: number;
  /** Where metadata's JSON starts and ends in `body` (-1 when not found). */
  private readonly metaStart: number;
  private readonly metaEnd: number;
  readonly labels: Readonly<Record<string, string>> | undefined;
  private readonly proj: Projection;
  /** Values of the projection's fields: the value itself when there is one field (no array per object). */
  private readonly fieldValues: string | readonly (string | undefined)[] | undefined;
  /**
   * Table cells as JSON with date cells cut out (joined by CELL_BREAK) and their times (one: a number) in
   * seconds since the epoch: whole seconds, as Kubernetes timestamps are, fit V8's small integers (until 2038)
   * where milliseconds would each be a boxed number of 16 bytes. The text leaves out the first cell when it
   * is the name in the key (see {@link rowAfterName}); it starts with `[` only when it does not.
   */
  private readonly cellText: string | undefined;
  private readonly cellTimes: number | readonly number[] | undefined;

  /** Use {@link makeEntry} / {@link withResourceVersion}. */
  constructor(from: ObjectEntry | undefined, key: string, rv: number, hash: string, body: string, proj: Projection) {
    this.key = key;
    this.rv = rv;
    this.hash = hash;
    this.body = body;
    this.proj = proj;
    if (from) {
      // Same content, another resourceVersion: everything else is shared.
      this.rvAt = from.rvAt;
      this.bodyBytes = from.bodyBytes;
      this.metaStart = from.metaStart;
      this.metaEnd = from.metaEnd;
      this.labels = from.labels;
      this.fieldValues = from.fieldValues;
      this.cellText = from.cellText;
      this.cellTimes = from.cellTimes;
      return;
    }
    // The first occurrence is metadata.resourceVersion: apiVersion, kind and metadata.name/namespace/uid come
    // first and JSON string escaping means no value can contain the placeholder's unescaped quotes.
    this.rvAt = body.indexOf(RV_PLACEHOLDER);
    this.bodyBytes = Buffer.byteLength(body);
    const obj = JSON.parse(body) as KubeObject;
    const labels = obj.metadata.labels;
    this.labels = labels && proj.intern.get(`l${JSON.stringify(labels)}`, () => labels);
    const m = body.indexOf(META_KEY);
    const metaJson = JSON.stringify(obj.metadata);
    const found = m >= 0 && body.startsWith(metaJson, m + META_KEY.length);
    this.metaStart = found ? m + META_KEY.length : -1;
    this.metaEnd = found ? this.metaStart + metaJson.length : -1;
    const value = (f: string) => {
      const v = pathValue(obj, f);
      return v === undefined ? v : proj.intern.get(`f${v}`, () => v);
    };
    const { fields } = proj;
    this.fieldValues =
      fields.length === 1 ? value(fields[0] as string) : fields.length > 1 ? fields.map(value) : undefined;
    if (proj.cells) {
      const t = proj.cells(obj);
      this.cellText = rowAfterName(t.parts, key, proj.intern);
      this.cellTimes = t.times.length === 1 ? (t.times[0] as number) / 1000 : t.times.map((ms) => ms / 1000);
    }
  }

  /** This content stamped with another resourceVersion (everything else shared). */
  at(rv: number): ObjectEntry {
    return rv === this.rv ? this : new ObjectEntry(this, this.key, rv, this.hash, this.body, this.proj);
  }

  private rvText(): string {
    return `"resourceVersion":"${this.rv}"`;
  }

  /** The object's JSON text, with metadata.resourceVersion. */
  text(): string {
    if (this.rvAt < 0) return this.body;
    // The placeholder ends with the two quotes of the empty value: the digits go between them.
    const split = this.rvAt + RV_PLACEHOLDER.length - 1;
    return this.body.slice(0, split) + String(this.rv) + this.body.slice(split);
  }

  /** The object's JSON bytes, with metadata.resourceVersion. */
  get json(): Buffer {
    const rv = String(this.rv);
    const out = Buffer.allocUnsafe(this.byteLength(rv));
    this.writeJson(out, 0, rv);
    return out;
  }

  /** UTF-8 length of the JSON with `rv` (this entry's resourceVersion as text) spliced in. */
  byteLength(rv: string): number {
    return this.rvAt < 0 ? this.bodyBytes : this.bodyBytes + rv.length;
  }

  /**
   * Writes the JSON with metadata.resourceVersion into `buf` at `off` and returns the offset after it. `rv`
   * is `String(this.rv)` (callers writing many entries of one version convert it once).
   */
  writeJson(buf: Buffer, off: number, rv: string): number {
    const b = this.body;
    const at = this.rvAt;
    if (at < 0) return off + buf.write(b, off);
    const split = at + RV_PLACEHOLDER.length - 1;
    if (this.bodyBytes === b.length) {
      // ASCII text (characters are bytes): the whole text in one write, then what follows the placeholder's
      // first quote moved by the digits' length (a memmove) and the digits written into the gap. Cutting the
      // text into two substrings instead made V8 copy each one first: 3-5x slower for a list.
      const end = off + buf.write(b, off, 'latin1');
      buf.copyWithin(off + split + rv.length, off + split, end);
      buf.write(rv, off + split, 'latin1');
      return end + rv.length;
    }
    off += buf.write(b.slice(0, split), off);
    off += buf.write(rv, off, 'latin1');
    return off + buf.write(b.slice(split), off);
  }

  /** The parsed object (built on each call: hot paths use the kept parts instead). */
  get obj(): KubeObject {
    return JSON.parse(this.text()) as KubeObject;
  }

  /** Namespace of a namespaced object (from its key), undefined for cluster-scoped ones. */
  get namespace(): string | undefined {
    const i = this.key.indexOf('/');
    return i < 0 ? undefined : this.key.slice(0, i);
  }

  /** True when the object lives in `ns`, without allocating. */
  inNamespace(ns: string): boolean {
    return this.key.length > ns.length && this.key.charCodeAt(ns.length) === 47 && this.key.startsWith(ns);
  }

  /** metadata.creationTimestamp as stored. */
  get creationTimestamp(): string | undefined {
    const from = this.metaStart >= 0 ? this.metaStart : 0;
    const k = '"creationTimestamp":"';
    const i = this.body.indexOf(k, from);
    if (i < 0) return this.obj.metadata.creationTimestamp;
    return this.body.slice(i + k.length, this.body.indexOf('"', i + k.length));
  }

  /** Value of a selectable field (`metadata.name`, `metadata.namespace` or a declared path). */
  field(path: string): string | undefined {
    if (path === 'metadata.namespace') return this.namespace ?? '';
    if (path === 'metadata.name') return this.key.slice(this.key.indexOf('/') + 1);
    const i = this.proj.fields.indexOf(path);
    if (i < 0) return pathValue(this.obj, path);
    const v = this.fieldValues;
    return typeof v === 'string' || v === undefined ? v : v[i];
  }

  /** `{"kind":"PartialObjectMetadata",...}` for Table rows with includeObject=Metadata. */
  metadataJson(): string {
    if (this.metaStart < 0) return partialObjectMetadataJson(this.obj);
    const head = '{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":';
    if (this.rvAt < this.metaStart || this.rvAt >= this.metaEnd) {
      return head + this.body.slice(this.metaStart, this.metaEnd) + '}';
    }
    return (
      head +
      this.body.slice(this.metaStart, this.rvAt) +
      this.rvText() +
      this.body.slice(this.rvAt + RV_PLACEHOLDER.length, this.metaEnd) +
      '}'
    );
  }

  /** The row's cells as JSON, date cells rendered as ages at `now`; undefined without a Table projection. */
  cellsJson(now: number, age: (ms: number) => string): string | undefined {
    const text = this.cellText;
    const times = this.cellTimes;
    if (text === undefined || times === undefined) return undefined;
    const name = text.charCodeAt(0) === 91 ? '' : `["${this.key.slice(this.key.indexOf('/') + 1)}"`;
    // Rounding gives back the exact milliseconds of a time that was not whole seconds.
    const render = (t: number) => (Number.isNaN(t) ? 'null' : `"${age(now - Math.round(t * 1000))}"`);
    if (typeof times === 'number') {
      const at = text.indexOf(CELL_BREAK);
      return name + text.slice(0, at) + render(times) + text.slice(at + 1);
    }
    let s = name;
    let from = 0;
    for (const t of times) {
      const at = text.indexOf(CELL_BREAK, from);
      s += text.slice(from, at) + render(t);
      from = at + 1;
    }
    return s + text.slice(from);
  }
}

/**
 * A row's cells (the template's parts joined by CELL_BREAK) without the leading `["name"` when the name is the
 * key's, as tableCells puts it first, and needs no escaping: the rest of a row often repeats from object to
 * object (state, type, zone: the synthetic adapter's 100,000 rows have 48 distinct ones), so it is shared
 * through the projection's interner, and the name is written back from the key when the row is rendered.
 * Otherwise the whole row. `join` makes a new flat string: a slice of the row would keep the whole row alive.
 */
function rowAfterName(parts: readonly string[], key: string, intern: Interner): string {
  const name = key.slice(key.indexOf('/') + 1);
  const head = `["${name}"`;
  const first = parts[0] ?? '';
  if (parts.length < 2 || !first.startsWith(head) || JSON.stringify(name).length !== name.length + 2)
    return parts.join(CELL_BREAK);
  const rest = [first.slice(head.length), ...parts.slice(1)].join(CELL_BREAK);
  return intern.get(`c${rest}`, () => rest);
}

/** Builds the served entry from a stored body (object JSON with an empty resourceVersion). */
export function makeEntry(
  key: string,
  rv: number,
  hash: string,
  body: string,
  proj: Projection = NO_PROJECTION,
): ObjectEntry {
  return new ObjectEntry(undefined, key, rv, hash, body, proj);
}

/** The entry of a DELETED event a watcher sees: last state, stamped with the deletion's resourceVersion. */
export function withResourceVersion(e: ObjectEntry, rv: number): ObjectEntry {
  return e.at(rv);
}

/** Collection key of an object: `name` for cluster-scoped, `namespace/name` for namespaced. */
export function objectKey(namespace: string | undefined, name: string): string {
  // join makes one flat string; `${namespace}/${name}` is a V8 cons string of 13 characters or more, which
  // a Map flattens into a second string while keeping both: 32 bytes more per mirrored object.
  return namespace ? [namespace, name].join('/') : name;
}
