import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HA_VALUES, ROOT, renderChart, type K8sObject } from './chart.ts';

const run = promisify(execFile);

// No image can be built here, so what goes into it is checked instead: deploy/Dockerfile installs the package
// as `npm pack` makes it into /opt/kubegate. The packed file list must hold what the Dockerfile's entry point
// and the chart's config name, and nothing that is not meant to ship. The list comes from a copy of the
// repository (so the prepack build never races other tests over dist/).
const IMAGE_ROOT = '/opt/kubegate/';

let work: string;
let files: string[];
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'kubegate-pack-'));
  const copy = join(work, 'repo');
  const { stdout } = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT });
  for (const f of stdout.split('\0').filter(Boolean)) {
    mkdirSync(dirname(join(copy, f)), { recursive: true });
    try {
      cpSync(join(ROOT, f), join(copy, f));
    } catch {
      // Deleted in the work tree but still in the index.
    }
  }
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  const packed = await run('npm', ['pack', '--dry-run', '--json'], { cwd: copy, maxBuffer: 32 << 20 });
  const [pkg] = JSON.parse(packed.stdout) as { files: { path: string }[] }[];
  files = (pkg?.files ?? []).map((f) => f.path);
  // The image's /opt/kubegate without its node_modules: exactly the packed files.
  const image = join(work, 'image');
  for (const f of files) {
    mkdirSync(dirname(join(image, f)), { recursive: true });
    cpSync(join(copy, f), join(image, f));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(image, 'node_modules'));
}, 180_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const dockerfile = readFileSync(resolve(ROOT, 'deploy/Dockerfile'), 'utf8');

describe('what the container image holds (the packed file list)', () => {
  it('the entry point of the Dockerfile and the built CLI are packed', () => {
    const entry = /ENTRYPOINT \["node", "([^"]+)"\]/.exec(dockerfile)?.[1] ?? '';
    expect(entry.startsWith(IMAGE_ROOT)).toBe(true);
    expect(files).toContain(entry.slice(IMAGE_ROOT.length));
    expect(files).toEqual(expect.arrayContaining(['package.json', 'dist/src/cli/main.js', 'dist/src/sdk/index.js']));
    expect(dockerfile).toMatch(/^USER 65532:65532$/m);
  });

  it('every adapter module the chart configures is packed', async () => {
    const modules = new Set<string>();
    for (const values of [[], [HA_VALUES]]) {
      const objs = await renderChart(values);
      const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-config')) as K8sObject & {
        data: Record<string, string>;
      };
      for (const m of (cm.data['kubegate.yaml'] ?? '').matchAll(/module: (\S+)/g)) modules.add(m[1] as string);
    }
    expect(modules.size).toBeGreaterThan(1);
    for (const m of modules) {
      expect(m.startsWith(IMAGE_ROOT), m).toBe(true);
      expect(files).toContain(m.slice(IMAGE_ROOT.length));
    }
  });

  it('ships no sources, tests, deploy files, CI scripts or key material', () => {
    const unwanted = files.filter(
      (f) =>
        /(^|\/)(test|\.ci|deploy|node_modules|\.github)\//.test(f) ||
        /\.test\.(ts|js)$/.test(f) ||
        /\.(pem|key|crt|env)$/.test(f) ||
        (/\.(ts|mts)$/.test(f) && !f.endsWith('.d.ts') && !f.startsWith('src/cli/scaffold/template/')),
    );
    expect(unwanted).toEqual([]);
  });

  it('the packed files alone run `kubegate validate` on the config the chart renders', async () => {
    const objs = await renderChart([HA_VALUES]);
    const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name.endsWith('-config')) as K8sObject & {
      data: Record<string, string>;
    };
    const image = join(work, 'image');
    const config = join(work, 'kubegate.yaml');
    writeFileSync(config, (cm.data['kubegate.yaml'] ?? '').replaceAll(IMAGE_ROOT, `${image}/`));
    // --offline: the certificate files the config names exist in the pod, not on this machine.
    // As in the image: no `kubegate-source` condition (the tests' NODE_OPTIONS has it), so `kubegate/sdk` is dist/.
    const env: NodeJS.ProcessEnv = { ...process.env, PAYMENTS_API_KEY: 'sk_test_0123456789abcdef' };
    delete env.NODE_OPTIONS;
    const { stdout } = await run(
      process.execPath,
      [join(image, 'bin/kubegate.mjs'), 'validate', '--offline', '--config', config],
      {
        env,
      },
    );
    expect(stdout).toMatch(/: ok \(2 adapters, \d+ resources\)/);
  });
});
