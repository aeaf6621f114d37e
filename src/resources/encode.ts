import type { ResourceInfo } from '../k8s/types.ts';
import {
  compileJsonPath,
  partialObjectMetadataJson,
  renderRow,
  tableColumnDefinitions,
  tableRowTemplate,
} from '../k8s/table.ts';
import type { ObjectEntry } from './entry.ts';

export type IncludeObject = 'None' | 'Metadata' | 'Object';
export type TableVersion = 'v1' | 'v1beta1';

/** List metadata: resourceVersion always, continue and remainingItemCount when paginating. */
export interface ListMeta {
  resourceVersion: number;
  continue?: string;
  remainingItemCount?: number;
}

export interface Encoder {
  listJson(entries: readonly ObjectEntry[], meta: ListMeta): Buffer;
  listTable(entries: readonly ObjectEntry[], meta: ListMeta, v: TableVersion, inc: IncludeObject): Buffer;
  objectTable(e: ObjectEntry, v: TableVersion, inc: IncludeObject): Buffer;
  /** One watch event line (JSON objects), newline-terminated. */
  jsonFrame(type: string, e: ObjectEntry | undefined, rv: number, initialEventsEnd?: boolean): Buffer;
  /** One watch event line whose object is a one-row Table (column definitions when `first`). */
  tableFrame(type: string, e: ObjectEntry, rv: number, first: boolean, v: TableVersion, inc: IncludeObject): Buffer;
}

function listMetaJson(m: ListMeta): string {
  let s = `{"resourceVersion":"${m.resourceVersion}"`;
  if (m.continue) s += `,"continue":${JSON.stringify(m.continue)}`;
  if (m.remainingItemCount !== undefined) s += `,"remainingItemCount":${m.remainingItemCount}`;
  return s + '}';
}

const COMMA = Buffer.from(',');

/**
 * Per-resource encoder. Objects are encoded once per version (ObjectEntry.json, cached Table cells) and lists
 * are spliced from those bytes — never a JSON.stringify of a whole list (DESIGN.md "Performance design").
 */
export function createEncoder(info: ResourceInfo): Encoder {
  const apiVersion = `${info.group}/${info.version}`;
  const listHead = `{"kind":"${info.kind}List","apiVersion":"${apiVersion}","metadata":`;
  const columnsJson = JSON.stringify(tableColumnDefinitions(info));
  const compiled = info.columns.map((c) => compileJsonPath(c.jsonPath));
  // Cells are computed once per object version; only the ages are rendered per response.
  const cellsOf = (e: ObjectEntry): string =>
    renderRow((e.cells ??= tableRowTemplate(info, compiled, e.obj)), Date.now());
  const metaOf = (e: ObjectEntry): string => (e.meta ??= partialObjectMetadataJson(e.obj));
  const row = (e: ObjectEntry, inc: IncludeObject): string => {
    if (inc === 'None') return `{"cells":${cellsOf(e)}}`;
    return `{"cells":${cellsOf(e)},"object":${inc === 'Object' ? e.json.toString() : metaOf(e)}}`;
  };
  const tableHead = (v: TableVersion, meta: string, columns: boolean): string =>
    `{"kind":"Table","apiVersion":"meta.k8s.io/${v}","metadata":${meta}` +
    (columns ? `,"columnDefinitions":${columnsJson}` : '') +
    ',"rows":[';

  return {
    listJson(entries, meta) {
      const parts: Buffer[] = new Array<Buffer>(entries.length * 2 + 1);
      parts[0] = Buffer.from(`${listHead}${listMetaJson(meta)},"items":[`);
      let n = 1;
      for (let i = 0; i < entries.length; i++) {
        if (i > 0) parts[n++] = COMMA;
        parts[n++] = (entries[i] as ObjectEntry).json;
      }
      parts[n++] = Buffer.from(']}');
      parts.length = n;
      return Buffer.concat(parts);
    },
    listTable(entries, meta, v, inc) {
      const rows = entries.map((e) => row(e, inc));
      return Buffer.from(`${tableHead(v, listMetaJson(meta), true)}${rows.join(',')}]}`);
    },
    objectTable(e, v, inc) {
      return Buffer.from(`${tableHead(v, `{"resourceVersion":"${e.rv}"}`, true)}${row(e, inc)}]}`);
    },
    jsonFrame(type, e, rv, initialEventsEnd) {
      if (e) return Buffer.from(`{"type":"${type}","object":${e.json.toString()}}\n`);
      const ann = initialEventsEnd ? `,"annotations":{"k8s.io/initial-events-end":"true"}` : '';
      return Buffer.from(
        `{"type":"${type}","object":{"kind":"${info.kind}","apiVersion":"${apiVersion}","metadata":{"resourceVersion":"${rv}"${ann}}}}\n`,
      );
    },
    tableFrame(type, e, rv, first, v, inc) {
      return Buffer.from(
        `{"type":"${type}","object":${tableHead(v, `{"resourceVersion":"${rv}"}`, first)}${row(e, inc)}]}}\n`,
      );
    },
  };
}
