import type { KubegateConfig } from '../config/schema.ts';
import { ConfigError } from '../config/load.ts';
import { writeKubeconfig } from './kubeconfig.ts';

/**
 * `kubegate serve --write-kubeconfig FILE`: a kubeconfig for the gateway just started, trusting `ca` (the
 * throwaway CA of a generated certificate, or the configured certificate file itself) and authenticating with
 * the first static token of `auth.tokens`, so kubectl verifies TLS without `--insecure-skip-tls-verify`.
 */
export function writeServeKubeconfig(file: string, o: { config: KubegateConfig; url: string; ca: string }): void {
  const first = o.config.auth?.tokens?.[0];
  const token = first?.token ?? (first?.tokenEnv ? process.env[first.tokenEnv] : undefined);
  if (!first || !token)
    throw new ConfigError(
      '--write-kubeconfig: auth.tokens has no token for kubectl to use (add one with token or tokenEnv)',
    );
  // A gateway listening on every address is reached on loopback, which its generated certificate names.
  const server = o.url.replace(/^https:\/\/(0\.0\.0\.0|\[::\])(?=:)/, 'https://127.0.0.1');
  writeKubeconfig(file, { server, ca: o.ca, token, user: first.user });
}
