import type { DetailedPeerCertificate } from 'node:tls';

/** The authenticated user, as the kube-apiserver describes it (user.Info). */
export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** What a request asks to do (authorizer.Attributes). */
export interface RequestAttributes {
  verb: string;
  /** Resource requests. */
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  /** Non-resource requests (discovery, /metrics, /openapi). */
  path?: string;
}

export interface Decision {
  allowed: boolean;
  reason?: string;
}

/**
 * What an authenticator may read from a request. A fastify request satisfies it as is: `headers`, and `raw`
 * (whose `rawHeaders` keeps repeated headers apart, which `headers` joins with ", "). `peerCertificate` is
 * present only when the server asks for client certificates (`AppOptions.tlsRequestCert`); call it as a method
 * (`req.peerCertificate?.()`), it may read the request it belongs to.
 */
export interface AuthenticationRequest {
  headers: Record<string, string | string[] | undefined>;
  /** The TLS client certificate with its chain as sent (`getPeerCertificate(true)`), undefined when none. */
  peerCertificate?: () => DetailedPeerCertificate | undefined;
  /** The Node request; `rawHeaders` is `[name, value, name, value, ...]` exactly as received. */
  raw?: { rawHeaders?: string[] };
}

/**
 * Reads credentials from a request. Returns null when it carries none this authenticator understands; throws
 * when it carries credentials that fail verification (the server answers 401, never falls through to anonymous).
 */
export interface Authenticator {
  authenticate(req: AuthenticationRequest): Promise<UserInfo | null>;
}

export interface Authorizer {
  authorize(user: UserInfo, attrs: RequestAttributes): Promise<Decision>;
}

/** Every authenticated user is in `system:authenticated` (the aggregator's probes arrive with no groups). */
export function withAuthenticatedGroup(u: UserInfo): UserInfo {
  return u.groups.includes('system:authenticated') ? u : { ...u, groups: [...u.groups, 'system:authenticated'] };
}

/** The kube-apiserver's Forbidden wording, which kubectl users recognise. */
export function forbiddenMessage(user: UserInfo, a: RequestAttributes, reason?: string): string {
  const suffix = reason ? `: ${reason}` : '';
  if (!a.resource) return `forbidden: User "${user.name}" cannot ${a.verb} path "${a.path ?? '/'}"${suffix}`;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const qualified = a.group ? `${a.resource}.${a.group}` : a.resource;
  const subject = a.name ? `${qualified} "${a.name}"` : qualified;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return `${subject} is forbidden: User "${user.name}" cannot ${a.verb} resource "${res}" in API group "${a.group ?? ''}" ${scope}${suffix}`;
}
