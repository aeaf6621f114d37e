/**
 * Runs the fake payments API standalone.
 *
 * @example
 * PORT=4010 PAYMENTS_API_KEY=sk_test_mine CHARGE_EVERY_MS=5000 node examples/fake-payments/main.ts
 * curl -H "Authorization: Bearer sk_test_mine" "http://127.0.0.1:4010/v1/charges?limit=2"
 */
import { startFakePayments } from './server.ts';

const num = (v: string | undefined): number | undefined => (v ? Number(v) : undefined);
const port = num(process.env.PORT) ?? 4010;
const charges = num(process.env.CHARGES);
const seed = num(process.env.SEED);
const rate = num(process.env.RATE_LIMIT);
const chargeEveryMs = num(process.env.CHARGE_EVERY_MS);

const fake = await startFakePayments({
  port,
  ...(process.env.PAYMENTS_API_KEY ? { apiKey: process.env.PAYMENTS_API_KEY } : {}),
  ...(charges !== undefined ? { charges } : {}),
  ...(seed !== undefined ? { seed } : {}),
  ...(chargeEveryMs !== undefined ? { chargeEveryMs } : {}),
});
if (rate !== undefined) fake.setRateLimit(rate);

// The key is printed on purpose: it is the fake's own test key, needed to call it.
console.log(`fake payments API on ${fake.url} (key ${fake.apiKey})`);
console.log(`  curl -H "Authorization: Bearer ${fake.apiKey}" "${fake.url}/v1/charges?limit=3"`);

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    void fake.close().then(() => process.exit(0));
  });
