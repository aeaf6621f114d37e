import {
  informAuthenticationConfigMap,
  SILENT_LOG,
  type AuthLog,
  type ConfigMapInformer,
} from './configmap-informer.ts';
import type { AuthenticationConfig } from './configmap.ts';
import { createKubeClient, type KubeClient } from './kube-client.ts';
import { createRequestHeaderAuthenticator } from './requestheader.ts';
import {
  createSubjectAccessReviewAuthorizer,
  kubeSubjectAccessReviewer,
  type SubjectAccessReviewOptions,
} from './sar.ts';
import { createTokenReviewAuthenticator, kubeTokenReviewer, type TokenReviewOptions } from './tokenreview.ts';
import type { Authenticator, Authorizer } from './types.ts';
import { createX509Authenticator } from './x509.ts';
import type { ReviewCacheStats } from './cache.ts';

export interface DelegatedAuthOptions {
  /** A kubeconfig file for the kube-apiserver; default: in-cluster service account. Ignored when `client` is given. */
  kubeconfig?: string;
  /** A client to use instead of one made from `kubeconfig` (closed by the caller). */
  client?: KubeClient;
  /** Where the authentication configmap lives (default kube-system/extension-apiserver-authentication). */
  configMap?: { namespace?: string; name?: string };
  /** Bearer tokens by TokenReview (default on); `false` turns token authentication off. */
  tokenReview?: (TokenReviewOptions & { timeoutMs?: number }) | false;
  /** SubjectAccessReview authorizer settings (timeout default 10 s). */
  authorization?: SubjectAccessReviewOptions & { timeoutMs?: number };
  log?: AuthLog;
  /** Clock for certificate validity and caches (tests). */
  now?: () => number;
  /** Informer retry backoff (tests). */
  initialBackoffMs?: number;
  /** Told why a request's front-proxy headers were not trusted (never carries secrets). */
  onUntrusted?: (reason: string) => void;
}

export interface DelegatedAuth {
  /** In kube-apiserver order: front proxy (request headers), client certificate, bearer token. */
  authenticators: Authenticator[];
  authorizer: Authorizer;
  /** Resolves once the authentication configmap has been read (rejects if closed first). */
  ready: Promise<void>;
  /** The configuration in force (for readiness checks and debugging). */
  config(): AuthenticationConfig;
  informer: ConfigMapInformer;
  /** Cache counters: `hits` answered from cache, `misses` reviews sent, `coalesced` callers that shared one. */
  stats(): { tokenReview: ReviewCacheStats | undefined; subjectAccessReview: ReviewCacheStats };
  close(): Promise<void>;
}

/**
 * Authentication and authorization delegated to the kube-apiserver, as an aggregated API server does
 * (docs/kubernetes-wire.md, "Authentication" and "Authorization"; k8s.io/apiserver DelegatingAuthenticationOptions/DelegatingAuthorizationOptions):
 * front-proxy headers trusted per the `extension-apiserver-authentication` configmap (followed by list+watch,
 * so CA rotation needs no restart), client certificates against its `client-ca-file`, bearer tokens by
 * TokenReview, and every request authorized by SubjectAccessReview. Needs the `system:auth-delegator`
 * ClusterRole and the `extension-apiserver-authentication-reader` Role in kube-system.
 *
 * @example
 * const auth = createDelegatedAuth({ kubeconfig: process.env.KUBECONFIG });
 * await auth.ready;
 * const app = buildApp({ ..., authenticators: auth.authenticators, authorizer: auth.authorizer, tlsRequestCert: true });
 */
export function createDelegatedAuth(o: DelegatedAuthOptions = {}): DelegatedAuth {
  const log = o.log ?? SILENT_LOG;
  const ownClient = o.client === undefined;
  const client = o.client ?? createKubeClient(o.kubeconfig !== undefined ? { kubeconfig: o.kubeconfig } : {});
  const informer = informAuthenticationConfigMap(client, {
    ...(o.configMap?.namespace !== undefined ? { namespace: o.configMap.namespace } : {}),
    ...(o.configMap?.name !== undefined ? { name: o.configMap.name } : {}),
    ...(o.initialBackoffMs !== undefined ? { initialBackoffMs: o.initialBackoffMs } : {}),
    log,
    onChange: (c) =>
      log.info('authentication configmap applied', {
        clientCAs: c.clientCA?.length ?? 0,
        requestHeaderCAs: c.requestHeader?.caCertificates.length ?? 0,
        allowedNames: c.requestHeader?.allowedNames ?? [],
      }),
  });
  const clock = o.now ? { now: o.now } : {};
  const authenticators: Authenticator[] = [
    createRequestHeaderAuthenticator(() => informer.current().requestHeader, {
      ...clock,
      ...(o.onUntrusted ? { onUntrusted: o.onUntrusted } : {}),
    }),
    createX509Authenticator(() => informer.current().clientCA, clock),
  ];
  const tr = o.tokenReview === false ? undefined : (o.tokenReview ?? {});
  const tokenAuth = tr
    ? createTokenReviewAuthenticator(kubeTokenReviewer(client, tr.timeoutMs), { ...clock, ...tr })
    : undefined;
  if (tokenAuth) authenticators.push(tokenAuth);
  const az = o.authorization ?? {};
  const authorizer = createSubjectAccessReviewAuthorizer(kubeSubjectAccessReviewer(client, az.timeoutMs), {
    ...clock,
    ...az,
  });
  return {
    authenticators,
    authorizer,
    ready: informer.ready,
    config: () => informer.current(),
    informer,
    stats: () => ({ tokenReview: tokenAuth?.stats, subjectAccessReview: authorizer.stats }),
    async close() {
      await informer.close();
      if (ownClient) client.close();
    },
  };
}
