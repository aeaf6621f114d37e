import { encodeContinueToken } from '../k8s/continue.ts';
import { KubeError, badRequest, notFound, upstreamUnavailable } from '../k8s/errors.ts';
import type { ListOptions } from '../k8s/params.ts';
import { staleDataWarning, warningHeader } from '../k8s/warning.ts';
import { skipWarning } from '../resources/skips.ts';
import { failureReason } from '../resilience/reason.ts';
import type { UserInfo } from '../auth/types.ts';
import type { PageResult, PassThroughQueries } from '../resources/passthrough-queries.ts';
import { StorageBase, type CommonParts } from './base.ts';
import { objectFilter } from './list.ts';
import type { Fetched, Getter, ListPage, Lister, ServedResource } from './types.ts';

/** Prefix of an upstream cursor inside kubegate's continue token. */
const CURSOR = 'pt:';

/** The parts of one pass-through resource (built by the runtime). */
export interface PassThroughParts extends CommonParts {
  queries: PassThroughQueries;
}

/**
 * A pass-through resource: every list and get is forwarded to the upstream through a per-query cache with
 * coalescing ({@link PassThroughQueries}). It has no change feed, so it offers no watcher. The upstream's
 * cursor rides inside kubegate's opaque continue token; selectors are re-applied here, so a page may hold fewer
 * items than `limit` (clients follow `continue`, as the Kubernetes API allows). See docs/architecture.md,
 * "Pass-through".
 */
export class PassThroughStorage extends StorageBase implements ServedResource {
  readonly getter: Getter = this;
  readonly lister: Lister = this;
  private readonly p: PassThroughParts;

  constructor(p: PassThroughParts) {
    super(p);
    this.p = p;
  }

  status(): { adapter: string; resource: string; breaker: string } {
    return { adapter: this.adapter, resource: this.info.plural, breaker: this.p.upstream.breakerState() };
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
}
