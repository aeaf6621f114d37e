/** A DNS subdomain (RFC 1123), the rule for the names of objects kubegate serves (see object.ts). */
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A DNS label (RFC 1123), the rule for namespace names. */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * False when no object of the resource can be called `name` in `namespace`: the name is not a DNS subdomain
 * (every served object's name is one), the namespace is not a DNS label, or the name fails the resource's
 * declared pattern. Such lookups are answered NotFound without touching the cache or the upstream.
 *
 * @example
 * couldExist('default', 'ch-3-mml', /^ch-/); // true
 * couldExist('default', 'CH_3MML', undefined); // false: not a DNS subdomain
 */
export function couldExist(namespace: string | undefined, name: string, pattern: RegExp | undefined): boolean {
  if (name.length === 0 || name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) return false;
  if (namespace !== undefined && !DNS1123_LABEL.test(namespace)) return false;
  return pattern === undefined || pattern.test(name);
}
