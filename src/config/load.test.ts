import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, parseConfig } from './load.ts';
import { loadAdapters } from './adapters.ts';

const ok = `
mode: standalone
server: { host: 127.0.0.1, port: 8443 }
adapters:
  - name: weather
    module: ./adapters/weather/index.ts
    config: { baseUrl: http://x }
`;

const err = (text: string): string => {
  try {
    parseConfig(text, 'k.yaml');
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error('no error');
};

describe('parseConfig', () => {
  it('accepts a valid config', () => {
    expect(parseConfig(ok).config.adapters[0]?.name).toBe('weather');
  });
  it.each([
    ['an unknown key', ok.replace('mode:', 'moed:'), /^moed: unknown field \(k\.yaml line 2\)$/],
    ['a wrong type', ok.replace('port: 8443', 'port: "x"'), /^server\.port: .*got "x" \(k\.yaml line 3\)$/],
    ['a missing adapters list', 'mode: standalone\n', /adapters/],
    ['a bad enum', ok.replace('standalone', 'solo'), /^mode: .* \(k\.yaml line 2\)$/],
    [
      'an unknown nested key',
      ok.replace('    config:', '    confg:'),
      /^adapters\[0\]\.confg: unknown field \(k\.yaml line 7\)$/,
    ],
    ['invalid YAML', 'adapters: [', /invalid YAML/],
    ['a list at the top', '- a\n', /must be a YAML mapping/],
    [
      'a duplicate adapter',
      ok + '  - name: weather\n    module: ./x.ts\n',
      /adapters\[1\]\.name: "weather" is used twice \(k\.yaml line 8\)/,
    ],
  ])('names the field for %s', (_, text, want) => {
    expect(err(text)).toMatch(want);
  });
  it('substitutes ${env:NAME} and names a missing variable', () => {
    process.env.KG_TEST_URL = 'http://from-env';
    expect(parseConfig(ok.replace('http://x', '"${env:KG_TEST_URL}"')).config.adapters[0]?.config).toEqual({
      baseUrl: 'http://from-env',
    });
    expect(err(ok.replace('http://x', '"${env:KG_NOPE_NOT_SET}"'))).toBe(
      'adapters[0].config.baseUrl: environment variable KG_NOPE_NOT_SET is not set',
    );
  });
});

describe('loadAdapters', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kg-cfg-'));
  writeFileSync(
    join(dir, 'good.ts'),
    `import { Type, defineAdapter, defineResource } from '${join(import.meta.dirname, '../sdk/index.ts')}';
export default defineAdapter({ name: 'good', group: 'good.example.com', version: 'v1',
  config: Type.Object({ url: Type.String(), n: Type.Integer({ default: 3 }) }, { additionalProperties: false }),
  resources: [defineResource({ kind: 'Thing', plural: 'things', scope: 'Cluster', mode: 'mirror', schema: {}, list: async () => [] })] });`,
  );
  writeFileSync(join(dir, 'notadapter.ts'), 'export const x = 1;\n');
  const cfg = (module: string, config: unknown) =>
    parseConfig(JSON.stringify({ adapters: [{ name: 'a', module, config }] }), join(dir, 'k.yaml'));
  const loadErr = async (module: string, config: unknown) =>
    loadAdapters(cfg(module, config)).then(
      () => 'no error',
      (e: unknown) => (e instanceof ConfigError ? e.message : `unexpected ${String(e)}`),
    );

  it('loads a module by path and applies config defaults', async () => {
    const [a] = await loadAdapters(cfg('./good.ts', { url: 'u' }));
    expect(a?.config).toEqual({ url: 'u', n: 3 });
  });
  it('names a missing module', async () => {
    expect(await loadErr('./missing.ts', {})).toMatch(/^adapters\[0\]\.module: "\.\/missing\.ts": module not found/);
  });
  it('names a module that exports no adapter', async () => {
    expect(await loadErr('./notadapter.ts', {})).toMatch(/does not export an adapter/);
  });
  it("names the adapter's config field that is wrong", async () => {
    expect(await loadErr('./good.ts', { url: 5 })).toMatch(/^adapters\[0\]\.config\.url: .*got 5/);
    expect(await loadErr('./good.ts', { url: 'u', extra: 1 })).toMatch(/^adapters\[0\]\.config\.extra: unknown field/);
  });
});

describe('adapter modules from anywhere', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kg-mod-'));
  const sdk = pathToFileURL(join(import.meta.dirname, '../sdk/index.ts')).href;
  const adapterJs = (name: string) => `import { Type, defineAdapter, defineResource } from '${sdk}';
export default defineAdapter({ name: '${name}', group: '${name}.example.com', version: 'v1', config: Type.Object({}),
  resources: [defineResource({ kind: 'Thing', plural: 'things', scope: 'Cluster', mode: 'mirror', schema: {}, list: async () => [] })] });\n`;
  const pkg = (name: string, json: object, files: Record<string, string>) => {
    const d = join(dir, 'node_modules', name);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'package.json'), JSON.stringify({ name, type: 'module', ...json }));
    for (const [f, text] of Object.entries(files)) {
      mkdirSync(dirname(join(d, f)), { recursive: true });
      writeFileSync(join(d, f), text);
    }
  };
  pkg(
    '@acme/billing',
    { exports: { '.': { types: './dist/index.d.ts', import: './dist/index.js' } } },
    {
      'dist/index.js': adapterJs('billing'),
    },
  );
  pkg('plain-adapter', { main: 'main.js' }, { 'main.js': adapterJs('plain') });
  pkg('ts-adapter', { exports: './src/index.ts' }, { 'src/index.ts': adapterJs('tsa') });
  mkdirSync(join(dir, 'conf'));
  const load = (module: string) =>
    loadAdapters(parseConfig(JSON.stringify({ adapters: [{ name: 'a', module }] }), join(dir, 'conf', 'k.yaml'))).then(
      (a) => a[0]?.definition.name,
      (e: unknown) => (e instanceof ConfigError ? e.message : `unexpected ${String(e)}`),
    );

  it('resolves a package name from the config file’s folder (and the folders above it), by its exports', async () => {
    expect(await load('@acme/billing')).toBe('billing');
    expect(await load('plain-adapter')).toBe('plain');
  });
  it('refuses TypeScript under node_modules in one line saying to ship JavaScript', async () => {
    const msg = await load('ts-adapter');
    expect(msg).toMatch(
      /^adapters\[0\]\.module: "ts-adapter": .*TypeScript inside node_modules.*publish the adapter as JavaScript/,
    );
    expect(msg).not.toContain('\n');
  });
  it('names a package that is not installed', async () => {
    expect(await load('@acme/nowhere')).toMatch(
      /package @acme\/nowhere is not installed in .*conf or a folder above it/,
    );
  });
});
