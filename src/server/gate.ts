import { forbidden, serviceUnavailable, unauthorized } from '../k8s/errors.ts';
import type { Authenticator, Authorizer, RequestAttributes, UserInfo } from '../auth/types.ts';
import { forbiddenMessage, withAuthenticatedGroup } from '../auth/types.ts';
import { enforceUserRate, type UserRateLimiter } from '../auth/ratelimit.ts';
import type { KubegateRequest } from './http.ts';

declare module 'fastify' {
  interface FastifyRequest {
    user?: UserInfo;
    /** What the request asked for (set by the gate; read by metrics and logs). */
    kubeAttrs?: RequestAttributes;
  }
}

/** Authorizes the request's user for `attrs`; throws 401/403/503 Status errors. */
export type Gate = (req: KubegateRequest, attrs: RequestAttributes) => Promise<void>;

/** The gate of a non-resource path (`/apis`, `/openapi/...`, `/metrics`): verb `get` on the path. */
export type NonResourceGate = (req: KubegateRequest) => Promise<void>;

export function nonResourceGate(gate: Gate): NonResourceGate {
  return (req) => gate(req, { verb: 'get', path: req.url.split('?')[0] ?? '/' });
}

export const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

/** Authentication: the first authenticator that recognises credentials wins. */
export function createAuthenticate(authenticators: Authenticator[], anonymous: boolean) {
  return async (req: KubegateRequest): Promise<UserInfo> => {
    for (const a of authenticators) {
      let u: UserInfo | null;
      try {
        u = await a.authenticate(req);
      } catch {
        // A credential that fails verification is a 401, never a fall-through to anonymous.
        throw unauthorized();
      }
      if (u) return withAuthenticatedGroup(u);
    }
    if (anonymous) return ANONYMOUS;
    throw unauthorized();
  };
}

/**
 * The gate every non-health route goes through: authenticate (once per request), then authorize `attrs`.
 * Done in the handler rather than an onRequest hook: a hook costs more per request than the GET it guards.
 */
export function createGate(
  authenticate: (req: KubegateRequest) => Promise<UserInfo>,
  authorizer: Authorizer,
  limiter?: UserRateLimiter,
): Gate {
  return async (req, attrs) => {
    let user = req.user;
    if (!user) {
      user = req.user = await authenticate(req);
      // Per user, once per request: one noisy client cannot use up an upstream's quota for everyone.
      if (limiter) enforceUserRate(limiter, user);
    }
    req.kubeAttrs = attrs;
    let allowed: boolean;
    let reason: string | undefined;
    try {
      ({ allowed, reason } = await authorizer.authorize(user, attrs));
    } catch (err) {
      // Fail closed, but as "try again" rather than a server bug.
      throw serviceUnavailable(`authorization unavailable: ${err instanceof Error ? err.message : String(err)}`, 1);
    }
    if (!allowed) throw forbidden(forbiddenMessage(user, attrs, reason), attrs.resource, attrs.group, attrs.name);
  };
}
