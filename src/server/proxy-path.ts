import { badRequest } from '../k8s/errors.ts';

/**
 * What a proxy path segment may hold once percent-decoded: RFC 3986 unreserved characters and the sub-delims
 * an upstream cannot read as structure (no `;` path parameters), plus `:` and `@`. Everything else — `%` (a
 * second layer of encoding), `/` and `\` inside a segment, `#`, `?`, spaces, control and non-ASCII characters
 * (which some servers fold into dots or slashes) — is refused rather than guessed at.
 */
const SEGMENT = /^[A-Za-z0-9\-._~!$&'()*+,=:@]+$/;
/** Characters allowed in the raw (still encoded) path: the segment set, `/` and percent escapes. */
const RAW = /^[A-Za-z0-9\-._~!$&'()*+,=:@/%]*$/;

export interface ProxyRequestUrl {
  /** The URL sent upstream, built once: origin of the base URL, canonical path, allowed query only. */
  url: URL;
  /** The canonical sub-path below the target (`''` or `/a/b`), for the adapter's allow list. */
  sub: string;
}

/** Decoded, checked segments of `path` (which starts with `/`); throws a 400 naming `what` otherwise. */
function segments(path: string, what: string): string[] {
  if (!RAW.test(path))
    throw badRequest(
      `${what} may only contain letters, digits, "-._~!$&'()*+,=:@", "/" and percent escapes of them (no "#", "?", ";", "\\", spaces or control characters)`,
    );
  if (!path.startsWith('/')) throw badRequest(`${what} must start with "/"`);
  return path
    .slice(1)
    .split('/')
    .map((raw) => {
      let s: string;
      try {
        s = decodeURIComponent(raw);
      } catch {
        throw badRequest(`${what} is not valid percent-encoding`);
      }
      if (s === '') throw badRequest(`${what} may not contain empty segments ("//")`);
      if (s === '.' || s === '..') throw badRequest(`${what} may not contain "." or ".." segments, in any encoding`);
      if (!SEGMENT.test(s))
        throw badRequest(
          `${what} may not encode "%", "/", "\\", ";", "#", "?", spaces, control or non-ASCII characters`,
        );
      return s;
    });
}

/**
 * Builds the one URL a proxied call is sent to and judges that URL: `<base path><target><rest>` with every
 * segment percent-decoded once and checked ({@link SEGMENT}), re-joined, parsed by the WHATWG URL parser (the
 * one the HTTP client uses), and refused unless the parsed path is exactly the checked one on the base URL's
 * origin. `rest` is the raw path after `/proxy`, `query` the raw query string (without `?`); only parameters
 * named in `allowedQuery` pass, anything else is a 400 naming it.
 */
export function proxyRequestUrl(
  baseUrl: string,
  target: string,
  rest: string,
  query: string,
  allowedQuery: readonly string[],
): ProxyRequestUrl {
  const base = new URL(baseUrl);
  const basePath = base.pathname.replace(/\/+$/, '');
  const targetSegments = segments(target, "the object's proxy target");
  const sub = rest === '' || rest === '/' ? '' : `/${segments(rest, 'proxy path').join('/')}`;
  const path = `${basePath}/${targetSegments.join('/')}${sub}`;
  const url = new URL(path, base.origin);
  if (url.origin !== base.origin || url.pathname !== path)
    throw badRequest("proxy path does not stay below the object's path on the adapter's upstream");
  const params = new URLSearchParams(query);
  const refused = [...new Set(params.keys())].filter((k) => !allowedQuery.includes(k));
  if (refused.length > 0)
    throw badRequest(
      `proxy query parameter${refused.length > 1 ? 's' : ''} ${refused.map((k) => JSON.stringify(k)).join(', ')} ` +
        `not allowed by the adapter (allowed: ${allowedQuery.length > 0 ? allowedQuery.join(', ') : 'none'})`,
    );
  url.search = params.toString();
  return { url, sub };
}
