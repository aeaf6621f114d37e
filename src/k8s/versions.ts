/**
 * Kubernetes version priority (docs/kubernetes-wire.md, "Versions"): GA before beta before alpha, higher
 * numbers first within each (v2, v1, v2beta1, v1beta2, v1beta1, v1alpha1); names that do not look like
 * Kubernetes versions come last, in alphabetical order. Discovery lists versions in this order and its first is
 * the preferred version, as the kube-apiserver does for CustomResourceDefinitions.
 */
const KUBE_VERSION = /^v([1-9][0-9]*)(?:(alpha|beta)([1-9][0-9]*))?$/;

function rank(v: string): [number, number, number] | undefined {
  const m = KUBE_VERSION.exec(v);
  if (!m) return undefined;
  const stability = m[2] === undefined ? 2 : m[2] === 'beta' ? 1 : 0;
  return [stability, Number(m[1]), m[3] === undefined ? 0 : Number(m[3])];
}

/** Negative when `a` has priority over `b` (sorts in discovery order). */
export function compareVersionPriority(a: string, b: string): number {
  const ra = rank(a);
  const rb = rank(b);
  if (!ra || !rb) return ra ? -1 : rb ? 1 : a < b ? -1 : a > b ? 1 : 0;
  for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return (rb[i] as number) - (ra[i] as number);
  return 0;
}

/**
 * The Warning text of a deprecated version when the adapter gives none, worded as the kube-apiserver words it
 * for a deprecated CustomResourceDefinition version: `<group>/<version> <Kind> is deprecated`, followed by
 * `; use <group>/<newer> <Kind>` naming the highest-priority served, non-deprecated version of higher
 * priority than the deprecated one, when there is one.
 */
export function defaultDeprecationWarning(
  group: string,
  kind: string,
  deprecated: string,
  versions: readonly { name: string; served: boolean; deprecated: boolean }[],
): string {
  const msg = `${group}/${deprecated} ${kind} is deprecated`;
  const newer = versions
    .filter((v) => v.served && !v.deprecated && compareVersionPriority(v.name, deprecated) < 0)
    .map((v) => v.name)
    .sort(compareVersionPriority)[0];
  return newer === undefined ? msg : `${msg}; use ${group}/${newer} ${kind}`;
}
