import { encodeContinueToken } from '../k8s/continue.ts';
import { KubeError, badRequest, notFound, upstreamUnavailable } from '../k8s/errors.ts';
import { escapeFieldValue, parseFieldSelector } from '../k8s/fields.ts';
import type { Negotiated } from '../k8s/negotiate.ts';
import type { ListOptions } from '../k8s/params.ts';
import type { FeedLog, FeedStatus } from '../resources/feed.ts';
import type { WatchHub } from '../resources/watch.ts';
import { staleDataWarning, warningHeader } from '../k8s/warning.ts';
import { skipWarning } from '../resources/skips.ts';
import { failureReason } from '../resilience/reason.ts';
import type { UserInfo } from '../auth/types.ts';
import type { PageResult, PassThroughQueries } from '../resources/passthrough-queries.ts';
import { StorageBase, type CommonParts } from './base.ts';
import { frameEncoders } from './frames.ts';
import { awaitResourceVersion, objectFilter } from './list.ts';
import type { Fetched, Getter, ListPage, Lister, PreparedWatch, ServedResource, Watcher } from './types.ts';

/** Prefix of an upstream cursor inside kubegate's continue token. */
const CURSOR = 'pt:';

/** The parts of one pass-through resource (built by the runtime). */
export interface PassThroughParts extends CommonParts {
  queries: PassThroughQueries;
  /** The upstream's change feed and its watch hub, when the adapter declares `changes`. */
  feed?: { log: FeedLog; hub: WatchHub; status: FeedStatus };
  now?: () => number;
}

/** Real apiservers pick a random watch timeout between 30 and 60 minutes when the client sets none. */
function defaultTimeoutMs(): number {
  return (1800 + Math.floor(Math.random() * 1800)) * 1000;
}

/**
 * A pass-through resource: every list and get is forwarded to the upstream through a per-query cache with
 * coalescing ({@link PassThroughQueries}). With a change feed it offers a watcher, fed by the feed's log through
 * a watch hub as a mirror's is (resourceVersions and 410 included); without one it offers none. The upstream's
 * cursor rides inside kubegate's opaque continue token; selectors are re-applied here, so a page may hold fewer
 * items than `limit` (clients follow `continue`, as the Kubernetes API allows). See docs/architecture.md,
 * "Pass-through".
 */
export class PassThroughStorage extends StorageBase implements ServedResource {
  readonly getter: Getter = this;
  readonly lister: Lister = this;
  readonly watcher?: Watcher;
  private readonly p: PassThroughParts;
  private readonly frameEncoder: ReturnType<typeof frameEncoders>;

  constructor(p: PassThroughParts) {
    super(p);
    this.p = p;
    this.frameEncoder = frameEncoders(p.encoder);
    if (p.feed) this.watcher = { watch: (ns, o, format, name) => this.watch(ns, o, format, name) };
  }

  status(): { adapter: string; resource: string; breaker: string; feed?: FeedStatus } {
    return {
      adapter: this.adapter,
      resource: this.info.plural,
      breaker: this.p.upstream.breakerState(),
      ...(this.p.feed ? { feed: this.p.feed.status } : {}),
    };
  }

  /** Replaces the adapter's config (config reload); cached answers expire as usual. */
  reconfigure(config: unknown): void {
    this.p.queries.config = config;
  }

  /** Warnings for an answer: served from stale data, items of the page skipped. */
  private warnings(r: Pick<PageResult, 'stale' | 'skipped'>): string[] | undefined {
    const skipped = r.skipped && skipWarning(this.adapter, `${this.info.plural}.${this.info.group}`, r.skipped);
    if (!r.stale && !skipped) return undefined;
    const out = r.stale ? [staleDataWarning(this.adapter, r.stale.cause, r.stale.ageMs)] : [];
    if (skipped) out.push(warningHeader(skipped));
    return out;
  }

  private async upstream<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      if (err instanceof KubeError) throw err;
      throw upstreamUnavailable(this.adapter, `${this.info.plural}.${this.info.group}`, failureReason(err));
    }
  }

  async get(namespace: string | undefined, name: string, caller?: UserInfo): Promise<Fetched> {
    const got = await this.upstream(() => this.p.queries.get(namespace, name, caller));
    const warnings = this.warnings(got);
    // An object the upstream has but kubegate cannot serve is a NotFound that says why (in the Warning).
    if (!got.entry) {
      const err = notFound(this.info.plural, this.info.group, name);
      err.warnings = warnings;
      throw err;
    }
    return warnings ? { entry: got.entry, warnings } : { entry: got.entry };
  }

  async list(namespace: string | undefined, o: ListOptions, caller?: UserInfo): Promise<ListPage> {
    let cursor: string | undefined;
    if (o.continue) {
      if (!o.continue.key.startsWith(CURSOR))
        throw badRequest('continue key is not valid: not a token of this resource');
      cursor = o.continue.key.slice(CURSOR.length);
    }
    const page = await this.upstream(() =>
      this.p.queries.listPage(
        {
          namespace,
          limit: o.limit ?? 500,
          cursor,
          labelSelector: o.labelSelector,
          fieldSelector: o.fieldSelector,
        },
        caller,
      ),
    );
    const filter = objectFilter(this.p.field, namespace, o);
    const out: ListPage = {
      entries: filter ? page.entries.filter(filter) : page.entries,
      meta: {
        resourceVersion: page.rv,
        ...(page.cursor ? { continue: encodeContinueToken({ rv: page.rv, key: CURSOR + page.cursor }) } : {}),
      },
    };
    const warnings = this.warnings(page);
    if (warnings) out.warnings = warnings;
    return out;
  }

  /**
   * A watch on the change feed. There is no initial state to send (the collection is the upstream's, not
   * kept here): a watch without resourceVersion (or "0") starts at the feed's current one; one from a list's
   * resourceVersion replays the feed's events after it, or answers 410 Expired when they left the log.
   */
  private async watch(
    namespace: string | undefined,
    o: ListOptions,
    format: Negotiated,
    name?: string,
  ): Promise<PreparedWatch> {
    const feed = this.p.feed;
    if (!feed) throw badRequest('this resource has no change feed');
    if (o.sendInitialEvents === true)
      throw badRequest(
        "sendInitialEvents is not supported on a pass-through resource: list it, then watch from the list's resourceVersion",
      );
    if (name !== undefined) {
      // Legacy single-object watch path: same as a watch with fieldSelector=metadata.name=<name>.
      const byName = `metadata.name=${escapeFieldValue(name)}`;
      o.fieldSelector = parseFieldSelector(
        o.fieldSelector.empty ? byName : `${o.fieldSelector.toString()},${byName}`,
        this.supportedFields,
      );
    }
    const rv = o.resourceVersion;
    let fromRv = feed.log.rv;
    if (rv !== undefined && rv > 0) {
      await awaitResourceVersion(feed.log, rv);
      fromRv = rv;
    }
    const filter = objectFilter(this.p.field, namespace, o);
    const formatKey = format.kind === 'table' ? `table/${format.version}/${o.includeObject}` : 'json';
    const encode = this.frameEncoder(format, o.includeObject, formatKey);
    // timeoutSeconds=0 asks for the default, as on the kube-apiserver (not for a watch that ends at once).
    const timeoutMs = o.timeoutSeconds ? o.timeoutSeconds * 1000 : defaultTimeoutMs();
    const st = feed.status;
    const now = (this.p.now ?? Date.now)();
    const warnings =
      st.lastError && st.lastSuccess !== undefined
        ? [staleDataWarning(this.adapter, `change feed: ${st.lastError}`, now - st.lastSuccess)]
        : undefined;
    return {
      ...(warnings ? { warnings } : {}),
      start: (sink) =>
        feed.hub.add(
          { sink, filter, encode, format: formatKey, bookmarks: o.allowWatchBookmarks, timeoutMs },
          [],
          fromRv,
          false,
        ),
    };
  }
}
