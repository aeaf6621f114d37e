import { AdapterError, type AdapterContext } from 'kubegate/sdk';
import type { Credentials } from './auth.ts';
import type { Expression } from './expression.ts';
import { nextLink } from './link.ts';

export type PaginationPlan =
  | { kind: 'none' }
  | { kind: 'link' }
  | { kind: 'cursor'; param: string; next: Expression }
  | { kind: 'page'; param: string; start: number; sizeParam?: string; size?: number }
  | { kind: 'offset'; param: string; start: number; sizeParam?: string; size?: number };

/** How one resource reads its collection from the upstream. */
export interface RequestPlan {
  url: URL;
  headers: Record<string, string>;
  credentials: Credentials | undefined;
  pagination: PaginationPlan;
  maxPages: number;
  items: Expression;
}

/** One upstream page: its items and what the upstream said about its rate limit. */
export interface FetchedPage {
  items: unknown[];
  url: string;
}

/** The upstream's own words on a refused call are never quoted: the status and rate-limit headers say enough. */
async function refusal(res: Response): Promise<AdapterError> {
  await res.body?.cancel();
  const remaining = res.headers.get('x-ratelimit-remaining');
  const reset = Number(res.headers.get('x-ratelimit-reset'));
  if ((res.status === 403 || res.status === 429) && remaining === '0') {
    const when = Number.isFinite(reset) && reset > 0 ? `; it resets at ${new Date(reset * 1000).toISOString()}` : '';
    return new AdapterError(`the upstream's rate limit is used up (${res.status})${when}`, { status: res.status });
  }
  if (res.status === 401 || res.status === 403)
    return new AdapterError(`the upstream refused the credentials (${res.status}); check auth`, { status: res.status });
  return new AdapterError(`the upstream answered ${res.status}`, { status: res.status });
}

async function getJson(ctx: AdapterContext<unknown>, url: URL, plan: RequestPlan): Promise<[unknown, Response]> {
  const headers = { accept: 'application/json', ...plan.headers, ...(await plan.credentials?.()) };
  const res = await ctx.fetch(url.href, { headers, signal: ctx.signal });
  if (!res.ok) throw await refusal(res);
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new AdapterError('the upstream answered with a body that is not JSON', { status: res.status });
  }
  return [body, res];
}

async function itemsOf(plan: RequestPlan, body: unknown): Promise<unknown[]> {
  let items: unknown;
  try {
    items = await plan.items.evaluate(body);
  } catch (err) {
    throw new AdapterError(`itemsPath: ${(err as Error).message}`);
  }
  if (items === undefined) return [];
  // JSONata returns a lone match as the value itself, not a list of one.
  return Array.isArray(items) ? (items as unknown[]) : [items];
}

/**
 * Reads the collection page by page, following the resource's pagination, at most `maxPages` pages. A
 * collection longer than that is an error, never a silently shorter list (which would delete objects).
 *
 * @example
 * for await (const page of readPages(ctx, plan)) console.log(page.items.length);
 */
export async function* readPages(ctx: AdapterContext<unknown>, plan: RequestPlan): AsyncGenerator<FetchedPage> {
  const p = plan.pagination;
  let url = new URL(plan.url);
  let position = p.kind === 'page' || p.kind === 'offset' ? p.start : 0;
  for (let n = 0; ; n++) {
    if (n >= plan.maxPages)
      throw new AdapterError(`the collection has more than ${plan.maxPages} pages; raise pagination.maxPages`);
    if (p.kind === 'page' || p.kind === 'offset') {
      url = new URL(plan.url);
      url.searchParams.set(p.param, String(position));
      if (p.sizeParam && p.size) url.searchParams.set(p.sizeParam, String(p.size));
    }
    const [body, res] = await getJson(ctx, url, plan);
    const items = await itemsOf(plan, body);
    yield { items, url: url.href };
    if (p.kind === 'none') return;
    if (p.kind === 'link') {
      const next = nextLink(res.headers.get('link'), url);
      if (!next) return;
      // Credentials go only where the resource's own URL points.
      if (next.origin !== plan.url.origin)
        throw new AdapterError(`the next-page link points to another origin (${next.origin}); not followed`);
      url = next;
    } else if (p.kind === 'cursor') {
      let cursor: unknown;
      try {
        cursor = await p.next.evaluate(body);
      } catch (err) {
        throw new AdapterError(`pagination.next: ${(err as Error).message}`);
      }
      if (cursor === undefined || cursor === null || cursor === '' || cursor === false) return;
      if (typeof cursor !== 'string' && typeof cursor !== 'number')
        throw new AdapterError('pagination.next: the cursor must be a string or a number');
      url = new URL(plan.url);
      url.searchParams.set(p.param, String(cursor));
    } else {
      if (items.length === 0 || (p.size !== undefined && items.length < p.size)) return;
      position += p.kind === 'page' ? 1 : items.length;
    }
  }
}
