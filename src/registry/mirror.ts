import { escapeFieldValue, parseFieldSelector } from '../k8s/fields.ts';
import { notFound, upstreamUnavailable } from '../k8s/errors.ts';
import type { Negotiated } from '../k8s/negotiate.ts';
import type { ListOptions } from '../k8s/params.ts';
import { shortAge, staleDataWarning, warningHeader } from '../k8s/warning.ts';
import type { IncludeObject } from '../resources/encode.ts';
import { objectKey, type ObjectEntry } from '../resources/entry.ts';
import type { Poller } from '../resources/poller.ts';
import type { CollectionView } from '../resources/view.ts';
import type { FrameEncoder, WatchHub } from '../resources/watch.ts';
import { StorageBase, type CommonParts } from './base.ts';
import { awaitResourceVersion, objectFilter, selectList, type ListSource } from './list.ts';
import { convertedSource } from './versions.ts';
import type { Fetched, Getter, ListPage, Lister, PreparedWatch, ServedResource, Watcher } from './types.ts';

/** How long a request waits for a collection's first poll before answering 503. */
const FIRST_POLL_WAIT_MS = 5000;

/** The parts of one mirrored collection (built by the runtime). */
export interface MirrorParts extends CommonParts {
  view: CollectionView;
  poller: Poller;
  hub: WatchHub;
  pollIntervalMs: number;
  /** Since when the shared store has been unreachable (its data is then only this replica's). */
  storeDownSince?: () => number | undefined;
  /** Called when a request is answered from stale data (metrics). */
  onStale?: () => void;
  now?: () => number;
  /** Hub entry → served entry, when this is another version than the stored one (versions.ts). */
  convert?: (e: ObjectEntry) => ObjectEntry;
  /** The Warning header value of a deprecated version. */
  deprecation?: string;
}

/** Health of a mirrored resource, for readiness, metrics and `kubectl get adapters`. */
export interface MirrorStatus {
  adapter: string;
  resource: string;
  objects: number;
  watchers: number;
  leader: boolean;
  /** ms since the epoch. */
  lastSuccess: number | undefined;
  /** True once a first poll ran or the view was loaded from the store. */
  started: boolean;
  lastError: string | undefined;
  consecutiveFailures: number;
  /** Poll interval (ms). */
  intervalMs: number;
  /** The upstream policy's circuit breaker: closed, half-open or open. */
  breaker: string;
}

/** Real apiservers pick a random watch timeout between 30 and 60 minutes when the client sets none. */
function defaultTimeoutMs(): number {
  return (1800 + Math.floor(Math.random() * 1800)) * 1000;
}

/**
 * A mirrored resource: everything is served from the local view the poller (or another replica, through the
 * store) keeps current. List semantics (snapshots, continue, resourceVersion waits) and the stale-data
 * Warning live here (docs/architecture.md, "Mirror").
 */
export class MirrorStorage extends StorageBase implements ServedResource {
  readonly getter: Getter = this;
  readonly lister: Lister = this;
  readonly watcher: Watcher = this;
  private readonly p: MirrorParts;
  private readonly now: () => number;
  /** One frame encoder per format, shared by the resource's watchers. */
  private readonly frameEncoders = new Map<string, FrameEncoder>();
  /** What lists read: the view, or the view converted to this version. */
  private readonly source: ListSource;
  readonly deprecation: string | undefined;

  constructor(p: MirrorParts) {
    super(p);
    this.p = p;
    this.now = p.now ?? Date.now;
    this.source = p.convert ? convertedSource(p.view, p.convert) : p.view;
    this.deprecation = p.deprecation;
  }

  status(): MirrorStatus {
    const st = this.p.poller.status;
    return {
      adapter: this.adapter,
      resource: this.info.plural,
      objects: this.p.view.size,
      watchers: this.p.hub.size,
      leader: st.leader,
      lastSuccess: st.lastSuccess,
      started: st.polls > 0 || this.p.view.synced,
      lastError: st.lastError,
      consecutiveFailures: st.consecutiveFailures,
      intervalMs: this.p.pollIntervalMs,
      breaker: this.p.upstream.breakerState(),
    };
  }

  /** The Warning kubectl prints when the data is stale (docs/kubernetes-wire.md, "Warnings"). */
  staleWarning(): string | undefined {
    const now = this.now();
    const storeDownSince = this.p.storeDownSince?.();
    if (storeDownSince !== undefined) {
      // This replica cannot see other replicas' polls: its view is as old as the outage.
      return warningHeader(
        `kubegate: the shared store is unreachable, serving this replica's data from ${shortAge(now - storeDownSince)} ago`,
      );
    }
    const st = this.p.poller.status;
    if (!st.lastError || st.lastSuccess === undefined) return undefined;
    return staleDataWarning(this.adapter, st.lastError, now - st.lastSuccess);
  }

  /** Waits for the first poll (briefly), then returns the Warnings to send (stale data, skipped items). */
  private async ready(): Promise<string[] | undefined> {
    const { view, poller } = this.p;
    if (!view.synced) {
      await Promise.race([poller.ready(), new Promise((r) => setTimeout(r, FIRST_POLL_WAIT_MS).unref())]);
      // The first poll may have filled the view while we waited (the linter cannot see that).
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition
      if (!view.synced) {
        throw upstreamUnavailable(
          this.adapter,
          `${this.info.plural}.${this.info.group}`,
          poller.status.lastError ?? 'the first poll has not finished',
          { retryAfterMs: this.p.pollIntervalMs, noDataYet: true },
        );
      }
    }
    const stale = this.staleWarning();
    if (stale) this.p.onStale?.();
    const skipped = this.p.skips.warning();
    if (!stale && !skipped) return undefined;
    const warnings = stale ? [stale] : [];
    if (skipped) warnings.push(warningHeader(skipped));
    return warnings;
  }

  async get(namespace: string | undefined, name: string): Promise<Fetched> {
    const warnings = await this.ready();
    const stored = this.p.view.get(objectKey(namespace, name));
    if (!stored) throw notFound(this.info.plural, this.info.group, name);
    const entry = this.p.convert ? this.p.convert(stored) : stored;
    return warnings ? { entry, warnings } : { entry };
  }

  async list(namespace: string | undefined, o: ListOptions): Promise<ListPage> {
    const warnings = await this.ready();
    const sel = await selectList(this.source, this.p.field, namespace, o);
    const page: ListPage = {
      entries: sel.entries,
      meta: {
        resourceVersion: sel.rv,
        ...(sel.continue ? { continue: sel.continue } : {}),
        ...(sel.remainingItemCount !== undefined ? { remainingItemCount: sel.remainingItemCount } : {}),
      },
      // kubectl pages with limit=500: its pages are reused as whole lists are.
      reusable: o.labelSelector.empty && o.fieldSelector.empty,
      position: `${o.limit ?? ''}|${o.continue?.key ?? ''}`,
    };
    if (warnings) page.warnings = warnings;
    return page;
  }

  private frameEncoder(format: Negotiated, include: IncludeObject, key: string): FrameEncoder {
    let e = this.frameEncoders.get(key);
    if (e) return e;
    const enc = this.encoder;
    e =
      format.kind === 'table'
        ? (type, entry, rv, first, end) =>
            entry && type !== 'BOOKMARK'
              ? enc.tableFrame(type, entry, rv, first, format.version, include)
              : enc.jsonFrame(type, entry, rv, end)
        : (type, entry, rv, _first, end) => enc.jsonFrame(type, entry, rv, end);
    const convert = this.p.convert;
    if (convert) {
      const inVersion = e;
      e = (type, entry, rv, first, end) => inVersion(type, entry && convert(entry), rv, first, end);
    }
    this.frameEncoders.set(key, e);
    return e;
  }

  async watch(
    namespace: string | undefined,
    o: ListOptions,
    format: Negotiated,
    name?: string,
  ): Promise<PreparedWatch> {
    const warnings = await this.ready();
    const { view, hub, field } = this.p;
    if (name !== undefined) {
      // Legacy single-object watch path: same as a watch with fieldSelector=metadata.name=<name>.
      const byName = `metadata.name=${escapeFieldValue(name)}`;
      o.fieldSelector = parseFieldSelector(
        o.fieldSelector.empty ? byName : `${o.fieldSelector.toString()},${byName}`,
        this.supportedFields,
      );
    }
    let initial = false;
    let fromRv: number;
    const rv = o.resourceVersion;
    if (o.sendInitialEvents === true || rv === undefined || rv === 0) {
      if (rv !== undefined && rv > 0) await awaitResourceVersion(view, rv);
      initial = o.sendInitialEvents !== false;
      fromRv = view.rv;
    } else {
      await awaitResourceVersion(view, rv);
      fromRv = rv;
    }
    const convert = this.p.convert;
    const selects = objectFilter(field, namespace, o);
    // The hub's watchers and events, judged and encoded in this version (frames shared per version).
    const filter = convert && selects ? (e: ObjectEntry) => selects(convert(e)) : selects;
    const formatKey =
      (convert ? `${this.info.version}/` : '') +
      (format.kind === 'table' ? `table/${format.version}/${o.includeObject}` : 'json');
    const encode = this.frameEncoder(format, o.includeObject, formatKey);
    // timeoutSeconds=0 asks for the default, as on the kube-apiserver (not for a watch that ends at once).
    const timeoutMs = o.timeoutSeconds ? o.timeoutSeconds * 1000 : defaultTimeoutMs();
    return {
      ...(warnings ? { warnings } : {}),
      start: (sink) =>
        hub.add(
          { sink, filter, encode, format: formatKey, bookmarks: o.allowWatchBookmarks, timeoutMs },
          initial ? view.sorted() : [],
          fromRv,
          initial && o.sendInitialEvents === true && o.allowWatchBookmarks,
        ),
    };
  }
}
