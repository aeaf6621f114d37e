import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Authenticator, Authorizer } from '../auth/types.ts';
import { peerCertificateOf } from '../auth/peer.ts';
import type { UserRateLimiter } from '../auth/ratelimit.ts';
import { buildDiscoveryDocuments } from '../k8s/discovery.ts';
import { buildOpenApiDocuments } from '../k8s/openapi.ts';
import type { Runtime } from '../resources/runtime.ts';
import type { Store } from '../store/types.ts';
import type { Metrics } from '../observability/metrics.ts';
import { coreRoutes, metricsRoutes } from './core.ts';
import { discoveryRoutes, openapiRoutes } from './documents.ts';
import { createAuthenticate, createGate, nonResourceGate } from './gate.ts';
import { healthRoutes, type HealthCheck } from './health.ts';
import { createHttpServer, type KubegateApp } from './http.ts';
import { resourceRoutes } from './resources.ts';
import { installStatusHandlers, isOpen } from './status.ts';
import { createFailureLog } from '../auth/failures.ts';
import { registerBodyPolicy } from './body.ts';
import { createEdge, type RequestListener } from './edge.ts';
import type { ServerLimits } from './limits.ts';
import { createWatchAdmission, DEFAULT_WATCH_LIMITS, type WatchLimits } from './watch-limits.ts';

export type { KubegateApp } from './http.ts';

export interface AppOptions {
  runtime: Runtime;
  store: Store;
  authenticators: Authenticator[];
  authorizer: Authorizer;
  anonymous?: boolean;
  tls: { cert: string; key: string; ca?: string };
  logger?: boolean | Logger;
  version?: string;
  metrics?: Metrics;
  /**
   * Ask TLS clients for a certificate without letting OpenSSL reject it (kubegate verifies it: front-proxy CA or
   * client CA, per authenticator), and give authenticators `req.peerCertificate()`. Delegated mode needs it.
   */
  tlsRequestCert?: boolean;
  /** Per-user request rate limit (429 with Retry-After over it). */
  rateLimiter?: UserRateLimiter;
  /** Watches per user and in total, and each HTTP/2 connection's watch budget (defaults: `DEFAULT_WATCH_LIMITS`). */
  watchLimits?: Partial<WatchLimits>;
  /** Timeouts and HTTP/2 settings (defaults: `DEFAULT_LIMITS`). */
  limits?: Partial<ServerLimits>;
  /** Receives front-proxy authentication's "headers not trusted because" reasons (wired to the failure log). */
  untrusted?: { reason?: (why: string) => void };
  /** The audit log, in front of the edge (src/audit): sees every request, refused ones included. */
  audit?: (next: RequestListener) => RequestListener;
  /** More readiness checks (`/readyz`). */
  readyChecks?: HealthCheck[];
  now?: () => number;
}

/** How long the shared store may be unreachable before this replica reports itself not ready. */
const STORE_GRACE_MS = 30_000;

/** Readiness: the shared store (after a grace period) and the first polls. */
function readinessChecks(o: AppOptions): HealthCheck[] {
  const now = o.now ?? Date.now;
  return [
    {
      // Readiness follows the shared store only after a grace period: replicas keep serving their local
      // views through a short Redis outage instead of all leaving the Service at once.
      name: 'store',
      check: () => {
        const since = o.store.downSince?.();
        return since !== undefined && now() - since > STORE_GRACE_MS ? 'store unreachable' : undefined;
      },
    },
    {
      name: 'poll-started',
      check: () => (o.runtime.health().every((h) => h.mirror?.started ?? true) ? undefined : 'first polls pending'),
    },
    ...(o.readyChecks ?? []),
  ];
}

/**
 * The HTTP server: HTTP/2 and HTTP/1.1 on one TLS port (ALPN), one fastify plugin per route family (health,
 * metrics, core, discovery, OpenAPI, resources); see docs/architecture.md, "Parts".
 */
export function buildApp(o: AppOptions): KubegateApp {
  // Authentication failures are reported through the app's logger, made with the app; requests come later.
  const failures = createFailureLog((msg, extra) => app.log.warn(extra, msg));
  if (o.untrusted) o.untrusted.reason = (why) => failures.record('front-proxy headers not trusted', why);
  const authenticate = createAuthenticate(o.authenticators, o.anonymous ?? false, failures);
  const edge = createEdge({ authenticate, isOpen });
  const audit = o.audit;
  const app = createHttpServer({ ...o, edge: audit ? (next) => audit(edge(next)) : edge });
  const { runtime, metrics } = o;
  const discovery = buildDiscoveryDocuments(runtime.groupVersions);
  const gate = createGate(authenticate, o.authorizer, o.rateLimiter, failures);
  const nonResource = nonResourceGate(gate);

  registerBodyPolicy(app);
  installStatusHandlers(app, { authenticate, metrics });
  // Authenticators call req.peerCertificate() (a method: it reads the request it is called on).
  if (o.tlsRequestCert)
    app.decorateRequest('peerCertificate', function (this: FastifyRequest) {
      return peerCertificateOf(this.raw);
    });

  void app.register(healthRoutes, { livez: [], readyz: readinessChecks(o) });
  if (metrics) void app.register(metricsRoutes, { nonResource, metrics });
  void app.register(coreRoutes, { gate, nonResource, version: o.version ?? '0.1.0' });
  void app.register(discoveryRoutes, { gate: nonResource, docs: discovery });
  void app.register(openapiRoutes, { gate: nonResource, docs: buildOpenApiDocuments(runtime.groupVersions) });
  void app.register(resourceRoutes, {
    registry: runtime,
    gate,
    discoveryFor: (g, v) => discovery.resourceLists.get(`${g}/${v}`)?.body,
    metrics,
    watches: createWatchAdmission({ ...DEFAULT_WATCH_LIMITS, ...o.watchLimits }, (reason) =>
      metrics?.watchRejected(reason),
    ),
  });
  return app;
}
