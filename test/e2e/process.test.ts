import { spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The processes an operator starts: `npm start` (npm → launcher → server) must not leave a server behind when
// it is stopped, and `kubegate --help` prints the usage.
const ROOT = resolve(import.meta.dirname, '../..');

const freePort = () =>
  new Promise<number>((done) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => done(typeof a === 'object' && a ? a.port : 0));
    });
  });

/** Resolves true when something accepts connections on the port, false when it is refused. */
const listening = (port: number) =>
  new Promise<boolean>((done) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => {
      c.destroy();
      done(true);
    });
    c.once('error', () => done(false));
  });

describe('process hygiene', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s to `npm start` stops the server: nothing keeps listening on its port',
    async (signal) => {
      const port = await freePort();
      const npm = spawn('npm', ['start', '--', '--port', String(port)], {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      npm.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<void>((done) => npm.once('exit', () => done()));
      await expect.poll(() => stderr, { timeout: 60_000 }).toContain(`serving on https://127.0.0.1:${port}`);
      expect(await listening(port)).toBe(true);
      npm.kill(signal);
      await exited;
      await expect.poll(() => listening(port), { timeout: 15_000 }).toBe(false);
      expect(stderr).toContain(`kubegate: ${signal}, shutting down`);
    },
    90_000,
  );

  it.each(['--help', '-h', 'help', 'serve --help'])('kubegate %s prints the usage', async (line) => {
    const args = line.split(' ');
    const out = await new Promise<{ code: number | null; stdout: string }>((done) => {
      const p = spawn(process.execPath, [resolve(ROOT, 'bin/kubegate.mjs'), ...args], { cwd: ROOT });
      let stdout = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.once('exit', (code) => done({ code, stdout }));
    });
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^kubegate — serve external APIs as Kubernetes resources\n\nUsage:\n/);
    expect(out.stdout).toContain('kubegate validate --config');
  });
});
