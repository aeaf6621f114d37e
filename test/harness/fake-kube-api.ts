import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { writeKubeconfig } from '../../src/cli/kubeconfig.ts';
import { createDevCertificates, type CertPair } from '../../src/server/tls.ts';
import type { SubjectAccessReviewSpec } from '../../src/auth/sar.ts';
import { AUTH_CONFIGMAP_NAME, AUTH_CONFIGMAP_NAMESPACE } from '../../src/auth/configmap.ts';
import { DEFAULT_RBAC, rbacAllows, type RbacRule } from './rbac.ts';

/** A user a bearer token stands for (TokenReview `status.user`). */
export interface FakeUser {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** `hang`: never answer (until close); a number: answer with that HTTP status and a Status body. */
export type Fault = 'hang' | number | undefined;

export interface FakeKubeApiOptions {
  /** Initial data of kube-system/extension-apiserver-authentication; null: the configmap does not exist. */
  configMap?: Record<string, string> | null;
  /** Bearer token → user, answered by TokenReview. */
  tokens?: Record<string, FakeUser>;
  /** Replaces the default RBAC ({@link DEFAULT_RBAC}). */
  rbac?: RbacRule[];
  /** Serving certificate (default: a fresh dev CA). */
  tls?: { ca: string; cert: string; key: string };
  /** Watch events kept for resuming; older resourceVersions get 410 (default 100). */
  historySize?: number;
}

export interface FakeKubeApiCalls {
  tokenReviews: number;
  subjectAccessReviews: number;
  configMapLists: number;
  configMapGets: number;
  configMapWatches: number;
  /** Requests without the caller's service-account token (answered 401). */
  unauthorized: number;
  /** TLS connections accepted (a keep-alive client reuses one). */
  connections: number;
}

export interface FakeKubeApi {
  url: string;
  /** PEM of the CA that signed the serving certificate. */
  ca: string;
  /** A kubeconfig for kubegate: this server, its CA, and kubegate's service-account token. */
  kubeconfig: string;
  /** kubegate's own token (every request must carry it). */
  callerToken: string;
  tokens: Map<string, FakeUser>;
  /** The RBAC table SubjectAccessReviews are answered from; tests may push, splice or replace entries. */
  rules: RbacRule[];
  calls: FakeKubeApiCalls;
  /** Every SubjectAccessReview spec received, in order. */
  subjectAccessReviews: SubjectAccessReviewSpec[];
  faults: { subjectAccessReview: Fault; tokenReview: Fault; configMap: Fault };
  /** `events.k8s.io/v1` Events: every POST and PATCH received in order, and the objects as stored by name. */
  events: { requests: EventRequest[]; objects: Map<string, KubeEvent> };
  /** Current resourceVersion of the store. */
  readonly resourceVersion: string;
  /** Replaces the configmap's data (null deletes it); open watches get MODIFIED/ADDED/DELETED. */
  setConfigMap(data: Record<string, string> | null): void;
  /** Ends every open watch cleanly, as the apiserver does at `timeoutSeconds`. */
  endWatches(): void;
  /** Moves the store on and forgets the history, so a watch resuming from any earlier resourceVersion gets 410 Gone. */
  compact(): void;
  resetCalls(): void;
  close(): Promise<void>;
}

/** An `events.k8s.io/v1` Event as stored. */
export interface KubeEvent {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  eventTime: string;
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  type: string;
  note?: string;
  regarding: { apiVersion: string; kind: string; name: string; namespace?: string };
  series?: { count: number; lastObservedTime: string };
}

export interface EventRequest {
  method: 'POST' | 'PATCH';
  namespace: string;
  /** The Event's name (from the body on POST, the path on PATCH). */
  name: string;
  contentType: string;
  body: Record<string, unknown>;
  /** The status answered. */
  status: number;
}

const EVENTS_PATH = /^\/apis\/events\.k8s\.io\/v1\/namespaces\/([^/]+)\/events(?:\/([^/]+))?$/;

/** What the apiserver's validation of events.k8s.io/v1 refuses, as one message (undefined: valid). */
function invalidEvent(e: Partial<KubeEvent>, namespace: string): string | undefined {
  if (!e.metadata?.name) return 'metadata.name: Required value';
  if (e.metadata.namespace !== undefined && e.metadata.namespace !== namespace)
    return 'metadata.namespace: does not match the namespace of the request';
  if (!e.eventTime || !/\.\d{6}Z$/.test(e.eventTime)) return 'eventTime: Required value (MicroTime)';
  if (!e.reportingController) return 'reportingController: Required value';
  if (!e.reportingInstance) return 'reportingInstance: Required value';
  if (!e.action) return 'action: Required value';
  if (!e.reason) return 'reason: Required value';
  if (e.type !== 'Normal' && e.type !== 'Warning') return 'type: Unsupported value';
  if ((e.note ?? '').length > 1024) return 'note: Too long: may not be longer than 1024';
  if (!e.regarding?.kind || !e.regarding.name) return 'regarding: Required value';
  if (e.series && (e.series.count < 2 || !e.series.lastObservedTime))
    return 'series.count: must be at least 2, series.lastObservedTime: Required value';
  return undefined;
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    out[k] = mergePatch(out[k], v);
  }
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== null));
}

interface ConfigMap {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: { name: string; namespace: string; uid: string; resourceVersion: string; creationTimestamp: string };
  data: Record<string, string>;
}

interface HistoryEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: ConfigMap;
}

const CM_COLLECTION = `/api/v1/namespaces/${AUTH_CONFIGMAP_NAMESPACE}/configmaps`;
const CM_ITEM = `${CM_COLLECTION}/${AUTH_CONFIGMAP_NAME}`;

function status(code: number, reason: string, message: string): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const b = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) });
  res.end(b);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
}

/**
 * The kube-apiserver as an aggregated API server sees it: HTTPS with its own CA, requiring kubegate's
 * service-account token, answering
 * - `GET /api/v1/namespaces/kube-system/configmaps?fieldSelector=metadata.name=extension-apiserver-authentication`
 *   (list), `...&watch=true&resourceVersion=N[&timeoutSeconds=S]` (watch: events after N, 410 ERROR event when N
 *   is older than the history, synthetic ADDED when N is "" or "0"), and `GET .../configmaps/<name>`;
 * - `POST /apis/authentication.k8s.io/v1/tokenreviews` from the token table (groups get `system:authenticated`,
 *   as the real TokenReview does);
 * - `POST /apis/authorization.k8s.io/v1/subjectaccessreviews` from the RBAC table;
 * - `POST /apis/events.k8s.io/v1/namespaces/<ns>/events` and merge `PATCH .../events/<name>`, validated as the
 *   apiserver validates Events and recorded in `events`;
 * counting every call, and hanging or failing on demand.
 *
 * @example
 * const kube = await startFakeKubeApi({ configMap: authenticationConfigMapData(pki), tokens: { t0k3n: { username: 'bob' } } });
 * const auth = createDelegatedAuth({ kubeconfig: kube.kubeconfig });
 */
export async function startFakeKubeApi(o: FakeKubeApiOptions = {}): Promise<FakeKubeApi> {
  let tls = o.tls;
  if (!tls) {
    const dev = await createDevCertificates(['localhost'], ['127.0.0.1']);
    tls = { ca: dev.ca.cert, cert: dev.server.cert, key: dev.server.key };
  }
  const serving = tls;
  const dir = mkdtempSync(join(tmpdir(), 'kubegate-fake-kube-'));
  const callerToken = randomBytes(16).toString('hex');
  const historySize = o.historySize ?? 100;
  const tokens = new Map(Object.entries(o.tokens ?? {}));
  const rules = [...(o.rbac ?? DEFAULT_RBAC)];
  const calls: FakeKubeApiCalls = {
    tokenReviews: 0,
    subjectAccessReviews: 0,
    configMapLists: 0,
    configMapGets: 0,
    configMapWatches: 0,
    unauthorized: 0,
    connections: 0,
  };
  const sars: SubjectAccessReviewSpec[] = [];
  const faults: FakeKubeApi['faults'] = {
    subjectAccessReview: undefined,
    tokenReview: undefined,
    configMap: undefined,
  };
  const eventRequests: EventRequest[] = [];
  const eventObjects = new Map<string, KubeEvent>();
  let eventRv = 1;
  const hanging = new Set<ServerResponse>();
  const watchers = new Set<{ res: ServerResponse; timer: NodeJS.Timeout | undefined }>();

  let rv = 1000;
  let history: HistoryEvent[] = [];
  let oldestRv = rv;
  const uid = randomUUID();
  const created = new Date().toISOString();
  const makeCm = (data: Record<string, string>, at: number): ConfigMap => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: AUTH_CONFIGMAP_NAME,
      namespace: AUTH_CONFIGMAP_NAMESPACE,
      uid,
      resourceVersion: String(at),
      creationTimestamp: created,
    },
    data: { ...data },
  });
  let cm: ConfigMap | undefined = o.configMap === null ? undefined : makeCm(o.configMap ?? {}, rv);

  const writeEvent = (res: ServerResponse, type: string, object: unknown): void => {
    res.write(`${JSON.stringify({ type, object })}\n`);
  };

  const fault = (res: ServerResponse, f: Fault): boolean => {
    if (f === 'hang') {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return true;
    }
    if (typeof f === 'number') {
      send(res, f, status(f, f === 503 ? 'ServiceUnavailable' : 'InternalError', `injected failure ${f}`));
      return true;
    }
    return false;
  };

  const onWatch = (req: IncomingMessage, res: ServerResponse, q: URLSearchParams): void => {
    calls.configMapWatches++;
    const fromRaw = q.get('resourceVersion') ?? '';
    const timeoutSeconds = Number(q.get('timeoutSeconds') ?? '0');
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    if (fromRaw === '' || fromRaw === '0') {
      if (cm) writeEvent(res, 'ADDED', cm);
    } else {
      const from = Number(fromRaw);
      if (!Number.isFinite(from) || from < oldestRv) {
        writeEvent(res, 'ERROR', status(410, 'Expired', `too old resource version: ${fromRaw} (${oldestRv})`));
        res.end();
        return;
      }
      for (const e of history) if (e.rv > from) writeEvent(res, e.type, e.object);
    }
    const w = { res, timer: undefined as NodeJS.Timeout | undefined };
    if (timeoutSeconds > 0) w.timer = setTimeout(() => res.end(), timeoutSeconds * 1000);
    watchers.add(w);
    req.on('close', () => {
      clearTimeout(w.timer);
      watchers.delete(w);
    });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.headers.authorization !== `Bearer ${callerToken}`) {
      calls.unauthorized++;
      send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    const url = new URL(req.url ?? '/', 'https://fake');
    const q = url.searchParams;
    if (req.method === 'GET' && (url.pathname === CM_COLLECTION || url.pathname === CM_ITEM)) {
      if (fault(res, faults.configMap)) return;
      const byName = url.pathname === CM_ITEM || q.get('fieldSelector') === `metadata.name=${AUTH_CONFIGMAP_NAME}`;
      if (q.get('watch') === 'true' || q.get('watch') === '1') {
        if (!byName) {
          send(res, 400, status(400, 'BadRequest', 'this fake only watches the authentication configmap by name'));
          return;
        }
        onWatch(req, res, q);
        return;
      }
      if (url.pathname === CM_ITEM) {
        calls.configMapGets++;
        if (cm) send(res, 200, cm);
        else send(res, 404, status(404, 'NotFound', `configmaps "${AUTH_CONFIGMAP_NAME}" not found`));
        return;
      }
      calls.configMapLists++;
      send(res, 200, {
        kind: 'ConfigMapList',
        apiVersion: 'v1',
        metadata: { resourceVersion: String(rv) },
        items: cm && byName ? [cm] : [],
      });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/apis/authentication.k8s.io/v1/tokenreviews') {
      calls.tokenReviews++;
      const body = (await readJson(req)) as { spec?: { token?: string; audiences?: string[] } };
      if (fault(res, faults.tokenReview)) return;
      const u = tokens.get(body.spec?.token ?? '');
      const st = u
        ? {
            authenticated: true,
            user: {
              username: u.username,
              ...(u.uid ? { uid: u.uid } : {}),
              groups: [
                ...(u.groups ?? []),
                ...((u.groups ?? []).includes('system:authenticated') ? [] : ['system:authenticated']),
              ],
              ...(u.extra ? { extra: u.extra } : {}),
            },
            audiences: body.spec?.audiences ?? ['https://kubernetes.default.svc'],
          }
        : { authenticated: false, error: 'invalid bearer token' };
      send(res, 201, {
        kind: 'TokenReview',
        apiVersion: 'authentication.k8s.io/v1',
        metadata: { creationTimestamp: null },
        spec: { ...(body.spec?.audiences ? { audiences: body.spec.audiences } : {}) },
        status: st,
      });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/apis/authorization.k8s.io/v1/subjectaccessreviews') {
      calls.subjectAccessReviews++;
      const raw = (await readJson(req)) as { spec?: Partial<SubjectAccessReviewSpec> };
      const body = { spec: { ...raw.spec, user: raw.spec?.user ?? '', groups: raw.spec?.groups ?? [] } };
      sars.push(body.spec);
      if (fault(res, faults.subjectAccessReview)) return;
      const match = rbacAllows(rules, body.spec);
      const subject = match?.users?.includes(body.spec.user)
        ? `User "${body.spec.user}"`
        : `Group "${(match?.groups ?? []).find((g) => body.spec.groups.includes(g)) ?? ''}"`;
      send(res, 201, {
        kind: 'SubjectAccessReview',
        apiVersion: 'authorization.k8s.io/v1',
        metadata: { creationTimestamp: null },
        spec: body.spec,
        status: match
          ? {
              allowed: true,
              reason: `RBAC: allowed by ClusterRoleBinding "${match.role}" of ClusterRole "${match.role}" to ${subject}`,
            }
          : { allowed: false },
      });
      return;
    }
    const ev = EVENTS_PATH.exec(url.pathname);
    if (ev && ((req.method === 'POST' && !ev[2]) || (req.method === 'PATCH' && ev[2]))) {
      const namespace = decodeURIComponent(ev[1] ?? '');
      const contentType = (req.headers['content-type'] ?? '').split(';')[0] ?? '';
      const body = (await readJson(req)) as Record<string, unknown>;
      const answer = (code: number, out: unknown, name: string): void => {
        eventRequests.push({
          method: req.method as 'POST' | 'PATCH',
          namespace,
          name,
          contentType,
          body,
          status: code,
        });
        send(res, code, out);
      };
      if (req.method === 'POST') {
        const e = body as unknown as KubeEvent;
        const name = e.metadata.name;
        const why = invalidEvent(e, namespace);
        if (why) return answer(422, status(422, 'Invalid', `Event.events.k8s.io "${name}" is invalid: ${why}`), name);
        const key = `${namespace}/${name}`;
        if (eventObjects.has(key))
          return answer(409, status(409, 'AlreadyExists', `events.events.k8s.io "${name}" already exists`), name);
        const stored = { ...e, metadata: { ...e.metadata, namespace, resourceVersion: String(++eventRv) } };
        eventObjects.set(key, stored);
        return answer(201, stored, name);
      }
      const name = decodeURIComponent(ev[2] ?? '');
      const key = `${namespace}/${name}`;
      const current = eventObjects.get(key);
      if (!current) return answer(404, status(404, 'NotFound', `events.events.k8s.io "${name}" not found`), name);
      if (contentType !== 'application/merge-patch+json' && contentType !== 'application/strategic-merge-patch+json')
        return answer(
          415,
          status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format`),
          name,
        );
      const next = mergePatch(current, body) as KubeEvent;
      const why = invalidEvent(next, namespace);
      if (why) return answer(422, status(422, 'Invalid', `Event.events.k8s.io "${name}" is invalid: ${why}`), name);
      next.metadata.resourceVersion = String(++eventRv);
      eventObjects.set(key, next);
      return answer(200, next, name);
    }
    send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
  };

  const server = https.createServer({ cert: serving.cert, key: serving.key }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, status(500, 'InternalError', String(err)));
      else res.destroy();
    });
  });
  server.on('secureConnection', () => calls.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const url = `https://127.0.0.1:${port}`;
  const kubeconfig = join(dir, 'kubeconfig');
  writeKubeconfig(kubeconfig, {
    server: url,
    ca: serving.ca,
    token: callerToken,
    user: 'system:serviceaccount:kube-system:kubegate',
  });

  return {
    url,
    ca: serving.ca,
    kubeconfig,
    callerToken,
    tokens,
    rules,
    calls,
    subjectAccessReviews: sars,
    faults,
    events: { requests: eventRequests, objects: eventObjects },
    get resourceVersion() {
      return String(rv);
    },
    setConfigMap(data) {
      rv++;
      let ev: HistoryEvent;
      if (data === null) {
        if (!cm) return;
        ev = { rv, type: 'DELETED', object: { ...cm, metadata: { ...cm.metadata, resourceVersion: String(rv) } } };
        cm = undefined;
      } else {
        ev = { rv, type: cm ? 'MODIFIED' : 'ADDED', object: makeCm(data, rv) };
        cm = ev.object;
      }
      history.push(ev);
      if (history.length > historySize) {
        history = history.slice(-historySize);
        oldestRv = (history[0]?.rv ?? rv) - 1;
      }
      for (const w of watchers) writeEvent(w.res, ev.type, ev.object);
    },
    endWatches() {
      for (const w of watchers) {
        clearTimeout(w.timer);
        w.res.end();
      }
      watchers.clear();
    },
    compact() {
      // Other objects changed, then etcd compacted: every resourceVersion before now is gone.
      rv++;
      history = [];
      oldestRv = rv;
    },
    resetCalls() {
      for (const k of Object.keys(calls) as (keyof FakeKubeApiCalls)[]) calls[k] = 0;
      sars.length = 0;
    },
    async close() {
      for (const w of watchers) clearTimeout(w.timer);
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type { CertPair };
