import type { Http2SecureServer, Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { createRequire } from 'node:module';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerOptions,
  type FastifyPluginAsync,
  type FastifyReply,
  type FastifyRequest,
  type RouteGenericInterface,
} from 'fastify';
import type { Logger } from 'pino';
import { badRequest } from '../k8s/errors.ts';
import { sendStatus } from './status.ts';
import type { RequestListener } from './edge.ts';
import { createBoundedServer, DEFAULT_LIMITS, type ServerLimits } from './limits.ts';

/** The HTTP server kubegate runs: fastify on an HTTP/2 TLS server that also speaks HTTP/1.1 (ALPN). */
export type KubegateApp = FastifyInstance<Http2SecureServer, Http2ServerRequest, Http2ServerResponse>;
export type KubegateRequest = FastifyRequest<RouteGenericInterface, Http2SecureServer, Http2ServerRequest>;
export type KubegateReply = FastifyReply<
  RouteGenericInterface,
  Http2SecureServer,
  Http2ServerRequest,
  Http2ServerResponse
>;
/** A plugin of {@link KubegateApp} (one route family). */
export type KubegatePlugin<O extends Record<string, unknown>> = FastifyPluginAsync<O, Http2SecureServer>;

export interface HttpOptions {
  tls: { cert: string; key: string; ca?: string };
  /**
   * Ask TLS clients for a certificate without letting OpenSSL reject it (kubegate verifies it: front-proxy CA or
   * client CA, per authenticator). Delegated mode needs it.
   */
  tlsRequestCert?: boolean;
  logger?: boolean | Logger;
  /** Timeouts and HTTP/2 settings (defaults: `DEFAULT_LIMITS`). */
  limits?: Partial<ServerLimits>;
  /** What sees each request before fastify does (kubegate's edge: authentication, odd methods). */
  edge?: (next: RequestListener) => RequestListener;
}

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

/**
 * fastify's own schema compilers (ajv, fast-json-stringify), loaded from fastify's dependencies the first time a
 * route with a schema needs one. kubegate's routes declare no schemas, and fastify would otherwise load both
 * whenever an instance is made: about 6 MiB of the process's memory for nothing (BENCHMARKS.md, "Memory of the
 * built image").
 */
function lazyCompilers(): CompilersFactory {
  const fromFastify = createRequire(import.meta.resolve('fastify'));
  type Factory = (...args: unknown[]) => unknown;
  const lazy = (module: string): Factory => {
    let factory: Factory | undefined;
    return (...args) => (factory ??= (fromFastify(module) as () => Factory)())(...args);
  };
  return {
    buildValidator: lazy('@fastify/ajv-compiler'),
    buildSerializer: lazy('@fastify/fast-json-stringify-compiler'),
  } as CompilersFactory;
}

/** Creates the fastify instance: HTTP/2 and HTTP/1.1 on one TLS port, kubegate's logging and router options. */
export function createHttpServer(o: HttpOptions): KubegateApp {
  const logging: { loggerInstance: FastifyBaseLogger } | { logger: boolean } =
    typeof o.logger === 'object' ? { loggerInstance: o.logger } : { logger: o.logger ?? false };
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...o.limits };
  const edge = o.edge ?? ((next: RequestListener) => next);
  return Fastify({
    http2: true,
    https: { allowHTTP1: true },
    // kubegate makes the server: every timeout and HTTP/2 setting bounded, and its edge in front of fastify.
    serverFactory: (handler) =>
      createBoundedServer(
        {
          cert: o.tls.cert,
          key: o.tls.key,
          ...(o.tls.ca ? { ca: o.tls.ca } : {}),
          ...(o.tlsRequestCert ? { requestCert: true, rejectUnauthorized: false } : {}),
        },
        limits,
        edge(handler as RequestListener),
      ),
    ...logging,
    // Per-request logging would cost more than serving a GET; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // No child logger per request (pino's child with redaction costs more than a GET); errors are logged with
    // the request id explicitly.
    childLoggerFactory: (logger) => logger,
    // Kubernetes names may be up to 253 characters and proxied paths are long.
    routerOptions: { maxParamLength: 1024, ignoreTrailingSlash: true },
    return503OnClosing: true,
    schemaController: { compilersFactory: lazyCompilers() },
    // A path the router cannot decode (`%zz`, a lone `%`) is a 400 Status like any other malformed request.
    frameworkErrors: (err, _req, reply) => {
      const why = err.code === 'FST_ERR_BAD_URL' ? 'the request path is not valid percent-encoding' : 'bad request';
      void sendStatus(reply, badRequest(why));
    },
  });
}
