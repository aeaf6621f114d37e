/**
 * The storage seam: what the request handler may ask of a served resource. Each capability is a small
 * interface, as in the Kubernetes apiserver's registry (Getter, Lister, Watcher, TableConvertor, Connecter);
 * a resource that lacks one simply does not offer that verb. The handler never learns how a resource keeps its
 * data (a mirrored view or calls to the upstream): see docs/architecture.md, "The storage seam".
 */
import type { UserInfo } from '../auth/types.ts';
import type { Negotiated } from '../k8s/negotiate.ts';
import type { ListOptions } from '../k8s/params.ts';
import type { ResourceInfo } from '../k8s/types.ts';
import type { UpstreamClient } from '../resilience/fetch.ts';
import type { ProxyDefinition } from '../sdk/types.ts';
import type { Encoder, ListMeta } from '../resources/encode.ts';
import type { ObjectEntry } from '../resources/entry.ts';
import type { WatchSink } from '../resources/watch.ts';

/** One object and the Warning header values that go with it (stale data, skipped items). */
export interface Fetched {
  entry: ObjectEntry;
  warnings?: string[];
}

/** One page of a list, in key order (mirror) or the upstream's order (pass-through). */
export interface ListPage {
  entries: readonly ObjectEntry[];
  meta: ListMeta;
  warnings?: string[];
  /**
   * True when the page is of the unfiltered collection: its encoded body depends only on the namespace, the
   * format, `meta.resourceVersion` and `position`, and may be reused for later requests with the same ones.
   */
  reusable?: boolean;
  /** Where a reusable page starts and how long it may be (limit and continue position). */
  position?: string;
}

/**
 * `get`: one object by namespace and name; throws a NotFound Status when there is none. `caller` is the
 * authenticated user, for limits on what reaches an upstream (a pass-through answers 429 over its budget).
 */
export interface Getter {
  get(namespace: string | undefined, name: string, caller?: UserInfo): Promise<Fetched>;
}

/** `list`: one page, honouring selectors, limit/continue and resourceVersion/resourceVersionMatch. */
export interface Lister {
  list(namespace: string | undefined, o: ListOptions, caller?: UserInfo): Promise<ListPage>;
}

/**
 * A watch that passed its checks (resourceVersion reachable) and has not sent anything yet. `start` hands it
 * the sink its frames go to and returns the function that ends it.
 */
export interface PreparedWatch {
  warnings?: string[];
  start(sink: WatchSink): () => void;
}

/**
 * `watch`: errors before the first frame are thrown (a Status answer); later ones become ERROR events. `name`
 * is the legacy single-object watch path (`.../<plural>/<name>?watch=1`).
 */
export interface Watcher {
  watch(namespace: string | undefined, o: ListOptions, format: Negotiated, name?: string): Promise<PreparedWatch>;
}

/** The `proxy` subresource: where an object's calls go and the adapter's upstream policy they go through. */
export interface Connecter {
  def: ProxyDefinition<unknown>;
  /** The adapter's current config (it may be reloaded). */
  config(): unknown;
  upstream: UpstreamClient;
}

/** How a write is done: `dryRun=All`, the `fieldValidation` asked for, who asks. */
export interface WriteOptions {
  dryRun: boolean;
  /** Unknown fields: Strict refuses them (400), Warn drops them with a Warning, Ignore drops them. */
  fieldValidation: 'Strict' | 'Warn' | 'Ignore';
  caller?: UserInfo;
}

/** The answer of a write: the object's JSON, the HTTP status (201 created, 200 otherwise) and Warnings. */
export interface Written {
  json: string;
  status: 200 | 201;
  warnings?: string[];
}

/** `create`: the request body (decoded, unchecked) into a new object (docs/architecture.md, "Writes"). */
export interface Creater {
  create(namespace: string | undefined, body: unknown, o: WriteOptions): Promise<Written>;
}

/** `delete`: one object by name; `options` is the request's DeleteOptions body, if any. */
export interface Deleter {
  delete(namespace: string | undefined, name: string, options: unknown, o: WriteOptions): Promise<Written>;
}

/** `update` (PUT, a whole object) and `patch` (a merge or JSON patch of the current object). */
export interface Updater {
  update(namespace: string | undefined, name: string, body: unknown, o: WriteOptions): Promise<Written>;
  patch(
    namespace: string | undefined,
    name: string,
    patch: { type: 'merge' | 'json'; patch: unknown },
    o: WriteOptions,
  ): Promise<Written>;
}

/** One served resource: what it is, and the capabilities it offers. */
export interface ServedResource {
  /** The adapter entry serving it (config `adapters[].name`). */
  adapter: string;
  info: ResourceInfo;
  /** Field selectors the resource accepts (`metadata.name`, `metadata.namespace` and declared fields). */
  supportedFields: ReadonlySet<string>;
  /** JSON and Table encoding (the table convertor). */
  encoder: Encoder;
  getter: Getter;
  lister: Lister;
  watcher?: Watcher;
  proxy?: Connecter;
  /** The `Warning` header value every request on a deprecated version gets (registry/versions.ts). */
  deprecation?: string | undefined;
  /** Writes through the adapter, when it declares them (a resource without them answers 405). */
  creater?: Creater | undefined;
  deleter?: Deleter | undefined;
  updater?: Updater | undefined;
}

/** Finds served resources by their path (the runtime implements it). */
export interface ResourceRegistry {
  /** The resource at `/apis/<group>/<version>/<plural>`, whatever keeps its data. */
  resource(group: string, version: string, plural: string): ServedResource | undefined;
  hasGroupVersion(group: string, version: string): boolean;
}
