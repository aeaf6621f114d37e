import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadAdapters } from '../../src/config/adapters.ts';
import { parseConfig } from '../../src/config/load.ts';
import { startFakeGitHub, type FakeGitHub } from '../../examples/fake-github/server.ts';
import { kubectlOk } from '../helpers/kubectl.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

// A resource declared only in YAML (examples/fake-github/repositories.yaml) served by adapters/http against
// the fake GitHub API, driven by the real kubectl.
const ROOT = resolve(import.meta.dirname, '../..');
const GROUP = 'github.kubegate.dev';
const dir = mkdtempSync(join(tmpdir(), 'kubegate-http-'));
let gh: FakeGitHub;
let gw: TestGateway;

const entry = (config: Record<string, unknown> = {}) => ({
  name: 'github',
  module: join(ROOT, 'adapters/http/index.ts'),
  group: GROUP,
  config: {
    baseUrl: gh.url,
    vars: { org: gh.org },
    auth: { kind: 'bearer', token: gh.token },
    resourcesFile: join(ROOT, 'examples/fake-github/repositories.yaml'),
    ...config,
  },
});

beforeAll(async () => {
  gh = await startFakeGitHub({ repos: 75 });
  gw = await startTestGateway({
    adapters: [{ ...entry(), module: './adapters/http/index.ts', pollInterval: '300ms' }],
    watch: { bookmarkInterval: '1s' },
  });
  await gw.gateway.runtime.collections[0]?.poller.ready();
});
afterAll(async () => {
  await gw.close();
  await gh.close();
  rmSync(dir, { recursive: true, force: true });
});

const names = (out: string) => out.trim().split('\n').filter(Boolean).sort();

describe('a YAML-only resource under kubectl', () => {
  it('lists every repository across Link-paginated pages, with the declared columns', async () => {
    const out = await kubectlOk(gw.kubeconfig, ['get', 'repositories']);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STARS\s+LANGUAGE\s+ARCHIVED\s+PUSHED\s+AGE$/);
    expect(lines).toHaveLength(76);
    const want = gh.repos().map((r) => `repository.${GROUP}/${r.name}`);
    expect(names(await kubectlOk(gw.kubeconfig, ['get', 'repo', '-o', 'name']))).toEqual(want.sort());
  });

  it('gets one repository with labels from topics and language, and selects by label and field', async () => {
    const r = gh.repos().find((x) => x.topics.length > 0 && x.language !== null);
    if (!r) throw new Error('the seed has no repository with topics and a language');
    const o = JSON.parse(await kubectlOk(gw.kubeconfig, ['get', 'repository', r.name, '-o', 'json'])) as {
      metadata: { labels: Record<string, string>; creationTimestamp: string };
      spec: { fullName: string };
      status: { stars: number };
    };
    expect(o.spec.fullName).toBe(r.full_name);
    expect(o.status.stars).toBe(r.stargazers_count);
    expect(o.metadata.creationTimestamp).toBe(r.created_at);
    expect(o.metadata.labels.language).toBe(r.language?.toLowerCase());
    for (const t of r.topics) expect(o.metadata.labels[`topic.github.com/${t}`]).toBe('true');
    const lang = r.language?.toLowerCase() ?? '';
    const byLabel = names(
      await kubectlOk(gw.kubeconfig, ['get', 'repositories', '-l', `language=${lang}`, '-o', 'name']),
    );
    expect(byLabel).toEqual(
      gh
        .repos()
        .filter((x) => x.language?.toLowerCase() === lang)
        .map((x) => `repository.${GROUP}/${x.name}`)
        .sort(),
    );
    const archived = names(
      await kubectlOk(gw.kubeconfig, ['get', 'repositories', '--field-selector', 'status.archived=true', '-o', 'name']),
    );
    expect(archived).toEqual(
      gh
        .repos()
        .filter((x) => x.archived)
        .map((x) => `repository.${GROUP}/${x.name}`)
        .sort(),
    );
  });

  it('explains the declared schema', async () => {
    const out = await kubectlOk(gw.kubeconfig, ['explain', 'repositories.status']);
    expect(out).toMatch(/KIND:\s+Repository/);
    expect(out).toMatch(/stars\s+<integer>/);
    expect(out).toContain('Stargazers.');
    const spec = await kubectlOk(gw.kubeconfig, ['explain', 'repositories.spec.fullName']);
    expect(spec).toContain('owner/name');
  });

  it('watch: a star is MODIFIED, a new repository ADDED, a deleted one DELETED', async () => {
    const p = spawn('kubectl', ['--kubeconfig', gw.kubeconfig, 'get', 'repositories', '-w', '--output-watch-events']);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const until = async (pred: (lines: string[]) => boolean) => {
      const end = Date.now() + 20_000;
      while (!pred(out.split('\n'))) {
        if (Date.now() > end) throw new Error(`timed out; kubectl printed:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      await until((l) => l.filter((x) => x.startsWith('ADDED')).length === 75);
      const target = gh.repos()[3]?.name ?? '';
      gh.star(target, 7);
      await until((l) => l.some((x) => new RegExp(`^MODIFIED\\s+${target}\\s`).test(x)));
      gh.create({ name: 'brand-new' });
      await until((l) => l.some((x) => /^ADDED\s+brand-new\s/.test(x)));
      gh.remove('brand-new');
      await until((l) => l.some((x) => /^DELETED\s+brand-new\s/.test(x)));
    } finally {
      p.kill();
    }
  });
});

describe('config reload', () => {
  it('a changed mapping applies without a restart', async () => {
    const file = parse(readFileSync(join(ROOT, 'examples/fake-github/repositories.yaml'), 'utf8')) as {
      resources: { mapping: { labels: string } }[];
    };
    const [r] = file.resources;
    if (!r) throw new Error('no resource in repositories.yaml');
    r.mapping.labels = '{ "team": "platform" }';
    const next = await loadAdapters(
      parseConfig(
        JSON.stringify({ adapters: [entry({ resourcesFile: undefined, resources: file.resources })] }),
        'reload',
      ),
    );
    await gw.gateway.runtime.reconfigure('github', next[0]?.config);
    const out = await kubectlOk(gw.kubeconfig, ['get', 'repositories', '-l', 'team=platform', '-o', 'name']);
    expect(names(out)).toHaveLength(gh.repos().length);
  });
});

describe('a bad mapping is one line naming the field and the line', () => {
  const cli = async (args: string[]) => {
    try {
      const r = await promisify(execFile)(process.execPath, [join(ROOT, 'src/cli/main.ts'), ...args], { cwd: ROOT });
      return { code: 0, stderr: r.stderr };
    } catch (e) {
      const err = e as { code: number; stderr: string };
      return { code: err.code, stderr: err.stderr };
    }
  };
  const inline = {
    kind: 'Repository',
    plural: 'repositories',
    url: '/orgs/{org}/repos',
    itemsPath: '$',
    mapping: { name: 'name.(' },
  };

  it.each(['validate', 'serve'])('kubegate %s --config', async (command) => {
    const f = join(dir, `${command}.yaml`);
    const text = stringify({
      server: { host: '127.0.0.1', port: 0 },
      adapters: [entry({ resourcesFile: undefined, resources: [inline] })],
    });
    writeFileSync(f, text);
    const line = text.split('\n').findIndex((l) => l.includes('name.(')) + 1;
    const r = await cli([command, '--config', f]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^kubegate: adapters\[0\]\.config\.resources\[0\]\.mapping\.name: JSONata syntax error at position \d+: /,
    );
    expect(r.stderr.endsWith(`(${f} line ${line})\n`)).toBe(true);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });
});
