import type { components } from '../../adapters/payments/upstream.ts';

/** A charge as the payments API serializes it (the type generated from the adapter's openapi.yaml). */
export type Charge = components['schemas']['Charge'];

/** Teams written to `metadata.team`; one needs sanitizing into a namespace, and some charges have none. */
export const TEAMS = ['checkout', 'billing', 'growth', 'Mobile Apps', 'platform'] as const;

/** Time of the newest seeded charge (2025-01-01T00:00:00Z): fixed so that seeded data never depends on the clock. */
export const SEED_EPOCH = 1_735_689_600;

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'.split('');
const CURRENCIES = ['eur', 'eur', 'usd', 'usd', 'gbp', 'jpy'] as const;
const FAILURES = [
  ['card_declined', 'Your card was declined.'],
  ['expired_card', 'Your card has expired.'],
  ['insufficient_funds', 'Your card has insufficient funds.'],
  ['processing_error', 'An error occurred while processing your card. Try again in a little bit.'],
] as const;

/** mulberry32: a tiny deterministic PRNG, so the same seed always yields the same charges. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Generator of realistic charges: Stripe-like mixed-case ids, ~20 customers, ~5 teams. */
export interface ChargeFactory {
  /** The customer ids charges are drawn from. */
  customers: string[];
  /** A new charge created at `created` (unix seconds), with fields overridden by `patch`. */
  make(created: number, patch?: Partial<Charge>): Charge;
}

/**
 * Creates a deterministic charge generator.
 *
 * @example
 * const f = createChargeFactory(1);
 * f.make(1_735_689_600).id; // always the same "ch_3..." for seed 1
 */
export function createChargeFactory(seed: number, customerCount = 20): ChargeFactory {
  const rnd = prng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const token = (n: number) => Array.from({ length: n }, () => pick(ALNUM)).join('');
  const customers = Array.from({ length: customerCount }, () => `cus_${token(14)}`);
  const emails = new Map(customers.map((c, i) => [c, `billing@customer-${i + 1}.example`]));
  let invoice = 1000;

  const make = (created: number, patch: Partial<Charge> = {}): Charge => {
    const currency = pick(CURRENCIES);
    const amount = currency === 'jpy' ? int(1, 500) * 100 : int(50, 50_000);
    const roll = rnd();
    const status: Charge['status'] = roll < 0.85 ? 'succeeded' : roll < 0.93 ? 'pending' : 'failed';
    const customer = rnd() < 0.1 ? null : pick(customers);
    const refundRoll = rnd();
    const amountRefunded =
      status !== 'succeeded' ? 0 : refundRoll < 0.05 ? amount : refundRoll < 0.1 ? Math.floor(amount / 2) : 0;
    const failure = status === 'failed' ? pick(FAILURES) : undefined;
    const metadata: Record<string, string> = { order_id: `ord_${token(10)}` };
    if (rnd() >= 0.1) metadata.team = pick(TEAMS);
    invoice += 1;
    const charge: Charge = {
      id: `ch_3${token(23)}`,
      object: 'charge',
      amount,
      amount_captured: status === 'succeeded' ? amount : 0,
      amount_refunded: amountRefunded,
      currency,
      created,
      customer,
      description: rnd() < 0.2 ? null : `Invoice INV-${invoice}`,
      status,
      paid: status === 'succeeded',
      refunded: status === 'succeeded' && amountRefunded === amount,
      captured: status === 'succeeded',
      livemode: false,
      metadata,
      receipt_email: customer ? (emails.get(customer) ?? null) : null,
      failure_code: failure?.[0] ?? null,
      failure_message: failure?.[1] ?? null,
    };
    return { ...charge, ...patch, object: 'charge' };
  };
  return { customers, make };
}

/** `n` charges, newest first, the newest at SEED_EPOCH and each older one 1 s to 2 h before the previous. */
export function seedCharges(factory: ChargeFactory, n: number, seed: number): Charge[] {
  const gap = prng(seed ^ 0x5eed);
  const out: Charge[] = [];
  let t = SEED_EPOCH;
  for (let i = 0; i < n; i++) {
    out.push(factory.make(t));
    t -= 1 + Math.floor(gap() * 7200);
  }
  return out;
}
