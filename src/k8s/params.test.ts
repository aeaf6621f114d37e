import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeContinueToken } from './continue.ts';
import { KubeError } from './errors.ts';
import { parseBool, parseListOptions, parseNonNegativeInt, parseResourceVersion, type Query } from './params.ts';

const FIELDS = new Set(['spec.country']);
const TOKEN = encodeContinueToken({ rv: 7, key: 'default/paris' });

function kubeError(f: () => unknown): KubeError {
  try {
    f();
  } catch (e) {
    if (e instanceof KubeError) return e;
    throw e;
  }
  throw new Error('expected a KubeError');
}

describe('parseBool (Go strconv.ParseBool)', () => {
  it.each(['1', 't', 'T', 'TRUE', 'true', 'True'])('%j → true', (v) => expect(parseBool('watch', v)).toBe(true));
  it.each(['0', 'f', 'F', 'FALSE', 'false', 'False'])('%j → false', (v) => expect(parseBool('watch', v)).toBe(false));
  it.each(['', 'yes', 'on', 'tRUE', ' true', '2'])('%j → 400 naming the parameter and value', (v) => {
    const err = kubeError(() => parseBool('allowWatchBookmarks', v));
    expect(err.code).toBe(400);
    expect(err.message).toBe(
      `invalid value for allowWatchBookmarks: ${JSON.stringify(v)}: must be a boolean (true or false)`,
    );
  });
  it('never throws anything but a 400', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), (v) => {
        try {
          expect(typeof parseBool('x', v)).toBe('boolean');
        } catch (e) {
          expect((e as KubeError).code).toBe(400);
        }
      }),
    );
  });
});

describe('parseNonNegativeInt', () => {
  it.each([
    ['0', 0],
    ['500', 500],
    ['007', 7],
    ['9007199254740991', 9007199254740991],
  ] as const)('%j → %d', (v, n) => {
    expect(parseNonNegativeInt('limit', v)).toBe(n);
  });
  it.each([
    ['-1', 'must not be negative'],
    ['', 'must be a non-negative decimal integer'],
    ['1.5', 'must be a non-negative decimal integer'],
    ['1e3', 'must be a non-negative decimal integer'],
    ['0x10', 'must be a non-negative decimal integer'],
    ['+5', 'must be a non-negative decimal integer'],
    [' 5', 'must be a non-negative decimal integer'],
    ['9007199254740992', 'must be a non-negative decimal integer'],
  ])('%j → 400 (%s)', (v, why) => {
    const err = kubeError(() => parseNonNegativeInt('timeoutSeconds', v));
    expect(err.code).toBe(400);
    expect(err.message).toBe(`invalid value for timeoutSeconds: ${JSON.stringify(v)}: ${why}`);
  });
});

describe('parseResourceVersion', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['0', 0],
    ['57', 57],
    ['1700000000000000', 1700000000000000],
  ] as const)('%j → %j', (v, want) => expect(parseResourceVersion(v)).toBe(want));
  it.each(['abc', '-1', '1.0', ' 1', '99999999999999999999'])('%j → 400 naming the value', (v) => {
    const err = kubeError(() => parseResourceVersion(v));
    expect(err.code).toBe(400);
    expect(err.message).toContain(`invalid resource version ${JSON.stringify(v)}`);
  });
});

describe('parseListOptions: accepted requests', () => {
  it('defaults', () => {
    const o = parseListOptions({}, FIELDS);
    expect(o).toMatchObject({ watch: false, allowWatchBookmarks: false, includeObject: 'Metadata' });
    expect(o.labelSelector.empty).toBe(true);
    expect(o.fieldSelector.empty).toBe(true);
    for (const k of [
      'limit',
      'continue',
      'resourceVersion',
      'resourceVersionMatch',
      'sendInitialEvents',
      'timeoutSeconds',
    ]) {
      expect(o).not.toHaveProperty(k);
    }
  });

  it('a reflector list page', () => {
    expect(parseListOptions({ limit: '500', resourceVersion: '0' }, FIELDS)).toMatchObject({
      limit: 500,
      resourceVersion: 0,
    });
  });

  it('a reflector watch', () => {
    const o = parseListOptions(
      { allowWatchBookmarks: 'true', resourceVersion: '57', timeoutSeconds: '347', watch: 'true' },
      FIELDS,
    );
    expect(o).toMatchObject({ watch: true, allowWatchBookmarks: true, resourceVersion: 57, timeoutSeconds: 347 });
  });

  it('a WatchList (sendInitialEvents) request, with or without resourceVersion', () => {
    const q = {
      watch: '1',
      sendInitialEvents: 'true',
      resourceVersionMatch: 'NotOlderThan',
      allowWatchBookmarks: 'true',
    };
    expect(parseListOptions(q, FIELDS)).toMatchObject({
      sendInitialEvents: true,
      resourceVersionMatch: 'NotOlderThan',
    });
    expect(parseListOptions({ ...q, resourceVersion: '' }, FIELDS)).not.toHaveProperty('resourceVersion');
    expect(parseListOptions({ ...q, resourceVersion: '9' }, FIELDS).resourceVersion).toBe(9);
    expect(parseListOptions({ ...q, sendInitialEvents: 'false' }, FIELDS).sendInitialEvents).toBe(false);
  });

  it('the Python client (watch=True)', () => {
    expect(parseListOptions({ watch: 'True' }, FIELDS).watch).toBe(true);
  });

  it('selectors, parsed once', () => {
    const o = parseListOptions(
      { labelSelector: 'app=web', fieldSelector: 'spec.country=FR,metadata.name=paris' },
      FIELDS,
    );
    expect(o.labelSelector.matches({ app: 'web' })).toBe(true);
    expect(o.fieldSelector.exactName()).toBe('paris');
  });

  it('exact and not-older-than lists', () => {
    expect(parseListOptions({ resourceVersion: '5', resourceVersionMatch: 'Exact' }, FIELDS)).toMatchObject({
      resourceVersion: 5,
      resourceVersionMatch: 'Exact',
    });
    expect(
      parseListOptions({ resourceVersion: '0', resourceVersionMatch: 'NotOlderThan' }, FIELDS).resourceVersionMatch,
    ).toBe('NotOlderThan');
  });

  it('continue, alone or with resourceVersion "" / "0"', () => {
    for (const rv of [undefined, '', '0']) {
      const q: Query = rv === undefined ? { continue: TOKEN } : { continue: TOKEN, resourceVersion: rv };
      expect(parseListOptions(q, FIELDS).continue).toEqual({ rv: 7, key: 'default/paris' });
    }
  });

  it('ignores continue on a watch, as the apiserver does', () => {
    expect(parseListOptions({ watch: 'true', continue: 'garbage', resourceVersion: '5' }, FIELDS)).not.toHaveProperty(
      'continue',
    );
  });

  it('limit=0 means no limit; empty limit/timeoutSeconds are unset', () => {
    expect(parseListOptions({ limit: '0' }, FIELDS)).not.toHaveProperty('limit');
    expect(parseListOptions({ limit: '', timeoutSeconds: '' }, FIELDS)).not.toHaveProperty('timeoutSeconds');
    expect(parseListOptions({ timeoutSeconds: '0' }, FIELDS).timeoutSeconds).toBe(0);
  });

  it.each(['None', 'Metadata', 'Object'] as const)('includeObject=%s', (inc) => {
    expect(parseListOptions({ includeObject: inc }, FIELDS).includeObject).toBe(inc);
  });

  it('repeated parameters: the first wins', () => {
    const o = parseListOptions({ limit: ['10', '-1'], labelSelector: ['a=b', '('], watch: ['false', 'junk'] }, FIELDS);
    expect(o.limit).toBe(10);
    expect(o.labelSelector.toString()).toBe('a=b');
    expect(o.watch).toBe(false);
  });
});

const LIST_INVALID = 'ListOptions.meta.k8s.io "" is invalid: ';

describe('parseListOptions: rejected requests', () => {
  const cases: [rule: string, query: Query, code: number, message: string][] = [
    // ValidateListOptions (422)
    [
      'resourceVersionMatch without resourceVersion',
      { resourceVersionMatch: 'NotOlderThan' },
      422,
      `${LIST_INVALID}resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided`,
    ],
    [
      'resourceVersionMatch with empty resourceVersion',
      { resourceVersionMatch: 'Exact', resourceVersion: '' },
      422,
      `${LIST_INVALID}resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided`,
    ],
    [
      'Exact with "0"',
      { resourceVersionMatch: 'Exact', resourceVersion: '0' },
      422,
      `${LIST_INVALID}resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"`,
    ],
    [
      'unknown resourceVersionMatch',
      { resourceVersionMatch: 'Newest', resourceVersion: '5' },
      422,
      `${LIST_INVALID}resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""`,
    ],
    [
      'resourceVersionMatch with continue',
      { resourceVersionMatch: 'NotOlderThan', resourceVersion: '5', continue: TOKEN },
      422,
      `${LIST_INVALID}resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided`,
    ],
    [
      'several errors at once',
      { resourceVersionMatch: 'Newest' },
      422,
      `${LIST_INVALID}[resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided, resourceVersionMatch: Unsupported value: "Newest": supported values: "Exact", "NotOlderThan", ""]`,
    ],
    [
      'sendInitialEvents on a list',
      { sendInitialEvents: 'true' },
      422,
      `${LIST_INVALID}sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list`,
    ],
    [
      'sendInitialEvents=false on a list',
      { sendInitialEvents: 'false', resourceVersionMatch: 'NotOlderThan', resourceVersion: '1' },
      422,
      `${LIST_INVALID}sendInitialEvents: Forbidden: sendInitialEvents is forbidden for list`,
    ],
    // validateWatchOptions (422)
    [
      'resourceVersionMatch on a watch without sendInitialEvents',
      { watch: 'true', resourceVersionMatch: 'NotOlderThan', resourceVersion: '5' },
      422,
      `${LIST_INVALID}resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided`,
    ],
    [
      'sendInitialEvents=true on a watch without resourceVersionMatch',
      { watch: 'true', sendInitialEvents: 'true' },
      422,
      `${LIST_INVALID}resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan`,
    ],
    [
      'sendInitialEvents=false on a watch without resourceVersionMatch',
      { watch: 'true', sendInitialEvents: 'false' },
      422,
      `${LIST_INVALID}resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan`,
    ],
    [
      'sendInitialEvents with Exact',
      { watch: 'true', sendInitialEvents: 'true', resourceVersionMatch: 'Exact' },
      422,
      `${LIST_INVALID}[resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan, resourceVersionMatch: Unsupported value: "Exact": supported values: "NotOlderThan"]`,
    ],
    [
      'watch resourceVersionMatch with continue',
      { watch: 'true', sendInitialEvents: 'true', resourceVersionMatch: 'NotOlderThan', continue: 'x' },
      422,
      `${LIST_INVALID}resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden when continue is provided`,
    ],
    // Decoding and storage (400)
    [
      'continue with a resourceVersion',
      { continue: TOKEN, resourceVersion: '5' },
      400,
      'specifying resource version is not allowed when using continue',
    ],
    ['malformed continue', { continue: 'not!a!token' }, 400, 'continue key is not valid: '],
    ['non-numeric resourceVersion', { resourceVersion: 'abc' }, 400, 'invalid resource version "abc"'],
    [
      'non-numeric resourceVersion on a watch',
      { watch: 'true', resourceVersion: 'x1' },
      400,
      'invalid resource version "x1"',
    ],
    ['negative limit', { limit: '-5' }, 400, 'invalid value for limit: "-5": must not be negative'],
    ['non-numeric limit', { limit: 'ten' }, 400, 'invalid value for limit: "ten"'],
    [
      'negative timeoutSeconds',
      { watch: 'true', timeoutSeconds: '-1' },
      400,
      'invalid value for timeoutSeconds: "-1": must not be negative',
    ],
    [
      'unknown includeObject',
      { includeObject: 'All' },
      400,
      `includeObject: Invalid value: "All": must be 'Metadata', 'Object', 'None', or empty`,
    ],
    ['bad watch boolean', { watch: 'yes' }, 400, 'invalid value for watch: "yes"'],
    ['bare ?watch', { watch: '' }, 400, 'invalid value for watch: ""'],
    [
      'bad allowWatchBookmarks',
      { watch: 'true', allowWatchBookmarks: 'maybe' },
      400,
      'invalid value for allowWatchBookmarks: "maybe"',
    ],
    [
      'bad sendInitialEvents',
      { watch: 'true', sendInitialEvents: 'sure' },
      400,
      'invalid value for sendInitialEvents: "sure"',
    ],
    ['bad label selector', { labelSelector: 'a in' }, 400, "unable to parse requirement: found '', expected: '('"],
    ['unsupported field', { fieldSelector: 'spec.city=Paris' }, 400, 'field label not supported: spec.city'],
  ];
  it.each(cases)('%s → %d', (_rule, query, code, message) => {
    const err = kubeError(() => parseListOptions(query, FIELDS));
    expect(err.code).toBe(code);
    expect(err.reason).toBe(code === 422 ? 'Invalid' : 'BadRequest');
    expect(err.message).toContain(message);
    if (code === 422) expect(err.message.startsWith(LIST_INVALID)).toBe(true);
  });

  it('422 details name the offending field', () => {
    const err = kubeError(() => parseListOptions({ sendInitialEvents: 'true' }, FIELDS));
    expect(err.details?.causes?.[0]?.field).toBe('sendInitialEvents');
  });

  it('decoding errors (400) come before validation (422), as in the apiserver', () => {
    expect(kubeError(() => parseListOptions({ limit: '-1', resourceVersionMatch: 'Exact' }, FIELDS)).code).toBe(400);
  });

  it('any query yields options or a 400/422 KubeError', () => {
    const key = fc.constantFrom(
      'watch',
      'sendInitialEvents',
      'resourceVersion',
      'resourceVersionMatch',
      'continue',
      'limit',
      'timeoutSeconds',
      'includeObject',
      'allowWatchBookmarks',
    );
    const value = fc.oneof(
      fc.constantFrom('', '0', '5', 'true', 'false', 'Exact', 'NotOlderThan', 'Object', TOKEN),
      fc.string({ maxLength: 6 }),
    );
    fc.assert(
      fc.property(fc.dictionary(key, value), (query) => {
        try {
          const o = parseListOptions(query, FIELDS);
          if (o.sendInitialEvents !== undefined)
            expect(o.watch && o.resourceVersionMatch === 'NotOlderThan').toBe(true);
          if (o.continue) expect(o.watch).toBe(false);
        } catch (e) {
          expect(e).toBeInstanceOf(KubeError);
          expect([400, 422]).toContain((e as KubeError).code);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
