import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startFakeAccounts, type FakeAccounts } from '../../examples/fake-payments/accounts.ts';
import { idToName } from '../../adapters/payments/names.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { kubectlOk } from '../helpers/kubectl.ts';

// Namespaces bound to payments accounts (config.accounts): each namespace's charges are its account's, read
// with its own key, and its watch sees its account's changes only.
const KEY_A = 'sk_test_checkoutAccount0001';
const KEY_B = 'sk_test_billingAccount00002';
let f: FakeAccounts;
let gw: TestGateway;

beforeAll(async () => {
  f = await startFakeAccounts([
    { apiKey: KEY_A, seed: 1, charges: 8 },
    { apiKey: KEY_B, seed: 2, charges: 11 },
  ]);
  process.env.KG_TEST_BILLING_KEY = KEY_B;
  gw = await startTestGateway({
    adapters: [
      {
        name: 'payments',
        module: './adapters/payments/index.ts',
        config: {
          baseUrl: f.url,
          apiKey: KEY_A,
          accounts: [
            { namespace: 'checkout', apiKey: KEY_A },
            { namespace: 'billing', apiKey: '${env:KG_TEST_BILLING_KEY}' },
          ],
        },
      },
    ],
  });
});
afterAll(async () => {
  await gw.close();
  await f.close();
});

const names = async (args: string[]) =>
  (await kubectlOk(gw.kubeconfig, ['get', 'charges', ...args, '-o', 'name'])).trim().split('\n').filter(Boolean);

describe('payments accounts', () => {
  it("kubectl get charges -n <ns> lists that namespace's account; -A lists every account", async () => {
    expect(await names(['-n', 'checkout'])).toHaveLength(8);
    expect(await names(['-n', 'billing'])).toHaveLength(11);
    expect(await names(['-n', 'growth'])).toHaveLength(0);
    expect(await names(['-A', '--chunk-size', '5'])).toHaveLength(19);
  });

  it("a namespace's watch sees its own account's new charges only", async () => {
    const p = spawn('kubectl', [
      '--kubeconfig',
      gw.kubeconfig,
      'get',
      'charges',
      '-n',
      'billing',
      '-w',
      '--output-watch-events',
    ]);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await vi.waitFor(() => expect(out).toContain('ADDED'), { timeout: 15_000 });
      const other = f.accounts[0]!.add();
      const mine = f.accounts[1]!.add();
      await vi.waitFor(() => expect(out).toContain(idToName(mine.id)), { timeout: 15_000, interval: 50 });
      expect(out).not.toContain(idToName(other.id));
    } finally {
      p.kill();
    }
  });
});
