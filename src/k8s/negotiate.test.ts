import { describe, expect, it } from 'vitest';
import { checkRequestContentType, negotiate } from './negotiate.ts';

const KUBECTL =
  'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

describe('negotiate', () => {
  it.each([
    [undefined, { kind: 'json' }],
    ['', { kind: 'json' }],
    ['*/*', { kind: 'json' }],
    ['application/json, */*', { kind: 'json' }],
    ['application/*', { kind: 'json' }],
    [KUBECTL, { kind: 'table', version: 'v1' }],
    ['application/json;as=Table;v=v1beta1;g=meta.k8s.io', { kind: 'table', version: 'v1beta1' }],
    ['application/vnd.kubernetes.protobuf,application/json', { kind: 'json' }],
    ['application/vnd.kubernetes.protobuf, */*', { kind: 'json' }],
    [
      'application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json',
      { kind: 'json' },
    ],
    ['application/json;q=0.9,application/cbor;q=1', { kind: 'json' }],
    ['application/json;q=0.5,application/json;as=Table;v=v1;g=meta.k8s.io;q=0.9', { kind: 'table', version: 'v1' }],
    ['APPLICATION/JSON;AS=Table;V=v1;G=meta.k8s.io', { kind: 'table', version: 'v1' }],
  ])('%j → %j', (accept, want) => {
    expect(negotiate(accept)).toEqual(want);
  });

  it.each([
    'application/vnd.kubernetes.protobuf',
    'application/yaml',
    'application/json;q=0',
    'text/html',
    'application/json;as=Table;v=v2;g=meta.k8s.io',
  ])('406 for %j', (accept) => {
    expect(() => negotiate(accept)).toThrow(expect.objectContaining({ code: 406, reason: 'NotAcceptable' }) as Error);
  });

  it('refuses CBOR and protobuf bodies with 415', () => {
    expect(() => checkRequestContentType('application/cbor')).toThrow(expect.objectContaining({ code: 415 }) as Error);
    expect(() => checkRequestContentType('application/json; charset=utf-8')).not.toThrow();
  });
});
