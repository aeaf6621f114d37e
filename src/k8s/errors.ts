import { KubegateError } from '../errors.ts';
import { maskSecrets } from '../observability/mask.ts';

/**
 * Kubernetes Status errors. Every error kubegate answers with is a {@link KubeError}; {@link toStatus}
 * turns anything thrown into the `Status` object the Kubernetes wire expects (docs/kubernetes-wire.md, "Errors").
 */

export interface StatusDetails {
  name?: string;
  group?: string;
  /** The resource (plural), as the real apiserver puts it here. */
  kind?: string;
  causes?: { reason?: string; message?: string; field?: string }[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: StatusDetails;
  code: number;
}

/**
 * An error answered to the client as a Status: `code` is the Status code (the HTTP status) and `reason` the
 * Status reason, both stable per kind of error. Made by the helpers below.
 */
export class KubeError extends KubegateError {
  override name = 'KubeError';
  override readonly code: number;
  readonly reason: string;
  readonly details: StatusDetails | undefined;
  /** Warning header values to send with the Status (e.g. why an object the upstream has is not served). */
  warnings: string[] | undefined;
  constructor(code: number, reason: string, message: string, details?: StatusDetails) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }
}

/** The qualified resource as kubectl prints it: `forecasts.weather.example.com` (core group: `pods`). */
export function qualifiedResource(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export const notFound = (resource: string, group: string, name: string): KubeError =>
  new KubeError(404, 'NotFound', `${qualifiedResource(resource, group)} "${name}" not found`, {
    name,
    group,
    kind: resource,
  });

/** 404 for a path that names no resource (unknown group, version or resource). */
export const pathNotFound = (message = 'the server could not find the requested resource'): KubeError =>
  new KubeError(404, 'NotFound', message, {});

export const badRequest = (message: string): KubeError => new KubeError(400, 'BadRequest', message);

export const invalid = (message: string, field?: string): KubeError =>
  new KubeError(422, 'Invalid', message, field ? { causes: [{ reason: 'FieldValueInvalid', message, field }] } : {});

export const expired = (message: string): KubeError => new KubeError(410, 'Expired', message);

export const gone = (message: string): KubeError => new KubeError(410, 'Gone', message);

export const notAcceptable = (message: string): KubeError => new KubeError(406, 'NotAcceptable', message);

export const unsupportedMediaType = (message: string): KubeError => new KubeError(415, 'UnsupportedMediaType', message);

export const methodNotAllowed = (
  verb: string,
  resource: string,
  group: string,
  why = 'kubegate serves external data read-only',
): KubeError =>
  new KubeError(405, 'MethodNotAllowed', `${verb} is not supported on ${qualifiedResource(resource, group)}: ${why}`, {
    group,
    kind: resource,
  });

export const unauthorized = (message = 'Unauthorized'): KubeError => new KubeError(401, 'Unauthorized', message);

/** The message shape kubectl users know: `User "bob" cannot list resource "forecasts" in API group "g" ...`. */
export const forbidden = (message: string, resource?: string, group?: string, name?: string): KubeError =>
  new KubeError(403, 'Forbidden', message, {
    ...(name !== undefined ? { name } : {}),
    ...(group !== undefined ? { group } : {}),
    ...(resource !== undefined ? { kind: resource } : {}),
  });

export const tooManyRequests = (message: string, retryAfterSeconds: number): KubeError =>
  new KubeError(429, 'TooManyRequests', message, { retryAfterSeconds });

export const serviceUnavailable = (message: string, retryAfterSeconds?: number): KubeError =>
  new KubeError(503, 'ServiceUnavailable', message, retryAfterSeconds ? { retryAfterSeconds } : {});

/** Retry-After of every "upstream unavailable" answer when the resource names no interval of its own. */
export const UPSTREAM_RETRY_MS = 5000;

/**
 * 503 for a resource whose upstream cannot answer, in one wording everywhere (lists, gets, watches, proxy):
 * `<adapter>: upstream unavailable for <resource>: <cause>`, or, when nothing was ever fetched,
 * `<adapter>: no data for <resource> yet: upstream unavailable: <cause>`. Retry-After is when kubegate next
 * tries the upstream itself (`retryAfterMs`: a mirror's poll interval), 1 to 60 seconds.
 */
export function upstreamUnavailable(
  adapter: string,
  resource: string,
  cause: string,
  o: { retryAfterMs?: number; noDataYet?: boolean } = {},
): KubeError {
  const seconds = Math.min(60, Math.max(1, Math.ceil((o.retryAfterMs ?? UPSTREAM_RETRY_MS) / 1000)));
  const what = o.noDataYet
    ? `no data for ${resource} yet: upstream unavailable`
    : `upstream unavailable for ${resource}`;
  return serviceUnavailable(`${adapter}: ${what}: ${cause}`, seconds);
}

/** 504 Timeout; `cause` e.g. `ResourceVersionTooLarge` (what reflectors look for). */
export const timeout = (message: string, causeReason?: string): KubeError =>
  new KubeError(504, 'Timeout', message, causeReason ? { causes: [{ reason: causeReason, message }] } : {});

export const internal = (message: string): KubeError => new KubeError(500, 'InternalError', message);

/** The Status reason for an HTTP error code that arises outside kubegate's handlers (the HTTP layer). */
export function reasonForCode(code: number): string {
  switch (code) {
    case 401:
      return 'Unauthorized';
    case 404:
      return 'NotFound';
    case 405:
      return 'MethodNotAllowed';
    case 406:
      return 'NotAcceptable';
    case 408:
      return 'Timeout';
    case 413:
      return 'RequestEntityTooLarge';
    case 415:
      return 'UnsupportedMediaType';
    case 429:
      return 'TooManyRequests';
    default:
      return 'BadRequest';
  }
}

/**
 * Turns anything thrown into a Status. Unknown errors become 500 without leaking their text; declared secrets
 * are masked in every message.
 */
export function toStatus(err: unknown): Status {
  if (err instanceof KubeError) {
    const s: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: maskSecrets(err.message),
      reason: err.reason,
      code: err.code,
    };
    if (err.details && Object.keys(err.details).length > 0) s.details = err.details;
    return s;
  }
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'Internal error occurred: unexpected server error',
    reason: 'InternalError',
    code: 500,
  };
}
