import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { schemaFieldErrors, unknownFields } from './schema-errors.ts';

const Spec = Type.Object(
  {
    charge: Type.String({ pattern: '^ch_' }),
    amount: Type.Integer({ exclusiveMinimum: 0, maximum: 100 }),
    reason: Type.Optional(Type.Union([Type.Literal('duplicate'), Type.Literal('fraudulent')])),
    note: Type.Optional(Type.String({ maxLength: 3 })),
    items: Type.Optional(Type.Array(Type.Object({ sku: Type.String() }, { additionalProperties: false }))),
  },
  { additionalProperties: false },
);

describe('schemaFieldErrors', () => {
  it.each([
    [{ charge: 'ch_1', amount: 5 }, []],
    [undefined, ['spec: Required']],
    [{ amount: 5 }, ['spec.charge: Required']],
    [{ charge: 'ch_1', amount: 0 }, ['spec.amount: Invalid: must be greater than 0']],
    [{ charge: 'ch_1', amount: 101 }, ['spec.amount: Invalid: must be less than or equal to 100']],
    [{ charge: 'ch_1', amount: 'five' }, ['spec.amount: Invalid: must be of type integer']],
    [{ charge: 'x', amount: 1 }, ['spec.charge: Invalid: must match the pattern ^ch_']],
    [{ charge: 'ch_1', amount: 1, reason: 'x' }, ['spec.reason: NotSupported: duplicate,fraudulent']],
    [{ charge: 'ch_1', amount: 1, note: 'long' }, ['spec.note: TooLong: may not be more than 3 bytes']],
    [{ charge: 'ch_1', amount: 1, items: [{ sku: 1 }] }, ['spec.items[0].sku: Invalid: must be of type string']],
  ])('%j: %j', (value, want) => {
    const got = schemaFieldErrors(Spec, value, 'spec').map(
      (e) => `${e.field}: ${e.type}${e.detail ? `: ${e.detail}` : e.supported ? `: ${e.supported.join(',')}` : ''}`,
    );
    expect(got).toEqual(want);
  });
});

describe('unknownFields', () => {
  it('finds fields the schema does not declare, at any depth, and removes them when asked', () => {
    const v = { charge: 'ch_1', amount: 1, tip: 2, items: [{ sku: 'a', qty: 1 }] };
    expect(unknownFields(Spec, v, 'spec')).toEqual(['spec.tip', 'spec.items[0].qty']);
    expect(v.tip).toBe(2);
    expect(unknownFields(Spec, v, 'spec', true)).toEqual(['spec.tip', 'spec.items[0].qty']);
    expect(v).toEqual({ charge: 'ch_1', amount: 1, items: [{ sku: 'a' }] });
  });
});
