import { readFileSync, watch } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { ConfigError } from '../config/load.ts';
import type { KubegateConfig } from '../config/schema.ts';
import { parseDuration } from '../sdk/duration.ts';
import {
  AuditPolicyError,
  compilePolicy,
  DEFAULT_POLICY,
  parsePolicy,
  validatePolicy,
  type PolicyEvaluator,
} from './policy.ts';
import { createAuditor } from './recorder.ts';
import { createAuditSink, DEFAULT_SINK, type AuditLine } from './sink.ts';

export type AuditConfig = NonNullable<KubegateConfig['audit']>;

/** Bodies recorded at RequestResponse level, at most (bytes). */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

export interface ConfiguredAudit {
  /** Goes in front of the server's edge. */
  edge: ReturnType<typeof createAuditor>;
  /** Readiness: set while the audit log cannot be written. */
  readyCheck: { name: string; check: () => string | undefined };
  close(): Promise<void>;
}

function policyOf(c: AuditConfig): PolicyEvaluator {
  try {
    if (c.policyFile !== undefined)
      return compilePolicy(parsePolicy(readPolicyFile(c.policyFile), `audit policy ${c.policyFile}`));
    if (c.policy !== undefined) return compilePolicy(validatePolicy(c.policy, 'audit.policy'));
    return compilePolicy(DEFAULT_POLICY);
  } catch (err) {
    if (err instanceof AuditPolicyError) throw new ConfigError(err.message);
    throw err;
  }
}

function readPolicyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new AuditPolicyError(
      `audit policy ${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

/**
 * Follows the policy file (its folder, like the config file: atomic replaces and ConfigMap swaps change the
 * inode): a valid edit applies to the next requests, a broken one is logged in one line and the running policy
 * kept.
 */
function watchPolicy(file: string, apply: (p: PolicyEvaluator) => void, log: Logger): () => void {
  let last = readFileSync(file, 'utf8');
  let timer: NodeJS.Timeout | undefined;
  const reload = () => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return; // mid-swap; the next event reads it again
    }
    if (text === last) return;
    last = text;
    try {
      apply(compilePolicy(parsePolicy(text, `audit policy ${file}`)));
      log.info({ file }, 'audit policy reloaded');
    } catch (err) {
      log.error({ file }, `audit policy reload failed, keeping the running policy: ${(err as Error).message}`);
    }
  };
  const w = watch(dirname(resolve(file)), () => {
    clearTimeout(timer);
    timer = setTimeout(reload, 200);
  });
  w.on('error', (err) => log.error({ file, err: err.message }, 'audit policy: watching its folder failed'));
  return () => {
    clearTimeout(timer);
    w.close();
  };
}

/**
 * The audit log the config's `audit` section describes (docs/operations.md, "Auditing"): the policy, the sink,
 * `kubegate_audit_events_total` and `kubegate_audit_events_dropped_total`, and a readiness check that fails while
 * the log cannot be written. Throws a ConfigError naming the bad field of a broken policy.
 *
 * @example
 * const audit = createConfiguredAudit(config.audit, { registry: metrics.registry, logger });
 * buildApp({ ...o, audit: audit.edge, readyChecks: [audit.readyCheck] });
 */
export function createConfiguredAudit(
  c: AuditConfig,
  o: { registry?: Registry; logger: Logger; watchPolicy?: boolean },
): ConfiguredAudit {
  let policy = policyOf(c);
  const dropped = new Counter({
    name: 'kubegate_audit_events_dropped_total',
    help: 'Audit events not written: the queue was full or the write failed.',
    registers: o.registry ? [o.registry] : [],
  });
  // Counted in a plain number on the request path and handed to the counter when it is scraped.
  let queued = 0;
  let reported = 0;
  new Counter({
    name: 'kubegate_audit_events_total',
    help: 'Audit events queued for writing.',
    registers: o.registry ? [o.registry] : [],
    collect() {
      this.inc(queued - reported);
      reported = queued;
    },
  });
  const sink = createAuditSink({
    ...DEFAULT_SINK,
    path: c.path,
    ...(c.maxSize !== undefined ? { maxSizeBytes: c.maxSize * 1024 * 1024 } : {}),
    ...(c.maxBackups !== undefined ? { maxBackups: c.maxBackups } : {}),
    ...(c.mode !== undefined ? { mode: c.mode } : {}),
    ...(c.bufferSize !== undefined ? { bufferSize: c.bufferSize } : {}),
    ...(c.batchMaxSize !== undefined ? { batchMaxSize: c.batchMaxSize } : {}),
    ...(c.batchMaxWait !== undefined ? { batchMaxWaitMs: parseDuration(c.batchMaxWait, 'audit.batchMaxWait') } : {}),
    onDropped: (n) => dropped.inc(n),
    onError: (err) => {
      if (err)
        o.logger.error({ path: c.path, err: err.message }, 'the audit log cannot be written; events are dropped');
      else o.logger.info({ path: c.path }, 'the audit log is written again');
    },
  });
  const counted = { ...sink, push: (line: AuditLine) => (queued++, sink.push(line)) };
  const stop =
    c.policyFile !== undefined && o.watchPolicy !== false
      ? watchPolicy(c.policyFile, (p) => (policy = p), o.logger)
      : () => undefined;
  return {
    edge: createAuditor({
      policy: () => policy,
      sink: counted,
      maxResponseBytes: c.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    }),
    readyCheck: { name: 'audit-log', check: () => sink.problem() },
    async close() {
      stop();
      await sink.close();
    },
  };
}
