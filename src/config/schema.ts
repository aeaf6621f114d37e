import { Type, type Static } from '@sinclair/typebox';

const Duration = Type.Union([Type.String({ pattern: '^(\\d+(\\.\\d+)?(ms|s|m|h))+$' }), Type.Number({ minimum: 0 })], {
  description: 'a duration: 500ms, 30s, 5m, 1h, or milliseconds',
});

export const TokenSchema = Type.Object(
  {
    token: Type.Optional(Type.String({ minLength: 16, description: 'the bearer token (or use tokenEnv)' })),
    tokenEnv: Type.Optional(Type.String({ description: 'name of an environment variable holding the token' })),
    user: Type.String({ minLength: 1 }),
    uid: Type.Optional(Type.String()),
    groups: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);

export const PolicyRuleSchema = Type.Object(
  {
    users: Type.Optional(Type.Array(Type.String())),
    groups: Type.Optional(Type.Array(Type.String())),
    verbs: Type.Array(Type.String(), { description: 'get, list, watch, or *' }),
    apiGroups: Type.Optional(Type.Array(Type.String())),
    resources: Type.Optional(Type.Array(Type.String(), { description: 'plural names, "plural/subresource", or *' })),
    namespaces: Type.Optional(Type.Array(Type.String())),
    nonResourceURLs: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    mode: Type.Optional(Type.Union([Type.Literal('standalone'), Type.Literal('aggregated')])),
    server: Type.Optional(
      Type.Object(
        {
          host: Type.Optional(Type.String()),
          port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
          tls: Type.Optional(
            Type.Object(
              {
                certFile: Type.Optional(Type.String()),
                keyFile: Type.Optional(Type.String()),
                selfSigned: Type.Optional(Type.Boolean()),
              },
              { additionalProperties: false },
            ),
          ),
          shutdownGrace: Type.Optional(Duration),
          timeouts: Type.Optional(
            Type.Object(
              {
                handshake: Type.Optional(Duration),
                headers: Type.Optional(Duration),
                request: Type.Optional(Duration),
                idle: Type.Optional(Duration),
              },
              { additionalProperties: false },
            ),
          ),
          http2: Type.Optional(
            Type.Object(
              {
                maxConcurrentStreams: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
                initialWindowSize: Type.Optional(Type.Integer({ minimum: 1024, maximum: 2 ** 31 - 1 })),
                maxSessionMemory: Type.Optional(Type.Integer({ minimum: 1 << 20 })),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    auth: Type.Optional(
      Type.Object(
        {
          tokens: Type.Optional(Type.Array(TokenSchema)),
          policy: Type.Optional(Type.Array(PolicyRuleSchema)),
          anonymous: Type.Optional(Type.Boolean()),
          kubeconfig: Type.Optional(
            Type.String({ description: 'aggregated mode: kubeconfig for the kube-apiserver (default: in-cluster)' }),
          ),
          rateLimit: Type.Optional(
            Type.Object(
              {
                perSecond: Type.Number({ exclusiveMinimum: 0, description: 'sustained requests per second per user' }),
                burst: Type.Integer({ minimum: 1, description: 'requests a user may make at once' }),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    store: Type.Optional(
      Type.Object(
        {
          type: Type.Union([Type.Literal('memory'), Type.Literal('redis')]),
          leaseTtl: Type.Optional(Duration),
          redis: Type.Optional(
            Type.Object(
              {
                url: Type.Optional(Type.String()),
                keyPrefix: Type.Optional(Type.String()),
                sentinels: Type.Optional(
                  Type.Array(
                    Type.Object({ host: Type.String(), port: Type.Integer() }, { additionalProperties: false }),
                    {
                      description:
                        'Redis Sentinel: the sentinels to ask for the master (with sentinelName; url is then ignored)',
                    },
                  ),
                ),
                sentinelName: Type.Optional(Type.String({ description: 'Redis Sentinel: the master group name' })),
                cluster: Type.Optional(
                  Type.Array(
                    Type.Object({ host: Type.String(), port: Type.Integer() }, { additionalProperties: false }),
                    {
                      minItems: 1,
                      description: 'Redis Cluster: seed nodes (url and sentinels are then ignored)',
                    },
                  ),
                ),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    watch: Type.Optional(
      Type.Object(
        {
          bookmarkInterval: Type.Optional(Duration),
          maxEvents: Type.Optional(Type.Integer({ minimum: 1 })),
          maxEventAge: Type.Optional(Duration),
          maxBufferedBytes: Type.Optional(Type.Integer({ minimum: 1024 })),
          sessionBufferedBytes: Type.Optional(Type.Integer({ minimum: 1024 })),
          maxPerUser: Type.Optional(Type.Integer({ minimum: 1 })),
          maxTotal: Type.Optional(Type.Integer({ minimum: 1 })),
        },
        { additionalProperties: false },
      ),
    ),
    passThrough: Type.Optional(
      Type.Object(
        {
          cache: Type.Optional(
            Type.Object(
              {
                maxEntries: Type.Optional(
                  Type.Integer({ minimum: 1, description: 'entries per pass-through resource (default 10000)' }),
                ),
                maxBytes: Type.Optional(
                  Type.Integer({ minimum: 1024, description: 'bytes per pass-through resource (default 32 MiB)' }),
                ),
                notFoundTtl: Type.Optional(Duration),
              },
              { additionalProperties: false },
            ),
          ),
          userUpstreamLimit: Type.Optional(
            Type.Union(
              [
                Type.Literal(false),
                Type.Object(
                  {
                    perSecond: Type.Number({
                      exclusiveMinimum: 0,
                      description: 'requests per second per user that may reach an upstream',
                    }),
                    burst: Type.Integer({ minimum: 1, description: 'such requests a user may make at once' }),
                  },
                  { additionalProperties: false },
                ),
              ],
              { description: 'per-user limit on requests reaching an upstream (default 5/s, burst 20); false: off' },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    audit: Type.Optional(
      Type.Object(
        {
          policyFile: Type.Optional(
            Type.String({ minLength: 1, description: 'an audit.k8s.io/v1 Policy file (relative to this file)' }),
          ),
          policy: Type.Optional(Type.Unknown({ description: 'an audit.k8s.io/v1 Policy, inline' })),
          path: Type.String({
            minLength: 1,
            description: 'the audit log file (relative to this file), or - for stdout',
          }),
          maxSize: Type.Optional(
            Type.Integer({ minimum: 0, description: 'megabytes before the file is rotated (0: never)' }),
          ),
          maxBackups: Type.Optional(Type.Integer({ minimum: 1, description: 'rotated files kept' })),
          mode: Type.Optional(Type.Union([Type.Literal('batch'), Type.Literal('blocking')])),
          bufferSize: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'events queued at most' }),
          ),
          batchMaxSize: Type.Optional(Type.Integer({ minimum: 1, description: 'events written at once' })),
          batchMaxWait: Type.Optional(Duration),
          maxResponseBytes: Type.Optional(
            Type.Integer({
              minimum: 0,
              maximum: 16 << 20,
              description: 'bodies recorded at RequestResponse level, at most',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    adapters: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1 }),
          module: Type.String({ minLength: 1, description: 'a path (relative to the config file) or a package name' }),
          group: Type.Optional(
            Type.String({
              pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$',
              maxLength: 253,
              description:
                "an API group for this entry instead of the adapter's, e.g. eu.payments.example.com: " +
                'two entries of one adapter (two accounts) side by side',
            }),
          ),
          config: Type.Optional(Type.Unknown()),
          pollInterval: Type.Optional(Duration),
          resilience: Type.Optional(
            Type.Object(
              {
                timeout: Type.Optional(Duration),
                deadline: Type.Optional(Duration),
                retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
                backoffInitial: Type.Optional(Duration),
                backoffMax: Type.Optional(Duration),
                breakerThreshold: Type.Optional(Type.Integer({ minimum: 1 })),
                halfOpenAfter: Type.Optional(Duration),
                maxConcurrent: Type.Optional(Type.Integer({ minimum: 1 })),
                maxQueued: Type.Optional(Type.Integer({ minimum: 0 })),
                rateLimitPerSecond: Type.Optional(Type.Number({ minimum: 0 })),
                rateLimitBurst: Type.Optional(Type.Integer({ minimum: 1 })),
                maxResponseBytes: Type.Optional(Type.Integer({ minimum: 1024 })),
                proxy: Type.Optional(
                  Type.Object(
                    {
                      maxConcurrent: Type.Optional(Type.Integer({ minimum: 1 })),
                      maxQueued: Type.Optional(Type.Integer({ minimum: 0 })),
                      maxConcurrentPerUser: Type.Optional(Type.Integer({ minimum: 1 })),
                      idleTimeout: Type.Optional(Duration),
                      maxDuration: Type.Optional(Duration),
                      maxRequestBytes: Type.Optional(Type.Integer({ minimum: 0 })),
                    },
                    { additionalProperties: false },
                  ),
                ),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
  },
  { additionalProperties: false },
);

export type KubegateConfig = Static<typeof ConfigSchema>;
export type AdapterEntry = KubegateConfig['adapters'][number];
