import type { ResourceInfo } from '../k8s/types.ts';
import { compileJsonPath, humanDuration, renderRow, tableColumnDefinitions, tableRowTemplate } from '../k8s/table.ts';
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

/**
 * Per-resource encoder. Objects are encoded once per version (ObjectEntry keeps the JSON and the Table cells)
 * and lists are spliced from that text — never a JSON.stringify of a whole list (docs/architecture.md, "Performance").
 */
export function createEncoder(info: ResourceInfo): Encoder {
  const apiVersion = `${info.group}/${info.version}`;
  const listHead = `{"kind":"${info.kind}List","apiVersion":"${apiVersion}","metadata":`;
  const columnsJson = JSON.stringify(tableColumnDefinitions(info));
  const compiled = info.columns.map((c) => compileJsonPath(c.jsonPath));
  // Cells are rendered once per object version (ObjectEntry keeps them); only the ages are rendered per
  // response. Entries without pre-rendered cells (pass-through pages) are rendered here.
  const cellsOf = (e: ObjectEntry, now: number): string =>
    e.cellsJson(now, humanDuration) ?? renderRow(tableRowTemplate(info, compiled, e.obj), now);
  const row = (e: ObjectEntry, inc: IncludeObject, now: number): string => {
    if (inc === 'None') return `{"cells":${cellsOf(e, now)}}`;
    return `{"cells":${cellsOf(e, now)},"object":${inc === 'Object' ? e.text() : e.metadataJson()}}`;
  };
  const tableHead = (v: TableVersion, meta: string, columns: boolean): string =>
    `{"kind":"Table","apiVersion":"meta.k8s.io/${v}","metadata":${meta}` +
    (columns ? `,"columnDefinitions":${columnsJson}` : '') +
    ',"rows":[';

  return {
    listJson(entries, meta) {
      // One allocation, each object's text written straight into it (the resourceVersions as digits once).
      const head = `${listHead}${listMetaJson(meta)},"items":[`;
      const rvs = new Array<string>(entries.length);
      let size = Buffer.byteLength(head) + entries.length + 2;
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i] as ObjectEntry;
        const prev = i > 0 ? (entries[i - 1] as ObjectEntry) : undefined;
        rvs[i] = prev?.rv === e.rv ? (rvs[i - 1] as string) : String(e.rv);
        size += e.byteLength(rvs[i] as string);
      }
      const out = Buffer.allocUnsafe(size);
      let off = out.write(head, 0);
      for (let i = 0; i < entries.length; i++) {
        if (i > 0) out[off++] = 0x2c; // ,
        off = (entries[i] as ObjectEntry).writeJson(out, off, rvs[i] as string);
      }
      off += out.write(']}', off, 'latin1');
      return off === size ? out : out.subarray(0, off);
    },
    listTable(entries, meta, v, inc) {
      const now = Date.now();
      const rows = new Array<string>(entries.length);
      for (let i = 0; i < entries.length; i++) rows[i] = row(entries[i] as ObjectEntry, inc, now);
      return Buffer.from(`${tableHead(v, listMetaJson(meta), true)}${rows.join(',')}]}`);
    },
    objectTable(e, v, inc) {
      return Buffer.from(`${tableHead(v, `{"resourceVersion":"${e.rv}"}`, true)}${row(e, inc, Date.now())}]}`);
    },
    jsonFrame(type, e, rv, initialEventsEnd) {
      if (e) return Buffer.from(`{"type":"${type}","object":${e.text()}}\n`);
      const ann = initialEventsEnd ? `,"annotations":{"k8s.io/initial-events-end":"true"}` : '';
      return Buffer.from(
        `{"type":"${type}","object":{"kind":"${info.kind}","apiVersion":"${apiVersion}","metadata":{"resourceVersion":"${rv}"${ann}}}}\n`,
      );
    },
    tableFrame(type, e, rv, first, v, inc) {
      return Buffer.from(
        `{"type":"${type}","object":${tableHead(v, `{"resourceVersion":"${rv}"}`, first)}${row(e, inc, Date.now())}]}}\n`,
      );
    },
  };
}
