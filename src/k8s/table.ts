import type { KubeObject, PrinterColumn, ResourceInfo } from './types.ts';

/**
 * `meta.k8s.io/v1` Table pieces, rendered like the CustomResourceDefinition printer columns
 * (apiextensions-apiserver's tableconvertor): Name first, the declared columns, then Age.
 */

type Step = { key: string } | { index: number };

/**
 * Compiles the simple JSONPath printer columns use: `.a.b`, `{.a.b}`, `.a['x.y']`, `.a["x"]`, `.a[0].b`.
 * Throws an Error naming the path when it is not of that form (checked when an adapter loads).
 *
 * @example
 * compileJsonPath('.metadata.labels.country')(obj);
 */
export function compileJsonPath(path: string): (obj: unknown) => unknown {
  let p = path.trim();
  if (p.startsWith('{') && p.endsWith('}')) p = p.slice(1, -1).trim();
  if (!p.startsWith('.')) throw new Error(`jsonPath "${path}" must start with "." (e.g. ".status.temperatureC")`);
  const steps: Step[] = [];
  const re = /\.([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[(?:'([^']*)'|"([^"]*)")\]/y;
  let i = 0;
  while (i < p.length) {
    re.lastIndex = i;
    const m = re.exec(p);
    if (!m) throw new Error(`jsonPath "${path}" is not supported at "${p.slice(i)}" (use .field, [n] or ['key'])`);
    if (m[1] !== undefined) steps.push({ key: m[1] });
    else if (m[2] !== undefined) steps.push({ index: Number(m[2]) });
    else steps.push({ key: m[3] ?? m[4] ?? '' });
    i = re.lastIndex;
  }
  if (steps.length === 0) throw new Error(`jsonPath "${path}" selects nothing`);
  return (obj) => {
    let v: unknown = obj;
    for (const s of steps) {
      if (v === null || typeof v !== 'object') return undefined;
      v = 'key' in s ? (v as Record<string, unknown>)[s.key] : Array.isArray(v) ? v[s.index] : undefined;
    }
    return v;
  };
}

const NAME_COLUMN = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description:
    'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  priority: 0,
};

const AGE_COLUMN = {
  name: 'Age',
  type: 'date',
  format: '',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  priority: 0,
};

const hasDate = (info: ResourceInfo) =>
  info.columns.some((c) => c.type === 'date' && c.jsonPath.includes('creationTimestamp'));

/** Column definitions: Name, the resource's printer columns, then Age (unless a column shows creationTimestamp). */
export function tableColumnDefinitions(info: ResourceInfo): object[] {
  const cols = info.columns.map((c: PrinterColumn) => ({
    name: c.name,
    type: c.type,
    format: c.format ?? '',
    description: c.description ?? '',
    priority: c.priority ?? 0,
  }));
  return [NAME_COLUMN, ...cols, ...(hasDate(info) ? [] : [AGE_COLUMN])];
}

/** Renders one cell like the CRD table convertor: scalars as they are, objects/arrays as JSON, missing as null. */
function cell(c: PrinterColumn, v: unknown): unknown {
  if (v === undefined || v === null) return null;
  switch (c.type) {
    case 'integer':
      return typeof v === 'number' ? Math.trunc(v) : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : null;
    case 'number':
      return typeof v === 'number'
        ? v
        : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))
          ? Number(v)
          : null;
    case 'boolean':
      return typeof v === 'boolean' ? v : null;
    case 'date':
    case 'string':
      if (typeof v === 'string') return v;
      if (Array.isArray(v) && v.every((x) => typeof x !== 'object')) return v.join(',');
      if (typeof v === 'number' || typeof v === 'boolean') return String(v);
      return JSON.stringify(v);
  }
}

/** The cells of one row: name, the printer columns, then the creation timestamp for Age (dates as RFC 3339). */
export function tableCells(
  info: ResourceInfo,
  compiled: readonly ((o: unknown) => unknown)[],
  obj: KubeObject,
): unknown[] {
  const out: unknown[] = [obj.metadata.name];
  info.columns.forEach((c, i) => out.push(cell(c, compiled[i]?.(obj))));
  if (!hasDate(info)) out.push(obj.metadata.creationTimestamp);
  return out;
}

/**
 * A row's cells as JSON with the date cells left open: dates render as ages ("5m", "3d4h"), which change
 * with time while the object does not. `parts` interleave with `times` (ms since epoch; NaN → null).
 */
export interface RowTemplate {
  parts: string[];
  times: number[];
}

export function tableRowTemplate(
  info: ResourceInfo,
  compiled: readonly ((o: unknown) => unknown)[],
  obj: KubeObject,
): RowTemplate {
  const cells = tableCells(info, compiled, obj);
  const dateAt = new Set<number>();
  info.columns.forEach((c, i) => c.type === 'date' && dateAt.add(i + 1));
  if (!hasDate(info)) dateAt.add(cells.length - 1);
  const parts: string[] = [];
  const times: number[] = [];
  let cur = '[';
  cells.forEach((v, i) => {
    if (i > 0) cur += ',';
    if (dateAt.has(i)) {
      const t = typeof v === 'string' ? Date.parse(v) : NaN;
      if (typeof v === 'string' && Number.isNaN(t)) {
        cur += JSON.stringify(v); // not a timestamp: shown as it is
        return;
      }
      parts.push(cur);
      times.push(t);
      cur = '';
    } else {
      cur += JSON.stringify(v);
    }
  });
  parts.push(cur + ']');
  return { parts, times };
}

/** Renders a row template at `now`. */
export function renderRow(t: RowTemplate, now: number): string {
  let s = t.parts[0] ?? '';
  for (let i = 0; i < t.times.length; i++) {
    const x = t.times[i] ?? NaN;
    s += (Number.isNaN(x) ? 'null' : `"${humanDuration(now - x)}"`) + (t.parts[i + 1] ?? '');
  }
  return s;
}

/**
 * An age as kubectl shows it (apimachinery's duration.HumanDuration): exact seconds up to two minutes, then
 * coarser units with one sub-unit while it still matters.
 */
export function humanDuration(ms: number): string {
  // Go's int(d.Seconds()) truncates toward zero; up to a second and a bit in the future is clock skew.
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8)
    return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8)
    return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

/** `{"kind":"PartialObjectMetadata",...}` for `includeObject=Metadata` rows (what `-A` and `--show-labels` read). */
export function partialObjectMetadataJson(obj: KubeObject): string {
  return `{"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1","metadata":${JSON.stringify(obj.metadata)}}`;
}
