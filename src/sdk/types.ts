import type { Static, TObject, TSchema } from '@sinclair/typebox';

/** A printer column of `kubectl get`, rendered from a JSONPath-like path into the object. */
export interface ColumnDefinition {
  /** Column header, e.g. `Temp`. */
  name: string;
  /** OpenAPI type of the cell: string, integer, number, boolean, or `date` (rendered as an age, like AGE). */
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  /** Simple JSONPath into the object, e.g. `.status.temperatureC` or `.metadata.labels.country`. */
  jsonPath: string;
  /** OpenAPI format hint (`name` for the name column); optional. */
  format?: string;
  description?: string;
  /** 0 (default) is always shown; 1 and above only with `-o wide`. */
  priority?: number;
}

/**
 * What an adapter returns for one upstream item. The framework adds apiVersion, kind, uid, resourceVersion and
 * (if absent) creationTimestamp, and maps name, namespace and labels to what Kubernetes allows (below).
 *
 * An item that cannot be served is skipped, never dropped silently: spec or status not matching the resource
 * schema (the failing path is reported, e.g. `status.owner: expected string, got null`), two items with the same
 * name in one poll, no name, no namespace for a Namespaced resource, or an error while building the object.
 * Each distinct reason is logged once, counted in `kubegate_skipped_items_total{reason}`, listed in
 * `kubectl get adapters <name> -o yaml` (status.skipped) and answered with a `Warning` on reads of the resource
 * while it lasts.
 *
 * @example
 * { name: 'ch_3MmlLr', namespace: 'checkout', labels: { status: 'succeeded' }, status: { amount: 1250 } }
 */
export interface ObjectInput {
  /**
   * metadata.name, mapped from the upstream id. A lower-case DNS subdomain (`a-z 0-9 - .`, at most 253
   * characters) is used as it is; anything else is lower-cased, other characters become `-`, and a short hash of
   * the original id is appended so that two ids never share a name (`New York` → `new-york-1a2b3c4d`). Map ids
   * yourself when you want names without the hash.
   */
  name: string;
  /** Required for Namespaced resources, ignored for Cluster ones; mapped like {@link ObjectInput.name}. */
  namespace?: string;
  /**
   * metadata.labels. Strings, numbers and booleans are kept (as strings); null and undefined are dropped. Keys and
   * values that are not valid labels are mapped readably and without hashes, exactly as `toLabelKey` and
   * `toLabelValue` do: runs of characters other than `A-Z a-z 0-9 - _ .` become one `-`, the ends are trimmed to
   * a letter or digit, names and values are cut to 63 characters, and a `prefix/` is kept when it is a DNS
   * subdomain (`env:prod` → `env-prod`, `Cost Center` → `Cost-Center`). When two keys map to the same label the
   * first in sorted order wins; a key or value with nothing left is dropped. Use `labelsFromTags` to map tags
   * yourself and learn what could not be mapped.
   */
  labels?: Record<string, string | number | boolean | null | undefined>;
  annotations?: Record<string, string>;
  /** When the upstream created the item; first sight is used when absent. */
  creationTimestamp?: string | Date;
  spec?: unknown;
  status?: unknown;
}

/**
 * A fetch with the adapter's resilience policy applied (rate limit, bulkhead, breaker, retries, deadline,
 * body size limit). 2xx and non-retryable answers (400, 401, 403, 404, 409, 422, ...) come back as Responses
 * for the adapter to read; transient failures (network errors, timeouts, 408, 429, 5xx) are retried for
 * GET/HEAD, for calls marked `idempotent` and for calls with an `Idempotency-Key` header (a POST the upstream
 * deduplicates) and, when they persist, thrown as `UpstreamError` (with `status`). Adapters add their own
 * credentials (headers); kubegate never logs them.
 */
export type UpstreamFetch = (input: string | URL | Request, init?: UpstreamRequestInit) => Promise<Response>;

/**
 * RequestInit plus what the policy needs to know about the call.
 *
 * @example
 * // A query API that reads with POST (EC2's Describe* actions, GraphQL queries): retried like a GET.
 * await ctx.fetch(url, { method: 'POST', body: form, idempotent: true, signal: ctx.signal });
 */
export interface UpstreamRequestInit extends RequestInit {
  /**
   * The call only reads, whatever its method, so a transient failure may be retried with backoff like a
   * GET's. Default: true for GET and HEAD, false otherwise.
   */
  idempotent?: boolean;
}

export interface AdapterLogger {
  debug(msg: string, extra?: Record<string, unknown>): void;
  info(msg: string, extra?: Record<string, unknown>): void;
  warn(msg: string, extra?: Record<string, unknown>): void;
  error(msg: string, extra?: Record<string, unknown>): void;
}

/** Passed to every adapter function. */
export interface AdapterContext<C> {
  /** The adapter's validated config (from the `config` key of its entry in kubegate.yaml). */
  config: C;
  /** fetch with the adapter's resilience policy; use it (directly or through openapi-fetch) for every upstream call. */
  fetch: UpstreamFetch;
  /** Aborted when the poll or request is abandoned. */
  signal: AbortSignal;
  log: AdapterLogger;
  /**
   * Reports an upstream item the adapter will not return (bad upstream data). Word `reason` without the item's
   * identity or values (e.g. `"charge id does not have the prefix_alphanumerics shape"`): each distinct reason is
   * logged once, counted, listed on the Adapter resource and surfaced as a Warning while it lasts.
   */
  skip(reason: string, item?: unknown): void;
}

/** Guards against a flapping upstream returning an empty or much smaller collection. */
export interface DeleteGuard {
  /** Largest share (0..1) of the collection one poll may delete; a poll deleting more is rejected. Default 0.5. */
  maxDeleteRatio?: number;
  /** Apply the ratio only when the collection has at least this many objects. Default 4. */
  minObjects?: number;
}

/**
 * The `proxy` subresource: `.../<plural>/<name>/proxy[/<path>]` is forwarded to the object's URL on the
 * upstream with the adapter's credentials added, so RBAC on `<plural>/proxy` decides who may call the
 * upstream without anyone holding its key. Only the adapter's base URL is reachable (no open relay).
 */
export interface ProxyDefinition<C> {
  /** The upstream base URL (its origin is the only one reachable). */
  baseUrl(config: C): string;
  /** The object's path on the upstream, e.g. `/v1/charges/ch_123`. */
  target(object: { metadata: { name: string; namespace?: string; annotations?: Record<string, string> } }): string;
  /**
   * Credentials and other headers added to every proxied request; `object` is the one proxied (for credentials
   * that depend on it, e.g. its namespace's account).
   */
  headers?(
    config: C,
    object: { metadata: { name: string; namespace?: string; annotations?: Record<string, string> } },
  ): Record<string, string>;
  /**
   * Methods allowed (default GET only) and sub-paths under the target allowed (default: the target only, "";
   * an entry ending in "/" allows everything below it). Paths are judged after decoding: "." and ".." segments,
   * empty segments, and encoded "%", "/", "\\", ";", "#" or "?" are refused in any encoding.
   */
  allow?: { methods?: string[]; paths?: string[] };
  /**
   * Query parameters the caller may pass on, by exact name (e.g. `limit`, `expand[]`); default none. A request
   * with any other parameter is refused (400), so the caller cannot widen what the upstream returns.
   */
  query?: string[];
}

/**
 * An object as a version conversion sees it: identity (read-only), labels, annotations, spec and status.
 * apiVersion and kind are the framework's; name, namespace, uid, resourceVersion and creationTimestamp are the
 * same in every version (changes to them are ignored).
 */
export interface VersionedObject {
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: unknown;
  status?: unknown;
}

/**
 * One version of a resource, like a CustomResourceDefinition's `versions[]`. The storage version (the hub) is
 * what `list`/`get` return and what is stored; every other version is converted from it when served, once
 * per object change. All versions share one store: resourceVersions, names and uids are the same in each.
 */
export interface ResourceVersion {
  /** Version name, e.g. `v1` or `v1beta1` (the adapter's `version` names the storage version). */
  name: string;
  /** The hub: exactly one version has it; its schema, columns and fields are the resource's own. */
  storage?: boolean;
  /** Served under `/apis/<group>/<name>`; default true. At least one version is served. */
  served?: boolean;
  /** Every request on this version gets a `Warning` (and OpenAPI marks it deprecated). */
  deprecated?: boolean;
  /**
   * The Warning text of a deprecated version; default `<group>/<name> <Kind> is deprecated; use
   * <group>/<newer> <Kind>`, as the kube-apiserver words it for CustomResourceDefinitions. At most 256
   * printable characters.
   */
  deprecationWarning?: string;
  /** This version's schema; default the resource's (storage version's) schema. */
  schema?: { spec?: TSchema; status?: TSchema };
  /** This version's printer columns; default the resource's. */
  columns?: ColumnDefinition[];
  /** This version's extra field-selector paths; default the resource's. */
  fields?: string[];
  description?: string;
  /** Converts a storage-version object to this version (pure, synchronous; give both or neither). */
  fromHub?: (obj: VersionedObject) => VersionedObject;
  /** Converts an object of this version to the storage version; `toHub(fromHub(x))` must give back x. */
  toHub?: (obj: VersionedObject) => VersionedObject;
}

interface ResourceBase {
  /** Kind, e.g. `Forecast`. */
  kind: string;
  /** Lower-case plural used in URLs, e.g. `forecasts`. */
  plural: string;
  /** Lower-case singular; defaults to kind.toLowerCase(). */
  singular?: string;
  shortNames?: string[];
  /** Discovery categories (never `all`). */
  categories?: string[];
  scope: 'Cluster' | 'Namespaced';
  /** JSON Schemas (TypeBox) of spec and status: they feed OpenAPI and `kubectl explain`. */
  schema: { spec?: TSchema; status?: TSchema };
  /** Printer columns after NAME (AGE is added at the end unless a `date` column is given). */
  columns?: ColumnDefinition[];
  /** Extra field-selector paths beyond metadata.name/metadata.namespace, e.g. `status.condition`. */
  fields?: string[];
  /** One-line description for OpenAPI/explain. */
  description?: string;
  /**
   * Several served versions of this resource (mirror resources), converted from and to the storage version:
   * see {@link ResourceVersion}. Without it the resource is served in the adapter's `version` only.
   */
  versions?: ResourceVersion[];
}

/**
 * One reason an object is refused, as the Kubernetes apiserver reports field errors: the field path in the
 * object (`spec.amount`, `metadata.labels`), what kind of problem it is, and optionally the offending value and
 * a detail for people. kubectl prints `spec.amount: Invalid value: -5: must be greater than 0`.
 *
 * @example
 * { field: 'spec.amount', type: 'Invalid', value: -5, detail: 'must be greater than 0' }
 * { field: 'spec.reason', type: 'NotSupported', value: 'oops', supported: ['duplicate', 'fraudulent'] }
 */
export interface FieldError {
  /** Dotted path with `[i]` for list items, e.g. `spec.items[0].sku`. */
  field: string;
  /**
   * `Required` (missing), `Invalid` (malformed value), `NotSupported` (not one of `supported`), `Forbidden`
   * (not allowed here), `Duplicate`, `TooLong`, `TooMany`, `NotFound` (refers to something that does not exist).
   */
  type: 'Required' | 'Invalid' | 'NotSupported' | 'Forbidden' | 'Duplicate' | 'TooLong' | 'TooMany' | 'NotFound';
  /** The offending value (shown to the client; never put secrets in it). Not shown for Required/Forbidden/TooLong. */
  value?: unknown;
  /** Why, for people, e.g. `must be greater than 0`. */
  detail?: string;
  /** For `NotSupported`: the values allowed. */
  supported?: string[];
}

/**
 * The object of a write as the adapter sees it: the Kubernetes object the client sent, decoded, defaulted
 * and checked against the resource schema (spec), with its final name (`generateName` already applied).
 */
export interface WriteObject {
  name: string;
  /** Set for Namespaced resources. */
  namespace?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Matches `schema.spec` (after admission mutate). */
  spec: unknown;
}

/** An object as kubegate serves it (what `update` and `delete` are told about the current state). */
export interface ServedObject {
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: unknown;
  status?: unknown;
}

/** What an admission function is asked about: one write, before it reaches the upstream. */
export interface AdmissionRequest {
  operation: 'CREATE' | 'UPDATE';
  /** The object to write (a copy the function may change in `mutate`). */
  object: WriteObject;
  /** The current object, for UPDATE. */
  oldObject?: ServedObject;
  /** True for `dryRun=All`: nothing will be written, whatever admission says. */
  dryRun: boolean;
  user: { name: string; groups: string[] };
}

/**
 * Admission, in the order the Kubernetes apiserver runs it: `mutate` (defaults, normalizing) runs before the
 * schema validation, `validate` after it. Both run for dry runs too.
 */
export interface Admission<C> {
  /** Returns the object to write instead (or changes `req.object` in place and returns nothing). */
  mutate?(ctx: AdapterContext<C>, req: AdmissionRequest): WriteObject | undefined | Promise<WriteObject | undefined>;
  /** Returns why the object is refused (answered 422 Invalid with one cause each); empty or nothing admits it. */
  validate?(
    ctx: AdapterContext<C>,
    req: AdmissionRequest,
  ): FieldError[] | undefined | Promise<FieldError[] | undefined>;
}

/** Passed to write functions: the adapter context plus what a write needs. */
export interface WriteContext<C> extends AdapterContext<C> {
  /**
   * A key derived from the object's identity (group, resource, namespace, name): send it upstream as the
   * idempotency key (`Idempotency-Key` on Stripe-shaped APIs) so a retried create reaches the upstream once.
   * kubegate retries a POST that carries an `Idempotency-Key` header like a GET.
   */
  idempotencyKey: string;
  user: { name: string; groups: string[] };
}

/**
 * Writes through the adapter (docs/adapters.md, "Writes"). Each one declared adds its verbs to discovery
 * (`create`; `delete`; `update` and `patch`); a resource without them answers 405 to writes. After a write a
 * mirror polls at once and a pass-through's cached answers are dropped, so the change shows in list and watch.
 * Throw `RequestRejected` for answers such as 409 AlreadyExists or 422 Invalid.
 */
interface WriteCapable<C> {
  /**
   * Creates the object upstream; returns it as the upstream now has it (its `name` must be `obj.name`, so the
   * object is found under the name the client asked for). Never called for dry runs.
   */
  create?(ctx: WriteContext<C>, obj: WriteObject): Promise<ObjectInput>;
  /**
   * Deletes (or cancels) the object upstream; returns its last state, or nothing. Once it returns, the object
   * must no longer be listed. Never called for dry runs.
   */
  delete?(ctx: WriteContext<C>, current: ServedObject): Promise<ObjectInput | undefined>;
  /** Replaces the object upstream (PUT, and PATCH applied to the current object); returns the new state. */
  update?(ctx: WriteContext<C>, obj: WriteObject, current: ServedObject): Promise<ObjectInput>;
  /** Admission functions (mutate, validate) run on create and update. */
  admission?: Admission<C>;
}

interface ProxyCapable<C> {
  /** Declares the `proxy` subresource (see {@link ProxyDefinition}). */
  proxy?: ProxyDefinition<C>;
}

/** A bounded collection polled as a whole and served from a local view. */
export interface MirrorResource<C = unknown> extends ResourceBase, ProxyCapable<C>, WriteCapable<C> {
  mode: 'mirror';
  /** How often to poll, e.g. `30s`, `1m`, or milliseconds. Default 30s. */
  pollInterval?: string | number;
  /**
   * List the whole upstream collection. Return every object, or yield them page by page
   * (each page is one upstream call, retried on its own).
   */
  list(ctx: AdapterContext<C>): Promise<ObjectInput[]> | AsyncIterable<ObjectInput | ObjectInput[]>;
  deleteGuard?: DeleteGuard;
}

/** One equality requirement the framework passes down to the upstream (a hint: it always re-filters). */
export interface PushedDownRequirement {
  key: string;
  value: string;
}

/** What a pass-through page request asks for. */
export interface PageRequest {
  /** Items wanted (the upstream may return fewer). */
  limit: number;
  /** The upstream's cursor from the previous page; undefined for the first page. */
  cursor: string | undefined;
  /** Namespace asked for, when the resource declares `pushDown.namespace`; else undefined. */
  namespace: string | undefined;
  /** Label requirements `key=value` on keys declared in `pushDown.labels`. */
  labels: PushedDownRequirement[];
  /** Field requirements `path=value` on paths declared in `pushDown.fields`. */
  fields: PushedDownRequirement[];
}

export interface Page {
  items: ObjectInput[];
  /** Cursor of the next page; undefined on the last page. */
  cursor?: string | undefined;
}

/**
 * An unbounded collection (a payment provider's charges): list pages and gets are forwarded to the upstream,
 * cached per query for `cacheTtl`, and identical concurrent queries coalesced into one upstream call.
 */
export interface PassThroughResource<C = unknown> extends ResourceBase, ProxyCapable<C>, WriteCapable<C> {
  mode: 'passthrough';
  /** How long a page or object stays cached, e.g. `10s`. Default 10s. */
  cacheTtl?: string | number;
  /**
   * Label keys and field paths the upstream can filter on (equality only), and whether it can filter by
   * namespace. With `namespace: false` (the default) one cached page serves every namespace.
   */
  pushDown?: { labels?: string[]; fields?: string[]; namespace?: boolean };
  /** Largest page the upstream serves; bigger `limit`s are capped. Default 100. */
  maxPageSize?: number;
  /**
   * The names objects of this resource can have, beyond being DNS subdomains (which every name is), e.g.
   * `/^ch-[a-z0-9-]+$/`. A get of any other name is answered NotFound without a cache entry or an upstream
   * call, so asking for made-up names costs nothing. Default: any DNS subdomain.
   */
  namePattern?: RegExp | string;
  /** One page of the collection, in the upstream's stable order. */
  listPage(ctx: AdapterContext<C>, page: PageRequest): Promise<Page>;
  /** One object by name; undefined when it does not exist. */
  get(ctx: AdapterContext<C>, ref: { name: string; namespace: string | undefined }): Promise<ObjectInput | undefined>;
  /**
   * The upstream's change feed, if it has one: the resource then offers `watch` (see {@link ChangeFeed} and
   * docs/adapters.md, "Change feeds"). Without it, a watch is refused with 405.
   */
  changes?: ChangeFeed<C>;
}

/**
 * One change the upstream reports about an object of a pass-through resource (a payments provider's
 * `charge.refunded` event): `ADDED` for an object that is new, `MODIFIED` for a change of an existing one,
 * `DELETED` with the object's last state.
 *
 * @example
 * { type: 'MODIFIED', object: { name: 'ch-3-abc', namespace: 'checkout', status: { refunded: true } } }
 */
export interface ObjectChange {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  /** The object after the change (its last state for DELETED), mapped as a list item is. */
  object: ObjectInput;
}

/** What one call of a change feed returns. */
export interface ChangeBatch {
  /** Changes after the `since` cursor, oldest first. */
  changes: ObjectChange[];
  /**
   * Where the next call starts: the upstream's position after these changes (an event id, say). Asked with
   * `since` undefined, the feed returns the position of "now"; changes returned with it are not delivered.
   */
  cursor: string | undefined;
  /** True when more changes are waiting (the feed is called again at once instead of after its interval). */
  more?: boolean;
  /**
   * True when the feed lost its place (the upstream no longer knows the `since` cursor): changes may have been
   * missed, so every watcher is ended with 410 Expired and relists. `cursor` is then the current position.
   */
  reset?: boolean;
}

/**
 * A pass-through resource's change feed: the upstream's log of changes (`GET /v1/events` of a payments
 * provider), read from a cursor. Declaring one makes the resource watchable (`kubectl get -w`, informers).
 */
export interface ChangeFeed<C = unknown> {
  /** How often the feed is read, e.g. `2s`. Default 5s. One replica reads it for all watchers. */
  interval?: string | number;
  /** Changes after `since` (undefined: the current position, see {@link ChangeBatch.cursor}). */
  read(ctx: AdapterContext<C>, since: string | undefined): Promise<ChangeBatch>;
}

export type ResourceDefinition<C = unknown> = MirrorResource<C> | PassThroughResource<C>;

export interface AdapterDefinition<S extends TObject = TObject> {
  /** Adapter name, used in config, logs, metrics and Warnings. */
  name: string;
  /** API group, e.g. `weather.example.com`. */
  group: string;
  /**
   * API version, e.g. `v1alpha1`: the version every resource is served in, and the storage version of a
   * resource that declares `versions`.
   */
  version: string;
  /** TypeBox schema of the adapter's config; validated at load with errors naming the field. */
  config: S;
  /**
   * The served resources: a list, or a function of the validated config that returns it (an adapter whose
   * resources are declared in its config, like `adapters/http`). The function runs when the config is loaded
   * (`kubegate validate`, `serve` start) and on every config reload; it throws {@link AdapterConfigError} to
   * name the config field at fault. `dir` is the config file's folder, against which relative paths in the
   * config are resolved (like adapter modules).
   */
  resources: ResourceDefinition<Static<S>>[] | ResourcesFromConfig<Static<S>>;
}

/**
 * An adapter's resources made from its validated config. Declared in method syntax so that an adapter with a
 * specific config type is still an `AdapterDefinition` (as its `list(ctx)` functions already allow).
 */
export type ResourcesFromConfig<C> = {
  resources(config: C, at: { dir: string }): ResourceDefinition<C>[];
}['resources'];

/** An adapter whose resources are a list (every adapter once its config is loaded). */
export type StaticAdapterDefinition<S extends TObject = TObject> = AdapterDefinition<S> & {
  resources: ResourceDefinition<Static<S>>[];
};
