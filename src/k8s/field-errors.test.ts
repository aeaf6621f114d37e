import { describe, expect, it } from 'vitest';
import type { FieldError } from '../sdk/types.ts';
import { fieldErrorText, invalidObject } from './field-errors.ts';
import { toStatus } from './errors.ts';

describe('field errors', () => {
  it.each<[FieldError, string]>([
    [
      { field: 'spec.amount', type: 'Invalid', value: -5, detail: 'must be greater than 0' },
      'spec.amount: Invalid value: -5: must be greater than 0',
    ],
    [{ field: 'spec.charge', type: 'Required' }, 'spec.charge: Required value'],
    [{ field: 'spec.charge', type: 'Required', detail: 'a charge id' }, 'spec.charge: Required value: a charge id'],
    [
      { field: 'spec.name', type: 'Invalid', value: 'x y', detail: 'no spaces' },
      'spec.name: Invalid value: "x y": no spaces',
    ],
    [
      { field: 'spec.reason', type: 'NotSupported', value: 'bored', supported: ['duplicate', 'fraudulent'] },
      'spec.reason: Unsupported value: "bored": supported values: "duplicate", "fraudulent"',
    ],
    [
      { field: 'spec.secret', type: 'Forbidden', value: 'hidden', detail: 'may not be set' },
      'spec.secret: Forbidden: may not be set',
    ],
    [
      { field: 'spec.note', type: 'TooLong', value: 'x'.repeat(9), detail: 'may not be more than 8 bytes' },
      'spec.note: Too long: may not be more than 8 bytes',
    ],
    [{ field: 'spec.flag', type: 'Invalid', value: null }, 'spec.flag: Invalid value: null'],
    [
      { field: 'spec.on', type: 'Invalid', value: true, detail: 'must be false' },
      'spec.on: Invalid value: true: must be false',
    ],
    [{ field: 'spec.items[0]', type: 'Duplicate', value: { a: 1 } }, 'spec.items[0]: Duplicate value: {"a":1}'],
  ])('%j reads %s', (e, text) => {
    expect(fieldErrorText(e)).toBe(text);
  });

  it('makes the 422 Invalid Status of the apiserver: one error as it is, several in brackets, one cause each', () => {
    const one = toStatus(
      invalidObject('Refund', 'payments.kubegate.dev', 'r1', [
        { field: 'spec.amount', type: 'Invalid', value: -5, detail: 'must be greater than 0' },
      ]),
    );
    expect(one).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Refund.payments.kubegate.dev "r1" is invalid: spec.amount: Invalid value: -5: must be greater than 0',
      reason: 'Invalid',
      details: {
        name: 'r1',
        group: 'payments.kubegate.dev',
        kind: 'Refund',
        causes: [
          { reason: 'FieldValueInvalid', message: 'Invalid value: -5: must be greater than 0', field: 'spec.amount' },
        ],
      },
      code: 422,
    });
    const two = invalidObject('Refund', 'payments.kubegate.dev', 'r1', [
      { field: 'spec.charge', type: 'Required' },
      { field: 'spec.charge', type: 'Required' },
      { field: 'spec.amount', type: 'Required' },
    ]);
    expect(two.message).toBe(
      'Refund.payments.kubegate.dev "r1" is invalid: [spec.charge: Required value, spec.amount: Required value]',
    );
    expect(two.details?.causes).toHaveLength(3);
  });
});
