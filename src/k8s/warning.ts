import { maskSecrets } from '../observability/mask.ts';

/**
 * `Warning` response headers (RFC 7234 style, code 299), which kubectl prints as `Warning: <text>`.
 * The text is kept to 256 characters like the apiserver's, and quotes/backslashes are replaced so the header
 * stays one quoted string; declared secrets are masked and control characters (which a header cannot carry) become spaces.
 */
export function warningHeader(text: string): string {
  return `299 - "${maskSecrets(text)
    .replace(/["\\]/g, "'")
    // Control characters are what this replaces: a header cannot carry them (CR/LF would split it).
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x1f\x7f]/g, ' ')
    .slice(0, 256)}"`;
}

/** A short age: 42s, 5m, 3h. */
export function shortAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

/** The Warning of data served while its upstream fails. */
export function staleDataWarning(adapter: string, cause: string, ageMs: number): string {
  return warningHeader(`${adapter}: upstream unavailable (${cause}), serving data from ${shortAge(ageMs)} ago`);
}
