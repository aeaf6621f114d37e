import { EventEmitter } from 'node:events';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import type { RequestAttributes } from '../auth/types.ts';
import { internal } from '../k8s/errors.ts';
import { toStatus } from '../k8s/errors.ts';
import { compilePolicy, validatePolicy } from './policy.ts';
import { auditDecision, auditRequest, auditStatus, auditUpstream, createAuditor } from './recorder.ts';
import { lineText, type AuditSink } from './sink.ts';
import { setSecrets } from '../observability/mask.ts';
import { EventSchema, type AuditEvent } from './types.ts';

const user = { name: 'alice', groups: ['devs', 'system:authenticated'] };
const get: RequestAttributes = {
  verb: 'get',
  group: 'payments.kubegate.dev',
  version: 'v1alpha1',
  resource: 'charges',
  namespace: 'checkout',
  name: 'c1',
};

/** An auditor over fake Node requests, collecting the events it writes (each checked against the schema). */
function harness(rules: unknown[], o: { maxResponseBytes?: number; omitManagedFields?: boolean } = {}) {
  const lines: string[] = [];
  const sink: AuditSink = {
    push: (l) => (lines.push(lineText(l)), true),
    room: () => undefined,
    problem: () => undefined,
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  const policy = compilePolicy(
    validatePolicy({
      apiVersion: 'audit.k8s.io/v1',
      kind: 'Policy',
      rules,
      ...(o.omitManagedFields ? { omitManagedFields: true } : {}),
    }),
  );
  const edge = createAuditor({ policy: () => policy, sink, maxResponseBytes: o.maxResponseBytes ?? 1024 })(
    () => undefined,
  );
  const request = (url: string, headers: Record<string, string> = {}) => {
    const req = {
      headers: { 'user-agent': 'kubectl/v1.32', ...headers },
      url,
      method: 'GET',
      socket: { remoteAddress: '10.0.0.9' },
    };
    const sent: Record<string, string> = {};
    const res = Object.assign(new EventEmitter(), {
      // As Node's responses: the request they answer.
      req,
      statusCode: 200,
      headersSent: false,
      setHeader: (k: string, v: string) => void (sent[k] = v),
      writeHead(code: number) {
        res.statusCode = code;
        res.headersSent = true;
      },
      // What the body was is read by the auditor's own wrappers; the fake only accepts it.
      write: (chunk: unknown) => chunk !== null,
      end: (chunk?: unknown) => chunk,
    });
    edge(req as never, res as never);
    return { req, res, sent };
  };
  const events = () =>
    lines.map((l) => {
      const ev = JSON.parse(l) as unknown;
      expect(Value.Errors(EventSchema, ev).First()).toBeUndefined();
      return ev as AuditEvent;
    });
  return { request, events };
}

describe('audit events of a request', () => {
  it('RequestReceived then ResponseComplete with one auditID, the Audit-ID header, an incoming ID kept', () => {
    const h = harness([{ level: 'Metadata' }]);
    const { req, res, sent } = h.request('/apis/payments.kubegate.dev/v1alpha1/namespaces/checkout/charges/c1', {
      'audit-id': 'from-the-aggregator-1',
      'x-forwarded-for': '192.0.2.1, 198.51.100.2',
    });
    auditRequest({ raw: req }, user, get);
    auditDecision(req, true, 'RBAC: allowed');
    res.writeHead(200);
    res.emit('close');
    const [received, complete] = h.events();
    expect(sent['audit-id']).toBe('from-the-aggregator-1');
    expect(received).toMatchObject({ stage: 'RequestReceived', auditID: 'from-the-aggregator-1' });
    expect(received?.annotations).toBeUndefined();
    expect(received?.stageTimestamp).toBe(received?.requestReceivedTimestamp);
    expect(complete).toMatchObject({
      stage: 'ResponseComplete',
      auditID: 'from-the-aggregator-1',
      sourceIPs: ['192.0.2.1', '198.51.100.2', '10.0.0.9'],
      responseStatus: { metadata: {}, code: 200 },
      annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': 'RBAC: allowed' },
    });
  });

  it('a handler that fails unexpectedly: a Panic event instead of ResponseComplete', () => {
    const h = harness([{ level: 'Metadata' }]);
    const { req, res } = h.request('/apis/payments.kubegate.dev/v1alpha1/namespaces/checkout/charges/c1');
    auditRequest({ raw: req }, user, get);
    auditStatus(req, toStatus(new TypeError('x is undefined')), true);
    res.writeHead(500);
    res.emit('close');
    expect(h.events().map((e) => e.stage)).toEqual(['RequestReceived', 'Panic']);
    expect(h.events()[1]?.responseStatus).toMatchObject({ code: 500, reason: 'InternalError', status: 'Failure' });
  });

  it('a Status error keeps its message and reason', () => {
    const h = harness([{ level: 'Metadata' }]);
    const { req, res } = h.request('/apis/payments.kubegate.dev/v1alpha1/namespaces/checkout/charges/c1');
    auditRequest({ raw: req }, user, get);
    auditStatus(req, toStatus(internal('the upstream failed')), false);
    res.writeHead(500);
    res.emit('close');
    expect(h.events()[1]).toMatchObject({
      stage: 'ResponseComplete',
      responseStatus: { code: 500, reason: 'InternalError', message: 'the upstream failed' },
    });
  });

  it('declared secrets are masked wherever outside text lands: URI, user agent, status message, annotations', () => {
    const secret = 'sk_test_0123456789abcdef';
    setSecrets('recorder-test', [secret]);
    try {
      const h = harness([{ level: 'Metadata' }]);
      const { req, res } = h.request(
        `/apis/payments.kubegate.dev/v1alpha1/namespaces/checkout/charges?labelSelector=k%3D${secret}`,
        { 'user-agent': `curl ${secret}` },
      );
      auditRequest({ raw: req }, user, { ...get, verb: 'list' });
      auditUpstream(req, 'GET', `https://api.example/v1/${secret}`);
      auditStatus(req, toStatus(internal(`the upstream refused ${secret}`)), false);
      res.writeHead(500);
      res.emit('close');
      const text = JSON.stringify(h.events());
      expect(text).not.toContain(secret);
      const [received, complete] = h.events();
      expect(received?.userAgent).toBe('curl [masked]');
      expect(complete?.requestURI).toContain('[masked]');
      expect(complete?.responseStatus?.message).toBe('the upstream refused [masked]');
      expect(complete?.annotations?.['proxy.kubegate.dev/upstream-path']).toBe('/v1/[masked]');
    } finally {
      setSecrets('recorder-test', []);
    }
  });

  it('requests on one connection: the peer is read once, forwarded addresses per request', () => {
    const h = harness([{ level: 'Metadata', omitStages: ['RequestReceived'] }]);
    const socket = { remoteAddress: '10.0.0.7' };
    for (const headers of [{}, { 'x-forwarded-for': '192.0.2.5' }, {}] as Record<string, string>[]) {
      const { req, res } = h.request('/apis/payments.kubegate.dev/v1alpha1/namespaces/checkout/charges/c1', headers);
      req.socket = socket;
      auditRequest({ raw: req }, user, get);
      res.emit('close');
    }
    expect(h.events().map((e) => e.sourceIPs)).toEqual([['10.0.0.7'], ['192.0.2.5', '10.0.0.7'], ['10.0.0.7']]);
  });

  it('RequestResponse: the JSON body, or an annotation when it is over the limit; managed fields omitted', () => {
    const h = harness([{ level: 'RequestResponse' }], { maxResponseBytes: 200, omitManagedFields: true });
    const small = h.request('/apis/payments.kubegate.dev/v1alpha1/namespaces/checkout/charges/c1');
    auditRequest(
      { raw: small.req, body: { kind: 'Charge', metadata: { name: 'c1', managedFields: [{}] } } },
      user,
      get,
    );
    small.res.writeHead(200);
    small.res.end(Buffer.from(JSON.stringify({ kind: 'Charge', metadata: { name: 'c1', managedFields: [{ x: 1 }] } })));
    small.res.emit('close');
    const big = h.request('/apis/payments.kubegate.dev/v1alpha1/namespaces/checkout/charges/c2');
    auditRequest({ raw: big.req }, user, { ...get, name: 'c2' });
    big.res.writeHead(200);
    big.res.write(JSON.stringify({ kind: 'Charge', pad: 'x'.repeat(300) }));
    big.res.end();
    big.res.emit('close');
    const [, first, , second] = h.events();
    expect(first?.responseObject).toEqual({ kind: 'Charge', metadata: { name: 'c1' } });
    expect(first?.requestObject).toEqual({ kind: 'Charge', metadata: { name: 'c1' } });
    expect(second?.responseObject).toBeUndefined();
    expect(second?.annotations?.['audit.kubegate.dev/response-object']).toBe(
      'omitted: the response body is over 200 bytes',
    );
  });

  it('a proxied call: ResponseStarted when headers go out; upstream annotations; no query recorded', () => {
    const h = harness([{ level: 'Metadata', omitStages: ['RequestReceived'] }]);
    const { req, res } = h.request(
      '/apis/payments.kubegate.dev/v1alpha1/namespaces/checkout/charges/c1/proxy/x?token=abc123secret',
    );
    auditRequest({ raw: req }, user, { ...get, subresource: 'proxy' });
    auditUpstream(req, 'GET', new URL('https://user:pw@api.example.com/v1/charges/ch_1?key=sk_123'));
    auditUpstream(req, 'GET', '', 201);
    res.writeHead(201);
    res.emit('close');
    const evs = h.events();
    expect(evs.map((e) => e.stage)).toEqual(['ResponseStarted', 'ResponseComplete']);
    expect(evs[0]?.responseStatus).toEqual({ metadata: {}, code: 201 });
    expect(evs[1]).toMatchObject({
      requestURI: '/apis/payments.kubegate.dev/v1alpha1/namespaces/checkout/charges/c1/proxy/x',
      annotations: {
        'proxy.kubegate.dev/upstream-method': 'GET',
        'proxy.kubegate.dev/upstream-path': '/v1/charges/ch_1',
        'proxy.kubegate.dev/upstream-status': '201',
      },
    });
    const all = JSON.stringify(evs);
    for (const secret of ['abc123secret', 'sk_123', 'pw@']) expect(all).not.toContain(secret);
  });

  it('a request refused before the gate is audited from its path; a credential-like query value is redacted', () => {
    const h = harness([{ level: 'None', verbs: ['list'] }, { level: 'Metadata' }]);
    const { res } = h.request(
      '/apis/payments.kubegate.dev/v1alpha1/namespaces/checkout/charges/c1?access_token=abcdef&pretty=1',
    );
    res.writeHead(405);
    res.emit('close');
    expect(h.events()[1]).toMatchObject({
      verb: 'get',
      requestURI: '/apis/payments.kubegate.dev/v1alpha1/namespaces/checkout/charges/c1?access_token=REDACTED&pretty=1',
      objectRef: { resource: 'charges', namespace: 'checkout', name: 'c1', apiGroup: 'payments.kubegate.dev' },
      responseStatus: { code: 405, reason: 'MethodNotAllowed', status: 'Failure' },
    });
    const listed = h.request('/apis/payments.kubegate.dev/v1alpha1/charges');
    listed.res.emit('close');
    expect(h.events()).toHaveLength(2); // level None for lists
  });
});
