/**
 * Kubernetes names for payment ids, and namespaces for teams.
 *
 * Ids such as `ch_3MmlLrLkdIwHu7ix0snN0B15` are case-sensitive, but a Kubernetes name is lower case
 * (a DNS subdomain), so lower-casing would merge distinct charges and lose the id `get` must ask for.
 * The mapping keeps the readable shape and is reversible:
 *
 *   `<prefix>_<rest>`  →  `<prefix>-<rest with every upper-case letter X written as "-x">`
 *   `ch_3MmlLrLkdIwHu7ix0snN0B15`  →  `ch-3-mml-lr-lkd-iw-hu7ix0sn-n0-b15`
 *
 * The prefix is lower-case letters, and the rest letters and digits, so in the name the first `-` ends the
 * prefix and every later `-` escapes the letter after it: decoding is unambiguous, and an id that is
 * already lower case keeps its characters. A name always starts with a letter and ends with a letter or
 * digit, so it is a valid DNS subdomain (and a DNS label up to 63 characters). Hex or base32 of the id
 * would be as reversible but unreadable, and nobody could match a name to the dashboard by eye.
 */

const ID = /^([a-z]+)_([A-Za-z0-9]+)$/;
const NAME = /^([a-z]+)-((?:[a-z0-9]|-[a-z])+)$/;

/** Every name idToName makes matches this, and no other name maps to an id (the resource's namePattern). */
export const CHARGE_NAME = NAME;
const MAX_NAME = 253;

/**
 * The Kubernetes name of an upstream id, or undefined when the id does not have the `prefix_alnum` shape
 * (or would be too long).
 *
 * @example
 * idToName('ch_3MmlLrLkdIwHu7ix0snN0B15'); // 'ch-3-mml-lr-lkd-iw-hu7ix0sn-n0-b15'
 */
export function idToName(id: string): string | undefined {
  const m = ID.exec(id);
  if (!m) return undefined;
  const name = `${m[1] ?? ''}-${(m[2] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  return name.length <= MAX_NAME ? name : undefined;
}

/**
 * The upstream id of a Kubernetes name made by idToName, or undefined when no id maps to this name
 * (so the caller can answer NotFound without asking the upstream).
 *
 * @example
 * nameToId('ch-3-mml-lr-lkd-iw-hu7ix0sn-n0-b15'); // 'ch_3MmlLrLkdIwHu7ix0snN0B15'
 */
export function nameToId(name: string): string | undefined {
  const m = NAME.exec(name);
  if (!m || name.length > MAX_NAME) return undefined;
  return `${m[1] ?? ''}_${(m[2] ?? '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())}`;
}

/**
 * The namespace of a team name: lower-cased, runs of other characters turned into `-`, trimmed to a
 * DNS label; `fallback` when nothing is left. Distinct spellings of one team ("Mobile Apps",
 * "mobile-apps") share a namespace on purpose: people type team names inconsistently.
 *
 * @example
 * teamNamespace('Mobile Apps', 'default'); // 'mobile-apps'
 * teamNamespace(undefined, 'default');     // 'default'
 */
export function teamNamespace(team: string | undefined, fallback: string): string {
  const ns = (team ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return ns || fallback;
}
