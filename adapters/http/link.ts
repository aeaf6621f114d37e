/**
 * The target of the `rel="next"` link of a `Link` header (RFC 8288), resolved against the request URL, or
 * undefined. Link values are `<uri>; param=value; ...` separated by commas; parameter values may be quoted
 * strings (which can hold commas and semicolons); `rel` may list several relation types (`rel="prev next"`),
 * and relation types compare case-insensitively.
 *
 * @example
 * nextLink('<https://api.example.com/repos?page=2>; rel="next", <...?page=5>; rel="last"', base); // page=2
 */
export function nextLink(header: string | null, base: string | URL): URL | undefined {
  if (!header) return undefined;
  let i = 0;
  const n = header.length;
  while (i < n) {
    const open = header.indexOf('<', i);
    if (open < 0) return undefined;
    // A URI reference cannot hold ">" unencoded, so it ends at the first one.
    const close = header.indexOf('>', open + 1);
    if (close < 0) return undefined;
    const target = header.slice(open + 1, close);
    i = close + 1;
    // Parameters up to the next comma outside a quoted string.
    let params = '';
    let quoted = false;
    for (; i < n; i++) {
      const c = header[i];
      if (c === '\\' && quoted) {
        params += header.slice(i, i + 2);
        i++;
        continue;
      }
      if (c === '"') quoted = !quoted;
      else if (c === ',' && !quoted) break;
      params += c ?? '';
    }
    i++;
    if (relations(params).includes('next')) {
      try {
        return new URL(target, base);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** The relation types of one link's parameters (`; title="a; b"; rel="prev next"` → ['prev', 'next']). */
function relations(params: string): string[] {
  const re = /;\s*([A-Za-z0-9!#$&+.^_`|~-]+\*?)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^;]*))?/g;
  for (let m = re.exec(params); m; m = re.exec(params)) {
    if (m[1]?.toLowerCase() !== 'rel') continue;
    const v = (m[2] ?? '').trim().replace(/^"(.*)"$/s, '$1');
    return v.toLowerCase().split(/\s+/);
  }
  return [];
}
