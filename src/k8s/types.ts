/** What the Kubernetes wire needs to know about one served resource; built from adapter definitions. */
export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  /** Simple JSONPath: `.a.b`, `.metadata.labels.country`, `.a['x.y']`, `.items[0].b`. */
  jsonPath: string;
  format?: string;
  description?: string;
  priority?: number;
}

export interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  /** URL segment, e.g. `forecasts`. */
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  /** e.g. ['get', 'list', 'watch']. */
  verbs: string[];
  /** Subresources served beside the main resource, e.g. [{ name: 'proxy', verbs: ['get', 'create', ...] }]. */
  subresources: { name: string; verbs: string[] }[];
  /** Printer columns after Name; Age is appended by the Table builder unless a date column exists. */
  columns: PrinterColumn[];
  /** JSON Schemas (draft-07 flavoured, as produced by TypeBox) of spec and status. */
  schema: { spec?: object; status?: object };
  /** Field-selector paths beyond metadata.name / metadata.namespace. */
  fields: string[];
  description: string;
  /** Warning text of a deprecated version (OpenAPI marks it); undefined when the version is not deprecated. */
  deprecated?: string;
}

/** A group-version served by kubegate. */
export interface GroupVersionInfo {
  group: string;
  version: string;
  resources: ResourceInfo[];
}

/** The object shape kubegate serves. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: unknown;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
