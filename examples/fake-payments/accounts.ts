import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startFakePayments, type FakePayments, type FakePaymentsOptions } from './server.ts';

export interface FakeAccounts {
  /** The one base URL of every account. */
  url: string;
  /** One fake per account, in the order given. */
  accounts: FakePayments[];
  close(): Promise<void>;
}

/**
 * Several accounts of the fake payments API behind one URL: a request goes to the account of its
 * `Stripe-Account` header (a connected account id, `acct_<index>`, called with the first account's key as the
 * platform's), else to the account whose key it presents.
 * Each account is a whole fake (its own charges, customers and events); an unknown key is the first account's
 * 401.
 *
 * @example
 * const f = await startFakeAccounts([{ apiKey: 'sk_test_team_a_0001', seed: 1 }, { apiKey: 'sk_test_team_b_0002', seed: 2 }]);
 * await fetch(`${f.url}/v1/charges`, { headers: { authorization: 'Bearer sk_test_team_b_0002' } }); // account 2
 */
export async function startFakeAccounts(opts: FakePaymentsOptions[]): Promise<FakeAccounts> {
  const accounts = await Promise.all(opts.map((o) => startFakePayments({ ...o, port: 0 })));
  const pick = (req: http.IncomingMessage): FakePayments | undefined => {
    const acct = req.headers['stripe-account'];
    if (typeof acct === 'string') return accounts[Number(/^acct_(\d+)$/.exec(acct)?.[1] ?? -1)];
    const key = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    return accounts.find((a) => a.apiKey === key) ?? accounts[0];
  };
  const server = http.createServer((req, res) => {
    const target = pick(req);
    if (!target) {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { type: 'invalid_request_error', message: 'No such connected account.' } }));
      return;
    }
    const headers = { ...req.headers, host: new URL(target.url).host };
    // A connected account is called with the platform's (the first account's) key: it stands for the target's.
    if (req.headers['stripe-account'] && req.headers.authorization === `Bearer ${accounts[0]?.apiKey ?? ''}`)
      headers.authorization = `Bearer ${target.apiKey}`;
    const up = http.request(`${target.url}${req.url ?? '/'}`, { method: req.method, headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    accounts,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(accounts.map((a) => a.close()));
    },
  };
}
