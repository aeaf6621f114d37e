import { forbidden, serviceUnavailable, unauthorized } from '../k8s/errors.ts';
import type { AuthenticationRequest, Authenticator, Authorizer, RequestAttributes, UserInfo } from '../auth/types.ts';
import type { FailureLog } from '../auth/failures.ts';
import { edgeUser } from './edge.ts';
import { forbiddenMessage, withAuthenticatedGroup } from '../auth/types.ts';
import { enforceUserRate, type UserRateLimiter } from '../auth/ratelimit.ts';
import type { KubegateRequest } from './http.ts';
import { auditDecision, auditRequest } from '../audit/recorder.ts';

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

/**
 * Authentication: the first authenticator that recognises credentials wins. Failures are answered with a bare
 * 401 (the client learns nothing), and their cause goes to `failures` (rate-limited, never the credential).
 */
export function createAuthenticate(authenticators: Authenticator[], anonymous: boolean, failures?: FailureLog) {
  // Authenticators hand out the same UserInfo for a cached credential; so does this, with the group added, so that
  // what is derived from a user (the audit's JSON of it) can be kept per user rather than redone per request.
  const grouped = new WeakMap<UserInfo, UserInfo>();
  const withGroup = (u: UserInfo): UserInfo => {
    let g = grouped.get(u);
    if (g === undefined) grouped.set(u, (g = withAuthenticatedGroup(u)));
    return g;
  };
  return async (req: AuthenticationRequest): Promise<UserInfo> => {
    for (const a of authenticators) {
      let u: UserInfo | null;
      try {
        u = await a.authenticate(req);
      } catch (err) {
        // A credential that fails verification is a 401, never a fall-through to anonymous.
        failures?.record('authentication failed', err instanceof Error ? err.message : 'credential rejected');
        throw unauthorized();
      }
      if (u) return u.groups.includes('system:authenticated') ? u : withGroup(u);
    }
    if (anonymous) return ANONYMOUS;
    failures?.record('authentication failed', 'no credentials kubegate accepts (bearer token or client certificate)');
    throw unauthorized();
  };
}

/** The user of a request: the one the edge authenticated, else (fastify's inject()) authenticated now. */
export async function requestUser(
  req: KubegateRequest,
  authenticate: (req: AuthenticationRequest) => Promise<UserInfo>,
): Promise<UserInfo> {
  return req.user ?? edgeUser(req.raw) ?? (await authenticate(req));
}

/** What a client is told when the authorizer cannot decide; the cause goes to the failure log only. */
export const AUTHORIZATION_UNAVAILABLE = 'authorization is unavailable: the SubjectAccessReview failed; retry later';

/**
 * The gate every non-health route goes through: authenticate (once per request), then authorize `attrs`.
 * Done in the handler rather than an onRequest hook: a hook costs more per request than the GET it guards.
 * When the authorizer fails, the client gets a fixed 503 and the cause goes to `failures` (once per cause per
 * interval).
 */
export function createGate(
  authenticate: (req: AuthenticationRequest) => Promise<UserInfo>,
  authorizer: Authorizer,
  limiter?: UserRateLimiter,
  failures?: FailureLog,
): Gate {
  return async (req, attrs) => {
    let user = req.user;
    if (!user) {
      user = req.user = await requestUser(req, authenticate);
      // Per user, once per request: one noisy client cannot use up an upstream's quota for everyone.
      if (limiter) enforceUserRate(limiter, user);
    }
    req.kubeAttrs = attrs;
    auditRequest(req, user, attrs);
    let allowed: boolean;
    let reason: string | undefined;
    try {
      ({ allowed, reason } = await authorizer.authorize(user, attrs));
    } catch (err) {
      // Fail closed, but as "try again" rather than a server bug; the client learns nothing of the cause.
      failures?.record('authorization unavailable', err instanceof Error ? err.message : 'the authorizer failed');
      throw serviceUnavailable(AUTHORIZATION_UNAVAILABLE, 1);
    }
    auditDecision(req.raw, allowed, reason);
    if (!allowed) throw forbidden(forbiddenMessage(user, attrs, reason), attrs.resource, attrs.group, attrs.name);
  };
}
