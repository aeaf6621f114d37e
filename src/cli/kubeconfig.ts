import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

/** Writes a kubeconfig for kubectl: the server URL, the CA to verify it, and a bearer token. */
export function writeKubeconfig(file: string, o: { server: string; ca: string; token: string; user: string }): void {
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'kubegate',
        cluster: { server: o.server, 'certificate-authority-data': Buffer.from(o.ca).toString('base64') },
      },
    ],
    users: [{ name: o.user, user: { token: o.token } }],
    contexts: [{ name: 'kubegate', context: { cluster: 'kubegate', user: o.user } }],
    'current-context': 'kubegate',
    preferences: {},
  };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, stringify(doc), { mode: 0o600 });
}
