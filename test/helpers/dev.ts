import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDev, type DevGateway } from '../../src/cli/dev.ts';

/** `kubegate dev` on a free port with its kubeconfig in a temp dir; close() removes everything. */
export async function startDev(): Promise<DevGateway & { dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'kubegate-test-'));
  const dev = await runDev({ port: 0, kubeconfig: join(dir, 'kubeconfig'), quiet: true });
  return {
    ...dev,
    dir,
    async close() {
      await dev.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
