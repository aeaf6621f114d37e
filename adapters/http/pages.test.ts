import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { AdapterContext, MirrorResource, ObjectInput } from 'kubegate/sdk';
import { compileResource } from './compile.ts';
import type { HttpConfig, ResourceConfig } from './config.ts';

// Each pagination kind and each auth kind against a small local server.
interface Seen {
  url: URL;
  headers: http.IncomingHttpHeaders;
}
let server: http.Server | undefined;
const seen: Seen[] = [];
const dir = mkdtempSync(join(tmpdir(), 'kubegate-http-'));
afterEach(async () => {
  seen.length = 0;
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
  server = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 25 items `{ id: 'item-N' }`; `answer` gets the URL and returns [status, body, headers]. */
const ITEMS = Array.from({ length: 25 }, (_, i) => ({ id: `item-${i}`, n: i }));
async function serve(answer: (url: URL) => [number, unknown, Record<string, string>?]): Promise<string> {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({ url, headers: req.headers });
    const [status, body, headers] = answer(url);
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((done) => server?.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const fail = (path: (string | number)[], message: string): never => {
  throw new Error(`${path.join('.')}: ${message}`);
};

function resource(config: HttpConfig, r: Partial<ResourceConfig>): MirrorResource {
  const full: ResourceConfig = {
    kind: 'Item',
    plural: 'items',
    url: '/items',
    itemsPath: 'data',
    mapping: { name: 'id', status: '{ "n": n }' },
    schema: { status: { type: 'object', properties: { n: { type: 'integer' } } } },
    ...r,
  };
  return compileResource(config, full, ['resources', 0], fail, dir).definition;
}

async function list(def: MirrorResource): Promise<{ objects: ObjectInput[]; skipped: string[] }> {
  const skipped: string[] = [];
  const ctx: AdapterContext<unknown> = {
    config: {},
    fetch: (input, init) => fetch(input, init),
    signal: new AbortController().signal,
    log: { debug() {}, info() {}, warn() {}, error() {} },
    skip: (reason) => skipped.push(reason),
  };
  const objects: ObjectInput[] = [];
  const out = def.list(ctx);
  if (Symbol.asyncIterator in out) for await (const page of out) objects.push(...[page].flat());
  else objects.push(...(await out));
  return { objects, skipped };
}

const ids = (objects: ObjectInput[]) => objects.map((o) => o.name);
const ALL = ITEMS.map((i) => i.id);

describe('pagination', () => {
  it('none: one call', async () => {
    const baseUrl = await serve(() => [200, { data: ITEMS }]);
    expect(ids((await list(resource({ baseUrl }, {}))).objects)).toEqual(ALL);
    expect(seen).toHaveLength(1);
  });

  it('link: follows rel="next" (relative or absolute) until there is none', async () => {
    let origin = '';
    const baseUrl = await serve((u) => {
      const page = Number(u.searchParams.get('page') ?? 1);
      const next =
        page === 1 ? `</items?page=2>; rel="next"` : page === 2 ? `<${origin}/items?page=3>; rel="last next"` : '';
      const headers: Record<string, string> = next ? { link: `<x>; rel="first", ${next}` } : {};
      return [200, ITEMS.slice((page - 1) * 10, page * 10), headers];
    });
    origin = baseUrl;
    expect(ids((await list(resource({ baseUrl }, { itemsPath: '$', pagination: { kind: 'link' } }))).objects)).toEqual(
      ALL,
    );
    expect(seen.map((s) => s.url.search)).toEqual(['', '?page=2', '?page=3']);
  });

  it('link: a next link to another origin is refused (credentials stay with the configured URL)', async () => {
    const baseUrl = await serve(() => [200, [], { link: '<http://elsewhere.example/items?page=2>; rel="next"' }]);
    await expect(list(resource({ baseUrl }, { itemsPath: '$', pagination: { kind: 'link' } }))).rejects.toThrow(
      /another origin/,
    );
  });

  it('cursor: the next cursor from the body, sent as a query parameter', async () => {
    const baseUrl = await serve((u) => {
      const after = Number(u.searchParams.get('after') ?? 0);
      const data = ITEMS.slice(after, after + 10);
      return [200, { data, meta: { next: after + 10 < ITEMS.length ? String(after + 10) : null } }];
    });
    const def = resource({ baseUrl }, { pagination: { kind: 'cursor', param: 'after', next: 'meta.next' } });
    expect(ids((await list(def)).objects)).toEqual(ALL);
    expect(seen.map((s) => s.url.searchParams.get('after'))).toEqual([null, '10', '20']);
  });

  it('page: numbers from start with a page size, until a short page', async () => {
    const baseUrl = await serve((u) => {
      const page = Number(u.searchParams.get('p'));
      const size = Number(u.searchParams.get('size'));
      return [200, { data: ITEMS.slice(page * size, (page + 1) * size) }];
    });
    const def = resource(
      { baseUrl },
      { pagination: { kind: 'page', param: 'p', start: 0, sizeParam: 'size', size: 10 } },
    );
    expect(ids((await list(def)).objects)).toEqual(ALL);
    expect(seen.map((s) => s.url.searchParams.get('p'))).toEqual(['0', '1', '2']);
  });

  it('offset: advances by the items received, until an empty page', async () => {
    const baseUrl = await serve((u) => {
      const offset = Number(u.searchParams.get('offset'));
      return [200, { data: ITEMS.slice(offset, offset + 7) }];
    });
    const def = resource({ baseUrl }, { pagination: { kind: 'offset', param: 'offset' } });
    expect(ids((await list(def)).objects)).toEqual(ALL);
    expect(seen.map((s) => s.url.searchParams.get('offset'))).toEqual(['0', '7', '14', '21', '25']);
  });

  it('maxPages and maxItems: a longer collection fails the poll instead of shrinking it', async () => {
    const baseUrl = await serve((u) => [200, { data: ITEMS, next: u.searchParams.get('c') ?? '1' }]);
    const endless = resource({ baseUrl }, { pagination: { kind: 'cursor', param: 'c', next: 'next', maxPages: 3 } });
    await expect(list(endless)).rejects.toThrow(/more than 3 pages; raise pagination.maxPages/);
    expect(seen).toHaveLength(3);
    await expect(list(resource({ baseUrl }, { maxItems: 20 }))).rejects.toThrow(/more than 20 items; raise maxItems/);
  });
});

describe('auth', () => {
  const secretFile = join(dir, 'secret');
  it.each([
    ['bearer', { kind: 'bearer', token: 'tok-123456' }, 'authorization', 'Bearer tok-123456'],
    ['bearer from a file', { kind: 'bearer', tokenFile: 'secret' }, 'authorization', 'Bearer from-file-1'],
    ['header', { kind: 'header', header: 'X-Api-Key', value: 'key-123456' }, 'x-api-key', 'key-123456'],
    ['header from a file', { kind: 'header', header: 'X-Api-Key', valueFile: secretFile }, 'x-api-key', 'from-file-1'],
    [
      'basic',
      { kind: 'basic', username: 'ann', password: 'pw-123456' },
      'authorization',
      `Basic ${btoa('ann:pw-123456')}`,
    ],
    [
      'basic from a file',
      { kind: 'basic', username: 'ann', passwordFile: 'secret' },
      'authorization',
      `Basic ${btoa('ann:from-file-1')}`,
    ],
  ] as const)('%s', async (_, auth, header, want) => {
    writeFileSync(secretFile, 'from-file-1\n');
    const baseUrl = await serve(() => [200, { data: ITEMS.slice(0, 1) }]);
    const def = resource({ baseUrl, auth: { ...auth } }, {});
    await list(def);
    expect(seen[0]?.headers[header]).toBe(want);
    // A rotated file is read again at the next poll.
    writeFileSync(secretFile, 'from-file-2\n');
    await list(def);
    const file = Object.keys(auth).some((k) => k.endsWith('File'));
    const rotated = want.startsWith('Basic ')
      ? `Basic ${btoa(atob(want.slice(6)).replace('from-file-1', 'from-file-2'))}`
      : want.replace('from-file-1', 'from-file-2');
    expect(seen[1]?.headers[header]).toBe(file ? rotated : want);
  });

  it('a refused call names auth and never quotes the upstream body', async () => {
    const baseUrl = await serve(() => [401, { message: 'Bad credentials for tok-123456' }]);
    const err = await list(resource({ baseUrl, auth: { kind: 'bearer', token: 'tok-123456' } }, {})).catch(
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('the upstream refused the credentials (401); check auth');
  });

  it.each([
    [{ kind: 'oauth' }, /auth.kind: unknown auth kind "oauth"/],
    [{ kind: 'bearer' }, /auth: auth kind "bearer" needs exactly one of token and tokenFile/],
    [{ kind: 'bearer', token: 'a', password: 'b' }, /auth.password: not used by auth kind "bearer"/],
    [{ kind: 'header', value: 'v' }, /auth.header: a header name is required/],
  ])('a bad auth section names its field: %j', (auth, want) => {
    expect(() => resource({ baseUrl: 'http://x', auth }, {})).toThrow(want);
  });
});

describe('mapping', () => {
  it('an item a mapping cannot serve is skipped with the field, never its values', async () => {
    const baseUrl = await serve(() => [200, { data: [...ITEMS.slice(0, 2), { n: 9, secret: 'do-not-echo' }] }]);
    const { objects, skipped } = await list(resource({ baseUrl }, {}));
    expect(ids(objects)).toEqual(['item-0', 'item-1']);
    expect(skipped).toEqual(['mapping.name: expected a non-empty string or a number, got nothing']);
  });
});
