import pino, { type Logger } from 'pino';
import type { AdapterLogger } from '../sdk/types.ts';
import { maskSecrets } from './mask.ts';

/** Header names and config keys whose values must never reach a log line. */
export const REDACT = [
  'req.headers.authorization',
  'headers.authorization',
  '*.token',
  '*.password',
  '*.apiKey',
  '*.secret',
];

/**
 * The process logger (pino, JSON lines); `KUBEGATE_LOG_LEVEL` sets the level. Known credential fields are
 * redacted by path, and every line passes the secret masker last, so an adapter's secret config values are
 * masked wherever they appear (a message, an error, a field of any name).
 */
export function createLogger(
  level = process.env.KUBEGATE_LOG_LEVEL ?? 'info',
  destination?: pino.DestinationStream,
): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { service: 'kubegate' },
    hooks: { streamWrite: maskSecrets },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** Adapts pino to the SDK's logger shape: (message, fields). */
export function adapterLogger(l: Logger): AdapterLogger & { child(b: Record<string, unknown>): AdapterLogger } {
  const wrap = (x: Logger): AdapterLogger & { child(b: Record<string, unknown>): AdapterLogger } => ({
    debug: (m, e) => x.debug(e ?? {}, m),
    info: (m, e) => x.info(e ?? {}, m),
    warn: (m, e) => x.warn(e ?? {}, m),
    error: (m, e) => x.error(e ?? {}, m),
    child: (b) => wrap(x.child(b)),
  });
  return wrap(l);
}
