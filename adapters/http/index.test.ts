import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadAdapters } from '../../src/config/adapters.ts';
import { parseConfig } from '../../src/config/load.ts';
import adapter from './index.ts';

// Every problem in a YAML-declared resource is one line naming the field and the line, as kubegate reports config.
const dir = mkdtempSync(join(tmpdir(), 'kubegate-http-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const good = {
  kind: 'Repository',
  plural: 'repositories',
  url: '/orgs/{org}/repos',
  pagination: { kind: 'link' },
  itemsPath: '$',
  mapping: { name: 'name', status: '{ "stars": stargazers_count }' },
  schema: { status: { type: 'object', properties: { stars: { type: 'integer' } } } },
};

/** Loads a kubegate.yaml with one http adapter entry; resolves to its resource plurals or rejects with the line. */
async function load(config: Record<string, unknown>): Promise<string[]> {
  const text = stringify({ adapters: [{ name: 'github', module: '(in test)', config }] });
  const loaded = parseConfig(text, 'kubegate.yaml');
  const [a] = await loadAdapters(loaded, dir, new Map([['github', adapter]]));
  return a?.definition.resources.map((r) => r.plural) ?? [];
}

/** The 1-based line of the first line of `text` containing `needle`. */
const lineOf = (config: Record<string, unknown>, needle: string) =>
  stringify({ adapters: [{ name: 'github', module: '(in test)', config }] })
    .split('\n')
    .findIndex((l) => l.includes(needle)) + 1;

const base = { baseUrl: 'http://127.0.0.1:9', vars: { org: 'k' } };
const one = (over: Record<string, unknown>) => ({ ...base, resources: [{ ...good, ...over }] });

describe('http adapter config', () => {
  it('a good resource loads', async () => {
    await expect(load(one({}))).resolves.toEqual(['repositories']);
  });

  it.each([
    [
      'a JSONata syntax error',
      one({ mapping: { name: '$lowercase(name' } }),
      'mapping.name',
      /JSONata syntax error at position 15: Expected "\)" before end of expression \(S0203\)/,
      '$lowercase(name',
    ],
    [
      'an unknown pagination kind',
      one({ pagination: { kind: 'pages' } }),
      'pagination.kind',
      /unknown pagination kind "pages" \(use none, link, cursor, page or offset\)/,
      'kind: pages',
    ],
    [
      'a key another pagination kind uses',
      one({ pagination: { kind: 'link', param: 'p' } }),
      'pagination.param',
      /not used by pagination kind "link"/,
      'param: p',
    ],
    [
      'a missing items path',
      one({ itemsPath: undefined }),
      'itemsPath',
      /Expected required property/,
      'kind: Repository',
    ],
    [
      'a schema that is not an object',
      one({ schema: { status: { type: 'string' } } }),
      'schema.status',
      /must be an object schema \(type: object\), got type: string/,
      'type: string',
    ],
    [
      'an unsupported schema keyword',
      one({ schema: { status: { type: 'object', properties: { a: { type: 'string', oneOf: [] } } } } }),
      'schema.status.properties.a.oneOf',
      /unsupported schema keyword/,
      'oneOf',
    ],
    [
      'a mapping without a schema',
      one({ schema: undefined }),
      'schema.status',
      /mapping.status is set, so schema.status must describe it/,
      null,
    ],
    [
      'a URL variable not in vars',
      one({ url: '/users/{user}/repos' }),
      'url',
      /uses \{user\}, which is not in vars/,
      'url:',
    ],
    ['a bad plural', one({ plural: 'Repos' }), '', /plural "Repos" must be a lower-case DNS label/, 'kind: Repository'],
  ])('%s', async (_, config, field, message, needle) => {
    const err = await load(config).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    const text = (err as Error).message;
    expect(text.split('\n')).toHaveLength(1);
    expect(text.startsWith(`adapters[0].config.resources[0]${field ? `.${field}` : ''}: `)).toBe(true);
    expect(text).toMatch(message);
    if (needle) expect(text).toMatch(new RegExp(`\\(kubegate\\.yaml line ${lineOf(config, needle)}\\)$`));
    else expect(text).toMatch(/\(kubegate\.yaml line \d+\)$/);
  });

  it('resources and resourcesFile: exactly one', async () => {
    await expect(load({ ...base })).rejects.toThrow(
      /^adapters\[0\]\.config: give exactly one of resources and resourcesFile/,
    );
  });

  it('a problem in a resourcesFile names the file, the field and its line', async () => {
    const file = join(dir, 'repos.yaml');
    writeFileSync(
      file,
      stringify({ resources: [good, { ...good, plural: 'forks', kind: 'Fork', mapping: { name: 'name.(' } }] }),
    );
    const line =
      stringify({ resources: [good, { ...good, plural: 'forks', kind: 'Fork', mapping: { name: 'name.(' } }] })
        .split('\n')
        .findIndex((l) => l.includes('name.(')) + 1;
    await expect(load({ ...base, resourcesFile: 'repos.yaml' })).rejects.toThrow(
      new RegExp(
        `^adapters\\[0\\]\\.config\\.resourcesFile: repos\\.yaml: resources\\[1\\]\\.mapping\\.name: JSONata syntax error at position \\d+: .* \\(repos\\.yaml line ${line}\\)$`,
      ),
    );
    writeFileSync(file, 'resources:\n  - kind: Repository\n    plurl: repositories\n');
    await expect(load({ ...base, resourcesFile: 'repos.yaml' })).rejects.toThrow(
      /^adapters\[0\]\.config\.resourcesFile: repos\.yaml: resources\[0\]\.plurl: unknown field \(repos\.yaml line 3\)$/,
    );
    await expect(load({ ...base, resourcesFile: 'nope.yaml' })).rejects.toThrow(
      /resourcesFile: cannot read nope\.yaml \(ENOENT\)/,
    );
  });
});
