import type { AuthenticationRequest, UserInfo } from '../auth/types.ts';
import { KubeError, pathNotFound, reasonForCode, toStatus } from '../k8s/errors.ts';
import { requestUser } from './gate.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { KubegateApp, KubegateReply } from './http.ts';
import { auditStatus } from '../audit/recorder.ts';

const JSON_TYPE = 'application/json';
/** Paths answered without credentials (probes). */
const OPEN_PATHS = new Set(['/healthz', '/livez', '/readyz']);

/** Answers with the Status of `err` (docs/kubernetes-wire.md, "Errors"); unexpected errors are logged once. */
export function sendStatus(reply: KubegateReply, err: unknown): KubegateReply {
  const status = toStatus(err);
  const unexpected = status.code === 500 && !(err instanceof KubeError);
  auditStatus(reply.request.raw, status, unexpected);
  if (unexpected)
    reply.log.error({ err, reqId: reply.request.id, url: reply.request.url.split('?')[0] }, 'unexpected error');
  if (status.details?.retryAfterSeconds) reply.header('retry-after', String(status.details.retryAfterSeconds));
  if (err instanceof KubeError && err.warnings) addWarnings(reply, err.warnings);
  return reply.code(status.code).type(JSON_TYPE).send(JSON.stringify(status));
}

/** Adds `Warning` header values after those already set (a deprecated version's comes first). */
export function addWarnings(reply: KubegateReply, values: readonly string[]): void {
  const had = reply.getHeader('warning');
  const before = had === undefined ? [] : Array.isArray(had) ? had : [String(had)];
  reply.header('warning', [...before, ...values]);
}

/** Health probes (`/healthz`, `/livez`, `/readyz` and their checks) answer without credentials. */
export function isOpen(url: string): boolean {
  const p = url.split('?')[0] ?? '';
  return OPEN_PATHS.has('/' + (p.split('/')[1] ?? ''));
}

/**
 * Every error becomes a Status: fastify's own (body too large, bad content) keep their 4xx code; unknown paths
 * are 404 after authentication, as on the apiserver (a bad token is a 401 anywhere).
 */
export function installStatusHandlers(
  app: KubegateApp,
  o: { authenticate: (req: AuthenticationRequest) => Promise<UserInfo>; metrics?: Metrics | undefined },
): void {
  app.setErrorHandler((err, req, reply) => {
    const a = req.kubeAttrs;
    if (a && o.metrics) o.metrics.http(a.verb, a.resource ?? '', toStatus(err).code, reply.elapsedTime / 1000);
    const e = err as { statusCode?: number; message?: string };
    if (!(err instanceof KubeError) && e.statusCode && e.statusCode < 500) {
      return sendStatus(reply, new KubeError(e.statusCode, reasonForCode(e.statusCode), e.message ?? 'bad request'));
    }
    return sendStatus(reply, err);
  });
  app.setNotFoundHandler(async (req, reply) => {
    if (!isOpen(req.url)) req.user = await requestUser(req, o.authenticate);
    return sendStatus(reply, pathNotFound());
  });
}
