import { Readable, Writable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { Type } from '@sinclair/typebox';
import { afterEach, describe, expect, it } from 'vitest';
import { Secret } from '../sdk/secret.ts';
import { toStatus, serviceUnavailable } from '../k8s/errors.ts';
import { warningHeader } from '../k8s/warning.ts';
import { createLogger } from './log.ts';
import { MASK, maskSecrets, maskStream, secretValues, setSecrets } from './mask.ts';

const KEY = 'sk_live_51MaskedKeyForTests9876';

/** Forgets the test's secrets (twice: a replaced value stays masked once, as after a key rotation). */
const forget = () => {
  setSecrets('test', []);
  setSecrets('test', []);
};
afterEach(forget);

describe('secret masking', () => {
  it('finds the values a config schema marks secret, at any depth, and nothing else', () => {
    const schema = Type.Object({
      baseUrl: Type.String(),
      apiKey: Secret(Type.String()),
      accounts: Type.Array(Type.Object({ id: Type.String(), token: Secret(Type.String()) })),
      extra: Type.Optional(Type.Record(Type.String(), Secret(Type.String()))),
      nested: Type.Optional(Secret(Type.Object({ user: Type.String(), password: Type.String() }))),
    });
    const config = {
      baseUrl: 'https://api.example.com',
      apiKey: KEY,
      accounts: [
        { id: 'a', token: 'tok-aaaaaaaa' },
        { id: 'b', token: 'tok-bbbbbbbb' },
      ],
      extra: { x: 'extra-secret-1' },
      nested: { user: 'svc-user', password: 'hunter2-long' },
    };
    expect(secretValues(schema, config).sort()).toEqual(
      [KEY, 'tok-aaaaaaaa', 'tok-bbbbbbbb', 'extra-secret-1', 'svc-user', 'hunter2-long'].sort(),
    );
    // Secret keeps the TypeBox type usable (validation still sees a string schema).
    expect(Secret(Type.String()).type).toBe('string');
  });

  it('masks declared values, their URL-encoded form, and the previous value after a rotation', () => {
    setSecrets('test', [KEY, 'p@ss word!']);
    expect(maskSecrets(`error: key ${KEY} refused`)).toBe(`error: key ${MASK} refused`);
    expect(maskSecrets('url ?k=p%40ss%20word! end')).toBe(`url ?k=${MASK} end`);
    setSecrets('test', ['sk_live_rotatedKey000000001']);
    expect(maskSecrets(`${KEY} and sk_live_rotatedKey000000001`)).toBe(`${MASK} and ${MASK}`);
    // Too short to mask without garbling text.
    setSecrets('test', ['abc']);
    expect(maskSecrets('abc abc')).toBe('abc abc');
  });

  it('masks in Status messages, Warning headers and every log line', () => {
    setSecrets('test', [KEY]);
    expect(toStatus(serviceUnavailable(`upstream said ${KEY}`)).message).toBe(`upstream said ${MASK}`);
    expect(warningHeader(`stale because "${KEY}"\r\nx: y`)).toBe(`299 - "stale because '${MASK}'  x: y"`);
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger('info', sink);
    log.warn({ anything: { deep: KEY }, err: new Error(`failed with ${KEY}`) }, `message ${KEY}`);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain(KEY);
    expect(lines[0]).toContain(MASK);
    expect(() => JSON.parse(lines[0] ?? '') as unknown).not.toThrow();
  });

  it('masks a streamed body, a secret split across chunks included, one chunk plus the secret held at most', async () => {
    setSecrets('test', [KEY]);
    const body = `{"error":"bad key ${KEY}","again":"${KEY}"}`;
    // Every split point of the first occurrence, byte by byte.
    for (let cut = 10; cut < 40; cut++) {
      const chunks = [body.slice(0, cut), body.slice(cut, cut + 7), body.slice(cut + 7)].map((c) => Buffer.from(c));
      expect(await text(maskStream(Readable.from(chunks)))).toBe(`{"error":"bad key ${MASK}","again":"${MASK}"}`);
    }
    forget();
    const plain = Readable.from([Buffer.from(body)]);
    expect(maskStream(plain)).toBe(plain);
  });
});
