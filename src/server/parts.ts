import type { Logger } from 'pino';
import { createDelegatedAuth } from '../auth/delegation.ts';
import { createUserRateLimiter, type UserRateLimiter } from '../auth/ratelimit.ts';
import { createStaticPolicyAuthorizer, createStaticTokenAuthenticator } from '../auth/static.ts';
import type { Authenticator, Authorizer } from '../auth/types.ts';
import type { KubegateConfig } from '../config/schema.ts';
import { createMemoryStore } from '../store/memory.ts';
import type { RedisConnection } from '../store/redis-connection.ts';
import type { Store } from '../store/types.ts';

/** Who may do what: the authenticators in order, the authorizer, and how TLS asks for client certificates. */
export interface GatewayAuth {
  authenticators: Authenticator[];
  authorizer: Authorizer;
  /** Ask TLS clients for a certificate (delegated authentication verifies front-proxy and client certificates). */
  requestClientCertificates: boolean;
  /** Treat requests without credentials as system:anonymous instead of answering 401. */
  anonymous: boolean;
  rateLimiter?: UserRateLimiter;
  /** Where the front-proxy authenticator reports headers it did not trust (the app fills in `reason`). */
  untrusted?: { reason?: (why: string) => void };
  close?(): Promise<void>;
}

const warnTo = (log: Logger) => ({
  warn: (msg: string, extra?: Record<string, unknown>) => log.warn(extra ?? {}, msg),
});

/**
 * The store named by the config: memory (one replica) or Redis (replicas share polls and events). The Redis
 * modules (ioredis: about 12 MiB of a process's memory) are loaded only when the config names Redis.
 */
export async function createConfiguredStore(
  config: KubegateConfig,
  log?: Logger,
  redis?: RedisConnection,
): Promise<Store> {
  if ((config.store?.type ?? 'memory') === 'memory') return createMemoryStore();
  const conn = redis ?? (await import('../store/redis-connection.ts')).redisConnection(config);
  const { createRedisStore } = await import('../store/redis.ts');
  return createRedisStore({
    connect: (options) => conn.connect(options),
    keyPrefix: conn.keyPrefix,
    streamMaxLen: config.watch?.maxEvents ?? 10_000,
    ...(log ? { log: warnTo(log) } : {}),
  });
}

/**
 * Authentication and authorization from the config. Aggregated: the kube-apiserver authenticates (front proxy,
 * client certificates, TokenReview) and authorizes (SubjectAccessReview); static tokens still work beside it
 * for break-glass access. Standalone: tokens and policy from the config.
 */
export async function createConfiguredAuth(config: KubegateConfig, logger: Logger): Promise<GatewayAuth> {
  const auth = config.auth ?? {};
  const tokens = (auth.tokens ?? []).map((t) => {
    const token = t.token ?? (t.tokenEnv ? process.env[t.tokenEnv] : undefined);
    if (!token) throw new Error(`auth.tokens: the token of user "${t.user}" is empty (token or tokenEnv)`);
    return { token, user: t.user, ...(t.uid ? { uid: t.uid } : {}), ...(t.groups ? { groups: t.groups } : {}) };
  });
  const untrusted: { reason?: (why: string) => void } = {};
  const delegated =
    config.mode === 'aggregated'
      ? createDelegatedAuth({
          ...(auth.kubeconfig ? { kubeconfig: auth.kubeconfig } : {}),
          onUntrusted: (why) => untrusted.reason?.(why),
          log: {
            ...warnTo(logger),
            info: (msg: string, extra?: Record<string, unknown>) => logger.info(extra ?? {}, msg),
          },
        })
      : undefined;
  if (delegated) await Promise.race([delegated.ready, new Promise((r) => setTimeout(r, 10_000).unref())]);
  return {
    authenticators: [
      ...(delegated?.authenticators ?? []),
      ...(tokens.length > 0 || !delegated ? [createStaticTokenAuthenticator(tokens)] : []),
    ],
    authorizer: delegated?.authorizer ?? createStaticPolicyAuthorizer(auth.policy ?? []),
    requestClientCertificates: delegated !== undefined,
    anonymous: auth.anonymous ?? false,
    untrusted,
    ...(auth.rateLimit
      ? { rateLimiter: createUserRateLimiter({ rate: auth.rateLimit.perSecond, burst: auth.rateLimit.burst }) }
      : {}),
    ...(delegated ? { close: () => delegated.close() } : {}),
  };
}
