import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { ResourceDefinition } from '../sdk/types.ts';
import type { LoadedAdapter } from './adapters.ts';
import type { LoadedConfig } from './load.ts';
import { sessionMemoryProblem } from '../server/watch-limits.ts';
import { AuditPolicyError, parsePolicy, validatePolicy } from '../audit/policy.ts';

/** Shortest bearer token accepted: 16 characters (96 bits when random base64). */
export const MIN_TOKEN_LENGTH = 16;

/** Object metadata fields a column or field selector may name (labels and annotations: any key below them). */
const METADATA = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp', 'labels', 'annotations']);

/** `.status.daily[0].condition` or `{.spec.x}` → `['status', 'daily', '[]', 'condition']`. */
function segments(path: string): string[] {
  const p = path.replace(/^\{|\}$/g, '').replace(/^\./, '');
  const out: string[] = [];
  for (const part of p.split('.')) {
    const m = /^([^[\]]*)((\[[^\]]*\])*)$/.exec(part);
    if (!m) return [...out, part];
    if (m[1]) out.push(m[1]);
    for (let i = 0; i < (m[2]?.match(/\[/g)?.length ?? 0); i++) out.push('[]');
  }
  return out;
}

type Json = Record<string, unknown>;

/** Schemas a value at this point may match (unions and intersections opened). */
function branches(s: Json): Json[] {
  const subs = [...((s.anyOf as Json[] | undefined) ?? []), ...((s.oneOf as Json[] | undefined) ?? [])];
  const all = (s.allOf as Json[] | undefined) ?? [];
  if (subs.length === 0 && all.length === 0) return [s];
  return [...subs.flatMap(branches), ...all.flatMap(branches)];
}

/** Undefined when `segs` can exist in `schema`; else the first segment that cannot. */
function missing(schema: Json, segs: string[]): string | undefined {
  if (segs.length === 0) return undefined;
  const [head, ...rest] = segs as [string, ...string[]];
  let unknown: string | undefined = head;
  for (const s of branches(schema)) {
    let next: Json | undefined;
    if (head === '[]') {
      if (s.type !== 'array' && s.type !== undefined) continue;
      next = (s.items as Json | undefined) ?? {};
    } else {
      const props = s.properties as Record<string, Json> | undefined;
      next = props?.[head];
      if (!next) {
        // No declared type, or extra keys allowed: anything may be below (Type.Unknown, Type.Record).
        if (s.type === undefined && !props) return undefined;
        if (s.patternProperties || (typeof s.additionalProperties === 'object' && s.additionalProperties))
          return undefined;
        continue;
      }
    }
    const m = missing(next, rest);
    if (m === undefined) return undefined;
    unknown = m;
  }
  return unknown;
}

/** Undefined when the object path (`status.x`, `.metadata.labels.y`) exists for this resource; else why not. */
export function pathProblem(r: Pick<ResourceDefinition, 'schema'>, path: string): string | undefined {
  const segs = segments(path);
  const [root, ...rest] = segs;
  if (root === 'apiVersion' || root === 'kind') return rest.length === 0 ? undefined : `${root} has no fields`;
  if (root === 'metadata') {
    const f = rest[0];
    if (f === undefined || !METADATA.has(f)) return `metadata has no field "${f ?? ''}"`;
    return undefined;
  }
  if (root !== 'spec' && root !== 'status') return `objects have no "${root ?? ''}" (use metadata, spec or status)`;
  const schema = r.schema[root];
  if (!schema) return `the resource declares no ${root} schema`;
  const m = missing(schema, rest);
  return m === undefined ? undefined : `${root} schema has no "${m === '[]' ? '[...]' : m}" there`;
}

/** Keys of `value` that the schema does not declare (also where it allows extra keys), as dotted paths. */
function unknownKeys(schema: Json, value: unknown, at: string): string[] {
  if (value === null || typeof value !== 'object') return [];
  const bs = branches(schema);
  if (Array.isArray(value)) {
    const items = bs.find((s) => s.type === 'array')?.items as Json | undefined;
    return items ? value.flatMap((v, i) => unknownKeys(items, v, `${at}[${i}]`)) : [];
  }
  const objects = bs.filter((s) => s.type === 'object');
  if (objects.length === 0 || objects.some((s) => !s.properties || s.patternProperties)) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value as Json)) {
    const decl = objects.map((s) => (s.properties as Record<string, Json>)[k]).filter((x) => x !== undefined);
    const path = at ? `${at}.${k}` : k;
    if (decl.length === 0) out.push(path);
    else out.push(...unknownKeys(decl[0] as Json, v, path));
  }
  return out;
}

/**
 * What `kubegate validate` checks beyond the schemas, each problem one line naming the field (and the config
 * line where known): printer columns and selectable fields outside the resource's schema, certificate files
 * that do not exist (paths relative to the config file), tokens shorter than {@link MIN_TOKEN_LENGTH} (inline
 * or from `tokenEnv`; never printed), keys in an adapter's config its schema does not declare, and a
 * `watch.sessionBufferedBytes` startup would refuse ({@link sessionMemoryProblem}). `offline`
 * leaves out what depends on the machine running the check (files, environment variables): for a config that
 * runs elsewhere, such as one rendered by the Helm chart.
 */
/** The audit policy, inline or in its file, as `serve` would read it (the file only when not offline). */
function auditPolicyProblems(loaded: LoadedConfig, dir: string, offline: boolean): string[] {
  const audit = loaded.config.audit;
  const check = (read: () => unknown, field: string): string[] => {
    try {
      read();
      return [];
    } catch (err) {
      if (err instanceof AuditPolicyError) return [`${err.message}${loaded.where(`/audit/${field}`)}`];
      throw err;
    }
  };
  if (audit?.policy !== undefined) return check(() => validatePolicy(audit.policy, 'audit.policy'), 'policy');
  if (audit?.policyFile === undefined || offline) return [];
  const f = configRelative(dir, audit.policyFile);
  if (!existsSync(f))
    return [
      `audit.policyFile: "${audit.policyFile}" does not exist${isAbsolute(audit.policyFile) ? '' : " (relative to the config file's folder)"}${loaded.where('/audit/policyFile')}`,
    ];
  return check(() => parsePolicy(readFileSync(f, 'utf8'), `audit.policyFile ${audit.policyFile}`), 'policyFile');
}

export function checkConfig(
  loaded: LoadedConfig,
  adapters: LoadedAdapter[],
  o: { env?: NodeJS.ProcessEnv; offline?: boolean } = {},
): string[] {
  const problems: string[] = [];
  const dir = dirname(resolve(loaded.file));
  const { config, where } = loaded;
  const env = o.env ?? process.env;
  for (const key of o.offline ? [] : (['certFile', 'keyFile'] as const)) {
    const f = config.server?.tls?.[key];
    if (f !== undefined && !existsSync(configRelative(dir, f)))
      problems.push(
        `server.tls.${key}: "${f}" does not exist${isAbsolute(f) ? '' : " (relative to the config file's folder)"}${where(`/server/tls/${key}`)}`,
      );
  }
  for (const [i, t] of (config.auth?.tokens ?? []).entries()) {
    if (t.tokenEnv !== undefined) {
      if (o.offline) continue;
      const v = env[t.tokenEnv];
      if (v === undefined || v === '')
        problems.push(
          `auth.tokens[${i}].tokenEnv: environment variable ${t.tokenEnv} is not set${where(`/auth/tokens/${i}/tokenEnv`)}`,
        );
      else if (v.length < MIN_TOKEN_LENGTH)
        problems.push(
          `auth.tokens[${i}].tokenEnv: the token in ${t.tokenEnv} is ${v.length} characters; use at least ${MIN_TOKEN_LENGTH}${where(`/auth/tokens/${i}/tokenEnv`)}`,
        );
    } else if (t.token === undefined) {
      problems.push(`auth.tokens[${i}]: give token or tokenEnv${where(`/auth/tokens/${i}`)}`);
    }
  }
  problems.push(...auditPolicyProblems(loaded, dir, o.offline ?? false));
  const memory = sessionMemoryProblem(config);
  if (memory)
    problems.push(
      `${memory}${where(config.watch?.sessionBufferedBytes === undefined ? '/server/http2/maxSessionMemory' : '/watch/sessionBufferedBytes')}`,
    );
  for (const [i, a] of adapters.entries()) {
    const at = where(`/adapters/${i}/module`);
    for (const k of unknownKeys(a.definition.config, a.entry.config ?? {}, '')) {
      const pointer = k.replace(/\[(\d+)\]/g, '.$1').replace(/\./g, '/');
      problems.push(
        `adapters[${i}].config.${k}: unknown field (adapter "${a.entry.name}")${where(`/adapters/${i}/config/${pointer}`)}`,
      );
    }
    for (const r of a.definition.resources as ResourceDefinition[]) {
      for (const [c, col] of (r.columns ?? []).entries()) {
        const why = pathProblem(r, col.jsonPath);
        if (why)
          problems.push(
            `adapters[${i}] (${a.entry.name}): ${r.kind} columns[${c}].jsonPath "${col.jsonPath}": ${why}${at}`,
          );
      }
      for (const f of r.fields ?? []) {
        const why = pathProblem(r, f);
        if (why) problems.push(`adapters[${i}] (${a.entry.name}): ${r.kind} fields "${f}": ${why}${at}`);
      }
      // Each other version's columns and fields against that version's schema.
      for (const v of r.versions ?? []) {
        if (v.storage) continue;
        const inVersion = { ...r, schema: v.schema ?? r.schema };
        const what = `adapters[${i}] (${a.entry.name}): ${r.kind} ${v.name}`;
        for (const [c, col] of (v.columns ?? r.columns ?? []).entries()) {
          const why = pathProblem(inVersion, col.jsonPath);
          if (why) problems.push(`${what} columns[${c}].jsonPath "${col.jsonPath}": ${why}${at}`);
        }
        for (const f of v.fields ?? r.fields ?? []) {
          const why = pathProblem(inVersion, f);
          if (why) problems.push(`${what} fields "${f}": ${why}${at}`);
        }
      }
    }
  }
  return problems;
}

/** A path from the config file: absolute, or relative to the config file's folder (like adapter modules). */
export function configRelative(dir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(dir, p);
}
