import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { Readable } from 'node:stream';
import type { RequestAttributes, UserInfo } from '../auth/types.ts';
import { peerCertificateOf } from '../auth/peer.ts';
import { reasonForCode, type Status } from '../k8s/errors.ts';
import { maskSecrets } from '../observability/mask.ts';
import { edgeUser } from '../server/edge.ts';
import type { AuditDecision, PolicyEvaluator } from './policy.ts';
import { attributesFromPath, recordedRequestURI } from './request-info.ts';
import type { AuditSink } from './sink.ts';
import { AUDIT_ID_HEADER, LEVEL_RANK, STAGES, type AuditUser, type ResponseStatus, type Stage } from './types.ts';

type RawRequest = IncomingMessage | Http2ServerRequest;
type RawResponse = ServerResponse | Http2ServerResponse;
type RequestListener = (req: RawRequest, res: RawResponse) => void;

/** Annotation keys kubegate sets on its events (besides the apiserver's `authorization.k8s.io/*`). */
export const ANNOTATIONS = {
  decision: 'authorization.k8s.io/decision',
  reason: 'authorization.k8s.io/reason',
  frontProxy: 'authentication.kubegate.dev/front-proxy',
  upstreamMethod: 'proxy.kubegate.dev/upstream-method',
  upstreamPath: 'proxy.kubegate.dev/upstream-path',
  upstreamStatus: 'proxy.kubegate.dev/upstream-status',
  responseObject: 'audit.kubegate.dev/response-object',
  requestObject: 'audit.kubegate.dev/request-object',
} as const;

export interface AuditorOptions {
  policy: () => PolicyEvaluator;
  sink: AuditSink;
  /** Response bodies larger than this are not recorded (RequestResponse level). */
  maxResponseBytes: number;
  /** Request objects larger than this (serialized) are not recorded (Request level and up). */
  maxRequestBytes?: number;
}

/** The pieces of the fastify request the audit reads (its decoded body, if any). */
export interface AuditedRequest {
  raw: object;
  body?: unknown;
}

/**
 * Each request's audit, on the Node request itself: a WeakMap holding one entry per request in flight costs
 * the garbage collector more than the request's own work.
 */
const AUDIT = Symbol('kubegate.audit');
type Audited = { [AUDIT]?: RequestAudit };
const auditOf = (raw: object): RequestAudit | undefined => (raw as Audited)[AUDIT];

/** The `YYYY-MM-DDTHH:MM:SS` of the last second formatted (many events share one second). */
let stampSecond = -1;
let stampPrefix = '';

/** metav1.MicroTime: RFC 3339 UTC with microseconds. */
function microTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== stampSecond) {
    stampSecond = second;
    stampPrefix = new Date(second * 1000).toISOString().slice(0, 19);
  }
  const micros = Math.floor(ms * 1000) - second * 1_000_000;
  return `${stampPrefix}.${String(micros).padStart(6, '0')}Z`;
}

const nowMs = (): number => performance.timeOrigin + performance.now();

/**
 * New audit IDs: UUIDs (version 4 layout) of a random per-process part and a counter, unique without drawing
 * randomness for every request.
 */
const idBase = randomUUID().slice(0, 24);
let idCounter = 0;

/** An incoming Audit-ID (set by the aggregator) is kept when it looks like one; otherwise a new one is made. */
function auditIdOf(req: RawRequest): string {
  const v = req.headers[AUDIT_ID_HEADER];
  if (typeof v === 'string' && v.length > 0 && v.length <= 128 && /^[\w.:-]+$/.test(v)) return v;
  idCounter = (idCounter + 1) % 0x1000000000000;
  return idBase + idCounter.toString(16).padStart(12, '0');
}

/** The peer's `sourceIPs` JSON, per connection (most requests come on a connection that served others before). */
const peerIPs = new WeakMap<object, string>();

/**
 * `sourceIPs` as JSON: X-Forwarded-For, then X-Real-Ip if not already listed, then the peer if it is not the last
 * (as the apiserver).
 */
function sourceIPs(req: RawRequest): string {
  // The HTTP/2 compat socket is a Proxy; the session's socket is the real one.
  const stream = (req as Partial<Http2ServerRequest>).stream;
  const socket = stream?.session?.socket ?? req.socket;
  const xff = req.headers['x-forwarded-for'];
  const real = req.headers['x-real-ip'];
  if (typeof xff !== 'string' && typeof real !== 'string') {
    let json = peerIPs.get(socket);
    if (json === undefined) {
      const peer = socket.remoteAddress;
      json = JSON.stringify(peer ? [peer] : []);
      // Only once the peer is known: a socket closed early may not report it.
      if (peer) peerIPs.set(socket, json);
    }
    return json;
  }
  const out: string[] = [];
  if (typeof xff === 'string')
    for (const ip of xff.split(',')) {
      const t = ip.trim();
      if (t && out.length < 16) out.push(t);
    }
  if (typeof real === 'string' && real.trim() && !out.includes(real.trim())) out.push(real.trim());
  const peer = socket.remoteAddress;
  if (peer && out[out.length - 1] !== peer) out.push(peer);
  return JSON.stringify(out);
}

function auditUser(u: UserInfo): AuditUser {
  const out: AuditUser = { username: u.name };
  if (u.uid) out.uid = u.uid;
  if (u.groups.length > 0) out.groups = u.groups;
  if (u.extra && Object.keys(u.extra).length > 0) out.extra = u.extra;
  return out;
}

/** The `user` JSON per user (the authenticator hands out the same UserInfo for a cached credential). */
const userJson = new WeakMap<UserInfo, string>();
function auditUserJson(u: UserInfo | undefined): string {
  if (!u) return '{}';
  let json = userJson.get(u);
  if (json === undefined) userJson.set(u, (json = JSON.stringify(auditUser(u))));
  return json;
}

/** The last User-Agent seen and its JSON: clients repeat theirs. */
let lastAgent = '';
let lastAgentJson = '""';
function agentJson(ua: string): string {
  if (ua !== lastAgent) {
    lastAgent = ua;
    lastAgentJson = JSON.stringify(ua);
  }
  return lastAgentJson;
}

/** The last decision's annotation JSON, per outcome: most requests repeat the RBAC reason of the one before. */
const lastDecision = { allow: ['', ''], forbid: ['', ''] };
function decisionJson(allowed: boolean, reason: string): string {
  const outcome = allowed ? 'allow' : 'forbid';
  const last = lastDecision[outcome];
  if (last[0] !== reason || last[1] === '')
    lastDecision[outcome] = [
      reason,
      `${JSON.stringify(ANNOTATIONS.decision)}:"${outcome}",${JSON.stringify(ANNOTATIONS.reason)}:${JSON.stringify(reason)}`,
    ];
  return lastDecision[outcome][1] ?? '';
}

/** Each stage's name as it is written, encoded once. */
const STAGE_BYTES = Object.fromEntries(STAGES.map((s) => [s, Buffer.from(`"${s}"`)])) as Record<Stage, Buffer>;

/**
 * `,"responseStatus":...` of a status that is only its code (most answers: a success, or a failure the handler
 * gave no Status for), encoded once per code.
 */
const codeStatus = new Map<number, Buffer>();
function codeStatusBytes(code: number): Buffer {
  let b = codeStatus.get(code);
  if (b === undefined) {
    const status: ResponseStatus =
      code >= 400 ? { metadata: {}, status: 'Failure', reason: reasonForCode(code), code } : { metadata: {}, code };
    b = Buffer.from(`,"responseStatus":${JSON.stringify(status)}`);
    // HTTP codes are few; an odd one past the bound is encoded each time.
    if (codeStatus.size < 64) codeStatus.set(code, b);
  }
  return b;
}

/** What the apiserver tells the audit log about a failed authentication (never the credential itself). */
function authenticationFailure(req: RawRequest): string {
  const methods: string[] = [];
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const scheme = auth.trim().split(' ')[0]?.toLowerCase();
    if (scheme === 'basic') methods.push('basic');
    if (scheme === 'bearer') methods.push('bearer');
  }
  if (peerCertificateOf(req)) methods.push('x509');
  return methods.length > 0
    ? `Authentication failed, attempted: ${methods.join(', ')}`
    : 'Authentication failed, no credentials provided';
}

/** `obj` without `metadata.managedFields` (and that of list items), copying only what changes. */
function withoutManagedFields(obj: unknown): unknown {
  if (typeof obj !== 'object' || obj === null) return obj;
  const o = obj as { metadata?: Record<string, unknown>; items?: unknown[] };
  let out: Record<string, unknown> = o;
  if (o.metadata && 'managedFields' in o.metadata) {
    const metadata = { ...o.metadata };
    delete metadata.managedFields;
    out = { ...out, metadata };
  }
  if (Array.isArray(o.items)) out = { ...out, items: o.items.map(withoutManagedFields) };
  return out;
}

/** One request's audit: its event, built up as the request goes, written at each stage the policy keeps. */
class RequestAudit {
  readonly id: string;
  private readonly received: number;
  private readonly receivedStamp: string;
  private fixed: { head: Buffer; middle: Buffer; stamps: string } | undefined;
  private user: UserInfo | undefined;
  private attrs: RequestAttributes | undefined;
  private decision: AuditDecision | undefined;
  private annotations: Record<string, string> | undefined;
  /** The decision annotations' JSON (without braces); see {@link decisionJson}. */
  private decided: string | undefined;
  private status: ResponseStatus | undefined;
  private panicked = false;
  private startedWritten = false;
  private longRunning = false;
  private body: AuditedRequest | undefined;
  private chunks: Buffer[] | undefined;
  private captured = 0;
  private tooLarge = false;
  /** The user the front proxy asserted (X-Remote-User), read before the edge strips the header. */
  private readonly asserted: string | undefined;

  private readonly o: AuditorOptions;
  private readonly req: RawRequest;
  private readonly res: RawResponse;

  constructor(o: AuditorOptions, req: RawRequest, res: RawResponse) {
    this.o = o;
    this.req = req;
    this.res = res;
    this.id = auditIdOf(req);
    this.received = nowMs();
    this.receivedStamp = microTime(this.received);
    const xru = req.headers['x-remote-user'];
    this.asserted = typeof xru === 'string' ? xru : undefined;
  }

  annotate(key: string, value: string): void {
    (this.annotations ??= {})[key] = value;
  }

  /** The authorizer's decision and reason, as annotations (their JSON is shared by the requests that repeat it). */
  decide(allowed: boolean, reason: string): void {
    this.decided = decisionJson(allowed, reason);
  }

  /** The annotations as JSON, masked (a reason or an upstream path may carry outside text). */
  private annotationsJson(): string {
    const rest = this.annotations ? JSON.stringify(this.annotations) : undefined;
    if (this.decided === undefined) return maskSecrets(rest ?? '{}');
    return maskSecrets(rest === undefined ? `{${this.decided}}` : `{${this.decided},${rest.slice(1)}`);
  }

  /** The gate resolved who asks for what: decide the level and write RequestReceived. */
  requested(req: AuditedRequest, user: UserInfo, attrs: RequestAttributes): void {
    if (this.decision) return;
    this.user = user;
    this.attrs = attrs;
    this.body = req;
    const d = (this.decision = this.o.policy()(user, attrs));
    if (d.level === 'None') return;
    this.frontProxy();
    this.write('RequestReceived');
    this.longRunning = attrs.verb === 'watch' || attrs.subresource === 'proxy';
    if (this.longRunning) this.interceptHeaders();
    else if (d.level === 'RequestResponse') this.captureBody();
  }

  responded(status: Status, unexpected: boolean): void {
    this.status = {
      metadata: {},
      status: 'Failure',
      message: status.message,
      reason: status.reason,
      code: status.code,
    };
    this.panicked = unexpected;
  }

  /** The response is over (sent, or the client went away): write the last stage. */
  finished(): void {
    let d = this.decision;
    if (!d) {
      const user = this.user ?? edgeUser(this.req);
      this.user = user;
      this.attrs = attributesFromPath(this.req.method ?? 'GET', this.req.url ?? '/');
      d = this.decision = this.o.policy()(user, this.attrs);
      if (d.level === 'None') return;
      this.frontProxy();
      if (!user && this.res.statusCode === 401) {
        // As the apiserver: a failed authentication is one ResponseStarted event saying what was attempted.
        this.status = { metadata: {}, message: authenticationFailure(this.req), reason: 'Unauthorized', code: 401 };
        this.write('ResponseStarted');
        return;
      }
      this.write('RequestReceived');
    }
    if (d.level === 'None') return;
    if (this.longRunning && !this.startedWritten) this.started(this.res.headersSent ? this.res.statusCode : 200);
    this.write(this.panicked ? 'Panic' : 'ResponseComplete');
  }

  private frontProxy(): void {
    if (this.asserted === undefined || this.user?.name !== this.asserted) return;
    const cn = peerCertificateOf(this.req)?.subject.CN;
    if (typeof cn === 'string') this.annotate(ANNOTATIONS.frontProxy, cn);
  }

  private started(code: number): void {
    if (this.startedWritten) return;
    this.startedWritten = true;
    this.write('ResponseStarted', code);
  }

  /** Long-running requests (watch, proxy) get a ResponseStarted event when their headers go out. */
  private interceptHeaders(): void {
    const res = this.res as unknown as { writeHead: (...a: unknown[]) => unknown };
    const writeHead = res.writeHead;
    res.writeHead = (...args: unknown[]) => {
      this.started(typeof args[0] === 'number' ? args[0] : 200);
      return writeHead.apply(this.res, args);
    };
  }

  /** RequestResponse: keep the body as it is written, up to the limit. */
  private captureBody(): void {
    const res = this.res as unknown as { write: (...a: unknown[]) => unknown; end: (...a: unknown[]) => unknown };
    const write = res.write;
    const end = res.end;
    this.chunks = [];
    const keep = (chunk: unknown) => {
      if (this.tooLarge || chunk === undefined || chunk === null || typeof chunk === 'function') return;
      const b =
        typeof chunk === 'string'
          ? Buffer.from(chunk)
          : chunk instanceof Uint8Array
            ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
            : undefined;
      if (!b) return;
      this.captured += b.length;
      if (this.captured > this.o.maxResponseBytes) {
        this.tooLarge = true;
        this.chunks = undefined;
      } else this.chunks?.push(b);
    };
    // HTTP/2's end(chunk) writes the chunk through write(): counted once.
    let ending = false;
    res.write = (...args: unknown[]) => {
      if (!ending) keep(args[0]);
      return write.apply(this.res, args);
    };
    res.end = (...args: unknown[]) => {
      keep(args[0]);
      ending = true;
      return end.apply(this.res, args);
    };
  }

  private responseObject(): unknown {
    if (this.tooLarge) {
      this.annotate(ANNOTATIONS.responseObject, `omitted: the response body is over ${this.o.maxResponseBytes} bytes`);
      return undefined;
    }
    if (!this.chunks || this.chunks.length === 0) return undefined;
    const body = Buffer.concat(this.chunks);
    // Only JSON objects (the content type often goes out with writeHead, unseen by getHeader).
    if (body[0] !== 0x7b) return undefined;
    try {
      return JSON.parse(body.toString('utf8')) as unknown;
    } catch {
      this.annotate(ANNOTATIONS.responseObject, 'omitted: the response body is not a JSON document');
      return undefined;
    }
  }

  private requestObject(): unknown {
    const b = this.body?.body;
    if (b === undefined || b === null || typeof b !== 'object' || b instanceof Readable || Buffer.isBuffer(b))
      return undefined;
    return b;
  }

  /** The `responseStatus` of a stage's event, as JSON with its leading comma (none for RequestReceived). */
  private statusPart(stage: Stage, code: number | undefined): string | Buffer | undefined {
    if (stage === 'RequestReceived') return undefined;
    let status: ResponseStatus | undefined;
    if (stage === 'Panic')
      status = {
        metadata: {},
        status: 'Failure',
        message: this.status?.message ?? 'internal error',
        reason: 'InternalError',
        code: 500,
      };
    else {
      const c = code ?? this.res.statusCode;
      if (this.status?.code !== c) return codeStatusBytes(c);
      status = this.status;
    }
    return maskSecrets(`,"responseStatus":${JSON.stringify(status)}`);
  }

  private write(stage: Stage, code?: number): void {
    const d = this.decision;
    if (!d || d.omitStages.has(stage)) return;
    const a = this.attrs;
    const resource = a?.resource !== undefined;
    const complete = stage === 'ResponseComplete' || stage === 'Panic';
    const rank = LEVEL_RANK[d.level];
    let requestObject: unknown;
    let responseObject: unknown;
    if (resource && rank >= LEVEL_RANK.Request && stage !== 'RequestReceived') requestObject = this.requestObject();
    if (resource && rank >= LEVEL_RANK.RequestResponse && complete) responseObject = this.responseObject();
    if (d.omitManagedFields) {
      requestObject = withoutManagedFields(requestObject);
      responseObject = withoutManagedFields(responseObject);
    }
    const limit = this.o.maxRequestBytes ?? this.o.maxResponseBytes;
    if (requestObject !== undefined && JSON.stringify(requestObject).length > limit) {
      requestObject = undefined;
      this.annotate(ANNOTATIONS.requestObject, `omitted: the request object is over ${limit} bytes`);
    }
    // What does not change between stages is serialized, masked and encoded once; the line is assembled in the
    // field order of the apiserver's Event (k8s.io/apiserver/pkg/apis/audit/v1). Secrets the adapters declared
    // never reach the log, whatever echoed them: every part that can carry outside text is masked.
    const fixed = (this.fixed ??= this.fixedFields(d));
    const status = this.statusPart(stage, code);
    const stamp = stage === 'RequestReceived' ? this.receivedStamp : microTime(nowMs());
    const parts: (string | Uint8Array)[] = [fixed.head, STAGE_BYTES[stage], fixed.middle];
    if (status !== undefined) parts.push(status);
    if (requestObject !== undefined) parts.push(maskSecrets(`,"requestObject":${JSON.stringify(requestObject)}`));
    if (responseObject !== undefined) parts.push(maskSecrets(`,"responseObject":${JSON.stringify(responseObject)}`));
    parts.push(
      this.annotations || this.decided
        ? `${fixed.stamps}${stamp}","annotations":${this.annotationsJson()}}`
        : `${fixed.stamps}${stamp}"}`,
    );
    this.o.sink.push(parts);
  }

  /** The event up to `stage`, from `requestURI` to `objectRef`, and the timestamps' start, as JSON. */
  private fixedFields(d: AuditDecision): { head: Buffer; middle: Buffer; stamps: string } {
    const a = this.attrs;
    const ua = this.req.headers['user-agent'];
    const str = JSON.stringify;
    const head = `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"${d.level}","auditID":${str(this.id)},"stage":`;
    const uri = recordedRequestURI(this.req.url ?? '/', a?.subresource === 'proxy');
    const verb = a?.verb ?? (this.req.method ?? 'get').toLowerCase();
    let middle = `,"requestURI":${str(uri)},"verb":${str(verb)},"user":${auditUserJson(this.user)},"sourceIPs":${sourceIPs(this.req)}`;
    if (typeof ua === 'string') middle += `,"userAgent":${agentJson(ua)}`;
    if (a?.resource !== undefined) {
      middle += `,"objectRef":{"resource":${str(a.resource)}`;
      if (a.namespace !== undefined) middle += `,"namespace":${str(a.namespace)}`;
      if (a.name !== undefined) middle += `,"name":${str(a.name)}`;
      middle += `,"apiGroup":${str(a.group ?? '')}`;
      if (a.version !== undefined) middle += `,"apiVersion":${str(a.version)}`;
      if (a.subresource !== undefined) middle += `,"subresource":${str(a.subresource)}`;
      middle += '}';
    }
    // One encoding for both: the head is ASCII (the level, and an audit ID of word characters).
    const h = maskSecrets(head);
    const both = Buffer.from(h + maskSecrets(middle));
    return {
      head: both.subarray(0, h.length),
      middle: both.subarray(h.length),
      stamps: `,"requestReceivedTimestamp":"${this.receivedStamp}","stageTimestamp":"`,
    };
  }
}

/** The response closed (sent, or the client went away): one listener for all, no closure per request. */
function finishAudit(this: RawResponse): void {
  auditOf(this.req)?.finished();
}

/**
 * The audit of requests, in front of kubegate's edge: each request gets an Audit-ID (the aggregator's, or a new
 * one; echoed as the `Audit-ID` header) and its events are written when it is resolved (the gate), when a
 * long-running response starts, and when it ends. Requests refused before routing (401, odd methods) are audited
 * from their path. See docs/operations.md, "Auditing".
 *
 * @example
 * const audit = createAuditor({ policy: () => compilePolicy(DEFAULT_POLICY), sink, maxResponseBytes: 65536 });
 * createHttpServer({ ...o, edge: (next) => audit(createEdge(edgeOptions)(next)) });
 */
export function createAuditor(o: AuditorOptions): (next: RequestListener) => RequestListener {
  return (next) => (req, res) => {
    const a = new RequestAudit(o, req, res);
    (req as Audited)[AUDIT] = a;
    // Lower case, as HTTP/2 sends it: a name to lower-case would be a new string, looked up on every response.
    res.setHeader(AUDIT_ID_HEADER, a.id);
    res.on('close', finishAudit);
    const wait = o.sink.room();
    if (wait) void wait.then(() => next(req, res));
    else next(req, res);
  };
}

/** The gate resolved the user and the attributes of a request (writes RequestReceived). */
export function auditRequest(req: AuditedRequest, user: UserInfo, attrs: RequestAttributes): void {
  auditOf(req.raw)?.requested(req, user, attrs);
}

/** The authorizer's decision, as the apiserver's `authorization.k8s.io/*` annotations. */
export function auditDecision(raw: object, allowed: boolean, reason: string | undefined): void {
  const a = auditOf(raw);
  if (!a) return;
  a.decide(allowed, reason ?? '');
}

/** The Status a request was answered with; `unexpected`: a handler failed (the Panic stage). */
export function auditStatus(raw: object, status: Status, unexpected: boolean): void {
  auditOf(raw)?.responded(status, unexpected);
}

/** Adds an annotation to the request's events (short values; never a credential). */
export function auditAnnotate(raw: object, key: string, value: string): void {
  auditOf(raw)?.annotate(key, value);
}

/** A proxied call: the upstream method, path (never the query or credentials in the URL) and, once known, status. */
export function auditUpstream(raw: object, method: string, url: URL | string, status?: number): void {
  const a = auditOf(raw);
  if (!a) return;
  if (status === undefined) {
    a.annotate(ANNOTATIONS.upstreamMethod, method);
    let path = '';
    try {
      path = (typeof url === 'string' ? new URL(url) : url).pathname;
    } catch {
      // not a URL: nothing recorded
    }
    a.annotate(ANNOTATIONS.upstreamPath, path);
  } else a.annotate(ANNOTATIONS.upstreamStatus, String(status));
}
