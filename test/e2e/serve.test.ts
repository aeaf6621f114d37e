import { execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { createDevCertificates, createSignedCertificate } from '../../src/server/tls.ts';

// The `kubegate` command itself: validate and serve, as an operator runs them.
const ROOT = resolve(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src/cli/main.ts');
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'kubegate-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// Inherited by the kubegate processes the tests start.
process.env.KUBEGATE_TEST_SHORT_TOKEN = 'short-123';

const weatherEntry = (config: Record<string, unknown>) => ({
  name: 'weather',
  module: join(ROOT, 'adapters/weather/index.ts'),
  config: {
    baseUrl: 'http://127.0.0.1:9',
    locations: [{ name: 'paris', latitude: 48.85, longitude: 2.35, country: 'FR', region: 'europe' }],
    ...config,
  },
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [MAIN, ...args], { cwd: ROOT });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('kubegate validate', () => {
  it('accepts a good config', async () => {
    const f = join(dir, 'good.yaml');
    writeFileSync(f, stringify({ adapters: [weatherEntry({})] }));
    const r = await cli(['validate', '--config', f]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${f}: ok (1 adapters, 1 resources)\n`);
  });
  it.each([
    [
      'a wrong type in the adapter config',
      {
        adapters: [
          weatherEntry({
            locations: [{ name: 'paris', latitude: 'north', longitude: 2, country: 'FR', region: 'eu' }],
          }),
        ],
      },
      /^kubegate: adapters\[0\]\.config\.locations\[0\]\.latitude: Expected number.*line \d+\)\n$/,
    ],
    [
      'an unknown key',
      { adapters: [weatherEntry({})], sever: {} },
      /^kubegate: sever: unknown field \(.* line \d+\)\n$/,
    ],
    [
      'a missing module',
      { adapters: [{ name: 'x', module: './nope.ts' }] },
      /^kubegate: adapters\[0\]\.module: "\.\/nope\.ts": module not found \(.*line \d+\)\n$/,
    ],
    [
      'a certificate file that does not exist (relative to the config file)',
      { server: { tls: { certFile: 'tls/server.crt', keyFile: 'tls/server.key' } }, adapters: [weatherEntry({})] },
      /^kubegate: server\.tls\.certFile: "tls\/server\.crt" does not exist \(relative to the config file's folder\) \(.*line \d+\)\nkubegate: server\.tls\.keyFile: .*\n$/,
    ],
    [
      'a short token in tokenEnv',
      { auth: { tokens: [{ tokenEnv: 'KUBEGATE_TEST_SHORT_TOKEN', user: 'u' }] }, adapters: [weatherEntry({})] },
      /^kubegate: auth\.tokens\[0\]\.tokenEnv: the token in KUBEGATE_TEST_SHORT_TOKEN is 9 characters; use at least 16 \(.*line \d+\)\n$/,
    ],
  ])('names the field for %s, in one line, exit 1', async (_, cfg, want) => {
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, stringify(cfg));
    const r = await cli(['validate', '--config', f]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(want);
  });
});

describe('kubegate serve', () => {
  it('with the upstream down: discovery and OpenAPI answer at once, a list is a 503 naming the adapter; certificates reload', async () => {
    const certs = await createDevCertificates(['localhost'], ['127.0.0.1']);
    writeFileSync(join(dir, 'tls.crt'), certs.server.cert);
    writeFileSync(join(dir, 'tls.key'), certs.server.key);
    const port = 20000 + Math.floor(Math.random() * 20000);
    const f = join(dir, 'serve.yaml');
    writeFileSync(
      f,
      stringify({
        server: { host: '127.0.0.1', port, tls: { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') } },
        auth: {
          tokens: [{ token: 'serve-test-token-0123456789', user: 'u', groups: ['g'] }],
          policy: [{ groups: ['g'], verbs: ['*'], apiGroups: ['*'], resources: ['*'], nonResourceURLs: ['*'] }],
        },
        adapters: [{ ...weatherEntry({}), resilience: { retries: 0, timeout: '200ms' } }],
      }),
    );
    const p = spawn(process.execPath, [MAIN, 'serve', '--config', f], {
      cwd: ROOT,
      env: { ...process.env, KUBEGATE_LOG_LEVEL: 'error' },
    });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const { Agent, fetch } = await import('undici');
    const agent = new Agent({ connect: { ca: certs.ca.cert } });
    const get = async (path: string) => {
      const r = await fetch(`https://127.0.0.1:${port}${path}`, {
        headers: { authorization: 'Bearer serve-test-token-0123456789' },
        dispatcher: agent,
      });
      return { status: r.status, body: await r.text(), ms: 0 };
    };
    try {
      await vi.waitFor(() => expect(err).toContain('serving on'), { timeout: 10_000, interval: 100 });
      // Discovery and OpenAPI answer while the resource has no data at all (the list below still has none): they
      // never wait on the upstream.
      expect((await get('/apis/weather.kubegate.dev/v1alpha1')).status).toBe(200);
      expect((await get('/openapi/v3/apis/weather.kubegate.dev/v1alpha1')).status).toBe(200);
      const list = await get('/apis/weather.kubegate.dev/v1alpha1/forecasts');
      expect(list.status).toBe(503);
      expect(JSON.parse(list.body)).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
      expect((JSON.parse(list.body) as { message: string }).message).toMatch(
        /^weather: no data for forecasts\.weather\.kubegate\.dev yet: upstream unavailable: .*unreachable/,
      );
      // A renewed certificate (same CA, new serial) is picked up without a restart.
      const renewed = await createSignedCertificate(certs.ca, 'localhost', {
        dnsNames: ['localhost'],
        ips: ['127.0.0.1'],
        serverAuth: true,
      });
      writeFileSync(join(dir, 'tls.key'), renewed.key);
      writeFileSync(join(dir, 'tls.crt'), renewed.cert);
      const want = new X509Certificate(renewed.cert).serialNumber;
      // The served certificate changes once the watcher has read the new files.
      await vi.waitFor(
        async () => {
          const seen = await new Promise<string>((res) => {
            const s = connect({ host: '127.0.0.1', port, ca: certs.ca.cert, servername: 'localhost' }, () => {
              res(s.getPeerX509Certificate()?.serialNumber ?? '');
              s.end();
            });
            s.on('error', () => res(''));
          });
          expect(seen).toBe(want);
        },
        { timeout: 10_000, interval: 100 },
      );
    } finally {
      p.kill('SIGTERM');
      await agent.close();
    }
  }, 30_000);
});
