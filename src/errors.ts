/**
 * The base of every error kubegate defines. Each subclass has a constant `name` and a stable `code` that
 * callers and tests can match on instead of message texts: a `KUBEGATE_*` string, except for errors answered to
 * clients, {@link KubeError}s (src/k8s/errors.ts), whose code is the Kubernetes Status code (404, 410, ...).
 * `toStatus` there turns anything thrown into a Status.
 *
 * @example
 * class LeaseLostError extends KubegateError {
 *   override name = 'LeaseLostError';
 *   override readonly code: string = 'KUBEGATE_LEASE_LOST';
 * }
 */
export class KubegateError extends Error {
  override name = 'KubegateError';
  readonly code: string | number = 'KUBEGATE_ERROR';
}
