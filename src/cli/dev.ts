import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAdapters } from '../config/adapters.ts';
import { parseConfig } from '../config/load.ts';
import { startGateway, type Gateway } from '../server/gateway.ts';
import { createDevCertificates } from '../server/tls.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { closeOnSignal } from './signals.ts';
import { startFakeWeather, type FakeWeather } from '../../examples/fake-weather/server.ts';
import { LOCATIONS } from '../../examples/fake-weather/locations.ts';
import { startFakePayments } from '../../examples/fake-payments/server.ts';
import { REGIONS, startFakeEc2 } from '../../examples/fake-ec2/server.ts';
import { startFakeGitHub } from '../../examples/fake-github/server.ts';

// The bundled adapters, as sources in the repository or built JavaScript in an installed package (dist/).
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const bundled = (name: string) => fileURLToPath(new URL(`../../adapters/${name}/index${EXT}`, import.meta.url));
// YAML is not built: an installed package has it at its root (package.json `files`), beside dist/.
const packageFile = (path: string) =>
  fileURLToPath(new URL(`${EXT === '.ts' ? '../../' : '../../../'}${path}`, import.meta.url));

export interface DevOptions {
  port: number;
  host?: string;
  /** Where to write the kubeconfig; default `.kubegate/kubeconfig` in the current directory. */
  kubeconfig?: string;
  quiet?: boolean;
}

/**
 * `kubegate dev`: the bundled adapters against fake upstreams started in this process, HTTPS with a fresh CA,
 * and a kubeconfig with a bearer token, so `kubectl` works at once.
 */
export interface DevGateway {
  url: string;
  kubeconfig: string;
  gateway: Gateway;
  weather: FakeWeather;
  close(): Promise<void>;
}

export async function runDev(o: DevOptions): Promise<DevGateway> {
  const host = o.host ?? '127.0.0.1';
  const weather = await startFakeWeather({ port: 0, host: '127.0.0.1' });
  // A new charge every 15 s, so `kubectl get charges -w` has something to show.
  const payments = await startFakePayments({ port: 0, chargeEveryMs: 15_000 });
  const ec2 = await startFakeEc2({ port: 0, instances: 600, tickMs: 5000 });
  // The aws adapter takes credentials from the AWS SDK's default chain, environment first; the fake accepts
  // any signed request, so a demo without AWS credentials gets placeholder ones (never sent anywhere else).
  process.env.AWS_ACCESS_KEY_ID ??= 'AKIDKUBEGATEDEMO';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'kubegate-demo-secret';
  const github = await startFakeGitHub({ port: 0, changeEvery: 3000 });
  const token = randomBytes(24).toString('base64url');
  const config = parseConfig(
    JSON.stringify({
      mode: 'standalone',
      server: { host, port: o.port },
      auth: {
        tokens: [{ token, user: 'dev', groups: ['kubegate:developers'] }],
        policy: [
          { groups: ['kubegate:developers'], verbs: ['*'], apiGroups: ['*'], resources: ['*'], nonResourceURLs: ['*'] },
        ],
      },
      watch: { bookmarkInterval: '30s' },
      adapters: [
        {
          name: 'weather',
          module: bundled('weather'),
          config: { baseUrl: weather.url, locations: LOCATIONS },
        },
        {
          name: 'payments',
          module: bundled('payments'),
          config: { baseUrl: payments.url, apiKey: payments.apiKey },
        },
        {
          name: 'aws',
          module: bundled('aws'),
          pollInterval: '5s',
          config: { regions: REGIONS, endpoint: ec2.url },
        },
        {
          // No code: the Repository resource is declared in YAML for adapters/http.
          name: 'github',
          module: bundled('http'),
          group: 'github.kubegate.dev',
          config: {
            baseUrl: github.url,
            vars: { org: github.org },
            auth: { kind: 'bearer', token: github.token },
            resourcesFile: packageFile('examples/fake-github/repositories.yaml'),
          },
        },
      ],
    }),
    'kubegate dev',
  );
  const adapters = await loadAdapters(config);
  const certs = await createDevCertificates(['localhost'], [host]);
  const gw = await startGateway({ config: config.config, adapters, tls: certs.server });
  const kubeconfig = resolve(o.kubeconfig ?? '.kubegate/kubeconfig');
  writeKubeconfig(kubeconfig, { server: gw.url, ca: certs.ca.cert, token, user: 'dev' });
  const close = async () => {
    await gw.close();
    await weather.close();
    await payments.close();
    await ec2.close();
    await github.close();
  };
  if (!o.quiet) {
    process.stderr.write(
      `\nkubegate dev: serving on ${gw.url} (fake weather upstream at ${weather.url})\n` +
        `In another shell:\n` +
        `  export KUBECONFIG=${kubeconfig}\n` +
        `  kubectl api-resources --api-group=weather.kubegate.dev\n` +
        `  kubectl get instances -o wide                 # EC2 through the AWS SDK, against a fake EC2\n` +
        `  kubectl get instances -l region=eu-west-1 --field-selector status.state=running -w\n` +
        `  kubectl get forecasts -o wide\n` +
        `  kubectl get forecasts -l country=FR -w\n` +
        `  kubectl explain forecasts.status\n` +
        `  kubectl get charges -A --chunk-size=50        # pass-through: the fake payments API, paged\n` +
        `  kubectl get charges -A -w --output-watch-events   # its change feed (GET /v1/events): a charge every 15 s\n` +
        `  kubectl get customers -A                      # mirrored, bounded by customers.maxObjects\n` +
        `  kubectl get repositories -l language=go -w    # declared in YAML only (adapters/http), fake GitHub\n` +
        `  kubectl explain repositories.status\n` +
        `  kubectl get adapters                          # kubegate's own view of its upstreams\n\n`,
    );
    closeOnSignal({ close });
  }
  return { url: gw.url, kubeconfig, gateway: gw, weather, close };
}
