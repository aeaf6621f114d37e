import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakePayments, type Charge, type FakePayments } from '../../examples/fake-payments/server.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { kubectl, kubectlOk } from '../helpers/kubectl.ts';

// Writes through an adapter: payments refunds created, labeled and deleted (canceled) with the real kubectl,
// reaching the fake Stripe-shaped upstream once per object whatever is retried.
let pay: FakePayments;
let gw: TestGateway;
let charge: Charge;
let dir: string;
const P = '/apis/payments.kubegate.dev/v1alpha1';
const NS = `${P}/namespaces/checkout/refunds`;

beforeAll(async () => {
  pay = await startFakePayments({ port: 0, charges: 20 });
  charge = pay.add({ status: 'succeeded', amount: 50_000, amount_refunded: 0, refunded: false, currency: 'eur' });
  dir = mkdtempSync(join(tmpdir(), 'kubegate-writes-'));
  gw = await startTestGateway({
    adapters: [
      {
        name: 'payments',
        module: './adapters/payments/index.ts',
        config: { baseUrl: pay.url, apiKey: pay.apiKey },
        // Polls rarely: what a test sees right after a write comes from the poll the write triggers.
        pollInterval: '1h',
        resilience: { backoffInitial: '10ms' },
      },
    ],
  });
});
afterAll(async () => {
  await gw.close();
  await pay.close();
  rmSync(dir, { recursive: true, force: true });
});

function refundYaml(name: string, spec: Record<string, unknown>, extra = ''): string {
  const f = join(dir, `${name}-${Math.random().toString(36).slice(2)}.yaml`);
  const specYaml = Object.entries(spec)
    .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)
    .join('\n');
  writeFileSync(
    f,
    `apiVersion: payments.kubegate.dev/v1alpha1\nkind: Refund\nmetadata:\n  name: ${name}\n  namespace: checkout\n${extra}spec:\n${specYaml}\n`,
  );
  return f;
}

/** A request straight to the gateway with the test user's token. */
function send(
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; json: () => Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      gw.url + path,
      {
        method,
        ca: gw.certs.ca.cert,
        headers: { authorization: `Bearer ${gw.token}`, 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: text, json: () => JSON.parse(text) as Record<string, unknown> }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const refundJson = (name: string, spec: Record<string, unknown>, meta: Record<string, unknown> = {}) =>
  JSON.stringify({
    apiVersion: 'payments.kubegate.dev/v1alpha1',
    kind: 'Refund',
    metadata: { name, ...meta },
    spec,
  });

describe('kubectl create', () => {
  it('creates through the upstream once; the object is in get and list at once; a resubmission is AlreadyExists', async () => {
    const before = { ...pay.refunds.counters };
    const f = refundYaml('r1', { charge: charge.id, amount: 500, reason: 'duplicate' }, '  labels:\n    ticket: t-1\n');
    expect((await kubectlOk(gw.kubeconfig, ['create', '-f', f])).trim()).toBe(
      'refund.payments.kubegate.dev/r1 created',
    );
    expect(pay.refunds.counters.created - before.created).toBe(1);
    const got = JSON.parse(await kubectlOk(gw.kubeconfig, ['get', 'refund', 'r1', '-n', 'checkout', '-o', 'json'])) as {
      metadata: { labels: Record<string, string>; resourceVersion: string };
      spec: { amount: number };
      status: { status: string; amountDisplay: string };
    };
    expect(got.spec.amount).toBe(500);
    expect(got.status).toMatchObject({ status: 'pending', amountDisplay: '5.00 EUR' });
    expect(got.metadata.labels).toEqual({ ticket: 't-1' });
    expect(got.metadata.resourceVersion).not.toBe('');
    // The client sends the same create again: the name is taken, the upstream is not asked to refund twice.
    const again = await kubectl(gw.kubeconfig, ['create', '-f', f]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('(AlreadyExists)');
    expect(again.stderr).toContain('refunds.payments.kubegate.dev "r1" already exists');
    expect(pay.refunds.counters.created - before.created).toBe(1);
    expect(pay.refunds.counters.createRequests - before.createRequests).toBe(1);
  });

  it('retries a create whose answer was lost with the same idempotency key: the upstream refunds once', async () => {
    const before = { ...pay.refunds.counters };
    pay.refunds.dropNextCreateAnswer();
    const f = refundYaml('r-lost', { charge: charge.id, amount: 300 });
    expect((await kubectlOk(gw.kubeconfig, ['create', '-f', f])).trim()).toBe(
      'refund.payments.kubegate.dev/r-lost created',
    );
    expect(pay.refunds.counters.createRequests - before.createRequests).toBe(2);
    expect(pay.refunds.counters.replayed - before.replayed).toBe(1);
    expect(pay.refunds.counters.created - before.created).toBe(1);
    expect(pay.refunds.refunds.filter((r) => r.metadata.kubegate_name === 'r-lost')).toHaveLength(1);
  });

  it('two clients sending the same create at once make one refund (the same key reaches the upstream)', async () => {
    const before = { ...pay.refunds.counters };
    const body = refundJson('r-twice', { charge: charge.id, amount: 200 });
    const answers = await Promise.all([send('POST', NS, body), send('POST', NS, body)]);
    for (const a of answers) expect([201, 409]).toContain(a.status);
    expect(answers.some((a) => a.status === 201)).toBe(true);
    expect(pay.refunds.counters.created - before.created).toBe(1);
  });

  it('generateName gets a fresh name per create', async () => {
    const body = JSON.stringify({
      apiVersion: 'payments.kubegate.dev/v1alpha1',
      kind: 'Refund',
      metadata: { generateName: 'gen-' },
      spec: { charge: charge.id, amount: 100 },
    });
    const a = await send('POST', NS, body);
    const b = await send('POST', NS, body);
    expect([a.status, b.status]).toEqual([201, 201]);
    const names = [a, b].map((x) => (x.json().metadata as { name: string }).name);
    for (const n of names) expect(n).toMatch(/^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(names[0]).not.toBe(names[1]);
  });

  it('--dry-run=server answers the would-be object and never reaches the upstream', async () => {
    const before = { ...pay.refunds.counters };
    const f = refundYaml('r-dry', { charge: charge.id, amount: 100 });
    const out = await kubectlOk(gw.kubeconfig, ['create', '--dry-run=server', '-f', f, '-o', 'json']);
    expect(JSON.parse(out)).toMatchObject({
      metadata: { name: 'r-dry', namespace: 'checkout' },
      spec: { amount: 100 },
    });
    expect(pay.refunds.counters).toEqual(before);
    const missing = await kubectl(gw.kubeconfig, ['get', 'refund', 'r-dry', '-n', 'checkout']);
    expect(missing.stderr).toContain('NotFound');
    const bad = await send('POST', `${NS}?dryRun=Some`, refundJson('r-dry', { charge: charge.id, amount: 1 }));
    expect(bad.status).toBe(400);
    // A dry run still runs validation: an invalid object is 422 even then.
    const invalid = await send('POST', `${NS}?dryRun=All`, refundJson('r-dry', { charge: charge.id, amount: 0 }));
    expect(invalid.status).toBe(422);
    expect(pay.refunds.counters).toEqual(before);
  });

  it('an invalid object gets the apiserver 422 Invalid, as kubectl prints it', async () => {
    const before = { ...pay.refunds.counters };
    const f = refundYaml('bad', { charge: charge.id, amount: -5 });
    const r = await kubectl(gw.kubeconfig, ['create', '-f', f]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe('The Refund "bad" is invalid: spec.amount: Invalid value: -5: must be greater than 0');
    const raw = await send('POST', NS, refundJson('bad', { charge: charge.id, amount: -5 }));
    expect(raw.status).toBe(422);
    expect(raw.json()).toMatchObject({
      kind: 'Status',
      reason: 'Invalid',
      code: 422,
      message: 'Refund.payments.kubegate.dev "bad" is invalid: spec.amount: Invalid value: -5: must be greater than 0',
      details: {
        name: 'bad',
        group: 'payments.kubegate.dev',
        kind: 'Refund',
        causes: [
          { reason: 'FieldValueInvalid', message: 'Invalid value: -5: must be greater than 0', field: 'spec.amount' },
        ],
      },
    });
    const several = await send('POST', NS, refundJson('bad', { amount: 1, reason: 'bored' }));
    expect(several.json()).toMatchObject({
      message:
        'Refund.payments.kubegate.dev "bad" is invalid: [spec.charge: Required value, spec.reason: Unsupported value: "bored": supported values: "duplicate", "fraudulent", "requested_by_customer"]',
      details: {
        causes: [
          { reason: 'FieldValueRequired', field: 'spec.charge' },
          { reason: 'FieldValueNotSupported', field: 'spec.reason' },
        ],
      },
    });
    // What only the upstream knows comes back as a field error too, without its text.
    const tooMuch = await send('POST', NS, refundJson('too-much', { charge: charge.id, amount: 10_000_000 }));
    expect(tooMuch.status).toBe(422);
    expect((tooMuch.json() as { message: string }).message).toBe(
      'Refund.payments.kubegate.dev "too-much" is invalid: spec.amount: Invalid value: 10000000: more than is left to refund on the charge',
    );
    expect(pay.refunds.counters.created).toBe(before.created);
  });

  it('bad requests get a Status naming the problem', async () => {
    const cases: [string, string, Record<string, string>, number, RegExp][] = [
      ['POST', '{"apiVersion": ', {}, 400, /not valid JSON/],
      ['POST', refundJson('x', {}).replace('v1alpha1', 'v9'), {}, 400, /API version in the data/],
      ['POST', refundJson('x', {}).replace('"Refund"', '"Charge"'), {}, 400, /kind in the data \(Charge\)/],
      ['POST', refundJson('x', {}, { namespace: 'billing' }), {}, 400, /namespace of the provided object/],
      ['POST', refundJson('x', {}), { 'content-type': 'text/plain' }, 415, /accepted media types/],
      ['POST', '', {}, 400, /empty/],
      ['POST', refundJson('x', { charge: charge.id, amount: 1, tip: 1 }), {}, 200, /./],
    ];
    for (const [method, body, headers, code, msg] of cases) {
      const r = await send(method, `${NS}?dryRun=All${code === 200 ? '&fieldValidation=Strict' : ''}`, body, headers);
      if (code === 200) {
        expect(r.status).toBe(400);
        expect(r.body).toContain('strict decoding error: unknown field \\"spec.tip\\"');
        continue;
      }
      expect(r.status, body).toBe(code);
      expect((r.json() as { message: string }).message).toMatch(msg);
    }
    const big = await send('POST', NS, JSON.stringify({ pad: 'x'.repeat(3 << 20) }));
    expect(big.status).toBe(413);
    const yaml = await send(
      'POST',
      `${NS}?dryRun=All`,
      `apiVersion: payments.kubegate.dev/v1alpha1\nkind: Refund\nmetadata: {name: y}\nspec: {charge: ${charge.id}, amount: 1}\n`,
      { 'content-type': 'application/yaml' },
    );
    expect(yaml.status).toBe(201);
    const put = await send('PUT', `${NS}/r1`, refundJson('other', { charge: charge.id, amount: 500 }));
    expect(put.status).toBe(400);
    expect((put.json() as { message: string }).message).toBe(
      'the name of the object (other) does not match the name on the URL (r1)',
    );
    const apply = await send('PATCH', `${NS}/r1`, '{}', { 'content-type': 'application/apply-patch+yaml' });
    expect(apply.status).toBe(415);
  });

  it('the new object appears in a running kubectl get -w', async () => {
    const p = spawn('kubectl', ['--kubeconfig', gw.kubeconfig, 'get', 'refunds', '-n', 'checkout', '-w']);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await vi.waitFor(() => expect(out).toMatch(/^r1\s/m), { timeout: 15_000, interval: 100 });
      const f = refundYaml('r-watched', { charge: charge.id, amount: 150 });
      await kubectlOk(gw.kubeconfig, ['create', '-f', f]);
      await vi.waitFor(() => expect(out).toMatch(/^r-watched\s+ch_\S+\s+1\.50 EUR\s+pending/m), {
        timeout: 15_000,
        interval: 100,
      });
    } finally {
      p.kill();
    }
  });
});

describe('kubectl label and delete', () => {
  it('labels go to the upstream; the spec is immutable', async () => {
    expect((await kubectlOk(gw.kubeconfig, ['label', 'refund', 'r1', '-n', 'checkout', 'owner=ops'])).trim()).toBe(
      'refund.payments.kubegate.dev/r1 labeled',
    );
    expect(pay.refunds.refunds.find((r) => r.metadata.kubegate_name === 'r1')?.metadata.owner).toBe('ops');
    const patch = await kubectl(gw.kubeconfig, [
      'patch',
      'refund',
      'r1',
      '-n',
      'checkout',
      '--type=merge',
      '-p',
      '{"spec":{"amount":7}}',
    ]);
    expect(patch.stderr.trim()).toBe('The Refund "r1" is invalid: spec.amount: Invalid value: 7: field is immutable');
    const stale = await send(
      'PUT',
      `${NS}/r1`,
      refundJson('r1', { charge: charge.id, amount: 500 }, { resourceVersion: '1' }),
    );
    expect(stale.status).toBe(409);
    expect((stale.json() as { reason: string }).reason).toBe('Conflict');
  });

  it('kubectl delete cancels a pending refund; a settled one cannot be deleted', async () => {
    const before = pay.refunds.counters.cancels;
    expect((await kubectlOk(gw.kubeconfig, ['delete', 'refund', 'r1', '-n', 'checkout'])).trim()).toBe(
      'refund.payments.kubegate.dev "r1" deleted',
    );
    expect(pay.refunds.counters.cancels - before).toBe(1);
    expect(pay.refunds.refunds.find((r) => r.metadata.kubegate_name === 'r1')?.status).toBe('canceled');
    const gone = await kubectl(gw.kubeconfig, ['get', 'refund', 'r1', '-n', 'checkout']);
    expect(gone.stderr.trim()).toBe('Error from server (NotFound): refunds.payments.kubegate.dev "r1" not found');
    const settled = pay.refunds.refunds.find((r) => r.metadata.kubegate_name === 'r-lost');
    pay.refunds.setStatus(settled!.id, 'succeeded');
    await gw.gateway.runtime.collections.find((c) => c.info.plural === 'refunds')?.poller.pollNow();
    const refused = await kubectl(gw.kubeconfig, ['delete', 'refund', 'r-lost', '-n', 'checkout']);
    expect(refused.stderr.trim()).toBe(
      'Error from server (Conflict): refund "r-lost" cannot be deleted: the payments API cancels only pending refunds, and this one is succeeded',
    );
    const dry = await kubectl(gw.kubeconfig, ['delete', 'refund', 'r-twice', '-n', 'checkout', '--dry-run=server']);
    expect(dry.stdout.trim()).toBe('refund.payments.kubegate.dev "r-twice" deleted (server dry run)');
    expect(pay.refunds.counters.cancels - before).toBe(2);
  });
});

describe('discovery', () => {
  it('lists the write verbs of refunds only; charges still answer writes with 405', async () => {
    const out = await kubectlOk(gw.kubeconfig, ['api-resources', '--api-group=payments.kubegate.dev', '-o', 'wide']);
    expect(out).toMatch(/^refunds\s.*\sRefund\s+get,list,watch,create,delete,update,patch\s/m);
    // Charges declare no writes (whether they can be watched is not this test's business).
    expect(out).toMatch(/^charges\s.*\sCharge\s+get,list(,watch)?\s/m);
    const post = await send('POST', `${P}/namespaces/checkout/charges`, '{}');
    expect(post.status).toBe(405);
    const explain = await kubectlOk(gw.kubeconfig, ['explain', 'refunds.spec']);
    expect(explain).toContain('amount\t<integer> -required-');
  });
});
