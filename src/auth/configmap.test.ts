import { beforeAll, describe, expect, it } from 'vitest';
import { parseAuthenticationConfigMap } from './configmap.ts';
import { subjectOf } from './certs.ts';
import { authenticationConfigMapData, createCA } from '../../test/harness/pki.ts';
import type { CertPair } from '../server/tls.ts';

let clientCA: CertPair;
let frontProxyCA: CertPair;
beforeAll(async () => {
  [clientCA, frontProxyCA] = await Promise.all([createCA('client-ca'), createCA('front-proxy-ca')]);
});

describe('parseAuthenticationConfigMap', () => {
  it('reads what the kube-apiserver publishes', () => {
    const { config, problems } = parseAuthenticationConfigMap({
      ...authenticationConfigMapData({ clientCA, frontProxyCA }),
      'requestheader-uid-headers': '["X-Remote-Uid"]',
    });
    expect(problems).toEqual([]);
    expect(config.clientCA?.map((c) => subjectOf(c).commonName)).toEqual(['client-ca']);
    expect(config.requestHeader).toMatchObject({
      allowedNames: ['front-proxy-client'],
      usernameHeaders: ['X-Remote-User'],
      uidHeaders: ['X-Remote-Uid'],
      groupHeaders: ['X-Remote-Group'],
      extraHeaderPrefixes: ['X-Remote-Extra-'],
    });
    expect(config.requestHeader?.caCertificates.map((c) => subjectOf(c).commonName)).toEqual(['front-proxy-ca']);
  });

  it('turns off what is absent; an empty allowed-names list means any CN', () => {
    expect(parseAuthenticationConfigMap({}).config).toEqual({});
    const { config } = parseAuthenticationConfigMap({
      'requestheader-client-ca-file': frontProxyCA.cert,
      'requestheader-allowed-names': '[]',
    });
    expect(config.clientCA).toBeUndefined();
    expect(config.requestHeader?.allowedNames).toEqual([]);
    expect(config.requestHeader?.usernameHeaders).toEqual([]);
  });

  it('keeps the previous value of a part that does not parse, and says which field', () => {
    const good = parseAuthenticationConfigMap(authenticationConfigMapData({ clientCA, frontProxyCA })).config;
    const { config, problems } = parseAuthenticationConfigMap(
      {
        ...authenticationConfigMapData({ clientCA, frontProxyCA }),
        'client-ca-file': 'garbage',
        'requestheader-allowed-names': 'front-proxy-client',
      },
      good,
    );
    expect(problems.map((p) => p.field)).toEqual(['client-ca-file', 'requestheader-allowed-names']);
    expect(config.clientCA).toBe(good.clientCA);
    expect(config.requestHeader).toBe(good.requestHeader);
  });
});
