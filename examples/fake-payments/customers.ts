import type { components } from '../../adapters/payments/upstream.ts';
import { SEED_EPOCH, TEAMS } from './charges.ts';

/** A customer as the payments API serializes it. */
export type Customer = components['schemas']['Customer'];

const NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Ken', 'Dennis', 'Margaret', 'Linus', 'Radia'];

/**
 * The customers of the given ids, newest first (one created every hour before SEED_EPOCH), each with a team in
 * its metadata (some without), an email and a name: deterministic, so every run serves the same customers.
 *
 * @example
 * makeCustomers(['cus_A', 'cus_B'])[0]?.created; // SEED_EPOCH
 */
export function makeCustomers(ids: string[]): Customer[] {
  return ids.map((id, i): Customer => ({
    id,
    object: 'customer',
    created: SEED_EPOCH - i * 3600,
    email: `billing@customer-${i + 1}.example`,
    name: `${NAMES[i % NAMES.length] ?? 'Customer'} ${i + 1}`,
    currency: i % 3 === 0 ? 'usd' : 'eur',
    delinquent: i % 7 === 3,
    balance: i % 5 === 0 ? -500 : 0,
    livemode: false,
    metadata: i % 10 === 9 ? {} : { team: TEAMS[i % TEAMS.length] ?? 'checkout' },
  }));
}
