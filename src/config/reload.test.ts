import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadAdapters } from './adapters.ts';
import { loadConfigFile } from './load.ts';
import { watchConfigFile } from './reload.ts';

const WEATHER = resolve(import.meta.dirname, '../../adapters/weather/index.ts');
const config = (baseUrl: string) =>
  [
    'adapters:',
    '  - name: weather',
    `    module: ${WEATHER}`,
    '    config:',
    `      baseUrl: ${baseUrl}`,
    '      locations: [{ name: paris, latitude: 48.85, longitude: 2.35, country: FR, region: europe }]',
    '',
  ].join('\n');

const nop = () => undefined;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** Starts following `file`; returns the base URLs of the configs applied so far. */
async function follow(file: string) {
  const applied: string[] = [];
  const runtime = {
    reconfigure: (_adapter: string, c: unknown) => {
      applied.push((c as { baseUrl: string }).baseUrl);
      return Promise.resolve();
    },
  };
  const errors: unknown[] = [];
  const stop = watchConfigFile(file, runtime, await loadAdapters(loadConfigFile(file)), {
    debug: nop,
    info: nop,
    warn: nop,
    error: (_m, e) => errors.push(e),
  });
  cleanups.push(stop);
  return { applied, errors };
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubegate-reload-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('config reload', () => {
  it('an atomic replace (temporary file renamed over the config) is applied, twice in a row', async () => {
    const dir = tempDir();
    const file = join(dir, 'kubegate.yaml');
    writeFileSync(file, config('http://a.example'));
    const { applied, errors } = await follow(file);
    const replace = (url: string) => {
      writeFileSync(join(dir, '.kubegate.yaml.tmp'), config(url));
      renameSync(join(dir, '.kubegate.yaml.tmp'), file);
    };
    replace('http://b.example');
    await expect.poll(() => applied).toEqual(['http://b.example']);
    replace('http://c.example');
    await expect.poll(() => applied).toEqual(['http://b.example', 'http://c.example']);
    expect(errors).toEqual([]);
  });

  it("a ConfigMap volume's ..data symlink swap is applied, twice in a row", async () => {
    const dir = tempDir();
    // The kubelet's layout: the file is a symlink through ..data to a timestamped folder, swapped atomically.
    const version = (n: number, url: string) => {
      mkdirSync(join(dir, `..v${n}`));
      writeFileSync(join(dir, `..v${n}`, 'kubegate.yaml'), config(url));
      symlinkSync(`..v${n}`, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    };
    version(1, 'http://a.example');
    symlinkSync('..data/kubegate.yaml', join(dir, 'kubegate.yaml'));
    const { applied } = await follow(join(dir, 'kubegate.yaml'));
    version(2, 'http://b.example');
    await expect.poll(() => applied).toEqual(['http://b.example']);
    version(3, 'http://c.example');
    await expect.poll(() => applied).toEqual(['http://b.example', 'http://c.example']);
  });
});
