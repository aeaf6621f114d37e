import { EC2Client } from '@aws-sdk/client-ec2';
import { AdapterError, type AdapterContext, type Static, type UpstreamFetch } from 'kubegate/sdk';
import { fetchRequestHandler } from './handler.ts';
import type { AwsConfig } from './schema.ts';

export type Config = Static<typeof AwsConfig>;

interface Clients {
  /** The entry's current fetch; every client's handler sends through it. */
  fetch: UpstreamFetch;
  byRegion: Map<string, EC2Client>;
}

// One set of clients per entry config: a reconfigured entry gets a new config object and new clients, and the
// old ones go with it. Keeping clients across polls keeps the credential chain's cache (a web identity token
// exchanged once per session, not once per poll).
const cache = new WeakMap<Config, Clients>();

/**
 * The EC2 client of one region for this entry: credentials from the SDK's default chain (environment, shared
 * config and credentials files with `profile`, web identity on EKS, ECS and instance roles), the SDK's own
 * retries off and every call sent through `ctx.fetch`.
 */
export function ec2Client(ctx: AdapterContext<Config>, region: string): EC2Client {
  let c = cache.get(ctx.config);
  if (!c) cache.set(ctx.config, (c = { fetch: ctx.fetch, byRegion: new Map() }));
  c.fetch = ctx.fetch;
  let client = c.byRegion.get(region);
  if (!client) {
    const clients = c;
    const { endpoint, profile } = ctx.config;
    client = new EC2Client({
      region,
      ...(endpoint ? { endpoint } : {}),
      ...(profile ? { profile } : {}),
      maxAttempts: 1,
      requestHandler: fetchRequestHandler(() => clients.fetch),
    });
    c.byRegion.set(region, client);
  }
  return client;
}

const IAM_HINT: Record<string, string> = {
  DescribeInstances: 'ec2:DescribeInstances',
  DescribeVolumes: 'ec2:DescribeVolumes',
  DescribeSecurityGroups: 'ec2:DescribeSecurityGroups',
};

/**
 * Turns what the SDK threw into an error people can act on, without the upstream's own message: the EC2 error
 * code (an identifier such as `UnauthorizedOperation`) and status are kept, the message text is not.
 * kubegate's own upstream errors (retries exhausted, breaker open) pass through as they are.
 */
export function explain(err: unknown, action: string, region: string): Error {
  if (!(err instanceof Error)) return new AdapterError(`${action} in ${region} failed`);
  if (err.name === 'UpstreamError' || err.name === 'AdapterError' || err.name === 'AbortError') return err;
  if (err.name === 'CredentialsProviderError')
    return new AdapterError(
      `no AWS credentials for ${region}: set them in the environment, the shared files (profile), ` +
        'or a web identity token (IRSA on EKS)',
      { cause: err },
    );
  const meta = (err as { $metadata?: { httpStatusCode?: number } }).$metadata;
  const status = meta?.httpStatusCode;
  const code = /^[A-Za-z][A-Za-z0-9.]{0,63}$/.test(err.name) ? err.name : 'an error';
  if (status === undefined) return new AdapterError(`${action} in ${region} failed (${code})`, { cause: err });
  const hint =
    code === 'UnauthorizedOperation' || code === 'AccessDenied'
      ? `: allow ${IAM_HINT[action] ?? 'it'} to the credentials' role`
      : code === 'AuthFailure'
        ? ': the credentials were not accepted'
        : '';
  return new AdapterError(`${action} in ${region} answered ${status} ${code}${hint}`, { status, cause: err });
}
