import { describe, expect, it } from 'vitest';
import { ClientCertificateError } from './auth/x509.ts';
import { TokenReviewError } from './auth/tokenreview.ts';
import { ConfigError } from './config/load.ts';
import { ModuleResolutionError } from './config/resolve-module.ts';
import { KubegateError } from './errors.ts';
import { KubeError, notFound, toStatus, upstreamUnavailable } from './k8s/errors.ts';
import { UpstreamError } from './resilience/fetch.ts';
import { AdapterError, OwnError } from './resilience/reason.ts';
import { LaneRejectedError, StreamLimitError } from './resilience/stream.ts';
import { statusErrorFrame } from './resources/runtime.ts';
import { SkipError } from './resources/skips.ts';
import { DefinitionError } from './sdk/define.ts';
import { FencedError } from './store/types.ts';

const all: KubegateError[] = [
  new ClientCertificateError('leaked detail'),
  new TokenReviewError('leaked detail'),
  new ConfigError('leaked detail'),
  new ModuleResolutionError('leaked detail'),
  new KubeError(404, 'NotFound', 'leaked detail'),
  new UpstreamError('upstream answered 500', 500),
  new AdapterError('leaked detail'),
  new OwnError('leaked detail'),
  new LaneRejectedError('full', 'leaked detail'),
  new StreamLimitError(413, 'leaked detail'),
  new SkipError('schema', 'leaked detail'),
  new DefinitionError('leaked detail'),
  new FencedError('leaked detail'),
];

describe('error classes', () => {
  it('all derive from KubegateError with a constant name and a stable code', () => {
    for (const e of all) {
      expect(e).toBeInstanceOf(KubegateError);
      expect(e).toBeInstanceOf(Error);
      expect(e.name).toBe(e.constructor.name);
      // Errors answered to clients carry the Status code; every other one a KUBEGATE_ constant.
      if (e instanceof KubeError) expect(e.code).toBe(404);
      else expect(e.code).toMatch(/^KUBEGATE_[A-Z_]+$/);
    }
    const byClass = new Map(all.map((e) => [e.constructor.name, e.code]));
    expect(new Set(byClass.values()).size).toBe(byClass.size);
  });

  it('turn into a Status in one place: KubeErrors as they are, anything else a 500 without its text', () => {
    expect(toStatus(notFound('forecasts', 'g.example', 'x'))).toMatchObject({ code: 404, reason: 'NotFound' });
    for (const e of all.filter((x) => !(x instanceof KubeError))) {
      const s = toStatus(e);
      expect(s).toMatchObject({ kind: 'Status', code: 500, reason: 'InternalError' });
      expect(s.message).not.toContain(e.message);
    }
  });

  it('watch ERROR frames carry the same Status', () => {
    const frame = JSON.parse(statusErrorFrame(410, 'Expired', 'too old resource version: 1 (5)').toString()) as {
      type: string;
      object: unknown;
    };
    expect(frame).toEqual({
      type: 'ERROR',
      object: toStatus(new KubeError(410, 'Expired', 'too old resource version: 1 (5)')),
    });
  });

  it('every "upstream unavailable" is a 503 in one wording with Retry-After between 1 and 60 seconds', () => {
    const pass = toStatus(upstreamUnavailable('payments', 'charges.payments.example', 'upstream answered 502'));
    expect(pass).toMatchObject({
      code: 503,
      message: 'payments: upstream unavailable for charges.payments.example: upstream answered 502',
      details: { retryAfterSeconds: 5 },
    });
    const first = toStatus(
      upstreamUnavailable('weather', 'forecasts.weather.example', 'no answer', {
        retryAfterMs: 30_000,
        noDataYet: true,
      }),
    );
    expect(first.message).toBe('weather: no data for forecasts.weather.example yet: upstream unavailable: no answer');
    expect(first.details?.retryAfterSeconds).toBe(30);
    expect(toStatus(upstreamUnavailable('a', 'r', 'c', { retryAfterMs: 3_600_000 })).details?.retryAfterSeconds).toBe(
      60,
    );
    expect(toStatus(upstreamUnavailable('a', 'r', 'c', { retryAfterMs: 10 })).details?.retryAfterSeconds).toBe(1);
  });
});
