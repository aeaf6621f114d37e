import type { X509Certificate } from 'node:crypto';
import { parseCertificateBundle } from './certs.ts';
import type { RequestHeaderConfig } from './requestheader.ts';

export const AUTH_CONFIGMAP_NAMESPACE = 'kube-system';
export const AUTH_CONFIGMAP_NAME = 'extension-apiserver-authentication';

/** What `kube-system/extension-apiserver-authentication` says, parsed. Absent parts disable that authenticator. */
export interface AuthenticationConfig {
  /** `client-ca-file`: CAs of client certificates (x509 authentication). */
  clientCA?: X509Certificate[];
  /** `requestheader-*`: front-proxy trust and header names. */
  requestHeader?: RequestHeaderConfig;
}

/** A configmap field that could not be used; the previous value of that part is kept. */
export interface ConfigProblem {
  field: string;
  message: string;
}

/** Parses a JSON string array as the kube-apiserver writes it (`["X-Remote-User"]`); absent or empty → []. */
function stringList(data: Record<string, string>, field: string): string[] {
  const raw = data[field];
  if (raw === undefined || raw.trim() === '') return [];
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new Error(`${field}: not a JSON array of strings: ${raw.slice(0, 80)}`);
  }
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw new Error(`${field}: not a JSON array of strings: ${raw.slice(0, 80)}`);
  return v.map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * Parses the configmap's data. Each part (client CA; request-header settings) is parsed on its own: a part that
 * does not parse keeps its value from `previous` (as the kube-apiserver's dynamic CA loaders keep the last good
 * bundle) and is reported in `problems`; a part absent from the data is disabled.
 *
 * @example
 * const { config, problems } = parseAuthenticationConfigMap(cm.data ?? {});
 */
export function parseAuthenticationConfigMap(
  data: Record<string, string>,
  previous: AuthenticationConfig = {},
): { config: AuthenticationConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const config: AuthenticationConfig = {};
  const clientCA = data['client-ca-file'];
  if (clientCA !== undefined && clientCA.trim() !== '') {
    try {
      config.clientCA = parseCertificateBundle(clientCA, 'client-ca-file');
    } catch (err) {
      problems.push({ field: 'client-ca-file', message: (err as Error).message });
      if (previous.clientCA) config.clientCA = previous.clientCA;
    }
  }
  const rhCA = data['requestheader-client-ca-file'];
  if (rhCA !== undefined && rhCA.trim() !== '') {
    try {
      config.requestHeader = {
        caCertificates: parseCertificateBundle(rhCA, 'requestheader-client-ca-file'),
        allowedNames: stringList(data, 'requestheader-allowed-names'),
        usernameHeaders: stringList(data, 'requestheader-username-headers'),
        uidHeaders: stringList(data, 'requestheader-uid-headers'),
        groupHeaders: stringList(data, 'requestheader-group-headers'),
        extraHeaderPrefixes: stringList(data, 'requestheader-extra-headers-prefix'),
      };
    } catch (err) {
      const message = (err as Error).message;
      problems.push({ field: message.split(':')[0] ?? 'requestheader', message });
      if (previous.requestHeader) config.requestHeader = previous.requestHeader;
    }
  }
  return { config, problems };
}
