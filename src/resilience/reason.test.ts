import { describe, expect, it } from 'vitest';
import { KubeError } from '../k8s/errors.ts';
import { setSecrets } from '../observability/mask.ts';
import { UpstreamError } from './fetch.ts';
import { AdapterError, failureReason } from './reason.ts';

describe('failureReason', () => {
  const body = '{"error":{"message":"invalid key sk_live_echo12345678"}}';
  it.each([
    ['an UpstreamError, as written', new UpstreamError('upstream answered 502', 502), 'upstream answered 502'],
    [
      'an AdapterError, as written',
      new AdapterError('customer filter refused', { status: 400 }),
      'customer filter refused',
    ],
    ['a kubegate Status error', new KubeError(429, 'TooManyRequests', 'slow down'), 'slow down'],
    ['an error with a status, by its status', Object.assign(new Error(body), { status: 401 }), 'upstream answered 401'],
    ['any other error, by its class', new TypeError(`Unexpected token in ${body}`), 'the adapter failed (TypeError)'],
    [
      'a wrapped upstream failure, by the wrapped one',
      new Error(body, { cause: new UpstreamError('upstream unreachable (connection reset)') }),
      'upstream unreachable (connection reset)',
    ],
    [
      'a timeout signal',
      new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
      'the call timed out',
    ],
    ['a thrown string', body, 'the adapter failed'],
    ['an error with an odd class name', Object.assign(new Error(body), { name: body }), 'the adapter failed (Error)'],
  ])('keeps %s', (_what, err, want) => {
    expect(failureReason(err)).toBe(want);
  });

  it('masks declared secrets even in text written for people', () => {
    setSecrets('reason-test', ['sk_live_adapterLogged42']);
    try {
      expect(failureReason(new AdapterError('key sk_live_adapterLogged42 was refused'))).toBe(
        'key [masked] was refused',
      );
    } finally {
      setSecrets('reason-test', []);
    }
  });
});
