import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Authenticator, Authorizer } from '../auth/types.ts';
import { peerCertificateOf } from '../auth/peer.ts';
import type { UserRateLimiter } from '../auth/ratelimit.ts';
import { KubeError, badRequest, notAcceptable, pathNotFound, toStatus } from '../k8s/errors.ts';
import { objectUid } from '../resources/identity.ts';
import { buildDiscoveryDocuments, negotiateDiscovery } from '../k8s/discovery.ts';
import { buildOpenApiDocuments } from '../k8s/openapi.ts';
import type { Runtime } from '../resources/runtime.ts';
import type { Store } from '../store/types.ts';
import type { Metrics } from '../observability/metrics.ts';
import { createAuthenticate, createGate } from './gate.ts';
import { registerHealth, type HealthCheck } from './health.ts';
import { createResourceHandler } from './resources.ts';

export interface AppOptions {
  runtime: Runtime;
  store: Store;
  authenticators: Authenticator[];
  authorizer: Authorizer;
  anonymous?: boolean;
  tls: { cert: string; key: string; ca?: string };
  logger?: boolean | object;
  version?: string;
  metrics?: Metrics;
  /**
   * Ask TLS clients for a certificate without letting OpenSSL reject it (kubegate verifies it: front-proxy CA or
   * client CA, per authenticator), and give authenticators `req.peerCertificate()`. Delegated mode needs it.
   */
  tlsRequestCert?: boolean;
  /** Per-user request rate limit (429 with Retry-After over it). */
  rateLimiter?: UserRateLimiter;
  /** More readiness checks (`/readyz`). */
  readyChecks?: HealthCheck[];
}

const JSON_TYPE = 'application/json';
const STORE_GRACE_MS = 30_000;
const OPEN_PATHS = new Set(['/healthz', '/livez', '/readyz']);

function sendStatus(reply: FastifyReply, err: unknown): FastifyReply {
  const status = toStatus(err);
  if (status.code === 500 && !(err instanceof KubeError))
    reply.log.error({ err, reqId: reply.request.id, url: reply.request.url.split('?')[0] }, 'unexpected error');
  if (status.details?.retryAfterSeconds) reply.header('retry-after', String(status.details.retryAfterSeconds));
  if (err instanceof KubeError && err.warnings) reply.header('warning', err.warnings);
  return reply.code(status.code).type(JSON_TYPE).send(JSON.stringify(status));
}

function isOpen(url: string): boolean {
  const p = url.split('?')[0] ?? '';
  const top = '/' + (p.split('/')[1] ?? '');
  return OPEN_PATHS.has(top);
}

/**
 * The HTTP server: HTTP/2 and HTTP/1.1 on one TLS port (ALPN), discovery/OpenAPI/health from memory, and the
 * resource handler for everything under /apis/G/V.
 */
export function buildApp(o: AppOptions): FastifyInstance {
  const app = Fastify({
    http2: true,
    https: {
      allowHTTP1: true,
      cert: o.tls.cert,
      key: o.tls.key,
      ...(o.tls.ca ? { ca: o.tls.ca } : {}),
      ...(o.tlsRequestCert ? { requestCert: true, rejectUnauthorized: false } : {}),
    },
    ...(o.logger && typeof o.logger === 'object' && 'child' in o.logger
      ? { loggerInstance: o.logger }
      : { logger: o.logger ?? false }),
    // Per-request logging would cost more than serving a GET; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // No child logger per request (pino's child with redaction costs more than a GET); errors are logged with
    // the request id explicitly.
    childLoggerFactory: (logger: unknown) => logger,
    // Kubernetes names may be up to 253 characters and proxied paths are long.
    routerOptions: { maxParamLength: 1024, ignoreTrailingSlash: true },
    return503OnClosing: true,
    // A path the router cannot decode (`%zz`, a lone `%`) is a 400 Status like any other malformed request.
    frameworkErrors: (err: { code?: string }, _req: FastifyRequest, reply: FastifyReply) =>
      sendStatus(
        reply,
        badRequest(err.code === 'FST_ERR_BAD_URL' ? 'the request path is not valid percent-encoding' : 'bad request'),
      ),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;

  const { runtime } = o;
  const discovery = buildDiscoveryDocuments(runtime.groupVersions);
  const openapi = buildOpenApiDocuments(runtime.groupVersions);
  const authenticate = createAuthenticate(o.authenticators, o.anonymous ?? false);
  const gate = createGate(authenticate, o.authorizer, o.rateLimiter);

  // Requests carry no bodies kubegate reads; accept any content type so write attempts reach the handler and
  // get a proper 405 Status instead of a parser error.
  app.removeAllContentTypeParsers();
  // Bodies are left unread: only the proxy subresource reads one, streaming it upstream after authorization.
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

  app.setErrorHandler((err, req, reply) => {
    const a = req.kubeAttrs;
    if (a && o.metrics) o.metrics.http(a.verb, a.resource ?? '', toStatus(err).code, reply.elapsedTime / 1000);
    const e = err as { statusCode?: number; message?: string };
    if (!(err instanceof KubeError) && e.statusCode && e.statusCode < 500)
      return sendStatus(
        reply,
        new KubeError(
          e.statusCode,
          e.statusCode === 413 ? 'RequestEntityTooLarge' : 'BadRequest',
          e.message ?? 'bad request',
        ),
      );
    return sendStatus(reply, err);
  });
  app.setNotFoundHandler(async (req, reply) => {
    // Credentials are checked before paths, as the apiserver does: a bad token is a 401 anywhere.
    if (!isOpen(req.url)) req.user ??= await authenticate(req);
    return sendStatus(reply, pathNotFound());
  });

  // Authenticators call req.peerCertificate() (a method: it reads the request it is called on).
  if (o.tlsRequestCert)
    app.decorateRequest('peerCertificate', function (this: FastifyRequest) {
      return peerCertificateOf(this.raw);
    });

  registerHealth(app, {
    livez: [],
    readyz: [
      {
        // Readiness follows the shared store only after a grace period: replicas keep serving their local
        // views through a short Redis outage instead of all leaving the Service at once.
        name: 'store',
        check: () => {
          const since = o.store.downSince?.();
          return since !== undefined && Date.now() - since > STORE_GRACE_MS ? 'store unreachable' : undefined;
        },
      },
      {
        name: 'poll-started',
        check: () => (runtime.health().every((h) => h.mirror?.started ?? true) ? undefined : 'first polls pending'),
      },
      ...(o.readyChecks ?? []),
    ],
  });

  const nonResource = (req: FastifyRequest) => gate(req, { verb: 'get', path: req.url.split('?')[0] ?? '/' });

  const metrics = o.metrics;
  if (metrics) {
    app.get('/metrics', async (req, reply) => {
      await nonResource(req);
      return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    });
  }

  app.get('/version', async (req, reply) => {
    await nonResource(req);
    return reply.type(JSON_TYPE).send({
      major: '0',
      minor: '1',
      gitVersion: `v${o.version ?? '0.1.0'}`,
      gitCommit: '',
      gitTreeState: 'clean',
      buildDate: '',
      goVersion: `node${process.versions.node}`,
      compiler: 'kubegate',
      platform: `${process.platform}/${process.arch}`,
    });
  });

  // Standalone clients also read /api (the core group); kubegate serves none of it. client-go tolerates 404.
  app.get('/api', async (req) => {
    await nonResource(req);
    throw pathNotFound();
  });

  const sendDoc = (
    req: FastifyRequest,
    reply: FastifyReply,
    doc: { body: Buffer; etag: string; contentType: string },
  ) => {
    reply.header('etag', doc.etag).header('vary', 'Accept').header('cache-control', 'public');
    if (req.headers['if-none-match'] === doc.etag) return reply.code(304).send();
    return reply.type(doc.contentType).send(doc.body);
  };

  // kubectl checks that the namespace exists after a NotFound in it (to say "namespaces x not found"
  // instead). Behind the aggregator the kube-apiserver answers that; standalone, kubegate keeps no namespace
  // registry, so every well-formed namespace exists (Active), as for a client reading a cluster's.
  app.get('/api/v1/namespaces/:name', async (req, reply) => {
    const { name } = req.params as { name: string };
    await gate(req, { verb: 'get', group: '', version: 'v1', resource: 'namespaces', name });
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name))
      throw badRequest(`namespace name "${name}" is not a valid DNS label`);
    return reply.type(JSON_TYPE).send({
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: {
        name,
        uid: objectUid('', 'Namespace', undefined, name),
        resourceVersion: '1',
        creationTimestamp: '1970-01-01T00:00:00Z',
      },
      spec: { finalizers: [] },
      status: { phase: 'Active' },
    });
  });

  app.get('/apis', async (req, reply) => {
    await nonResource(req);
    const kind = negotiateDiscovery(req.headers.accept);
    if (!kind)
      throw notAcceptable(
        'only application/json and aggregated discovery (apidiscovery.k8s.io v2, v2beta1) are served',
      );
    return sendDoc(
      req,
      reply,
      kind === 'legacy' ? discovery.groupList : kind === 'v2' ? discovery.v2 : discovery.v2beta1,
    );
  });

  app.get('/apis/:group', async (req, reply) => {
    await nonResource(req);
    const doc = discovery.groups.get((req.params as { group: string }).group);
    if (!doc) throw pathNotFound();
    return sendDoc(req, reply, doc);
  });

  app.get('/openapi/v2', async (req, reply) => {
    await nonResource(req);
    return sendDoc(req, reply, { ...openapi.v2, contentType: JSON_TYPE });
  });
  app.get('/openapi/v3', async (req, reply) => {
    await nonResource(req);
    return sendDoc(req, reply, { ...openapi.v3Root, contentType: JSON_TYPE });
  });
  app.get('/openapi/v3/*', async (req, reply) => {
    await nonResource(req);
    const key = (req.params as { '*': string })['*'].replace(/\/$/, '');
    const doc = openapi.v3.get(key);
    if (!doc) throw pathNotFound();
    const hash = (req.query as { hash?: string }).hash;
    const current = doc.etag.slice(1, -1).toUpperCase();
    // A matching ?hash= is immutable, as on the apiserver. A stale one is answered with the current document
    // rather than the apiserver's 301: the aggregator turns redirects from an extension server into 502s.
    if (hash !== undefined && hash.toUpperCase() === current) reply.header('cache-control', 'public, immutable');
    reply.header('etag', doc.etag);
    if (req.headers['if-none-match'] === doc.etag) return reply.code(304).send();
    return reply.type(JSON_TYPE).send(doc.body);
  });

  const resources = createResourceHandler(runtime, gate, (g, v) => discovery.resourceLists.get(`${g}/${v}`)?.body);
  // Metrics are recorded here and in the error handler rather than in an onResponse hook (cheaper per request).
  const handler = metrics
    ? async (req: FastifyRequest, reply: FastifyReply) => {
        const r = await resources(req, reply);
        const a = req.kubeAttrs;
        if (a) metrics.http(a.verb, a.resource ?? '', reply.statusCode, reply.elapsedTime / 1000);
        return r;
      }
    : resources;
  app.route({ method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/apis/:group/:version', handler });
  app.route({ method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/apis/:group/:version/*', handler });
  return app;
}
