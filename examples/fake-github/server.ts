import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRepoFactory, random, type Repo } from './repos.ts';

export type { Repo } from './repos.ts';

/** The default token of the fake (a fine-grained token's shape; not a real token). */
export const FAKE_GITHUB_TOKEN = 'github_pat_11KUBEGATEFAKE0000000000_fakeGitHubTokenForTheDemoOnly';

export interface FakeGitHubOptions {
  port?: number;
  host?: string;
  /** The only token accepted (as `Authorization: Bearer` or `token`); default FAKE_GITHUB_TOKEN. */
  token?: string;
  /** The organisation served; default `kubegate`. */
  org?: string;
  /** Repositories at start; default 75. */
  repos?: number;
  /** Seed of the generated data; default 1. */
  seed?: number;
  /** Requests allowed per window (x-ratelimit-limit); default 5000. */
  rateLimit?: number;
  /** Status of a request over the limit: 403 (GitHub's primary limit, the default) or 429. */
  rateLimitStatus?: 403 | 429;
  /** Changes the data every this many milliseconds (stars, pushes, a repository archived, created, deleted). */
  changeEvery?: number;
}

export interface FakeGitHub {
  /** Base URL, e.g. `http://127.0.0.1:40123` (the API lives at its root, like api.github.com). */
  url: string;
  token: string;
  org: string;
  /** Requests received on the repository list, counted before auth and rate limiting. */
  calls: { list: number; get: number };
  /** The repositories in list order (by id). */
  repos(): Repo[];
  /** Adds stars to a repository (and touches updated_at). */
  star(name: string, n?: number): void;
  /** Records a push (pushed_at and updated_at now). */
  push(name: string): void;
  archive(name: string, archived?: boolean): void;
  /** Creates a repository (generated fields, overridden by `r`), created now. */
  create(r?: Partial<Repo>): Repo;
  remove(name: string): void;
  /** One random change of the kind `changeEvery` makes; returns what it did. */
  change(): string;
  /** Sets the requests left in the window (0 exhausts it until `reset` is called or the window ends). */
  setRemaining(n: number): void;
  reset(): void;
  close(): Promise<void>;
}

const DOCS = 'https://docs.github.com/rest';

/**
 * A GitHub-shaped REST API for one organisation: `GET /orgs/{org}/repos` with `per_page`/`page` and RFC 8288
 * `Link` pagination, `GET /repos/{owner}/{repo}`, the `x-ratelimit-*` headers on every answer, 401 without
 * the token, and 403 (or 429) with GitHub's message shape once the window's requests are used up.
 */
export async function startFakeGitHub(o: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const token = o.token ?? FAKE_GITHUB_TOKEN;
  const org = o.org ?? 'kubegate';
  const limit = o.rateLimit ?? 5000;
  const rnd = random(o.seed ?? 1);
  let url = '';
  const make = createRepoFactory(org, () => url, rnd);
  const repos = new Map<string, Repo>();
  for (let i = 0; i < (o.repos ?? 75); i++) {
    const r = make();
    repos.set(r.name, r);
  }
  const calls = { list: 0, get: 0 };
  let remaining = limit;
  let windowEnd = Date.now() + 3_600_000;
  const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const must = (name: string) => {
    const r = repos.get(name);
    if (!r) throw new Error(`no repository "${name}"`);
    return r;
  };

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(Math.max(0, remaining)),
      'x-ratelimit-reset': String(Math.ceil(windowEnd / 1000)),
      'x-ratelimit-used': String(limit - Math.max(0, remaining)),
      'x-ratelimit-resource': 'core',
      'x-github-api-version-selected': '2022-11-28',
      ...headers,
    });
    res.end(text);
  };

  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const list = u.pathname.match(/^\/orgs\/([^/]+)\/repos$/);
    const one = u.pathname.match(/^\/repos\/([^/]+)\/([^/]+)$/);
    if (list) calls.list++;
    if (one) calls.get++;
    if (req.method !== 'GET') return send(res, 404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
    const auth = req.headers.authorization ?? '';
    const given = auth.replace(/^(Bearer|token)\s+/i, '');
    if (auth === '')
      return send(res, 401, { message: 'Requires authentication', documentation_url: DOCS, status: '401' });
    if (given !== token) return send(res, 401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' });
    if (Date.now() > windowEnd) {
      windowEnd = Date.now() + 3_600_000;
      remaining = limit;
    }
    if (remaining <= 0) {
      const wait = String(Math.max(1, Math.ceil((windowEnd - Date.now()) / 1000)));
      return send(
        res,
        o.rateLimitStatus ?? 403,
        {
          message: 'API rate limit exceeded for user ID 4242.',
          documentation_url: `${DOCS}/overview/rate-limits-for-the-rest-api`,
          status: String(o.rateLimitStatus ?? 403),
        },
        o.rateLimitStatus === 429 ? { 'retry-after': wait } : {},
      );
    }
    remaining--;
    if (list) {
      if (decodeURIComponent(list[1] ?? '') !== org)
        return send(res, 404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
      const perPage = Math.min(100, Math.max(1, Number(u.searchParams.get('per_page') ?? 30) || 30));
      const page = Math.max(1, Number(u.searchParams.get('page') ?? 1) || 1);
      const all = [...repos.values()].sort((a, b) => a.id - b.id);
      const last = Math.max(1, Math.ceil(all.length / perPage));
      const link = (p: number, rel: string) => {
        const next = new URL(`${url}${u.pathname}`);
        for (const [k, v] of u.searchParams) next.searchParams.set(k, v);
        next.searchParams.set('per_page', String(perPage));
        next.searchParams.set('page', String(p));
        return `<${next.href}>; rel="${rel}"`;
      };
      const links = [
        ...(page > 1 ? [link(page - 1, 'prev'), link(1, 'first')] : []),
        ...(page < last ? [link(page + 1, 'next'), link(last, 'last')] : []),
      ];
      return send(
        res,
        200,
        all.slice((page - 1) * perPage, page * perPage),
        links.length ? { link: links.join(', ') } : {},
      );
    }
    if (one) {
      const r = decodeURIComponent(one[1] ?? '') === org ? repos.get(decodeURIComponent(one[2] ?? '')) : undefined;
      return r ? send(res, 200, r) : send(res, 404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
    }
    return send(res, 404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
  });
  await new Promise<void>((done) => server.listen(o.port ?? 0, o.host ?? '127.0.0.1', done));
  url = `http://${o.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;

  const api: FakeGitHub = {
    url,
    token,
    org,
    calls,
    repos: () => [...repos.values()].sort((a, b) => a.id - b.id),
    star(name, n = 1) {
      const r = must(name);
      r.stargazers_count += n;
      r.watchers_count = r.stargazers_count;
      r.updated_at = now();
    },
    push(name) {
      const r = must(name);
      r.pushed_at = r.updated_at = now();
    },
    archive(name, archived = true) {
      const r = must(name);
      r.archived = archived;
      r.updated_at = now();
    },
    create(over = {}) {
      const r = make({ ...over }, Date.now());
      const t = now();
      Object.assign(r, { created_at: t, updated_at: t, pushed_at: t }, over);
      repos.set(r.name, r);
      return r;
    },
    remove(name) {
      must(name);
      repos.delete(name);
    },
    change() {
      const names = [...repos.keys()];
      const name = names[Math.floor(rnd() * names.length)];
      const roll = rnd();
      if (name === undefined || roll < 0.05) return `created ${api.create().name}`;
      if (roll < 0.5) {
        api.star(name, 1 + Math.floor(rnd() * 5));
        return `starred ${name}`;
      }
      if (roll < 0.9) {
        api.push(name);
        return `pushed ${name}`;
      }
      if (roll < 0.95) {
        api.archive(name, !must(name).archived);
        return `archived ${name}`;
      }
      api.remove(name);
      return `deleted ${name}`;
    },
    setRemaining(n) {
      remaining = n;
    },
    reset() {
      remaining = limit;
      windowEnd = Date.now() + 3_600_000;
    },
    close: () => {
      clearInterval(timer);
      return new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
    },
  };
  const timer = o.changeEvery ? setInterval(() => api.change(), o.changeEvery) : undefined;
  timer?.unref();
  return api;
}
