import { Secret, Type, type Static } from 'kubegate/sdk';

/**
 * Config of the payments adapter (the `config` key of its entry in kubegate.yaml).
 *
 * `baseUrl` uses a pattern rather than `format: 'uri'`: TypeBox rejects every value of a format that no
 * one registered in its FormatRegistry, and kubegate registers none.
 *
 * @example
 * adapters:
 *   - name: payments
 *     module: ./adapters/payments/index.ts
 *     config: { baseUrl: https://api.stripe.com, apiKey: '${env:PAYMENTS_API_KEY}' }
 */
export const PaymentsConfig = Type.Object(
  {
    baseUrl: Type.String({
      pattern: '^https?://[^\\s/]+',
      description: 'Base URL of the payments API, without /v1, e.g. https://api.stripe.com',
    }),
    // Secret: kubegate masks the key in every message, Warning and log line, even if the API echoes it.
    apiKey: Secret(
      Type.String({
        minLength: 1,
        description:
          'Secret API key (sk_test_... or sk_live_...; a restricted key with read access to charges is enough). ' +
          'Write ${env:NAME} in the config file so the key stays in the environment or a Secret.',
      }),
    ),
    defaultNamespace: Type.Optional(
      Type.String({
        default: 'default',
        pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$',
        description: 'Namespace of charges without a metadata.team (a DNS label). Default "default".',
      }),
    ),
    accounts: Type.Optional(
      Type.Array(
        Type.Object(
          {
            namespace: Type.String({
              pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$',
              description: "The namespace whose charges and customers are this account's (a DNS label).",
            }),
            apiKey: Type.Optional(
              Secret(
                Type.String({
                  minLength: 1,
                  description:
                    "The account's secret key; default the top-level apiKey (with `account`, a platform key).",
                }),
              ),
            ),
            account: Type.Optional(
              Type.String({
                pattern: '^acct_[A-Za-z0-9]+$',
                description: 'A connected account id, sent as the Stripe-Account header with the key.',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        {
          minItems: 1,
          maxItems: 100,
          description:
            'Namespaces bound to accounts: each namespace holds the charges and customers of its account, read ' +
            "with that account's credentials (RBAC per namespace then separates teams). Without it, one account " +
            '(apiKey) and namespaces from the metadata "team".',
        },
      ),
    ),
    customers: Type.Optional(
      Type.Object(
        {
          maxObjects: Type.Optional(
            Type.Integer({
              minimum: 1,
              default: 5000,
              description:
                'Most customers mirrored (the newest); past it the rest are reported as skipped. Default 5000.',
            }),
          ),
          maxPerNamespace: Type.Optional(
            Type.Integer({
              minimum: 1,
              default: 1000,
              description:
                'Most customers mirrored in one namespace (the newest); the rest are reported as skipped. Default 1000.',
            }),
          ),
        },
        { additionalProperties: false, description: 'Bounds of the mirrored customers.' },
      ),
    ),
    dashboardUrl: Type.Optional(
      Type.String({
        default: 'https://dashboard.stripe.com',
        pattern: '^https?://[^\\s/]+',
        description:
          'Base URL of the web dashboard, for the dashboard-url annotation. Default https://dashboard.stripe.com.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type PaymentsConfig = Static<typeof PaymentsConfig>;

const amount = (description: string) => Type.Integer({ minimum: 0, description });

/** spec of a Charge: what was asked to be paid. */
export const ChargeSpec = Type.Object(
  {
    amount: amount('Amount charged, in the smallest unit of the currency (cents for EUR, yen for JPY).'),
    amountDisplay: Type.String({
      description: 'The amount in major units with the currency code, for people, e.g. "12.50 EUR".',
    }),
    currency: Type.String({
      pattern: '^[a-z]{3}$',
      description: 'Three-letter ISO 4217 currency code, lower case, e.g. "eur".',
    }),
    customer: Type.Optional(Type.String({ description: 'Id of the customer charged (cus_...); absent when none.' })),
    description: Type.Optional(Type.String({ description: 'Free text attached to the charge.' })),
    receiptEmail: Type.Optional(Type.String({ description: 'Email address the receipt was sent to.' })),
  },
  { additionalProperties: false, description: 'What was charged, to whom.' },
);
export type ChargeSpec = Static<typeof ChargeSpec>;

/** status of a Charge: what happened to it. */
export const ChargeStatus = Type.Object(
  {
    status: Type.Union([Type.Literal('succeeded'), Type.Literal('pending'), Type.Literal('failed')], {
      description: 'Outcome of the charge: succeeded, pending or failed.',
    }),
    paid: Type.Boolean({ description: 'True when the charge succeeded or was authorized for later capture.' }),
    refunded: Type.Boolean({ description: 'True when the whole amount was refunded.' }),
    captured: Type.Boolean({ description: 'True when the charge was captured.' }),
    amountCaptured: amount('Part of the amount captured, in the smallest currency unit.'),
    amountRefunded: amount('Part of the amount refunded, in the smallest currency unit.'),
    failureCode: Type.Optional(Type.String({ description: 'Why a failed charge failed, e.g. "card_declined".' })),
    failureMessage: Type.Optional(Type.String({ description: 'Human-readable reason a failed charge failed.' })),
    livemode: Type.Boolean({ description: 'True for a live-mode charge, false for a test-mode one.' }),
  },
  { additionalProperties: false, description: 'Outcome of the charge as the payments API reports it.' },
);
export type ChargeStatus = Static<typeof ChargeStatus>;

/** spec of a Customer: who is charged. */
export const CustomerSpec = Type.Object(
  {
    email: Type.Optional(Type.String({ description: "The customer's email address." })),
    name: Type.Optional(Type.String({ description: "The customer's full name or business name." })),
    currency: Type.Optional(
      Type.String({ pattern: '^[a-z]{3}$', description: 'Default currency, ISO 4217 lower case, e.g. "eur".' }),
    ),
  },
  { additionalProperties: false, description: 'Who the customer is.' },
);
export type CustomerSpec = Static<typeof CustomerSpec>;

/** status of a Customer: where the account stands with them. */
export const CustomerStatus = Type.Object(
  {
    delinquent: Type.Boolean({ description: 'True when the latest invoice or charge of the customer failed.' }),
    balance: Type.Integer({ description: 'Balance in the smallest currency unit; negative is a credit.' }),
    livemode: Type.Boolean({ description: 'True for a live-mode customer, false for a test-mode one.' }),
  },
  { additionalProperties: false, description: 'The customer as the payments API reports it.' },
);
export type CustomerStatus = Static<typeof CustomerStatus>;
