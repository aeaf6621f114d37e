/**
 * The target of the `rel="next"` link of a `Link` header (RFC 8288), resolved against the request URL, or
 * undefined. Link values are `<uri>; param=value; ...` separated by commas; `rel` may list several relation
 * types (`rel="next last"`), quoted or not, and relation types compare case-insensitively.
 *
 * @example
 * nextLink('<https://api.example.com/repos?page=2>; rel="next", <...?page=5>; rel="last"', base); // page=2
 */
export function nextLink(header: string | null, base: string | URL): URL | undefined {
  if (!header) return undefined;
  // A URI reference cannot contain "<", ">" or a space unencoded, so it ends at the first ">".
  const re = /<([^>]*)>((?:\s*;\s*[^;,]*)*)/g;
  for (let m = re.exec(header); m; m = re.exec(header)) {
    const params = (m[2] ?? '').split(';').slice(1);
    for (const p of params) {
      const eq = p.indexOf('=');
      if (eq < 0 || p.slice(0, eq).trim().toLowerCase() !== 'rel') continue;
      const value = p
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
      if (value.toLowerCase().split(/\s+/).includes('next')) {
        try {
          return new URL(m[1] ?? '', base);
        } catch {
          return undefined;
        }
      }
    }
  }
  return undefined;
}
